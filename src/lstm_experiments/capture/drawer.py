"""The drawing side of a run: snapshots in, event records out.

A ``Drawer`` owns the run's event file, its visualizers, painter and PNG
exporter, and W_0 (the step-0 matrices every change is measured from). It is
started with a ``DrawingSpec`` of plain values, so it can live on the training
process' logging thread or in a drawing process of its own
(``drawing_process``); either way it sees the same calls in the same order
(``interfaces.DrawerInterface``).
It never imports TensorFlow.

A picture that fails to draw is logged and its visualizer switched off; a
file that cannot be written (a full disk, a file-size limit, a directory that
is not writable) is a fault the user must act on: the drawer stops writing,
keeps the event file readable up to its last whole record (``records``),
sets ``failure`` to one line naming the directory and the OS's reason, and
calls ``on_failure`` with it, so the training side can stop the run.
"""

import logging
import math
import os
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from lstm_experiments.config.image_options import ImageOptions
from lstm_experiments.viz.painter import Painter
from lstm_experiments.tensorboard import tags
from lstm_experiments.tensorboard.png import encode_png
from lstm_experiments.tensorboard.summaries import Summaries
from lstm_experiments.tensorboard.writer import SummaryWriter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DrawingSpec:
    """What a drawer is made of: plain values that pickle."""

    logdir: str
    visualizers: tuple[str, ...]
    image: ImageOptions = field(default_factory=ImageOptions)  # checked once, by config.image_options
    # The GATES tab's data (``board.summary``), a writer of its own beside the visualizers.
    board: bool = True
    png_dir: str | None = None
    # The input features' names (CSV columns...), for the lstm_gates plugin; None: unknown.
    feature_names: tuple[str, ...] | None = None
    # The steps logged are 0, log_every, 2 log_every, ... and the last epoch (the plugin's metadata says so).
    log_every: int = 1
    # W_0 is kept under this name in ``logdir`` when the drawer takes it from the first snapshot
    # (``GateLogger``'s ``initial_file``); None: not kept.
    initial_file: str | None = None
    # Write the CUSTOM SCALARS layout (once per run: the first event file of a directory has it).
    layout: bool = True
    # Steps are the optimizer's iterations, logged every this many batches; None: steps are epochs.
    log_every_batches: int | None = None
    # The findings' thresholds (``findings.thresholds.Thresholds``); None: no findings.
    findings: object = None
    # Where findings.json goes (``findings.record``); None: beside the event file.
    findings_file: str | None = None
    # The text of each token id of a probe of tokens (``GateLogger(vocabulary=...)``); None: no vocabulary.
    tokens: tuple[str, ...] | None = None


def failure_message(what: str, where, error: BaseException) -> str:
    """``cannot write <what> in <where>: <the OS's reason>``, the line a run fails with."""
    reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
    return f"cannot write {what} in {where}: {reason}"


EVENT_FILE = "the event file"
FINDINGS_JSON = "findings.json"
PNG_FILES = "the PNG files"
# W_0 as ``<layer>/<matrix>`` arrays, so that a later GateLogger on the same directory measures from it.
INITIAL_FILE = "gate_logger_initial.npz"


def save_initial(path: Path, initial: dict) -> None:
    """``initial`` ({layer: {matrix: array}}) to ``path`` as an npz, whole or not at all."""
    partial = path.with_name(path.name + ".partial")
    with open(partial, "wb") as handle:
        np.savez(handle, **{f"{layer}/{name}": matrix for layer, matrices in initial.items()
                            for name, matrix in matrices.items()})
    os.replace(partial, path)


