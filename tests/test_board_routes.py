"""The ``lstm_gates`` plugin's HTTP API on real tiny runs, served the way TensorBoard's own plugin tests serve one.

An ``EventMultiplexer`` loaded from the logdir, a ``MultiplexerDataProvider`` over it,
``TBContext`` -> ``GatesPlugin`` -> ``TensorBoardWSGI`` -> ``werkzeug.test.Client``;
one test starts a real ``tensorboard`` (entry point, Rust data server) instead.
"""

import importlib.metadata
import json
import urllib.parse
import urllib.request

import numpy as np
import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Response

from conftest import read_tensors, saved_matrices, train_tiny
from tests.helpers.tensorboard_server import get_json, tensorboard

from lstm_experiments.board import launcher, metadata
from lstm_experiments.board import plugin as plugin_module
from lstm_experiments.board.http_answers import static_files
from lstm_experiments.board.plugin import GatesPlugin

PREFIX = "/data/plugin/lstm_gates"
# Five logged steps (0 and four epochs): TensorBoard's reservoir of 2 keeps steps 3 and 4,
# so the downsampled client must serve step 0 from the /initial tag.
LSTM_RUN = ["viz=[gates,activations]", "units=5", "train.epochs=4"]
# reset_after (Keras' default): a (2, 3u) bias, logged as bias and recurrent_bias.
GRU_RUN = ["viz=[gates,activations]", "model=gru", "units=4"]
# A real directory name; the API must hand it back as it is (escaping is the page's job).
HOSTILE = "<img src=x onerror=alert(1)>"
LSTM = "lstm/tensorboard"
GRU = f"{HOSTILE}/tensorboard"
KEEP_ALL = {metadata.PLUGIN_NAME: launcher.SAMPLES[metadata.PLUGIN_NAME], "scalars": 1000}


@pytest.fixture(scope="module")
def logdir(tmp_path_factory):
    root = tmp_path_factory.mktemp("board")
    train_tiny(root / "lstm", LSTM_RUN)
    train_tiny(root / HOSTILE, GRU_RUN)
    return root


def make_app(logdir, tensor_size_guidance=None, wrap_provider=None):
    from tensorboard.backend import application
    from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer
    from tensorboard.plugins import base_plugin

    guidance = KEEP_ALL if tensor_size_guidance is None else tensor_size_guidance
    multiplexer = plugin_event_multiplexer.EventMultiplexer(tensor_size_guidance=guidance)
    multiplexer.AddRunsFromDirectory(str(logdir))
    multiplexer.Reload()
    provider = data_provider.MultiplexerDataProvider(multiplexer, str(logdir))
    if wrap_provider is not None:
        provider = wrap_provider(provider)
    context = base_plugin.TBContext(
        data_provider=provider, logdir=str(logdir), multiplexer=multiplexer,
        sampling_hints={metadata.PLUGIN_NAME: guidance.get(metadata.PLUGIN_NAME)},
    )
    return application.TensorBoardWSGI([GatesPlugin(context)], data_provider=provider)


@pytest.fixture(scope="module")
def client(logdir):
    return Client(make_app(logdir), Response)


@pytest.fixture(scope="module")
def downsampled(logdir):
    return Client(make_app(logdir, {metadata.PLUGIN_NAME: 2}), Response)


def url(route, **params):
    return f"{PREFIX}/{route}" + (f"?{urllib.parse.urlencode(params)}" if params else "")


def get_ok(client, route, **params):
    response = client.get(url(route, **params))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return json.loads(response.get_data(as_text=True))


def by_run(index):
    return {entry["run"]: entry for entry in index["runs"]}


# --------------------------------------------------------------------------- runs


def test_runs_lists_every_logged_step_and_the_layers(client, logdir):
    index = get_ok(client, "runs")
    assert index["samples_flag"] == metadata.SAMPLES_FLAG
    assert index["downsampled"] is False
    runs = by_run(index)
    assert set(runs) == {LSTM, GRU}
    for run, entry in runs.items():
        logged = read_tensors(logdir / run)
        steps = sorted({s for tag, values in logged.items() if tag.startswith("lstm_gates/")
                        and not tag.endswith("/initial") for s, _ in values})
        assert entry["steps"] == steps
        assert entry["kept_steps"] == entry["logged_steps"] == len(steps)
        assert entry["max_step"] == steps[-1]

    lstm = runs[LSTM]
    assert lstm["name"] == "lstm" and lstm["steps"] == [0, 1, 2, 3, 4]
    assert lstm["features"] is not None
    (layer,) = lstm["layers"]
    assert layer["layer"] == "lstm" and layer["cell"] == "lstm" and layer["units"] == 5
    assert layer["gates"] == ["input", "forget", "cell", "output"]
    assert [m["matrix"] for m in layer["matrices"]] == ["kernel", "recurrent_kernel", "bias"]
    recurrent = layer["matrices"][1]
    assert recurrent["shape"] == recurrent["logged_shape"] == [5, 20]
    assert recurrent["reduced"] is False and recurrent["block"] == 1 and recurrent["scale"] > 0
    assert layer["activations"] == {
        "panels": ["input", "forget", "cell", "output", "cell_state", "hidden"],
        "candidate": "cell", "sequences": metadata.PROBE_SEQUENCES, "time": 6, "input": True,
    }
    assert layer["saturation"] is True

    gru = runs[GRU]
    (gru_layer,) = gru["layers"]
    assert [m["matrix"] for m in gru_layer["matrices"]] == ["kernel", "recurrent_kernel", "bias", "recurrent_bias"]
    assert gru_layer["activations"]["panels"] == ["update", "reset", "candidate", "hidden"]


def test_a_hostile_run_name_comes_back_as_it_is(client):
    response = client.get(url("runs"))
    names = [entry["name"] for entry in json.loads(response.get_data(as_text=True))["runs"]]
    assert HOSTILE in names
    # The same directory name in a query finds the run.
    assert get_ok(client, "probe", run=GRU)["shape"][0] == metadata.PROBE_SEQUENCES


