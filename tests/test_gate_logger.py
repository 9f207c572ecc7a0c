"""``GateLogger`` in someone else's Keras code, read back with TensorBoard's own reader.

The models here are not the runner's: a functional model with a Bidirectional
LSTM and a nested Sequential holding a GRU, and a subclassed one. The tags
must be exactly the ones ``tensorboard/tags.py`` names for every recurrent
layer, and the gate images must decode to the trained model's weights.
"""

import numpy as np
import pytest

from lstm_experiments.tensorboard import tags
from conftest import decode_bwr, decode_image, plugin_of, read_tensors

LSTM_GATES = ("input", "forget", "cell", "output")
GRU_GATES = ("update", "reset", "candidate")
ALL_VISUALIZERS = ("kernel", "gates", "bias", "histograms", "stats", "delta", "activations", "gradients")
SEQ_LEN, FEATURES, SAMPLES, EPOCHS = 6, 3, 40, 2


def _data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(SAMPLES, SEQ_LEN, FEATURES)).astype("float32")
    y = x[:, -1, :1] * 0.5
    return x, y


def _functional_model():
    import keras

    keras.utils.set_random_seed(1)
    inputs = keras.Input((SEQ_LEN, FEATURES))
    x = keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=True, name="enc"), name="bi")(inputs)
    inner = keras.Sequential([keras.layers.GRU(5, name="dec")], name="inner")
    outputs = keras.layers.Dense(1, name="out")(inner(x))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="mse")
    return model


@pytest.fixture(scope="module")
def functional_run(tmp_path_factory):
    """A functional model trained with ``GateLogger(visualizers="all")``: (log dir, model, x)."""
    from lstm_experiments import GateLogger

    log_dir = tmp_path_factory.mktemp("gate_logger") / "logs"
    x, y = _data()
    model = _functional_model()
    model.fit(x, y, epochs=EPOCHS, batch_size=16, verbose=0,
              callbacks=[GateLogger(log_dir, visualizers="all", probe=(x[:8], y[:8]))])
    return log_dir, model, x


def _expected_tags(layers, visualizers=ALL_VISUALIZERS, metrics=("loss",), through_time=()):
    """With a probe, findings are on: their counts, and the gradient's decay of ``through_time`` layers."""
    expected = {tags.metric(name) for name in metrics} | ({tags.CUSTOM_SCALARS_LAYOUT} if visualizers else set())
    expected |= tags.findings_tags(through_time)
    for name, gates, matrices in layers:
        for visualizer in visualizers:
            expected |= tags.layer_tags(visualizer, name, gates, matrices)
    return expected


FUNCTIONAL_LAYERS = [
    ("forward_enc", LSTM_GATES, ("kernel", "recurrent_kernel", "bias")),
    ("backward_enc", LSTM_GATES, ("kernel", "recurrent_kernel", "bias")),
    ("dec", GRU_GATES, ("kernel", "recurrent_kernel", "bias", "recurrent_bias")),
]


def test_exact_tags_of_every_recurrent_layer(functional_run):
    log_dir, _, _ = functional_run
    written = {tag for tag, plugin in plugin_of(log_dir).items() if plugin not in ("lstm_gates", "text")}
    # Not a plain stack (a nested Sequential): the gradient through time from the probe pass' output gradients.
    through_time = [("forward_enc", ("h", "c")), ("backward_enc", ("h", "c")), ("dec", ("h",))]
    assert written == _expected_tags(FUNCTIONAL_LAYERS, through_time=through_time)


def test_every_epoch_and_step_zero_are_logged(functional_run):
    log_dir, _, _ = functional_run
    events = read_tensors(log_dir)
    assert [step for step, _ in events[tags.gate_image("dec", "kernel", "update")]] == list(range(EPOCHS + 1))
    assert [step for step, _ in events[tags.metric("loss")]] == list(range(1, EPOCHS + 1))


def _layer(model, name):
    for layer in model.layers:
        if layer.name == "bi":
            halves = {layer.forward_layer.name: layer.forward_layer, layer.backward_layer.name: layer.backward_layer}
            if name in halves:
                return halves[name]
        if layer.name == "inner" and name == "dec":
            return layer.layers[0]
    raise KeyError(name)


