"""A text file as characters for next-token prediction (``data=text data.path=FILE``).

The vocabulary is the file's distinct characters sorted by code point, so the
same file always gives the same ids (``Dataset.vocabulary[id]`` is a
character). The text is read as UTF-8 (a leading byte-order mark dropped) and
split chronologically: the first ``1 - val_fraction`` of the characters train,
the rest validate, and no window crosses the boundary. Each part is cut into
windows of ``seq_len`` characters that do not overlap; a window's targets are
the same characters one position on, so every position predicts the next
character (the model's head is a softmax over the vocabulary at each step).
The seed orders the training batches, as for a CSV; the data itself does not
depend on it.

A missing, empty or binary file (a NUL byte, or bytes that are not UTF-8)
stops the run with one line naming ``data.path`` and the value.
"""

from pathlib import Path

import numpy as np

from lstm_experiments.data.dataset import NEXT_TOKEN, Dataset
from lstm_experiments.errors import DataError

# UTF-8, with a leading byte-order mark (some editors write one) dropped.
ENCODING = "utf-8-sig"


def _read_bytes(path: Path, key_path: str) -> bytes:
    try:
        exists, is_dir = path.exists(), path.is_dir()
    except OSError as error:  # a directory on the way that may not be searched, a name too long...
        raise DataError(f"data.path={key_path}: cannot be read ({error.strerror or error})") from None
    except ValueError as error:  # a NUL byte in the path
        raise DataError(f"data.path={key_path!r}: not a usable path ({error})") from None
    if not exists:
        raise DataError(f"data.path={key_path}: no such file")
    if is_dir:
        raise DataError(f"data.path={key_path}: is a directory, not a text file")
    try:
        return path.read_bytes()
    except OSError as error:  # no read permission, an I/O error
        raise DataError(f"data.path={key_path}: cannot be read ({error.strerror or error})") from None


def read_text(path, key_path: str | None = None) -> str:
    """The UTF-8 text of ``path``; DataError (one line naming ``data.path``) when it is missing, empty or binary."""
    key_path = str(path) if key_path is None else key_path
    raw = _read_bytes(Path(path).expanduser(), key_path)
    if not raw:
        raise DataError(f"data.path={key_path}: the file is empty")
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise DataError(f"data.path={key_path}: a binary file, not text (a NUL byte at offset {nul})")
    try:
        text = raw.decode(ENCODING)
    except UnicodeDecodeError as error:
        raise DataError(f"data.path={key_path}: not UTF-8 text (byte 0x{raw[error.start]:02x} at offset "
                        f"{error.start}); data=text reads UTF-8") from None
    if not text:  # a byte-order mark alone
        raise DataError(f"data.path={key_path}: the file is empty")
    return text


def encode(text: str) -> tuple[tuple[str, ...], np.ndarray]:
    """(vocabulary: the distinct characters sorted by code point, int32 ids of ``text``'s characters)."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    alphabet, ids = np.unique(codes, return_inverse=True)
    return tuple(chr(int(code)) for code in alphabet), ids.astype(np.int32).reshape(-1)


def windows(ids: np.ndarray, seq_len: int) -> tuple[np.ndarray, np.ndarray]:
    """(x, y): non-overlapping windows of ``seq_len`` ids, and the ids one position on, both (windows, seq_len)."""
    count = max(0, (len(ids) - 1) // seq_len)
    x = ids[: count * seq_len].reshape(count, seq_len)
    y = ids[1: count * seq_len + 1].reshape(count, seq_len)
    return x, y


def load_text(cfg) -> Dataset:
    """Read ``cfg.path`` and return windows of ``seq_len`` character ids with next-character targets."""
    for key in ("seq_len", "embedding_dim"):
        if cfg[key] <= 0:
            raise DataError(f"data.{key}={cfg[key]} (must be > 0)")
    key_path = str(cfg.path)
    vocabulary, ids = encode(read_text(cfg.path, key_path))
    n_chars = len(ids)
    n_train_chars = int(n_chars * (1.0 - cfg.val_fraction))
    x_train, y_train = windows(ids[:n_train_chars], cfg.seq_len)
    x_val, y_val = windows(ids[n_train_chars:], cfg.seq_len)
    if len(x_train) == 0 or len(x_val) == 0:
        raise DataError(
            f"data.path={key_path}: {n_chars} characters leave no "
            f"{'training' if len(x_train) == 0 else 'validation'} window of data.seq_len={cfg.seq_len} "
            f"with data.val_fraction={cfg.val_fraction} (a window needs data.seq_len + 1 characters)"
        )
    return Dataset(x_train, y_train, x_val, y_val, NEXT_TOKEN, vocabulary=vocabulary)
