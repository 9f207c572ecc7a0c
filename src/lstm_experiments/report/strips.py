"""The image strip: one gate's image of every run (columns) at the chosen steps (rows).

``strip_<layer>_<matrix>_<gate>.png`` shows ``gates/<layer>/<matrix>/<gate>``
with each tile at its logged pixels (only shrunk by a whole factor past
``max_tile_px``), each run labelled by the overrides that vary and by its
colour scale ``s`` (``scale/<layer>/<matrix>``). The strip is composed as one
pixel array, so no tile is resampled; matplotlib only adds the text.
"""

from __future__ import annotations

import io
import math
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lstm_experiments.report.figures import DPI, figure
from lstm_experiments.report.groups import display_label, varying_keys
from lstm_experiments.report.naming import parse_kind
from lstm_experiments.report.runs import Run
from lstm_experiments.tensorboard import tags

# Tiles keep their logged pixels on a background no gate pixel has (a diverging
# pixel has R or B at 255, a NaN one is 128 grey), labels drawn around them.
STRIP_BACKGROUND = 235
STRIP_GAP = 8
STRIP_LEFT = 104
STRIP_TITLE_H = 34
STRIP_LINE_H = 13
STRIP_CHAR_W = 7
STRIP_FONT_PT = 8
STRIP_MAX_LABEL_LINES = 6
STRIP_EMPTY_SIDE = 64
STRIP_MIN_WIDTH = 600  # room for the title lines
# The rows a step spec may name besides step numbers.
STEP_WORDS = ("first", "last")


def parse_steps(spec: str) -> list[int | str]:
    """``0,last`` -> [0, "last"]; also ``first``."""
    out: list[int | str] = []
    for part in (p.strip() for p in spec.split(",")):
        if part in STEP_WORDS:
            out.append(part)
        elif part.isdigit():
            out.append(int(part))
        else:
            raise ValueError(f"step {part!r} is neither a non-negative integer nor first/last")
    if not out:
        raise ValueError("no step given")
    return out


def decode_png(data: bytes) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


@dataclass
class StripLayout:
    """Where the tiles went, in pixels of the saved PNG: boxes[row][col] = (top, left, h, w) or None."""

    width: int
    height: int
    boxes: list[list[tuple[int, int, int, int] | None]]
    steps: list[list[int | None]]


