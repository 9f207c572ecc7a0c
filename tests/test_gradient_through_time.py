"""The numpy gradient through time (gradient_through_time, gradient_decay) against tf.GradientTape.

The reference unrolls the runner's model (``build_model``) by hand: each Keras
recurrent layer's own cell is called step by step on the live weights, every
state tensor is watched, the head layer and the compiled loss close the graph,
and the tape gives dL/dh_t and dL/dc_t. Its prediction is checked against the
model's own before its gradients are used.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from lstm_experiments.capture.model_capture import take_snapshot
from lstm_experiments.data.dataset import BINARY, REGRESSION
from lstm_experiments.gates.gradients import gate_gradients, gradient_decay, gradient_through_time
from lstm_experiments.model import build_model

from test_gate_activity import model_config, recurrent_keras_layers

BATCH, SEQ_LEN, FEATURES, UNITS = 4, 6, 3, 3

CASES = {
    "lstm-1": (dict(cell="lstm", layers=1), REGRESSION),
    "lstm-2-stacked": (dict(cell="lstm", layers=2), REGRESSION),
    "lstm-bidirectional": (dict(cell="lstm", layers=1, bidirectional=True), REGRESSION),
    "gru-reset-after": (dict(cell="gru", layers=1, reset_after=True), REGRESSION),
    "lstm-2-binary": (dict(cell="lstm", layers=2), BINARY),
}


def runner_model(fields, task, seq_len=SEQ_LEN, seed=0, scale=0.5):
    """``build_model``'s model, compiled with the runner's loss for ``task``, every weight N(0, scale²)."""
    keras.utils.set_random_seed(seed)
    model = build_model(model_config(**fields), UNITS, (seq_len, FEATURES), task)
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(scale=scale, size=w.shape).astype(np.float32) for w in model.get_weights()])
    model.compile(optimizer="sgd", loss="binary_crossentropy" if task == BINARY else "mse")
    return model


def batch(task, seq_len=SEQ_LEN, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(BATCH, seq_len, FEATURES)).astype(np.float32)
    y = (rng.random((BATCH, 1)) > 0.5) if task == BINARY else rng.normal(size=(BATCH, 1))
    return x, y.astype(np.float32)


def _directions(keras_layer):
    """(recurrent layer, reads reversed) for each direction of a Keras layer."""
    if isinstance(keras_layer, keras.layers.Bidirectional):
        return [(keras_layer.forward_layer, False), (keras_layer.backward_layer, True)]
    return [(keras_layer, keras_layer.go_backwards)]


def tape_through_time(model, x, y):
    """({layer: {"h": (T,), "c": (T,)}} in the input's time order, the unrolled prediction).

    Norms of the tape's dL/dh_t and dL/dc_t, the cells unrolled in Python on the live weights.
    """
    x = tf.constant(x)
    steps = x.shape[1]
    watched = {}  # layer name -> {"h": [T tensors], "c": [...]}, in processing order
    reversed_layers = set()
    with tf.GradientTape() as tape:
        sequence = x
        for keras_layer in recurrent_keras_layers(model):
            outputs = []
            for layer, backward in _directions(keras_layer):
                inputs = sequence[:, ::-1] if backward else sequence
                is_lstm = isinstance(layer, keras.layers.LSTM)
                states = [tf.zeros((x.shape[0], layer.cell.units))] * (2 if is_lstm else 1)
                hs, cs = [], []
                for t in range(steps):
                    h, states = layer.cell(inputs[:, t], states)
                    states = list(states)
                    tape.watch(h)
                    hs.append(h)
                    if is_lstm:
                        tape.watch(states[1])
                        cs.append(states[1])
                watched[layer.name] = {"h": hs, "c": cs} if is_lstm else {"h": hs}
                if backward:
                    reversed_layers.add(layer.name)
                if layer.return_sequences:
                    stacked = tf.stack(hs, axis=1)
                    outputs.append(stacked[:, ::-1] if backward else stacked)
                else:
                    outputs.append(hs[-1])
            sequence = tf.concat(outputs, axis=-1) if len(outputs) > 1 else outputs[0]
        prediction = model.get_layer("head")(sequence)
        loss = tf.reduce_mean(keras.losses.get(model.loss)(y, prediction))
    flat = [(name, key, t) for name, states in watched.items() for key, seq in states.items() for t in range(steps)]
    grads = tape.gradient(loss, [watched[name][key][t] for name, key, t in flat])
    norms = {name: {key: np.zeros(steps) for key in states} for name, states in watched.items()}
    for (name, key, t), gradient in zip(flat, grads):
        norms[name][key][t] = 0.0 if gradient is None else np.linalg.norm(np.asarray(gradient, np.float64))
    for name in reversed_layers:
        norms[name] = {key: values[::-1] for key, values in norms[name].items()}
    return norms, np.asarray(prediction)


def numpy_through_time(model, x, y):
    snapshot = take_snapshot(model, step=0, probe_x=x, probe_y=y, with_gradients=True)
    return snapshot, gradient_through_time(snapshot.layers, snapshot.head, snapshot.probe_x, snapshot.probe_y)


@pytest.mark.parametrize("case", list(CASES))
def test_norms_through_time_equal_the_tapes(case):
    fields, task = CASES[case]
    model = runner_model(fields, task)
    x, y = batch(task)
    expected, prediction = tape_through_time(model, x, y)
    # The hand-unrolled reference is the model: same prediction.
    np.testing.assert_allclose(prediction, np.asarray(model(x)), rtol=1e-5, atol=1e-6)

    snapshot, got = numpy_through_time(model, x, y)
    assert set(got) == set(expected) == {w.layer for w in snapshot.layers}
    for layer in snapshot.layers:
        assert set(got[layer.layer]) == ({"h", "c"} if layer.cell == "lstm" else {"h"})
        for key, norms in got[layer.layer].items():
            reference = expected[layer.layer][key]
            assert norms.shape == (SEQ_LEN,)
            # Meaningful: every step carries some gradient, and the steps differ.
            assert reference.min() > 1e-6 and np.ptp(reference) > 1e-3 * reference.max(), (layer.layer, key)
            np.testing.assert_allclose(norms, reference, rtol=1e-4, atol=1e-7, err_msg=f"{layer.layer}/{key}")
            np.testing.assert_allclose(gradient_decay(norms), reference[0] / reference[-1], rtol=2e-4)
    # The matrix gradients still come from the same pass, unchanged in shape.
    matrices = gate_gradients(snapshot.layers, snapshot.head, snapshot.probe_x, snapshot.probe_y)
    assert set(matrices) == set(got)
    # What the findings take: the snapshot's pass without the weight gradients when no visualizer took
    # them, the shared one when the gradients visualizer did; the same norms either way.
    alone, missing = snapshot.probe_through_time()
    assert missing == {}
    shared = snapshot.probe_backpropagation
    for layer in got:
        assert shared.matrices[layer].keys() == matrices[layer].keys()
        for key, norms in got[layer].items():
            np.testing.assert_array_equal(alone[layer][key], norms)
            np.testing.assert_array_equal(snapshot.probe_through_time()[0][layer][key], norms)


VANISHING_STEPS = 40


@pytest.fixture(scope="module")
def forget_model():
    """One LSTM layer over 40 steps, without unit_forget_bias, small weights so the forget bias rules."""
    model = runner_model(dict(cell="lstm", layers=1, unit_forget_bias=False), REGRESSION,
                         seq_len=VANISHING_STEPS, scale=0.3)
    return model, batch(REGRESSION, seq_len=VANISHING_STEPS)


def with_forget_bias(model, value):
    """Keras' LSTM bias is [input, forget, cell, output] blocks of ``units``; set the forget block."""
    cell = model.get_layer("lstm").cell
    bias = np.asarray(cell.bias).copy()
    bias[UNITS:2 * UNITS] = value
    cell.bias.assign(bias)
    return model


def test_a_closed_forget_gate_makes_the_gradient_vanish(forget_model):
    model, (x, y) = forget_model
    closed = numpy_through_time(with_forget_bias(model, -6.0), x, y)[1]["lstm"]
    closed_reference = tape_through_time(model, x, y)[0]["lstm"]
    open_ = numpy_through_time(with_forget_bias(model, 3.0), x, y)[1]["lstm"]
    open_reference = tape_through_time(model, x, y)[0]["lstm"]

    for key in ("h", "c"):
        assert closed[key].shape == open_[key].shape == (VANISHING_STEPS,)
        assert 0.0 < gradient_decay(closed[key]) < 1e-6, key
        assert gradient_decay(open_[key]) > 1e-2, key
        # Independent: the tape agrees step by step with the open gate, and with the closed one
        # wherever its float32 gradient is not yet flushed to zero (TensorFlow flushes denormals).
        np.testing.assert_allclose(open_[key], open_reference[key], rtol=1e-4, atol=0, err_msg=key)
        assert closed_reference[key][0] / closed_reference[key][-1] < 1e-6
        representable = closed_reference[key] > 1e-33
        assert representable.sum() > VANISHING_STEPS // 2
        np.testing.assert_allclose(closed[key][representable], closed_reference[key][representable],
                                   rtol=1e-4, atol=0, err_msg=key)


def test_gradient_decay_reads_first_over_last():
    norms = np.array([0.5, 2.0, 4.0])
    assert gradient_decay(norms) == 0.5 / 4.0
    assert gradient_decay(norms[::-1]) == 4.0 / 0.5
    # Nothing at the final step to compare with: nan, also when the first is 0 too.
    assert np.isnan(gradient_decay(np.array([1.0, 0.0])))
    assert np.isnan(gradient_decay(np.zeros(3)))
    assert gradient_decay(np.array([0.0, 2.0])) == 0.0
    with pytest.raises(ValueError, match="non-empty"):
        gradient_decay(np.array([]))
