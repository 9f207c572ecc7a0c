"""A CSV time series cut into training windows.

Rows are time steps. The split is chronological: the first rows train, the
last ``val_fraction`` validate, and the normalisation is fitted on the training
rows only. Windows are strided views of one array, not a Python loop.
"""

from pathlib import Path

import numpy as np
import pandas as pd

from lstm_experiments.data.dataset import REGRESSION, Dataset
from lstm_experiments.errors import DataError

MISSING_CHOICES = ("error", "drop", "ffill", "interpolate")
# A column counts as numeric by default when at least this share of its filled cells are numbers;
# the rest (dates, names) are left out of the default feature set.
NUMERIC_SHARE = 0.5


def _read_frame(path: Path, key_path: str) -> pd.DataFrame:
    if not path.exists():
        raise DataError(f"data.path={key_path}: no such file")
    if path.is_dir():
        raise DataError(f"data.path={key_path}: is a directory, not a CSV file")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise DataError(f"data.path={key_path}: the file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        first_line = str(error).strip().splitlines()[0]
        raise DataError(f"data.path={key_path}: not a readable CSV file ({first_line})") from None
    if frame.empty:
        raise DataError(f"data.path={key_path}: has a header but no data rows")
    return frame


def _is_blank(cells: pd.Series) -> pd.Series:
    stripped = cells.str.strip()
    return (stripped == "") | stripped.str.lower().isin(["nan", "na", "n/a", "null", "none"])


def _numeric_share(cells: pd.Series) -> float:
    filled = cells[~_is_blank(cells)]
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
        blank = _is_blank(cells)
        parsed = pd.to_numeric(cells.where(~blank), errors="coerce")
        bad = parsed.isna() & ~blank
        if bad.any():
            row = int(np.argmax(bad.to_numpy()))
            raise DataError(
                f"{key_path}: row {row + 1}, column {column!r}: {cells.iloc[row]!r} is not a number"
            )
        numbers[column] = parsed.astype(np.float64)
    return pd.DataFrame(numbers)


def _fill_missing(numbers: pd.DataFrame, how: str, key_path: str) -> pd.DataFrame:
    if how not in MISSING_CHOICES:
        raise DataError(f"data.missing={how} is not one of {', '.join(MISSING_CHOICES)}")
    holes = numbers.isna() | ~np.isfinite(numbers)
    if not holes.to_numpy().any():
        return numbers
    numbers = numbers.mask(holes)
    if how == "error":
        # The first hole in reading order: the earliest row, then its leftmost column.
        row = int(np.argmax(holes.to_numpy().any(axis=1)))
        column = holes.iloc[row].idxmax()
        count = int(holes.to_numpy().sum())
        raise DataError(
            f"{key_path}: {count} blank or NaN cells (first: row {row + 1}, column {column!r}); "
            "set data.missing=drop, ffill or interpolate"
        )
    if how == "drop":
        return numbers.dropna().reset_index(drop=True)
    if how == "interpolate":
        numbers = numbers.interpolate(method="linear", limit_direction="both")
    # ffill, and the edges interpolation cannot reach.
    return numbers.ffill().bfill()


def _standardise(values: np.ndarray, n_fit_rows: int) -> np.ndarray:
    mean = values[:n_fit_rows].mean(axis=0)
    std = values[:n_fit_rows].std(axis=0)
    # A constant column carries no signal; dividing by 1 keeps it finite (all zeros).
    std = np.where(std > 0, std, 1.0)
    return ((values - mean) / std).astype(np.float32)


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
    frame = _read_frame(Path(cfg.path).expanduser(), key_path)
    features = _choose_columns(frame, cfg, key_path)
    # The target may also be listed as a feature (its past as an input): parse each column once,
    # then lay the table out as features..., target.
    columns = list(dict.fromkeys([*features, cfg.target]))
    numbers = _to_numbers(frame, columns, key_path)
    numbers = _fill_missing(numbers, cfg.missing, key_path)[[*features, cfg.target]]

    n_rows = len(numbers)
    needed = cfg.seq_len + cfg.horizon
    if n_rows < needed + 1:
        raise DataError(
            f"{key_path}: {n_rows} rows is too short for data.seq_len + data.horizon = {needed} "
            "(plus one row to validate on)"
        )
    n_train_rows = int(n_rows * (1.0 - cfg.val_fraction))
    table = _standardise(numbers.to_numpy(), max(1, n_train_rows))
    x_all, y_all = table[:, :-1], table[:, -1:]

    starts = window_starts(n_rows, cfg.seq_len, cfg.horizon, cfg.stride)
    target_rows = starts + cfg.seq_len - 1 + cfg.horizon
    # (n_rows - seq_len + 1, features, seq_len) view, no copy until we pick our starts.
    windows = np.lib.stride_tricks.sliding_window_view(x_all, cfg.seq_len, axis=0)
    x = np.ascontiguousarray(windows[starts].transpose(0, 2, 1))
    y = y_all[target_rows]
    is_train = target_rows < n_train_rows
    if is_train.all() or not is_train.any():
        raise DataError(
            f"{key_path}: {n_rows} rows leave no {'validation' if is_train.all() else 'training'} "
            f"window of data.seq_len={cfg.seq_len} and data.horizon={cfg.horizon} "
            f"with data.val_fraction={cfg.val_fraction}"
        )
    return Dataset(x[is_train], y[is_train], x[~is_train], y[~is_train], REGRESSION)
