"""Take docs/diagnosing.md's screenshots of the GATES tab's findings and figures in headless Chromium.

Each from a sweep (or parent) directory holding a broken run and its healthy control, both ticked;
run from the repository's root with the venv active. The gradient through time and the unit scatter:

    python -m lstm_experiments -m data=adding data.seq_len=50 units=16 data.n_samples=512 train.epochs=3 \\
        'viz=[gates,activations]' 'model.unit_forget_bias=false,true' hydra.sweep.dir=multirun/forget_bias_50
    python scripts/screenshot_findings.py multirun/forget_bias_50 --out docs --shots through_time
    python -m lstm_experiments -m experiment=adding_memory 'train.learning_rate=0.001,0.5' \\
        hydra.sweep.dir=multirun/adding_lr
    python scripts/screenshot_findings.py multirun/adding_lr --out docs --shots unit_scatter

input_scale: a CSV whose rows after the training rows changed units (x 1000 + 2000) beside the same
CSV all in those units (tests/test_findings_both_ways.py's), two runs named after their CSVs, run
from their directory so that the page's titles (data.path=...) stay short:

    python scripts/screenshot_findings.py --write-csvs multirun/findings_input_scale
    (cd multirun/findings_input_scale && for csv in changed_units same_units; do
        python -m lstm_experiments data=csv data.path=$csv.csv data.target=load 'data.features=[load]' \\
            data.seq_len=6 viz.probe_size=64 units=8 train.epochs=3 train.batch_size=16 \\
            'viz=[gates,activations]' hydra.run.dir=$csv; done)
    python scripts/screenshot_findings.py multirun/findings_input_scale --out docs --shots input_scale

redundant_units, the default sine data for 5 epochs (116 of 128 units redundant, a warning; 10 of 16, an
info; at data.n_samples=256 train.epochs=3 the 16-unit control had 14 of 16, a warning, and at the default
10 epochs the 128-unit run only 96 of 128, exactly the 75 % threshold):

    python -m lstm_experiments -m 'units=128,16' train.epochs=5 'viz=[gates,activations]' \\
        hydra.sweep.dir=multirun/findings_redundant_units
    python scripts/screenshot_findings.py multirun/findings_redundant_units --out docs --shots redundant_units

non_finite (the sweep says "1 of 2 jobs did not complete" and exits 1: the job at 20 fails, as meant):

    python -m lstm_experiments -m units=8 data.n_samples=128 data.seq_len=12 train.batch_size=16 \\
        'viz=[gates]' train.epochs=3 train.optimizer=sgd 'train.learning_rate=20,0.05' \\
        hydra.sweep.dir=multirun/findings_non_finite
    python scripts/screenshot_findings.py multirun/findings_non_finite --out docs --shots non_finite

not_learning:

    python -m lstm_experiments -m units=8 data.n_samples=128 data.seq_len=12 train.batch_size=16 \\
        'viz=[gates]' train.epochs=6 'train.learning_rate=1e-7,1e-3' hydra.sweep.dir=multirun/findings_not_learning
    python scripts/screenshot_findings.py multirun/findings_not_learning --out docs --shots not_learning

dead_units (tests/test_findings_dead_units.py's runs: hard_sigmoid gates on the adding problem, Adam at 0.5
beside 0.01):

    python -m lstm_experiments -m data=adding data.seq_len=10 data.n_samples=4096 train.epochs=5 \
        model.recurrent_activation=hard_sigmoid 'train.learning_rate=0.5,0.01' 'viz=[gates,activations]' \
        hydra.sweep.dir=multirun/findings_dead_units
    python scripts/screenshot_findings.py multirun/findings_dead_units --out docs --shots dead_units

exploding_gradient, through GateLogger in a user's own fit (scripts/exploding_run.py):

    python scripts/exploding_run.py multirun/findings_exploding_gradient
    python scripts/screenshot_findings.py multirun/findings_exploding_gradient --out docs --shots exploding_gradient

Writes, from a sweep (or run) directory whose runs logged findings, every run ticked side by side
(at most ``--max-runs``), at the last step (``--step``), the findings list above:

- findings_through_time.png: the gradient through time of each run (a broken run beside its
  healthy control: the one's norm falls by decades towards t = 0);
- findings_unit_scatter.png: each gate's unit saturation scatter of each run, without the list
  (Karpathy et al. 2015, Fig. 3);
- findings_input_scale.png: the activations of each run in turn, on probe sequence 3 (the broken CSV's
  units change at its t = 3), with the input track's axis numbers;
- findings_redundant_units.png: the activations of each run in turn, their units ordered by similarity;
- findings_dead_units.png: the activations of each run in turn, their units ordered by activity (the
  dead ones last);
- findings_non_finite.png: the failing run's banner and slider marks, its non_finite finding clicked
  (the slider at its first step, whatever ``--step``; its panel outlined), and the forget gate's
  recurrent kernel of each run (grey: NaN or inf);
- findings_not_learning.png: each run's forget-gate recurrent kernel as its change W_t - W_0;
- findings_exploding_gradient.png: the gradient through time of each run.

The page shows one run's activations at a time: for the shots of activations, the first run (the
one with the most warnings) is shown under the list, then each other run's activations section is
taken and put under it in the same PNG.

Needs Debian's chromium and the test extra (Playwright); TensorBoard keeps every step
(``metadata.SAMPLES_FLAG``).
"""

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

