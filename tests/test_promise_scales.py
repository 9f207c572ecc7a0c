"""README promises on ``viz.image.scale``: ``per_step`` and ``minmax``, against the saved weights.

"``per_step``: recomputed at every step" (the symmetric scale: the largest |w| of that
step's matrix); "``minmax``: the article's grey min-max look, each image on its own".
test_visualizers.py checks only that per_step scales differ between steps and that a
minmax image is grey with black and white in it; these compare with Keras' weights.
"""

import numpy as np
import pytest

from conftest import cells, decode_bwr, decode_image, tiny_run
from test_promise_pixels import GATES, LAST, gate_slices

LAYER, CELL = "lstm", "lstm"
MATRICES = ("kernel", "recurrent_kernel", "bias")


@pytest.fixture(scope="module")
def per_step_run(tmp_path_factory):
    # learning_rate 0.3: the weights outgrow W_0's largest |w|, so a per-step scale differs from a fixed one.
    return tiny_run(tmp_path_factory, "per_step", [
        "viz=[gates,bias]", "viz.image.scale=per_step", "units=5", "train.learning_rate=0.3",
        "data=random", "data.features=3"])


@pytest.fixture(scope="module")
def minmax_run(tmp_path_factory):
    return tiny_run(tmp_path_factory, "minmax", [
        "viz=[kernel,gates,bias,delta]", "viz.image.scale=minmax", "units=5", "train.learning_rate=0.03"])


def image_tag(matrix, gate):
    return f"bias/{LAYER}/{matrix}/{gate}" if matrix == "bias" else f"gates/{LAYER}/{matrix}/{gate}"


def test_per_step_scale_is_that_steps_largest_weight(per_step_run):
    run = per_step_run
    final, initial = run.weights
    for matrix in MATRICES:
        tag = f"scale/{LAYER}/{matrix}"
        assert [s for s, _ in run.tensors[tag]] == [0, 1, LAST], tag
        first = float(np.abs(initial[LAYER][matrix]).max())
        last = float(np.abs(final[LAYER][matrix]).max())
        assert float(run.at(tag, 0)) == pytest.approx(first, rel=1e-6), tag
        assert float(run.at(tag, LAST)) == pytest.approx(last, rel=1e-6), tag
        assert last > 1.1 * first, tag  # a fixed scale would have kept `first`


@pytest.mark.parametrize("step", [0, LAST])
def test_per_step_images_decode_on_their_steps_scale(per_step_run, step):
    run = per_step_run
    final, initial = run.weights
    weights = initial if step == 0 else final
    for matrix in MATRICES:
        scale = float(run.at(f"scale/{LAYER}/{matrix}", step))
        for gate, block in gate_slices(weights[LAYER][matrix], CELL).items():
            block = np.atleast_2d(block)
            got = decode_bwr(cells(decode_image(run.at(image_tag(matrix, gate), step)), block.shape), scale)
            # Nothing saturates: the scale covers the step's whole matrix.
            np.testing.assert_allclose(got, block, atol=scale / 255 + 1e-7, rtol=0,
                                       err_msg=f"{matrix}/{gate} at step {step}")


def expected_grey(values):
    """The min-max grey level of one image's own values: 0 at its minimum, 255 at its maximum."""
    values = np.atleast_2d(values).astype(np.float64)
    low, high = values.min(), values.max()
    if high == low:
        return np.full(values.shape, 127.5)
    return 255 * (values - low) / (high - low)


def check_grey(pixels, values, tag):
    values = np.atleast_2d(values)
    grid = cells(pixels, values.shape).astype(np.int64)
    assert (grid[..., 0] == grid[..., 1]).all() and (grid[..., 1] == grid[..., 2]).all(), tag
    np.testing.assert_allclose(grid[..., 0], expected_grey(values), atol=0.5 + 1e-6, rtol=0, err_msg=tag)


def minmax_images(run, step, weights, initial):
    """(tag, the values that image shows) for every image of the minmax run at ``step``."""
    for matrix in MATRICES:
        matrix_values = weights[LAYER][matrix]
        if matrix != "bias":
            yield f"kernel/{LAYER}/{matrix}", matrix_values
        for gate, block in gate_slices(matrix_values, CELL).items():
            yield image_tag(matrix, gate), block
        change = gate_slices(matrix_values - initial[LAYER][matrix], CELL)
        for gate, block in change.items():
            yield f"delta/{LAYER}/{matrix}/{gate}", block


@pytest.mark.parametrize("step", [0, LAST])
def test_minmax_images_are_grey_min_max_each_on_its_own(minmax_run, step):
    run = minmax_run
    final, initial = run.weights
    weights = initial if step == 0 else final
    checked = 0
    for tag, values in minmax_images(run, step, weights, initial):
        check_grey(decode_image(run.at(tag, step)), values, tag)
        checked += 1
    assert checked == 2 + 3 * 2 * len(GATES[CELL])
    assert not [t for t in run.tensors if t.startswith("scale/")]


def test_minmax_is_per_image_not_per_matrix(minmax_run):
    """Each gate's image spans black to white on its own, which one range for the matrix would not give."""
    run = minmax_run
    final, _ = run.weights
    blocks = gate_slices(final[LAYER]["recurrent_kernel"], CELL)
    lows = {gate: float(block.min()) for gate, block in blocks.items()}
    assert len(set(lows.values())) == len(lows)  # distinct ranges: the test can tell the two apart
    for gate in blocks:
        grey = decode_image(run.at(f"gates/{LAYER}/recurrent_kernel/{gate}", LAST))[..., 0]
        assert grey.min() == 0 and grey.max() == 255, gate