# --------------------------------------------------------------------------- weights


@pytest.mark.parametrize("run", [LSTM, GRU])
def test_weights_at_the_last_step_are_model_keras_weights(client, logdir, run):
    final, initial = saved_matrices(logdir / run.split("/")[0])
    (entry,) = [e for e in get_ok(client, "runs")["runs"] if e["run"] == run]
    checked = []
    for layer in entry["layers"]:
        for matrix in layer["matrices"]:
            name = matrix["matrix"]
            for step, expected in ((entry["max_step"], final), (0, initial)):
                body = get_ok(client, "weights", run=run, layer=layer["layer"], matrix=name, step=step)
                want = np.asarray(expected[layer["layer"]][name], dtype=np.float32).reshape(len(body["values"]), -1)
                got = np.asarray(body["values"], dtype=np.float32)
                assert body["shape"] == list(want.shape) == body["full_shape"] == matrix["shape"]
                assert body["step"] == step and body["gates"] == layer["gates"]
                # float16 precision: half an ulp of float16 (2^-11 relative), subnormals aside.
                np.testing.assert_allclose(got, want, rtol=2**-11, atol=2**-24)
            checked.append(name)
    want_matrices = ["kernel", "recurrent_kernel", "bias"] + (["recurrent_bias"] if run == GRU else [])
    assert checked == want_matrices


def test_weights_equal_the_logged_tensor_at_every_step(client, logdir):
    logged = read_tensors(logdir / LSTM)
    for step, value in logged["lstm_gates/lstm/recurrent_kernel"]:
        body = get_ok(client, "weights", run=LSTM, layer="lstm", matrix="recurrent_kernel", step=step)
        np.testing.assert_array_equal(np.asarray(body["values"], dtype=np.float16), value)


# --------------------------------------------------------------------------- downsampled


def test_a_downsampled_multiplexer_says_so_and_still_serves_step_0(downsampled, logdir):
    index = get_ok(downsampled, "runs")
    assert index["downsampled"] is True
    lstm = by_run(index)[LSTM]
    # TensorBoard says neither how many it dropped nor how many were logged: no count is claimed.
    assert lstm["kept_steps"] == 2 and lstm["logged_steps"] is None
    assert lstm["steps"] == [3, 4] and 0 not in lstm["steps"]
    _, initial = saved_matrices(logdir / "lstm")
    for matrix in ("kernel", "recurrent_kernel", "bias"):
        body = get_ok(downsampled, "weights", run=LSTM, layer="lstm", matrix=matrix, step=0)
        want = np.asarray(initial["lstm"][matrix], dtype=np.float32).reshape(len(body["values"]), -1)
        np.testing.assert_allclose(np.asarray(body["values"]), want, rtol=2**-11, atol=2**-24)
    dropped = downsampled.get(url("weights", run=LSTM, layer="lstm", matrix="kernel", step=1))
    assert dropped.status_code == 404 and "step=1" in dropped.get_data(as_text=True)


def test_a_full_reservoir_of_exactly_the_logged_steps_is_not_called_downsampled(logdir):
    """Five logged steps (0..4, log_every 1) in a reservoir of five: every one is there."""
    index = get_ok(Client(make_app(logdir, {metadata.PLUGIN_NAME: 5}), Response), "runs")
    lstm = by_run(index)[LSTM]
    assert lstm["kept_steps"] == lstm["logged_steps"] == 5 and index["downsampled"] is False


# --------------------------------------------------------------------------- content read back into the writer's classes

WRITTEN = [
    metadata.WeightsContent(kind=metadata.KIND_WEIGHTS, layer="lstm", matrix="kernel", cell="lstm",
                            gates=["input", "forget", "cell", "output"], units=3, shape=[2, 12], reduced=False,
                            block=1, reduce="maxabs", scale=0.5, rows=["a", "b"], log_every=3),
    metadata.WeightsContent(kind=metadata.KIND_INITIAL, layer="gru", matrix="bias", cell="gru",
                            gates=["update", "reset", "candidate"], units=2, shape=[2, 6], reduced=True, block=2,
                            reduce="mean", scale=1.0),
    metadata.ActivationsContent(kind=metadata.KIND_ACTIVATIONS, layer="lstm", cell="lstm",
                                panels=["input", "hidden"], units=3, candidate="cell", reduced=True, block=4),
    metadata.ProbeContent(kind=metadata.KIND_PROBE, features=["value", "marker"]),
    metadata.InputContent(kind=metadata.KIND_INPUT, layer="lstm", features=2, names=["value", "marker"]),
]


@pytest.mark.parametrize("content", WRITTEN, ids=lambda c: c.kind)
def test_content_is_read_back_into_the_class_that_wrote_it(content):
    assert metadata.parse_content(metadata.encode_content(content)) == content


def test_content_of_an_older_or_newer_writer_is_read_with_defaults_and_without_unknown_keys():
    older = {"kind": "activations", "layer": "lstm", "cell": "lstm", "panels": ["input"], "units": 3,
             "candidate": "cell"}  # before reduced/block/reduce, and without a version
    parsed = metadata.parse_content(json.dumps(older).encode())
    assert parsed == metadata.ActivationsContent(**older) and (parsed.reduced, parsed.block) == (False, 1)
    newer = {**json.loads(metadata.encode_content(WRITTEN[0])), "colormap": "viridis", "version": 2}
    parsed = metadata.parse_content(json.dumps(newer).encode())
    assert isinstance(parsed, metadata.WeightsContent) and parsed.version == 2 and parsed.logged_shape() == [2, 12]


@pytest.mark.parametrize("raw, words", [
    (b"not json", "not lstm_gates plugin content"),
    (b'{"kind": "histogram"}', "unknown kind"),
    (b'{"kind": "weights", "layer": "lstm"}', "without matrix"),
    (b"[1, 2]", "not lstm_gates plugin content"),
])
def test_content_that_is_not_ours_is_a_value_error(raw, words):
    with pytest.raises(ValueError, match=words):
        metadata.parse_content(raw)


