"""Tiny trainings end to end, read back with TensorBoard's own reader and compared with the real weights."""

import json

import numpy as np
import pytest

from lstm_experiments.findings.rules import KINDS

from conftest import decode_bwr, decode_image, plugin_of, read_tensors

GATES = ("input", "forget", "cell", "output")
MATRICES = ("kernel", "recurrent_kernel")
# The epoch metrics and the learning rate (run/callbacks.py puts it in the logs every epoch).
METRIC_TAGS = {"metrics/loss", "metrics/val_loss", "metrics/learning_rate"}
# Every run also records its hyperparameters for the HParams dashboard.
HPARAMS_TAGS = {"_hparams_/experiment", "_hparams_/session_start_info"}


def expected_tags(viz, layer="lstm", matrices=MATRICES, biases=("bias",)):
    images, histograms, scalars = set(), set(), set(METRIC_TAGS)
    if "kernel" in viz:
        images |= {f"kernel/{layer}/{m}" for m in matrices}
    if "gates" in viz:
        images |= {f"gates/{layer}/{m}/{g}" for m in matrices for g in GATES}
    if "bias" in viz:
        images |= {f"bias/{layer}/{b}/{g}" for b in biases for g in GATES}
        histograms |= {f"histograms/{layer}/{b}/{g}" for b in biases for g in GATES}
    if "kernel" in viz or "gates" in viz:
        scalars |= {f"scale/{layer}/{m}" for m in matrices}
    if "bias" in viz:
        scalars |= {f"scale/{layer}/{b}" for b in biases}
    if viz:  # findings are on with any visualizer (viz=none turns them off): counts and the gradient's decay
        scalars |= {f"findings/{kind}" for kind in KINDS} | {f"through_time/{layer}/h", f"through_time/{layer}/c"}
    return images, histograms, scalars


@pytest.mark.parametrize(
    "choice, viz",
    [
        ("viz=kernel", {"kernel"}),
        ("viz=gates", {"gates"}),
        ("viz=bias", {"bias"}),
        ("viz=[kernel,bias]", {"kernel", "bias"}),
        ("viz=[kernel,gates,bias]", {"kernel", "gates", "bias"}),
        ("viz=none", set()),
    ],
)
def test_exact_tag_set_per_viz_choice(run_tiny, choice, viz):
    run_dir, _ = run_tiny([choice])
    plugins = plugin_of(run_dir / "tensorboard")
    images, histograms, scalars = expected_tags(viz)
    assert {t for t, p in plugins.items() if p == "images"} == images
    assert {t for t, p in plugins.items() if p == "histograms"} == histograms
    assert {t for t, p in plugins.items() if p == "scalars"} == scalars
    assert {t for t, p in plugins.items() if p == "hparams"} == HPARAMS_TAGS
    layout = {"custom_scalars__config__"} if viz else set()  # the CUSTOM SCALARS tab's layout
    assert {t for t, p in plugins.items() if p == "custom_scalars"} == layout
    text = {t for t, p in plugins.items() if p == "text"}  # a step's findings, where it has any
    assert text <= ({"findings_text"} if viz else set())
    assert {t for t, p in plugins.items() if p != "lstm_gates"} == (images | histograms | scalars | HPARAMS_TAGS | layout
                                                                   | text)


def test_viz_all_turns_every_visualizer_on(run_tiny):
    run_dir, _ = run_tiny(["viz=all", "train.epochs=1"])
    families = {(tag.split("/")[0], plugin) for tag, plugin in plugin_of(run_dir / "tensorboard").items()
                if plugin != "lstm_gates"}
    assert families == {
        ("kernel", "images"), ("gates", "images"), ("bias", "images"), ("delta", "images"),
        ("activations", "images"), ("histograms", "histograms"), ("stats", "scalars"),
        ("saturation", "scalars"), ("gradients", "scalars"), ("scale", "scalars"),
        ("metrics", "scalars"), ("_hparams_", "hparams"), ("custom_scalars__config__", "custom_scalars"),
        ("findings", "scalars"), ("through_time", "scalars"),
    } | ({("findings_text", "text")} & families)


def test_steps_follow_log_every_and_end_on_the_last_epoch(run_tiny):
    run_dir, _ = run_tiny(["viz=gates", "train.epochs=3", "viz.log_every=2"])
    tensors = read_tensors(run_dir / "tensorboard")
    assert [s for s, _ in tensors["gates/lstm/kernel/forget"]] == [0, 2, 3]
    assert [s for s, _ in tensors["metrics/val_loss"]] == [1, 2, 3]
    # One writer for the whole run: one event file.
    assert len(list((run_dir / "tensorboard").glob("events.out.tfevents.*"))) == 1



def sample_cells(image, shape):
    """One pixel per weight from a nearest-neighbour upscaled image."""
    rows, cols = shape
    height, width = image.shape[:2]
    assert height % rows == 0 and width % cols == 0, (image.shape, shape)
    fy, fx = height // rows, width // cols
    # Every pixel of a cell has the cell's colour.
    blocks = image.reshape(rows, fy, cols, fx, 3)
    assert (blocks == blocks[:, :1, :, :1]).all()
    return image[::fy, ::fx]