# The browser and server helpers are the tests' own (tests/helpers), run from a clone.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from scripts.screenshot_gates import run_dirs, select_runs  # noqa: E402
from tests.helpers.tensorboard_browser import GATES_ROOT, Browser, plugin_frame, wait_for_gates  # noqa: E402
from tests.helpers.tensorboard_server import get_json, tensorboard  # noqa: E402

from lstm_experiments.board.metadata import SAMPLES_FLAG  # noqa: E402

VIEWPORT = {"width": 1200, "height": 1400}
SETTLE_MS = 500
GAP_PX = 16  # between the page and a further run's activations in one PNG
MARGIN_PX = 8  # white kept under each
ACTIVATIONS = "activations-section"
# The page's sections (data-testid: board/static/app.js).
WEIGHTS, SATURATION, FIGURES = "weights-section", "saturation-section", "figures-section"
THROUGH_TIME, UNIT_SCATTER, FINDINGS = "through-time-section", "unit-scatter-section", "findings"


@dataclass(frozen=True)
class Shot:
    """One screenshot: its file, the sections it leaves out and what it sets on the page first."""

    file: str
    hide: tuple[str, ...]
    figures: bool = False  # shows the findings' figures: every run shown must have logged them
    view: str | None = None  # the weights' view: weights (W_t) or change (W_t - W_0)
    unit_order: str | None = None  # built | saturation | activity | similarity
    sequence: int | None = None  # the probe sequence of the activations
    click: str | None = None  # the kind of the finding to click (its first step, its place outlined)
    each_run: bool = False  # the activations of every run shown, one under the other


SHOTS = {
    "through_time": Shot("findings_through_time.png", (WEIGHTS, ACTIVATIONS, UNIT_SCATTER), figures=True),
    "unit_scatter": Shot("findings_unit_scatter.png", (WEIGHTS, ACTIVATIONS, THROUGH_TIME, FINDINGS), figures=True),
    "input_scale": Shot("findings_input_scale.png", (WEIGHTS, SATURATION, FIGURES), sequence=3, each_run=True),
    "redundant_units": Shot("findings_redundant_units.png", (WEIGHTS, SATURATION, FIGURES), unit_order="similarity",
                            each_run=True),
    "dead_units": Shot("findings_dead_units.png", (WEIGHTS, SATURATION, FIGURES), unit_order="activity",
                       each_run=True),
    "non_finite": Shot("findings_non_finite.png", (ACTIVATIONS, FIGURES), click="non_finite"),
    "not_learning": Shot("findings_not_learning.png", (ACTIVATIONS, FIGURES), view="change"),
    "exploding_gradient": Shot("findings_exploding_gradient.png", (WEIGHTS, ACTIVATIONS, UNIT_SCATTER), figures=True),
}
DEFAULT_SHOTS = ("through_time", "unit_scatter")

