"""The CUSTOM SCALARS tab needs no set-up: every run writes its layout once, and a real TensorBoard
serves it with charts whose tag patterns match the run's own scalars (loss with val_loss, every gate
of a statistic in one chart)."""

import re
import urllib.parse

import pytest

from conftest import plugin_of
from tests.helpers.tensorboard_server import get_json, tensorboard

pytestmark = pytest.mark.slow


def test_a_real_tensorboard_serves_the_layout_of_a_run(run_tiny):
    run_dir, _ = run_tiny(["viz=[gates,stats]", "data=random", "data.features=2"])
    plugins = plugin_of(run_dir / "tensorboard")
    assert plugins["custom_scalars__config__"] == "custom_scalars"
    scalars = {tag for tag, plugin in plugins.items() if plugin == "scalars"}
    with tensorboard(run_dir) as base:
        layout = get_json(f"{base}/data/plugin/custom_scalars/layout")
        categories = {c["title"]: c["chart"] for c in layout["category"]}
        assert set(categories) == {"Training", "lstm/kernel: every gate", "lstm/recurrent_kernel: every gate",
                                   "lstm/bias: every gate"}

        def matched(chart):
            (pattern,) = chart["multiline"]["tag"]
            return {tag for tag in scalars if re.search(pattern, tag)}

        training = {chart["title"]: matched(chart) for chart in categories["Training"]}
        assert training == {"loss and val_loss": {"metrics/loss", "metrics/val_loss"},
                            "accuracy and val_accuracy": {"metrics/accuracy", "metrics/val_accuracy"},
                            "learning rate": {"metrics/learning_rate"}}
        forget_change = {chart["title"]: matched(chart) for chart in categories["lstm/recurrent_kernel: every gate"]}
        assert set(forget_change) == {"mean", "std", "frobenius_norm", "max_abs", "change", "spectral_norm"}
        assert forget_change["change"] == {f"stats/lstm/recurrent_kernel/{g}/change"
                                           for g in ("input", "forget", "cell", "output")}
        # The plugin's own data route answers the chart's pattern with the four gates' curves.
        (pattern,) = [c["multiline"]["tag"][0] for c in categories["lstm/recurrent_kernel: every gate"]
                      if c["title"] == "change"]
        answer = get_json(f"{base}/data/plugin/custom_scalars/scalars?" +
                          urllib.parse.urlencode({"run": get_json(f"{base}/data/runs")[0], "tag": pattern}))
        assert answer["regex_valid"] is True
        assert set(answer["tag_to_events"]) == forget_change["change"]
        assert all(len(events) == 3 for events in answer["tag_to_events"].values())  # steps 0, 1, 2


def _layout_records(logdir):
    from conftest import read_events

    return [event.step for event in read_events(logdir) for value in event.summary.value
            if value.tag == "custom_scalars__config__"]


def test_the_layout_is_written_once_per_run_however_many_event_files(tmp_path, run_tiny):
    """A second fit, a second GateLogger on the same directory and a resumed run add event files, not layouts."""
    import keras
    import numpy as np

    from lstm_experiments import GateLogger
    from lstm_experiments.run.experiment import run_experiment
    from lstm_experiments.run.resume import resume_session
    from conftest import compose_config

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 5, 2)).astype("float32"), rng.normal(size=(16, 1)).astype("float32")
    model = keras.Sequential([keras.Input((5, 2)), keras.layers.LSTM(3), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    logger = GateLogger(tmp_path / "own", visualizers=("stats",), background=False)
    model.fit(x, y, epochs=1, verbose=0, callbacks=[logger])
    model.fit(x, y, epochs=1, verbose=0, callbacks=[logger])
    model.fit(x, y, epochs=1, verbose=0, callbacks=[GateLogger(tmp_path / "own", visualizers=("stats",),
                                                               background=False)])
    assert len(list((tmp_path / "own").glob("events.out.tfevents.*"))) == 3
    assert _layout_records(tmp_path / "own") == [0]

    run_dir, _ = run_tiny(["viz=stats", "train.epochs=1"])
    cfg = compose_config(["units=4", "data.n_samples=48", "data.seq_len=6", "train.epochs=2",
                          "train.batch_size=16", "viz=stats"])
    run_experiment(cfg, run_dir, session=resume_session(run_dir))
    assert len(list((run_dir / "tensorboard").glob("events.out.tfevents.*"))) == 2
    assert _layout_records(run_dir / "tensorboard") == [0]
