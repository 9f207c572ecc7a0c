"""``GateLogger``: the Keras callback that logs every recurrent layer's gates of any model to TensorBoard.

A step counts epochs: the first logged step is the weights when logging
began (step 0, or ``initial_epoch`` when ``fit`` starts there), and each epoch
that ends adds one, whatever ``fit`` call it belongs to. So a ``GateLogger``
reused across ``fit`` calls (``fit(epochs=1)`` in a loop) goes on counting, and
a ``GateLogger`` given a directory that already holds steps (another logger's,
an earlier session's) continues after the largest one there, measuring change
from the W_0 that logger kept (``INITIAL_FILE``): a step never repeats in a
directory. Epoch metrics go to the same event file under ``metrics/<name>``.
The runner uses this same callback for its runs (its resumes say where to
continue, ``resume_from``).

On the training thread the callback only copies the weights to the host. A
worker (a thread by default; ``background=False`` runs it inline) hands each
snapshot to the drawer: a ``DrawingProcess`` by default, which draws, encodes
and writes in a process of its own (so its Python never holds the training
loop's interpreter lock), or a ``Drawer`` in this process. Calls reach the
drawer in order (``interfaces``).

Drawing never stops training, but a file that cannot be written does (a full
disk, a file-size limit: the user must act): the drawer's failure stops
``fit`` at the end of the batch. Attached to a training loop's control
(``attach``: the runner's guard), the run then ends as failed with that
reason; otherwise ``fit`` raises ``EventFileError`` when it ends. The event file keeps every step written before.
"""

import dataclasses
import logging
from pathlib import Path
from typing import Protocol

import keras

import numpy as np

from lstm_experiments.capture.drawer import INITIAL_FILE, Drawer, DrawingSpec
from lstm_experiments.capture.model_capture import ModelCapture
from lstm_experiments.capture.workers import BackgroundWorker, InlineWorker
from lstm_experiments.config.choices import Worker, parse
from lstm_experiments.config.image_options import image_options
from lstm_experiments.errors import EventFileError
from lstm_experiments.tensorboard import tags
from lstm_experiments.tensorboard.records import largest_step
from lstm_experiments.viz import VISUALIZERS

log = logging.getLogger(__name__)

DEFAULT_VISUALIZERS = ("kernel", "gates", "bias")
ALL = "all"


def _visualizer_names(visualizers) -> tuple[str, ...]:
    if visualizers == ALL:
        return tuple(VISUALIZERS)
    names = (visualizers,) if isinstance(visualizers, str) else tuple(visualizers)
    unknown = [name for name in names if name not in VISUALIZERS]
    if unknown:
        raise ValueError(f"visualizers={unknown[0]!r} is not one of {', '.join(VISUALIZERS)} (or 'all')")
    # The registry's order, as the runner's config gives them.
    return tuple(name for name in VISUALIZERS if name in names)


def _feature_names(names) -> tuple[str, ...] | None:
    if names is None:
        return None
    if isinstance(names, str | bytes):
        raise ValueError(f"feature_names={names!r} must be a sequence of names, one per input feature")
    names = tuple(names)
    bad = [name for name in names if not isinstance(name, str)]
    if bad:
        raise ValueError(f"feature_names: {bad[0]!r} is not a string")
    return names


class RunControl(Protocol):
    """What a training loop of one's own gives ``GateLogger.attach`` (the runner's ``TrainingGuard``)."""

    def fail(self, message: str) -> None:
        """Stop training at the end of the batch; the run ends as failed with ``message``."""

    def epoch_counts(self) -> bool:
        """Whether the epoch now ending ran to its end (asked in ``on_epoch_end``)."""


