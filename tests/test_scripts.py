"""The scripts a new user runs from the README: from any directory, writing only where told, and
saying clearly when a run lacks what they need."""

import subprocess
import sys

import pytest

from conftest import REPO
from tests.helpers.tensorboard_browser import find_chromium

pytestmark = pytest.mark.slow


@pytest.mark.skipif(find_chromium() is None, reason="needs Debian's chromium (apt-get install chromium)")
def test_screenshots_of_a_run_without_activations_say_which_visualizer_to_add(run_tiny, tmp_path):
    run_dir, _ = run_tiny(["viz=[gates]"])
    out = tmp_path / "shots"
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "screenshot_tensorboard.py"), str(run_dir),
                             "--out", str(out)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: {run_dir} has no images matching 'activations/lstm/'; run it with viz=activations among "
        "its visualizers")
    assert not out.exists()


def test_screenshot_scripts_need_to_be_told_where_to_write(tmp_path):
    for script in ("screenshot_tensorboard.py", "screenshot_gates.py"):
        result = subprocess.run([sys.executable, str(REPO / "scripts" / script), str(tmp_path)], cwd=tmp_path,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 2 and "--out" in result.stderr, (script, result.stderr[-500:])
