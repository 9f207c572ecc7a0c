"""``train(cfg) -> metrics``: one experiment from Python, with the command line's checks and errors.

``python -m lstm_experiments`` runs the same training (``train_job``) in Hydra's
run directory. From Python, give ``train`` a composed config, a dict of values
or a list of overrides (``["units=8", "viz=all"]``); a bad value raises
``UserError`` with the same one-line message the command line prints. Nothing
here imports TensorFlow until the checks have passed.

What the run directory holds, and what runs next in it (a new run, a resumed
one, one left as it is), is ``run/resume.py``'s to say.
"""

import logging
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from lstm_experiments.config.checks import check_config
from lstm_experiments.config.input_shape import apply_input_shape
from lstm_experiments.errors import UserError
from lstm_experiments.run.layout import LOG_FILE
from lstm_experiments.run.resume import (
    Action, Plan, holds_no_run, plan_run, remove_unused_run_directory, resume_output_subdir, resume_target,
    resumed_config,
)

log = logging.getLogger(__name__)

CONFIG_MODULE = "lstm_experiments.conf"


def compose_config(overrides=(), with_hydra: bool = False) -> DictConfig:
    """The packaged config with ``overrides`` (``["units=8", "data=adding"]``), as the command line composes it.

    ``with_hydra``: with Hydra's own config under ``hydra``, as ``--cfg all`` prints it.
    """
    from hydra import compose, initialize_config_module
    from hydra.core.global_hydra import GlobalHydra

    from lstm_experiments.run.resume import register_resolvers
    from lstm_experiments.config.schema import register_configs

    register_configs()
    register_resolvers()
    if GlobalHydra.instance().is_initialized():  # inside a Hydra app or test that set it up
        return compose(config_name="config", overrides=list(overrides), return_hydra_config=with_hydra)
    with initialize_config_module(version_base="1.3", config_module=CONFIG_MODULE):
        return compose(config_name="config", overrides=list(overrides), return_hydra_config=with_hydra)


def as_config(cfg) -> DictConfig:
    """A composed config from a DictConfig, a dict of values (merged over the defaults) or overrides."""
    if isinstance(cfg, DictConfig):
        return cfg
    if isinstance(cfg, list | tuple):
        return compose_config(cfg)
    if isinstance(cfg, dict):
        return OmegaConf.merge(compose_config(), cfg)
    raise UserError(f"cfg={type(cfg).__name__} (must be a DictConfig, a dict or a list of overrides)")


def run_config(cfg: DictConfig, epochs: int | None = None) -> DictConfig:
    """The config a run of ``cfg`` trains with: the resumed run's own (``epochs`` if given), ``input_shape``
    applied. ``--cfg job`` prints it; ``train`` trains with it."""
    target = resume_target(cfg.get("resume"))
    return apply_input_shape(resumed_config(target, epochs) if target is not None else cfg)


def train(cfg, output_dir=None, *, launcher=None, epochs: int | None = None, in_place: bool = False) -> dict:
    """Train one model as ``python -m lstm_experiments`` does and return its metrics.

    Args:
        cfg: a composed config (``compose_config([...])`` or Hydra's), a dict of
            values merged over the defaults, or a list of overrides.
        output_dir: the run directory (default ``outputs/<date>/<time>``); with
            ``resume=<run dir>`` in the config, that run continues in its own.
        launcher: Hydra's launcher config, for the thread count of parallel jobs.
        epochs: when resuming, train on to this many epochs instead of the run's own
            ``train.epochs`` (a completed run then trains on, rather than staying as it is).
        in_place: ``output_dir`` may already hold this job (a sweep run again on its own
            directory, a Slurm job requeued after preemption): a completed job is
            left as it is, an interrupted one resumes, a failed one runs again.

    Returns the metrics also written to ``metrics.json`` (``loss``, ``val_loss``,
    ``status``, ``epochs``...). Resuming a run that is already complete changes
    nothing and returns its recorded metrics. Like the command line, it writes
    the config and the overrides to ``.hydra/`` (``.hydra_resume/`` in a run it
    resumes) and the run's log to ``lstm_experiments.log``; a run stopped by bad
    input before it trained leaves no directory. Raises ``UserError`` (a one-line
    message) for bad input, ``TrainingFailed`` on a NaN loss and ``Interrupted``
    on SIGINT/SIGTERM.
    """
    overrides = _overrides(cfg)
    cfg = as_config(cfg)
    plan = plan_run(cfg, output_dir, epochs=epochs, in_place=in_place)
    if plan.session.action is Action.skip:
        log.info(plan.said)
        return plan.metrics
    created = not plan.run_dir.exists()
    try:
        plan.run_dir.mkdir(parents=True, exist_ok=True)
        with _run_log(plan.run_dir / LOG_FILE):
            _save_hydra_files(plan.run_dir, cfg, overrides)
            return _train(plan, launcher)
    except UserError:
        if created and holds_no_run(plan.run_dir):  # stopped before training: like the command line, no directory
            remove_unused_run_directory(plan.run_dir)
        raise


