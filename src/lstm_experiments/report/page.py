"""``index.html``: the whole report on one self-contained page.

Everything the page shows is inside the file: the figures as ``data:`` URIs,
the CSS in a ``<style>`` element, no script, and a Content-Security-Policy that
lets the page load nothing but its own ``data:`` images and inline style. It
reads the same from a file:// URL, a mail attachment or a CI artifact, offline
and without TensorBoard. Every text that comes from the sweep (run names,
overrides, notes, tags, warnings) is HTML-escaped, so a run named
``<img src=x onerror=alert(1)>`` is shown as those characters.

The tables are ``summary.csv`` and ``aggregated.csv`` cell for cell, in the same
columns and rows: a number is shown rounded to 4 significant digits (as in the
Markdown tables) with its exact CSV value as the cell's ``title`` (shown on
hover). Each figure comes once, under a heading that says what it shows, with
its file name.

(The module is ``page``, not ``html``, so that running a file of this folder,
which puts the folder on ``sys.path``, cannot shadow the standard library's
``html``.)
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lstm_experiments.report.tables import GATE_PLACEHOLDER, csv_cell, is_number, rounded
from lstm_experiments.tensorboard import tags

CURVE = "curve"
STRIP = "strip"

# Nothing but the page's own data: images and inline CSS; no script, no fetch, no frame.
CONTENT_SECURITY_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; form-action 'none'"

# What each of tags.STATISTICS measures, for the curves' descriptions.
STATISTIC_MEANINGS = {
    "mean": "the mean of the gate's block of the matrix",
    "std": "the standard deviation of the gate's block",
    "frobenius_norm": "the Frobenius norm ‖W‖ of the gate's block",
    "max_abs": "the largest absolute value in the gate's block",
    "change": "‖W_t − W_0‖ / ‖W_0‖, how far the gate's block has moved from its initial value",
    "spectral_norm": "the largest singular value of the gate's block",
}

STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem 2rem; color: #1b1b1b; line-height: 1.4; }
h1 { font-size: 1.5rem; margin-bottom: 0.3rem; }
h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #ccc; padding-bottom: 0.2rem; }
h3 { font-size: 1.05rem; margin: 1.5rem 0 0.3rem; }
p.what, figcaption, .meta { color: #444; font-size: 0.92rem; }
code, .mono { font-family: ui-monospace, monospace; font-size: 0.88em; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; font-size: 0.82rem; }
th, td { border: 1px solid #d4d4d4; padding: 0.15rem 0.4rem; vertical-align: top; }
th { background: #f1f1f1; position: sticky; top: 0; text-align: left; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.text { white-space: pre-wrap; }
tr.failed td { background: #fff1f0; }
tbody tr:nth-child(even):not(.failed) td { background: #fafafa; }
th:first-child, td:first-child { position: sticky; left: 0; background: #f7f7f7; }
figure { margin: 0.3rem 0 1rem; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid #e2e2e2; }
figure.strip img { max-width: none; image-rendering: pixelated; }
ul.warnings li { color: #8a4b00; }
nav a { margin-right: 1rem; }
"""


@dataclass
class Figure:
    """One figure of the report: its file, kind (``curve`` or ``strip``), heading and description."""

    path: Path
    kind: str
    title: str
    description: str


def curve_figure(path: Path, layer: str, matrix: str, statistic: str, gates: list[str]) -> Figure:
    meaning = STATISTIC_MEANINGS.get(statistic, f"the statistic {statistic}")
    tag = tags.statistic(layer, matrix, GATE_PLACEHOLDER, statistic)
    return Figure(
        Path(path), CURVE, f"{statistic} of {layer} / {matrix}, per gate over the steps",
        f"{tag}: {meaning}. One panel per gate ({', '.join(gates)}), one line per run over the logged"
        " steps (epochs, or optimizer iterations in a run logged by batch); a seed group with more than one"
        " completed run is drawn as its mean with a"
        " shaded ±std band, a run that did not complete as a dashed line.",
    )


def strip_figure(path: Path, layer: str, matrix: str, gate: str, steps: list) -> Figure:
    return Figure(
        Path(path), STRIP, f"{gate} gate of {layer} / {matrix}: its image across runs",
        f"{tags.gate_image(layer, matrix, gate)} of every run (columns, in the summary's order) at steps"
        f" {', '.join(map(str, steps))} (rows), each tile at its logged pixels; blue < 0 < red,"
        " each run on its own colour scale s, printed above its column.",
    )


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _cell(value) -> str:
    """A <td>: text as is; a number rounded, its exact CSV value in ``title``."""
    if value is None:
        return "<td></td>"
    if is_number(value):
        exact = csv_cell(value)
        shown = rounded(value) if isinstance(value, (float, np.floating)) else exact
        return f'<td class="num" title="{_e(exact)}">{_e(shown)}</td>'
    return f'<td class="text">{_e(value)}</td>'


def _header(column: str) -> str:
    # A break opportunity after each "/" so long tags wrap instead of widening the table.
    return "<th>" + "/<wbr>".join(_e(part) for part in str(column).split("/")) + "</th>"


