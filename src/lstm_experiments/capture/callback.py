"""``GateLogger``: the Keras callback that logs every recurrent layer's gates of any model to TensorBoard.

It orchestrates the capture side, one job per module: which layers and what
of them per step (``model_capture``), what a step is and where it stands
(``step_clock``: epochs by default, the optimizer's iterations with
``log_every_batches``), what the log directory already holds
(``log_directory``: a step never repeats in a directory), the train step's
gradient norms and pre-update weights (``train_step_tap``), a loss gone NaN or
inf (``failure``) and the line to the drawer (``drawing_link``).

On the training thread the callback only copies the weights to the host; the
drawer (a process of its own by default) draws, encodes and writes, in order.
A batch step that finds the drawing behind (two steps waiting) is skipped and
counted (``skipped_steps``) rather than waited for: training never waits on
pictures of batches and memory stays bounded (docs/performance.md measures
it). Step 0, epoch steps, the last step and a failure's steps always wait.

Drawing never stops training, but a file that cannot be written does (a full
disk, a file-size limit: the user must act): ``fit`` stops at the end of the
batch. Attached to a training loop's control (``attach``: the runner's
guard), the run then ends as failed with that reason; otherwise ``fit`` raises
``EventFileError`` when it ends. The event file keeps every step written before.
"""

import dataclasses
import logging
import math
from pathlib import Path

import keras

from lstm_experiments.board.metadata import LAST_FINITE, NON_FINITE
from lstm_experiments.capture import arguments
from lstm_experiments.capture.arguments import DEFAULT_VISUALIZERS
from lstm_experiments.capture.drawer import INITIAL_FILE, DrawingSpec
from lstm_experiments.capture.drawing_link import DrawingLink
from lstm_experiments.capture.failure import all_finite, failure_text
from lstm_experiments.capture.interfaces import RunControl
from lstm_experiments.capture.log_directory import held_steps
from lstm_experiments.capture.model_capture import ModelCapture
from lstm_experiments.capture.step_clock import StepClock
from lstm_experiments.config.choices import Worker, parse
from lstm_experiments.config.image_options import image_options
from lstm_experiments.errors import EventFileError
from lstm_experiments.tensorboard import tags
from lstm_experiments.viz import VISUALIZERS

log = logging.getLogger(__name__)


