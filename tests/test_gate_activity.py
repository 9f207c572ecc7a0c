"""The numpy replay of the gates (gate_activity) against Keras' own layer outputs, on random weights."""

import keras
import numpy as np
import pytest
from omegaconf import OmegaConf

from lstm_experiments.data.dataset import REGRESSION
from lstm_experiments.gates.activity import final_outputs, stack_activity
from lstm_experiments.gates.layout import CANDIDATE_GATE, GATE_NAMES
from lstm_experiments.model import build_model
from lstm_experiments.config.schema import ModelConfig
from lstm_experiments.capture.model_capture import take_snapshot

ATOL = 1e-5
BATCH, SEQ_LEN, FEATURES, UNITS = 5, 6, 3, 4


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def model_config(**fields):
    cfg = OmegaConf.structured(ModelConfig)
    for key, value in fields.items():
        setattr(cfg, key, value)
    return cfg


def random_model(seed=0, units=UNITS, features=FEATURES, **fields):
    """A model whose every weight (biases included) is N(0, 0.5²), so no gate sits at 0.5."""
    keras.utils.set_random_seed(seed)
    model = build_model(model_config(**fields), units, (SEQ_LEN, features), REGRESSION)
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(scale=0.5, size=w.shape).astype(np.float32) for w in model.get_weights()])
    return model


def probe(seed=1, batch=BATCH, features=FEATURES):
    return np.random.default_rng(seed).normal(size=(batch, SEQ_LEN, features)).astype(np.float32)


def recurrent_keras_layers(model):
    return [
        layer
        for layer in model.layers
        if isinstance(layer, (keras.layers.LSTM, keras.layers.GRU, keras.layers.Bidirectional))
    ]


def keras_outputs(model, x):
    """What each recurrent layer (or Bidirectional wrapper) returns, from Keras itself."""
    layers = recurrent_keras_layers(model)
    outputs = keras.Model(model.input, [layer.output for layer in layers])(x)
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    return [(layer, np.asarray(out)) for layer, out in zip(layers, outputs)]


def recomputed_by_keras_layer(model, final):
    """Recomputed output per Keras layer; a Bidirectional one is forward then backward, concatenated."""
    out = []
    for layer in recurrent_keras_layers(model):
        if isinstance(layer, keras.layers.Bidirectional):
            value = np.concatenate([final[layer.forward_layer.name], final[layer.backward_layer.name]], axis=-1)
        else:
            value = final[layer.name]
        out.append(value)
    return out


CASES = {
    "lstm-1": dict(cell="lstm", layers=1),
    "lstm-3-stacked": dict(cell="lstm", layers=3),
    "lstm-bidirectional-1": dict(cell="lstm", layers=1, bidirectional=True),
    "lstm-bidirectional-2": dict(cell="lstm", layers=2, bidirectional=True),
    "lstm-no-bias": dict(cell="lstm", layers=1, use_bias=False),
    "gru-reset-after": dict(cell="gru", layers=1, reset_after=True),
    "gru-reset-before": dict(cell="gru", layers=1, reset_after=False),
    "gru-2-bidirectional": dict(cell="gru", layers=2, bidirectional=True),
    "gru-2-bidirectional-reset-before": dict(cell="gru", layers=2, bidirectional=True, reset_after=False),
    "gru-no-bias": dict(cell="gru", layers=2, use_bias=False),
    # Options people set on a layer: the replay uses the layer's recurrent_activation, and dropout
    # (training only) leaves the inference the probe sees as it is.
    "lstm-hard-sigmoid-dropout": dict(cell="lstm", layers=2, recurrent_activation="hard_sigmoid",
                                      dropout=0.3, recurrent_dropout=0.2, unit_forget_bias=False),
    "gru-hard-sigmoid-dropout": dict(cell="gru", layers=1, recurrent_activation="hard_sigmoid", dropout=0.2,
                                   recurrent_dropout=0.1),
}


@pytest.fixture(scope="module", params=list(CASES), ids=list(CASES))
def case(request):
    fields = CASES[request.param]
    model = random_model(**fields)
    x = probe()
    snapshot = take_snapshot(model, step=0, probe_x=x)
    activity = stack_activity(snapshot.layers, x)
    return fields, model, x, snapshot, activity


