"""The README stays true: its test command is the one CI runs, its files and tags exist."""

import re

from conftest import REPO

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
