"""batches: logging every N optimizer steps (``viz.log_every_batches``): training time against viz=none,
bytes per logged step, steps logged and skipped, the drawing process' memory over the run, what the skip
policy saves, and the GATES routes on a run of 5,000 logged steps.

Four parts, each a measurement of the runner (``run_experiment`` in this process, timed as the
overhead section times it: ``common.run_ours``):

1. Training time. At ``UNITS`` units on sine data of ``sizes.batches_samples`` windows (80 % of them
   training windows, in batches of ``BATCH_SIZE``: 125 batches per epoch at the full size) for
   ``sizes.batches_epochs`` epochs, the variants of ``variants()``: ``viz=none``, the default
   visualizers logged by epoch, the defaults with ``viz.log_every_batches`` 10, 50 and 200, every
   visualizer with 50, and every visualizer with 1 (the drawing then falls behind: part 3).
   Repetitions interleaved, the order rotated each repetition, medians; target: the defaults with
   ``log_every_batches=50`` within ``TARGET_DEFAULT_50`` of ``viz=none``.
2. Per run, from the same runs: logged steps (the logger's), steps skipped (``skipped_steps`` in the
   run's ``metrics.json``), event-file bytes per logged step, the drawing process' CPU; and the
   drawing process' RSS (``VmRSS`` of the child running ``python -m
   lstm_experiments.capture.drawing_process``, polled from ``/proc`` every ``RSS_SAMPLE_S`` by a
   thread of this process, in every variant, and its ``VmHWM``), the largest sample in the first
   and in the last quarter of ``fit``; memory is flat when the last quarter's is within
   ``FLAT_MB`` of the first's. This process' own RSS likewise (weights queued for the drawing
   would show there).
3. The skip policy: ``viz=all viz.log_every_batches=1``, a logged step per optimizer step, which
   drawing cannot keep up with: steps skipped, and the training time that blocking would have
   cost, estimated as the measured time plus the skipped steps times the drawing CPU of one step
   (``bench.drawing.drawing_cpu`` on synthetic snapshots of the same layer, as the drawing
   section measures it; the run's own drawing CPU per drawn step beside it).
4. The GATES routes: one run logging ``sizes.batches_route_steps`` steps and more (tiny: 8 units,
   ``log_every_batches=1``, drawn inline, ``viz.background=false``, so that no step is skipped),
   served by TensorBoard as ``lstm-experiments-board`` starts it (``bench.load.Board``); once every
   step is listed, ``runs``, ``weights`` at random matrices and steps and, where the plugin has the
   route, ``positions?run``, timed over HTTP one request at a time; target p95 <= ``P95_TARGET_MS``.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
import threading
import time
import urllib.error
from pathlib import Path

from bench.common import (
    DATA_OVERRIDES, FEATURES, MB, SEQ_LEN, VIZ_VARIANTS, RunResult, child_pids, compose_config,
    import_tensorflow_quietly, median, print_table, run_ours, status_kib,
)

UNITS = 128
BATCH_SIZE = 32
TARGET_DEFAULT_50 = 1.10  # the defaults with log_every_batches=50, training time / viz=none
FLAT_MB = 10.0  # memory is flat when the last quarter's largest RSS is within this of the first quarter's
RSS_SAMPLE_S = 0.05
DRAWING_MODULE = "lstm_experiments.capture.drawing_process"

# Part 4: a tiny model, every optimizer step logged and drawn inline (none skipped).
ROUTE_UNITS = 8
ROUTE_EPOCHS = 5
ROUTE_BATCH = 8
ROUTE_SEQ_LEN = 10
ROUTE_VIZ = [VIZ_VARIANTS["default"], "viz.log_every_batches=1", "viz.background=false"]
P95_TARGET_MS = 300.0


def variants() -> dict[str, str]:
    """Variant name -> its viz overrides; ``none`` first (every ratio is to it)."""
    default, every = VIZ_VARIANTS["default"], VIZ_VARIANTS["all"]
    return {
        "none": VIZ_VARIANTS["none"],
        "default": default,
        "default/10": f"{default} viz.log_every_batches=10",
        "default/50": f"{default} viz.log_every_batches=50",
        "default/200": f"{default} viz.log_every_batches=200",
        "all/50": f"{every} viz.log_every_batches=50",
        "all/1": f"{every} viz.log_every_batches=1",
    }


def log_every_batches(viz: str) -> int | None:
    for override in viz.split():
        if override.startswith("viz.log_every_batches="):
            return int(override.split("=", 1)[1])
    return None


def target(variant: str) -> float | None:
    return TARGET_DEFAULT_50 if variant == "default/50" else None


def data_overrides(n_samples: int, epochs: int) -> list[str]:
    return [*DATA_OVERRIDES, f"data.n_samples={n_samples}", f"train.batch_size={BATCH_SIZE}", f"units={UNITS}",
            f"train.epochs={epochs}"]


def optimizer_steps(overrides: list[str]) -> tuple[int, int]:
    """(batches per epoch, optimizer steps of the whole run) for ``overrides``' data and batch size."""
    from lstm_experiments.data import load_dataset

    cfg = compose_config(overrides)
    data = load_dataset(cfg.data, cfg.seed)
    per_epoch = math.ceil(len(data.x_train) / cfg.train.batch_size)
    return per_epoch, per_epoch * cfg.train.epochs


