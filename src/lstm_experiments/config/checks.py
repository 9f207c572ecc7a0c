"""Range checks the schema's types cannot express, run before TensorFlow is imported."""

from lstm_experiments.errors import ConfigValueError

# (key, predicate, what the value must be)
_POSITIVE = "must be > 0"
_RULES = [
    ("units", lambda v: v > 0, _POSITIVE),
    ("data.seq_len", lambda v: v > 0, _POSITIVE),
    ("data.n_samples", lambda v: v > 1, "must be > 1"),
    ("data.features", lambda v: v > 0, _POSITIVE),
    ("data.stride", lambda v: v > 0, _POSITIVE),
    ("data.horizon", lambda v: v > 0, _POSITIVE),
    ("data.noise", lambda v: v >= 0, "must be >= 0"),
    ("data.val_fraction", lambda v: 0 < v < 1, "must be between 0 and 1"),
    ("model.layers", lambda v: v > 0, _POSITIVE),
    ("train.epochs", lambda v: v >= 0, "must be >= 0"),
    ("train.batch_size", lambda v: v > 0, _POSITIVE),
    ("train.learning_rate", lambda v: v > 0, _POSITIVE),
    ("viz.log_every", lambda v: v > 0, _POSITIVE),
    ("viz.probe_size", lambda v: v > 0, _POSITIVE),
    ("viz.image.target_side_px", lambda v: v > 0, _POSITIVE),
    ("viz.image.min_side_px", lambda v: v > 0, _POSITIVE),
    ("viz.image.max_side_px", lambda v: v > 0, _POSITIVE),
    ("threads", lambda v: v is None or v > 0, "must be > 0 or null"),
]
_CHOICES = [
    ("model.cell", ("lstm", "gru")),
    ("viz.image.scale", ("fixed", "per_step", "minmax")),
    ("viz.image.reduce", ("maxabs", "mean")),
    ("viz.worker", ("process", "thread")),
    ("viz.worker_priority", ("idle", "low", "normal")),
    ("data.missing", ("error", "drop", "ffill", "interpolate")),
]


def _lookup(cfg, dotted: str):
    node = cfg
    for part in dotted.split("."):
        if part not in node:
            return None, False
        node = node[part]
    return node, True


def check_config(cfg) -> None:
    """Raise ConfigValueError naming the first key whose value is out of range."""
    for key, ok, expected in _RULES:
        value, present = _lookup(cfg, key)
        if present and (value is not None or key == "threads") and not ok(value):
            raise ConfigValueError(f"{key}={value} ({expected})")
    for key, choices in _CHOICES:
        value, present = _lookup(cfg, key)
        if present and value not in choices:
            raise ConfigValueError(f"{key}={value} (must be one of {', '.join(choices)})")
