"""Where a pixel gets its colour: the diverging map, the grey min-max look, and a matrix's scale.

Pure numpy, so it can be tested on known matrices and run off the training thread.

Colour: the default is matplotlib's ``bwr`` map, linear from blue (-scale) through
white (0) to red (+scale), so a pixel reads back as a value:
``value = scale * (R/255 - 1)`` where B is 255, ``scale * (1 - G/255)`` where R is 255.
NaN weights are drawn grey, and values beyond the scale saturate.
"""

import numpy as np

NAN_GREY = 128
# The scale used for an all-zero (or all non-finite) matrix, so nothing divides by zero.
FALLBACK_SCALE = 1.0


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
