"""board: the GATES page (the ``lstm_gates`` TensorBoard plugin, ``board/static/``) in headless Chromium.

A real 3-run sweep (``-m ... seed=0,1,2``, ``viz=[gates,activations]``, units ``sizes.board_units``)
is trained through the CLI in the work directory and served by a real TensorBoard
(``tests/helpers/tensorboard_server.py``, ``--samples_per_plugin lstm_gates=1000``). Each of
``sizes.board_pages`` pages opens the GATES tab in a fresh browser context (empty HTTP cache) and
measures, in the page:

- first paint: from the navigation's start (the top page's ``performance.timeOrigin``) to the DOM
  mutation after which every panel shows the last step (an init script's ``MutationObserver`` in
  the plugin's iframe; the condition is ``wait_for_gates``'): the default view, one run's grid;
- a slider move to a step not fetched yet, right after the first paint (the prefetcher is then
  still loading the steps next to the last one): from dispatching the slider's ``input`` event to
  every panel's ``data-step`` equalling the new step (checked at once, then every animation frame);
- once every step is fetched, ``MOVES`` slider moves: the page's own timing of each redraw
  (``window.lstmGates.redraws``: ``performance.now()`` around ``GatesApp.redraw``, recorded when the
  redraw is complete; for fetched steps that redraw runs inside the ``input`` handler), and from
  the dispatch to the next animation frame (the frame that paints it);
- the same with one run's grid (the others unchecked first: with 4 runs or fewer the page checks them all),
  then with every run checked again (the runs side by side), after the time to check them.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from bench.common import REPO, median, print_table

SEEDS = "0,1,2"
RUNS = len(SEEDS.split(","))
SAMPLES = 128
EPOCHS = 3
STEPS = EPOCHS + 1  # step 0, then one per epoch
MOVES = 10
REDRAW_TARGET_MS = 50.0
SAMPLES_FLAG = ["--samples_per_plugin", "lstm_gates=1000"]
PLUGIN = "lstm_gates"
READY_TIMEOUT_S = 120.0
WAIT_TIMEOUT_MS = 120_000

# In the plugin's frame: whether the root is complete at step `want` (a string) and every canvas but
# the input charts shows it (wait_for_gates' condition, tests/helpers/tensorboard_browser.py).
SHOWN_JS = """
const panelsOf = (root) => [...root.querySelectorAll('canvas[data-testid]')]
  .filter((c) => c.dataset.testid !== 'input-panel');
