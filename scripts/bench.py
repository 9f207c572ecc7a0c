"""Benchmarks of the experiment runner: logging overhead, event-file size, start-up, CSV loading, sweeps.

A benchmark, not a test: it prints one table per section and writes every
figure (plus the machine it ran on) to a JSON file. Times are medians over
repetitions; ratios are computed within one invocation, so they compare runs
that shared the same machine state.

    python scripts/bench.py --quick                              # smoke run, about 2 minutes
    python scripts/bench.py                                      # everything, full sizes
    python scripts/bench.py --sections overhead --units 32,128   # one section, chosen sizes
    python scripts/bench.py --sections startup,csv --out outputs/bench_startup.json
    python scripts/bench.py --profile all --units 128             # cProfile of one logged step instead

Sections (``--sections``, comma-separated, default all):

overhead  fit time with viz=none, the default visualizers and viz=all, interleaved
drawing   CPU per logged step in the drawing process, per visualizer, without training beside it
anchor    Keras' TensorBoard(histogram_freq=1, write_images=True) vs ours: s and bytes per logged step
bytes     event-file bytes per logged step per layer, by units (images are capped at max_side_px)
startup   ``--cfg job``, ``--help`` and a config error through the real CLI
csv       1,000,000 x 8 CSV into windows: time and peak memory, ours vs a naive pandas loop
sweeps    4 tiny jobs with ``-m``: basic launcher vs joblib (when the plugin is installed)
report    reading a synthetic 50-run sweep: EventAccumulator, and compare_gates.py's loader if any

Training is timed by wrapping ``keras.Model.fit`` and the project's callbacks
(``WeightLogger``, ``Checkpointer``, ``TrainingGuard``) in this process while
``runner.run_experiment`` runs unchanged. The commit and any uncommitted
changes are recorded, since the tree may be edited while a benchmark runs.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib.metadata
import importlib.util
import inspect
import io
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = Path("outputs/bench.json")
SECTIONS = ("overhead", "drawing", "anchor", "bytes", "startup", "csv", "sweeps", "report")
CONFIG_MODULE = "lstm_experiments.conf"

# The overhead/anchor/bytes model: seq_len 50, 8 features, a fixed number of sine samples.
SEQ_LEN = 50
FEATURES = 8
N_SAMPLES = 512
DATA_OVERRIDES = ["data=sine", f"data.seq_len={SEQ_LEN}", f"data.features={FEATURES}", "seed=0"]
VIZ_VARIANTS = {"none": "viz=none", "default": "viz=[kernel,gates,bias]", "all": "viz=all"}
# Overhead targets (fit time ratio to viz=none).
TARGET_DEFAULT_SMALL = 1.05  # default visualizers, units <= SMALL_UNITS
SMALL_UNITS = 128
TARGET_ALL = 1.10  # every visualizer, any units
TARGET_LARGE = 1.10  # any visualizers at units >= LARGE_UNITS
LARGE_UNITS = 1024

STARTUP_TARGET_S = 1.5
STARTUP_COMMANDS = {
    "python -c pass (floor)": ["-c", "pass"],
    "--cfg job": ["-m", "lstm_experiments", "--cfg", "job"],
    "--help": ["-m", "lstm_experiments", "--help"],
    "units=abc (config error)": ["-m", "lstm_experiments", "units=abc"],
}
# Which commands are held to the target, and the exit status each should give.
STARTUP_EXPECTED_RC = {"--cfg job": 0, "--help": 0, "units=abc (config error)": 1}

CSV_COLUMNS = 8
CSV_TARGET = "c7"
CSV_DECIMALS = 4  # cells look like 3.1416
CSV_PEAK_TARGET = 3.0  # peak memory <= this many times the float32 data

SWEEP_UNITS = "8,16,24,32"
SWEEP_SAMPLES = 128
JOBLIB_PLUGIN = "hydra_plugins.hydra_joblib_launcher"
JOBLIB_JOBS = 2
ERROR_CHARS = 120

REPORT_STEPS = 100
REPORT_GATES = ("input", "forget", "cell", "output")
REPORT_STATS = ("mean", "std", "frobenius_norm", "max_abs", "change")  # 4 x 5 = 20 scalar tags
COMPARE_GATES = REPO / "scripts" / "compare_gates.py"
SWEEP_LOADER_NAMES = ("load_sweep", "read_sweep", "load_runs")
SWEEP_READERS = ("python", "tensorflow")
READ_JOBS = 2

MB = 1024 * 1024
# --profile: one logged step after the first epoch (no first-call costs), top functions.
PROFILE_STEP = 2
PROFILE_UNITS = 128
PROFILE_TOP = 30
# drawing: the probe batch (viz.probe_size's default).
DRAWING_PROBE = 32


@dataclass(frozen=True)
class Sizes:
    units: tuple[int, ...]
    epochs: int  # overhead and anchor trainings
    reps: int  # interleaved repetitions per variant
    anchor_units: int
    bytes_units: tuple[int, ...]
    bytes_epochs: int
    bytes_samples: int  # bytes do not depend on the sample count, so train on few
    startup_reps: int
    csv_rows: int
    sweep_epochs: int
    report_runs: int
    report_reps: int
    anchor_reps: int
    drawing_steps: int = 3  # drawing: timed steps per visualizer, after step 0
    thread_variant: bool = False  # overhead: also viz=all drawn on a thread (viz.worker=thread)
    extra_variants: tuple[tuple[str, str], ...] = ()  # overhead: (name, overrides) timed with the others


FULL = Sizes(
    units=(32, 128, 512, 1024), epochs=5, reps=5, anchor_units=128,
    bytes_units=(32, 128, 512, 1024), bytes_epochs=2, bytes_samples=64,
    startup_reps=5, csv_rows=1_000_000, sweep_epochs=3, report_runs=50, report_reps=3, anchor_reps=5,
)
QUICK = Sizes(
    units=(32,), epochs=2, reps=2, anchor_units=32,
    bytes_units=(32, 512), bytes_epochs=1, bytes_samples=32,
    startup_reps=3, csv_rows=50_000, sweep_epochs=1, report_runs=10, report_reps=1, anchor_reps=1,
    drawing_steps=1,
)


# ---------------------------------------------------------------------------------------- helpers


def median(values) -> float:
    return float(statistics.median(values))


def fmt(value, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def print_table(title: str, columns: list[str], rows: list[dict], notes: list[str] = ()) -> None:
    cells = [[fmt(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) if cells else len(c) for i, c in enumerate(columns)]
    print(f"\n== {title}")
    text = [any(isinstance(row.get(c), str) for row in rows) for c in columns]
    align = [str.ljust if t else str.rjust for t in text]
    print("  ".join(a(c, w) for a, c, w in zip(align, columns, widths)))
    print("  ".join("-" * w for w in widths))
    for r in cells:
        print("  ".join(a(v, w) for a, v, w in zip(align, r, widths)))
    for note in notes:
        print(f"note: {note}")
    sys.stdout.flush()


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


def source_state() -> dict:
    """The commit measured and the files changed since (others may be editing the tree)."""

    def git(*args: str) -> str:
        result = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True)
        return result.stdout.rstrip("\n") if result.returncode == 0 else ""

    return {"commit": git("rev-parse", "--short", "HEAD"),
            "changed": [line[3:] for line in git("status", "--porcelain").splitlines()]}


def machine_info() -> dict:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    versions = {}
    for package in ("tensorflow", "keras", "tensorboard", "hydra-core", "numpy", "pandas"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "cpu_model": model,
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
        "loadavg_at_start": os.getloadavg(),
        "source": source_state(),
    }


def import_tensorflow_quietly():
    """TensorFlow without its start-up lines (the project's own import) or retracing warnings."""
    from lstm_experiments.run.tensorflow_setup import import_tensorflow

    tf = import_tensorflow()
    tf.get_logger().setLevel("ERROR")  # Keras retraces per fresh model on purpose here
    return tf


def compose_config(overrides: list[str]):
    from hydra import compose, initialize_config_module

    from lstm_experiments.config.schema import register_configs

    register_configs()
    with initialize_config_module(version_base="1.3", config_module=CONFIG_MODULE):
        return compose(config_name="config", overrides=list(overrides))


def model_overrides(units: int, epochs: int, n_samples: int = N_SAMPLES) -> list[str]:
    return [*DATA_OVERRIDES, f"data.n_samples={n_samples}", f"units={units}", f"train.epochs={epochs}"]


# Callback hooks timed inside fit: (module, class, hooks). A class or hook that a version of the
# project lacks is skipped; only hooks the class defines itself are wrapped, so Keras' choice of
# which hooks to call does not change.
TIMED_CALLBACKS = {
    "log": ("lstm_experiments.capture.callback", "WeightLogger", ("on_train_begin", "on_epoch_end", "on_train_end")),
    # After fit the runner waits for the logger's background worker (if it has one) to finish.
    "drain": ("lstm_experiments.capture.callback", "WeightLogger", ("close",)),
    "checkpoint": ("lstm_experiments.run.checkpoint", "Checkpointer", ("on_epoch_end",)),
    "guard": ("lstm_experiments.run.guard", "TrainingGuard", ("on_train_batch_end", "on_epoch_end")),
}


@dataclass
class TrainingClock:
    """What one ``run_experiment`` call spent in ``model.fit`` and in each timed callback."""

    fit_s: float = 0.0
    callback_s: dict[str, float] = field(default_factory=lambda: dict.fromkeys(TIMED_CALLBACKS, 0.0))
    logged_steps: list[int] = field(default_factory=list)


@contextlib.contextmanager
def training_clock():
    """Time ``keras.Model.fit`` and the project's callbacks by wrapping them, without touching runner.py."""
    import_tensorflow_quietly()
    import keras

    clock = TrainingClock()
    original_fit = keras.Model.fit
    patched = [(keras.Model, "fit", original_fit)]

    def timed_fit(model, *args, **kwargs):
        start = time.perf_counter()
        try:
            return original_fit(model, *args, **kwargs)
        finally:
            clock.fit_s += time.perf_counter() - start

    def timed_hook(name, method):
        def hook(self, *args, **kwargs):
            start = time.perf_counter()
            try:
                return method(self, *args, **kwargs)
            finally:
                clock.callback_s[name] += time.perf_counter() - start
                if hasattr(self, "logged_steps"):
                    clock.logged_steps = list(self.logged_steps)

        return hook

    keras.Model.fit = timed_fit
    for name, (module_name, class_name, hooks) in TIMED_CALLBACKS.items():
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError):
            continue
        for hook in hooks:
            if hook in vars(cls):
                patched.append((cls, hook, vars(cls)[hook]))
                setattr(cls, hook, timed_hook(name, vars(cls)[hook]))
    try:
        yield clock
    finally:
        for owner, attribute, original in patched:
            setattr(owner, attribute, original)


