"""The probe batch's loss gradient for every recurrent matrix, and through time, by backpropagation in numpy.

The model is the one ``model.build_model`` makes: a stack of LSTM or GRU layers
(optionally Bidirectional, concatenated), the last one returning its final
step, then a one-unit Dense head (linear or sigmoid) and the compiled loss
(``mse``, or ``binary_crossentropy`` on the sigmoid). Everything comes from the
snapshot's copies, so the drawing process computes it without TensorFlow and
without holding the training process' interpreter lock. The forward pass is
``gates.activity``'s (the one the ``activations`` visualizer draws), read from
the trace it keeps.

On any other model (an ``Embedding`` in front, another head or loss, masks,
initial states, stacked cells) ``probed_through_time`` gives the gradient
through time from the loss gradient TensorFlow took at each recurrent layer's
output in the probe pass, running each cell's own backward pass from there.

One backward pass (``backpropagate``) gives two things:

- ``gate_gradients``: dL/dmatrix for every recurrent matrix, named as in the snapshot;
- ``gradient_through_time``: per layer and per time step t, the Frobenius norm
  (over batch and units) of the total gradient dL/dh_t of the batch-mean loss
  with respect to the hidden state and, for an LSTM, dL/dc_t for the cell
  state; arrays (time,), in the input's time order (a backward-direction
  layer's are flipped back). The backward pass already forms both at every
  step; keeping their norms costs one norm per step.

``gradient_decay`` reads such an array as one number, norms[0] / norms[-1]: how
much of the gradient at the last step is left at the first (the vanishing
gradient when it is tiny, the exploding one when it is huge).

Tests check the matrix gradients against ``tf.GradientTape`` on the live model
for every architecture, and the time norms against ``tf.GradientTape`` with
respect to the states of the model's own Keras cells unrolled step by step.
"""

from itertools import groupby
from typing import NamedTuple

import numpy as np

from lstm_experiments.gates.activity import DTYPE, _activation, stack_activity
from lstm_experiments.gates.layout import gate_slices, recurrent_activation_spans

# d activation / d pre-activation, from the activation's output y (which the forward pass kept).
SLOPES = {
    "tanh": lambda y: 1.0 - y * y,
    "sigmoid": lambda y: y * (1.0 - y),
    "hard_sigmoid": lambda y: ((y > 0.0) & (y < 1.0)).astype(y.dtype) / 6.0,
    "relu": lambda y: (y > 0.0).astype(y.dtype),
    "linear": np.ones_like,
}


def _slope(name: str):
    if name not in SLOPES:
        raise ValueError(f"cannot backpropagate through activation {name!r}")
    return SLOPES[name]


def _step_norms(steps: int, *names: str) -> dict[str, np.ndarray]:
    """One (time,) float64 array per state, filled by a backward pass with a norm per step."""
    return {name: np.zeros(steps, np.float64) for name in names}


def _norm(gradient: np.ndarray) -> float:
    """The Frobenius norm, summed in float64: float32 squares of a vanishing gradient (~1e-23) are 0."""
    return np.linalg.norm(gradient.astype(np.float64))


def _keep(trace):
    """(time, batch, 1) booleans in processing order, True where a step counts; None: every step does."""
    mask = trace.get("mask")
    return None if mask is None else np.asarray(mask, bool).T[..., None]


def _final(d_final, index, batch, units):
    """The gradient reaching the layer's final state ``index`` from outside (``return_state``), or zeros."""
    if d_final is None or len(d_final) <= index or d_final[index] is None:
        return np.zeros((batch, units), DTYPE)
    return np.asarray(d_final[index], DTYPE).reshape(batch, units).copy()


def _from_pre_activations(weights, trace, dz_all, matrices):
    """({matrix: dL/dmatrix} or {}, dL/dx) from dL/d(pre-activations) (time, batch, width) of a cell whose
    every gate reads x W + h U + b (an LSTM, a SimpleRNN): the weight gradients as one product over
    every (step, sequence), not one per step."""
    x, hiddens = trace["x"], trace["hiddens"]
    steps, batch, width = dz_all.shape
    flat_dz = dz_all.reshape(steps * batch, width)
    grads = {}
    if matrices:
        grads["kernel"] = x.transpose(1, 0, 2).reshape(steps * batch, -1).T @ flat_dz
        grads["recurrent_kernel"] = hiddens[:-1].reshape(steps * batch, -1).T @ flat_dz
        if "bias" in weights.matrices:
            grads["bias"] = flat_dz.sum(axis=0)
    dx = (flat_dz @ trace["kernel"].T).reshape(steps, batch, -1).transpose(1, 0, 2)
    return grads, dx


