"""drawing: CPU per logged step in the drawing process, per visualizer, on synthetic snapshots of
one LSTM layer, without training beside it."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common import FEATURES, SEQ_LEN, VIZ_VARIANTS, dir_bytes, median, print_table

DRAWING_PROBE = 32  # the probe batch (viz.probe_size's default)


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
    from threadpoolctl import threadpool_limits

    from lstm_experiments.capture.drawer import Drawer, DrawingSpec

    logdir = Path(tempfile.mkdtemp(dir=workdir))
    drawer = Drawer(DrawingSpec(logdir=str(logdir), visualizers=visualizers))
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


def run(sizes, workdir: Path) -> dict:
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
