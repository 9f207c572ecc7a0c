"""gates.layout's gate order and column slices against Keras' own LSTMCell and GRUCell."""

import keras
import numpy as np
import pytest

from lstm_experiments.gates.layout import (
    CANDIDATE_GATE,
    GATE_NAMES,
    gate_slices,
    recurrent_activation_spans,
    split_gates,
)

UNITS = (1, 2, 5, 16)
CELLS = {
    "lstm": lambda units: keras.layers.LSTMCell(units),
    "gru-reset-after": lambda units: keras.layers.GRUCell(units, reset_after=True),
    "gru-reset-before": lambda units: keras.layers.GRUCell(units, reset_after=False),
}
FEATURES, BATCH = 3, 4
# Pre-activation of an "open" gate (σ and tanh both 1 to float32 precision); every other gate is at 0.
OPEN = 30.0


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _cell(kind, units):
    cell = CELLS[kind](units)
    cell.build((None, FEATURES))
    return cell


def _keras_step(cell, x, h, c=None):
    """One step of Keras' cell: the new hidden state (and, for the LSTM, the new cell state)."""
    states = [h, c] if c is not None else [h]
    output, new_states = cell(x.astype(np.float32), [s.astype(np.float32) for s in states])
    return [np.asarray(s) for s in new_states] if c is not None else np.asarray(output)


@pytest.mark.parametrize("units", UNITS)
@pytest.mark.parametrize("cell", list(GATE_NAMES))
def test_slices_tile_the_fused_axis_in_keras_order(cell, units):
    slices = gate_slices(cell, units)
    assert tuple(slices) == GATE_NAMES[cell]
    columns = np.arange(len(GATE_NAMES[cell]) * units)
    # The reference: Keras' own ``ops.split(z, n_gates, axis=-1)``, in numpy.
    for block, reference in zip(slices.values(), np.split(columns, len(GATE_NAMES[cell]))):
        np.testing.assert_array_equal(columns[block], reference)
    matrix = np.random.default_rng(units).normal(size=(7, len(columns))).astype(np.float32)
    for name, block in split_gates(matrix, cell).items():
        np.testing.assert_array_equal(block, matrix[:, slices[name]])
        assert np.shares_memory(block, matrix)  # a view, not a copy


@pytest.mark.parametrize("units", UNITS)
@pytest.mark.parametrize("cell", list(GATE_NAMES))
def test_recurrent_activation_spans_cover_every_gate_but_the_candidate(cell, units):
    slices = gate_slices(cell, units)
    spans = recurrent_activation_spans(cell, units)
    width = len(GATE_NAMES[cell]) * units
    covered = np.zeros(width, int)
    for span in spans:
        covered[span] += 1
    expected = np.ones(width, int)
    expected[slices[CANDIDATE_GATE[cell]]] = 0
    np.testing.assert_array_equal(covered, expected)
    # Adjacent gates are merged: no span starts where the previous one stops.
    assert all(a.stop < b.start for a, b in zip(spans, spans[1:]))
    assert len(spans) == {"lstm": 2, "gru": 1, "simple_rnn": 0, "conv_lstm": 2}[cell]


def test_split_gates_refuses_a_width_that_is_not_a_multiple_of_the_gates():
    with pytest.raises(ValueError, match="multiple"):
        split_gates(np.zeros((2, 10)), "lstm")


