"""Where a pixel gets its colour: the diverging map and the grey min-max look.

Pure numpy, so it can be tested on known matrices and run off the training thread.

Colour: the default is matplotlib's ``bwr`` map, linear from blue (-scale) through
white (0) to red (+scale), so a pixel reads back as a value:
``value = scale * (R/255 - 1)`` where B is 255, ``scale * (1 - G/255)`` where R is 255.
NaN weights are drawn grey, and values beyond the scale saturate.

Any other diverging map matplotlib knows (``viz.image.cmap=RdBu_r``,
``coolwarm``, ``PuOr``, ``seismic``, ...) is sampled once into a lookup table of
``LUT_SIZE`` colours, from -scale to +scale in equal steps; a pixel then reads
back as ``value = scale * (2 k / (LUT_SIZE - 1) - 1)``, k the index of its colour
in ``lookup_table(name)`` (``value_of`` does it). Where neighbouring entries round to
the same colour it takes the middle one, so a value reads back to within the map's
resolution (measured: at most scale / 255 for RdBu_r, coolwarm, PuOr, seismic, RdGy).
"""

from functools import lru_cache

import numpy as np

from lstm_experiments.config.image_options import DEFAULT_CMAP, check_cmap

NAN_GREY = 128
# 255 steps on each side of zero, as the bwr formula has.
LUT_SIZE = 511


@lru_cache(maxsize=None)
def lookup_table(name: str) -> np.ndarray:
    """``LUT_SIZE`` RGB colours (uint8) of matplotlib's map ``name`` from -scale to +scale; ValueError if unknown."""
    import matplotlib

    check_cmap(name)
    cmap = matplotlib.colormaps[name]
    return np.rint(cmap(np.linspace(0.0, 1.0, LUT_SIZE))[:, :3] * 255).astype(np.uint8)


def value_of(rgb: np.ndarray, scale: float, cmap: str = DEFAULT_CMAP) -> np.ndarray:
    """The values pixels drawn on ``scale`` with ``cmap`` stand for (the nearest colour of the map)."""
    table = lookup_table(cmap).astype(np.int32)
    distances = ((np.asarray(rgb, dtype=np.int32)[..., None, :] - table) ** 2).sum(axis=-1)
    # Neighbouring entries of a slowly changing map can round to the same colour: take the middle of them.
    nearest = distances == distances.min(axis=-1, keepdims=True)
    index = (nearest * np.arange(LUT_SIZE)).sum(axis=-1) / nearest.sum(axis=-1)
    return scale * (2.0 * index / (LUT_SIZE - 1) - 1.0)


def diverging_rgb(values: np.ndarray, scale: float, cmap: str = DEFAULT_CMAP) -> np.ndarray:
    """RGB pixels (uint8, shape + (3,)) for values in [-scale, scale]: blue-white-red, or ``cmap``'s colours."""
    with np.errstate(invalid="ignore", over="ignore"):
        t = np.clip(np.asarray(values, dtype=np.float64) / scale, -1.0, 1.0)
    nan = np.isnan(t)
    t = np.where(nan, 0.0, t)
    if cmap != DEFAULT_CMAP:
        rgb = lookup_table(cmap)[np.rint((t + 1.0) / 2.0 * (LUT_SIZE - 1)).astype(np.intp)]
        rgb[nan] = NAN_GREY
        return rgb
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
