"""Sweep job directory names that say which overrides each job had, e.g. ``units=64,viz=gates``.

TensorBoard names a run after its directory, so ``tensorboard --logdir <sweep dir>``
shows these names instead of 0, 1, 2. Registered as the OmegaConf resolver
``run_name`` and used by ``hydra.sweep.subdir``.
"""

import hashlib
import re
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



# Where Hydra saves a command's config: .hydra/, or .hydra_resume/ in a directory that already
# holds a run (resumed, requeued, or part of a sweep run again), so the run's own .hydra/ stays.
HYDRA_DIR = ".hydra"
RESUME_HYDRA_DIR = ".hydra_resume"


def resume_run_dir(resume, default: str) -> str:
    """``hydra.run.dir``: the run being resumed, or the usual new directory.

    A resume path that is not a directory falls back to the new directory; the
    task then reports it in one line (an error raised here would come out of
    Hydra as a traceback).
    """
    if resume in (None, "", "None") or not Path(str(resume)).expanduser().is_dir():
        return default
    return str(Path(str(resume)).expanduser())


def resume_output_subdir(output_dir) -> str:
    """``hydra.output_subdir``: aside when ``output_dir`` already has a run's config, so that one stays.

    Hydra evaluates it in each job, after making the job's directory and before saving the config.
    """
    saved = Path(str(output_dir)) / HYDRA_DIR / "config.yaml"
    return RESUME_HYDRA_DIR if saved.is_file() else HYDRA_DIR


def register_resolvers() -> None:
    from omegaconf import OmegaConf

    for name, function in (
        ("run_name", run_name),
        ("resume_run_dir", resume_run_dir),
        ("resume_output_subdir", resume_output_subdir),
    ):
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, function)
