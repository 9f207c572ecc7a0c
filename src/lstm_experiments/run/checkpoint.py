"""A run's checkpoint: the initial weights, and the model with its optimizer after the last whole epoch.

    <run dir>/checkpoints/initial.weights.h5   the step-0 weights (fixed colour scales and W_0 come from them)
    <run dir>/checkpoints/latest.keras         model + optimizer state after ``epoch`` epochs
    <run dir>/checkpoints/state.json           {"epoch": n}

(``checkpoint/`` in runs made before the rename; ``run/resume.py`` finds either.)
Files are replaced atomically, so a kill mid-save leaves the previous checkpoint.
A file damaged some other way (truncated by a full disk, edited) is refused
on resume with one line naming it.
"""

import os
from pathlib import Path

import keras

from lstm_experiments.errors import UserError, first_line
from lstm_experiments.run.layout import CHECKPOINT_STATE, INITIAL_WEIGHTS, LATEST_MODEL, write_json_atomic
from lstm_experiments.run.resume import checkpoint_dir, checkpoint_epoch, readable_on_resume


class RunCheckpoint:
    def __init__(self, run_dir: Path):
        self.dir = checkpoint_dir(run_dir)

    def exists(self) -> bool:
        return (self.dir / CHECKPOINT_STATE).is_file() and (self.dir / LATEST_MODEL).is_file()

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
            write_json_atomic(self.dir / CHECKPOINT_STATE, {"epoch": epoch})
        except OSError:
            partial.unlink(missing_ok=True)
            raise

    def epoch(self) -> int:
        """The whole epochs saved; 0 before the first."""
        return checkpoint_epoch(self.dir)

    def restore(self):
        """The model with its optimizer state after the last whole epoch; None before the first."""
        if not self.exists():
            return None
        with readable_on_resume(self.dir / LATEST_MODEL):
            return keras.models.load_model(self.dir / LATEST_MODEL)

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
        with readable_on_resume(path):
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
            try:
                self.checkpoint.save(self.model, epoch + 1)
            except OSError as error:  # the run stops as failed, saying where and why
                reason = error.strerror or str(error)
                self.guard.fail(f"cannot write the checkpoint in {self.checkpoint.dir}: {reason}")
