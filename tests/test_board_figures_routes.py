"""The GATES tab's figures routes, ``/through_time`` and ``/units``, on real tiny runs served as TensorBoard serves them.

The same app as tests/test_board_routes.py (``EventMultiplexer`` -> ``MultiplexerDataProvider`` ->
``GatesPlugin`` -> werkzeug's test client). Each answer is compared with what TensorBoard's own
``EventAccumulator`` reads back from the event file (``conftest.read_tensors``); a run written by the
project's own writer holds NaN, infinities and an order that is not a permutation.
"""

from types import SimpleNamespace

import numpy as np
import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Response

from conftest import read_tensors, train_tiny
from test_board_routes import SpyProvider, by_run, get_ok, make_app, url, write_gate_steps

from lstm_experiments.board import metadata
from lstm_experiments.board.summary import GateBoard

GATES = ["input", "forget", "cell", "output"]
ORDERS = ["built", "saturation", "activity", "similarity"]
# The runner's tiny runs (conftest.TINY: 4 units, 6 time steps, steps 0, 1, 2), with findings on (the default).
LSTM, GRU = "lstm/tensorboard", "gru/tensorboard"
# Written by the project's writer: figures with NaN and infinities; a run that logged no figures.
WRITTEN, BARE = "written/tensorboard", "bare/tensorboard"
WRITTEN_STEPS = [0, 1]
WRITTEN_UNITS = 3


def written_figures(step):
    """The ``findings.figures.LayerFigures`` of the written run at a step: the norms hold NaN and +-inf,
    and the similarity order is not a permutation (a unit twice)."""
    return SimpleNamespace(
        layer="lstm", cell="lstm", units=WRITTEN_UNITS,
        through_time={"h": np.array([1e-8, np.nan, np.inf, 2.0 + step]), "c": np.array([-np.inf, 1e-3, 0.5, 1.0])},
        unit_saturation={gate: (np.array([0.0, 0.25, np.nan]) + g * 0.01, np.array([1.0, 0.5, 0.125]) - g * 0.01)
                         for g, gate in enumerate(GATES)},
        activity_std=np.array([0.5, np.inf, 0.0]),
        orders={"built": np.arange(3), "saturation": np.array([2, 0, 1]), "activity": np.array([1, 0, 2]),
                "similarity": np.array([0, 0, 1])},
    )


def write_figures_run(tensorboard_dir):
    from lstm_experiments.tensorboard.summaries import Summaries
    from lstm_experiments.tensorboard.writer import SummaryWriter

    write_gate_steps(tensorboard_dir, [*WRITTEN_STEPS, 2], units=WRITTEN_UNITS)  # step 2: weights only
    writer = SummaryWriter(tensorboard_dir)
    try:
        for step in WRITTEN_STEPS:
            writer.write(step, Summaries(tensors=GateBoard().layer_figures(written_figures(step))))
    finally:
        writer.close()


@pytest.fixture(scope="module")
def logdir(tmp_path_factory):
    root = tmp_path_factory.mktemp("figures")
    train_tiny(root / "lstm", ["viz=[gates]"])
    train_tiny(root / "gru", ["viz=[gates]", "model=gru"])
    write_figures_run(root / WRITTEN)
    write_gate_steps(root / BARE, [0, 1])
    return root


@pytest.fixture(scope="module")
def client(logdir):
    return Client(make_app(logdir), Response)


def as_floats(values):
    """A route's list (None for NaN and infinities) as float64, None -> NaN."""
    return np.array([np.nan if v is None else v for v in values], np.float64)


# --------------------------------------------------------------------------- /runs


def test_runs_say_per_layer_which_figures_it_logged(client):
    layers = {run: entry["layers"][0] for run, entry in by_run(get_ok(client, "runs")).items()}
    assert {run: layer["through_time"] for run, layer in layers.items()} == {
        LSTM: ["h", "c"], GRU: ["h"], WRITTEN: ["h", "c"], BARE: None}
    unit_figures = {run: layer["unit_figures"] for run, layer in layers.items()}
    assert unit_figures[LSTM] == {"gates": GATES, "orders": ORDERS}
    assert unit_figures[GRU] == {"gates": ["update", "reset", "candidate"], "orders": ORDERS}
    assert unit_figures[BARE] is None


# --------------------------------------------------------------------------- /through_time


@pytest.mark.parametrize("run", [LSTM, GRU])
def test_through_time_is_the_logged_norms_at_every_step(client, logdir, run):
    logged = read_tensors(logdir / run)[metadata.through_time_tag("lstm" if run == LSTM else "gru")]
    states = ["h", "c"] if run == LSTM else ["h"]
    assert [step for step, _ in logged] == [0, 1, 2]
    for step, values in logged:
        body = get_ok(client, "through_time", run=run, layer="lstm" if run == LSTM else "gru", step=step)
        assert body["run"] == run and body["step"] == step and body["states"] == states
        assert body["time"] == values.shape[1] == 6
        for index, state in enumerate(states):
            assert as_floats(body["norms"][state]).tolist() == values[index].tolist()  # float64, exactly
            assert (values[index] > 0).all()