@pytest.mark.parametrize("layer_name, gates", [(n, g) for n, g, _ in FUNCTIONAL_LAYERS])
def test_gate_images_decode_to_the_trained_weights(functional_run, layer_name, gates):
    log_dir, model, _ = functional_run
    events = read_tensors(log_dir)
    cell = _layer(model, layer_name).cell
    units = cell.units
    for matrix, variable in (("kernel", cell.kernel), ("recurrent_kernel", cell.recurrent_kernel)):
        weights = np.array(variable)
        scale_events = events[tags.scale(layer_name, matrix)]
        scale = float(scale_events[-1][1])
        for k, gate in enumerate(gates):
            step, value = events[tags.gate_image(layer_name, matrix, gate)][-1]
            assert step == EPOCHS
            pixels = decode_image(value)
            rows, cols = weights.shape[0], units
            # Nearest-neighbour upscaling: take one pixel per weight.
            fr, fc = pixels.shape[0] // rows, pixels.shape[1] // cols
            decoded = decode_bwr(pixels[fr // 2::fr, fc // 2::fc], scale)
            # The scale is fixed from the initial weights: beyond it, colours saturate.
            expected = np.clip(weights[:, k * units:(k + 1) * units], -scale, scale)
            np.testing.assert_allclose(decoded, expected, atol=scale / 127)


def test_plugins_are_tensorboards_own(functional_run):
    log_dir, _, _ = functional_run
    plugins = plugin_of(log_dir)
    assert plugins[tags.gate_image("dec", "kernel", "reset")] == "images"
    assert plugins[tags.histogram("forward_enc", "bias", "forget")] == "histograms"
    assert plugins[tags.statistic("dec", "recurrent_kernel", "update", "spectral_norm")] == "scalars"


def test_activations_of_a_model_that_is_not_a_plain_stack_match_keras(functional_run):
    """The replay starts from each layer's recorded input; its hidden states equal Keras' outputs."""
    import keras

    from lstm_experiments.capture.model_capture import take_snapshot
    from lstm_experiments.capture.snapshot import is_plain_stack

    _, model, x = functional_run
    assert not is_plain_stack(model)
    probe = x[:8]
    snapshot = take_snapshot(model, 1, probe)
    by_layer = {activity.layer: activity for activity in snapshot.probe_activity}
    bi = model.get_layer("bi")
    both = np.array(keras.Model(model.inputs, bi.output)([probe]))
    np.testing.assert_allclose(by_layer["forward_enc"].hidden, both[..., :4], atol=1e-5)
    np.testing.assert_allclose(by_layer["backward_enc"].hidden, both[..., 4:], atol=1e-5)
    gru_out = np.array(model.get_layer("inner")(both))
    np.testing.assert_allclose(by_layer["dec"].hidden[:, -1], gru_out, atol=1e-5)


def test_tape_gradients_equal_the_numpy_backpropagation_on_a_plain_stack():
    """The two gradient paths (the compiled probe pass for any model, numpy for the runner's) agree."""
    from omegaconf import OmegaConf

    from lstm_experiments.capture.layers import find_recurrent_layers
    from lstm_experiments.capture.probe_pass import ProbePass
    from lstm_experiments.capture.model_capture import take_snapshot
    from lstm_experiments.gates.gradients import gate_gradients
    from lstm_experiments.model import build_model, compile_model

    import keras

    keras.utils.set_random_seed(3)
    model = build_model(OmegaConf.create({"cell": "gru", "layers": 2, "bidirectional": True, "use_bias": True,
                                          "reset_after": True}), 4, (SEQ_LEN, FEATURES), "regression")
    compile_model(model, OmegaConf.create({"optimizer": "adam", "learning_rate": 1e-3}), "regression")
    x, y = _data(1)
    snapshot = take_snapshot(model, 0, x[:8], y[:8], with_gradients=True, plain=True)
    numpy_grads = gate_gradients(snapshot.layers, snapshot.head, x[:8], y[:8])
    _, tape = ProbePass(model, find_recurrent_layers(model).layers, x[:8], y[:8], with_gradients=True).run()
    assert set(tape) == set(numpy_grads)
    for layer, matrices in numpy_grads.items():
        assert set(tape[layer]) == set(matrices)
        for matrix, gradient in matrices.items():
            np.testing.assert_allclose(tape[layer][matrix], gradient, rtol=1e-3, atol=1e-6)


def test_subclassed_model_inline_and_log_every(tmp_path):
    import keras

    from lstm_experiments import GateLogger

    class Forecaster(keras.Model):
        def __init__(self):
            super().__init__()
            self.recurrent = keras.layers.LSTM(4, name="memory")
            self.head = keras.layers.Dense(1)

        def call(self, inputs):
            return self.head(self.recurrent(inputs))

    keras.utils.set_random_seed(2)
    x, y = _data(2)
    model = Forecaster()
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=3, batch_size=16, verbose=0, validation_data=(x[:8], y[:8]),
              callbacks=[GateLogger(tmp_path, visualizers=("gates", "activations"), log_every=2,
                                    probe=(x[:4], y[:4]), background=False)])
    events = read_tensors(tmp_path)
    layers = [("memory", LSTM_GATES, ("kernel", "recurrent_kernel", "bias"))]
    written = {tag for tag, plugin in plugin_of(tmp_path).items() if plugin not in ("lstm_gates", "text")}
    assert written == _expected_tags(layers, ("gates", "activations"), ("loss", "val_loss"),
                                     through_time=[("memory", ("h", "c"))])
    # Step 0, every 2nd epoch, and the last one.
    assert [s for s, _ in events[tags.gate_image("memory", "kernel", "input")]] == [0, 2, 3]


def test_bad_arguments_are_one_line_errors(tmp_path):
    from lstm_experiments import GateLogger

    with pytest.raises(ValueError, match=r"visualizers='gate' is not one of kernel, gates"):
        GateLogger(tmp_path, visualizers=("gate",))
    with pytest.raises(ValueError, match=r"log_every=0 \(must be an integer >= 1\)"):
        GateLogger(tmp_path, log_every=0)
    with pytest.raises(ValueError, match=r"image=\{'colour'"):
        GateLogger(tmp_path, image={"colour": "red"})
    with pytest.raises(ValueError, match=r"^worker=gpu \(must be one of process, thread\)$"):
        GateLogger(tmp_path, worker="gpu")
    with pytest.raises(ValueError, match=r"^image\['scale'\]=grey \(must be one of fixed, per_step, minmax\)$"):
        GateLogger(tmp_path, image={"scale": "grey"})


def test_a_run_writes_exactly_the_tags_the_vocabulary_names(run_tiny):
    """The runner's own run (viz=all, classification): its tag set equals tags.layer_tags' union."""
    run_dir, _ = run_tiny(["viz=all", "data=random", "data.features=2"])
    written = {tag for tag, plugin in plugin_of(run_dir / "tensorboard").items()
               if plugin not in ("hparams", "lstm_gates", "text")}
    layers = [("lstm", LSTM_GATES, ("kernel", "recurrent_kernel", "bias"))]
    # The runner also puts the learning rate into the epoch's logs (run/callbacks.py).
    assert written == _expected_tags(layers, metrics=(*tags.METRIC_NAMES, "learning_rate"),
                                     through_time=[("lstm", ("h", "c"))])
