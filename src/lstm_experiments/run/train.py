"""``train(cfg) -> metrics``: one experiment from Python, with the command line's checks and errors.

``python -m lstm_experiments`` runs this same function in Hydra's run
directory. From Python, give it a composed config, a dict of values or a list
of overrides (``["units=8", "viz=all"]``); a bad value raises ``UserError``
with the same one-line message the command line prints. Nothing here imports
TensorFlow until the checks have passed.
"""

import logging
import time
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from lstm_experiments.config.checks import check_config
from lstm_experiments.config.input_shape import apply_input_shape
from lstm_experiments.errors import UserError
from lstm_experiments.run.layout import CONFIG_FILE
from lstm_experiments.run.run_state import RunState, move_failed_attempt_aside, read_metrics, read_state

log = logging.getLogger(__name__)

CONFIG_MODULE = "lstm_experiments.conf"
# Where a run goes when no directory is given: Hydra's default, relative to the working directory.
DEFAULT_OUTPUT_DIR = "outputs/%Y-%m-%d/%H-%M-%S"


def compose_config(overrides=()) -> DictConfig:
    """The packaged config with ``overrides`` (``["units=8", "data=adding"]``), as the command line composes it."""
    from hydra import compose, initialize_config_module
    from hydra.core.global_hydra import GlobalHydra

    from lstm_experiments.config.resolvers import register_resolvers
    from lstm_experiments.config.schema import register_configs

    register_configs()
    register_resolvers()
    if GlobalHydra.instance().is_initialized():  # inside a Hydra app or test that set it up
        return compose(config_name="config", overrides=list(overrides))
    with initialize_config_module(version_base="1.3", config_module=CONFIG_MODULE):
        return compose(config_name="config", overrides=list(overrides))


def as_config(cfg) -> DictConfig:
    """A composed config from a DictConfig, a dict of values (merged over the defaults) or overrides."""
    if isinstance(cfg, DictConfig):
        return cfg
    if isinstance(cfg, list | tuple):
        return compose_config(cfg)
    if isinstance(cfg, dict):
        return OmegaConf.merge(compose_config(), cfg)
    raise UserError(f"cfg={type(cfg).__name__} (must be a DictConfig, a dict or a list of overrides)")


def resumed_config(run_dir: Path) -> DictConfig:
    """The config a run was started with (its own .hydra/config.yaml)."""
    if not run_dir.is_dir():
        raise UserError(f"resume={run_dir}: no such run directory")
    saved = run_dir / CONFIG_FILE
    if not saved.is_file():
        raise UserError(f"resume={run_dir}: no .hydra/config.yaml there; is it a run directory?")
    cfg = OmegaConf.load(saved)
    cfg.resume = None
    return cfg


def run_directory(cfg: DictConfig, output_dir) -> Path:
    """Where the run goes: the run being resumed, ``output_dir``, or outputs/<date>/<time>."""
    if cfg.get("resume") is not None:
        return Path(cfg.resume)
    return Path(output_dir) if output_dir is not None else Path(time.strftime(DEFAULT_OUTPUT_DIR))


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
    nothing and returns its recorded metrics. Raises ``UserError`` (a one-line
    message) for bad input, ``TrainingFailed`` on a NaN loss and ``Interrupted``
    on SIGINT/SIGTERM.
    """
    cfg = as_config(cfg)
    if in_place:
        run_dir = Path(output_dir)
        state = read_state(run_dir)
        cfg = OmegaConf.merge(cfg, {"resume": None})
    else:
        run_dir = run_directory(cfg, output_dir)
        state = _resumable_state(run_dir) if cfg.get("resume") is not None else RunState.new
    record = {}
    if state is RunState.completed:
        done = read_metrics(run_dir)
        if epochs is None or epochs <= done.get("epochs", 0):
            log.info("%s is already complete (%s epochs); nothing changed", run_dir, done.get("epochs"))
            return done
        log.info("%s completed %s epochs; training on to %d as asked (train.epochs=%d)",
                 run_dir, done.get("epochs"), epochs, epochs)
    if state is RunState.failed and in_place:
        moved = move_failed_attempt_aside(run_dir)
        log.info("%s failed before (%s); running it again, its files moved to %s",
                 run_dir.name, (read_metrics(moved) or {}).get("reason", "?"), moved)
        record["previous_attempt"] = str(moved.relative_to(run_dir))
        state = RunState.new
    resume = state is not RunState.new
    if resume:
        cfg = resumed_config(run_dir)
        if epochs is not None:
            cfg.train.epochs = epochs
    cfg = apply_input_shape(cfg)
    check_config(cfg)
    from lstm_experiments.run.experiment import run_experiment
    from lstm_experiments.run.tensorflow_setup import threads_per_job

    threads = threads_per_job(cfg.get("threads"), launcher)
    return run_experiment(cfg, run_dir, threads=threads, resume=resume, record=record)


def _resumable_state(run_dir: Path) -> RunState:
    """The state of the run ``resume=`` names; one line if there is nothing there to resume."""
    resumed_config(run_dir)  # no such directory, or not a run: one line
    state = read_state(run_dir)
    if state is RunState.new:
        raise UserError(f"resume={run_dir}: no checkpoint there yet; start the run again instead")
    return state