def test_through_time_sends_nan_and_infinities_as_null(client, logdir):
    logged = dict(read_tensors(logdir / WRITTEN)[metadata.through_time_tag("lstm")])
    body = get_ok(client, "through_time", run=WRITTEN, layer="lstm", step=1)
    assert body["norms"] == {"h": [1e-8, None, None, 3.0], "c": [None, 1e-3, 0.5, 1.0]}
    np.testing.assert_array_equal(as_floats(body["norms"]["h"]), np.where(np.isfinite(logged[1][0]), logged[1][0], np.nan))


# --------------------------------------------------------------------------- /units


@pytest.mark.parametrize("run", [LSTM, GRU])
def test_units_are_the_logged_rows_at_every_step(client, logdir, run):
    layer = "lstm" if run == LSTM else "gru"
    logged = read_tensors(logdir / run)[metadata.units_tag(layer)]
    gates = GATES if run == LSTM else ["update", "reset", "candidate"]
    for step, values in logged:
        body = get_ok(client, "units", run=run, layer=layer, step=step)
        assert body["step"] == step and body["units"] == 4 and body["gates"] == gates
        assert values.shape == (2 * len(gates) + 1 + len(ORDERS), 4)
        for g, gate in enumerate(gates):
            assert body["saturation"][gate]["left"] == values[2 * g].tolist()
            assert body["saturation"][gate]["right"] == values[2 * g + 1].tolist()
        assert body["activity"] == values[2 * len(gates)].tolist()
        assert list(body["orders"]) == ORDERS
        for k, by in enumerate(ORDERS):
            order = body["orders"][by]
            assert order == values[2 * len(gates) + 1 + k].astype(int).tolist() and sorted(order) == [0, 1, 2, 3]
        assert body["orders"]["built"] == [0, 1, 2, 3]


def test_units_send_nan_as_null_and_an_order_that_is_not_a_permutation_as_null(client):
    body = get_ok(client, "units", run=WRITTEN, layer="lstm", step=0)
    assert body["saturation"]["input"] == {"left": [0.0, 0.25, None], "right": [1.0, 0.5, 0.125]}
    forget = body["saturation"]["forget"]
    assert forget["left"][:2] == pytest.approx([0.01, 0.26]) and forget["left"][2] is None
    assert body["activity"] == [0.5, None, 0.0]
    assert body["orders"] == {"built": [0, 1, 2], "saturation": [2, 0, 1], "activity": [1, 0, 2], "similarity": None}


# --------------------------------------------------------------------------- errors and reads


@pytest.mark.parametrize("route", ["through_time", "units"])
@pytest.mark.parametrize(("params", "code", "words"), [
    ({"layer": "lstm", "step": 0}, 400, "run is missing"),
    ({"run": LSTM, "step": 0}, 400, "layer is missing"),
    ({"run": LSTM, "layer": "lstm"}, 400, "step is missing"),
    ({"run": LSTM, "layer": "lstm", "step": "x"}, 400, "step=x is not an integer"),
    ({"run": LSTM, "layer": "lstm", "step": "-1"}, 400, "step=-1"),
    ({"run": "nope", "layer": "lstm", "step": 0}, 404, "run=nope"),
    ({"run": LSTM, "layer": "nope", "step": 0}, 404, "layer=nope"),
    ({"run": LSTM, "layer": "lstm", "step": 99}, 404, "step=99 not found"),
    # Written at steps 0 and 1 only: step 2 holds weights, no figures (as a failing step).
    ({"run": WRITTEN, "layer": "lstm", "step": 2}, 404, "(kept steps: 0, 1)"),
    ({"run": BARE, "layer": "lstm", "step": 0}, 404, "layer=lstm of run=bare/tensorboard logged no"),
])
def test_bad_parameters_answer_one_plain_line(client, route, params, code, words):
    response = client.get(url(route, **params))
    text = response.get_data(as_text=True)
    assert response.status_code == code, text
    assert response.mimetype == "text/plain"
    assert words in text and "\n" not in text.strip() and "Traceback" not in text


def test_a_figures_request_reads_only_the_run_and_tag_it_names(logdir):
    spies = []

    def wrap(inner):
        spies.append(SpyProvider(inner))
        return spies[-1]

    client = Client(make_app(logdir, wrap_provider=wrap), Response)
    (spy,) = spies
    for route, tag in (("through_time", metadata.through_time_tag("lstm")), ("units", metadata.units_tag("lstm"))):
        for step in (2, 0):  # the latest (one datum's read), an earlier one (the series)
            spy.reads.clear()
            assert client.get(url(route, run=LSTM, layer="lstm", step=step)).status_code == 200
            assert spy.reads and all((runs, tags) == ({LSTM}, {tag}) for _, _, runs, tags in spy.reads), spy.reads
