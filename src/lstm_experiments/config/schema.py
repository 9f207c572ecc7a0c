"""The typed schema of every config, registered in Hydra's ConfigStore.

Types live here, values live in the YAML files under ``conf/``. Each YAML
option names its schema in its defaults list, so a misspelt key or a value of
the wrong type fails when Hydra composes the config, naming the key, before
any TensorFlow import. Choices are Enums (``config/choices.py``), so a value
that is not one of them fails there too, listing the valid ones.
"""

from dataclasses import dataclass, field, fields, make_dataclass
from typing import Any, Optional

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING

from lstm_experiments.config.choices import Cell, Missing, Priority, RecurrentActivation, Worker
from lstm_experiments.config.image_options import ImageOptions
from lstm_experiments.findings.thresholds import Thresholds


@dataclass
class DataConfig:
    """Fields every data set has."""

    name: str = MISSING
    # Chronological for CSV series; the last fraction of samples otherwise.
    val_fraction: float = 0.2


@dataclass
class SyntheticDataConfig(DataConfig):
    seq_len: int = 30
    n_samples: int = 512
    noise: float = 0.1


@dataclass
class RandomDataConfig(SyntheticDataConfig):
    """Uniform noise with random binary labels (the seed article's data)."""

    name: str = "random"
    features: int = 8


@dataclass
class SineDataConfig(SyntheticDataConfig):
    """Noisy sine waves; predict the next value of the first channel."""

    name: str = "sine"
    features: int = 1


@dataclass
class AddingDataConfig(SyntheticDataConfig):
    """The adding problem: two features (value, marker); sum the two marked values."""

    name: str = "adding"


@dataclass
class CsvDataConfig(DataConfig):
    """A time series from a CSV file, cut into windows."""

    name: str = "csv"
    path: str = MISSING
    target: str = MISSING
    # None: every numeric column but the target.
    features: Optional[list[str]] = None
    seq_len: int = 24
    stride: int = 1
    # How many rows after a window's last row the target is read.
    horizon: int = 1
    # What to do with blank or NaN cells: error, drop, ffill or interpolate.
    missing: Missing = Missing.error


@dataclass
class TextDataConfig(DataConfig):
    """A text file's characters; at every position, predict the next one (data/text.py)."""

    name: str = "text"
    path: str = MISSING
    # Characters per window (windows do not overlap; the targets are the same characters one on).
    seq_len: int = 64
    # The width of the Embedding the character ids go through before the first recurrent layer.
    embedding_dim: int = 16


@dataclass
class ModelConfig:
    """The recurrent stack; the head and loss follow from the data's task."""

    cell: Cell = Cell.lstm
    layers: int = 1
    bidirectional: bool = False
    use_bias: bool = True
    # GRU only: Keras' default, which gives the bias the shape (2, 3 * units).
    reset_after: bool = True
    # Keras' dropout on the inputs and on the recurrent state, in training only (the logged
    # activations and gradients are the model's at inference, without dropout).
    dropout: float = 0.0
    recurrent_dropout: float = 0.0
    # LSTM only: Keras' default, a forget-gate bias of 1 at the start.
    unit_forget_bias: bool = True
    recurrent_activation: RecurrentActivation = RecurrentActivation.sigmoid


@dataclass
class EarlyStoppingConfig:
    """Keras' EarlyStopping: stop when ``monitor`` has not improved for ``patience`` epochs.

    Off while ``patience`` is null (or the whole key is): ``train.early_stopping.patience=3`` turns it on.
    """

    patience: Optional[int] = None
    monitor: str = "val_loss"
    min_delta: float = 0.0
    # The saved model (and the last logged step) get the best epoch's weights.
    restore_best_weights: bool = True


@dataclass
class ReduceLROnPlateauConfig:
    """Keras' ReduceLROnPlateau: multiply the learning rate by ``factor`` after ``patience`` flat epochs.

    Off while ``factor`` is null (or the whole key is): ``train.reduce_lr_on_plateau.factor=0.5`` turns it on.
    """

    factor: Optional[float] = None
    patience: int = 3
    monitor: str = "val_loss"
    min_lr: float = 0.0


