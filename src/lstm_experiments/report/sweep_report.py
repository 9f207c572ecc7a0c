"""Compare the runs of a sweep: tables, statistic curves and gate image strips.

    python scripts/compare_gates.py multirun/<date>/<time> [--out DIR] [--layer lstm]
        [--matrix recurrent_kernel] [--gate forget] [--steps 0,last]

A sweep directory holds one directory per job, whatever their names: a job is
any directory with ``.hydra/overrides.yaml``, ``metrics.json`` or
``tensorboard/``. For every job the report reads its overrides, its
``metrics.json`` and its event files; a job whose ``metrics.json`` is missing,
unreadable or without ``status`` is reported as ``failed``, one with another
status than ``completed`` (``failed``, ``interrupted``) keeps it; either way it
is left out of the seed means. It writes into ``--out`` (default
``<sweep>/report``):

- ``summary.csv`` / ``summary.md``: one row per run with its overrides, status,
  the metrics of ``metrics.json`` and the last logged value of every
  ``stats/<layer>/<matrix>/<gate>/<statistic>`` tag (the tag is the column);
- ``aggregated.csv`` / ``aggregated.md``: runs whose overrides differ only by
  ``seed`` form a group; mean and sample standard deviation (ddof=1) across the
  group's completed runs of every numeric column, with ``n_seeds``;
- ``stats_<layer>_<matrix>_<statistic>.png``: one panel per gate, one line per
  run over the steps, a seed group drawn as its mean with a shaded ±std band;
- ``strip_<layer>_<matrix>_<gate>.png``: the gate's image
  (``gates/<layer>/<matrix>/<gate>``) of every run (columns) at the chosen
  steps (rows), tiles at their logged pixels.

Event files are read with TensorBoard's own reading code, without importing
TensorFlow at import time. Two readers, same events:

- ``python``: the project's record reader (``event_records``, the TFRecord
  framing with a C CRC-32C) and the same read-time compat layers as
  ``EventFileLoader``; never imports TensorFlow (``--jobs`` spreads the runs
  over processes). TensorBoard's own TensorFlow-free reader checks each CRC in
  a Python loop, about 0.6 s of CPU per MiB.
- ``tensorflow``: ``EventFileLoader`` itself, which uses TensorFlow's C++
  record reader whenever TensorFlow is installed, so it imports TensorFlow
  (seconds, once) but then reads image-heavy files far faster.

``auto`` takes ``python`` for small sweeps and ``tensorflow`` for large ones or
when TensorFlow is already imported.
"""

from __future__ import annotations

import argparse
import fnmatch
import glob
import io
import json
import logging
import math
import os
import re
import sys
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from lstm_experiments.gates.layout import GATE_NAMES

TENSORBOARD_DIR = "tensorboard"
METRICS_FILE = "metrics.json"
OVERRIDES_FILE = Path(".hydra") / "overrides.yaml"
CONFIG_FILE = Path(".hydra") / "config.yaml"
EVENT_GLOB = "events.out.tfevents.*"
DEFAULT_OUT = "report"

COMPLETED = "completed"
FAILED = "failed"
SEED_KEY = "seed"

STAT_PREFIX = "stats/"
STATISTICS = ("mean", "std", "frobenius_norm", "max_abs", "change", "spectral_norm")
MATRICES = ("kernel", "recurrent_kernel", "bias", "recurrent_bias")
GATES = tuple(gate for names in GATE_NAMES.values() for gate in names)
METRIC_ORDER = ("loss", "val_loss", "accuracy", "val_accuracy")

READERS = ("auto", "python", "tensorflow")
# Below this many bytes of event files the python reader beats importing TensorFlow for its
# C++ reader (about 4 s, then fast). Set when that reader summed CRCs in Python (0.5 s/MB);
# with the C CRC the python reader is cheaper per MB, so this is conservative.
PYTHON_READER_MAX_BYTES = 8 * 2**20

# The strip: tiles keep their logged pixels on a background no gate pixel has (a
# diverging pixel has R or B at 255, a NaN one is 128 grey), labels drawn around them.
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
DPI = 100
# A run named after its overrides is labelled by the ones that vary when its name is longer.
DISPLAY_NAME_MAX = 24


# --------------------------------------------------------------------------- data


