"""Resuming, in one module: what a run directory holds, what runs next in it, and the record of it.

What a directory holds (``read_state``):

    new          no checkpoint and no results yet (Hydra's .hydra/ may be there)
    completed    metrics.json says completed and model.keras is there
    failed       metrics.json says failed (a NaN loss, a full disk, a bad file)
    interrupted  a checkpoint without a final record: stopped by a signal,
                 preempted, or killed outright (then there is no metrics.json)

What runs next (``plan_run``), and the word ``sweep_summary.json`` records for it (``this_sweep``):

    run     nothing there yet                                               ran
    skip    completed: left as it is, its metrics returned                  skipped
    resume  interrupted, or completed and asked for more epochs:            resumed
            on from its checkpoint, with the config it started with
    rerun   failed, in a sweep run again: from the start, its files         rerun
            moved to failed_attempts/<n>/ first (nothing is deleted)

Who asks:

- ``resume=<run dir>``: that run, by name; no run or no checkpoint there is one line.
  ``train.epochs=N`` may come with it (train on to N); other overrides are ignored with a
  warning, as a run keeps its config (``epochs_to_train_on``).
- ``-m resume=<sweep dir>`` alone takes the sweep's own overrides from its multirun.yaml
  (``expand_sweep_resume``); each job then plans itself in place, as does a Slurm job
  requeued after preemption (``sweep_job_in_place``).
- ``train()`` from Python, with the same arguments.
- Hydra: the run or sweep directory is the one named by ``resume=`` (``resume_run_dir``), and
  the command's own config goes to .hydra_resume/ where a run's .hydra/ is (``resume_output_subdir``).

metrics.json keeps what this session was (``Session.record``: ``resumed_from_epoch``,
``previous_attempt``); ``this_sweep`` reads it back for the sweep summary.
"""

import json
import logging
import os
import shutil
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from lstm_experiments.config.overrides import override_key, split_override
from lstm_experiments.errors import UserError, first_line
from lstm_experiments.run.layout import (
    CHECKPOINT_DIR, CHECKPOINT_STATE, CONFIG_FILE, DATA_FILE, FAILED_ATTEMPTS_DIR, HYDRA_DIR, INITIAL_WEIGHTS,
    LATEST_MODEL, LEGACY_CHECKPOINT_DIR, LOG_FILE, METRICS_FILE, MODEL_FILE, RESUME_HYDRA_DIR, SWEEP_CONFIG,
    write_json_atomic,
)

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- what a directory holds


class RunState(StrEnum):
    new = "new"
    completed = "completed"
    failed = "failed"
    interrupted = "interrupted"


def read_metrics(run_dir: Path) -> dict | None:
    """The run's metrics.json, or None if it is missing or unreadable."""
    try:
        metrics = json.loads((Path(run_dir) / METRICS_FILE).read_text())
    except (OSError, ValueError):
        return None
    return metrics if isinstance(metrics, dict) else None


def checkpoint_dir(run_dir: Path) -> Path:
    """The run's checkpoint folder: checkpoints/, or checkpoint/ in a run made before the rename."""
    run_dir = Path(run_dir)
    legacy = run_dir / LEGACY_CHECKPOINT_DIR
    if legacy.is_dir() and not (run_dir / CHECKPOINT_DIR).exists():
        return legacy
    return run_dir / CHECKPOINT_DIR


def read_state(run_dir: Path) -> RunState:
    run_dir = Path(run_dir)
    status = (read_metrics(run_dir) or {}).get("status")
    if status == "completed" and (run_dir / MODEL_FILE).is_file():
        return RunState.completed
    if status == "failed":
        return RunState.failed
    if (checkpoint_dir(run_dir) / INITIAL_WEIGHTS).is_file():
        return RunState.interrupted
    return RunState.new


class readable_on_resume:
    """Turns any failure to read a checkpoint file into one line naming it."""

    def __init__(self, path: Path):
        self.path = path

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if error is None or isinstance(error, UserError) or not isinstance(error, Exception):
            return False
        raise UserError(f"resume: {self.path} is damaged and cannot be read ({first_line(error)}); "
                        f"restore it or start the run again") from None