def _wrap(text: str, width_px: int) -> list[str]:
    chars = max(4, (width_px - 2) // STRIP_CHAR_W)
    lines = textwrap.wrap(text, chars, break_on_hyphens=False) or [""]
    if len(lines) > STRIP_MAX_LABEL_LINES:
        lines = lines[: STRIP_MAX_LABEL_LINES - 1] + [lines[STRIP_MAX_LABEL_LINES - 1][: chars - 1] + "…"]
    return lines


def _scale_note(run: Run, tag: str, steps: list[int | None]) -> str:
    """The run's colour scale s for this tag's matrix (``scale/<layer>/<matrix>``)."""
    image = parse_kind(tag, tags.GATES)
    scale_tag = tags.scale(image.layer, image.matrix) if image else None
    if scale_tag not in run.scalars:
        return ""
    scale_steps, values = run.scalars[scale_tag]
    logged = set(scale_steps.tolist())
    shown = [values[np.searchsorted(scale_steps, s)] for s in steps if s in logged]
    if not shown:
        return ""
    if max(shown) - min(shown) <= 1e-6 * abs(max(shown)):
        return f"s={shown[0]:.3g}"
    return "s=" + "/".join(f"{v:.3g}" for v in shown)


def _position_lines(runs: list[Run], steps: list[int | None]) -> list[str]:
    """The row label's lines for where its tiles stand in training, when their runs agree and one of
    them logged by batch or failed ("epoch 3," "batch 150"); none for runs that log by epoch alone."""
    words = {run.position_text(step) for run, step in zip(runs, steps) if step is not None}
    if len(words) != 1 or None in words:
        return ["(positions vary)"] if len(words) > 1 and any(run.by_batch for run in runs) else []
    (said,) = words
    if not said.startswith("epoch "):  # "after epoch 3", "initial weights": the step says it already
        return []
    where, _, event = said.partition(" · ")
    epoch, batch = where.split(", ")
    return [f"{epoch},", batch, *([event] if event else [])]


def build_strip(
    runs: list[Run], tag: str, steps: list[int | str], path: Path, max_tile_px: int = 256
) -> StripLayout | None:
    """Runs in columns, steps in rows: the logged pixels of ``tag``, labelled."""
    have = [r for r in runs if r.images.get(tag)]
    if not have:
        return None
    keys = varying_keys(runs)
    tiles: list[list[np.ndarray | None]] = []
    tile_steps: list[list[int | None]] = []
    for want in steps:
        row, row_steps = [], []
        for run in have:
            by_step = run.images[tag]
            step = max(by_step) if want == "last" else min(by_step) if want == "first" else want
            if step in by_step:
                pixels = decode_png(by_step[step])
                factor = math.ceil(max(pixels.shape[:2]) / max_tile_px)
                row.append(pixels[::factor, ::factor] if factor > 1 else pixels)
                row_steps.append(step)
            else:
                row.append(None)
                row_steps.append(None)
        tiles.append(row)
        tile_steps.append(row_steps)

    n_rows, n_cols = len(tiles), len(have)
    col_w = [max((t.shape[1] for t in (tiles[r][c] for r in range(n_rows)) if t is not None),
                 default=STRIP_EMPTY_SIDE) for c in range(n_cols)]
    row_h = [max((t.shape[0] for t in tiles[r] if t is not None), default=STRIP_EMPTY_SIDE)
             for r in range(n_rows)]
    labels = []
    for c, run in enumerate(have):
        lines = _wrap(display_label(run, keys), col_w[c])
        if not run.completed:
            lines.append(f"({run.status})")
        note = _scale_note(run, tag, [tile_steps[r][c] for r in range(n_rows)])
        if note:
            lines.append(note)
        labels.append(lines)
    header_h = STRIP_TITLE_H + STRIP_LINE_H * max(len(lines) for lines in labels) + STRIP_GAP
    width = max(STRIP_MIN_WIDTH, STRIP_LEFT + sum(col_w) + STRIP_GAP * n_cols)
    height = header_h + sum(row_h) + STRIP_GAP * n_rows
    canvas = np.full((height, width, 3), STRIP_BACKGROUND, dtype=np.uint8)
    lefts = [STRIP_LEFT + sum(col_w[:c]) + STRIP_GAP * c for c in range(n_cols)]
    tops = [header_h + sum(row_h[:r]) + STRIP_GAP * r for r in range(n_rows)]
    boxes = []
    for r in range(n_rows):
        row_boxes = []
        for c in range(n_cols):
            tile = tiles[r][c]
            if tile is None:
                row_boxes.append(None)
                continue
            h, w = tile.shape[:2]
            canvas[tops[r]:tops[r] + h, lefts[c]:lefts[c] + w] = tile
            row_boxes.append((tops[r], lefts[c], h, w))
        boxes.append(row_boxes)

    fig = figure(width / DPI, height / DPI)
    fig.figimage(canvas, 0, 0, origin="upper", resample=False)

    def text(x_px, y_px, s, **kw):
        style = {"fontsize": STRIP_FONT_PT, "family": "monospace", "va": "top", **kw}
        fig.text(x_px / width, 1 - y_px / height, s, **style)

    missing = len(runs) - len(have)
    text(4, 4, tag + (f"   ({missing} run(s) without these images left out)" if missing else ""),
         fontsize=10, fontweight="bold", family="sans-serif")
    scale_tags = tags.scale("<layer>", "<matrix>")
    text(4, 20, f"colour: blue < 0 < red, each run on its own scale s ({scale_tags})",
         family="sans-serif", color="0.25")
    for c, lines in enumerate(labels):
        text(lefts[c], STRIP_TITLE_H, "\n".join(lines), linespacing=1.15)
    for r, want in enumerate(steps):
        logged = {s for s in tile_steps[r] if s is not None}
        if want in STEP_WORDS:
            label = f"{want}\n(step {logged.pop()})" if len(logged) == 1 else f"{want}\n(steps vary)"
        else:
            label = f"step {want}"
        label = "\n".join([label, *_position_lines(have, tile_steps[r])])
        text(4, tops[r], label)
        for c in range(n_cols):
            if tiles[r][c] is None:
                text(lefts[c] + 2, tops[r] + 2, "not\nlogged", color="0.4")
    fig.savefig(path, dpi=DPI)
    return StripLayout(width, height, boxes, tile_steps)