class Drawer:
    """The ``DrawerInterface`` in this process: made, then ``start(spec)`` (or ``Drawer(spec)``).

    ``failure``: None, or why the drawer stopped writing (``failure_message``);
    ``on_failure(message)``, if set, is called once when that happens.
    """

    def __init__(self, spec: DrawingSpec | None = None, on_failure=None):
        self.writer = None
        self.board = None
        self.failure: str | None = None
        self._metric_tags: tuple[str, ...] = ()
        self._layout_pending = False
        self.on_failure = on_failure
        self._initial: dict[str, dict] | None = None
        if spec is not None:
            self.start(spec)

    def _fail(self, what: str, where, error: BaseException) -> None:
        if self.failure is not None:
            return
        self.failure = failure_message(what, where, error)
        log.error("drawing stopped: %s", self.failure)
        if self.writer is not None:
            try:
                self.writer.close()
            except OSError:
                pass
        if self.on_failure is not None:
            self.on_failure(self.failure)

    @contextmanager
    def _writing(self, what: str, where):
        """Turn an OSError of the block into this drawer's failure (the first one only)."""
        try:
            yield
        except OSError as error:
            self._fail(what, where, error)

    def start(self, spec: DrawingSpec) -> None:
        """Open the event file and set up the visualizers, painter, GATES data and PNG exporter of ``spec``."""
        from lstm_experiments.board.summary import GateBoard
        from lstm_experiments.tensorboard.png import PngExporter
        from lstm_experiments.viz import VISUALIZERS

        self.spec = spec
        self._layout_pending = spec.layout
        self.painter = Painter(spec.image)
        self.visualizers = [VISUALIZERS[name]() for name in spec.visualizers]
        with_probe = any(getattr(VISUALIZERS[name], "needs_probe", False) for name in spec.visualizers)
        self.board = (GateBoard.from_options(spec.image, spec.feature_names, spec.log_every, spec.log_every_batches,
                                             with_probe=with_probe, tokens=spec.tokens)
                      if spec.board else None)
        self.png_exporter = PngExporter(Path(spec.png_dir)) if spec.png_dir else None
        self.findings = None
        if spec.findings is not None:
            from lstm_experiments.findings.record import FINDINGS_FILE, FindingsRecord

            self.findings = FindingsRecord(Path(spec.findings_file or Path(spec.logdir) / FINDINGS_FILE))
            self._losses: list[tuple[int, float]] = []
        with self._writing(EVENT_FILE, spec.logdir):
            self.writer = SummaryWriter(Path(spec.logdir))

    def prime(self, initial: dict) -> None:
        """Take W_0 and the fixed colour scales from ``initial`` ({layer: {matrix: array}}, the
        step-0 weights) without logging them (resume, or a directory another logger began)."""
        self._initial = initial
        self.painter.fix_scales(initial)

    def _summarise(self, snapshot) -> Summaries:
        summaries = Summaries()
        for visualizer in list(self.visualizers):
            try:
                summaries.update(visualizer.summarise(snapshot, self.painter))
            except Exception:  # a picture must never stop training
                log.exception("visualizer %s failed at step %d; it is switched off",
                              type(visualizer).__name__, snapshot.step)
                self.visualizers.remove(visualizer)
        summaries.scalars.update(self.painter.take_scale_scalars())
        if self.board is not None:
            try:
                summaries.tensors.update(self.board.summarise(snapshot))
            except Exception:  # the tab's data must never stop training either
                log.exception("the GATES data failed at step %d; it is switched off", snapshot.step)
                self.board = None
        return summaries

    def draw(self, snapshot) -> None:
        """Every visualizer's summaries of one snapshot, written and flushed (and exported as PNGs)."""
        if self.failure is not None:
            return
        if self._initial is None:  # the first snapshot is W_0
            self._initial = {layer.layer: layer.matrices for layer in snapshot.layers}
            if self.spec.initial_file is not None:
                with self._writing(INITIAL_FILE, self.writer.logdir):
                    save_initial(Path(self.spec.logdir) / self.spec.initial_file, self._initial)
        snapshot = replace(snapshot, initial=self._initial)
        summaries = self._summarise(snapshot)
        text = self._find(snapshot, summaries)
        # With PNG files, each image is encoded once, for both the event file and its file.
        pngs = None
        if self.png_exporter is not None:
            pngs = {tag: encode_png(pixels) for tag, pixels in summaries.images.items()}
        with self._writing(EVENT_FILE, self.writer.logdir):
            self.writer.write(snapshot.step, summaries, pngs)
            if text is not None:
                self.writer.write_text(snapshot.step, tags.findings_text(), text)
            if self._layout_pending:  # once per run, from the tags of its first step
                self.writer.write_layout(summaries.scalars, self._metric_tags)
                self._layout_pending = False
            self.writer.flush()
        self._write_findings()
        if self.png_exporter is not None and self.failure is None:
            with self._writing(PNG_FILES, self.png_exporter.root):
                self.png_exporter.write(snapshot.step, pngs)

    def _find(self, snapshot, summaries: Summaries) -> str | None:
        """The step's findings (``findings/``): counts and decays into ``summaries``, the record updated;
        the Text record of the step, or None when it has none."""
        if self.findings is None:
            return None
        from lstm_experiments.findings import figures, record, rules

        try:
            measured = figures.measure(snapshot, self.spec.findings)
            observed = rules.observe(measured, self.spec.findings)
        except Exception:  # a finding must never stop training
            log.exception("the findings failed at step %d; they are switched off", snapshot.step)
            self.findings = None
            return None
        self.findings.observe(snapshot.step, observed, measured.unmeasured)
        if self.board is not None:  # the GATES tab's findings list, charts and orders read their own tags
            summaries.tensors.update(self.board.findings(self.findings.to_json()))
            for layer in measured.layers.values():
                summaries.tensors.update(self.board.layer_figures(layer))
        for kind, count in record.counts(observed).items():
            summaries.scalars[tags.findings_count(kind)] = float(count)
        for layer in measured.layers.values():
            for state, decay in layer.decay.items():
                if math.isfinite(decay):
                    summaries.scalars[tags.through_time_decay(layer.layer, state)] = decay
        return record.step_text(snapshot.step, observed) if observed else None

    def _write_findings(self) -> None:
        if self.findings is not None and self.failure is None:
            with self._writing(FINDINGS_JSON, self.findings.path.parent):
                self.findings.write()

    def write_scalars(self, step: int, scalars: dict[str, float]) -> None:
        if self.failure is None:
            with self._writing(EVENT_FILE, self.writer.logdir):
                self.writer.write_scalars(step, scalars)
        if self.findings is not None:
            from lstm_experiments.findings import rules

            name = "val_loss" if tags.metric("val_loss") in scalars else "loss"
            value = scalars.get(tags.metric(name))
            metrics = {tags.metric_name(tag): float(v) for tag, v in scalars.items()
                       if tag == tags.metric(tags.metric_name(tag))}
            found = rules.non_finite_metrics(metrics)
            if value is not None:
                self._losses.append((step, float(value)))
                learning = rules.not_learning(self._losses, name, self.spec.findings)
                found += [learning] if learning is not None else []
            if found or value is not None:
                self.findings.observe(step, found, kinds=[rules.NOT_LEARNING])
                self._write_findings()

    def write_hparams(self, hparams: dict, metric_tags, trial_id: str) -> None:
        self._metric_tags = tuple(metric_tags)
        if self.failure is None:
            with self._writing(EVENT_FILE, self.writer.logdir):
                self.writer.write_hparams(hparams, metric_tags, trial_id)

    def write_text(self, step: int, tag: str, text: str) -> None:
        if self.failure is None:
            with self._writing(EVENT_FILE, self.writer.logdir):
                self.writer.write_text(step, tag, text)
                self.writer.flush()

    def flush(self) -> None:
        if self.failure is None:
            with self._writing(EVENT_FILE, self.writer.logdir):
                self.writer.flush()

    def training_over(self) -> None:
        """Nothing: in the training process the BLAS threads are TensorFlow's set-up's to choose."""

    def sync(self) -> bool:
        """Every call is done when it returns (the ``DrawingProcess`` interface)."""
        return True

    def close(self) -> None:
        self._write_findings()
        if self.writer is not None and self.failure is None:
            self.writer.close()
