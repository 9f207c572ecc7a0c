"""Large matrices made small, and a matrix's symmetric scale: shared by the images and the GATES data.

Pure numpy. A matrix whose longest side exceeds ``max_side_px`` is reduced
block-wise (``reduce``: ``maxabs`` keeps each block's value farthest from zero,
``mean`` averages it), for the images (``viz``) and the GATES tab's tensors
(``board``) alike, and its symmetric scale is its largest finite |value|.
"""

import functools
import math

import numpy as np


def block_size(shape: tuple[int, ...], max_side_px: int) -> int:
    """The side of the square blocks that bring ``shape``'s longest side to at most ``max_side_px`` (1: none)."""
    return max(1, math.ceil(max(shape) / max_side_px))


def reduce_last_axis(values: np.ndarray, block: int, how: str = "maxabs") -> np.ndarray:
    """``values`` with its last axis reduced by blocks of ``block`` (the last block may be partial).

    The same rule as ``reduce_blocks``, along one axis: ``maxabs`` keeps the block's value
    farthest from zero (with its sign), ``mean`` averages it; NaN is ignored (NaN only where
    the whole block is).
    """
    if block <= 1:
        return values
    width = values.shape[-1]
    if width % block:  # the last block is partial: pad with NaN, which is ignored
        padded = np.full((*values.shape[:-1], math.ceil(width / block) * block), np.nan,
                         np.result_type(values.dtype, np.float32))
        padded[..., :width] = values
        values = padded
    # Folded from strided slices, as reduce_blocks does: no reshape, so no copy of a transposed view.
    strided = [values[..., offset::block] for offset in range(block)]
    with np.errstate(invalid="ignore", divide="ignore"):
        if how == "mean":
            count = functools.reduce(np.add, (~np.isnan(part) for part in strided)).astype(np.float32)
            total = functools.reduce(np.add, (np.where(np.isnan(part), 0.0, part) for part in strided))
            return np.where(count > 0, total / np.maximum(count, 1), np.nan)
        high = functools.reduce(np.fmax, strided)
        low = functools.reduce(np.fmin, strided)
        return np.where(high >= -low, high, low)


def reduce_blocks(matrix: np.ndarray, max_side_px: int, how: str = "maxabs") -> np.ndarray:
    """Shrink a 2-D matrix by square blocks until its longest side is at most ``max_side_px``.

    ``maxabs`` keeps each block's largest-magnitude weight (with its sign), so an
    outlier stays visible; ``mean`` averages the block.
    """
    rows, cols = matrix.shape
    block = block_size(matrix.shape, max_side_px)
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


def as_matrix(values: np.ndarray) -> np.ndarray:
    """Weights as a 2-D matrix: a bias vector becomes one row. Floats keep their precision
    (a float32 matrix is reduced before any float64 copy is made); the rest become float64."""
    values = np.asarray(values)
    if values.dtype not in (np.float32, np.float64):
        values = values.astype(np.float64)
    return values.reshape(1, -1) if values.ndim == 1 else values


# The scale used for an all-zero (or all non-finite) matrix, so nothing divides by zero.
FALLBACK_SCALE = 1.0


def symmetric_scale(values: np.ndarray) -> float:
    """The largest finite |value|, or FALLBACK_SCALE when there is none or it is zero."""
    values = np.asarray(values)
    finite = np.abs(values[np.isfinite(values)])
    if finite.size == 0:
        return FALLBACK_SCALE
    largest = float(finite.max())
    return largest if largest > 0 else FALLBACK_SCALE
