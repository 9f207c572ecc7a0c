"""Import TensorFlow without its start-up noise.

On machines without a GPU, TensorFlow prints cuInit/cudart lines and an absl
warning straight to file descriptor 2 while it loads, before any Python or
absl logging setting can apply. Unless the user set ``TF_CPP_MIN_LOG_LEVEL``
themselves, we raise that level and hold back the known noise lines during the
import; anything else TensorFlow prints there is passed on.
"""

import os
import re
import sys
import tempfile
from types import ModuleType

_USER_LEVEL_VAR = "TF_CPP_MIN_LOG_LEVEL"
_QUIET_LEVEL = "3"
_NOISE = re.compile(
    r"All log messages before absl::InitializeLog"
    r"|cudart_stub|cuda_driver|cuInit|cuda_diagnostics|cuda_executor"
    r"|Could not find cuda drivers|cpu_feature_guard|To enable the following instructions"
    r"|Unable to register cu(DNN|FFT|BLAS) factory|computation placer already registered"
    r"|TF-TRT Warning|oneDNN custom operations are on"
)


def _drop_noise(captured: str) -> str:
    kept = [line for line in captured.splitlines(keepends=True) if not _NOISE.search(line)]
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
