"""One TensorBoard event file per run: scalars, RGB images, histograms and hparams by tag.

Built on TensorBoard's own summary protobuf helpers, not on ``tf.summary``: a
step's summaries become protos in plain numpy and Pillow, with no TensorFlow op
per tag, and can be made on any thread. The records are the ones
``tf.summary`` writes (TF2 tensors with plugin metadata), so TensorBoard and
``EventAccumulator`` read them as usual. They are framed by ``event_records``
(a C CRC) rather than TensorBoard's ``EventFileWriter``, whose pure-Python CRC
held the GIL for 0.16 s per logged step at units=128.

Opened once, flushed after each logged step, closed in the runner's
``finally``, so a run leaves one event file (a resumed run adds a second).
"""

import io
import time
from pathlib import Path

import numpy as np
from PIL import Image
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.plugins.histogram import summary_v2 as histogram_summary
# summary_v2, not api: api imports TensorFlow (for its Keras callback), and the drawing process has none.
from tensorboard.plugins.hparams import summary_v2 as hparams_summary
from tensorboard.plugins.image import metadata as image_metadata
from tensorboard.plugins.scalar import summary_v2 as scalar_summary
from tensorboard.util import tensor_util

from lstm_experiments.event_records import RecordFileWriter, event_file_name
from lstm_experiments.summaries import Summaries

# The first record of every event file; TensorBoard reads the version from it.
FILE_VERSION = "brain.Event:2"
HISTOGRAM_BUCKETS = 30
# zlib level for the PNGs: 3 encodes an upscaled 256 x 256 gate image about 1.5x faster than
# the usual 6, for about 10% more bytes (nearest-neighbour blocks compress well either way).
PNG_COMPRESS_LEVEL = 3


def encode_png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels, dtype=np.uint8), mode="RGB").save(
        buffer, format="PNG", compress_level=PNG_COMPRESS_LEVEL
    )
    return buffer.getvalue()


def image_value(tag: str, pixels: np.ndarray) -> summary_pb2.Summary.Value:
    """The image plugin's TF2 record: a string tensor [width, height, png]."""
    height, width = pixels.shape[:2]
    tensor = tensor_util.make_tensor_proto(
        [str(width).encode(), str(height).encode(), encode_png(pixels)], dtype=np.object_
    )
    return summary_pb2.Summary.Value(
        tag=tag, metadata=image_metadata.create_summary_metadata(display_name=None, description=None),
        tensor=tensor,
    )


def summary_proto(summaries: Summaries) -> summary_pb2.Summary:
    """One Summary proto holding every image, histogram and scalar of a step."""
    values = [image_value(tag, pixels) for tag, pixels in summaries.images.items()]
    for tag, data in summaries.histograms.items():
        finite = np.asarray(data, dtype=np.float64).ravel()
        finite = finite[np.isfinite(finite)]
        values.extend(histogram_summary.histogram_pb(tag, finite, buckets=HISTOGRAM_BUCKETS).value)
    for tag, value in summaries.scalars.items():
        values.extend(scalar_summary.scalar_pb(tag, float(value)).value)
    return summary_pb2.Summary(value=values)


class SummaryWriter:
    def __init__(self, logdir: Path):
        self.logdir = Path(logdir)
        self.logdir.mkdir(parents=True, exist_ok=True)
        self._writer = RecordFileWriter(event_file_name(self.logdir))
        self._writer.write(event_pb2.Event(wall_time=time.time(), file_version=FILE_VERSION).SerializeToString())
        self._writer.flush()

    def _add(self, step: int, summary: summary_pb2.Summary) -> None:
        event = event_pb2.Event(wall_time=time.time(), step=int(step), summary=summary)
        self._writer.write(event.SerializeToString())

    def write(self, step: int, summaries: Summaries) -> None:
        self._add(step, summary_proto(summaries))

    def write_scalars(self, step: int, scalars: dict[str, float]) -> None:
        self.write(step, Summaries(scalars=dict(scalars)))

    def write_hparams(self, hparams: dict, metric_tags, trial_id: str) -> None:
        """This run's hyperparameters and the metric tags the HParams dashboard ranks runs by.

        The dashboard takes each metric's last value, so the final epoch's metrics rank the sweep.
        """
        config = hparams_summary.hparams_config_pb(
            hparams=[hparams_summary.HParam(name) for name in sorted(hparams)],
            metrics=[hparams_summary.Metric(tag, display_name=tag.split("/")[-1]) for tag in metric_tags],
        )
        self._add(0, config)
        self._add(0, hparams_summary.hparams_pb(hparams, trial_id=trial_id))

    def flush(self) -> None:
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()
