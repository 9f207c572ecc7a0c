"""Per-unit figures of one replayed recurrent layer: saturated, dead and redundant units (numpy).

Every figure is taken over the counted positions of a ``LayerActivity`` (every
(sequence, step) pair its mask keeps; all of them when it has no mask): a
masked step's gates are computed and thrown away by Keras, and its hidden state
is the one held from the step before, so neither says anything new.

- ``unit_saturation``: per gate, for each unit, the fraction of its values
  below ``low`` (left-saturated: a sigmoid gate shut) and above ``high``
  (right-saturated: wide open). A tanh gate (``layout.CANDIDATE_GATE``: the
  LSTM's ``cell``, the GRU's ``candidate``, the SimpleRNN's ``state``) is taken
  on (v + 1) / 2, so 0.1 / 0.9 mean v < -0.8 / v > 0.8. The defaults 0.1 and
  0.9 are those of Karpathy, Johnson & Fei-Fei (2015), "Visualizing and
  Understanding Recurrent Networks", Fig. 3. ``viz.activations`` takes its
  whole-layer fractions with the same rule (``SATURATION_LOW``/``HIGH``,
  ``unit_range``, ``counted_steps``).
- ``dead_units``: units whose |h| stays below ``threshold`` (0.01) at every
  counted position.
- ``redundant_units``: pairs of units whose hidden-state series correlate
  with |r| > 0.95 (Pearson, over all counted positions); units whose h barely
  moves (std below ``FLAT_STD`` = 0.001, a thousandth of h's range) are left
  out: a constant series has no correlation to speak of, and such a unit is
  dead or stuck, not redundant. ``redundant_count``: units with a partner.
- ``unit_order``: a permutation of the units for a units axis (``UNIT_ORDERS``).

The dead and redundant thresholds (0.01, 0.95, 0.001) are starting points, to be
validated on trained networks, not values from the literature.

Checked by ``tests/test_unit_figures.py`` against Keras' own layer outputs: the
gates recomputed there in numpy from Keras' hidden states and the layer's
weights, ``np.corrcoef`` of Keras' h, and planted dead and duplicated units.
"""

import numpy as np

from lstm_experiments.gates.layout import CANDIDATE_GATE

# Karpathy, Johnson & Fei-Fei (2015), Fig. 3: a gate value below 0.1 is left-, above 0.9 right-saturated.
SATURATION_LOW = 0.1
SATURATION_HIGH = 0.9
# Starting points, to be validated: |h| below this everywhere is a dead unit; |r| above this a redundant pair.
DEAD_THRESHOLD = 0.01
REDUNDANT_R = 0.95
# A unit whose h has a smaller standard deviation is flat: left out of correlations.
FLAT_STD = 1e-3

UNIT_ORDERS = ("built", "saturation", "activity", "similarity")


def counted_steps(activity) -> np.ndarray:
    """(batch, time) booleans, True at the positions that count (the layer's mask, or all)."""
    if activity.mask is None:
        return np.ones(activity.hidden.shape[:2], bool)
    return np.asarray(activity.mask, dtype=bool)


def unit_range(values: np.ndarray, cell: str, gate: str) -> np.ndarray:
    """A gate's values on [0, 1], where the saturation thresholds apply: a tanh gate as (v + 1) / 2."""
    return (values + 1.0) / 2.0 if gate == CANDIDATE_GATE[cell] else values


def counted_unit_range(activity, gate: str) -> np.ndarray:
    """One gate's values on [0, 1] at the counted positions, shaped (positions, units)."""
    return unit_range(activity.gates[gate], activity.cell, gate)[counted_steps(activity)]


def counted_hidden(activity) -> np.ndarray:
    """The hidden states at the counted positions, shaped (positions, units)."""
    return activity.hidden[counted_steps(activity)]


def _fraction(hits: np.ndarray) -> np.ndarray:
    """Per unit (column), the fraction of True rows; NaN when there is no row."""
    if hits.shape[0] == 0:
        return np.full(hits.shape[1], np.nan)
    return np.count_nonzero(hits, axis=0) / hits.shape[0]


