"""Visualizers, one module each; importing this package registers them all."""

from lstm_experiments.visualizers import bias, weight_images  # noqa: F401  (registers)
from lstm_experiments.visualizers.registry import VISUALIZERS, enabled_visualizers

__all__ = ["VISUALIZERS", "enabled_visualizers"]
