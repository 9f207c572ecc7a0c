"""The training schedule's Keras callbacks, from ``cfg.train``: progress, early stopping, the learning rate.

``fit`` gets, in this order: the guard, the checkpointer, then these, then
``GateLogger`` (it reads the epoch's logs after them, so the learning rate is
among them and is written as ``metrics/learning_rate``).
"""

import logging
import sys

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


def schedule_callbacks(train_cfg, metric_names) -> list:
    """The callbacks ``cfg.train`` asks for; ``metric_names`` are what the task logs (loss, val_loss...)."""
    callbacks = [EpochLog(), LearningRateInLogs()]
    stopping, plateau = train_cfg.get("early_stopping"), train_cfg.get("reduce_lr_on_plateau")
    stopping = stopping if stopping is not None and stopping.get("patience") is not None else None
    plateau = plateau if plateau is not None and plateau.get("factor") is not None else None
    for key, options in (("train.early_stopping", stopping), ("train.reduce_lr_on_plateau", plateau)):
        if options is not None and options.monitor not in metric_names:
            raise ConfigValueError(f"{key}.monitor={options.monitor} (this run logs {', '.join(metric_names)})")
    if plateau is not None:
        callbacks.insert(0, keras.callbacks.ReduceLROnPlateau(
            monitor=plateau.monitor, factor=plateau.factor, patience=plateau.patience, min_lr=plateau.min_lr,
            verbose=0))
    if stopping is not None:
        callbacks.insert(0, EarlyStopping(
            monitor=stopping.monitor, patience=stopping.patience, min_delta=stopping.min_delta,
            restore_best_weights=stopping.restore_best_weights, verbose=0))
    return callbacks


def early_stopping_record(callbacks) -> dict:
    """What early stopping did, for metrics.json: the epoch it stopped after and the best epoch."""
    for callback in callbacks:
        if isinstance(callback, EarlyStopping) and callback.stopped_epoch > 0:
            return {"stopped_epoch": callback.stopped_epoch + 1, "best_epoch": callback.best_epoch + 1}
    return {}
