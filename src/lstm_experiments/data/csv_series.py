"""A CSV time series cut into training windows.

Rows are time steps; the feature columns' names become the data set's ``feature_names``,
in the order of the windows' last axis. The split is chronological: the first rows train, the
last ``val_fraction`` validate, and the normalisation is fitted on the training
rows only. Windows are strided views of one array, not a Python loop and not
a copy: the training and validation windows are slices of one
``sliding_window_view``.

Reading takes two passes: a sample of the first rows picks the columns and
their types, then the file is read straight into float32 columns. Only when
that fails (a cell that is not a number) is the file read again as text, to
name the row and column of the bad cell.
"""

from pathlib import Path

import numpy as np
import pandas as pd

from lstm_experiments.config.choices import ChoiceError, Missing, parse
from lstm_experiments.data.dataset import REGRESSION, Dataset
from lstm_experiments.errors import DataError, first_line

# A column counts as numeric by default when at least this share of its filled cells are numbers;
# the rest (dates, names) are left out of the default feature set.
NUMERIC_SHARE = 0.5
# Rows read first to pick the columns and their types.
SAMPLE_ROWS = 1000


def _os_reason(error: OSError) -> str:
    return error.strerror or str(error)


def _read_frame(path: Path, key_path: str, **options) -> pd.DataFrame:
    try:
        exists, is_dir = path.exists(), path.is_dir()
    except OSError as error:  # a directory on the way that may not be searched, a name too long...
        raise DataError(f"data.path={key_path}: cannot be read ({_os_reason(error)})") from None
    except ValueError as error:  # a NUL byte in the path
        raise DataError(f"data.path={key_path!r}: not a usable path ({error})") from None
    if not exists:
        raise DataError(f"data.path={key_path}: no such file")
    if is_dir:
        raise DataError(f"data.path={key_path}: is a directory, not a CSV file")
    try:
        frame = pd.read_csv(path, skipinitialspace=True, **options)
    except IsADirectoryError:
        raise DataError(f"data.path={key_path}: is a directory, not a CSV file") from None
    except OSError as error:  # no read permission, an I/O error
        raise DataError(f"data.path={key_path}: cannot be read ({_os_reason(error)})") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"data.path={key_path}: the file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise DataError(f"data.path={key_path}: not a readable CSV file ({first_line(error)})") from None
    if frame.empty:
        raise DataError(f"data.path={key_path}: has a header but no data rows")
    return frame


def _is_number_column(cells: pd.Series) -> bool:
    return cells.dtype.kind in "fiub"


def _is_blank(cells: pd.Series) -> pd.Series:
    stripped = cells.astype(str).str.strip()
    return (stripped == "") | stripped.str.lower().isin(["nan", "na", "n/a", "null", "none"])


def _numeric_share(cells: pd.Series) -> float:
    if _is_number_column(cells):
        return float(cells.notna().any())
    filled = cells[cells.notna() & ~_is_blank(cells)]
    if filled.empty:
        return 0.0
    return float(pd.to_numeric(filled, errors="coerce").notna().mean())


def _choose_columns(frame: pd.DataFrame, cfg, key_path: str) -> list[str]:
    columns = list(frame.columns)
    if cfg.target not in columns:
        raise DataError(
            f"data.target={cfg.target} is not a column of {key_path}; columns: {', '.join(columns)}"
        )
    if cfg.features is None:
        features = [
            c for c in columns if c != cfg.target and _numeric_share(frame[c]) >= NUMERIC_SHARE
        ]
    else:
        features = list(cfg.features)
        unknown = [c for c in features if c not in columns]
        if unknown:
            raise DataError(
                f"data.features: {', '.join(unknown)} not in {key_path}; columns: {', '.join(columns)}"
            )
    if not features:
        raise DataError(f"data.features: {key_path} has no numeric column besides the target")
    return features


def _to_numbers(frame: pd.DataFrame, columns: list[str], key_path: str) -> pd.DataFrame:
    numbers = {}
    for column in columns:
        cells = frame[column]
        if _is_number_column(cells):
            numbers[column] = cells.astype(np.float32)
            continue
        blank = cells.isna() | _is_blank(cells)
        parsed = pd.to_numeric(cells.where(~blank), errors="coerce")
        bad = parsed.isna() & ~blank
        if bad.any():
            row = int(np.argmax(bad.to_numpy()))
            raise DataError(
                f"{key_path}: row {row + 1}, column {column!r}: {cells.iloc[row]!r} is not a number"
            )
        numbers[column] = parsed.astype(np.float32)
    return pd.DataFrame(numbers)


