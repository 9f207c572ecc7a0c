"""Probe gradients computed off the training thread, from a snapshot's copies, equal TensorFlow's on the live model."""

import threading

import keras
import numpy as np
import pytest
import tensorflow as tf

from lstm_experiments.weight_snapshot import _cell_variables, add_gradients, recurrent_layers, take_snapshot

from test_gate_activity import CASES, probe, random_model

CHOSEN = ["lstm-1", "lstm-3-stacked", "lstm-bidirectional-2", "lstm-no-bias", "gru-reset-after",
          "gru-2-bidirectional-reset-before"]


def tape_gradients(model, x, y):
    """{(layer, variable name): gradient} from a GradientTape on the live variables."""
    named = [((name, key), v) for name, layer, *_ in recurrent_layers(model)
             for key, v in _cell_variables(layer.cell).items()]
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(keras.losses.get(model.loss)(y, model(x, training=False)))
    grads = tape.gradient(loss, [v for _, v in named])
    return {key: np.asarray(g) for (key, _), g in zip(named, grads)}


def as_variables(layer_weights):
    """The snapshot's per-matrix gradients back in the variables' shapes (bias rows stacked)."""
    grads = dict(layer_weights.gradients)
    if "recurrent_bias" in grads:
        grads["bias"] = np.stack([grads.pop("bias"), grads.pop("recurrent_bias")])
    return grads


@pytest.mark.parametrize("name", CHOSEN)
def test_snapshot_gradients_are_the_gradients_at_the_copied_weights(name):
    model = random_model(**CASES[name])
    model.compile(optimizer="sgd", loss="mse")
    x = probe()
    y = np.random.default_rng(2).normal(size=(x.shape[0], 1)).astype(np.float32)
    expected = tape_gradients(model, x, y)

    snapshot = take_snapshot(model, step=3, probe_x=x, with_gradients=True)
    assert all(not layer.gradients for layer in snapshot.layers)
    # Training moves on before the logging thread gets to the snapshot.
    model.set_weights([w + 0.25 for w in model.get_weights()])
    moved = tape_gradients(model, x, y)

    done = {}
    thread = threading.Thread(target=lambda: done.update(s=add_gradients(snapshot, model, y)))
    thread.start()
    thread.join()
    filled = done["s"]
    assert filled.variable_values is None and filled.step == 3
    for layer in filled.layers:
        got = as_variables(layer)
        assert set(got) == {key for (lname, key) in expected if lname == layer.layer}
        for key, gradient in got.items():
            np.testing.assert_allclose(gradient, expected[(layer.layer, key)], rtol=1e-4, atol=1e-6)
            assert not np.allclose(gradient, moved[(layer.layer, key)], rtol=1e-3, atol=1e-6)
