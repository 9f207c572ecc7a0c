"""Files a run leaves for other tools, written atomically (a reader never sees half a file)."""

import json
import os
import tempfile
from pathlib import Path

FILE_MODE = 0o644


def write_json_atomic(path: Path, data: dict) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
            handle.write("\n")
        # mkstemp creates the file private (0600); a results file is for everyone to read.
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
