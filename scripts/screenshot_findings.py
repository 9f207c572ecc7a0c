"""Take docs/diagnosing.md's screenshots of the GATES tab's findings and figures in headless Chromium.

    python -m lstm_experiments -m data=adding data.seq_len=50 units=16 data.n_samples=512 train.epochs=3 \\
        'viz=[gates,activations]' 'model.unit_forget_bias=false,true' hydra.sweep.dir=multirun/forget_bias_50
    python scripts/screenshot_findings.py multirun/forget_bias_50 --out docs --shots through_time
    python -m lstm_experiments -m experiment=adding_memory 'train.learning_rate=0.001,0.5' \\
        hydra.sweep.dir=multirun/adding_lr
    python scripts/screenshot_findings.py multirun/adding_lr --out docs --shots unit_scatter

Writes, from a sweep (or run) directory whose runs logged findings, every run ticked side by side
(at most ``--max-runs``), at the last step (``--step``):

- findings_through_time.png: the findings list over the gradient through time of each run (a
  broken run beside its healthy control: the one's norm falls by decades towards t = 0);
- findings_unit_scatter.png: each gate's unit saturation scatter of each run (Karpathy et al.
  2015, Fig. 3).

Needs Debian's chromium and the test extra (Playwright); TensorBoard keeps every step
(``metadata.SAMPLES_FLAG``).
"""

import argparse
import sys
from pathlib import Path

# The browser and server helpers are the tests' own (tests/helpers), run from a clone.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from scripts.screenshot_gates import run_dirs, select_runs  # noqa: E402
from tests.helpers.tensorboard_browser import GATES_ROOT, Browser, plugin_frame, wait_for_gates  # noqa: E402
from tests.helpers.tensorboard_server import get_json, tensorboard  # noqa: E402

from lstm_experiments.board.metadata import SAMPLES_FLAG  # noqa: E402

VIEWPORT = {"width": 1200, "height": 1400}
SETTLE_MS = 500
# What each screenshot leaves out of the page (data-testid of its sections: board/static/index.js).
SHOTS = {
    "through_time": ("findings_through_time.png", ("weights-section", "activations-section", "unit-scatter-section")),
    "unit_scatter": ("findings_unit_scatter.png",
                     ("weights-section", "activations-section", "through-time-section", "findings")),
}


def shoot(page, frame, path: Path, hide) -> None:
    """A screenshot of the page's root with the sections in ``hide`` left out."""
    wait_for_gates(frame)
    page.wait_for_timeout(SETTLE_MS)
    toggle = "([ids, hidden]) => ids.forEach((id) => { document.querySelector(`[data-testid=${id}]`).hidden = hidden; })"
    frame.evaluate(toggle, [list(hide), True])
    frame.locator(GATES_ROOT).screenshot(path=str(path))
    frame.evaluate(toggle, [list(hide), False])
    print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logdir", type=Path, help="a sweep or run directory whose runs logged findings")
    parser.add_argument("--out", type=Path, required=True, help="where the PNG files go (docs for diagnosing.md's)")
    parser.add_argument("--step", type=int, default=None, help="the step to show (default: the last)")
    parser.add_argument("--max-runs", type=int, default=2, help="how many runs side by side")
    parser.add_argument("--shots", choices=(*SHOTS, "all"), default="all", help="which screenshot (default: both)")
    args = parser.parse_args()
    expected = len(run_dirs(args.logdir))
    if not expected:
        parser.error(f"{args.logdir} holds no event file")
    args.out.mkdir(parents=True, exist_ok=True)
    with tensorboard(args.logdir, expected_runs=expected, extra_args=[SAMPLES_FLAG]) as base, Browser() as browser:
        runs = get_json(f"{base}/data/plugin/lstm_gates/runs")["runs"]
        figured = [run for run in runs if any(layer.get("through_time") for layer in run["layers"])]
        if not figured:
            sys.exit(f"error: no run in {args.logdir} logged the findings' figures (train with a probe and "
                     "viz.findings.enabled=true, the default)")
        page = browser.open(f"{base}/#lstm_gates", viewport=VIEWPORT)
        frame = plugin_frame(page, "lstm_gates")
        wait_for_gates(frame)
        select_runs(frame, {run["run"] for run in figured[: args.max_runs]})
        if args.step is not None:
            frame.evaluate("(step) => window.lstmGates.setStep(step)", args.step)
        for shot, (name, hide) in SHOTS.items():
            if args.shots in (shot, "all"):
                shoot(page, frame, args.out / name, hide)


if __name__ == "__main__":
    main()
