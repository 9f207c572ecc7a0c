"""overhead: training wall time with viz=none, the default visualizers and viz=all, interleaved
repetitions in this one process, held to the overhead targets."""

from __future__ import annotations

from pathlib import Path

from bench.common import (
    FEATURES, N_SAMPLES, SEQ_LEN, VIZ_VARIANTS, RunResult, median, model_overrides, print_table, run_ours,
)

# Overhead targets (fit time ratio to viz=none).
TARGET_DEFAULT_SMALL = 1.05  # default visualizers, units <= SMALL_UNITS
SMALL_UNITS = 128
TARGET_ALL = 1.10  # every visualizer, any units
TARGET_LARGE = 1.10  # any visualizers at units >= LARGE_UNITS
LARGE_UNITS = 1024


def overhead_target(variant: str, units: int) -> float | None:
    if variant == "none":
        return None
    if variant != "default":
        return TARGET_ALL
    if units >= LARGE_UNITS:
        return TARGET_LARGE
    return TARGET_DEFAULT_SMALL if units <= SMALL_UNITS else None


def run(sizes, workdir: Path) -> dict:
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
                "log_s": median(r.log_s for r in runs), "shutdown_s": median(r.shutdown_s for r in runs),
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
            "train_s = model.fit + the wait for the logging worker (drain_s, counted once: inside fit since "
            "GateLogger closes in on_train_end), without the drawing process' exit (shutdown_s, in the JSON); "
            "ratio = median train_s(viz) / median train_s(none), the one held to the target",
            "fit_ratio: the same on model.fit alone; paired_ratio: median over reps of train_s(viz)/train_s(none); "
            "min_ratio: min/min (least hurt by a busy machine)",
            "log_s = training-thread time in the gate logger's hooks (snapshot, probe gradients, queue waits, or "
            "everything with viz.background=false); ckpt_s = in the Checkpointer (every variant pays it)",
            "cpu_s: CPU seconds of the training process for the whole run; child_cpu_s: of its drawing process",
            "fit includes the first epoch's tf.function tracing, the same for every variant",
        ],
    )
    return {"rows": rows}
