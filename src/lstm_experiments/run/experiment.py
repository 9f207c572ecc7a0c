"""One experiment: data, model, training with weight logging, then ``model.keras`` and ``metrics.json``.

The plain function behind the Hydra entry point: ``run_experiment(cfg, output_dir) -> metrics``.
It also resumes a run from its checkpoint (a ``Session`` of ``run/resume.py``), in the same directory.
"""

import contextlib
import json
import logging
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from lstm_experiments.data import load_dataset
from lstm_experiments.errors import Interrupted, TrainingFailed
from lstm_experiments.run.data_fingerprint import check_and_record
from lstm_experiments.run.layout import (
    FINDINGS_FILE, METRICS_FILE, MODEL_FILE, PNG_DIR, TENSORBOARD_DIR, write_json_atomic,
)
from lstm_experiments.run.resume import NEW_RUN, Session
from lstm_experiments.run.tensorflow_setup import run_settings, threads_per_job

log = logging.getLogger(__name__)

SIGNAL_EXIT_CODES = {"SIGINT": 130, "SIGTERM": 143, "SIGUSR2": 140}


def write_metrics(output_dir: Path, metrics: dict) -> None:
    write_json_atomic(Path(output_dir) / METRICS_FILE, metrics)


def run_experiment(cfg: DictConfig, output_dir: Path, launcher=None, session: Session = NEW_RUN) -> dict:
    """Train ``cfg``'s model in ``output_dir``; ``launcher`` (Hydra's) sets the threads of parallel jobs.

    ``session`` says whether the run starts or resumes from its checkpoint, and
    what metrics.json records of it (``run/resume.py``).

    The run is a sequence of named steps: load the data, start the drawing
    process, set up TensorFlow, build (or restore) the model, fit with the
    guard, checkpointer and ``GateLogger``, then save. Raises TrainingFailed on a
    NaN/inf loss and Interrupted on SIGINT/SIGTERM, after writing metrics.json
    and keeping every step already logged. What the run sets in this process
    for its duration is set back when it ends (``run_settings``).
    """
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    check_and_record(cfg.data, output_dir, session.resumes)  # the same CSV as before, when resuming or in a sweep
    data = load_data(cfg)  # bad data fails here, before the TensorFlow import
    drawer = start_drawing_process(cfg)  # from here on, the finally below closes it whatever fails
    logger = None
    with contextlib.ExitStack() as settings:
        try:
            settings.enter_context(run_settings(cfg.seed, threads_per_job(cfg.get("threads"), launcher)))
            from lstm_experiments.run.callbacks import schedule_callbacks
            from lstm_experiments.run.checkpoint import Checkpointer
            from lstm_experiments.run.guard import TrainingGuard

            model, checkpoint, initial_model = build_or_restore(cfg, data, output_dir, session)
            guard = TrainingGuard()
            logger, drawer = gate_logger(cfg, data, output_dir, drawer, guard), None  # the logger owns it now
            if session.resumes:
                logger.resume_from(initial_model, session.start_epoch)
            else:
                from lstm_experiments.tensorboard.hparams import flatten_config, metric_tags

                logger.write_hparams(flatten_config(cfg), metric_tags(data.task), trial_id=output_dir.name)
            schedule = schedule_callbacks(cfg.train, task_metrics(data.task))
            callbacks = fit_callbacks(guard, Checkpointer(checkpoint, guard), schedule, logger)
            history = fit(model, cfg, data, session.start_epoch, callbacks)
        finally:
            if logger is not None:
                logger.close()
            if drawer is not None:
                drawer.close()
        record = {**session.record(), **schedule.record(), **findings_summary(cfg, output_dir)}
        if cfg.viz.get("log_every_batches") is not None:  # batch steps may be skipped while drawing is behind
            record["skipped_steps"] = logger.skipped_steps
        return finish(cfg, model, data, history, guard, checkpoint, session.start_epoch, output_dir, record)


def load_data(cfg: DictConfig):
    from lstm_experiments.config.input_shape import check_windows

    data = load_dataset(cfg.data, cfg.seed)
    check_windows(cfg, data.input_shape)
    log.info(
        "data %s: %d training and %d validation windows of shape %s (%s%s)",
        cfg.data.name, len(data.x_train), len(data.x_val), data.input_shape, data.task,
        f", {len(data.vocabulary)} tokens" if data.vocabulary is not None else "",
    )
    return data


