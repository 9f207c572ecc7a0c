"""TensorFlow set up for a job: imported without its start-up noise, with a thread limit per job.

Importing quietly:

On machines without a GPU, TensorFlow prints cuInit/cudart lines and an absl
warning straight to file descriptor 2 while it loads, before any Python or
absl logging setting can apply. Unless the user set ``TF_CPP_MIN_LOG_LEVEL``
themselves, we raise that level and hold back the known noise lines during the
import; anything else TensorFlow prints there is passed on.
"""

import logging
import os
import re
import sys
import tempfile
from types import ModuleType

log = logging.getLogger(__name__)

_USER_LEVEL_VAR = "TF_CPP_MIN_LOG_LEVEL"
_QUIET_LEVEL = "3"
_NOISE = re.compile(
    r"All log messages before absl::InitializeLog"
    r"|cudart_stub|cuda_driver|cuInit|cuda_diagnostics|cuda_executor"
    r"|Could not find cuda drivers|cpu_feature_guard|To enable the following instructions"
    r"|Unable to register cu(DNN|FFT|BLAS) factory|computation placer already registered"
    r"|TF-TRT Warning|oneDNN custom operations are on"
)


def is_noise(line: str) -> bool:
    """Whether ``line`` is one of TensorFlow's known start-up lines (also TensorBoard's, which imports it)."""
    return _NOISE.search(line) is not None


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
