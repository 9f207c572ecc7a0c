"""The scripts a new user runs from the README: from any directory, writing only where told, and
saying clearly when a run lacks what they need."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

pytestmark = pytest.mark.slow


def _screenshot_script():
    """scripts/screenshot_tensorboard.py as a module, for its pure functions."""
    spec = importlib.util.spec_from_file_location("screenshot_tensorboard",
                                                  REPO / "scripts" / "screenshot_tensorboard.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_screenshots_of_a_run_without_activations_say_every_visualizer_to_add(run_tiny, tmp_path):
    """A run with only viz=[gates] lacks three pictures' tags: one line names all three, at once
    (the check needs TensorBoard's tag routes, not the browser)."""
    run_dir, _ = run_tiny(["viz=[gates]"])
    out = tmp_path / "shots"
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "screenshot_tensorboard.py"), str(run_dir),
                             "--out", str(out)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: {run_dir} has no images matching 'activations/lstm/' (viz=activations), "
        "no histograms matching 'histograms/lstm/bias/' (viz=histograms), "
        "no scalars matching 'stats/lstm/recurrent_kernel/.*/change' (viz=stats); "
        "run it with activations, histograms, stats among its visualizers")
    assert not out.exists()


def test_missing_tags_are_named_together_and_each_visualizer_once():
    script = _screenshot_script()
    wanted = [("images", "gates/lstm/", "gates"), ("images", "activations/lstm/", "activations"),
              ("histograms", "histograms/lstm/bias/", "histograms"), ("scalars", "stats/.*/change", "stats"),
              ("scalars", "stats/.*/mean", "stats")]
    logged = {"images": {"gates/lstm/kernel/input"}, "scalars": {"metrics/loss", "stats/lstm/kernel/input/mean"}}
    missing = script.missing_tags(logged, wanted)
    assert missing == [wanted[1], wanted[2], wanted[3]]
    assert script.missing_message(Path("run"), missing + [wanted[4]]) == (
        "error: run has no images matching 'activations/lstm/' (viz=activations), "
        "no histograms matching 'histograms/lstm/bias/' (viz=histograms), "
        "no scalars matching 'stats/.*/change' (viz=stats), no scalars matching 'stats/.*/mean' (viz=stats); "
        "run it with activations, histograms, stats among its visualizers")
    everything = {"images": {"gates/lstm/x", "activations/lstm/input"}, "histograms": {"histograms/lstm/bias/i"},
                  "scalars": {"stats/lstm/k/input/change", "stats/lstm/k/input/mean"}}
    assert script.missing_tags(everything, wanted) == []


def test_screenshot_scripts_need_to_be_told_where_to_write(tmp_path):
    for script in ("screenshot_tensorboard.py", "screenshot_gates.py"):
        result = subprocess.run([sys.executable, str(REPO / "scripts" / script), str(tmp_path)], cwd=tmp_path,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 2 and "--out" in result.stderr, (script, result.stderr[-500:])
