"""The Hydra entry point: compose the config, run one experiment, return its val_loss.

Nothing here imports TensorFlow, so ``--help``, ``--cfg job`` and config errors
answer fast; the training code is imported only when a job really runs.

Errors the user can fix print as one line (``error: ...``) with exit status 1
and no traceback unless ``hydra.verbose=true`` or ``HYDRA_FULL_ERROR=1``. In a
sweep, a failing job is recorded as failed in its metrics.json and the sweep
goes on; the sweep summary then lists it.

A run or sweep job whose directory already holds an earlier attempt (``resume=``,
``-m resume=<sweep dir>``, a Slurm job requeued after preemption) continues
there: ``run/resume.py`` says what runs next. On a preemption's SIGUSR2 the run
stops at the end of the batch and writes its files, then the signal goes on to
submitit, which requeues the job.

Importing this module changes nothing: ``main()`` registers the configs and
resolvers (Hydra ships them to launchers' job processes with its own state).
"""

import logging
import os
import signal
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from lstm_experiments.cli.compose_errors import ComposeStderr, release_held_stderr, wants_full_errors
from lstm_experiments.cli.help import config_request, config_text, help_text, wants_help
from lstm_experiments.run.resume import register_resolvers
from lstm_experiments.config.schema import register_configs
from lstm_experiments.errors import Interrupted, UserError, first_line
from lstm_experiments.run.resume import (
    epochs_to_train_on, expand_sweep_resume, holds_no_run, record_failure, remove_unused_run_directory,
    sweep_job_in_place,
)
from lstm_experiments.run.train import train_job

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


@hydra.main(version_base="1.3", config_path=CONFIG_PACKAGE, config_name="config")
def task(cfg: DictConfig) -> float:
    """Train one model in Hydra's run directory; sweepers minimise the returned val_loss."""
    release_held_stderr()
    hydra_cfg = HydraConfig.get()
    multirun = hydra_cfg.mode == RunMode.MULTIRUN
    # The run's directory: with resume=<run dir> Hydra's run dir is that run (run/resume.py's resolver).
    run_dir = Path(hydra_cfg.runtime.output_dir)
    try:
        if multirun:
            metrics = train_job(cfg, run_dir, launcher=hydra_cfg.launcher, in_place=sweep_job_in_place(cfg))
        else:
            metrics = train_job(cfg, run_dir, launcher=hydra_cfg.launcher,
                                epochs=epochs_to_train_on(cfg, hydra_cfg.overrides.task))
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
        if not multirun and holds_no_run(run_dir):
            # Stopped before training (a bad value or file): like a config Hydra cannot compose,
            # it leaves no run directory behind. A sweep's failed job keeps its directory, for the summary.
            remove_unused_run_directory(run_dir)
        else:
            record_failure(run_dir, reason)
        if multirun:
            print(f"error: job {hydra_cfg.job.num} ({run_dir.name}) failed: {reason}", file=sys.stderr)
            return FAILED_JOB_LOSS
        print(f"error: {reason}", file=sys.stderr)
        sys.exit(ERROR_EXIT_CODE)


def main() -> None:
    """``python -m lstm_experiments``: Hydra's CLI, with config errors folded into one line."""
    register_configs()
    register_resolvers()
    argv = sys.argv[1:]
    if wants_help(argv):
        print(help_text(argv))
        return
    try:
        request = config_request(argv)
        shown = config_text(request) if request is not None else None
        if shown is not None:
            sys.stdout.write(shown)
            return
        sys.argv[1:] = expand_sweep_resume(argv)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(ERROR_EXIT_CODE)
    try:
        with ComposeStderr(sys.argv[1:]):
            task()
    except Exception as error:
        # What escapes Hydra is its own check of the command line (two of --cfg, -m, --info...).
        if wants_full_errors(sys.argv[1:]):
            raise
        print(f"error: {first_line(error)}", file=sys.stderr)
        sys.exit(ERROR_EXIT_CODE)
