"""What the findings' rules read, measured on one snapshot in the drawing process (numpy, no TensorFlow).

Per recurrent layer, at a logged step:

- ``through_time``: ||dL/dh_t|| (and an LSTM's ||dL/dc_t||) at every time step of
  the probe, and ``decay``, the first step's over the last's: on the runner's
  plain stack from the snapshot with the backward pass the ``gradients``
  visualizer uses (``gates.gradients.backpropagate``), on any other model from
  the loss gradient the probe pass took at each layer's output
  (``gates.gradients.probed_through_time``).
- ``saturation``: per gate, the fraction of the probe's values below 0.1 or above
  0.9 (the candidate on (v + 1)/2), low and high together, and per unit
  (``gates.units.unit_saturation``).
- ``dead``: the units whose |h| stays below the threshold at every probe position;
  ``redundant``: the pairs of units whose hidden states correlate above it.
- ``input_max_abs``: the largest |value| the layer read on the probe.
- ``non_finite``: how many of the layer's weights are NaN or inf.

Every figure that needs the probe is absent without one; ``unmeasured`` names
what could not be measured and why, so that "nothing found" and "not checked"
differ.
"""

from dataclasses import dataclass, field

import numpy as np

from lstm_experiments.findings.thresholds import Thresholds
from lstm_experiments.gates import units as unit_figures
from lstm_experiments.gates.gradients import gradient_decay


@dataclass
class LayerFigures:
    layer: str
    cell: str
    units: int
    non_finite: int = 0
    # {"h": (time,), "c": (time,)}; None: not measured (``unmeasured`` says why)
    through_time: dict | None = None
    decay: dict = field(default_factory=dict)  # {"h": float, "c": float}
    saturation: dict = field(default_factory=dict)  # gate -> fraction low + high over the probe
    unit_saturation: dict = field(default_factory=dict)  # gate -> (left (units,), right (units,))
    dead: np.ndarray | None = None
    redundant: list = field(default_factory=list)  # (i, j, r)
    input_max_abs: float | None = None
    activity_std: np.ndarray | None = None  # (units,): the std of each unit's h over the probe
    orders: dict = field(default_factory=dict)  # gates.units.UNIT_ORDERS -> a permutation (units,)


@dataclass
class StepFigures:
    step: int
    layers: dict  # layer -> LayerFigures
    unmeasured: dict = field(default_factory=dict)  # figure -> why
    # The snapshot's event (``board.metadata.EVENTS``): "non_finite" at the weights after a batch whose
    # loss became NaN or inf; its epoch and batch.
    event: str = ""
    epoch: int = 0
    batch: int = 0


def _non_finite(weights) -> int:
    return int(sum(np.size(m) - np.count_nonzero(np.isfinite(m)) for m in weights.matrices.values()))


def _decay(norms: np.ndarray, backward: bool) -> float:
    return gradient_decay(norms[::-1] if backward else norms)


def measure(snapshot, thresholds: Thresholds) -> StepFigures:
    """The figures of ``snapshot`` (``capture.snapshot.Snapshot``) for the rules."""
    figures = StepFigures(step=snapshot.step, layers={}, event=snapshot.event, epoch=snapshot.epoch,
                          batch=snapshot.batch)
    for weights in snapshot.layers:
        figures.layers[weights.layer] = LayerFigures(weights.layer, weights.cell, int(weights.units),
                                                     non_finite=_non_finite(weights))
    if not any(f.non_finite == 0 for f in figures.layers.values()):
        return figures  # the replay of non-finite weights measures nothing
    activity = snapshot.probe_activity if snapshot.probe_x is not None or snapshot.probes is not None else []
    if not activity:
        figures.unmeasured["probe"] = "no probe: saturation, dead and redundant units and the input scale need one"
    for layer in activity:
        found = figures.layers.get(layer.layer)
        if found is None or found.non_finite:
            continue
        found.unit_saturation = unit_figures.unit_saturation(layer)
        found.saturation = {gate: float(np.mean(left + right)) for gate, (left, right) in found.unit_saturation.items()}
        found.dead = unit_figures.dead_units(layer, thresholds.dead_activity)
        correlation = unit_figures.hidden_correlation(layer)  # once: the redundant units and an order read it
        found.redundant = unit_figures.redundant_units(layer, thresholds.redundant_r, correlation=correlation)
        found.activity_std = unit_figures.counted_hidden(layer).std(axis=0)
        found.orders = {by: unit_figures.unit_order(layer, by, correlation=correlation)
                        for by in unit_figures.UNIT_ORDERS}
        counted = layer.inputs if layer.mask is None else layer.inputs[np.asarray(layer.mask, bool)]
        if counted is not None and np.size(counted):
            found.input_max_abs = float(np.nanmax(np.abs(counted)))
    _through_time(snapshot, activity, figures)
    return figures


def _through_time(snapshot, activity, figures: StepFigures) -> None:
    if not activity or any(f.non_finite for f in figures.layers.values()):
        return
    if snapshot.probe_y is None or (snapshot.probes is None and snapshot.head is None):
        figures.unmeasured["through_time"] = "the probe has no targets: the gradient through time needs probe=(x, y)"
        return
    if snapshot.probes is not None and snapshot.through_time_failure:
        figures.unmeasured["through_time"] = snapshot.through_time_failure
        return
    try:
        with np.errstate(over="ignore", invalid="ignore"):  # huge weights: an inf or NaN norm is measured as such
            through_time, missing = snapshot.probe_through_time()
    except ValueError as error:  # an activation or loss the numpy backward pass does not know
        figures.unmeasured["through_time"] = str(error)
        return
    if missing:
        figures.unmeasured["through_time"] = "; ".join(f"layer {layer!r}: {why}" for layer, why in missing.items())
    directions = {w.layer: w.direction == "backward" for w in snapshot.layers}
    for layer, norms in through_time.items():
        found = figures.layers[layer]
        found.through_time = norms
        found.decay = {state: _decay(values, directions[layer]) for state, values in norms.items()}
