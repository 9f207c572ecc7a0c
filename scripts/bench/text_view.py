"""text: the GATES text view's redraw after a slider move, in headless Chromium (target under 50 ms).

A character model (``Embedding`` -> ``LSTM(UNITS)`` -> softmax) on the interpreter's own
``_pydecimal.py`` is fitted through ``GateLogger(vocabulary=...)`` with a probe of ``SEQUENCES`` windows
of ``SEQ_LEN`` characters, so the text view shows 4 x 200 tokens per unit; the page is served by a real
TensorBoard, the text view is given ``UNITS`` units (its units field: 8 rows under each line of text,
6,400 coloured tokens) and, once every step is fetched, the slider is moved ``MOVES`` times. Measured
in the page: the text view's own paint (``GatesApp.paintView('text')``, wrapped with
``performance.now()``), the page's whole redraw (``window.lstmGates.redraws``: every view), and the
slider's ``input`` event to the next animation frame (which includes the browser's own rendering), with
the text view scrolled into sight.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

from bench.board import PLUGIN, SAMPLES_FLAG, WAIT_TIMEOUT_MS, _helpers, _missing
from bench.common import import_tensorflow_quietly, median, print_table

SEQUENCES = 4
SEQ_LEN = 200
UNITS = 8
EPOCHS = 3
MOVES = 20
REDRAW_TARGET_MS = 50.0
RUN = "chars/tensorboard"

# Wrap GatesApp.paintView to time each view's paint; then one slider move, timed as board.py's MOVE.
WRAP = """() => {
  const app = window.lstmGates.app;
  if (app.__timed) return;
  const paint = app.paintView.bind(app);
  app.__timed = [];
  app.paintView = (name) => { const t0 = performance.now(); paint(name); app.__timed.push([name, performance.now() - t0]); };
}"""

MOVE = """async (step) => {
  const app = window.lstmGates.app;
  const root = document.querySelector('[data-testid=lstm-gates]');
  const view = document.querySelector('[data-testid=text-view]');
  const slider = document.querySelector('[data-testid=step-slider]');
  const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
  await frame();
  app.__timed.length = 0;
  const recorded = app.redraws.length;
  const start = performance.now();
  slider.value = String(step);
  slider.dispatchEvent(new Event('input', { bubbles: true }));
  while (view.dataset.step !== String(step) || root.dataset.complete !== 'true') {
    await frame();
    if (performance.now() - start > %d) throw new Error(`step ${step} not shown`);
  }
  await frame();
  const framed = performance.now() - start;
  const text = app.__timed.filter(([name]) => name === 'text').reduce((sum, [, ms]) => sum + ms, 0);
  const redraw = app.redraws.slice(recorded).find((r) => r.step === step);
  return { step, text_ms: text, redraw_ms: redraw ? redraw.ms : null, frame_ms: framed,
           lines: view.querySelectorAll('canvas[data-testid=text-line]').length };
}""" % WAIT_TIMEOUT_MS

# The text view rebuilt with the units asked for, and painted.
SHOWN_UNITS = """(units) => {
  const view = document.querySelector('[data-testid=text-view]');
  return Boolean(view) && view.dataset.units === units && view.dataset.step !== undefined;
}"""

ALL_FETCHED = """(run) => {
  const app = window.lstmGates.app;
  return app.store.pending === 0
    && app.steps.every((s) => app.store.ready.has(JSON.stringify(['activations', run, 'chars', s])));
}"""


def fit(log_dir: Path) -> None:
    """The char model on _pydecimal.py, its probe SEQUENCES windows of SEQ_LEN characters."""
    import keras

    from lstm_experiments.capture.callback import GateLogger

    text = Path(sys.modules["decimal"].__file__).with_name("_pydecimal.py").read_text(encoding="utf-8")
    chars = sorted(set(text))
    ids = np.array([chars.index(ch) for ch in text[: 40 * SEQ_LEN + 1]], np.int32)
    x = ids[:-1].reshape(-1, SEQ_LEN)
    y = ids[1:].reshape(-1, SEQ_LEN)
    keras.utils.set_random_seed(0)
    inputs = keras.Input((SEQ_LEN,), dtype="int32")
    hidden = keras.layers.Embedding(len(chars), 16)(inputs)
    hidden = keras.layers.LSTM(UNITS, return_sequences=True, name="chars")(hidden)
    model = keras.Model(inputs, keras.layers.Dense(len(chars), activation="softmax")(hidden))
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=EPOCHS, batch_size=8, verbose=0,
              callbacks=[GateLogger(log_dir, background=False, probe=(x[:SEQUENCES], y[:SEQUENCES]),
                                    visualizers=("gates", "activations"), vocabulary=chars, findings=False)])


def measure(session, tb_browser, base: str) -> dict:
    page = session._browser.new_page(viewport=tb_browser.VIEWPORT)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_default_timeout(WAIT_TIMEOUT_MS)
    try:
        page.goto(tb_browser.dashboard_url(base, PLUGIN))
        frame = tb_browser.plugin_frame(page, PLUGIN, WAIT_TIMEOUT_MS)
        frame.locator("[data-testid=text-view][data-step]").wait_for()
        units = frame.locator("[data-testid=text-units]")
        units.fill(" ".join(str(u) for u in range(UNITS)))
        units.dispatch_event("change")
        frame.wait_for_function(SHOWN_UNITS, arg=",".join(str(u) for u in range(UNITS)))
        frame.wait_for_function(ALL_FETCHED, arg=RUN, timeout=WAIT_TIMEOUT_MS)
        frame.locator("[data-testid=text-view]").scroll_into_view_if_needed()  # drawn where the browser paints it
        frame.evaluate(WRAP)
        steps = frame.evaluate("() => window.lstmGates.app.steps")
        moves, current = [], steps[-1]
        for _ in range(MOVES):  # every move to another step, cycling
            current = steps[(steps.index(current) + 1) % len(steps)]
            moves.append(frame.evaluate(MOVE, current))
        return {"moves": moves, "errors": errors, "steps": steps}
    finally:
        page.close()


def run(sizes, workdir: Path) -> dict:
    """Fit the char model, serve it, time the text view's redraws."""
    title = f"text: the GATES text view, {SEQUENCES} sequences x {SEQ_LEN} characters x {UNITS} units"
    columns = ["measure", "n", "median_ms", "min_ms", "max_ms", "target_ms", "met"]
    missing = _missing()
    if missing:
        notes = [f"skipped: {missing}"]
        print_table(title, columns, [], notes)
        return {"rows": [], "notes": notes, "skipped": missing}
    import_tensorflow_quietly()
    server, tb_browser = _helpers()
    logdir = workdir / "text_view"
    started = time.perf_counter()
    fit(logdir / RUN)
    fit_s = time.perf_counter() - started
    with server.tensorboard(logdir, expected_runs=1, extra_args=SAMPLES_FLAG) as base:
        server.get_json(f"{base}/data/plugin/{PLUGIN}/runs")
        with tb_browser.Browser() as session:
            result = measure(session, tb_browser, base)
    moves = result["moves"]
    rows = []
    for measure_name, key in (("text view's paint (paintView('text'))", "text_ms"),
                              ("whole redraw, every view (window.lstmGates.redraws)", "redraw_ms"),
                              ("slider input -> next animation frame", "frame_ms")):
        values = [float(m[key]) for m in moves if m[key] is not None]
        middle = statistics.median(values) if values else None
        rows.append({"measure": measure_name, "n": len(values), "median_ms": middle,
                     "min_ms": min(values) if values else None, "max_ms": max(values) if values else None,
                     "target_ms": REDRAW_TARGET_MS, "met": middle is not None and middle <= REDRAW_TARGET_MS})
    notes = [f"model: Embedding(16) -> LSTM({UNITS}) -> softmax on _pydecimal.py, {EPOCHS} epochs through "
             f"GateLogger(vocabulary=...) ({fit_s:.0f} s); probe {SEQUENCES} x {SEQ_LEN} characters; "
             f"{SEQUENCES * SEQ_LEN * UNITS} coloured tokens on {moves[0]['lines']} line canvases; "
             f"{MOVES} moves between fetched steps {result['steps']}",
             f"median text paint {median(r['text_ms'] for r in moves):.1f} ms"]
    if result["errors"]:
        notes.append(f"page errors: {result['errors'][:3]}")
    print_table(title, columns, rows, notes)
    return {"rows": rows, "notes": notes, "moves": moves, "redraw_target_ms": REDRAW_TARGET_MS}
