"""The one way the report makes a matplotlib figure.

Curves and strips share the DPI, so a strip's pixel sizes are exact. Matplotlib
is imported when the first figure is made, not with the package: reading a
sweep and writing its tables never needs it.
"""

from __future__ import annotations

DPI = 100


def figure(width_in: float, height_in: float, **kwargs):
    """A figure of that size in inches at ``DPI``, outside pyplot (no GUI, nothing global)."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width_in, height_in), dpi=DPI, **kwargs)