# --------------------------------------------------------------------------- steps as logged, titles and order


def write_gate_steps(tensorboard_dir, steps, log_every=1, units=2, images=(), scalars=()):
    """An event file of ``lstm_gates/lstm/kernel`` (and an image and a scalar per tag named) at ``steps``,
    written by the project's writer as a run writes them; a second call on the same directory adds
    a second file, as a resumed run does."""
    from lstm_experiments.tensorboard.summaries import Summaries, Tensor
    from lstm_experiments.tensorboard.writer import SummaryWriter

    content = metadata.WeightsContent(
        kind=metadata.KIND_WEIGHTS, layer="lstm", matrix="kernel", cell="lstm",
        gates=["input", "forget", "cell", "output"], units=units, shape=[1, 4 * units], reduced=False, block=1,
        reduce="maxabs", scale=1.0, log_every=log_every,
    )
    writer = SummaryWriter(tensorboard_dir)
    try:
        for step in steps:
            values = np.full((1, 4 * units), step, dtype=np.float16)
            writer.write(step, Summaries(
                tensors={metadata.weights_tag("lstm", "kernel"): Tensor(values, metadata.summary_metadata(content))},
                images={tag: np.full((4, 4, 3), step % 256, dtype=np.uint8) for tag in images},
                scalars={tag: float(step) for tag in scalars},
            ))
    finally:
        writer.close()


# log_every=3, trained to epoch 4, then resumed to epoch 10: each part logs its last epoch.
RESUMED_PARTS = ([0, 3, 4], [6, 9, 10])


@pytest.fixture(scope="module")
def resumed(tmp_path_factory):
    root = tmp_path_factory.mktemp("resumed")
    for part in RESUMED_PARTS:
        write_gate_steps(root / "run" / "tensorboard", part, log_every=3)
    return root


def test_a_resumed_runs_logged_steps_are_counted_not_derived(resumed):
    """0, 3, 4, 6, 9, 10: six steps, where max_step // log_every + 2 says five."""
    index = get_ok(Client(make_app(resumed), Response), "runs")
    (entry,) = index["runs"]
    assert entry["steps"] == [0, 3, 4, 6, 9, 10] and entry["max_step"] == 10
    assert entry["kept_steps"] == entry["logged_steps"] == 6 and index["downsampled"] is False
    # TensorBoard keeping four of them: how many were logged is not claimed.
    index = get_ok(Client(make_app(resumed, {metadata.PLUGIN_NAME: 4}), Response), "runs")
    (entry,) = index["runs"]
    assert entry["kept_steps"] == 4 and entry["logged_steps"] is None and index["downsampled"] is True
    assert 10 in entry["steps"]  # the latest is always kept


def write_run_dir(run_dir, overrides=None, steps=(0, 1)):
    if overrides is not None:
        (run_dir / ".hydra").mkdir(parents=True)
        (run_dir / ".hydra" / "overrides.yaml").write_text("".join(f"- {o}\n" for o in overrides))
    write_gate_steps(run_dir / "tensorboard", steps)
    return run_dir


def test_runs_are_titled_by_the_overrides_that_differ_and_ordered_by_their_numbers(tmp_path):
    sweep = tmp_path / "sweep"
    for job, units in enumerate((128, 32, 64)):
        write_run_dir(sweep / str(job), ["data=adding", f"units={units}", "train.epochs=2"])
    write_run_dir(sweep / "by-hand")  # no .hydra/overrides.yaml: titled by its name
    index = get_ok(Client(make_app(sweep), Response), "runs")
    runs = by_run(index)
    assert {run: (entry["name"], entry["title"]) for run, entry in runs.items()} == {
        "0/tensorboard": ("0", "units=128"), "1/tensorboard": ("1", "units=32"),
        "2/tensorboard": ("2", "units=64"), "by-hand/tensorboard": ("by-hand", "by-hand"),
    }
    ordered = sorted(index["runs"], key=lambda entry: entry["order"])
    assert [entry["title"] for entry in ordered] == ["by-hand", "units=32", "units=64", "units=128"]
    assert sorted(entry["order"] for entry in index["runs"]) == [0, 1, 2, 3]
    # The same runs' order, whatever the listing's: runs stay listed by TensorBoard's name.
    assert [entry["run"] for entry in index["runs"]] == sorted(runs)


def test_a_single_run_given_as_logdir_is_titled_by_its_directory(tmp_path):
    run_dir = write_run_dir(tmp_path / "2026-12-04_10-00-00", ["units=32"])
    (entry,) = get_ok(Client(make_app(run_dir), Response), "runs")["runs"]
    assert (entry["run"], entry["name"], entry["title"], entry["order"]) == (
        "tensorboard", ".", "2026-12-04_10-00-00", 0)
    # TensorBoard started on the event files' own directory names the run "." too.
    (entry,) = get_ok(Client(make_app(run_dir / "tensorboard"), Response), "runs")["runs"]
    assert (entry["run"], entry["name"], entry["title"]) == (".", ".", "2026-12-04_10-00-00")


# --------------------------------------------------------------------------- activations, probe, saturation


def test_activations_and_probe_are_the_logged_tensors(client, logdir):
    logged = read_tensors(logdir / LSTM)
    for step, value in logged["lstm_gates/lstm/activations"]:
        body = get_ok(client, "activations", run=LSTM, layer="lstm", step=step)
        assert body["step"] == step and body["candidate"] == "cell"
        assert body["shape"] == list(value.shape) == [6, metadata.PROBE_SEQUENCES, 6, 5]
        assert len(body["panels"]) == body["shape"][0]
        np.testing.assert_array_equal(np.asarray(body["values"], dtype=np.float16), value)
    probe = get_ok(client, "probe", run=LSTM)
    ((_, value),) = logged["lstm_gates/probe"]
    assert probe["shape"] == list(value.shape) and len(probe["features"]) == value.shape[-1]
    np.testing.assert_array_equal(np.asarray(probe["values"], dtype=np.float16), value)


