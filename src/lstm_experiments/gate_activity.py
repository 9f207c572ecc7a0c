"""Recomputes what each gate does on real input, from the layer's weights alone (numpy).

For every recurrent layer this replays Keras' cell equations over a batch of
sequences and returns each gate's values, shaped (batch, time, units), and the
hidden-state sequence. Stacked layers take the previous layer's rebuilt
sequence output as input; a Bidirectional layer's backward half reads the
sequence reversed, and its values are returned in the original time order.
Tests check the rebuilt hidden states against Keras' own layer outputs.
"""

from dataclasses import dataclass
from itertools import groupby

import numpy as np

from lstm_experiments.gates import split_gates


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


def _activation(name: str):
    if name not in ACTIVATIONS:
        raise ValueError(f"cannot recompute gates with activation {name!r}")
    return ACTIVATIONS[name]


def _bias(weights, key: str, width: int) -> np.ndarray:
    return weights.matrices.get(key, np.zeros(width, np.float32))


def lstm_activity(weights, x: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Keras' LSTM: z = x W + h U + b; i, f, o = σ(z·); g = tanh(z_c); c = f c + i g; h = o tanh(c)."""
    act, rec_act = _activation(weights.activation), _activation(weights.recurrent_activation)
    kernel, recurrent = weights.matrices["kernel"], weights.matrices["recurrent_kernel"]
    batch, steps, _ = x.shape
    units = weights.units
    projected = x @ kernel + _bias(weights, "bias", kernel.shape[1])
    h = np.zeros((batch, units), x.dtype)
    c = np.zeros((batch, units), x.dtype)
    names = ("input", "forget", "cell", "output")
    out = {name: np.empty((batch, steps, units), x.dtype) for name in names}
    hidden = np.empty((batch, steps, units), x.dtype)
    for t in range(steps):
        z = split_gates(projected[:, t] + h @ recurrent, "lstm")
        i, f, g, o = rec_act(z["input"]), rec_act(z["forget"]), act(z["cell"]), rec_act(z["output"])
        c = f * c + i * g
        h = o * act(c)
        for name, value in zip(names, (i, f, g, o)):
            out[name][:, t] = value
        hidden[:, t] = h
    return out, hidden


def gru_activity(weights, x: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Keras' GRU (update z, reset r, candidate h~); h = z h_prev + (1 - z) h~.

    reset_after=True: h~ = tanh(x W_h + b_h + r (h U_h + b'_h)), the default;
    reset_after=False: h~ = tanh(x W_h + b_h + (r h) U_h).
    """
    act, rec_act = _activation(weights.activation), _activation(weights.recurrent_activation)
    kernel, recurrent = weights.matrices["kernel"], weights.matrices["recurrent_kernel"]
    width = kernel.shape[1]
    batch, steps, _ = x.shape
    units = weights.units
    projected = x @ kernel + _bias(weights, "bias", width)
    recurrent_bias = _bias(weights, "recurrent_bias", width)
    rec = split_gates(recurrent, "gru")
    h = np.zeros((batch, units), x.dtype)
    names = ("update", "reset", "candidate")
    out = {name: np.empty((batch, steps, units), x.dtype) for name in names}
    hidden = np.empty((batch, steps, units), x.dtype)
    for t in range(steps):
        xz = split_gates(projected[:, t], "gru")
        if weights.reset_after:
            inner = split_gates(h @ recurrent + recurrent_bias, "gru")
            z = rec_act(xz["update"] + inner["update"])
            r = rec_act(xz["reset"] + inner["reset"])
            candidate = act(xz["candidate"] + r * inner["candidate"])
        else:
            z = rec_act(xz["update"] + h @ rec["update"])
            r = rec_act(xz["reset"] + h @ rec["reset"])
            candidate = act(xz["candidate"] + (r * h) @ rec["candidate"])
        h = z * h + (1.0 - z) * candidate
        for name, value in zip(names, (z, r, candidate)):
            out[name][:, t] = value
        hidden[:, t] = h
    return out, hidden


CELL_ACTIVITY = {"lstm": lstm_activity, "gru": gru_activity}


def stack_activity(layers, x: np.ndarray) -> list[LayerActivity]:
    """Replay the whole recurrent stack on ``x`` (batch, time, features), in float32 as Keras does
    (float64 took twice as long at 1024 units for no visible difference)."""
    x = np.asarray(x, dtype=np.float32)
    activity = []
    for _, group in groupby(layers, key=lambda w: w.depth):
        outputs = []
        for weights in group:
            backward = weights.direction == "backward"
            source = x[:, ::-1] if backward else x
            gates, hidden = CELL_ACTIVITY[weights.cell](weights, source)
            if backward:
                gates = {k: v[:, ::-1] for k, v in gates.items()}
                hidden = hidden[:, ::-1]
            activity.append(LayerActivity(weights.layer, weights.cell, gates, hidden))
            outputs.append(hidden)
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
