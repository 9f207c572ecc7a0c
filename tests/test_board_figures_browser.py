"""The GATES tab's figures (issue 22) in Debian's Chromium through Playwright, against a real TensorBoard.

One tiny run, shared by the module: a user's own ``fit`` through ``GateLogger`` with a probe (findings on,
the activations logged), on inputs x3 so that some gate values saturate. Each figure the page draws is
hovered where the page says it put a value (``data-plot``: the plot area of its canvas), and the tooltip's
full-precision value is compared with what TensorBoard's own ``EventAccumulator`` reads back from the
event file (``conftest.read_tensors``): the gradient through time, the unit saturation scatter, the
saturation charts' two parts; the units order is checked against the logged permutation, by the canvas'
own pixels (the activations' units axis, and both axes of the forget gate's recurrent kernel). The page's test hooks are listed at the top of ``board/static/index.js``.
"""

import numpy as np
import pytest

from conftest import read_tensors
from test_board_browser import Gates, browser, chromium, tensorboard_run  # noqa: F401 (browser, chromium: fixtures)
from tests.helpers.tensorboard_server import get_json, tensorboard

from lstm_experiments.board import metadata

pytestmark = pytest.mark.slow

RUN = "figures"
UNITS = 6
EPOCHS = 2
STEPS = list(range(EPOCHS + 1))
GATES = ["input", "forget", "cell", "output"]
ORDERS = ["built", "saturation", "activity", "similarity"]
SCATTER_HOVER_PX = 6  # unit_scatter.js' HOVER_RADIUS_PX


def fit_with_figures(logdir):
    """GateLogger on an LSTM over 12 steps of inputs x3, with the activations and the findings' figures."""
    import keras

    from lstm_experiments import GateLogger

    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 12, 2)).astype("float32")
    y = x[:, -3:, :1].mean(axis=1)
    x = x * 3.0
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((12, 2)), keras.layers.LSTM(UNITS, name="lstm"), keras.layers.Dense(1)])
    model.compile(keras.optimizers.Adam(0.01), "mse")
    model.fit(x, y, epochs=EPOCHS, batch_size=16, verbose=0,
              callbacks=[GateLogger(logdir, background=False, probe=(x[:16], y[:16]),
                                    visualizers=("gates", "activations"))])


@pytest.fixture(scope="module")
def logged(tmp_path_factory, chromium):
    """{logdir, tensors: {tag: [(step, value)]}} of the run, as TensorBoard's EventAccumulator reads it."""
    root = tmp_path_factory.mktemp("figures")
    fit_with_figures(root / tensorboard_run(RUN))
    tensors = read_tensors(root / tensorboard_run(RUN))
    return {"logdir": root, "tensors": tensors}


@pytest.fixture(scope="module")
def server(logged):
    with tensorboard(logged["logdir"], expected_runs=1, extra_args=["--samples_per_plugin", "lstm_gates=1000"]) as base:
        get_json(f"{base}/data/plugin/lstm_gates/runs")
        yield base


@pytest.fixture(scope="module")
def gates(browser, server):
    opened = Gates(browser, server)
    yield opened
    opened.close()
    assert not opened.errors, opened.errors


def at_step(series, step):
    (value,) = [value for s, value in series if s == step]
    return value


def plot_area(locator):
    left, top, width, height = (float(v) for v in locator.get_attribute("data-plot").split(","))
    return left, top, width, height


def hover_at(gates, locator, x, y):
    """Hover a canvas at (x, y) CSS px from its top left; the tooltip's data-* once it is shown."""
    locator.scroll_into_view_if_needed()
    locator.hover(position={"x": float(x), "y": float(y)})
    tooltip = gates.frame.locator("[data-testid=tooltip]")
    tooltip.wait_for(state="visible")
    return tooltip.evaluate("(node) => ({...node.dataset, text: node.innerText})")