def unit_saturation(activity, low: float = SATURATION_LOW,
                    high: float = SATURATION_HIGH) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per gate, (left, right): each unit's fractions (units,) of counted values < ``low`` and > ``high``.

    NaN for every unit when no position counts.
    """
    out = {}
    for gate in activity.gates:
        values = counted_unit_range(activity, gate)
        out[gate] = (_fraction(values < low), _fraction(values > high))
    return out


def dead_units(activity, threshold: float = DEAD_THRESHOLD) -> np.ndarray:
    """Indices (ascending) of the units whose |h| < ``threshold`` at every counted position.

    With no counted position nothing was seen, and no unit is called dead.
    """
    hidden = counted_hidden(activity)
    if hidden.shape[0] == 0:
        return np.empty(0, np.int64)
    return np.flatnonzero(np.all(np.abs(hidden) < threshold, axis=0))


def hidden_correlation(activity, min_std: float = FLAT_STD) -> np.ndarray:
    """Pearson correlations (units, units) of the units' hidden-state series over the counted positions.

    Rows and columns of flat units (std of h < ``min_std``) are NaN, the diagonal of the
    others 1. In float32, the means and deviations summed in float64, then one matrix
    product (about 1024 x 1024 x positions); within 1e-6 of ``np.corrcoef``.
    """
    hidden = np.asarray(counted_hidden(activity), np.float32)
    positions, units = hidden.shape
    if positions < 2:
        return np.full((units, units), np.nan)
    centred = hidden - hidden.mean(axis=0, dtype=np.float64).astype(np.float32)
    std = np.sqrt(np.einsum("ij,ij->j", centred, centred, dtype=np.float64) / positions)
    moving = std >= min_std
    scale = np.zeros(units, np.float32)
    scale[moving] = 1.0 / (std[moving] * np.sqrt(positions))
    scaled = centred * scale
    correlation = np.clip((scaled.T @ scaled).astype(np.float64), -1.0, 1.0)
    np.fill_diagonal(correlation, 1.0)  # float32 rounding leaves it a hair off 1
    correlation[~moving, :] = np.nan
    correlation[:, ~moving] = np.nan
    return correlation


def redundant_units(activity, r: float = REDUNDANT_R, min_std: float = FLAT_STD,
                    correlation: np.ndarray | None = None) -> list[tuple[int, int, float]]:
    """Pairs (i, j, r_ij), i < j, in (i, j) order, whose hidden-state series correlate with |r_ij| > ``r``.

    Flat units (std of h < ``min_std``) have no partner. ``correlation``: ``hidden_correlation(activity,
    min_std)`` when the caller already has it.
    """
    if correlation is None:
        correlation = hidden_correlation(activity, min_std)
    upper = np.triu(np.abs(np.nan_to_num(correlation, nan=0.0)) > r, k=1)
    rows, cols = np.nonzero(upper)
    return [(int(i), int(j), float(correlation[i, j])) for i, j in zip(rows, cols)]


def redundant_count(pairs: list[tuple[int, int, float]]) -> int:
    """How many units have at least one partner in ``pairs``."""
    return len({unit for i, j, _ in pairs for unit in (i, j)})


def _descending(score: np.ndarray) -> np.ndarray:
    """Units by ``score``, highest first; ties (and NaN, taken as 0) in built order."""
    return np.argsort(-np.nan_to_num(score, nan=0.0), kind="stable")


def _similarity_chain(correlation: np.ndarray) -> np.ndarray:
    """A greedy nearest-neighbour chain on |r|: start at the unit with the largest summed |r| to the
    others, then always step to the unvisited unit that moves most like the current one (ties: the
    lowest index). A unit's closest partner therefore comes right after it unless already placed.
    Flat units (NaN rows) follow at the end in built order. O(units²)."""
    units = correlation.shape[0]
    flat = np.isnan(np.diag(correlation)) if units else np.zeros(0, bool)
    similarity = np.abs(np.nan_to_num(correlation, nan=0.0))
    np.fill_diagonal(similarity, 0.0)
    moving = np.flatnonzero(~flat)
    if moving.size == 0:
        return np.arange(units)
    free = np.zeros(units, bool)
    free[moving] = True
    current = int(moving[np.argmax(similarity[moving].sum(axis=1))])
    chain = [current]
    free[current] = False
    for _ in range(moving.size - 1):
        current = int(np.argmax(np.where(free, similarity[current], -1.0)))
        chain.append(current)
        free[current] = False
    return np.concatenate([np.array(chain, np.int64), np.flatnonzero(flat)])


def unit_order(activity, by: str, correlation: np.ndarray | None = None) -> np.ndarray:
    """A permutation (units,) of the layer's units for a units axis.

    ``built``: as built; ``saturation``: total saturation (left + right, summed over the gates),
    highest first; ``activity``: std of h over the counted positions, highest first;
    ``similarity``: units that move together side by side (``_similarity_chain``; ``correlation``:
    ``hidden_correlation(activity)`` when the caller already has it).
    """
    if by not in UNIT_ORDERS:
        raise ValueError(f"unknown unit order {by!r}; choose one of {', '.join(UNIT_ORDERS)}")
    units = activity.hidden.shape[-1]
    if by == "built":
        return np.arange(units)
    if by == "saturation":
        return _descending(sum(left + right for left, right in unit_saturation(activity).values()))
    if by == "activity":
        hidden = counted_hidden(activity)
        return _descending(hidden.std(axis=0) if hidden.shape[0] else np.zeros(units))
    return _similarity_chain(hidden_correlation(activity) if correlation is None else correlation)
