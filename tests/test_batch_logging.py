"""Between epochs: weights every N batches on the optimizer's axis, and the batch where training broke.

Read back with TensorBoard's own reader; the images decode to the weights a
callback saved at that batch; a logged batch's loss and gradient norm equal
Keras' own ``compute_loss`` and ``GradientTape`` on that batch; an exploding
run leaves its last finite weights, its failing ones, the metrics so far and a
Text record, each at its step.
"""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from lstm_experiments import GateLogger
from lstm_experiments.board import metadata
from lstm_experiments.errors import TrainingFailed
from lstm_experiments.tensorboard import tags
from conftest import decode_bwr, decode_image, plugin_of, read_events, read_tensors, train_tiny

UNITS, SEQ_LEN, FEATURES, BATCH = 4, 6, 3, 16


def _steps(events, tag):
    return [step for step, _ in events[tag]]


def _texts(logdir, tag=tags.FAILURE):
    return [(event.step, value.tensor.string_val[0].decode()) for event in read_events(logdir)
            for value in event.summary.value if value.tag == tag]


def test_a_run_logs_every_n_batches_on_the_optimizers_axis_in_every_tag_family(run_tiny):
    # 48 samples, a quarter for validation: 36 windows, 3 batches of 16 per epoch, 2 epochs.
    # Drawn inline: under load the skip policy (tested below) could leave out a step this test names.
    run_dir, metrics = run_tiny(["viz=all", "viz.log_every_batches=2", "data=random", "data.features=2",
                                 "viz.background=false"])
    events = read_tensors(run_dir / "tensorboard")
    plugins = plugin_of(run_dir / "tensorboard")
    logged = [0, 2, 4, 6]  # every 2nd optimizer step, step 0, and the last (6 = 2 epochs x 3 batches)
    for tag, plugin in plugins.items():
        parsed = tags.parse(tag)
        if plugin == "hparams" or tag == tags.CUSTOM_SCALARS_LAYOUT:
            continue
        if parsed is not None and parsed.kind == tags.METRICS:
            assert _steps(events, tag) == [3, 6], tag  # each epoch's end, on the same axis
        elif parsed is not None and parsed.kind == tags.BATCH:
            assert _steps(events, tag) == [2, 4, 6], tag  # the logged batches
        elif tag in (metadata.probe_tag(), tags.scale("lstm", "delta_bias")) or tag.endswith("/initial"):
            continue
        else:
            assert _steps(events, tag) == logged, tag
    positions = {step: [int(v) for v in value] for step, value in events[metadata.position_tag()]}
    assert positions == {0: [0, 0, 0, -1], 2: [1, 2, 0, -1], 4: [2, 1, 0, -1], 6: [2, 3, 0, -1]}
    assert metrics["skipped_steps"] == 0 and metrics["status"] == "completed"
    # The last step is the saved model.
    model = keras.models.load_model(run_dir / "model.keras")
    kernel = np.array(model.get_layer("lstm").cell.kernel)
    np.testing.assert_array_equal(events[metadata.weights_tag("lstm", "kernel")][-1][1], kernel.astype(np.float16))


class BatchRecorder(keras.callbacks.Callback):
    """Keras' own view of every batch: the kernel after it, and, for chosen batches, the loss and the
    gradients ``GradientTape`` gives on that batch with the weights it started from."""

    def __init__(self, x, y, tapped_iterations):
        super().__init__()
        self.x, self.y, self.tapped = x, y, set(tapped_iterations)
        self.kernels, self.losses, self.norms, self.batch_in_epoch = {}, {}, {}, 0

    def on_epoch_begin(self, epoch, logs=None):
        self.batch_in_epoch = 0

    def on_train_batch_begin(self, batch, logs=None):
        iteration = int(self.model.optimizer.iterations.numpy()) + 1
        if iteration in self.tapped:
            xb = self.x[batch * BATCH:(batch + 1) * BATCH]
            yb = self.y[batch * BATCH:(batch + 1) * BATCH]
            with tf.GradientTape() as tape:
                loss = self.model.compute_loss(x=xb, y=yb, y_pred=self.model(xb, training=True))
            grads = tape.gradient(loss, self.model.trainable_weights)
            self.losses[iteration] = float(loss)
            self.norms[iteration] = float(tf.linalg.global_norm(grads))

    def on_train_batch_end(self, batch, logs=None):
        iteration = int(self.model.optimizer.iterations.numpy())
        self.kernels[iteration] = np.array(self.model.get_layer("lstm").cell.kernel)


def _series(samples=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(samples, SEQ_LEN, FEATURES)).astype("float32")
    return x, (x[:, -1, :1] * 0.5).astype("float32")


