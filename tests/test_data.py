"""Data sets: synthetic generators and CSV windows, checked against plain loops (no TensorFlow)."""

import statistics

import numpy as np
import pytest
from omegaconf import OmegaConf

from conftest import compose_config
from lstm_experiments.data import BINARY, REGRESSION, Dataset, load_dataset
from lstm_experiments.data.csv_series import load_csv_series
from lstm_experiments.errors import DataError, UserError
from lstm_experiments.config.schema import (
    AddingDataConfig,
    CsvDataConfig,
    RandomDataConfig,
    SineDataConfig,
)

# --------------------------------------------------------------------------- synthetic


def synthetic_cfg(schema, **values):
    return OmegaConf.structured(schema(**values))


def all_arrays(ds: Dataset):
    return (ds.x_train, ds.y_train, ds.x_val, ds.y_val)


@pytest.mark.parametrize(
    "schema, features, task",
    [
        (RandomDataConfig, 3, BINARY),
        (SineDataConfig, 2, REGRESSION),
        (AddingDataConfig, None, REGRESSION),
    ],
)
def test_synthetic_shapes_dtype_task_and_split(schema, features, task):
    values = dict(n_samples=50, seq_len=7, val_fraction=0.2)
    if features is not None:
        values["features"] = features
    ds = load_dataset(synthetic_cfg(schema, **values), seed=3)
    n_features = 2 if features is None else features  # adding: (value, marker)
    assert ds.task == task
    assert ds.x_train.shape == (40, 7, n_features)
    assert ds.x_val.shape == (10, 7, n_features)
    assert ds.y_train.shape == (40, 1)
    assert ds.y_val.shape == (10, 1)
    assert ds.input_shape == (7, n_features)
    for array in all_arrays(ds):
        assert array.dtype == np.float32
        assert np.isfinite(array).all()


@pytest.mark.parametrize(
    "n_samples, val_fraction, n_val", [(10, 0.25, 2), (7, 0.01, 1), (20, 0.5, 10)]
)
def test_synthetic_validation_size(n_samples, val_fraction, n_val):
    cfg = synthetic_cfg(RandomDataConfig, n_samples=n_samples, seq_len=3, val_fraction=val_fraction)
    ds = load_dataset(cfg, seed=0)
    assert len(ds.x_val) == len(ds.y_val) == n_val
    assert len(ds.x_train) == len(ds.y_train) == n_samples - n_val


def test_random_labels_are_binary_and_inputs_uniform_without_noise():
    cfg = synthetic_cfg(RandomDataConfig, n_samples=200, seq_len=5, features=4, noise=0.0)
    ds = load_dataset(cfg, seed=1)
    labels = np.concatenate([ds.y_train, ds.y_val]).ravel()
    assert set(np.unique(labels)) == {0.0, 1.0}
    x = np.concatenate([ds.x_train, ds.x_val])
    assert x.min() >= 0.0 and x.max() < 1.0


def test_sine_target_is_the_next_value_of_channel_0():
    cfg = synthetic_cfg(SineDataConfig, n_samples=20, seq_len=12, features=2, noise=0.0)
    ds = load_dataset(cfg, seed=4)
    x = np.concatenate([ds.x_train, ds.x_val]).astype(np.float64)
    y = np.concatenate([ds.y_train, ds.y_val]).astype(np.float64)[:, 0]
    assert np.abs(x).max() <= 1.0
    # A sampled sinusoid obeys s[t+1] = c * s[t] - s[t-1] with c = 2 cos(frequency):
    # estimate c from each window of channel 0 and extrapolate one step.
    s = x[:, :, 0]
    c = ((s[:, 2:] + s[:, :-2]) * s[:, 1:-1]).sum(axis=1) / (s[:, 1:-1] ** 2).sum(axis=1)
    predicted = c * s[:, -1] - s[:, -2]
    np.testing.assert_allclose(predicted, y, atol=1e-3)
    # And it is not channel 1's next value.
    s1 = x[:, :, 1]
    c1 = ((s1[:, 2:] + s1[:, :-2]) * s1[:, 1:-1]).sum(axis=1) / (s1[:, 1:-1] ** 2).sum(axis=1)
    assert not np.allclose(c1 * s1[:, -1] - s1[:, -2], y, atol=1e-2)


