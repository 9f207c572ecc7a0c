"""The runner on a real Slurm cluster (scripts/slurm/start.sh): `cluster=slurm` sweeps, and jobs
preempted mid-training (scancel --signal=USR2, and a job in a higher-priority partition) that
come back by themselves and continue from their last whole epoch. Skipped, saying why, where
the cluster is not running."""

import json
import subprocess
import sys
import time
from collections import Counter

import numpy as np
import pytest

from conftest import read_tensors, run_cli
from tests.helpers.slurm_cluster import (
    URGENT_PARTITION,
    describe,
    node_cpus,
    restart_count,
    sbatch,
    slurm_cluster,  # noqa: F401 (a fixture)
    wait_until,
)

pytestmark = pytest.mark.slow

# Settings for the test cluster's one node (conf/cluster/slurm.yaml asks for a GPU and 8 CPUs).
ON_TEST_CLUSTER = ["cluster=slurm", "hydra.launcher.gpus_per_node=0", "hydra.launcher.cpus_per_task=1",
                   "hydra.launcher.mem_gb=1", "hydra.launcher.timeout_min=60"]
TINY_JOB = ["data.n_samples=48", "data.seq_len=6", "train.epochs=2", "train.batch_size=16", "viz=[gates]"]
# Long enough (a few seconds after its first checkpoint) to be preempted mid-training.
LONG_JOB = ["threads=1", "units=4", "data.n_samples=64", "data.seq_len=6", "train.batch_size=8", "train.epochs=60",
            "viz=[gates,stats]"]
STEP_TAG = "gates/lstm/recurrent_kernel/forget"
# The same job logged every 3 optimizer steps: steps that are not all at an epoch's end.
# Drawn inline (viz.background=false): a logged batch is never skipped, so the steps of two runs compare exactly.
BY_BATCH = ["viz.log_every_batches=3", "viz.background=false"]


def the_job(sweep):
    (job,) = [p for p in sweep.iterdir() if (p / ".hydra").is_dir()]
    return job


def slurm_job_ids(sweep):
    """The Slurm job ids submitit used for the sweep (its folder is named after them)."""
    return sorted({p.name.split("_")[0] for p in (sweep / ".submitit").iterdir() if p.name[0].isdigit()})


