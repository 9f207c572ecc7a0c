"""Per-unit figures (gates.units) against Keras' own LSTM and GRU layers.

The figures read gates.activity's numpy replay; the references here read Keras: its hidden
sequence (held through a masked step, which is how Keras outputs it) and the layer's weights,
from which the gates are recomputed in float64 as z = x W + h_{t-1} U + b, split in Keras'
gate order, independently of the replay. The LSTM has planted units: two whose output gate is
shut (dead, h ≈ 0) and two that copy another unit's columns in every gate block (redundant).
"""

import keras
import numpy as np
import pytest

from lstm_experiments.capture.model_capture import take_snapshot
from lstm_experiments.gates.activity import stack_activity
from lstm_experiments.gates.units import (
    UNIT_ORDERS,
    dead_units,
    redundant_count,
    redundant_units,
    unit_order,
    unit_saturation,
)

BATCH, STEPS, FEATURES = 4, 7, 3
LSTM_UNITS, GRU_UNITS = 8, 5
# Output gate shut (bias -12, no kernel or recurrent weight): |h| < 1e-5. Unit 4 also copies unit 1's
# columns, so the two dead units correlate perfectly: only the flat-unit rule keeps them unpaired.
DEAD = (1, 4)
# (source, copy): the copy's kernel, recurrent-kernel and bias columns equal the source's in every
# gate block, so its pre-activations, c and h equal the source's whatever the rows of U are.
COPIES = ((0, 6), (2, 5))
# Keras' gate order; the candidate (tanh) is the LSTM's third block, the GRU's third.
LSTM_GATES = ("input", "forget", "cell", "output")
GRU_GATES = ("update", "reset", "candidate")
TANH_GATES = {"cell", "candidate"}
# The defaults the figures are documented with.
LOW, HIGH, DEAD_BELOW, REDUNDANT_ABOVE, FLAT_STD = 0.1, 0.9, 0.01, 0.95, 1e-3
# Float32 replay against float64 reference: values this close to a threshold may fall either side.
BORDER = 1e-5
R_ATOL = 1e-4


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _masked_copy(x):
    """x with zero steps, which the Masking layer leaves out: a whole step, a tail and a first step."""
    x = x.copy()
    x[:, 2] = 0.0
    x[1, 5:] = 0.0
    x[3, 0] = 0.0
    return x


def _plant(kernel, recurrent, bias, units):
    """Copies, then the shut output gates, in place (LSTM weights)."""
    for source, copy in COPIES + (DEAD,):
        for k in range(4):
            kernel[:, k * units + copy] = kernel[:, k * units + source]
            recurrent[:, k * units + copy] = recurrent[:, k * units + source]
            bias[k * units + copy] = bias[k * units + source]
    for unit in DEAD:
        column = 3 * units + unit
        kernel[:, column] = 0.0
        recurrent[:, column] = 0.0
        bias[column] = -12.0


def _build(layer_class, units, seed, planted):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((STEPS, FEATURES))
    layer = layer_class(units, return_sequences=True, return_state=True, name=layer_class.__name__.lower())
    model = keras.Model(inputs, layer(keras.layers.Masking(0.0)(inputs)))
    rng = np.random.default_rng(seed)
    # N(0, 1) weights and inputs: pre-activations spread over several units of z, so gates saturate.
    weights = [rng.normal(size=w.shape).astype(np.float32) for w in layer.get_weights()]
    if planted:
        _plant(*weights, units)
    layer.set_weights(weights)
    x = rng.normal(size=(BATCH, STEPS, FEATURES)).astype(np.float32)
    return model, layer, x


def _keras_case(model, layer, x, cell, gates_of, replayed):
    """What Keras says on x: its h sequence, h_{t-1}, the counted steps and the reference gates."""
    sequence, final_h, *_ = (np.asarray(v, np.float64) for v in model(x))
    # Premise: at a masked step Keras outputs the held state (the last step of sequence 1 is masked).
    np.testing.assert_allclose(sequence[:, -1], final_h, atol=1e-6)
    h_prev = np.concatenate([np.zeros_like(sequence[:, :1]), sequence[:, :-1]], axis=1)
    counted = np.any(x != 0.0, axis=-1)
    weights = [np.asarray(w, np.float64) for w in layer.get_weights()]
    return dict(cell=cell, h=sequence, counted=counted, gates=gates_of(x.astype(np.float64), h_prev, *weights),
                activity=replayed)


def _lstm_gates(x, h_prev, kernel, recurrent, bias):
    z = x @ kernel + h_prev @ recurrent + bias
    i, f, g, o = np.split(z, 4, axis=-1)
    return {"input": _sigmoid(i), "forget": _sigmoid(f), "cell": np.tanh(g), "output": _sigmoid(o)}