def checkpoint_epoch(folder: Path) -> int:
    """The whole epochs a checkpoint folder holds: 0 with only the initial weights (or none)."""
    path = Path(folder) / CHECKPOINT_STATE
    if not (path.is_file() and (Path(folder) / LATEST_MODEL).is_file()):
        return 0
    with readable_on_resume(path):
        epoch = json.loads(path.read_text())["epoch"]
        if not isinstance(epoch, int) or epoch < 0:
            raise ValueError(f"epoch={epoch!r}")
        return epoch


# What Hydra and the first steps of a run write before it trains: a directory holding only these
# is no run yet (a .hydra_resume/ says a command resumed it: it is left alone).
_BEFORE_TRAINING = {HYDRA_DIR, LOG_FILE, DATA_FILE}
DEFAULT_OUTPUTS = "outputs"  # where Hydra's runs go by default: outputs/<date>/<time>


def holds_no_run(directory: Path) -> bool:
    directory = Path(directory)
    return directory.is_dir() and {p.name for p in directory.iterdir()} <= _BEFORE_TRAINING


def remove_unused_run_directory(directory: Path) -> None:
    """Remove ``directory``, and the folders of outputs/<date>/<time> above it that are now empty."""
    directory = Path(directory)
    shutil.rmtree(directory, ignore_errors=True)
    parent = directory.parent
    if parent.parent.name == DEFAULT_OUTPUTS and parent != Path.cwd():
        for folder in (parent, parent.parent):
            try:
                folder.rmdir()  # only when empty
            except OSError:
                break


def record_failure(run_dir: Path, reason: str) -> None:
    """Mark the run failed in metrics.json, unless training already wrote a fuller record."""
    path = Path(run_dir) / METRICS_FILE
    if path.parent.is_dir() and not path.exists():
        try:
            write_json_atomic(path, {"status": "failed", "reason": reason})
        except OSError:  # a full disk: the one-line error still says why
            pass


# --------------------------------------------------------------------------- Hydra's side


def resume_target(resume) -> Path | None:
    """The directory ``resume=`` names, or None when it names none."""
    if resume in (None, "", "None"):
        return None
    return Path(str(resume)).expanduser()


def resume_run_dir(resume, default: str) -> str:
    """``hydra.run.dir`` and ``hydra.sweep.dir``: the run or sweep being resumed, or the usual new directory.

    A resume path that is not a directory falls back to the new directory; the
    task then reports it in one line (an error raised here would come out of
    Hydra as a traceback).
    """
    target = resume_target(resume)
    return str(target) if target is not None and target.is_dir() else default


def resume_output_subdir(output_dir) -> str:
    """``hydra.output_subdir``: aside when ``output_dir`` already has a run's config, so that one stays.

    Hydra evaluates it in each job, after making the job's directory and before saving the config.
    """
    return RESUME_HYDRA_DIR if (Path(str(output_dir)) / CONFIG_FILE).is_file() else HYDRA_DIR


def register_resolvers() -> None:
    """The resolvers ``conf/config.yaml`` uses; called where a config is composed (``main()``, ``train()``)."""
    from lstm_experiments.config.resolvers import run_name, stdlib_file

    for name, function in (
        ("run_name", run_name),
        ("stdlib_file", stdlib_file),
        ("resume_run_dir", resume_run_dir),
        ("resume_output_subdir", resume_output_subdir),
    ):
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, function)


# --------------------------------------------------------------------------- the command line

MULTIRUN_FLAGS = ("-m", "--multirun")
# The saved Hydra overrides that describe where and how jobs run, carried over with the sweep.
_CARRIED_HYDRA = ("hydra.launcher.", "hydra/launcher=", "hydra.sweeper.", "hydra/sweeper=")


