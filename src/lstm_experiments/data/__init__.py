"""Data sets by name: ``load_dataset(cfg.data, seed)``."""

import numpy as np

from lstm_experiments.data.csv_series import load_csv_series
from lstm_experiments.data.dataset import BINARY, REGRESSION, Dataset
from lstm_experiments.data.synthetic import adding_problem, random_noise, sine_waves

_SYNTHETIC = {"random": random_noise, "sine": sine_waves, "adding": adding_problem}


def load_dataset(cfg, seed: int) -> Dataset:
    """Build the data set ``cfg.name`` names; synthetic ones are drawn from ``seed``."""
    if cfg.name == "csv":
        return load_csv_series(cfg)
    return _SYNTHETIC[cfg.name](cfg, np.random.default_rng(seed))


__all__ = ["BINARY", "REGRESSION", "Dataset", "load_dataset"]