def _gru_gates(x, h_prev, kernel, recurrent, bias):
    """reset_after=True (Keras' default): the reset gate scales h U_h + b'_h."""
    from_x = np.split(x @ kernel + bias[0], 3, axis=-1)
    from_h = np.split(h_prev @ recurrent + bias[1], 3, axis=-1)
    update = _sigmoid(from_x[0] + from_h[0])
    reset = _sigmoid(from_x[1] + from_h[1])
    return {"update": update, "reset": reset, "candidate": np.tanh(from_x[2] + reset * from_h[2])}


@pytest.fixture(scope="module")
def cases():
    """{name: case}: the planted LSTM without a mask (mask None) and with one; a GRU with one."""
    lstm, lstm_layer, x = _build(keras.layers.LSTM, LSTM_UNITS, seed=0, planted=True)
    x_masked = _masked_copy(x)
    gru, gru_layer, gx = _build(keras.layers.GRU, GRU_UNITS, seed=1, planted=False)
    gx_masked = _masked_copy(gx)
    snapshot = take_snapshot(lstm, 0, x)
    out = {
        "lstm": _keras_case(lstm, lstm_layer, x, "lstm", _lstm_gates, stack_activity(snapshot.layers, x)[0]),
        "lstm-masked": _keras_case(lstm, lstm_layer, x_masked, "lstm", _lstm_gates,
                                   take_snapshot(lstm, 0, x_masked).probe_activity[0]),
        "gru-masked": _keras_case(gru, gru_layer, gx_masked, "gru", _gru_gates,
                                  take_snapshot(gru, 0, gx_masked).probe_activity[0]),
    }
    assert out["lstm"]["activity"].mask is None
    for name in ("lstm-masked", "gru-masked"):
        np.testing.assert_array_equal(out[name]["activity"].mask, out[name]["counted"])
        assert not out[name]["counted"].all()
    return out


def _reference_saturation(values, counted, tanh, low, high):
    """Per unit, (left, right, border): fractions of counted values past the thresholds, and the
    fraction of counted values within BORDER of either threshold (which float32 may flip). A tanh
    gate's thresholds are moved to v's own scale: (v + 1)/2 < low  <=>  v < 2 low - 1."""
    if tanh:
        low, high = 2 * low - 1, 2 * high - 1
    n = counted.sum()
    left, right, border = [], [], []
    for unit in range(values.shape[-1]):
        v = values[..., unit][counted]
        left.append(np.sum(v < low) / n)
        right.append(np.sum(v > high) / n)
        border.append(np.sum((np.abs(v - low) < BORDER) | (np.abs(v - high) < BORDER)) / n)
    return np.array(left), np.array(right), np.array(border)


def _reference_totals(case):
    """Each unit's reference saturation summed over gates, and the summed border fractions."""
    totals, borders = 0.0, 0.0
    for gate, values in case["gates"].items():
        left, right, border = _reference_saturation(values, case["counted"], gate in TANH_GATES, LOW, HIGH)
        totals, borders = totals + left + right, borders + border
    return totals, borders


def _reference_correlation(h, counted):
    """np.corrcoef of Keras' h over the counted positions; flat units (std < FLAT_STD) dropped."""
    series = h[counted]
    keep = np.flatnonzero(series.std(axis=0) >= FLAT_STD)
    return keep, np.corrcoef(series[:, keep].T)


def _pairs_above(keep, correlation, r):
    return {(int(keep[a]), int(keep[b])): correlation[a, b]
            for a in range(len(keep)) for b in range(a + 1, len(keep)) if abs(correlation[a, b]) > r}


def test_unit_saturation_matches_the_gates_recomputed_from_keras(cases):
    for name, case in cases.items():
        activity, counted = case["activity"], case["counted"]
        expected_gates = LSTM_GATES if case["cell"] == "lstm" else GRU_GATES
        for low, high in ((LOW, HIGH), (0.3, 0.7)):
            got = unit_saturation(activity) if (low, high) == (LOW, HIGH) else unit_saturation(activity, low, high)
            assert tuple(got) == expected_gates, name
            for gate, values in case["gates"].items():
                tanh = gate in TANH_GATES
                left, right, border = _reference_saturation(values, counted, tanh, low, high)
                for side, want in (("left", left), ("right", right)):
                    have = got[gate][0 if side == "left" else 1]
                    assert have.shape == (values.shape[-1],), (name, gate, side)
                    assert np.all(np.abs(have - want) <= border + 1e-12), (name, gate, side, have, want)
        # The comparison means something: units differ, gates saturate both ways somewhere.
        left_all = np.concatenate([lr[0] for lr in unit_saturation(activity).values()])
        right_all = np.concatenate([lr[1] for lr in unit_saturation(activity).values()])
        assert left_all.max() > 0.2 and right_all.max() > 0.2 and np.ptp(left_all) > 0.2, name
        if counted.all():
            continue
        # Masked steps change the fractions if counted: the test would catch their inclusion.
        everywhere = np.ones_like(counted)
        assert any(np.abs(_reference_saturation(v, everywhere, g in TANH_GATES, LOW, HIGH)[0]
                          - _reference_saturation(v, counted, g in TANH_GATES, LOW, HIGH)[0]).max() > 0.05
                   for g, v in case["gates"].items()), name