@dataclass
class Run:
    """One job of the sweep as read from its directory."""

    name: str
    path: Path
    overrides: list[str]
    status: str
    metrics: dict
    seed: object = None
    notes: list[str] = field(default_factory=list)
    # tag -> (steps, values), sorted by step; every scalar-plugin tag
    scalars: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    # tag -> {step: PNG bytes}, only for the image tags asked for
    images: dict[str, dict[int, bytes]] = field(default_factory=dict)
    # tag -> plugin name, every tag of the event files
    plugins: dict[str, str] = field(default_factory=dict)
    event_bytes: int = 0

    @property
    def completed(self) -> bool:
        return self.status == COMPLETED

    @property
    def group_key(self) -> tuple[str, ...]:
        """The overrides without the seed: runs that share it differ only by seed."""
        return tuple(sorted(o for o in self.overrides if override_key(o) != SEED_KEY))

    def final(self, tag: str) -> float | None:
        """The value at the last logged step of a scalar tag, or None."""
        if tag not in self.scalars:
            return None
        steps, values = self.scalars[tag]
        return float(values[-1]) if len(values) else None

    def stat_tags(self) -> list[str]:
        return [t for t in self.scalars if t.startswith(STAT_PREFIX)]


@dataclass
class Report:
    runs: list[Run]
    out_dir: Path
    files: list[Path]
    warnings: list[str]
    reader: str
    read_seconds: float


# --------------------------------------------------------------------------- helpers


def override_key(override: str) -> str:
    """``units`` for ``units=4``, ``+seed=1``, ``~seed``."""
    return override.lstrip("+~").split("=", 1)[0].strip()


def natural_key(text: str) -> list:
    """Sort ``2`` before ``10`` and ``units=8`` before ``units=16``."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", text)]


def _order(value: str, known: tuple[str, ...]) -> tuple[int, str]:
    return (known.index(value), "") if value in known else (len(known), value)


def parse_stat_tag(tag: str) -> tuple[str, str, str, str] | None:
    """``stats/<layer>/<matrix>/<gate>/<statistic>`` -> (layer, matrix, gate, statistic)."""
    parts = tag.split("/")
    if parts[0] != "stats" or len(parts) < 5:
        return None
    return "/".join(parts[1:-3]), parts[-3], parts[-2], parts[-1]


def stat_tag_key(tag: str):
    """Layers by name, then matrices, gates and statistics in their usual order."""
    parsed = parse_stat_tag(tag)
    if parsed is None:
        return (1, natural_key(tag))
    layer, matrix, gate, stat = parsed
    return (0, natural_key(layer), _order(matrix, MATRICES), _order(gate, GATES), _order(stat, STATISTICS))


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


# --------------------------------------------------------------------------- discovery


def _is_run_dir(path: Path) -> bool:
    return (path / OVERRIDES_FILE).is_file() or (path / METRICS_FILE).is_file() or (
        path / TENSORBOARD_DIR
    ).is_dir()


def find_run_dirs(sweep_dir: Path, exclude: tuple[Path, ...] = ()) -> list[Path]:
    """Every job directory under ``sweep_dir`` (or ``sweep_dir`` itself if it is one run)."""
    sweep_dir = Path(sweep_dir)
    excluded = {Path(p).resolve() for p in exclude}
    found = []
    for dirpath, dirnames, _ in os.walk(sweep_dir):
        here = Path(dirpath)
        if here.resolve() in excluded:
            dirnames[:] = []
            continue
        if _is_run_dir(here):
            found.append(here)
            dirnames[:] = []
            continue
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
    return sorted(found, key=lambda p: natural_key(_run_name(sweep_dir, p)))


def _run_name(sweep_dir: Path, run_dir: Path) -> str:
    rel = run_dir.relative_to(sweep_dir).as_posix()
    return sweep_dir.resolve().name if rel == "." else rel


def event_files(run_dir: Path) -> list[Path]:
    """The run's event files, oldest first (the name carries the creation time)."""
    tb = Path(run_dir) / TENSORBOARD_DIR
    return sorted(tb.glob(EVENT_GLOB), key=lambda p: natural_key(p.name)) if tb.is_dir() else []


# --------------------------------------------------------------------------- reading


def choose_reader(total_bytes: int, reader: str = "auto", jobs: int = 1) -> str:
    """``auto``: the python reader unless TensorFlow is already imported (then its reader
    is free) or the event files exceed ``PYTHON_READER_MAX_BYTES`` per reading process."""
    if reader not in READERS:
        raise ValueError(f"reader {reader!r} is not one of {READERS}")
    if reader != "auto":
        return reader
    if "tensorflow" in sys.modules or total_bytes > PYTHON_READER_MAX_BYTES * max(1, jobs):
        return "tensorflow"
    return "python"


