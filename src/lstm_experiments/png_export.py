"""Writes logged images as PNG files: ``<run dir>/images/<tag>/step_<n>.png``."""

from pathlib import Path

import numpy as np

from lstm_experiments.png_encoder import encode_png

STEP_DIGITS = 6


class PngExporter:
    def __init__(self, root: Path):
        self.root = Path(root)

    def path_for(self, tag: str, step: int) -> Path:
        return self.root.joinpath(*tag.split("/")) / f"step_{step:0{STEP_DIGITS}d}.png"

    def export(self, step: int, images: dict[str, np.ndarray]) -> None:
        self.write(step, {tag: encode_png(pixels) for tag, pixels in images.items()})

    def write(self, step: int, pngs: dict[str, bytes]) -> None:
        """PNG files from images already encoded (the ones the event file holds), by tag."""
        for tag, png in pngs.items():
            path = self.path_for(tag, step)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(png)
