"""Take the README's screenshots of the GATES tab (the lstm_gates plugin) in headless Chromium.

    python scripts/screenshot_gates.py multirun/<date>/<time> --out docs
    python scripts/screenshot_gates.py outputs/<date>/<time> --step 2 --view change

Writes, from a run or sweep directory:

- gates_grid.png: one run (the first), a row per matrix and a column per gate, with
  the run picker, the step slider and the colour legends;
- gates_runs.png: with several runs, the forget gate's recurrent kernel of each run
  side by side on one shared scale (``--gate``, ``--matrix``);
- gates_activations.png: with ``viz=activations``, the probe's input over time above
  each gate's time x units panel, the cell and hidden states, the saturation curves.

Needs Debian's chromium and the test extra (Playwright); TensorBoard keeps every step
(``metadata.SAMPLES_FLAG``).
"""

import argparse
import sys
from pathlib import Path

# The browser and server helpers are the tests' own (tests/helpers), run from a clone.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.helpers.tensorboard_browser import (  # noqa: E402
    GATES_ROOT, Browser, plugin_frame, wait_for_gates,
)
from tests.helpers.tensorboard_server import get_json, tensorboard  # noqa: E402

from lstm_experiments.board.metadata import SAMPLES_FLAG  # noqa: E402

SAMPLES = [SAMPLES_FLAG]
VIEWPORT = {"width": 1400, "height": 1600}
SETTLE_MS = 500


def run_dirs(logdir: Path) -> list[Path]:
    """Every directory under ``logdir`` holding an event file: TensorBoard's runs."""
    return sorted({path.parent for path in logdir.rglob("events.out.tfevents.*")})


def select_runs(frame, wanted) -> None:
    """Check exactly the runs (TensorBoard names) in ``wanted`` in the page's run picker."""
    boxes = frame.locator("[data-testid=run-checkbox]")
    for index in range(boxes.count()):
        box = boxes.nth(index)
        if (box.get_attribute("data-run") in wanted) != box.is_checked():
            box.click()


def shoot(page, frame, path: Path, hide=()) -> None:
    """A screenshot of the page's root with the sections in ``hide`` left out."""
    wait_for_gates(frame)
    page.wait_for_timeout(SETTLE_MS)
    frame.evaluate("(ids) => ids.forEach((id) => { document.querySelector(`[data-testid=${id}]`).hidden = true; })", list(hide))
    frame.locator(GATES_ROOT).screenshot(path=str(path))
    frame.evaluate("(ids) => ids.forEach((id) => { document.querySelector(`[data-testid=${id}]`).hidden = false; })", list(hide))
    print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logdir", type=Path, help="a run or sweep directory")
    parser.add_argument("--out", type=Path, required=True, help="where the PNG files go (docs for the README's)")
    parser.add_argument("--step", type=int, default=None, help="the step to show (default: the last)")
    parser.add_argument("--view", choices=("weights", "change"), default="weights", help="W_t or W_t - W_0")
    parser.add_argument("--gate", default="forget", help="the gate compared across runs")
    parser.add_argument("--matrix", default="recurrent_kernel", help="the matrix compared across runs")
    parser.add_argument("--max-runs", type=int, default=4, help="how many runs side by side")
    args = parser.parse_args()
    expected = len(run_dirs(args.logdir))
    if not expected:
        parser.error(f"{args.logdir} holds no event file")
    args.out.mkdir(parents=True, exist_ok=True)
    with tensorboard(args.logdir, expected_runs=expected, extra_args=SAMPLES) as base, Browser() as browser:
        runs = get_json(f"{base}/data/plugin/lstm_gates/runs")["runs"]
        if not runs:
            sys.exit(f"error: no run in {args.logdir} logged GATES data (train with viz.board=true, the default)")
        page = browser.open(f"{base}/#lstm_gates", viewport=VIEWPORT)
        frame = plugin_frame(page, "lstm_gates")
        wait_for_gates(frame)
        frame.locator(f"[data-testid=view-{args.view}]").check()
        if args.step is not None:
            frame.evaluate("(step) => window.lstmGates.setStep(step)", args.step)
        select_runs(frame, {runs[0]["run"]})
        shoot(page, frame, args.out / "gates_grid.png", hide=["activations-section"])
        if any(layer.get("activations") for layer in runs[0]["layers"]):
            shoot(page, frame, args.out / "gates_activations.png", hide=["weights-section"])
        if len(runs) > 1:
            select_runs(frame, {run["run"] for run in runs[: args.max_runs]})
            wait_for_gates(frame)
            frame.locator("[data-testid=gate-select]").select_option(args.gate)
            frame.locator("[data-testid=matrix-select]").select_option(args.matrix)
            shoot(page, frame, args.out / "gates_runs.png", hide=["activations-section"])


if __name__ == "__main__":
    main()
