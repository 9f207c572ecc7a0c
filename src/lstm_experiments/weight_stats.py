"""Statistics of one gate's weight block: the numbers behind the per-gate curves."""

import numpy as np

# Above this side, the spectral norm comes from power iteration instead of an SVD (O(n^3)).
EXACT_SPECTRAL_MAX_SIDE = 256
POWER_ITERATIONS = 30


def spectral_norm(matrix: np.ndarray, start: np.ndarray | None = None) -> tuple[float, np.ndarray | None]:
    """Largest singular value, and the vector to warm-start the next estimate from.

    Exact (SVD) for small matrices; power iteration on MᵀM otherwise, which from a
    warm start converges in a few steps because weights change slowly.
    """
    if not np.isfinite(matrix).all():
        return float("nan"), None
    if max(matrix.shape) <= EXACT_SPECTRAL_MAX_SIDE:
        return float(np.linalg.norm(matrix, 2)), None
    vector = start if start is not None else np.ones(matrix.shape[1]) / np.sqrt(matrix.shape[1])
    for _ in range(POWER_ITERATIONS):
        product = matrix.T @ (matrix @ vector)
        norm = np.linalg.norm(product)
        if norm == 0:
            return 0.0, None
        vector = product / norm
    return float(np.linalg.norm(matrix @ vector)), vector


def block_stats(block: np.ndarray, initial: np.ndarray) -> dict[str, float]:
    """mean, std, frobenius_norm, max_abs and change (relative to the initial block).

    ``change`` is ‖W_t − W_0‖ / ‖W_0‖; where ‖W_0‖ is 0 (a zero-initialised bias)
    it is the absolute ‖W_t − W_0‖.
    """
    block = np.asarray(block, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        initial_norm = float(np.linalg.norm(initial))
        difference = float(np.linalg.norm(block - initial))
        return {
            "mean": float(block.mean()),
            "std": float(block.std()),
            "frobenius_norm": float(np.linalg.norm(block)),
            "max_abs": float(np.abs(block).max()),
            "change": difference / initial_norm if initial_norm > 0 else difference,
        }