def test_probe_of_a_layer_is_what_it_read_at_that_step(client, logdir):
    logged = read_tensors(logdir / LSTM)
    steps = [step for step, _ in logged[metadata.input_tag("lstm")]]
    assert steps == [0, 1, 2, 3, 4]
    for step, value in logged[metadata.input_tag("lstm")]:
        body = get_ok(client, "probe", run=LSTM, layer="lstm", step=step)
        assert body["step"] == step and body["layer"] == "lstm" and body["reduced"] is False
        assert body["shape"] == list(value.shape) and body["width"] == value.shape[-1]
        np.testing.assert_array_equal(np.asarray(body["values"], dtype=np.float16), value)
    # A first layer reads the model's input: the same numbers as the step-0 probe.
    ((_, probe),) = logged["lstm_gates/probe"]
    np.testing.assert_array_equal(logged[metadata.input_tag("lstm")][0][1], probe)
    missing = client.get(url("probe", run=LSTM, layer="lstm", step=99))
    assert missing.status_code == 404 and "step" in missing.get_data(as_text=True)
    unknown = client.get(url("probe", run=LSTM, layer="nope", step=0))
    assert unknown.status_code == 404 and "layer=nope" in unknown.get_data(as_text=True)


# --------------------------------------------------------------------------- positions: by batch, and a failing run

# Plain SGD at a learning rate of 20 on sine data: the loss becomes inf in the first epoch.
EXPLODING = ["train.optimizer=sgd", "train.learning_rate=20", "data=sine", "data.n_samples=256", "train.epochs=3"]
# Five batches an epoch, logged every two: steps 0, 2, 4 (epoch 1), 6, 8, 10 (epoch 2). Drawn inline
# (viz.background=false): under load the skip policy would leave out a step the drawing is behind on
# (CI's step 6), and these tests read exact steps; the skip policy has its own tests (test_batch_logging).
BY_BATCH = ["viz.log_every_batches=2", "data.n_samples=96", "viz.background=false"]
# TensorBoard's names of the runs in the positions logdir: by epoch and by batch, failing; by batch; before positions.
FAILED_BY_EPOCH, FAILED_BY_BATCH, BATCHES, OLDER = (f"{name}/tensorboard" for name in
                                                    ("failed_by_epoch", "failed_by_batch", "batches", "older"))


def train_failing(run_dir, overrides=()):
    """Train EXPLODING (and ``overrides``) in ``run_dir``: the run fails, its directory keeps what was logged.
    Returns where the loss became inf, as the run's failure says it: (epoch, batch)."""
    import re

    from lstm_experiments.errors import TrainingFailed

    with pytest.raises(TrainingFailed, match="loss became") as failed:
        train_tiny(run_dir, [*EXPLODING, *overrides])
    epoch, batch = re.search(r"loss became \S+ in epoch (\d+), batch (\d+)", str(failed.value)).groups()
    return int(epoch), int(batch)


@pytest.fixture(scope="module")
def positions_logdir(tmp_path_factory):
    """{root, failed: {run: (epoch, batch) where its loss became inf}}."""
    root = tmp_path_factory.mktemp("positions")
    failed = {FAILED_BY_EPOCH: train_failing(root / "failed_by_epoch"),
              FAILED_BY_BATCH: train_failing(root / "failed_by_batch", ["viz.log_every_batches=3",
                                                                         "viz.background=false"])}
    train_tiny(root / "batches", BY_BATCH)
    write_gate_steps(root / "older" / "tensorboard", [0, 1])  # no lstm_gates/position
    return {"root": root, "failed": failed}


@pytest.fixture(scope="module")
def positions_client(positions_logdir):
    return Client(make_app(positions_logdir["root"]), Response)


