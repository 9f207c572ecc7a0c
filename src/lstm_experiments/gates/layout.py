"""Where a recurrent layer's fused matrices are split into gates.

Keras packs the gates side by side along the last axis of the kernel, the
recurrent kernel and the bias, in a fixed order. This module is the one place
that knows that order and the offsets of the gate blocks: the numpy replay
(``activity``) and the backpropagation (``gradients``) take every gate's
columns from ``gate_slices`` and ``recurrent_activation_spans``.
"""

import numpy as np

# Keras' order of the gate blocks along the last axis.
GATE_NAMES: dict[str, tuple[str, ...]] = {
    "lstm": ("input", "forget", "cell", "output"),
    "gru": ("update", "reset", "candidate"),
}


# The gate that uses the cell's ``activation`` (tanh, values in [-1, 1]); the others use
# ``recurrent_activation`` (sigmoid, values in [0, 1]).
CANDIDATE_GATE: dict[str, str] = {"lstm": "cell", "gru": "candidate"}


def gate_slices(cell: str, units: int) -> dict[str, slice]:
    """``{gate name: slice}`` of the last axis of a fused (..., n_gates * units) matrix, in Keras' order.

    Basic slices, so ``matrix[..., s]`` is a view, never a copy.
    """
    return {name: slice(k * units, (k + 1) * units) for k, name in enumerate(GATE_NAMES[cell])}


def recurrent_activation_spans(cell: str, units: int) -> tuple[slice, ...]:
    """The columns of the gates that use ``recurrent_activation`` (all but the candidate), adjacent
    gates merged into one slice, in Keras' order.

    One activation call per span instead of one per gate: for the LSTM (input, forget | output),
    for the GRU (update, reset).
    """
    spans: list[slice] = []
    for name, block in gate_slices(cell, units).items():
        if name == CANDIDATE_GATE[cell]:
            continue
        if spans and spans[-1].stop == block.start:
            spans[-1] = slice(spans[-1].start, block.stop)
        else:
            spans.append(block)
    return tuple(spans)


def split_gates(matrix: np.ndarray, cell: str) -> dict[str, np.ndarray]:
    """Split ``matrix`` (..., n_gates * units) into ``{gate name: (..., units)}`` views in Keras' order."""
    names = GATE_NAMES[cell]
    if matrix.shape[-1] % len(names):
        raise ValueError(
            f"last axis {matrix.shape[-1]} is not a multiple of the {len(names)} {cell} gates"
        )
    return {name: matrix[..., block] for name, block in gate_slices(cell, matrix.shape[-1] // len(names)).items()}