# input_scale's CSVs, as tests/test_findings_both_ways.py's _load_csv writes them.
CSV_ROWS, CSV_VAL_FRACTION = 360, 0.2
CSVS = {"changed_units.csv": True, "same_units.csv": False}


def write_csvs(directory: Path) -> None:
    """A noisy sine ``load`` column, x 1000 + 2000 in the rows after the training rows only (changed_units.csv:
    a logger that switched units) or in every row (same_units.csv: the runner standardises with the training
    rows' mean and deviation, so this one is harmless)."""
    import numpy as np

    rng = np.random.default_rng(0)
    t = np.arange(CSV_ROWS)
    load = np.sin(0.3 * t) + 0.1 * rng.normal(size=CSV_ROWS)
    cut = int(CSV_ROWS * (1 - CSV_VAL_FRACTION))  # the runner's first validation row
    directory.mkdir(parents=True, exist_ok=True)
    for name, units_changed in CSVS.items():
        column = np.where(t < cut, load, load * 1000 + 2000) if units_changed else load * 1000 + 2000
        np.savetxt(directory / name, column[:, None], header="load", comments="", fmt="%.6f")
        print(f"wrote {directory / name}")


def set_hidden(frame, ids, hidden: bool) -> None:
    toggle = "([ids, hidden]) => ids.forEach((id) => { document.querySelector(`[data-testid=${id}]`).hidden = hidden; })"
    frame.evaluate(toggle, [list(ids), hidden])


def settle(page, frame) -> None:
    wait_for_gates(frame)
    page.wait_for_timeout(SETTLE_MS)


def prepare(page, frame, shot: Shot, step: int | None) -> None:
    """Set what ``shot`` shows: the weights' view, the units order, the probe sequence, a clicked finding."""
    if shot.view is not None:
        frame.locator(f"[data-testid=view-{shot.view}]").check()
    if shot.unit_order is not None:
        frame.locator("[data-testid=unit-order-select]").select_option(shot.unit_order)
    if shot.sequence is not None:
        frame.locator("[data-testid=sequence-select]").select_option(str(shot.sequence))
    if shot.click is not None:
        frame.locator(f"[data-testid=finding][data-kind={shot.click}]").first.click()
    elif step is not None:
        frame.evaluate("(step) => window.lstmGates.setStep(step)", step)
    settle(page, frame)


def reset(page, frame, shot: Shot, step: int | None) -> None:
    """Undo ``prepare``'s changes that would carry over to the next shot."""
    if shot.view is not None:
        frame.locator("[data-testid=view-weights]").check()
    if shot.unit_order is not None:
        frame.locator("[data-testid=unit-order-select]").select_option("built")
    if shot.click is not None:
        frame.locator(f"[data-testid=finding][data-kind={shot.click}][aria-pressed=true]").first.click()
        if step is None:  # the click took the slider off the last step
            frame.locator("[data-testid=follow-latest]").check()
    settle(page, frame)


def warnings_first(frame, shown) -> list[str]:
    """The runs shown, those with more warnings in the findings list first, else in the page's order."""
    rows = frame.eval_on_selector_all("[data-testid=finding][data-severity=warning]",
                                      "(rows) => rows.map((row) => row.dataset.run)")
    return sorted(shown, key=lambda run: -rows.count(run))


def show_activations_of(page, frame, run: str, shot: Shot) -> None:
    select = frame.locator("[data-testid=activations-run-select]")
    if select.count():
        select.select_option(run)
        settle(page, frame)
        if shot.sequence is not None:  # the section was built again for that run
            frame.locator("[data-testid=sequence-select]").select_option(str(shot.sequence))
            settle(page, frame)