def test_gate_logger_by_batch_in_a_users_fit_matches_keras_at_each_logged_batch(tmp_path):
    keras.utils.set_random_seed(0)
    x, y = _series()
    model = keras.Sequential([keras.Input((SEQ_LEN, FEATURES)), keras.layers.LSTM(UNITS, name="lstm"),
                              keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    recorder = BatchRecorder(x, y, tapped_iterations=(3, 6))
    logger = GateLogger(tmp_path, visualizers=("gates",), log_every_batches=3, background=False)
    model.fit(x, y, epochs=2, batch_size=BATCH, shuffle=False, verbose=0, callbacks=[recorder, logger])
    events = read_tensors(tmp_path)
    # 4 batches per epoch: steps 0, 3, 6, and the last, 8.
    assert _steps(events, tags.gate_image("lstm", "kernel", "input")) == [0, 3, 6, 8]
    assert _steps(events, tags.metric("loss")) == [4, 8]
    scale = float(events[tags.scale("lstm", "kernel")][0][1])
    for step, value in events[tags.gate_image("lstm", "kernel", "input")][1:]:
        pixels = decode_image(value)
        fr, fc = pixels.shape[0] // FEATURES, pixels.shape[1] // UNITS
        np.testing.assert_allclose(decode_bwr(pixels[fr // 2::fr, fc // 2::fc], scale),
                                   np.clip(recorder.kernels[step][:, :UNITS], -scale, scale), atol=scale / 127)
    # A logged batch's own loss and gradient norm, as Keras computes them on that batch.
    batch_loss = dict((s, float(v)) for s, v in events[tags.batch_loss()])
    norms = dict((s, float(v)) for s, v in events[tags.batch_gradient_norm()])
    for step in (3, 6):
        assert batch_loss[step] == pytest.approx(recorder.losses[step], rel=1e-5)
        assert norms[step] == pytest.approx(recorder.norms[step], rel=1e-4)
    assert set(batch_loss) == {3, 6}
    assert tags.batch_gradient_norm("lstm") in events
    # Keras' own train step comes back after fit: a fit without the logger is not tapped.
    model.fit(x, y, epochs=1, batch_size=BATCH, verbose=0)
    assert "apply_gradients" not in vars(model.optimizer)


def _exploding_model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((7, 1)), keras.layers.LSTM(8, name="lstm"), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(20.0), "mse")
    t = np.linspace(0, 20, 320 * 7).reshape(320, 7, 1).astype("float32")
    x = 3 * np.sin(t)
    return model, x, 2 * x[:, -1]


class WeightsBefore(keras.callbacks.Callback):
    """The kernel at the start of every batch, by the optimizer step that batch will be."""

    def __init__(self):
        super().__init__()
        self.kernels = {}

    def on_train_batch_begin(self, batch, logs=None):
        step = int(self.model.optimizer.iterations.numpy()) + 1
        self.kernels[step] = np.array(self.model.get_layer("lstm").cell.kernel)


@pytest.mark.parametrize("by_batch", [False, True], ids=["by-epoch", "by-batch"])
def test_a_loss_gone_inf_leaves_the_last_finite_and_the_failing_weights_at_their_steps(tmp_path, by_batch):
    model, x, y = _exploding_model()
    before = WeightsBefore()
    logger = GateLogger(tmp_path, visualizers=("gates",), background=False,
                        log_every_batches=5 if by_batch else None)
    model.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0,
              callbacks=[before, logger, keras.callbacks.TerminateOnNaN()])
    failing_iteration = max(before.kernels)  # the batch whose loss became inf
    events = read_tensors(tmp_path)
    positions = {step: [int(v) for v in value] for step, value in events[metadata.position_tag()]}
    (failing,) = [step for step, v in positions.items() if metadata.EVENTS[v[2]] == metadata.NON_FINITE]
    last = positions[failing][3]  # the failing step names the step of the last finite weights
    if by_batch:  # the optimizer's steps before and after the failing update
        assert (last, failing) == (failing_iteration - 1, failing_iteration)
    else:  # epochs: the failing epoch's number, then the one after (no epoch step takes it)
        assert failing == last + 1 and metadata.EVENTS[positions[last][2]] == metadata.LAST_FINITE
    epoch, batch = positions[failing][:2]
    assert positions[last][:2] == [epoch, batch - 1] or positions[last][2] == 0  # or logged as a batch step
    # The last finite weights are those the failing batch started from, exactly (float16 in GATES);
    # the failing ones are the model's after that batch's update.
    logged = dict(events[metadata.weights_tag("lstm", "kernel")])
    largest = float(np.finfo(np.float16).max)
    np.testing.assert_array_equal(logged[last], np.clip(before.kernels[failing_iteration], -largest, largest)
                                  .astype(np.float16))
    after = np.array(model.get_layer("lstm").cell.kernel)
    np.testing.assert_array_equal(logged[failing], np.where(np.isfinite(after), np.clip(after, -largest, largest),
                                                            after).astype(np.float16))
    # The epoch's metrics so far, and the Text record, at the failing step.
    assert _steps(events, tags.metric("loss"))[-1] == failing and not np.isfinite(events[tags.metric("loss")][-1][1])
    ((text_step, text),) = _texts(tmp_path)
    assert text_step == failing
    assert f"loss became inf in epoch {epoch}, batch {batch}" in text and f"Step {last}: the last finite" in text
    assert plugin_of(tmp_path)[tags.FAILURE] == "text"


@pytest.mark.parametrize("by_batch", [False, True], ids=["by-epoch", "by-batch"])
def test_a_weight_gone_inf_under_a_finite_loss_is_the_failing_batch(tmp_path, by_batch):
    """SGD at 3e38: the first batch's loss is finite, its update overflows the weights to inf. That
    batch is the failing one (not the next, whose loss is NaN and whose start is no longer finite)."""
    model, x, y = _exploding_model()
    model.compile(keras.optimizers.SGD(3e38), "mse")
    initial = np.array(model.get_layer("lstm").cell.kernel)
    logger = GateLogger(tmp_path, visualizers=("gates",), background=False,
                        log_every_batches=5 if by_batch else None)
    history = model.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0,
                        callbacks=[logger, keras.callbacks.TerminateOnNaN()])
    events = read_tensors(tmp_path)
    positions = {step: [int(v) for v in value] for step, value in events[metadata.position_tag()]}
    (failing,) = [step for step, v in positions.items() if metadata.EVENTS[v[2]] == metadata.NON_FINITE]
    last = positions[failing][3]
    assert positions[failing][:2] == [1, 1]  # epoch 1, batch 1
    assert (last, failing) == ((0, 1) if by_batch else (1, 2))
    logged = dict(events[metadata.weights_tag("lstm", "kernel")])
    np.testing.assert_array_equal(logged[last], initial.astype(np.float16))  # what that batch started from
    assert not np.isfinite(logged[failing]).all() and not np.isfinite(model.get_layer("lstm").cell.kernel).all()
    ((text_step, text),) = _texts(tmp_path)
    assert text_step == failing and "a weight became NaN or inf in epoch 1, batch 1" in text
    assert len(history.history["loss"]) == 1  # TerminateOnNaN stopped the epoch at the next batch


def test_the_runner_leaves_the_failing_batch_of_an_exploding_run(tmp_path):
    """The issue's run: SGD at learning rate 20 on sine data; the loss becomes inf in epoch 2, batch 6."""
    run_dir = tmp_path / "run"
    with pytest.raises(TrainingFailed, match="loss became inf in epoch 2, batch 6"):
        train_tiny(run_dir, ["train.optimizer=sgd", "train.learning_rate=20", "data.n_samples=160",
                             "train.epochs=3"])
    assert json.loads((run_dir / "metrics.json").read_text())["status"] == "failed"
    events = read_tensors(run_dir / "tensorboard")
    positions = {step: [int(v) for v in value] for step, value in events[metadata.position_tag()]}
    # Epoch 1 logged at step 1; epoch 2 broke at its 6th batch: steps 2 (last finite) and 3.
    assert positions == {0: [0, 0, 0, -1], 1: [1, 8, 0, -1], 2: [2, 5, 1, -1], 3: [2, 6, 2, 2]}
    assert _steps(events, tags.gate_image("lstm", "kernel", "input")) == [0, 1, 2, 3]
    assert _steps(events, tags.metric("loss")) == [1, 3]
    ((step, text),) = _texts(run_dir / "tensorboard")
    assert step == 3 and "loss became inf in epoch 2, batch 6" in text


def test_the_sweep_report_says_each_batch_steps_epoch_and_batch(run_tiny, tmp_path):
    """The report reads lstm_gates/position as the GATES tab does: a strip's rows and the curves' axis
    say a by-batch run's steps are iterations, each at its epoch and batch; a by-epoch run keeps its words."""
    from lstm_experiments.report import main
    from lstm_experiments.report.curves import step_axis
    from lstm_experiments.report.runs import read_run
    from lstm_experiments.report.strips import _position_lines

    # Drawn inline: under load the skip policy could leave out step 4, which this test reads.
    by_batch, _ = run_tiny(["viz.log_every_batches=2", "data=random", "data.features=2", "viz.background=false"])
    by_epoch, _ = run_tiny(["data=random", "data.features=2"])
    image = tags.gate_image("lstm", "kernel", "input")
    batch_run, epoch_run = (read_run(path, path.name, image_tags=(image,)) for path in (by_batch, by_epoch))
    written = {step: [int(v) for v in value] for step, value in
               read_tensors(by_batch / "tensorboard")[metadata.position_tag()]}
    assert {step: position[:2] for step, position in batch_run.positions.items()} == \
        {step: tuple(value[:2]) for step, value in written.items()}
    assert batch_run.by_batch and batch_run.log_every_batches == 2 and not epoch_run.by_batch
    assert batch_run.position_text(4) == "epoch 2, batch 1" and batch_run.position_text(0) == "initial weights"
    assert epoch_run.position_text(2) == "after epoch 2"
    assert _position_lines([batch_run], [4]) == ["epoch 2,", "batch 1"]
    assert _position_lines([epoch_run], [2]) == []
    assert step_axis([batch_run]) == "step (optimizer iteration)" and step_axis([epoch_run]) == "step (epoch)"
    # The report of both, by the command's own main.
    assert main([str(by_batch.parent), "--out", str(tmp_path / "report"), "--reader", "python", "--jobs", "1"]) == 0
    assert (tmp_path / "report" / "index.html").is_file()
