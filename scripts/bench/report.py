"""report: reading a sweep back, as the comparison report (scripts/compare_gates.py) does.

Two synthetic sweeps, written with ``make_synthetic_sweep`` (tests/helpers/synthetic_sweep.py):
scalars only, and with gate images. Each is read with ``lstm_experiments.report.read_sweep`` per
reader (python on one process and on ``READ_JOBS``, tensorflow, auto), with a bare
EventAccumulator pass and with the plugin EventAccumulator giving the report's scalars (the
candidate to replace the project's reader, checked bit for bit against it), every read in a
fresh worker process (``--report-worker``), as a user's
``compare_gates.py`` run would: TensorFlow's import counts where the reader imports it, and
``auto`` chooses without TensorFlow already imported. This covers what
``python -m lstm_experiments.sweep_report synthetic|time`` measured before that module was split.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from bench.common import MB, REPO, median, print_table, spawn_worker

REPORT_STEPS = 100  # steps of the scalar sweep; the image sweep's are sizes.report_image_steps
READ_JOBS = 2
EVENT_ACCUMULATOR = "event-accumulator"
# TensorBoard's plugin EventAccumulator (EventFileLoader and the same compat layers as
# read_sweep's readers) giving the report's scalars: what the report would run if it read
# its scalar tables with EventAccumulator.
EA_SCALARS = "ea-scalars"
# A reader name with this suffix imports TensorFlow before the clock starts (import_s):
# the read alone, as when TensorFlow is already imported in the process.
TF_FIRST = "+tf"
# (label, reader, jobs). "auto" with 2 jobs is compare_gates.py's default on a 2-CPU machine.
READERS = (
    ("EventAccumulator", EVENT_ACCUMULATOR, 1),
    ("EventAccumulator, report's scalars", EA_SCALARS, 1),
    ("EventAccumulator, report's scalars, TF imported", EA_SCALARS + TF_FIRST, 1),
    ("read_sweep python", "python", 1),
    (f"read_sweep python, jobs={READ_JOBS}", "python", READ_JOBS),
    ("read_sweep tensorflow", "tensorflow", 1),
    ("read_sweep tensorflow, TF imported", "tensorflow" + TF_FIRST, 1),
    (f"read_sweep auto, jobs={READ_JOBS}", "auto", READ_JOBS),
)
EVENT_GLOB = "events.out.tfevents.*"


def _synthetic_sweep_writer():
    """``make_synthetic_sweep`` from the tests' helpers (the repository root must be importable)."""
    if sys.path[0] != str(REPO):
        sys.path.insert(0, str(REPO))
    from tests.helpers.synthetic_sweep import make_synthetic_sweep

    return make_synthetic_sweep


def _read_with_event_accumulator(sweep: Path) -> tuple[int, int]:
    """(runs, scalar values) read with TensorBoard's EventAccumulator, keeping every tensor."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.util import tensor_util

    runs = values = 0
    for run_dir in sorted(sweep.glob("*/tensorboard")):
        accumulator = EventAccumulator(str(run_dir), size_guidance={"tensors": 0})
        accumulator.Reload()
        runs += 1
        for tag in accumulator.Tags()["tensors"]:
            if accumulator.SummaryMetadata(tag).plugin_data.plugin_name == "scalars":
                values += sum(tensor_util.make_ndarray(e.tensor_proto).size for e in accumulator.Tensors(tag))
    return runs, values


def _scalars_with_event_accumulator(sweep: Path) -> dict[str, dict]:
    """{run: {tag: (steps, values)}} as ``Run.scalars`` holds them, read with TensorBoard's plugin
    EventAccumulator (every tensor kept: size_guidance={"tensors": 0}); the last value of a step wins."""
    import numpy as np
    from tensorboard.backend.event_processing.plugin_event_accumulator import EventAccumulator
    from tensorboard.util.tensor_util import make_ndarray

    out = {}
    for run_dir in sorted(sweep.glob("*/tensorboard")):
        accumulator = EventAccumulator(str(run_dir), size_guidance={"tensors": 0})
        accumulator.Reload()
        scalars = {}
        for tag in accumulator.PluginTagToContent("scalars"):
            by_step = {int(e.step): float(make_ndarray(e.tensor_proto)) for e in accumulator.Tensors(tag)}
            steps = np.fromiter(sorted(by_step), dtype=np.int64, count=len(by_step))
            scalars[tag] = (steps, np.array([by_step[s] for s in steps], dtype=np.float64))
        out[run_dir.parent.name] = scalars
    return out


def _digest(scalars: dict[str, dict]) -> str:
    """One hash of every run's scalars (tags, steps and values, bit for bit)."""
    import hashlib

    digest = hashlib.sha256()
    for run in sorted(scalars):
        for tag in sorted(scalars[run]):
            steps, values = scalars[run][tag]
            digest.update(f"{run}\0{tag}\0".encode())
            digest.update(steps.astype("<i8").tobytes())
            digest.update(values.astype("<f8").tobytes())
    return digest.hexdigest()[:16]


