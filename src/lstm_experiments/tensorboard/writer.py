"""One TensorBoard event file per run: scalars, RGB images, histograms, raw tensors and hparams by tag.

Built on TensorBoard's own summary protobuf helpers, not on ``tf.summary``: a
step's summaries become protos in plain numpy (images by ``png``), with
no TensorFlow op per tag, and can be made on any thread. The records are the ones
``tf.summary`` writes (TF2 tensors with plugin metadata), so TensorBoard and
``EventAccumulator`` read them as usual. They are framed by ``records``
(a C CRC) rather than TensorBoard's ``EventFileWriter``, whose pure-Python CRC
held the GIL for a long part of each logged step (docs/performance.md).

Raw tensors (``Summaries.tensors``, another plugin's data such as ``lstm_gates``) carry
their summary metadata on the first value of each tag in each event file and none after,
as ``tf.summary`` writes them: TensorBoard keeps a tag's first metadata for the whole
series, and a second file (a resumed run) describes its tags again.

Opened once, flushed after each logged step, closed when training ends (or in the runner's
``finally``), so a run leaves one event file (a resumed run adds a second).
"""

import time
from pathlib import Path

import numpy as np
from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2
from tensorboard.compat.tensorflow_stub import dtypes
from tensorboard.plugins.histogram import metadata as histogram_metadata

# summary_v2, not api: api imports TensorFlow (for its Keras callback), and the drawing process has none.
from tensorboard.plugins.hparams import summary_v2 as hparams_summary
from tensorboard.plugins.image import metadata as image_metadata
from tensorboard.plugins.scalar import summary_v2 as scalar_summary
from tensorboard.util import tensor_util

from lstm_experiments.tensorboard.records import RecordFileWriter, event_file_name
from lstm_experiments.tensorboard import tags
from lstm_experiments.tensorboard.png import encode_png
from lstm_experiments.tensorboard.summaries import Summaries, Tensor

# The first record of every event file; TensorBoard reads the version from it.
FILE_VERSION = "brain.Event:2"
HISTOGRAM_BUCKETS = 30


def image_value(tag: str, pixels: np.ndarray, png: bytes | None = None) -> summary_pb2.Summary.Value:
    """The image plugin's TF2 record: a string tensor [width, height, png] (``png``: already encoded)."""
    height, width = pixels.shape[:2]
    tensor = tensor_util.make_tensor_proto(
        [str(width).encode(), str(height).encode(), encode_png(pixels) if png is None else png], dtype=np.object_
    )
    return summary_pb2.Summary.Value(
        tag=tag, metadata=image_metadata.create_summary_metadata(display_name=None, description=None),
        tensor=tensor,
    )


# Below this magnitude the range and the edges of a histogram cannot overflow float64.
EXACT_BELOW = 2.0**1020


def histogram_buckets(data: np.ndarray, buckets: int = HISTOGRAM_BUCKETS) -> np.ndarray:
    """The (buckets, 3) array of [left edge, right edge, count] that TensorBoard's ``histogram_pb`` makes.

    The same edges and the same bucket for every value, counted with ``np.bincount``:
    ``histogram_pb`` compares every value with every bucket (a values x buckets boolean
    array per gate block). Only where ``histogram_pb`` drops values (a
    range or edges beyond float64, near 1e308, or a bucket width that underflows to 0) does
    the arithmetic run on the values scaled by a power of two; elsewhere it is
    ``histogram_pb``'s own, bit for bit (scaling is not exact once the width is subnormal).
    """
    data = np.asarray(data, dtype=np.float64).ravel()
    if buckets == 0 or data.size == 0:
        return np.zeros((buckets, 3))
    low, high = data.min(), data.max()
    if low == high:
        counts = np.zeros(buckets)
        counts[-1] = data.size
        return np.stack([np.full(buckets, low), np.full(buckets, low), counts], axis=1)
    with np.errstate(over="ignore"):
        tensorboards_width = (high - low) / buckets
    # histogram_pb's own arithmetic wherever it keeps every value and its edges stay finite.
    exact = tensorboards_width > 0 and max(-low, high) < EXACT_BELOW
    shift = 0 if exact else int(np.frexp(max(abs(low), abs(high)))[1])
    scaled_low, scaled_high = np.ldexp(low, -shift), np.ldexp(high, -shift)
    width = (scaled_high - scaled_low) / buckets
    indices = np.floor((np.ldexp(data, -shift) - scaled_low) / width).astype(np.int64)
    counts = np.bincount(np.minimum(indices, buckets - 1), minlength=buckets)
    edges = np.ldexp(np.linspace(scaled_low, scaled_high, buckets + 1), shift)
    edges[0], edges[-1] = low, high
    return np.stack([edges[:-1], edges[1:], counts], axis=1)


