"""The whole report of a sweep: read its runs, write the tables and figures.

``build_report`` writes into ``out_dir`` (default ``<sweep>/report``):

- ``summary.csv`` / ``summary.md``: one row per run with its overrides, status,
  the metrics of ``metrics.json`` and the last logged value of every
  ``stats/<layer>/<matrix>/<gate>/<statistic>`` tag (the tag is the column);
- ``aggregated.csv`` / ``aggregated.md``: runs whose overrides differ only by
  ``seed`` form a group; mean and sample standard deviation (ddof=1) across the
  group's completed runs of every numeric column, with ``n_seeds``; a run that
  did not complete is left out of the means. The CSV files have every column in
  one row; the Markdown files split them into narrow tables (``tables.py``);
- ``stats_<layer>_<matrix>_<statistic>.png``: one panel per gate, one line per
  run over the steps, a seed group drawn as its mean with a shaded ±std band;
- ``strip_<layer>_<matrix>_<gate>.png``: the gate's image
  (``gates/<layer>/<matrix>/<gate>``) of every run (columns) at the chosen
  steps (rows), tiles at their logged pixels;
- ``index.html``: all of the above on one self-contained page (``report/page.py``:
  figures as data: URIs, inline CSS, no script), written last.

The folder holds one report: the files a previous report wrote there and this
one does not are removed, and nothing else (``report/folder.py``).

What was asked for but is in no run becomes a warning, not an error.
"""

from __future__ import annotations

import glob
import time
from dataclasses import dataclass, field
from pathlib import Path

from lstm_experiments.report import folder
from lstm_experiments.report.curves import plot_statistic
from lstm_experiments.report.folder import DEFAULT_OUT, TABLE_FILES
from lstm_experiments.report.groups import Group, common_overrides, seed_groups
from lstm_experiments.report.page import Figure, curve_figure, strip_figure, write_index
from lstm_experiments.report.naming import GATE_ORDER, known_order, natural_key, parse_kind
from lstm_experiments.report.runs import Run, read_sweep
from lstm_experiments.report.strips import build_strip
from lstm_experiments.report.tables import (
    GATE_PLACEHOLDER,
    aggregated_markdown,
    aggregated_table,
    summary_markdown,
    summary_table,
    write_csv,
)
from lstm_experiments.tensorboard import tags


@dataclass
class Report:
    runs: list[Run]
    out_dir: Path
    files: list[Path]
    warnings: list[str]
    reader: str
    read_seconds: float
    # The figures among ``files``, with the headings index.html gives them.
    figures: list[Figure] = field(default_factory=list)
    # The files of the previous report in ``out_dir`` that this one did not write, removed.
    removed: list[str] = field(default_factory=list)


def _select(requested: list[str], available: set[str], known: tuple[str, ...]) -> list[str]:
    if requested == ["all"]:
        return sorted(available, key=lambda v: (known_order(v, known), natural_key(v)))
    return requested


def _prefix(kind: str, layer: str, matrix: str) -> str:
    """``stats/<layer>/<matrix>/``: the start of every tag of one matrix, for messages."""
    return tags.SEPARATOR.join((kind, layer, matrix, ""))


def _available(stats: list[tags.Tag]) -> str:
    pairs = sorted({tags.SEPARATOR.join((p.layer, p.matrix)) for p in stats})
    return ", ".join(pairs) or "none"


def _write_tables(sweep_dir: Path, out: folder.ReportFolder, runs: list[Run], groups: list[Group]):
    """summary.csv/.md and aggregated.csv/.md, in that order: the (columns, rows) of the summary
    and of the aggregated table."""
    columns, rows = summary_table(runs)
    write_csv(out.path(folder.SUMMARY_CSV), columns, rows)
    out.path(folder.SUMMARY_MD).write_text(summary_markdown(sweep_dir, runs, columns, rows))
    agg_columns, agg_rows, numeric = aggregated_table(runs, groups)
    write_csv(out.path(folder.AGGREGATED_CSV), agg_columns, agg_rows)
    out.path(folder.AGGREGATED_MD).write_text(aggregated_markdown(sweep_dir, agg_columns, agg_rows, numeric))
    for name in TABLE_FILES:
        out.wrote(out.path(name))
    return (columns, rows), (agg_columns, agg_rows)


