"""The report's tables: one row per run, and one row per seed group, as CSV and Markdown.

The summary has a run's overrides, status, the metrics of its ``metrics.json``
and the last logged value of every ``stats/<layer>/<matrix>/<gate>/<statistic>``
tag (the tag is the column). The aggregated table has, for every seed group,
the mean and sample standard deviation (ddof=1) of every numeric column over
the group's completed runs, with ``n_seeds``. CSV cells round-trip exactly;
Markdown cells are rounded for reading.

The CSV files hold a row per run (or group) with every column, about 75 for a
sweep with ``viz=stats``; the Markdown files hold the same cells in tables of
at most ``MD_MAX_COLUMNS`` columns, each row led by its run (or group): the
status, the metrics, then one table per layer, matrix and statistic with a
gate per column, as the curves have a panel per gate.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from lstm_experiments.report.groups import Group, common_overrides, run_label, varying_keys
from lstm_experiments.report.naming import known_order, natural_key, parse_kind, stat_tag_key
from lstm_experiments.report.runs import Run
from lstm_experiments.tensorboard import tags


def is_number(value) -> bool:
    """An int or float of any width, not a bool."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def metric_columns(runs: list[Run]) -> list[str]:
    names = {k for r in runs for k in r.metrics}
    return sorted(names, key=lambda n: (known_order(n, tags.METRIC_NAMES), natural_key(n)))


def stat_columns(runs: list[Run]) -> list[str]:
    return sorted({t for r in runs for t in r.stat_tags()}, key=stat_tag_key)


FINDINGS_PREFIX = "findings:"


def finding_columns(runs: list[Run]) -> list[str]:
    """``findings:<kind>`` for every kind some run found, in the rules' order."""
    from lstm_experiments.findings.rules import KINDS

    found = {f["kind"] for r in runs for f in (r.findings or [])}
    return [f"{FINDINGS_PREFIX}{kind}" for kind in KINDS if kind in found]


def finding_cell(run: Run, kind: str) -> str | None:
    """Where and since when a run shows ``kind``: "lstm (warning, since step 3)"; None where it does not."""
    entries = [f for f in (run.findings or []) if f["kind"] == kind]
    return "; ".join(f"{f['layer'] or 'run'} ({f['severity']}, since step {f['first_step']})"
                     for f in entries) or None


def summary_table(runs: list[Run]) -> tuple[list[str], list[dict]]:
    metrics = metric_columns(runs)
    stats = stat_columns(runs)
    findings = finding_columns(runs)
    columns = ["run", "overrides", "status", "note", *metrics, *findings, "final_step", *stats]
    rows = []
    for run in runs:
        row = {
            "run": run.name,
            "overrides": " ".join(run.overrides),
            "status": run.status,
            "note": "; ".join(run.notes),
        }
        for m in metrics:
            row[m] = run.metrics.get(m)
        for column in findings:
            row[column] = finding_cell(run, column.removeprefix(FINDINGS_PREFIX))
        stat_tags = run.stat_tags()
        row["final_step"] = max((int(run.scalars[t][0][-1]) for t in stat_tags), default=None)
        for tag in stats:
            row[tag] = run.final(tag)
        rows.append(row)
    return columns, rows


def _mean_std(values: list[float]) -> tuple[float, float]:
    if not values:
        return math.nan, math.nan
    arr = np.asarray(values, dtype=np.float64)
    return float(arr.mean()), float(arr.std(ddof=1)) if len(arr) > 1 else math.nan


def aggregated_table(runs: list[Run], groups: list[Group]) -> tuple[list[str], list[dict], list[str]]:
    """One row per seed group: mean and std of every numeric column over its completed runs.

    A missing or NaN value in one run makes the group's value NaN (nothing is silently
    dropped). Returns the columns, the rows and the names of the aggregated columns.
    """
    columns, rows = summary_table(runs)
    by_name = {row["run"]: row for row in rows}
    numeric = [
        c for c in columns[4:]
        if c != "final_step" and any(is_number(row[c]) for row in rows)
    ]
    out_columns = ["group", "overrides", "n_seeds", "seeds", "n_failed", "runs"]
    for c in numeric:
        out_columns += [f"{c}_mean", f"{c}_std"]
    out_rows = []
    for group in groups:
        done = group.completed
        row = {
            "group": group.label,
            "overrides": " ".join(group.key),
            "n_seeds": len(done),
            "seeds": " ".join(str(r.seed) for r in done),
            "n_failed": len(group.runs) - len(done),
            "runs": " ".join(r.name for r in group.runs),
        }
        for c in numeric:
            values = [by_name[r.name][c] for r in done]
            values = [float(v) if is_number(v) else math.nan for v in values]
            row[f"{c}_mean"], row[f"{c}_std"] = _mean_std(values)
        out_rows.append(row)
    return out_columns, out_rows, numeric


def csv_cell(value) -> str:
    """A cell as summary.csv/aggregated.csv write it (index.html shows it as a cell's title)."""
    if value is None:
        return ""
    if isinstance(value, (float, np.floating)):
        return repr(float(value))  # round-trips exactly
    return str(value)


def write_csv(path: Path, columns: list[str], rows: list[dict]) -> None:
    import csv

    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([csv_cell(row.get(c)) for c in columns])


def rounded(value) -> str:
    """A float as summary.md, aggregated.md and index.html show it: 4 significant digits."""
    return f"{float(value):.4g}"