def test_the_gradient_through_time_chart_shows_the_logged_norms(gates, logged):
    norms = logged["tensors"][metadata.through_time_tag("lstm")]
    assert [step for step, _ in norms] == STEPS
    chart = gates.frame.locator("[data-testid=through-time-chart]")
    assert chart.count() == 1 and chart.get_attribute("data-states") == "h,c"
    for step in (STEPS[-1], 0):
        gates.move_slider(step)
        assert chart.get_attribute("data-step") == str(step)
        values = at_step(norms, step)  # (states, time), float64
        time = values.shape[1]
        left, top, width, height = plot_area(chart)
        for t in (0, time // 2, time - 1):
            said = hover_at(gates, chart, left + t * width / (time - 1), top + height / 2)
            assert said["time"] == str(t) and said["step"] == str(step), said
            # Full precision: the shortest text of the float64 the event file holds.
            assert float(said["h"]) == values[0, t] and float(said["c"]) == values[1, t], (said, values[:, t])
            assert f"t = {t}" in said["text"]
        # The line under the chart: the first norm over the last, what the vanishing rule reads.
        text = gates.frame.locator("[data-testid=through-time-text]").inner_text()
        assert text.startswith(f"step {step} · t=0 / t={time - 1}: h ")
        assert gates.frame.locator("[data-testid=jump-figures]").count() == 1


def test_the_unit_saturation_scatter_shows_each_units_logged_fractions(gates, logged):
    gates.move_slider(STEPS[-1])
    rows = at_step(logged["tensors"][metadata.units_tag("lstm")], STEPS[-1])  # float32 (rows, units)
    assert rows.shape == (2 * len(GATES) + 1 + len(ORDERS), UNITS)
    assert (rows[: 2 * len(GATES)] > 0).any()  # inputs x3: some values saturate
    for g, gate in enumerate(GATES):
        left_row, right_row = rows[2 * g], rows[2 * g + 1]
        scatter = gates.frame.locator(f"[data-testid=unit-scatter][data-gate={gate}]")
        assert scatter.get_attribute("data-step") == str(STEPS[-1]) and scatter.get_attribute("data-units") == str(UNITS)
        x0, y0, width, height = plot_area(scatter)
        for unit in (0, UNITS - 1, int(np.argmax(left_row + right_row))):
            said = hover_at(gates, scatter, x0 + left_row[unit] * width, y0 + height - right_row[unit] * height)
            shown = int(said["unit"])
            # The nearest dot is described: the hovered unit's, or one on (nearly) the same spot.
            assert unit in [int(u) for u in said["units"].split(",")], said
            spot = np.hypot((left_row[shown] - left_row[unit]) * width, (right_row[shown] - right_row[unit]) * height)
            assert spot <= SCATTER_HOVER_PX, (said, unit)
            assert float(said["left"]) == float(left_row[shown]) and float(said["right"]) == float(right_row[shown])
            assert said["gate"] == gate and f"unit {shown}: left " in said["text"]


def _panel_rows(locator) -> list:
    """A heat canvas' pixels as rows (one per unit place) of [r, g, b] per time step."""
    return locator.evaluate("""(canvas) => {
        const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
        const rows = [];
        for (let y = 0; y < canvas.height; y++) {
          const row = [];
          for (let x = 0; x < canvas.width; x++) { const i = (y * canvas.width + x) * 4; row.push([data[i], data[i + 1], data[i + 2]]); }
          rows.push(row);
        }
        return rows; }""")


def test_the_units_order_puts_each_unit_where_the_logged_permutation_says(gates, logged):
    step = STEPS[-1]
    gates.move_slider(step)
    rows = at_step(logged["tensors"][metadata.units_tag("lstm")], step)
    select = gates.frame.locator("[data-testid=unit-order-select]")
    assert select.input_value() == "built"  # the default
    forget = gates.frame.locator("[data-testid=activation-panel][data-panel=forget]")
    built = _panel_rows(forget)
    assert len(built) == UNITS and forget.get_attribute("data-order") == "built"
    assert len({str(row) for row in built}) == UNITS  # every unit's row differs: a move shows
    moved = 0
    for k, by in enumerate(ORDERS[1:], start=1):
        order = rows[2 * len(GATES) + 1 + k].astype(int).tolist()
        assert sorted(order) == list(range(UNITS))
        moved += order != list(range(UNITS))
        select.select_option(by)
        gates.frame.wait_for_function(
            "(by) => [...document.querySelectorAll('[data-testid=activation-panel]')].every((c) => c.dataset.order === by)",
            arg=by)
        gates.wait_complete(step)
        places = gates.frame.eval_on_selector_all("[data-testid=activation-panel]", "(nodes) => nodes.map((n) => n.dataset.places)")
        assert set(places) == {",".join(map(str, order))}, (by, places)
        # Row r shows unit order[r]: the pixels of the panel as built, moved.
        assert _panel_rows(forget) == [built[unit] for unit in order], by
        said = gates.hover_cell("[data-testid=activation-panel][data-panel=forget]", 0, 1).evaluate(
            "(node) => ({...node.dataset})")
        assert said["unit"] == str(order[0]) and said["place"] == "0", (by, said)
    assert moved  # at least one logged order is not the units as built
    select.select_option("built")
    gates.wait_complete(step)
    assert _panel_rows(forget) == built


def test_the_units_order_moves_both_axes_of_the_recurrent_kernel(gates, logged):
    """The forget gate's recurrent kernel in a logged order: rows (h units) and columns (gate units) both moved."""
    step = STEPS[-1]
    gates.move_slider(step)
    rows = at_step(logged["tensors"][metadata.units_tag("lstm")], step)
    saved = np.asarray(at_step(logged["tensors"][metadata.weights_tag("lstm", "recurrent_kernel")], step))
    assert saved.shape == (UNITS, UNITS * len(GATES))
    select = gates.frame.locator("[data-testid=unit-order-select]")
    select.select_option("built")
    gates.wait_complete(step)
    selector = "[data-testid=panel][data-matrix=recurrent_kernel][data-gate=forget]"
    panel = gates.frame.locator(selector)
    assert panel.get_attribute("data-order") == "built"
    built = _panel_rows(panel)
    # An order that moves the units (as in the activations' test, at least one does).
    by, order = next((by, order) for k, by in enumerate(ORDERS[1:], start=1)
                     for order in [rows[2 * len(GATES) + 1 + k].astype(int).tolist()] if order != list(range(UNITS)))
    select.select_option(by)
    gates.frame.wait_for_function(
        "(by) => [...document.querySelectorAll('[data-testid=panel]')].every((c) => c.dataset.order === by)", arg=by)
    gates.wait_complete(step)
    places = ",".join(map(str, order))
    assert panel.get_attribute("data-row-places") == places and panel.get_attribute("data-col-places") == places
    # Place (r, c) shows the as-built cell (order[r], order[c]).
    assert _panel_rows(panel) == [[built[order[r]][order[c]] for c in range(UNITS)] for r in range(UNITS)], by
    # A moved cell's hover names its true h unit and gate unit, and reads the event file's value.
    row, col = next((r, c) for r in range(UNITS) for c in range(UNITS) if order[r] != r and order[c] != c)
    said = gates.hover_cell(selector, row, col).evaluate("(node) => ({...node.dataset, text: node.innerText})")
    assert said["row"] == str(order[row]) and said["unit"] == str(order[col]), (by, said)
    assert (said["placeRow"], said["placeCol"]) == (str(row), str(col)), said
    forget = GATES.index("forget") * UNITS
    assert float(said["value"]) == float(saved[order[row], forget + order[col]]), (said, saved)
    assert f"h unit {order[row]} · unit {order[col]}" in said["text"], said["text"]
    select.select_option("built")
    gates.wait_complete(step)
    assert _panel_rows(panel) == built


def test_saturation_reads_as_one_figure_with_its_parts_on_hover_and_the_input_has_its_range(gates, logged):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    step = STEPS[-1]
    gates.move_slider(step)
    accumulator = EventAccumulator(str(logged["logdir"] / tensorboard_run(RUN)), size_guidance={"tensors": 0})
    accumulator.Reload()
    part = {side: {e.step: float(np.float32(e.tensor_proto.float_val[0]))
                   for e in accumulator.Tensors(f"saturation/lstm/forget/{side}")} for side in ("low", "high")}
    chart = gates.frame.locator("[data-testid=saturation-panel][data-gate=forget]")
    box = chart.bounding_box()
    said = hover_at(gates, chart, box["width"] - 5, box["height"] / 2)  # the last step, at the right
    assert said["step"] == str(step), said
    assert float(said["low"]) == part["low"][step] and float(said["high"]) == part["high"][step]
    assert float(said["value"]) == pytest.approx(part["low"][step] + part["high"][step], rel=1e-12)
    text = gates.frame.locator("[data-testid=saturation-text]").nth(GATES.index("forget")).inner_text()
    assert text.startswith(f"step {step}: ") and text.endswith(" saturated")
    # The input's lines: their y axis is the step's [min, max] of what the layer read, written on it.
    (inputs,) = [value for s, value in logged["tensors"][metadata.input_tag("lstm")] if s == step]
    panel = gates.frame.locator("[data-testid=input-panel][data-panel=forget]")
    finite = np.asarray(inputs, np.float64)[np.isfinite(inputs)]
    assert float(panel.get_attribute("data-min")) == finite.min() and float(panel.get_attribute("data-max")) == finite.max()
