"""Shared fixtures: compose configs in-process, run tiny trainings, read event files back."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_module
from hypothesis import HealthCheck, settings

from lstm_experiments.config.schema import register_configs

register_configs()

# Property tests draw the same examples on every run and machine (derandomize: seeded from
# each test's own source), so CI cannot flake on a case no one saw locally; a failure
# reproduces with the same command. Loaded here, before the test modules are imported, so
# their own @settings(...) objects inherit it. HYPOTHESIS_PROFILE=explore draws new
# random examples instead, to hunt for bugs locally (then pin what it finds with @example).
settings.register_profile(
    "lstm_experiments", derandomize=True, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("explore", settings.get_profile("lstm_experiments"), derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "lstm_experiments"))

REPO = Path(__file__).resolve().parents[1]
# Small enough that a whole training takes a second or two on two cores.
TINY = [
    "units=4",
    "data.n_samples=48",
    "data.seq_len=6",
    "train.epochs=2",
    "train.batch_size=16",
]


def compose_config(overrides=()):
    with initialize_config_module(version_base="1.3", config_module="lstm_experiments.conf"):
        return compose(config_name="config", overrides=list(overrides))


@pytest.fixture
def make_config():
    return compose_config


def train_tiny(run_dir, overrides=(), tiny=True):
    """Train a tiny model in-process in ``run_dir``; returns (run dir, metrics).

    For module-scoped fixtures (one training shared by several tests):
    ``train_tiny(tmp_path_factory.mktemp("gru") / "run", [...])``.
    """
    from lstm_experiments.run.experiment import run_experiment

    cfg = compose_config([*(TINY if tiny else []), *overrides])
    return Path(run_dir), run_experiment(cfg, Path(run_dir))


@pytest.fixture
def run_tiny(tmp_path):
    """Train a tiny model in-process; returns (run dir, metrics)."""
    counter = iter(range(1000))

    def run(overrides=(), tiny=True):
        return train_tiny(tmp_path / f"run{next(counter)}", overrides, tiny)

    return run


def read_tensors(logdir):
    """{tag: [(step, numpy value or bytes list)]} with TensorBoard's own reader, keeping every step."""
    import tensorflow as tf
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(logdir), size_guidance={"tensors": 0})
    acc.Reload()
    out = {}
    for tag in acc.Tags()["tensors"]:
        out[tag] = [(e.step, tf.make_ndarray(e.tensor_proto)) for e in acc.Tensors(tag)]
    return out


def read_events(logdir):
    """Every event of a run's event files, in file order, as TensorBoard's own loader reads them."""
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    files = sorted(Path(logdir).glob("events.out.tfevents.*"))
    assert files, f"no event file in {logdir}"
    return [event for path in files for event in EventFileLoader(str(path)).Load()]


def plugin_of(logdir):
    """{tag: plugin name} from the summary metadata in the event files."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(logdir), size_guidance={"tensors": 0})
    acc.Reload()
    return {tag: acc.SummaryMetadata(tag).plugin_data.plugin_name for tag in acc.Tags()["tensors"]}


def decode_image(value):
    """An image summary's tensor ([width, height, png, ...]) as uint8 (H, W, 3)."""
    import tensorflow as tf

    return tf.io.decode_png(value[2]).numpy()


def decode_bwr(pixels, scale):
    """Invert the blue-white-red map: value = scale*(R/255-1) where B is 255, else scale*(1-G/255)."""
    import numpy as np

    rgb = np.asarray(pixels).astype(np.float64)
    red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return np.where(blue == 255, scale * (red / 255 - 1), scale * (1 - green / 255))


def cells(image, shape):
    """One pixel per weight of a nearest-neighbour upscaled image of a (rows, cols) matrix.

    Checks that the image is whole blocks and every block is one colour.
    """
    import numpy as np

    rows, cols = shape
    height, width = image.shape[:2]
    assert height % rows == 0 and width % cols == 0, (image.shape, shape)
    fy, fx = height // rows, width // cols
    blocks = np.asarray(image).reshape(rows, fy, cols, fx, -1)
    assert (blocks == blocks[:, :1, :, :1]).all(), "a weight's block has more than one colour"
    return image[::fy, ::fx]


