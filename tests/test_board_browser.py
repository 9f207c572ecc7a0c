"""The GATES tab (board/static) in Debian's Chromium through Playwright, against a real TensorBoard.

Three tiny real runs in one log directory (units 4 and 6, and one whose directory is
named like an HTML injection), served once per module with
``--samples_per_plugin lstm_gates=1000``; in a log directory and TensorBoard of its
own, a ``GateLogger`` run of an ``Embedding(mask_zero=True)``-fed LSTM under a stacked one
(what each layer read, masked steps); and in a third, a run whose loss became inf and a
run logged every 2 batches (where each step stands in training); in a fourth, two ``GateLogger`` fits, one on
unnormalised inputs and a healthy one (the findings list). The page's test hooks are listed at the top of
``board/static/index.js``. The page's pure functions have node unit tests in tests/js/.
"""

import math
import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from conftest import TINY, saved_matrices, train_tiny
from tests.helpers.tensorboard_server import get_json, tensorboard

pytestmark = pytest.mark.slow

MALICIOUS = "<img src=x onerror=alert(1)>"
RUNS = {"units=4": ["units=4"], "units=6": ["units=6"], MALICIOUS: ["units=5"]}
EPOCHS = 2
STEPS = list(range(EPOCHS + 1))  # step 0, then one per epoch
GATES = ["input", "forget", "cell", "output"]
MATRICES = ["kernel", "recurrent_kernel", "bias"]
# float16 keeps 11 significant bits; the tooltip shows 5 significant digits.
RELATIVE = 2.0**-11 + 1e-4


def tensorboard_run(name: str) -> str:
    return f"{name}/tensorboard"