def logged_positions(run_dir):
    """(log_every_batches, [(step, epoch, batch, event)]) of ``lstm_gates/position``, read by TensorBoard's reader."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(run_dir), size_guidance={"tensors": 0})
    accumulator.Reload()
    content = metadata.parse_content(accumulator.SummaryMetadata(metadata.position_tag()).plugin_data.content)
    values = read_tensors(run_dir)[metadata.position_tag()]
    return content.log_every_batches, [(step, int(v[0]), int(v[1]), metadata.EVENTS[int(v[2])]) for step, v in values]


def test_positions_are_what_the_run_logged_of_each_step(positions_client, positions_logdir, client, logdir):
    expected_every = {FAILED_BY_EPOCH: None, FAILED_BY_BATCH: 3, BATCHES: 2}
    for root, route_client, run in [*((positions_logdir["root"], positions_client, r) for r in expected_every),
                                    (logdir, client, LSTM)]:
        answer = get_ok(route_client, "positions", run=run)
        every, logged = logged_positions(root / run)
        assert answer["run"] == run and answer["log_every_batches"] == every == expected_every.get(run)
        assert list(zip(answer["steps"], answer["epoch"], answer["batch"], answer["event"], strict=True)) == logged
        # Every step GATES lists has its position.
        assert answer["steps"] == by_run(get_ok(route_client, "runs"))[run]["steps"]
    # By batch, a step is the optimizer's iteration: steps 2 and 4 in epoch 1, 6 (its first batch) in epoch 2.
    batches = get_ok(positions_client, "positions", run=BATCHES)
    assert batches["steps"][:4] == [0, 2, 4, 6] and batches["epoch"][:4] == [0, 1, 1, 2]
    assert batches["batch"][:4] == [0, 2, 4, 1] and set(batches["event"]) == {""} and batches["failure"] is None
    # By epoch, a step is an epoch: [epoch, batches of that epoch], 0, 0 before training.
    by_epoch = get_ok(client, "positions", run=LSTM)
    assert by_epoch["steps"] == by_epoch["epoch"] == [0, 1, 2, 3, 4] and by_epoch["batch"][0] == 0


def test_a_failing_run_gives_its_failing_and_last_finite_steps(positions_client, positions_logdir):
    runs = by_run(get_ok(positions_client, "runs"))
    for run, by_batch in ((FAILED_BY_EPOCH, False), (FAILED_BY_BATCH, True)):
        answer = get_ok(positions_client, "positions", run=run)
        last, failing = len(answer["steps"]) - 2, len(answer["steps"]) - 1
        assert answer["event"][last:] == ["last_finite", "non_finite"]
        failure = answer["failure"]
        # Where the run's own failure says its loss became inf; the last finite weights one step before.
        assert (failure["epoch"], failure["batch"]) == positions_logdir["failed"][run]
        assert failure == {"step": answer["steps"][failing], "epoch": answer["epoch"][failing],
                           "batch": answer["batch"][failing], "last_finite": answer["steps"][last], "loss": "inf"}
        assert failure["last_finite"] == failure["step"] - 1
        assert (answer["epoch"][last], answer["batch"][last]) == (failure["epoch"], failure["batch"] - 1)
        # /runs: the same, without the loss; both steps kept and listed for the slider.
        entry = runs[run]
        assert entry["failure"] == {key: failure[key] for key in ("step", "epoch", "batch", "last_finite")}
        assert entry["steps"][-2:] == [failure["last_finite"], failure["step"]]
        assert entry["positions"] is True and entry["by_batch"] is by_batch
        assert entry["log_every_batches"] == (3 if by_batch else None)
        for step in (failure["last_finite"], failure["step"]):
            assert get_ok(positions_client, "weights", run=run, layer="lstm", matrix="kernel", step=step)["step"] == step
    assert runs[BATCHES]["failure"] is None and runs[BATCHES]["by_batch"] is True


def test_a_run_logged_before_positions_is_listed_without_them_and_its_positions_are_a_404(positions_client):
    entry = by_run(get_ok(positions_client, "runs"))[OLDER]
    assert (entry["positions"], entry["by_batch"], entry["failure"]) == (False, False, None)
    response = positions_client.get(url("positions", run=OLDER))
    text = response.get_data(as_text=True)
    assert response.status_code == 404 and response.mimetype == "text/plain"
    assert f"run={OLDER}" in text and metadata.position_tag() in text and "\n" not in text.strip()


# --------------------------------------------------------------------------- findings

# TensorBoard's names of the runs in the findings logdir: a user's fit on unnormalised inputs, a healthy one, a
# run logged before findings. GateLogger writes findings.json next to its event file.
BROKEN, HEALTHY = "broken/tensorboard", "healthy/tensorboard"


def train_findings_logger(logdir, units=8, scale=1.0, shift=0.0, epochs=3):
    """A user's own fit through ``GateLogger`` with a probe (findings on), on x * scale + shift: at scale 1000,
    shift 2000 (tests/test_findings.py's broken run) it reports input_scale and saturated_gates since step 0;
    at scale 1 with 4 units, nothing. Returns the findings.json it wrote, read from disk."""
    import keras

    from lstm_experiments import GateLogger

    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 12, 2)).astype("float32")
    y = x[:, -3:, :1].mean(axis=1)
    x = x * scale + shift
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((12, 2)), keras.layers.LSTM(units, name="lstm"), keras.layers.Dense(1)])
    model.compile(keras.optimizers.Adam(0.01), "mse")
    model.fit(x, y, epochs=epochs, batch_size=16, verbose=0,
              callbacks=[GateLogger(logdir, background=False, probe=(x[:16], y[:16]))])
    return json.loads((logdir / "findings.json").read_text())


def train_broken(logdir):
    return train_findings_logger(logdir, scale=1000.0, shift=2000.0)


def train_healthy(logdir):
    return train_findings_logger(logdir, units=4)


@pytest.fixture(scope="module")
def findings_logdir(tmp_path_factory):
    """{root, documents: {run: its findings.json}}; ``older`` logged weights only."""
    root = tmp_path_factory.mktemp("findings")
    documents = {BROKEN: train_broken(root / BROKEN), HEALTHY: train_healthy(root / HEALTHY)}
    write_gate_steps(root / OLDER, [0, 1])
    return {"root": root, "documents": documents}


@pytest.fixture(scope="module")
def findings_client(findings_logdir):
    return Client(make_app(findings_logdir["root"]), Response)


def logged_findings(run_dir):
    """(step, document) of the latest ``lstm_gates/findings`` datum, read with TensorBoard's EventAccumulator."""
    step, value = read_tensors(run_dir)[metadata.findings_tag()][-1]
    (text,) = np.asarray(value).reshape(-1)
    return step, json.loads(text)


def test_findings_are_the_runs_findings_json_at_its_latest_step(findings_client, findings_logdir, client, logdir):
    documents = findings_logdir["documents"]
    cases = [(findings_client, findings_logdir["root"] / run, run, documents[run]) for run in (BROKEN, HEALTHY)]
    # The runner's run: findings.json beside its tensorboard directory.
    cases.append((client, logdir / LSTM, LSTM, json.loads((logdir / "lstm" / "findings.json").read_text())))
    for route_client, run_dir, run, on_disk in cases:
        answer = get_ok(route_client, "findings", run=run)
        step, logged = logged_findings(run_dir)
        assert answer["run"] == run and answer["step"] == step == on_disk["last_step"]
        document = {key: value for key, value in answer.items() if key not in ("run", "step")}
        assert document == on_disk == logged, run
    # What the broken run reports, as tests/test_findings.py has it; the healthy one nothing.
    broken = {f["kind"]: f for f in get_ok(findings_client, "findings", run=BROKEN)["findings"]}
    assert {"input_scale", "saturated_gates"} <= set(broken)
    assert broken["input_scale"]["first_step"] == 0 and broken["input_scale"]["severity"] == "warning"
    assert get_ok(findings_client, "findings", run=HEALTHY)["findings"] == []


def test_runs_say_which_runs_logged_findings(findings_client, client):
    runs = by_run(get_ok(findings_client, "runs"))
    assert {run: entry["findings"] for run, entry in runs.items()} == {BROKEN: True, HEALTHY: True, OLDER: False}
    assert all(entry["findings"] is True for entry in get_ok(client, "runs")["runs"])  # the runner logs them


def test_findings_of_a_run_that_logged_none_or_an_unknown_run_are_a_404(findings_client):
    for run, words in ((OLDER, [f"run={OLDER}", metadata.findings_tag()]), ("nope", ["run=nope"])):
        response = findings_client.get(url("findings", run=run))
        text = response.get_data(as_text=True)
        assert response.status_code == 404 and response.mimetype == "text/plain", text
        assert all(word in text for word in words) and "\n" not in text.strip()
    assert findings_client.get(url("findings")).status_code == 400


def test_findings_read_only_the_findings_tag_of_the_run(findings_logdir):
    spies = []

    def wrap(inner):
        spies.append(SpyProvider(inner))
        return spies[-1]

    client = Client(make_app(findings_logdir["root"], wrap_provider=wrap), Response)
    (spy,) = spies
    assert client.get(url("findings", run=BROKEN)).status_code == 200
    assert [(runs, tags) for _, _, runs, tags in spy.reads] == [({BROKEN}, {metadata.findings_tag()})]


def test_a_failing_runs_findings_say_non_finite_at_its_failing_step(positions_client, positions_logdir):
    for run in (FAILED_BY_EPOCH, FAILED_BY_BATCH):
        failure = by_run(get_ok(positions_client, "runs"))[run]["failure"]
        answer = get_ok(positions_client, "findings", run=run)
        on_disk = json.loads((positions_logdir["root"] / run).parent.joinpath("findings.json").read_text())
        assert {key: value for key, value in answer.items() if key not in ("run", "step")} == on_disk
        (non_finite,) = [f for f in answer["findings"] if f["kind"] == "non_finite"]
        assert non_finite["first_step"] == failure["step"] == answer["step"] and non_finite["severity"] == "warning"


@pytest.mark.parametrize("value", [np.array([b"not json"], dtype=object), np.array([b'{"checked": {}}'], dtype=object),
                                   np.array([b"{}", b"{}"], dtype=object), np.array([b"\xff"], dtype=object)])
def test_a_findings_datum_that_is_not_a_findings_document_is_a_value_error(value):
    from lstm_experiments.board.reader import findings_document

    with pytest.raises(ValueError):
        findings_document(FakeDatum(0, value))
    assert findings_document(FakeDatum(0, np.array([b'{"findings": []}'], dtype=object))) == {"findings": []}


def test_saturation_is_the_scalars_of_each_gate(client, logdir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    body = get_ok(client, "saturation", run=LSTM, layer="lstm")
    assert list(body["gates"]) == ["input", "forget", "cell", "output"]
    acc = EventAccumulator(str(logdir / LSTM), size_guidance={"tensors": 0})
    acc.Reload()
    for gate, sides in body["gates"].items():
        for side in ("low", "high"):
            events = acc.Tensors(f"saturation/lstm/{gate}/{side}")
            assert sides[side] == [[e.step, pytest.approx(float(e.tensor_proto.float_val[0]))] for e in events]
            assert [s for s, _ in sides[side]] == [0, 1, 2, 3, 4]


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(("route", "params", "code", "words"), [
    ("weights", {"layer": "lstm", "matrix": "kernel", "step": 0}, 400, "run"),
    ("weights", {"run": LSTM, "matrix": "kernel", "step": 0}, 400, "layer"),
    ("weights", {"run": LSTM, "layer": "lstm", "step": 0}, 400, "matrix"),
    ("weights", {"run": LSTM, "layer": "lstm", "matrix": "kernel"}, 400, "step"),
    ("weights", {"run": LSTM, "layer": "lstm", "matrix": "kernel", "step": "abc"}, 400, "step=abc is not an integer"),
    ("weights", {"run": LSTM, "layer": "lstm", "matrix": "kernel", "step": "1.5"}, 400, "step=1.5"),
    ("weights", {"run": LSTM, "layer": "lstm", "matrix": "kernel", "step": "-1"}, 400, "step=-1"),
    ("weights", {"run": "nope", "layer": "lstm", "matrix": "kernel", "step": 0}, 404, "run=nope"),
    ("weights", {"run": LSTM, "layer": "gru", "matrix": "kernel", "step": 0}, 404, "layer=gru"),
    ("weights", {"run": LSTM, "layer": "lstm", "matrix": "recurrent_bias", "step": 0}, 404, "matrix=recurrent_bias"),
    ("weights", {"run": LSTM, "layer": "lstm", "matrix": "activations", "step": 0}, 404, "matrix=activations"),
    ("weights", {"run": LSTM, "layer": "lstm", "matrix": "kernel/initial", "step": 0}, 404, "matrix=kernel/initial"),
    ("weights", {"run": LSTM, "layer": "lstm", "matrix": "kernel", "step": 99}, 404, "step=99"),
    ("weights", {"run": "a\nb", "layer": "lstm", "matrix": "kernel", "step": 0}, 404, "run=a\\nb"),
    ("activations", {"run": LSTM, "layer": "lstm", "step": "x"}, 400, "step=x is not an integer"),
    ("activations", {"run": LSTM, "layer": "lstm", "step": 99}, 404, "step=99"),
    ("activations", {"run": LSTM, "layer": "nope", "step": 0}, 404, "layer=nope"),
    ("activations", {"run": "nope", "layer": "lstm", "step": 0}, 404, "run=nope"),
    ("probe", {}, 400, "run"),
    ("probe", {"run": "nope"}, 404, "run=nope"),
    ("saturation", {"run": LSTM}, 400, "layer"),
    ("saturation", {"run": LSTM, "layer": "nope"}, 404, "layer=nope"),
    ("saturation", {"run": "nope", "layer": "lstm"}, 404, "run=nope"),
    ("positions", {}, 400, "run"),
    ("positions", {"run": "nope"}, 404, "run=nope"),
    ("findings", {}, 400, "run"),
    ("findings", {"run": "nope"}, 404, "run=nope"),
])
def test_bad_parameters_answer_one_plain_line(client, route, params, code, words):
    response = client.get(url(route, **params))
    text = response.get_data(as_text=True)
    assert response.status_code == code, text
    assert response.mimetype == "text/plain"
    assert words in text and "\n" not in text.strip() and "Traceback" not in text


# --------------------------------------------------------------------------- static files

TRAVERSALS = [
    "../plugin.py", "%2e%2e/plugin.py", "..%2fplugin.py", "%2e%2e%2fplugin.py", "%252e%252e%252fplugin.py",
    "..%5cplugin.py", "..\\plugin.py", "%2fetc%2fpasswd", "/etc/passwd", "//etc/passwd",
    "static/../../plugin.py", "./index.js", "index.js/", "", "%00index.js", "index.js%00",
    "../../../../../../etc/passwd", "....//plugin.py",
]


def test_static_serves_the_page_module(client):
    response = client.get(f"{PREFIX}/static/index.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert "render" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", TRAVERSALS)
def test_static_refuses_anything_outside_the_page(client, path):
    response = client.get(f"{PREFIX}/static/{path}")
    assert response.status_code == 404, path
    assert "def " not in response.get_data(as_text=True) and "root:" not in response.get_data(as_text=True)


def test_static_refuses_an_absolute_path(client):
    response = client.get(f"{PREFIX}/static/{plugin_module.__file__}")
    assert response.status_code == 404


def test_static_allow_list_and_content_types(tmp_path, monkeypatch, logdir):
    (tmp_path / "index.js").write_text("export function render() {}\n")
    (tmp_path / "style.css").write_text("body { margin: 0 }\n")
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "draw.js").write_text("export const x = 1;\n")
    (tmp_path / ".secret").write_text("no")
    monkeypatch.setattr(plugin_module, "STATIC_DIR", tmp_path)
    client = Client(make_app(logdir), Response)
    assert client.get(f"{PREFIX}/static/style.css").mimetype == "text/css"
    assert client.get(f"{PREFIX}/static/lib/draw.js").mimetype == "text/javascript"
    assert client.get(f"{PREFIX}/static/.secret").status_code == 404
    # Made at start: a file added later is not served.
    (tmp_path / "late.js").write_text("")
    assert client.get(f"{PREFIX}/static/late.js").status_code == 404


# --------------------------------------------------------------------------- how it reads


class SpyProvider:
    """A data provider that records the run-tag filters of every read."""

    def __init__(self, inner):
        self.inner, self.reads = inner, []

    def __getattr__(self, name):
        method = getattr(self.inner, name)
        if not name.startswith("read_"):
            return method

        def read(*args, **kwargs):
            flt = kwargs.get("run_tag_filter")
            self.reads.append((name, kwargs.get("plugin_name"),
                               None if flt is None else flt.runs, None if flt is None else flt.tags))
            return method(*args, **kwargs)

        return read


def test_a_request_reads_only_the_run_and_tag_it_names(logdir):
    spies = []

    def wrap(inner):
        spies.append(SpyProvider(inner))
        return spies[-1]

    client = Client(make_app(logdir, {metadata.PLUGIN_NAME: 2}, wrap), Response)
    (spy,) = spies
    cases = [
        (url("weights", run=LSTM, layer="lstm", matrix="kernel", step=4), [{metadata.weights_tag("lstm", "kernel")}]),
        (url("weights", run=LSTM, layer="lstm", matrix="kernel", step=0),
         [{metadata.weights_tag("lstm", "kernel")}, {metadata.initial_tag("lstm", "kernel")}]),
        (url("activations", run=LSTM, layer="lstm", step=4), [{metadata.activations_tag("lstm")}]),
        (url("probe", run=LSTM), [{metadata.probe_tag()}]),
        (url("positions", run=LSTM), [{metadata.position_tag()}]),
        (url("positions", run=LSTM), []),  # kept while the series is unchanged
    ]
    for request, tags in cases:
        spy.reads.clear()
        assert client.get(request).status_code == 200
        assert [(runs, t) for _, _, runs, t in spy.reads] == [({LSTM}, tag) for tag in tags], request
    spy.reads.clear()
    assert client.get(url("saturation", run=LSTM, layer="lstm")).status_code == 200
    ((name, plugin, runs, tags),) = spy.reads
    assert (name, plugin, runs) == ("read_scalars", "scalars", {LSTM})
    assert tags == {f"saturation/lstm/{g}/{s}" for g in ("input", "forget", "cell", "output") for s in ("low", "high")}


class FakeSeries:
    def __init__(self, content, max_step=0):
        # As TensorBoard's TensorTimeSeries: the listing's max step and wall time say whether it changed.
        self.plugin_content, self.max_step, self.max_wall_time = metadata.encode_content(content), max_step, 0.0


class FakeDatum:
    def __init__(self, step, numpy):
        self.step, self.wall_time, self.numpy = step, 0.0, numpy


class NonFiniteProvider:
    """One run whose kernel holds NaN and infinities, with a NaN scale."""

    content = metadata.WeightsContent(
        kind="weights", layer="lstm", matrix="kernel", cell="lstm", gates=["input", "forget", "cell", "output"],
        units=1, shape=[1, 4], reduced=False, block=1, reduce="maxabs", scale=float("nan"),
    )
    values = np.array([[np.nan, np.inf, -np.inf, 0.5]], dtype=np.float16)

    def list_plugins(self, ctx=None, *, experiment_id):
        return [metadata.PLUGIN_NAME]

    def list_tensors(self, ctx=None, *, experiment_id, plugin_name, run_tag_filter=None):
        return {"run": {metadata.weights_tag("lstm", "kernel"): FakeSeries(self.content)}}

    def read_tensors(self, ctx=None, *, experiment_id, plugin_name, downsample=None, run_tag_filter=None):
        return {"run": {metadata.weights_tag("lstm", "kernel"): [FakeDatum(0, self.values)]}}

    def list_scalars(self, ctx=None, *, experiment_id, plugin_name, run_tag_filter=None):
        return {}


def test_nan_and_infinities_are_json_null():
    from tensorboard.backend import application
    from tensorboard.plugins import base_plugin

    provider = NonFiniteProvider()
    plugin = GatesPlugin(base_plugin.TBContext(data_provider=provider))
    client = Client(application.TensorBoardWSGI([plugin], data_provider=provider), Response)
    text = client.get(url("weights", run="run", layer="lstm", matrix="kernel", step=0)).get_data(as_text=True)
    body = json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} in JSON"))
    assert body["values"] == [[None, None, None, 0.5]] and body["scale"] is None
    index = json.loads(client.get(url("runs")).get_data(as_text=True), parse_constant=pytest.fail)
    assert index["runs"][0]["layers"][0]["matrices"][0]["scale"] is None


