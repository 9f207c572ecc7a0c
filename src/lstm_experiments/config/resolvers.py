"""The OmegaConf resolvers the configs use: sweep job directory names, and resuming's.

A sweep job's directory is named after its overrides, e.g.
``units=64,viz=gates``: TensorBoard names a run after its directory, so
``tensorboard --logdir <sweep dir>`` shows these names instead of 0, 1, 2.
Registered as the OmegaConf resolver ``run_name`` and used by
``hydra.sweep.subdir``; ``register_resolvers`` also registers the resume
resolvers of ``run/resume.py``.
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


def register_resolvers() -> None:
    """The resolvers ``conf/config.yaml`` uses; called where a config is composed (``main()``, ``train()``)."""
    from omegaconf import OmegaConf

    from lstm_experiments.run.resume import resume_output_subdir, resume_run_dir

    for name, function in (
        ("run_name", run_name),
        ("resume_run_dir", resume_run_dir),
        ("resume_output_subdir", resume_output_subdir),
    ):
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, function)
