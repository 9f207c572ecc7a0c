"""One TensorBoard event writer per run: scalars, RGB images and histograms by tag.

Opened once, flushed after each logged step, closed in the runner's ``finally``,
so a run leaves exactly one event file however it ends.
"""

from pathlib import Path

import numpy as np

from lstm_experiments.summaries import Summaries
from lstm_experiments.tf_import import import_tensorflow


class SummaryWriter:
    def __init__(self, logdir: Path):
        self._tf = import_tensorflow()
        self.logdir = Path(logdir)
        self._writer = self._tf.summary.create_file_writer(str(self.logdir))

    def write_scalars(self, step: int, scalars: dict[str, float]) -> None:
        with self._writer.as_default(step=step):
            for tag, value in scalars.items():
                self._tf.summary.scalar(tag, float(value))

    def write(self, step: int, summaries: Summaries) -> None:
        tf = self._tf
        with self._writer.as_default(step=step):
            for tag, pixels in summaries.images.items():
                tf.summary.image(tag, np.asarray(pixels, dtype=np.uint8)[None], max_outputs=1)
            for tag, values in summaries.histograms.items():
                finite = np.asarray(values, dtype=np.float64)
                tf.summary.histogram(tag, finite[np.isfinite(finite)])
            for tag, value in summaries.scalars.items():
                tf.summary.scalar(tag, float(value))

    def write_hparams(self, hparams: dict, metric_tags, trial_id: str) -> None:
        """This run's hyperparameters and the metric tags the HParams dashboard ranks runs by.

        The dashboard takes each metric's last value, so the final epoch's metrics rank the sweep.
        """
        from tensorboard.plugins.hparams import api as hp

        with self._writer.as_default(step=0):
            hp.hparams_config(
                hparams=[hp.HParam(name) for name in sorted(hparams)],
                metrics=[hp.Metric(tag, display_name=tag.split("/")[-1]) for tag in metric_tags],
            )
            hp.hparams(hparams, trial_id=trial_id)

    def flush(self) -> None:
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()