def _lstm_backward(weights, trace, dh_out, matrices=True, d_final=None):
    """({matrix: dL/dmatrix}, dL/dx, {"h": ||dL/dh_t||, "c": ||dL/dc_t||}) from dL/dh_t given from
    above (batch, time, units), all in processing order; the norms are (time,). Without ``matrices``
    the weight gradients are left out ({}): the norms alone skip the two largest products.

    ``d_final``: (dL/dh_T, dL/dc_T) reaching the final states from outside the layer (a layer
    returning its state), or None. The trace's mask (a masked step holds h and c) is followed: the
    gradient passes a masked step unchanged, and its gates receive none."""
    recurrent = trace["recurrent"]
    gates, cells, cell_acts = trace["gates"], trace["cells"], trace["cell_acts"]
    steps, batch, width = gates.shape
    u = weights.units
    blocks = gate_slices("lstm", u)
    in_, forget, cell, out = blocks["input"], blocks["forget"], blocks["cell"], blocks["output"]
    rec_slope, slope = _slope(weights.recurrent_activation), _slope(weights.activation)
    # Every step's gate slopes at once: σ' for input, forget and output, tanh' for the cell gate.
    slopes = rec_slope(gates)
    slopes[..., cell] = slope(gates[..., cell])
    cell_slopes = slope(cell_acts)
    dh_out = dh_out.transpose(1, 0, 2)
    dz_all = np.empty((steps, batch, width), DTYPE)
    dh_next, dc_next = _final(d_final, 0, batch, u), _final(d_final, 1, batch, u)
    keep = _keep(trace)
    norms = _step_norms(steps, "h", "c")
    h_norms, c_norms = norms["h"], norms["c"]
    for t in reversed(range(steps)):
        gate = gates[t]
        i, f, g, o = gate[:, in_], gate[:, forget], gate[:, cell], gate[:, out]
        # The total dL/dh_t and dL/dc_t: from above at this step, and from step t + 1.
        dh = dh_out[t] + dh_next
        dc = dc_next + dh * o * cell_slopes[t]
        if keep is not None:  # a masked step held c: h_t did not read it
            dc = np.where(keep[t], dc, dc_next)
        h_norms[t], c_norms[t] = _norm(dh), _norm(dc)
        dz = dz_all[t]
        np.multiply(dc, g, out=dz[:, in_])
        np.multiply(dc, cells[t], out=dz[:, forget])
        np.multiply(dc, i, out=dz[:, cell])
        np.multiply(dh, cell_acts[t], out=dz[:, out])
        dz *= slopes[t]
        if keep is None:
            dh_next = dz @ recurrent.T
            dc_next = dc * f
        else:  # a masked step's gates were thrown away; its states are step t - 1's
            dz *= keep[t]
            dh_next = np.where(keep[t], dz @ recurrent.T, dh)
            dc_next = np.where(keep[t], dc * f, dc)
    return (*_from_pre_activations(weights, trace, dz_all, matrices), norms)


