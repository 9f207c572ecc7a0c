"""Recomputes what each gate does on real input, from the layer's weights alone (numpy).

For every recurrent layer this replays Keras' cell equations over a batch of
sequences and returns each gate's values, shaped (batch, time, units), and the
hidden-state sequence. Two ways in: ``stack_activity`` rebuilds a plain stack
from the model's input (each layer reads the previous one's rebuilt output);
``replay`` starts each layer from what it really received in the model
(``capture.probe_pass`` records it): its input, its mask and its initial
state. A layer that reads its sequence reversed (a Bidirectional's backward
half, ``go_backwards``) is replayed reversed, and its values are returned in
the original time order.

As in Keras, a masked step (``Embedding(mask_zero=True)``, ``Masking``, an
explicit ``mask=``) leaves the states as they were: the hidden and cell states
hold through it. The gates are still computed there, as Keras computes them and
throws them away; ``LayerActivity.mask`` says which steps count. Tests check
the rebuilt states against Keras' own layer outputs for every case.

The pass keeps, per layer, what backpropagation through it needs (``trace``),
so ``gates.gradients`` runs no second forward pass over the same probe batch:
a snapshot's ``probe_activity`` is computed once and read by both the
``activations`` and the ``gradients`` visualizers.
"""

from dataclasses import dataclass, field
from itertools import groupby

import numpy as np

from lstm_experiments.gates.layout import gate_slices, recurrent_activation_spans, split_gates

# Keras' own precision; float64 was slower at 1024 units for no visible difference.
DTYPE = np.float32


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _hard_sigmoid(x):
    return np.clip(x / 6.0 + 0.5, 0.0, 1.0)


ACTIVATIONS = {
    "tanh": np.tanh,
    "sigmoid": _sigmoid,
    "hard_sigmoid": _hard_sigmoid,
    "relu": lambda x: np.maximum(x, 0.0),
    "linear": lambda x: x,
}


@dataclass(frozen=True)
class LayerActivity:
    layer: str
    cell: str
    # gate name -> (batch, time, units), in the input's time order
    gates: dict[str, np.ndarray]
    # (batch, time, units), in the input's time order
    hidden: np.ndarray
    # What backpropagation needs, in processing order (see ``lstm_activity`` and ``gru_activity``).
    trace: dict = field(default_factory=dict, repr=False, compare=False)
    # (batch, time) booleans, True where a step counts; None: every step does. In the input's time order.
    mask: np.ndarray | None = field(default=None, repr=False, compare=False)
    # What the layer read, (batch, time, features), in the input's time order.
    inputs: np.ndarray | None = field(default=None, repr=False, compare=False)
    # An LSTM's cell states c_1..c_T, (batch, time, units), in the input's time order; None for other cells.
    cell_states: np.ndarray | None = field(default=None, repr=False, compare=False)


def _activation(name: str):
    if name not in ACTIVATIONS:
        raise ValueError(f"cannot recompute gates with activation {name!r}")
    return ACTIVATIONS[name]


def _bias(weights, key: str, width: int) -> np.ndarray:
    return np.asarray(weights.matrices.get(key, np.zeros(width, DTYPE)), dtype=DTYPE)


def _matrix(weights, key: str) -> np.ndarray:
    return np.asarray(weights.matrices[key], dtype=DTYPE)  # no copy of float32 weights


def _by_gate(values: np.ndarray, cell: str) -> dict[str, np.ndarray]:
    """(time, batch, gates*units) -> {gate: (batch, time, units)} views."""
    return {name: block.transpose(1, 0, 2) for name, block in split_gates(values, cell).items()}


def _cell_inputs(weights, x: np.ndarray, cell: str):
    """What both cells' replays start from: the activations, the weights, the gate blocks, the
    spans of gates on ``recurrent_activation`` (adjacent ones in one call; the candidate takes
    ``activation``) and x W + b for every step, shaped (time, batch, gates*units)."""
    act, rec_act = _activation(weights.activation), _activation(weights.recurrent_activation)
    kernel, recurrent = _matrix(weights, "kernel"), _matrix(weights, "recurrent_kernel")
    projected = (x @ kernel + _bias(weights, "bias", kernel.shape[1])).transpose(1, 0, 2)
    return (act, rec_act, kernel, recurrent, gate_slices(cell, weights.units),
            recurrent_activation_spans(cell, weights.units), projected)


def _states(initial, count: int, batch: int, steps: int, units: int) -> list[np.ndarray]:
    """``count`` state sequences (steps + 1, batch, units), each starting from its initial state (or zeros)."""
    out = [np.zeros((steps + 1, batch, units), DTYPE) for _ in range(count)]
    for sequence, start in zip(out, initial or ()):
        sequence[0] = np.asarray(start, dtype=DTYPE).reshape(batch, units)
    return out


def _steps_mask(mask):
    """(time, batch, 1) booleans in processing order, or None."""
    return None if mask is None else np.asarray(mask, dtype=bool).T[..., None]