# --------------------------------------------------------------------------- TensorBoard finds it


def test_the_plugin_is_listed_with_its_tab_and_module(client):
    listing = json.loads(client.get("/data/plugins_listing").get_data(as_text=True))
    entry = listing[metadata.PLUGIN_NAME]
    assert entry["enabled"] is True and entry["tab_name"] == "GATES"
    assert entry["loading_mechanism"] == {"type": "IFRAME", "module_path": f"{PREFIX}/static/index.js"}


def test_the_entry_point_is_installed():
    (entry,) = [e for e in importlib.metadata.entry_points(group="tensorboard_plugins") if e.name == "lstm_gates"]
    assert entry.load() is GatesPlugin


@pytest.mark.slow
def test_a_real_tensorboard_serves_the_tab_with_no_flag(logdir):
    with tensorboard(logdir, expected_runs=2) as base:
        listing = get_json(f"{base}/data/plugins_listing")
        assert listing[metadata.PLUGIN_NAME]["enabled"] is True
        index = get_json(f"{base}{PREFIX}/runs")
        runs = by_run(index)
        assert set(runs) == {LSTM, GRU} and runs[GRU]["name"] == HOSTILE
        assert runs[LSTM]["steps"] == [0, 1, 2, 3, 4]
        query = urllib.parse.urlencode({"run": GRU, "layer": "gru", "matrix": "recurrent_bias", "step": 0})
        body = get_json(f"{base}{PREFIX}/weights?{query}")
        assert body["shape"] == [1, 12]
        with urllib.request.urlopen(f"{base}{PREFIX}/static/index.js") as response:
            assert response.headers.get_content_type() == "text/javascript"


