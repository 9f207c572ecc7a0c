"""The thresholds the findings' rules compare against: ``viz.findings.*`` and ``GateLogger(findings=...)``.

Each default, and where it comes from (docs/diagnosing.md has the runs):

- ``vanishing_decay`` 1e-4: the gradient reaching the first time step, over the
  last one's (Bengio et al. 1994; Pascanu et al. 2013), of the cell state for
  an LSTM (h for the others). The adding problem at 150 steps without the
  forget-gate bias read 3e-15, its control 0.47; at 8 units and 3 epochs, 20
  steps without the bias read 3e-5, with it 1.6e-2, and 40 steps with it 4e-4.
- ``exploding_decay`` 1e4: the same ratio the other way (the first step's
  gradient ten thousand times the last's).
- ``saturated_fraction`` 0.9 of a gate's values below 0.1 or above 0.9
  (Karpathy, Johnson and Fei-Fei 2015), in ``saturated_gates`` gates of a layer
  at once: one gate saturated is often healthy (a forget gate held open on a
  memory task); Adam at learning rate 0.5 saturated 90-97 % of every gate.
- ``dead_activity`` 0.01: a unit whose |h| stays below it at every probe
  position is dead; ``dead_fraction`` 0.1 of the units dead is a warning.
- ``redundant_r`` 0.95: two units whose hidden states correlate above it move
  together; ``redundant_fraction`` 0.75 of the units with a partner is a
  warning (256 units on sine: 220 of 256, 86 %; a 16-unit control: 4, 25 %;
  the default run, 32 units on sine: 17, 53 %, an ``info``); a layer of fewer than
  ``redundant_min_units`` 16 units gets an ``info`` at most: on two input features
  6 of 8 untrained units correlate, and "fewer units" is no advice there.
- ``input_max_abs`` 10: a layer input beyond it (standardised inputs stay
  within a few units) saturates every gate from the first step.
- ``not_learning_epochs`` 5 and ``not_learning_improvement`` 0.01: after that
  many epochs the best loss is not 1 % below the first epoch's.
"""

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Thresholds:
    vanishing_decay: float = 1e-4
    exploding_decay: float = 1e4
    saturated_fraction: float = 0.9
    saturated_gates: int = 3
    dead_activity: float = 0.01
    dead_fraction: float = 0.1
    redundant_r: float = 0.95
    redundant_fraction: float = 0.75
    redundant_min_units: int = 16
    input_max_abs: float = 10.0
    not_learning_epochs: int = 5
    not_learning_improvement: float = 0.01


# Keys that are fractions (in (0, 1]) and counts (integers >= 1); the rest are positive numbers.
FRACTIONS = ("saturated_fraction", "dead_fraction", "redundant_r", "redundant_fraction", "not_learning_improvement")
COUNTS = ("saturated_gates", "not_learning_epochs", "redundant_min_units")
NAMES = tuple(f.name for f in fields(Thresholds))


def thresholds_from(values, key: str = "viz.findings") -> Thresholds:
    """``values`` (a mapping of some of ``NAMES``) checked into Thresholds; ValueError with one line naming
    ``<key>.<name>`` and the value otherwise."""
    values = dict(values or {})
    unknown = sorted(set(values) - set(NAMES))
    if unknown:
        raise ValueError(f"{key}.{unknown[0]} is not a findings threshold; known: {', '.join(NAMES)}")
    checked = {}
    for name, value in values.items():
        where = f"{key}.{name}={value!r}"
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{where} (must be a number)")
        if name in COUNTS:
            if int(value) != value or value < 1:
                raise ValueError(f"{where} (must be an integer >= 1)")
            value = int(value)
        elif not value > 0 or (name in FRACTIONS and value > 1):
            raise ValueError(f"{where} (must be in (0, 1])" if name in FRACTIONS else f"{where} (must be > 0)")
        checked[name] = float(value) if name not in COUNTS else value
    return Thresholds(**checked)