@dataclass
class RunResult:
    fit_s: float
    logged_steps: int
    event_bytes: int
    event_dir: str = ""
    callback_s: dict[str, float] = field(default_factory=dict)
    # CPU seconds of the whole run_experiment call: this process, and the drawing process it waited for.
    cpu_s: float = 0.0
    child_cpu_s: float = 0.0

    @property
    def log_s(self) -> float:
        return self.callback_s.get("log", 0.0)

    @property
    def drain_s(self) -> float:
        return self.callback_s.get("drain", 0.0)

    @property
    def train_s(self) -> float:
        """Training done and every logged step written: fit plus the wait for the logging worker."""
        return self.fit_s + self.drain_s


def run_ours(overrides: list[str], workdir: Path) -> RunResult:
    """One ``run_experiment`` call; Keras' per-epoch lines are swallowed."""
    from lstm_experiments.run.experiment import TENSORBOARD_DIR, run_experiment

    cfg = compose_config(overrides)
    run_dir = Path(tempfile.mkdtemp(dir=workdir))
    before = process_cpu_s()
    with training_clock() as clock, contextlib.redirect_stdout(io.StringIO()):
        run_experiment(cfg, run_dir)
    own, children = (after - start for after, start in zip(process_cpu_s(), before))
    event_dir = run_dir / TENSORBOARD_DIR
    return RunResult(clock.fit_s, len(clock.logged_steps), dir_bytes(event_dir), str(event_dir), clock.callback_s,
                     own, children)


