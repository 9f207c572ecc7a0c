"""Where a weight gets its pixel: colour, scale, upscaling and block reduction.

Pure numpy, so it can be tested on known matrices and run off the training thread.

Colour: the default is matplotlib's ``bwr`` map, linear from blue (-scale) through
white (0) to red (+scale), so a pixel reads back as a value:
``value = scale * (R/255 - 1)`` where B is 255, ``scale * (1 - G/255)`` where R is 255.
NaN weights are drawn grey, and values beyond the scale saturate.
"""

import functools
import math

import numpy as np

from lstm_experiments.config.choices import Reduce, Scale

NAN_GREY = 128
# The scale used for an all-zero (or all non-finite) matrix, so nothing divides by zero.
FALLBACK_SCALE = 1.0
# The choices' spellings, from their Enums (config/choices.py), for callers that enumerate them.
SCALES = tuple(member.value for member in Scale)
REDUCTIONS = tuple(member.value for member in Reduce)


def symmetric_scale(values: np.ndarray) -> float:
    """The largest finite |value|, or FALLBACK_SCALE when there is none or it is zero."""
    finite = np.abs(values[np.isfinite(values)])
    if finite.size == 0:
        return FALLBACK_SCALE
    largest = float(finite.max())
    return largest if largest > 0 else FALLBACK_SCALE


def diverging_rgb(values: np.ndarray, scale: float) -> np.ndarray:
    """Blue-white-red RGB pixels (uint8, shape + (3,)) for values in [-scale, scale]."""
    with np.errstate(invalid="ignore", over="ignore"):
        t = np.clip(np.asarray(values, dtype=np.float64) / scale, -1.0, 1.0)
    nan = np.isnan(t)
    t = np.where(nan, 0.0, t)
    red = np.where(t > 0, 1.0, 1.0 + t)
    green = 1.0 - np.abs(t)
    blue = np.where(t < 0, 1.0, 1.0 - t)
    rgb = np.rint(np.stack([red, green, blue], axis=-1) * 255).astype(np.uint8)
    rgb[nan] = NAN_GREY
    return rgb


def grey_minmax_rgb(values: np.ndarray) -> np.ndarray:
    """The article's look: each image min-max normalised to grey on its own (not comparable)."""
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values)
    grey = np.full(values.shape, NAN_GREY / 255)
    if finite.any():
        # Scaled by a power of two (exact) so that high - low cannot overflow (-1e308 to 1e308).
        shift = np.frexp(np.abs(values[finite]).max())[1]
        scaled = np.ldexp(values[finite], -shift)
        low, high = scaled.min(), scaled.max()
        span = high - low
        grey[finite] = (scaled - low) / span if span > 0 else 0.5
    return np.repeat(np.rint(grey * 255).astype(np.uint8)[..., None], 3, axis=-1)


def reduce_blocks(matrix: np.ndarray, max_side_px: int, how: str = "maxabs") -> np.ndarray:
    """Shrink a 2-D matrix by square blocks until its longest side is at most ``max_side_px``.

    ``maxabs`` keeps each block's largest-magnitude weight (with its sign), so an
    outlier stays visible; ``mean`` averages the block.
    """
    rows, cols = matrix.shape
    block = math.ceil(max(rows, cols) / max_side_px)
    if block <= 1:
        return matrix
    out_rows, out_cols = math.ceil(rows / block), math.ceil(cols / block)
    if how == "mean":
        padded = np.full((out_rows * block, out_cols * block), np.nan)
        padded[:rows, :cols] = matrix
        blocks = padded.reshape(out_rows, block, out_cols, block).transpose(0, 2, 1, 3)
        blocks = blocks.reshape(out_rows, out_cols, block * block)
        present = ~np.isnan(blocks)
        count = present.sum(axis=-1)
        # Each block is summed scaled by a power of two (exact) near its largest finite
        # |weight|, so that a sum of huge weights cannot overflow to inf.
        largest = np.where(np.isfinite(blocks), np.abs(blocks), 0.0).max(axis=-1)
        shift = np.frexp(largest)[1]
        with np.errstate(invalid="ignore", divide="ignore"):
            total = np.where(present, np.ldexp(blocks, -shift[..., None]), 0.0).sum(axis=-1)
            return np.where(count > 0, np.ldexp(total / np.maximum(count, 1), shift), np.nan)
    # Whichever of the block's largest and smallest weights is farther from zero (NaN ignored;
    # NaN only where the whole block is NaN), folded from strided slices: no copy of the
    # matrix, which may stay float32 (a reduction over the blocks' axes was much slower).
    if rows % block or cols % block:  # the last blocks are partial: pad with NaN, which is ignored
        padded = np.full((out_rows * block, out_cols * block), np.nan, np.result_type(matrix.dtype, np.float32))
        padded[:rows, :cols] = matrix
        matrix = padded
    high = _fold_blocks(matrix, block, np.fmax)
    low = _fold_blocks(matrix, block, np.fmin)
    with np.errstate(invalid="ignore"):
        return np.where(high >= -low, high, low)


def _fold_blocks(matrix: np.ndarray, block: int, combine) -> np.ndarray:
    """``combine`` over each block x block square of a matrix whose sides are multiples of block."""
    rows = functools.reduce(combine, (matrix[i::block] for i in range(block)))
    return functools.reduce(combine, (rows[:, j::block] for j in range(block)))


def upscale_factors(shape: tuple[int, int], target_side_px: int, min_side_px: int) -> tuple[int, int]:
    """Integer pixels per weight along (rows, cols).

    Both axes share one factor that brings the longest side near ``target_side_px``;
    an axis shorter than ``min_side_px`` gets more (a one-row kernel becomes a band).
    """
    rows, cols = shape
    common = max(1, target_side_px // max(rows, cols))
    return max(common, math.ceil(min_side_px / rows)), max(common, math.ceil(min_side_px / cols))


def as_matrix(values: np.ndarray) -> np.ndarray:
    """Weights as a 2-D matrix: a bias vector becomes one row. Floats keep their precision
    (a float32 matrix is reduced before any float64 copy is made); the rest become float64."""
    values = np.asarray(values)
    if values.dtype not in (np.float32, np.float64):
        values = values.astype(np.float64)
    return values.reshape(1, -1) if values.ndim == 1 else values


def render(values: np.ndarray, scale: float | None, image_cfg) -> np.ndarray:
    """RGB pixels (H, W, 3) for a weight matrix or vector.

    ``scale`` is the symmetric range of the diverging map; None selects the
    grey min-max look.
    """
    matrix = reduce_blocks(as_matrix(values), image_cfg.max_side_px, image_cfg.reduce)
    rgb = grey_minmax_rgb(matrix) if scale is None else diverging_rgb(matrix, scale)
    factor_rows, factor_cols = upscale_factors(
        matrix.shape, image_cfg.target_side_px, image_cfg.min_side_px
    )
    return np.repeat(np.repeat(rgb, factor_rows, axis=0), factor_cols, axis=1)
