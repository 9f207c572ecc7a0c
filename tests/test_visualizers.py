"""The issue-3 visualizers end to end: stats, histograms, delta, activations, gradients, PNGs and architectures."""

import numpy as np
import pytest

from conftest import decode_image, plugin_of, read_tensors
from lstm_experiments.gates.layout import GATE_NAMES, split_gates

LSTM_GATES = GATE_NAMES["lstm"]
STATS = {"mean", "std", "frobenius_norm", "max_abs", "change"}


def tags_of(run_dir, plugin):
    return {t for t, p in plugin_of(run_dir / "tensorboard").items() if p == plugin}


def saved_weights(run_dir, layer="lstm"):
    import keras

    model = keras.models.load_model(run_dir / "model.keras")
    cell = model.get_layer(layer).cell
    return model, {"kernel": cell.kernel.numpy(), "recurrent_kernel": cell.recurrent_kernel.numpy(),
                   "bias": cell.bias.numpy()}


def last(tensors, tag):
    step, value = tensors[tag][-1]
    return step, value


def test_stats_match_the_saved_weights(run_tiny):
    run_dir, _ = run_tiny(["viz=stats", "units=6"])
    tensors = read_tensors(run_dir / "tensorboard")
    _, weights = saved_weights(run_dir)
    expected_tags = {
        f"stats/lstm/{m}/{g}/{s}" for m in weights for g in LSTM_GATES for s in STATS
    } | {f"stats/lstm/recurrent_kernel/{g}/spectral_norm" for g in LSTM_GATES}
    assert expected_tags <= tags_of(run_dir, "scalars")
    for matrix_name, matrix in weights.items():
        for gate, block in split_gates(matrix, "lstm").items():
            prefix = f"stats/lstm/{matrix_name}/{gate}"
            step, mean = last(tensors, f"{prefix}/mean")
            assert step == 2
            assert float(mean) == pytest.approx(block.mean(), abs=1e-6)
            assert float(last(tensors, f"{prefix}/std")[1]) == pytest.approx(block.std(), abs=1e-6)
            assert float(last(tensors, f"{prefix}/frobenius_norm")[1]) == pytest.approx(
                np.linalg.norm(block), rel=1e-5)
            assert float(last(tensors, f"{prefix}/max_abs")[1]) == pytest.approx(
                np.abs(block).max(), rel=1e-5)
            # Step 0 is the initial weights: no change yet; training moves them.
            assert float(tensors[f"{prefix}/change"][0][1]) == 0.0
            assert float(last(tensors, f"{prefix}/change")[1]) > 0.0
            if matrix_name == "recurrent_kernel":
                assert float(last(tensors, f"{prefix}/spectral_norm")[1]) == pytest.approx(
                    np.linalg.svd(block, compute_uv=False)[0], rel=1e-5)


def test_histograms_cover_every_gate_and_matrix(run_tiny):
    run_dir, _ = run_tiny(["viz=histograms"])
    expected = {f"histograms/lstm/{m}/{g}" for m in ("kernel", "recurrent_kernel", "bias")
                for g in LSTM_GATES}
    assert tags_of(run_dir, "histograms") == expected
    tensors = read_tensors(run_dir / "tensorboard")
    _, weights = saved_weights(run_dir)
    # A histogram tensor is (buckets, 3): left edge, right edge, count; counts add up to the block size.
    step, buckets = last(tensors, "histograms/lstm/recurrent_kernel/forget")
    assert step == 2 and buckets.sum(axis=0)[2] == weights["recurrent_kernel"][:, 4:8].size
    assert buckets[0, 0] == pytest.approx(split_gates(weights["recurrent_kernel"], "lstm")["forget"].min(),
                                          abs=1e-6)


def test_delta_images_start_white_and_show_the_change(run_tiny):
    run_dir, _ = run_tiny(["viz=delta", "units=4"])
    tensors = read_tensors(run_dir / "tensorboard")
    assert tags_of(run_dir, "images") == {
        f"delta/lstm/{m}/{g}" for m in ("kernel", "recurrent_kernel", "bias") for g in LSTM_GATES
    }
    first = decode_image(tensors["delta/lstm/recurrent_kernel/cell"][0][1])
    assert (first == 255).all()  # W_0 - W_0 = 0 is white
    final = decode_image(last(tensors, "delta/lstm/recurrent_kernel/cell")[1])
    assert (final != 255).any()
    assert {"scale/lstm/delta_kernel", "scale/lstm/delta_recurrent_kernel"} <= tags_of(run_dir, "scalars")


