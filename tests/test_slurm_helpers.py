"""The Slurm test helpers' waits, without a cluster: sacct answering late (it learns a job's end a
moment after squeue) is waited out, and a run that finished otherwise fails at once."""

import pytest

from tests.helpers import slurm_cluster


@pytest.fixture
def sacct(monkeypatch):
    """job_runs answering from a script of sacct's successive answers (the last one repeats)."""
    answers = []

    def job_runs(job_id):
        return answers.pop(0) if len(answers) > 1 else answers[0]

    monkeypatch.setattr(slurm_cluster, "job_runs", job_runs)
    monkeypatch.setattr(slurm_cluster, "describe", lambda job_id: "(describe)")
    monkeypatch.setattr(slurm_cluster, "POLL_SECONDS", 0)
    return answers


def test_waits_until_sacct_has_the_end_squeue_already_showed(sacct):
    # What CI once saw: squeue said COMPLETED, sacct still RUNNING for the second run.
    sacct.extend([["REQUEUED", "RUNNING"], ["REQUEUED", "RUNNING"], ["REQUEUED", "COMPLETED"]])
    assert slurm_cluster.wait_for_accounted_state(1, "COMPLETED", timeout=5) == ["REQUEUED", "COMPLETED"]


def test_a_run_that_finished_otherwise_fails_at_once(sacct):
    sacct.extend([["REQUEUED", "FAILED"]])
    with pytest.raises(AssertionError, match="finished FAILED, not COMPLETED"):
        slurm_cluster.wait_for_accounted_state(1, "COMPLETED", timeout=5)


def test_sacct_that_never_catches_up_times_out(sacct):
    sacct.extend([[]])
    with pytest.raises(TimeoutError, match="runs: none"):
        slurm_cluster.wait_for_accounted_state(1, "COMPLETED", timeout=0)
