"""The two interfaces between training and drawing: a drawer and a worker.

A ``DrawerInterface`` turns snapshots into event records; two implement it:
``drawer.Drawer`` (in this process) and ``drawing_process.DrawingProcess`` (in a
child process of its own). Both start the same way: made, then ``start(spec)``
with a ``DrawingSpec`` once the model is built (the drawing process is made
earlier, so its child imports while TensorFlow does). A ``WorkerInterface``
runs the drawer's calls in order off the training thread (``workers``). The
callback (``callback.GateLogger``) talks only to these two, the way
CommonLoopUtils' metric writers talk to a ``MetricWriter``.

A drawer also has two attributes: ``failure`` (None, or one line saying why it
stopped writing: a full disk, a file-size limit, a directory it may not write)
and ``on_failure`` (None, or a function the drawer calls once with that line,
from whichever thread notices; set it before ``start``, which may already fail).
A failing picture is not a failure: it is logged and drawing goes on.
"""

from collections.abc import Callable
from typing import Protocol, runtime_checkable


@runtime_checkable
class DrawerInterface(Protocol):
    def start(self, spec) -> None:
        """Open the event file and set up the visualizers of ``spec`` (a ``DrawingSpec``)."""

    def prime(self, initial: dict) -> None:
        """Take W_0 and the fixed colour scales from {layer: {matrix: array}} without logging them."""

    def draw(self, snapshot) -> None:
        """Every visualizer's summaries of one snapshot, written and flushed."""

    def write_scalars(self, step: int, scalars: dict[str, float]) -> None:
        """Scalars by tag at ``step`` (the epoch metrics)."""

    def write_hparams(self, hparams: dict, metric_tags, trial_id: str) -> None:
        """The HParams dashboard's record of this run."""

    def write_text(self, step: int, tag: str, text: str) -> None:
        """A text record at ``step`` (TensorBoard's Text dashboard)."""

    def flush(self) -> None:
        """Records written so far reach the file."""

    def training_over(self) -> None:
        """Training has ended: what is left to draw (the last step) may use every core."""

    def sync(self) -> bool:
        """Wait until every call made so far is done; False if the drawer died."""

    def close(self) -> None:
        """Finish every call and close the event file."""


@runtime_checkable
class WorkerInterface(Protocol):
    def submit(self, function: Callable, *args) -> None:
        """Run ``function(*args)`` after every job submitted before it; a failing job is logged, not raised."""

    def try_submit(self, function: Callable, *args) -> bool:
        """``submit``, unless the worker is behind (its queue is full): then nothing, and False."""

    def drain(self) -> None:
        """Wait until every submitted job has run."""

    def close(self) -> None:
        """Stop the worker (after ``drain``)."""


class RunControl(Protocol):
    """What a training loop of one's own gives ``GateLogger.attach`` (the runner's ``TrainingGuard``)."""

    def fail(self, message: str) -> None:
        """Stop training at the end of the batch; the run ends as failed with ``message``."""

    def epoch_counts(self) -> bool:
        """Whether the epoch now ending ran to its end (asked in ``on_epoch_end``)."""

    def interrupted(self) -> bool:
        """Whether training stopped on a signal, to be resumed from its checkpoint (asked in ``on_train_end``)."""