def start_drawing_process(cfg: DictConfig):
    """The drawing process, started before TensorFlow is imported, or None if the run draws in this one.

    Its start-up (numpy, TensorBoard's protos) then runs on the core the
    single-threaded TensorFlow import leaves idle, not beside the first epochs.
    """
    from lstm_experiments.viz import enabled_visualizers

    draws = enabled_visualizers(cfg.viz) or cfg.viz.get("board", False) or findings_enabled(cfg)
    if not (draws and cfg.viz.background and cfg.viz.worker == "process"):
        return None
    from lstm_experiments.capture.drawing_process import DrawingProcess

    return DrawingProcess(priority=cfg.viz.worker_priority)


def findings_enabled(cfg: DictConfig) -> bool:
    return bool(cfg.viz.get("findings") and cfg.viz.findings.get("enabled", False))


def findings_summary(cfg: DictConfig, output_dir: Path) -> dict:
    """The run's findings once drawing is done: one log line per kind, and metrics.json's ``findings``
    (how many; None when they were not checked, which findings.json then says)."""
    from lstm_experiments.findings.record import not_checked, summary_lines, summary_severities

    path = output_dir / FINDINGS_FILE
    if not findings_enabled(cfg):
        write_json_atomic(path, not_checked("viz.findings.enabled=false"))
        return {"findings": None}
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError):
        log.warning("no findings: %s was not written", path)
        return {"findings": None}
    for severity, line in zip(summary_severities(document), summary_lines(document)):
        log.log(logging.WARNING if severity == "warning" else logging.INFO, "%s", line)
    return {"findings": len(document.get("findings", []))}


def build_or_restore(cfg: DictConfig, data, output_dir: Path, session: Session):
    """(model, checkpoint, the step-0 model when resuming)."""
    from lstm_experiments.model import build_run_model
    from lstm_experiments.run.checkpoint import RunCheckpoint

    model = build_run_model(cfg, data)
    checkpoint = RunCheckpoint(output_dir)
    if not session.resumes:
        checkpoint.save_initial(model)
        return model, checkpoint, None
    restored = checkpoint.restore()
    initial_model = checkpoint.initial_model(model)
    if restored is not None:
        model = restored
    else:
        model.set_weights(initial_model.get_weights())
    log.info("resuming %s after epoch %d of %d", output_dir, session.start_epoch, cfg.train.epochs)
    return model, checkpoint, initial_model


def gate_logger(cfg: DictConfig, data, output_dir: Path, drawer, guard):
    """The run's ``GateLogger``, from ``cfg.viz``: the same callback anyone can add to their own fit, attached
    to the run's guard (which its failures stop) and to the drawing process started early."""
    from lstm_experiments.capture.callback import GateLogger
    from lstm_experiments.viz import enabled_visualizers

    return GateLogger(
        output_dir / TENSORBOARD_DIR,
        visualizers=tuple(v.name for v in enabled_visualizers(cfg.viz)),
        log_every=cfg.viz.log_every,
        log_every_batches=cfg.viz.get("log_every_batches"),
        probe=(data.x_val[: cfg.viz.probe_size], data.y_val[: cfg.viz.probe_size]),
        image=OmegaConf.to_container(cfg.viz.image, resolve=True, enum_to_str=True),
        board=cfg.viz.get("board", False),
        background=cfg.viz.background,
        worker=cfg.viz.worker,
        worker_priority=cfg.viz.worker_priority,
        png_dir=output_dir / PNG_DIR if cfg.viz.png else None,
        feature_names=data.feature_names,
        vocabulary=data.vocabulary,  # text data: the probe is kept as characters
        initial_file=False,  # W_0 is checkpoints/initial.weights.h5
        findings=OmegaConf.to_container(cfg.viz.findings, resolve=True) if "findings" in cfg.viz else False,
        findings_file=output_dir / FINDINGS_FILE,
    ).attach(guard, drawer=drawer)


