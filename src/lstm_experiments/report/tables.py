"""The report's tables: one row per run, and one row per seed group, as CSV and Markdown.

The summary has a run's overrides, status, the metrics of its ``metrics.json``
and the last logged value of every ``stats/<layer>/<matrix>/<gate>/<statistic>``
tag (the tag is the column). The aggregated table has, for every seed group,
the mean and sample standard deviation (ddof=1) of every numeric column over
the group's completed runs, with ``n_seeds``. CSV cells round-trip exactly;
Markdown cells are rounded for reading.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from lstm_experiments.report.groups import Group, common_overrides, run_label, varying_keys
from lstm_experiments.report.naming import known_order, natural_key, stat_tag_key
from lstm_experiments.report.runs import Run
from lstm_experiments.tensorboard import tags


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def metric_columns(runs: list[Run]) -> list[str]:
    names = {k for r in runs for k in r.metrics}
    return sorted(names, key=lambda n: (known_order(n, tags.METRIC_NAMES), natural_key(n)))


def stat_columns(runs: list[Run]) -> list[str]:
    return sorted({t for r in runs for t in r.stat_tags()}, key=stat_tag_key)


def summary_table(runs: list[Run]) -> tuple[list[str], list[dict]]:
    metrics = metric_columns(runs)
    stats = stat_columns(runs)
    columns = ["run", "overrides", "status", "note", *metrics, "final_step", *stats]
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
        if c != "final_step" and any(_is_number(row[c]) for row in rows)
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
            values = [float(v) if _is_number(v) else math.nan for v in values]
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


def _md_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.4g}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(columns: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(_md_cell(c) for c in columns) + " |"]
    lines.append("|" + "|".join("---" for _ in columns) + "|")
    lines += ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def summary_markdown(sweep_dir: Path, runs: list[Run], columns: list[str], rows: list[dict]) -> str:
    keys = varying_keys(runs)
    common = common_overrides(runs)
    failed = [r.name for r in runs if not r.completed]
    md_columns = ["run", "overrides", *columns[2:]]
    md_rows = []
    for run, row in zip(runs, rows):
        md_rows.append([run.name, run_label(run, keys) if keys else "", *(row[c] for c in columns[2:])])
    head = [
        f"# Sweep summary: {sweep_dir}",
        "",
        f"{len(runs)} runs, {len(runs) - len(failed)} completed"
        + (f", failed: {', '.join(failed)}" if failed else "") + ".",
        f"Overrides shared by every run: `{' '.join(common)}`" if common else "No override is shared by every run.",
        "The overrides column shows the overrides that vary; `summary.csv` has them all.",
        "Metrics come from each run's metrics.json; `stats/...` columns are the value at"
        " the run's last logged step (`final_step`).",
        "",
    ]
    return "\n".join(head) + "\n" + markdown_table(md_columns, md_rows)


def aggregated_markdown(
    sweep_dir: Path, columns: list[str], rows: list[dict], numeric: list[str]
) -> str:
    md_columns = ["group", "n_seeds", "seeds", "n_failed", *numeric]
    md_rows = []
    for row in rows:
        cells = [row["group"], row["n_seeds"], row["seeds"], row["n_failed"]]
        for c in numeric:
            mean, std = row[f"{c}_mean"], row[f"{c}_std"]
            cells.append(f"{mean:.4g}" + ("" if math.isnan(std) else f" ± {std:.3g}"))
        md_rows.append(cells)
    multi = any(row["n_seeds"] > 1 for row in rows)
    head = [
        f"# Sweep aggregated over seeds: {sweep_dir}",
        "",
        "Runs whose overrides differ only by `seed` form a group. Each cell is the mean"
        " ± the sample standard deviation (ddof=1) over the group's completed runs"
        " (`n_seeds`); failed runs are left out and counted in `n_failed`.",
    ]
    if not multi:
        head.append("No group has more than one completed seed, so there is no spread.")
    return "\n".join(head + [""]) + "\n" + markdown_table(md_columns, md_rows)
