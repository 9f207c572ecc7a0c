"""sweeps: four tiny jobs through the real CLI with ``-m``: the basic launcher, then joblib when
its Hydra plugin is installed."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import print_table

SWEEP_UNITS = "8,16,24,32"
SWEEP_SAMPLES = 128
JOBLIB_PLUGIN = "hydra_plugins.hydra_joblib_launcher"
JOBLIB_JOBS = 2
ERROR_CHARS = 120


def _last_error_line(stderr: str) -> str:
    """The last line of a failed command's stderr that names an error (loky folds tracebacks onto one line)."""
    lines = [line.strip() for line in stderr.replace("; ", "\n").splitlines() if line.strip()]
    errors = [line for line in lines if "Error" in line or line.startswith("error")]
    return (errors or lines or [""])[-1]


def run(sizes, workdir: Path) -> dict:
    """Four tiny jobs through the real CLI: the basic launcher, then joblib when installed."""
    base = ["-m", "lstm_experiments", "-m", f"units={SWEEP_UNITS}", f"train.epochs={sizes.sweep_epochs}",
            f"data.n_samples={SWEEP_SAMPLES}"]
    launchers = {"basic": []}
    try:
        joblib_found = importlib.util.find_spec(JOBLIB_PLUGIN) is not None
    except ModuleNotFoundError:
        joblib_found = False
    if joblib_found:
        launchers["joblib"] = ["hydra/launcher=joblib", f"hydra.launcher.n_jobs={JOBLIB_JOBS}"]
    rows = []
    for name, extra in launchers.items():
        cwd = Path(tempfile.mkdtemp(dir=workdir))
        start = time.perf_counter()
        result = subprocess.run([sys.executable, *base, *extra], cwd=cwd, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        jobs = len(list(cwd.glob("multirun/**/metrics.json")))
        failure = _last_error_line(result.stderr) if result.returncode != 0 else ""
        rows.append({"launcher": name, "exit": result.returncode, "jobs": jobs, "wall_s": seconds,
                     "s_per_job": seconds / jobs if jobs else None, "error": failure[:ERROR_CHARS]})
    notes = [] if joblib_found else ["joblib: skipped: pip install hydra-joblib-launcher"]
    print_table(
        f"sweeps: -m units={SWEEP_UNITS} train.epochs={sizes.sweep_epochs} data.n_samples={SWEEP_SAMPLES}",
        ["launcher", "exit", "jobs", "wall_s", "s_per_job", "error"], rows, notes,
    )
    return {"rows": rows, "notes": notes}
