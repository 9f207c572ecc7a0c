"""How a weight matrix becomes pixels: the image options, with their defaults.

A plain dataclass, so the drawing process and ``GateLogger`` use it without
Hydra; the config schema's ``viz.image`` is this same class, and its two
choices are the Enums of ``config.choices`` (which imports only ``enum``).
"""

from dataclasses import dataclass

from lstm_experiments.config.choices import Reduce, Scale


@dataclass
class ImageOptions:
    # fixed: one symmetric scale per matrix for the whole run (from the initial weights);
    # per_step: a symmetric scale per matrix and step;
    # minmax: the article's grey look, each image min-max normalised on its own.
    scale: Scale = Scale.fixed
    # Small matrices are upscaled (nearest neighbour) until their longest side reaches this.
    target_side_px: int = 256
    # And every side reaches at least this, so a one-row kernel stays visible.
    min_side_px: int = 16
    # Larger matrices are reduced block-wise until their longest side fits.
    max_side_px: int = 512
    # maxabs: each block shows its largest-magnitude weight; mean: the block mean.
    reduce: Reduce = Reduce.maxabs
    # The diverging colour map, by matplotlib's name (bwr, RdBu_r, coolwarm, PuOr, seismic, ...).
    cmap: str = "bwr"
