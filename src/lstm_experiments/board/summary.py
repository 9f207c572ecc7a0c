"""The ``lstm_gates`` plugin's tensors of one snapshot: the weights, W_0, the probe's activations and input.

The writing side of the plugin (``metadata`` names the tags and their content).
It runs where the visualizers run, usually the drawing process: numpy and
TensorBoard's protos only, never TensorFlow, Keras, Hydra or OmegaConf.

- ``weights``: every layer's fused ``kernel``, ``recurrent_kernel``, ``bias``
  and ``recurrent_bias`` (a bias is one row), float16 of the host copy; at
  step 0 also the ``/initial`` tags. A matrix whose longest side exceeds
  ``max_side_px`` is reduced by ``viz.resize.reduce_blocks`` with the images'
  ``reduce`` (``reduced``, ``block`` and the full ``shape`` say so). The scale
  is the largest |W_0| of the whole matrix, whatever ``viz.image.scale`` says.
- ``activations``: per layer, float16 (panels, sequences, time, units) of the
  first ``PROBE_SEQUENCES`` probe sequences: each gate in Keras' order, then
  the cell state (LSTM) and the hidden state, in the input's time order (a
  backward half's cell states are flipped back as its gates already are).
  Wider than ``max_side_px`` units: the units axis alone is reduced block-wise.
- ``inputs``: per layer, what it read on the same sequences, float16
  (sequences, time, features), features reduced like units when wider.
- ``probe``: step 0, the same sequences' input, float16 (sequences, time, features),
  for a model with one input array; a probe of tokens as int32 ids (sequences, time)
  with the text of each id (``tokens``, ``board.tokens``).

Where a layer's mask leaves a step out, its activations and input are NaN there.

Bytes per logged step per layer stay bounded whatever the units: a reduced
matrix is at most ``max_side_px`` on its longest side, so the recurrent
kernel (units x gates*units) stays under (max_side_px / gates) x max_side_px
values, 2 bytes each (128 KiB for an LSTM at the default 512).
"""

import json
import logging
import math
from dataclasses import dataclass, field

import numpy as np

from lstm_experiments.board import metadata
from lstm_experiments.board.tokens import encoding, token_ids
from lstm_experiments.gates.layout import CANDIDATE_GATE, GATE_NAMES
from lstm_experiments.tensorboard.summaries import Tensor
from lstm_experiments.config.image_options import ImageOptions
from lstm_experiments.matrices import as_matrix, block_size, reduce_blocks, reduce_last_axis, symmetric_scale

log = logging.getLogger(__name__)

DTYPE = np.float16
# The matrices a layer may hold, in the order they are logged.
MATRICES = ("kernel", "recurrent_kernel", "bias", "recurrent_bias")
FIRST_KERNEL = "kernel"


