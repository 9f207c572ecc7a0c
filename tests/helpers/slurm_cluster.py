"""The local Slurm test cluster (scripts/slurm/start.sh): skip when it is not up, watch jobs, preempt them.

Tests import it as ``from tests.helpers.slurm_cluster import ...``. docs/slurm.md describes the
cluster: one node with every CPU of this machine, partitions ``debug`` (the default) and
``urgent`` (a higher PriorityTier, which preempts ``debug`` jobs by requeueing them), real
accounting (sacct) through slurmdbd, and job credentials that expire after 10 s, so that a
requeued job starts again about 11-13 s after it left.

Job ids start again at 1 when the cluster's state is purged (``stop.sh --purge``): give every
test its own submitit folder, and let :func:`reset_submitit_watcher` (the ``slurm_cluster``
fixture calls it) drop submitit's cache of job states, which is keyed by job id and shared by
every ``SlurmJob`` of the process.
"""

from __future__ import annotations

import contextlib
import fcntl
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest

START_COMMAND = "sudo bash scripts/slurm/start.sh"
NOT_RUNNING = f"Slurm cluster not running: start it with {START_COMMAND}"
DEFAULT_PARTITION = "debug"
URGENT_PARTITION = "urgent"
COMMANDS = ("sbatch", "sinfo", "squeue", "sacct", "scancel", "scontrol")
# sacct's and squeue's states after which a job never runs again.
FINISHED = frozenset({
    "COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "BOOT_FAIL",
    "DEADLINE",
})
POLL_SECONDS = 0.2
COMMAND_TIMEOUT_SECONDS = 30


def _run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        list(args), capture_output=True, text=True, check=check, timeout=COMMAND_TIMEOUT_SECONDS
    )


def cluster_problem() -> str | None:
    """None when the cluster takes jobs and sacct answers, else why not (the skip reason)."""
    missing = [name for name in COMMANDS if shutil.which(name) is None]
    if missing:
        return f"{NOT_RUNNING} (no {', '.join(missing)} on PATH: Slurm is not installed)"
    try:
        ping = _run("scontrol", "ping", check=False)
        if ping.returncode != 0 or "UP" not in ping.stdout:
            said = (ping.stdout + ping.stderr).strip().splitlines()
            return f"{NOT_RUNNING} (scontrol ping: {said[0] if said else ping.returncode})"
        states = _run("sinfo", "-h", "-o", "%T", check=False).stdout.split()
        if not any(state in ("idle", "mixed", "allocated", "completing") for state in states):
            return f"{NOT_RUNNING} (no node up; sinfo says {states or 'nothing'})"
        sacct = _run("sacct", "-n", "-X", "-S", "now", check=False)
        if sacct.returncode != 0:
            return f"{NOT_RUNNING} (sacct: {sacct.stderr.strip()})"
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"{NOT_RUNNING} ({error})"
    return None


def cluster_or_skip() -> None:
    """Skip the calling test, with the reason, unless the cluster is up."""
    problem = cluster_problem()
    if problem is not None:
        pytest.skip(problem)


def reset_submitit_watcher() -> None:
    """Forget submitit's cached job states (shared by all SlurmJobs, keyed by job id) and poll sacct often again."""
    from submitit.slurm.slurm import SlurmJob

    SlurmJob.watcher.clear()


# One Slurm test at a time on this machine, also across pytest-xdist's workers: the node's CPUs and its
# partitions are shared, and a test that waits for its jobs must not wait behind another test's.
CLUSTER_LOCK = Path(tempfile.gettempdir()) / "lstm_experiments_slurm_tests.lock"


