"""Find a unit with the GATES text view's select and match, and take docs/gates_text.png, in headless Chromium.

    python -m lstm_experiments experiment=char_model hydra.run.dir=outputs/char_model
    python scripts/screenshot_text.py outputs/char_model --select '\\n( +)' --out docs/gates_text.png

On a run whose probe holds tokens (at the last step, or ``--step``): drags over the first stretch of the
probe's text that ``--select`` (a regular expression; its first group, else the whole match) finds, as a
user would, and reads the page's answer: the units most active over it (``match-units``) and the other
places where the matched units are on (``match-places``). Then shows the leading unit (and the next ones,
``--units`` rows in all), and counts, with the page's own ``unit_match.js`` on the data the page loaded, how
many of the leading unit's ``--top`` highest probe values fall on a stretch the same expression finds
anywhere in the probe, against that stretch's share of the probe. Prints it all, and writes the text
view's screenshot.

Needs Debian's chromium and the test extra (Playwright); TensorBoard keeps every step
(``metadata.SAMPLES_FLAG``).
"""

import argparse
import re
import sys
from pathlib import Path

# The browser and server helpers are the tests' own (tests/helpers), run from a clone.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from scripts.screenshot_gates import run_dirs  # noqa: E402
from tests.helpers.tensorboard_browser import Browser, plugin_frame, wait_for_gates  # noqa: E402
from tests.helpers.tensorboard_server import get_json, tensorboard  # noqa: E402

from lstm_experiments.board.metadata import SAMPLES_FLAG  # noqa: E402

VIEWPORT = {"width": 1200, "height": 1400}
SETTLE_MS = 500

# In the plugin's frame: the `top` highest values of `unit` at the view's step, by the page's unit_match.js.
TOP_VALUES = """async ([unit, top]) => {
  const match = await import(`${location.origin}/data/plugin/lstm_gates/static/unit_match.js`);
  const app = window.lstmGates.app;
  const view = document.querySelector('[data-testid=text-view]');
  const value = app.store.cached(JSON.stringify(['activations', view.dataset.run, view.dataset.layer, Number(view.dataset.step)]));
  const layer = app.state.byRun.get(view.dataset.run).layers.find((l) => l.layer === view.dataset.layer);
  return match.extremes(value, layer.activations.panels.indexOf(view.dataset.panel), unit, top).high;
}"""


def stretches(texts: list[str], pattern: re.Pattern) -> list[tuple[int, int, int]]:
    """(sequence, start, end) of every stretch the pattern finds (its first group, else the whole match)."""
    found = []
    for q, text in enumerate(texts):
        for m in pattern.finditer(text):
            group = 1 if m.re.groups else 0
            if m.end(group) > m.start(group):
                found.append((q, m.start(group), m.end(group)))
    return found


def cell_point(frame, sequence: int, t: int):
    """(canvas locator, x, y): the middle of token t's cell in the first row of the line holding it."""
    lines = frame.locator(f"[data-testid=text-view] canvas[data-testid=text-line][data-sequence='{sequence}']")
    for index in range(lines.count()):
        line = lines.nth(index)
        start, end = int(line.get_attribute("data-start")), int(line.get_attribute("data-end"))
        if start <= t < end:
            xs = [float(x) for x in line.get_attribute("data-x").split(",")] + [float(line.get_attribute("data-width"))]
            return line, (xs[t - start] + xs[t - start + 1]) / 2, float(line.get_attribute("data-row-px")) / 2
    raise SystemExit(f"error: no line of sequence {sequence} holds t={t}")