@pytest.mark.parametrize("seq_len", [2, 3, 10])
def test_adding_target_is_the_marked_sum(seq_len):
    cfg = synthetic_cfg(AddingDataConfig, n_samples=30, seq_len=seq_len, noise=0.0)
    ds = load_dataset(cfg, seed=5)
    x = np.concatenate([ds.x_train, ds.x_val])
    y = np.concatenate([ds.y_train, ds.y_val])
    values, markers = x[..., 0], x[..., 1]
    assert np.isin(markers, [0.0, 1.0]).all()
    assert (markers.sum(axis=1) == 2).all()
    half = seq_len // 2
    # One marker in each half.
    assert (markers[:, :half].sum(axis=1) == 1).all()
    assert (markers[:, half:].sum(axis=1) == 1).all()
    expected = [
        sum(float(v) for v, m in zip(row_v, row_m) if m == 1)
        for row_v, row_m in zip(values, markers)
    ]
    np.testing.assert_allclose(y[:, 0], expected, rtol=1e-6)
    assert (values >= 0).all() and (values < 1).all()


@pytest.mark.parametrize(
    "schema, extra",
    [(RandomDataConfig, {"features": 2}), (SineDataConfig, {}), (AddingDataConfig, {})],
)
def test_synthetic_reproducible_per_seed(schema, extra):
    cfg = synthetic_cfg(schema, n_samples=16, seq_len=6, **extra)
    first, again, other = (load_dataset(cfg, seed) for seed in (7, 7, 8))
    for a, b in zip(all_arrays(first), all_arrays(again)):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first.x_train, other.x_train)


# --------------------------------------------------------------------------- CSV helpers