def process_cpu_s() -> tuple[float, float]:
    """User + system CPU seconds of this process and of its waited-for children (the drawing process)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def run_keras(overrides: list[str], workdir: Path, with_tensorboard: bool) -> RunResult:
    """The same data, model and input pipeline as ours, fitted with Keras' own callback (or none)."""
    import_tensorflow_quietly()
    import keras

    from lstm_experiments.data import load_dataset
    from lstm_experiments.data.input_pipeline import batches
    from lstm_experiments.model import build_model, compile_model

    cfg = compose_config(overrides)
    keras.backend.clear_session()
    keras.utils.set_random_seed(cfg.seed)
    data = load_dataset(cfg.data, cfg.seed)
    model = build_model(cfg.model, cfg.units, data.input_shape, data.task)
    compile_model(model, cfg.train, data.task)
    log_dir = Path(tempfile.mkdtemp(dir=workdir))
    callbacks = [keras.callbacks.TensorBoard(str(log_dir), histogram_freq=1, write_images=True)] if with_tensorboard else []
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        model.fit(
            batches(data.x_train, data.y_train, cfg.train.batch_size, shuffle_seed=cfg.seed),
            validation_data=batches(data.x_val, data.y_val, cfg.train.batch_size),
            epochs=cfg.train.epochs, shuffle=False, callbacks=callbacks, verbose=2,
        )
    fit_s = time.perf_counter() - start
    steps = cfg.train.epochs if with_tensorboard else 0  # Keras logs weights at epochs 0..n-1
    return RunResult(fit_s, steps, dir_bytes(log_dir), str(log_dir))


def overhead_target(variant: str, units: int) -> float | None:
    if variant == "none":
        return None
    if variant != "default":
        return TARGET_ALL
    if units >= LARGE_UNITS:
        return TARGET_LARGE
    return TARGET_DEFAULT_SMALL if units <= SMALL_UNITS else None


# ---------------------------------------------------------------------------------------- sections


def section_overhead(sizes: Sizes, workdir: Path) -> dict:
    """Training time per visualizer set, interleaved none/default/all repetitions in this one process."""
    rows = []
    for units in sizes.units:
        overrides = model_overrides(units, sizes.epochs)
        run_ours([*overrides, VIZ_VARIANTS["all"]], workdir)  # warm-up: every code path once
        variants = dict(VIZ_VARIANTS)
        if sizes.thread_variant:  # the same visualizers drawn on a thread of the training process
            variants["all-thread"] = f"{VIZ_VARIANTS['all']} viz.worker=thread"
        variants.update(sizes.extra_variants)
        samples: dict[str, list[RunResult]] = {v: [] for v in variants}
        for _ in range(sizes.reps):
            for variant, viz in variants.items():
                samples[variant].append(run_ours([*overrides, *viz.split()], workdir))
        none = samples["none"]
        for variant, runs in samples.items():
            train_s = median(r.train_s for r in runs)
            ratio = train_s / median(r.train_s for r in none)
            target = overhead_target(variant, units)
            rows.append({
                "units": units, "viz": variant,
                "fit_s": median(r.fit_s for r in runs), "drain_s": median(r.drain_s for r in runs),
                "train_s": train_s, "train_s_all": [round(r.train_s, 4) for r in runs],
                "ratio": ratio,
                "fit_ratio": median(r.fit_s for r in runs) / median(r.fit_s for r in none),
                "paired_ratio": median(r.train_s / n.train_s for r, n in zip(runs, none)),
                "min_ratio": min(r.train_s for r in runs) / min(r.train_s for r in none),
                "log_s": median(r.log_s for r in runs),
                "cpu_s": median(r.cpu_s for r in runs), "child_cpu_s": median(r.child_cpu_s for r in runs),
                "ckpt_s": median(r.callback_s.get("checkpoint", 0.0) for r in runs),
                "guard_s": median(r.callback_s.get("guard", 0.0) for r in runs),
                "logged_steps": runs[0].logged_steps,
                "target": target, "met": None if target is None else ratio <= target,
            })
    print_table(
        f"overhead: training wall time, median of {sizes.reps} (epochs={sizes.epochs}, "
        f"seq_len={SEQ_LEN}, features={FEATURES}, samples={N_SAMPLES})",
        ["units", "viz", "fit_s", "drain_s", "train_s", "ratio", "fit_ratio", "paired_ratio", "min_ratio",
         "log_s", "cpu_s", "child_cpu_s", "ckpt_s", "logged_steps", "target", "met"],
        rows,
        [
            "train_s = model.fit + the wait after it for the logging worker (drain_s); "
            "ratio = median train_s(viz) / median train_s(none), the one held to the target",
            "fit_ratio: the same on model.fit alone; paired_ratio: median over reps of train_s(viz)/train_s(none); "
            "min_ratio: min/min (least hurt by a busy machine)",
            "log_s = training-thread time in WeightLogger hooks (snapshot, probe gradients, queue waits, or "
            "everything with viz.background=false); ckpt_s = in the Checkpointer (every variant pays it)",
            "cpu_s: CPU seconds of the training process for the whole run; child_cpu_s: of its drawing process",
            "fit includes the first epoch's tf.function tracing, the same for every variant",
        ],
    )
    return {"rows": rows}


