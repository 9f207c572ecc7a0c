"""Sweeps: named runs, identical tags, HParams served by TensorBoard, joblib, submitit and Optuna."""

import json

import pytest
from omegaconf import OmegaConf

from conftest import TINY, plugin_of, run_cli
from lstm_experiments.tensorboard.hparams import flatten_config
from lstm_experiments.config.resolvers import run_name
from tests.helpers.tensorboard_server import get_json, post_json, tensorboard
from lstm_experiments.run.tensorflow_setup import threads_per_job

SMALL = [t for t in TINY if not t.startswith(("units=", "train.epochs="))] + ["viz=gates", "train.epochs=1"]


def sweep_jobs(cwd):
    (sweep,) = [p for p in (cwd / "multirun").glob("*/*") if p.is_dir()]
    return sweep, sorted(p for p in sweep.iterdir() if (p / "tensorboard").is_dir())


def test_run_names_are_safe_directory_names():
    assert run_name("units=64,viz=gates", 0) == "units=64,viz=gates"
    assert run_name("data.path=/data/x/traffic.csv,units=4", 3) == "data.path=_data_x_traffic.csv,units=4"
    assert run_name("", 7) == "job7"
    long = run_name("x=" + "a" * 400, 0)
    assert len(long.encode()) < 255 and "/" not in long
    assert long != run_name("x=" + "a" * 399 + "b", 0)


def test_flatten_config_turns_none_and_lists_into_strings():
    cfg = OmegaConf.create({"units": 8, "data": {"features": None, "cols": ["a", "b"], "lr": 0.1},
                            "flag": True})
    assert flatten_config(cfg) == {"units": 8, "data.features": "None", "data.cols": "['a', 'b']",
                                   "data.lr": 0.1, "flag": True}


@pytest.mark.parametrize("configured, n_jobs, cores, expected", [
    (None, None, 8, None), (3, 2, 8, 3), (None, 2, 8, 4), (None, -1, 8, 1), (None, 4, 2, 1),
])
def test_threads_per_job(configured, n_jobs, cores, expected):
    launcher = {} if n_jobs is None else {"n_jobs": n_jobs}
    assert threads_per_job(configured, OmegaConf.create(launcher), cores) == expected


@pytest.mark.slow
def test_basic_sweep_has_named_runs_same_tags_and_hparams(tmp_path):
    result = run_cli(["-m", "units=4,6", *SMALL], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    sweep, jobs = sweep_jobs(tmp_path)
    assert [j.name for j in jobs] == [
        ",".join(sorted([*SMALL, f"units={u}"])) for u in (4, 6)
    ]
    tag_sets = [set(plugin_of(j / "tensorboard")) for j in jobs]
    assert tag_sets[0] == tag_sets[1]

    with tensorboard(sweep, expected_runs=2) as base:
        runs = get_json(f"{base}/data/runs")
        assert all("units=" in r for r in runs), runs
        experiment = post_json(f"{base}/data/plugin/hparams/experiment", {"experimentName": ""})
        names = {h["name"] for h in experiment["hparamInfos"]}
        assert {"units", "model.layers", "train.learning_rate", "train.batch_size", "data.name",
                "seed", "threads"} <= names
        assert {m["name"]["tag"] for m in experiment["metricInfos"]} == {"metrics/loss", "metrics/val_loss"}
        request = {"experimentName": "", "allowedStatuses": ["STATUS_UNKNOWN", "STATUS_SUCCESS"],
                   "colParams": [{"hparam": "units"}, {"metric": {"tag": "metrics/val_loss"}}],
                   "startIndex": 0, "sliceSize": 10}
        groups = post_json(f"{base}/data/plugin/hparams/session_groups", request)
    by_units = {g["hparams"]["units"]: g for g in groups["sessionGroups"]}
    assert set(by_units) == {4, 6}
    for job in jobs:
        units = OmegaConf.load(job / ".hydra" / "config.yaml").units
        final = json.loads((job / "metrics.json").read_text())["val_loss"]
        (metric,) = [m for m in by_units[units]["metricValues"] if m["name"]["tag"] == "metrics/val_loss"]
        assert metric["value"] == pytest.approx(final, rel=1e-6)
        # null values reach the plugin as strings
        assert by_units[units]["hparams"]["threads"] == "None"


@pytest.mark.slow
def test_path_values_do_not_nest_directories(tmp_path):
    data = tmp_path / "in" / "traffic.csv"
    data.parent.mkdir()
    rows = ["t,bytes"] + [f"{i},{i % 5}" for i in range(60)]
    data.write_text("\n".join(rows) + "\n")
    result = run_cli(["-m", "data=csv", f"data.path={data}", "data.target=bytes", "data.seq_len=4",
                      "units=4,6", "viz=gates", "train.epochs=1"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    _, jobs = sweep_jobs(tmp_path)
    assert len(jobs) == 2
    assert all("/" not in j.name and "traffic.csv" in j.name for j in jobs)


@pytest.mark.slow
def test_joblib_launcher_limits_threads_per_job(tmp_path):
    result = run_cli(["-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "units=4,6", *SMALL],
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Joblib.Parallel(" not in result.stdout + result.stderr  # the plugin's repr is held back
    _, jobs = sweep_jobs(tmp_path)
    assert len(jobs) == 2
    import os

    expected = max(1, (os.cpu_count() or 1) // 2)
    for job in jobs:
        assert json.loads((job / "metrics.json").read_text())["status"] == "completed"
        said = f"TensorFlow uses {expected} thread{'' if expected == 1 else 's'} in this job"
        assert said in (job / "lstm_experiments.log").read_text()


@pytest.mark.slow
def test_submitit_local_sweep(tmp_path):
    result = run_cli(["-m", "cluster=local", "units=4,6", *SMALL], cwd=tmp_path, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    _, jobs = sweep_jobs(tmp_path)
    assert [OmegaConf.load(j / ".hydra" / "config.yaml").units for j in jobs] == [4, 6]
    for job in jobs:
        assert json.loads((job / "metrics.json").read_text())["status"] == "completed"
        assert not job.name.startswith("cluster")


@pytest.mark.slow
def test_optuna_search_minimises_val_loss(tmp_path):
    result = run_cli(["-m", "hparams_search=optuna", "hydra.sweeper.n_trials=2", "units=choice(4,6)",
                      *SMALL], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    output = result.stdout + result.stderr  # a file here, not a terminal
    assert "setup plugin alembic" not in output and "\x1b[" not in output
    assert "A new study created in memory with name: lstm_gates" in output  # Optuna's line, plain
    sweep, jobs = sweep_jobs(tmp_path)
    assert len(jobs) == 2
    best = OmegaConf.load(sweep / "optimization_results.yaml")
    losses = [json.loads((j / "metrics.json").read_text())["val_loss"] for j in jobs]
    assert best.best_value == pytest.approx(min(losses))
