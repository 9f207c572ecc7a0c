"""Turns weights into images with a scale that holds across steps.

The painter remembers one symmetric scale per (layer, matrix): with the default
``fixed`` policy it is taken from the first weights it sees (the initial ones)
and kept for the whole run, so frames can be compared and a pixel reads back as
a value. Every scale used is reported as a scalar (``tags.scale``: ``scale/<layer>/<matrix>``).
"""

import numpy as np

from lstm_experiments.config.choices import Scale
from lstm_experiments.config.image_options import ImageOptions
from lstm_experiments.matrices import as_matrix, reduce_blocks, symmetric_scale
from lstm_experiments.tensorboard import tags
from lstm_experiments.viz import colour, resize


class Painter:
    """Renders weight matrices for one run with its ``ImageOptions`` (checked once, by
    ``config.image_options.image_options``); ``render`` makes the pixels."""

    def __init__(self, options: ImageOptions):
        self.options = options
        self._fixed: dict[tuple[str, str], float] = {}
        self._used: dict[tuple[str, str], float] = {}

    def scale(
        self, layer: str, matrix_name: str, matrix: np.ndarray, per_step: bool = False
    ) -> float | None:
        """The scale for a whole matrix (gate slices share their matrix's scale); None for minmax.

        ``per_step`` forces a fresh scale even under the fixed policy, for values
        that start at zero (the change from the initial weights).
        """
        if self.options.scale is Scale.minmax:
            return None
        key = (layer, matrix_name)
        if self.options.scale is Scale.fixed and not per_step:
            value = self._fixed.setdefault(key, symmetric_scale(matrix))
        else:
            value = symmetric_scale(matrix)
        self._used[key] = value
        return value

    def fix_scales(self, initial: dict) -> None:
        """Take the fixed scales from the initial weights ({layer: {matrix: array}}), as the first step would have."""
        for layer, matrices in initial.items():
            for name, matrix in matrices.items():
                self._fixed[(layer, name)] = symmetric_scale(matrix)

    def range_scale(self, largest: float) -> float | None:
        """The scale of values whose range is known in advance (gate values: |v| <= 1), or None
        under ``minmax``, which normalises every image on its own."""
        return None if self.options.scale is Scale.minmax else largest

    def paint(self, values: np.ndarray, scale: float | None) -> np.ndarray:
        return render(values, scale, self.options)

    def take_scale_scalars(self) -> dict[str, float]:
        """The scales used since the last call, as ``scale/<layer>/<matrix>`` scalars."""
        used, self._used = self._used, {}
        return {tags.scale(layer, matrix): value for (layer, matrix), value in used.items()}


def render(values: np.ndarray, scale: float | None, options: ImageOptions) -> np.ndarray:
    """RGB pixels (H, W, 3) for a weight matrix or vector.

    ``scale`` is the symmetric range of the diverging map; None selects the
    grey min-max look.
    """
    matrix = reduce_blocks(as_matrix(values), options.max_side_px, options.reduce)
    rgb = colour.grey_minmax_rgb(matrix) if scale is None else colour.diverging_rgb(matrix, scale, options.cmap)
    factor_rows, factor_cols = resize.upscale_factors(matrix.shape, options.target_side_px, options.min_side_px)
    return np.repeat(np.repeat(rgb, factor_rows, axis=0), factor_cols, axis=1)
