"""What a run directory holds, by name, and the atomic writer for its results files.

Every module that reads or writes a run's files takes the names from here
(a reader never sees half a file: results are written to a temporary file, then renamed).
"""

import json
import os
import tempfile
from pathlib import Path

FILE_MODE = 0o644

# Where Hydra saves a command's config: .hydra/, or .hydra_resume/ in a directory that already
# holds a run (resumed, requeued, or part of a sweep run again), so the run's own .hydra/ stays.
HYDRA_DIR = ".hydra"
RESUME_HYDRA_DIR = ".hydra_resume"

TENSORBOARD_DIR = "tensorboard"
MODEL_FILE = "model.keras"
METRICS_FILE = "metrics.json"
FINDINGS_FILE = "findings.json"  # what is wrong with the LSTM (findings/record.py writes it)
PNG_DIR = "images"
# Not "checkpoint": TensorBoard's projector reads a file of that name beside a run's event files
# as TensorFlow's checkpoint index, and for a folder warns "FailedPreconditionError ... Checkpoint
# ignored" every time it looks. Runs made before the rename keep theirs (LEGACY_CHECKPOINT_DIR):
# resume= reads either (run/resume.py).
CHECKPOINT_DIR = "checkpoints"
LEGACY_CHECKPOINT_DIR = "checkpoint"
INITIAL_WEIGHTS = "initial.weights.h5"  # in CHECKPOINT_DIR: the step-0 weights
LATEST_MODEL = "latest.keras"  # in CHECKPOINT_DIR: model + optimizer after the last whole epoch
CHECKPOINT_STATE = "state.json"  # in CHECKPOINT_DIR: {"epoch": n}
LOG_FILE = "lstm_experiments.log"
DATA_FILE = "data.json"  # the CSV a run read: path, bytes, sha256
CONFIG_FILE = Path(HYDRA_DIR) / "config.yaml"
OVERRIDES_FILE = Path(HYDRA_DIR) / "overrides.yaml"
SWEEP_SUMMARY_FILE = "sweep_summary.json"
SWEEP_CONFIG = "multirun.yaml"  # Hydra's record in a sweep directory, with the sweep's overrides
FAILED_ATTEMPTS_DIR = "failed_attempts"  # <job>/failed_attempts/<n>/: a failed job's files, before it ran again


def write_json_atomic(path: Path, data: dict) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
            handle.write("\n")
        # mkstemp creates the file private (0600); a results file is for everyone to read.
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
