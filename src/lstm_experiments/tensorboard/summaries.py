"""What a visualizer hands to the writer: named images, histograms, scalars and raw tensors for one step."""

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Tensor:
    """A raw tensor summary: its values and the ``SummaryMetadata`` proto that names its plugin.

    The writer stores ``values`` as they are (dtype and shape kept) and attaches
    ``metadata`` to the first value of the tag in each event file only, as ``tf.summary`` does.
    """

    values: np.ndarray
    metadata: object  # tensorboard.compat.proto.summary_pb2.SummaryMetadata


@dataclass
class Summaries:
    """Tags to values. Images are uint8 RGB (H, W, 3); histograms are raw values; tensors are ``Tensor``s."""

    images: dict[str, np.ndarray] = field(default_factory=dict)
    histograms: dict[str, np.ndarray] = field(default_factory=dict)
    scalars: dict[str, float] = field(default_factory=dict)
    tensors: dict[str, Tensor] = field(default_factory=dict)

    def update(self, other: "Summaries") -> None:
        self.images.update(other.images)
        self.histograms.update(other.histograms)
        self.scalars.update(other.scalars)
        self.tensors.update(other.tensors)
