"""One experiment: data, model, training with weight logging, then ``model.keras`` and ``metrics.json``.

The plain function behind the Hydra entry point: ``run_experiment(cfg, output_dir) -> metrics``.
It also resumes a run from its checkpoint (``resume=True``), in the same directory.
"""

import logging
from pathlib import Path

from omegaconf import DictConfig, OmegaConf
from threadpoolctl import threadpool_limits

from lstm_experiments.data import load_dataset
from lstm_experiments.errors import Interrupted, TrainingFailed
from lstm_experiments.run.data_fingerprint import check_and_record
from lstm_experiments.run.layout import METRICS_FILE, MODEL_FILE, PNG_DIR, TENSORBOARD_DIR, write_json_atomic
from lstm_experiments.run.tensorflow_setup import apply_thread_limit, import_tensorflow

log = logging.getLogger(__name__)

SIGNAL_EXIT_CODES = {"SIGINT": 130, "SIGTERM": 143, "SIGUSR2": 140}
VISUALIZER_BLAS_THREADS = 1


def write_metrics(output_dir: Path, metrics: dict) -> None:
    write_json_atomic(Path(output_dir) / METRICS_FILE, metrics)


def run_experiment(cfg: DictConfig, output_dir: Path, threads: int | None = None,
                   resume: bool = False, record: dict | None = None) -> dict:
    """Train ``cfg``'s model in ``output_dir``; ``threads`` caps TensorFlow's CPU threads.

    ``record`` goes into metrics.json as well (what this session was: a failed
    attempt run again says where its files went); a resumed run adds
    ``resumed_from_epoch``.

    The run is a sequence of named steps: load the data, start the drawing
    process, set up TensorFlow, build (or restore) the model, fit with the
    guard, checkpointer and ``GateLogger``, then save. Raises TrainingFailed on a
    NaN/inf loss and Interrupted on SIGINT/SIGTERM, after writing metrics.json
    and keeping every step already logged.
    """
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    check_and_record(cfg.data, output_dir, resume)  # the same CSV as before, when resuming or in a sweep
    data = load_data(cfg)  # bad data fails here, before the TensorFlow import
    drawer = start_drawing_process(cfg)  # from here on, the finally below closes it whatever fails
    logger = None
    try:
        set_up_tensorflow(cfg, threads)
        from lstm_experiments.run.callbacks import early_stopping_record, schedule_callbacks
        from lstm_experiments.run.checkpoint import Checkpointer
        from lstm_experiments.run.guard import TrainingGuard

        model, checkpoint, initial_epoch, initial_model = build_or_restore(cfg, data, output_dir, resume)
        record = {**(record or {}), **({"resumed_from_epoch": initial_epoch} if resume else {})}
        guard = TrainingGuard()
        logger, drawer = gate_logger(cfg, data, output_dir, drawer, guard), None  # the logger owns it now
        if resume:
            logger.resume_from(initial_model, initial_epoch)
        else:
            from lstm_experiments.tensorboard.hparams import flatten_config, metric_tags

            logger.write_hparams(flatten_config(cfg), metric_tags(data.task), trial_id=output_dir.name)
        schedule = schedule_callbacks(cfg.train, task_metrics(data.task))
        history = fit(model, cfg, data, initial_epoch, [guard, Checkpointer(checkpoint, guard), *schedule, logger])
        record.update(early_stopping_record(schedule))
    finally:
        if logger is not None:
            logger.close()
        if drawer is not None:
            drawer.close()
    return finish(cfg, model, data, history, guard, checkpoint, initial_epoch, output_dir, record)


def load_data(cfg: DictConfig):
    from lstm_experiments.config.input_shape import check_windows

    data = load_dataset(cfg.data, cfg.seed)
    check_windows(cfg, data.input_shape)
    log.info(
        "data %s: %d training and %d validation windows of shape %s (%s)",
        cfg.data.name, len(data.x_train), len(data.x_val), data.input_shape, data.task,
    )
    return data


def start_drawing_process(cfg: DictConfig):
    """The drawing process, started before TensorFlow is imported, or None if the run draws in this one.

    Its start-up (numpy, TensorBoard's protos) then runs on the core the
    single-threaded TensorFlow import leaves idle, not beside the first epochs.
    """
    from lstm_experiments.viz import enabled_visualizers

    draws = enabled_visualizers(cfg.viz) or cfg.viz.get("board", False)
    if not (draws and cfg.viz.background and cfg.viz.worker == "process"):
        return None
    from lstm_experiments.capture.drawing_process import DrawingProcess

    return DrawingProcess(priority=cfg.viz.worker_priority)


def set_up_tensorflow(cfg: DictConfig, threads: int | None) -> None:
    tf = import_tensorflow()
    apply_thread_limit(threads if threads is not None else cfg.get("threads"))
    # The visualizers' numpy work is small matrices: multi-threaded BLAS would only spin
    # against TensorFlow's threads for the cores (far slower; docs/performance.md), so it gets one thread.
    threadpool_limits(limits=VISUALIZER_BLAS_THREADS, user_api="blas")
    import keras

    keras.backend.clear_session()
    keras.utils.set_random_seed(cfg.seed)
    tf.config.experimental.enable_op_determinism()


def build_or_restore(cfg: DictConfig, data, output_dir: Path, resume: bool):
    """(model, checkpoint, epochs already done, the step-0 model when resuming)."""
    from lstm_experiments.model import build_model, compile_model
    from lstm_experiments.run.checkpoint import RunCheckpoint

    model = build_model(cfg.model, cfg.units, data.input_shape, data.task)
    compile_model(model, cfg.train, data.task)
    checkpoint = RunCheckpoint(output_dir)
    if not resume:
        checkpoint.save_initial(model)
        return model, checkpoint, 0, None
    restored, initial_epoch = checkpoint.restore()
    initial_model = checkpoint.initial_model(model)
    if restored is not None:
        model = restored
    else:
        model.set_weights(initial_model.get_weights())
    log.info("resuming %s after epoch %d of %d", output_dir, initial_epoch, cfg.train.epochs)
    return model, checkpoint, initial_epoch, initial_model


def gate_logger(cfg: DictConfig, data, output_dir: Path, drawer, guard):
    """The run's ``GateLogger``, from ``cfg.viz``: the same callback anyone can add to their own fit, attached
    to the run's guard (which its failures stop) and to the drawing process started early."""
    from lstm_experiments.capture.callback import GateLogger
    from lstm_experiments.viz import enabled_visualizers

    return GateLogger(
        output_dir / TENSORBOARD_DIR,
        visualizers=tuple(v.name for v in enabled_visualizers(cfg.viz)),
        log_every=cfg.viz.log_every,
        probe=(data.x_val[: cfg.viz.probe_size], data.y_val[: cfg.viz.probe_size]),
        image=OmegaConf.to_container(cfg.viz.image, resolve=True, enum_to_str=True),
        board=cfg.viz.get("board", False),
        background=cfg.viz.background,
        worker=cfg.viz.worker,
        worker_priority=cfg.viz.worker_priority,
        png_dir=output_dir / PNG_DIR if cfg.viz.png else None,
        feature_names=data.feature_names,
        initial_file=False,  # W_0 is checkpoint/initial.weights.h5
    ).attach(guard, drawer=drawer)


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
    from lstm_experiments.data import BINARY
    from lstm_experiments.metrics import task_metrics as named

    return named(task == BINARY)


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