@pytest.fixture
def slurm_cluster() -> Iterator[None]:
    """Skip unless the cluster is up; start each test with a fresh submitit watcher, holding the cluster."""
    cluster_or_skip()
    with open(CLUSTER_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        reset_submitit_watcher()
        yield
        reset_submitit_watcher()


def node_cpus() -> int:
    """The CPUs of the cluster's node (every one of this machine's)."""
    return max(int(cpus.rstrip("+")) for cpus in _run("sinfo", "-h", "-o", "%c").stdout.split())


def sbatch(*args: str, wrap: str | None = None) -> str:
    """Submit a batch job (``wrap``: a command line instead of a script); returns its id."""
    command = ["sbatch", "--parsable", *args]
    if wrap is not None:
        command += ["--wrap", wrap]
    return _run(*command).stdout.strip().split(";")[0]


def _base_state(state: str) -> str:
    # "CANCELLED by 0" -> "CANCELLED"; squeue and sacct agree on the rest.
    return state.split()[0].rstrip("+") if state.strip() else ""


def job_state(job_id: str | int) -> str:
    """The job's state now: slurmctld's (squeue) while it knows the job, else sacct's latest run; "" if neither.

    squeue first: sacct learns that a job started 2-3 s after it did (slurmctld sends the
    start to slurmdbd asynchronously), so for a moment it says PENDING about a running job.
    slurmctld forgets a finished job after MinJobAge (10 s); sacct keeps it.
    """
    live = _run("squeue", "-h", "-t", "all", "-j", str(job_id), "-o", "%T", check=False)
    if live.returncode == 0 and live.stdout.strip():
        return _base_state(live.stdout.split("\n")[0])
    lines = _run("sacct", "-n", "-X", "-P", "-j", str(job_id), "-o", "State", check=False).stdout.split("\n")
    states = [line for line in lines if line.strip()]
    return _base_state(states[-1]) if states else ""


def job_runs(job_id: str | int) -> list[str]:
    """The state of each run of the job, oldest first (sacct --duplicates): e.g. ["REQUEUED", "COMPLETED"]."""
    out = _run("sacct", "-n", "-X", "-P", "-D", "-j", str(job_id), "-o", "State", check=False).stdout
    return [_base_state(line) for line in out.split("\n") if line.strip()]


def restart_count(job_id: str | int) -> int:
    """How many times the job was requeued (scontrol's Restarts; sacct's runs once slurmctld forgot it)."""
    shown = _run("scontrol", "-o", "show", "job", str(job_id), check=False).stdout
    match = re.search(r"\bRestarts=(\d+)", shown)
    if match:
        return int(match.group(1))
    return max(len(job_runs(job_id)) - 1, 0)


def describe(job_id: str | int) -> str:
    """sacct's and squeue's lines for the job, for failure messages."""
    sacct = _run("sacct", "-D", "-j", str(job_id), "-o", "JobID,Partition,State,Start,End,ExitCode",
                 check=False).stdout
    squeue = _run("squeue", "-h", "-j", str(job_id), "-o", "%i %P %T %r", check=False).stdout
    return f"sacct:\n{sacct}squeue: {squeue.strip() or '(not queued)'}"


def wait_until(condition: Callable[[], object], timeout: float, what: str) -> object:
    """Poll ``condition`` until it returns something true; TimeoutError naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not after {timeout:.0f} s")
        time.sleep(POLL_SECONDS)


def wait_for_state(job_id: str | int, states: str | Iterable[str], timeout: float = 60.0) -> str:
    """Wait until the job is in one of ``states`` (e.g. "RUNNING", {"PENDING", "REQUEUED"}); returns it.

    Raises TimeoutError with sacct's and squeue's lines, and AssertionError when the job finishes
    in another state than the ones waited for (it never will reach them).
    """
    wanted = {states} if isinstance(states, str) else set(states)
    deadline = time.monotonic() + timeout
    while True:
        state = job_state(job_id)
        if state in wanted:
            return state
        if state in FINISHED and not wanted & FINISHED:
            raise AssertionError(f"job {job_id} finished {state}, not {sorted(wanted)}\n{describe(job_id)}")
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"job {job_id} not {sorted(wanted)} after {timeout:.0f} s (now {state or 'unknown'})\n"
                f"{describe(job_id)}"
            )
        time.sleep(POLL_SECONDS)


def wait_for_accounted_state(job_id: str | int, state: str, timeout: float = 60.0) -> list[str]:
    """Wait until sacct's latest run of the job is ``state``; returns every run's state (``job_runs``).

    For assertions that read sacct: slurmctld sends a job's end to slurmdbd asynchronously, so
    sacct can still say RUNNING for a moment after squeue (what :func:`wait_for_state` reads)
    says COMPLETED. Raises TimeoutError, or AssertionError when sacct's latest run finished
    in another state.
    """
    deadline = time.monotonic() + timeout
    while True:
        runs = job_runs(job_id)
        latest = runs[-1] if runs else ""
        if latest == state:
            return runs
        if latest in FINISHED and state in FINISHED:
            raise AssertionError(f"job {job_id}'s last run finished {latest}, not {state}\n{describe(job_id)}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"sacct: job {job_id}'s last run not {state} after {timeout:.0f} s "
                               f"(runs: {runs or 'none'})\n{describe(job_id)}")
        time.sleep(POLL_SECONDS)


def submitit_job_ids(folder: str | Path) -> list[str]:
    """The job ids submitit submitted under ``folder`` (its ``<id>_submitted.pkl`` files, at any depth)."""
    ids = {path.name[: -len("_submitted.pkl")] for path in Path(folder).rglob("*_submitted.pkl")}
    return sorted(ids, key=lambda job_id: [int(part) for part in job_id.split("_") if part.isdigit()])


def signal_job(job_id: str | int, signal: str = "USR2") -> None:
    """``scancel --signal=USR2 <id>``: what Slurm sends before a time limit (submitit checkpoints and requeues)."""
    _run("scancel", f"--signal={signal}", str(job_id))


def cancel(*job_ids: str | int) -> None:
    """scancel the jobs (finished or unknown ones are fine)."""
    if job_ids:
        _run("scancel", *map(str, job_ids), check=False)


def cancel_submitit_jobs(folder: str | Path) -> None:
    """scancel every job submitit submitted under ``folder`` (a test's cleanup)."""
    cancel(*submitit_job_ids(folder))


def submit_preemptor(command: str = "sleep 600", cpus: int | None = None, output: str = "/dev/null") -> str:
    """Submit a job to the urgent partition that needs every CPU of the node; returns its id.

    Jobs of the default partition that hold CPUs are preempted: they get their ``--signal``
    (submitit's USR2) at once and are requeued (after GraceTime if they do not exit themselves).
    """
    return sbatch("-p", URGENT_PARTITION, "-c", str(cpus or node_cpus()), "-J", "preemptor",
                  "-o", output, wrap=command)


@contextlib.contextmanager
def preempting(timeout: float = 60.0, command: str = "sleep 600", cpus: int | None = None) -> Iterator[str]:
    """Run a preemptor (:func:`submit_preemptor`) for the ``with`` block; cancelled after it.

    Yields the preemptor's job id once it is RUNNING, i.e. once what it preempted left the CPUs.
    """
    job_id = submit_preemptor(command=command, cpus=cpus)
    try:
        wait_for_state(job_id, "RUNNING", timeout=timeout)
        yield job_id
    finally:
        cancel(job_id)
