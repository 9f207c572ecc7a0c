"""The CUSTOM SCALARS tab's layout, written once per event file: no set-up in TensorBoard.

    Training           loss and val_loss in one chart (accuracy and val_accuracy in another,
                       for classification), the learning rate
    <layer>/<matrix>   one chart per statistic with the curves of every gate
                       (stats/<layer>/<matrix>/<gate>/<statistic>)

TensorBoard's ``custom_scalar.summary.pb`` builds the same record but imports
TensorFlow, which the drawing process never does; this builds the tensor
proto itself from TensorBoard's own protos and metadata.
"""

import re
from collections import defaultdict

from tensorboard.compat.proto import summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2
from tensorboard.plugins.custom_scalar import layout_pb2, metadata

from lstm_experiments.metrics import ACCURACIES, LEARNING_RATE, LOSSES
from lstm_experiments.tensorboard import tags

TRAINING = "Training"


def _exact(tag_names) -> str:
    return "^(" + "|".join(re.escape(t) for t in sorted(tag_names)) + ")$"


def layout(scalar_tags, metric_tags=()) -> layout_pb2.Layout:
    """The layout for a run whose first step wrote ``scalar_tags`` and whose metrics are ``metric_tags``."""
    training = layout_pb2.Category(title=TRAINING)
    names = {tags.metric_name(t) for t in metric_tags} if metric_tags else set(LOSSES)
    for pair in (LOSSES, ACCURACIES):
        if set(pair) <= names:
            chart = training.chart.add(title=" and ".join(pair))
            chart.multiline.tag.append(_exact(tags.metric(n) for n in pair))
    training.chart.add(title="learning rate").multiline.tag.append(_exact([tags.metric(LEARNING_RATE)]))
    result = layout_pb2.Layout(category=[training])
    charts = defaultdict(lambda: defaultdict(set))  # (layer, matrix) -> statistic -> tags
    for tag in scalar_tags:
        parsed = tags.parse(tag)
        if parsed is not None and parsed.kind == tags.STATS:
            charts[(parsed.layer, parsed.matrix)][parsed.statistic].add(tag)
    for (layer, matrix), statistics in sorted(charts.items()):
        category = result.category.add(title=f"{layer}/{matrix}: every gate")
        for statistic, gate_tags in sorted(statistics.items()):
            category.chart.add(title=statistic).multiline.tag.append(_exact(gate_tags))
    return result


def layout_summary(scalars_layout: layout_pb2.Layout) -> summary_pb2.Summary:
    """The record the custom_scalars plugin reads its layout from (``custom_scalars__config__``)."""
    tensor = tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING, tensor_shape=tensor_shape_pb2.TensorShapeProto(),
                                    string_val=[scalars_layout.SerializeToString()])
    assert tags.CUSTOM_SCALARS_LAYOUT == metadata.CONFIG_SUMMARY_TAG
    value = summary_pb2.Summary.Value(tag=tags.CUSTOM_SCALARS_LAYOUT, tensor=tensor,
                                      metadata=metadata.create_summary_metadata())
    return summary_pb2.Summary(value=[value])
