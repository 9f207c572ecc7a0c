"""A Hydra callback that writes ``sweep_summary.json`` when a sweep ends, marking failed jobs.

Each job writes its own metrics.json (status completed, failed or interrupted);
after the last job the summary lists them all. If any job did not complete,
the command exits with status 1 after writing it, so scripts notice.

Each job also says what this command did with it (``this_sweep``): ``ran``,
``resumed`` (continued from a checkpoint: ``-m resume=<sweep dir>`` or a Slurm
requeue), ``rerun`` (failed before, run again), ``skipped`` (already
completed, left as it was) or ``not run`` (in the directory, not in this sweep);
``run/resume.py`` reads it from the job's metrics.json.
"""

import json
import logging
import sys
import time
from collections import Counter
from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from lstm_experiments.run.layout import HYDRA_DIR, METRICS_FILE, SWEEP_SUMMARY_FILE as SUMMARY_FILE, write_json_atomic
from lstm_experiments.run.resume import NOT_RUN, Action, this_sweep

log = logging.getLogger(__name__)

# The end-of-sweep line says what this command did as verbs, so that the counts do not read as
# more jobs: "3 jobs, all completed; this command skipped 3 (already complete)".
_DONE_BY_THIS_COMMAND = {
    Action.run.value: "ran {n}",
    Action.resume.value: "resumed {n}",
    Action.rerun.value: "reran {n}",
    Action.skip.value: "skipped {n} (already complete)",
    NOT_RUN: "left {n} alone (not in this sweep)",
}


def done_line(summary: dict) -> str:
    """What the sweep's last log line says of a sweep whose jobs all completed."""
    jobs = summary["jobs"]
    done = Counter(job["this_sweep"] for job in jobs)
    said = f"{len(jobs)} job{'' if len(jobs) == 1 else 's'}, all completed"
    if set(done) <= {Action.run.value}:
        return said
    return said + "; this command " + ", ".join(
        phrase.format(n=done[action]) for action, phrase in _DONE_BY_THIS_COMMAND.items() if done[action])


def summarise_sweep(sweep_dir: Path, started_at: float | None = None) -> dict:
    """Every job of ``sweep_dir`` with its metrics; ``started_at`` (epoch seconds) tells skipped jobs apart."""
    jobs = []
    for job_dir in sorted(p for p in Path(sweep_dir).iterdir() if (p / HYDRA_DIR).is_dir()):
        metrics_path = job_dir / METRICS_FILE
        try:
            metrics = json.loads(metrics_path.read_text())
            written_at = metrics_path.stat().st_mtime
        except (OSError, ValueError):
            metrics, written_at = {"status": "failed", "reason": f"no readable {METRICS_FILE}"}, time.time()
        jobs.append({"job": job_dir.name, **metrics, "this_sweep": this_sweep(metrics, written_at, started_at)})
    failed = [j for j in jobs if j.get("status") != "completed"]
    return {"jobs": jobs, "completed": len(jobs) - len(failed), "failed": len(failed)}


class SweepSummary(Callback):
    def __init__(self):
        self.started_at = None

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        self.started_at = time.time()
        if "optuna" in str(config.hydra.sweeper.get("_target_", "")).lower():
            # Optuna's own handler colours its lines even into a file; through Hydra's logging instead.
            import optuna

            optuna.logging.disable_default_handler()
            optuna.logging.enable_propagation()

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        if not sweep_dir.is_dir():
            return
        summary = summarise_sweep(sweep_dir, self.started_at)
        write_json_atomic(sweep_dir / SUMMARY_FILE, summary)
        if summary["failed"]:
            names = ", ".join(f"{j['job']} ({j.get('status')}: {j.get('reason', '?')})"
                              for j in summary["jobs"] if j.get("status") != "completed")
            print(f"error: {summary['failed']} of {len(summary['jobs'])} jobs did not complete: "
                  f"{names}; see {sweep_dir / SUMMARY_FILE}", file=sys.stderr)
            sys.exit(1)
        log.info("sweep done: %s; %s", done_line(summary), sweep_dir / SUMMARY_FILE)
