"""What a run directory already holds, so a run started in it again continues rather than repeats.

    new          no checkpoint and no results yet (Hydra's .hydra/ may be there)
    completed    metrics.json says completed and model.keras is there
    failed       metrics.json says failed (a NaN loss, a full disk, a bad file)
    interrupted  a checkpoint without a final record: stopped by a signal,
                 preempted, or killed outright (then there is no metrics.json)

A sweep run again on its own directory (``-m resume=<sweep dir>``) and a Slurm
job requeued after preemption read each job's state here: completed jobs are
skipped, interrupted ones resume, failed ones run again from the start (their
files moved aside first, nothing deleted).
"""

import json
import os
from enum import StrEnum
from pathlib import Path

from lstm_experiments.run.layout import CHECKPOINT_DIR, INITIAL_WEIGHTS, LOG_FILE, METRICS_FILE, MODEL_FILE

# A failed job's files go to <job>/failed_attempts/<n>/ before it runs again.
FAILED_ATTEMPTS_DIR = "failed_attempts"
# What stays in place when a failed attempt is moved aside: Hydra's records and the job's log
# (the log is open for appending while the job runs).
_KEPT_IN_PLACE = {".hydra", ".hydra_resume", LOG_FILE, FAILED_ATTEMPTS_DIR}


class RunState(StrEnum):
    new = "new"
    completed = "completed"
    failed = "failed"
    interrupted = "interrupted"


def read_metrics(run_dir: Path) -> dict | None:
    """The run's metrics.json, or None if it is missing or unreadable."""
    try:
        metrics = json.loads((Path(run_dir) / METRICS_FILE).read_text())
    except (OSError, ValueError):
        return None
    return metrics if isinstance(metrics, dict) else None


def read_state(run_dir: Path) -> RunState:
    run_dir = Path(run_dir)
    status = (read_metrics(run_dir) or {}).get("status")
    if status == "completed" and (run_dir / MODEL_FILE).is_file():
        return RunState.completed
    if status == "failed":
        return RunState.failed
    if (run_dir / CHECKPOINT_DIR / INITIAL_WEIGHTS).is_file():
        return RunState.interrupted
    return RunState.new


def requeued_by_slurm() -> bool:
    """Whether this process is a Slurm job started again after preemption or ``scontrol requeue``."""
    return os.environ.get("SLURM_RESTART_COUNT", "0") not in ("", "0")


def move_failed_attempt_aside(run_dir: Path) -> Path:
    """Move a failed run's files to ``failed_attempts/<n>/`` (n = 1, 2, ...); returns that directory."""
    run_dir = Path(run_dir)
    attempts = run_dir / FAILED_ATTEMPTS_DIR
    attempts.mkdir(exist_ok=True)
    number = 1 + max((int(p.name) for p in attempts.iterdir() if p.name.isdigit()), default=0)
    target = attempts / str(number)
    target.mkdir()
    for entry in run_dir.iterdir():
        if entry.name not in _KEPT_IN_PLACE:
            entry.rename(target / entry.name)
    return target
