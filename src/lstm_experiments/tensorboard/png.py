"""RGB pixels to PNG bytes (unfiltered scanlines, deflated at zlib level 1), and PNG files on disk.

Our images are nearest-neighbour upscaled weight maps: every pixel is repeated
across and every row is repeated down, and zlib finds those repeats directly in
the raw rows. Pillow's PNG writer filters each row adaptively first and has no
option to choose the filter; on these images that costs time and bytes
(docs/performance.md, "The drawing itself"). The file is a standard 8-bit RGB PNG (IHDR, one IDAT, IEND) that
Pillow, TensorFlow and browsers decode; tests check the pixels come back.
"""

import struct
import zlib
from pathlib import Path

import numpy as np

SIGNATURE = b"\x89PNG\r\n\x1a\n"
# zlib level 1: levels 3 and 6 took several times as long for a few % fewer bytes on gate images.
COMPRESS_LEVEL = 1
# IHDR: 8 bits per channel, colour type 2 (RGB), deflate, filter method 0, no interlace.
BIT_DEPTH, COLOUR_RGB = 8, 2
FILTER_NONE = 0


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(pixels: np.ndarray) -> bytes:
    """PNG bytes for RGB pixels (height, width, 3), uint8."""
    pixels = np.asarray(pixels)
    if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.dtype != np.uint8:
        raise ValueError(f"expected (height, width, 3) uint8 pixels, got {pixels.shape} {pixels.dtype}")
    height, width, _ = pixels.shape
    if height == 0 or width == 0:
        raise ValueError(f"cannot encode an empty {height} x {width} image")
    rows = np.empty((height, 1 + 3 * width), np.uint8)
    rows[:, 0] = FILTER_NONE
    rows[:, 1:] = pixels.reshape(height, 3 * width)
    header = struct.pack(">IIBBBBB", width, height, BIT_DEPTH, COLOUR_RGB, 0, 0, 0)
    return b"".join([
        SIGNATURE,
        _chunk(b"IHDR", header),
        _chunk(b"IDAT", zlib.compress(rows.tobytes(), COMPRESS_LEVEL)),
        _chunk(b"IEND", b""),
    ])


STEP_DIGITS = 6


class PngExporter:
    """Writes logged images as PNG files: ``<run dir>/images/<tag>/step_<n>.png``."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def path_for(self, tag: str, step: int) -> Path:
        return self.root.joinpath(*tag.split("/")) / f"step_{step:0{STEP_DIGITS}d}.png"

    def write(self, step: int, pngs: dict[str, bytes]) -> None:
        """PNG files from images already encoded (the ones the event file holds), by tag."""
        for tag, png in pngs.items():
            path = self.path_for(tag, step)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(png)
