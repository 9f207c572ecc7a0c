"""The Keras callback that logs weights at step 0 and every ``log_every`` epochs.

Step n is the state after n epochs; step 0 is the initial weights. Epoch
metrics go to the same writer under ``metrics/<name>``. A visualizer that
fails is reported once and switched off: it never takes training down.

On the training thread the callback only copies the weights to the host; the
probe gradients, the visualizers, PNG encoding and writing run on a background
worker, in order (``viz.background=false`` runs them inline).
"""

import logging
from dataclasses import replace

import keras

from lstm_experiments.background import BackgroundWorker
from lstm_experiments.summaries import Summaries
from lstm_experiments.weight_snapshot import add_gradients, take_snapshot

log = logging.getLogger(__name__)


class WeightLogger(keras.callbacks.Callback):
    """Args:
        writer: the run's ``SummaryWriter``.
        visualizers: instances from ``enabled_visualizers``.
        painter: the run's ``Painter``.
        log_every: log the weights every this many epochs (>= 1).
        probe: ``(x, y)`` validation batch for activations and gradients, or None.
        png_exporter: an object with ``export(step, images)``, or None.
        guard: the run's ``TrainingGuard``; an epoch it cut short is not logged.
        initial_epoch: epochs already done (a resumed run).
        log_initial: log step 0 at the start (False when resuming: it is in the event file already).
        worker: a ``BackgroundWorker`` (default) or ``InlineWorker``; ``close()`` drains it.
    """

    def __init__(self, writer, visualizers, painter, log_every: int, probe=None,
                 png_exporter=None, guard=None, initial_epoch: int = 0, log_initial: bool = True,
                 worker=None):
        super().__init__()
        if log_every < 1:
            raise ValueError(f"viz.log_every={log_every} (must be >= 1)")
        self.writer = writer
        self.visualizers = list(visualizers)
        self.painter = painter
        self.log_every = log_every
        self.probe = probe
        self.png_exporter = png_exporter
        self.guard = guard
        self.initial_epoch = initial_epoch
        self.log_initial = log_initial
        self.with_gradients = any(getattr(v, "needs_gradients", False) for v in visualizers)
        self.logged_steps: list[int] = []
        self._last_epoch = initial_epoch
        self.worker = worker if worker is not None else BackgroundWorker()
        # W_0, copied once: the first snapshot's matrices (or the initial model's, when resuming).
        self._initial: dict[str, dict] | None = None

    def _snapshot(self, model, step: int):
        probe_x = self.probe[0] if self.probe is not None else None
        snapshot = take_snapshot(model, step, probe_x, self.with_gradients)
        if self._initial is None:
            self._initial = {layer.layer: layer.matrices for layer in snapshot.layers}
        return replace(snapshot, initial=self._initial)

    def _summarise(self, snapshot) -> Summaries:
        summaries = Summaries()
        for visualizer in list(self.visualizers):
            try:
                summaries.update(visualizer.summarise(snapshot, self.painter))
            except Exception:  # a picture must never stop training
                log.exception("visualizer %s failed at step %d; it is switched off",
                              type(visualizer).__name__, snapshot.step)
                self.visualizers.remove(visualizer)
        summaries.scalars.update(self.painter.take_scale_scalars())
        return summaries

    def prime(self, initial_model) -> None:
        """Take W_0 and the fixed colour scales from the step-0 weights without logging them (resume)."""
        layers = take_snapshot(initial_model, 0).layers
        self._initial = {layer.layer: layer.matrices for layer in layers}
        self.worker.submit(self.painter.fix_scales, layers)

    def _with_gradients(self, snapshot):
        try:
            return add_gradients(snapshot, self.model, self.probe[1])
        except Exception:  # as for a visualizer: the gradient ones go, the rest still log
            log.exception("probe gradients failed at step %d; the visualizers that need them are switched off",
                          snapshot.step)
            self.with_gradients = False
            self.visualizers = [v for v in self.visualizers if not getattr(v, "needs_gradients", False)]
            return snapshot

    def _draw_and_write(self, snapshot) -> None:
        if snapshot.variable_values is not None:
            snapshot = self._with_gradients(snapshot)
        summaries = self._summarise(snapshot)
        self.writer.write(snapshot.step, summaries)
        self.writer.flush()
        if self.png_exporter is not None:
            self.png_exporter.export(snapshot.step, summaries.images)

    def log_weights(self, step: int) -> None:
        if not self.visualizers:
            return
        self.worker.submit(self._draw_and_write, self._snapshot(self.model, step))
        self.logged_steps.append(step)

    def close(self) -> None:
        """Wait for every pending step to be written, then stop the worker."""
        self.worker.drain()
        self.worker.close()

    def on_train_begin(self, logs=None):
        if self.log_initial:
            self.log_weights(0)

    def on_epoch_end(self, epoch, logs=None):
        if self.guard is not None and not self.guard.epoch_counts():
            return
        step = epoch + 1
        self._last_epoch = step
        metrics = {f"metrics/{k}": v for k, v in (logs or {}).items()}
        # Through the worker too, so records reach the file in step order.
        self.worker.submit(self.writer.write_scalars, step, metrics)
        if step % self.log_every == 0:
            self.log_weights(step)
        else:
            self.worker.submit(self.writer.flush)

    def on_train_end(self, logs=None):
        # The final weights are always logged, so the last image matches the saved model.
        if self._last_epoch > self.initial_epoch and self._last_epoch not in self.logged_steps:
            self.log_weights(self._last_epoch)
