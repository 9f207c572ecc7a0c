"""The gradient through time on models that are not the runner's plain stack, against tf.GradientTape.

The probe pass takes the loss gradient at each recurrent layer's output (and final states) with
TensorFlow, and each cell's backward pass runs in numpy from there (``probed_through_time``). The
reference runs the same Keras model with every recurrent layer's ``call`` replaced by its own Keras
cell unrolled step by step in Python (masked steps hold the states and repeat the last output, as
Keras does), watches every state tensor and asks the tape for dL/dh_t and dL/dc_t. The unrolled
model's prediction is checked against the model's own before its gradients are used.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from lstm_experiments.capture.layers import find_recurrent_layers
from lstm_experiments.capture.model_capture import ModelCapture

BATCH, STEPS, VOCAB, UNITS = 5, 7, 9, 4


def _unrolled_call(layer, tape, watched):
    """A stand-in for ``layer.call``: its cell step by step, each step's states watched (processing order):
    ``watched`` gets (the cell's new states, the states after the mask, the step's mask or None)."""

    def call(sequences, initial_state=None, mask=None, training=False, **_):
        batch, steps = sequences.shape[0], sequences.shape[1]
        structure = initial_state
        if structure is None:
            structure = [s.value for s in layer.states] if layer.stateful else layer.get_initial_state(batch)
        structure = list(structure) if isinstance(structure, (list, tuple)) else [structure]
        states = [tf.convert_to_tensor(s) for s in keras.tree.flatten(structure)]
        xs, keep = sequences, None if mask is None else tf.cast(mask, tf.bool)
        if layer.go_backwards:
            xs, keep = xs[:, ::-1], None if keep is None else keep[:, ::-1]
        previous, outputs = None, []
        cells = getattr(layer.cell, "cells", [layer.cell])  # a StackedRNNCells returns its last cell's h
        last_h = sum(len(keras.tree.flatten(c.state_size)) for c in cells[:-1])
        for t in range(steps):
            nested = keras.tree.pack_sequence_as(structure, states)
            out, new = layer.cell(xs[:, t], nested if len(nested) > 1 else nested[0])
            raw = [tf.convert_to_tensor(s) for s in keras.tree.flatten(new)]
            for state in raw:
                tape.watch(state)
            if previous is None:
                previous = tf.zeros_like(out)
            new, k = raw, None
            if keep is not None:
                k = keep[:, t:t + 1]
                new = [tf.where(k, n, s) for n, s in zip(raw, states)]
                for state in new:
                    tape.watch(state)
            # The output is the (last) cell's h: read from the watched state so dL/dh_t counts it.
            out = new[last_h]
            if keep is not None:
                out = tf.where(k, out, tf.zeros_like(out) if layer.zero_output_for_mask else previous)
            states, previous = new, out
            # A counted step's c fed its h inside the cell: its total gradient is the raw state's; a
            # masked step's held state is the masked one (h and c alike).
            watched.append((raw, new, k))
            outputs.append(out)
        output = tf.stack(outputs, axis=1) if layer.return_sequences else outputs[-1]
        return [output, *states] if layer.return_state else output

    return call


def tape_through_time(model, x, y):
    """{cell name: {"h": (T,), "c": (T,)}} in the input's time order, from the unrolled model's tape."""
    found = find_recurrent_layers(model).layers
    layers = list({id(f.layer): f.layer for f in found}.values())
    watched = {id(layer): [] for layer in layers}
    with tf.GradientTape(persistent=True) as tape:
        for layer in layers:
            layer.call = _unrolled_call(layer, tape, watched[id(layer)])
        try:
            prediction = model(x, training=False)
            loss = model.compute_loss(x=x, y=y, y_pred=prediction)
        finally:
            for layer in layers:
                del layer.call
    carried = [(state, np.array(state)) for layer in layers if layer.stateful for state in layer.states]
    np.testing.assert_allclose(np.array(prediction), np.array(model(x, training=False)), rtol=1e-5, atol=1e-6)
    for state, value in carried:  # the model's own call moved a stateful layer's state on: put it back
        state.assign(value)
    out = {}
    for f in found:
        start, stop = f.state_slice
        steps = watched[id(f.layer)]
        names = ["h", "c"][:stop - start]
        norms = {}
        for offset, name in enumerate(names):
            zero = tf.UnconnectedGradients.ZERO
            raw = tape.gradient(loss, [step[0][start + offset] for step in steps], unconnected_gradients=zero)
            held = tape.gradient(loss, [step[1][start + offset] for step in steps], unconnected_gradients=zero)
            total = [r if k is None else tf.where(k, r, h) for r, h, (_, _, k) in zip(raw, held, steps)]
            values = np.array([np.linalg.norm(np.array(g, np.float64)) for g in total])
            norms[name] = values[::-1] if f.direction == "backward" else values
        out[f.name] = norms
    return out


def _tokens(seed=0, pad="post"):
    """Token ids 1..VOCAB-1 with 0-padding: each sequence 3 to STEPS long, padded after (or before)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(1, VOCAB, size=(BATCH, STEPS))
    for row, length in enumerate(rng.integers(3, STEPS + 1, size=BATCH)):
        if pad == "post":
            x[row, length:] = 0
        else:
            x[row, :STEPS - length] = 0
    return x


