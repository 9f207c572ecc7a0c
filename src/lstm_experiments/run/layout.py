"""What a run directory holds, by name, and the atomic writer for its results files.

Every module that reads or writes a run's files takes the names from here
(a reader never sees half a file: results are written to a temporary file, then renamed).
"""

import json
import os
import tempfile
from pathlib import Path

from lstm_experiments.config.resolvers import HYDRA_DIR

FILE_MODE = 0o644

TENSORBOARD_DIR = "tensorboard"
MODEL_FILE = "model.keras"
METRICS_FILE = "metrics.json"
PNG_DIR = "images"
CHECKPOINT_DIR = "checkpoint"
INITIAL_WEIGHTS = "initial.weights.h5"  # in CHECKPOINT_DIR: the step-0 weights
LOG_FILE = "lstm_experiments.log"
DATA_FILE = "data.json"  # the CSV a run read: path, bytes, sha256
CONFIG_FILE = Path(HYDRA_DIR) / "config.yaml"
OVERRIDES_FILE = Path(HYDRA_DIR) / "overrides.yaml"
SWEEP_SUMMARY_FILE = "sweep_summary.json"


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
