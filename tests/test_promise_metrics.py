"""README promise: a classification run logs accuracy, and HParams ranks runs by the metric tags.

Tag reference: "``metrics/loss``, ``metrics/val_loss`` (``metrics/accuracy``,
``metrics/val_accuracy``) | scalars | always | the epoch's training metrics"; Sweeps: every
run logs its config to HParams "with ``metrics/loss`` and ``metrics/val_loss`` (and accuracy
for classification) as its metrics". The HParams records are read from the event file with
TensorBoard's own EventAccumulator and hparams plugin protos (test_sweeps.py checks a
regression sweep through a server; nothing checked a classification run's metrics).
"""

import json

import pytest

LOSSES = {"metrics/loss", "metrics/val_loss"}
LEARNING_RATE = "metrics/learning_rate"  # logged every epoch, not an HParams metric
ACCURACIES = {"metrics/accuracy", "metrics/val_accuracy"}
LAST = 2


def hparams_plugin_data(logdir):
    """{tag: HParamsPluginData} of the run's ``_hparams_/...`` summaries."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import plugin_data_pb2

    acc = EventAccumulator(str(logdir), size_guidance={"tensors": 0})
    acc.Reload()
    out = {}
    for tag in acc.Tags()["tensors"]:
        metadata = acc.SummaryMetadata(tag)
        if metadata.plugin_data.plugin_name == "hparams":
            out[tag] = plugin_data_pb2.HParamsPluginData.FromString(metadata.plugin_data.content)
    return out


@pytest.fixture(params=["stacked", "gru"])
def run_and_metrics(request):
    """The classification run (data=random) and the regression one (sine), with their metric tags."""
    run = request.getfixturevalue(f"{request.param}_run")
    expected = LOSSES | ACCURACIES if request.param == "stacked" else LOSSES
    return run, expected


def test_metric_scalars_are_the_epochs_metrics(run_and_metrics):
    run, expected = run_and_metrics
    assert run.cfg.data.name == ("random" if expected != LOSSES else "sine")
    logged = {t for t, p in run.plugins.items() if t.startswith("metrics/")}
    assert logged == expected | {LEARNING_RATE}
    assert all(run.plugins[t] == "scalars" for t in logged)
    saved = json.loads((run.dir / "metrics.json").read_text())
    for tag in logged:
        assert [s for s, _ in run.tensors[tag]] == [1, LAST], tag
        name = tag.split("/")[1]
        # The last epoch's value is the final metric the run reports.
        assert float(run.at(tag, LAST)) == pytest.approx(saved[name], rel=1e-6), tag
    if expected == LOSSES:
        assert "accuracy" not in saved and "val_accuracy" not in saved


def test_hparams_lists_the_metric_tags(run_and_metrics):
    run, expected = run_and_metrics
    plugin = hparams_plugin_data(run.dir / "tensorboard")
    assert set(plugin) == {"_hparams_/experiment", "_hparams_/session_start_info"}
    experiment = plugin["_hparams_/experiment"].experiment
    metrics = {info.name.tag for info in experiment.metric_infos}
    assert metrics == expected
    # The HParams dashboard finds each metric's values under that scalar tag in the same run.
    assert metrics <= {t for t, p in run.plugins.items() if p == "scalars"}
    start = plugin["_hparams_/session_start_info"].session_start_info
    assert start.hparams["data.name"].string_value == run.cfg.data.name
    assert start.hparams["units"].number_value == 5
    assert {info.name for info in experiment.hparam_infos} == set(start.hparams)
