"""viz.image.cmap: another diverging map by matplotlib's name changes the pixels, and a pixel
still reads back as the weight with the run's logged scale (viz.colour.value_of)."""

import numpy as np
import pytest

from conftest import cells, decode_image, image_cfg, read_tensors, run_cli, saved_matrices


def test_a_named_map_changes_the_pixels_and_reads_back():
    from lstm_experiments.viz import colour
    from lstm_experiments.viz.painter import render

    values = np.linspace(-2.0, 2.0, 41).reshape(1, 41)
    bwr = render(values, 2.0, image_cfg(target_side_px=41, min_side_px=1))
    rdbu = render(values, 2.0, image_cfg(target_side_px=41, min_side_px=1, cmap="RdBu_r"))
    assert bwr.shape == rdbu.shape and (bwr != rdbu).any()
    np.testing.assert_allclose(colour.value_of(rdbu[0], 2.0, "RdBu_r"), values[0], atol=2.0 / 255 + 1e-9)
    # The ends and the middle are the map's own colours.
    import matplotlib

    ends = np.rint(matplotlib.colormaps["RdBu_r"]([0.0, 0.5, 1.0])[:, :3] * 255)
    np.testing.assert_array_equal(rdbu[0, [0, 20, 40]], ends)


def test_an_unknown_map_is_one_line_listing_choices(tmp_path):
    result = run_cli(["viz.image.cmap=nope"], cwd=tmp_path, timeout=60)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    (line,) = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert line.startswith("error: viz.image.cmap=nope") and "RdBu_r" in line and "coolwarm" in line
    from lstm_experiments import GateLogger

    with pytest.raises(ValueError, match=r"image\['cmap'\]=nope"):
        GateLogger(tmp_path, image={"cmap": "nope"})


@pytest.mark.slow
def test_a_run_with_another_map_logs_images_that_read_back_as_the_weights(tmp_path):
    from lstm_experiments.viz import colour

    run_dir = tmp_path / "run"
    result = run_cli(["units=4", "data.n_samples=48", "data.seq_len=6", "train.epochs=2", "viz=[gates]",
                      "viz.image.cmap=coolwarm", f"hydra.run.dir={run_dir}"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    tensors = read_tensors(run_dir / "tensorboard")
    final, _ = saved_matrices(run_dir)
    kernel = final["lstm"]["recurrent_kernel"]
    scale = float(tensors["scale/lstm/recurrent_kernel"][-1][1])
    step, image = tensors["gates/lstm/recurrent_kernel/forget"][-1]
    pixels = cells(decode_image(image), (4, 4))
    np.testing.assert_allclose(colour.value_of(pixels, scale, "coolwarm"),
                               np.clip(kernel[:, 4:8], -scale, scale), atol=scale / 255 + 1e-7)
