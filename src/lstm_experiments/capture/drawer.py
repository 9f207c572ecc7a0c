"""The drawing side of a run: snapshots in, event records out.

A ``Drawer`` owns the run's event file, its visualizers, painter and PNG
exporter, and W_0 (the step-0 matrices every change is measured from). It is
started with a ``DrawingSpec`` of plain values, so it can live on the training
process' logging thread or in a drawing process of its own
(``drawing_process``); either way it sees the same calls in the same order
(``interfaces.DrawerInterface``).
It never imports TensorFlow.
"""

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from types import SimpleNamespace

from lstm_experiments.viz.painter import Painter
from lstm_experiments.tensorboard.png import encode_png
from lstm_experiments.tensorboard.summaries import Summaries
from lstm_experiments.tensorboard.writer import SummaryWriter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DrawingSpec:
    """What a drawer is made of: plain values that pickle."""

    logdir: str
    visualizers: tuple[str, ...]
    image: dict
    png_dir: str | None = None
    # The input features' names (CSV columns...), for the lstm_gates plugin; None: unknown.
    feature_names: tuple[str, ...] | None = None
    # The steps logged are 0, log_every, 2 log_every, ... and the last epoch (the plugin's metadata says so).
    log_every: int = 1


class Drawer:
    """The ``DrawerInterface`` in this process: made, then ``start(spec)`` (or ``Drawer(spec)``)."""

    def __init__(self, spec: DrawingSpec | None = None):
        self.writer = None
        self._initial: dict[str, dict] | None = None
        if spec is not None:
            self.start(spec)

    def start(self, spec: DrawingSpec) -> None:
        """Open the event file and set up the visualizers, painter and PNG exporter of ``spec``."""
        from lstm_experiments.board.summary import GateBoard
        from lstm_experiments.tensorboard.png import PngExporter
        from lstm_experiments.viz import VISUALIZERS

        # A namespace, not an OmegaConf node: the drawing process does not import omegaconf.
        self.painter = Painter(SimpleNamespace(**spec.image))
        self.visualizers = [VISUALIZERS[name]() for name in spec.visualizers]
        # One lstm_gates board for the visualizers that write the plugin's tensors (a ``board`` attribute).
        board = GateBoard.from_image(self.painter.image_cfg, spec.feature_names, spec.log_every)
        for visualizer in self.visualizers:
            if hasattr(visualizer, "board"):
                visualizer.board = board
        self.png_exporter = PngExporter(Path(spec.png_dir)) if spec.png_dir else None
        self.writer = SummaryWriter(Path(spec.logdir))

    def prime(self, layers) -> None:
        """Take W_0 and the fixed colour scales from the step-0 layers without logging them (resume)."""
        self._initial = {layer.layer: layer.matrices for layer in layers}
        self.painter.fix_scales(layers)

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
        return summaries

    def draw(self, snapshot) -> None:
        """Every visualizer's summaries of one snapshot, written and flushed (and exported as PNGs)."""
        if self._initial is None:  # the first snapshot is W_0
            self._initial = {layer.layer: layer.matrices for layer in snapshot.layers}
        summaries = self._summarise(replace(snapshot, initial=self._initial))
        # With PNG files, each image is encoded once, for both the event file and its file.
        pngs = None
        if self.png_exporter is not None:
            pngs = {tag: encode_png(pixels) for tag, pixels in summaries.images.items()}
        self.writer.write(snapshot.step, summaries, pngs)
        self.writer.flush()
        if self.png_exporter is not None:
            self.png_exporter.write(snapshot.step, pngs)

    def write_scalars(self, step: int, scalars: dict[str, float]) -> None:
        self.writer.write_scalars(step, scalars)

    def write_hparams(self, hparams: dict, metric_tags, trial_id: str) -> None:
        self.writer.write_hparams(hparams, metric_tags, trial_id)

    def flush(self) -> None:
        self.writer.flush()

    def sync(self) -> bool:
        """Every call is done when it returns (the ``DrawingProcess`` interface)."""
        return True

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
