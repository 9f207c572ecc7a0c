"""Synthetic sequence generators: random (the seed article's), sine and adding.

Their feature names (``Dataset.feature_names``): ``x0``, ``x1``, ... for random,
``sine0``, ``sine1``, ... for sine (``sine0`` is the channel the target continues),
``value`` and ``marker`` for adding.
"""

import numpy as np

from lstm_experiments.data.dataset import BINARY, REGRESSION, Dataset, split_last

ADDING_FEATURES = ("value", "marker")


def numbered(prefix: str, count: int) -> tuple[str, ...]:
    """``prefix0``, ``prefix1``, ...: the names of ``count`` interchangeable channels."""
    return tuple(f"{prefix}{index}" for index in range(count))


def random_noise(cfg, rng: np.random.Generator) -> Dataset:
    """Uniform noise in [0, 1) with random binary labels: nothing to learn but the weights move."""
    x = rng.random((cfg.n_samples, cfg.seq_len, cfg.features), dtype=np.float32)
    x += cfg.noise * rng.standard_normal(x.shape, dtype=np.float32)
    y = rng.integers(0, 2, size=(cfg.n_samples, 1)).astype(np.float32)
    return split_last(x, y, cfg.val_fraction, BINARY, numbered("x", cfg.features))


def sine_waves(cfg, rng: np.random.Generator) -> Dataset:
    """``features`` noisy sine channels per sample; the target is channel 0's next value."""
    shape = (cfg.n_samples, 1, cfg.features)
    frequency = rng.uniform(0.05, 0.3, size=shape)
    phase = rng.uniform(0.0, 2 * np.pi, size=shape)
    t = np.arange(cfg.seq_len + 1, dtype=np.float64)[None, :, None]
    waves = np.sin(frequency * t + phase)
    waves += cfg.noise * rng.standard_normal(waves.shape)
    waves = waves.astype(np.float32)
    x = waves[:, :-1, :]
    y = waves[:, -1, :1]
    return split_last(x, y, cfg.val_fraction, REGRESSION, numbered("sine", cfg.features))


def adding_problem(cfg, rng: np.random.Generator) -> Dataset:
    """Feature 0 is uniform noise, feature 1 marks one step in each half; target: the marked sum."""
    n, seq_len = cfg.n_samples, cfg.seq_len
    values = rng.random((n, seq_len), dtype=np.float32)
    markers = np.zeros((n, seq_len), dtype=np.float32)
    half = max(1, seq_len // 2)
    first = rng.integers(0, half, size=n)
    second = rng.integers(half, seq_len, size=n) if seq_len > 1 else first
    rows = np.arange(n)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    y = (values * markers).sum(axis=1, keepdims=True)
    values += cfg.noise * rng.standard_normal(values.shape, dtype=np.float32)
    x = np.stack([values, markers], axis=-1)
    return split_last(x, y.astype(np.float32), cfg.val_fraction, REGRESSION, ADDING_FEATURES)
