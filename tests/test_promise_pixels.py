"""README promise: a gate image's pixels read back as the saved model's weights, for every architecture.

The Tag reference: "Reading a pixel back: with scale s, where the blue channel is 255 the
value is s·(R/255 − 1), elsewhere s·(1 − G/255)", the fixed scale is "the largest initial
|w|" of the matrix and holds for the whole run, and a gate's slice is its block of Keras'
fused matrix in Keras' order. The references here are Keras' own: the weights in the run's
``model.keras`` (the last step) and in ``checkpoints/initial.weights.h5`` (step 0), and
TensorBoard's reader for the event file. test_training.py checks the same for a one-layer
LSTM; this covers a stacked LSTM (``lstm``, ``lstm_1``), a bidirectional one
(``forward_lstm``, ``backward_lstm``) and a GRU with its ``recurrent_bias``.
"""

import numpy as np
import pytest

from conftest import cells, decode_bwr, decode_image

# The README's names, written out here rather than taken from the package.
GATES = {"lstm": ("input", "forget", "cell", "output"), "gru": ("update", "reset", "candidate")}
LAYERS = {
    "stacked": {"lstm": "lstm", "lstm_1": "lstm"},
    "bidirectional": {"forward_lstm": "lstm", "backward_lstm": "lstm"},
    "gru": {"gru": "gru"},
}
MATRICES = {"lstm": ("kernel", "recurrent_kernel", "bias"),
            "gru": ("kernel", "recurrent_kernel", "bias", "recurrent_bias")}
LAST = 2  # train.epochs in the shared runs


def gate_slices(matrix, cell):
    """Keras' order: gate k is columns k·units .. (k+1)·units of the fused matrix."""
    gates = GATES[cell]
    units = matrix.shape[-1] // len(gates)
    assert units * len(gates) == matrix.shape[-1]
    return {gate: matrix[..., k * units:(k + 1) * units] for k, gate in enumerate(gates)}


def decoded(run, tag, step, shape, scale):
    return decode_bwr(cells(decode_image(run.at(tag, step)), shape), scale)


def image_tag(layer, matrix, gate):
    return f"bias/{layer}/{matrix}/{gate}" if "bias" in matrix else f"gates/{layer}/{matrix}/{gate}"


def test_the_saved_layers_are_the_readme_names(architecture_run):
    """The loops below cover every layer: the model holds exactly the layers the README names."""
    final, initial = architecture_run.weights
    expected = LAYERS[architecture_run.name]
    assert set(final) == set(initial) == set(expected)
    for layer, cell in expected.items():
        assert set(final[layer]) == set(MATRICES[cell]), layer


def test_fixed_scale_is_the_largest_initial_weight_at_every_step(architecture_run):
    run = architecture_run
    final, initial = run.weights
    for layer, cell in LAYERS[run.name].items():
        for matrix in MATRICES[cell]:
            logged = run.tensors[f"scale/{layer}/{matrix}"]
            assert [s for s, _ in logged] == [0, 1, LAST], (layer, matrix)
            largest = float(np.abs(initial[layer][matrix]).max())
            # A zero-initialised bias (the GRU's) has no largest weight: the scale falls back to 1.
            expected = largest if largest > 0 else 1.0
            for step, value in logged:
                assert float(value) == pytest.approx(expected, rel=1e-6), (layer, matrix, step)


@pytest.mark.parametrize("step", [0, LAST])
def test_gate_and_bias_images_decode_to_the_saved_weights(architecture_run, step):
    run = architecture_run
    final, initial = run.weights
    weights = initial if step == 0 else final
    checked = inside = 0
    for layer, cell in LAYERS[run.name].items():
        for matrix in MATRICES[cell]:
            scale = float(run.at(f"scale/{layer}/{matrix}", step))
            tolerance = scale / 255 + 1e-7
            for gate, block in gate_slices(weights[layer][matrix], cell).items():
                block = np.atleast_2d(block)
                got = decoded(run, image_tag(layer, matrix, gate), step, block.shape, scale)
                # Values beyond the fixed scale saturate at ±s.
                np.testing.assert_allclose(got, np.clip(block, -scale, scale), atol=tolerance, rtol=0,
                                           err_msg=f"{layer}/{matrix}/{gate} at step {step}")
                checked += block.size
                inside += int((np.abs(block) < scale).sum())
    # Most weights are inside the scale, so the colours really carry the values.
    assert inside > 0.5 * checked


def test_last_step_images_are_not_the_initial_weights(architecture_run):
    """The step-2 images show the trained weights, not W_0: the comparison above can tell them apart."""
    run = architecture_run
    final, initial = run.weights
    for layer, cell in LAYERS[run.name].items():
        for matrix in ("kernel", "recurrent_kernel"):
            scale = float(run.at(f"scale/{layer}/{matrix}", LAST))
            w0 = gate_slices(initial[layer][matrix], cell)
            differences = [
                np.abs(decoded(run, image_tag(layer, matrix, gate), LAST, block.shape, scale)
                       - np.clip(block, -scale, scale)).max()
                for gate, block in w0.items()
            ]
            assert max(differences) > 5 * scale / 255, (layer, matrix)


def test_whole_kernel_images_keep_the_gate_blocks_in_keras_order(architecture_run):
    run = architecture_run
    final, _ = run.weights
    for layer, cell in LAYERS[run.name].items():
        for matrix in ("kernel", "recurrent_kernel"):
            weights = final[layer][matrix]
            scale = float(run.at(f"scale/{layer}/{matrix}", LAST))
            got = decoded(run, f"kernel/{layer}/{matrix}", LAST, weights.shape, scale)
            np.testing.assert_allclose(got, np.clip(weights, -scale, scale), atol=scale / 255 + 1e-7,
                                       rtol=0, err_msg=f"{layer}/{matrix}")
