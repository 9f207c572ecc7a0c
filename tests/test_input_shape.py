"""``input_shape=[seq_len,features]`` at the top level, as the seed article writes it: it shapes
synthetic data, and a CSV's windows must agree with it. Through the real CLI."""

import pytest

from conftest import run_cli
from test_faults import assert_one_line_error

pytestmark = pytest.mark.slow


def test_input_shape_sets_the_synthetic_data_and_the_model(tmp_path):
    run_dir = tmp_path / "run"
    result = run_cli(["units=4", "data=random", "data.n_samples=48", "train.epochs=1", "viz=[gates]",
                      "input_shape=[7,3]", f"hydra.run.dir={run_dir}"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "windows of shape (7, 3)" in result.stdout + result.stderr
    import keras

    assert keras.models.load_model(run_dir / "model.keras").input_shape == (None, 7, 3)


def test_a_csv_whose_windows_disagree_is_one_line(tmp_path):
    series = tmp_path / "series.csv"
    series.write_text("t,bytes,packets\n" + "".join(f"{i},{i % 7},{i % 3}\n" for i in range(40)))
    result = run_cli(["data=csv", f"data.path={series}", "data.target=bytes", "data.seq_len=4", "units=4",
                      "input_shape=[5,2]"], cwd=tmp_path, timeout=120)
    assert_one_line_error(result, "input_shape=[5,2]", "windows of shape [4,2]", "data.seq_len=4")


@pytest.mark.parametrize("args, fragments", [
    (["input_shape=[10]"], ["input_shape=[10]", "[seq_len,features]"]),
    (["input_shape=[10,0]"], ["input_shape=[10, 0]"]),
    (["data=adding", "input_shape=[10,3]"], ["input_shape=[10,3]", "data=adding has 2 features"]),
])
def test_bad_input_shapes(tmp_path, args, fragments):
    assert_one_line_error(run_cli(args, cwd=tmp_path, timeout=60), *fragments)