def html_table(table_id: str, columns: list[str], rows: list[dict], failed: set[int] = frozenset()) -> str:
    head = "".join(_header(c) for c in columns)
    body = []
    for i, row in enumerate(rows):
        cls = ' class="failed"' if i in failed else ""
        body.append(f"<tr{cls}>" + "".join(_cell(row.get(c)) for c in columns) + "</tr>")
    return (f'<div class="scroll"><table id="{_e(table_id)}"><thead><tr>{head}</tr></thead>'
            f"<tbody>\n" + "\n".join(body) + "\n</tbody></table></div>")


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


def _figure(figure: Figure, index: int) -> str:
    name = Path(figure.path).name
    anchor = f"fig-{index}"
    return (
        f'<section class="figure" id="{anchor}">\n'
        f"<h3>{_e(figure.title)}</h3>\n"
        f'<p class="what">{_e(figure.description)}</p>\n'
        f'<figure class="{_e(figure.kind)}"><div class="scroll">'
        f'<img src="{_data_uri(figure.path)}" alt="{_e(figure.title)}" data-file="{_e(name)}">'
        f"</div><figcaption><code>{_e(name)}</code></figcaption></figure>\n</section>"
    )


def index_html(
    sweep_dir: Path,
    runs: list,
    summary: tuple[list[str], list[dict]],
    aggregated: tuple[list[str], list[dict]],
    figures: list[Figure],
    warnings: list[str],
    reader: str,
    common: list[str],
    table_files: list[str],
) -> str:
    """The page as a string (see the module docstring)."""
    columns, rows = summary
    agg_columns, agg_rows = aggregated
    failed = [f"{r.name} ({r.status})" for r in runs if not r.completed]
    failed_rows = {i for i, r in enumerate(runs) if not r.completed}
    curves = [f for f in figures if f.kind == CURVE]
    strips = [f for f in figures if f.kind == STRIP]
    title = f"Sweep report: {sweep_dir}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_e(CONTENT_SECURITY_POLICY)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title>",
        f"<style>{STYLE}</style>",
        "</head><body>",
        f"<h1>{_e(title)}</h1>",
        '<p class="meta">'
        + _e(f"{len(runs)} runs, {len(runs) - len(failed)} completed"
             + (f", not completed: {', '.join(failed)}" if failed else "") + ".")
        + (f" Overrides shared by every run: <code>{_e(' '.join(common))}</code>." if common
           else " No override is shared by every run.")
        + f" Event files read with the {_e(reader)} reader.</p>",
        '<p class="meta">The tables below hold what the CSV files beside this page hold, cell for'
        " cell; numbers are rounded, hover one for its exact value. Files: "
        + ", ".join(f'<a href="{_e(n)}"><code>{_e(n)}</code></a>' for n in table_files) + ".</p>",
        "<nav>" + "".join(
            f'<a href="#{a}">{_e(label)}</a>'
            for a, label, show in (("summary", "Summary", True), ("aggregated", "Aggregated over seeds", True),
                                   ("curves", "Statistic curves", bool(curves)),
                                   ("strips", "Gate image strips", bool(strips)))
            if show
        ) + "</nav>",
    ]
    if warnings:
        parts += ["<h2>Warnings</h2>", '<ul class="warnings">',
                  *(f"<li>{_e(w)}</li>" for w in warnings), "</ul>"]
    parts += [
        '<h2 id="summary">Summary: one row per run</h2>',
        '<p class="what">Each run\'s overrides, status, the metrics of its <code>metrics.json</code> and'
        " the value at its last logged step (<code>final_step</code>) of every <code>stats/...</code>"
        " tag; a run that did not complete is shaded.</p>",
        html_table("summary-table", columns, rows, failed_rows),
        '<h2 id="aggregated">Aggregated over seeds: one row per seed group</h2>',
        '<p class="what">Runs whose overrides differ only by <code>seed</code> form a group: the mean'
        " and sample standard deviation (ddof=1) of every numeric column over the group's completed"
        " runs (<code>n_seeds</code>); runs that did not complete are counted in <code>n_failed</code>.</p>",
        html_table("aggregated-table", agg_columns, agg_rows),
    ]
    index = 0
    for anchor, heading, kind_figures, none in (
        ("curves", "Statistic curves", curves, "No statistic curves: no run logged stats/... scalars"
         " for the chosen layers and matrices (log them with viz=stats)."),
        ("strips", "Gate image strips", strips, "No gate image strip: no run logged the chosen gates'"
         " images (log them with viz=gates)."),
    ):
        parts.append(f'<h2 id="{anchor}">{_e(heading)}</h2>')
        if not kind_figures:
            parts.append(f'<p class="what">{_e(none)}</p>')
        for figure in kind_figures:
            parts.append(_figure(figure, index))
            index += 1
    parts += ["</body></html>", ""]
    return "\n".join(parts)


def write_index(path: Path, **kwargs) -> Path:
    """Write the page (``index.html``) to ``path``; the path. Arguments: those of ``index_html``."""
    path = Path(path)
    path.write_text(index_html(**kwargs), encoding="utf-8")
    return path
