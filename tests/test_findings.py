"""Findings: each kind on a small broken run that has it, and a healthy control that must stay quiet.

Through ``GateLogger`` in a user's own ``fit`` (tiny models, drawn inline) and
through the runner. What each rule reads is checked against an independent
computation elsewhere: the gradient through time against ``GradientTape``
(tests/test_gradient_through_time.py), per-unit saturation, dead and
redundant units against Keras' own layer outputs (tests/test_unit_figures.py).
"""

import json

import keras
import numpy as np
import pytest

from lstm_experiments import GateLogger
from lstm_experiments.errors import TrainingFailed
from lstm_experiments.tensorboard import tags
from conftest import read_events, read_tensors, train_tiny

SEQ, FEATURES, UNITS = 12, 2, 8


def _data(seed=0, n=96, seq=SEQ, scale=1.0, shift=0.0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, seq, FEATURES)).astype("float32")
    y = x[:, -3:, :1].mean(axis=1)
    return x * scale + shift, y


def _model(seq=SEQ, units=UNITS, **lstm):
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((seq, FEATURES)), keras.layers.LSTM(units, name="lstm", **lstm),
                             keras.layers.Dense(1, name="head")])


def _fit(tmp_path, model, x, y, epochs=3, optimizer=None, callbacks=(), **logger):
    model.compile(optimizer or keras.optimizers.Adam(0.01), "mse")
    gate_logger = GateLogger(tmp_path, background=False, probe=(x[:16], y[:16]), **logger)
    model.fit(x, y, epochs=epochs, batch_size=16, verbose=0, callbacks=[gate_logger, *callbacks])
    return json.loads((tmp_path / "findings.json").read_text())


def _warnings(document):
    return {(f["kind"], f["layer"]) for f in document["findings"] if f["severity"] == "warning"}


def _set_gate_bias(model, gate_index, value):
    cell = model.get_layer("lstm").cell
    bias = np.array(cell.bias)
    bias[gate_index * cell.units:(gate_index + 1) * cell.units] = value
    cell.bias.assign(bias)


def test_a_healthy_run_reports_no_warning_and_says_what_it_checked(tmp_path):
    x, y = _data()
    document = _fit(tmp_path, _model(), x, y, epochs=6)
    assert _warnings(document) == set(), document["findings"]
    assert set(document["checked"].values()) == {"yes"} and document["last_step"] == 6
    events = read_tensors(tmp_path)
    for kind in ("vanishing_gradient", "input_scale", "not_learning"):
        assert [float(v) for _, v in events[tags.findings_count(kind)]] == [0.0] * 7  # a count at every step
    assert [s for s, _ in events[tags.through_time_decay("lstm", "c")]] == list(range(7))
    # The GATES tab's data of the same figures: the norms per time step, per-unit saturation and orders.
    from lstm_experiments.board import metadata

    step, norms = events[metadata.through_time_tag("lstm")][-1]
    assert step == 6 and norms.shape == (2, SEQ) and norms.dtype == np.float64
    assert norms[1, 0] / norms[1, -1] == pytest.approx(float(events[tags.through_time_decay("lstm", "c")][-1][1]))
    _, per_unit = events[metadata.units_tag("lstm")][-1]
    assert per_unit.shape == (4 * 2 + 1 + 4, UNITS)
    assert ((per_unit[:8] >= 0) & (per_unit[:8] <= 1)).all()
    for row in per_unit[-4:]:  # built, saturation, activity, similarity: permutations of the units
        assert sorted(row.astype(int)) == list(range(UNITS))
    assert list(per_unit[-4].astype(int)) == list(range(UNITS))


def test_unnormalised_inputs_saturate_every_gate_from_step_0(tmp_path):
    """The issue's x1000 + 2000 in a user's own script: input_scale and saturated_gates since step 0."""
    x, y = _data(scale=1000.0, shift=2000.0)
    document = _fit(tmp_path, _model(), x, y)
    found = {f["kind"]: f for f in document["findings"]}
    assert {("input_scale", "lstm"), ("saturated_gates", "lstm")} <= _warnings(document)
    assert found["input_scale"]["first_step"] == 0 and found["input_scale"]["last_step"] == 3
    assert found["input_scale"]["value"] == pytest.approx(float(np.abs(x[:16]).max()))
    assert "standardise the inputs" in found["input_scale"]["sentence"]
    # The Text record of step 0 names both.
    texts = [(e.step, v.tensor.string_val[0].decode()) for e in read_events(tmp_path) for v in e.summary.value
             if v.tag == tags.findings_text()]
    assert texts[0][0] == 0 and "input_scale" in texts[0][1] and "saturated_gates" in texts[0][1]