@dataclass
class GateBoard:
    """Builds one run's ``lstm_gates`` tensors (the GATES tab's data); one per drawer.

    The writer of its own (``viz.board``, ``GateLogger(board=...)``), beside the
    visualizers: ``summarise`` gives every tensor of one snapshot. ``feature_names``
    label the first recurrent layer's kernel rows and the probe's features (None:
    unknown); ``log_every`` is the run's ``viz.log_every``. ``tokens``: the text of each token id of a
    probe of tokens (``GateLogger(vocabulary=...)``, checked there); None: no vocabulary.
    """

    max_side_px: int = ImageOptions.max_side_px
    reduce: str = str(ImageOptions.reduce)
    feature_names: tuple[str, ...] | None = None
    log_every: int = 1
    log_every_batches: int | None = None
    # The probe's activations, inputs and sequences: where a visualizer the run selected needs the probe (the
    # findings read the probe too, but do not add these tensors to a run that logs no activations).
    with_probe: bool = True
    tokens: tuple[str, ...] | None = None
    # (layer, matrix) -> the fixed scale, from W_0 (taken once: W_0 never changes in a run).
    _scales: dict = field(default_factory=dict, repr=False)
    _warned: bool = field(default=False, repr=False)

    @classmethod
    def from_options(cls, options: ImageOptions, feature_names=None, log_every: int = 1,
                     log_every_batches: int | None = None, with_probe: bool = True, tokens=None) -> "GateBoard":
        """A board with the image options' ``max_side_px`` and ``reduce`` (``viz.image``)."""
        return cls(max_side_px=int(options.max_side_px), reduce=str(options.reduce),
                   feature_names=tuple(feature_names) if feature_names is not None else None,
                   log_every=int(log_every), log_every_batches=log_every_batches, with_probe=with_probe,
                   tokens=tuple(tokens) if tokens is not None else None)

    def summarise(self, snapshot) -> dict[str, Tensor]:
        """Every ``lstm_gates`` tensor of one snapshot: its position, the weights, and with a probe the
        activations, each layer's input and (step 0) the probe."""
        if not self.with_probe:
            return {**self.position(snapshot), **self.weights(snapshot)}
        return {**self.position(snapshot), **self.weights(snapshot), **self.activations(snapshot),
                **self.probe(snapshot)}

    def position(self, snapshot) -> dict[str, Tensor]:
        """``lstm_gates/position``: [epoch, batch, event, last finite step] of the step."""
        content = metadata.PositionContent(kind=metadata.KIND_POSITION, log_every_batches=self.log_every_batches)
        values = np.array([snapshot.epoch, snapshot.batch, metadata.EVENTS.index(snapshot.event),
                           snapshot.last_finite_step], np.int64)
        return {metadata.position_tag(): Tensor(values, metadata.summary_metadata(content))}

    def layer_figures(self, figures) -> dict:
        """``lstm_gates/<layer>/through_time`` and ``/units`` of one step's ``findings.figures.LayerFigures``
        (each where it was measured): the GATES tab's gradient-through-time chart, saturation scatter and
        units orders."""
        out = {}
        if figures.through_time:
            states = [state for state in ("h", "c") if state in figures.through_time]
            content = metadata.ThroughTimeContent(kind=metadata.KIND_THROUGH_TIME, layer=figures.layer, states=states)
            values = np.stack([np.asarray(figures.through_time[state], np.float64) for state in states])
            out[metadata.through_time_tag(figures.layer)] = Tensor(values, metadata.summary_metadata(content))
        if figures.unit_saturation and figures.orders:
            gates = list(figures.unit_saturation)
            rows, values = [], []
            for gate in gates:
                for side, part in zip(metadata.UNIT_SIDES, figures.unit_saturation[gate]):
                    rows.append(metadata.unit_saturation_row(gate, side))
                    values.append(part)
            rows.append(metadata.ACTIVITY)
            values.append(figures.activity_std)
            for by, order in figures.orders.items():
                rows.append(metadata.unit_order_row(by))
                values.append(order)
            content = metadata.UnitsContent(kind=metadata.KIND_UNITS, layer=figures.layer, cell=figures.cell,
                                            gates=gates, orders=list(figures.orders), rows=rows, units=figures.units)
            out[metadata.units_tag(figures.layer)] = Tensor(np.asarray(values, np.float32),
                                                            metadata.summary_metadata(content))
        return out

    def findings(self, document: dict) -> dict:
        """``lstm_gates/findings``: the run's findings so far (``findings.json``'s document) as one JSON string."""
        content = metadata.FindingsContent(kind=metadata.KIND_FINDINGS)
        text = json.dumps(document, allow_nan=False, default=float)
        return {metadata.findings_tag(): Tensor(np.array([text.encode()]),
                                                metadata.summary_metadata(content))}

    # ------------------------------------------------------------------ weights

    def _scale(self, layer: str, name: str, initial: np.ndarray) -> float:
        key = (layer, name)
        if key not in self._scales:
            self._scales[key] = float(symmetric_scale(np.asarray(initial)))
        return self._scales[key]

    def _rows(self, layer, name: str, rows: int) -> list[str] | None:
        """Labels of a kernel's rows: the input features, for a first recurrent layer's kernel."""
        if name != FIRST_KERNEL or layer.depth != 0 or self.feature_names is None:
            return None
        if len(self.feature_names) != rows:
            if not self._warned:
                log.warning("feature_names has %d names but layer %s reads %d features; its rows are unlabelled",
                            len(self.feature_names), layer.layer, rows)
                self._warned = True
            return None
        return list(self.feature_names)

    def _matrix_values(self, matrix: np.ndarray) -> tuple[np.ndarray, int]:
        """(float16 values, block) of a matrix as logged: reduced when larger than ``max_side_px``."""
        matrix = as_matrix(matrix)
        block = block_size(matrix.shape, self.max_side_px)
        if block > 1:
            matrix = reduce_blocks(matrix, self.max_side_px, self.reduce)
        # An exploding run's finite weights beyond float16's range stay finite, at its largest value
        # (drawn saturated); only NaN and inf are drawn grey.
        largest = float(np.finfo(DTYPE).max)
        finite = np.isfinite(matrix)
        return np.where(finite, np.clip(matrix, -largest, largest), matrix).astype(DTYPE), block

    def weights(self, snapshot) -> dict[str, Tensor]:
        """``lstm_gates/<layer>/<matrix>`` for every layer and matrix, and at step 0 their ``/initial``."""
        out: dict[str, Tensor] = {}
        for layer in snapshot.layers:
            initial = snapshot.initial.get(layer.layer, {})
            for name in MATRICES:
                if name not in layer.matrices:
                    continue
                matrix = layer.matrices[name]
                first = initial.get(name, matrix)
                shape = as_matrix(matrix).shape
                values, block = self._matrix_values(matrix)
                content = metadata.WeightsContent(
                    kind=metadata.KIND_WEIGHTS, layer=layer.layer, matrix=name, cell=layer.cell,
                    gates=list(GATE_NAMES[layer.cell]), units=int(layer.units), shape=[int(n) for n in shape],
                    reduced=block > 1, block=block, reduce=self.reduce,
                    scale=self._scale(layer.layer, name, first), rows=self._rows(layer, name, shape[0]),
                    log_every=self.log_every,
                )
                out[metadata.weights_tag(layer.layer, name)] = Tensor(values, metadata.summary_metadata(content))
                if snapshot.step == 0:
                    # At step 0 the matrix is W_0 itself (the drawer takes W_0 from this snapshot).
                    initial_values = values if first is matrix else self._matrix_values(first)[0]
                    content.kind = metadata.KIND_INITIAL
                    out[metadata.initial_tag(layer.layer, name)] = Tensor(
                        initial_values, metadata.summary_metadata(content))
        return out

    # ------------------------------------------------------------------ the probe's activations

    def activations(self, snapshot) -> dict[str, Tensor]:
        """``lstm_gates/<layer>/activations`` and ``.../input`` for every layer replayed; empty without a probe."""
        if snapshot.probe_x is None:
            return {}
        model_input = None
        if not isinstance(snapshot.probe_x, list | tuple | dict):
            model_input = np.asarray(snapshot.probe_x)[: metadata.PROBE_SEQUENCES]
        out: dict[str, Tensor] = {}
        for activity in snapshot.probe_activity:
            out.update(self._input(activity, model_input))
            gates = GATE_NAMES[activity.cell]
            panels = [activity.gates[gate] for gate in gates]
            names = list(gates)
            if activity.cell_states is not None:
                panels.append(activity.cell_states)
                names.append(metadata.CELL_STATE)
            panels.append(activity.hidden)
            names.append(metadata.HIDDEN)
            sequences, steps, units = panels[-1][: metadata.PROBE_SEQUENCES].shape
            block = block_size((units,), self.max_side_px)
            values = np.empty((len(panels), sequences, steps, math.ceil(units / block)), DTYPE)
            for index, panel in enumerate(panels):
                values[index] = reduce_last_axis(panel[:sequences], block, self.reduce)
            if activity.mask is not None:
                values[:, ~activity.mask[:sequences]] = np.nan
            content = metadata.ActivationsContent(
                kind=metadata.KIND_ACTIVATIONS, layer=activity.layer, cell=activity.cell, panels=names,
                units=int(units), candidate=CANDIDATE_GATE[activity.cell],
                reduced=block > 1, block=block, reduce=self.reduce,
            )
            out[metadata.activations_tag(activity.layer)] = Tensor(values, metadata.summary_metadata(content))
        return out

    def _input(self, activity, model_input) -> dict[str, Tensor]:
        """``lstm_gates/<layer>/input``: what one layer read on the first probe sequences; where that
        is the model's own input (``model_input``), its features take ``feature_names``."""
        inputs = activity.inputs[: metadata.PROBE_SEQUENCES]
        features = inputs.shape[-1]
        block = block_size((features,), self.max_side_px)
        values = np.asarray(reduce_last_axis(inputs, block, self.reduce), dtype=DTYPE)
        if activity.mask is not None:
            values[~activity.mask[: metadata.PROBE_SEQUENCES]] = np.nan
        # Not by position: a first layer may read an Embedding's vectors, as wide as the names are many.
        reads_model_input = model_input is not None and model_input.shape == inputs.shape and np.array_equal(
            model_input.astype(inputs.dtype), inputs)
        named = reads_model_input and self.feature_names is not None and len(self.feature_names) == features
        names = list(self.feature_names) if named and block == 1 else []
        content = metadata.InputContent(kind=metadata.KIND_INPUT, layer=activity.layer, features=int(features),
                                        names=names, reduced=block > 1, block=block, reduce=self.reduce)
        return {metadata.input_tag(activity.layer): Tensor(values, metadata.summary_metadata(content))}

    def probe(self, snapshot) -> dict[str, Tensor]:
        """``lstm_gates/probe``: the probe sequences' input (step 0, one input array only; empty otherwise):
        float16 features, or a probe of tokens' int32 ids with the text of each id."""
        if snapshot.probe_x is None or snapshot.step != 0 or isinstance(snapshot.probe_x, list | tuple | dict):
            return {}
        first = np.asarray(snapshot.probe_x)[: metadata.PROBE_SEQUENCES]
        how = encoding(first, with_vocabulary=self.tokens is not None)
        if how != metadata.PROBE_FEATURES:
            content = metadata.ProbeContent(kind=metadata.KIND_PROBE, encoding=how,
                                            tokens=list(self.tokens) if self.tokens is not None else None)
            return {metadata.probe_tag(): Tensor(token_ids(first, how), metadata.summary_metadata(content))}
        values = np.asarray(first, dtype=DTYPE)
        features = values.shape[-1] if values.ndim == 3 else 0
        names = list(self.feature_names) if self.feature_names is not None and len(self.feature_names) == features else []
        content = metadata.ProbeContent(kind=metadata.KIND_PROBE, features=names)
        return {metadata.probe_tag(): Tensor(values, metadata.summary_metadata(content))}
