"""The command line's rough edges, each answered in a second or two without training: ``--cfg job``
prints the config the run trains with, two mode flags are one line, a CPU cluster's answer to
``cluster=slurm`` names the key to set, importing the app changes nothing, and the end-of-sweep line
says what the command did in words that cannot be read as more jobs."""

import subprocess
import sys

import pytest
import yaml
from omegaconf import OmegaConf

from conftest import run_cli
from lstm_experiments.config.overrides import override_key, split_override
from lstm_experiments.run.sweep_summary import done_line
from lstm_experiments.run.train import compose_config, run_config


def printed_config(args, cwd):
    result = run_cli(["--cfg", "job", *args], cwd=cwd, timeout=60)
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


@pytest.mark.parametrize("args, seq_len, features", [
    (["input_shape=[10,1]"], 10, 1),
    (["data=random", "input_shape=[7,3]"], 7, 3),
    (["data=adding", "input_shape=[12,2]"], 12, None),  # the adding problem has no features key
])
def test_cfg_job_prints_the_input_shape_the_run_uses(tmp_path, args, seq_len, features):
    shown = printed_config(args, tmp_path)
    assert shown["data"]["seq_len"] == seq_len
    assert shown["data"].get("features") == features
    # Exactly what train() trains with (run_config), not merely what Hydra composed.
    assert shown == OmegaConf.to_container(run_config(compose_config(args)))


def test_cfg_job_of_a_resumed_run_is_that_runs_config(tmp_path):
    run_dir = tmp_path / "run"
    (run_dir / ".hydra").mkdir(parents=True)
    OmegaConf.save(compose_config(["units=7", "train.epochs=3"]), run_dir / ".hydra" / "config.yaml")
    shown = printed_config([f"resume={run_dir}", "train.epochs=9", "units=100"], tmp_path)
    assert shown["units"] == 7 and shown["train"]["epochs"] == 9 and shown["resume"] is None


def test_cfg_job_without_input_shape_is_hydras_own(tmp_path):
    # Hydra's printout, for comparison: --cfg hydra is left to Hydra, and the job part of --cfg all is ours.
    ours = run_cli(["--cfg", "job", "units=5", "--resolve"], cwd=tmp_path, timeout=60).stdout
    assert ours == OmegaConf.to_yaml(compose_config(["units=5"]))
    everything = run_cli(["--cfg", "all", "units=5", "input_shape=[9,1]"], cwd=tmp_path, timeout=60)
    shown = yaml.safe_load(everything.stdout)
    assert shown["units"] == 5 and shown["data"]["seq_len"] == 9 and "run" in shown["hydra"]


@pytest.mark.parametrize("args", [["--cfg", "hydra", "-m", "units=4,5"], ["--info", "--cfg", "job"]])
def test_two_modes_at_once_are_one_line(tmp_path, args):
    result = run_cli(args, cwd=tmp_path, timeout=60)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert errors == ["error: Only one of --run, --multirun, --cfg, --info and --shell_completion can be specified"]


FAKE_SBATCH = """#!/bin/sh
echo "sbatch: error: Invalid generic resource (gres) specification" >&2
exit 1
"""


def test_a_cluster_without_gpus_names_the_key_to_set(tmp_path):
    """What sbatch answers on a CPU-only cluster to conf/cluster/slurm.yaml's default of one GPU per job
    (a stand-in sbatch says it here; submitit only checks that srun exists)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "sbatch").write_text(FAKE_SBATCH)
    (bin_dir / "srun").write_text("#!/bin/sh\nexit 0\n")
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    import os

    result = run_cli(["-m", "cluster=slurm", "units=4,5", f"hydra.sweep.dir={tmp_path / 'sweep'}"], cwd=tmp_path,
                     timeout=120, env_extra={"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"})
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1, result.stderr
    assert "Invalid generic resource (gres) specification" in errors[0]
    assert "set hydra.launcher.gpus_per_node=0" in errors[0]


def test_importing_the_app_registers_nothing():
    code = ("from hydra.core.config_store import ConfigStore\nfrom omegaconf import OmegaConf\n"
            "import lstm_experiments.cli.app\n"
            "print('config_schema.yaml' in ConfigStore.instance().repo, OmegaConf.has_resolver('run_name'))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.split("\n")[0] == "False False", result.stdout + result.stderr


@pytest.mark.parametrize("override, key, value", [
    ("units=4", "units", "4"), ("+seed=1", "seed", "1"), ("++train.epochs=3", "train.epochs", "3"),
    ("~seed", "seed", None), ("data.path=a=b.csv", "data.path", "a=b.csv"), ("resume=", "resume", ""),
])
def test_one_override_parser(override, key, value):
    assert split_override(override) == (key, value)
    assert override_key(override) == key


def jobs(*words):
    return {"jobs": [{"job": f"j{i}", "status": "completed", "this_sweep": w} for i, w in enumerate(words)]}


@pytest.mark.parametrize("summary, line", [
    (jobs("ran", "ran"), "2 jobs, all completed"),
    (jobs("skipped", "skipped", "skipped"), "3 jobs, all completed; this command skipped 3 (already complete)"),
    (jobs("rerun", "resumed", "ran"), "3 jobs, all completed; this command ran 1, resumed 1, reran 1"),
    (jobs("ran", "not run"), "2 jobs, all completed; this command ran 1, left 1 alone (not in this sweep)"),
])
def test_the_sweep_done_line_counts_jobs_once(summary, line):
    assert done_line(summary) == line