def _gru_backward(weights, trace, dh_out, matrices=True, d_final=None):
    """As ``_lstm_backward``, for Keras' GRU (either ``reset_after``); the norms are {"h": ||dL/dh_t||}
    and ``d_final`` is (dL/dh_T,)."""
    x, kernel, recurrent = trace["x"], trace["kernel"], trace["recurrent"]
    gates, hiddens, inners = trace["gates"], trace["hiddens"], trace["inners"]
    steps, batch, width = gates.shape
    u = weights.units
    blocks = gate_slices("gru", u)
    update, reset, candidate = blocks["update"], blocks["reset"], blocks["candidate"]
    rec_slope, slope = _slope(weights.recurrent_activation), _slope(weights.activation)
    slopes = rec_slope(gates)
    slopes[..., candidate] = slope(gates[..., candidate])
    u_z, u_r, u_h = recurrent[:, update], recurrent[:, reset], recurrent[:, candidate]
    dh_out = dh_out.transpose(1, 0, 2)
    # dL/d(pre-activations from x), and with reset_after dL/d(h U + b'), per step.
    d_xz_all = np.empty((steps, batch, width), DTYPE)
    d_inner_all = np.empty((steps, batch, width), DTYPE) if weights.reset_after else None
    dh_next = _final(d_final, 0, batch, u)
    keep = _keep(trace)
    norms = _step_norms(steps, "h")
    h_norms = norms["h"]
    for t in reversed(range(steps)):
        gate, h_prev, d_xz, slope_t = gates[t], hiddens[t], d_xz_all[t], slopes[t]
        z, r, h_tilde = gate[:, update], gate[:, reset], gate[:, candidate]
        dh = dh_out[t] + dh_next
        h_norms[t] = _norm(dh)
        dpz = dh * (h_prev - h_tilde) * slope_t[:, update]
        dph = dh * (1.0 - z) * slope_t[:, candidate]
        d_xz[:, update], d_xz[:, candidate] = dpz, dph
        if weights.reset_after:
            dpr = dph * inners[t][:, candidate] * slope_t[:, reset]
            d_inner = d_inner_all[t]
            d_inner[:, update], d_inner[:, reset], d_inner[:, candidate] = dpz, dpr, dph * r
            dh_next = dh * z + d_inner @ recurrent.T
        else:
            d_rh = dph @ u_h.T
            dpr = d_rh * h_prev * slope_t[:, reset]
            dh_next = dh * z + dpz @ u_z.T + dpr @ u_r.T + d_rh * r
        d_xz[:, reset] = dpr
        if keep is not None:  # a masked step held h: its gates receive nothing, dL/dh passes unchanged
            d_xz *= keep[t]
            if weights.reset_after:
                d_inner *= keep[t]
            dh_next = np.where(keep[t], dh_next, dh)
    flat = d_xz_all.reshape(steps * batch, width)
    if not matrices:
        return {}, (flat @ kernel.T).reshape(steps, batch, -1).transpose(1, 0, 2), norms
    h_prevs = hiddens[:-1].reshape(steps * batch, u)
    if weights.reset_after:
        flat_inner = d_inner_all.reshape(steps * batch, width)
        d_recurrent = h_prevs.T @ flat_inner
    else:
        # h~ reads (r h) U_h, the other gates h U.
        reset_h = gates[..., reset].reshape(steps * batch, u) * h_prevs
        d_recurrent = np.empty((u, width), DTYPE)
        for span in recurrent_activation_spans("gru", u):
            d_recurrent[:, span] = h_prevs.T @ flat[:, span]
        d_recurrent[:, candidate] = reset_h.T @ flat[:, candidate]
    grads = {"kernel": x.transpose(1, 0, 2).reshape(steps * batch, -1).T @ flat, "recurrent_kernel": d_recurrent}
    if "bias" in weights.matrices:
        grads["bias"] = flat.sum(axis=0)
    if "recurrent_bias" in weights.matrices:
        grads["recurrent_bias"] = flat_inner.sum(axis=0)
    dx = (flat @ kernel.T).reshape(steps, batch, -1).transpose(1, 0, 2)
    return grads, dx, norms


def _simple_backward(weights, trace, dh_out, matrices=True, d_final=None):
    """As ``_lstm_backward``, for Keras' SimpleRNN (h = act(x W + h U + b)); the norms are {"h": ...}."""
    recurrent, values = trace["recurrent"], trace["gates"]
    steps, batch, u = values.shape
    slopes = _slope(weights.activation)(values)
    dh_out = dh_out.transpose(1, 0, 2)
    dz_all = np.empty((steps, batch, u), DTYPE)
    dh_next = _final(d_final, 0, batch, u)
    keep = _keep(trace)
    norms = _step_norms(steps, "h")
    for t in reversed(range(steps)):
        dh = dh_out[t] + dh_next
        norms["h"][t] = _norm(dh)
        dz = dz_all[t]
        np.multiply(dh, slopes[t], out=dz)
        if keep is None:
            dh_next = dz @ recurrent.T
        else:
            dz *= keep[t]
            dh_next = np.where(keep[t], dz @ recurrent.T, dh)
    return (*_from_pre_activations(weights, trace, dz_all, matrices), norms)


