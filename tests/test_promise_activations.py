"""README promises on ``activations``: the colours of the gate images and the saturation fractions.

"Gate activations are drawn on a fixed range: sigmoid gates from blue (0, closed) through
white (0.5) to red (1, open), the tanh candidate (``cell``, ``candidate``) from blue (−1)
to red (+1); its saturation fractions are taken on (v + 1)/2, i.e. v < −0.8 and v > 0.8"
(and < 0.1, > 0.9 for the others), "a backward half reads the sequence reversed (its
images are in the input's time order)".

The reference is written here: Keras' LSTM and GRU cell equations in numpy, run on the
probe batch (the first ``viz.probe_size`` validation sequences) with the weights of the
saved ``model.keras``; a second layer reads Keras' own output of the first. The reference
is itself checked against Keras' layer outputs before anything is compared with it.
learning_rate 0.3 drives the gates into saturation in two epochs, so the fractions lie
strictly between 0 and 1 and the thresholds matter.
"""

import keras
import numpy as np
import pytest

from conftest import cells, decode_bwr, decode_image, tiny_run
from lstm_experiments.data import load_dataset
from test_promise_pixels import GATES, LAST, gate_slices

PROBE = 8
ACTIVATION_RUN = ["viz=activations", "units=5", "train.learning_rate=0.3", f"viz.probe_size={PROBE}",
                  "data=random", "data.features=3"]
CANDIDATE = {"lstm": "cell", "gru": "candidate"}


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def lstm_gates(x, kernel, recurrent, bias):
    """Keras' LSTM: z = x W + h U + b; i, f, o = σ, c̃ = tanh; c = f c + i c̃; h = o tanh(c)."""
    batch, steps, _ = x.shape
    units = recurrent.shape[0]
    h, c = np.zeros((batch, units)), np.zeros((batch, units))
    out = {g: np.zeros((batch, steps, units)) for g in GATES["lstm"]}
    hidden = np.zeros((batch, steps, units))
    for t in range(steps):
        z = gate_slices(x[:, t] @ kernel + h @ recurrent + bias, "lstm")
        i, f, g, o = sigmoid(z["input"]), sigmoid(z["forget"]), np.tanh(z["cell"]), sigmoid(z["output"])
        c = f * c + i * g
        h = o * np.tanh(c)
        for name, value in zip(GATES["lstm"], (i, f, g, o)):
            out[name][:, t] = value
        hidden[:, t] = h
    return out, hidden


def gru_gates(x, kernel, recurrent, bias, recurrent_bias):
    """Keras' GRU with reset_after: z, r = σ(x W + b + h U + b'), h̃ = tanh(x W_h + b_h + r (h U_h + b'_h))."""
    batch, steps, _ = x.shape
    units = recurrent.shape[0]
    h = np.zeros((batch, units))
    out = {g: np.zeros((batch, steps, units)) for g in GATES["gru"]}
    hidden = np.zeros((batch, steps, units))
    for t in range(steps):
        xs = gate_slices(x[:, t] @ kernel + bias, "gru")
        hs = gate_slices(h @ recurrent + recurrent_bias, "gru")
        z = sigmoid(xs["update"] + hs["update"])
        r = sigmoid(xs["reset"] + hs["reset"])
        candidate = np.tanh(xs["candidate"] + r * hs["candidate"])
        h = z * h + (1 - z) * candidate
        for name, value in zip(GATES["gru"], (z, r, candidate)):
            out[name][:, t] = value
        hidden[:, t] = h
    return out, hidden


def replay(cell, x, weights):
    w = {k: v.astype(np.float64) for k, v in weights.items()}
    if cell == "lstm":
        return lstm_gates(x, w["kernel"], w["recurrent_kernel"], w["bias"])
    return gru_gates(x, w["kernel"], w["recurrent_kernel"], w["bias"], w["recurrent_bias"])


def reference(run, final):
    """{layer tag: (cell, gates in input time order)} for every recurrent layer of the run's model.

    Each recurrent Keras layer (a Bidirectional one: each half) is fed Keras' own output of
    the layer before, and its rebuilt output is checked against Keras' output first.
    """
    model = keras.models.load_model(run.dir / "model.keras", compile=False)
    data = load_dataset(run.cfg.data, run.cfg.seed)
    probe = np.asarray(data.x_val[:PROBE], dtype=np.float32)
    recurrent = [l for l in model.layers
                 if isinstance(l, (keras.layers.LSTM, keras.layers.GRU, keras.layers.Bidirectional))]
    outputs = keras.Model(model.inputs, [l.output for l in recurrent])([probe])
    outputs = [np.asarray(o) for o in (outputs if isinstance(outputs, (list, tuple)) else [outputs])]
    out, layer_input = {}, probe.astype(np.float64)
    for layer, keras_output in zip(recurrent, outputs):
        halves = ([(layer.forward_layer, False), (layer.backward_layer, True)]
                  if isinstance(layer, keras.layers.Bidirectional) else [(layer, False)])
        rebuilt = []
        for rnn, backward in halves:
            cell = "lstm" if isinstance(rnn, keras.layers.LSTM) else "gru"
            gates, hidden = replay(cell, layer_input[:, ::-1] if backward else layer_input, final[rnn.name])
            if backward:  # back to the input's time order
                gates = {g: v[:, ::-1] for g, v in gates.items()}
                hidden = hidden[:, ::-1]
            out[rnn.name] = (cell, gates)
            # What Keras returns: the whole sequence (a backward half's in input order), or the
            # last step read (input position T-1 forwards, 0 backwards).
            rebuilt.append(hidden if rnn.return_sequences else hidden[:, 0 if backward else -1])
        np.testing.assert_allclose(np.concatenate(rebuilt, axis=-1), keras_output, atol=1e-5, rtol=0,
                                   err_msg=f"the test's own replay of {layer.name}")
        layer_input = keras_output.astype(np.float64)
    return out


