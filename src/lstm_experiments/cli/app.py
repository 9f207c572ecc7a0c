"""The Hydra entry point: compose the config, run one experiment, return its val_loss.

Nothing here imports TensorFlow, so ``--help``, ``--cfg job`` and config errors
answer fast; the training code is imported only when a job really runs.

Errors the user can fix print as one line (``error: ...``) with exit status 1
and no traceback unless ``hydra.verbose=true`` or ``HYDRA_FULL_ERROR=1``. In a
sweep, a failing job is recorded as failed in its metrics.json and the sweep
goes on; the sweep summary then lists it.

A sweep job whose directory already holds an earlier attempt (``-m
resume=<sweep dir>``, or a Slurm job requeued after preemption) continues
there: see ``run/run_state.py``. On a preemption's SIGUSR2 the run stops at
the end of the batch and writes its files, then the signal goes on to
submitit, which requeues the job.
"""

import logging
import os
import shutil
import signal
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from lstm_experiments.cli.compose_errors import ComposeStderr, release_held_stderr
from lstm_experiments.cli.help import help_text, wants_help
from lstm_experiments.cli.sweep_resume import expand_sweep_resume
from lstm_experiments.errors import Interrupted, UserError, first_line
from lstm_experiments.run.layout import DATA_FILE, LOG_FILE, METRICS_FILE, write_json_atomic
from lstm_experiments.run.run_state import requeued_by_slurm
from lstm_experiments.run.train import run_directory, train
from lstm_experiments.config.resolvers import register_resolvers
from lstm_experiments.config.schema import register_configs

register_configs()
register_resolvers()
log = logging.getLogger(__name__)

CONFIG_PACKAGE = "pkg://lstm_experiments.conf"
ERROR_EXIT_CODE = 1
# What a sweeper sees from a failed job: the worst possible loss.
FAILED_JOB_LOSS = float("inf")


def _describe(error: Exception) -> str:
    if isinstance(error, UserError | Interrupted):
        return str(error)
    from omegaconf.errors import MissingMandatoryValue, OmegaConfBaseException

    if isinstance(error, OmegaConfBaseException):  # a value the config lacks or cannot resolve: one line
        key = getattr(error, "full_key", None)
        if isinstance(error, MissingMandatoryValue) and key:
            return f"{key} is required: give it on the command line ({key}=...)"
        return f"{key}: {first_line(error)}" if key else first_line(error)
    return f"{type(error).__name__}: {first_line(error, '')} (run with hydra.verbose=true for the traceback)"


def _record_failure(run_dir: Path, reason: str) -> None:
    """Mark the run failed in metrics.json, unless training already wrote a fuller record."""
    path = run_dir / METRICS_FILE
    if run_dir.is_dir() and not path.exists():
        try:
            write_json_atomic(path, {"status": "failed", "reason": reason})
        except OSError:  # a full disk: the one-line error still says why
            pass


@hydra.main(version_base="1.3", config_path=CONFIG_PACKAGE, config_name="config")
def task(cfg: DictConfig) -> float:
    """Train one model in Hydra's run directory; sweepers minimise the returned val_loss."""
    release_held_stderr()
    hydra_cfg = HydraConfig.get()
    multirun = hydra_cfg.mode == RunMode.MULTIRUN
    run_dir = Path(hydra_cfg.runtime.output_dir)
    try:
        if multirun:
            if cfg.get("resume") is not None and not Path(cfg.resume).is_dir():
                raise UserError(f"resume={cfg.resume}: no such sweep directory")
            in_place = cfg.get("resume") is not None or requeued_by_slurm()
            metrics = train(cfg, run_dir, launcher=hydra_cfg.launcher, in_place=in_place)
        else:
            run_dir = run_directory(cfg, run_dir)
            metrics = train(cfg, run_dir, launcher=hydra_cfg.launcher, epochs=_resume_epochs(cfg, hydra_cfg))
        return float(metrics["val_loss"])
    except Interrupted as stop:
        from lstm_experiments.run.experiment import SIGNAL_EXIT_CODES

        if stop.signal_name == signal.SIGUSR2.name:
            # Preempted under submitit: the run's files are written; its handler now requeues the job.
            print(f"preempted: {run_dir} stopped after its last whole epoch; the job is requeued "
                  "and continues there", file=sys.stderr)
            signal.raise_signal(signal.SIGUSR2)
        print(f"error: {stop}", file=sys.stderr)
        sys.exit(SIGNAL_EXIT_CODES.get(stop.signal_name, ERROR_EXIT_CODE))
    except Exception as error:
        if hydra_cfg.verbose or os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise
        reason = _describe(error)
        if not multirun and _only_hydra_files(Path(hydra_cfg.runtime.output_dir)):
            # Stopped before training (a bad value or file): like a config Hydra cannot compose,
            # it leaves no run directory behind. A sweep's failed job keeps its directory, for the summary.
            _remove_unused_run_directory(Path(hydra_cfg.runtime.output_dir))
        else:
            _record_failure(run_dir, reason)
        if multirun:
            print(f"error: job {hydra_cfg.job.num} ({run_dir.name}) failed: {reason}", file=sys.stderr)
            return FAILED_JOB_LOSS
        print(f"error: {reason}", file=sys.stderr)
        sys.exit(ERROR_EXIT_CODE)


# What Hydra and the first steps of a run write before it trains: a directory holding only these
# is no run yet.
_BEFORE_TRAINING = {".hydra", LOG_FILE, DATA_FILE}
DEFAULT_OUTPUTS = "outputs"  # where Hydra's runs go by default: outputs/<date>/<time>


def _remove_unused_run_directory(directory: Path) -> None:
    """Remove ``directory``, and the folders of outputs/<date>/<time> above it that are now empty."""
    shutil.rmtree(directory, ignore_errors=True)
    parent = directory.parent
    if parent.parent.name == DEFAULT_OUTPUTS and parent != Path.cwd():
        for folder in (parent, parent.parent):
            try:
                folder.rmdir()  # only when empty
            except OSError:
                break


def _only_hydra_files(directory: Path) -> bool:
    return directory.is_dir() and {p.name for p in directory.iterdir()} <= _BEFORE_TRAINING


def _resume_epochs(cfg: DictConfig, hydra_cfg) -> int | None:
    """``train.epochs`` when given with ``resume=`` (train on to it); other overrides are the run's own."""
    if cfg.get("resume") is None:
        return None
    epochs = None
    for override in hydra_cfg.overrides.task:
        key = override.split("=", 1)[0].lstrip("+~")
        if key == "train.epochs":
            epochs = int(cfg.train.epochs)
        elif key != "resume":
            log.warning("resume: %s is ignored; a resumed run keeps the config it started with "
                        "(only train.epochs=N may change)", override)
    return epochs


def main() -> None:
    """``python -m lstm_experiments``: Hydra's CLI, with config errors folded into one line."""
    if wants_help(sys.argv[1:]):
        print(help_text(sys.argv[1:]))
        return
    try:
        sys.argv[1:] = expand_sweep_resume(sys.argv[1:])
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(ERROR_EXIT_CODE)
    with ComposeStderr(sys.argv[1:]):
        task()