def expand_sweep_resume(argv: list[str]) -> list[str]:
    """``argv`` with the sweep's saved overrides added when it is ``-m resume=<sweep dir>`` alone.

    Hydra saves every sweep's command-line overrides in ``<sweep dir>/multirun.yaml``: the same
    jobs then land in the same directories. Given overrides of its own, the command is left as it is.
    """
    if not any(flag in argv for flag in MULTIRUN_FLAGS):
        return argv
    resumes = [a for a in argv if override_key(a) == "resume"]
    if not resumes:
        return argv
    own = [a for a in argv if "=" in a and not a.startswith("-") and override_key(a) != "resume"
           and not override_key(a).startswith(("hydra.", "hydra/"))]
    if own:
        return argv
    sweep_dir = resume_target(split_override(resumes[-1])[1]) or Path(".")
    saved = sweep_dir / SWEEP_CONFIG
    if not sweep_dir.is_dir():
        raise UserError(f"resume={sweep_dir}: no such sweep directory")
    if not saved.is_file():
        raise UserError(f"resume={sweep_dir}: no {SWEEP_CONFIG} there; is it a sweep directory?")
    try:
        import yaml

        overrides = yaml.safe_load(saved.read_text())["hydra"]["overrides"]
        task, hydra = list(overrides["task"]), list(overrides["hydra"])
    except (OSError, yaml.YAMLError, KeyError, TypeError) as error:
        raise UserError(f"resume={sweep_dir}: {saved} cannot be read ({type(error).__name__}: {error})") from None
    given = {override_key(a) for a in argv}
    carried = [o for o in hydra if o.startswith(_CARRIED_HYDRA) and override_key(o) not in given]
    return [*argv, *(o for o in task if override_key(o) != "resume"), *carried]


def requeued_by_slurm() -> bool:
    """Whether this process is a Slurm job started again after preemption or ``scontrol requeue``."""
    return os.environ.get("SLURM_RESTART_COUNT", "0") not in ("", "0")


def sweep_job_in_place(cfg: DictConfig) -> bool:
    """Whether a sweep job continues what its directory holds: ``-m resume=<sweep dir>`` or a Slurm requeue."""
    target = resume_target(cfg.get("resume"))
    if target is not None and not target.is_dir():
        raise UserError(f"resume={cfg.resume}: no such sweep directory")
    return target is not None or requeued_by_slurm()


def epochs_to_train_on(cfg: DictConfig, overrides) -> int | None:
    """``train.epochs`` when given with ``resume=`` (train on to it); a warning names every other
    override, ignored as a resumed run keeps the config it started with."""
    if resume_target(cfg.get("resume")) is None:
        return None
    epochs = None
    for override in overrides:
        key = override_key(override)
        if key == "train.epochs":
            epochs = int(cfg.train.epochs)
        elif key != "resume":
            log.warning("resume: %s is ignored; a resumed run keeps the config it started with "
                        "(only train.epochs=N may change)", override)
    return epochs


# --------------------------------------------------------------------------- what runs next, and its record


class Action(StrEnum):
    """What this session does with a run directory; the value is the word the sweep summary keeps."""

    run = "ran"
    skip = "skipped"
    resume = "resumed"
    rerun = "rerun"


NOT_RUN = "not run"  # a job in the sweep directory that this sweep did not run


@dataclass(frozen=True)
class Session:
    action: Action = Action.run
    start_epoch: int = 0  # whole epochs the checkpoint holds, when resuming
    previous_attempt: str | None = None  # where a failed attempt's files went, relative to the run

    @property
    def resumes(self) -> bool:
        return self.action is Action.resume

    def record(self) -> dict:
        """What metrics.json says of this session (``this_sweep`` reads it back)."""
        if self.action is Action.resume:
            return {"resumed_from_epoch": self.start_epoch}
        if self.action is Action.rerun:
            return {"previous_attempt": self.previous_attempt}
        return {}


NEW_RUN = Session()


def resume_session(run_dir: Path) -> Session:
    """Resuming the run in ``run_dir`` from its checkpoint (after its last whole epoch, or from step 0)."""
    return Session(Action.resume, start_epoch=checkpoint_epoch(checkpoint_dir(run_dir)))


def this_sweep(metrics: dict, written_at: float, started_at: float | None) -> str:
    """What the sweep that started at ``started_at`` did with a job whose metrics.json was written at ``written_at``."""
    if started_at is not None and written_at < started_at:
        return Action.skip.value if metrics.get("status") == "completed" else NOT_RUN
    if "previous_attempt" in metrics:
        return Action.rerun.value
    return (Action.resume if "resumed_from_epoch" in metrics else Action.run).value


@dataclass(frozen=True)
class Plan:
    run_dir: Path
    session: Session
    cfg: DictConfig | None  # the config to train with; None when the run is left as it is
    metrics: dict | None = None  # the recorded metrics of a run left as it is
    said: str | None = None  # the line that tells the user what happens, if anything unusual does


