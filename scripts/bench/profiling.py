"""--profile: a cProfile of one logged step (the gate logger's ``log_weights``) instead of the sections."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from bench.common import (
    VIZ_VARIANTS, compose_config, import_tensorflow_quietly, logger_class, model_overrides, run_ours,
)

# One logged step after the first epoch (no first-call costs), top functions.
PROFILE_STEP = 2
PROFILE_TOP = 30


def profile_logged_step(units: int, variant: str, workdir: Path) -> None:
    """Print a cProfile of one ``log_weights`` call of the gate logger (step PROFILE_STEP)."""
    import cProfile
    import pstats

    import_tensorflow_quietly()
    logger = logger_class()
    profiler = cProfile.Profile()
    original = logger.log_weights
    wall = {}

    def log_weights(self, step, *args, **kwargs):
        if step != PROFILE_STEP:
            return original(self, step, *args, **kwargs)
        start = time.perf_counter()
        profiler.enable()
        try:
            return original(self, step, *args, **kwargs)
        finally:
            profiler.disable()
            wall["s"] = time.perf_counter() - start

    logger.log_weights = log_weights
    try:
        overrides = [*model_overrides(units, PROFILE_STEP + 1), VIZ_VARIANTS[variant]]
        if "background" in compose_config(overrides).viz:  # draw and write on this thread, where cProfile looks
            overrides.append("viz.background=false")
        run_ours(overrides, workdir)
    finally:
        logger.log_weights = original
    print(f"== profile: one logged step (step {PROFILE_STEP}), units={units}, viz={variant}: "
          f"{wall['s']:.3f} s wall; load average {os.getloadavg()[0]:.2f}")
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("cumulative").print_stats(PROFILE_TOP)
    stats.sort_stats("tottime").print_stats(PROFILE_TOP // 2)