def test_outputs_match_keras(case):
    fields, model, x, snapshot, activity = case
    final = final_outputs(snapshot.layers, activity)
    expected = keras_outputs(model, x)
    recomputed = recomputed_by_keras_layer(model, final)
    assert len(expected) == fields["layers"]
    for (layer, want), got in zip(expected, recomputed):
        assert got.shape == want.shape, layer.name
        np.testing.assert_allclose(got, want, atol=ATOL, rtol=0, err_msg=layer.name)
        # A meaningful comparison: the outputs are far from zero.
        assert np.abs(want).max() > 0.1, layer.name


def test_one_activity_per_layer_and_direction(case):
    fields, model, x, snapshot, activity = case
    directions = 2 if fields.get("bidirectional") else 1
    assert len(activity) == len(snapshot.layers) == fields["layers"] * directions
    assert [a.layer for a in activity] == [w.layer for w in snapshot.layers]
    if fields.get("use_bias", True) is False:
        assert all("bias" not in w.matrices for w in snapshot.layers)
    if fields["cell"] == "gru":
        assert all(w.reset_after == fields.get("reset_after", True) for w in snapshot.layers)


def test_gate_shapes_and_ranges(case):
    fields, model, x, snapshot, activity = case
    cell = fields["cell"]
    for a in activity:
        assert set(a.gates) == set(GATE_NAMES[cell])
        assert a.hidden.shape == (BATCH, SEQ_LEN, UNITS)
        for name, values in a.gates.items():
            assert values.shape == (BATCH, SEQ_LEN, UNITS), (a.layer, name)
            assert np.all(np.isfinite(values))
            if name == CANDIDATE_GATE[cell]:
                assert values.min() >= -1.0 and values.max() <= 1.0
            else:
                assert values.min() >= 0.0 and values.max() <= 1.0
                # Random biases move the gates away from a flat 0.5.
                assert np.abs(values - 0.5).max() > 0.05, (a.layer, name)


def test_intermediate_layer_whole_sequence_matches_keras():
    model = random_model(cell="lstm", layers=3)
    x = probe()
    snapshot = take_snapshot(model, step=0, probe_x=x)
    assert [w.returns_sequences for w in snapshot.layers] == [True, True, False]
    activity = stack_activity(snapshot.layers, x)
    expected = keras_outputs(model, x)
    for (layer, want), a in zip(expected[:2], activity[:2]):
        assert want.shape == (BATCH, SEQ_LEN, UNITS)
        np.testing.assert_allclose(a.hidden, want, atol=ATOL, rtol=0, err_msg=layer.name)
    # The last layer returns only its last step, which is the last step of its hidden sequence.
    np.testing.assert_allclose(activity[2].hidden[:, -1], expected[2][1], atol=ATOL, rtol=0)


def test_bidirectional_intermediate_sequence_is_in_input_time_order():
    model = random_model(cell="gru", layers=2, bidirectional=True)
    x = probe()
    snapshot = take_snapshot(model, step=0, probe_x=x)
    activity = stack_activity(snapshot.layers, x)
    (layer, want), _ = keras_outputs(model, x)
    assert want.shape == (BATCH, SEQ_LEN, 2 * UNITS)
    forward, backward = activity[0], activity[1]
    assert backward.layer.startswith("backward_")
    np.testing.assert_allclose(forward.hidden, want[..., :UNITS], atol=ATOL, rtol=0)
    np.testing.assert_allclose(backward.hidden, want[..., UNITS:], atol=ATOL, rtol=0)
    # The top layer returns a single step: the forward half's last, the backward half's first.
    top = final_outputs(snapshot.layers, activity)
    np.testing.assert_allclose(top[snapshot.layers[3].layer], activity[3].hidden[:, 0])
    np.testing.assert_allclose(top[snapshot.layers[2].layer], activity[2].hidden[:, -1])