@pytest.mark.parametrize("forget_bias, vanishes", [(-6.0, True), (3.0, False)], ids=["closed", "open"])
def test_a_closed_forget_gate_makes_the_gradient_vanish(tmp_path, forget_bias, vanishes):
    seq = 40
    x, y = _data(seq=seq)
    y = x[:, :1, :1].mean(axis=1)  # the target is at the first step: only memory can learn it
    model = _model(seq=seq, unit_forget_bias=False)
    model.build((None, seq, FEATURES))
    _set_gate_bias(model, 1, forget_bias)
    document = _fit(tmp_path, model, x, y, epochs=2, optimizer=keras.optimizers.SGD(1e-4))
    assert (("vanishing_gradient", "lstm") in _warnings(document)) == vanishes, document["findings"]
    if vanishes:
        (found,) = [f for f in document["findings"] if f["kind"] == "vanishing_gradient"]
        assert found["first_step"] == 0 and found["value"] < 1e-4 and "forget-gate bias" in found["sentence"]


def test_dead_units_are_named(tmp_path):
    x, y = _data()
    model = _model()
    model.build((None, SEQ, FEATURES))
    cell = model.get_layer("lstm").cell
    dead = [1, 4]
    bias, kernel = np.array(cell.bias), np.array(cell.kernel)
    for unit in dead:  # the output gate shut: h = o * tanh(c) stays 0
        bias[3 * UNITS + unit] = -30.0
    cell.bias.assign(bias)
    document = _fit(tmp_path, model, x, y, epochs=1, optimizer=keras.optimizers.SGD(1e-6))
    (found,) = [f for f in document["findings"] if f["kind"] == "dead_units"]
    assert found["units"] == dead and found["severity"] == "warning"  # 2 of 8: over 10 %


def test_a_weight_gone_inf_is_a_non_finite_finding_at_its_step(tmp_path):
    x, y = _data()
    document = _fit(tmp_path, _model(), x, y, epochs=1, optimizer=keras.optimizers.SGD(3e38),
                    callbacks=[keras.callbacks.TerminateOnNaN()])
    (found,) = [f for f in document["findings"] if f["kind"] == "non_finite"]
    assert found["first_step"] == 2 and found["layer"] == "lstm" and found["severity"] == "warning"


def test_a_model_that_does_not_learn_is_said_after_five_epochs(tmp_path):
    x, y = _data()
    document = _fit(tmp_path, _model(), x, y, epochs=6, optimizer=keras.optimizers.SGD(1e-7))
    (found,) = [f for f in document["findings"] if f["kind"] == "not_learning"]
    assert found["first_step"] == 5 and found["severity"] == "warning"


def test_the_runner_writes_findings_json_and_counts_them_in_metrics(tmp_path, caplog):
    run = tmp_path / "sgd"
    with pytest.raises(TrainingFailed):
        train_tiny(run, ["train.optimizer=sgd", "train.learning_rate=20", "data.n_samples=160", "train.epochs=3"])
    document = json.loads((run / "findings.json").read_text())
    (found,) = [f for f in document["findings"] if f["kind"] == "non_finite"]
    assert found["first_step"] == 3 and "epoch 2, batch 6" in found["sentence"]  # the failing step (by epoch)
    assert json.loads((run / "metrics.json").read_text())["findings"] == len(document["findings"])
    assert any(r.getMessage().startswith("findings: non_finite in the run since step 3") for r in caplog.records)
    quiet = tmp_path / "none"
    train_tiny(quiet, ["viz=none"])
    off = json.loads((quiet / "findings.json").read_text())
    assert off["findings"] == [] and set(off["checked"].values()) == {"no: viz.findings.enabled=false"}
    assert json.loads((quiet / "metrics.json").read_text())["findings"] is None
    # The sweep report: a column per kind some run found, in summary.csv and index.html.
    import csv

    from lstm_experiments.report import main

    assert main([str(tmp_path), "--out", str(tmp_path / "report"), "--reader", "python", "--jobs", "1"]) == 0
    with open(tmp_path / "report" / "summary.csv") as handle:
        rows = {row["run"]: row for row in csv.DictReader(handle)}
    assert rows["sgd"]["findings:non_finite"] == "run (warning, since step 3)"
    assert rows["none"]["findings:non_finite"] == ""
    assert {f"findings:{f['kind']}" for f in document["findings"]} <= set(rows["sgd"])
    assert "findings:non_finite" in (tmp_path / "report" / "index.html").read_text()


def test_thresholds_are_checked_in_one_line():
    with pytest.raises(ValueError, match=r"^findings.redundant_r=2 \(must be in \(0, 1\]\)$"):
        GateLogger("unused", findings={"redundant_r": 2})
    with pytest.raises(ValueError, match=r"^findings.bogus is not a findings threshold"):
        GateLogger("unused", findings={"bogus": 1})


