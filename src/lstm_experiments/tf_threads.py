"""How many CPU threads TensorFlow may use in one job, so parallel jobs don't oversubscribe the cores.

With ``hydra/launcher=joblib``, N jobs run at once in separate processes; each
gets cores // N threads unless the config sets ``threads`` itself.
"""

import logging
import os

log = logging.getLogger(__name__)


def joblib_parallel_jobs(n_jobs: int, cpu_count: int) -> int:
    """joblib's meaning of n_jobs: -1 is every core, -2 all but one, and so on."""
    return n_jobs if n_jobs > 0 else max(1, cpu_count + 1 + n_jobs)


def threads_per_job(configured: int | None, launcher_cfg, cpu_count: int | None = None) -> int | None:
    """The thread count to set, or None to leave TensorFlow's default (every core)."""
    if configured is not None:
        return configured
    cpu_count = cpu_count or os.cpu_count() or 1
    n_jobs = launcher_cfg.get("n_jobs") if launcher_cfg is not None else None
    if n_jobs is None:
        return None
    return max(1, cpu_count // joblib_parallel_jobs(int(n_jobs), cpu_count))


def apply_thread_limit(threads: int | None) -> None:
    """Set TensorFlow's intra- and inter-op thread pools; must run before the first op."""
    if threads is None:
        return
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        # A worker process reused for a second job already started TensorFlow with the same limit.
        log.debug("TensorFlow already initialised; keeping its thread pools")
        return
    log.info("TensorFlow limited to %d threads per job", threads)
