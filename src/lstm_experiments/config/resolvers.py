"""The sweep job directory names the configs use (the OmegaConf resolver ``run_name``).

A sweep job's directory is named after its overrides, e.g.
``units=64,viz=gates``: TensorBoard names a run after its directory, so
``tensorboard --logdir <sweep dir>`` shows these names instead of 0, 1, 2.
Registered as the OmegaConf resolver ``run_name`` (by ``run.resume.register_resolvers``,
with resuming's) and used by ``hydra.sweep.subdir``.
"""

import hashlib
import re

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