@dataclass
class TrainConfig:
    epochs: int = 10
    batch_size: int = 32
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    # Keras' fit verbosity: auto (a progress bar on a terminal, else the log's one line per epoch), 0, 1 or 2.
    verbose: Any = "auto"
    # Off until train.early_stopping.patience=N (null patience, or null here: off).
    early_stopping: Optional[EarlyStoppingConfig] = field(default_factory=EarlyStoppingConfig)
    # Off until train.reduce_lr_on_plateau.factor=F (null factor, or null here: off).
    reduce_lr_on_plateau: Optional[ReduceLROnPlateauConfig] = field(default_factory=ReduceLROnPlateauConfig)


# How a weight matrix becomes pixels: the same class GateLogger and the drawing process use.
ImageConfig = ImageOptions

# viz.findings: on or off, and the rules' thresholds, each key a field of findings.thresholds.Thresholds
# (its defaults and their sources are there): made from it, so a threshold is named in one place.
FindingsConfig = make_dataclass(
    "FindingsConfig",
    [("enabled", bool, True), *((f.name, f.type, f.default) for f in fields(Thresholds))],
)


@dataclass
class VizConfig:
    """Which visualizers run (one flag each) and how often."""

    log_every: int = 1
    # Log every N optimizer steps (batches) as well, a step then being the optimizer's iteration count
    # for every tag; null: by epoch (log_every).
    log_every_batches: Optional[int] = None
    kernel: bool = False
    gates: bool = False
    bias: bool = False
    histograms: bool = False
    stats: bool = False
    delta: bool = False
    activations: bool = False
    gradients: bool = False
    # The GATES tab's data (lstm_gates/...: every matrix per logged step, with activations each layer's
    # gate values and input), written beside the images; false: the images alone.
    board: bool = True
    # Validation sequences the activations and gradients are computed on (the first ones, fixed).
    probe_size: int = 32
    # Also write every image as a PNG file under <run dir>/images/.
    png: bool = False
    # Draw, encode and write off the training thread; the training thread only copies the weights.
    # false: everything inline on the training thread (for comparison).
    background: bool = True
    # Where background drawing runs: process (a child process, out of the training loop's GIL)
    # or thread (a thread of the training process).
    worker: Worker = Worker.process
    # The drawing process' CPU priority: idle (Linux SCHED_IDLE: it runs only on CPU that training
    # leaves idle, and training's threads take a core back from it at once), low (nice 10) or normal.
    worker_priority: Priority = Priority.idle
    image: ImageConfig = field(default_factory=ImageConfig)
    # What is wrong with the LSTM, where and since when (findings/; findings.json in the run directory).
    findings: FindingsConfig = field(default_factory=FindingsConfig)


@dataclass
class Config:
    units: int = 32
    seed: int = 0
    # TensorFlow's CPU threads per job; null: every core, or cores // n_jobs under joblib.
    threads: Optional[int] = None
    # A run directory to continue from its last checkpoint, with that run's own config.
    resume: Optional[str] = None
    # [seq_len, features], as Keras' input_shape: sets data.seq_len and data.features for synthetic
    # data; for a CSV, a check that its windows have this shape.
    input_shape: Optional[list[int]] = None
    data: Any = MISSING
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    viz: VizConfig = field(default_factory=VizConfig)


def register_configs() -> None:
    """Store the schemas where the YAML defaults lists look for them."""
    cs = ConfigStore.instance()
    cs.store(name="config_schema", node=Config)
    for name, node in {
        "random": RandomDataConfig,
        "sine": SineDataConfig,
        "adding": AddingDataConfig,
        "csv": CsvDataConfig,
        "text": TextDataConfig,
    }.items():
        cs.store(group="schema/data", name=name, node=node)
    cs.store(group="schema/model", name="model", node=ModelConfig)
    cs.store(group="schema/train", name="train", node=TrainConfig)
    cs.store(group="schema/viz", name="viz", node=VizConfig)
