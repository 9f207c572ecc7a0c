"""The file a run read (a CSV, a text), by content, so a resumed run or a later job of the same sweep reads the same one.

    <run dir>/data.json    {"path": ..., "bytes": ..., "sha256": ...}

A run written on data that has since changed cannot be continued on it (the
windows, the scaling and the validation split would all move), and jobs of one
sweep that read different contents are not comparable: both stop with one line
naming ``data.path``. Synthetic data sets come from the seed and are not recorded.
"""

import hashlib
import json
from pathlib import Path

from lstm_experiments.errors import DataError
from lstm_experiments.run.layout import DATA_FILE, SWEEP_CONFIG, write_json_atomic

_CHUNK = 1 << 20
# The data sets read from data.path.
FILE_DATA = ("csv", "text")


def fingerprint(data_cfg) -> dict | None:
    """What identifies the file a CSV or text config reads; None for synthetic data or a file that isn't there."""
    if data_cfg.get("name") not in FILE_DATA:
        return None
    path = Path(str(data_cfg.path)).expanduser()
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
    except (OSError, ValueError):  # ValueError: a NUL byte in the path
        return None  # the loader reports an unreadable file in its own words
    return {"path": str(path.resolve()), "bytes": path.stat().st_size, "sha256": digest.hexdigest()}


def _recorded(run_dir: Path) -> dict | None:
    try:
        return json.loads((run_dir / DATA_FILE).read_text())
    except (OSError, ValueError):
        return None


def _describe(record: dict) -> str:
    return f"sha256 {record['sha256'][:12]}, {record['bytes']} bytes"


def check_and_record(data_cfg, run_dir: Path, resume: bool) -> None:
    """Refuse data that changed under this run or its sweep; record it for a new run."""
    now = fingerprint(data_cfg)
    if now is None:
        return
    run_dir = Path(run_dir)
    before = _recorded(run_dir)
    if resume and before is not None and before.get("sha256") != now["sha256"]:
        raise DataError(f"data.path={data_cfg.path} changed since {run_dir} started "
                        f"({_describe(before)} then, {_describe(now)} now); resuming needs the same file")
    if (run_dir.parent / SWEEP_CONFIG).is_file():
        for sibling in sorted(p for p in run_dir.parent.iterdir() if p.is_dir() and p != run_dir):
            other = _recorded(sibling)
            if other is not None and other.get("path") == now["path"] and other.get("sha256") != now["sha256"]:
                raise DataError(f"data.path={data_cfg.path} changed during the sweep: job {sibling.name} "
                                f"read {_describe(other)}, this job reads {_describe(now)}")
    if before is None or not resume:
        write_json_atomic(run_dir / DATA_FILE, now)
