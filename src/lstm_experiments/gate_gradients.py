"""The probe batch's loss gradient for every recurrent matrix, by backpropagation through time in numpy.

The model is the one ``model.build_model`` makes: a stack of LSTM or GRU layers
(optionally Bidirectional, concatenated), the last one returning its final
step, then a one-unit Dense head (linear or sigmoid) and the compiled loss
(``mse``, or ``binary_crossentropy`` on the sigmoid). Everything comes from the
snapshot's copies, so the drawing process computes it without TensorFlow and
without holding the training process' interpreter lock. Tests check it against
``tf.GradientTape`` on the live model for every architecture.
"""

from itertools import groupby

import numpy as np

from lstm_experiments.gate_activity import _activation, _bias

# TensorFlow's own precision; float64 took twice as long at 1024 units for no visible difference in a norm.
DTYPE = np.float32

# d activation / d pre-activation, from the pre-activation.
DERIVATIVES = {
    "tanh": lambda z: 1.0 - np.tanh(z) ** 2,
    "sigmoid": lambda z: (s := 0.5 * (1.0 + np.tanh(0.5 * z))) * (1.0 - s),
    "hard_sigmoid": lambda z: ((z > -3.0) & (z < 3.0)) / 6.0,
    "relu": lambda z: (z > 0).astype(np.float64),
    "linear": np.ones_like,
}


def _derivative(name: str):
    if name not in DERIVATIVES:
        raise ValueError(f"cannot backpropagate through activation {name!r}")
    return DERIVATIVES[name]


def _lstm(weights, x):
    """Forward over x (batch, time, in): (hidden (batch, time, units), backward), where
    backward(dL/dh_t as (batch, time, units)) gives ({matrix: gradient}, dL/dx)."""
    act, rec_act = _activation(weights.activation), _activation(weights.recurrent_activation)
    kernel, recurrent = weights.matrices["kernel"].astype(DTYPE), weights.matrices["recurrent_kernel"].astype(DTYPE)
    batch, steps, _ = x.shape
    u = weights.units
    projected = x @ kernel + _bias(weights, "bias", kernel.shape[1]).astype(DTYPE)
    h, c = np.zeros((batch, u), DTYPE), np.zeros((batch, u), DTYPE)
    hidden = np.empty((batch, steps, u), DTYPE)
    cache = []
    for t in range(steps):
        z = projected[:, t] + h @ recurrent
        zi, zf, zg, zo = z[:, :u], z[:, u:2 * u], z[:, 2 * u:3 * u], z[:, 3 * u:]
        i, f, g, o = rec_act(zi), rec_act(zf), act(zg), rec_act(zo)
        c_prev, h_prev = c, h
        c = f * c_prev + i * g
        h = o * act(c)
        hidden[:, t] = h
        cache.append((z, i, f, g, o, c_prev, c, h_prev))
    return hidden, lambda dh_out: _lstm_backward(weights, x, kernel, recurrent, cache, dh_out)


def _lstm_backward(weights, x, kernel, recurrent, cache, dh_out):
    act, dact, drec = _activation(weights.activation), _derivative(weights.activation), _derivative(
        weights.recurrent_activation)
    batch, steps, _ = x.shape
    u = weights.units
    dz_all = np.empty((steps, batch, 4 * u), dtype=DTYPE)
    dh_next, dc_next = np.zeros((batch, u), DTYPE), np.zeros((batch, u), DTYPE)
    for t in reversed(range(steps)):
        z, i, f, g, o, c_prev, c, h_prev = cache[t]
        dh = dh_out[:, t] + dh_next
        dc = dc_next + dh * o * dact(c)
        dz = dz_all[t]
        dz[:, :u] = dc * g * drec(z[:, :u])
        dz[:, u:2 * u] = dc * c_prev * drec(z[:, u:2 * u])
        dz[:, 2 * u:3 * u] = dc * i * dact(z[:, 2 * u:3 * u])
        dz[:, 3 * u:] = dh * act(c) * drec(z[:, 3 * u:])
        dh_next = dz @ recurrent.T
        dc_next = dc * f
    # The weight gradients as one product over every (step, sequence), not one per step.
    flat_dz = dz_all.reshape(steps * batch, 4 * u)
    h_prevs = np.stack([entry[-1] for entry in cache]).reshape(steps * batch, u)
    d_kernel = x.transpose(1, 0, 2).reshape(steps * batch, -1).T @ flat_dz
    d_recurrent = h_prevs.T @ flat_dz
    d_bias = flat_dz.sum(axis=0)
    dx = (flat_dz @ kernel.T).reshape(steps, batch, -1).transpose(1, 0, 2)
    grads = {"kernel": d_kernel, "recurrent_kernel": d_recurrent}
    if "bias" in weights.matrices:
        grads["bias"] = d_bias
    return grads, dx


def _gru(weights, x):
    """As ``_lstm``, for Keras' GRU (either ``reset_after``)."""
    act, rec_act = _activation(weights.activation), _activation(weights.recurrent_activation)
    kernel, recurrent = weights.matrices["kernel"].astype(DTYPE), weights.matrices["recurrent_kernel"].astype(DTYPE)
    width = kernel.shape[1]
    u = weights.units
    batch, steps, _ = x.shape
    projected = x @ kernel + _bias(weights, "bias", width).astype(DTYPE)
    recurrent_bias = _bias(weights, "recurrent_bias", width).astype(DTYPE)
    u_z, u_r, u_h = recurrent[:, :u], recurrent[:, u:2 * u], recurrent[:, 2 * u:]
    h = np.zeros((batch, u), DTYPE)
    hidden = np.empty((batch, steps, u), DTYPE)
    cache = []
    for t in range(steps):
        xz = projected[:, t]
        h_prev = h
        if weights.reset_after:
            inner = h_prev @ recurrent + recurrent_bias
            pz, pr = xz[:, :u] + inner[:, :u], xz[:, u:2 * u] + inner[:, u:2 * u]
            z, r = rec_act(pz), rec_act(pr)
            ph = xz[:, 2 * u:] + r * inner[:, 2 * u:]
        else:
            inner = None
            pz, pr = xz[:, :u] + h_prev @ u_z, xz[:, u:2 * u] + h_prev @ u_r
            z, r = rec_act(pz), rec_act(pr)
            ph = xz[:, 2 * u:] + (r * h_prev) @ u_h
        candidate = act(ph)
        h = z * h_prev + (1.0 - z) * candidate
        hidden[:, t] = h
        cache.append((pz, pr, ph, z, r, candidate, h_prev, inner))
    return hidden, lambda dh_out: _gru_backward(weights, x, kernel, recurrent, cache, dh_out)


