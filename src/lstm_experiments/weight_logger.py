"""The Keras callback that logs weights at step 0 and every ``log_every`` epochs.

Step n is the state after n epochs; step 0 is the initial weights. Epoch
metrics go to the same writer under ``metrics/<name>``.
"""

import keras

from lstm_experiments.summaries import Summaries
from lstm_experiments.weight_snapshot import take_snapshot


class WeightLogger(keras.callbacks.Callback):
    """Args:
        writer: the run's ``SummaryWriter``.
        visualizers: instances from ``enabled_visualizers``.
        painter: the run's ``Painter``.
        log_every: log the weights every this many epochs (>= 1).
        probe: ``(x, y)`` validation batch for activations and gradients, or None.
        png_exporter: an object with ``export(step, images)``, or None.
    """

    def __init__(self, writer, visualizers, painter, log_every: int, probe=None, png_exporter=None):
        super().__init__()
        if log_every < 1:
            raise ValueError(f"viz.log_every={log_every} (must be >= 1)")
        self.writer = writer
        self.visualizers = visualizers
        self.painter = painter
        self.log_every = log_every
        self.probe = probe
        self.png_exporter = png_exporter
        self.with_gradients = any(getattr(v, "needs_gradients", False) for v in visualizers)
        self.logged_steps: list[int] = []
        self._last_epoch = 0

    def log_weights(self, step: int) -> None:
        if not self.visualizers:
            return
        probe_x, probe_y = self.probe if self.probe is not None else (None, None)
        snapshot = take_snapshot(self.model, step, probe_x, probe_y, self.with_gradients)
        summaries = Summaries()
        for visualizer in self.visualizers:
            summaries.update(visualizer.summarise(snapshot, self.painter))
        summaries.scalars.update(self.painter.take_scale_scalars())
        self.writer.write(step, summaries)
        self.writer.flush()
        if self.png_exporter is not None:
            self.png_exporter.export(step, summaries.images)
        self.logged_steps.append(step)

    def on_train_begin(self, logs=None):
        self.log_weights(0)

    def on_epoch_end(self, epoch, logs=None):
        step = epoch + 1
        self._last_epoch = step
        self.writer.write_scalars(step, {f"metrics/{k}": v for k, v in (logs or {}).items()})
        if step % self.log_every == 0:
            self.log_weights(step)
        else:
            self.writer.flush()

    def on_train_end(self, logs=None):
        # The final weights are always logged, so the last image matches the saved model.
        if self._last_epoch not in self.logged_steps:
            self.log_weights(self._last_epoch)
