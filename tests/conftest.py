"""Shared fixtures: compose configs in-process, run tiny trainings, read event files back."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_module

from lstm_experiments.config.schema import register_configs

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
    from lstm_experiments.run.experiment import run_experiment

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


def decode_bwr(pixels, scale):
    """Invert the blue-white-red map: value = scale*(R/255-1) where B is 255, else scale*(1-G/255)."""
    import numpy as np

    rgb = np.asarray(pixels).astype(np.float64)
    red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return np.where(blue == 255, scale * (red / 255 - 1), scale * (1 - green / 255))


def image_cfg(**overrides):
    """The image config, with any field overridden."""
    from omegaconf import OmegaConf

    from lstm_experiments.config.schema import ImageConfig

    cfg = OmegaConf.structured(ImageConfig)
    return OmegaConf.merge(cfg, overrides) if overrides else cfg


def run_cli(args, cwd, timeout=300, env_extra=None):
    env = dict(os.environ)
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "lstm_experiments", *args],
        cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env,
    )
