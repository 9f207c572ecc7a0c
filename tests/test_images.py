"""Weights to pixels: colours read back as values, scales hold, big matrices shrink (pure numpy)."""

import numpy as np
import pytest
from omegaconf import OmegaConf

from conftest import decode_bwr as decode, image_cfg
from lstm_experiments.matrices import FALLBACK_SCALE, reduce_blocks, symmetric_scale
from lstm_experiments.viz.colour import diverging_rgb, grey_minmax_rgb
from lstm_experiments.viz.painter import Painter, render
from lstm_experiments.viz.resize import upscale_factors

WHITE, RED, BLUE, GREY = (255, 255, 255), (255, 0, 0), (0, 0, 255), (128, 128, 128)




def pixel(value, scale=2.0):
    return tuple(int(c) for c in diverging_rgb(np.array([[value]]), scale)[0, 0])


# --------------------------------------------------------------------------- colours


@pytest.mark.parametrize(
    "value, expected",
    [
        (0.0, WHITE),
        (-0.0, WHITE),
        (2.0, RED),
        (-2.0, BLUE),
        (1.0, (255, 128, 128)),  # 127.5 rounds to 128
        (-1.0, (128, 128, 255)),
        (float("nan"), GREY),
        (5.0, RED),
        (-1e9, BLUE),
        (float("inf"), RED),
        (float("-inf"), BLUE),
    ],
)
def test_known_values_map_to_known_pixels(value, expected):
    assert pixel(value) == expected


def test_diverging_rgb_shape_and_dtype():
    values = np.arange(24, dtype=np.float32).reshape(2, 3, 4) - 12
    rgb = diverging_rgb(values, 12.0)
    assert rgb.shape == (2, 3, 4, 3) and rgb.dtype == np.uint8


def test_decode_recovers_random_matrices():
    rng = np.random.default_rng(0)
    for scale in (0.01, 1.0, 37.5):
        values = rng.uniform(-scale, scale, size=(40, 50))
        values[0, :3] = (-scale, 0.0, scale)
        rgb = diverging_rgb(values, scale)
        error = np.abs(decode(rgb, scale) - values)
        assert error.max() <= scale / 255
        # The colours really vary with the value: not a constant image.
        assert len(np.unique(rgb.reshape(-1, 3), axis=0)) > 100


def test_decode_of_saturated_values_gives_the_scale():
    values = np.array([[3.0, -3.0, 1.0]])
    np.testing.assert_allclose(decode(diverging_rgb(values, 1.0), 1.0), [[1.0, -1.0, 1.0]])


def test_symmetric_scale():
    assert symmetric_scale(np.array([[0.5, -3.0], [np.nan, np.inf]])) == 3.0
    assert symmetric_scale(np.zeros((2, 2))) == FALLBACK_SCALE
    assert symmetric_scale(np.array([np.nan, -np.inf])) == FALLBACK_SCALE


def test_grey_minmax_constant_matrix_is_mid_grey():
    rgb = grey_minmax_rgb(np.full((3, 4), 7.5))
    assert rgb.shape == (3, 4, 3) and rgb.dtype == np.uint8
    assert (rgb == 128).all()