def test_activations_and_gradients(run_tiny):
    run_dir, _ = run_tiny(["viz=[activations,gradients]", "units=5", "data.seq_len=7",
                           "viz.probe_size=4"])
    tensors = read_tensors(run_dir / "tensorboard")
    images = tags_of(run_dir, "images")
    assert images == {f"activations/lstm/{g}" for g in LSTM_GATES}
    scalars = tags_of(run_dir, "scalars")
    for gate in LSTM_GATES:
        for side in ("low", "high"):
            values = [float(v) for _, v in tensors[f"saturation/lstm/{gate}/{side}"]]
            assert len(values) == 3 and all(0.0 <= v <= 1.0 for v in values)
        for matrix in ("kernel", "recurrent_kernel", "bias"):
            assert f"gradients/lstm/{matrix}/{gate}" in scalars
    # time x units: 7 steps down, 5 units across, each drawn as a square block.
    pixels = decode_image(last(tensors, "activations/lstm/forget")[1])
    assert pixels.shape[0] * 5 == pixels.shape[1] * 7


def test_gradient_norms_match_tensorflow(run_tiny):
    import keras
    import tensorflow as tf

    from lstm_experiments.data import load_dataset
    from conftest import compose_config, TINY

    overrides = ["viz=gradients", "viz.probe_size=8", "units=4"]
    run_dir, _ = run_tiny(overrides)
    tensors = read_tensors(run_dir / "tensorboard")
    model, _ = saved_weights(run_dir)
    cfg = compose_config([*TINY, *overrides])
    data = load_dataset(cfg.data, cfg.seed)
    x, y = data.x_val[:8], data.y_val[:8]
    cell = model.get_layer("lstm").cell
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(keras.losses.get("mse")(y, model(x, training=False)))
    grads = tape.gradient(loss, [cell.kernel, cell.recurrent_kernel, cell.bias])
    for name, grad in zip(("kernel", "recurrent_kernel", "bias"), grads):
        for gate, block in split_gates(grad.numpy(), "lstm").items():
            step, value = last(tensors, f"gradients/lstm/{name}/{gate}")
            assert step == 2
            assert float(value) == pytest.approx(np.linalg.norm(block), rel=1e-4, abs=1e-7)


def test_png_export_matches_the_event_images(run_tiny):
    run_dir, _ = run_tiny(["viz=gates", "viz.png=true"])
    import tensorflow as tf

    tensors = read_tensors(run_dir / "tensorboard")
    path = run_dir / "images" / "gates" / "lstm" / "kernel" / "forget" / "step_000002.png"
    assert path.is_file()
    from_png = tf.io.decode_png(path.read_bytes()).numpy()
    np.testing.assert_array_equal(from_png, decode_image(last(tensors, "gates/lstm/kernel/forget")[1]))
    assert len(list((run_dir / "images").rglob("*.png"))) == 8 * 3  # 8 gate images, steps 0-2


@pytest.mark.parametrize(
    "overrides, layers, gates, biases",
    [
        (["model.layers=2"], ["lstm", "lstm_1"], LSTM_GATES, ["bias"]),
        (["model.bidirectional=true"], ["forward_lstm", "backward_lstm"], LSTM_GATES, ["bias"]),
        (["model.use_bias=false"], ["lstm"], LSTM_GATES, []),
        (["model=gru"], ["gru"], GATE_NAMES["gru"], ["bias", "recurrent_bias"]),
        (["model=gru", "model.reset_after=false"], ["gru"], GATE_NAMES["gru"], ["bias"]),
    ],
)
def test_architectures_keep_one_tag_pattern(run_tiny, overrides, layers, gates, biases):
    run_dir, _ = run_tiny(["viz=[gates,bias,activations]", "train.epochs=1", *overrides])
    images = tags_of(run_dir, "images")
    expected = {f"gates/{l}/{m}/{g}" for l in layers for m in ("kernel", "recurrent_kernel")
                for g in gates}
    expected |= {f"bias/{l}/{b}/{g}" for l in layers for b in biases for g in gates}
    expected |= {f"activations/{l}/{g}" for l in layers for g in gates}
    assert images == expected
    assert tags_of(run_dir, "histograms") == {
        f"histograms/{l}/{b}/{g}" for l in layers for b in biases for g in gates
    }


def test_per_step_and_minmax_scales(run_tiny):
    run_dir, _ = run_tiny(["viz=gates", "viz.image.scale=per_step"])
    tensors = read_tensors(run_dir / "tensorboard")
    scales = [float(v) for _, v in tensors["scale/lstm/recurrent_kernel"]]
    assert len(set(scales)) == 3  # recomputed at each step
    run_dir, _ = run_tiny(["viz=gates", "viz.image.scale=minmax"])
    tensors = read_tensors(run_dir / "tensorboard")
    assert not any(t.startswith("scale/") for t in tensors)
    pixels = decode_image(last(tensors, "gates/lstm/recurrent_kernel/input")[1])
    assert (pixels[..., 0] == pixels[..., 1]).all() and pixels.min() == 0 and pixels.max() == 255
