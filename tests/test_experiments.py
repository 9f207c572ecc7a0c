"""The experiment configs (conf/experiment/) compose to what their comments promise and run, at
tiny sizes, through the real CLI; the forget-bias sweep feeds the report's seed aggregation."""

import json

import pytest
from omegaconf import OmegaConf

from conftest import compose_config, run_cli

TINY_SIZES = ["units=4", "data.n_samples=48", "data.seq_len=6", "train.epochs=1"]


def test_adding_memory_composes_to_the_adding_problem_at_laptop_size():
    cfg = compose_config(["experiment=adding_memory"])
    assert (cfg.data.name, cfg.data.n_samples, cfg.units, cfg.train.epochs) == ("adding", 8000, 32, 30)
    assert cfg.viz.stats and cfg.viz.gates and cfg.viz.activations


@pytest.mark.slow
def test_adding_memory_runs(tmp_path):
    run_dir = tmp_path / "run"
    result = run_cli(["experiment=adding_memory", *TINY_SIZES, f"hydra.run.dir={run_dir}"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads((run_dir / "metrics.json").read_text())["status"] == "completed"
    assert OmegaConf.load(run_dir / ".hydra" / "config.yaml").data.name == "adding"


def test_char_model_composes_to_a_character_model_on_the_interpreters_source():
    from lstm_experiments.run.resume import register_resolvers

    register_resolvers()
    cfg = compose_config(["experiment=char_model"])
    assert (cfg.data.name, cfg.data.seq_len, cfg.units, cfg.train.epochs) == ("text", 64, 128, 15)
    assert cfg.data.path.endswith("_pydecimal.py") and cfg.viz.gates and cfg.viz.activations


@pytest.mark.slow
def test_char_model_runs(tmp_path):
    run_dir = tmp_path / "run"
    result = run_cli(["experiment=char_model", "units=4", "data.seq_len=16", "train.epochs=1",
                      f"hydra.run.dir={run_dir}"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["status"] == "completed" and 0 < metrics["val_accuracy"] <= 1
    assert json.loads((run_dir / "data.json").read_text())["path"].endswith("_pydecimal.py")


@pytest.mark.slow
def test_forget_bias_sweeps_both_settings_over_three_seeds_and_the_report_aggregates_them(tmp_path):
    sweep = tmp_path / "sweep"
    result = run_cli(["-m", "experiment=forget_bias", *TINY_SIZES, f"hydra.sweep.dir={sweep}"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    jobs = sorted(p for p in sweep.iterdir() if (p / ".hydra").is_dir())
    settings = sorted((bool(c.model.unit_forget_bias), c.seed) for c in
                      (OmegaConf.load(j / ".hydra" / "config.yaml") for j in jobs))
    assert settings == [(b, s) for b in (False, True) for s in (0, 1, 2)]
    assert not any("experiment=" in j.name for j in jobs)
    report = run_cli_report(sweep, tmp_path)
    import csv

    with open(report / "aggregated.csv", newline="") as handle:
        groups = {row["group"]: row for row in csv.DictReader(handle)}
    assert set(groups) == {"model.unit_forget_bias=True", "model.unit_forget_bias=False"}
    assert all((row["n_seeds"], row["seeds"], row["n_failed"]) == ("3", "0 1 2", "0") for row in groups.values())


def run_cli_report(sweep, cwd):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "lstm_experiments.report", str(sweep)], cwd=cwd,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return sweep / "report"