def test_grey_minmax_ramp_spans_the_range():
    ramp = np.linspace(-4.0, 9.0, 256).reshape(16, 16)
    rgb = grey_minmax_rgb(ramp)
    assert rgb[..., 0].min() == 0 and rgb[..., 0].max() == 255
    assert rgb[0, 0, 0] == 0 and rgb[-1, -1, 0] == 255
    # Grey: all three channels equal, and monotone along the ramp.
    assert (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all()
    assert (np.diff(rgb[..., 0].ravel().astype(int)) >= 0).all()


def test_grey_minmax_ignores_non_finite_values():
    values = np.array([[np.nan, 0.0, 1.0, np.inf]])
    rgb = grey_minmax_rgb(values)[0, :, 0]
    assert rgb.tolist() == [128, 0, 255, 128]


# --------------------------------------------------------------------------- sizes


def test_upscale_factors_one_row_kernel_becomes_a_band():
    cfg = image_cfg()
    fy, fx = upscale_factors((1, 512), cfg.target_side_px, cfg.min_side_px)
    assert 1 * fy >= cfg.min_side_px
    assert fx >= 1 and 512 * fx <= 2 * cfg.target_side_px + 512


@pytest.mark.parametrize("shape", [(3, 5), (8, 32), (4, 4), (10, 40)])
def test_upscale_factors_small_matrices_reach_the_target(shape):
    target, min_side = 256, 16
    fy, fx = upscale_factors(shape, target, min_side)
    longest = max(shape[0] * fy, shape[1] * fx)
    assert target / 2 < longest <= target
    assert shape[0] * fy >= min_side and shape[1] * fx >= min_side


def test_upscale_factors_never_shrink():
    assert upscale_factors((512, 512), 256, 16) == (1, 1)


def test_render_shape_and_constant_blocks():
    cfg = image_cfg()
    rng = np.random.default_rng(1)
    values = rng.normal(size=(3, 7))
    out = render(values, 2.0, cfg)
    fy, fx = upscale_factors((3, 7), cfg.target_side_px, cfg.min_side_px)
    assert out.shape == (3 * fy, 7 * fx, 3) and out.dtype == np.uint8
    expected = diverging_rgb(values, 2.0)
    for r in range(3):
        for c in range(7):
            block = out[r * fy : (r + 1) * fy, c * fx : (c + 1) * fx]
            assert (block == expected[r, c]).all()


def test_render_vector_is_one_row():
    cfg = image_cfg()
    vector = np.linspace(-1, 1, 40)
    out = render(vector, 1.0, cfg)
    fy, fx = upscale_factors((1, 40), cfg.target_side_px, cfg.min_side_px)
    assert out.shape == (fy, 40 * fx, 3)
    # Every pixel row is the same single row of weights.
    assert (out == out[:1]).all()
    np.testing.assert_allclose(decode(out[0, ::fx], 1.0), vector, atol=1 / 255)


def test_render_minmax_is_grey():
    out = render(np.arange(6.0).reshape(2, 3), None, image_cfg())
    assert (out[..., 0] == out[..., 1]).all() and (out[..., 1] == out[..., 2]).all()
    assert out.min() == 0 and out.max() == 255


def test_render_large_matrix_is_reduced_to_the_limit():
    cfg = image_cfg(max_side_px=64, target_side_px=64, min_side_px=8)
    values = np.zeros((100, 300))
    values[50, 150] = -5.0  # a lone outlier survives maxabs reduction
    out = render(values, 5.0, cfg)
    assert max(out.shape[:2]) <= 64
    assert (out.reshape(-1, 3) == BLUE).all(axis=1).any()


# --------------------------------------------------------------------------- reduction


def test_reduce_maxabs_known_case():
    matrix = np.array(
        [
            [1.0, -5.0, 0.5, 0.25],
            [2.0, 3.0, -0.75, 0.1],
            [0.0, 0.0, 9.0, -9.5],
            [-0.1, 0.05, 1.0, 2.0],
        ]
    )
    np.testing.assert_array_equal(reduce_blocks(matrix, 2, "maxabs"), [[-5.0, -0.75], [-0.1, -9.5]])


def test_reduce_mean_known_case():
    matrix = np.arange(16.0).reshape(4, 4)
    np.testing.assert_allclose(reduce_blocks(matrix, 2, "mean"), [[2.5, 4.5], [10.5, 12.5]])


def test_reduce_non_divisible_shape():
    # 5 x 7 with max side 3: blocks of 3, the last ones partial (padding is ignored).
    matrix = np.arange(35.0).reshape(5, 7) - 17
    matrix[4, 6] = 100.0
    maxabs = reduce_blocks(matrix, 3, "maxabs")
    mean = reduce_blocks(matrix, 3, "mean")
    assert maxabs.shape == mean.shape == (2, 3)
    for r in range(2):
        for c in range(3):
            block = matrix[3 * r : 3 * r + 3, 3 * c : 3 * c + 3]
            assert maxabs[r, c] == block.ravel()[np.argmax(np.abs(block))]
            assert mean[r, c] == pytest.approx(block.mean())
    assert maxabs[1, 2] == 100.0
    assert mean[1, 2] == pytest.approx((matrix[3, 6] + 100.0) / 2)  # a 2 x 1 corner block


def test_reduce_keeps_small_matrices():
    matrix = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(reduce_blocks(matrix, 4), matrix)


@pytest.mark.parametrize("how", ["maxabs", "mean"])
def test_reduce_long_side_fits(how):
    matrix = np.random.default_rng(2).normal(size=(1024, 4096))
    reduced = reduce_blocks(matrix, 512, how)
    assert max(reduced.shape) <= 512
    assert reduced.shape == (128, 512)
    assert np.isfinite(reduced).all()


def test_reduce_maxabs_ignores_nan_weights():
    matrix = np.array([[np.nan, 1.0], [-2.0, 0.5]])
    assert reduce_blocks(matrix, 1, "maxabs")[0, 0] == -2.0


# --------------------------------------------------------------------------- painter


def test_painter_fixed_scale_keeps_the_first():
    painter = Painter(image_cfg())
    assert painter.scale("lstm", "kernel", np.array([[1.0, -2.0]])) == 2.0
    assert painter.scale("lstm", "kernel", np.array([[10.0, -20.0]])) == 2.0
    # Another matrix gets its own scale.
    assert painter.scale("lstm", "recurrent_kernel", np.array([[0.5]])) == 0.5
    assert painter.take_scale_scalars() == {
        "scale/lstm/kernel": 2.0,
        "scale/lstm/recurrent_kernel": 0.5,
    }
    # Taken: the next call reports only what was used since.
    assert painter.take_scale_scalars() == {}
    assert painter.scale("lstm", "kernel", np.array([[7.0]])) == 2.0
    assert painter.take_scale_scalars() == {"scale/lstm/kernel": 2.0}


def test_painter_per_step_recomputes():
    painter = Painter(image_cfg(scale="per_step"))
    assert painter.scale("l", "bias", np.array([1.0, -2.0])) == 2.0
    assert painter.scale("l", "bias", np.array([10.0, -20.0])) == 20.0
    assert painter.take_scale_scalars() == {"scale/l/bias": 20.0}


def test_painter_minmax_has_no_scale():
    painter = Painter(image_cfg(scale="minmax"))
    assert painter.scale("l", "kernel", np.array([[1.0, -2.0]])) is None
    assert painter.take_scale_scalars() == {}
    out = painter.paint(np.array([[1.0, -2.0]]), None)
    assert (out[..., 0] == out[..., 2]).all()


def test_painter_paints_with_its_config():
    painter = Painter(image_cfg(target_side_px=32, min_side_px=4))
    values = np.array([[1.0, -1.0], [0.0, 0.5]])
    out = painter.paint(values, painter.scale("l", "k", values))
    assert out.shape == (32, 32, 3)
    assert tuple(out[0, 0]) == RED and tuple(out[0, -1]) == BLUE and tuple(out[-1, 0]) == WHITE


@pytest.mark.parametrize("key, bad", [("scale", "log"), ("reduce", "median")])
def test_image_options_reject_unknown_choices(key, bad):
    with pytest.raises(ValueError, match=f"viz.image.{key}={bad}"):
        image_cfg(**{key: bad})