const shownAt = (root, want) => {
  if (!root || root.dataset.complete !== 'true' || root.dataset.step !== want) return false;
  const canvases = panelsOf(root);
  return canvases.length > 0 && canvases.every((c) => c.dataset.step === want);
};
"""

# Installed in every frame before its scripts; acts in the plugin's iframe only. Records
# window.__benchFirstPaint (an absolute time: timeOrigin + now) at the first DOM mutation after which
# the root is complete at the slider's last step and every canvas (but the input charts) shows it.
FIRST_PAINT_SCRIPT = """
(() => {
  if (!location.href.includes('plugin_entry.html?name=%s')) return;
  %s
  const observer = new MutationObserver(() => {
    const slider = document.querySelector('[data-testid=step-slider]');
    if (!slider || !shownAt(document.querySelector('[data-testid=lstm-gates]'), slider.max)) return;
    window.__benchFirstPaint = performance.timeOrigin + performance.now();
    observer.disconnect();
  });
  observer.observe(document, { subtree: true, childList: true, attributes: true });
})();
""" % (PLUGIN, SHOWN_JS)

# In the plugin's frame: the store keys every panel needs at a step, as model.js' `keys` spells them
# (checked against the shown step by STORE_STATE's caller), and how many of them are fetched / loading.
KEYS_JS = """
const keysAt = (app, step) => {
  const keys = new Set();
  for (const p of app.panels) {
    if (p.kind === 'weights') keys.add(JSON.stringify(['weights', p.run.run, p.layer.layer, p.matrix.matrix, step]));
    else if (p.kind === 'activations') keys.add(JSON.stringify(['activations', p.run.run, p.layer.layer, step]));
  }
  return [...keys];
};
const storeState = (app, step) => {
  const keys = keysAt(app, step);
  return { keys: keys.length, ready: keys.filter((k) => app.store.ready.has(k)).length,
           loading: keys.filter((k) => app.store.loading.has(k)).length };
};
"""

STORE_STATE = "(step) => {" + KEYS_JS + "return storeState(window.lstmGates.app, step); }"

# Every step of every panel fetched, nothing loading (the prefetcher done).
ALL_FETCHED = "() => {" + KEYS_JS + """
  const app = window.lstmGates.app;
  return app.store.pending === 0
    && app.steps.every((s) => { const state = storeState(app, s); return state.ready === state.keys; });
}"""

# One slider move, timed in the page. Starts just after an animation frame, dispatches the slider's
# input event, then checks (at once, then every frame) that the root is complete at the step and
# every panel shows it; then waits for the next frame.
MOVE = "async (step) => {" + SHOWN_JS + KEYS_JS + """
  const app = window.lstmGates.app;
  const root = document.querySelector('[data-testid=lstm-gates]');
  const slider = document.querySelector('[data-testid=step-slider]');
  const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
  const want = String(step);
  const shown = () => shownAt(root, want);
  await frame();
  const before = storeState(app, step);
  const recorded = app.redraws.length;
  const start = performance.now();
  slider.value = want;
  slider.dispatchEvent(new Event('input', { bubbles: true }));
  const handled = performance.now();
  const synchronous = shown();
  while (!shown()) {
    await frame();
    if (performance.now() - start > %d) throw new Error(`step ${step} not shown after %d ms`);
  }
  const shownTime = performance.now();
  await frame();
  const framed = performance.now();
  const redraw = app.redraws.slice(recorded).find((r) => r.step === step);
  return { step, before, synchronous, handler_ms: handled - start, shown_ms: shownTime - start,
           frame_ms: framed - start, redraw_ms: redraw ? redraw.ms : null,
           panels: panelsOf(root).length };
}""" % (WAIT_TIMEOUT_MS, WAIT_TIMEOUT_MS)

# Check every run's box (HTMLElement.click fires change, as a user's click does), timed like MOVE.
CHECK_ALL_RUNS = "async () => {" + SHOWN_JS + """
  const root = document.querySelector('[data-testid=lstm-gates]');
  const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
  const want = root.dataset.step;
  const shown = () => shownAt(root, want);
  await frame();
  const start = performance.now();
  for (const box of document.querySelectorAll('[data-testid=run-checkbox]')) if (!box.checked) box.click();
  while (!shown()) {
    await frame();
    if (performance.now() - start > %d) throw new Error('runs not shown');
  }
  return { shown_ms: performance.now() - start, runs: window.lstmGates.app.state.selected.length,
           cards: document.querySelectorAll('[data-testid=run-card]').length };
}""" % WAIT_TIMEOUT_MS


# Leave only the first run's box checked (with 4 runs or fewer the page checks them all at first).
ONE_RUN = "async () => {" + SHOWN_JS + """
  const root = document.querySelector('[data-testid=lstm-gates]');
  const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
  const want = root.dataset.step;
  const boxes = [...document.querySelectorAll('[data-testid=run-checkbox]')];
  if (!boxes[0].checked) boxes[0].click();
  for (const box of boxes.slice(1)) if (box.checked) box.click();
  const start = performance.now();
  while (!shownAt(root, want)) {
    await frame();
    if (performance.now() - start > %d) throw new Error('one run not shown');
  }
  return window.lstmGates.app.state.selected.length;
}""" % WAIT_TIMEOUT_MS


def _helpers():
    """The tests' TensorBoard and browser helpers (the repository root must be importable)."""
    if sys.path[0] != str(REPO):
        sys.path.insert(0, str(REPO))
    from tests.helpers import tensorboard_browser, tensorboard_server

    return tensorboard_server, tensorboard_browser