BACKWARD = {"lstm": _lstm_backward, "gru": _gru_backward, "simple_rnn": _simple_backward}


def _head_gradient(head, features, y):
    """dL/d(features) for the one-unit head and the compiled loss, mean over the batch."""
    kernel = head["kernel"].astype(np.float64)
    logits = features.astype(np.float64) @ kernel + head.get("bias", 0.0)
    y = np.asarray(y, dtype=np.float64).reshape(logits.shape)
    batch = logits.shape[0]
    if head["loss"] == "binary_crossentropy" and head["activation"] == "sigmoid":
        d_logits = (0.5 * (1.0 + np.tanh(0.5 * logits)) - y) / batch
    elif head["loss"] in ("mse", "mean_squared_error"):
        prediction = _activation(head["activation"])(logits)
        d_logits = 2.0 * (prediction - y) / (batch * logits.shape[1]) * _slope(head["activation"])(prediction)
    else:
        raise ValueError(f"cannot backpropagate loss {head['loss']!r} with a {head['activation']} head")
    return d_logits @ kernel.T


class Backpropagation(NamedTuple):
    # {layer: {matrix: dL/dmatrix}}, matrices named as in the snapshot
    matrices: dict[str, dict[str, np.ndarray]]
    # {layer: {"h": (time,), "c": (time,)}}: ||dL/dh_t||, ||dL/dc_t|| (LSTM only), in the input's time order
    through_time: dict[str, dict[str, np.ndarray]]


def backpropagate(layers, head, x, y, activity=None, matrices=True) -> Backpropagation:
    """One backward pass through the head and the stack on the batch (x, y), for the batch-mean loss.

    ``activity`` is ``stack_activity(layers, x)`` when the caller already has it. Without
    ``matrices`` only the gradient through time is computed (``Backpropagation.matrices`` is
    empty per layer): at 1024 units that halves the pass.
    """
    if activity is None:
        activity = stack_activity(layers, x)
    by_layer = {a.layer: a for a in activity}
    levels = [list(group) for _, group in groupby(layers, key=lambda w: w.depth)]
    # The last level returns its final processed step, concatenated across directions.
    features = np.concatenate(
        [by_layer[w.layer].hidden[:, 0 if w.direction == "backward" else -1] for w in levels[-1]], axis=-1)
    d_features = _head_gradient(head, features, y).astype(DTYPE)
    grads: dict[str, dict[str, np.ndarray]] = {}
    through_time: dict[str, dict[str, np.ndarray]] = {}
    # dL/d(level output), in the input's time order: only the final step for the last level.
    d_level_out = None
    for depth in reversed(range(len(levels))):
        level = levels[depth]
        batch, steps, width = by_layer[level[0].layer].trace["x"].shape
        d_input = np.zeros((batch, steps, width), DTYPE)
        offset = 0
        for weights in level:
            u = weights.units
            backward = weights.direction == "backward"
            if depth == len(levels) - 1:
                dh = np.zeros((batch, steps, u), DTYPE)
                dh[:, -1] = d_features[:, offset:offset + u]
            else:
                dh = d_level_out[:, :, offset:offset + u]
                dh = dh[:, ::-1] if backward else dh
            cell_grads, dx, norms = BACKWARD[weights.cell](weights, by_layer[weights.layer].trace, dh, matrices)
            grads[weights.layer] = cell_grads
            through_time[weights.layer] = {k: v[::-1].copy() if backward else v for k, v in norms.items()}
            d_input += dx[:, ::-1] if backward else dx
            offset += u
        d_level_out = d_input
    return Backpropagation(grads, through_time)


