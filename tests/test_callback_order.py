"""The order of ``fit``'s callbacks (``fit_callbacks`` in run/experiment.py), driven through Keras' own
CallbackList as ``fit`` drives it: the learning rate the logger reads is the one ReduceLROnPlateau set
at that epoch, and the weights it draws at the epoch early stopping ends on are the restored best ones.
No training: the test sets the weights and the val_loss of each epoch itself, so it is exact."""

import numpy as np
import pytest
from omegaconf import OmegaConf

keras = pytest.importorskip("keras")

from lstm_experiments.run.callbacks import EarlyStopping, LearningRateInLogs, schedule_callbacks  # noqa: E402
from lstm_experiments.run.checkpoint import Checkpointer, RunCheckpoint  # noqa: E402
from lstm_experiments.run.experiment import fit_callbacks  # noqa: E402
from lstm_experiments.run.guard import TrainingGuard  # noqa: E402

LEARNING_RATE = 0.5
FACTOR = 0.5
# Epoch 1 is the best; epoch 2 is worse: patience 1 reduces the rate there and stops training there.
VAL_LOSSES = [1.0, 2.0]


class Watcher(keras.callbacks.Callback):
    """Stands where GateLogger stands (last): records what it sees at each epoch's end."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def on_epoch_end(self, epoch, logs=None):
        self.seen.append((epoch, dict(logs), [w.copy() for w in self.model.get_weights()]))


def schedule():
    train = OmegaConf.create({
        "early_stopping": {"monitor": "val_loss", "patience": 1, "min_delta": 0.0, "restore_best_weights": True},
        "reduce_lr_on_plateau": {"monitor": "val_loss", "factor": FACTOR, "patience": 1, "min_lr": 0.0},
    })
    return schedule_callbacks(train, ("loss", "val_loss"))


def drive(callbacks, model):
    """What fit does at each hook, with epoch e's weights all equal to e + 1."""
    hooks = keras.callbacks.CallbackList(callbacks, model=model, epochs=len(VAL_LOSSES), steps=1, verbose=0)
    hooks.on_train_begin()
    for epoch, val_loss in enumerate(VAL_LOSSES):
        hooks.on_epoch_begin(epoch)
        model.set_weights([np.full_like(w, epoch + 1.0) for w in model.get_weights()])
        hooks.on_epoch_end(epoch, {"loss": val_loss, "val_loss": val_loss})
        if model.stop_training:
            break
    hooks.on_train_end()


@pytest.fixture
def model():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=LEARNING_RATE), loss="mse")
    return model


def test_the_logger_sees_the_reduced_rate_and_the_restored_weights(model, tmp_path):
    guard, watcher = TrainingGuard(), Watcher()
    drive(fit_callbacks(guard, Checkpointer(RunCheckpoint(tmp_path), guard), schedule(), watcher), model)
    (first, first_logs, first_weights), (last, last_logs, last_weights) = watcher.seen
    assert (first, last) == (0, 1)  # early stopping ended training after epoch 2
    # ReduceLROnPlateau ran before LearningRateInLogs: the rate logged at epoch 2 is the reduced one.
    assert first_logs["learning_rate"] == pytest.approx(LEARNING_RATE)
    assert last_logs["learning_rate"] == pytest.approx(LEARNING_RATE * FACTOR)
    # Early stopping restored epoch 1's weights before the logger drew epoch 2: its last picture is them.
    for restored, best in zip(last_weights, first_weights, strict=True):
        np.testing.assert_array_equal(restored, best)
    # The checkpointer ran before early stopping: it saved the weights training reached (all 2.0).
    saved = keras.models.load_model(tmp_path / "checkpoints" / "latest.keras")
    assert all((w == 2.0).all() for w in saved.get_weights())


def test_the_order_is_guard_checkpointer_schedule_then_logger(model, tmp_path):
    guard, watcher = TrainingGuard(), Watcher()
    plan = schedule()
    callbacks = fit_callbacks(guard, Checkpointer(RunCheckpoint(tmp_path), guard), plan, watcher)
    assert [type(c) for c in callbacks] == [
        TrainingGuard, Checkpointer, EarlyStopping, keras.callbacks.ReduceLROnPlateau, type(plan.epoch_log),
        LearningRateInLogs, Watcher,
    ]
    # Without a schedule, the same order less what was not asked for.
    plain = schedule_callbacks(OmegaConf.create({}), ("loss", "val_loss"))
    assert [type(c) for c in fit_callbacks(guard, None, plain, watcher)] == [
        TrainingGuard, type(plain.epoch_log), LearningRateInLogs, Watcher]


def test_a_signal_after_a_batchs_end_stops_at_the_next_one_and_the_epoch_does_not_count(model, tmp_path):
    """A SIGTERM that lands after the callbacks' batch end, before fit looks at ``stop_training``: fit does
    what Keras' loop does (break when stop_training, then the epoch's end). The epoch must not count as
    done with a batch still to run (its checkpoint would then call a partial epoch complete, and the resumed
    run would train one batch less; CI saw it under load): training stops at the next batch's end, that
    epoch cut short, and the checkpointer saves nothing for it."""
    import signal

    guard, watcher = TrainingGuard(), Watcher()
    checkpoint = RunCheckpoint(tmp_path)
    plain = schedule_callbacks(OmegaConf.create({}), ("loss", "val_loss"))
    hooks = keras.callbacks.CallbackList(fit_callbacks(guard, Checkpointer(checkpoint, guard), plain, watcher),
                                         model=model, epochs=1, steps=3, verbose=0)
    hooks.on_train_begin()
    hooks.on_epoch_begin(0)
    ran = []
    for batch in range(3):
        hooks.on_train_batch_begin(batch)
        ran.append(batch)
        hooks.on_train_batch_end(batch, {"loss": 1.0})
        if batch == 0:
            guard._on_signal(signal.SIGTERM, None)  # as Python runs the handler: between two bytecodes
        if model.stop_training:
            break
    hooks.on_epoch_end(0, {"loss": 1.0, "val_loss": 1.0})
    hooks.on_train_end()
    assert ran == [0, 1] and guard.interrupted()  # stopped at the end of the batch after the signal
    assert not guard.epoch_counts()  # what GateLogger asks before drawing an epoch's end
    assert not checkpoint.exists()  # no checkpoint calls the cut epoch done