def build_report(
    sweep_dir: Path,
    out_dir: Path | None = None,
    layers: list[str] = ("lstm",),
    matrices: list[str] = ("recurrent_kernel",),
    gates: list[str] = ("forget",),
    steps: list[int | str] = (0, "last"),
    reader: str = "auto",
    jobs: int = 1,
) -> Report:
    """Read the sweep and write the tables and figures into ``out_dir``.

    ``layers``/``matrices`` choose the statistic figures and strips, ``gates`` the strips;
    ``["all"]`` takes every one found. The tables always hold every tag.
    """
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise FileNotFoundError(f"no sweep directory {sweep_dir}")
    out_dir = Path(out_dir) if out_dir is not None else sweep_dir / DEFAULT_OUT
    warnings: list[str] = []

    # The strips' images are kept as PNG bytes and decoded only for the chosen steps.
    def pattern(values):
        return ["*"] if list(values) == ["all"] else [glob.escape(v) for v in values]

    image_tags = tuple(
        tags.gate_image(l, m, g) for l in pattern(layers) for m in pattern(matrices) for g in pattern(gates)
    )
    start = time.perf_counter()
    runs, used_reader = read_sweep(sweep_dir, image_tags, reader, jobs, exclude=(out_dir,))
    read_seconds = time.perf_counter() - start
    if not runs:
        raise FileNotFoundError(f"no run directories under {sweep_dir}")

    groups = seed_groups(runs)
    with folder.ReportFolder(out_dir) as out:
        summary, aggregated = _write_tables(sweep_dir, out, runs, groups)
        figures = _write_figures(runs, groups, out, layers, matrices, gates, steps, warnings)
        out.wrote(write_index(
            out.path(folder.INDEX), sweep_dir=sweep_dir, runs=runs, summary=summary, aggregated=aggregated,
            figures=figures, warnings=warnings, reader=used_reader, common=common_overrides(runs),
            table_files=list(TABLE_FILES),
        ))
    return Report(runs, out_dir, out.written, warnings, used_reader, read_seconds, figures, out.removed)


def _write_figures(runs: list[Run], groups: list[Group], out: folder.ReportFolder, layers, matrices, gates,
                   steps, warnings: list[str]) -> list[Figure]:
    """The curves and strips of the chosen layers, matrices and gates, written into ``out``;
    each thing asked for but logged by no run is added to ``warnings``."""
    figures: list[Figure] = []
    stats = [p for r in runs for t in r.scalars if (p := parse_kind(t, tags.STATS))]
    logged = sorted({t for r in runs for t, plugin in r.plugins.items()
                     if plugin == "images" and parse_kind(t, tags.GATES)})
    gate_images = [tags.parse(t) for t in logged]
    found_layers = {p.layer for p in stats} | {p.layer for p in gate_images}
    for layer in _select(list(layers), found_layers, ()):
        found_matrices = {p.matrix for p in stats + gate_images if p.layer == layer}
        for matrix in _select(list(matrices), found_matrices, tags.MATRICES):
            names = sorted({p.statistic for p in stats if (p.layer, p.matrix) == (layer, matrix)},
                           key=lambda s: known_order(s, tags.STATISTICS))
            if not names:
                warnings.append(
                    f"no {_prefix(tags.STATS, layer, matrix)}... scalars in any run (log them with viz=stats); "
                    f"layers/matrices with stats: {_available(stats)}"
                )
            for name in names:
                path = out.path(folder.stats_file(layer, matrix, name))
                if plot_statistic(runs, groups, layer, matrix, name, path):
                    out.wrote(path)
                    gates_drawn = sorted({p.gate for p in stats if (p.layer, p.matrix, p.statistic)
                                          == (layer, matrix, name)}, key=lambda g: known_order(g, GATE_ORDER))
                    figures.append(curve_figure(path, layer, matrix, name, gates_drawn))
            image_gates = {p.gate for r in runs for t in r.images
                           if (p := parse_kind(t, tags.GATES)) and (p.layer, p.matrix) == (layer, matrix)}
            chosen = _select(list(gates), image_gates, GATE_ORDER)
            if not chosen:
                warnings.append(f"no {tags.gate_image(layer, matrix, GATE_PLACEHOLDER)} images in any run")
            for gate in chosen:
                tag = tags.gate_image(layer, matrix, gate)
                path = out.path(folder.strip_file(layer, matrix, gate))
                if build_strip(runs, tag, list(steps), path) is not None:
                    out.wrote(path)
                    figures.append(strip_figure(path, layer, matrix, gate, list(steps)))
                else:
                    warnings.append(
                        f"no {tag} images in any run (log them with viz=gates); "
                        f"gate images logged: {', '.join(logged) or 'none'}"
                    )
    return figures
