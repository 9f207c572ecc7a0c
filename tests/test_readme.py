"""The README stays true: its test command is the one CI runs, its files and tags exist."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, read_tensors

README = (REPO / "README.md").read_text()


def test_ci_runs_the_readme_test_command():
    ci_lines = [ln for ln in (REPO / ".ci" / "run").read_text().splitlines() if "pytest" in ln]
    command = ci_lines[-1].strip()
    assert "python3 -m venv" in command and "pip install" in command
    assert f"\n{command}\n" in README


def test_readme_images_exist():
    for path in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README):
        assert (REPO / path).is_file(), path


def test_readme_scripts_exist():
    for script in set(re.findall(r"python (scripts/\S+\.py)", README)):
        assert (REPO / script).is_file(), script


def _section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start:end if end > 0 else None]


@pytest.mark.slow
def test_own_keras_code_examples_run_as_written(tmp_path):
    """The "In your own Keras code" examples, run verbatim (one interpreter, in a fresh directory)."""
    blocks = re.findall(r"```python\n(.*?)```", _section("In your own Keras code"), re.S)
    assert len(blocks) == 2 and "GateLogger" in blocks[0] and "train(" in blocks[1]
    result = subprocess.run([sys.executable, "-c", "\n".join(blocks)], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split()[-2] == "completed"
    events = read_tensors(tmp_path / "logs" / "my_lstm")
    assert [step for step, _ in events["gates/lstm/kernel/forget"]] == [0, 1, 2, 3]
    assert "activations/lstm/cell" in events and "gradients/lstm/recurrent_kernel/output" in events
    (run_dir,) = (tmp_path / "outputs").glob("*/*")
    assert (run_dir / "metrics.json").is_file() and (run_dir / "model.keras").is_file()


def test_layout_section_matches_the_tree():
    """Every folder and module under src/ is named in the Layout section, and everything it names exists."""
    layout = _section("Layout")
    package = REPO / "src" / "lstm_experiments"
    for path in package.rglob("*.py"):
        relative = path.relative_to(package)
        if path.name in ("__init__.py", "__main__.py"):
            continue
        if relative.parent != Path("."):
            assert f"`{relative.parent}/`" in layout, relative.parent
        assert f"`{path.name}`" in layout, relative
    for folder in (p for p in package.iterdir() if p.is_dir() and not p.name.startswith("__")):
        assert f"`{folder.name}/`" in layout, folder.name
    for name in re.findall(r"`([\w/]+\.py)`", layout):
        matches = list(package.rglob(Path(name).name)) + list(REPO.glob(f"*/{name}")) + list(REPO.glob(name))
        assert matches, f"the Layout section names {name}, which does not exist"