# ---------------------------------------------------------------------------------------- memory


def _is_drawing_process(pid: int) -> bool:
    try:
        return DRAWING_MODULE in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False


class RssSampler(threading.Thread):
    """Polls the VmRSS of this process and of its drawing process (a child running ``DRAWING_MODULE``)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.own: list[tuple[float, int]] = []  # (perf_counter, KiB)
        self.drawing: list[tuple[float, int]] = []
        self.drawing_hwm_kib = 0
        self.drawing_pids: set[int] = set()
        self._checked: set[int] = set()
        self._halt = threading.Event()

    def run(self):
        me = os.getpid()
        while not self._halt.is_set():
            now = time.perf_counter()
            for pid in child_pids(me):
                if pid not in self._checked:
                    self._checked.add(pid)
                    if _is_drawing_process(pid):
                        self.drawing_pids.add(pid)
                if pid in self.drawing_pids:
                    status = status_kib(pid)
                    if status:
                        self.drawing.append((now, status.get("VmRSS", 0)))
                        self.drawing_hwm_kib = max(self.drawing_hwm_kib, status.get("VmHWM", 0))
            self.own.append((now, status_kib(me).get("VmRSS", 0)))
            self._halt.wait(RSS_SAMPLE_S)

    def stop(self):
        self._halt.set()
        self.join()


def quarters(samples: list[tuple[float, int]], start: float, end: float) -> dict | None:
    """The largest RSS (MB) over ``[start, end]`` and in its first and last quarter, and how many samples."""
    inside = [(t, kib) for t, kib in samples if start <= t <= end]
    if not inside:
        return None
    quarter = (end - start) / 4
    first = [kib for t, kib in inside if t < start + quarter]
    last = [kib for t, kib in inside if t >= end - quarter]
    if not first or not last:
        return None
    each = [[kib for t, kib in inside if start + i * quarter <= t <= start + (i + 1) * quarter] for i in range(4)]
    result = {"max_mb": max(k for _, k in inside) / 1024, "first_quarter_mb": max(first) / 1024,
              "last_quarter_mb": max(last) / 1024, "samples": len(inside),
              "quarters_mb": [round(max(q) / 1024, 1) if q else None for q in each]}
    result["growth_mb"] = result["last_quarter_mb"] - result["first_quarter_mb"]
    return result


@contextlib.contextmanager
def fit_window(window: dict):
    """Record when ``keras.Model.fit`` starts and ends (outside ``common.training_clock``'s own wrapper)."""
    import_tensorflow_quietly()
    import keras

    original = keras.Model.fit

    def fit(model, *args, **kwargs):
        window["start"] = time.perf_counter()
        try:
            return original(model, *args, **kwargs)
        finally:
            window["end"] = time.perf_counter()

    keras.Model.fit = fit
    try:
        yield
    finally:
        keras.Model.fit = original


def run_sampled(overrides: list[str], workdir: Path, every: int | None = None,
                total: int = 0) -> tuple[RunResult, dict]:
    """``run_ours`` with the RSS sampled; (its result, {skipped_steps, where they were, drawing memory, own
    memory}); ``every``: its ``log_every_batches``, ``total``: its optimizer steps."""
    window: dict = {}
    sampler = RssSampler()
    sampler.start()
    try:
        with fit_window(window):
            result = run_ours(overrides, workdir)
    finally:
        sampler.stop()
    metrics = json.loads((Path(result.event_dir).parent / "metrics.json").read_text())
    start, end = window.get("start", 0.0), window.get("end", 0.0)
    drawing = quarters(sampler.drawing, start, end)
    if drawing is not None:
        drawing["peak_mb"] = max(drawing["max_mb"], sampler.drawing_hwm_kib / 1024)
    return result, {"skipped_steps": metrics.get("skipped_steps"), "status": metrics.get("status"),
                    "skipped_by_quarter": skipped_by_quarter(Path(result.event_dir), every, total) if every else None,
                    "drawing": drawing, "own": quarters(sampler.own, start, end)}


# ---------------------------------------------------------------------------------------- skipped steps

DRAWN_PLUGINS = ("images", "histograms", "lstm_gates")


def drawn_steps(event_dir: Path) -> set[int]:
    """The steps whose weights reached the event files (a tag of ``DRAWN_PLUGINS`` at that step)."""
    from tensorboard.backend.event_processing.event_file_loader import RawEventFileLoader
    from tensorboard.compat.proto.event_pb2 import Event

    plugin_of: dict[str, str] = {}
    steps = set()
    for path in sorted(Path(event_dir).glob("events.out.tfevents.*")):
        for record in RawEventFileLoader(str(path)).Load():
            event = Event.FromString(record)
            for value in event.summary.value:
                plugin = plugin_of.setdefault(value.tag, value.metadata.plugin_data.plugin_name)
                if plugin in DRAWN_PLUGINS:
                    steps.add(event.step)
    return steps


def skipped_by_quarter(event_dir: Path, every: int, total: int) -> list[int]:
    """How many of the batch steps due (every ``every`` of ``total``) were not drawn, per quarter of the run."""
    missing = set(range(every, total + 1, every)) - drawn_steps(event_dir)
    return [sum(1 for step in missing if i * total / 4 < step <= (i + 1) * total / 4) for i in range(4)]


# ---------------------------------------------------------------------------------------- parts 1-3


def _med(values) -> float | None:
    values = [v for v in values if v is not None]
    return median(values) if values else None


def time_variants(sizes, workdir: Path) -> tuple[list[dict], list[dict], dict]:
    overrides = data_overrides(sizes.batches_samples, sizes.batches_epochs)
    per_epoch, steps = optimizer_steps(overrides)
    named = variants()
    run_ours([*overrides, *named["all/50"].split()], workdir)  # warm-up: every code path once
    samples: dict[str, list[tuple[RunResult, dict]]] = {v: [] for v in named}
    order = list(named)
    for rep in range(sizes.batches_reps):
        for variant in order[rep % len(order):] + order[:rep % len(order)]:  # rotated each repetition
            samples[variant].append(run_sampled([*overrides, *named[variant].split()], workdir,
                                                log_every_batches(named[variant]), steps))
    none = [r for r, _ in samples["none"]]
    none_s = median(r.train_s for r in none)
    rows, memory = [], []
    for variant, runs in samples.items():
        results = [r for r, _ in runs]
        extra = [e for _, e in runs]
        train_s = median(r.train_s for r in results)
        logged = median(r.logged_steps for r in results)
        skipped = _med(e["skipped_steps"] for e in extra)
        ratio = train_s / none_s
        limit = target(variant)
        child = median(r.child_cpu_s for r in results)
        rows.append({
            "viz": variant, "train_s": train_s, "train_s_all": [round(r.train_s, 4) for r in results],
            "ratio": ratio,
            "paired_ratio": median(r.train_s / n.train_s for r, n in zip(results, none)),
            "min_ratio": min(r.train_s for r in results) / min(r.train_s for r in none),
            "fit_s": median(r.fit_s for r in results), "drain_s": median(r.drain_s for r in results),
            "logged_steps": int(logged), "logged_steps_all": [r.logged_steps for r in results],
            "skipped_steps": None if skipped is None else int(skipped),
            "skipped_steps_all": [e["skipped_steps"] for e in extra],
            "skipped_by_quarter": [sum(q) for q in zip(*(e["skipped_by_quarter"] for e in extra))]
            if extra[0]["skipped_by_quarter"] else None,
            "kb_per_step": median(r.event_bytes / r.logged_steps / 1024 for r in results if r.logged_steps)
            if logged else None,
            "event_mb": median(r.event_bytes for r in results) / MB,
            "cpu_s": median(r.cpu_s for r in results), "child_cpu_s": child,
            "child_ms_per_step": 1000 * child / logged if logged else None,
            "target": limit, "met": None if limit is None else ratio <= limit,
        })
        drawn = [e["drawing"] for e in extra if e["drawing"]]
        own = [e["own"] for e in extra if e["own"]]
        row = {"viz": variant}
        if drawn:
            row.update(
                peak_mb=max(d["peak_mb"] for d in drawn),
                first_quarter_mb=median(d["first_quarter_mb"] for d in drawn),
                last_quarter_mb=median(d["last_quarter_mb"] for d in drawn),
                growth_mb=median(d["growth_mb"] for d in drawn),
                max_growth_mb=max(d["growth_mb"] for d in drawn),
                quarters_mb=[_med(d["quarters_mb"][i] for d in drawn) for i in range(4)],
                samples=int(median(d["samples"] for d in drawn)),
                flat=max(d["growth_mb"] for d in drawn) <= FLAT_MB,
            )
        if own:
            row.update(own_first_mb=median(o["first_quarter_mb"] for o in own),
                       own_last_mb=median(o["last_quarter_mb"] for o in own),
                       own_growth_mb=median(o["growth_mb"] for o in own))
        row["runs"] = extra
        memory.append(row)
    setup = {"overrides": overrides, "batches_per_epoch": per_epoch, "optimizer_steps": steps}
    return rows, memory, setup


def skip_policy(sizes, rows: list[dict], workdir: Path) -> dict:
    """What blocking training on the drawing would have cost in the ``all/1`` variant."""
    from bench.drawing import _drawing_snapshots, drawing_cpu
    from lstm_experiments.viz import VISUALIZERS

    snapshots = _drawing_snapshots(UNITS, sizes.drawing_steps)
    draw_all_s, _ = drawing_cpu(tuple(VISUALIZERS), snapshots, workdir)
    default = tuple(VIZ_VARIANTS["default"].removeprefix("viz=[").removesuffix("]").split(","))
    draw_default_s, _ = drawing_cpu(default, snapshots, workdir)
    by_name = {row["viz"]: row for row in rows}
    one, none = by_name["all/1"], by_name["none"]
    skipped = one["skipped_steps"] or 0
    blocking_s = one["train_s"] + skipped * draw_all_s
    in_run_s = one["child_ms_per_step"] / 1000 if one["child_ms_per_step"] else None
    return {
        "variant": "all/1", "optimizer_steps": None, "logged_steps": one["logged_steps"], "skipped_steps": skipped,
        "train_s": one["train_s"], "ratio": one["ratio"],
        "draw_ms_per_step": draw_all_s * 1000, "draw_default_ms_per_step": draw_default_s * 1000,
        "in_run_draw_ms_per_step": None if in_run_s is None else in_run_s * 1000,
        "blocking_train_s": blocking_s, "blocking_ratio": blocking_s / none["train_s"],
        "blocking_train_s_in_run_cpu": None if in_run_s is None else one["train_s"] + skipped * in_run_s,
    }


# ---------------------------------------------------------------------------------------- part 4


def route_overrides(steps: int) -> list[str]:
    """A run of at least ``steps`` optimizer steps, every one logged (5 epochs of steps / 5 batches)."""
    per_epoch = math.ceil(steps / ROUTE_EPOCHS)
    n_samples = math.ceil(per_epoch * ROUTE_BATCH / 0.8)  # 80 % of the windows train
    return ["data=sine", f"data.seq_len={ROUTE_SEQ_LEN}", f"data.n_samples={n_samples}",
            f"train.batch_size={ROUTE_BATCH}", f"units={ROUTE_UNITS}", f"train.epochs={ROUTE_EPOCHS}", "seed=0",
            *ROUTE_VIZ]


def measure_routes(sizes, workdir: Path) -> tuple[list[dict], list[str], dict]:
    from bench.load import Board, _memory_note, _row, _url, timed_get, weights_urls

    overrides = route_overrides(sizes.batches_route_steps)
    start = time.perf_counter()
    result = run_ours(overrides, workdir)
    run_s = time.perf_counter() - start
    run_dir = Path(result.event_dir).parent
    metrics = json.loads((run_dir / "metrics.json").read_text())
    steps = result.logged_steps
    rng = random.Random(0)
    n = sizes.batches_route_requests
    with Board(run_dir, workdir / "tensorboard_batches.log") as board:
        ready_s, (entry,) = board.wait_loaded(1, steps)
        loaded = board.memory.snapshot()
        first = timed_get(_url(board.base, "runs"))
        index = [timed_get(_url(board.base, "runs")) for _ in range(n)]
        weights = [timed_get(url) for url in weights_urls(board.base, [entry], n, rng)]
        positions_url = _url(board.base, "positions", run=entry["run"])
        try:
            positions = [timed_get(positions_url)]
        except urllib.error.HTTPError as error:
            if error.code != 404:
                raise
            positions = None
        else:
            positions += [timed_get(positions_url) for _ in range(n - 1)]
        after = board.memory.snapshot()
        command = board.command
    rows = [
        _row(f"runs (1 run, {steps} steps), first after load", [first], None),
        _row(f"runs (1 run, {steps} steps)", index, P95_TARGET_MS),
        _row("weights, random matrix/step", weights, P95_TARGET_MS),
    ]
    if positions is not None:
        rows.append(_row("positions?run", positions, P95_TARGET_MS))
    event_bytes = result.event_bytes
    notes = [
        f"route run: {' '.join(overrides)} ({run_s:.0f} s in this process; {steps} logged steps, skipped "
        f"{metrics.get('skipped_steps')}; event file {event_bytes / MB:.1f} MB, {event_bytes / steps / 1024:.1f} KB "
        f"per logged step)",
        f"TensorBoard: {' '.join(Path(c).name if i == 0 else c for i, c in enumerate(command))}; every step listed "
        f"{ready_s:.1f} s after the start",
        "positions?run: " + ("timed" if positions is not None else "no such route in this version of the plugin "
                                                                   "(404): skipped"),
        _memory_note("TensorBoard once loaded", loaded),
        _memory_note("TensorBoard after the requests", after),
    ]
    detail = {"overrides": overrides, "run_s": run_s, "logged_steps": steps,
              "skipped_steps": metrics.get("skipped_steps"), "event_bytes": event_bytes, "ready_s": ready_s,
              "tensorboard_command": command, "positions_route": positions is not None,
              "memory_loaded": loaded, "memory_after": after}
    return rows, notes, detail


# ---------------------------------------------------------------------------------------- the section


def run(sizes, workdir: Path) -> dict:
    rows, memory, setup = time_variants(sizes, workdir)
    overrides = " ".join(setup["overrides"][len(DATA_OVERRIDES):])
    print_table(
        f"batches: training time by log_every_batches, median of {sizes.batches_reps} interleaved (units={UNITS}, "
        f"seq_len={SEQ_LEN}, features={FEATURES}, {setup['batches_per_epoch']} batches per epoch, "
        f"{setup['optimizer_steps']} optimizer steps)",
        ["viz", "train_s", "ratio", "paired_ratio", "min_ratio", "drain_s", "logged_steps", "skipped_steps",
         "skipped_by_quarter", "kb_per_step", "event_mb", "child_cpu_s", "child_ms_per_step", "target", "met"],
        rows,
        [f"common to every variant: {overrides}; viz: none = viz=none, default = {VIZ_VARIANTS['default']} by epoch, "
         f"default/N = the same with viz.log_every_batches=N, all/N = {VIZ_VARIANTS['all']} with N",
         "train_s, ratio, paired_ratio, min_ratio, drain_s: as in the overhead section (fit + the wait for the "
         "drawing, ratio = median / median of none)",
         "logged_steps: the logger's (step 0, the batch steps drawn, the last; by epoch: step 0 and each epoch); "
         "skipped_steps: metrics.json's; skipped_by_quarter: the batch steps due but not in the event file, per "
         "quarter of the optimizer steps, summed over the repetitions; kb_per_step: event-file bytes / logged steps",
         "child_cpu_s: the drawing process' CPU in the run (its start-up included); child_ms_per_step: per "
         "logged step"],
    )
    print_table(
        f"batches: RSS over fit, sampled every {RSS_SAMPLE_S} s (largest sample in the first and last quarter; "
        f"medians over the repetitions, peak and max_growth over all)",
        ["viz", "peak_mb", "first_quarter_mb", "last_quarter_mb", "growth_mb", "max_growth_mb", "quarters_mb",
         "samples", "flat",
         "own_first_mb", "own_last_mb", "own_growth_mb"],
        memory,
        [f"peak/first/last/growth: the drawing process ({DRAWING_MODULE}; with viz=none too: it writes the epoch "
         f"metrics); peak = max(VmHWM, samples); quarters_mb: the largest sample in each quarter of fit; flat: "
         f"max_growth_mb <= {FLAT_MB:.0f} MB (a fit of a few seconds, as at --quick, is mostly the child's start-up)",
         "own_*: this (training) process, where queued weight copies would show"],
    )
    policy = skip_policy(sizes, rows, workdir)
    policy["optimizer_steps"] = setup["optimizer_steps"]
    print_table(
        "batches: the skip policy, viz=all viz.log_every_batches=1 (a step per optimizer step)",
        ["variant", "optimizer_steps", "logged_steps", "skipped_steps", "train_s", "ratio", "draw_ms_per_step",
         "in_run_draw_ms_per_step", "blocking_train_s", "blocking_ratio"],
        [policy],
        ["draw_ms_per_step: the drawing section's CPU of one logged step with every visualizer at this size "
         f"(synthetic snapshots, one BLAS thread; the defaults: {policy['draw_default_ms_per_step']:.0f} ms); "
         "in_run_draw_ms_per_step: the run's drawing CPU / its logged steps",
         "blocking_train_s = train_s + skipped_steps x draw_ms_per_step: what training would have taken had "
         "every skipped step waited for its drawing; blocking_ratio: that / viz=none's train_s"],
    )
    route_rows, route_notes, routes = measure_routes(sizes, workdir)
    print_table(
        f"batches: the GATES routes over HTTP on one run of {routes['logged_steps']} logged steps "
        f"(units={ROUTE_UNITS}; one request at a time)",
        ["measure", "n", "median_ms", "p95_ms", "max_ms", "kb", "target_p95_ms", "met"],
        route_rows, route_notes + ["ms: from the request to the body's last byte, a fresh connection each; "
                                   "kb: the median answer's size"],
    )
    return {"setup": setup, "rows": rows, "memory": memory, "skip_policy": policy, "routes": route_rows,
            "route_notes": route_notes, "route_run": routes, "target_default_50": TARGET_DEFAULT_50,
            "p95_target_ms": P95_TARGET_MS, "flat_mb": FLAT_MB}
