"""The OmegaConf resolvers of the configs' own: sweep job directory names (``run_name``) and files of
Python's standard library (``stdlib_file``).

A sweep job's directory is named after its overrides, e.g.
``units=64,viz=gates``: TensorBoard names a run after its directory, so
``tensorboard --logdir <sweep dir>`` shows these names instead of 0, 1, 2.
Registered as the OmegaConf resolver ``run_name`` (by ``run.resume.register_resolvers``,
with resuming's) and used by ``hydra.sweep.subdir``.

``${stdlib_file:_pydecimal.py}`` is the path of that file in the running
interpreter's standard library: text every machine with Python has, for
``experiment=char_model`` (nothing is downloaded).
"""

import hashlib
import re
import sysconfig
from pathlib import Path

# Most file systems allow 255 bytes per name; leave room for a hash suffix.
MAX_NAME_BYTES = 200
HASH_CHARS = 8
# '/' would nest directories; the rest upset shells or other platforms.
_UNSAFE = re.compile(r"[/\\\x00:*?\"<>|\s]")


def run_name(override_dirname: str, job_num) -> str:
    """A safe directory name from Hydra's ``override_dirname``; the job number if there is none."""
    name = _UNSAFE.sub("_", str(override_dirname)).strip(".") or f"job{job_num}"
    encoded = name.encode()
    if len(encoded) > MAX_NAME_BYTES:
        digest = hashlib.sha1(encoded).hexdigest()[:HASH_CHARS]
        name = encoded[:MAX_NAME_BYTES].decode(errors="ignore") + f"~{digest}"
    return name


def stdlib_file(name: str) -> str:
    """The path of ``name`` (``_pydecimal.py``, ``json/decoder.py``) under this interpreter's standard library."""
    return str(Path(sysconfig.get_path("stdlib")) / str(name))