def train_job(cfg: DictConfig, run_dir: Path, *, launcher=None, epochs: int | None = None,
              in_place: bool = False) -> dict:
    """``train`` for the Hydra task, which has already written ``.hydra/`` and set up the log."""
    return _train(plan_run(cfg, run_dir, epochs=epochs, in_place=in_place), launcher)


def _train(plan: Plan, launcher) -> dict:
    if plan.said:
        log.info(plan.said)
    if plan.session.action is Action.skip:
        return plan.metrics
    cfg = apply_input_shape(plan.cfg)
    check_config(cfg)
    from lstm_experiments.run.experiment import run_experiment

    return run_experiment(cfg, plan.run_dir, launcher=launcher, session=plan.session)


def _overrides(cfg) -> list[str]:
    """What ``train`` was given, as Hydra's overrides.yaml lists a command's: the overrides, or a dict's
    values as dotted ``key=value``; none for a composed config."""
    if isinstance(cfg, list | tuple):
        return [str(o) for o in cfg]
    if not isinstance(cfg, dict):
        return []

    def flat(values: dict, prefix: str = ""):
        for key, value in values.items():
            if isinstance(value, dict):
                yield from flat(value, f"{prefix}{key}.")
            else:
                yield f"{prefix}{key}={'null' if value is None else value}"

    return list(flat(cfg))


def _save_hydra_files(run_dir: Path, cfg: DictConfig, overrides: list[str]) -> None:
    """config.yaml and overrides.yaml where the command line's Hydra puts them (Hydra's own hydra.yaml: no)."""
    folder = run_dir / resume_output_subdir(run_dir)
    folder.mkdir(parents=True, exist_ok=True)
    OmegaConf.save(cfg, folder / "config.yaml")
    OmegaConf.save(OmegaConf.create(overrides), folder / "overrides.yaml")


class _run_log:
    """The run's log file for the length of ``train``: every INFO line of the package, as the command line
    writes it. The caller's own logging sees what it saw before (records under the level it had set
    pass on to it; nothing more), and the logger is set back afterwards."""

    FORMAT = "[%(asctime)s][%(name)s][%(levelname)s] - %(message)s"  # Hydra's job log format

    def __init__(self, path: Path):
        self.path = path
        self.logger = logging.getLogger("lstm_experiments")

    def __enter__(self):
        self.saved = self.logger.level, self.logger.propagate
        caller_level = self.logger.getEffectiveLevel()
        self.file = logging.FileHandler(self.path)
        self.file.setFormatter(logging.Formatter(self.FORMAT))
        self.onward = _Onward(caller_level) if self.logger.propagate else None
        for handler in (self.file, self.onward):
            if handler is not None:
                self.logger.addHandler(handler)
        self.logger.setLevel(min(logging.INFO, caller_level))
        self.logger.propagate = False
        return self

    def __exit__(self, *exc):
        for handler in (self.file, self.onward):
            if handler is not None:
                self.logger.removeHandler(handler)
        self.file.close()
        level, self.logger.propagate = self.saved
        self.logger.setLevel(level)
        return False


class _Onward(logging.Handler):
    """Passes on to the root logger's handlers the records the caller's level let through."""

    def __init__(self, level: int):
        super().__init__()
        self.caller_level = level

    def emit(self, record):
        if record.levelno >= self.caller_level:
            logging.getLogger().handle(record)
