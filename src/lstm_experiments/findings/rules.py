"""The rules: a step's figures (``figures.StepFigures``) and the epoch metrics in, findings out.

A finding is ``kind`` (``KINDS``), ``severity`` (``warning`` or ``info``), the
``layer``, ``gate`` and ``units`` it applies to (None where it names none), the
``figure`` that triggered it, its ``value`` and the ``threshold``, and one
sentence a person can act on. ``record`` adds the steps it was first and last
seen at.
"""

import math
from dataclasses import dataclass

from lstm_experiments.board.metadata import NON_FINITE as NON_FINITE_EVENT  # the weights after that batch
from lstm_experiments.findings.figures import StepFigures
from lstm_experiments.findings.thresholds import Thresholds

WARNING, INFO = "warning", "info"
VANISHING, EXPLODING = "vanishing_gradient", "exploding_gradient"
SATURATED, DEAD, REDUNDANT = "saturated_gates", "dead_units", "redundant_units"
NON_FINITE, INPUT_SCALE, NOT_LEARNING = "non_finite", "input_scale", "not_learning"
KINDS = (VANISHING, EXPLODING, SATURATED, DEAD, REDUNDANT, NON_FINITE, INPUT_SCALE, NOT_LEARNING)
# What each kind needs measured: a key of StepFigures.unmeasured, or None (always measured).
NEEDS = {VANISHING: "through_time", EXPLODING: "through_time", SATURATED: "probe", DEAD: "probe",
         REDUNDANT: "probe", INPUT_SCALE: "probe", NON_FINITE: None, NOT_LEARNING: None}


@dataclass(frozen=True)
class Observation:
    """A finding as seen at one step."""

    kind: str
    severity: str
    layer: str | None
    gate: str | None
    units: tuple[int, ...] | None
    figure: str
    value: float
    threshold: float
    sentence: str

    @property
    def key(self) -> tuple:
        """What makes it the same finding from one step to the next: its kind, layer and gate. Saturated
        gates are one finding per layer whichever gates it names at a step (a gate joining the saturated
        ones on the way does not start another finding); a finding of the whole run (no layer) is told
        apart by its figure (a batch's loss, an epoch's val_loss)."""
        if self.layer is None:
            return self.kind, None, self.figure
        return self.kind, self.layer, None if self.kind == SATURATED else self.gate


def _g(value: float) -> str:
    return f"{value:.2g}" if value and (abs(value) < 1e-2 or abs(value) >= 1e4) else f"{value:.3g}"