def shoot(page, frame, path: Path, shot: Shot, shown: list[str], step: int | None) -> None:
    """A screenshot of the page's root with the sections of ``shot.hide`` left out; for ``each_run``, each
    further run's activations section under it."""
    settle(page, frame)
    prepare(page, frame, shot, step)
    order = warnings_first(frame, shown) if shot.each_run else shown
    if shot.each_run:
        show_activations_of(page, frame, order[0], shot)
    set_hidden(frame, shot.hide, True)
    parts = [(frame.locator(GATES_ROOT).screenshot(), 0)]
    if shot.each_run:
        root = frame.locator(GATES_ROOT).bounding_box()
        for run in order[1:]:
            show_activations_of(page, frame, run, shot)
            section = frame.locator(f"[data-testid={ACTIVATIONS}]")
            parts.append((section.screenshot(), round(section.bounding_box()["x"] - root["x"])))
        show_activations_of(page, frame, order[0], shot)
    set_hidden(frame, shot.hide, False)
    reset(page, frame, shot, step)
    png = stack(parts)
    path.write_bytes(png)
    print(f"wrote {path} ({len(png) // 1024} KB)")


def trimmed(image):
    """``image`` down to MARGIN_PX under its last row that is not white (a section's margin, the hidden
    sections' place)."""
    from PIL import ImageChops

    box = ImageChops.difference(image, image.point(lambda _: 255)).getbbox()  # what is not white
    return image.crop((0, 0, image.width, min(image.height, box[3] + MARGIN_PX))) if box else image


def stack(parts) -> bytes:
    """PNG bytes: each (PNG bytes, left offset) of ``parts`` one under the other on white, GAP_PX apart."""
    import io

    from PIL import Image

    images = [(trimmed(Image.open(io.BytesIO(png)).convert("RGB")), max(0, x)) for png, x in parts]
    width = max(image.width + x for image, x in images)
    height = sum(image.height for image, _ in images) + GAP_PX * (len(images) - 1)
    canvas = Image.new("RGB", (width, height), "white")
    y = 0
    for image, x in images:
        canvas.paste(image, (x, y))
        y += image.height + GAP_PX
    out = io.BytesIO()
    canvas.save(out, format="PNG", optimize=True)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logdir", type=Path, nargs="?", help="a sweep or run directory whose runs logged findings")
    parser.add_argument("--out", type=Path, help="where the PNG files go (docs for diagnosing.md's)")
    parser.add_argument("--step", type=int, default=None, help="the step to show (default: the last)")
    parser.add_argument("--max-runs", type=int, default=2, help="how many runs side by side")
    parser.add_argument("--shots", nargs="+", choices=(*SHOTS, "all"), default=list(DEFAULT_SHOTS),
                        help="which screenshots (default: through_time unit_scatter; all: every one)")
    parser.add_argument("--write-csvs", type=Path, metavar="DIR",
                        help="write input_scale's two CSV files into DIR and stop")
    args = parser.parse_args()
    if args.write_csvs is not None:
        write_csvs(args.write_csvs)
        return
    if args.logdir is None or args.out is None:
        parser.error("give a sweep or run directory and --out")
    wanted = [SHOTS[name] for name in (SHOTS if "all" in args.shots else dict.fromkeys(args.shots))]
    expected = len(run_dirs(args.logdir))
    if not expected:
        parser.error(f"{args.logdir} holds no event file")
    args.out.mkdir(parents=True, exist_ok=True)
    with tensorboard(args.logdir, expected_runs=expected, extra_args=[SAMPLES_FLAG]) as base, Browser() as browser:
        runs = get_json(f"{base}/data/plugin/lstm_gates/runs")["runs"]
        found = [run for run in runs if run.get("findings")]
        if any(shot.figures for shot in wanted):
            found = [run for run in found if any(layer.get("through_time") for layer in run["layers"])]
        if not found:
            sys.exit(f"error: no run in {args.logdir} logged findings and their figures (train with a probe and "
                     "viz.findings.enabled=true, the default)")
        page = browser.open(f"{base}/#lstm_gates", viewport=VIEWPORT)
        frame = plugin_frame(page, "lstm_gates")
        wait_for_gates(frame)
        shown = [run["run"] for run in found[: args.max_runs]]
        select_runs(frame, set(shown))
        for shot in wanted:
            shoot(page, frame, args.out / shot.file, shot, shown, args.step)


if __name__ == "__main__":
    main()
