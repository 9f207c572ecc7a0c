"""What every run logs for the ``lstm_gates`` plugin, read back with TensorBoard's own reader.

Tiny trainings (a CSV LSTM, a GRU, a bidirectional LSTM, one whose matrices are
reduced) and a ``GateLogger`` on a plain Keras model: the exact plugin tag sets,
the last step's tensors against ``model.keras``, ``/initial`` against the
checkpoint's W_0, the metadata content, the activations' ``hidden`` and
``cell_state`` panels against Keras' own layer recomputed on the probe, and
metadata on the first value of each tag in each event file only.
"""

import numpy as np
import pytest

from conftest import (TINY, TinyRun, compose_config, plugin_of, read_events, read_tensors, saved_matrices,
                      train_tiny)
from lstm_experiments.board import metadata
from lstm_experiments.board.metadata import PLUGIN_NAME, PROBE_SEQUENCES, decode_content

LSTM_GATES = ["input", "forget", "cell", "output"]
GRU_GATES = ["update", "reset", "candidate"]
LSTM_MATRICES = ("kernel", "recurrent_kernel", "bias")
GRU_MATRICES = ("kernel", "recurrent_kernel", "bias", "recurrent_bias")
EPOCHS = 2
LAST = EPOCHS
CSV_FEATURES = ["load", "temp"]
SEQ_LEN = 6