def default_jobs() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def iter_events(path: Path, reader: str = "python", notes: list[str] | None = None):
    """The Event protos of one file, after TensorBoard's read-time compat layers.

    ``tensorflow``: ``EventFileLoader`` as is. ``python``: ``event_records.read_records``
    with the same compat layers as ``EventFileLoader.Load``, so
    TensorFlow is never imported and no process-wide TensorBoard setting changes.
    A truncated last record (a run killed while writing) ends the file, as in
    TensorBoard; it is noted in ``notes``.
    """
    if reader == "tensorflow":
        from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

        yield from EventFileLoader(str(path)).Load()
        return
    from tensorboard import data_compat, dataclass_compat
    from tensorboard.compat.proto import event_pb2

    from lstm_experiments.tensorboard.records import RecordError, read_records

    initial_metadata: dict = {}
    try:
        for record in read_records(path):
            event = data_compat.migrate_event(event_pb2.Event.FromString(record))
            yield from dataclass_compat.migrate_event(event, initial_metadata)
    except RecordError as err:
        if notes is not None:
            notes.append(f"{Path(path).name} ends in a {err.what} record, read up to it")


def _read_events(run: Run, files: list[Path], image_tags: tuple[str, ...], reader: str) -> None:
    from tensorboard.util.tensor_util import make_ndarray

    keep: dict[str, bool] = {}

    scalars: dict[str, dict[int, float]] = {}
    images: dict[str, dict[int, bytes]] = {}
    plugins = run.plugins
    for path in files:
        for event in iter_events(path, reader, run.notes):
            if not event.HasField("summary"):
                continue
            step = int(event.step)
            for value in event.summary.value:
                tag = value.tag
                plugin = plugins.get(tag)
                if plugin is None:
                    plugin = value.metadata.plugin_data.plugin_name
                    if plugin:
                        plugins[tag] = plugin
                if plugin == "scalars":
                    scalars.setdefault(tag, {})[step] = float(make_ndarray(value.tensor))
                elif plugin == "images" and keep.setdefault(
                    tag, any(fnmatch.fnmatchcase(tag, pattern) for pattern in image_tags)
                ):
                    # An image summary is a string tensor [width, height, png, ...].
                    images.setdefault(tag, {})[step] = bytes(make_ndarray(value.tensor)[2])
    for tag, by_step in scalars.items():
        steps = np.fromiter(sorted(by_step), dtype=np.int64, count=len(by_step))
        run.scalars[tag] = (steps, np.array([by_step[s] for s in steps], dtype=np.float64))
    run.images = images


def _read_yaml(path: Path):
    with open(path) as handle:
        return yaml.safe_load(handle)


def read_run(
    run_dir: Path, name: str, image_tags: tuple[str, ...] = (), reader: str = "python"
) -> Run:
    """One job: overrides, status and metrics, every scalar tag and the images whose tag
    matches one of the ``image_tags`` patterns (fnmatch); never raises for a broken job,
    whose problems land in ``notes``."""
    run_dir = Path(run_dir)
    notes: list[str] = []
    overrides: list[str] = []
    try:
        loaded = _read_yaml(run_dir / OVERRIDES_FILE)
        overrides = [str(o) for o in loaded or []]
    except FileNotFoundError:
        notes.append(f"no {OVERRIDES_FILE.as_posix()}")
    except (OSError, yaml.YAMLError, TypeError) as err:
        notes.append(f"unreadable {OVERRIDES_FILE.as_posix()} ({err})")

    metrics: dict = {}
    status = FAILED
    try:
        loaded = json.loads((run_dir / METRICS_FILE).read_text())
        if not isinstance(loaded, dict):
            raise ValueError("not a JSON object")
        metrics = {k: v for k, v in loaded.items() if k not in ("status", "reason")}
        if loaded.get("reason"):
            notes.append(str(loaded["reason"]))
        if "status" in loaded:
            status = str(loaded["status"])
        else:
            notes.append(f"{METRICS_FILE} has no status")
    except FileNotFoundError:
        notes.append(f"no {METRICS_FILE}")
    except (OSError, ValueError) as err:
        notes.append(f"unreadable {METRICS_FILE} ({err})")

    seed = next((o.split("=", 1)[1] for o in overrides if override_key(o) == SEED_KEY and "=" in o), None)
    if seed is None:
        try:
            seed = (_read_yaml(run_dir / CONFIG_FILE) or {}).get(SEED_KEY)
        except (OSError, yaml.YAMLError, AttributeError):
            pass

    run = Run(name, run_dir, overrides, status, metrics, seed, notes)
    files = event_files(run_dir)
    run.event_bytes = sum(p.stat().st_size for p in files)
    if not files:
        notes.append("no event file")
    try:
        _read_events(run, files, tuple(image_tags), reader)
    except Exception as err:  # a corrupt file must not stop the report of the others
        notes.append(f"event files unreadable ({type(err).__name__}: {err})")
    return run


def _read_run_job(args) -> Run:
    return read_run(*args)


