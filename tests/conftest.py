"""Shared fixtures: compose configs in-process, run tiny trainings, read event files back."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_module

from lstm_experiments.schema import register_configs

register_configs()

REPO = Path(__file__).resolve().parents[1]
# Small enough that a whole training takes a second or two on two cores.
TINY = [
    "units=4",
    "data.n_samples=48",
    "data.seq_len=6",
    "train.epochs=2",
    "train.batch_size=16",
]


def compose_config(overrides=()):
    with initialize_config_module(version_base="1.3", config_module="lstm_experiments.conf"):
        return compose(config_name="config", overrides=list(overrides))


@pytest.fixture
def make_config():
    return compose_config


@pytest.fixture
def run_tiny(tmp_path):
    """Train a tiny model in-process; returns (run dir, metrics)."""
    from lstm_experiments.runner import run_experiment

    counter = iter(range(1000))

    def run(overrides=(), tiny=True):
        cfg = compose_config([*(TINY if tiny else []), *overrides])
        run_dir = tmp_path / f"run{next(counter)}"
        return run_dir, run_experiment(cfg, run_dir)

    return run


def read_tensors(logdir):
    """{tag: [(step, numpy value or bytes list)]} with TensorBoard's own reader, keeping every step."""
    import tensorflow as tf
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(logdir), size_guidance={"tensors": 0})
    acc.Reload()
    out = {}
    for tag in acc.Tags()["tensors"]:
        out[tag] = [(e.step, tf.make_ndarray(e.tensor_proto)) for e in acc.Tensors(tag)]
    return out


def plugin_of(logdir):
    """{tag: plugin name} from the summary metadata in the event files."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(logdir), size_guidance={"tensors": 0})
    acc.Reload()
    return {tag: acc.SummaryMetadata(tag).plugin_data.plugin_name for tag in acc.Tags()["tensors"]}


def decode_image(value):
    """An image summary's tensor ([width, height, png, ...]) as uint8 (H, W, 3)."""
    import tensorflow as tf

    return tf.io.decode_png(value[2]).numpy()


def run_cli(args, cwd, timeout=300, env_extra=None):
    env = dict(os.environ)
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "lstm_experiments", *args],
        cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env,
    )
