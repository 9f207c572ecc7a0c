"""The same config and seed give identical weights and identical logged values.

README, Reproducibility: "the same config and seed give identical weights and identical
logged values". Checked in one process (two runs one after the other: no state leaks from
one run into the next) and across two processes (nothing depends on the process: hash
seeds, thread timing, import order), comparing every event of the event files.
"""

import json

import numpy as np
import pytest

from conftest import TINY, read_events, read_tensors, run_cli

# Every visualizer: images, histograms, statistics, the probe's activations and gradients.
SAME = ["viz=all", "seed=7"]


def test_same_seed_same_weights_and_summaries(run_tiny):
    import keras

    first, _ = run_tiny(SAME)
    second, _ = run_tiny(SAME)
    weights = [keras.models.load_model(d / "model.keras", compile=False).get_weights() for d in (first, second)]
    assert len(weights[0]) == len(weights[1])
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)
    logged = [read_tensors(d / "tensorboard") for d in (first, second)]
    assert logged[0].keys() == logged[1].keys()
    for tag, values in logged[0].items():
        if tag.startswith("_hparams_"):
            continue  # names the run directory, which differs (the two-process test compares them)
        other = logged[1][tag]
        assert [s for s, _ in values] == [s for s, _ in other], tag  # same steps, same count
        for (step, a), (_, b) in zip(values, other):
            np.testing.assert_array_equal(a, b, err_msg=f"{tag} at step {step}")


def test_another_seed_gives_other_weights(run_tiny):
    import keras

    a, _ = run_tiny(["viz=none", "seed=1"])
    b, _ = run_tiny(["viz=none", "seed=2"])
    wa = keras.models.load_model(a / "model.keras", compile=False).get_weights()[0]
    wb = keras.models.load_model(b / "model.keras", compile=False).get_weights()[0]
    assert not np.array_equal(wa, wb)


def comparable(event):
    """An event without what is wall-clock time: its wall_time and the HParams records' timestamps."""
    from tensorboard.plugins.hparams import plugin_data_pb2

    event = type(event).FromString(event.SerializeToString())
    event.ClearField("wall_time")
    for value in event.summary.value:
        plugin = value.metadata.plugin_data
        if plugin.plugin_name == "hparams":
            data = plugin_data_pb2.HParamsPluginData.FromString(plugin.content)
            # Only the record's own kind: touching the other member of the oneof would replace it.
            kind = data.WhichOneof("data")
            if kind == "experiment":
                data.experiment.ClearField("time_created_secs")  # hparams_config_pb's time.time()
            elif kind == "session_start_info":
                data.session_start_info.ClearField("start_time_secs")  # hparams_pb's time.time()
            plugin.content = data.SerializeToString(deterministic=True)
    return event


def describe(event):
    return f"step {event.step}: " + (", ".join(v.tag for v in event.summary.value) or event.WhichOneof("what"))


@pytest.mark.slow
def test_two_processes_write_the_same_events(tmp_path):
    runs = []
    for name in ("a", "b"):
        # Same directory name in both (the HParams trial id is the run directory's name).
        run_dir = tmp_path / name / "run"
        result = run_cli([*TINY, *SAME, f"hydra.run.dir={run_dir}"], cwd=tmp_path)
        assert result.returncode == 0, result.stderr[-2000:]
        runs.append(run_dir)
    events = [[comparable(e) for e in read_events(d / "tensorboard")] for d in runs]
    # Same number of events, then each one equal: every tag, step and value, in the same order.
    assert len(events[0]) == len(events[1]), [describe(e) for e in events[0]][-5:]
    tags, values = set(), 0
    for index, (a, b) in enumerate(zip(*events)):
        assert a == b, f"event {index} ({describe(a)}) differs from ({describe(b)})"
        tags |= {v.tag for v in a.summary.value}
        values += len(a.summary.value)
    # One event per logged step holds all of that step's summaries: hundreds of values in all.
    assert values > 300, values
    # Every visualizer's summaries were among those compared.
    assert {t.split("/")[0] for t in tags} >= {"kernel", "gates", "bias", "histograms", "scale", "stats",
                                               "delta", "activations", "saturation", "gradients",
                                               "metrics", "_hparams_"}
    metrics = [json.loads((d / "metrics.json").read_text()) for d in runs]
    assert metrics[0] == metrics[1]
    import keras

    weights = [keras.models.load_model(d / "model.keras", compile=False).get_weights() for d in runs]
    assert len(weights[0]) == len(weights[1])
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)
