"""The ``/runs`` index: each run's kept steps, layers and matrices, shaped from TensorBoard's listing.

Pure data shaping, no reads: ``run_parts`` sorts one run's listed tags by the
kind their (typed) content names; ``run_entry`` makes the route's entry of one
run from its parts, the kept steps of its smallest matrix, one datum of each
activations tag, its positions (``lstm_gates/position``: by batch or by epoch,
and the failing step of a loss gone NaN or inf), whether it logged findings
(``lstm_gates/findings``, from the listing alone), per layer whether it logged
the gradient through time and the per-unit figures (``/through_time``,
``/units``: their states, gates and orders, from the listing alone) and its
title. Only runs with weights are listed.
"""

import math
from dataclasses import dataclass, field

import numpy as np

from lstm_experiments.board import metadata
from lstm_experiments.board.reader import Positions, content_of
from lstm_experiments.board.run_titles import display_name
from lstm_experiments.board.sampling import logged_step_count
from lstm_experiments.tensorboard import tags as run_tags

MATRIX_ORDER = {name: index for index, name in enumerate(run_tags.MATRICES)}


@dataclass
class RunParts:
    """One run's tags by kind, from the listing alone."""

    weights: dict = field(default_factory=dict)  # tag -> (WeightsContent, series)
    activations: dict = field(default_factory=dict)  # layer -> (tag, ActivationsContent)
    probe: metadata.ProbeContent | None = None
    inputs: set = field(default_factory=set)  # layers with an ``/input`` tag
    position: tuple | None = None  # (PositionContent, series) of ``lstm_gates/position``; None: an older run
    findings: bool = False  # the run logged ``lstm_gates/findings`` (/findings answers for it)
    through_time: dict = field(default_factory=dict)  # layer -> ThroughTimeContent (/through_time answers)
    units: dict = field(default_factory=dict)  # layer -> UnitsContent (/units answers)

    @property
    def smallest(self) -> str | None:
        """The weights tag of fewest logged values. TensorBoard keeps the same steps of every tag
        that logged the same steps, so the kept steps are read from this one, the cheapest."""
        if not self.weights:
            return None
        return min(self.weights, key=lambda tag: math.prod(self.weights[tag][0].logged_shape()))


def run_parts(series_by_tag: dict) -> RunParts:
    """One run's tags by the kind their content names; tags that are not this plugin's are left out."""
    parts = RunParts()
    for tag, series in series_by_tag.items():
        content = content_of(series)
        if content is None:
            continue
        if content.kind == metadata.KIND_WEIGHTS:
            parts.weights[tag] = (content, series)
        elif content.kind == metadata.KIND_ACTIVATIONS:
            parts.activations[content.layer] = (tag, content)
        elif content.kind == metadata.KIND_PROBE:
            parts.probe = content
        elif content.kind == metadata.KIND_INPUT:
            parts.inputs.add(content.layer)
        elif content.kind == metadata.KIND_POSITION and tag == metadata.position_tag():
            parts.position = (content, series)
        elif content.kind == metadata.KIND_FINDINGS and tag == metadata.findings_tag():
            parts.findings = True
        elif content.kind == metadata.KIND_THROUGH_TIME and tag == metadata.through_time_tag(content.layer):
            parts.through_time[content.layer] = content
        elif content.kind == metadata.KIND_UNITS and tag == metadata.units_tag(content.layer):
            parts.units[content.layer] = content
    return parts


def _matrix_entry(content: metadata.WeightsContent) -> dict:
    return {
        "matrix": content.matrix,
        "shape": list(content.shape),
        "logged_shape": content.logged_shape(),
        "reduced": bool(content.reduced),
        "block": int(content.block or 1),
        "scale": content.scale,
        "rows": content.rows,
    }


def _layers(parts: RunParts, activation_shapes: dict, saturated: set) -> list[dict]:
    layers = {}
    for content, _ in parts.weights.values():
        entry = layers.setdefault(content.layer, {
            "layer": content.layer, "cell": content.cell, "gates": list(content.gates or []),
            "units": content.units, "matrices": [], "activations": None,
            "saturation": content.layer in saturated,
            # /through_time?run&layer&step answers: the states it measured, else None
            "through_time": None,
            # /units?run&layer&step answers: the gates of its per-unit saturation and its orders, else None
            "unit_figures": None,
        })
        entry["matrices"].append(_matrix_entry(content))
    for entry in layers.values():
        if entry["layer"] in parts.through_time:
            entry["through_time"] = list(parts.through_time[entry["layer"]].states or [])
        if entry["layer"] in parts.units:
            units = parts.units[entry["layer"]]
            entry["unit_figures"] = {"gates": list(units.gates or []), "orders": list(units.orders or [])}
        entry["matrices"].sort(key=lambda m: MATRIX_ORDER.get(m["matrix"], len(MATRIX_ORDER)))
        if entry["layer"] in parts.activations:
            content = parts.activations[entry["layer"]][1]
            shape = activation_shapes.get(entry["layer"]) or [None] * 4
            entry["activations"] = {
                "panels": list(content.panels or []),
                "candidate": content.candidate,
                "sequences": shape[1],
                "time": shape[2],
                # /probe?layer= serves what this layer read, step by step
                "input": entry["layer"] in parts.inputs,
            }
    return list(layers.values())


def run_entry(run: str, parts: RunParts, step_data: dict, sampled: dict, saturated: set,
              title: tuple[str, int], kept_per_tag: int | None, positions: Positions | None = None) -> dict:
    """The runs route's entry of one run.

    ``step_data`` holds the kept data of its smallest weights tag, ``sampled`` one datum of each
    activations tag (for their shapes: sequences, time), ``saturated`` the layers with saturation
    scalars, ``title`` its (title, order), ``kept_per_tag`` TensorBoard's reservoir size and
    ``positions`` the run's positions (None: an older run, which logged none).
    """
    steps = sorted(datum.step for datum in step_data.get(parts.smallest, []))
    max_step = max(int(series.max_step) for _, series in parts.weights.values())
    by_batch = positions is not None and positions.log_every_batches is not None
    # By batch, steps are iterations logged every log_every_batches (the weights' log_every counts epochs).
    log_every = (positions.log_every_batches if by_batch
                 else max(int(content.log_every or 1) for content, _ in parts.weights.values()))
    activation_shapes = {}
    for layer, (tag, _) in parts.activations.items():
        data = sampled.get(tag) or []
        if data:
            activation_shapes[layer] = list(np.shape(data[-1].numpy))
    return {
        "run": run,
        "name": display_name(run),
        "title": title[0],
        "order": title[1],
        "steps": steps,
        "max_step": max_step,
        # None where TensorBoard may have dropped steps: it does not say how many were logged.
        "logged_steps": logged_step_count(steps, max_step, log_every, kept_per_tag),
        "kept_steps": len(steps),
        "features": list(parts.probe.features or []) if parts.probe is not None else None,
        # how the probe holds its input (features, ids, one_hot; None: no probe): GATES' text view needs ids
        "encoding": parts.probe.encoding if parts.probe is not None else None,
        "layers": _layers(parts, activation_shapes, saturated),
        # /positions?run answers for this run: each step's epoch and batch
        "positions": positions is not None,
        "by_batch": by_batch,
        "log_every_batches": positions.log_every_batches if by_batch else None,
        # {step, epoch, batch, last_finite}: the weights after a batch whose loss became NaN or inf
        "failure": positions.failure() if positions is not None else None,
        # /findings?run answers for this run: it logged lstm_gates/findings
        "findings": parts.findings,
    }