def drag(page, frame, sequence: int, start: int, end: int) -> None:
    """Select tokens start..end-1 of a sequence with the mouse."""
    first, x0, y0 = cell_point(frame, sequence, start)
    first.scroll_into_view_if_needed()
    box = first.bounding_box()
    page.mouse.move(box["x"] + x0, box["y"] + y0)
    page.mouse.down()
    last, x1, y1 = cell_point(frame, sequence, end - 1)
    box = last.bounding_box()
    page.mouse.move(box["x"] + x1, box["y"] + y1)
    page.mouse.up()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logdir", type=Path, help="a run directory whose probe holds tokens (experiment=char_model)")
    parser.add_argument("--select", required=True, help="a regular expression: the stretch of the probe to select")
    parser.add_argument("--out", type=Path, default=None, help="the screenshot's PNG file (default: none)")
    parser.add_argument("--step", type=int, default=None, help="the step to show (default: the last)")
    parser.add_argument("--top", type=int, default=20, help="how many of the leading unit's highest values to count")
    parser.add_argument("--units", type=int, default=3, help="rows shown: the matched units first")
    args = parser.parse_args()
    pattern = re.compile(args.select)
    if not run_dirs(args.logdir):
        parser.error(f"{args.logdir} holds no event file")
    with tensorboard(args.logdir, expected_runs=1, extra_args=[SAMPLES_FLAG]) as base, Browser() as browser:
        runs = [r for r in get_json(f"{base}/data/plugin/lstm_gates/runs")["runs"] if r.get("encoding") in ("ids", "one_hot")]
        if not runs:
            sys.exit(f"error: no run in {args.logdir} kept its probe as tokens (GateLogger(vocabulary=...), data=text)")
        run = runs[0]["run"]
        probe = get_json(f"{base}/data/plugin/lstm_gates/probe?run={run}")
        texts = ["".join(probe["tokens"][i] if i >= 0 else "" for i in row) for row in probe["values"]]
        if any(len(t) != len(row) for t, row in zip(texts, probe["values"])):
            sys.exit("error: --select needs a probe of one character a token")
        found = stretches(texts, pattern)
        if not found:
            sys.exit(f"error: --select {args.select!r} finds nothing in the probe")
        page = browser.open(f"{base}/#lstm_gates", viewport=VIEWPORT)
        frame = plugin_frame(page, "lstm_gates")
        wait_for_gates(frame)
        if args.step is not None:
            frame.evaluate("(step) => window.lstmGates.setStep(step)", args.step)
            wait_for_gates(frame, args.step)
        q, start, end = found[0]
        drag(page, frame, q, start, end)
        frame.locator("[data-testid=match-units] li").first.wait_for()
        ranked = frame.eval_on_selector_all("[data-testid=match-units] li", """(nodes) => nodes.map((n) => ({
            unit: Number(n.dataset.unit), contrast: Number(n.dataset.contrast), matched: n.className === 'lg-matching'}))""")
        places = frame.eval_on_selector_all("[data-testid=match-places] li", """(nodes) => nodes.map((n) => [
            Number(n.dataset.sequence), Number(n.dataset.start), Number(n.dataset.end)])""")
        lead = ranked[0]["unit"]
        units = [r["unit"] for r in ranked[: args.units]]
        field = frame.locator("[data-testid=text-units]")
        field.fill(" ".join(map(str, units)))
        field.dispatch_event("change")
        frame.wait_for_function("(units) => document.querySelector('[data-testid=text-view]')?.dataset.units === units "
                                "&& document.querySelector('[data-testid=text-view]').dataset.step !== undefined",
                                arg=",".join(map(str, units)))
        wait_for_gates(frame)
        step = int(frame.locator("[data-testid=text-view]").get_attribute("data-step"))
        top = frame.evaluate(TOP_VALUES, [lead, args.top])
        on = {(s, t) for s, a, b in found for t in range(a, b)}
        hits = sum((p["sequence"], p["t"]) in on for p in top)
        total = sum(len(t) for t in texts)
        matched_on = sum(all((s, t) in on for t in range(a, b)) for s, a, b in places)
        print(f"run {run}, step {step}: selected sequence {q}, t {start}-{end - 1} {texts[q][start:end]!r}")
        print("units most active over it (contrast): "
              + ", ".join(f"{r['unit']} ({r['contrast']:.3f}{', matched' if r['matched'] else ''})" for r in ranked))
        print(f"matches: {len(places)}, of which {matched_on} lie wholly on a stretch {args.select!r} finds")
        print(f"unit {lead}: {hits} of its {len(top)} highest probe values fall on {args.select!r} "
              f"({hits / len(top):.0%}); such positions are {len(on)} of the probe's {total} ({len(on) / total:.0%})")
        if args.out is not None:
            page.wait_for_timeout(SETTLE_MS)
            frame.locator("[data-testid=text-section]").screenshot(path=str(args.out))
            print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