def section_anchor(sizes: Sizes, workdir: Path) -> dict:
    """Keras' TensorBoard callback vs ours on the same model and data: seconds and bytes per logged step."""
    overrides = model_overrides(sizes.anchor_units, sizes.epochs)
    variants = {
        "no callback": lambda: run_keras(overrides, workdir, with_tensorboard=False),
        "keras TensorBoard": lambda: run_keras(overrides, workdir, with_tensorboard=True),
        "ours default": lambda: run_ours([*overrides, VIZ_VARIANTS["default"]], workdir),
        "ours all": lambda: run_ours([*overrides, VIZ_VARIANTS["all"]], workdir),
    }
    for name in ("keras TensorBoard", "ours all"):  # warm-up: each code path once
        variants[name]()
    samples: dict[str, list[RunResult]] = {v: [] for v in variants}
    for _ in range(sizes.anchor_reps):
        for name, run in variants.items():
            samples[name].append(run())
    base = median(r.train_s for r in samples["no callback"])
    rows = []
    for name, runs in samples.items():
        fit_s = median(r.train_s for r in runs)
        steps = runs[0].logged_steps
        event_bytes = median(r.event_bytes for r in runs)
        rows.append({
            "variant": name, "fit_s": fit_s, "logged_steps": steps,
            "s_per_step": (fit_s - base) / steps if steps else None,
            "kb_per_step": event_bytes / steps / 1024 if steps else None,
            "event_kb": event_bytes / 1024,
        })
    print_table(
        f"anchor: units={sizes.anchor_units}, epochs={sizes.epochs}, median of {sizes.anchor_reps}",
        ["variant", "fit_s", "logged_steps", "s_per_step", "kb_per_step", "event_kb"],
        rows,
        [
            "fit_s = model.fit (+ for ours, the wait for the logging worker after it); "
            "s_per_step = (median fit_s - median fit_s without callbacks) / logged weight steps",
            "Keras logs weights at epochs 0..n-1 (n steps); ours at step 0 and after every epoch (n+1)",
            "event_kb: every file the callback wrote (Keras: train/ and validation/; ours: tensorboard/)",
        ],
    )
    return {"units": sizes.anchor_units, "epochs": sizes.epochs, "rows": rows}


def event_breakdown(event_dir: Path) -> dict:
    """Serialized bytes per plugin and the largest image (width x height) in one run's event files."""
    from tensorboard.backend.event_processing.event_file_loader import RawEventFileLoader
    from tensorboard.compat.proto.event_pb2 import Event

    plugin_of: dict[str, str] = {}
    by_plugin: dict[str, int] = {}
    largest = (0, 0)
    for path in sorted(Path(event_dir).glob("events.out.tfevents.*")):
        for record in RawEventFileLoader(str(path)).Load():
            event = Event.FromString(record)
            for value in event.summary.value:
                plugin = value.metadata.plugin_data.plugin_name or plugin_of.get(value.tag, "other")
                plugin_of.setdefault(value.tag, plugin)
                by_plugin[plugin] = by_plugin.get(plugin, 0) + value.ByteSize()
                if plugin == "images" and len(value.tensor.string_val) >= 2:
                    width, height = (int(v) for v in value.tensor.string_val[:2])
                    largest = max(largest, (width, height), key=lambda wh: wh[0] * wh[1])
    return {"by_plugin": by_plugin, "largest_image": f"{largest[0]}x{largest[1]}"}


# ---------------------------------------------------------------------------------------- drawing


def _drawing_layer(units: int, rng: np.random.Generator):
    """A one-layer LSTM's matrices on Keras' initial scales (glorot-uniform kernel, orthogonal
    recurrent kernel, unit forget bias), as the drawing process receives them."""
    from lstm_experiments.capture.snapshot import RecurrentWeights

    limit = np.sqrt(6.0 / (FEATURES + 4 * units))
    q, _ = np.linalg.qr(rng.standard_normal((4 * units, units)))
    bias = np.zeros(4 * units, np.float32)
    bias[units:2 * units] = 1.0
    matrices = {"kernel": rng.uniform(-limit, limit, (FEATURES, 4 * units)).astype(np.float32),
                "recurrent_kernel": q.T.astype(np.float32), "bias": bias}
    return RecurrentWeights(layer="lstm", cell="lstm", units=units, matrices=matrices)


def _drawing_snapshots(units: int, steps: int):
    """Step 0 and ``steps`` later snapshots, each a little away from the last, as training moves them."""
    from dataclasses import replace

    from lstm_experiments.capture.snapshot import Snapshot

    rng = np.random.default_rng(0)
    layer = _drawing_layer(units, rng)
    probe_x = rng.standard_normal((DRAWING_PROBE, SEQ_LEN, FEATURES)).astype(np.float32)
    probe_y = rng.standard_normal((DRAWING_PROBE, 1)).astype(np.float32)
    head = {"kernel": rng.uniform(-0.1, 0.1, (units, 1)).astype(np.float32), "bias": np.zeros(1, np.float32),
            "activation": "linear", "loss": "mse"}
    snapshots = []
    for step in range(steps + 1):
        snapshots.append(Snapshot(step=step, layers=[layer], probe_x=probe_x, probe_y=probe_y, head=head))
        moved = {k: (v + rng.normal(0, 1e-3, v.shape)).astype(np.float32) for k, v in layer.matrices.items()}
        layer = replace(layer, matrices=moved)
    return snapshots


def drawing_cpu(visualizers: tuple[str, ...], snapshots, workdir: Path) -> tuple[float, int]:
    """Median CPU seconds of one ``Drawer.draw`` after step 0 (on one BLAS thread, as in the drawing
    process), and the event-file bytes per step."""
    from omegaconf import OmegaConf
    from threadpoolctl import threadpool_limits

    from lstm_experiments.capture.drawer import Drawer, DrawingSpec
    from lstm_experiments.config.schema import ImageConfig

    logdir = Path(tempfile.mkdtemp(dir=workdir))
    image = OmegaConf.to_container(OmegaConf.structured(ImageConfig))
    drawer = Drawer(DrawingSpec(logdir=str(logdir), visualizers=visualizers, image=image))
    samples = []
    with threadpool_limits(limits=1, user_api="blas"):
        drawer.draw(snapshots[0])
        first_bytes = dir_bytes(logdir)
        for snapshot in snapshots[1:]:
            start = time.process_time()
            drawer.draw(snapshot)
            samples.append(time.process_time() - start)
    drawer.close()
    return median(samples), (dir_bytes(logdir) - first_bytes) // (len(snapshots) - 1)


