"""README promises on the change from the initial weights: ``delta`` images and the ``change`` statistic.

Tag reference: ``delta/<layer>/<matrix>/<gate>`` is W_t − W_0 "on a per-step scale
``scale/<layer>/delta_<matrix>``", and "``change`` is ‖W_t − W_0‖/‖W_0‖, or the absolute
‖W_t − W_0‖ where W_0 is zero (a zero-initialised bias)". W_0 is read from the run's
``checkpoints/initial.weights.h5`` and W_t (the last step) from ``model.keras``, with Keras.
Every layer, matrix and gate of the three shared architecture runs is checked
(test_visualizers.py only checks that the first delta image is white and a later one not).
"""

import numpy as np
import pytest

from conftest import cells, decode_bwr, decode_image
from test_promise_pixels import LAST, LAYERS, MATRICES, gate_slices


def _matrices(run):
    """(layer, cell, matrix name, W_t, W_0) for every matrix of the run's layers."""
    final, initial = run.weights
    for layer, cell in LAYERS[run.name].items():
        for matrix in MATRICES[cell]:
            yield layer, cell, matrix, final[layer][matrix], initial[layer][matrix]


def test_delta_scale_is_the_largest_change_of_the_whole_matrix(architecture_run):
    run = architecture_run
    for layer, cell, matrix, now, start in _matrices(run):
        change = now - start
        tag = f"scale/{layer}/delta_{matrix}"
        assert float(run.at(tag, LAST)) == pytest.approx(float(np.abs(change).max()), rel=1e-6), tag
        # Step 0: no change; a zero matrix has no largest value, the scale falls back to 1.
        assert float(run.at(tag, 0)) == 1.0, tag


def test_delta_images_decode_to_the_change_with_its_sign(architecture_run):
    run = architecture_run
    signs_seen = set()
    for layer, cell, matrix, now, start in _matrices(run):
        scale = float(run.at(f"scale/{layer}/delta_{matrix}", LAST))
        tolerance = scale / 255 + 1e-7
        change = gate_slices(now - start, cell)
        for gate, block in change.items():
            block = np.atleast_2d(block)
            tag = f"delta/{layer}/{matrix}/{gate}"
            pixels = cells(decode_image(run.at(tag, LAST)), block.shape)
            got = decode_bwr(pixels, scale)
            np.testing.assert_allclose(got, block, atol=tolerance, rtol=0, err_msg=tag)
            # The sign by colour: growth is red (R = 255), shrinkage blue (B = 255).
            clear = np.abs(block) > 2 * tolerance
            assert (pixels[..., 0][clear & (block > 0)] == 255).all(), tag
            assert (pixels[..., 2][clear & (block < 0)] == 255).all(), tag
            signs_seen |= set(np.sign(block[clear]).tolist())
            # Step 0: W_0 − W_0 = 0, white.
            assert (decode_image(run.at(tag, 0)) == 255).all(), tag
    assert signs_seen == {-1.0, 1.0}


def test_change_statistic_for_every_gate(architecture_run):
    run = architecture_run
    kinds = set()
    for layer, cell, matrix, final, initial in _matrices(run):
        now = gate_slices(final.astype(np.float64), cell)
        start = gate_slices(initial.astype(np.float64), cell)
        for gate in now:
            difference = np.linalg.norm(now[gate] - start[gate])
            initial_norm = np.linalg.norm(start[gate])
            expected = difference / initial_norm if initial_norm > 0 else difference
            kinds.add("relative" if initial_norm > 0 else "absolute")
            tag = f"stats/{layer}/{matrix}/{gate}/change"
            assert [s for s, _ in run.tensors[tag]] == [0, 1, LAST], tag
            assert float(run.at(tag, 0)) == 0.0, tag
            assert expected > 0, tag  # training moved every gate: the comparison means something
            assert float(run.at(tag, LAST)) == pytest.approx(expected, rel=1e-5), tag
    # Kernels are relative; zero-initialised biases (every GRU bias, the LSTM's but the forget gate's)
    # absolute.
    assert kinds == {"relative", "absolute"}