class GateLogger(keras.callbacks.Callback):
    """Logs the gates of every recurrent layer of a Keras model as TensorBoard images, histograms and scalars.

    Works on any model that holds LSTM, GRU, SimpleRNN or ConvLSTM layers (or
    ``RNN`` layers of their cells) anywhere: Sequential, functional,
    subclassed, a user's own layers, nested models, ``Bidirectional``,
    ``TimeDistributed``, stacked, built or not before ``fit``. Each
    gate of the kernel, recurrent kernel and bias gets its own tags
    (``gates/<layer>/<matrix>/<gate>``, ...; docs/reference.md's Tag reference), on one
    colour scale per matrix fixed from the initial weights, so frames compare.
    Drawing happens off the training thread; the training thread only copies
    the weights. The event file is closed when training ends.

    Args:
        log_dir: the directory for the event file (``tensorboard --logdir`` it).
        visualizers: names from ``kernel``, ``gates``, ``bias``, ``histograms``,
            ``stats``, ``delta``, ``activations``, ``gradients``, or ``"all"``.
            Default ``("kernel", "gates", "bias")``.
        log_every: log the weights every this many epochs (>= 1). The first step and the
            last epoch are always logged. Default 1.
        probe: ``(x, y)``, a small fixed batch for ``activations`` (x) and
            ``gradients`` (x and y, with the compiled loss), each as the model's ``fit``
            takes it: an array, or a list or dict of arrays. Default None.
        image: image options as a dict (``scale``: ``fixed``, ``per_step`` or
            ``minmax``; ``target_side_px``, ``min_side_px``, ``max_side_px``,
            ``reduce``: ``maxabs`` or ``mean``). Default None: the runner's defaults.
        background: draw off the training thread (default True); False draws
            inline, on the training thread.
        worker: with ``background``, ``"process"`` (default: a drawing process of
            its own) or ``"thread"`` (a thread of this process).
        worker_priority: the drawing process' CPU priority, ``"idle"`` (default),
            ``"low"`` or ``"normal"``.
        png_dir: also write every image as ``<png_dir>/<tag>/step_<n>.png``.
        feature_names: a name per input feature (a CSV's columns, say), for the ``lstm_gates``
            plugin: they label the first recurrent layer's kernel rows and the probe's features.
            Default None: unnamed.
        vocabulary: for a probe of tokens (2-D integer ids into an ``Embedding``, or one-hot
            vectors (sequences, time, vocabulary)): a list of tokens (``vocabulary[id]`` is id's text) or
            a callable from an id to its text. The probe is then kept as token ids with the text of each
            (``lstm_gates/probe``), for the GATES tab; one-hot inputs take the tokens as feature names
            unless ``feature_names`` is given. Checked against the probe when the logger is made.
            Default None: a probe of integer ids is kept as ids alone.
        board: also write the GATES tab's data (``lstm_gates/...``: every matrix per logged step,
            and with a probe each layer's activations and input). Default True.
        initial_file: keep W_0 in ``log_dir`` (``gate_logger_initial.npz``), so that a later
            ``GateLogger`` on the same directory measures change from it. Default True (the
            runner keeps its own in ``checkpoints/``).

    Example:

        model.fit(x, y, epochs=5, callbacks=[GateLogger("logs/run1", visualizers="all", probe=(x[:32], y[:32]))])
    """

    def __init__(self, log_dir, visualizers=DEFAULT_VISUALIZERS, log_every: int = 1, probe=None, image=None,
                 background: bool = True, *, log_every_batches: int | None = None, worker: str = "process",
                 worker_priority: str = "idle", png_dir=None, feature_names=None, initial_file: bool = True,
                 board: bool = True, findings=None, findings_file=None, vocabulary=None):
        super().__init__()
        log_every = arguments.every(log_every, "log_every")
        log_every_batches = arguments.every(log_every_batches, "log_every_batches", optional=True)
        feature_names = arguments.feature_names(feature_names)
        worker = parse(Worker, worker, "worker")
        probe = arguments.probe_pair(probe)
        tokens, token_features = arguments.vocabulary(vocabulary, probe, feature_names is not None)
        names = arguments.visualizer_names(visualizers)
        thresholds = arguments.findings(findings, probe)
        self.spec = DrawingSpec(
            logdir=str(Path(log_dir)),
            visualizers=names,
            image=image_options(image, key="image"),
            board=bool(board),
            png_dir=str(Path(png_dir)) if png_dir is not None else None,
            feature_names=feature_names if token_features is None else token_features,
            log_every=log_every,
            initial_file=INITIAL_FILE if initial_file else None,
            log_every_batches=log_every_batches,
            findings=thresholds,
            findings_file=str(Path(findings_file)) if findings_file is not None else None,
            tokens=tokens,
        )
        self.log_every = log_every
        self.probe = probe
        classes = [VISUALIZERS[name] for name in names]
        # The findings read the probe's replay and, on a plain stack, its backward pass (the head).
        self.needs_probe = thresholds is not None or any(getattr(cls, "needs_probe", False) for cls in classes)
        self.with_gradients = probe is not None and any(getattr(cls, "needs_gradients", False) for cls in classes)
        if self.needs_probe and probe is None:
            log.warning("GateLogger: %s need probe=(x, y); they log nothing without it",
                        ", ".join(n for n, c in zip(names, classes) if getattr(c, "needs_probe", False)))
        self.link = DrawingLink(background, worker, worker_priority)
        # ``attach``: the training loop's control (its guard).
        self.control: RunControl | None = None
        # Why the pictures could not be written (a full disk...), or None.
        self.failure: str | None = None
        self.logged_steps: list[int] = []
        # Batch steps skipped because the drawing was behind (never epoch steps, step 0 or the last).
        self.skipped_steps = 0
        self.clock = StepClock(log_every=log_every, log_every_batches=log_every_batches)
        # Steps at or before this one an earlier session or logger wrote to the directory: not again.
        self._written_through: int | None = None
        # W_0, {layer: {matrix: array}}: from the step-0 model of a resumed run, the directory's
        # INITIAL_FILE, or else this logger's first weights.
        self._initial: dict | None = None
        self._hparams = None
        self.capture: ModelCapture | None = None
        self.tap = None  # a TrainStepTap while fit runs
        # Logging has begun but its first weights wait for Keras to build the model (the first batch).
        self._waiting_for_build = False
        # The line of a loss gone NaN or inf, once seen: nothing more is logged after it.
        self.loss_failure: str | None = None
        self._said: set[str] = set()

    @property
    def step(self) -> int | None:
        """The last step counted (logged or not); None until logging begins."""
        return self.clock.step

    # ------------------------------------------------------------------ set-up before fit

    def attach(self, control: RunControl, drawer=None) -> "GateLogger":
        """Compose this logger with a training loop's own parts, as the runner does; before ``fit``.

        ``control`` (a ``RunControl``: the runner's ``TrainingGuard``) decides two things:
        pictures that cannot be written (a full disk) go to ``control.fail(line)``, which stops the
        run (instead of ``fit`` raising ``EventFileError`` at its end), and an epoch for which
        ``control.epoch_counts()`` is False (cut short by a signal) is no step. ``drawer``: a
        ``capture.interfaces.DrawerInterface`` already made (the runner starts its drawing process
        before it imports TensorFlow); the logger starts and closes it.
        """
        self.control = control
        self.link.given = drawer
        return self

    def resume_from(self, initial_model, initial_epoch: int) -> None:
        """Continue a run after ``initial_epoch`` epochs: W_0 and the fixed colour scales come from
        ``initial_model`` (the step-0 weights), and no step the run's directory holds is written again."""
        self._initial = {w.layer: w.matrices for w in ModelCapture(initial_model).weights()}
        self.clock.epochs_done = initial_epoch
        self._written_through = _largest(held_steps(self.spec.logdir)[0], None if self.clock.by_batch else
                                         initial_epoch)
        self.spec = dataclasses.replace(self.spec, layout=False)  # the first session wrote it

    def write_hparams(self, hparams: dict, metric_tags, trial_id: str) -> None:
        """Write this run's HParams record when the event file opens."""
        self._hparams = (hparams, tuple(metric_tags), trial_id)

    # ------------------------------------------------------------------ drawing

    def _open(self) -> None:
        if self.link.open:
            return
        first = []
        if self._initial is not None:
            first.append(("prime", (self._initial,)))
        if self._hparams is not None:
            first.append(("write_hparams", self._hparams))
            self._hparams = None
        self.link.start(self.spec, self._drawing_failed, first)
        # The CUSTOM SCALARS layout goes into the first event file of the run only.
        self.spec = dataclasses.replace(self.spec, layout=False)

    def _say(self, line: str) -> None:
        """Log ``line`` once per logger."""
        if line not in self._said:
            self._said.add(line)
            log.warning("%s", line)

    def _capture(self) -> ModelCapture:
        if self.capture is None or self.capture.model is not self.model:
            probe_x, probe_y = self.probe if self.probe is not None and self.needs_probe else (None, None)
            self.capture = ModelCapture(self.model, probe_x, probe_y, self.with_gradients,
                                        with_head=self.spec.findings is not None)
            self._say_notices()
        return self.capture

    def _say_notices(self) -> None:
        """The lines about layers and visualizers the logger cannot serve (each once)."""
        capture = self.capture
        for line in capture.notices(self.spec.visualizers):
            self._say(line)
        if not capture.layers and not capture.discovery.unsupported and not capture.unbuilt():
            self._say(f"GateLogger: model {self.model.name!r} has no recurrent layer; nothing is drawn")

    def _new(self, step: int) -> bool:
        """Whether ``step`` is neither logged here yet nor held by the directory from before."""
        return step not in self.logged_steps and (self._written_through is None or step > self._written_through)

    def log_weights(self, step: int, initial: bool = False, event: str = "", matrices=None,
                    batch_scalars: dict | None = None, last_finite_step: int = -1) -> bool:
        """Log the weights at ``step`` (``initial``: as Keras made them; ``matrices``: these instead of
        the model's, {layer: matrices}); whether it was handed to the drawer. With ``batch_scalars``
        (a logged batch) it goes with them, or is skipped with them when the worker is behind."""
        if not self.spec.visualizers and not self.spec.board and self.spec.findings is None:
            return False
        capture = self._capture()
        if matrices is None:
            snapshot = capture.snapshot(step, initial=initial)
            for line in capture.unreached(snapshot):
                self._say(line)
        else:
            snapshot = capture.snapshot_of(step, matrices)
        epoch, batch = self.clock.position()
        if event == LAST_FINITE:
            batch -= 1  # the weights before the failing batch's update
        snapshot = dataclasses.replace(snapshot, epoch=epoch, batch=batch, event=event,
                                       last_finite_step=last_finite_step)
        if self._initial is None:
            # W_0, kept so that a second fit() (a new event file) measures change from the same start.
            self._initial = {w.layer: w.matrices for w in snapshot.layers}
        if batch_scalars is not None:
            if not self.link.try_call(_draw_batch, snapshot, batch_scalars):
                self.skipped_steps += 1
                return False
        else:
            self.link.call("draw", snapshot)
        self.logged_steps.append(step)
        return True

    def _continue_in_directory(self) -> None:
        """If ``log_dir`` already holds steps: none of them again, and W_0 from the directory's INITIAL_FILE.

        Before the event file of this logger opens (it would hold a step 0 of its own).
        """
        last, initial = held_steps(self.spec.logdir)
        if last is None:
            return
        self._written_through = last
        if not self.clock.by_batch:
            self.clock.epochs_done = last  # by epoch the count goes on after it
        if initial is not None:
            self._initial = initial
        self.spec = dataclasses.replace(self.spec, layout=False)  # the directory's first logger wrote it

    def _begin_logging(self, epoch: int) -> None:
        """At the first epoch this logger sees: its first step, and its first weights."""
        self.clock.start(epoch, self._iterations())
        capture = self._capture()
        if capture.unbuilt() and not capture.build_from_probe():
            capture.watch_builds()  # Keras builds the model in the first batch: the step is logged after it
            self._waiting_for_build = True
            return
        self._install_tap()
        # Going on in a directory that holds steps (a resumed run), by batch: only steps on the clock, as an
        # uninterrupted run logs them (the restored optimizer stands at an epoch's end, not a logged batch).
        off_clock = (self.clock.by_batch and self._written_through is not None
                     and self.step % self.clock.log_every_batches != 0)
        if self._new(self.step) and not off_clock:
            self.log_weights(self.step)

    def _log_built(self) -> None:
        """Log the first weights, as Keras made them, once the first batch has built the model."""
        self._waiting_for_build = False
        for found in self.capture.rediscover():
            self._say(f"GateLogger: layer {found.name!r} was made while the first batch ran: its step "
                      f"{self.step} shows its weights after that batch")
        self._say_notices()
        first = self.clock.iterations - 1 if self.clock.by_batch else self.step
        if self._new(first):
            self.log_weights(first, initial=True)
        self._install_tap()

    def _iterations(self) -> int:
        optimizer = getattr(self.model, "optimizer", None)
        return int(optimizer.iterations.numpy()) if optimizer is not None else 0

    def _install_tap(self) -> None:
        """Tap the train step for gradient norms and the weights before each update (``train_step_tap``)."""
        if self.tap is None and self.capture.layers and getattr(self.model, "optimizer", None) is not None:
            from lstm_experiments.capture.train_step_tap import TrainStepTap

            self.tap = TrainStepTap(self.model, self.capture.layers)
            self.tap.install()

    def _remove_tap(self) -> None:
        if self.tap is not None:
            self.tap.remove()
            self.tap = None

    # ------------------------------------------------------------------ batches and failures

    def _batch_scalars(self) -> dict[str, float]:
        """``batch/loss`` and the gradient norms of the last update (``TrainStepTap.scalars``)."""
        return self.tap.scalars() if self.tap is not None and self.tap.seen else {}

    def _log_failure(self, what: str, logs) -> None:
        """The loss or a weight became NaN or inf in this batch (``what`` says which): the last finite
        weights, the failing ones, the epoch's metrics so far and the text that says what happened,
        each at its step; then no more."""
        last_step, failing_step = self.clock.failure_steps()
        epoch, batch = self.clock.position()
        self.loss_failure = f"{what} in epoch {epoch}, batch {batch}"
        previous = self.tap.previous_matrices() if self.tap is not None and self.tap.seen else None
        finite = all_finite(previous)
        if finite and self._new(last_step):
            self.log_weights(last_step, event=LAST_FINITE, matrices=previous)
        kept = finite and last_step in self.logged_steps  # or logged already, as a step of its own
        self.log_weights(failing_step, event=NON_FINITE, last_finite_step=last_step if kept else -1)
        metrics = {tags.metric(k): v for k, v in (logs or {}).items()}
        self.link.call("write_scalars", failing_step, {**metrics, **self._batch_scalars()})
        text = failure_text(self.loss_failure, last_step, failing_step, previous is not None, finite)
        self.link.call("write_text", failing_step, tags.FAILURE, text)
        log.warning("GateLogger: %s; the weights before and after it are logged at steps %d and %d of %s",
                    self.loss_failure, last_step, failing_step, self.spec.logdir)

    # ------------------------------------------------------------------ closing

    def _drawing_failed(self, message: str) -> None:
        """The drawer cannot write (any thread): stop training at the end of the batch."""
        if self.failure is not None:
            return
        self.failure = message
        if self.control is not None:
            self.control.fail(message)  # the control stops fit and the run ends as failed
        elif self.model is not None:
            self.model.stop_training = True

    def close(self) -> None:
        """Wait for every pending step to be drawn and written, then close the event file."""
        self.link.close()

    # ------------------------------------------------------------------ Keras hooks

    def on_train_begin(self, logs=None):
        if not self.clock.started and self._written_through is None:
            self._continue_in_directory()
        self._open()
        if self.clock.started:  # a later fit(), or a resumed run: the optimizer says where it stands
            self.clock.start(self.clock.epochs_done, self._iterations())
            if self.capture is not None and not self._waiting_for_build:
                self._install_tap()

    def on_epoch_begin(self, epoch, logs=None):
        if not self.clock.started or self.capture is None:
            self._begin_logging(epoch)
        self.clock.epoch_begins()

    def on_train_batch_begin(self, batch, logs=None):
        if self._waiting_for_build and batch > 0:
            self._log_built()

    def on_train_batch_end(self, batch, logs=None):
        if self.loss_failure is not None:
            return
        log_it = self.clock.batch_ends()
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self._log_failure(f"loss became {float(loss)}", logs)
            return
        if self.tap is not None and not self.tap.weights_finite():
            # The loss was finite before the update; the update made a weight NaN or inf.
            self._log_failure("a weight became NaN or inf", logs)
            if self.control is not None:
                self.control.fail(self.loss_failure)
            return
        if log_it and not self._waiting_for_build and self._new(self.step):
            self.log_weights(self.step, batch_scalars=self._batch_scalars())

    def on_epoch_end(self, epoch, logs=None):
        if self._waiting_for_build:
            self._log_built()
        if self.loss_failure is not None:
            return
        if self.control is not None and not self.control.epoch_counts():
            return
        log_it = self.clock.epoch_ends(epoch)
        metrics = {tags.metric(k): v for k, v in (logs or {}).items()}
        # Through the worker too, so records reach the file in step order; by batch, a fresh optimizer in a
        # directory holding later steps writes none at a step already there.
        if self._written_through is None or self.step > self._written_through:
            self.link.call("write_scalars", self.step, metrics)
        if log_it and self._new(self.step):
            self.log_weights(self.step)
        else:
            self.link.call("flush")

    def on_train_end(self, logs=None):
        try:
            self.link.training_over()  # the last step's drawing, which training waits for, may take every core
            if self._waiting_for_build:
                self._log_built()
            # The final weights are always logged, so the last image matches the trained model; but not
            # by batch when the control stopped training on a signal: the resumed run goes on from its
            # checkpoint and logs the steps on the clock itself, as an uninterrupted run does.
            interrupted = self.control is not None and (not self.control.epoch_counts() or self.control.interrupted())
            if self.loss_failure is None and self.step is not None and self._new(self.step) and not (
                    interrupted and self.clock.by_batch):
                self.log_weights(self.step)
            if self.skipped_steps:
                log.warning("GateLogger: %d batch steps were skipped while the drawing was behind (%s)",
                            self.skipped_steps, self.spec.logdir)
        finally:
            self._remove_tap()
            self.close()
        if self.failure is not None and self.control is None:
            raise EventFileError(f"GateLogger stopped training: {self.failure}")


def _largest(*steps) -> int | None:
    known = [step for step in steps if step is not None]
    return max(known) if known else None


def _draw_batch(drawer, snapshot, scalars) -> None:
    """One job for the worker: a logged batch's pictures and its scalars, or neither."""
    drawer.draw(snapshot)
    drawer.write_scalars(snapshot.step, scalars)
