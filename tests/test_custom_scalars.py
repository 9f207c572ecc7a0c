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