def observe(figures: StepFigures, thresholds: Thresholds) -> list[Observation]:
    """Every finding the figures of one step show."""
    found = []
    if figures.event == NON_FINITE_EVENT and not any(layer.non_finite for layer in figures.layers.values()):
        found.append(Observation(
            NON_FINITE, WARNING, None, None, None, "loss", math.nan, 0.0,
            f"The loss became NaN or inf in epoch {figures.epoch}, batch {figures.batch} (its weights are still "
            "finite): lower the learning rate or clip the gradients (optimizer clipnorm)."))
    for name, layer in figures.layers.items():
        if layer.non_finite:
            found.append(Observation(
                NON_FINITE, WARNING, name, None, None, "non-finite weights", float(layer.non_finite), 0.0,
                f"{layer.non_finite} weights of {name} are NaN or inf: lower the learning rate or clip the "
                "gradients (optimizer clipnorm); the last finite weights are at the step before."))
            continue
        # An LSTM's cell state is its gradient's highway (the constant error carousel): its decay is the one
        # judged (h decayed about ten times more on the same runs: docs/diagnosing.md); other cells have h only.
        for state, decay in [(s, layer.decay[s]) for s in ("c", "h") if s in layer.decay][:1]:
            if not math.isfinite(decay):
                continue
            t = len(layer.through_time[state]) - 1
            if decay < thresholds.vanishing_decay:
                found.append(Observation(
                    VANISHING, WARNING, name, None, None, f"dL/d{state}_0 / dL/d{state}_{t}", decay,
                    thresholds.vanishing_decay,
                    f"The gradient reaching t=0 of {name} is {_g(decay)} of t={t}'s ({state}): early inputs cannot "
                    "be learnt; try the forget-gate bias at 1 (unit_forget_bias) or shorter sequences."))
            elif decay > thresholds.exploding_decay:
                found.append(Observation(
                    EXPLODING, WARNING, name, None, None, f"dL/d{state}_0 / dL/d{state}_{t}", decay,
                    thresholds.exploding_decay,
                    f"The gradient at t=0 of {name} is {_g(decay)} times t={t}'s ({state}): clip the gradients "
                    "(optimizer clipnorm) or lower the learning rate."))
        saturated = {gate: value for gate, value in layer.saturation.items() if value >= thresholds.saturated_fraction}
        if layer.saturation and len(saturated) >= min(thresholds.saturated_gates, len(layer.saturation)):
            worst = max(saturated, key=saturated.get)
            low, high = f"{min(saturated.values()):.0%}", f"{max(saturated.values()):.0%}"
            found.append(Observation(
                SATURATED, WARNING, name, ",".join(saturated), None, "fraction of gate values < 0.1 or > 0.9",
                saturated[worst], thresholds.saturated_fraction,
                f"{len(saturated)} gates of {name} ({', '.join(saturated)}) are saturated on "
                f"{low if low == high else f'{low}-{high}'} of the probe: their gradients vanish; "
                "normalise the inputs or lower the learning rate."))
        if layer.dead is not None and len(layer.dead):
            fraction = len(layer.dead) / layer.units
            severity = WARNING if fraction >= thresholds.dead_fraction else INFO
            found.append(Observation(
                DEAD, severity, name, None, tuple(int(u) for u in layer.dead), f"units with |h| < {thresholds.dead_activity}",
                fraction, thresholds.dead_fraction,
                f"{len(layer.dead)} of {layer.units} units of {name} never move (|h| < {thresholds.dead_activity} "
                "on the whole probe): lower the learning rate."))
        if layer.redundant:
            partnered = sorted({u for i, j, _ in layer.redundant for u in (i, j)})
            fraction = len(partnered) / layer.units
            severity = (WARNING if fraction >= thresholds.redundant_fraction
                        and layer.units >= thresholds.redundant_min_units else INFO)
            found.append(Observation(
                REDUNDANT, severity, name, None, tuple(partnered), f"units correlated at |r| > {thresholds.redundant_r}",
                fraction, thresholds.redundant_fraction,
                f"{len(partnered)} of {layer.units} units of {name} move with another unit (|r| > "
                f"{thresholds.redundant_r}): the layer is larger than the task needs; try fewer units."))
        if layer.input_max_abs is not None and layer.input_max_abs > thresholds.input_max_abs:
            found.append(Observation(
                INPUT_SCALE, WARNING, name, None, None, "largest |input| on the probe", layer.input_max_abs,
                thresholds.input_max_abs,
                f"The inputs of {name} reach {_g(layer.input_max_abs)}: gates saturate from the first step; "
                "standardise the inputs (subtract the mean, divide by the standard deviation)."))
    return found


def non_finite_metrics(metrics: dict[str, float]) -> list[Observation]:
    """``non_finite`` for a validation metric that is NaN or inf at an epoch's end ({name: value}):
    ``val_loss`` can overflow while every weight and every training batch's loss is still finite, which
    the other two rules see."""
    return [Observation(
        NON_FINITE, WARNING, None, None, None, name, math.nan, 0.0,
        f"{name} became {value} at the epoch's end: lower the learning rate or clip the gradients (optimizer "
        "clipnorm).") for name, value in metrics.items() if name.startswith("val_") and not math.isfinite(value)]


def not_learning(losses: list[tuple[int, float]], name: str, thresholds: Thresholds) -> Observation | None:
    """``not_learning`` from the epoch losses so far [(step, value)]: after ``not_learning_epochs``
    epochs, the best is not ``not_learning_improvement`` below the first epoch's."""
    finite = [(s, v) for s, v in losses if math.isfinite(v)]
    if len(finite) < thresholds.not_learning_epochs:
        return None
    first = finite[0][1]
    best = min(v for _, v in finite)
    if first <= 0 or best < first * (1 - thresholds.not_learning_improvement):
        return None
    return Observation(
        NOT_LEARNING, WARNING, None, None, None, f"best {name} / first {name}", best / first,
        1 - thresholds.not_learning_improvement,
        f"{name} is no better after {len(finite)} epochs than after the first ({_g(best)} against {_g(first)}): "
        "check the learning rate, the gradient through time and the input scale.")
