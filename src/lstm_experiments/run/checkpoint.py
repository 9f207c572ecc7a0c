"""A run's checkpoint: the initial weights, and the model with its optimizer after the last whole epoch.

    <run dir>/checkpoint/initial.weights.h5   the step-0 weights (fixed colour scales and W_0 come from them)
    <run dir>/checkpoint/latest.keras         model + optimizer state after ``epoch`` epochs
    <run dir>/checkpoint/state.json           {"epoch": n}

Files are replaced atomically, so a kill mid-save leaves the previous checkpoint.
A file damaged some other way (truncated by a full disk, edited) is refused
on resume with one line naming it.
"""

import json
import os
from pathlib import Path

import keras

from lstm_experiments.errors import UserError, first_line
from lstm_experiments.run.layout import CHECKPOINT_DIR, INITIAL_WEIGHTS, write_json_atomic

LATEST_MODEL = "latest.keras"
STATE_FILE = "state.json"


class RunCheckpoint:
    def __init__(self, run_dir: Path):
        self.dir = Path(run_dir) / CHECKPOINT_DIR

    def exists(self) -> bool:
        return (self.dir / STATE_FILE).is_file() and (self.dir / LATEST_MODEL).is_file()

    def save_initial(self, model) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        try:
            model.save_weights(self.dir / INITIAL_WEIGHTS)
        except OSError as error:  # h5py's message runs over lines; the first names the reason
            reason = error.strerror or first_line(error)
            raise UserError(f"cannot write the checkpoint in {self.dir}: {reason}") from None

    def save(self, model, epoch: int) -> None:
        """Replace the checkpoint; on an OSError (a full disk) the previous one stays and the partial file goes."""
        self.dir.mkdir(parents=True, exist_ok=True)
        partial = self.dir / f".{LATEST_MODEL}.partial.keras"
        try:
            model.save(partial)
            os.replace(partial, self.dir / LATEST_MODEL)
            write_json_atomic(self.dir / STATE_FILE, {"epoch": epoch})
        except OSError:
            partial.unlink(missing_ok=True)
            raise

    def epoch(self) -> int:
        path = self.dir / STATE_FILE
        with _readable(path):
            epoch = json.loads(path.read_text())["epoch"]
            if not isinstance(epoch, int) or epoch < 0:
                raise ValueError(f"epoch={epoch!r}")
            return epoch

    def restore(self):
        """(model with its optimizer state, epochs done); a run without a checkpoint starts at 0."""
        if not self.exists():
            return None, 0
        epoch = self.epoch()
        with _readable(self.dir / LATEST_MODEL):
            return keras.models.load_model(self.dir / LATEST_MODEL), epoch

    def initial_model(self, model):
        """A copy of ``model`` holding the step-0 weights."""
        path = self.dir / INITIAL_WEIGHTS
        if not path.is_file():
            raise UserError(f"resume: {path} is missing; this run cannot be resumed")
        initial = keras.models.clone_model(model)
        # clone_model copies the compile settings, and with them an optimizer whose variables the
        # file (saved before the first step) does not hold: Keras would warn that it skipped
        # "loading for optimizer 'adam'". The copy only carries weights, so it gets no optimizer.
        initial.optimizer = None
        with _readable(path):
            initial.load_weights(path)
        return initial


class _readable:
    """Turns any failure to read a checkpoint file into one line naming it."""

    def __init__(self, path: Path):
        self.path = path

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if error is None or isinstance(error, UserError) or not isinstance(error, Exception):
            return False
        reason = first_line(error)
        raise UserError(f"resume: {self.path} is damaged and cannot be read ({reason}); "
                        f"restore it or start the run again") from None


class Checkpointer(keras.callbacks.Callback):
    """Saves the checkpoint after every whole epoch (not after one cut short or gone non-finite)."""

    def __init__(self, checkpoint: RunCheckpoint, guard):
        super().__init__()
        self.checkpoint = checkpoint
        self.guard = guard

    def on_epoch_end(self, epoch, logs=None):
        if self.guard.epoch_counts() and self.guard.failure is None:
            try:
                self.checkpoint.save(self.model, epoch + 1)
            except OSError as error:  # the run stops as failed, saying where and why
                reason = error.strerror or str(error)
                self.guard.fail(f"cannot write the checkpoint in {self.checkpoint.dir}: {reason}")