def run_directory(cfg: DictConfig, output_dir, in_place: bool = False) -> Path:
    """Where the run goes: the run ``resume=`` names, ``output_dir``, or outputs/<date>/<time>."""
    target = None if in_place else resume_target(cfg.get("resume"))
    if target is not None:
        return target
    if output_dir is not None:
        return Path(output_dir)
    import time

    return Path(time.strftime(f"{DEFAULT_OUTPUTS}/%Y-%m-%d/%H-%M-%S"))


def resumed_config(run_dir: Path, epochs: int | None = None) -> DictConfig:
    """The config a run was started with (its own .hydra/config.yaml), trained on to ``epochs`` if given."""
    if not run_dir.is_dir():
        raise UserError(f"resume={run_dir}: no such run directory")
    saved = run_dir / CONFIG_FILE
    if not saved.is_file():
        raise UserError(f"resume={run_dir}: no {CONFIG_FILE} there; is it a run directory?")
    cfg = OmegaConf.load(saved)
    cfg.resume = None
    if epochs is not None:
        cfg.train.epochs = epochs
    return cfg


def resumable_state(run_dir: Path) -> RunState:
    """The state of the run ``resume=`` names; one line if there is nothing there to resume."""
    resumed_config(run_dir)  # no such directory, or not a run: one line
    state = read_state(run_dir)
    if state is RunState.new:
        raise UserError(f"resume={run_dir}: no checkpoint there yet; start the run again instead")
    return state


def plan_run(cfg: DictConfig, output_dir=None, *, epochs: int | None = None, in_place: bool = False) -> Plan:
    """What runs next for ``cfg`` (see the module's table); a failed attempt rerun in place is moved aside here.

    ``in_place``: ``output_dir`` may already hold this job (a sweep run again, a Slurm requeue).
    ``epochs``: with ``resume=``, train on to this many epochs (a completed run then trains on).
    """
    run_dir = run_directory(cfg, output_dir, in_place)
    if in_place:
        state, cfg = read_state(run_dir), OmegaConf.merge(cfg, {"resume": None})
    elif resume_target(cfg.get("resume")) is not None:
        state = resumable_state(run_dir)
    else:
        state = RunState.new
    said = None
    if state is RunState.completed:
        done = read_metrics(run_dir)
        if epochs is None or epochs <= done.get("epochs", 0):
            return Plan(run_dir, Session(Action.skip), None, done,
                        f"{run_dir} is already complete ({done.get('epochs')} epochs); nothing changed")
        said = (f"{run_dir} completed {done.get('epochs')} epochs; training on to {epochs} as asked "
                f"(train.epochs={epochs})")
    if state is RunState.failed and in_place:
        reason = (read_metrics(run_dir) or {}).get("reason", "?")
        moved = move_failed_attempt_aside(run_dir)
        return Plan(run_dir, Session(Action.rerun, previous_attempt=str(moved.relative_to(run_dir))), cfg, None,
                    f"{run_dir.name} failed before ({reason}); running it again, its files moved to {moved}")
    if state is RunState.new:
        return Plan(run_dir, NEW_RUN, cfg)
    return Plan(run_dir, resume_session(run_dir), resumed_config(run_dir, epochs), None, said)


# What stays in place when a failed attempt is moved aside: Hydra's records and the job's log
# (the log is open for appending while the job runs).
_KEPT_IN_PLACE = {HYDRA_DIR, RESUME_HYDRA_DIR, LOG_FILE, FAILED_ATTEMPTS_DIR}


def move_failed_attempt_aside(run_dir: Path) -> Path:
    """Move a failed run's files to ``failed_attempts/<n>/`` (n = 1, 2, ...); returns that directory."""
    run_dir = Path(run_dir)
    attempts = run_dir / FAILED_ATTEMPTS_DIR
    attempts.mkdir(exist_ok=True)
    number = 1 + max((int(p.name) for p in attempts.iterdir() if p.name.isdigit()), default=0)
    target = attempts / str(number)
    target.mkdir()
    for entry in run_dir.iterdir():
        if entry.name not in _KEPT_IN_PLACE:
            entry.rename(target / entry.name)
    return target
