"""TensorFlow's known start-up lines: what the runner and ``lstm-experiments-board`` hold back.

On machines without a GPU, TensorFlow (and TensorBoard, which imports it)
prints cuInit/cudart lines, an absl warning and the oneDNN notice straight to
file descriptor 2 while it loads; ``TF_CPP_MIN_LOG_LEVEL`` alone leaves some of
them (measured: the absl, oneDNN and cudart_stub lines). The runner's quiet
import (``run.tensorflow_setup``) and the board's launcher both filter by this
one list; anything else is passed on.
"""

import re

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