def fit_callbacks(guard, checkpointer, schedule, logger) -> list:
    """``fit``'s callbacks, in the order Keras calls them at every hook; the order is part of what a run means.

    1. The guard: a NaN loss (or val_loss) or a signal marks the epoch before any other acts on it.
    2. The checkpointer: saves an epoch the guard let count, with the weights training reached.
    3. Early stopping: at the epoch that stops training (or the last), restores the best weights,
       so the logger's last picture is the model that is saved.
    4. ReduceLROnPlateau: sets the rate the next epoch trains with, before 6 reads it.
    5. EpochLog: the epoch's log line.
    6. LearningRateInLogs: the optimizer's rate into the epoch's logs, so ``metrics/learning_rate``
       is the reduced one.
    7. GateLogger, last: draws the weights and writes the logs as the others left them.

    tests/test_callback_order.py fails if any of these moves.
    """
    ordered = (guard, checkpointer, schedule.early_stopping, schedule.reduce_lr_on_plateau, schedule.epoch_log,
               schedule.learning_rate_in_logs, logger)
    return [callback for callback in ordered if callback is not None]


def fit(model, cfg: DictConfig, data, initial_epoch: int, callbacks: list):
    """Keras' fit from ``initial_epoch``: epoch e sees the same batches whether or not the run was resumed."""
    from lstm_experiments.data.input_pipeline import batches, training_batches
    from lstm_experiments.run.callbacks import keras_verbosity

    train_batches, steps_per_epoch = training_batches(
        data.x_train, data.y_train, cfg.train.batch_size, seed=cfg.seed, first_epoch=initial_epoch)
    return model.fit(
        train_batches,
        steps_per_epoch=steps_per_epoch,
        validation_data=batches(data.x_val, data.y_val, cfg.train.batch_size),
        epochs=cfg.train.epochs,
        initial_epoch=initial_epoch,
        shuffle=False,  # the pipeline orders every epoch itself
        callbacks=callbacks,
        verbose=keras_verbosity(cfg.train.get("verbose", "auto")),
    )


def finish(cfg: DictConfig, model, data, history, guard, checkpoint, initial_epoch: int, output_dir: Path,
           record: dict) -> dict:
    """metrics.json and model.keras for a completed run; the status and the error otherwise."""
    epochs_done = checkpoint.epoch() if checkpoint.exists() else initial_epoch
    if guard.signal_name is not None:
        write_metrics(output_dir, {**record, "status": "interrupted", "reason": guard.signal_name,
                                   "epochs": epochs_done})
        raise Interrupted(guard.signal_name, output_dir)
    if guard.failure is not None:
        write_metrics(output_dir, {**record, "status": "failed", "reason": guard.failure,
                                   "epochs": epochs_done})
        raise TrainingFailed(f"training stopped: {guard.failure}; see {output_dir / METRICS_FILE}")

    model.save(output_dir / MODEL_FILE)
    metrics = _final_metrics(model, data, history, cfg.train.batch_size)
    metrics.update(record, status="completed")
    metrics["epochs"] = record.get("stopped_epoch", cfg.train.epochs)
    write_metrics(output_dir, metrics)
    log.info("val_loss %.5f; run directory %s", metrics["val_loss"], output_dir)
    board = output_dir / TENSORBOARD_DIR
    log.info("TensorBoard: %s (open it with: tensorboard --logdir %s, or lstm-experiments-board %s)",
             board, board, output_dir)
    return metrics


def task_metrics(task: str) -> tuple[str, ...]:
    """The epoch metrics a task logs, as Keras names them."""
    from lstm_experiments.data import CLASSIFICATION
    from lstm_experiments.metrics import task_metrics as named

    return named(task in CLASSIFICATION)


def _final_metrics(model, data, history, batch_size: int) -> dict:
    """The last epoch's metrics; when no epoch ran here, an evaluation of the model as it is."""
    if history.history:
        return {name: float(values[-1]) for name, values in history.history.items()}
    from lstm_experiments.data.input_pipeline import batches

    metrics = {}
    for prefix, x, y in (("", data.x_train, data.y_train), ("val_", data.x_val, data.y_val)):
        result = model.evaluate(batches(x, y, batch_size), verbose=0, return_dict=True)
        metrics.update({f"{prefix}{name}": float(value) for name, value in result.items()})
    return metrics
