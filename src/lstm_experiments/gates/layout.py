"""Where a recurrent layer's fused matrices are split into gates.

Keras packs the gates side by side along the last axis of the kernel, the
recurrent kernel and the bias, in a fixed order. This module is the one place
that knows that order and the offsets of the gate blocks: the numpy replay
(``activity``) and the backpropagation (``gradients``) take every gate's
columns from ``gate_slices`` and ``recurrent_activation_spans``.
"""

import numpy as np

# The kinds of recurrent cell a layer may run (``capture.layers`` tells them apart).
LSTM = "lstm"
GRU = "gru"
SIMPLE_RNN = "simple_rnn"
# ConvLSTM1D/2D/3D: an LSTM whose kernels are convolutions; its weights are shown tiled (``tile_kernel``).
CONV_LSTM = "conv_lstm"

# Keras' order of the gate blocks along the last axis. A SimpleRNN has no gates: its one block,
# h = tanh(x W + h U + b), is shown as a single gate, ``state``.
GATE_NAMES: dict[str, tuple[str, ...]] = {
    LSTM: ("input", "forget", "cell", "output"),
    GRU: ("update", "reset", "candidate"),
    SIMPLE_RNN: ("state",),
    CONV_LSTM: ("input", "forget", "cell", "output"),
}


# The gate that uses the cell's ``activation`` (tanh, values in [-1, 1]); the others use
# ``recurrent_activation`` (sigmoid, values in [0, 1]).
CANDIDATE_GATE: dict[str, str] = {LSTM: "cell", GRU: "candidate", SIMPLE_RNN: "state", CONV_LSTM: "cell"}


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


def tile_kernel(kernel: np.ndarray, gates: int) -> np.ndarray:
    """A convolution kernel (*spatial, channels, gates * filters) as one 2-D matrix of tiles.

    Row block c is input channel c (times the leading spatial axes, stacked), column
    block (gate, filter) is one filter of one gate, and each tile is that filter's
    spatial pattern on that channel: k rows x k columns for a 2-D kernel, one row of
    k for a 1-D one, a 3-D kernel's depth slices one above the other. The gates stay
    side by side along the last axis in Keras' order, ``filters x k_last`` columns
    each, so ``split_gates`` splits the tiled matrix as it splits an LSTM's.
    """
    *spatial, channels, width = kernel.shape
    filters = width // gates
    grouped = kernel.reshape(*spatial, channels, gates, filters)
    n = len(spatial)
    # (channel, leading spatial axes..., gate, filter, last spatial axis)
    order = (n, *range(n - 1), n + 1, n + 2, n - 1)
    rows = channels * int(np.prod(spatial[:-1], dtype=np.int64))
    return grouped.transpose(order).reshape(rows, gates * filters * spatial[-1])


def split_gates(matrix: np.ndarray, cell: str) -> dict[str, np.ndarray]:
    """Split ``matrix`` (..., n_gates * units) into ``{gate name: (..., units)}`` views in Keras' order."""
    names = GATE_NAMES[cell]
    if matrix.shape[-1] % len(names):
        raise ValueError(
            f"last axis {matrix.shape[-1]} is not a multiple of the {len(names)} {cell} gates"
        )
    return {name: matrix[..., block] for name, block in gate_slices(cell, matrix.shape[-1] // len(names)).items()}
