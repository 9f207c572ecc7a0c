"""``GateLogger`` on the model shapes of real Keras code, each checked against Keras itself.

The shapes come from the Keras documentation's examples and guides: a
subclassed model not called before ``fit``, a user's own layer holding an
LSTM, ``RNN(LSTMCell)``, ``StackedRNNCells``, ``TimeDistributed``, a two-input
encoder-decoder whose decoder starts from ``initial_state=encoder_states``,
masking (``Embedding(mask_zero=True)``, ``Masking``), a stateful LSTM,
``ConvLSTM2D``, ``SimpleRNN``, and ``fit(epochs=1)`` in a loop. Tags are
compared with the layers, images decoded to the weights and read back with
TensorBoard's own reader, replayed states compared with Keras' own layer
outputs, gradients with ``GradientTape``, steps checked strictly increasing.
"""

import logging

import keras
import numpy as np
import pytest
import tensorflow as tf

from lstm_experiments import GateLogger
from lstm_experiments.board import metadata
from lstm_experiments.capture.model_capture import take_snapshot
from lstm_experiments.tensorboard import tags
from conftest import decode_bwr, decode_image, plugin_of, read_tensors

LSTM_GATES = ("input", "forget", "cell", "output")
GRU_GATES = ("update", "reset", "candidate")
ATOL = 1e-5
# Keras' float32 against the numpy replay in float32, over a few steps.
STATE_ATOL = 2e-5


def _steps(events, tag):
    return [step for step, _ in events[tag]]


def _written_tags(log_dir, findings=True):
    """The visualizers' tags: without the GATES tab's, and (``findings``: a probe was given, so findings
    were on) without the findings' counts and their Text record, checked in tests/test_findings.py."""
    written = {tag for tag, plugin in plugin_of(log_dir).items() if plugin not in ("lstm_gates", "text")}
    if findings:
        assert tags.findings_tags() <= written
    return written - tags.findings_tags() - {t for t in written if t.startswith(f"{tags.THROUGH_TIME}/")}


def _logger(log_dir, **kwargs):
    return GateLogger(log_dir, background=False, **kwargs)


def _activity(snapshot):
    return {activity.layer: activity for activity in snapshot.probe_activity}


# ---------------------------------------------------------------------------------------------- finding layers


