"""TensorFlow set up for a job: imported without its start-up noise, with a thread limit per job,
and the settings of one run, set back when it ends.

Importing quietly:

On machines without a GPU, TensorFlow prints cuInit/cudart lines and an absl
warning straight to file descriptor 2 while it loads, before any Python or
absl logging setting can apply. Unless the user set ``TF_CPP_MIN_LOG_LEVEL``
themselves, we raise that level for the import and hold back the known noise
lines; anything else TensorFlow prints there is passed on. The variable is
removed again after the import, but TensorFlow reads it once, at its first log
line: its C++ log lines stay held back in that process (measured: an XLA
compile's INFO lines after the import print nothing).
"""

import contextlib
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from types import ModuleType

from lstm_experiments.tensorflow_noise import is_noise

log = logging.getLogger(__name__)

_USER_LEVEL_VAR = "TF_CPP_MIN_LOG_LEVEL"
_QUIET_LEVEL = "3"
def _drop_noise(captured: str) -> str:
    kept = [line for line in captured.splitlines(keepends=True) if not is_noise(line)]
    return "".join(kept)


def import_tensorflow() -> ModuleType:
    """Return the ``tensorflow`` module, imported quietly unless the user chose a log level."""
    if "tensorflow" in sys.modules or _USER_LEVEL_VAR in os.environ:
        import tensorflow as tf

        return tf
    os.environ[_USER_LEVEL_VAR] = _QUIET_LEVEL
    sys.stderr.flush()
    saved_fd = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow as tf

            # Device discovery prints the second batch of cuda lines; do it now, quietly.
            tf.config.list_physical_devices()
        finally:
            os.environ.pop(_USER_LEVEL_VAR, None)  # the caller's environment as it was
            sys.stderr.flush()
            os.dup2(saved_fd, 2)
            os.close(saved_fd)
            captured.seek(0)
            rest = _drop_noise(captured.read().decode("utf-8", errors="replace"))
            if rest:
                sys.stderr.write(rest)
    return tf


# Thread limits: how many CPU threads TensorFlow may use in one job, so parallel jobs don't
# oversubscribe the cores. With ``hydra/launcher=joblib``, N jobs run at once in separate
# processes; each gets cores // N threads unless the config sets ``threads`` itself.
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
    log.info("TensorFlow uses %d thread%s in this job", threads, "" if threads == 1 else "s")


# The visualizers' numpy work is small matrices: multi-threaded BLAS would only spin against
# TensorFlow's threads for the cores (far slower; docs/performance.md), so a run gives it one thread.
VISUALIZER_BLAS_THREADS = 1


@contextlib.contextmanager
def run_settings(seed: int, threads: int | None) -> Iterator[None]:
    """TensorFlow imported and set for one run; what can be set back is, when the run ends.

    Set back: BLAS' thread count (one during the run) and op determinism (on during the run).
    Left as the run set it, because TensorFlow cannot undo it: the thread pools when ``threads``
    is given and TensorFlow had not started, the seeds of ``random``, numpy, TensorFlow and Keras
    (``keras.utils.set_random_seed``), and Keras' cleared session. README: "A whole experiment from Python".
    """
    from threadpoolctl import threadpool_limits

    tf = import_tensorflow()
    apply_thread_limit(threads)
    # TensorFlow's public API only switches determinism on; its own module also reads and clears it.
    from tensorflow.python.framework import config as tf_config

    determinism_was_on = tf_config.is_op_determinism_enabled()
    with threadpool_limits(limits=VISUALIZER_BLAS_THREADS, user_api="blas"):
        import keras

        keras.backend.clear_session()
        keras.utils.set_random_seed(seed)
        tf.config.experimental.enable_op_determinism()
        try:
            yield
        finally:
            if not determinism_was_on:
                tf_config.disable_op_determinism()