# --------------------------------------------------------------------------- launcher


def test_launcher_keeps_every_step_and_merges_given_samples():
    command = launcher.tensorboard_command("outputs", 6123, ["--samples_per_plugin", "images=5,scalars=7", "--bind_all"])
    assert command[1:3] == ["-m", "tensorboard.main"]
    assert command[command.index("--logdir") + 1] == "outputs"
    assert command[command.index("--port") + 1] == "6123"
    keep_every_step = f"{metadata.PLUGIN_NAME}={metadata.KEEP_EVERY_STEP}"
    assert command[command.index("--samples_per_plugin") + 1] == f"{keep_every_step},images=5,scalars=7"
    assert command.count("--samples_per_plugin") == 1 and command[-1] == "--bind_all"
    plain = launcher.tensorboard_command("outputs", 6006)
    assert plain[plain.index("--samples_per_plugin") + 1] == f"{keep_every_step},images=1000"
    assert metadata.SAMPLES_FLAG == f"--samples_per_plugin={keep_every_step}"


def test_the_readme_gives_the_flag_the_banner_gives():
    from conftest import REPO

    readme = (REPO / "README.md").read_text()
    assert f"`{metadata.SAMPLES_FLAG}`" in readme
    assert launcher.dashboard_url(6123) == "http://localhost:6123/#lstm_gates"


