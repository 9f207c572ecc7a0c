"""``-m resume=<sweep dir>`` alone runs that sweep again: its overrides come from its ``multirun.yaml``.

Hydra saves every sweep's command-line overrides in ``<sweep dir>/multirun.yaml``.
Given only ``resume=`` (and ``hydra.*`` settings), the command line gets the
sweep's own task overrides and launcher settings back, so the same jobs land in
the same directories; each job then skips, resumes or reruns itself
(``run/run_state.py``). Given overrides of its own, the command is left as it is.
"""

from pathlib import Path

import yaml

from lstm_experiments.errors import UserError

MULTIRUN_FLAGS = ("-m", "--multirun")
SWEEP_CONFIG = "multirun.yaml"
# The saved Hydra overrides that describe where and how jobs run, carried over with the sweep.
_CARRIED_HYDRA = ("hydra.launcher.", "hydra/launcher=", "hydra.sweeper.", "hydra/sweeper=")


def _key(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~")


def expand_sweep_resume(argv: list[str]) -> list[str]:
    """``argv`` with the sweep's saved overrides added when it is ``-m resume=<sweep dir>`` alone."""
    if not any(flag in argv for flag in MULTIRUN_FLAGS):
        return argv
    resumes = [a for a in argv if _key(a) == "resume"]
    if not resumes:
        return argv
    own = [a for a in argv if "=" in a and not a.startswith("-") and _key(a) != "resume"
           and not _key(a).startswith(("hydra.", "hydra/"))]
    if own:
        return argv
    sweep_dir = Path(resumes[-1].split("=", 1)[1]).expanduser()
    saved = sweep_dir / SWEEP_CONFIG
    if not sweep_dir.is_dir():
        raise UserError(f"resume={sweep_dir}: no such sweep directory")
    if not saved.is_file():
        raise UserError(f"resume={sweep_dir}: no {SWEEP_CONFIG} there; is it a sweep directory?")
    try:
        overrides = yaml.safe_load(saved.read_text())["hydra"]["overrides"]
        task, hydra = list(overrides["task"]), list(overrides["hydra"])
    except (OSError, yaml.YAMLError, KeyError, TypeError) as error:
        raise UserError(f"resume={sweep_dir}: {saved} cannot be read ({type(error).__name__}: {error})") from None
    given = {_key(a) for a in argv}
    carried = [o for o in hydra if o.startswith(_CARRIED_HYDRA) and _key(o) not in given]
    return [*argv, *(o for o in task if _key(o) != "resume"), *carried]
