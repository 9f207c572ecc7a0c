"""The report folder: the names of the files a report writes, and one report per folder.

Every file name of a report is made here. A report records the names of the
files it wrote in ``MANIFEST`` (a hidden JSON file, written atomically, last).
The next report into the same folder removes the files the previous one listed
that it did not write itself (the strips of a gate no longer asked for, the
curves of a matrix no longer chosen), and nothing else: a file a user put into
the folder is never listed, so never touched. A folder written before the
manifest existed names its figures in its ``index.html`` (``data-file``);
those of them named like a report's figures, and the tables, stand in for the
list.

If a report fails half-way, the manifest lists the previous report's files and
every file this one set out to write, so the next report still removes them.
Not a fresh folder swapped in: ``--out`` may be any folder, with files of the
user's own that a swap would have to carry over."""

from __future__ import annotations

import json
import re
from pathlib import Path

from lstm_experiments.run.layout import write_json_atomic

DEFAULT_OUT = "report"  # under the sweep directory
SUMMARY_CSV, SUMMARY_MD = "summary.csv", "summary.md"
AGGREGATED_CSV, AGGREGATED_MD = "aggregated.csv", "aggregated.md"
TABLE_FILES = (SUMMARY_CSV, SUMMARY_MD, AGGREGATED_CSV, AGGREGATED_MD)
INDEX = "index.html"
STATS_PREFIX, STRIP_PREFIX, FIGURE_SUFFIX = "stats_", "strip_", ".png"
MANIFEST = ".report-files.json"
# The key of the manifest's list of file names.
FILES_KEY = "files"
# How an index.html written before the manifest names its figures.
_LEGACY_FIGURE = re.compile(r'\sdata-file="([^"]+)"')


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=-]+", "-", text)


def stats_file(layer: str, matrix: str, statistic: str) -> str:
    """``stats_<layer>_<matrix>_<statistic>.png``: the curves of one statistic."""
    return f"{STATS_PREFIX}{_safe(layer)}_{_safe(matrix)}_{_safe(statistic)}{FIGURE_SUFFIX}"


def strip_file(layer: str, matrix: str, gate: str) -> str:
    """``strip_<layer>_<matrix>_<gate>.png``: one gate's image across runs."""
    return f"{STRIP_PREFIX}{_safe(layer)}_{_safe(matrix)}_{_safe(gate)}{FIGURE_SUFFIX}"


def _is_figure(name: str) -> bool:
    return name.startswith((STATS_PREFIX, STRIP_PREFIX)) and name.endswith(FIGURE_SUFFIX)


def _own_name(name: object) -> bool:
    """A plain file name inside the folder: never a path that leads out of it."""
    return isinstance(name, str) and name not in ("", ".", "..") and Path(name).name == name


def previous_files(out_dir: Path) -> set[str]:
    """The names of the files the previous report in ``out_dir`` wrote (empty if there was none)."""
    out_dir = Path(out_dir)
    try:
        listed = json.loads((out_dir / MANIFEST).read_text()).get(FILES_KEY, [])
        return {name for name in listed if _own_name(name)} if isinstance(listed, list) else set()
    except FileNotFoundError:
        pass
    except (OSError, ValueError, AttributeError):
        return set()  # a broken manifest: remove nothing rather than guess
    try:
        page = (out_dir / INDEX).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    figures = {name for name in _LEGACY_FIGURE.findall(page) if _own_name(name) and _is_figure(name)}
    return figures | {INDEX, *TABLE_FILES}


def record(out_dir: Path, names: set[str] | list[str]) -> None:
    """Write the manifest: these files in ``out_dir`` are the report's own."""
    write_json_atomic(Path(out_dir) / MANIFEST, {FILES_KEY: sorted(set(names))})


def remove_stale(out_dir: Path, previous: set[str], written: set[str]) -> list[str]:
    """Remove the previous report's files that this report did not write; their names."""
    removed = []
    for name in sorted(previous - written):
        path = Path(out_dir) / name
        if path.is_file() and not path.is_symlink():
            path.unlink()
            removed.append(name)
    return removed


class ReportFolder:
    """``with ReportFolder(out_dir) as out:`` the one report a folder holds.

    ``path(name)`` is where a file goes (its name is noted before it is written),
    ``wrote(path)`` says it was written; ``written`` lists them in that order. On a
    clean exit the previous report's other files are removed (``removed``) and the
    manifest lists ``written``; on an error it lists the previous files and every
    name this report set out to write.
    """

    def __init__(self, out_dir: Path):
        self.out_dir = Path(out_dir)
        self.written: list[Path] = []
        self.removed: list[str] = []
        self._previous: set[str] = set()
        self._attempted: set[str] = set()

    def __enter__(self) -> "ReportFolder":
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._previous = previous_files(self.out_dir)
        return self

    def path(self, name: str) -> Path:
        self._attempted.add(name)
        return self.out_dir / name

    def wrote(self, path: Path) -> Path:
        self.written.append(Path(path))
        return Path(path)

    def __exit__(self, kind, error, traceback) -> None:
        if kind is not None:
            record(self.out_dir, self._previous | self._attempted)
            return
        names = {p.name for p in self.written}
        self.removed = remove_stale(self.out_dir, self._previous, names)
        record(self.out_dir, names)
