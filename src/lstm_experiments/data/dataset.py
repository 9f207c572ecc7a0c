"""The arrays a run trains on, and the task they imply."""

from dataclasses import dataclass

import numpy as np

from lstm_experiments.errors import DataError

REGRESSION = "regression"
BINARY = "binary"
# Token ids in, a softmax over the vocabulary at every position out: each position's target is the next token.
NEXT_TOKEN = "next_token"
# The tasks that log accuracy beside the loss.
CLASSIFICATION = (BINARY, NEXT_TOKEN)


@dataclass(frozen=True)
class Dataset:
    """Windows shaped (samples, seq_len, features) with one target per window, or, for
    ``NEXT_TOKEN``, int32 token ids (samples, seq_len) with the next id at each position as targets
    (samples, seq_len).

    ``feature_names``: a name per feature, in order (a CSV's columns; the synthetic data's
    channel names, ``data.synthetic``), which the ``lstm_gates`` plugin shows; None: unnamed.
    ``vocabulary``: token data's text of each id (``vocabulary[id]``); None for numeric windows.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    task: str
    feature_names: tuple[str, ...] | None = None
    vocabulary: tuple[str, ...] | None = None

    @property
    def input_shape(self) -> tuple[int, ...]:
        """(seq_len, features), or (seq_len,) for token ids: the model's input shape."""
        return tuple(self.x_train.shape[1:])


def split_last(x: np.ndarray, y: np.ndarray, val_fraction: float, task: str,
               feature_names: tuple[str, ...] | None = None) -> Dataset:
    """Keep the last ``val_fraction`` of the samples (at least one) for validation.

    At least one sample must be left to train on: ``fit`` on no batches would never end an epoch.
    """
    n_val = max(1, int(round(len(x) * val_fraction)))
    n_train = len(x) - n_val
    if n_train < 1:
        raise DataError(f"data.n_samples={len(x)} with data.val_fraction={val_fraction} leaves no "
                        f"training sample ({n_val} validate); give more samples or a smaller fraction")
    return Dataset(x[:n_train], y[:n_train], x[n_train:], y[n_train:], task, feature_names)