def lstm_activity(weights, x: np.ndarray, initial=None, mask=None) -> tuple[dict[str, np.ndarray], np.ndarray, dict]:
    """Keras' LSTM: z = x W + h U + b; i, f, o = σ(z·); g = tanh(z_c); c = f c + i g; h = o tanh(c).

    ``initial``: (h_0, c_0), or None for zeros; ``mask``: (batch, time), True where a step
    counts (both in processing order): a masked step holds c and h.
    The trace holds x, the weights, every step's gate values (time, batch, 4 units),
    the cell states c_0..c_T and hidden states h_0..h_T, and tanh(c_t).
    """
    act, rec_act, kernel, recurrent, blocks, spans, projected = _cell_inputs(weights, x, "lstm")
    steps, batch, width = projected.shape
    u = weights.units
    in_, forget, cell, out = blocks["input"], blocks["forget"], blocks["cell"], blocks["output"]
    gates = np.empty((steps, batch, width), DTYPE)
    hiddens, cells = _states(initial, 2, batch, steps, u)
    cell_acts = np.empty((steps, batch, u), DTYPE)
    keep = _steps_mask(mask)
    for t in range(steps):
        z = projected[t] + hiddens[t] @ recurrent
        gate = gates[t]
        for span in spans:
            gate[:, span] = rec_act(z[:, span])
        gate[:, cell] = act(z[:, cell])
        i, f, g, o = gate[:, in_], gate[:, forget], gate[:, cell], gate[:, out]
        cells[t + 1] = f * cells[t] + i * g
        cell_acts[t] = act(cells[t + 1])
        hiddens[t + 1] = o * cell_acts[t]
        if keep is not None:
            cells[t + 1] = np.where(keep[t], cells[t + 1], cells[t])
            hiddens[t + 1] = np.where(keep[t], hiddens[t + 1], hiddens[t])
    trace = dict(x=x, kernel=kernel, recurrent=recurrent, gates=gates, cells=cells, hiddens=hiddens,
                 cell_acts=cell_acts)
    return _by_gate(gates, "lstm"), hiddens[1:].transpose(1, 0, 2), trace


def gru_activity(weights, x: np.ndarray, initial=None, mask=None) -> tuple[dict[str, np.ndarray], np.ndarray, dict]:
    """Keras' GRU (update z, reset r, candidate h~); h = z h_prev + (1 - z) h~.

    reset_after=True: h~ = tanh(x W_h + b_h + r (h U_h + b'_h)), the default;
    reset_after=False: h~ = tanh(x W_h + b_h + (r h) U_h).
    ``initial``: (h_0,) or None; ``mask`` as for ``lstm_activity``.
    The trace holds x, the weights, every step's gate values (time, batch, 3 units),
    the hidden states h_0..h_T and, with reset_after, h U + b' per step.
    """
    act, rec_act, kernel, recurrent, blocks, spans, projected = _cell_inputs(weights, x, "gru")
    steps, batch, width = projected.shape
    u = weights.units
    update, reset, candidate = blocks["update"], blocks["reset"], blocks["candidate"]
    recurrent_bias = _bias(weights, "recurrent_bias", width)
    u_z, u_r, u_h = recurrent[:, update], recurrent[:, reset], recurrent[:, candidate]
    gates = np.empty((steps, batch, width), DTYPE)
    (hiddens,) = _states(initial, 1, batch, steps, u)
    inners = np.empty((steps, batch, width), DTYPE) if weights.reset_after else None
    keep = _steps_mask(mask)
    for t in range(steps):
        xz, h_prev, gate = projected[t], hiddens[t], gates[t]
        if weights.reset_after:
            inner = inners[t]
            np.add(h_prev @ recurrent, recurrent_bias, out=inner)
            for span in spans:
                gate[:, span] = rec_act(xz[:, span] + inner[:, span])
            gate[:, candidate] = act(xz[:, candidate] + gate[:, reset] * inner[:, candidate])
        else:
            gate[:, update] = rec_act(xz[:, update] + h_prev @ u_z)
            gate[:, reset] = rec_act(xz[:, reset] + h_prev @ u_r)
            gate[:, candidate] = act(xz[:, candidate] + (gate[:, reset] * h_prev) @ u_h)
        z, h_tilde = gate[:, update], gate[:, candidate]
        hiddens[t + 1] = z * h_prev + (1.0 - z) * h_tilde
        if keep is not None:
            hiddens[t + 1] = np.where(keep[t], hiddens[t + 1], h_prev)
    trace = dict(x=x, kernel=kernel, recurrent=recurrent, gates=gates, hiddens=hiddens, inners=inners)
    return _by_gate(gates, "gru"), hiddens[1:].transpose(1, 0, 2), trace


