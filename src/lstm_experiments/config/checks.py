"""Range checks the schema's types cannot express, run before TensorFlow is imported.

The choices (``config/choices.py``) are the schema's Enums, so a composed
config cannot hold a bad one. A resumed run's config is its saved
``.hydra/config.yaml``, loaded without the schema, so ``check_config`` also
parses every choice key with its Enum (the valid values are listed only
there), rather than let a hand-edited value reach the drawing process.
"""

from lstm_experiments.config.choices import BY_KEY, ChoiceError, parse
from lstm_experiments.config.image_options import image_options
from lstm_experiments.errors import ConfigValueError, first_line
from lstm_experiments.findings.thresholds import thresholds_from
from lstm_experiments.metrics import METRIC_NAMES

# What early stopping and the learning-rate schedule can watch (accuracy: classification only).
MONITORED = METRIC_NAMES

# What every run reads (a ``~key`` override can delete one).
REQUIRED = ("units", "seed", "data", "model", "train", "viz")

# Rules on values that are not numbers (the others first check that the value is one).
_NOT_NUMBERS = {"threads", "train.verbose", "train.early_stopping.monitor", "train.reduce_lr_on_plateau.monitor"}

# (key, predicate, what the value must be)
_POSITIVE = "must be > 0"
_RULES = [
    ("units", lambda v: v > 0, _POSITIVE),
    ("seed", lambda v: 0 <= v < 2**32, "must be >= 0 and < 2**32"),
    ("data.seq_len", lambda v: v > 0, _POSITIVE),
    ("data.n_samples", lambda v: v > 1, "must be > 1"),
    ("data.features", lambda v: v > 0, _POSITIVE),
    ("data.stride", lambda v: v > 0, _POSITIVE),
    ("data.horizon", lambda v: v > 0, _POSITIVE),
    ("data.embedding_dim", lambda v: v > 0, _POSITIVE),
    ("data.noise", lambda v: v >= 0, "must be >= 0"),
    ("data.val_fraction", lambda v: 0 < v < 1, "must be between 0 and 1"),
    ("model.layers", lambda v: v > 0, _POSITIVE),
    ("model.dropout", lambda v: 0 <= v < 1, "must be >= 0 and < 1"),
    ("model.recurrent_dropout", lambda v: 0 <= v < 1, "must be >= 0 and < 1"),
    ("train.epochs", lambda v: v >= 0, "must be >= 0"),
    ("train.batch_size", lambda v: v > 0, _POSITIVE),
    ("train.learning_rate", lambda v: v > 0, _POSITIVE),
    ("train.verbose", lambda v: v in ("auto", 0, 1, 2) and not isinstance(v, bool), "must be auto, 0, 1 or 2"),
    ("train.early_stopping.patience", lambda v: v is None or v >= 0, "must be >= 0 or null"),
    ("train.early_stopping.min_delta", lambda v: v >= 0, "must be >= 0"),
    ("train.early_stopping.monitor", lambda v: v in MONITORED, f"must be one of {', '.join(MONITORED)}"),
    ("train.reduce_lr_on_plateau.factor", lambda v: v is None or 0 < v < 1, "must be between 0 and 1, or null"),
    ("train.reduce_lr_on_plateau.patience", lambda v: v >= 0, "must be >= 0"),
    ("train.reduce_lr_on_plateau.min_lr", lambda v: v >= 0, "must be >= 0"),
    ("train.reduce_lr_on_plateau.monitor", lambda v: v in MONITORED, f"must be one of {', '.join(MONITORED)}"),
    ("viz.log_every", lambda v: v > 0, _POSITIVE),
    ("viz.log_every_batches", lambda v: v > 0, _POSITIVE),
    ("viz.probe_size", lambda v: v > 0, _POSITIVE),
    ("threads", lambda v: v is None or v > 0, "must be > 0 or null"),
]


def _lookup(cfg, dotted: str):
    node = cfg
    for part in dotted.split("."):
        if node is None or part not in node:  # a null group (train.early_stopping: off)
            return None, False
        node = node[part]
    return node, True


def check_config(cfg) -> None:
    """Raise ConfigValueError naming the first key whose value is out of range or not a choice."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    for key in REQUIRED:
        if key not in cfg:
            raise ConfigValueError(f"{key} is required (was it deleted with ~{key}?)")
    if OmegaConf.is_config(cfg):
        try:
            OmegaConf.to_container(cfg, resolve=True)  # every interpolation resolves
            missing = sorted(OmegaConf.missing_keys(cfg))
        except OmegaConfBaseException as error:
            key = getattr(error, "full_key", None) or "?"
            raise ConfigValueError(f"{key}: {first_line(error)}") from None
        if missing:
            raise ConfigValueError(f"{missing[0]} is required: give it on the command line ({missing[0]}=...)")
    for key, ok, expected in _RULES:
        value, present = _lookup(cfg, key)
        if not present or (value is None and key != "threads"):
            continue
        if key == "data.features" and (OmegaConf.is_list(value) or isinstance(value, list)):
            continue  # a CSV's feature columns: the loader checks them
        if key not in _NOT_NUMBERS and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ConfigValueError(f"{key}={value} (must be a number)")
        if not ok(value):
            raise ConfigValueError(f"{key}={value} ({expected})")
    image, present = _lookup(cfg, "viz.image")
    if present and image is not None:
        try:  # the one check of the image options, the same GateLogger's image= gets
            image_options(OmegaConf.to_container(image) if OmegaConf.is_config(image) else image)
        except ValueError as error:
            raise ConfigValueError(str(error)) from None
    findings, present = _lookup(cfg, "viz.findings")
    if present and findings is not None:
        options = dict(OmegaConf.to_container(findings) if OmegaConf.is_config(findings) else findings)
        options.pop("enabled", None)
        try:  # the same check GateLogger's findings= gets
            thresholds_from(options, key="viz.findings")
        except ValueError as error:
            raise ConfigValueError(str(error)) from None
    for key, choice in BY_KEY.items():
        value, present = _lookup(cfg, key)
        if present:
            try:
                parse(choice, value, key)
            except ChoiceError as error:
                raise ConfigValueError(str(error)) from None
