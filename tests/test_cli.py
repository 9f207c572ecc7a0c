"""The README's commands through the real CLI, at tiny sizes, and TensorBoard serving the result."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from conftest import REPO, TINY, run_cli
from tests.helpers.tensorboard_server import get_json, tensorboard

pytestmark = pytest.mark.slow

NOISE = ("absl::InitializeLog", "cuInit", "cudart_stub", "cpu_feature_guard")


def with_tiny(args):
    """The command's own overrides, plus the tiny sizes for every key it does not set."""
    keys = {a.split("=")[0] for a in args}
    return [*args, *(t for t in TINY if t.split("=")[0] not in keys)]


def only_run_dir(root: Path) -> Path:
    """The single outputs/<date>/<time>/ directory a run left."""
    runs = [p for p in root.glob("*/*") if p.is_dir()]
    assert len(runs) == 1, runs
    return runs[0]


def assert_run_dir(run_dir: Path):
    assert (run_dir / ".hydra" / "config.yaml").is_file()
    assert (run_dir / "model.keras").is_file()
    assert len(list((run_dir / "tensorboard").glob("events.out.tfevents.*"))) == 1
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["status"] == "completed"
    return metrics


@pytest.mark.parametrize(
    "name, args",
    [
        ("default", []),
        ("gates", ["units=8", "viz=gates"]),
        ("kernel_bias", ["viz=[kernel,bias]", "train.epochs=3"]),
    ],
)
def test_readme_run_commands(tmp_path, name, args):
    result = run_cli(with_tiny(args), cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    for line in NOISE:
        assert line not in result.stderr
    run_dir = only_run_dir(tmp_path / "outputs")
    metrics = assert_run_dir(run_dir)
    expected_epochs = 3 if "train.epochs=3" in args else 2
    assert metrics["epochs"] == expected_epochs


def test_readme_csv_command(tmp_path):
    subprocess.run(
        [sys.executable, str(REPO / "scripts" / "make_traffic_csv.py"), "--rows", "120"],
        cwd=tmp_path, check=True, capture_output=True,
    )
    assert [p.name for p in tmp_path.iterdir()] == ["outputs"]  # nothing beside the git-ignored outputs/
    result = run_cli(
        ["data=csv", "data.path=outputs/traffic.csv", "data.target=bytes", "units=4", "train.epochs=1"],
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert_run_dir(only_run_dir(tmp_path / "outputs"))


def test_multirun_then_tensorboard_serves_every_job(tmp_path):
    result = run_cli(["-m", *with_tiny(["units=4,8", "viz=gates"])], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    sweep = [p for p in (tmp_path / "multirun").glob("*/*") if p.is_dir()]
    assert len(sweep) == 1
    jobs = sorted(p for p in sweep[0].iterdir() if (p / "tensorboard").is_dir())
    assert len(jobs) == 2
    for job in jobs:
        assert_run_dir(job)
    assert sorted(OmegaConf.load(j / ".hydra" / "config.yaml").units for j in jobs) == [4, 8]

    with tensorboard(tmp_path / "multirun", expected_runs=2) as base:
        runs = get_json(f"{base}/data/runs")
        assert len(runs) == 2, runs
        tags = get_json(f"{base}/data/plugin/images/tags")
        for run in runs:
            assert "gates/lstm/recurrent_kernel/forget" in tags[run]
