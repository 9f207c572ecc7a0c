"""A fake sweep directory with the layout and tags of a real one, for the report's tests and timing.

Writing it needs TensorFlow (``tf.summary`` writes the event files exactly as a
run does); reading it back is the report's job and does not.
"""

import json
import logging
from pathlib import Path

import numpy as np
import yaml

from lstm_experiments.gates.layout import GATE_NAMES
from lstm_experiments.report.runs import COMPLETED, FAILED
from lstm_experiments.run.layout import CONFIG_FILE, METRICS_FILE, OVERRIDES_FILE, TENSORBOARD_DIR
from lstm_experiments.tensorboard import tags

# The statistics every matrix has (spectral_norm is only logged for the recurrent kernel).
SYNTHETIC_STATS = tags.STATISTICS[:5]
SYNTHETIC_METRICS = ("loss", "val_loss")
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
    from tensorboard.plugins.scalar.metadata import create_summary_metadata

    from lstm_experiments.viz.colour import diverging_rgb

    scalar_metadata = create_summary_metadata(display_name=None, description=None)
    gates = GATE_NAMES["lstm"]
    scalar_tags = [tags.statistic(layer, matrix, g, s) for g in gates for s in SYNTHETIC_STATS]
    scalar_tags += [tags.metric(name) for name in SYNTHETIC_METRICS]
    for i in range(n_runs):
        run_dir = sweep_dir / str(i)
        (run_dir / OVERRIDES_FILE).parent.mkdir(parents=True, exist_ok=True)
        units, seed = 4 + 2 * (i // seeds), i % seeds
        overrides = [f"units={units}", f"seed={seed}"]
        (run_dir / OVERRIDES_FILE).write_text(yaml.safe_dump(overrides))
        (run_dir / CONFIG_FILE).write_text(yaml.safe_dump({"units": units, "seed": seed}))
        rng = np.random.default_rng(i)
        values = np.cumsum(rng.normal(0.0, 0.05, size=(n_steps, len(scalar_tags))), axis=0) + 1.0
        decay = np.exp(-np.arange(n_steps) / max(1.0, n_steps / 4))[:, None]
        values[:, -2:] = decay * (1.0 + 0.1 * i) + rng.uniform(0, 0.01, size=(n_steps, 2))
        values = values.astype(np.float32)
        writer = tf.summary.create_file_writer(str(run_dir / TENSORBOARD_DIR))

        def write_all(table):
            # tf.summary.scalar's own write, minus its name scope: inside the graph's while
            # loop that scope would prefix every tag with "while/".
            for step in tf.range(tf.shape(table)[0]):
                for k, tag in enumerate(scalar_tags):
                    tf.summary.write(tag, table[step, k], step=tf.cast(step, tf.int64),
                                     metadata=scalar_metadata)

        with writer.as_default():
            if n_steps * len(scalar_tags) > EAGER_SYNTHETIC_MAX:
                # One graph per run (the writer is captured, so one trace each) writes all
                # its scalars: about twice as fast as eager calls for long runs.
                tf.function(write_all)(tf.constant(values))
            else:
                for step in range(n_steps):
                    for k, tag in enumerate(scalar_tags):
                        tf.summary.write(tag, values[step, k], step=step, metadata=scalar_metadata)
            if images:
                weights = rng.normal(0, 0.5, size=(n_steps, units, units * len(gates)))
                scale = float(np.abs(weights[0]).max())
                factor = max(1, 64 // units)
                for step in range(n_steps):
                    tf.summary.scalar(tags.scale(layer, matrix), scale, step=step)
                    for g, gate in enumerate(gates):
                        block = weights[step][:, g * units:(g + 1) * units]
                        pixels = diverging_rgb(block, scale).repeat(factor, 0).repeat(factor, 1)
                        tf.summary.image(tags.gate_image(layer, matrix, gate), pixels[None], step=step)
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
