"""How a weight matrix becomes pixels: the image options, their defaults and their one check.

A plain dataclass, so the drawing process and ``GateLogger`` use it without
Hydra; the config schema's ``viz.image`` is this same class (its two choices
are the Enums of ``config.choices``, which imports only ``enum``).
``image_options`` turns whatever gives the options (the config's ``viz.image``,
``GateLogger``'s ``image=`` dict, None for the defaults) into one checked
``ImageOptions``, once; the painter and the GATES data then read its fields.
"""

from dataclasses import dataclass, fields

from lstm_experiments.config.choices import Reduce, Scale, parse

DEFAULT_CMAP = "bwr"
# Shown when a name is not one of matplotlib's maps (any of its maps works; these diverge from white or grey).
SUGGESTED_CMAPS = ("bwr", "RdBu_r", "coolwarm", "PuOr", "seismic", "RdGy", "PiYG", "PRGn", "BrBG")
_SIZES = ("target_side_px", "min_side_px", "max_side_px")


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
    # Larger matrices are reduced block-wise until their longest side fits (the images and the
    # GATES tab's data alike).
    max_side_px: int = 512
    # maxabs: each block shows its largest-magnitude weight; mean: the block mean.
    reduce: Reduce = Reduce.maxabs
    # The diverging colour map, by matplotlib's name (bwr, RdBu_r, coolwarm, PuOr, seismic, ...).
    cmap: str = DEFAULT_CMAP


def check_cmap(name: str, key: str = "viz.image.cmap") -> None:
    """ValueError naming ``key`` unless matplotlib knows the map (matplotlib is imported only for
    a map other than the default)."""
    if name == DEFAULT_CMAP:
        return
    import matplotlib

    if name not in matplotlib.colormaps:
        raise ValueError(f"{key}={name} (not a matplotlib colour map; diverging ones: "
                         f"{', '.join(SUGGESTED_CMAPS)}, or any with _r)")


def image_options(given=None, key: str = "viz.image") -> ImageOptions:
    """One checked ``ImageOptions`` from a mapping of option names (a config node, a dict), an
    ``ImageOptions``, or None (the defaults). A ValueError names ``key`` and the bad value:
    ``viz.image.scale=grey (must be one of ...)``, or ``image['scale']=...`` for ``key="image"``."""
    if isinstance(given, ImageOptions):
        values = {f.name: getattr(given, f.name) for f in fields(ImageOptions)}
    else:
        values = dict(given or {})
    known = {f.name for f in fields(ImageOptions)}
    unknown = sorted(set(values) - known)

    def name(option: str) -> str:
        return f"{key}['{option}']" if key == "image" else f"{key}.{option}"

    if unknown:
        shown = f"image={{{unknown[0]!r}: ...}}" if key == "image" else name(unknown[0])
        raise ValueError(f"{shown} is not an image option; options: {', '.join(sorted(known))}")
    options = ImageOptions(**values)
    options.scale = parse(Scale, options.scale, name("scale"))
    options.reduce = parse(Reduce, options.reduce, name("reduce"))
    for size in _SIZES:
        value = getattr(options, size)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{name(size)}={value} (must be a number)")
        if value <= 0:
            raise ValueError(f"{name(size)}={value} (must be > 0)")
        if value != int(value):
            raise ValueError(f"{name(size)}={value} (must be a whole number of pixels)")
        setattr(options, size, int(value))
    options.cmap = str(options.cmap)
    check_cmap(options.cmap, name("cmap"))
    return options
