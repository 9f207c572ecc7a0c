"""The Keras callback that logs weights at step 0 and every ``log_every`` epochs.

Step n is the state after n epochs; step 0 is the initial weights. Epoch
metrics go to the same event file under ``metrics/<name>``.

On the training thread the callback only copies the weights to the host. A
worker (a thread by default; ``viz.background=false`` runs it inline) hands
each snapshot to the drawer: a ``Drawer`` in this process, or a
``DrawingProcess`` (the default), which draws, encodes and writes in a process
of its own. Calls reach the drawer in order.
"""

import logging

import keras

from lstm_experiments.capture.workers import BackgroundWorker
from lstm_experiments.tensorboard import tags
from lstm_experiments.capture.snapshot import take_snapshot

log = logging.getLogger(__name__)


class WeightLogger(keras.callbacks.Callback):
    """Args:
        drawer: a ``Drawer`` or ``DrawingProcess``: it draws and writes snapshots and scalars.
        log_every: log the weights every this many epochs (>= 1).
        draws: whether any visualizer is on (False: only the epoch metrics are written).
        probe: ``(x, y)`` validation batch for activations and gradients, or None.
        with_gradients: snapshots carry what the probe batch's loss gradients are computed from.
        guard: the run's ``TrainingGuard``; an epoch it cut short is not logged.
        initial_epoch: epochs already done (a resumed run).
        log_initial: log step 0 at the start (False when resuming: it is in the event file already).
        worker: a ``BackgroundWorker`` (default) or ``InlineWorker``; ``close()`` drains it.
    """

    def __init__(self, drawer, log_every: int, draws: bool = True, probe=None, with_gradients: bool = False,
                 guard=None, initial_epoch: int = 0, log_initial: bool = True, worker=None):
        super().__init__()
        if log_every < 1:
            raise ValueError(f"viz.log_every={log_every} (must be >= 1)")
        self.drawer = drawer
        self.log_every = log_every
        self.draws = draws
        self.probe = probe
        self.with_gradients = with_gradients and probe is not None
        self.guard = guard
        self.initial_epoch = initial_epoch
        self.log_initial = log_initial
        self.logged_steps: list[int] = []
        self._last_epoch = initial_epoch
        self.worker = worker if worker is not None else BackgroundWorker()

    def prime(self, initial_model) -> None:
        """Give the drawer W_0 and the fixed colour scales from the step-0 weights, unlogged (resume)."""
        self.worker.submit(self.drawer.prime, take_snapshot(initial_model, 0).layers)

    def log_weights(self, step: int) -> None:
        if not self.draws:
            return
        probe_x, probe_y = self.probe if self.probe is not None else (None, None)
        snapshot = take_snapshot(self.model, step, probe_x, probe_y, self.with_gradients)
        self.worker.submit(self.drawer.draw, snapshot)
        self.logged_steps.append(step)

    def close(self) -> None:
        """Wait for every pending step to be drawn and written, then stop the worker."""
        self.worker.drain()
        self.worker.close()
        self.drawer.sync()

    def on_train_begin(self, logs=None):
        if self.log_initial:
            self.log_weights(0)

    def on_epoch_end(self, epoch, logs=None):
        if self.guard is not None and not self.guard.epoch_counts():
            return
        step = epoch + 1
        self._last_epoch = step
        metrics = {tags.metric(k): v for k, v in (logs or {}).items()}
        # Through the worker too, so records reach the file in step order.
        self.worker.submit(self.drawer.write_scalars, step, metrics)
        if step % self.log_every == 0:
            self.log_weights(step)
        else:
            self.worker.submit(self.drawer.flush)

    def on_train_end(self, logs=None):
        # The final weights are always logged, so the last image matches the saved model.
        if self._last_epoch > self.initial_epoch and self._last_epoch not in self.logged_steps:
            self.log_weights(self._last_epoch)
