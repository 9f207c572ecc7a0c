"""Stops training cleanly on a NaN/inf loss, SIGINT (Ctrl-C), SIGTERM or a preemption's SIGUSR2.

A signal or a bad loss sets ``model.stop_training`` at the end of the current
batch. If that cut an epoch short, the epoch counts as not done: the weight
logger and the checkpointer skip its end, so a resumed run redoes it and no
TensorBoard step is written twice.

SIGUSR2 is the signal Slurm sends a submitit job before preempting it or at
its time limit (``sbatch --signal=USR2@90``). submitit's own handler would
checkpoint and requeue at once, in the middle of a batch; the guard takes the
signal only where such a handler is installed, stops at the end of the batch
like SIGTERM, and hands the handler back when training ends, so the caller can
raise the signal again once the run's files are written (``cli/app.py``).
"""

import math
import signal
import threading

import keras

HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM)
PREEMPTION_SIGNAL = signal.SIGUSR2


def preemption_handler_installed() -> bool:
    """Whether a job scheduler's Python handler (submitit's) waits for SIGUSR2 in this process."""
    return callable(signal.getsignal(PREEMPTION_SIGNAL))


class TrainingGuard(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.failure: str | None = None
        self.signal_name: str | None = None
        self.epoch_cut_short = False
        self._previous_handlers = {}
        self._epoch = 0

    @property
    def stopped(self) -> bool:
        return self.failure is not None or self.signal_name is not None

    def _on_signal(self, signum, frame):
        if self.signal_name is not None:
            if signum == signal.SIGINT:
                # A second Ctrl-C: stop now, without waiting for the batch to end.
                raise KeyboardInterrupt
            return  # e.g. Slurm's SIGTERM after the preemption's SIGUSR2: already stopping
        # Only noted here: the batch's end stops training and marks the epoch cut short together
        # (on_train_batch_end). Set here, a signal between that and Keras' look at stop_training ended
        # the epoch early with the epoch counted as done: its checkpoint said a partial epoch was
        # complete, and the resumed run trained one batch less (seen under load in CI).
        self.signal_name = signal.Signals(signum).name

    def on_train_begin(self, logs=None):
        if threading.current_thread() is threading.main_thread():
            signals = HANDLED_SIGNALS + ((PREEMPTION_SIGNAL,) if preemption_handler_installed() else ())
            for signum in signals:
                self._previous_handlers[signum] = signal.signal(signum, self._on_signal)

    def on_train_end(self, logs=None):
        for signum, handler in self._previous_handlers.items():
            signal.signal(signum, handler)
        self._previous_handlers.clear()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def fail(self, message: str) -> None:
        """The one way a run fails (a non-finite loss, a checkpoint or event file that cannot be
        written): the first message is kept, and training stops at the end of the batch."""
        if self.failure is None:
            self.failure = message
        if self.model is not None:
            self.model.stop_training = True

    def _check_finite(self, logs, name: str, where: str) -> None:
        value = (logs or {}).get(name)
        if value is not None and not math.isfinite(float(value)):
            self.fail(f"{name} became {float(value)} in {where}")

    def on_train_batch_end(self, batch, logs=None):
        self._check_finite(logs, "loss", f"epoch {self._epoch + 1}, batch {batch + 1}")
        if self.stopped:
            self.model.stop_training = True
            self.epoch_cut_short = True

    def on_epoch_end(self, epoch, logs=None):
        self._check_finite(logs, "val_loss", f"epoch {epoch + 1}")

    def epoch_counts(self) -> bool:
        """Whether the epoch now ending ran to its end (other callbacks ask this in on_epoch_end)."""
        return not self.epoch_cut_short

    def interrupted(self) -> bool:
        """Whether training stopped on a signal (the run is resumed from its checkpoint)."""
        return self.signal_name is not None
