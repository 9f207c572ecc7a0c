"""``input_shape=[seq_len,features]`` at the top level, as Keras' ``input_shape`` reads.

For synthetic data it sets ``data.seq_len`` and ``data.features`` (the adding
problem has exactly two features: value and marker). A CSV's windows come
from the file, so there it is a check: the run stops with one line if the
windows' shape differs (``check_windows``, once the data is loaded). Text
windows are token ids, not features: there it is an error naming ``data.seq_len``.
"""

from omegaconf import DictConfig, open_dict

from lstm_experiments.errors import ConfigValueError, DataError

ADDING_FEATURES = 2


def _shape(cfg: DictConfig) -> tuple[int, int] | None:
    shape = cfg.get("input_shape")
    if shape is None:
        return None
    values = list(shape)
    if len(values) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values):
        raise ConfigValueError(f"input_shape={values} (must be [seq_len,features], two integers > 0)")
    return values[0], values[1]


def apply_input_shape(cfg: DictConfig) -> DictConfig:
    """``cfg`` with ``input_shape`` applied to synthetic data (a check only, for a CSV)."""
    shape = _shape(cfg)
    if shape is None or cfg.data.get("name") == "csv":
        return cfg
    seq_len, features = shape
    if cfg.data.get("name") == "text":
        raise ConfigValueError(f"input_shape=[{seq_len},{features}] (data=text reads windows of character ids, "
                               f"not features: set data.seq_len={seq_len} instead)")
    if cfg.data.name == "adding" and features != ADDING_FEATURES:
        raise ConfigValueError(f"input_shape=[{seq_len},{features}] (data=adding has {ADDING_FEATURES} "
                               "features: value and marker)")
    with open_dict(cfg.data):
        cfg.data.seq_len = seq_len
        if "features" in cfg.data:
            cfg.data.features = features
    return cfg


def check_windows(cfg: DictConfig, data_shape) -> None:
    """One line when ``input_shape`` disagrees with the windows the data set gives."""
    shape = _shape(cfg)
    if shape is not None and tuple(shape) != tuple(data_shape):
        seq_len, features = data_shape
        raise DataError(f"input_shape=[{shape[0]},{shape[1]}] but data={cfg.data.name} gives windows of "
                        f"shape [{seq_len},{features}] (data.seq_len={seq_len}, {features} features); "
                        "set data.seq_len and data.features, or drop input_shape")