def histogram_value(tag: str, data: np.ndarray) -> summary_pb2.Summary.Value:
    """The histogram plugin's TF2 record, as ``histogram_pb`` writes it."""
    return summary_pb2.Summary.Value(
        tag=tag, metadata=histogram_metadata.create_summary_metadata(display_name=None, description=None),
        tensor=tensor_util.make_tensor_proto(histogram_buckets(data), dtype=np.float64),
    )


def tensor_proto(values: np.ndarray) -> tensor_pb2.TensorProto:
    """``values`` as a TensorProto with its bytes in ``tensor_content`` (C order, this machine's
    byte order, as TensorFlow writes them): one copy, where ``make_tensor_proto`` appends a
    float16 array value by value to ``half_val``."""
    values = np.asarray(values)
    if values.dtype.kind in "SO":  # strings go in string_val, one per element (tensor_content is for numbers)
        return tensor_pb2.TensorProto(
            dtype=types_pb2.DT_STRING,
            tensor_shape=tensor_shape_pb2.TensorShapeProto(
                dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=int(size)) for size in values.shape]),
            string_val=[bytes(v) for v in values.ravel()],
        )
    return tensor_pb2.TensorProto(
        dtype=dtypes.as_dtype(values.dtype).as_datatype_enum,
        tensor_shape=tensor_shape_pb2.TensorShapeProto(
            dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=int(size)) for size in values.shape]),
        tensor_content=values.tobytes(),
    )


def tensor_value(tag: str, tensor: Tensor, with_metadata: bool = True) -> summary_pb2.Summary.Value:
    """A raw tensor's record; ``with_metadata``: the tag's first value in this event file."""
    value = summary_pb2.Summary.Value(tag=tag, tensor=tensor_proto(tensor.values))
    if with_metadata:
        value.metadata.CopyFrom(tensor.metadata)
    return value


def summary_proto(summaries: Summaries, pngs: dict[str, bytes] | None = None,
                  described: set[str] | None = None) -> summary_pb2.Summary:
    """One Summary proto holding every image, histogram, scalar and tensor of a step (``pngs``:
    images already encoded, by tag). ``described``: the tensor tags whose metadata this event
    file already holds (updated here); None attaches it to every tensor."""
    pngs = pngs or {}
    values = [image_value(tag, pixels, pngs.get(tag)) for tag, pixels in summaries.images.items()]
    for tag, data in summaries.histograms.items():
        finite = np.asarray(data, dtype=np.float64).ravel()
        values.append(histogram_value(tag, finite[np.isfinite(finite)]))
    for tag, value in summaries.scalars.items():
        values.extend(scalar_summary.scalar_pb(tag, float(value)).value)
    for tag, tensor in summaries.tensors.items():
        values.append(tensor_value(tag, tensor, described is None or tag not in described))
        if described is not None:
            described.add(tag)
    return summary_pb2.Summary(value=values)


class SummaryWriter:
    def __init__(self, logdir: Path):
        self.logdir = Path(logdir)
        self.logdir.mkdir(parents=True, exist_ok=True)
        self._writer = RecordFileWriter(event_file_name(self.logdir))
        # Tensor tags whose metadata this file holds: later values go without it.
        self._described: set[str] = set()
        self._writer.write(event_pb2.Event(wall_time=time.time(), file_version=FILE_VERSION).SerializeToString())
        self._writer.flush()

    def _add(self, step: int, summary: summary_pb2.Summary) -> None:
        event = event_pb2.Event(wall_time=time.time(), step=int(step), summary=summary)
        self._writer.write(event.SerializeToString())

    def write(self, step: int, summaries: Summaries, pngs: dict[str, bytes] | None = None) -> None:
        self._add(step, summary_proto(summaries, pngs, self._described))

    def write_scalars(self, step: int, scalars: dict[str, float]) -> None:
        self.write(step, Summaries(scalars=dict(scalars)))

    def write_hparams(self, hparams: dict, metric_tags, trial_id: str) -> None:
        """This run's hyperparameters and the metric tags the HParams dashboard ranks runs by.

        The dashboard takes each metric's last value, so the final epoch's metrics rank the sweep.
        """
        config = hparams_summary.hparams_config_pb(
            hparams=[hparams_summary.HParam(name) for name in sorted(hparams)],
            metrics=[hparams_summary.Metric(tag, display_name=tags.metric_name(tag)) for tag in metric_tags],
        )
        self._add(0, config)
        self._add(0, hparams_summary.hparams_pb(hparams, trial_id=trial_id))

    def write_text(self, step: int, tag: str, text: str) -> None:
        """A text summary (TensorBoard's Text dashboard, markdown) at ``step``."""
        from tensorboard.plugins.text.summary_v2 import text_pb  # protos only: no TensorFlow

        self._add(step, text_pb(tag, text))

    def write_layout(self, scalar_tags, metric_tags=()) -> None:
        """The CUSTOM SCALARS tab's layout for these tags (``custom_scalars.py``), at step 0."""
        from lstm_experiments.tensorboard.custom_scalars import layout, layout_summary

        self._add(0, layout_summary(layout(scalar_tags, metric_tags)))

    def flush(self) -> None:
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()