def test_a_cluster_slurm_sweep_runs_its_jobs_as_slurm_jobs(slurm_cluster, tmp_path):
    sweep = tmp_path / "sweep"
    result = run_cli(["-m", *ON_TEST_CLUSTER, "units=4,5", *TINY_JOB, f"hydra.sweep.dir={sweep}"],
                     cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((sweep / "sweep_summary.json").read_text())
    assert summary["completed"] == 2 and summary["failed"] == 0
    ids = slurm_job_ids(sweep)
    assert ids, "submitit left no job folder"

    def states():
        return subprocess.run(["sacct", "-n", "-X", "-P", "-o", "JobID,State", "-j", ",".join(ids)],
                              capture_output=True, text=True, check=True).stdout.split()

    # submitit hands back the result as soon as the job wrote it; Slurm records the end a moment later.
    wait_until(lambda: all(s.endswith("|COMPLETED") for s in states()), 60, f"sacct: {states()}")
    assert len(states()) == 2, states()
    for job in sweep.iterdir():
        if (job / ".hydra").is_dir():
            assert json.loads((job / "metrics.json").read_text())["status"] == "completed"


def start_long_sweep(tmp_path, sweep, extra=()):
    command = [sys.executable, "-m", "lstm_experiments", "-m", *ON_TEST_CLUSTER, *LONG_JOB, *extra,
               f"hydra.sweep.dir={sweep}"]
    return subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_first_checkpoints(sweep, process, epochs=3):
    def checkpointed():
        if process.poll() is not None:
            raise AssertionError(f"the sweep ended early: {process.communicate()[1][-3000:]}")
        jobs = [p for p in sweep.iterdir() if (p / "checkpoints" / "state.json").is_file()] if sweep.is_dir() else []
        return jobs and json.loads((jobs[0] / "checkpoints" / "state.json").read_text())["epoch"] >= epochs

    wait_until(checkpointed, 240, f"the job's checkpoint after epoch {epochs}")


def check_resumed_run(job, reference):
    """The requeued job continued from its last whole epoch, as if it had never stopped."""
    metrics = json.loads((job / "metrics.json").read_text())
    assert metrics["status"] == "completed" and metrics["epochs"] == 60, metrics
    assert 3 <= metrics["resumed_from_epoch"] < 60
    tensors = read_tensors(job / "tensorboard")
    expected = read_tensors(reference / "tensorboard")
    steps = [s for s, _ in tensors[STEP_TAG]]
    # By epoch 0..60; by batch the optimizer's steps every 3 and the last: the uninterrupted run's.
    assert steps == [s for s, _ in expected[STEP_TAG]] and max(Counter(steps).values()) == 1  # none twice
    assert len(list((job / "tensorboard").iterdir())) == 2  # the first attempt's, the resumed one's
    # W_0 and the fixed colour scale are the original run's at every step.
    assert {float(v) for _, v in tensors["scale/lstm/recurrent_kernel"]} == \
        {float(expected["scale/lstm/recurrent_kernel"][0][1])}
    assert [s for s, _ in tensors["stats/lstm/recurrent_kernel/forget/change"]] == steps
    for tag in (t for t in expected if t.startswith("metrics/") or t.startswith("batch/")):
        assert [s for s, _ in tensors[tag]] == [s for s, _ in expected[tag]], tag
    import keras

    final = keras.models.load_model(job / "model.keras").get_weights()
    straight = keras.models.load_model(reference / "model.keras").get_weights()
    for got, want in zip(final, straight, strict=True):
        np.testing.assert_array_equal(got, want)


def run_straight(cwd, extra=()):
    """The same job run straight through on this machine, to compare a preempted one with."""
    result = run_cli([*LONG_JOB, *extra, f"hydra.run.dir={cwd / 'run'}"], cwd=cwd)
    assert result.returncode == 0, result.stderr[-2000:]
    return cwd / "run"


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    return run_straight(tmp_path_factory.mktemp("straight"))


def test_usr2_preemption_requeues_and_continues_by_itself(slurm_cluster, tmp_path, uninterrupted):
    sweep = tmp_path / "sweep"
    process = start_long_sweep(tmp_path, sweep)
    wait_for_first_checkpoints(sweep, process)
    (job_id,) = slurm_job_ids(sweep)
    subprocess.run(["scancel", "--signal=USR2", job_id], check=True)
    _, stderr = process.communicate(timeout=400)
    assert process.returncode == 0, stderr[-3000:] + describe(job_id)
    assert restart_count(job_id) >= 1, describe(job_id)
    check_resumed_run(the_job(sweep), uninterrupted)


def test_a_job_in_a_higher_priority_partition_preempts_and_the_job_comes_back(slurm_cluster, tmp_path):
    """Logged by batch (viz.log_every_batches): the requeued job's steps and final weights are an
    uninterrupted run's, though the first attempt logged batches past its last checkpoint."""
    uninterrupted = run_straight(tmp_path, BY_BATCH)
    sweep = tmp_path / "sweep"
    process = start_long_sweep(tmp_path, sweep, BY_BATCH)
    wait_for_first_checkpoints(sweep, process)
    (job_id,) = slurm_job_ids(sweep)
    # Every CPU of the node, in the partition that preempts: Slurm must requeue ours to start it.
    urgent = sbatch("-p", URGENT_PARTITION, "-c", str(node_cpus()), "-o", str(tmp_path / "urgent.out"), wrap="sleep 5")
    try:
        wait_until(lambda: restart_count(job_id) >= 1, 120, f"job {job_id} requeued by {urgent}")

        def stopped():
            metrics = the_job(sweep) / "metrics.json"
            return metrics.is_file() and json.loads(metrics.read_text())["status"] == "interrupted"

        wait_until(stopped, 60, "the preempted run's metrics.json saying interrupted")
    finally:
        subprocess.run(["scancel", urgent], check=False)
    _, stderr = process.communicate(timeout=400)
    assert process.returncode == 0, stderr[-3000:] + describe(job_id)
    check_resumed_run(the_job(sweep), uninterrupted)