def _md_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (float, np.floating)):
        return rounded(value)
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(columns: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(_md_cell(c) for c in columns) + " |"]
    lines.append("|" + "|".join("---" for _ in columns) + "|")
    lines += ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


# The widest table summary.md and aggregated.md hold; the CSV files hold every column in one row.
MD_MAX_COLUMNS = 8
# In a statistic's table the gates are the columns; its heading is the tag with this in their place.
GATE_PLACEHOLDER = "<gate>"


def _chunks(items: list, size: int) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)] or [[]]


def column_sections(title: str, columns: list[str], width: int) -> list[tuple[str, list[tuple[str, str]]]]:
    """``columns`` as tables of at most ``width`` value columns: [(heading, [(header, column)])].

    ``stats/<layer>/<matrix>/<gate>/<statistic>`` columns get a table per layer, matrix and
    statistic, headed by the tag with ``<gate>`` in the gate's place, a gate per column (as the
    curves have a panel per gate); the other columns go under ``title``.
    """
    plain = [c for c in columns if parse_kind(c, tags.STATS) is None]
    sections = [(title, [(c, c) for c in part]) for part in _chunks(plain, width)] if plain else []
    by_statistic: dict[str, list[tuple[str, str]]] = {}
    for column in sorted((c for c in columns if c not in plain), key=stat_tag_key):
        p = parse_kind(column, tags.STATS)
        heading = tags.statistic(p.layer, p.matrix, GATE_PLACEHOLDER, p.statistic)
        by_statistic.setdefault(heading, []).append((p.gate, column))

    def layer_matrix_statistic(heading: str):
        _, layer, matrix, _, statistic = stat_tag_key(by_statistic[heading][0][1])
        return layer, matrix, statistic

    for heading in sorted(by_statistic, key=layer_matrix_statistic):
        sections += [(heading, part) for part in _chunks(by_statistic[heading], width)]
    return sections


def _sectioned_markdown(keys: list[str], key_cells: list[list], sections, cells) -> str:
    """One table per section: the ``keys`` columns first, then the section's columns;
    ``cells(i, column)`` is row i's value of a column."""
    out = []
    for heading, part in sections:
        headers = [header for header, _ in part]
        rows = [[*key_cells[i], *(cells(i, column) for _, column in part)] for i in range(len(key_cells))]
        title = f"`{heading}`" if parse_kind(heading, tags.STATS) else heading
        out += [f"## {title}", "", markdown_table([*keys, *headers], rows)]
    return "\n".join(out)


def summary_markdown(sweep_dir: Path, runs: list[Run], columns: list[str], rows: list[dict]) -> str:
    """summary.csv in tables of at most ``MD_MAX_COLUMNS`` columns, each row led by the run."""
    keys = varying_keys(runs)
    common = common_overrides(runs)
    failed = [r.name for r in runs if not r.completed]
    key_cells = [[run.name, run_label(run, keys) if keys else ""] for run in runs]
    sections = [("Runs", [(c, c) for c in ("status", "note", "final_step")])]
    sections += column_sections("Metrics", [c for c in columns[4:] if c != "final_step"], MD_MAX_COLUMNS - 2)
    head = [
        f"# Sweep summary: {sweep_dir}",
        "",
        f"{len(runs)} runs, {len(runs) - len(failed)} completed"
        + (f", failed: {', '.join(failed)}" if failed else "") + ".",
        f"Overrides shared by every run: `{' '.join(common)}`" if common else "No override is shared by every run.",
        "The overrides column shows the overrides that vary; `summary.csv` has them all, and every"
        " column of these tables in one row per run.",
        "Metrics come from each run's metrics.json; each `stats/...` table is one statistic of one"
        f" matrix, a gate per column (the tag with the gate in place of `{GATE_PLACEHOLDER}`), at the run's"
        " last logged step (`final_step`).",
        "",
    ]
    return "\n".join(head) + "\n" + _sectioned_markdown(
        ["run", "overrides"], key_cells, sections, lambda i, column: rows[i][column])


def _mean_std_cell(mean: float, std: float) -> str:
    return rounded(mean) + ("" if math.isnan(std) else f" ± {std:.3g}")


def aggregated_markdown(
    sweep_dir: Path, columns: list[str], rows: list[dict], numeric: list[str]
) -> str:
    """aggregated.csv in tables of at most ``MD_MAX_COLUMNS`` columns, each row led by the group."""
    multi = any(row["n_seeds"] > 1 for row in rows)
    key_cells = [[row["group"]] for row in rows]
    sections = [("Groups", [(c, c) for c in ("n_seeds", "seeds", "n_failed", "runs")])]
    sections += column_sections("Metrics", numeric, MD_MAX_COLUMNS - 1)

    def cells(i, column):
        row = rows[i]
        if column not in numeric:
            return row[column]
        return _mean_std_cell(row[f"{column}_mean"], row[f"{column}_std"])

    head = [
        f"# Sweep aggregated over seeds: {sweep_dir}",
        "",
        "Runs whose overrides differ only by `seed` form a group. Each cell is the mean"
        " ± the sample standard deviation (ddof=1) over the group's completed runs"
        " (`n_seeds`); failed runs are left out and counted in `n_failed`. `aggregated.csv` has"
        " every column of these tables in one row per group; each `stats/...` table is one"
        f" statistic of one matrix, a gate per column (the tag with the gate in place of `{GATE_PLACEHOLDER}`).",
    ]
    if not multi:
        head.append("No group has more than one completed seed, so there is no spread.")
    return "\n".join(head + [""]) + "\n" + _sectioned_markdown(["group"], key_cells, sections, cells)
