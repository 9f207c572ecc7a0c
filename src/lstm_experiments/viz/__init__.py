"""Visualizers, one module each; importing this package registers them all (in this order)."""

from lstm_experiments.viz import (  # noqa: F401  (registers)
    weight_images,
    bias,
    histograms,
    stats,
    delta,
    activations,
    gradients,
)
from lstm_experiments.viz.registry import VISUALIZERS, enabled_visualizers

__all__ = ["VISUALIZERS", "enabled_visualizers"]