def _with_weights(model, seed=0, scale=0.6):
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(scale=scale, size=w.shape).astype(np.float32) for w in model.get_weights()])
    return model


def char_model():
    """A character model: masked Embedding, an LSTM over the sequence, a softmax at every step."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((STEPS,), dtype="int32")
    h = keras.layers.Embedding(VOCAB, 3, mask_zero=True)(inputs)
    h = keras.layers.LSTM(UNITS, return_sequences=True, name="lstm")(h)
    model = keras.Model(inputs, keras.layers.Dense(VOCAB, activation="softmax")(h))
    model.compile("sgd", "sparse_categorical_crossentropy")
    x = _tokens()
    return _with_weights(model), x, np.roll(x, -1, axis=1)


def seq2seq_model():
    """The Keras example's shape: an encoder LSTM whose states start a decoder LSTM (teacher forcing)."""
    keras.utils.set_random_seed(0)
    source, target = keras.Input((STEPS, 3)), keras.Input((STEPS - 2, 2))
    _, h, c = keras.layers.LSTM(UNITS, return_state=True, name="encoder")(source)
    decoded = keras.layers.LSTM(UNITS, return_sequences=True, name="decoder")(target, initial_state=[h, c])
    model = keras.Model([source, target], keras.layers.Dense(2)(decoded))
    model.compile("sgd", "mse")
    rng = np.random.default_rng(1)
    x = [rng.normal(size=(BATCH, STEPS, 3)).astype("float32"), rng.normal(size=(BATCH, STEPS - 2, 2)).astype("float32")]
    return _with_weights(model), x, rng.normal(size=(BATCH, STEPS - 2, 2)).astype("float32")


def masked_gru_model():
    """Pre-padded sequences through Masking, a GRU returning its last step, a sigmoid head."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((STEPS, 2)), keras.layers.Masking(0.0),
                              keras.layers.GRU(UNITS, name="gru"), keras.layers.Dense(1, activation="sigmoid")])
    model.compile("sgd", "binary_crossentropy")
    rng = np.random.default_rng(2)
    x = rng.normal(size=(BATCH, STEPS, 2)).astype("float32")
    x[_tokens(pad="pre") == 0] = 0.0
    return _with_weights(model), x, (rng.random((BATCH, 1)) > 0.5).astype("float32")


def bidirectional_model():
    """A masked Embedding, a Bidirectional LSTM over the sequence, pooled, then a softmax over 3 classes."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((STEPS,), dtype="int32")
    h = keras.layers.Embedding(VOCAB, 3, mask_zero=True)(inputs)
    h = keras.layers.Bidirectional(keras.layers.LSTM(UNITS, return_sequences=True), name="bi")(h)
    h = keras.layers.GlobalAveragePooling1D()(h)
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(h))
    model.compile("sgd", "sparse_categorical_crossentropy")
    return _with_weights(model), _tokens(seed=3), np.arange(BATCH) % 3


def stacked_cells_model():
    """``keras.layers.RNN`` over two stacked LSTM cells and a SimpleRNN after it, then a Dense head."""
    keras.utils.set_random_seed(0)
    cells = [keras.layers.LSTMCell(UNITS), keras.layers.LSTMCell(UNITS)]
    model = keras.Sequential([keras.Input((STEPS, 2)), keras.layers.RNN(cells, return_sequences=True, name="stack"),
                              keras.layers.SimpleRNN(UNITS, name="simple"), keras.layers.Dense(2)])
    model.compile("sgd", "mse")
    rng = np.random.default_rng(4)
    return (_with_weights(model, scale=0.5), rng.normal(size=(BATCH, STEPS, 2)).astype("float32"),
            rng.normal(size=(BATCH, 2)).astype("float32"))