def section_drawing(sizes: Sizes, workdir: Path) -> dict:
    """CPU per logged step in the drawing process, per visualizer, without training beside it."""
    from lstm_experiments.viz import VISUALIZERS

    groups = {name: (name,) for name in VISUALIZERS}
    groups["default"] = tuple(VIZ_VARIANTS["default"].removeprefix("viz=[").removesuffix("]").split(","))
    groups["all"] = tuple(VISUALIZERS)
    rows, results = [], {}
    for units in sizes.units:
        snapshots = _drawing_snapshots(units, sizes.drawing_steps)
        row = {"units": units}
        for name, visualizers in groups.items():
            seconds, step_bytes = drawing_cpu(visualizers, snapshots, workdir)
            results[f"{units}/{name}"] = {"cpu_s": seconds, "bytes_per_step": step_bytes}
            row[name] = seconds * 1000
        rows.append(row)
    print_table(
        f"drawing: CPU ms per logged step in the drawing process (one BLAS thread; one LSTM layer, probe "
        f"{DRAWING_PROBE} x {SEQ_LEN} x {FEATURES}; median of {sizes.drawing_steps} steps after step 0)",
        ["units", *groups], [{k: (round(v, 1) if isinstance(v, float) else v) for k, v in r.items()} for r in rows],
        notes=["'all' is less than the sum: activations and gradients share one forward pass over the probe"],
    )
    return {"results": results}


def section_bytes(sizes: Sizes, workdir: Path) -> dict:
    """Event-file bytes per logged step per recurrent layer, for each units value."""
    rows = []
    for units in sizes.bytes_units:
        for variant in ("default", "all"):
            overrides = [*model_overrides(units, sizes.bytes_epochs, sizes.bytes_samples), VIZ_VARIANTS[variant]]
            layers = compose_config(overrides).model.layers
            result = run_ours(overrides, workdir)
            breakdown = event_breakdown(Path(result.event_dir))
            per_step_layer = result.event_bytes / result.logged_steps / layers
            weight_bytes = 4 * (4 * units * (FEATURES + units) + 4 * units)  # float32 kernel, recurrent, bias
            rows.append({
                "units": units, "viz": variant, "logged_steps": result.logged_steps,
                "kb_per_step_layer": per_step_layer / 1024,
                "image_kb": breakdown["by_plugin"].get("images", 0) / result.logged_steps / layers / 1024,
                "hist_kb": breakdown["by_plugin"].get("histograms", 0) / result.logged_steps / layers / 1024,
                "scalar_kb": breakdown["by_plugin"].get("scalars", 0) / result.logged_steps / layers / 1024,
                "largest_image": breakdown["largest_image"],
                "weights_kb": weight_bytes / 1024,
                "bytes_per_weight_byte": per_step_layer / weight_bytes,
            })
    print_table(
        "bytes: event-file bytes per logged step per layer",
        ["units", "viz", "logged_steps", "kb_per_step_layer", "image_kb", "hist_kb", "scalar_kb",
         "largest_image", "weights_kb", "bytes_per_weight_byte"],
        rows,
        ["weights_kb: the layer's float32 weights; images are reduced to viz.image.max_side_px"],
    )
    return {"rows": rows}


def section_startup(sizes: Sizes, workdir: Path) -> dict:
    """Wall time of CLI commands that must not import TensorFlow, each in a fresh subprocess."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    samples: dict[str, list[float]] = {name: [] for name in STARTUP_COMMANDS}
    codes: dict[str, set[int]] = {name: set() for name in STARTUP_COMMANDS}
    for _ in range(sizes.startup_reps):  # interleaved, like the trainings
        for name, args in STARTUP_COMMANDS.items():
            start = time.perf_counter()
            result = subprocess.run([sys.executable, *args], cwd=workdir, env=env, capture_output=True)
            samples[name].append(time.perf_counter() - start)
            codes[name].add(result.returncode)
    rows = []
    for name, times in samples.items():
        held = name in STARTUP_EXPECTED_RC
        seconds = median(times)
        rows.append({
            "command": name, "median_s": seconds, "min_s": min(times), "max_s": max(times),
            "exit": ",".join(map(str, sorted(codes[name]))),
            "exit_ok": codes[name] == {STARTUP_EXPECTED_RC[name]} if held else None,
            "target_s": STARTUP_TARGET_S if held else None,
            "met": seconds <= STARTUP_TARGET_S if held else None,
        })
    print_table(
        f"startup: python -m lstm_experiments ..., median of {sizes.startup_reps}",
        ["command", "median_s", "min_s", "max_s", "exit", "exit_ok", "target_s", "met"],
        rows,
    )
    return {"rows": rows}


def write_numeric_csv(path: Path, rows: int, columns: int, seed: int = 0) -> None:
    """A header and ``rows`` lines of ``columns`` numbers d.dddd, laid out as bytes with numpy."""
    scale = 10**CSV_DECIMALS
    numbers = np.random.default_rng(seed).integers(0, 10 * scale, size=(rows, columns))
    width = CSV_DECIMALS + 3  # digit, '.', decimals, separator
    cells = np.empty((rows, columns, width), dtype=np.uint8)
    cells[..., 0] = ord("0") + numbers // scale
    cells[..., 1] = ord(".")
    for k in range(CSV_DECIMALS):
        cells[..., 2 + k] = ord("0") + (numbers // 10 ** (CSV_DECIMALS - 1 - k)) % 10
    cells[..., -1] = ord(",")
    cells[:, -1, -1] = ord("\n")
    header = ",".join(f"c{i}" for i in range(columns)) + "\n"
    with open(path, "wb") as f:
        f.write(header.encode())
        f.write(cells.tobytes())


def _status_kb(field_name: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    raise KeyError(field_name)


def _reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False where that is not allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _naive_windows(path: Path, seq_len: int, val_fraction: float):
    """The usual snippet: pandas' numeric read, standardise, a Python loop over windows."""
    import pandas as pd

    values = pd.read_csv(path).to_numpy(dtype=np.float64)
    n_rows = len(values)
    n_train_rows = int(n_rows * (1.0 - val_fraction))
    values = ((values - values[:n_train_rows].mean(0)) / values[:n_train_rows].std(0)).astype(np.float32)
    xs, ys, is_train = [], [], []
    for start in range(n_rows - seq_len):
        target_row = start + seq_len
        xs.append(values[start:target_row, :-1])
        ys.append(values[target_row, -1:])
        is_train.append(target_row < n_train_rows)
    x, y, is_train = np.array(xs), np.array(ys), np.array(is_train)
    return x[is_train], y[is_train], x[~is_train], y[~is_train]


