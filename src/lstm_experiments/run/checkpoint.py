"""A run's checkpoint: the initial weights, and the model with its optimizer after the last whole epoch.

    <run dir>/checkpoint/initial.weights.h5   the step-0 weights (fixed colour scales and W_0 come from them)
    <run dir>/checkpoint/latest.keras         model + optimizer state after ``epoch`` epochs
    <run dir>/checkpoint/state.json           {"epoch": n}

Files are replaced atomically, so a kill mid-save leaves the previous checkpoint.
"""

import json
import os
from pathlib import Path

import keras

from lstm_experiments.errors import UserError
from lstm_experiments.run.layout import CHECKPOINT_DIR, write_json_atomic

INITIAL_WEIGHTS = "initial.weights.h5"
LATEST_MODEL = "latest.keras"
STATE_FILE = "state.json"


class RunCheckpoint:
    def __init__(self, run_dir: Path):
        self.dir = Path(run_dir) / CHECKPOINT_DIR

    def exists(self) -> bool:
        return (self.dir / STATE_FILE).is_file() and (self.dir / LATEST_MODEL).is_file()

    def save_initial(self, model) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        model.save_weights(self.dir / INITIAL_WEIGHTS)

    def save(self, model, epoch: int) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        partial = self.dir / f".{LATEST_MODEL}.partial.keras"
        model.save(partial)
        os.replace(partial, self.dir / LATEST_MODEL)
        write_json_atomic(self.dir / STATE_FILE, {"epoch": epoch})

    def epoch(self) -> int:
        return int(json.loads((self.dir / STATE_FILE).read_text())["epoch"])

    def restore(self):
        """(model with its optimizer state, epochs done); a run without a checkpoint starts at 0."""
        if not self.exists():
            return None, 0
        return keras.models.load_model(self.dir / LATEST_MODEL), self.epoch()

    def initial_model(self, model):
        """A copy of ``model`` holding the step-0 weights."""
        path = self.dir / INITIAL_WEIGHTS
        if not path.is_file():
            raise UserError(f"resume: {path} is missing; this run cannot be resumed")
        initial = keras.models.clone_model(model)
        initial.load_weights(path)
        return initial


class Checkpointer(keras.callbacks.Callback):
    """Saves the checkpoint after every whole epoch (not after one cut short or gone non-finite)."""

    def __init__(self, checkpoint: RunCheckpoint, guard):
        super().__init__()
        self.checkpoint = checkpoint
        self.guard = guard

    def on_epoch_end(self, epoch, logs=None):
        if self.guard.epoch_counts() and self.guard.failure is None:
            self.checkpoint.save(self.model, epoch + 1)