def _gru_backward(weights, x, kernel, recurrent, cache, dh_out):
    dact, drec = _derivative(weights.activation), _derivative(weights.recurrent_activation)
    width = kernel.shape[1]
    u = weights.units
    batch, steps, _ = x.shape
    u_z, u_r, u_h = recurrent[:, :u], recurrent[:, u:2 * u], recurrent[:, 2 * u:]
    d_kernel, d_recurrent = np.zeros_like(kernel), np.zeros_like(recurrent)
    d_bias, d_recurrent_bias = np.zeros(width, DTYPE), np.zeros(width, DTYPE)
    dx = np.empty_like(x)
    dh_next = np.zeros((batch, u), DTYPE)
    for t in reversed(range(steps)):
        pz, pr, ph, z, r, candidate, h_prev, inner = cache[t]
        dh = dh_out[:, t] + dh_next
        dpz = dh * (h_prev - candidate) * drec(pz)
        dph = dh * (1.0 - z) * dact(ph)
        if weights.reset_after:
            d_inner_h = dph * r
            dpr = dph * inner[:, 2 * u:] * drec(pr)
            d_inner = np.concatenate([dpz, dpr, d_inner_h], axis=1)
            d_recurrent += h_prev.T @ d_inner
            d_recurrent_bias += d_inner.sum(axis=0)
            dh_prev = dh * z + d_inner @ recurrent.T
        else:
            d_rh = dph @ u_h.T
            dpr = d_rh * h_prev * drec(pr)
            d_recurrent[:, :u] += h_prev.T @ dpz
            d_recurrent[:, u:2 * u] += h_prev.T @ dpr
            d_recurrent[:, 2 * u:] += (r * h_prev).T @ dph
            dh_prev = dh * z + dpz @ u_z.T + dpr @ u_r.T + d_rh * r
        d_xz = np.concatenate([dpz, dpr, dph], axis=1)
        d_kernel += x[:, t].T @ d_xz
        d_bias += d_xz.sum(axis=0)
        dx[:, t] = d_xz @ kernel.T
        dh_next = dh_prev
    grads = {"kernel": d_kernel, "recurrent_kernel": d_recurrent}
    if "bias" in weights.matrices:
        grads["bias"] = d_bias
    if "recurrent_bias" in weights.matrices:
        grads["recurrent_bias"] = d_recurrent_bias
    return grads, dx


CELLS = {"lstm": _lstm, "gru": _gru}


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
        d_logits = 2.0 * (prediction - y) / (batch * logits.shape[1]) * _derivative(head["activation"])(logits)
    else:
        raise ValueError(f"cannot backpropagate loss {head['loss']!r} with a {head['activation']} head")
    return d_logits @ kernel.T


def gate_gradients(layers, head, x, y) -> dict[str, dict[str, np.ndarray]]:
    """{layer: {matrix: dL/dmatrix}} on the batch (x, y), matrices named as in the snapshot."""
    x = np.asarray(x, dtype=DTYPE)
    levels = [list(group) for _, group in groupby(layers, key=lambda w: w.depth)]
    # Forward: each level's input, and each direction's hidden sequence (processing order) and backward.
    inputs, hiddens, backwards = [], [], []
    level_input = x
    for level in levels:
        inputs.append(level_input)
        outputs, processed, steps_back = [], [], []
        for weights in level:
            backward = weights.direction == "backward"
            source = level_input[:, ::-1] if backward else level_input
            hidden, back = CELLS[weights.cell](weights, source)
            processed.append(hidden)
            steps_back.append(back)
            outputs.append(hidden[:, ::-1] if backward else hidden)
        hiddens.append(processed)
        backwards.append(steps_back)
        level_input = np.concatenate(outputs, axis=-1)
    # The last level returns its final processed step, concatenated across directions.
    features = np.concatenate([h[:, -1] for h in hiddens[-1]], axis=-1)
    d_features = _head_gradient(head, features, y).astype(DTYPE)
    grads: dict[str, dict[str, np.ndarray]] = {}
    # dL/d(level output), in the input's time order: only the final step for the last level.
    d_level_out = None
    for depth in reversed(range(len(levels))):
        level, level_input = levels[depth], inputs[depth]
        batch, steps, _ = level_input.shape
        d_input = np.zeros_like(level_input)
        offset = 0
        for weights, back in zip(level, backwards[depth]):
            u = weights.units
            backward = weights.direction == "backward"
            if depth == len(levels) - 1:
                dh = np.zeros((batch, steps, u), DTYPE)
                dh[:, -1] = d_features[:, offset:offset + u]
            else:
                dh = d_level_out[:, :, offset:offset + u]
                dh = dh[:, ::-1] if backward else dh
            cell_grads, dx = back(dh)
            grads[weights.layer] = cell_grads
            d_input += dx[:, ::-1] if backward else dx
            offset += u
        d_level_out = d_input
    return grads