def _csv(path):
    rng = np.random.default_rng(0)
    rows = 60
    t = np.arange(rows)
    lines = ["time,load,bytes,temp"] + [
        f"2026-01-01T{i % 24:02d}:00,{np.sin(i / 4):.4f},{100 + 10 * np.sin(i / 5):.3f},{rng.normal():.4f}"
        for i in t
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def _run(tmp_path_factory, name, overrides):
    """TINY plus ``overrides``, trained once for the module."""
    run_dir, metrics = train_tiny(tmp_path_factory.mktemp(name) / "run", overrides)
    return TinyRun(run_dir, metrics, overrides, name)


@pytest.fixture(scope="module")
def lstm_run(tmp_path_factory):
    csv = _csv(tmp_path_factory.mktemp("csv") / "series.csv")
    overrides = ["data=csv", f"data.path={csv}", "data.target=bytes", f"data.seq_len={SEQ_LEN}",
                 "viz=[gates,activations]", "units=6", f"train.epochs={EPOCHS}", "train.batch_size=16",
                 "train.learning_rate=0.03"]
    run_dir, metrics = train_tiny(tmp_path_factory.mktemp("lstm") / "run", overrides, tiny=False)
    run = TinyRun(run_dir, metrics, [], "lstm")
    run._cache["cfg"] = compose_config(overrides)
    return run


@pytest.fixture(scope="module")
def gru_run(tmp_path_factory):
    return _run(tmp_path_factory, "gru", ["model=gru", "viz=gates", "units=5", "train.learning_rate=0.03"])


@pytest.fixture(scope="module")
def bidirectional_run(tmp_path_factory):
    return _run(tmp_path_factory, "bidirectional",
                ["model.bidirectional=true", "data=random", "data.features=3", "viz=[gates,activations]",
                 "train.learning_rate=0.03"])


@pytest.fixture(scope="module")
def reduced_run(tmp_path_factory):
    return _run(tmp_path_factory, "reduced",
                ["units=8", "viz.image.max_side_px=4", "viz=[kernel,gates,activations]", "data=adding"])


def contents(logdir):
    """{tag: decoded content} of every lstm_gates tag, from the summary metadata TensorBoard kept."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(logdir), size_guidance={"tensors": 0})
    acc.Reload()
    out = {}
    for tag in acc.Tags()["tensors"]:
        plugin_data = acc.SummaryMetadata(tag).plugin_data
        if plugin_data.plugin_name == PLUGIN_NAME:
            out[tag] = decode_content(plugin_data.content)
    return out


def plugin_tags(plugins):
    return {tag for tag, plugin in plugins.items() if plugin == PLUGIN_NAME}


def expected_tags(layers, activations=False, findings=True):
    """``findings``: the run had a probe and findings on (the runner's default): the findings so far, and per
    layer the gradient through time and the per-unit figures (findings/)."""
    expected = {metadata.position_tag()} | ({metadata.findings_tag()} if findings else set())
    for layer, matrices in layers:
        expected |= {metadata.weights_tag(layer, m) for m in matrices}
        expected |= {metadata.initial_tag(layer, m) for m in matrices}
        if activations:
            expected |= {metadata.activations_tag(layer), metadata.input_tag(layer)}
        if findings:
            expected |= {metadata.through_time_tag(layer), metadata.units_tag(layer)}
    if activations:
        expected.add(metadata.probe_tag())
    return expected


def as_row(values):
    values = np.asarray(values)
    return values.reshape(1, -1) if values.ndim == 1 else values


def probe_of(run):
    from lstm_experiments.data import load_dataset

    cfg = run.cfg
    data = load_dataset(cfg.data, cfg.seed)
    return np.asarray(data.x_val[: cfg.viz.probe_size], dtype=np.float32), data


def keras_model(run):
    import keras

    return keras.models.load_model(run.dir / "model.keras", compile=False)


# --------------------------------------------------------------------------- tag sets


def test_an_lstm_run_writes_exactly_the_plugin_tags(lstm_run):
    expected = expected_tags([("lstm", LSTM_MATRICES)], activations=True)
    assert plugin_tags(lstm_run.plugins) == expected
    # Every lstm_gates/ tag is the plugin's, and no other tag is.
    assert {t for t in lstm_run.plugins if t.startswith(f"{PLUGIN_NAME}/")} == expected


def test_a_gru_run_logs_its_recurrent_bias(gru_run):
    assert plugin_tags(gru_run.plugins) == expected_tags([("gru", GRU_MATRICES)])


def test_a_bidirectional_run_logs_both_halves(bidirectional_run):
    layers = [("forward_lstm", LSTM_MATRICES), ("backward_lstm", LSTM_MATRICES)]
    assert plugin_tags(bidirectional_run.plugins) == expected_tags(layers, activations=True)


def test_steps_weights_every_logged_step_initial_and_probe_at_step_zero(lstm_run):
    for matrix in LSTM_MATRICES:
        assert [s for s, _ in lstm_run.tensors[metadata.weights_tag("lstm", matrix)]] == [0, 1, LAST]
        assert [s for s, _ in lstm_run.tensors[metadata.initial_tag("lstm", matrix)]] == [0]
    assert [s for s, _ in lstm_run.tensors[metadata.activations_tag("lstm")]] == [0, 1, LAST]
    assert [s for s, _ in lstm_run.tensors[metadata.probe_tag()]] == [0]


def test_metadata_is_on_the_first_value_of_each_tag_only(lstm_run):
    events = read_events(lstm_run.dir / "tensorboard")
    described, seen = {}, {}
    for event in events:
        for value in event.summary.value:
            if value.tag.startswith(f"{PLUGIN_NAME}/"):
                seen[value.tag] = seen.get(value.tag, 0) + 1
                if value.HasField("metadata"):
                    assert seen[value.tag] == 1, value.tag
                    assert value.metadata.plugin_data.plugin_name == PLUGIN_NAME
                    described[value.tag] = described.get(value.tag, 0) + 1
    assert set(described) == set(seen) == plugin_tags(lstm_run.plugins)
    assert set(described.values()) == {1}


# --------------------------------------------------------------------------- values


@pytest.mark.parametrize("fixture, layers", [
    ("lstm_run", [("lstm", LSTM_MATRICES)]),
    ("gru_run", [("gru", GRU_MATRICES)]),
    ("bidirectional_run", [("forward_lstm", LSTM_MATRICES), ("backward_lstm", LSTM_MATRICES)]),
])
def test_last_step_is_model_keras_and_initial_is_the_checkpoint(request, fixture, layers):
    run = request.getfixturevalue(fixture)
    final, initial = run.weights
    for layer, matrices in layers:
        for matrix in matrices:
            logged = run.at(metadata.weights_tag(layer, matrix), LAST)
            assert logged.dtype == np.float16
            np.testing.assert_array_equal(logged, as_row(final[layer][matrix]).astype(np.float16))
            first = run.at(metadata.initial_tag(layer, matrix), 0)
            np.testing.assert_array_equal(first, as_row(initial[layer][matrix]).astype(np.float16))
            np.testing.assert_array_equal(run.at(metadata.weights_tag(layer, matrix), 0), first)
            assert not np.array_equal(logged, first) or matrix.endswith("bias"), (layer, matrix)


def test_weights_content(lstm_run, gru_run, bidirectional_run):
    for run, layers, cell, gates, units, features in (
        (lstm_run, ["lstm"], "lstm", LSTM_GATES, 6, CSV_FEATURES),
        (gru_run, ["gru"], "gru", GRU_GATES, 5, ["sine0"]),
        (bidirectional_run, ["forward_lstm", "backward_lstm"], "lstm", LSTM_GATES, 4, ["x0", "x1", "x2"]),
    ):
        found = contents(run.dir / "tensorboard")
        _, initial = run.weights
        for layer in layers:
            for matrix, w0 in initial[layer].items():
                w0 = as_row(w0)
                largest = float(np.abs(w0).max())
                for tag, kind in ((metadata.weights_tag(layer, matrix), "weights"),
                                  (metadata.initial_tag(layer, matrix), "initial")):
                    content = found[tag]
                    assert content == {
                        "kind": kind, "layer": layer, "matrix": matrix, "cell": cell, "gates": gates,
                        "units": units, "shape": list(w0.shape), "reduced": False, "block": 1,
                        "reduce": "maxabs", "scale": largest if largest > 0 else 1.0,
                        "rows": features if matrix == "kernel" else None, "log_every": 1,
                        "version": metadata.CONTENT_VERSION,
                    }, tag


def test_the_fixed_scale_ignores_viz_image_scale(tmp_path):
    run_dir, _ = train_tiny(tmp_path / "run", ["viz=gates", "viz.image.scale=minmax", "viz.log_every=2",
                                               "train.epochs=3"])
    _, initial = saved_matrices(run_dir)
    found = contents(run_dir / "tensorboard")
    content = found[metadata.weights_tag("lstm", "recurrent_kernel")]
    assert content["scale"] == float(np.abs(initial["lstm"]["recurrent_kernel"]).max())
    assert content["log_every"] == 2


def test_a_reduced_matrix_says_so_and_holds_reduce_blocks_of_the_weights(reduced_run):
    from lstm_experiments.matrices import reduce_blocks

    final, initial = reduced_run.weights
    found = contents(reduced_run.dir / "tensorboard")
    for matrix, weights in final["lstm"].items():
        full = as_row(weights)
        content = found[metadata.weights_tag("lstm", matrix)]
        assert content["shape"] == list(full.shape) and content["reduced"] is True
        assert content["block"] == 8  # 32 columns into 4
        logged = reduced_run.at(metadata.weights_tag("lstm", matrix), LAST)
        np.testing.assert_array_equal(logged, reduce_blocks(full, 4, "maxabs").astype(np.float16))
        assert logged.shape == (1, 4)
        np.testing.assert_array_equal(reduced_run.at(metadata.initial_tag("lstm", matrix), 0),
                                      reduce_blocks(as_row(initial["lstm"][matrix]), 4).astype(np.float16))
        # The scale is the whole W_0's, not the reduced one's.
        assert content["scale"] == float(np.abs(initial["lstm"][matrix]).max())


# --------------------------------------------------------------------------- activations and probe


def _recomputed_lstm(model, layer_name, probe):
    """(hidden sequence, final cell state) of the trained layer, by Keras, on ``probe``."""
    import keras

    layer = model.get_layer(layer_name)
    twin = keras.layers.LSTM(layer.units, return_sequences=True, return_state=True)
    twin(probe[:1])
    twin.set_weights(layer.get_weights())
    sequence, _, cell = twin(probe)
    return np.array(sequence), np.array(cell)


def test_activations_content_shape_and_keras_hidden_state(lstm_run):
    probe, _ = probe_of(lstm_run)
    content = contents(lstm_run.dir / "tensorboard")[metadata.activations_tag("lstm")]
    assert content == {"kind": "activations", "layer": "lstm", "cell": "lstm",
                       "panels": [*LSTM_GATES, "cell_state", "hidden"], "units": 6, "candidate": "cell",
                       "reduced": False, "block": 1, "reduce": "maxabs", "version": metadata.CONTENT_VERSION}
    values = lstm_run.at(metadata.activations_tag("lstm"), LAST)
    sequences = min(PROBE_SEQUENCES, len(probe))
    assert sequences == PROBE_SEQUENCES
    assert values.dtype == np.float16 and values.shape == (6, sequences, SEQ_LEN, 6)
    hidden, cell = _recomputed_lstm(keras_model(lstm_run), "lstm", probe[:sequences])
    np.testing.assert_allclose(values[-1], hidden, atol=2e-3)
    np.testing.assert_allclose(values[-2][:, -1], cell, atol=2e-3, rtol=1e-3)
    gates = values[:4].astype(np.float32)
    assert ((gates[[0, 1, 3]] >= 0) & (gates[[0, 1, 3]] <= 1)).all() and (np.abs(gates[2]) <= 1).all()


def test_probe_tensor_and_its_feature_names(lstm_run):
    probe, _ = probe_of(lstm_run)
    np.testing.assert_array_equal(lstm_run.at(metadata.probe_tag(), 0),
                                  probe[:PROBE_SEQUENCES].astype(np.float16))
    content = contents(lstm_run.dir / "tensorboard")[metadata.probe_tag()]
    assert content == {"kind": "probe", "features": CSV_FEATURES, "encoding": metadata.PROBE_FEATURES, "tokens": None,
                       "version": metadata.CONTENT_VERSION}


def test_a_backward_half_is_in_the_inputs_time_order(bidirectional_run):
    import keras

    probe, _ = probe_of(bidirectional_run)
    probe = probe[:PROBE_SEQUENCES]
    wrapper = keras_model(bidirectional_run).get_layer("bidirectional_lstm")
    units = wrapper.forward_layer.units
    twin = keras.layers.Bidirectional(keras.layers.LSTM(units, return_sequences=True, return_state=True))
    twin(probe[:1])
    twin.set_weights(wrapper.get_weights())
    sequence, _, forward_cell, _, backward_cell = (np.array(v) for v in twin(probe))
    forward = bidirectional_run.at(metadata.activations_tag("forward_lstm"), LAST)
    backward = bidirectional_run.at(metadata.activations_tag("backward_lstm"), LAST)
    np.testing.assert_allclose(forward[-1], sequence[..., :units], atol=2e-3)
    np.testing.assert_allclose(backward[-1], sequence[..., units:], atol=2e-3)
    # The backward half ends its pass at the input's first step.
    np.testing.assert_allclose(forward[-2][:, -1], forward_cell, atol=2e-3, rtol=1e-3)
    np.testing.assert_allclose(backward[-2][:, 0], backward_cell, atol=2e-3, rtol=1e-3)


def _maxabs_last_axis(values, block):
    blocks = values.reshape(*values.shape[:-1], values.shape[-1] // block, block)
    index = np.abs(blocks).argmax(axis=-1)[..., None]
    return np.take_along_axis(blocks, index, axis=-1)[..., 0]


def test_wide_activations_are_reduced_along_units(reduced_run):
    probe, _ = probe_of(reduced_run)
    probe = probe[:PROBE_SEQUENCES]
    content = contents(reduced_run.dir / "tensorboard")[metadata.activations_tag("lstm")]
    assert (content["reduced"], content["block"], content["units"]) == (True, 2, 8)
    values = reduced_run.at(metadata.activations_tag("lstm"), LAST)
    assert values.shape == (6, PROBE_SEQUENCES, reduced_run.cfg.data.seq_len, 4)
    hidden, _ = _recomputed_lstm(keras_model(reduced_run), "lstm", probe)
    np.testing.assert_allclose(values[-1], _maxabs_last_axis(hidden, 2), atol=2e-3)


def test_reduce_last_axis_follows_reduce_blocks_rule():
    from lstm_experiments.matrices import reduce_last_axis

    values = np.array([[1.0, -3.0, 2.0, np.nan, 4.0, np.nan, 5.0]])  # the last block is partial
    np.testing.assert_array_equal(reduce_last_axis(values, 3), [[-3.0, 4.0, 5.0]])
    np.testing.assert_allclose(reduce_last_axis(values, 3, "mean"), [[0.0, 4.0, 5.0]])
    assert np.isnan(reduce_last_axis(np.array([[np.nan, np.nan, 1.0]]), 2)[0, 0])
    assert reduce_last_axis(values, 1) is values


# --------------------------------------------------------------------------- GateLogger, the writer, the data


def test_gate_logger_on_a_plain_keras_model_writes_the_same_plugin_tags(tmp_path, lstm_run):
    import keras

    from lstm_experiments import GateLogger

    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, SEQ_LEN, 2)).astype("float32")
    y = x[:, -1, :1]
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((SEQ_LEN, 2)), keras.layers.LSTM(6, name="lstm"), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    logger = GateLogger(tmp_path, visualizers=("gates", "activations"), probe=(x[:8], y[:8]),
                        feature_names=("load", "temp"))
    model.fit(x, y, epochs=EPOCHS, batch_size=16, verbose=0, callbacks=[logger])
    # A second fit writes a second event file, whose tags carry their metadata again.
    model.fit(x, y, initial_epoch=EPOCHS, epochs=EPOCHS + 1, batch_size=16, verbose=0, callbacks=[logger])
    assert plugin_tags(plugin_of(tmp_path)) == plugin_tags(lstm_run.plugins)
    found = contents(tmp_path)
    assert found[metadata.weights_tag("lstm", "kernel")]["rows"] == ["load", "temp"]
    assert found[metadata.probe_tag()]["features"] == ["load", "temp"]
    assert found[metadata.input_tag("lstm")]["names"] == ["load", "temp"]  # it reads the model's input
    cell = model.get_layer("lstm").cell
    step, last = read_tensors(tmp_path)[metadata.weights_tag("lstm", "recurrent_kernel")][-1]
    assert step == EPOCHS + 1
    np.testing.assert_array_equal(last, np.array(cell.recurrent_kernel).astype(np.float16))
    files = sorted(tmp_path.glob("events.out.tfevents.*"))
    assert len(files) == 2
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    second = [v for e in EventFileLoader(str(files[1])).Load() for v in e.summary.value
              if v.tag.startswith(f"{PLUGIN_NAME}/")]
    assert {v.tag for v in second} == {metadata.weights_tag("lstm", m) for m in LSTM_MATRICES} | {
        metadata.activations_tag("lstm"), metadata.input_tag("lstm"), metadata.position_tag(),
        metadata.findings_tag(), metadata.through_time_tag("lstm"), metadata.units_tag("lstm")}
    assert all(v.metadata.plugin_data.plugin_name == PLUGIN_NAME for v in second)


def test_gate_logger_refuses_feature_names_that_are_not_names(tmp_path):
    from lstm_experiments import GateLogger

    with pytest.raises(ValueError, match="feature_names='abc' must be a sequence"):
        GateLogger(tmp_path, feature_names="abc")
    with pytest.raises(ValueError, match="feature_names: 3 is not a string"):
        GateLogger(tmp_path, feature_names=["a", 3])


def test_the_writer_describes_a_tensor_tag_once_per_event_file(tmp_path):
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
    from tensorboard.util.tensor_util import make_ndarray

    from lstm_experiments.tensorboard.summaries import Summaries, Tensor
    from lstm_experiments.tensorboard.writer import SummaryWriter

    meta = metadata.summary_metadata(metadata.ProbeContent(kind=metadata.KIND_PROBE))
    values = np.arange(12, dtype=np.float16).reshape(2, 3, 2) / 7
    for _ in range(2):  # two writers: two event files, as a resumed run makes
        writer = SummaryWriter(tmp_path)
        for step in range(3):
            writer.write(step, Summaries(tensors={"lstm_gates/probe": Tensor(values + step, meta)}))
        writer.close()
    files = sorted(tmp_path.glob("events.out.tfevents.*"))
    assert len(files) == 2
    for path in files:
        written = [v for e in EventFileLoader(str(path)).Load() for v in e.summary.value]
        assert [v.HasField("metadata") for v in written] == [True, False, False]
        assert written[0].metadata == meta
        for step, value in enumerate(written):
            decoded = make_ndarray(value.tensor)
            assert decoded.dtype == np.float16
            np.testing.assert_array_equal(decoded, values + step)


@pytest.mark.parametrize("data, names", [
    (["data=random", "data.features=3"], ("x0", "x1", "x2")),
    (["data=sine", "data.features=2"], ("sine0", "sine1")),
    (["data=adding"], ("value", "marker")),
])
def test_synthetic_data_names_its_features(data, names):
    from lstm_experiments.data import load_dataset

    cfg = compose_config([*TINY, *data])
    dataset = load_dataset(cfg.data, cfg.seed)
    assert dataset.feature_names == names
    assert len(names) == dataset.input_shape[1]


def test_the_gates_tab_data_is_a_writer_of_its_own(run_tiny):
    """viz.board: the GATES tab without any image, and the images without the tab's data."""
    tab_only, _ = run_tiny(["viz=none", "viz.board=true"])
    plugins = plugin_of(tab_only / "tensorboard")
    assert plugin_tags(plugins) == expected_tags([("lstm", LSTM_MATRICES)], findings=False)  # viz=none: none
    assert not tags_of_plugin(plugins, "images")
    images_only, _ = run_tiny(["viz=[kernel,gates,bias]", "viz.board=false"])
    plugins = plugin_of(images_only / "tensorboard")
    assert not plugin_tags(plugins)
    assert tags_of_plugin(plugins, "images")
    # The default runs write both, and viz=none neither.
    both, _ = run_tiny(["viz=gates"])
    assert plugin_tags(plugin_of(both / "tensorboard")) == expected_tags([("lstm", LSTM_MATRICES)])
    nothing, _ = run_tiny(["viz=none"])
    assert not plugin_tags(plugin_of(nothing / "tensorboard"))


def tags_of_plugin(plugins, name):
    return [tag for tag, plugin in plugins.items() if plugin == name]
