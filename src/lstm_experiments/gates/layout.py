"""Where a recurrent layer's fused matrices are split into gates.

Keras packs the gates side by side along the last axis of the kernel, the
recurrent kernel and the bias, in a fixed order. This module is the one place
that knows that order.
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


def split_gates(matrix: np.ndarray, cell: str) -> dict[str, np.ndarray]:
    """Split ``matrix`` (..., n_gates * units) into ``{gate name: (..., units)}`` in Keras' order."""
    names = GATE_NAMES[cell]
    if matrix.shape[-1] % len(names):
        raise ValueError(
            f"last axis {matrix.shape[-1]} is not a multiple of the {len(names)} {cell} gates"
        )
    return dict(zip(names, np.split(matrix, len(names), axis=-1)))
