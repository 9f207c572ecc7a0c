"""The training schedule's Keras callbacks, from ``cfg.train``: progress, early stopping, the learning rate.

Where each goes in ``fit``'s list, and why, is said where the list is built:
``fit_callbacks`` in ``run/experiment.py``.
"""

import logging
import sys
from dataclasses import dataclass

import keras

from lstm_experiments.errors import ConfigValueError

log = logging.getLogger(__name__)

# Keras' fit verbosity for train.verbose=auto: the progress bar on a terminal; elsewhere (a log file,
# a Slurm job) nothing from Keras, and EpochLog's line per epoch is the record.
PROGRESS_BAR, SILENT = 1, 0


def keras_verbosity(verbose) -> int:
    if verbose == "auto":
        return PROGRESS_BAR if sys.stdout.isatty() else SILENT
    return int(verbose)


class EpochLog(keras.callbacks.Callback):
    """One line per epoch through Python logging, so the epoch metrics are in the run's log file too."""

    def on_epoch_end(self, epoch, logs=None):
        values = " - ".join(f"{name}: {value:.4g}" for name, value in (logs or {}).items())
        log.info("epoch %d/%d - %s", epoch + 1, self.params.get("epochs", 0), values)


class LearningRateInLogs(keras.callbacks.Callback):
    """Puts the optimizer's learning rate of the epoch into its logs (ReduceLROnPlateau may have set it)."""

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))


class EarlyStopping(keras.callbacks.EarlyStopping):
    """Keras' EarlyStopping, restoring the best weights at the end of the epoch that stops training
    (or the last one) instead of in ``on_train_end``: ``GateLogger`` then logs that epoch's step with
    the weights the saved model has, so the last picture is the saved model."""

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch, logs)
        stops_here = epoch > 0 and self.stopped_epoch == epoch  # Keras never stops after the first epoch
        last = epoch + 1 >= self.params.get("epochs", 0)
        if self.restore_best_weights and self.best_weights is not None and (stops_here or last):
            if self.best_epoch != epoch:
                self.model.set_weights(self.best_weights)
            self.best_weights = None  # restored once; on_train_end has nothing left to do
        if stops_here:
            log.info("early stopping after epoch %d: %s did not improve for %d epochs; the weights are "
                     "those of epoch %d", epoch + 1, self.monitor, self.patience, self.best_epoch + 1)


@dataclass(frozen=True)
class Schedule:
    """The schedule's callbacks by name (None: not asked for); ``fit_callbacks`` orders them."""

    early_stopping: EarlyStopping | None
    reduce_lr_on_plateau: keras.callbacks.ReduceLROnPlateau | None
    epoch_log: EpochLog
    learning_rate_in_logs: LearningRateInLogs

    def record(self) -> dict:
        """What early stopping did, for metrics.json: the epoch it stopped after and the best epoch."""
        stopping = self.early_stopping
        if stopping is None or stopping.stopped_epoch <= 0:
            return {}
        return {"stopped_epoch": stopping.stopped_epoch + 1, "best_epoch": stopping.best_epoch + 1}


def schedule_callbacks(train_cfg, metric_names) -> Schedule:
    """The callbacks ``cfg.train`` asks for; ``metric_names`` are what the task logs (loss, val_loss...)."""
    stopping, plateau = train_cfg.get("early_stopping"), train_cfg.get("reduce_lr_on_plateau")
    stopping = stopping if stopping is not None and stopping.get("patience") is not None else None
    plateau = plateau if plateau is not None and plateau.get("factor") is not None else None
    for key, options in (("train.early_stopping", stopping), ("train.reduce_lr_on_plateau", plateau)):
        if options is not None and options.monitor not in metric_names:
            raise ConfigValueError(f"{key}.monitor={options.monitor} (this run logs {', '.join(metric_names)})")
    return Schedule(
        early_stopping=None if stopping is None else EarlyStopping(
            monitor=stopping.monitor, patience=stopping.patience, min_delta=stopping.min_delta,
            restore_best_weights=stopping.restore_best_weights, verbose=0),
        reduce_lr_on_plateau=None if plateau is None else keras.callbacks.ReduceLROnPlateau(
            monitor=plateau.monitor, factor=plateau.factor, patience=plateau.patience, min_lr=plateau.min_lr,
            verbose=0),
        epoch_log=EpochLog(),
        learning_rate_in_logs=LearningRateInLogs(),
    )