def csv_worker(variant: str, path: Path, trace: bool) -> dict:
    """One measurement in this (fresh) process; printed as JSON for the parent."""
    import tracemalloc

    from omegaconf import OmegaConf

    from lstm_experiments.data.csv_series import load_csv_series
    from lstm_experiments.config.schema import CsvDataConfig

    cfg = OmegaConf.structured(CsvDataConfig)
    cfg.path, cfg.target, cfg.seq_len, cfg.stride, cfg.horizon = str(path), CSV_TARGET, SEQ_LEN, 1, 1
    reset = _reset_peak_rss()
    rss_before_kb = _status_kb("VmRSS")
    maxrss_before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    if variant == "project":
        data = load_csv_series(cfg)
        arrays = (data.x_train, data.y_train, data.x_val, data.y_val)
    else:
        arrays = _naive_windows(path, cfg.seq_len, cfg.val_fraction)
    seconds = time.perf_counter() - start
    traced_peak = tracemalloc.get_traced_memory()[1] if trace else None
    peak_kb = _status_kb("VmHWM") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "seconds": seconds,
        "tracemalloc_peak": traced_peak,
        "rss_peak_delta": (peak_kb - (rss_before_kb if reset else maxrss_before_kb)) * 1024,
        "hwm_reset": reset,
        "windows": len(arrays[0]) + len(arrays[2]),
        "window_shape": list(arrays[0].shape[1:]),
        "window_bytes": arrays[0].nbytes + arrays[2].nbytes,
        "window_dtype": str(arrays[0].dtype),
    }