def probed_through_time(layers, probes, activity) -> tuple[dict, dict]:
    """The gradient through time on any model, from what ``capture.probe_pass`` recorded.

    There TensorFlow took the loss gradient with respect to each recurrent layer's output (and
    its final states, where the layer returns them): whatever the model does after the layer (a
    softmax head, attention, a decoder reading the encoder's states) is in it. From there each
    cell's own backward pass runs here on the replay (``activity``, from ``replay``), following
    its mask; a cell of a StackedRNNCells passes what reaches its input to the cell it reads.

    Returns ({layer: {"h": (time,), "c": (time,)}} in the input's time order, as
    ``gradient_through_time``; {layer: why it has none}).
    """
    by_layer = {a.layer: a for a in activity}
    through_time: dict[str, dict[str, np.ndarray]] = {}
    missing: dict[str, str] = {}
    from_above: dict[str, np.ndarray] = {}  # a stacked cell's dL/d(input), for the cell it reads
    for weights in reversed(layers):
        name, probe, replayed = weights.layer, probes.get(weights.layer), by_layer.get(weights.layer)
        if probe is None:
            continue  # not called on the probe: the notices say so
        if replayed is None:
            missing[name] = f"a {weights.cell} cell is not replayed"
            continue
        if weights.cell not in BACKWARD:
            missing[name] = f"no backward pass for a {weights.cell} cell"
            continue
        if probe.d_output is None and probe.d_states is None and name not in from_above:
            missing[name] = "the probe pass took no loss gradient at its output"
            continue
        trace = replayed.trace
        steps, batch = trace["gates"].shape[:2]
        dh = np.zeros((batch, steps, weights.units), DTYPE)
        if probe.d_output is not None:
            d_output = np.asarray(probe.d_output, DTYPE)
            if d_output.ndim == 3:  # the whole sequence, in processing order as Keras returns it
                dh += d_output
            else:  # the final processed step's output
                dh[:, -1] = d_output
            mask = trace.get("mask")
            if mask is not None:
                # A masked step's output is the last counted step's (or 0 before any counted step, and
                # always 0 with zero_output_for_mask): its gradient reaches h only where that holds.
                reach = mask if probe.zero_output_for_mask else np.logical_or.accumulate(mask, axis=1)
                dh *= reach[..., None]
        if name in from_above:
            dh += from_above.pop(name)
        _, dx, norms = BACKWARD[weights.cell](weights, trace, dh, False, probe.d_states)
        if probe.previous is not None:
            from_above[probe.previous] = dx
        backward = weights.direction == "backward"
        through_time[name] = {k: v[::-1].copy() if backward else v for k, v in norms.items()}
    return through_time, missing


def gate_gradients(layers, head, x, y, activity=None) -> dict[str, dict[str, np.ndarray]]:
    """{layer: {matrix: dL/dmatrix}} on the batch (x, y), matrices named as in the snapshot.

    ``activity`` is ``stack_activity(layers, x)`` when the caller already has it.
    """
    return backpropagate(layers, head, x, y, activity).matrices


def gradient_through_time(layers, head, x, y, activity=None) -> dict[str, dict[str, np.ndarray]]:
    """{layer: {"h": (time,), "c": (time,)}} on the batch (x, y): ||dL/dh_t|| and ||dL/dc_t||.

    Each value is the Frobenius norm, over batch and units, of the total gradient of the
    batch-mean loss with respect to the layer's hidden state h_t (cell state c_t) at step t;
    a GRU has "h" only. In the input's time order, also for a backward-direction layer. For
    the last level, which hands the head only its final processed step, earlier steps hold
    what flows back through the recurrence alone. ``activity`` as for ``gate_gradients``.
    """
    return backpropagate(layers, head, x, y, activity).through_time


def gradient_decay(norms: np.ndarray) -> float:
    """norms[0] / norms[-1] for a (time,) array of ``gradient_through_time``.

    For a forward layer of the last level (the head reads only its final step) this is
    the earliest step's gradient norm over the final one's: much below 1, the gradient
    vanishes going back in time; much above 1, it explodes. The arrays are in the input's
    time order, so for a backward-direction layer, whose final processed step is the
    input's first, pass ``norms[::-1]`` to compare the same way.

    When the last norm is 0 there is nothing to compare with (no gradient at the final
    step): nan, whatever the first norm is. Raises ValueError for an empty array.
    """
    norms = np.asarray(norms, dtype=np.float64)
    if norms.ndim != 1 or norms.size == 0:
        raise ValueError(f"gradient_decay needs a non-empty (time,) array, not shape {norms.shape}")
    first, last = norms[0], norms[-1]
    if last == 0.0:
        return float("nan")
    return float(first / last)