@pytest.mark.parametrize("units", UNITS)
@pytest.mark.parametrize("kind", list(CELLS))
def test_one_step_by_gate_name_equals_keras(kind, units):
    """Keras' cell on random weights equals its equations written gate by gate, each gate's block
    taken by name from ``gate_slices`` (a wrong offset or order would mix random blocks)."""
    cell = _cell(kind, units)
    name = kind.split("-")[0]
    rng = np.random.default_rng(units)
    weights = [rng.normal(scale=0.5, size=w.shape).astype(np.float32) for w in cell.get_weights()]
    cell.set_weights(weights)
    kernel, recurrent, bias = (w.astype(np.float64) for w in weights)
    x, h, c = (rng.normal(size=(BATCH, n)) for n in (FEATURES, units, units))
    s = gate_slices(name, units)
    act = {gate: np.tanh if gate == CANDIDATE_GATE[name] else _sigmoid for gate in GATE_NAMES[name]}

    if name == "lstm":
        z = x @ kernel + h @ recurrent + bias
        i, f, g, o = (act[gate](z[:, s[gate]]) for gate in ("input", "forget", "cell", "output"))
        c_next = f * c + i * g
        new_h, new_c = _keras_step(cell, x, h, c)
        np.testing.assert_allclose(new_c, c_next, atol=1e-5, rtol=0)
        np.testing.assert_allclose(new_h, o * np.tanh(c_next), atol=1e-5, rtol=0)
        return

    update, reset, candidate = s["update"], s["reset"], s["candidate"]
    if cell.reset_after:
        input_bias, recurrent_bias = bias
        xw, hu = x @ kernel + input_bias, h @ recurrent + recurrent_bias
        z = act["update"](xw[:, update] + hu[:, update])
        r = act["reset"](xw[:, reset] + hu[:, reset])
        h_tilde = act["candidate"](xw[:, candidate] + r * hu[:, candidate])
    else:
        xw = x @ kernel + bias
        z = act["update"](xw[:, update] + h @ recurrent[:, update])
        r = act["reset"](xw[:, reset] + h @ recurrent[:, reset])
        h_tilde = act["candidate"](xw[:, candidate] + (r * h) @ recurrent[:, candidate])
    np.testing.assert_allclose(_keras_step(cell, x, h), z * h + (1 - z) * h_tilde, atol=1e-5, rtol=0)


# With zero kernels, c0 = h0 = 2 and only one gate's bias block at OPEN (the others at 0: σ = 0.5, tanh = 0),
# what Keras' LSTM computes tells which gate that block feeds: (c1, h1) = (f c0 + i g, o tanh(c1)).
LSTM_OPEN_GATE = {
    "input": (1.0, 0.5 * np.tanh(1.0)),  # i = 1 but g = 0: c1 = 0.5 c0
    "forget": (2.0, 0.5 * np.tanh(2.0)),  # f = 1: c1 = c0
    "cell": (1.5, 0.5 * np.tanh(1.5)),  # g = 1: c1 = 0.5 c0 + 0.5
    "output": (1.0, np.tanh(1.0)),  # o = 1
}


@pytest.mark.parametrize("units", UNITS)
@pytest.mark.parametrize("gate", GATE_NAMES["lstm"])
def test_opening_one_lstm_gate_block(gate, units):
    cell = _cell("lstm", units)
    kernel, recurrent, bias = (np.zeros_like(w) for w in cell.get_weights())
    bias[gate_slices("lstm", units)[gate]] = OPEN
    cell.set_weights([kernel, recurrent, bias])
    state = np.full((BATCH, units), 2.0)
    new_h, new_c = _keras_step(cell, np.ones((BATCH, FEATURES)), state, state)
    c1, h1 = LSTM_OPEN_GATE[gate]
    np.testing.assert_allclose(new_c, c1, atol=1e-6, rtol=0)
    np.testing.assert_allclose(new_h, h1, atol=1e-6, rtol=0)


# The same for the GRU, with h0 = 2 and the recurrent kernel 0.25 I on its candidate block (zero
# elsewhere), so that h~ = tanh(b_h + 0.5 r) reads the reset gate: h1 = z h0 + (1 - z) h~.
GRU_OPEN_GATE = {
    "update": 2.0,  # z = 1: h1 = h0
    "reset": 1.0 + 0.5 * np.tanh(0.5),  # r = 1: h~ = tanh(0.5)
    "candidate": 1.5,  # h~ = 1
}


@pytest.mark.parametrize("units", UNITS)
@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("gate", GATE_NAMES["gru"])
def test_opening_one_gru_gate_block(gate, reset_after, units):
    cell = _cell("gru-reset-after" if reset_after else "gru-reset-before", units)
    kernel, recurrent, bias = (np.zeros_like(w) for w in cell.get_weights())
    blocks = gate_slices("gru", units)
    recurrent[:, blocks["candidate"]] = 0.25 * np.eye(units)
    (bias[0] if reset_after else bias)[blocks[gate]] = OPEN
    cell.set_weights([kernel, recurrent, bias])
    new_h = _keras_step(cell, np.ones((BATCH, FEATURES)), np.full((BATCH, units), 2.0))
    np.testing.assert_allclose(new_h, GRU_OPEN_GATE[gate], atol=1e-6, rtol=0)