def worker(reader: str, sweep: Path, jobs: int) -> dict:
    """One read of ``sweep`` in this (fresh) process (``--report-worker``); printed as JSON for the parent."""
    start = time.perf_counter()
    if reader.endswith(TF_FIRST):
        reader = reader[: -len(TF_FIRST)]
        import tensorflow  # noqa: F401
    if reader not in (EVENT_ACCUMULATOR, EA_SCALARS):
        from lstm_experiments.report import read_sweep
    import_s = time.perf_counter() - start
    start = time.perf_counter()
    digest = None
    if reader == EVENT_ACCUMULATOR:
        runs, values = _read_with_event_accumulator(sweep)
        used = reader
    elif reader == EA_SCALARS:
        scalars = _scalars_with_event_accumulator(sweep)
        seconds = time.perf_counter() - start
        runs, values, used = len(scalars), sum(len(v) for r in scalars.values() for _, v in r.values()), reader
        digest = _digest(scalars)
    else:
        read, used = read_sweep(sweep, reader=reader, jobs=jobs)
        seconds = time.perf_counter() - start
        runs, values = len(read), sum(len(v) for r in read for _, v in r.scalars.values())
        digest = _digest({r.name: r.scalars for r in read})
    if digest is None:
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "import_s": import_s, "reader_used": used, "digest": digest,
            "runs": runs, "values": values, "tensorflow_imported": "tensorflow" in sys.modules}


def run(sizes, workdir: Path) -> dict:
    """Write both synthetic sweeps, then read each with every reader, interleaved, in fresh processes."""
    make_synthetic_sweep = _synthetic_sweep_writer()
    sweeps = {}
    for name, steps, images in (("scalars", REPORT_STEPS, False), ("images", sizes.report_image_steps, True)):
        root = workdir / name
        start = time.perf_counter()
        make_synthetic_sweep(root, n_runs=sizes.report_runs, n_steps=steps, images=images)
        sweeps[name] = {"root": root, "steps": steps, "write_s": time.perf_counter() - start,
                        "event_bytes": sum(p.stat().st_size for p in root.glob(f"*/tensorboard/{EVENT_GLOB}"))}
    samples = {(sweep, label): [] for sweep in sweeps for label, _, _ in READERS}
    for _ in range(sizes.report_reps):  # interleaved; the first round also warms the page cache
        for sweep, spec in sweeps.items():
            for label, reader, jobs in READERS:
                start = time.perf_counter()
                result = spawn_worker("--report-worker", reader, "--report-sweep", str(spec["root"]),
                                      "--report-jobs", str(jobs))
                result["process_s"] = time.perf_counter() - start
                samples[(sweep, label)].append(result)
    rows = []
    python_label = "read_sweep python"
    for (sweep, label), results in samples.items():
        seconds = median(r["seconds"] for r in results)
        base = median(r["seconds"] for r in samples[(sweep, READERS[0][0])])
        python = samples[(sweep, python_label)]
        digest = results[0]["digest"]
        rows.append({
            "sweep": sweep, "reader": label, "used": results[0]["reader_used"], "read_s": seconds,
            "import_s": median(r["import_s"] for r in results),
            "process_s": median(r["process_s"] for r in results),
            "ms_per_run": 1000 * seconds / sizes.report_runs, "vs_event_accumulator": seconds / base,
            "vs_python": seconds / median(r["seconds"] for r in python),
            "tf_imported": "yes" if results[0]["tensorflow_imported"] else "no", "runs": results[0]["runs"],
            "scalar_values": results[0]["values"],
            "same_scalars": "-" if digest is None else "yes" if digest == python[0]["digest"] else "NO",
        })
    notes = [
        f"{name}: {sizes.report_runs} runs x {spec['steps']} steps, {spec['event_bytes'] / MB:.1f} MiB of event "
        f"files, written in {spec['write_s']:.1f} s" for name, spec in sweeps.items()
    ]
    notes += [
        "scalars: 22 scalar tags a step (4 gates x 5 statistics, loss, val_loss); images: the same plus "
        "4 gate images and a scale a step",
        f"read_s: the read (read_sweep or the EventAccumulator pass) in a fresh process, median of "
        f"{sizes.report_reps}, TensorFlow's import included where the reader imports it (tf_imported), "
        "except in the 'TF imported' rows, which import it before the clock (import_s); "
        "process_s: the whole worker process, Python's start and imports too",
        "EventAccumulator: a bare pass over the tensors (the legacy accumulator); report's scalars: the plugin "
        "accumulator (EventFileLoader, the compat layers read_sweep uses) giving Run.scalars",
        f"vs_python: read_s / {python_label}'s; same_scalars: every run's scalars (tags, steps, values) bit for "
        f"bit those of {python_label}",
        "used: the reader read_sweep chose (auto: python unless TensorFlow is already imported)",
    ]
    print_table(
        f"report: reading synthetic sweeps of {sizes.report_runs} runs",
        ["sweep", "reader", "used", "read_s", "import_s", "process_s", "ms_per_run", "vs_event_accumulator",
         "vs_python", "tf_imported", "scalar_values", "same_scalars"],
        rows, notes,
    )
    return {"rows": rows, "runs": sizes.report_runs,
            "sweeps": {name: {k: v for k, v in spec.items() if k != "root"} for name, spec in sweeps.items()},
            "notes": notes}