def test_launcher_refuses_a_missing_logdir(tmp_path, capsys):
    assert launcher.main([str(tmp_path / "nope")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nope" in err and "does not exist" in err


@pytest.mark.slow
def test_launcher_serves_the_dashboard_and_stops_tensorboard_on_sigterm(logdir, tmp_path):
    import os
    import subprocess
    import sys

    from tests.helpers.tensorboard_server import free_port

    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    with open(tmp_path / "stderr", "w") as stderr:
        launched = subprocess.Popen(
            [sys.executable, "-c", "import sys; from lstm_experiments.board.launcher import main; sys.exit(main())",
             str(logdir), "--port", str(port), "--host", "127.0.0.1"],
            stdout=subprocess.PIPE, stderr=stderr, text=True, env=env,
        )
    try:
        assert launched.stdout.readline().split()[2] == f"http://localhost:{port}/#lstm_gates"
        index = get_json(f"http://127.0.0.1:{port}{PREFIX}/runs")
        assert index["downsampled"] is False and len(index["runs"]) == 2
        launched.terminate()
        assert launched.wait(timeout=60) == 130
        # TensorFlow's start-up lines are held back; TensorBoard's own come through.
        said = (tmp_path / "stderr").read_text()
        assert "TensorBoard" in said and f":{port}" in said, said
        for noise in ("cudart_stub", "cuInit", "absl::InitializeLog", "oneDNN custom operations"):
            assert noise not in said, said
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/data/runs", timeout=5)
    finally:
        if launched.poll() is None:
            launched.kill()


@pytest.mark.slow
def test_the_wheel_carries_the_page_and_the_entry_point(tmp_path):
    import subprocess
    import sys
    import zipfile

    from conftest import REPO

    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path),
                    str(REPO)], check=True, capture_output=True, text=True, timeout=300)
    (wheel,) = tmp_path.glob("lstm_experiments-*.whl")
    archive = zipfile.ZipFile(wheel)
    names = set(archive.namelist())
    page = {f"lstm_experiments/board/static/{name}" for name in static_files(plugin_module.STATIC_DIR)}
    assert "lstm_experiments/board/static/index.js" in page and page <= names
    (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    text = archive.read(entry_points).decode()
    assert "[tensorboard_plugins]\nlstm_gates = lstm_experiments.board.plugin:GatesPlugin" in text
    assert "lstm-experiments-board = lstm_experiments.board.launcher:main" in text