def test_dead_units_are_the_planted_ones_as_keras_sees_them(cases):
    for name in ("lstm", "lstm-masked"):
        case = cases[name]
        largest = np.abs(case["h"][case["counted"]]).max(axis=0)
        for threshold in (DEAD_BELOW, 0.5, 1.01):
            want = np.flatnonzero(largest < threshold)
            got = dead_units(case["activity"]) if threshold == DEAD_BELOW else dead_units(case["activity"], threshold)
            np.testing.assert_array_equal(got, want, err_msg=f"{name} threshold {threshold}")
        np.testing.assert_array_equal(dead_units(case["activity"]), DEAD)
        assert len(dead_units(case["activity"], 0.5)) < LSTM_UNITS  # the thresholds tell units apart
    np.testing.assert_array_equal(dead_units(cases["gru-masked"]["activity"]), [])


def test_redundant_units_match_corrcoef_of_keras_hidden_states(cases):
    for name in ("lstm", "lstm-masked", "gru-masked"):
        case = cases[name]
        keep, correlation = _reference_correlation(case["h"], case["counted"])
        # Every moving pair (|r| > 0), then those above the default 0.95.
        for r in (0.0, REDUNDANT_ABOVE):
            want = _pairs_above(keep, correlation, r)
            pairs = redundant_units(case["activity"]) if r == REDUNDANT_ABOVE else redundant_units(case["activity"], r)
            got = {(i, j): value for i, j, value in pairs}
            assert all(i < j for i, j in got), name
            assert [(i, j) for i, j, _ in pairs] == sorted(got), name
            assert set(got) == set(want), (name, r)
            for pair, value in got.items():
                assert value == pytest.approx(want[pair], abs=R_ATOL), (name, pair)
        if case["cell"] == "lstm":
            pairs = redundant_units(case["activity"])
            assert {(i, j) for i, j, _ in pairs} == set(COPIES), name
            assert redundant_count(pairs) == 4
            # Without the flat-unit rule the two dead units (copies of each other) would pair up.
            dead_series = case["h"][case["counted"]][:, list(DEAD)]
            assert np.corrcoef(dead_series.T)[0, 1] > REDUNDANT_ABOVE
            assert not set(DEAD) & set(keep)
    # Left-out masked steps matter: counting them moves some correlation well past R_ATOL.
    case = cases["lstm-masked"]
    keep, counted_only = _reference_correlation(case["h"], case["counted"])
    everywhere = np.corrcoef(case["h"].reshape(-1, LSTM_UNITS)[:, keep].T)
    assert np.abs(everywhere - counted_only).max() > 100 * R_ATOL
    assert redundant_count([(0, 1, 0.99), (1, 2, 0.97), (5, 7, -0.96)]) == 5
    assert redundant_count([]) == 0


def test_unit_orders(cases):
    for name, case in cases.items():
        activity = case["activity"]
        units = case["h"].shape[-1]
        orders = {by: unit_order(activity, by) for by in UNIT_ORDERS}
        for by, order in orders.items():
            np.testing.assert_array_equal(np.sort(order), np.arange(units), err_msg=f"{name} {by}")
        np.testing.assert_array_equal(orders["built"], np.arange(units))
        totals, borders = _reference_totals(case)
        assert np.all(np.diff(totals[orders["saturation"]]) <= borders.max() * 2 + 1e-12), name
        spread = case["h"][case["counted"]].std(axis=0)
        assert np.all(np.diff(spread[orders["activity"]]) <= 1e-6), name
        assert not np.array_equal(orders["saturation"], orders["built"]), name
        assert not np.array_equal(orders["activity"], orders["built"]), name
        if case["cell"] == "lstm":
            for source, copy in COPIES:
                place = {unit: k for k, unit in enumerate(orders["similarity"])}
                assert abs(place[source] - place[copy]) == 1, (name, orders["similarity"])
                assert abs(source - copy) > 1  # not already neighbours as built
            # The dead units sit at the end: they move with nothing.
            assert set(orders["similarity"][-len(DEAD):]) == set(DEAD)
            assert set(orders["activity"][-len(DEAD):]) == set(DEAD)
    with pytest.raises(ValueError) as raised:
        unit_order(cases["lstm"]["activity"], "size")
    message = str(raised.value)
    assert "\n" not in message and "'size'" in message
    assert all(by in message for by in UNIT_ORDERS)
