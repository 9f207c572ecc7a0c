"""The runs of a sweep, read from their directories: overrides, status, metrics and events.

A sweep directory holds one directory per job, whatever their names: a job is
any directory with ``.hydra/overrides.yaml``, ``metrics.json`` or
``tensorboard/``. A job whose ``metrics.json`` is missing, unreadable or
without ``status`` is ``failed``; one with another status than ``completed``
(``failed``, ``interrupted``) keeps it.

Event files are read with TensorBoard's own reading code, without importing
TensorFlow at import time. Two readers, same events:

- ``python``: the project's record reader (``tensorboard.records``, the
  TFRecord framing with a C CRC-32C) and the same read-time compat layers as
  ``EventFileLoader``; never imports TensorFlow (``jobs`` spreads the runs
  over processes). TensorBoard's own TensorFlow-free reader checks each CRC in
  a Python loop, far slower.
- ``tensorflow``: ``EventFileLoader`` itself, which uses TensorFlow's C++
  record reader whenever TensorFlow is installed, so it imports TensorFlow
  (3.1-3.8 s on 2 shared cores); the report section of docs/performance.md
  compares the two.

``auto`` takes ``python`` unless TensorFlow is already imported (then its
reader costs no import); see ``choose_reader``.

Why not TensorBoard's ``EventAccumulator`` for the scalar tables (issue 15
asked for a library where one does the job): measured twice with
``python scripts/bench.py --sections report`` on 50-run synthetic sweeps
(docs/performance.md, "EventAccumulator for the scalar tables?"), the plugin
``EventAccumulator`` with ``size_guidance={"tensors": 0}`` gives the same
scalars bit for bit but takes 2.4-2.6x this reader's time on 10 MiB of scalars
(5.9 s against 2.5 s, 8.3 s against 3.1 s) and 2.7-3.8x with gate images
(7.3 s against 2.7 s, 9.3 s against 2.4 s): it imports TensorFlow for its
record reader (3.1-3.8 s), and even with TensorFlow already imported it took
1.1-1.2x and 1.5-1.6x this reader's time (not profiled; it adds reservoirs,
locks and purge checks per event to the same parsing). Past the 2x the issue
allowed, so the scalars are read here, through TensorBoard's own compat
layers, and the tests compare them with ``EventAccumulator``'s.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from lstm_experiments.board import metadata
from lstm_experiments.config.overrides import override_key, split_override
from lstm_experiments.report.naming import natural_key, parse_kind
from lstm_experiments.run.layout import CONFIG_FILE, FINDINGS_FILE, METRICS_FILE, OVERRIDES_FILE, TENSORBOARD_DIR
from lstm_experiments.tensorboard import tags

EVENT_GLOB = "events.out.tfevents.*"

COMPLETED = "completed"
FAILED = "failed"
SEED_KEY = "seed"

READERS = ("auto", "python", "tensorflow")


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
    # step -> (epoch, batch, event) from ``lstm_gates/position``; empty for a run logged before positions
    positions: dict[int, tuple[int, int, str]] = field(default_factory=dict)
    # findings.json's findings (findings/record.py); None: the run has no findings.json (older, or unreadable)
    findings: list | None = None
    # ``viz.log_every_batches`` as ``lstm_gates/position``'s metadata says it; None: a step is an epoch
    log_every_batches: int | None = None

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

    @property
    def by_batch(self) -> bool:
        """Whether the run logged by batch (its steps are the optimizer's iterations)."""
        return self.log_every_batches is not None

    def position_text(self, step: int) -> str | None:
        """Where ``step`` stands in training, as the GATES tab says it ("epoch 3, batch 150", "after
        epoch 3", "epoch 2, batch 6 · loss became NaN or inf"); None where the run logged no position."""
        found = self.positions.get(step)
        if found is None:
            return None
        epoch, batch, event = found
        where = f"epoch {epoch}, batch {batch}"
        if event == metadata.LAST_FINITE:
            return f"{where} · last finite weights"
        if event == metadata.NON_FINITE:
            return f"{where} · NaN or inf"
        if (epoch, batch) == (0, 0):
            return "initial weights"
        return where if self.by_batch else f"after epoch {epoch}"

    def stat_tags(self) -> list[str]:
        return [t for t in self.scalars if parse_kind(t, tags.STATS)]


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


def choose_reader(reader: str = "auto") -> str:
    """``auto``: the python reader unless TensorFlow is already imported (then its reader is free).

    ``auto`` used to take the tensorflow reader past 8 MiB of event files per reading process
    (PYTHON_READER_MAX_BYTES, set when the python reader summed CRCs in Python). On the 66 MiB
    image sweep of docs/performance.md ("EventAccumulator for the scalar tables?") that chose
    it at 5.3 s against the python reader's 2.4-2.5 s. Events, not bytes, cost the time: once
    imported, TensorFlow's reader took 0.73-0.86x the python reader's time on 10 MiB of
    scalars and 0.85-1.08x on 66 MiB with images (1.37x and 0.79x in the quick run), so its
    3.1-3.8 s import would pay for itself only past roughly 40-90 MiB of scalar-only files per
    process, and past hundreds of MiB of image-heavy ones if ever. No byte limit fits both.
    """
    if reader not in READERS:
        raise ValueError(f"reader {reader!r} is not one of {READERS}")
    if reader != "auto":
        return reader
    return "tensorflow" if "tensorflow" in sys.modules else "python"


def default_jobs() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def iter_events(path: Path, reader: str = "python", notes: list[str] | None = None):
    """The Event protos of one file, after TensorBoard's read-time compat layers.

    ``tensorflow``: ``EventFileLoader`` as is. ``python``: ``records.read_records``
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
    # Not EventAccumulator: on 50-run sweeps it took 2.4-2.6x (scalars only) and 2.7-3.8x (with
    # gate images) the time of this loop over the python reader, 1.1-1.6x with TensorFlow
    # already imported, for the same scalars bit for bit (module docstring; docs/performance.md).
    from tensorboard.util.tensor_util import make_ndarray

    keep: dict[str, bool] = {}

    scalars: dict[str, dict[int, float]] = {}
    images: dict[str, dict[int, bytes]] = {}
    plugins = run.plugins
    position_tag = metadata.position_tag()
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
                elif tag == position_tag:
                    if value.metadata.plugin_data.content:  # the first record of the tag carries it
                        with contextlib.suppress(ValueError):
                            every = metadata.parse_content(value.metadata.plugin_data.content).log_every_batches
                            run.log_every_batches = int(every) if every else None
                    epoch, batch, event = (int(v) for v in make_ndarray(value.tensor)[:3])
                    name = metadata.EVENTS[event] if 0 <= event < len(metadata.EVENTS) else ""
                    run.positions[step] = (epoch, batch, name)
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

    seed = next((value for key, value in map(split_override, overrides) if key == SEED_KEY and value is not None),
                None)
    if seed is None:
        try:
            seed = (_read_yaml(run_dir / CONFIG_FILE) or {}).get(SEED_KEY)
        except (OSError, yaml.YAMLError, AttributeError):
            pass

    run = Run(name, run_dir, overrides, status, metrics, seed, notes)
    try:
        run.findings = list(json.loads((run_dir / FINDINGS_FILE).read_text())["findings"])
    except FileNotFoundError:
        pass
    except (OSError, ValueError, KeyError, TypeError) as err:
        notes.append(f"unreadable {FINDINGS_FILE} ({err})")
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
    reader = choose_reader(reader)
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