def test_lstm_gates_at_first_step_by_hand():
    """With h0 = c0 = 0, every LSTM gate at t=0 is its activation of x0 W + b alone."""
    model = random_model(cell="lstm", layers=1)
    x = probe()
    snapshot = take_snapshot(model, step=0, probe_x=x)
    (a,) = stack_activity(snapshot.layers, x)
    cell = model.get_layer("lstm").cell
    kernel, bias = np.asarray(cell.kernel), np.asarray(cell.bias)
    x0 = x[:, 0].astype(np.float64)
    u = UNITS
    pre = {name: x0 @ kernel[:, k * u:(k + 1) * u] + bias[k * u:(k + 1) * u]
           for k, name in enumerate(("input", "forget", "cell", "output"))}
    i, f, g, o = _sigmoid(pre["input"]), _sigmoid(pre["forget"]), np.tanh(pre["cell"]), _sigmoid(pre["output"])
    np.testing.assert_allclose(a.gates["input"][:, 0], i, atol=ATOL, rtol=0)
    np.testing.assert_allclose(a.gates["forget"][:, 0], f, atol=ATOL, rtol=0)
    np.testing.assert_allclose(a.gates["cell"][:, 0], g, atol=ATOL, rtol=0)
    np.testing.assert_allclose(a.gates["output"][:, 0], o, atol=ATOL, rtol=0)
    # c1 = i g (c0 = 0), h1 = o tanh(c1).
    np.testing.assert_allclose(a.hidden[:, 0], o * np.tanh(i * g), atol=ATOL, rtol=0)


def test_gru_gates_at_first_step_by_hand():
    """With h0 = 0 and reset_after, z and r at t=0 are σ(x0 W + b + b'), h1 = (1 - z) h~."""
    model = random_model(cell="gru", layers=1, reset_after=True)
    x = probe()
    snapshot = take_snapshot(model, step=0, probe_x=x)
    (a,) = stack_activity(snapshot.layers, x)
    cell = model.get_layer("gru").cell
    kernel, bias = np.asarray(cell.kernel), np.asarray(cell.bias)
    assert bias.shape == (2, 3 * UNITS)
    x0 = x[:, 0].astype(np.float64)
    u = UNITS
    pre = x0 @ kernel + bias[0]
    z = _sigmoid(pre[:, :u] + bias[1, :u])
    r = _sigmoid(pre[:, u:2 * u] + bias[1, u:2 * u])
    candidate = np.tanh(pre[:, 2 * u:] + r * bias[1, 2 * u:])
    np.testing.assert_allclose(a.gates["update"][:, 0], z, atol=ATOL, rtol=0)
    np.testing.assert_allclose(a.gates["reset"][:, 0], r, atol=ATOL, rtol=0)
    np.testing.assert_allclose(a.gates["candidate"][:, 0], candidate, atol=ATOL, rtol=0)
    np.testing.assert_allclose(a.hidden[:, 0], (1 - z) * candidate, atol=ATOL, rtol=0)


def test_unknown_activation_is_refused():
    from dataclasses import replace

    model = random_model(cell="lstm", layers=1)
    x = probe()
    (weights,) = take_snapshot(model, step=0, probe_x=x).layers
    with pytest.raises(ValueError, match="activation"):
        stack_activity([replace(weights, activation="selu")], x)


def test_model_options_reach_the_keras_layers():
    """model.dropout, recurrent_dropout, unit_forget_bias and recurrent_activation as Keras sees them."""
    fields = dict(cell="lstm", layers=1, dropout=0.25, recurrent_dropout=0.1, unit_forget_bias=False,
                  recurrent_activation="hard_sigmoid")
    keras.utils.set_random_seed(0)
    model = build_model(model_config(**fields), UNITS, (SEQ_LEN, FEATURES), REGRESSION)
    config = model.get_layer("lstm").get_config()
    assert (config["dropout"], config["recurrent_dropout"], config["unit_forget_bias"],
            config["recurrent_activation"]) == (0.25, 0.1, False, "hard_sigmoid")
    forget = model.get_layer("lstm").cell.bias.numpy()[UNITS:2 * UNITS]
    assert not forget.any()  # no forget bias of 1 at the start
    default = build_model(model_config(cell="lstm", layers=1), UNITS, (SEQ_LEN, FEATURES), REGRESSION)
    assert (default.get_layer("lstm").cell.bias.numpy()[UNITS:2 * UNITS] == 1).all()
