"""The numpy backpropagation (gate_gradients) against tf.GradientTape on the live model, for every architecture and loss."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from lstm_experiments.gates.gradients import gate_gradients
from lstm_experiments.capture.layers import find_recurrent_layers
from lstm_experiments.capture.model_capture import take_snapshot
from lstm_experiments.capture.snapshot import cell_variables

from test_gate_activity import CASES, probe, random_model

LOSSES = {"mse": None, "binary_crossentropy": "sigmoid"}


def tape_gradients(model, x, y):
    """{(layer, variable name): gradient} from a GradientTape on the live variables."""
    named = [((found.name, key), v) for found in find_recurrent_layers(model).layers
             for key, v in cell_variables(found.cell).items()]
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(keras.losses.get(model.loss)(y, model(x, training=False)))
    grads = tape.gradient(loss, [v for _, v in named])
    return {key: np.asarray(g) for (key, _), g in zip(named, grads)}


def as_variables(gradients):
    """Per-matrix gradients back in the variables' shapes (a GRU's two bias rows stacked)."""
    grads = dict(gradients)
    if "recurrent_bias" in grads:
        grads["bias"] = np.stack([grads.pop("bias"), grads.pop("recurrent_bias")])
    return grads


@pytest.mark.parametrize("loss", list(LOSSES))
@pytest.mark.parametrize("case", list(CASES))
def test_numpy_gradients_equal_tensorflows(case, loss):
    model = random_model(**CASES[case])
    if LOSSES[loss]:
        model.get_layer("head").activation = keras.activations.get(LOSSES[loss])
    model.compile(optimizer="sgd", loss=loss)
    x = probe()
    rng = np.random.default_rng(2)
    y = rng.random((x.shape[0], 1)) > 0.5 if LOSSES[loss] else rng.normal(size=(x.shape[0], 1))
    y = y.astype(np.float32)
    expected = tape_gradients(model, x, y)

    snapshot = take_snapshot(model, step=3, probe_x=x, probe_y=y, with_gradients=True)
    assert snapshot.head["loss"] == loss and snapshot.head["activation"] == (LOSSES[loss] or "linear")
    got = gate_gradients(snapshot.layers, snapshot.head, snapshot.probe_x, snapshot.probe_y)
    assert set(got) == {layer.layer for layer in snapshot.layers}
    for layer in snapshot.layers:
        grads = as_variables(got[layer.layer])
        assert set(grads) == {key for (name, key) in expected if name == layer.layer}
        for key, gradient in grads.items():
            reference = expected[(layer.layer, key)]
            assert gradient.shape == reference.shape
            np.testing.assert_allclose(gradient, reference, rtol=1e-4, atol=1e-5 * np.abs(reference).max())


def test_an_unknown_loss_is_refused():
    layers = take_snapshot(random_model(), 0).layers
    head = {"kernel": np.ones((4, 1)), "activation": "linear", "loss": "huber"}
    with pytest.raises(ValueError, match="huber"):
        gate_gradients(layers, head, probe(), np.zeros((5, 1)))