def _probe_pair(probe):
    if probe is None:
        return None
    if not isinstance(probe, tuple | list) or len(probe) != 2:
        raise ValueError("probe must be a pair (x, y), each what the model's fit takes (an array, or a list "
                         f"or dict of arrays); received {type(probe).__name__} of length "
                         f"{len(probe) if hasattr(probe, '__len__') else '?'}")
    return tuple(probe)


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
        board: also write the GATES tab's data (``lstm_gates/...``: every matrix per logged step,
            and with a probe each layer's activations and input). Default True.
        initial_file: keep W_0 in ``log_dir`` (``gate_logger_initial.npz``), so that a later
            ``GateLogger`` on the same directory measures change from it. Default True (the
            runner keeps its own in ``checkpoints/``).

    Example:

        model.fit(x, y, epochs=5, callbacks=[GateLogger("logs/run1", visualizers="all", probe=(x[:32], y[:32]))])
    """

    def __init__(self, log_dir, visualizers=DEFAULT_VISUALIZERS, log_every: int = 1, probe=None, image=None,
                 background: bool = True, *, worker: str = "process", worker_priority: str = "idle",
                 png_dir=None, feature_names=None, initial_file: bool = True, board: bool = True):
        super().__init__()
        if isinstance(log_every, bool) or not isinstance(log_every, int) or log_every < 1:
            raise ValueError(f"log_every={log_every!r} (must be an integer >= 1)")
        feature_names = _feature_names(feature_names)
        worker = parse(Worker, worker, "worker")
        probe = _probe_pair(probe)
        names = _visualizer_names(visualizers)
        self.spec = DrawingSpec(
            logdir=str(Path(log_dir)),
            visualizers=names,
            image=image_options(image, key="image"),
            board=bool(board),
            png_dir=str(Path(png_dir)) if png_dir is not None else None,
            feature_names=feature_names,
            log_every=log_every,
            initial_file=INITIAL_FILE if initial_file else None,
        )
        self.log_every = log_every
        self.probe = probe
        classes = [VISUALIZERS[name] for name in names]
        self.needs_probe = any(getattr(cls, "needs_probe", False) for cls in classes)
        self.with_gradients = probe is not None and any(getattr(cls, "needs_gradients", False) for cls in classes)
        if self.needs_probe and probe is None:
            log.warning("GateLogger: %s need probe=(x, y); they log nothing without it",
                        ", ".join(n for n, c in zip(names, classes) if getattr(c, "needs_probe", False)))
        self.background = background
        self.worker_kind = worker
        self.worker_priority = worker_priority
        # ``attach``: a drawer already started, and the training loop's control (its guard).
        self._given_drawer = None
        self.control: RunControl | None = None
        # Why the pictures could not be written (a full disk...), or None.
        self.failure: str | None = None
        self.drawer = None
        self.worker = None
        self.logged_steps: list[int] = []
        # The last step counted (logged or not); None until logging begins.
        self.step: int | None = None
        # A step whose weights an earlier session logged (a resumed run, a directory continued): not again.
        self._step_logged_before: int | None = None
        # W_0, {layer: {matrix: array}}: from the step-0 model of a resumed run, the directory's
        # INITIAL_FILE, or else this logger's first weights.
        self._initial: dict | None = None
        self._hparams = None
        self.capture: ModelCapture | None = None
        # Logging has begun but its first weights wait for Keras to build the model (the first batch).
        self._waiting_for_build = False
        self._said: set[str] = set()

    # ------------------------------------------------------------------ set-up before fit

    def attach(self, control: "RunControl", drawer=None) -> "GateLogger":
        """Compose this logger with a training loop's own parts, as the runner does; before ``fit``.

        ``control`` (a ``RunControl``: the runner's ``TrainingGuard``) decides two things:
        pictures that cannot be written (a full disk) go to ``control.fail(line)``, which stops the
        run (instead of ``fit`` raising ``EventFileError`` at its end), and an epoch for which
        ``control.epoch_counts()`` is False (cut short by a signal) is no step. ``drawer``: a
        ``capture.interfaces.DrawerInterface`` already made (the runner starts its drawing process
        before it imports TensorFlow); the logger starts and closes it.
        """
        self.control = control
        self._given_drawer = drawer
        return self

    def resume_from(self, initial_model, initial_epoch: int) -> None:
        """Continue a run after ``initial_epoch`` epochs: W_0 and the fixed colour scales come from
        ``initial_model`` (the step-0 weights), and step 0 is not logged again."""
        self._initial = {w.layer: w.matrices for w in ModelCapture(initial_model).weights()}
        self.step = self._step_logged_before = initial_epoch
        self.spec = dataclasses.replace(self.spec, layout=False)  # the first session wrote it

    def write_hparams(self, hparams: dict, metric_tags, trial_id: str) -> None:
        """Write this run's HParams record when the event file opens."""
        self._hparams = (hparams, tuple(metric_tags), trial_id)

    # ------------------------------------------------------------------ drawing

    def _open(self) -> None:
        if self.drawer is not None:
            return
        if self._given_drawer is not None:
            self.drawer, self._given_drawer = self._given_drawer, None
        elif self.background and self.worker_kind is Worker.process:
            from lstm_experiments.capture.drawing_process import DrawingProcess

            self.drawer = DrawingProcess(priority=self.worker_priority)
        else:
            self.drawer = Drawer()
        # Before start: opening the event file may already fail.
        self.drawer.on_failure = self._drawing_failed
        self.drawer.start(self.spec)
        # The CUSTOM SCALARS layout goes into the first event file of the run only.
        self.spec = dataclasses.replace(self.spec, layout=False)
        self.worker = BackgroundWorker() if self.background else InlineWorker()
        if self._initial is not None:
            self.worker.submit(self.drawer.prime, self._initial)
        if self._hparams is not None:
            self.worker.submit(self.drawer.write_hparams, *self._hparams)
            self._hparams = None

    def _say(self, line: str) -> None:
        """Log ``line`` once per logger."""
        if line not in self._said:
            self._said.add(line)
            log.warning("%s", line)

    def _capture(self) -> ModelCapture:
        if self.capture is None or self.capture.model is not self.model:
            probe_x, probe_y = self.probe if self.probe is not None and self.needs_probe else (None, None)
            self.capture = ModelCapture(self.model, probe_x, probe_y, self.with_gradients)
            self._say_notices()
        return self.capture

    def _say_notices(self) -> None:
        """The lines about layers and visualizers the logger cannot serve (each once)."""
        capture = self.capture
        for line in capture.notices(self.spec.visualizers):
            self._say(line)
        if not capture.layers and not capture.discovery.unsupported and not capture.unbuilt():
            self._say(f"GateLogger: model {self.model.name!r} has no recurrent layer; nothing is drawn")

    def log_weights(self, step: int, initial: bool = False) -> None:
        """Log the model's weights (``initial``: as Keras made them) at ``step``."""
        if not self.spec.visualizers and not self.spec.board:
            return
        capture = self._capture()
        snapshot = capture.snapshot(step, initial=initial)
        for line in capture.unreached(snapshot):
            self._say(line)
        if self._initial is None:
            # W_0, kept so that a second fit() (a new event file) measures change from the same start.
            self._initial = {w.layer: w.matrices for w in snapshot.layers}
        self.worker.submit(self.drawer.draw, snapshot)
        self.logged_steps.append(step)

    def _continue_in_directory(self) -> None:
        """If ``log_dir`` already holds steps, count on after the largest, with W_0 from its INITIAL_FILE.

        Before the event file of this logger opens (it would hold a step 0 of its own).
        """
        last = largest_step(self.spec.logdir)
        if last is None:
            return
        self.step = self._step_logged_before = last
        self.spec = dataclasses.replace(self.spec, layout=False)  # the directory's first logger wrote it
        try:
            with np.load(Path(self.spec.logdir) / INITIAL_FILE) as stored:
                initial: dict = {}
                for key in stored.files:
                    layer, matrix = key.split("/", 1)
                    initial.setdefault(layer, {})[matrix] = stored[key]
            self._initial = initial
            note = f"change is measured from the W_0 kept in {INITIAL_FILE}"
        except (OSError, ValueError):
            note = f"it keeps no {INITIAL_FILE}, so change is measured from the weights logging starts with"
        log.info("GateLogger: %s already holds steps up to %d; logging continues at step %d; %s",
                 self.spec.logdir, last, last + 1, note)

    def _begin_logging(self, epoch: int) -> None:
        """At the first epoch this logger sees: its first step, and its first weights."""
        self.step = epoch  # the weights before epoch ``epoch``: 0, or fit's initial_epoch
        capture = self._capture()
        if capture.unbuilt() and not capture.build_from_probe():
            capture.watch_builds()  # Keras builds the model in the first batch: the step is logged after it
            self._waiting_for_build = True
            return
        self.log_weights(self.step)

    def _log_built(self) -> None:
        """Log the first weights, as Keras made them, once the first batch has built the model."""
        self._waiting_for_build = False
        for found in self.capture.rediscover():
            self._say(f"GateLogger: layer {found.name!r} was made while the first batch ran: its step "
                      f"{self.step} shows its weights after that batch")
        self._say_notices()
        self.log_weights(self.step, initial=True)

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
        if self.drawer is None:
            if self._given_drawer is not None:
                self._given_drawer.close()
                self._given_drawer = None
            return
        try:
            self.worker.drain()
            self.worker.close()
            self.drawer.sync()
        finally:
            self.drawer.close()
            self.drawer = None

    # ------------------------------------------------------------------ Keras hooks

    def on_train_begin(self, logs=None):
        if self.step is None:
            self._continue_in_directory()
        self._open()

    def on_epoch_begin(self, epoch, logs=None):
        if self.step is None:
            self._begin_logging(epoch)

    def on_train_batch_begin(self, batch, logs=None):
        # Not on_train_batch_end: defining it would make Keras wait for every batch's logs.
        if self._waiting_for_build and batch > 0:
            self._log_built()

    def on_epoch_end(self, epoch, logs=None):
        if self._waiting_for_build:
            self._log_built()
        if self.control is not None and not self.control.epoch_counts():
            return
        # The count goes on across fit() calls; an initial_epoch further on moves it there.
        self.step = max(self.step + 1, epoch + 1)
        metrics = {tags.metric(k): v for k, v in (logs or {}).items()}
        # Through the worker too, so records reach the file in step order.
        self.worker.submit(self.drawer.write_scalars, self.step, metrics)
        if self.step % self.log_every == 0:
            self.log_weights(self.step)
        else:
            self.worker.submit(self.drawer.flush)

    def on_train_end(self, logs=None):
        if self._waiting_for_build:
            self._log_built()
        # The final weights are always logged, so the last image matches the trained model.
        if self.step not in (None, self._step_logged_before) and self.step not in self.logged_steps:
            self.log_weights(self.step)
        self.close()
        if self.failure is not None and self.control is None:
            raise EventFileError(f"GateLogger stopped training: {self.failure}")
