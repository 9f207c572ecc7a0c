"""A Hydra callback that writes ``sweep_summary.json`` when a sweep ends, marking failed jobs.

Each job writes its own metrics.json (status completed, failed or interrupted);
after the last job the summary lists them all. If any job did not complete,
the command exits with status 1 after writing it, so scripts notice.
"""

import json
import logging
import sys
from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from lstm_experiments.run.layout import METRICS_FILE, SWEEP_SUMMARY_FILE as SUMMARY_FILE, write_json_atomic

log = logging.getLogger(__name__)



def summarise_sweep(sweep_dir: Path) -> dict:
    jobs = []
    for job_dir in sorted(p for p in Path(sweep_dir).iterdir() if (p / ".hydra").is_dir()):
        metrics_path = job_dir / METRICS_FILE
        try:
            metrics = json.loads(metrics_path.read_text())
        except (OSError, ValueError):
            metrics = {"status": "failed", "reason": f"no readable {METRICS_FILE}"}
        jobs.append({"job": job_dir.name, **metrics})
    failed = [j for j in jobs if j.get("status") != "completed"]
    return {"jobs": jobs, "completed": len(jobs) - len(failed), "failed": len(failed)}


class SweepSummary(Callback):
    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        if not sweep_dir.is_dir():
            return
        summary = summarise_sweep(sweep_dir)
        write_json_atomic(sweep_dir / SUMMARY_FILE, summary)
        if summary["failed"]:
            names = ", ".join(f"{j['job']} ({j.get('status')}: {j.get('reason', '?')})"
                              for j in summary["jobs"] if j.get("status") != "completed")
            print(f"error: {summary['failed']} of {len(summary['jobs'])} jobs did not complete: "
                  f"{names}; see {sweep_dir / SUMMARY_FILE}", file=sys.stderr)
            sys.exit(1)
        log.info("sweep done: %d jobs completed; %s", summary["completed"], sweep_dir / SUMMARY_FILE)