def stateful_model():
    """A stateful LSTM whose carried state is not zero (as after earlier batches), returning its last step."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(batch_shape=(BATCH, STEPS, 2)),
                              keras.layers.LSTM(UNITS, stateful=True, name="stateful"), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    rng = np.random.default_rng(5)
    for state in model.get_layer("stateful").states:
        state.assign(rng.normal(scale=0.5, size=state.shape).astype("float32"))
    return (_with_weights(model), rng.normal(size=(BATCH, STEPS, 2)).astype("float32"),
            rng.normal(size=(BATCH, 1)).astype("float32"))


MODELS = {"char-masked": char_model, "seq2seq-initial-state": seq2seq_model, "gru-pre-padded": masked_gru_model,
          "bidirectional-masked": bidirectional_model, "stacked-cells-and-simple-rnn": stacked_cells_model,
          "stateful": stateful_model}


@pytest.mark.parametrize("make", MODELS.values(), ids=MODELS.keys())
def test_the_gradient_through_time_on_any_model_matches_the_tape(make):
    model, x, y = make()
    expected = tape_through_time(model, x, y)
    snapshot = ModelCapture(model, x, y, with_head=True).snapshot(0)
    assert snapshot.probes is not None  # not a plain stack: the probe pass' path
    got, missing = snapshot.probe_through_time()
    assert missing == {} and set(got) == set(expected)
    for name, norms in expected.items():
        assert set(got[name]) == set(norms)
        for state, reference in norms.items():
            assert reference.max() > 1e-4, (name, state)  # the loss reaches the layer
            np.testing.assert_allclose(got[name][state], reference, rtol=2e-4, atol=1e-7, err_msg=f"{name}/{state}")


def _classifier(forget_bias, steps=40, vocab=12):
    """A user's sentence classifier: masked Embedding, an LSTM returning its last step, a 3-way softmax;
    its forget gates' bias set by hand (closed at -6, open at +3)."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((steps,), dtype="int32")
    h = keras.layers.Embedding(vocab, 4, mask_zero=True)(inputs)
    h = keras.layers.LSTM(8, unit_forget_bias=False, name="lstm")(h)
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(h))
    cell = model.get_layer("lstm").cell
    bias = np.array(cell.bias)
    bias[cell.units:2 * cell.units] = forget_bias
    cell.bias.assign(bias)
    rng = np.random.default_rng(0)
    x = rng.integers(1, vocab, size=(96, steps))
    for row, length in enumerate(rng.integers(steps - 10, steps + 1, size=len(x))):
        x[row, length:] = 0  # post-padded: the mask is in the picture
    return model, x, x[:, 0] % 3  # the class is in the first token: only memory can learn it


@pytest.mark.parametrize("forget_bias, vanishes", [(-6.0, True), (3.0, False)], ids=["closed", "open"])
def test_gatelogger_finds_a_vanishing_gradient_in_a_users_classifier(tmp_path, forget_bias, vanishes):
    """Not a plain stack (an Embedding in front, a softmax head, masks): the gradient through time comes
    from the probe pass' loss gradient at the LSTM's output, and the rule reads it as on the runner's."""
    import json

    from lstm_experiments import GateLogger
    from lstm_experiments.tensorboard import tags

    from conftest import read_tensors

    model, x, y = _classifier(forget_bias)
    model.compile(keras.optimizers.SGD(1e-4), "sparse_categorical_crossentropy")
    logger = GateLogger(tmp_path, background=False, probe=(x[:16], y[:16]))
    model.fit(x, y, epochs=2, batch_size=32, verbose=0, callbacks=[logger])
    document = json.loads((tmp_path / "findings.json").read_text())
    assert document["checked"]["vanishing_gradient"] == "yes"
    warned = {(f["kind"], f["layer"]) for f in document["findings"] if f["severity"] == "warning"}
    assert (("vanishing_gradient", "lstm") in warned) == vanishes, document["findings"]
    decays = [float(v) for _, v in read_tensors(tmp_path)[tags.through_time_decay("lstm", "c")]]
    assert len(decays) == 3 and all((d < 1e-4) == vanishes for d in decays), decays
