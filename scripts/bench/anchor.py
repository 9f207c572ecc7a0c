"""anchor: Keras' TensorBoard(histogram_freq=1, write_images=True) against ours on the same model,
data and input pipeline: seconds and bytes per logged step."""

from __future__ import annotations

from pathlib import Path

from bench.common import VIZ_VARIANTS, RunResult, median, model_overrides, print_table, run_keras, run_ours


def run(sizes, workdir: Path) -> dict:
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
        for name, run_variant in variants.items():
            samples[name].append(run_variant())
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
