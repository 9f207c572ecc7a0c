"""Our histogram records against TensorBoard's own ``histogram_pb``: the same proto, value for value."""

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from tensorboard.plugins.histogram import summary_v2 as histogram_summary
from tensorboard.util import tensor_util

from lstm_experiments.tensorboard.writer import (
    HISTOGRAM_BUCKETS,
    histogram_buckets,
    histogram_value,
)

FMAX = float(np.finfo(np.float64).max)


def tensorboards(data):
    value = histogram_summary.histogram_pb("h", data, buckets=HISTOGRAM_BUCKETS).value[0]
    return value, tensor_util.make_ndarray(value.tensor)


CASES = {
    "gate block": np.random.default_rng(0).normal(0, 0.05, (1024, 1024)),
    "float32 kernel": np.random.default_rng(1).normal(0, 0.3, (8, 512)).astype(np.float32),
    "uniform": np.random.default_rng(2).uniform(-1, 1, 10_000),
    "zero-initialised bias": np.zeros(64),
    "constant": np.full(7, 1.0),
    "one value": np.array([-3.5]),
    "two values": np.array([0.0, 1.0]),
    "integers": np.arange(100),
    "forget bias of ones with an outlier": np.r_[np.ones(63), 1.5],
    "tiny": np.random.default_rng(3).normal(0, 1e-200, 100),
    "huge": np.random.default_rng(4).normal(0, 1e200, 100),
    "empty": np.zeros(0),
}


@pytest.mark.parametrize("name", list(CASES))
def test_histogram_record_equals_tensorboards(name):
    data = CASES[name]
    expected, expected_buckets = tensorboards(data)
    ours = histogram_value("h", data)
    np.testing.assert_array_equal(tensor_util.make_ndarray(ours.tensor), expected_buckets)
    assert ours.metadata == expected.metadata
    assert ours.tensor.dtype == expected.tensor.dtype


@settings(max_examples=200, deadline=None)
@given(data=hnp.arrays(np.float64, st.integers(1, 300),
                       elements=st.floats(-1e6, 1e6, allow_nan=False, allow_subnormal=False)))
@example(data=np.array([2.22507386e-308, 0.0]))  # a subnormal bucket width (found by hypothesis)
def test_histogram_buckets_equal_tensorboards_on_any_finite_values(data):
    np.testing.assert_array_equal(histogram_buckets(data), tensorboards(data)[1])


@settings(max_examples=100, deadline=None)
@given(data=hnp.arrays(np.float64, st.integers(1, 100), elements=st.floats(allow_nan=False, allow_infinity=False)))
@example(data=np.array([-FMAX, FMAX, 0.0]))
@example(data=np.array([5e-324, 1.0]))
@example(data=np.array([5e-324, 0.0]))  # the bucket width underflows to 0
@example(data=np.array([FMAX, 0.0]))  # the range fits, but FMAX / 30 * 30 does not
def test_every_value_lands_in_a_bucket_even_when_the_range_overflows(data):
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        buckets = histogram_buckets(data)
    assert buckets[:, 2].sum() == data.size
    assert buckets[0, 0] == data.min() and buckets[-1, 1] == data.max()
    assert all(math.isfinite(edge) for edge in buckets[:, :2].ravel())
    assert np.all(np.diff(buckets[:, 0]) >= 0)


# --------------------------------------------------------------------------- PNG encoding

def decoded_by_pillow(png: bytes) -> np.ndarray:
    import io

    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG" and image.mode == "RGB"
        image.load()  # checks every chunk's CRC and the zlib stream
        return np.asarray(image)


def gate_image(units: int) -> np.ndarray:
    from omegaconf import OmegaConf

    from lstm_experiments.viz.painter import render
    from lstm_experiments.config.image_options import image_options

    weights = np.random.default_rng(units).normal(0, 0.05, (units, units))
    return render(weights, float(np.abs(weights).max()), image_options())


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (16, 512), (256, 256), (3, 2)])
def test_png_decodes_to_the_same_pixels(shape):
    from lstm_experiments.tensorboard.png import encode_png

    pixels = np.random.default_rng(0).integers(0, 256, (*shape, 3), dtype=np.uint8)
    np.testing.assert_array_equal(decoded_by_pillow(encode_png(pixels)), pixels)


@pytest.mark.parametrize("units", [8, 128, 1024])
def test_gate_images_decode_exactly_and_are_smaller_than_pillows(units):
    import io

    from PIL import Image

    from lstm_experiments.tensorboard.png import encode_png

    pixels = gate_image(units)
    ours = encode_png(pixels)
    np.testing.assert_array_equal(decoded_by_pillow(ours), pixels)
    pillows = io.BytesIO()
    Image.fromarray(pixels).save(pillows, format="PNG")  # Pillow's defaults: adaptive filters, level 6
    if units >= 128:  # where the bytes matter; a tiny 8-unit image is 3 KB against Pillow's 1 KB
        assert len(ours) < len(pillows.getvalue()) * 0.9


@pytest.mark.parametrize("pixels", [np.zeros((4, 4), np.uint8), np.zeros((4, 4, 4), np.uint8),
                                    np.zeros((4, 4, 3), np.float32), np.zeros((0, 4, 3), np.uint8)])
def test_png_refuses_what_is_not_rgb_pixels(pixels):
    from lstm_experiments.tensorboard.png import encode_png

    with pytest.raises(ValueError, match="pixels|empty"):
        encode_png(pixels)
