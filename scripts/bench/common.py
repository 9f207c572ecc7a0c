"""What the sections share: the model they train, tables, medians, config composition, timed
trainings (ours and Keras' own), and measurements in fresh worker processes."""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# The entry point; worker processes (--csv-worker, --report-worker) are started through it.
ENTRY = REPO / "scripts" / "bench.py"
CONFIG_MODULE = "lstm_experiments.conf"
MB = 1024 * 1024

# The overhead/anchor/bytes model: seq_len 50, 8 features, a fixed number of sine samples.
SEQ_LEN = 50
FEATURES = 8
N_SAMPLES = 512
DATA_OVERRIDES = ["data=sine", f"data.seq_len={SEQ_LEN}", f"data.features={FEATURES}", "seed=0"]
VIZ_VARIANTS = {"none": "viz=none", "default": "viz=[kernel,gates,bias]", "all": "viz=all"}


# ---------------------------------------------------------------------------------------- tables


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


# ---------------------------------------------------------------------------------------- processes


def spawn_worker(*args: str) -> dict:
    """Run ``scripts/bench.py <args>`` in a fresh interpreter; its last stdout line is a JSON object."""
    result = subprocess.run([sys.executable, str(ENTRY), *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"worker {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def process_cpu_s() -> tuple[float, float]:
    """User + system CPU seconds of this process and of its waited-for children (the drawing process)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


# ---------------------------------------------------------------------------------------- config


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


# ---------------------------------------------------------------------------------------- trainings

# Callback hooks timed inside fit: (module, class, hooks). A Checkpointer, TrainingGuard or hook
# that a version of the project lacks is skipped; only hooks the class defines itself are wrapped,
# so Keras' choice of which hooks to call does not change. The logger itself must be found: its
# logged steps are what the anchor and bytes sections divide by (it was WeightLogger until
# 1d444d5, and a silently skipped logger made them divide by zero).
LOGGER = ("lstm_experiments.capture.callback", "GateLogger")
TIMED_CALLBACKS = {
    "log": (*LOGGER, ("on_train_begin", "on_epoch_end", "on_train_end")),
    # The wait for the logger's background worker to finish. Since 1d444d5 GateLogger closes
    # itself in on_train_end, inside fit (before, the runner called close after fit): the clock
    # tells the two apart, so neither fit nor log_s counts the wait twice.
    "drain": (*LOGGER, ("close",)),
    # The drawing process' exit (interpreter teardown) after its last record is written: not
    # training time, and outside the timed region before 1d444d5 too.
    "shutdown": ("lstm_experiments.capture.drawing_process", "DrawingProcess", ("close",)),
    "checkpoint": ("lstm_experiments.run.checkpoint", "Checkpointer", ("on_epoch_end",)),
    "guard": ("lstm_experiments.run.guard", "TrainingGuard", ("on_train_batch_end", "on_epoch_end")),
}


def find_class(module_name: str, class_name: str):
    """``module_name.class_name``, or None where this version of the project has no such class."""
    try:
        return getattr(importlib.import_module(module_name), class_name, None)
    except ImportError:
        return None


def logger_class():
    """The project's Keras callback that logs the gates."""
    cls = find_class(*LOGGER)
    if cls is None:
        raise RuntimeError(f"no {LOGGER[1]} in {LOGGER[0]}: update bench.common.LOGGER")
    return cls


@dataclass
class TrainingClock:
    """What one ``run_experiment`` call spent in ``model.fit`` and in each timed callback."""

    fit_s: float = 0.0
    callback_s: dict[str, float] = field(
        default_factory=lambda: dict.fromkeys((*TIMED_CALLBACKS, "drain_in_fit", "shutdown_in_fit"), 0.0))
    logged_steps: list[int] = field(default_factory=list)
    in_fit: bool = False


@contextlib.contextmanager
def training_clock():
    """Time ``keras.Model.fit`` and the project's callbacks by wrapping them, without touching the runner."""
    import_tensorflow_quietly()
    import keras

    clock = TrainingClock()
    original_fit = keras.Model.fit
    patched = [(keras.Model, "fit", original_fit)]

    def timed_fit(model, *args, **kwargs):
        start = time.perf_counter()
        clock.in_fit = True
        try:
            return original_fit(model, *args, **kwargs)
        finally:
            clock.in_fit = False
            clock.fit_s += time.perf_counter() - start

    def timed_hook(name, method):
        def hook(self, *args, **kwargs):
            start = time.perf_counter()
            try:
                return method(self, *args, **kwargs)
            finally:
                elapsed = time.perf_counter() - start
                clock.callback_s[name] += elapsed
                if clock.in_fit and name in ("drain", "shutdown"):
                    clock.callback_s[f"{name}_in_fit"] += elapsed
                if hasattr(self, "logged_steps"):
                    clock.logged_steps = list(self.logged_steps)

        return hook

    logger_class()  # raises here, before fit is patched, if the logger cannot be found
    keras.Model.fit = timed_fit
    for name, (module_name, class_name, hooks) in TIMED_CALLBACKS.items():
        cls = find_class(module_name, class_name)
        if cls is None:
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
    def shutdown_s(self) -> float:
        """The drawing process' exit after its last record, wherever it happened."""
        return self.callback_s.get("shutdown", 0.0)

    @property
    def log_s(self) -> float:
        """Training-thread time in the logger's hooks, less the final drain when on_train_end did it."""
        return self.callback_s.get("log", 0.0) - self.callback_s.get("drain_in_fit", 0.0)

    @property
    def drain_s(self) -> float:
        """The wait for every logged step to be written, less the drawing process' exit."""
        return self.callback_s.get("drain", 0.0) - self.shutdown_s

    @property
    def train_s(self) -> float:
        """Training done and every logged step written: fit plus the wait for the logging worker
        (counted once, inside fit or after it), without the drawing process' exit."""
        outside = self.callback_s.get("drain", 0.0) - self.callback_s.get("drain_in_fit", 0.0)
        return self.fit_s + outside - self.callback_s.get("shutdown_in_fit", 0.0)


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


def run_keras(overrides: list[str], workdir: Path, with_tensorboard: bool) -> RunResult:
    """The same data, model and input pipeline as ours, fitted with Keras' own callback (or none)."""
    import_tensorflow_quietly()
    import keras

    from lstm_experiments.data import load_dataset
    from lstm_experiments.data.input_pipeline import batches, training_batches
    from lstm_experiments.model import build_run_model

    cfg = compose_config(overrides)
    keras.backend.clear_session()
    keras.utils.set_random_seed(cfg.seed)
    data = load_dataset(cfg.data, cfg.seed)
    model = build_run_model(cfg, data)
    log_dir = Path(tempfile.mkdtemp(dir=workdir))
    callbacks = [keras.callbacks.TensorBoard(str(log_dir), histogram_freq=1, write_images=True)] if with_tensorboard else []
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        train_batches, steps_per_epoch = training_batches(data.x_train, data.y_train, cfg.train.batch_size,
                                                          seed=cfg.seed)
        model.fit(
            train_batches, steps_per_epoch=steps_per_epoch,
            validation_data=batches(data.x_val, data.y_val, cfg.train.batch_size),
            epochs=cfg.train.epochs, shuffle=False, callbacks=callbacks, verbose=2,
        )
    fit_s = time.perf_counter() - start
    steps = cfg.train.epochs if with_tensorboard else 0  # Keras logs weights at epochs 0..n-1
    return RunResult(fit_s, steps, dir_bytes(log_dir), str(log_dir))


def status_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (the peak resident set) of ``pid``, in KiB, from /proc; {} once it is gone."""
    found = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0])
    except OSError:
        return {}
    return found


def child_pids(pid: int) -> list[int]:
    """The direct children of ``pid`` (of each of its threads), from /proc."""
    kids = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids += [int(k) for k in (task / "children").read_text().split()]
        except OSError:
            continue
    return kids