def simple_rnn_activity(weights, x: np.ndarray, initial=None, mask=None):
    """Keras' SimpleRNN: h = tanh(x W + h U + b), its one block shown as the gate ``state``.

    ``initial``: (h_0,) or None; ``mask`` as for ``lstm_activity``. The trace holds x, the
    weights, every step's values (time, batch, units) and h_0..h_T.
    """
    act = _activation(weights.activation)
    kernel, recurrent = _matrix(weights, "kernel"), _matrix(weights, "recurrent_kernel")
    projected = (x @ kernel + _bias(weights, "bias", kernel.shape[1])).transpose(1, 0, 2)
    steps, batch, u = projected.shape
    gates = np.empty((steps, batch, u), DTYPE)
    (hiddens,) = _states(initial, 1, batch, steps, u)
    keep = _steps_mask(mask)
    for t in range(steps):
        gates[t] = act(projected[t] + hiddens[t] @ recurrent)
        hiddens[t + 1] = gates[t] if keep is None else np.where(keep[t], gates[t], hiddens[t])
    trace = dict(x=x, kernel=kernel, recurrent=recurrent, gates=gates, hiddens=hiddens)
    return _by_gate(gates, "simple_rnn"), hiddens[1:].transpose(1, 0, 2), trace


CELL_ACTIVITY = {"lstm": lstm_activity, "gru": gru_activity, "simple_rnn": simple_rnn_activity}


def layer_activity(weights, x: np.ndarray, mask=None, initial=None) -> LayerActivity:
    """One layer replayed on ``x`` (batch, time, features) from ``initial`` states, holding them where
    ``mask`` (batch, time) is False; all in the input's time order, as the values returned."""
    x = np.asarray(x, dtype=DTYPE)
    backward = weights.direction == "backward"
    source = x[:, ::-1] if backward else x
    steps_mask = None if mask is None else np.asarray(mask, dtype=bool)
    order_mask = steps_mask[:, ::-1] if backward and steps_mask is not None else steps_mask
    gates, hidden, trace = CELL_ACTIVITY[weights.cell](weights, source, initial, order_mask)
    trace["mask"] = order_mask  # (batch, time) in processing order, or None: for the backward pass
    cell_states = trace["cells"][1:].transpose(1, 0, 2) if "cells" in trace else None
    if backward:
        gates = {k: v[:, ::-1] for k, v in gates.items()}
        hidden = hidden[:, ::-1]
        cell_states = None if cell_states is None else cell_states[:, ::-1]
    return LayerActivity(weights.layer, weights.cell, gates, hidden, trace, steps_mask, x, cell_states)


def why_not_replayed(cell: str, *activations: str) -> str | None:
    """Why the numpy replay cannot run a cell of this kind with these activations; None if it can."""
    if cell not in CELL_ACTIVITY:
        return "the gate replay covers LSTM, GRU and SimpleRNN cells, not convolutions"
    unknown = [name for name in activations if name not in ACTIVATIONS]
    if unknown:
        return f"the gate replay knows the activations {', '.join(ACTIVATIONS)}, not {unknown[0]!r}"
    return None


def replay(layers, probes) -> list[LayerActivity]:
    """Each layer replayed from what it received in the model (``probes``: {layer: LayerProbe}).

    A cell of a StackedRNNCells reads the one before it (its probe names it as ``previous``).
    Layers without a probe (not called on it) or with cells the replay does not know are left out.
    """
    done: dict[str, LayerActivity] = {}
    out = []
    for weights in layers:
        probe = probes.get(weights.layer)
        if probe is None or why_not_replayed(weights.cell, weights.activation, weights.recurrent_activation):
            continue
        if probe.previous is not None:
            if probe.previous not in done:
                continue
            x = done[probe.previous].hidden
        else:
            x = probe.input
        activity = layer_activity(weights, x, probe.mask, probe.initial_state)
        done[weights.layer] = activity
        out.append(activity)
    return out


def stack_activity(layers, x: np.ndarray) -> list[LayerActivity]:
    """Replay the whole recurrent stack on ``x`` (batch, time, features), in float32 as Keras does."""
    x = np.asarray(x, dtype=DTYPE)
    activity = []
    for _, group in groupby(layers, key=lambda w: w.depth):
        outputs = []
        for weights in group:
            activity.append(layer_activity(weights, x))
            outputs.append(activity[-1].hidden)
        # Keras' Bidirectional concatenates the directions (merge_mode="concat").
        x = np.concatenate(outputs, axis=-1)
    return activity


def final_outputs(layers, activity: list[LayerActivity]) -> dict[str, np.ndarray]:
    """What each Keras layer returns: the whole sequence, or the last step (in processing order)."""
    by_name = {a.layer: a for a in activity}
    out = {}
    for weights in layers:
        hidden = by_name[weights.layer].hidden
        if weights.returns_sequences:
            out[weights.layer] = hidden
        else:
            out[weights.layer] = hidden[:, 0] if weights.direction == "backward" else hidden[:, -1]
    return out