def _missing() -> str | None:
    """Why the section cannot run here, or None."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed (a test dependency: pip install -e '.[test]')"
    _, browser = _helpers()
    if browser.find_chromium() is None:
        return "chromium not found (apt-get install chromium, or set CHROMIUM_PATH)"
    return None


def make_sweep(units: int, workdir: Path) -> tuple[Path, float, list[str]]:
    """The 3-run sweep through the real CLI: (its directory, wall seconds, the command's arguments)."""
    sweep = workdir / "sweep"
    args = ["-m", "lstm_experiments", "-m", f"units={units}", f"data.n_samples={SAMPLES}", f"train.epochs={EPOCHS}",
            "viz=[gates,activations]", f"seed={SEEDS}", f"hydra.sweep.dir={sweep}"]
    start = time.perf_counter()
    result = subprocess.run([sys.executable, *args], cwd=workdir, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"the sweep failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return sweep, seconds, args


def wait_for_plugin(server, base: str) -> float:
    """Wait until the plugin lists every run with every step kept; the seconds it took."""
    start = time.perf_counter()
    while True:
        runs = server.get_json(f"{base}/data/plugin/{PLUGIN}/runs").get("runs", [])
        if len(runs) >= RUNS and all(run.get("kept_steps") == STEPS == run.get("logged_steps") for run in runs):
            return time.perf_counter() - start
        if time.perf_counter() - start > READY_TIMEOUT_S:
            raise TimeoutError(f"TensorBoard at {base} lists {[(r.get('run'), r.get('kept_steps')) for r in runs]}")
        time.sleep(0.5)


def _unfetched_step(frame, steps: list[int], current: int) -> tuple[int, dict]:
    """The step furthest (in the prefetcher's nearest-first order) from ``current`` with the fewest keys fetched."""
    state = {s: frame.evaluate(STORE_STATE, s) for s in steps}
    shown = state[current]
    if shown["ready"] != shown["keys"] or not shown["keys"]:
        raise RuntimeError(f"the shown step {current} has {shown} keys in the store: update board.KEYS_JS "
                           "to model.js' keys")
    others = [s for s in steps if s != current]
    step = min(others, key=lambda s: (state[s]["ready"] + state[s]["loading"], -abs(s - current)))
    return step, state[step]


def _wait_all_fetched(frame) -> None:
    frame.wait_for_function(ALL_FETCHED, timeout=WAIT_TIMEOUT_MS)


def _move_cycle(steps: list[int], current: int) -> list[int]:
    """MOVES steps, each other than the one before, cycling from the step after ``current``."""
    index = steps.index(current)
    return [steps[(index + 1 + i) % len(steps)] for i in range(MOVES)]


def measure_view(frame, steps: list[int], current: int) -> dict:
    """The move to a step not yet fetched, then MOVES moves over fetched steps; ends at the last step."""
    step, before = _unfetched_step(frame, steps, current)
    unfetched = frame.evaluate(MOVE, step)
    unfetched["store_at_move"] = before
    _wait_all_fetched(frame)
    moves = []
    current = step
    for target in _move_cycle(steps, current):
        moves.append(frame.evaluate(MOVE, target))
        current = target
    if current != steps[-1]:
        frame.evaluate(MOVE, steps[-1])
    return {"unfetched": unfetched, "moves": moves}


def measure_page(browser, tb_browser, base: str) -> dict:
    """One fresh browser context: first paint, then the slider in the grid and with every run checked."""
    context = browser.new_context(viewport=tb_browser.VIEWPORT)
    context.add_init_script(FIRST_PAINT_SCRIPT)
    errors = []
    try:
        page = context.new_page()
        page.set_default_timeout(WAIT_TIMEOUT_MS)
        page.on("pageerror", lambda error: errors.append(str(error)))
        start = time.perf_counter()
        page.goto(tb_browser.dashboard_url(base, PLUGIN))
        frame = tb_browser.plugin_frame(page, PLUGIN, WAIT_TIMEOUT_MS)
        frame.wait_for_function("() => window.__benchFirstPaint !== undefined", timeout=WAIT_TIMEOUT_MS)
        wall_s = time.perf_counter() - start
        navigation = page.evaluate("() => performance.timeOrigin")
        painted, frame_origin = frame.evaluate("() => [window.__benchFirstPaint, performance.timeOrigin]")
        steps = frame.evaluate("() => window.lstmGates.app.steps")
        current = int(frame.evaluate("() => document.querySelector('[data-testid=lstm-gates]').dataset.step"))
        if current != steps[-1]:
            raise RuntimeError(f"the first paint shows step {current}, not the last of {steps}")
        panels = frame.evaluate("() => window.lstmGates.shownSteps().length")
        first = {"ms": painted - navigation, "iframe_start_ms": frame_origin - navigation,
                 "wall_s": wall_s, "panels": panels, "step": current,
                 "runs": frame.evaluate("() => window.lstmGates.app.state.selected.length")}
        frame.evaluate(ONE_RUN)
        grid = measure_view(frame, steps, current)
        runs = frame.evaluate(CHECK_ALL_RUNS)
        compare = measure_view(frame, steps, steps[-1])
        return {"first_paint": first, "grid": grid, "check_runs": runs, "compare": compare, "errors": errors}
    finally:
        context.close()


def _stats(values) -> dict:
    values = [float(v) for v in values if v is not None]  # the page's times come back as ints when whole
    if not values:
        return {"n": 0, "median_ms": None, "min_ms": None, "max_ms": None}
    return {"n": len(values), "median_ms": median(values), "min_ms": min(values), "max_ms": max(values)}


def _rows(pages: list[dict], runs: int) -> list[dict]:
    rows = []

    def add(measure: str, view: str, values, panels, judged: bool = False):
        row = {"measure": measure, "view": view, "panels": panels, **_stats(values)}
        if judged:
            row["target_ms"] = REDRAW_TARGET_MS
            row["met"] = row["median_ms"] is not None and row["median_ms"] <= REDRAW_TARGET_MS
        rows.append(row)

    shown = f"{pages[0]['first_paint']['runs']} run(s) (the page's default)"
    add("first paint: navigation -> every panel at the last step", shown,
        [p["first_paint"]["ms"] for p in pages], pages[0]["first_paint"]["panels"])
    add("  of which the GATES iframe: its start -> the same", shown,
        [p["first_paint"]["ms"] - p["first_paint"]["iframe_start_ms"] for p in pages],
        pages[0]["first_paint"]["panels"])
    for key, view in (("grid", "1 run"), ("compare", f"{runs} runs checked")):
        if key == "compare":
            add(f"check the other {runs - 1} runs -> every panel shown", view,
                [p["check_runs"]["shown_ms"] for p in pages], pages[0][key]["unfetched"]["panels"])
        unfetched = [p[key]["unfetched"] for p in pages]
        moves = [m for p in pages for m in p[key]["moves"]]
        panels = unfetched[0]["panels"]
        add("slider -> step not fetched: input -> every panel at it", view, [u["shown_ms"] for u in unfetched], panels)
        add("slider, fetched steps: redraw (window.lstmGates.redraws)", view, [m["redraw_ms"] for m in moves],
            panels, judged=True)
        add("slider, fetched steps: input -> next animation frame", view, [m["frame_ms"] for m in moves], panels,
            judged=True)
    return rows


def run(sizes, workdir: Path) -> dict:
    """Train the sweep, serve it, and time the GATES page in ``sizes.board_pages`` fresh browser contexts."""
    title = f"board: the GATES page in Chromium, {RUNS}-run sweep at units={sizes.board_units}"
    columns = ["measure", "view", "panels", "n", "median_ms", "min_ms", "max_ms", "target_ms", "met"]
    missing = _missing()
    if missing:
        notes = [f"skipped: {missing}"]
        print_table(title, columns, [], notes)
        return {"rows": [], "notes": notes, "skipped": missing}
    server, tb_browser = _helpers()
    sweep, sweep_s, sweep_args = make_sweep(sizes.board_units, workdir)
    pages = []
    with server.tensorboard(sweep, expected_runs=RUNS, extra_args=SAMPLES_FLAG) as base:
        ready_s = wait_for_plugin(server, base)
        with tb_browser.Browser() as session:
            for _ in range(sizes.board_pages):
                pages.append(measure_page(session._browser, tb_browser, base))
    rows = _rows(pages, RUNS)
    unfetched = [p[key]["unfetched"] for p in pages for key in ("grid", "compare")]
    moves = [m for p in pages for key in ("grid", "compare") for m in p[key]["moves"]]
    notes = [
        f"sweep: python {' '.join(sweep_args[:-1])} hydra.sweep.dir=<workdir>/sweep ({sweep_s:.0f} s); TensorBoard "
        f"{' '.join(SAMPLES_FLAG)}, every step listed {ready_s:.1f} s after it served",
        f"{sizes.board_pages} page(s), each a fresh browser context (empty cache); each page: first paint, then "
        f"per view the move to a step not fetched and {MOVES} moves over fetched steps (n = pages x {MOVES})",
        "first paint: the top page's navigation start (TensorBoard's page) -> the DOM mutation completing the last "
        "step in every panel; the GATES iframe starts (its timeOrigin) at "
        f"{median(p['first_paint']['iframe_start_ms'] for p in pages):.0f} ms, median; Playwright's goto -> "
        f"seen: {median(p['first_paint']['wall_s'] for p in pages):.2f} s",
        "redraw: performance.now() around GatesApp.redraw, which runs inside the slider's input handler when the "
        "step is fetched; next animation frame: input dispatched just after a frame -> the first frame after every "
        "panel shows the step (frame-quantized, ~16.7 ms at least)",
        "step not fetched: the move right after the first paint (or after checking the runs) to the step with the "
        "least of its data in the page's store (of those, the one the prefetcher reaches last); its store keys "
        "at the move, fetched/loading/needed: "
        + ", ".join(f"step {u['step']}: {u['store_at_move']['ready']}/{u['store_at_move']['loading']}/"
                    f"{u['store_at_move']['keys']}" for u in unfetched),
    ]
    if not all(m["synchronous"] for m in moves):
        notes.append(f"{sum(not m['synchronous'] for m in moves)} of {len(moves)} fetched moves were not complete "
                     "when the input handler returned")
    errors = [e for p in pages for e in p["errors"]]
    if errors:
        notes.append(f"page errors: {errors[:3]}")
    print_table(title, columns, rows, notes)
    return {"rows": rows, "notes": notes, "pages": pages, "units": sizes.board_units, "sweep_s": sweep_s,
            "sweep_command": ["python", *sweep_args], "ready_s": ready_s, "redraw_target_ms": REDRAW_TARGET_MS}