def saved_matrices(run_dir):
    """The final (model.keras) and initial (checkpoint) weights of every recurrent layer.

    ``({layer tag name: {matrix tag name: array}}, same for W_0)``, read with Keras alone:
    a Bidirectional's halves under their own names, a GRU's (2, 3u) bias split into
    ``bias`` (input row) and ``recurrent_bias`` (recurrent row), as the Tag reference says.
    """
    import keras
    import numpy as np

    final = keras.models.load_model(Path(run_dir) / "model.keras", compile=False)
    initial = keras.models.clone_model(final)
    initial.load_weights(Path(run_dir) / "checkpoints" / "initial.weights.h5")

    def matrices(model):
        out = {}
        for layer in model.layers:
            halves = ([layer.forward_layer, layer.backward_layer]
                      if isinstance(layer, keras.layers.Bidirectional) else [layer])
            for rnn in halves:
                if not isinstance(rnn, (keras.layers.LSTM, keras.layers.GRU)):
                    continue
                cell = rnn.cell
                found = {"kernel": np.array(cell.kernel), "recurrent_kernel": np.array(cell.recurrent_kernel)}
                if cell.use_bias:
                    bias = np.array(cell.bias)
                    found.update({"bias": bias[0], "recurrent_bias": bias[1]} if bias.ndim == 2
                                 else {"bias": bias})
                out[rnn.name] = found
        return out

    return matrices(final), matrices(initial)


def image_cfg(**overrides):
    """The checked image options (what the painter takes), with any field overridden."""
    from lstm_experiments.config.image_options import image_options

    return image_options(overrides)


def run_cli(args, cwd, timeout=300, env_extra=None):
    env = dict(os.environ)
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "lstm_experiments", *args],
        cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env,
    )


# --------------------------------------------------------------------------- shared trainings
# One tiny training per architecture, shared by every test module that asks for it
# (test_promise_pixels, test_promise_delta, test_promise_metrics). learning_rate 0.03 moves
# the weights by 10-35% of their colour scale in two epochs (measured), so the last step's
# images differ from step 0's while 90% or more of the weights stay inside the fixed scale.
ARCHITECTURE_RUNS = {
    "stacked": ["model.layers=2", "data=random", "data.features=3"],
    "bidirectional": ["model.bidirectional=true", "data=random", "data.features=3"],
    "gru": ["model=gru"],  # regression (sine); reset_after: bias and recurrent_bias
}
SHARED_RUN = ["viz=[kernel,gates,bias,delta,stats]", "units=5", "train.learning_rate=0.03"]


class TinyRun:
    """A finished tiny training: its directory, metrics, config and what it logged, read once."""

    def __init__(self, run_dir, metrics, overrides, name=None):
        self.dir, self.metrics, self.overrides, self.name = Path(run_dir), metrics, list(overrides), name
        self._cache = {}

    def _once(self, key, make):
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    @property
    def cfg(self):
        return self._once("cfg", lambda: compose_config([*TINY, *self.overrides]))

    @property
    def tensors(self):
        """{tag: [(step, value)]}, every step (read_tensors)."""
        return self._once("tensors", lambda: read_tensors(self.dir / "tensorboard"))

    @property
    def plugins(self):
        return self._once("plugins", lambda: plugin_of(self.dir / "tensorboard"))

    @property
    def weights(self):
        """(final, initial) from model.keras and the checkpoint: see saved_matrices."""
        return self._once("weights", lambda: saved_matrices(self.dir))

    def at(self, tag, step):
        """The value logged under ``tag`` at ``step`` (exactly one)."""
        values = [v for s, v in self.tensors[tag] if s == step]
        assert len(values) == 1, (tag, step, [s for s, _ in self.tensors[tag]])
        return values[0]


@pytest.fixture(scope="session", params=list(ARCHITECTURE_RUNS))
def architecture_run(request, tmp_path_factory):
    """Each of ARCHITECTURE_RUNS in turn (a test using it runs once per architecture)."""
    return request.getfixturevalue(f"{request.param}_run")


def tiny_run(tmp_path_factory, name, overrides):
    """Train once (TINY plus ``overrides``) in a fresh directory; for module- or session-scoped fixtures."""
    run_dir, metrics = train_tiny(tmp_path_factory.mktemp(name) / "run", overrides)
    return TinyRun(run_dir, metrics, overrides, name)


def _shared_run(tmp_path_factory, name):
    return tiny_run(tmp_path_factory, name, [*SHARED_RUN, *ARCHITECTURE_RUNS[name]])


@pytest.fixture(scope="session")
def stacked_run(tmp_path_factory):
    return _shared_run(tmp_path_factory, "stacked")


@pytest.fixture(scope="session")
def bidirectional_run(tmp_path_factory):
    return _shared_run(tmp_path_factory, "bidirectional")


@pytest.fixture(scope="session")
def gru_run(tmp_path_factory):
    return _shared_run(tmp_path_factory, "gru")
