"""Statistics of one gate's weight block: the numbers behind the per-gate curves."""

import numpy as np

# Above this side, the spectral norm comes from power iteration instead of an SVD (O(n^3)).
EXACT_SPECTRAL_MAX_SIDE = 256
POWER_ITERATIONS = 30


def _exponent(values: np.ndarray) -> int:
    """The binary exponent of the largest finite |value| (0 when there is none).

    Scaling by 2**-exponent is exact and brings that value into [0.5, 1), so squares
    and sums of huge (> 1e154) or tiny (< 1e-154) weights neither overflow nor vanish.
    """
    if values.size == 0:
        return 0
    largest = max(float(values.max()), -float(values.min()))  # no copy, in the common all-finite case
    if not np.isfinite(largest):
        finite = np.abs(values[np.isfinite(values)])
        largest = float(finite.max()) if finite.size else 0.0
    return int(np.frexp(largest)[1])


def _norm(values: np.ndarray) -> tuple[float, int]:
    """The Frobenius norm as (m, e), the norm being m * 2**e, so that neither it nor a
    ratio of two norms overflows or vanishes before the end."""
    exponent = _exponent(values)
    return float(np.linalg.norm(np.ldexp(values, -exponent))), exponent


def spectral_norm(matrix: np.ndarray, start: np.ndarray | None = None) -> tuple[float, np.ndarray | None]:
    """Largest singular value, and the vector to warm-start the next estimate from.

    Exact (SVD) for small matrices; power iteration on MᵀM otherwise, which from a
    warm start converges in a few steps because weights change slowly.
    """
    if not np.isfinite(matrix).all():
        return float("nan"), None
    if max(matrix.shape) <= EXACT_SPECTRAL_MAX_SIDE:
        return float(np.linalg.norm(matrix, 2)), None
    # Iterated on the matrix scaled by a power of two (exact), so M @ v cannot overflow or vanish.
    exponent = _exponent(matrix)
    # One contiguous float64 copy: a float32 (or strided gate-slice) matrix would be converted
    # again by every product with the float64 vector (docs/performance.md, "The drawing itself").
    matrix = np.ldexp(np.asarray(matrix, dtype=np.float64), -exponent)
    if start is None:
        # A fixed random start: a structured one (all ones) can be orthogonal to the top
        # singular vector, e.g. when every row sums to zero, and then the estimate is 0.
        start = np.random.default_rng(0).standard_normal(matrix.shape[1])
        start /= np.linalg.norm(start)
    vector = start
    for _ in range(POWER_ITERATIONS):
        product = matrix.T @ (matrix @ vector)
        norm = np.linalg.norm(product)
        if norm == 0:
            return 0.0, None
        vector = product / norm
    estimate = float(np.linalg.norm(matrix @ vector))
    # ‖Mv‖ ≤ σ for a unit v, but the products round: a σ at or just below the float64
    # maximum (weights of about 1.8e308) can come out a few ulps above 2**(1024 - exponent),
    # which ldexp would turn into inf. Within the rounding error of the products that is
    # the largest finite float; beyond it the norm is truly beyond float64: inf.
    fraction, estimate_exponent = np.frexp(estimate)  # estimate = fraction * 2**e, fraction in [0.5, 1)
    if estimate_exponent + exponent > 1024:  # ldexp would give 2**1024 or more: inf
        rounding = 4 * (sum(matrix.shape) + POWER_ITERATIONS) * np.finfo(np.float64).eps
        if estimate_exponent + exponent == 1025 and fraction <= 0.5 * (1 + rounding):
            return float(np.finfo(np.float64).max), vector
        return float("inf"), vector
    return float(np.ldexp(estimate, exponent)), vector


def block_stats(block: np.ndarray, initial: np.ndarray) -> dict[str, float]:
    """mean, std, frobenius_norm, max_abs and change (relative to the initial block).

    ``change`` is ‖W_t − W_0‖ / ‖W_0‖; where ‖W_0‖ is 0 (a zero-initialised bias)
    it is the absolute ‖W_t − W_0‖.
    """
    block = np.asarray(block, dtype=np.float64)
    initial = np.asarray(initial, dtype=np.float64)
    # Computed on the blocks scaled by powers of two (exact), so that huge weights don't
    # overflow to inf (or to inf / inf = NaN) and tiny ones don't vanish in the squares.
    exponent = _exponent(block)
    common = max(exponent, _exponent(initial))
    scaled = np.ldexp(block, -exponent)
    with np.errstate(invalid="ignore", over="ignore"):
        norm, norm_exponent = _norm(block)
        initial_norm, initial_exponent = _norm(initial)
        difference, difference_exponent = _norm(np.ldexp(block, -common) - np.ldexp(initial, -common))
        difference_exponent += common
        if initial_norm > 0:
            change = np.ldexp(difference / initial_norm, difference_exponent - initial_exponent)
        else:
            change = np.ldexp(difference, difference_exponent)
        return {
            "mean": float(np.ldexp(scaled.mean(), exponent)),
            "std": float(np.ldexp(scaled.std(), exponent)),
            "frobenius_norm": float(np.ldexp(norm, norm_exponent)),
            "max_abs": float(np.abs(block).max()),
            "change": float(change),
        }