def _spawn_csv_worker(variant: str, path: Path, trace: bool) -> dict:
    args = [sys.executable, __file__, "--csv-worker", variant, "--csv-file", str(path)]
    result = subprocess.run([*args, *(["--trace"] if trace else [])], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"csv worker {variant} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def section_csv(sizes: Sizes, workdir: Path) -> dict:
    """CSV -> windows: time (untraced run) and peak memory, one fresh subprocess per measurement."""
    path = workdir / "series.csv"
    start = time.perf_counter()
    write_numeric_csv(path, sizes.csv_rows, CSV_COLUMNS)
    write_s = time.perf_counter() - start
    data_bytes = sizes.csv_rows * CSV_COLUMNS * 4
    rows = []
    for variant in ("project", "naive"):
        timed = _spawn_csv_worker(variant, path, trace=False)
        traced = _spawn_csv_worker(variant, path, trace=True)
        windows_f32 = timed["windows"] * SEQ_LEN * (CSV_COLUMNS - 1) * 4
        rss = timed["rss_peak_delta"]
        rows.append({
            "variant": variant, "time_s": timed["seconds"], "traced_time_s": traced["seconds"],
            "tracemalloc_mb": traced["tracemalloc_peak"] / MB, "rss_delta_mb": rss / MB,
            "tm_x_data": traced["tracemalloc_peak"] / data_bytes, "rss_x_data": rss / data_bytes,
            "tm_x_windows": traced["tracemalloc_peak"] / windows_f32, "rss_x_windows": rss / windows_f32,
            "windows": timed["windows"], "window_dtype": timed["window_dtype"],
            "target_x_data": CSV_PEAK_TARGET,
            "met": max(rss, traced["tracemalloc_peak"]) <= CSV_PEAK_TARGET * data_bytes,
            "hwm_reset": timed["hwm_reset"],
        })
    file_mb = path.stat().st_size / MB
    print_table(
        f"csv: {sizes.csv_rows:,} rows x {CSV_COLUMNS} columns ({file_mb:.0f} MB file, written in "
        f"{write_s:.1f} s) -> windows seq_len={SEQ_LEN}, stride 1, horizon 1",
        ["variant", "time_s", "traced_time_s", "tracemalloc_mb", "rss_delta_mb", "tm_x_data", "rss_x_data",
         "tm_x_windows", "rss_x_windows", "windows", "window_dtype", "target_x_data", "met"],
        rows,
        [
            f"float32 data = rows x cols x 4 = {data_bytes / MB:.1f} MB; float32 windows = windows x "
            f"{SEQ_LEN} x {CSV_COLUMNS - 1} x 4 = {rows[0]['windows'] * SEQ_LEN * (CSV_COLUMNS - 1) * 4 / MB:.1f} MB",
            "the windows alone are seq_len x features/cols times the data, so materialised windows "
            "cannot meet a peak <= 3x the data",
            "rss_delta = VmHWM after - VmRSS before (VmHWM reset first); time_s from the untraced run",
        ],
    )
    return {"rows": rows, "data_bytes": data_bytes, "file_bytes": path.stat().st_size}


def _last_error_line(stderr: str) -> str:
    """The last line of a failed command's stderr that names an error (loky folds tracebacks onto one line)."""
    lines = [line.strip() for line in stderr.replace("; ", "\n").splitlines() if line.strip()]
    errors = [line for line in lines if "Error" in line or line.startswith("error")]
    return (errors or lines or [""])[-1]


def section_sweeps(sizes: Sizes, workdir: Path) -> dict:
    """Four tiny jobs through the real CLI: the basic launcher, then joblib when installed."""
    base = ["-m", "lstm_experiments", "-m", f"units={SWEEP_UNITS}", f"train.epochs={sizes.sweep_epochs}",
            f"data.n_samples={SWEEP_SAMPLES}"]
    launchers = {"basic": []}
    try:
        joblib_found = importlib.util.find_spec(JOBLIB_PLUGIN) is not None
    except ModuleNotFoundError:
        joblib_found = False
    if joblib_found:
        launchers["joblib"] = ["hydra/launcher=joblib", f"hydra.launcher.n_jobs={JOBLIB_JOBS}"]
    rows = []
    for name, extra in launchers.items():
        cwd = Path(tempfile.mkdtemp(dir=workdir))
        start = time.perf_counter()
        result = subprocess.run([sys.executable, *base, *extra], cwd=cwd, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        jobs = len(list(cwd.glob("multirun/**/metrics.json")))
        failure = _last_error_line(result.stderr) if result.returncode != 0 else ""
        rows.append({"launcher": name, "exit": result.returncode, "jobs": jobs, "wall_s": seconds,
                     "s_per_job": seconds / jobs if jobs else None, "error": failure[:ERROR_CHARS]})
    notes = [] if joblib_found else ["joblib: skipped: pip install hydra-joblib-launcher"]
    print_table(
        f"sweeps: -m units={SWEEP_UNITS} train.epochs={sizes.sweep_epochs} data.n_samples={SWEEP_SAMPLES}",
        ["launcher", "exit", "jobs", "wall_s", "s_per_job", "error"], rows, notes,
    )
    return {"rows": rows, "notes": notes}


def _write_synthetic_sweep(root: Path, runs: int) -> int:
    tf = import_tensorflow_quietly()
    tags = [f"stats/lstm/kernel/{g}/{s}" for g in REPORT_GATES for s in REPORT_STATS]
    values = np.random.default_rng(0).standard_normal((runs, REPORT_STEPS, len(tags)))
    for run in range(runs):
        run_dir = root / f"units={run}"
        (run_dir / ".hydra").mkdir(parents=True)
        (run_dir / ".hydra" / "overrides.yaml").write_text(f"- units={run}\n")
        (run_dir / "metrics.json").write_text(json.dumps({"status": "completed", "val_loss": 0.0}))
        writer = tf.summary.create_file_writer(str(run_dir / "tensorboard"))

        # One graph call per step (eager tf.summary.scalar costs ~1 ms a call); traced per run,
        # since the function captures the default writer.
        @tf.function
        def write_step(step, row):
            for index, tag in enumerate(tags):
                tf.summary.scalar(tag, row[index], step=step)

        with writer.as_default():
            for step in range(REPORT_STEPS):
                write_step(tf.constant(step, tf.int64), tf.constant(values[run, step], tf.float32))
        writer.close()
    return len(tags)


def _read_with_event_accumulator(root: Path) -> int:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.util import tensor_util

    count = 0
    for run_dir in sorted(root.glob("*/tensorboard")):
        accumulator = EventAccumulator(str(run_dir), size_guidance={"tensors": 0})
        accumulator.Reload()
        for tag in accumulator.Tags()["tensors"]:
            count += sum(tensor_util.make_ndarray(e.tensor_proto).size for e in accumulator.Tensors(tag))
    return count


def _sweep_loaders() -> list[tuple[str, object]]:
    """(label, reader of a sweep dir) for scripts/compare_gates.py's sweep loader, if it has one.

    The loader is looked up in compare_gates.py itself, then in the modules its functions come
    from (it may only wrap ``lstm_experiments.report.sweep_report``). A loader with a ``reader`` argument
    is timed with each reader, and with ``jobs`` processes where it takes that.
    """
    if not COMPARE_GATES.is_file():
        return []
    spec = importlib.util.spec_from_file_location("compare_gates", COMPARE_GATES)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    modules = [script] + [
        sys.modules[f.__module__] for f in vars(script).values()
        if callable(f) and getattr(f, "__module__", None) in sys.modules and f.__module__ != script.__name__
    ]
    for module in modules:
        for name in SWEEP_LOADER_NAMES:
            function = getattr(module, name, None)
            if callable(function):
                break
        else:
            continue
        label = f"{module.__name__}.{name}"
        parameters = inspect.signature(function).parameters
        if "reader" not in parameters:
            return [(label, function)]
        loaders = []
        for reader in SWEEP_READERS:
            loaders.append((f"{label}(reader={reader})", functools.partial(function, reader=reader)))
            if "jobs" in parameters and reader == "python":
                loaders.append((
                    f"{label}(reader={reader}, jobs={READ_JOBS})",
                    functools.partial(function, reader=reader, jobs=READ_JOBS),
                ))
        return loaders
    return []


def section_report(sizes: Sizes, workdir: Path) -> dict:
    """Read a synthetic sweep (runs x 100 steps x 20 scalar tags) back."""
    root = workdir / "sweep"
    start = time.perf_counter()
    n_tags = _write_synthetic_sweep(root, sizes.report_runs)
    write_s = time.perf_counter() - start
    readers = [("EventAccumulator", _read_with_event_accumulator), *_sweep_loaders()]
    samples: dict[str, list[float]] = {name: [] for name, _ in readers}
    for _ in range(sizes.report_reps):  # interleaved; the first round also warms the page cache
        for name, read in readers:
            start = time.perf_counter()
            read(root)
            samples[name].append(time.perf_counter() - start)
    rows = []
    for name, times in samples.items():
        seconds = median(times)
        rows.append({"reader": name, "read_s": seconds, "ms_per_run": 1000 * seconds / sizes.report_runs,
                     "vs_event_accumulator": seconds / median(samples["EventAccumulator"])})
    notes = [f"sweep written with tf.summary in {write_s:.1f} s; read times are medians of {sizes.report_reps}"]
    if len(readers) == 1:
        notes.append("scripts/compare_gates.py has no sweep loader (or does not exist): plain EventAccumulator only")
    print_table(
        f"report: {sizes.report_runs} runs x {REPORT_STEPS} steps x {n_tags} scalar tags",
        ["reader", "read_s", "ms_per_run", "vs_event_accumulator"], rows, notes,
    )
    return {"rows": rows, "runs": sizes.report_runs, "steps": REPORT_STEPS, "tags": n_tags, "notes": notes}


def profile_logged_step(units: int, variant: str, workdir: Path) -> None:
    """Print a cProfile of one ``WeightLogger.log_weights`` call (step PROFILE_STEP)."""
    import cProfile
    import pstats

    import_tensorflow_quietly()
    from lstm_experiments.capture.callback import WeightLogger

    profiler = cProfile.Profile()
    original = WeightLogger.log_weights
    wall = {}

    def log_weights(self, step, *args, **kwargs):
        if step != PROFILE_STEP:
            return original(self, step, *args, **kwargs)
        start = time.perf_counter()
        profiler.enable()
        try:
            return original(self, step, *args, **kwargs)
        finally:
            profiler.disable()
            wall["s"] = time.perf_counter() - start

    WeightLogger.log_weights = log_weights
    try:
        overrides = [*model_overrides(units, PROFILE_STEP + 1), VIZ_VARIANTS[variant]]
        if "background" in compose_config(overrides).viz:  # draw and write on this thread, where cProfile looks
            overrides.append("viz.background=false")
        run_ours(overrides, workdir)
    finally:
        WeightLogger.log_weights = original
    print(f"== profile: one logged step (step {PROFILE_STEP}), units={units}, viz={variant}: "
          f"{wall['s']:.3f} s wall; load average {os.getloadavg()[0]:.2f}")
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("cumulative").print_stats(PROFILE_TOP)
    stats.sort_stats("tottime").print_stats(PROFILE_TOP // 2)


SECTION_FUNCTIONS = {
    "overhead": section_overhead,
    "drawing": section_drawing,
    "anchor": section_anchor,
    "bytes": section_bytes,
    "startup": section_startup,
    "csv": section_csv,
    "sweeps": section_sweeps,
    "report": section_report,
}


# ---------------------------------------------------------------------------------------- main


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", default=",".join(SECTIONS), help=f"comma-separated: {','.join(SECTIONS)}")
    parser.add_argument("--quick", action="store_true", help="small sizes and few repetitions (smoke run)")
    parser.add_argument("--units", help="comma-separated units for overhead and bytes, e.g. 32,128")
    parser.add_argument("--reps", type=int, help="repetitions per variant (overhead, anchor)")
    parser.add_argument("--epochs", type=int, help="epochs per training (overhead, anchor)")
    parser.add_argument("--thread-variant", action="store_true",
                        help="overhead: also time viz=all drawn on a thread of the training process (viz.worker=thread)")
    parser.add_argument("--variant", action="append", metavar="NAME=OVERRIDES",
                        help="overhead: another variant, e.g. 'no-gradients=viz=all viz.gradients=false' "
                             "(target: as for all)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"JSON file (default {DEFAULT_OUT})")
    parser.add_argument(
        "--profile", choices=tuple(VIZ_VARIANTS),
        help=f"instead of the sections: cProfile one logged step (at the first --units, default {PROFILE_UNITS})",
    )
    # Internal: one CSV measurement in a fresh process.
    parser.add_argument("--csv-worker", choices=("project", "naive"), help=argparse.SUPPRESS)
    parser.add_argument("--csv-file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = [s for s in args.sections if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown sections {unknown}; choose from {','.join(SECTIONS)}")
    return args


def sizes_for(args: argparse.Namespace) -> Sizes:
    sizes = asdict(QUICK if args.quick else FULL)
    if args.units:
        units = tuple(int(u) for u in args.units.split(","))
        sizes.update(units=units, bytes_units=units)
    if args.reps:
        sizes.update(reps=args.reps, anchor_reps=args.reps)
    if args.epochs:
        sizes.update(epochs=args.epochs)
    if args.thread_variant:
        sizes.update(thread_variant=True)
    if args.variant:
        sizes.update(extra_variants=tuple(tuple(v.split("=", 1)) for v in args.variant))
    return Sizes(**sizes)


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.csv_worker:
        print(json.dumps(csv_worker(args.csv_worker, args.csv_file, args.trace)))
        return
    if args.profile:
        units = int(args.units.split(",")[0]) if args.units else PROFILE_UNITS
        with tempfile.TemporaryDirectory(prefix="bench_profile_") as workdir:
            profile_logged_step(units, args.profile, Path(workdir))
        return
    sizes = sizes_for(args)
    machine = machine_info()
    print(
        f"machine: {machine['cpu_count']} CPUs ({machine['cpus_usable']} usable), {machine['cpu_model']}, "
        f"{machine['memory_gib']} GiB; python {machine['python']}; tensorflow {machine['versions']['tensorflow']}, "
        f"keras {machine['versions']['keras']}; load average {', '.join(f'{x:.2f}' for x in machine['loadavg_at_start'])}"
    )
    source = machine["source"]
    print(f"source: {source['commit']}" + (f" + changes to {', '.join(source['changed'])}" if source["changed"] else ""))
    print(f"sizes: {'quick' if args.quick else 'full'} {asdict(sizes)}")
    report = {"machine": machine, "quick": args.quick, "sizes": asdict(sizes), "sections": {}}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for name in args.sections:
        start = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix=f"bench_{name}_") as workdir:
            result = SECTION_FUNCTIONS[name](sizes, Path(workdir))
        result["section_s"] = time.perf_counter() - start
        result["loadavg_after"] = os.getloadavg()
        report["sections"][name] = result
        print(f"({name}: {result['section_s']:.0f} s)")
        args.out.write_text(json.dumps(report, indent=2, default=str))  # after each section, so partial runs keep
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
