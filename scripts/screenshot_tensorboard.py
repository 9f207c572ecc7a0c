"""Take the README's TensorBoard screenshots of a finished run in headless Chromium.

    python scripts/screenshot_tensorboard.py outputs/<date>/<time> --out docs

Writes tensorboard_gates.png (Images dashboard, gate images),
tensorboard_activations.png (gate activations on the probe batch),
tensorboard_histograms.png and tensorboard_curves.png (the per-gate change
curves of every run in the log directory, overlaid).
Needs Debian's chromium and the test extra (Playwright). Runs from any
directory; a run without the tags the pictures need is one error line naming
every visualizer to turn on (nothing is written then).
"""

import argparse
import re
import sys
import time
from pathlib import Path

# The browser and server helpers are the tests' own (tests/helpers), run from a clone.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.helpers.tensorboard_browser import Browser, dashboard_url, wait_for_images
from tests.helpers.tensorboard_server import get_json, tensorboard

SETTLE_SECONDS = 3.0
# Enough to keep every logged step (the default keeps 10 images per tag).
SAMPLES = ["--samples_per_plugin", "images=1000"]


def missing_tags(logged: dict[str, set[str]], wanted: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """The (plugin, tag regex, visualizer) of ``wanted`` that no tag of ``logged[plugin]`` matches."""
    return [(plugin, pattern, visualizer) for plugin, pattern, visualizer in wanted
            if not any(re.search(pattern, tag) for tag in logged.get(plugin, ()))]


def missing_message(logdir: Path, missing: list[tuple[str, str, str]]) -> str:
    """One line naming every missing kind of tag and every visualizer that would log them."""
    what = ", ".join(f"no {plugin} matching {pattern!r} (viz={visualizer})" for plugin, pattern, visualizer in missing)
    visualizers = list(dict.fromkeys(visualizer for _, _, visualizer in missing))
    return f"error: {logdir} has {what}; run it with {', '.join(visualizers)} among its visualizers"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logdir", type=Path)
    parser.add_argument("--out", type=Path, required=True, help="where the PNG files go (docs for the README's)")
    parser.add_argument("--gates", default="gates/lstm/recurrent_kernel",
                        help="tag regex for the gate screenshot")
    parser.add_argument("--activations", default="activations/lstm/")
    parser.add_argument("--histograms", default="histograms/lstm/bias/")
    parser.add_argument("--curves", default="stats/lstm/recurrent_kernel/.*/change")
    args = parser.parse_args()
    if not args.logdir.is_dir():
        sys.exit(f"error: {args.logdir}: no such run or sweep directory")
    wanted = [("images", args.gates, "gates"), ("images", args.activations, "activations"),
              ("histograms", args.histograms, "histograms"), ("scalars", args.curves, "stats")]
    with tensorboard(args.logdir, extra_args=SAMPLES) as base:
        logged = {plugin: {tag for run in get_json(f"{base}/data/plugin/{plugin}/tags").values() for tag in run}
                  for plugin in dict.fromkeys(plugin for plugin, _, _ in wanted)}
        missing = missing_tags(logged, wanted)
        if missing:
            sys.exit(missing_message(args.logdir, missing))
        args.out.mkdir(parents=True, exist_ok=True)
        with Browser() as browser:
            page = browser.open(dashboard_url(base, "images", args.gates))
            wait_for_images(page, 4)
            time.sleep(SETTLE_SECONDS)
            page.screenshot(path=str(args.out / "tensorboard_gates.png"))
            page = browser.open(dashboard_url(base, "images", args.activations))
            wait_for_images(page, 4)
            time.sleep(SETTLE_SECONDS)
            page.screenshot(path=str(args.out / "tensorboard_activations.png"))
            for name, dashboard, tag_filter in (
                ("histograms", "histograms", args.histograms),
                ("curves", "scalars", args.curves),
            ):
                page = browser.open(dashboard_url(base, dashboard, tag_filter))
                time.sleep(SETTLE_SECONDS * 3)
                page.screenshot(path=str(args.out / f"tensorboard_{name}.png"))
    print(f"screenshots in {args.out}")


if __name__ == "__main__":
    main()