def write_csv(path, header, rows):
    lines = [",".join(header)] + [",".join(str(cell) for cell in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def csv_cfg(path, target="y", **values):
    return OmegaConf.structured(CsvDataConfig(path=str(path), target=target, **values))


def standardise_by_hand(columns, n_fit):
    """Each column minus its mean over the first n_fit rows, over that part's population std."""
    out = []
    for column in columns:
        fit = column[:n_fit]
        mean = statistics.fmean(fit)
        std = statistics.pstdev(fit) or 1.0
        out.append([(v - mean) / std for v in column])
    return out


def naive_windows(features, target, seq_len, stride, horizon, val_fraction):
    """The data set by a plain loop; features: columns of raw numbers, target: one column."""
    n = len(target)
    n_train = int(n * (1.0 - val_fraction))
    *feature_cols, target_col = standardise_by_hand([*features, target], n_train)
    xt, yt, xv, yv = [], [], [], []
    start = 0
    while start + seq_len - 1 + horizon < n:
        window = [[col[row] for col in feature_cols] for row in range(start, start + seq_len)]
        target_row = start + seq_len - 1 + horizon
        if target_row < n_train:
            xt.append(window), yt.append([target_col[target_row]])
        else:
            xv.append(window), yv.append([target_col[target_row]])
        start += stride
    return [np.array(a, dtype=np.float64) for a in (xt, yt, xv, yv)]


def assert_matches(ds, expected):
    for got, want in zip(all_arrays(ds), expected):
        assert got.dtype == np.float32
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def error_of(cfg) -> str:
    with pytest.raises(DataError) as info:
        load_csv_series(cfg)
    message = str(info.value)
    assert "\n" not in message, message
    assert isinstance(info.value, UserError)
    return message


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# --------------------------------------------------------------------------- CSV windows


@pytest.mark.parametrize(
    "n, seq_len, stride, horizon, val_fraction",
    [(40, 5, 3, 2, 0.25), (37, 4, 1, 1, 0.2), (50, 6, 4, 3, 0.3)],
)
def test_csv_windows_equal_a_naive_loop(tmp_path, rng, n, seq_len, stride, horizon, val_fraction):
    a = rng.normal(3.0, 2.0, n).round(4).tolist()
    b = rng.uniform(-10, 10, n).round(4).tolist()
    y = rng.normal(0.0, 5.0, n).round(4).tolist()
    path = write_csv(tmp_path / "s.csv", ["a", "b", "y"], zip(a, b, y))
    ds = load_csv_series(
        csv_cfg(path, seq_len=seq_len, stride=stride, horizon=horizon, val_fraction=val_fraction)
    )
    assert ds.task == REGRESSION
    assert_matches(ds, naive_windows([a, b], y, seq_len, stride, horizon, val_fraction))


def test_csv_target_row_and_chronological_split(tmp_path):
    n, seq_len, stride, horizon = 41, 5, 2, 3
    rows = [(i, 1000 + i) for i in range(n)]
    path = write_csv(tmp_path / "s.csv", ["i", "y"], rows)
    cfg = csv_cfg(path, seq_len=seq_len, stride=stride, horizon=horizon, val_fraction=0.25)
    ds = load_csv_series(cfg)
    n_train = int(n * 0.75)
    fit = list(range(n_train))
    mean, std = statistics.fmean(fit), statistics.pstdev(fit)

    def rows_of(normalised):
        return np.rint(np.asarray(normalised, dtype=np.float64) * std + mean).astype(int)

    def target_rows(y):
        return rows_of(y[:, 0])  # y = 1000 + i has the same spread as i

    for x, y in ((ds.x_train, ds.y_train), (ds.x_val, ds.y_val)):
        window_rows = rows_of(x[..., 0])
        starts = window_rows[:, 0]
        # Consecutive rows within a window, windows `stride` apart.
        np.testing.assert_array_equal(window_rows, starts[:, None] + np.arange(seq_len))
        # The target is the row seq_len - 1 + horizon after the start.
        np.testing.assert_array_equal(target_rows(y), starts + seq_len - 1 + horizon)
    all_starts = np.concatenate([rows_of(ds.x_train[:, 0, 0]), rows_of(ds.x_val[:, 0, 0])])
    np.testing.assert_array_equal(all_starts, np.arange(0, n - seq_len - horizon + 1, stride))
    train_targets, val_targets = target_rows(ds.y_train), target_rows(ds.y_val)
    assert len(train_targets) and len(val_targets)
    assert train_targets.max() < val_targets.min()
    assert train_targets.max() < n_train <= val_targets.min()


def test_csv_normalisation_is_fitted_on_training_rows_only(tmp_path, rng):
    n, val_fraction = 50, 0.2
    n_train = int(n * (1 - val_fraction))
    a = rng.normal(0.0, 1.0, n)
    a[n_train:] += 100.0  # the validation part lives far away
    a = a.round(5).tolist()
    y = rng.normal(10.0, 3.0, n).round(5).tolist()
    path = write_csv(tmp_path / "s.csv", ["a", "y"], zip(a, y))
    ds = load_csv_series(csv_cfg(path, seq_len=1, horizon=1, val_fraction=val_fraction))
    mean, std = statistics.fmean(a[:n_train]), statistics.pstdev(a[:n_train])
    # seq_len=1, horizon=1: window k holds row k and its target is row k + 1.
    x_all = np.concatenate([ds.x_train[:, 0, 0], ds.x_val[:, 0, 0]])
    np.testing.assert_allclose(x_all, [(v - mean) / std for v in a[: n - 1]], rtol=1e-5)
    ymean, ystd = statistics.fmean(y[:n_train]), statistics.pstdev(y[:n_train])
    y_all = np.concatenate([ds.y_train[:, 0], ds.y_val[:, 0]])
    np.testing.assert_allclose(y_all, [(v - ymean) / ystd for v in y[1:]], rtol=1e-5)
    # Fitted on the whole series the shifted rows would sit near +2 std, not near 100 / std.
    assert x_all[n_train:].min() > 50


def test_csv_default_features_skip_text_columns_and_the_target(tmp_path, rng):
    n = 30
    a = rng.normal(size=n).round(4).tolist()
    b = rng.normal(size=n).round(4).tolist()
    y = rng.normal(size=n).round(4).tolist()
    dates = [f"2024-01-{d + 1:02d}" for d in range(n)]
    names = ["x" if i % 2 else "z" for i in range(n)]
    rows = zip(dates, a, names, y, b)
    path = write_csv(tmp_path / "s.csv", ["date", "a", "name", "y", "b"], rows)
    ds = load_csv_series(csv_cfg(path, seq_len=4))
    assert ds.input_shape == (4, 2)
    assert_matches(ds, naive_windows([a, b], y, 4, 1, 1, 0.2))


def test_csv_explicit_features_are_honoured_in_order(tmp_path, rng):
    n = 30
    a, b, c, y = (rng.normal(size=n).round(4).tolist() for _ in range(4))
    path = write_csv(tmp_path / "s.csv", ["a", "b", "c", "y"], zip(a, b, c, y))
    ds = load_csv_series(csv_cfg(path, seq_len=3, features=["c", "a"]))
    assert ds.input_shape == (3, 2)
    assert_matches(ds, naive_windows([c, a], y, 3, 1, 1, 0.2))


@pytest.mark.parametrize("features", [["y", "a"], ["a", "y"]])
def test_csv_target_may_also_be_a_feature(tmp_path, rng, features):
    """Autoregression: the past of the target as an input; the target stays the target."""
    n = 30
    a, y = (rng.normal(size=n).round(4).tolist() for _ in range(2))
    path = write_csv(tmp_path / "s.csv", ["a", "y"], zip(a, y))
    ds = load_csv_series(csv_cfg(path, seq_len=3, features=features))
    columns = {"a": a, "y": y}
    assert_matches(ds, naive_windows([columns[f] for f in features], y, 3, 1, 1, 0.2))


def test_csv_constant_column_gives_finite_zeros(tmp_path, rng):
    n = 25
    a = rng.normal(size=n).round(4).tolist()
    y = rng.normal(size=n).round(4).tolist()
    path = write_csv(tmp_path / "s.csv", ["a", "k", "y"], [(ai, 5, yi) for ai, yi in zip(a, y)])
    ds = load_csv_series(csv_cfg(path, seq_len=3))
    for array in all_arrays(ds):
        assert np.isfinite(array).all()
    np.testing.assert_array_equal(ds.x_train[..., 1], 0.0)
    np.testing.assert_array_equal(ds.x_val[..., 1], 0.0)
    assert np.abs(ds.x_train[..., 0]).max() > 0


def test_csv_cells_with_spaces_and_exponents_parse(tmp_path):
    path = tmp_path / "s.csv"
    body = "a, y\n"
    body += "".join(f" {i}e0 , {2 * i} \n" for i in range(12))
    path.write_text(body)
    ds = load_csv_series(csv_cfg(path, seq_len=2))
    assert_matches(ds, naive_windows([list(range(12))], [2 * i for i in range(12)], 2, 1, 1, 0.2))


def test_csv_through_the_composed_config(tmp_path, rng):
    n = 40
    a, y = (rng.normal(size=n).round(4).tolist() for _ in range(2))
    path = write_csv(tmp_path / "s.csv", ["a", "y"], zip(a, y))
    cfg = compose_config(["data=csv", f"data.path={path}", "data.target=y", "data.seq_len=5"]).data
    ds = load_dataset(cfg, seed=123)
    assert_matches(ds, naive_windows([a], y, 5, 1, 1, cfg.val_fraction))


# --------------------------------------------------------------------------- CSV missing cells


def holed_series(n=30):
    """Columns i = y = row index; a = 2 * row, blank at (0-based) data rows 0, 7 and 8."""
    holes = {0: "", 7: "NaN", 8: " "}
    rows = [(i, holes.get(i, 2 * i), i) for i in range(n)]
    return rows, sorted(holes)


def test_csv_blank_cells_are_an_error_by_default(tmp_path):
    rows, holes = holed_series()
    path = write_csv(tmp_path / "s.csv", ["i", "a", "y"], rows)
    message = error_of(csv_cfg(path, seq_len=3))
    assert str(path) in message
    assert "3 blank or NaN" in message
    assert "row 1" in message and "'a'" in message  # the first hole (1-based data rows)
    assert "data.missing=" in message
    for choice in ("drop", "ffill", "interpolate"):
        assert choice in message


def test_csv_first_hole_is_named_in_reading_order(tmp_path):
    rows = [(i, i, i) for i in range(20)]
    rows[9] = (9, "", 9)  # column a, row 10
    rows[4] = (4, 4, "")  # column y, row 5: the first hole
    path = write_csv(tmp_path / "s.csv", ["i", "a", "y"], rows)
    message = error_of(csv_cfg(path, seq_len=3))
    assert "row 5" in message and "'y'" in message, message


def test_csv_missing_drop_removes_the_rows(tmp_path):
    rows, holes = holed_series()
    path = write_csv(tmp_path / "s.csv", ["i", "a", "y"], rows)
    seq_len, horizon = 3, 1
    ds = load_csv_series(csv_cfg(path, seq_len=seq_len, horizon=horizon, missing="drop"))
    kept = [i for i in range(len(rows)) if i not in holes]
    n_windows = len(kept) - seq_len - horizon + 1
    assert len(ds.x_train) + len(ds.x_val) == n_windows
    assert_matches(ds, naive_windows([kept, [2 * i for i in kept]], kept, seq_len, 1, horizon, 0.2))


def test_csv_missing_ffill_carries_values_forward(tmp_path):
    rows, _ = holed_series()
    path = write_csv(tmp_path / "s.csv", ["i", "a", "y"], rows)
    ds = load_csv_series(csv_cfg(path, seq_len=3, missing="ffill"))
    n = len(rows)
    a = [2 * i for i in range(n)]
    a[0] = a[1]  # nothing before the first row: filled backwards
    a[7] = a[8] = a[6]
    assert len(ds.x_train) + len(ds.x_val) == n - 3
    assert_matches(ds, naive_windows([list(range(n)), a], list(range(n)), 3, 1, 1, 0.2))


def test_csv_missing_interpolate_is_linear(tmp_path):
    rows, _ = holed_series()
    path = write_csv(tmp_path / "s.csv", ["i", "a", "y"], rows)
    ds = load_csv_series(csv_cfg(path, seq_len=3, missing="interpolate"))
    n = len(rows)
    a = [2 * i for i in range(n)]  # rows 7 and 8 lie on the line through 6 and 9
    a[0] = a[1]  # the edge: nearest value
    assert len(ds.x_train) + len(ds.x_val) == n - 3
    for array in all_arrays(ds):
        assert np.isfinite(array).all()
    assert_matches(ds, naive_windows([list(range(n)), a], list(range(n)), 3, 1, 1, 0.2))


def test_csv_unknown_missing_choice(tmp_path):
    rows, _ = holed_series()
    path = write_csv(tmp_path / "s.csv", ["i", "a", "y"], rows)
    # The schema refuses "zero" (tests/test_choices.py); an untyped config reaches the loader.
    cfg = OmegaConf.create({**OmegaConf.to_container(csv_cfg(path, seq_len=3)), "missing": "zero"})
    message = error_of(cfg)
    assert message == "data.missing=zero (must be one of error, drop, ffill, interpolate)"


# --------------------------------------------------------------------------- CSV errors


def test_csv_missing_file(tmp_path):
    path = tmp_path / "nope.csv"
    message = error_of(csv_cfg(path))
    assert f"data.path={path}" in message and "no such file" in message


def test_csv_path_is_a_directory(tmp_path):
    message = error_of(csv_cfg(tmp_path))
    assert f"data.path={tmp_path}" in message and "directory" in message


def test_csv_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    message = error_of(csv_cfg(path))
    assert f"data.path={path}" in message and "empty" in message


def test_csv_header_only(tmp_path):
    path = write_csv(tmp_path / "h.csv", ["a", "y"], [])
    message = error_of(csv_cfg(path))
    assert f"data.path={path}" in message and "no data rows" in message


def test_csv_non_numeric_cell_names_row_and_column(tmp_path):
    rows = [(i, i) for i in range(20)]
    rows[2] = ("abc", 2)  # third data row
    path = write_csv(tmp_path / "s.csv", ["a", "y"], rows)
    message = error_of(csv_cfg(path, seq_len=3))
    assert str(path) in message
    assert "row 3" in message and "'a'" in message and "'abc'" in message


def test_csv_non_numeric_explicit_feature(tmp_path):
    rows = [(f"d{i}", i, i) for i in range(20)]
    path = write_csv(tmp_path / "s.csv", ["name", "a", "y"], rows)
    message = error_of(csv_cfg(path, seq_len=3, features=["name", "a"]))
    assert "row 1" in message and "'name'" in message and "'d0'" in message


def test_csv_non_numeric_target(tmp_path):
    rows = [(i, i) for i in range(20)]
    rows[5] = (5, "oops")
    path = write_csv(tmp_path / "s.csv", ["a", "y"], rows)
    message = error_of(csv_cfg(path, seq_len=3))
    assert "row 6" in message and "'y'" in message and "'oops'" in message


def test_csv_target_not_a_column(tmp_path):
    path = write_csv(tmp_path / "s.csv", ["alpha", "beta"], [(i, i) for i in range(20)])
    message = error_of(csv_cfg(path, target="gamma"))
    assert "data.target=gamma" in message and str(path) in message
    assert "alpha" in message and "beta" in message


def test_csv_unknown_feature(tmp_path):
    path = write_csv(tmp_path / "s.csv", ["a", "y"], [(i, i) for i in range(20)])
    message = error_of(csv_cfg(path, features=["a", "zz"]))
    assert "data.features" in message and "zz" in message and str(path) in message


def test_csv_no_numeric_feature(tmp_path):
    path = write_csv(tmp_path / "s.csv", ["name", "y"], [(f"n{i}", i) for i in range(20)])
    message = error_of(csv_cfg(path, seq_len=3))
    assert "data.features" in message and str(path) in message


@pytest.mark.parametrize("n_rows", [3, 7])
def test_csv_series_too_short(tmp_path, n_rows):
    path = write_csv(tmp_path / "s.csv", ["a", "y"], [(i, i) for i in range(n_rows)])
    message = error_of(csv_cfg(path, seq_len=5, horizon=2))
    assert str(path) in message
    assert f"{n_rows} rows" in message and "= 7" in message
    assert "data.seq_len" in message and "data.horizon" in message


def test_csv_too_few_rows_for_a_validation_window(tmp_path):
    path = write_csv(tmp_path / "s.csv", ["a", "y"], [(i, i) for i in range(20)])
    message = error_of(csv_cfg(path, seq_len=3, val_fraction=0.0))
    assert "validation" in message and "data.val_fraction=0.0" in message


@pytest.mark.parametrize("key", ["seq_len", "stride", "horizon"])
def test_csv_non_positive_sizes(tmp_path, key):
    path = write_csv(tmp_path / "s.csv", ["a", "y"], [(i, i) for i in range(20)])
    message = error_of(csv_cfg(path, **{key: 0}))
    assert f"data.{key}=0" in message


def test_csv_bad_cell_after_the_sample_rows_is_named(tmp_path):
    """The fast float32 read fails past the sampled rows; the text read then names the cell."""
    from lstm_experiments.data.csv_series import SAMPLE_ROWS, load_csv_series

    rows = [f"{i},{i % 9}" for i in range(SAMPLE_ROWS + 600)]
    rows[SAMPLE_ROWS + 500] = f"{SAMPLE_ROWS + 500},n/a?"
    path = tmp_path / "late.csv"
    path.write_text("a,y\n" + "\n".join(rows) + "\n")
    cfg = OmegaConf.structured(CsvDataConfig)
    cfg.path, cfg.target = str(path), "y"
    with pytest.raises(DataError) as info:
        load_csv_series(cfg)
    assert f"row {SAMPLE_ROWS + 501}, column 'y': 'n/a?'" in str(info.value)


def test_csv_windows_are_views_of_one_table(tmp_path):
    from lstm_experiments.data.csv_series import load_csv_series

    path = tmp_path / "s.csv"
    path.write_text("a,b,y\n" + "".join(f"{i},{i * 2},{i % 5}\n" for i in range(200)))
    cfg = OmegaConf.structured(CsvDataConfig)
    cfg.path, cfg.target, cfg.seq_len = str(path), "y", 10
    data = load_csv_series(cfg)
    assert np.shares_memory(data.x_train, data.x_val)
    assert data.x_train.shape[1:] == (10, 2) and data.x_train.dtype == np.float32
