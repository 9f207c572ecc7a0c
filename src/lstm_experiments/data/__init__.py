"""Data sets by name: ``load_dataset(cfg.data, seed)``."""

import numpy as np

from lstm_experiments.data.csv_series import load_csv_series
from lstm_experiments.data.dataset import BINARY, CLASSIFICATION, NEXT_TOKEN, REGRESSION, Dataset
from lstm_experiments.errors import DataError
from lstm_experiments.data.synthetic import adding_problem, random_noise, sine_waves
from lstm_experiments.data.text import load_text

_SYNTHETIC = {"random": random_noise, "sine": sine_waves, "adding": adding_problem}
# The data sets read from a file (data.path).
_FILES = {"csv": load_csv_series, "text": load_text}


def load_dataset(cfg, seed: int) -> Dataset:
    """Build the data set ``cfg.name`` names; synthetic ones are drawn from ``seed``."""
    if cfg.name in _FILES:
        return _FILES[cfg.name](cfg)
    if cfg.name not in _SYNTHETIC:
        raise DataError(f"data.name={cfg.name} (must be one of {', '.join([*_SYNTHETIC, *_FILES])}; "
                        "choose the data set with data=<name>)")
    return _SYNTHETIC[cfg.name](cfg, np.random.default_rng(seed))


__all__ = ["BINARY", "CLASSIFICATION", "NEXT_TOKEN", "REGRESSION", "Dataset", "load_dataset"]
