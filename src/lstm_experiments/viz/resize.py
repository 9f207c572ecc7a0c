"""Where a matrix gets its size in pixels: a small one is repeated, nearest neighbour, so each
weight is a visible block (``target_side_px``, ``min_side_px``). A large one is first reduced
block-wise by ``matrices.reduce_blocks`` (``max_side_px``).
"""

import math


def upscale_factors(shape: tuple[int, int], target_side_px: int, min_side_px: int) -> tuple[int, int]:
    """Integer pixels per weight along (rows, cols).

    Both axes share one factor that brings the longest side near ``target_side_px``;
    an axis shorter than ``min_side_px`` gets more (a one-row kernel becomes a band).
    """
    rows, cols = shape
    common = max(1, target_side_px // max(rows, cols))
    return max(common, math.ceil(min_side_px / rows)), max(common, math.ceil(min_side_px / cols))