class UsersEncoder(keras.layers.Layer):
    """A user's own layer holding an LSTM (and a list of layers), as in the Keras guides."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.lstm = keras.layers.LSTM(4, return_sequences=True, name="inner_lstm")
        self.extra = [keras.layers.GRU(3, name="listed_gru")]

    def call(self, inputs):
        return self.extra[0](self.lstm(inputs))


class UsersForecaster(keras.Model):
    """A subclassed model, never called before ``fit``."""

    def __init__(self):
        super().__init__()
        self.encoder = UsersEncoder(name="encoder")
        self.head = keras.layers.Dense(1)

    def call(self, inputs):
        return self.head(self.encoder(inputs))


def _series(seed=0, samples=32, steps=6, features=3):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(samples, steps, features)).astype("float32")
    return x, (x[:, -1, :1] * 0.5).astype("float32")


def _initial_weights_of_a_twin(seed, x):
    """The weights Keras gives the same model when it is built with the same seed (by a call)."""
    keras.utils.set_random_seed(seed)
    twin = UsersForecaster()
    twin(x[:2])
    return {name: np.array(variable) for name, variable in (
        ("inner_lstm", twin.encoder.lstm.cell.kernel), ("listed_gru", twin.encoder.extra[0].cell.kernel))}


@pytest.mark.parametrize("with_probe", [False, True], ids=["no-probe", "probe"])
def test_a_subclassed_model_not_called_before_fit_logs_its_initial_weights_at_step_0(tmp_path, with_probe):
    x, y = _series()
    expected = _initial_weights_of_a_twin(5, x)
    keras.utils.set_random_seed(5)
    model = UsersForecaster()
    model.compile(optimizer="adam", loss="mse")
    assert not model.built
    visualizers = ("gates", "activations") if with_probe else ("gates",)
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[_logger(
        tmp_path, visualizers=visualizers, probe=(x[:4], y[:4]) if with_probe else None)])
    events = read_tensors(tmp_path)
    layers = [("inner_lstm", LSTM_GATES, ("kernel", "recurrent_kernel", "bias")),
              ("listed_gru", GRU_GATES, ("kernel", "recurrent_kernel", "bias", "recurrent_bias"))]
    wanted = {tags.metric("loss"), tags.CUSTOM_SCALARS_LAYOUT}
    for name, gates, matrices in layers:
        for visualizer in visualizers:
            wanted |= tags.layer_tags(visualizer, name, gates, matrices)
    assert _written_tags(tmp_path, findings=with_probe) == wanted
    assert _steps(events, tags.gate_image("inner_lstm", "kernel", "input")) == [0, 1, 2]
    # Step 0 is W_0 as Keras made it, before the first batch changed it: the kept W_0 and the
    # GATES tab's /initial tensor both equal the twin's initial weights.
    with np.load(tmp_path / "gate_logger_initial.npz") as kept:
        for name, kernel in expected.items():
            np.testing.assert_array_equal(kept[f"{name}/kernel"], kernel)
            initial = events[metadata.initial_tag(name, "kernel")]
            assert [step for step, _ in initial] == [0]
            np.testing.assert_allclose(initial[0][1], kernel, atol=2e-3)
    if with_probe:  # built from the probe's shapes: step 0 has its activations too
        assert _steps(events, metadata.activations_tag("inner_lstm")) == [0, 1, 2]


def test_rnn_of_cells_stacked_cells_and_time_distributed_are_found_and_replayed_as_keras_runs_them(tmp_path):
    keras.utils.set_random_seed(3)
    inputs = keras.Input((4, 5, 3))  # (outer time, inner time, features)
    per_step = keras.layers.TimeDistributed(keras.layers.LSTM(3, name="inner"), name="td")(inputs)
    sequence = keras.layers.RNN(keras.layers.LSTMCell(4), return_sequences=True, name="cells")(per_step)
    stacked = keras.layers.RNN(keras.layers.StackedRNNCells([keras.layers.GRUCell(3), keras.layers.SimpleRNNCell(2)]),
                               return_state=True, name="stack")(sequence)
    outputs = keras.layers.Dense(1)(stacked[0])
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 4, 5, 3)).astype("float32")
    y = rng.normal(size=(16, 1)).astype("float32")
    model.fit(x, y, epochs=1, batch_size=8, verbose=0,
              callbacks=[_logger(tmp_path, visualizers=("gates", "activations"), probe=(x[:4], y[:4]))])
    found = {("inner", LSTM_GATES), ("cells", LSTM_GATES), ("stack_cell0", GRU_GATES), ("stack_cell1", ("state",))}
    written = _written_tags(tmp_path)
    for name, gates in found:
        assert {tags.gate_image(name, "kernel", gate) for gate in gates} <= written, name
        assert {tags.activation_image(name, gate) for gate in gates} <= written, name

    probe = x[:4]
    snapshot = take_snapshot(model, 1, probe)
    activity = _activity(snapshot)
    reference = keras.Model(inputs, [per_step, sequence, *stacked])(probe)
    td_out, cells_out, stack_out, gru_h, simple_h = (np.asarray(r) for r in reference)
    # TimeDistributed runs the inner LSTM once per outer step: (outer * batch) sequences, outer step first.
    inner = activity["inner"].hidden[:, -1].reshape(4, 4, 3).transpose(1, 0, 2)
    np.testing.assert_allclose(inner, td_out, atol=STATE_ATOL)
    np.testing.assert_allclose(activity["cells"].hidden, cells_out, atol=STATE_ATOL)
    # A stacked cell reads the one below it; the RNN's states are each cell's last.
    np.testing.assert_allclose(activity["stack_cell0"].hidden[:, -1], gru_h, atol=STATE_ATOL)
    np.testing.assert_allclose(activity["stack_cell1"].hidden[:, -1], simple_h, atol=STATE_ATOL)
    np.testing.assert_allclose(activity["stack_cell1"].hidden[:, -1], stack_out, atol=STATE_ATOL)


def test_a_cell_the_logger_cannot_split_gets_one_line(tmp_path, caplog):
    class MinimalRNNCell(keras.layers.Layer):  # the Keras RNN guide's own example cell
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.state_size = units

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
            self.recurrent_kernel = self.add_weight(shape=(self.units, self.units), name="recurrent_kernel")

        def call(self, inputs, states):
            output = keras.ops.matmul(inputs, self.kernel) + keras.ops.matmul(states[0], self.recurrent_kernel)
            return output, [output]

    keras.utils.set_random_seed(1)
    inputs = keras.Input((6, 3))
    hidden = keras.layers.RNN(MinimalRNNCell(4), return_sequences=True, name="minimal")(inputs)
    outputs = keras.layers.Dense(1)(keras.layers.LSTM(2, name="known")(hidden))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="mse")
    x, y = _series(samples=16)
    with caplog.at_level(logging.WARNING, logger="lstm_experiments"):
        model.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[_logger(tmp_path)])
    lines = [r.getMessage() for r in caplog.records if "'minimal'" in r.getMessage()]
    assert lines == ["GateLogger: layer 'minimal' (RNN with cell MinimalRNNCell) is not logged: "
                     "GateLogger splits the gates of LSTM, GRU, SimpleRNN and ConvLSTM cells only"]
    written = _written_tags(tmp_path, findings=False)
    assert not any("/minimal/" in tag for tag in written)
    assert tags.gate_image("known", "kernel", "input") in written


# ---------------------------------------------------------------------------------------------- true pictures


def _padded_tokens(samples=12, steps=8, vocabulary=20, seed=0):
    """Token ids with zero padding: after the sequence (post), before it (pre) and none."""
    rng = np.random.default_rng(seed)
    tokens = rng.integers(1, vocabulary, size=(samples, steps))
    for row in range(samples):
        length = 3 + row % (steps - 3)
        if row % 2:
            tokens[row, length:] = 0  # post-padding
        else:
            tokens[row, : steps - length] = 0  # pre-padding
    return tokens.astype("int32")


def test_a_masked_replay_holds_the_state_through_masked_steps_as_keras_does(tmp_path):
    keras.utils.set_random_seed(4)
    inputs = keras.Input((8,), dtype="int32")
    embedded = keras.layers.Embedding(20, 3, mask_zero=True, name="embed")(inputs)
    sequence = keras.layers.LSTM(4, return_sequences=True, name="enc")(embedded)
    last = keras.layers.GRU(3, name="top")(sequence)
    outputs = keras.layers.Dense(1)(last)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="mse")
    x = _padded_tokens()
    y = np.random.default_rng(1).normal(size=(len(x), 1)).astype("float32")
    probe = (x[:6], y[:6])
    # As many names as the Embedding has dimensions: they name the model's input, not the vectors.
    model.fit(x, y, epochs=1, batch_size=4, verbose=0, callbacks=[_logger(
        tmp_path, visualizers=("activations", "gradients"), probe=probe, feature_names=("a", "b", "c"))])
    from test_board_data import contents

    assert contents(tmp_path)[metadata.input_tag("enc")]["names"] == []

    mask = probe[0] != 0
    snapshot = take_snapshot(model, 1, probe[0], probe[1], with_gradients=True)
    activity = _activity(snapshot)
    want_sequence, want_last = (np.asarray(v) for v in keras.Model(inputs, [sequence, last])(probe[0]))
    np.testing.assert_array_equal(activity["enc"].mask, mask)
    # Keras' LSTM outputs the held state at a masked step (zero_output_for_mask is False).
    np.testing.assert_allclose(activity["enc"].hidden, want_sequence, atol=STATE_ATOL)
    np.testing.assert_allclose(activity["top"].hidden[:, -1], want_last, atol=STATE_ATOL)
    # The layer reads the Embedding's vectors, not the token ids.
    embedding = np.asarray(model.get_layer("embed").embeddings)
    np.testing.assert_allclose(activity["enc"].inputs, embedding[probe[0]], atol=1e-7)

    # Read back with TensorBoard's reader: the GATES tensors are NaN at masked steps.
    events = read_tensors(tmp_path)
    hidden_panel = events[metadata.activations_tag("enc")][-1][1][-1]  # panels, then (sequences, time, units)
    shown = mask[: hidden_panel.shape[0]]
    assert np.isnan(hidden_panel[~shown]).all() and not np.isnan(hidden_panel[shown]).any()
    np.testing.assert_allclose(hidden_panel[shown], want_sequence[: len(shown)][shown], atol=2e-3)
    read_input = events[metadata.input_tag("enc")][-1][1]
    np.testing.assert_allclose(read_input[shown], embedding[probe[0][: len(shown)]][shown], atol=2e-3)

    # The gradients of the compiled pass equal GradientTape's on the same batch.
    with tf.GradientTape() as tape:
        loss = keras.losses.MeanSquaredError()(probe[1], model(probe[0], training=False))
    cell = model.get_layer("enc").cell
    kernel, recurrent = tape.gradient(loss, [cell.kernel, cell.recurrent_kernel])
    np.testing.assert_allclose(snapshot.gradients["enc"]["kernel"], kernel, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(snapshot.gradients["enc"]["recurrent_kernel"], recurrent, rtol=1e-4, atol=1e-7)


def test_a_masking_layer_leaves_zero_steps_out_of_the_replay():
    keras.utils.set_random_seed(6)
    inputs = keras.Input((7, 2))
    masked = keras.layers.Masking(mask_value=0.0)(inputs)
    sequence = keras.layers.GRU(3, return_sequences=True, name="gru")(masked)
    model = keras.Model(inputs, keras.layers.Dense(1)(sequence))
    x = np.random.default_rng(2).normal(size=(5, 7, 2)).astype("float32")
    x[:, 1] = 0.0  # every sequence skips step 1
    x[2, 4:] = 0.0
    activity = _activity(take_snapshot(model, 0, x))["gru"]
    np.testing.assert_array_equal(activity.mask, np.abs(x).sum(-1) != 0)
    np.testing.assert_allclose(activity.hidden, np.asarray(keras.Model(inputs, sequence)(x)), atol=STATE_ATOL)


def test_a_decoder_is_replayed_from_the_encoder_states_it_is_given(tmp_path):
    """The character-level seq2seq of the Keras examples: two inputs, initial_state=encoder_states."""
    keras.utils.set_random_seed(7)
    encoder_inputs = keras.Input((None, 5))
    _, state_h, state_c = keras.layers.LSTM(4, return_state=True, name="encoder")(encoder_inputs)
    decoder_inputs = keras.Input((None, 6))
    decoded = keras.layers.LSTM(4, return_sequences=True, name="decoder")(decoder_inputs,
                                                                         initial_state=[state_h, state_c])
    outputs = keras.layers.Dense(6, activation="softmax")(decoded)
    model = keras.Model([encoder_inputs, decoder_inputs], outputs)
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy")
    rng = np.random.default_rng(3)
    encoder_x = rng.normal(size=(16, 7, 5)).astype("float32")
    decoder_x = np.eye(6, dtype="float32")[rng.integers(0, 6, size=(16, 5))]
    target = np.roll(decoder_x, -1, axis=1)
    probe = ([encoder_x[:4], decoder_x[:4]], target[:4])
    model.fit([encoder_x, decoder_x], target, epochs=2, batch_size=8, verbose=0,
              callbacks=[_logger(tmp_path, visualizers="all", probe=probe)])
    events = read_tensors(tmp_path)
    assert _steps(events, tags.activation_image("decoder", "forget")) == [0, 1, 2]
    assert metadata.probe_tag() not in events  # several inputs: no single model input to show
    assert _steps(events, metadata.input_tag("decoder")) == [0, 1, 2]

    snapshot = take_snapshot(model, 2, *probe, with_gradients=True)
    activity = _activity(snapshot)
    want_decoded, want_h, want_c = (np.asarray(v) for v in keras.Model(model.inputs, [decoded, state_h, state_c])(
        probe[0]))
    start_h, start_c = snapshot.probes["decoder"].initial_state
    np.testing.assert_allclose(start_h, want_h, atol=1e-6)
    np.testing.assert_allclose(start_c, want_c, atol=1e-6)
    np.testing.assert_allclose(activity["decoder"].hidden, want_decoded, atol=STATE_ATOL)
    np.testing.assert_allclose(activity["encoder"].hidden[:, -1], want_h, atol=STATE_ATOL)
    # The decoder's loss reaches the encoder through its states: GradientTape agrees.
    with tf.GradientTape(persistent=True) as tape:
        loss = keras.losses.CategoricalCrossentropy()(probe[1], model(probe[0], training=False))
    for name in ("encoder", "decoder"):
        cell = model.get_layer(name).cell
        kernel = tape.gradient(loss, cell.kernel)
        np.testing.assert_allclose(snapshot.gradients[name]["kernel"], kernel, rtol=1e-4, atol=1e-7)


class CarriedStates(keras.callbacks.Callback):
    """Records a stateful layer's carried state at every epoch end (where it sits among the callbacks)."""

    def __init__(self, layer):
        super().__init__()
        self.layer = layer
        self.seen = []

    def on_epoch_end(self, epoch, logs=None):
        self.seen.append([np.array(state) for state in self.layer.states])