def test_a_finding_that_goes_away_by_itself_is_an_info_and_says_until_when(tmp_path):
    """The record's own rule: active where still seen at the last step its kind was checked."""
    from lstm_experiments.findings.record import FindingsRecord, summary_lines, summary_severities
    from lstm_experiments.findings.rules import NOT_LEARNING, VANISHING, WARNING, Observation

    def seen(kind, layer="lstm"):
        return Observation(kind, WARNING, layer, None, None, "figure", 1e-6, 1e-4, "sentence")

    record = FindingsRecord(tmp_path / "findings.json")
    record.observe(0, [seen(VANISHING), seen(VANISHING, "lstm_1")])
    record.observe(1, [seen(VANISHING, "lstm_1")])
    record.observe(1, [seen(NOT_LEARNING, None)], kinds=[NOT_LEARNING])
    record.observe(2, [seen(VANISHING, "lstm_1")])  # a drawn step: not_learning is not checked here
    record.write()
    document = json.loads((tmp_path / "findings.json").read_text())
    by_layer = {(f["kind"], f["layer"]): f for f in document["findings"]}
    gone, kept = by_layer[(VANISHING, "lstm")], by_layer[(VANISHING, "lstm_1")]
    assert (gone["active"], gone["severity"], gone["worst"], gone["last_step"]) == (False, "info", "warning", 0)
    assert (kept["active"], kept["severity"], kept["first_step"], kept["last_step"]) == (True, "warning", 0, 2)
    assert by_layer[(NOT_LEARNING, None)]["active"]  # checked last at step 1, seen there
    assert [f["layer"] for f in document["findings"]][:2] == ["lstm_1", None]  # warnings first
    assert "lstm since step 0, gone after step 0" in summary_lines(document)[0]
    # The log's level per line: a kind with an active warning logs a warning, one only seen before an info.
    record = FindingsRecord(tmp_path / "gone.json")
    record.observe(0, [seen(VANISHING)])
    record.observe(1, [])
    record.write()
    assert summary_severities(json.loads((tmp_path / "gone.json").read_text())) == ["info"]
    assert summary_severities(document) == ["warning", "warning"]


@pytest.mark.parametrize("forget_bias, steps, vanishes", [("false", 20, True), ("true", 20, False), ("false", 8, False)],
                         ids=["no-bias", "control-bias", "control-shorter"])
def test_the_runner_finds_a_vanishing_gradient_on_the_adding_problem(tmp_path, forget_bias, steps, vanishes):
    """The issue's vanishing run, small: the adding problem over 20 steps without Keras' forget-gate bias
    of 1 (the cell state's gradient at t=0 is 3e-5 of t=19's); with it, the control stays quiet, and so
    does the same run without it on sequences of 8 steps (the finding's other what-to-try)."""
    run, metrics = train_tiny(tmp_path / "run", ["data=adding", f"data.seq_len={steps}", f"model.unit_forget_bias={forget_bias}",
                                                 "units=8", "data.n_samples=128", "train.epochs=3", "viz=[gates]"],
                              tiny=False)
    document = json.loads((run / "findings.json").read_text())
    assert (("vanishing_gradient", "lstm") in _warnings(document)) == vanishes, document["findings"]
    assert _warnings(document) <= {("vanishing_gradient", "lstm")}  # nothing else is a warning
    assert metrics["findings"] == len(document["findings"])
    events = read_tensors(run / "tensorboard")
    decays = [float(v) for _, v in events[tags.through_time_decay("lstm", "c")]]
    assert len(decays) == 4 and all((d < 1e-4) == vanishes for d in decays)


@pytest.mark.parametrize("units, redundant", [(128, True), (16, False)], ids=["128-units", "control-16"])
def test_the_runner_finds_redundant_units_in_a_layer_too_large_for_sine(tmp_path, units, redundant):
    """The issue's redundant run, smaller: 128 units on the sine data (over 9 in 10 move with another unit,
    checked against np.corrcoef in tests/test_unit_figures.py); 16 units on the same data (the issue's control) stay quiet."""
    short = ["data.n_samples=256", "train.epochs=3"] if units > 16 else []  # the control: the default run's data
    run, _ = train_tiny(tmp_path / "run", [f"units={units}", "viz=[gates]", *short], tiny=False)
    document = json.loads((run / "findings.json").read_text())
    assert (("redundant_units", "lstm") in _warnings(document)) == redundant, document["findings"]
    assert not _warnings(document) - {("redundant_units", "lstm")}
    if redundant:
        (found,) = [f for f in document["findings"] if f["kind"] == "redundant_units"]
        assert found["value"] >= 0.75 and len(found["units"]) == round(found["value"] * units)


