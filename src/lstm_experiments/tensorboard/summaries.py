"""What a visualizer hands to the writer: named images, histograms and scalars for one step."""

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Summaries:
    """Tags to values. Images are uint8 RGB (H, W, 3); histograms are raw values."""

    images: dict[str, np.ndarray] = field(default_factory=dict)
    histograms: dict[str, np.ndarray] = field(default_factory=dict)
    scalars: dict[str, float] = field(default_factory=dict)

    def update(self, other: "Summaries") -> None:
        self.images.update(other.images)
        self.histograms.update(other.histograms)
        self.scalars.update(other.scalars)
