"""``GateLogger``: the Keras callback that logs every LSTM and GRU gate of any model to TensorBoard.

Step n is the state after n epochs; step 0 is the initial weights. Epoch
metrics go to the same event file under ``metrics/<name>``. The runner uses
this same callback for its runs.

On the training thread the callback only copies the weights to the host. A
worker (a thread by default; ``background=False`` runs it inline) hands each
snapshot to the drawer: a ``DrawingProcess`` by default, which draws, encodes
and writes in a process of its own (so its Python never holds the training
loop's interpreter lock), or a ``Drawer`` in this process. Calls reach the
drawer in order (``interfaces``).

Drawing never stops training, but a file that cannot be written does (a full
disk, a file-size limit: the user must act): the drawer's failure stops
``fit`` at the end of the batch. With the runner's guard, the run then ends
as failed with that reason; in code of one's own, ``fit`` raises
``EventFileError`` when it ends. The event file keeps every step written before.
"""

import dataclasses
import logging
from pathlib import Path

import keras

from lstm_experiments.capture.drawer import Drawer, DrawingSpec
from lstm_experiments.capture.snapshot import is_plain_stack, take_snapshot
from lstm_experiments.capture.workers import BackgroundWorker, InlineWorker
from lstm_experiments.config.choices import Reduce, Scale, Worker, parse
from lstm_experiments.errors import EventFileError
from lstm_experiments.tensorboard import tags
from lstm_experiments.viz.options import ImageOptions
from lstm_experiments.viz import VISUALIZERS, colour

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


def _image_options(image) -> dict:
    if image is None:
        return dataclasses.asdict(ImageOptions())
    given = dict(image)
    known = {f.name for f in dataclasses.fields(ImageOptions)}
    unknown = sorted(set(given) - known)
    if unknown:
        raise ValueError(f"image={{{unknown[0]!r}: ...}} is not an image option; options: {', '.join(sorted(known))}")
    options = ImageOptions(**given)
    options.scale = parse(Scale, options.scale, "image['scale']")
    options.reduce = parse(Reduce, options.reduce, "image['reduce']")
    try:
        colour.check_cmap(options.cmap)
    except ValueError as error:
        raise ValueError(str(error).replace("viz.image.cmap=", "image['cmap']=", 1)) from None
    return dataclasses.asdict(options)


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


class GateLogger(keras.callbacks.Callback):
    """Logs the gates of every LSTM and GRU layer of a Keras model as TensorBoard images, histograms and scalars.

    Works on any model that holds LSTM or GRU layers anywhere: Sequential,
    functional, subclassed, nested models, ``Bidirectional``, stacked. Each
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
        log_every: log the weights every this many epochs (>= 1). Step 0 and the
            last epoch are always logged. Default 1.
        probe: ``(x, y)``, a small fixed batch for ``activations`` (x) and
            ``gradients`` (x and y, with the compiled loss). Default None.
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

    Example:

        model.fit(x, y, epochs=5, callbacks=[GateLogger("logs/run1", visualizers="all", probe=(x[:32], y[:32]))])
    """

    def __init__(self, log_dir, visualizers=DEFAULT_VISUALIZERS, log_every: int = 1, probe=None, image=None,
                 background: bool = True, *, worker: str = "process", worker_priority: str = "idle",
                 png_dir=None, feature_names=None, drawer=None, guard=None):
        super().__init__()
        if isinstance(log_every, bool) or not isinstance(log_every, int) or log_every < 1:
            raise ValueError(f"log_every={log_every!r} (must be an integer >= 1)")
        feature_names = _feature_names(feature_names)
        worker = parse(Worker, worker, "worker")
        if probe is not None and (not isinstance(probe, tuple | list) or len(probe) != 2):
            raise ValueError("probe must be a pair (x, y) of arrays; received "
                             f"{type(probe).__name__} of length {len(probe) if hasattr(probe, '__len__') else '?'}")
        names = _visualizer_names(visualizers)
        self.spec = DrawingSpec(
            logdir=str(Path(log_dir)),
            visualizers=names,
            image=_image_options(image),
            png_dir=str(Path(png_dir)) if png_dir is not None else None,
            feature_names=feature_names,
            log_every=log_every,
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
        # Given by the runner, which starts its drawing process before it imports TensorFlow.
        self._given_drawer = drawer
        # The runner's TrainingGuard: a drawer that cannot write sets its ``failure``, which stops the run.
        self.guard = guard
        # Why the pictures could not be written (a full disk...), or None.
        self.failure: str | None = None
        self.drawer = None
        self.worker = None
        self.logged_steps: list[int] = []
        self.initial_epoch = 0
        self._log_initial = True
        self._initial_layers = None
        self._hparams = None
        self._last_epoch = 0
        self._plain = None

    # ------------------------------------------------------------------ set-up before fit

    def resume_from(self, initial_model, initial_epoch: int) -> None:
        """Continue a run after ``initial_epoch`` epochs: W_0 and the fixed colour scales come from
        ``initial_model`` (the step-0 weights), and step 0 is not logged again."""
        self._initial_layers = take_snapshot(initial_model, 0).layers
        self.initial_epoch = initial_epoch
        self._log_initial = False

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
        self.worker = BackgroundWorker() if self.background else InlineWorker()
        if self._initial_layers is not None:
            self.worker.submit(self.drawer.prime, self._initial_layers)
        if self._hparams is not None:
            self.worker.submit(self.drawer.write_hparams, *self._hparams)
            self._hparams = None

    def log_weights(self, step: int) -> None:
        if not self.spec.visualizers:
            return
        probe_x, probe_y = self.probe if self.probe is not None and self.needs_probe else (None, None)
        if probe_x is not None and self._plain is None:
            self._plain = is_plain_stack(self.model)
        snapshot = take_snapshot(self.model, step, probe_x, probe_y, self.with_gradients, plain=self._plain)
        if self._initial_layers is None:
            # W_0, kept so that a second fit() (a new event file) measures change from the same start.
            self._initial_layers = snapshot.layers
        self.worker.submit(self.drawer.draw, snapshot)
        self.logged_steps.append(step)

    def _drawing_failed(self, message: str) -> None:
        """The drawer cannot write (any thread): stop training at the end of the batch."""
        if self.failure is not None:
            return
        self.failure = message
        if self.guard is not None:
            if self.guard.failure is None:
                self.guard.failure = message  # the guard stops fit and the run ends as failed
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
        self._open()
        self._last_epoch = self.initial_epoch
        if self._log_initial and 0 not in self.logged_steps:
            self.log_weights(0)

    def on_epoch_end(self, epoch, logs=None):
        if self.guard is not None and not self.guard.epoch_counts():
            return
        step = epoch + 1
        self._last_epoch = step
        metrics = {tags.metric(k): v for k, v in (logs or {}).items()}
        # Through the worker too, so records reach the file in step order.
        self.worker.submit(self.drawer.write_scalars, step, metrics)
        if step % self.log_every == 0:
            self.log_weights(step)
        else:
            self.worker.submit(self.drawer.flush)

    def on_train_end(self, logs=None):
        # The final weights are always logged, so the last image matches the trained model.
        if self._last_epoch > self.initial_epoch and self._last_epoch not in self.logged_steps:
            self.log_weights(self._last_epoch)
        self.initial_epoch = self._last_epoch
        self.close()
        if self.failure is not None and self.guard is None:
            raise EventFileError(f"GateLogger stopped training: {self.failure}")