def test_clipping_the_gradients_keeps_a_run_at_a_high_rate_finite(tmp_path):
    """The non_finite finding's 'clip the gradients (optimizer clipnorm)', shown: plain SGD at 20 makes the
    loss inf within 3 epochs; the same optimizer with clipnorm=1 keeps every weight and loss finite."""
    x, y = _data()
    stop = keras.callbacks.TerminateOnNaN()
    broken = _fit(tmp_path / "sgd", _model(), x, y, optimizer=keras.optimizers.SGD(20.0), callbacks=[stop])
    clipped = _fit(tmp_path / "clipped", _model(), x, y, optimizer=keras.optimizers.SGD(20.0, clipnorm=1.0),
                   callbacks=[stop])
    assert "non_finite" in {kind for kind, _ in _warnings(broken)}
    assert "non_finite" not in {f["kind"] for f in clipped["findings"]} and clipped["last_step"] == 3  # 3 epochs


def _recurrent_cell_gain(model, gain):
    """Gates held open (input, forget, output biases +10) and the cell gate reading h through gain x I:
    near zero the cell state grows by about 1 + gain a step, and so does its gradient going back."""
    cell = model.get_layer("lstm").cell
    units = cell.units
    recurrent = np.zeros((units, 4 * units), "float32")
    recurrent[:, 2 * units:3 * units] = gain * np.eye(units)
    bias = np.zeros(4 * units, "float32")
    bias[:2 * units], bias[3 * units:] = 10.0, 10.0
    cell.recurrent_kernel.assign(recurrent)
    cell.bias.assign(bias)


@pytest.mark.parametrize("gain, explodes", [(2.0, True), (0.5, False)], ids=["gain-2", "control"])
def test_a_gradient_that_grows_back_through_time_is_exploding(tmp_path, gain, explodes):
    """12 steps of tiny inputs through a cell whose state feeds itself with gain 1 + 2: the gradient at
    t=0 is about 3^11 of t=11's (exploding_gradient, with its layer); at gain 1 + 0.5 it is about 86
    (neither exploding nor vanishing). The weights stay as set (SGD at 1e-12). The through-time decays
    themselves are checked against GradientTape in tests/test_gradient_through_time.py."""
    x, y = _data(scale=1e-6)
    model = _model()
    _recurrent_cell_gain(model, gain)
    document = _fit(tmp_path, model, x, y, epochs=1, optimizer=keras.optimizers.SGD(1e-12))
    found = [f for f in document["findings"] if f["kind"] == "exploding_gradient"]
    if explodes:
        assert [(f["layer"], f["severity"], f["first_step"]) for f in found] == [("lstm", "warning", 0)]
        assert found[0]["value"] > 1e4
    else:  # held open by hand, its gates are saturated and its h tiny: those findings are true here
        assert found == [] and "vanishing_gradient" not in {f["kind"] for f in document["findings"]}


def test_clipping_keeps_a_run_whose_gradient_explodes_finite(tmp_path):
    """The exploding_gradient finding's 'clip the gradients' and 'a lower learning rate', shown on the gain-2
    cell above (inputs x 1e-3, targets of order 1): plain SGD at 1 reports exploding_gradient at step 0,
    then its loss becomes inf by the third epoch (non_finite); with clipnorm=1, or at 0.01, the same run
    has the same exploding finding at step 0 and keeps every weight and loss finite for its 4 epochs."""
    x, y = _data(scale=1e-3)
    y = y / 1e-3
    documents = {}
    for name, optimizer in [("sgd-1", keras.optimizers.SGD(1.0)), ("clipped", keras.optimizers.SGD(1.0, clipnorm=1.0)),
                            ("sgd-0.01", keras.optimizers.SGD(0.01))]:
        model = _model()
        _recurrent_cell_gain(model, 2.0)
        documents[name] = _fit(tmp_path / name, model, x, y, epochs=4, optimizer=optimizer,
                               callbacks=[keras.callbacks.TerminateOnNaN()])
    for document in documents.values():
        (exploding,) = [f for f in document["findings"] if f["kind"] == "exploding_gradient"]
        assert exploding["first_step"] == 0 and exploding["worst"] == "warning" and exploding["value"] > 1e4
    assert "non_finite" in {kind for kind, _ in _warnings(documents["sgd-1"])}
    for name in ("clipped", "sgd-0.01"):
        survived = documents[name]
        assert "non_finite" not in {f["kind"] for f in survived["findings"]} and survived["last_step"] == 4, name