def read_sweep(
    sweep_dir: Path,
    image_tags: tuple[str, ...] = (),
    reader: str = "auto",
    jobs: int = 1,
    exclude: tuple[Path, ...] = (),
) -> tuple[list[Run], str]:
    """Every run of the sweep, in the order of their overrides, and the reader used.

    ``image_tags``: fnmatch patterns of the image tags to keep (PNG bytes).
    ``jobs`` > 1 reads runs in that many processes (python reader only).
    """
    sweep_dir = Path(sweep_dir)
    dirs = find_run_dirs(sweep_dir, exclude)
    total = sum(p.stat().st_size for d in dirs for p in event_files(d))
    reader = choose_reader(total, reader, jobs)
    work = [(d, _run_name(sweep_dir, d), tuple(image_tags), reader) for d in dirs]
    if jobs > 1 and reader == "python" and len(work) > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(min(jobs, len(work))) as pool:
            runs = list(pool.map(_read_run_job, work, chunksize=max(1, len(work) // (4 * jobs))))
    else:
        runs = [read_run(*w) for w in work]
    # The sweep's own order for grid sweeps: overrides as given on the command line, values in
    # natural order (units=4 seed=0, units=4 seed=1, units=8 ...), whatever the directory names.
    runs.sort(key=lambda r: ([natural_key(o) for o in r.overrides], natural_key(r.name)))
    return runs, reader


# --------------------------------------------------------------------------- tables


def varying_keys(runs: list[Run]) -> list[str]:
    """Override keys whose value is not the same in every run, in first-seen order."""
    seen: dict[str, set] = {}
    present: dict[str, int] = {}
    for run in runs:
        for override in run.overrides:
            key = override_key(override)
            seen.setdefault(key, set()).add(override)
            present[key] = present.get(key, 0) + 1
    return [k for k, v in seen.items() if len(v) > 1 or present[k] < len(runs)]


def common_overrides(runs: list[Run]) -> list[str]:
    if not runs:
        return []
    shared = set(runs[0].overrides).intersection(*(r.overrides for r in runs[1:]))
    return [o for o in runs[0].overrides if o in shared]


def varying_overrides(run: Run, keys: list[str], with_seed: bool = True) -> list[str]:
    return [
        o for o in run.overrides
        if override_key(o) in keys and (with_seed or override_key(o) != SEED_KEY)
    ]


def run_label(run: Run, keys: list[str]) -> str:
    """The run's varying overrides (``units=4 seed=1``), or its name if none vary."""
    return " ".join(varying_overrides(run, keys)) or run.name


def display_label(run: Run, keys: list[str]) -> str:
    """A short label: ``0: units=4 seed=1`` for numbered jobs; for jobs named after their
    overrides (``seed=1,units=4,...``) the name when short, else the overrides that vary."""
    parts = varying_overrides(run, keys)
    if not parts:
        return run.name
    label = " ".join(parts)
    if all(part in run.name for part in parts):
        return run.name if len(run.name) <= DISPLAY_NAME_MAX else label
    return f"{run.name}: {label}"


def metric_columns(runs: list[Run]) -> list[str]:
    names = {k for r in runs for k in r.metrics}
    return sorted(names, key=lambda n: (_order(n, METRIC_ORDER), natural_key(n)))


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
        tags = run.stat_tags()
        row["final_step"] = max((int(run.scalars[t][0][-1]) for t in tags), default=None)
        for tag in stats:
            row[tag] = run.final(tag)
        rows.append(row)
    return columns, rows


@dataclass
class Group:
    key: tuple[str, ...]
    label: str
    runs: list[Run]

    @property
    def completed(self) -> list[Run]:
        return [r for r in self.runs if r.completed]


def seed_groups(runs: list[Run]) -> list[Group]:
    """Runs grouped by their overrides without ``seed``, in order of first appearance."""
    keys = varying_keys(runs)
    groups: dict[tuple, Group] = {}
    for run in runs:
        key = run.group_key
        if key not in groups:
            groups[key] = Group(key, " ".join(varying_overrides(run, keys, with_seed=False)), [])
        groups[key].runs.append(run)
    for group in groups.values():
        if not group.label:  # the runs without any of the overrides that vary
            group.label = "all runs" if len(groups) == 1 else " ".join(group.key) or "(no overrides)"
    return list(groups.values())


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


def _csv_cell(value) -> str:
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
            writer.writerow([_csv_cell(row.get(c)) for c in columns])


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


# --------------------------------------------------------------------------- figures


def _figure(width_in: float, height_in: float, **kwargs):
    from matplotlib.figure import Figure

    return Figure(figsize=(width_in, height_in), dpi=DPI, **kwargs)


def _colors(n: int) -> list:
    import matplotlib

    if n <= 10:
        cmap = matplotlib.colormaps["tab10"]
        return [cmap(i) for i in range(n)]
    if n <= 20:
        cmap = matplotlib.colormaps["tab20"]
        return [cmap(i) for i in range(n)]
    cmap = matplotlib.colormaps["turbo"]
    return [cmap(0.05 + 0.9 * i / (n - 1)) for i in range(n)]


def group_curve(runs: list[Run], tag: str) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Steps (the union of the runs'), mean over the runs that logged each step, and std
    (ddof=1; NaN where fewer than two did)."""
    series = [r.scalars[tag] for r in runs if tag in r.scalars]
    if not series:
        return None
    steps = np.unique(np.concatenate([s for s, _ in series]))
    table = np.full((len(series), len(steps)), np.nan)
    for i, (s, v) in enumerate(series):
        table[i, np.searchsorted(steps, s)] = v
    count = np.sum(~np.isnan(table), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nansum(table, axis=0) / count
        centred = np.where(np.isnan(table), 0.0, table - mean)
        std = np.sqrt(np.sum(centred**2, axis=0) / (count - 1))
    std[count < 2] = np.nan
    return steps, mean, std


def plot_statistic(
    runs: list[Run], groups: list[Group], layer: str, matrix: str, statistic: str, path: Path
) -> bool:
    """One panel per gate, a line per run (a seed group: mean line and ±std band)."""
    prefix = f"stats/{layer}/{matrix}/"
    gates = sorted(
        {
            parsed[2]
            for r in runs
            for t in r.scalars
            if (parsed := parse_stat_tag(t)) and parsed[:2] == (layer, matrix) and parsed[3] == statistic
        },
        key=lambda g: _order(g, GATES),
    )
    if not gates:
        return False
    keys = varying_keys(runs)
    entries = len(groups) + sum(len(g.runs) - len(g.completed) for g in groups)
    legend_cols = max(1, math.ceil(entries / 28))
    longest = max([len(g.label) for g in groups] + [len(display_label(r, keys)) for r in runs])
    legend_w = legend_cols * min(5.0, 0.8 + 0.065 * (longest + 18))
    height = max(3.2, 0.2 * min(entries, 28) + 1.0)
    fig = _figure(3.3 * len(gates) + legend_w, height, layout="constrained")
    axes = fig.subplots(1, len(gates), sharex=True, squeeze=False)[0]
    colors = _colors(len(groups))
    for ax, gate in zip(axes, gates):
        tag = f"{prefix}{gate}/{statistic}"
        for color, group in zip(colors, groups):
            done = group.completed
            if len(done) > 1:
                curve = group_curve(done, tag)
                if curve is not None:
                    steps, mean, std = curve
                    label = f"{group.label} (mean ± std, {len(done)} seeds)"
                    ax.plot(steps, mean, color=color, lw=1.6, label=label)
                    ax.fill_between(steps, mean - std, mean + std, color=color, lw=0,
                                    alpha=0.22 if len(groups) <= 6 else 0.12)
            elif done and tag in done[0].scalars:
                steps, values = done[0].scalars[tag]
                ax.plot(steps, values, color=color, lw=1.4, label=display_label(done[0], keys),
                        marker="o" if len(steps) == 1 else None)
            for run in group.runs:
                if run.completed or tag not in run.scalars:
                    continue
                steps, values = run.scalars[tag]
                ax.plot(steps, values, color=color, lw=1.0, ls="--",
                        label=f"{display_label(run, keys)} ({run.status})")
        ax.set_title(gate)
        ax.set_xlabel("step (epoch)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(statistic)
    fig.suptitle(f"{layer} / {matrix}: {statistic}")
    handles, labels = {}, []
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in handles:
                handles[lab] = h
                labels.append(lab)
    if labels:
        fig.legend([handles[lab] for lab in labels], labels, loc="outside right upper",
                   fontsize="small", ncols=legend_cols, frameon=False)
    fig.savefig(path, dpi=DPI)
    return True


def parse_steps(spec: str) -> list[int | str]:
    """``0,last`` -> [0, "last"]; also ``first``."""
    out: list[int | str] = []
    for part in (p.strip() for p in spec.split(",")):
        if part in ("last", "first"):
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
    parts = tag.split("/")
    scale_tag = "scale/" + "/".join(parts[1:-1])
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

    fig = _figure(width / DPI, height / DPI)
    fig.figimage(canvas, 0, 0, origin="upper", resample=False)

    def text(x_px, y_px, s, **kw):
        style = {"fontsize": STRIP_FONT_PT, "family": "monospace", "va": "top", **kw}
        fig.text(x_px / width, 1 - y_px / height, s, **style)

    missing = len(runs) - len(have)
    text(4, 4, tag + (f"   ({missing} run(s) without these images left out)" if missing else ""),
         fontsize=10, fontweight="bold", family="sans-serif")
    text(4, 20, "colour: blue < 0 < red, each run on its own scale s (scale/<layer>/<matrix>)",
         family="sans-serif", color="0.25")
    for c, lines in enumerate(labels):
        text(lefts[c], STRIP_TITLE_H, "\n".join(lines), linespacing=1.15)
    for r, want in enumerate(steps):
        logged = {s for s in tile_steps[r] if s is not None}
        if want in ("last", "first"):
            label = f"{want}\n(step {logged.pop()})" if len(logged) == 1 else f"{want}\n(steps vary)"
        else:
            label = f"step {want}"
        text(4, tops[r], label)
        for c in range(n_cols):
            if tiles[r][c] is None:
                text(lefts[c] + 2, tops[r] + 2, "not\nlogged", color="0.4")
    fig.savefig(path, dpi=DPI)
    return StripLayout(width, height, boxes, tile_steps)


# --------------------------------------------------------------------------- report


def _select(requested: list[str], available: set[str], known: tuple[str, ...]) -> list[str]:
    if requested == ["all"]:
        return sorted(available, key=lambda v: (_order(v, known), natural_key(v)))
    return requested


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
        f"gates/{l}/{m}/{g}" for l in pattern(layers) for m in pattern(matrices) for g in pattern(gates)
    )
    start = time.perf_counter()
    runs, used_reader = read_sweep(sweep_dir, image_tags, reader, jobs, exclude=(out_dir,))
    read_seconds = time.perf_counter() - start
    if not runs:
        raise FileNotFoundError(f"no run directories under {sweep_dir}")

    out_dir.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    columns, rows = summary_table(runs)
    write_csv(out_dir / "summary.csv", columns, rows)
    (out_dir / "summary.md").write_text(summary_markdown(sweep_dir, runs, columns, rows))
    groups = seed_groups(runs)
    agg_columns, agg_rows, numeric = aggregated_table(runs, groups)
    write_csv(out_dir / "aggregated.csv", agg_columns, agg_rows)
    (out_dir / "aggregated.md").write_text(aggregated_markdown(sweep_dir, agg_columns, agg_rows, numeric))
    files += [out_dir / n for n in ("summary.csv", "summary.md", "aggregated.csv", "aggregated.md")]

    parsed = [p for r in runs for t in r.scalars if (p := parse_stat_tag(t))]
    gate_images = [t.split("/") for r in runs for t, p in r.plugins.items()
                   if p == "images" and t.startswith("gates/")]
    found_layers = {p[0] for p in parsed} | {"/".join(t[1:-2]) for t in gate_images}
    for layer in _select(list(layers), found_layers, ()):
        found_matrices = {p[1] for p in parsed if p[0] == layer} | {
            t[-2] for t in gate_images if "/".join(t[1:-2]) == layer}
        for matrix in _select(list(matrices), found_matrices, MATRICES):
            stats = sorted({p[3] for p in parsed if p[:2] == (layer, matrix)},
                           key=lambda s: _order(s, STATISTICS))
            if not stats:
                warnings.append(
                    f"no stats/{layer}/{matrix}/... scalars in any run (log them with viz=stats); "
                    f"layers/matrices with stats: {_available(parsed)}"
                )
            for stat in stats:
                path = out_dir / f"stats_{_safe(layer)}_{_safe(matrix)}_{stat}.png"
                if plot_statistic(runs, groups, layer, matrix, stat, path):
                    files.append(path)
            image_gates = {t.split("/")[-1] for r in runs for t in r.images
                           if t.startswith(f"gates/{layer}/{matrix}/")}
            chosen = _select(list(gates), image_gates, GATES)
            if not chosen:
                warnings.append(f"no gates/{layer}/{matrix}/<gate> images in any run")
            for gate in chosen:
                tag = f"gates/{layer}/{matrix}/{gate}"
                path = out_dir / f"strip_{_safe(layer)}_{_safe(matrix)}_{_safe(gate)}.png"
                if build_strip(runs, tag, list(steps), path) is not None:
                    files.append(path)
                else:
                    logged = sorted({t for r in runs for t, p in r.plugins.items()
                                     if p == "images" and t.startswith("gates/")})
                    warnings.append(
                        f"no {tag} images in any run (log them with viz=gates); "
                        f"gate images logged: {', '.join(logged) or 'none'}"
                    )
    return Report(runs, out_dir, files, warnings, used_reader, read_seconds)


def _available(parsed) -> str:
    pairs = sorted({f"{p[0]}/{p[1]}" for p in parsed})
    return ", ".join(pairs) or "none"


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=-]+", "-", text)


# --------------------------------------------------------------------------- CLI


def _list_arg(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def report_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="compare_gates.py",
        description="Compare the runs of a sweep: summary/aggregated tables, per-gate "
        "statistic curves and a strip of one gate's images across runs.",
    )
    parser.add_argument("sweep", type=Path, help="the sweep directory, multirun/<date>/<time>")
    parser.add_argument("--out", type=Path, help="output directory (default: <sweep>/report)")
    parser.add_argument("--layer", type=_list_arg, default=["lstm"],
                        help="layer(s), comma-separated, or 'all' (default: lstm)")
    parser.add_argument("--matrix", type=_list_arg, default=["recurrent_kernel"],
                        help="matrix/matrices, comma-separated, or 'all' (default: recurrent_kernel)")
    parser.add_argument("--gate", type=_list_arg, default=["forget"],
                        help="gate(s) for the image strip, comma-separated, or 'all' (default: forget)")
    parser.add_argument("--steps", default="0,last",
                        help="strip rows: steps, 'first' or 'last', comma-separated (default: 0,last)")
    parser.add_argument("--reader", choices=READERS, default="auto",
                        help="event file reader (default: auto: python for small sweeps)")
    parser.add_argument("--jobs", type=int, default=default_jobs(),
                        help="processes reading runs in parallel, python reader only "
                        "(default: the CPU count, at most 8)")
    return parser


def report_main(argv: list[str] | None = None) -> int:
    parser = report_parser()
    args = parser.parse_args(argv)
    try:
        steps = parse_steps(args.steps)
    except ValueError as err:
        parser.error(f"--steps: {err}")
    try:
        report = build_report(args.sweep, args.out, args.layer, args.matrix, args.gate, steps,
                              args.reader, args.jobs)
    except FileNotFoundError as err:
        print(f"compare_gates: {err}", file=sys.stderr)
        return 2
    failed = [r.name for r in report.runs if not r.completed]
    print(f"read {len(report.runs)} runs ({len(failed)} failed"
          + (f": {', '.join(failed)}" if failed else "")
          + f") in {report.read_seconds:.2f} s with the {report.reader} reader")
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"wrote {len(report.files)} files to {report.out_dir}:")
    for path in report.files:
        print(f"  {path.name}")
    return 0


# --------------------------------------------------------------------------- synthetic sweeps


SYNTHETIC_STATS = STATISTICS[:5]
# Up to this many scalar values per run, eager writes beat tracing a tf.function.
EAGER_SYNTHETIC_MAX = 500


def make_synthetic_sweep(
    sweep_dir: Path,
    n_runs: int = 50,
    n_steps: int = 100,
    seeds: int = 2,
    layer: str = "lstm",
    matrix: str = "recurrent_kernel",
    images: bool = False,
    failed: tuple[int, ...] = (),
    no_metrics: tuple[int, ...] = (),
) -> Path:
    """A fake sweep with the layout and tags of a real one, for timing and tests.

    Job ``i`` (directory ``i``) has overrides ``units=<4 + 2 * (i // seeds)>`` and
    ``seed=<i % seeds>``, steps ``0 .. n_steps - 1`` of
    ``stats/<layer>/<matrix>/<gate>/<stat>`` for the four LSTM gates and five
    statistics plus ``metrics/loss`` and ``metrics/val_loss`` (22 scalar tags),
    random walks written with ``tf.summary``; with ``images``, also
    ``gates/<layer>/<matrix>/<gate>`` images and ``scale/<layer>/<matrix>``.
    Jobs in ``failed`` get ``status: failed``, jobs in ``no_metrics`` no metrics.json.
    """
    from lstm_experiments.run.tensorflow_setup import import_tensorflow

    tf = import_tensorflow()
    # Each run's tf.function is traced once, on purpose; keep TensorFlow's retracing warning quiet.
    tf_logger = logging.getLogger("tensorflow")
    level = tf_logger.level
    tf_logger.setLevel(logging.ERROR)
    try:
        return _write_synthetic(tf, Path(sweep_dir), n_runs, n_steps, seeds, layer, matrix,
                                images, failed, no_metrics)
    finally:
        tf_logger.setLevel(level)


def _write_synthetic(tf, sweep_dir, n_runs, n_steps, seeds, layer, matrix, images, failed, no_metrics):
    from lstm_experiments.viz.colour import diverging_rgb

    from tensorboard.plugins.scalar.metadata import create_summary_metadata

    scalar_metadata = create_summary_metadata(display_name=None, description=None)
    gates = GATE_NAMES["lstm"]
    tags = [f"stats/{layer}/{matrix}/{g}/{s}" for g in gates for s in SYNTHETIC_STATS]
    tags += ["metrics/loss", "metrics/val_loss"]
    for i in range(n_runs):
        run_dir = sweep_dir / str(i)
        (run_dir / ".hydra").mkdir(parents=True, exist_ok=True)
        units, seed = 4 + 2 * (i // seeds), i % seeds
        overrides = [f"units={units}", f"seed={seed}"]
        (run_dir / OVERRIDES_FILE).write_text(yaml.safe_dump(overrides))
        (run_dir / CONFIG_FILE).write_text(yaml.safe_dump({"units": units, "seed": seed}))
        rng = np.random.default_rng(i)
        values = np.cumsum(rng.normal(0.0, 0.05, size=(n_steps, len(tags))), axis=0) + 1.0
        decay = np.exp(-np.arange(n_steps) / max(1.0, n_steps / 4))[:, None]
        values[:, -2:] = decay * (1.0 + 0.1 * i) + rng.uniform(0, 0.01, size=(n_steps, 2))
        values = values.astype(np.float32)
        writer = tf.summary.create_file_writer(str(run_dir / TENSORBOARD_DIR))

        def write_all(table):
            # tf.summary.scalar's own write, minus its name scope: inside the graph's while
            # loop that scope would prefix every tag with "while/".
            for step in tf.range(tf.shape(table)[0]):
                for k, tag in enumerate(tags):
                    tf.summary.write(tag, table[step, k], step=tf.cast(step, tf.int64),
                                     metadata=scalar_metadata)

        with writer.as_default():
            if n_steps * len(tags) > EAGER_SYNTHETIC_MAX:
                # One graph per run (the writer is captured, so one trace each) writes all
                # its scalars: about twice as fast as eager calls for long runs.
                tf.function(write_all)(tf.constant(values))
            else:
                for step in range(n_steps):
                    for k, tag in enumerate(tags):
                        tf.summary.write(tag, values[step, k], step=step, metadata=scalar_metadata)
            if images:
                weights = rng.normal(0, 0.5, size=(n_steps, units, units * len(gates)))
                scale = float(np.abs(weights[0]).max())
                factor = max(1, 64 // units)
                for step in range(n_steps):
                    tf.summary.scalar(f"scale/{layer}/{matrix}", scale, step=step)
                    for g, gate in enumerate(gates):
                        block = weights[step][:, g * units:(g + 1) * units]
                        pixels = diverging_rgb(block, scale).repeat(factor, 0).repeat(factor, 1)
                        tf.summary.image(f"gates/{layer}/{matrix}/{gate}", pixels[None], step=step)
        writer.close()
        if i in no_metrics:
            continue
        metrics = {
            "loss": float(values[-1, -2]),
            "val_loss": float(values[-1, -1]),
            "epochs": n_steps - 1,
            "status": FAILED if i in failed else COMPLETED,
        }
        (run_dir / METRICS_FILE).write_text(json.dumps(metrics, indent=2))
    return sweep_dir


def _bench_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lstm_experiments.report.sweep_report",
        description="Make a synthetic sweep, or time reading a sweep's event files.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("synthetic", help="write a synthetic sweep")
    make.add_argument("sweep", type=Path)
    make.add_argument("--runs", type=int, default=50)
    make.add_argument("--steps", type=int, default=100)
    make.add_argument("--images", action="store_true")
    timing = sub.add_parser("time", help="time read_sweep on a sweep (run it in a fresh process)")
    timing.add_argument("sweep", type=Path)
    timing.add_argument("--reader", choices=READERS, default="auto")
    timing.add_argument("--jobs", type=int, default=default_jobs())
    args = parser.parse_args(argv)
    if args.command == "synthetic":
        start = time.perf_counter()
        make_synthetic_sweep(args.sweep, args.runs, args.steps, images=args.images)
        print(f"wrote {args.runs} runs x {args.steps} steps to {args.sweep} "
              f"in {time.perf_counter() - start:.1f} s")
        return 0
    start = time.perf_counter()
    runs, reader = read_sweep(args.sweep, reader=args.reader, jobs=args.jobs)
    seconds = time.perf_counter() - start
    values = sum(len(v) for r in runs for _, v in r.scalars.values())
    size = sum(r.event_bytes for r in runs) / 2**20
    print(f"read {len(runs)} runs, {values} scalar values, {size:.1f} MiB of event files "
          f"in {seconds:.2f} s ({reader} reader, {args.jobs} job(s)); "
          f"tensorflow imported: {'tensorflow' in sys.modules}")
    return 0


if __name__ == "__main__":
    sys.exit(_bench_main(sys.argv[1:]))
