"""The configs travel with the package: a built wheel carries conf/ and runs from anywhere."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import REPO

pytestmark = pytest.mark.slow

CONFIG_FILES = {
    "config.yaml", "data/random.yaml", "data/sine.yaml", "data/adding.yaml", "data/csv.yaml",
    "model/lstm.yaml", "train/default.yaml", "viz/kernel.yaml", "viz/gates.yaml",
    "viz/bias.yaml", "viz/all.yaml", "viz/none.yaml",
}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "-w", str(out), str(REPO)],
        check=True, capture_output=True, text=True, timeout=300,
    )
    (built,) = out.glob("lstm_experiments-*.whl")
    return built


def test_wheel_holds_every_config(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    repo_configs = {str(p.relative_to(REPO / "conf")) for p in (REPO / "conf").rglob("*.yaml")}
    assert CONFIG_FILES <= repo_configs
    assert {f"lstm_experiments/conf/{c}" for c in repo_configs} <= names
    # Typed (PEP 561), and every subpackage travels.
    assert "lstm_experiments/py.typed" in names
    package = REPO / "src" / "lstm_experiments"
    modules = {f"lstm_experiments/{p.relative_to(package)}" for p in package.rglob("*.py")}
    assert modules <= names, sorted(modules - names)


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """The wheel installed outside the repository (``pip install --target``): its site directory."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(target), str(wheel)],
        check=True, capture_output=True, text=True, timeout=300,
    )
    return target


def test_installed_wheel_composes_from_another_directory(installed, tmp_path):
    target = installed
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target)}
    code = (
        "import sys, lstm_experiments; print(lstm_experiments.__file__);"
        "sys.argv = ['x', '--cfg', 'job', 'data=adding', 'viz=[kernel,bias]'];"
        "from lstm_experiments.cli.app import main; main()"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=elsewhere, env=env,
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    first, _, config = result.stdout.partition("\n")
    assert first.startswith(str(target)), first  # the wheel's copy, not the clone
    assert "name: adding" in config and "kernel: true" in config and "gates: false" in config


def test_console_scripts_of_the_installed_wheel(installed, tmp_path):
    """``lstm-experiments`` runs a sweep and ``lstm-experiments-report`` reports on it, from the wheel."""
    env = {**os.environ, "PYTHONPATH": str(installed)}
    bin_dir = installed / "bin"
    sweep = subprocess.run(
        [str(bin_dir / "lstm-experiments"), "-m", "units=4,5", "data.n_samples=48", "data.seq_len=6",
         "train.epochs=1", "viz=[gates,stats]", "hydra.sweep.dir=sweep"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert sweep.returncode == 0, sweep.stderr[-3000:]
    report = subprocess.run(
        [str(bin_dir / "lstm-experiments-report"), "sweep", "--gate", "forget"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert report.returncode == 0, report.stderr[-3000:]
    written = {p.name for p in (tmp_path / "sweep" / "report").iterdir()}
    assert {"summary.csv", "summary.md", "strip_lstm_recurrent_kernel_forget.png"} <= written, written
    # The report the script ran is the installed one, not the clone's.
    probe = subprocess.run([sys.executable, "-c", "import lstm_experiments.report as r; print(r.__file__)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert probe.stdout.startswith(str(installed)), probe.stdout


def test_the_installed_versions_are_the_constraints():
    """The set-up commands install with -c constraints.txt: what runs is what the file says."""
    from importlib.metadata import version

    pins = [line.split("==") for line in (REPO / "constraints.txt").read_text().splitlines()
            if line.strip() and not line.startswith("#")]
    assert len(pins) >= 5
    assert {name: version(name) for name, _ in pins} == {name: pinned for name, pinned in pins}