def _fill_missing(numbers: pd.DataFrame, how: str, key_path: str) -> pd.DataFrame:
    try:
        how = parse(Missing, how, "data.missing")
    except ChoiceError as error:
        raise DataError(str(error)) from None
    holes = numbers.isna() | ~np.isfinite(numbers)
    if not holes.to_numpy().any():
        return numbers
    numbers = numbers.mask(holes)
    if how is Missing.error:
        # The first hole in reading order: the earliest row, then its leftmost column.
        row = int(np.argmax(holes.to_numpy().any(axis=1)))
        column = holes.iloc[row].idxmax()
        count = int(holes.to_numpy().sum())
        raise DataError(
            f"{key_path}: {count} blank or NaN cells (first: row {row + 1}, column {column!r}); "
            "set data.missing=drop, ffill or interpolate"
        )
    if how is Missing.drop:
        return numbers.dropna().reset_index(drop=True)
    if how is Missing.interpolate:
        numbers = numbers.interpolate(method="linear", limit_direction="both")
    # ffill, and the edges interpolation cannot reach.
    return numbers.ffill().bfill()


def _standardise_in_place(values: np.ndarray, n_fit_rows: int) -> None:
    """Standardise float32 columns with statistics (in float64) of the first ``n_fit_rows`` rows."""
    fit = values[:n_fit_rows]
    mean = fit.mean(axis=0, dtype=np.float64)
    std = fit.std(axis=0, dtype=np.float64)
    # A constant column carries no signal; dividing by 1 keeps it finite (all zeros).
    std = np.where(std > 0, std, 1.0)
    values -= mean.astype(np.float32)
    values /= std.astype(np.float32)


def _read_numbers(path: Path, cfg, key_path: str) -> tuple[list[str], pd.DataFrame]:
    """(feature columns, float32 frame of the features and the target)."""
    sample = _read_frame(path, key_path, nrows=SAMPLE_ROWS)
    features = _choose_columns(sample, cfg, key_path)
    # The target may also be listed as a feature (its past as an input): read each column once.
    columns = list(dict.fromkeys([*features, cfg.target]))
    float_columns = {c: np.float32 for c in columns if _is_number_column(sample[c])}
    try:
        frame = _read_frame(path, key_path, usecols=columns, dtype=float_columns)
    except ValueError:
        # A cell further down is not a number: read as text to say which.
        frame = _read_frame(path, key_path, usecols=columns, dtype=str)
    return features, _to_numbers(frame, columns, key_path)


def window_starts(n_rows: int, seq_len: int, horizon: int, stride: int) -> np.ndarray:
    """First row of every window whose target row (last row + horizon) exists."""
    last_start = n_rows - seq_len - horizon
    return np.arange(0, last_start + 1, stride)


def load_csv_series(cfg) -> Dataset:
    """Read ``cfg.path`` and return windows of ``seq_len`` rows and the target ``horizon`` rows on."""
    for key in ("seq_len", "stride", "horizon"):
        if cfg[key] <= 0:
            raise DataError(f"data.{key}={cfg[key]} (must be > 0)")
    key_path = str(cfg.path)
    features, numbers = _read_numbers(Path(cfg.path).expanduser(), cfg, key_path)
    numbers = _fill_missing(numbers, cfg.missing, key_path)

    n_rows = len(numbers)
    needed = cfg.seq_len + cfg.horizon
    if n_rows < needed + 1:
        raise DataError(
            f"{key_path}: {n_rows} rows is too short for data.seq_len + data.horizon = {needed} "
            "(plus one row to validate on)"
        )
    n_train_rows = int(n_rows * (1.0 - cfg.val_fraction))
    # One float32 table laid out as features..., target.
    table = np.empty((n_rows, len(features) + 1), dtype=np.float32)
    for index, column in enumerate([*features, cfg.target]):
        table[:, index] = numbers[column].to_numpy()
    del numbers
    _standardise_in_place(table, max(1, n_train_rows))
    x_all, y_all = table[:, :-1], table[:, -1:]

    starts = window_starts(n_rows, cfg.seq_len, cfg.horizon, cfg.stride)
    target_rows = starts + cfg.seq_len - 1 + cfg.horizon
    # Window i is rows [starts[i], starts[i] + seq_len): a strided view, (windows, seq_len, features).
    windows = np.lib.stride_tricks.sliding_window_view(x_all, cfg.seq_len, axis=0)
    x = windows[: starts[-1] + 1 : cfg.stride].transpose(0, 2, 1)
    y = y_all[target_rows]
    # Target rows grow with the window, so the chronological split is one index.
    n_train = int(np.searchsorted(target_rows, n_train_rows))
    if n_train in (0, len(starts)):
        raise DataError(
            f"{key_path}: {n_rows} rows leave no {'training' if n_train == 0 else 'validation'} "
            f"window of data.seq_len={cfg.seq_len} and data.horizon={cfg.horizon} "
            f"with data.val_fraction={cfg.val_fraction}"
        )
    return Dataset(x[:n_train], y[:n_train], x[n_train:], y[n_train:], REGRESSION, tuple(map(str, features)))
