"""The local Slurm cluster itself (scripts/slurm/start.sh, docs/slurm.md): jobs, accounting, requeue, preemption.

Each test skips, with the reason, when the cluster is not up. About 30 s in all: the two
requeue tests wait out the 10 s credential expiry once each.
"""

import os
import sys
import time
from pathlib import Path

import pytest

from tests.helpers.slurm_cluster import (
    DEFAULT_PARTITION,
    cancel_submitit_jobs,
    job_state,
    preempting,
    restart_count,
    sbatch,
    signal_job,
    slurm_cluster,  # noqa: F401  (the fixture)
    submitit_job_ids,
    wait_for_accounted_state,
    wait_for_state,
    wait_until,
)

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("slurm_cluster")]

submitit = pytest.importorskip("submitit")
cloudpickle = pytest.importorskip("cloudpickle")

# The jobs unpickle this module's functions in a fresh interpreter, where tests/ is not on
# sys.path: pickle them by value, not by reference to a module the job cannot import.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

RESULT_TIMEOUT_SECONDS = 60
# Over 10 minutes, or submitit counts every USR2 as a time-out rather than a preemption.
TIMEOUT_MIN = 60


def executor(folder: Path, **parameters) -> "submitit.AutoExecutor":
    ex = submitit.AutoExecutor(folder=folder, cluster="slurm")
    ex.update_parameters(timeout_min=TIMEOUT_MIN, slurm_partition=DEFAULT_PARTITION, cpus_per_task=1,
                         **parameters)
    return ex


def forced_state(job) -> str:
    """submitit's state of the job, asking sacct now instead of waiting for its polling delay."""
    return job.watcher.get_state(job.job_id, mode="force")


def environment() -> dict:
    return {"executable": sys.executable, "path": os.environ["PATH"], "uid": os.getuid(),
            "restarts": os.environ.get("SLURM_RESTART_COUNT")}


def fail() -> None:
    raise ValueError("failed on purpose")


class Counter(submitit.helpers.Checkpointable):
    """Counts its runs in a file; the first run waits to be interrupted, a later one returns."""

    def __call__(self, path: str, started: str) -> dict:
        runs = int(Path(path).read_text()) + 1 if Path(path).exists() else 1
        Path(path).write_text(str(runs))
        Path(started).touch()
        if runs == 1:
            time.sleep(600)
        return {"runs": runs, "restarts": os.environ.get("SLURM_RESTART_COUNT")}


@pytest.fixture
def folder(tmp_path):
    """A fresh submitit folder (job ids restart at 1 when the cluster's state is purged)."""
    yield tmp_path / "submitit"
    cancel_submitit_jobs(tmp_path / "submitit")


def test_sbatch_job_is_completed_in_sacct(tmp_path):
    job_id = sbatch("-o", str(tmp_path / "out.txt"), wrap="echo hello from $SLURM_JOB_PARTITION")
    assert wait_for_state(job_id, "COMPLETED", timeout=RESULT_TIMEOUT_SECONDS) == "COMPLETED"
    assert (tmp_path / "out.txt").read_text().strip() == f"hello from {DEFAULT_PARTITION}"


def test_submitit_job_returns_its_result_with_the_callers_environment(folder):
    job = executor(folder).submit(environment)
    result = job.result()
    # submitit's sbatch script calls this interpreter by absolute path; the job keeps our PATH.
    assert result["executable"] == sys.executable
    assert result["path"] == os.environ["PATH"]
    assert result["uid"] == os.getuid()
    wait_until(lambda: forced_state(job) == "COMPLETED", RESULT_TIMEOUT_SECONDS,
               f"submitit's state of job {job.job_id} ({job.state})")
    assert job.state == "COMPLETED"
    assert submitit_job_ids(folder) == [job.job_id]


def test_failing_submitit_job_raises_from_result(folder):
    job = executor(folder).submit(fail)
    wait_until(job.done, RESULT_TIMEOUT_SECONDS, f"job {job.job_id} done")
    with pytest.raises(submitit.core.utils.FailedJobError, match="failed on purpose"):
        job.result()
    wait_until(lambda: forced_state(job) == "FAILED", RESULT_TIMEOUT_SECONDS,
               f"submitit's state of job {job.job_id} ({job.state})")


def run_counter(folder: Path):
    folder.mkdir(parents=True)
    started = folder / "started"
    job = executor(folder).submit(Counter(), str(folder / "runs.txt"), str(started))
    wait_until(started.exists, RESULT_TIMEOUT_SECONDS, f"job {job.job_id} started")
    started.unlink()
    return job


def assert_second_run_completed(job) -> None:
    wait_until(job.done, RESULT_TIMEOUT_SECONDS, f"job {job.job_id} done")
    assert job.result() == {"runs": 2, "restarts": "1"}
    # sacct, which the run count below falls back to, learns of the end a moment after squeue:
    # wait on sacct itself (waiting on squeue's COMPLETED let sacct still say RUNNING, once in CI).
    wait_for_accounted_state(job.job_id, "COMPLETED", timeout=RESULT_TIMEOUT_SECONDS)
    assert restart_count(job.job_id) == 1


def test_usr2_requeues_a_checkpointable_job_that_finishes_on_its_second_run(folder):
    job = run_counter(folder)
    signal_job(job.job_id, "USR2")
    assert_second_run_completed(job)
    log = Path(str(job.paths.stderr)).read_text()
    assert "Caught signal SIGUSR2" in log and "this job is preempted" in log


def test_urgent_partition_preempts_a_job_that_comes_back_and_completes(folder):
    job = run_counter(folder)
    with preempting() as preemptor:
        # Running: the debug job got its USR2, checkpointed, left the CPUs and waits to come back.
        assert job_state(job.job_id) in {"PENDING", "REQUEUED"}
        assert job_state(preemptor) == "RUNNING"
    assert_second_run_completed(job)
    log = Path(str(job.paths.stderr)).read_text()
    assert "Caught signal SIGUSR2" in log