@pytest.fixture(scope="module")
def chromium():
    pytest.importorskip("playwright")
    from tests.helpers.tensorboard_browser import find_chromium

    if find_chromium() is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have chromium: .ci/run installs it with apt-get")
        pytest.skip("chromium is not installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def logdir(tmp_path_factory, chromium):
    root = tmp_path_factory.mktemp("board")
    for name, overrides in RUNS.items():
        train_tiny(root / name, [*TINY, *overrides, f"train.epochs={EPOCHS}", "viz=[gates,activations]"])
    return root


@pytest.fixture(scope="module")
def server(logdir):
    with tensorboard(logdir, expected_runs=len(RUNS), extra_args=["--samples_per_plugin", "lstm_gates=1000"]) as base:
        # The plugin lists a run once TensorBoard has read its lstm_gates tags.
        get_json(f"{base}/data/plugin/lstm_gates/runs")
        yield base


@pytest.fixture(scope="module")
def browser(chromium):
    from tests.helpers.tensorboard_browser import Browser

    with Browser() as session:
        yield session


class Gates:
    """One browser page on the GATES tab: its TensorBoard page, the plugin's frame, what went wrong."""

    def __init__(self, browser, base, routes=None, viewport=None, same_steps=True):
        """``same_steps=False``: the runs hold different steps, so a run's panels show its own latest step
        at first, not the slider's; wait for the page alone (a test then ticks one run)."""
        from tests.helpers.tensorboard_browser import VIEWPORT, plugin_frame

        self.dialogs, self.errors = [], []
        self.page = browser._browser.new_page(viewport=viewport or VIEWPORT)
        self.page.set_default_timeout(60_000)
        for pattern, handler in (routes or {}).items():
            self.page.route(pattern, handler)
        self.page.on("dialog", self._on_dialog)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.goto(f"{base}/#lstm_gates")
        self.frame = plugin_frame(self.page, "lstm_gates")
        if same_steps:
            self.wait_complete()
        else:
            self.frame.wait_for_function("(root) => document.querySelector(root)?.dataset.complete === 'true'",
                                         arg="[data-testid=lstm-gates]")

    def _on_dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def close(self):
        self.page.close()

    def select_runs(self, names):
        """Check exactly these runs (display names) in the run picker."""
        wanted = {tensorboard_run(name) for name in names}
        boxes = self.frame.locator("[data-testid=run-checkbox]")
        for index in range(boxes.count()):
            box = boxes.nth(index)
            if (box.get_attribute("data-run") in wanted) != box.is_checked():
                box.click()
        self.wait_complete()

    def wait_complete(self, step=None):
        """Wait until every panel shows ``step`` (default: the slider's step)."""
        from tests.helpers.tensorboard_browser import wait_for_gates

        wait_for_gates(self.frame, step)

    def panels(self, selector="[data-testid=panel]"):
        return self.frame.eval_on_selector_all(selector, "(nodes) => nodes.map((n) => ({...n.dataset}))")

    def move_slider(self, step):
        self.frame.locator("[data-testid=step-slider]").fill(str(step))
        self.wait_complete(step)

    def hover_cell(self, canvas_selector, row, col):
        canvas = self.frame.locator(canvas_selector)
        box = canvas.bounding_box()
        rows, cols = int(canvas.get_attribute("data-rows")), int(canvas.get_attribute("data-cols"))
        canvas.hover(position={"x": (col + 0.5) * box["width"] / cols, "y": (row + 0.5) * box["height"] / rows})
        tooltip = self.frame.locator("[data-testid=tooltip]")
        tooltip.wait_for(state="visible")
        return tooltip


@pytest.fixture
def gates(browser, server):
    opened = Gates(browser, server)
    yield opened
    opened.close()
    assert not opened.errors, opened.errors


def test_gates_tab_loads_with_a_grid_of_matrices_by_gates(gates):
    assert gates.page.get_by_text("GATES", exact=True).count() >= 1  # TensorBoard's tab
    boxes = gates.frame.locator("[data-testid=run-checkbox]")
    assert sorted(boxes.nth(i).get_attribute("data-run") for i in range(boxes.count())) == sorted(
        tensorboard_run(name) for name in RUNS
    )
    gates.select_runs(["units=4"])
    panels = gates.panels()
    assert {(p["matrix"], p["gate"]) for p in panels} == {(m, g) for m in MATRICES for g in GATES}
    assert {p["step"] for p in panels} == {str(STEPS[-1])}  # follow latest is the default
    # The recurrent kernel of a 4-unit LSTM: 4 x 4 cells per gate.
    forget = [p for p in panels if p["matrix"] == "recurrent_kernel" and p["gate"] == "forget"]
    assert [(p["rows"], p["cols"]) for p in forget] == [("4", "4")]
    assert gates.frame.locator("[data-testid=activation-panel]").count() == 6  # 4 gates, cell, hidden
    assert gates.frame.locator("[data-testid=banner]").is_hidden()  # every step kept
    label = gates.frame.locator("[data-testid=step-label]").inner_text()
    assert label == f"step {STEPS[-1]} · after epoch {STEPS[-1]}"  # by epoch, a step is an epoch


def test_moving_the_slider_to_step_k_shows_step_k_in_every_panel(gates):
    gates.select_runs(["units=4", "units=6"])
    for step in (0, 1, STEPS[-1], 1):
        gates.move_slider(step)
        shown = gates.frame.evaluate("() => window.lstmGates.shownSteps()")
        assert shown and {entry["step"] for entry in shown} == {step}, shown
        assert {entry["testid"] for entry in shown} >= {"panel", "activation-panel", "saturation-panel"}
        assert gates.frame.locator("[data-testid=step-label]").get_attribute("data-step") == str(step)
    # The user's step holds: follow latest went off.
    assert not gates.frame.locator("[data-testid=follow-latest]").is_checked()
    # The keyboard steps too.
    gates.frame.locator("[data-testid=step-label]").click()
    gates.page.keyboard.press("ArrowLeft")
    gates.wait_complete(0)
    gates.page.keyboard.press("ArrowRight")
    gates.wait_complete(1)


def test_hovering_the_forget_gates_recurrent_kernel_shows_the_saved_models_value(gates, logdir):
    gates.select_runs(["units=6"])
    final, initial = saved_matrices(logdir / "units=6")
    units = 6
    forget = GATES.index("forget") * units
    canvas = "[data-testid=panel][data-matrix=recurrent_kernel][data-gate=forget]"
    for row, unit in ((0, 0), (2, 5), (5, 3)):
        tooltip = gates.hover_cell(canvas, row, unit)
        text = tooltip.inner_text()
        assert tooltip.get_attribute("data-row") == str(row) and tooltip.get_attribute("data-unit") == str(unit)
        assert "units=6" in text and "lstm" in text and "recurrent_kernel" in text and "forget" in text
        assert f"h unit {row}" in text and f"unit {unit}" in text
        shown = float(re.search(rf"value (\S+) at step {STEPS[-1]}", text).group(1))
        saved = float(final["lstm"]["recurrent_kernel"][row, forget + unit])
        assert math.isclose(shown, saved, rel_tol=RELATIVE, abs_tol=1e-7), (text, saved)
        start = float(re.search(r"\n(\S+) at step 0", text).group(1))
        saved_start = float(initial["lstm"]["recurrent_kernel"][row, forget + unit])
        assert math.isclose(start, saved_start, rel_tol=RELATIVE, abs_tol=1e-7), (text, saved_start)
    # The kernel's rows are the input features by name.
    tooltip = gates.hover_cell("[data-testid=panel][data-matrix=kernel][data-gate=forget]", 0, 1)
    assert "sine" in tooltip.inner_text()


def test_two_runs_side_by_side_on_a_shared_scale_or_their_own(gates):
    gates.select_runs(["units=4", "units=6"])
    cards = gates.frame.locator("[data-testid=run-card]")
    assert cards.count() == 2
    titles = [cards.nth(i).locator(".lg-card-title").inner_text() for i in range(2)]
    assert titles == ["units=4", "units=6"]
    panels = gates.panels()
    assert [(p["run"], p["matrix"], p["gate"], p["cols"]) for p in panels] == [
        (tensorboard_run("units=4"), "recurrent_kernel", "forget", "4"),
        (tensorboard_run("units=6"), "recurrent_kernel", "forget", "6"),
    ]
    boxes = [cards.nth(i).locator("canvas").bounding_box() for i in range(2)]
    assert boxes[0]["y"] == boxes[1]["y"] and boxes[0]["x"] < boxes[1]["x"]  # side by side
    # The same pixels per weight: 6 units are drawn 6/4 as wide and tall as 4.
    assert math.isclose(boxes[1]["width"] / boxes[0]["width"], 6 / 4, rel_tol=0.01), boxes
    assert math.isclose(boxes[1]["height"] / boxes[0]["height"], 6 / 4, rel_tol=0.01), boxes
    assert gates.frame.locator("[data-testid=legend]").count() == 1  # one shared scale
    gates.frame.locator("[data-testid=scale-own]").check()
    gates.wait_complete()
    assert gates.frame.locator("[data-testid=legend]").count() == 2
    gates.frame.locator("[data-testid=gate-select]").select_option("output")
    gates.frame.locator("[data-testid=matrix-select]").select_option("kernel")
    gates.wait_complete()
    assert {(p["matrix"], p["gate"]) for p in gates.panels()} == {("kernel", "output")}


def test_the_malicious_run_name_renders_as_text(gates):
    gates.select_runs([MALICIOUS, "units=4"])
    names = gates.frame.locator("[data-testid=run-label]").all_inner_texts()
    assert MALICIOUS in names
    assert gates.frame.get_by_text(MALICIOUS, exact=True).count() >= 2  # the picker and its card
    tooltip = gates.hover_cell(f"[data-testid=panel][data-run='{tensorboard_run(MALICIOUS)}']", 0, 0)
    assert MALICIOUS in tooltip.inner_text()
    gates.page.wait_for_timeout(500)
    for frame in gates.page.frames:
        assert frame.locator("img[src=x]").count() == 0
        assert frame.evaluate("() => [...document.images].filter((i) => i.getAttribute('src') === 'x').length") == 0
    assert gates.dialogs == []


def test_canvas_pixels_are_the_images_bwr_map(gates, logdir, server):
    import numpy as np

    from lstm_experiments.viz.colour import diverging_rgb

    gates.select_runs(["units=6"])
    final, _ = saved_matrices(logdir / "units=6")
    (run,) = [r for r in get_json(f"{server}/data/plugin/lstm_gates/runs")["runs"] if r["name"] == "units=6"]
    (layer,) = run["layers"]
    for matrix in MATRICES:
        (info,) = [m for m in layer["matrices"] if m["matrix"] == matrix]
        weights = np.asarray(final["lstm"][matrix], np.float32).reshape(-1, 6 * len(GATES))
        expected = diverging_rgb(weights.astype(np.float16), info["scale"])
        for index, gate in enumerate(GATES):
            pixels = gates.frame.eval_on_selector(
                f"[data-testid=panel][data-matrix={matrix}][data-gate={gate}]",
                "(c) => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)",
            )
            shown = np.asarray(pixels, np.int16).reshape(weights.shape[0], 6, 4)
            block = expected[:, index * 6:(index + 1) * 6].astype(np.int16)
            assert np.abs(shown[..., :3] - block).max() <= 1, (matrix, gate)


def test_the_page_follows_new_steps_without_a_reload(browser, server):
    """The runs route answers with fewer steps, then more: the page polls, follows, or holds the user's step."""
    shown = {"last": 0}

    def fewer_steps(route):
        response = route.fetch()
        body = response.json()
        for run in body["runs"]:
            run["steps"] = [step for step in run["steps"] if step <= shown["last"]]
            run["max_step"] = shown["last"]
            run["kept_steps"] = run["logged_steps"] = len(run["steps"])
        route.fulfill(response=response, json=body)

    gates = Gates(browser, server, routes={"**/data/plugin/lstm_gates/runs": fewer_steps})
    try:
        gates.select_runs(["units=4"])
        gates.wait_complete(0)
        gates.frame.evaluate("() => { window.sameDocument = true; }")
        shown["last"] = 1
        gates.wait_complete(1)  # follow latest, the default, moves with the new step
        gates.move_slider(0)
        shown["last"] = 2
        gates.frame.wait_for_function(
            "() => document.querySelector('[data-testid=step-slider]').max === '2'")
        gates.wait_complete(0)  # the user's step holds
        gates.frame.locator("[data-testid=follow-latest]").check()
        gates.wait_complete(2)
        assert gates.frame.evaluate("() => window.sameDocument") is True
        assert not gates.errors, gates.errors
    finally:
        gates.close()


def test_a_downsampling_tensorboard_gets_a_banner_with_the_exact_flag(browser, logdir):
    with tensorboard(logdir, expected_runs=len(RUNS), extra_args=["--samples_per_plugin", "lstm_gates=2"]) as base:
        answer = get_json(f"{base}/data/plugin/lstm_gates/runs")
        flag = answer["samples_flag"]
        # A full reservoir may not say how many steps were logged (logged_steps null).
        logged = {run["logged_steps"] for run in answer["runs"]}
        kept = "2 steps (it may have dropped others)" if logged == {None} else f"2 of {len(STEPS)} steps"
        gates = Gates(browser, base)
        try:
            banner = gates.frame.locator("[data-testid=banner]")
            assert banner.inner_text().strip() == f"⚠ TensorBoard kept {kept}: restart with {flag}"
            assert gates.frame.locator("[data-testid=samples-flag]").inner_text() == flag
            assert not gates.errors, gates.errors
        finally:
            gates.close()


# ------------------------------------------------------------------ what a new user tripped on

def _labels(gates) -> list[str]:
    return gates.frame.locator("[data-testid=run-label]").all_inner_texts()


def _ticked(gates) -> list[str]:
    boxes = gates.frame.locator("[data-testid=run-checkbox]")
    return [boxes.nth(i).get_attribute("data-run") for i in range(boxes.count()) if boxes.nth(i).is_checked()]


def test_runs_sort_naturally_a_few_are_all_ticked_and_all_or_none_tick_them(browser, server):
    """The runs route's titles 'units=128', 'units=32', 'units=64' sort as numbers; an `order` wins."""
    titles = {tensorboard_run("units=4"): "units=128", tensorboard_run("units=6"): "units=32", tensorboard_run(MALICIOUS): "units=64"}
    mode = {"order": False}

    def retitled(route):
        response = route.fetch()
        body = response.json()
        for run in body["runs"]:
            run["title"] = titles[run["run"]]
            run.pop("order", None)
            if mode["order"]:  # the server's order: the reverse of the natural one
                run["order"] = {"units=128": 0, "units=64": 1, "units=32": 2}[run["title"]]
        route.fulfill(response=response, json=body)

    gates = Gates(browser, server, routes={"**/data/plugin/lstm_gates/runs": retitled})
    try:
        assert _labels(gates) == ["units=32", "units=64", "units=128"]
        assert len(_ticked(gates)) == len(RUNS)  # a few runs: all ticked at first
        assert gates.frame.locator("[data-testid=run-card]").count() == len(RUNS)
        assert gates.frame.locator("[data-testid=run-card] .lg-card-title").all_inner_texts() == ["units=32", "units=64", "units=128"]
        gates.frame.locator("[data-testid=runs-none]").click()
        gates.frame.wait_for_function("() => !document.querySelector('[data-testid=panel]')")
        assert _ticked(gates) == [] and "No run ticked" in gates.frame.locator("[data-testid=message]").inner_text()
        gates.frame.locator("[data-testid=runs-all]").click()
        gates.wait_complete()
        assert len(_ticked(gates)) == len(RUNS) and gates.frame.locator("[data-testid=run-card]").count() == len(RUNS)
        assert not gates.errors, gates.errors
    finally:
        gates.close()
    mode["order"] = True
    gates = Gates(browser, server, routes={"**/data/plugin/lstm_gates/runs": retitled})
    try:
        assert _labels(gates) == ["units=128", "units=64", "units=32"]
    finally:
        gates.close()


def test_each_gate_panel_is_labelled_with_its_own_shape_and_thin_ones_are_big_enough_to_hover(gates, server):
    gates.select_runs(["units=6"])
    (run,) = [r for r in get_json(f"{server}/data/plugin/lstm_gates/runs")["runs"] if r["run"] == tensorboard_run("units=6")]
    shapes = {m["matrix"]: m["shape"] for m in run["layers"][0]["matrices"]}
    features = shapes["kernel"][0]
    labels = gates.frame.eval_on_selector_all(
        "[data-testid=panel-shape]", "(nodes) => nodes.map((n) => [n.dataset.matrix, n.dataset.gate, n.textContent])")
    assert {(m, g): text for m, g, text in labels} == {
        (m, g): f"{rows} × 6" for m, rows in (("kernel", features), ("recurrent_kernel", 6), ("bias", 1)) for g in GATES}
    for matrix, rows in (("kernel", features), ("bias", 1)):
        box = gates.frame.locator(f"[data-testid=panel][data-matrix={matrix}][data-gate=forget]").bounding_box()
        assert box["height"] >= min(16 * rows, 32), (matrix, box)  # not a 14 px strip
    tooltip = gates.hover_cell("[data-testid=panel][data-matrix=bias][data-gate=output]", 0, 5)
    assert (tooltip.get_attribute("data-matrix"), tooltip.get_attribute("data-unit")) == ("bias", "5")


def test_the_change_can_be_drawn_on_the_runs_fixed_scale_so_playing_shows_it_grow(gates, server):
    import numpy as np

    from lstm_experiments.viz.colour import diverging_rgb

    gates.select_runs(["units=6"])
    matrix, units, forget = "recurrent_kernel", 6, GATES.index("forget")

    def weights(step):
        answer = get_json(f"{server}/data/plugin/lstm_gates/weights?run={tensorboard_run('units=6')}&layer=lstm&matrix={matrix}&step={step}")
        return np.asarray(answer["values"], np.float32)

    change = {step: weights(step) - weights(0) for step in STEPS}
    largest = {step: float(np.abs(change[step]).max()) for step in STEPS}
    legend = f"[data-testid=legend][data-matrix={matrix}]"
    gates.frame.locator("[data-testid=view-change]").check()
    gates.wait_complete()
    assert gates.frame.locator("[data-testid=change-scale]").is_visible()
    gates.frame.locator("[data-testid=change-scale-run]").check()
    gates.frame.wait_for_function(f"() => document.querySelector('{legend}').dataset.covered === '{len(STEPS)}'")
    gates.move_slider(1)
    scale = float(gates.frame.locator(legend).get_attribute("data-scale"))
    assert math.isclose(scale, max(largest.values()), rel_tol=1e-6), (scale, largest)
    assert largest[1] < scale  # on this step's own scale, step 1 would fill the colours
    assert "over every step" in gates.frame.locator(legend).inner_text()
    pixels = _pixels(gates.frame, f"[data-testid=panel][data-matrix={matrix}][data-gate=forget]")
    expected = diverging_rgb(change[1][:, forget * units:(forget + 1) * units], scale).astype(np.int16)
    assert np.abs(pixels[..., :3] - expected).max() <= 1
    gates.move_slider(STEPS[-1])
    assert float(gates.frame.locator(legend).get_attribute("data-scale")) == scale  # fixed while the slider moves
    gates.frame.locator("[data-testid=change-scale-step]").check()
    gates.wait_complete()
    assert math.isclose(float(gates.frame.locator(legend).get_attribute("data-scale")), largest[STEPS[-1]], rel_tol=1e-6)


def test_at_1600_by_1000_the_activations_are_above_the_fold_and_the_saturation_charts_readable(browser, server):
    height = 1000
    gates = Gates(browser, server, viewport={"width": 1600, "height": height})
    try:
        gates.select_runs(["units=6"])
        first = gates.frame.locator("[data-testid=activation-panel]").first.bounding_box()
        assert first["y"] + first["height"] <= height, first
        charts = [gates.frame.locator("[data-testid=saturation-panel]").nth(i).bounding_box() for i in range(4)]
        assert all(box["width"] >= 180 and box["height"] >= 100 for box in charts), charts
        assert len({box["y"] for box in charts}) == 1  # one row
        # One click brings the charts into view; the step bar stays on screen to drive them.
        gates.frame.locator("[data-testid=jump-saturation]").click()
        gates.frame.wait_for_function("""() => {
            const box = document.querySelector('[data-testid=saturation-section]').getBoundingClientRect();
            return box.top >= 0 && box.bottom <= window.innerHeight; }""")
        chart = gates.frame.locator("[data-testid=saturation-panel]").first.bounding_box()
        slider = gates.frame.locator("[data-testid=step-slider]").bounding_box()
        assert chart["y"] + chart["height"] <= height and 0 <= slider["y"] < chart["y"], (chart, slider)
        gates.move_slider(1)
        assert gates.frame.locator("[data-testid=saturation-panel]").first.get_attribute("data-step") == "1"
        assert not gates.errors, gates.errors
    finally:
        gates.close()


# ------------------------------------------------------------------ what each layer read

MASKED_RUN = "masked"
EMBED_DIM = 10  # more than the page's 8 lines: the first layer's input is drawn as a heat strip
UNITS = 4
SEQ_LEN = 8
LENGTHS = (5, 3, 8, 6)  # the probe's sequences: tokens, then zeros (masked) to SEQ_LEN
LAST = STEPS[-1]
GREY = 128  # colour.js' NaN grey
MASKED_BAND = (220, 220, 220)  # input_view.js' band behind a masked step's lines (#dcdcdc)
INPUT = "[data-testid=input-panel][data-panel=hidden]"  # the input above the hidden state's panel
PROBE_ROUTE = re.compile(r"/data/plugin/lstm_gates/probe\?")


def _query(url: str) -> dict:
    return {key: values[0] for key, values in parse_qs(urlparse(url).query).items()}


def _array(values) -> "np.ndarray":
    import numpy as np

    return np.array(values, dtype=np.float64)  # JSON null (NaN) -> nan


def _pixels(frame, selector: str):
    import numpy as np

    image = frame.eval_on_selector(selector, """(c) => ({width: c.width, height: c.height,
        data: Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)})""")
    return np.asarray(image["data"], np.int16).reshape(image["height"], image["width"], 4)


@pytest.fixture(scope="module")
def masked_run(tmp_path_factory, chromium):
    """Embedding(mask_zero=True) -> LSTM 'first' (return_sequences) -> LSTM 'second' -> Dense, through
    GateLogger with a probe of 4 zero-padded sequences: {logdir, tokens (the probe), embeddings (last step)}."""
    import keras
    import numpy as np

    from lstm_experiments import GateLogger

    keras.utils.set_random_seed(5)
    inputs = keras.Input((SEQ_LEN,), dtype="int32")
    embedded = keras.layers.Embedding(12, EMBED_DIM, mask_zero=True, name="embed")(inputs)
    first = keras.layers.LSTM(UNITS, return_sequences=True, name="first")(embedded)
    second = keras.layers.LSTM(UNITS, name="second")(first)
    model = keras.Model(inputs, keras.layers.Dense(1)(second))
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    rng = np.random.default_rng(0)
    tokens = rng.integers(1, 12, size=(16, SEQ_LEN)).astype("int32")
    for row, length in enumerate(LENGTHS):
        tokens[row, length:] = 0
    target = rng.normal(size=(16, 1)).astype("float32")
    root = tmp_path_factory.mktemp("masked")
    logger = GateLogger(root / MASKED_RUN, visualizers=("gates", "activations"), probe=(tokens[:4], target[:4]),
                        background=False)
    model.fit(tokens, target, epochs=EPOCHS, batch_size=8, verbose=0, callbacks=[logger])
    return {"logdir": root, "tokens": tokens[:4], "embeddings": np.asarray(model.get_layer("embed").embeddings)}


@pytest.fixture(scope="module")
def masked_server(masked_run):
    with tensorboard(masked_run["logdir"], extra_args=["--samples_per_plugin", "lstm_gates=1000"]) as base:
        get_json(f"{base}/data/plugin/lstm_gates/runs")
        yield base


def _served(base, route, **query):
    from urllib.parse import urlencode

    return get_json(f"{base}/data/plugin/lstm_gates/{route}?{urlencode({'run': MASKED_RUN, **query})}")


@pytest.fixture
def masked_gates(browser, masked_server):
    """The GATES page on the masked run; .requests: the /probe URLs it asked for."""
    requests = []

    def record(route):
        requests.append(route.request.url)
        route.continue_()

    opened = Gates(browser, masked_server, routes={PROBE_ROUTE: record})
    opened.requests = requests
    yield opened
    opened.close()
    assert not opened.errors, opened.errors


def _select_layer(gates, layer, step=LAST):
    gates.frame.locator("[data-testid=layer-select]").select_option(layer)
    gates.frame.wait_for_function(
        "(layer) => [...document.querySelectorAll('[data-testid=input-panel]')].some((c) => c.dataset.layer === layer)",
        arg=layer)
    gates.wait_complete(step)


def _input_panels(gates, layer, mode, step):
    panels = gates.panels("[data-testid=input-panel]")
    assert len(panels) == 6, panels  # one above each panel: 4 gates, cell state, hidden
    for panel in panels:
        assert (panel["run"], panel["layer"], panel["source"], panel["mode"]) == (MASKED_RUN, layer, "layer", mode)
        assert panel["step"] == str(step) and panel["sequence"] == "0"
    return panels


def _hovered_values(tooltip) -> list[float]:
    return [float(v) for v in tooltip.get_attribute("data-values").split(",")]


def test_the_first_layer_shows_the_embedding_vectors_it_read_as_a_strip_and_masked_steps_grey(
        masked_gates, masked_run, masked_server):
    import numpy as np

    from lstm_experiments.viz.colour import diverging_rgb

    gates = masked_gates
    _select_layer(gates, "first")
    (panel, *_) = _input_panels(gates, "first", "strip", LAST)
    # (a) drawn from /probe?layer&step; the model's token ids (/probe?run alone) only for the text view,
    # whose tokens they are (the run's probe holds token ids).
    asked = [_query(url) for url in gates.requests]
    assert {"run": MASKED_RUN, "layer": "first", "step": str(LAST)} in asked, asked
    assert all("layer" in query or query == {"run": MASKED_RUN} for query in asked), asked
    assert gates.frame.locator("[data-testid=text-view]").count() > 0 or {"run": MASKED_RUN} not in asked
    legend = gates.frame.locator("[data-testid=feature-legend]").inner_text()
    assert f"input: {EMBED_DIM} features (embedding/previous layer)" in legend, legend

    # What the route serves is the Embedding's vectors of the probe's tokens, NaN where masked ...
    served = _array(_served(masked_server, "probe", layer="first", step=LAST)["values"])
    tokens = masked_run["tokens"]
    expected = masked_run["embeddings"][tokens].astype(np.float16).astype(np.float64)
    expected[tokens == 0] = np.nan
    np.testing.assert_array_equal(served, expected)
    # ... and the strip draws it: features down, time across, bwr on the step's largest |value|.
    scale = float(panel["scale"])
    assert scale == np.nanmax(np.abs(served))
    shown = _pixels(gates.frame, INPUT)
    assert shown.shape == (EMBED_DIM, SEQ_LEN, 4)
    assert np.abs(shown[..., :3] - diverging_rgb(served[0].T, scale).astype(np.int16)).max() <= 1
    assert (shown[:, LENGTHS[0]:, :3] == GREY).all() and (shown[:, : LENGTHS[0], :3] != GREY).any()
    # The hover: the feature's value at that time; 'masked' at a masked step.
    tooltip = gates.hover_cell(INPUT, 3, 1)
    assert (tooltip.get_attribute("data-feature"), tooltip.get_attribute("data-time")) == ("3", "1")
    assert float(tooltip.get_attribute("data-value")) == served[0, 1, 3]
    assert tooltip.get_attribute("data-masked") == "false" and f"step {LAST}" in tooltip.inner_text()
    tooltip = gates.hover_cell(INPUT, 3, SEQ_LEN - 1)
    assert tooltip.get_attribute("data-masked") == "true" and "input: masked" in tooltip.inner_text()

    # (c) Masked steps are grey in every activation panel, and the hover says so.
    for name in ("input", "forget", "cell", "output", "cell_state", "hidden"):
        pixels = _pixels(gates.frame, f"[data-testid=activation-panel][data-panel={name}]")
        assert pixels.shape == (UNITS, SEQ_LEN, 4), name
        assert (pixels[:, LENGTHS[0]:, :3] == GREY).all(), name
        assert not (pixels[:, : LENGTHS[0], :3] == GREY).all(axis=-1).any(), name
    hidden = "[data-testid=activation-panel][data-panel=hidden]"
    tooltip = gates.hover_cell(hidden, 1, LENGTHS[0])
    text = tooltip.inner_text()
    assert "masked step" in text and "value " not in text, text
    assert (tooltip.get_attribute("data-masked"), tooltip.get_attribute("data-value")) == ("true", "NaN")
    tooltip = gates.hover_cell(hidden, 1, 0)
    assert tooltip.get_attribute("data-masked") == "false" and "value " in tooltip.inner_text()


def test_a_stacked_layer_reads_the_hidden_state_below_at_the_slider_step(masked_gates, masked_server):
    import numpy as np

    gates = masked_gates
    _select_layer(gates, "second")
    hidden_of_first = {}
    for step in (LAST, 1, 0):
        answer = _served(masked_server, "activations", layer="first", step=step)
        hidden_of_first[step] = _array(answer["values"])[answer["panels"].index("hidden")]
    assert not np.array_equal(hidden_of_first[LAST][0], hidden_of_first[1][0], equal_nan=True)  # training moved it

    for step in (LAST, 1, 0):
        if step != LAST:
            gates.move_slider(step)  # (d) waits until the input panels too show the new step
        _input_panels(gates, "second", "lines", step)
        asked = [_query(url) for url in gates.requests]
        assert {"run": MASKED_RUN, "layer": "second", "step": str(step)} in asked, asked
        # (b) The input drawn for 'second' is the hidden state of 'first', time step by time step.
        for t in range(SEQ_LEN):
            tooltip = gates.hover_cell(INPUT, 0, t)
            assert tooltip.get_attribute("data-step") == str(step) and tooltip.get_attribute("data-time") == str(t)
            np.testing.assert_array_equal(_hovered_values(tooltip), hidden_of_first[step][0, t])
            masked = t >= LENGTHS[0]
            assert tooltip.get_attribute("data-masked") == str(masked).lower()
            assert ("input: masked" in tooltip.inner_text()) == masked
    # Masked steps: a grey band behind the lines.
    chart = _pixels(gates.frame, INPUT)
    column = chart.shape[1] / SEQ_LEN
    y = chart.shape[0] // 4
    for t in range(SEQ_LEN):
        colour = tuple(chart[y, int((t + 0.5) * column), :3])
        assert (colour == MASKED_BAND) == (t >= LENGTHS[0]), (t, colour)
    legend = gates.frame.locator("[data-testid=feature-legend]").inner_text()
    assert all(f"feature {f}" in legend for f in range(UNITS)) and "second reads at step 0" in legend


def test_a_run_without_layer_inputs_shows_the_models_input_at_step_0(browser, masked_server):
    """A run logged before /probe?layer (its layers' activations have no 'input'): /probe?run, as before."""
    requests = []

    def without_inputs(route):
        response = route.fetch()
        body = response.json()
        for run in body["runs"]:
            for layer in run["layers"]:
                (layer["activations"] or {}).pop("input", None)
        route.fulfill(response=response, json=body)

    def record(route):
        requests.append(route.request.url)
        route.continue_()

    gates = Gates(browser, masked_server, routes={"**/data/plugin/lstm_gates/runs": without_inputs, PROBE_ROUTE: record})
    try:
        _select_layer(gates, "second")
        panels = gates.panels("[data-testid=input-panel]")
        assert panels and all(p["source"] == "probe" and "step" not in p and p["count"] == "1" for p in panels)
        assert [_query(url) for url in requests] == [{"run": MASKED_RUN}]
        tooltip = gates.hover_cell(INPUT, 0, 1)
        assert "the model's input, step 0" in tooltip.inner_text()
        assert float(tooltip.get_attribute("data-value")) == _served(masked_server, "probe")["values"][0][1]  # a token id
        assert not gates.errors, gates.errors
    finally:
        gates.close()


# ------------------------------------------------------------------ between epochs: by batch, and a failing run

FAILED, BATCHED = "failed", "batches"


@pytest.fixture(scope="module")
def positions_run(tmp_path_factory, chromium):
    """A run whose loss became inf (by epoch, as a new user trains it) and one logged every 2 batches:
    {logdir, failed: (epoch, batch) where the loss became inf}."""
    from test_board_routes import BY_BATCH, train_failing

    root = tmp_path_factory.mktemp("positions")
    failed = train_failing(root / FAILED)
    train_tiny(root / BATCHED, BY_BATCH)
    return {"logdir": root, "failed": failed}


@pytest.fixture(scope="module")
def positions_server(positions_run):
    with tensorboard(positions_run["logdir"], expected_runs=2,
                     extra_args=["--samples_per_plugin", "lstm_gates=1000"]) as base:
        get_json(f"{base}/data/plugin/lstm_gates/runs")
        yield base


@pytest.fixture
def positions_gates(browser, positions_server):
    opened = Gates(browser, positions_server, same_steps=False)
    yield opened
    opened.close()
    assert not opened.errors, opened.errors


def _label(gates) -> str:
    return gates.frame.locator("[data-testid=step-label]").inner_text()


def _served_weights(base, run, matrix, step):
    from urllib.parse import urlencode

    return get_json(f"{base}/data/plugin/lstm_gates/weights?"
                    f"{urlencode({'run': tensorboard_run(run), 'layer': 'lstm', 'matrix': matrix, 'step': step})}")


def _assert_grid_shows(gates, base, step):
    """Every weight panel is the served matrix at ``step`` in the images' colours (NaN and ±inf grey), and
    each legend counts the grey values. Returns how many values were NaN or ±inf."""
    import numpy as np

    from lstm_experiments.viz.colour import diverging_rgb

    (run,) = [r for r in get_json(f"{base}/data/plugin/lstm_gates/runs")["runs"] if r["name"] == FAILED]
    (layer,) = run["layers"]
    grey = 0
    for info in layer["matrices"]:
        values = _array(_served_weights(base, FAILED, info["matrix"], step)["values"])
        expected = diverging_rgb(values, info["scale"]).astype(np.int16)
        cols = values.shape[1] // len(GATES)
        for index, gate in enumerate(GATES):
            shown = _pixels(gates.frame, f"[data-testid=panel][data-matrix={info['matrix']}][data-gate={gate}]")
            assert np.abs(shown[..., :3] - expected[:, index * cols:(index + 1) * cols]).max() <= 1, (info["matrix"], gate)
        missing = int(np.isnan(values).sum())
        legend = gates.frame.locator(f"[data-testid=legend][data-matrix={info['matrix']}]")
        assert legend.get_attribute("data-non-finite") == str(missing)
        assert legend.locator("[data-testid=legend-non-finite]").is_visible() == (missing > 0)
        grey += missing
    return grey


def test_a_failing_run_shows_its_failing_step_and_goes_to_its_last_finite_weights(positions_gates, positions_run,
                                                                                   positions_server):
    gates = positions_gates
    epoch, batch = positions_run["failed"]
    gates.select_runs([FAILED])
    steps = gates.frame.evaluate("() => window.lstmGates.app.steps")
    failing, last_finite = steps[-1], steps[-2]
    assert last_finite == failing - 1
    # Follow latest shows the failing step; its label names the epoch and batch.
    gates.wait_complete(failing)
    assert _label(gates) == f"step {failing} · epoch {epoch}, batch {batch} · loss became inf"
    marks = gates.frame.eval_on_selector_all("[data-testid=step-mark]", "(nodes) => nodes.map((n) => ({...n.dataset}))")
    assert [(m["kind"], m["step"]) for m in marks] == [("last_finite", str(last_finite)), ("non_finite", str(failing))]
    line = gates.frame.locator("[data-testid=failure-line]")
    assert (f"loss became inf at step {failing} (epoch {epoch}, batch {batch}); "
            f"step {last_finite} holds the last finite weights") in line.inner_text()
    _assert_grid_shows(gates, positions_server, failing)

    # The banner's button goes to the last finite weights: finite colours only, and the hover says where.
    line.locator("[data-testid=jump-last-finite]").click()
    gates.wait_complete(last_finite)
    assert _label(gates) == f"step {last_finite} · epoch {epoch}, batch {batch - 1} · last finite weights"
    assert _assert_grid_shows(gates, positions_server, last_finite) == 0
    assert not gates.frame.locator("[data-testid=legend-non-finite]").first.is_visible()
    for matrix in MATRICES:
        pixels = _pixels(gates.frame, f"[data-testid=panel][data-matrix={matrix}][data-gate=forget]")
        assert not (pixels[..., :3] == GREY).all(axis=-1).any(), matrix
    tooltip = gates.hover_cell("[data-testid=panel][data-matrix=recurrent_kernel][data-gate=forget]", 0, 0)
    assert f"at step {last_finite} (epoch {epoch}, batch {batch - 1} · last finite weights)" in tooltip.inner_text()
    # ... and back to the failing step.
    line.locator("[data-testid=jump-failing]").click()
    gates.wait_complete(failing)


def test_a_batch_logged_run_labels_a_step_by_its_epoch_and_batch(positions_gates):
    gates = positions_gates
    gates.select_runs([BATCHED])
    assert gates.frame.evaluate("() => window.lstmGates.app.steps") == [0, 2, 4, 6, 8, 10]  # every 2 batches
    assert gates.frame.locator("[data-testid=step-mark]").count() == 0
    assert gates.frame.locator("[data-testid=failure-line]").count() == 0
    gates.move_slider(6)  # the first batch of epoch 2 (5 batches an epoch)
    assert _label(gates) == "step 6 · epoch 2, batch 1"
    tooltip = gates.hover_cell("[data-testid=panel][data-matrix=kernel][data-gate=input]", 0, 0)
    assert "at step 6 (epoch 2, batch 1)" in tooltip.inner_text()
    gates.move_slider(4)
    assert _label(gates) == "step 4 · epoch 1, batch 4"
    gates.move_slider(0)
    assert _label(gates) == "step 0 · initial weights"


# ------------------------------------------------------------------ findings: what is wrong, and where

BROKEN, HEALTHY = "broken", "healthy"
FINDINGS_VIEWPORT = {"width": 1600, "height": 1000}


@pytest.fixture(scope="module")
def findings_run(tmp_path_factory, chromium):
    """Two users' own fits through GateLogger: on inputs x1000 + 2000 (input_scale, saturated_gates and more
    since step 0) and a healthy one that finds nothing: {logdir, documents: {name: its findings.json}}."""
    from test_board_routes import train_broken, train_healthy

    root = tmp_path_factory.mktemp("findings")
    documents = {BROKEN: train_broken(root / tensorboard_run(BROKEN)),
                 HEALTHY: train_healthy(root / tensorboard_run(HEALTHY))}
    assert documents[BROKEN]["findings"] and documents[HEALTHY]["findings"] == []
    return {"logdir": root, "documents": documents}


@pytest.fixture(scope="module")
def findings_server(findings_run):
    with tensorboard(findings_run["logdir"], expected_runs=2,
                     extra_args=["--samples_per_plugin", "lstm_gates=1000"]) as base:
        get_json(f"{base}/data/plugin/lstm_gates/runs")
        yield base


def _findings_rows(gates) -> list[dict]:
    return gates.frame.eval_on_selector_all(
        "[data-testid=finding]", "(nodes) => nodes.map((n) => ({...n.dataset, text: n.innerText}))")


def test_the_findings_list_shows_what_the_run_found_and_a_click_shows_it_at_its_step_and_place(
        browser, findings_server, findings_run):
    height = FINDINGS_VIEWPORT["height"]
    gates = Gates(browser, findings_server, viewport=FINDINGS_VIEWPORT)
    try:
        document = findings_run["documents"][BROKEN]
        expected = [(f["kind"], str(f["first_step"])) for f in document["findings"]]  # warnings first, as the run wrote
        # Both runs ticked (a few runs are): each row says its run; the healthy run says it found nothing.
        rows = _findings_rows(gates)
        assert [(r["kind"], r["firstStep"]) for r in rows] == expected[:6], rows
        assert all(r["run"] == tensorboard_run(BROKEN) and r["text"].startswith("⚠") for r in rows
                   if r["severity"] == "warning")
        healthy = gates.frame.locator(f"[data-testid=findings-status][data-run='{tensorboard_run(HEALTHY)}']")
        assert healthy.inner_text().startswith(f"{HEALTHY}: no findings (checked: ")

        gates.select_runs([BROKEN])
        rows = _findings_rows(gates)
        assert [(r["kind"], r["firstStep"]) for r in rows] == expected[:6], rows
        by_kind = {f["kind"]: f for f in document["findings"]}
        assert {"input_scale", "saturated_gates"} <= set(by_kind)
        for row in rows:
            finding = by_kind[row["kind"]]
            assert f"since step {finding['first_step']}" in row["text"] and finding["sentence"] in row["text"], row
        # At the top: every row in the viewport without scrolling.
        assert gates.frame.evaluate("() => window.scrollY") == 0
        for index in range(len(rows)):
            box = gates.frame.locator("[data-testid=finding]").nth(index).bounding_box()
            assert box and 0 <= box["y"] and box["y"] + box["height"] <= height, (index, box)
        assert gates.frame.locator("[data-testid=panel][data-highlight]").count() == 0

        # A click on input_scale: the slider goes to its first step, the lstm panels are outlined.
        last = gates.frame.evaluate("() => window.lstmGates.app.steps").pop()
        first = by_kind["input_scale"]["first_step"]
        assert gates.frame.locator("[data-testid=step-slider]").input_value() == str(last) != str(first)
        gates.frame.locator("[data-testid=finding][data-kind=input_scale]").click()
        gates.wait_complete(first)
        assert gates.frame.locator("[data-testid=step-slider]").input_value() == str(first)
        row = gates.frame.locator("[data-testid=finding][data-kind=input_scale]")
        assert row.get_attribute("aria-pressed") == "true"
        panels = gates.panels()
        assert len(panels) == len(MATRICES) * len(GATES)
        shown = {(p["layer"], p.get("highlight"), p["step"]) for p in panels}
        assert shown == {("lstm", "input_scale", str(first))}, panels
        outline = gates.frame.eval_on_selector("[data-testid=panel][data-highlight]", """(c) => {
            const style = getComputedStyle(c); return [c.classList.contains('lg-highlight'), style.outlineStyle,
            parseFloat(style.outlineWidth)]; }""")
        assert outline[0] is True and outline[1] == "solid" and outline[2] >= 2, outline
        # dead_units names units: their columns are marked under every panel of the layer.
        if "dead_units" in by_kind:
            units = by_kind["dead_units"]["units"]
            gates.frame.locator("[data-testid=finding][data-kind=dead_units]").click()
            gates.frame.wait_for_function(
                "() => document.querySelector('[data-testid=unit-marks][data-units]') !== null")
            marks = gates.panels("[data-testid=unit-marks]")
            assert all(m["units"] == ",".join(map(str, units)) for m in marks), marks
        # Clicked again, the highlight goes.
        gates.frame.locator("[aria-pressed=true][data-testid=finding]").click()
        gates.frame.wait_for_function("() => document.querySelector('[data-testid=panel][data-highlight]') === null")

        # The healthy run alone: one line, no rows.
        gates.select_runs([HEALTHY])
        assert gates.frame.locator("[data-testid=finding]").count() == 0
        line = gates.frame.locator("[data-testid=findings-status]").inner_text()
        assert line.startswith("no findings (checked: ") and "input_scale" in line, line
        assert not gates.errors, gates.errors
    finally:
        gates.close()


def test_the_pages_pure_functions_pass_their_node_tests():
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    tests = Path(__file__).parent / "js"
    result = subprocess.run([node, "--test", *sorted(str(p) for p in tests.glob("*.test.mjs"))],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