def test_a_stateful_layer_is_replayed_from_its_carried_state_and_the_probe_never_changes_it(tmp_path):
    keras.utils.set_random_seed(8)
    batch = 4
    layer = keras.layers.LSTM(3, stateful=True, return_sequences=True, name="stateful")
    model = keras.Sequential([keras.Input(batch_shape=(batch, 6, 2)), layer, keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(4)
    x = rng.normal(size=(16, 6, 2)).astype("float32")
    y = rng.normal(size=(16, 6, 1)).astype("float32")
    before, after = CarriedStates(layer), CarriedStates(layer)
    model.fit(x, y, epochs=2, batch_size=batch, shuffle=False, verbose=0, callbacks=[
        before, _logger(tmp_path, visualizers=("activations", "gradients"), probe=(x[:batch], y[:batch])), after])
    assert len(before.seen) == len(after.seen) == 2
    for carried_before, carried_after in zip(before.seen, after.seen):
        for one, other in zip(carried_before, carried_after):
            np.testing.assert_array_equal(one, other)
            assert np.abs(one).max() > 0.01  # a state worth carrying

    carried = [np.array(state) for state in layer.states]
    snapshot = take_snapshot(model, 2, x[:batch])
    for state, value in zip(layer.states, carried):
        np.testing.assert_array_equal(np.array(state), value)
    twin = keras.layers.LSTM(3, return_sequences=True)
    twin.build((batch, 6, 2))
    twin.set_weights(layer.get_weights())
    want = np.asarray(twin(x[:batch], initial_state=[keras.ops.convert_to_tensor(v) for v in carried]))
    np.testing.assert_allclose(_activity(snapshot)["stateful"].hidden, want, atol=STATE_ATOL)


def test_conv_lstm_images_show_each_filters_spatial_pattern(tmp_path, caplog):
    keras.utils.set_random_seed(9)
    inputs = keras.Input((3, 6, 6, 2))
    hidden = keras.layers.ConvLSTM2D(3, (3, 3), padding="same", name="conv")(inputs)
    outputs = keras.layers.Dense(1)(keras.layers.GlobalAveragePooling2D()(hidden))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(5)
    x = rng.normal(size=(8, 3, 6, 6, 2)).astype("float32")
    y = rng.normal(size=(8, 1)).astype("float32")
    with caplog.at_level(logging.WARNING, logger="lstm_experiments"):
        model.fit(x, y, epochs=1, batch_size=4, verbose=0,
                  callbacks=[_logger(tmp_path, visualizers="all", probe=(x[:2], y[:2]))])
    said = [r.getMessage() for r in caplog.records if "'conv'" in r.getMessage()]
    assert said == [
        "GateLogger: activations are not drawn for layer 'conv' (ConvLSTM2D): the gate replay covers LSTM, "
        "GRU and SimpleRNN cells, not convolutions",
        "GateLogger: stats has no spectral_norm for layer 'conv' (ConvLSTM2D): its recurrent kernel is a "
        "convolution, not a matrix"]
    matrices = ("kernel", "recurrent_kernel", "bias")
    wanted = {tags.metric("loss"), tags.CUSTOM_SCALARS_LAYOUT}
    for visualizer in ("kernel", "gates", "bias", "histograms", "stats", "delta", "gradients"):
        wanted |= tags.layer_tags(visualizer, "conv", LSTM_GATES, matrices, spectral_norm=False)
    assert _written_tags(tmp_path) == wanted

    events = read_tensors(tmp_path)
    cell = model.get_layer("conv").cell
    for matrix, variable in (("kernel", cell.kernel), ("recurrent_kernel", cell.recurrent_kernel)):
        weights = np.array(variable)  # (3, 3, channels, 4 * filters)
        channels, filters = weights.shape[2], 3
        scale = float(events[tags.scale("conv", matrix)][-1][1])
        for g, gate in enumerate(LSTM_GATES):
            pixels = decode_image(events[tags.gate_image("conv", matrix, gate)][-1][1])
            rows, cols = channels * 3, filters * 3
            fr, fc = pixels.shape[0] // rows, pixels.shape[1] // cols
            decoded = decode_bwr(pixels[fr // 2::fr, fc // 2::fc], scale)
            for c in range(channels):
                for f in range(filters):  # the tile of channel c, filter f: that filter's 3 x 3 pattern
                    tile = decoded[3 * c:3 * c + 3, 3 * f:3 * f + 3]
                    expected = np.clip(weights[:, :, c, g * filters + f], -scale, scale)
                    np.testing.assert_allclose(tile, expected, atol=scale / 127)
    with tf.GradientTape() as tape:
        loss = keras.losses.MeanSquaredError()(y[:2], model(x[:2], training=False))
    gradient = np.array(tape.gradient(loss, cell.kernel))
    norm = float(events[tags.gradient_norm("conv", "kernel", "forget")][-1][1])
    assert norm == pytest.approx(np.linalg.norm(gradient[..., filters:2 * filters]), rel=1e-4)


def test_simple_rnn_is_one_gate_and_its_replay_matches_keras(tmp_path):
    keras.utils.set_random_seed(10)
    inputs = keras.Input((6, 3))
    sequence = keras.layers.SimpleRNN(4, return_sequences=True, name="simple", go_backwards=True)(inputs)
    model = keras.Model(inputs, keras.layers.Dense(1)(keras.layers.Flatten()(sequence)))
    model.compile(optimizer="adam", loss="mse")
    x, _ = _series(samples=16)
    y = x[:, :, :1].sum(axis=1)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0,
              callbacks=[_logger(tmp_path, visualizers="all", probe=(x[:4], y[:4]))])
    wanted = {tags.metric("loss"), tags.CUSTOM_SCALARS_LAYOUT}
    for visualizer in ("kernel", "gates", "bias", "histograms", "stats", "delta", "activations", "gradients"):
        wanted |= tags.layer_tags(visualizer, "simple", ("state",), ("kernel", "recurrent_kernel", "bias"))
    assert _written_tags(tmp_path) == wanted
    activity = _activity(take_snapshot(model, 1, x[:4]))["simple"]
    # go_backwards: Keras returns the outputs in processing order; the replay, in the input's.
    np.testing.assert_allclose(activity.hidden[:, ::-1], np.asarray(keras.Model(inputs, sequence)(x[:4])),
                               atol=STATE_ATOL)


# ---------------------------------------------------------------------------------------------- steps


def _small_model(seed=11):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((6, 3)), keras.layers.LSTM(4, name="lstm"), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def test_fit_called_in_a_loop_counts_steps_on(tmp_path):
    """The text generator's loop: fit(epochs=1) again and again with one GateLogger."""
    x, y = _series(samples=16)
    model = _small_model()
    logger = _logger(tmp_path, visualizers=("gates", "stats"))
    weights = []
    for _ in range(3):
        model.fit(x, y, epochs=1, batch_size=8, verbose=0, callbacks=[logger])
        weights.append(np.array(model.get_layer("lstm").cell.kernel))
    events = read_tensors(tmp_path)
    assert _steps(events, tags.gate_image("lstm", "kernel", "input")) == [0, 1, 2, 3]
    assert _steps(events, tags.metric("loss")) == [1, 2, 3]
    # Each step is a different state, the one that fit left.
    scale = float(events[tags.scale("lstm", "kernel")][0][1])
    for step, kernel in zip((1, 2, 3), weights):
        pixels = decode_image(events[tags.gate_image("lstm", "kernel", "input")][step][1])
        fr, fc = pixels.shape[0] // 3, pixels.shape[1] // 4
        np.testing.assert_allclose(decode_bwr(pixels[fr // 2::fr, fc // 2::fc], scale),
                                   np.clip(kernel[:, :4], -scale, scale), atol=scale / 127)


def test_a_second_logger_on_the_same_directory_and_initial_epoch_continue_the_count(tmp_path):
    x, y = _series(samples=16)
    model = _small_model()
    initial = np.array(model.get_layer("lstm").cell.kernel)
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[_logger(tmp_path, visualizers=("gates", "stats"))])
    # A new logger on the same directory: steps go on after the largest there, change from the same W_0.
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[_logger(tmp_path, visualizers=("gates", "stats"))])
    now = np.array(model.get_layer("lstm").cell.kernel)
    events = read_tensors(tmp_path)
    assert _steps(events, tags.gate_image("lstm", "kernel", "input")) == [0, 1, 2, 3, 4]
    assert _steps(events, tags.metric("loss")) == [1, 2, 3, 4]
    change = float(events[tags.statistic("lstm", "kernel", "input", "change")][-1][1])
    assert change == pytest.approx(np.linalg.norm(now[:, :4] - initial[:, :4]) / np.linalg.norm(initial[:, :4]),
                                   rel=1e-5)

    # initial_epoch in a fresh directory: the first step is the weights before that epoch.
    other = tmp_path / "from_epoch_3"
    model.fit(x, y, epochs=5, initial_epoch=3, batch_size=8, verbose=0,
              callbacks=[_logger(other, visualizers=("gates",))])
    assert _steps(read_tensors(other), tags.gate_image("lstm", "kernel", "input")) == [3, 4, 5]


# ---------------------------------------------------------------------------------------------- what it says


class MakesItsLstmWhenBuilt(keras.layers.Layer):
    def build(self, input_shape):
        self.lstm = keras.layers.LSTM(3, name="late")

    def call(self, inputs):
        return self.lstm(inputs)


class LateModel(keras.Model):
    def __init__(self):
        super().__init__()
        self.body = MakesItsLstmWhenBuilt()
        self.head = keras.layers.Dense(1)

    def call(self, inputs):
        return self.head(self.body(inputs))


def _messages(caplog):
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("GateLogger")]


def test_what_the_logger_cannot_do_is_one_line_each(tmp_path, caplog):
    x, y = _series(samples=16)
    with caplog.at_level(logging.WARNING, logger="lstm_experiments"):
        # A layer that makes its LSTM only when Keras builds it, in the first batch.
        keras.utils.set_random_seed(12)
        model = LateModel()
        model.compile(optimizer="adam", loss="mse")
        model.fit(x, y, epochs=1, batch_size=8, verbose=0, callbacks=[_logger(tmp_path / "late")])
        assert _messages(caplog) == ["GateLogger: layer 'late' was made while the first batch ran: its step 0 "
                                     "shows its weights after that batch"]
        assert _steps(read_tensors(tmp_path / "late"), tags.gate_image("late", "kernel", "input")) == [0, 1]
        caplog.clear()

        # A stateful layer and a probe of another batch size.
        keras.utils.set_random_seed(13)
        model = keras.Sequential([keras.Input(batch_shape=(4, 6, 3)), keras.layers.LSTM(3, stateful=True, name="carried"),
                                  keras.layers.Dense(1)])
        model.compile(optimizer="adam", loss="mse")
        model.fit(x, y, epochs=1, batch_size=4, verbose=0, callbacks=[
            _logger(tmp_path / "stateful", visualizers=("gates", "activations"), probe=(x[:3], y[:3]))])
        assert _messages(caplog) == [
            "GateLogger: the probe cannot run through the model: layer 'carried' is stateful with batch size 4; "
            "the probe has 3 sequences (give it 4); activations and gradients are off"]
        caplog.clear()

        # No recurrent layer at all.
        model = keras.Sequential([keras.Input((6, 3)), keras.layers.Flatten(), keras.layers.Dense(1)], name="flat")
        model.compile(optimizer="adam", loss="mse")
        model.fit(x, y, epochs=1, batch_size=8, verbose=0, callbacks=[_logger(tmp_path / "flat")])
        assert _messages(caplog) == ["GateLogger: model 'flat' has no recurrent layer; nothing is drawn"]