def test_gate_images_decode_to_the_saved_models_weights(run_tiny):
    import keras

    run_dir, metrics = run_tiny(["viz=all", "units=5", "data=random", "data.features=3"])
    tensors = read_tensors(run_dir / "tensorboard")
    model = keras.models.load_model(run_dir / "model.keras")
    kernel, recurrent, bias = (w.numpy() for w in model.get_layer("lstm").cell.weights)
    weights = {"kernel": kernel, "recurrent_kernel": recurrent, "bias": bias}
    last = 2
    for name, matrix in weights.items():
        scale_steps = dict(tensors[f"scale/lstm/{name}"])
        scale = float(scale_steps[last])
        # Fixed scale: the same at every step.
        assert len({float(v) for v in scale_steps.values()}) == 1
        tolerance = scale / 255 + 1e-6
        for i, gate in enumerate(GATES):
            expected = matrix[..., i * 5:(i + 1) * 5]
            prefix = "bias" if name == "bias" else "gates"
            step, value = tensors[f"{prefix}/lstm/{name}/{gate}"][-1]
            assert step == last
            cells = sample_cells(decode_image(value), np.atleast_2d(expected).shape)
            decoded = decode_bwr(cells, scale)
            clipped = np.clip(np.atleast_2d(expected), -scale, scale)
            np.testing.assert_allclose(decoded, clipped, atol=tolerance, err_msg=f"{name}/{gate}")
        if name != "bias":
            step, value = tensors[f"kernel/lstm/{name}"][-1]
            cells = sample_cells(decode_image(value), matrix.shape)
            np.testing.assert_allclose(
                decode_bwr(cells, scale), np.clip(matrix, -scale, scale), atol=tolerance
            )
    assert metrics["status"] == "completed"
    saved = json.loads((run_dir / "metrics.json").read_text())
    assert saved["val_loss"] == pytest.approx(metrics["val_loss"])
    assert {"loss", "val_loss", "accuracy", "val_accuracy"} <= set(saved)


def test_initial_forget_bias_is_one_and_images_are_valid(run_tiny):
    run_dir, _ = run_tiny(["viz=bias"])
    tensors = read_tensors(run_dir / "tensorboard")
    scale = float(dict(tensors["scale/lstm/bias"])[0])
    assert scale == pytest.approx(1.0)
    for gate in GATES:
        step, value = tensors[f"bias/lstm/bias/{gate}"][0]
        assert step == 0
        pixels = decode_image(value)
        assert pixels.shape[0] >= 16 and pixels.shape[2] == 3
        expected = 1.0 if gate == "forget" else 0.0
        np.testing.assert_allclose(decode_bwr(pixels, scale), expected, atol=1 / 255)


def test_image_shapes_follow_the_weight_shapes(run_tiny):
    run_dir, _ = run_tiny(["viz=[kernel,gates]", "units=8", "data=random", "data.features=1"])
    tensors = read_tensors(run_dir / "tensorboard")
    shapes = {tag: decode_image(v[0][1]).shape for tag, v in tensors.items() if "kernel" in tag
              and not tag.startswith(("scale", "lstm_gates/"))}
    # kernel (1, 32): one row, drawn as a band at least min_side_px high; 256 // 32 = 8 px per weight.
    assert shapes["kernel/lstm/kernel"] == (16, 256, 3)
    assert shapes["kernel/lstm/recurrent_kernel"] == (64, 256, 3)  # (8, 32) at 8 px
    assert shapes["gates/lstm/kernel/input"] == (32, 256, 3)  # (1, 8) at 32 px
    assert shapes["gates/lstm/recurrent_kernel/cell"] == (256, 256, 3)  # (8, 8) at 32 px


def test_csv_run_trains_on_windows(run_tiny, tmp_path):
    rows = 80
    t = np.arange(rows)
    csv = tmp_path / "traffic.csv"
    lines = ["time,bytes,packets"] + [
        f"2026-01-01T{i % 24:02d}:00,{100 + 10 * np.sin(i / 5):.3f},{i % 7}" for i in t
    ]
    csv.write_text("\n".join(lines) + "\n")
    run_dir, metrics = run_tiny(
        ["data=csv", f"data.path={csv}", "data.target=bytes", "data.seq_len=8", "viz=gates",
         "units=4", "train.epochs=1"],
        tiny=False,
    )
    assert np.isfinite(metrics["val_loss"])
    assert json.loads((run_dir / "metrics.json").read_text())["status"] == "completed"
    import keras

    model = keras.models.load_model(run_dir / "model.keras")
    # One feature column (packets; the time column is not numeric), 8 steps.
    assert tuple(model.input_shape) == (None, 8, 1)


@pytest.mark.parametrize("data", ["random", "sine", "adding"])
def test_each_synthetic_data_set_trains(run_tiny, data):
    run_dir, metrics = run_tiny([f"data={data}", "viz=none", "train.epochs=1"])
    assert np.isfinite(metrics["val_loss"])
    assert (run_dir / "model.keras").is_file()