@pytest.fixture(scope="module", params=["bidirectional_stacked", "gru"])
def activation_run(request, tmp_path_factory):
    extra = {"bidirectional_stacked": ["model.bidirectional=true", "model.layers=2"],
             "gru": ["model=gru"]}[request.param]
    run = tiny_run(tmp_path_factory, request.param, [*ACTIVATION_RUN, *extra])
    final, _ = run.weights
    return run, reference(run, final)


def test_the_run_has_the_expected_layers(activation_run):
    run, ref = activation_run
    expected = ({"forward_lstm", "backward_lstm", "forward_lstm_1", "backward_lstm_1"}
                if run.name == "bidirectional_stacked" else {"gru"})
    assert set(ref) == expected
    assert {t for t, p in run.plugins.items() if p == "images"} == {
        f"activations/{layer}/{g}" for layer, (cell, _) in ref.items() for g in GATES[cell]}


def test_activation_images_are_the_first_probe_sequence_in_input_time_order(activation_run):
    run, ref = activation_run
    for layer, (cell, gates) in ref.items():
        reversed_error = 0.0
        for gate, values in gates.items():
            sequence = values[0]  # (time, units), time down
            tag = f"activations/{layer}/{gate}"
            pixels = cells(decode_image(run.at(tag, LAST)), sequence.shape)
            # On the scale 1: a sigmoid gate's v as 2v − 1 (0 blue, 0.5 white, 1 red), tanh's as v.
            shown = sequence if gate == CANDIDATE[cell] else 2 * sequence - 1
            np.testing.assert_allclose(decode_bwr(pixels, 1.0), shown, atol=1 / 255 + 1e-4, rtol=0,
                                       err_msg=tag)
            reversed_error = max(reversed_error, np.abs(decode_bwr(pixels, 1.0) - shown[::-1]).max())
        if layer.startswith("backward_"):
            # The other time order would not pass: the comparison sees the order.
            assert reversed_error > 0.1, layer


def test_activation_colours_at_the_readme_anchors(activation_run):
    """Closed (0) is blue, half open white, open (1) red; the candidate's −1 blue and +1 red."""
    run, ref = activation_run
    seen = set()
    for layer, (cell, gates) in ref.items():
        for gate, values in gates.items():
            sequence = values[0]
            pixels = cells(decode_image(run.at(f"activations/{layer}/{gate}", LAST)), sequence.shape)
            pixels = pixels.astype(int)
            lo, mid, hi = (-1.0, 0.0, 1.0) if gate == CANDIDATE[cell] else (0.0, 0.5, 1.0)
            span = hi - lo
            near = {
                "blue": sequence < lo + 0.05 * span,
                "white": np.abs(sequence - mid) < 0.01 * span,
                "red": sequence > hi - 0.05 * span,
            }
            colours = {"blue": (0, 0, 255), "white": (255, 255, 255), "red": (255, 0, 0)}
            for name, where in near.items():
                if where.any():
                    seen.add(name)
                    # Within 10% of the anchor's colour (a 5% value step is 25 levels of 255).
                    assert (np.abs(pixels[where] - colours[name]) <= 26).all(), (layer, gate, name)
    assert {"blue", "red"} <= seen


def saturation_reference(cell, gate, values, threshold_low=0.1, threshold_high=0.9, candidate_mapped=True):
    unit = (values + 1) / 2 if gate == CANDIDATE[cell] and candidate_mapped else values
    return float(np.mean(unit < threshold_low)), float(np.mean(unit > threshold_high))


def test_saturation_fractions_use_the_readme_thresholds(activation_run):
    run, ref = activation_run
    varies_with_thresholds = varies_with_mapping = False
    inside = 0
    for layer, (cell, gates) in ref.items():
        for gate, values in gates.items():
            low, high = saturation_reference(cell, gate, values)
            unit = (values + 1) / 2 if gate == CANDIDATE[cell] else values
            # Values within float32 rounding of a threshold may land on either side.
            borderline = max(np.sum(np.abs(unit - 0.1) < 1e-5), np.sum(np.abs(unit - 0.9) < 1e-5)) / unit.size
            for side, expected in (("low", low), ("high", high)):
                tag = f"saturation/{layer}/{gate}/{side}"
                assert [s for s, _ in run.tensors[tag]] == [0, 1, LAST], tag
                assert float(run.at(tag, LAST)) == pytest.approx(expected, abs=borderline + 1e-7), tag
                inside += 0 < expected < 1
            # The check can fail: other thresholds, or no (v + 1)/2 for the candidate, give other numbers.
            others = {saturation_reference(cell, gate, values, lo, hi) for lo, hi in ((0.05, 0.95), (0.2, 0.8))}
            varies_with_thresholds |= any(o != (low, high) for o in others)
            if gate == CANDIDATE[cell]:
                varies_with_mapping |= saturation_reference(cell, gate, values, candidate_mapped=False) != (low, high)
    assert inside >= 2 and varies_with_thresholds and varies_with_mapping
