"""startup: wall time of CLI commands that must not import TensorFlow (--cfg job, --help, a config
error), each in a fresh subprocess, against a bare ``python -c pass``."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from bench.common import median, print_table

STARTUP_TARGET_S = 1.5
STARTUP_COMMANDS = {
    "python -c pass (floor)": ["-c", "pass"],
    "--cfg job": ["-m", "lstm_experiments", "--cfg", "job"],
    "--help": ["-m", "lstm_experiments", "--help"],
    "units=abc (config error)": ["-m", "lstm_experiments", "units=abc"],
}
# Which commands are held to the target, and the exit status each should give.
STARTUP_EXPECTED_RC = {"--cfg job": 0, "--help": 0, "units=abc (config error)": 1}


def run(sizes, workdir: Path) -> dict:
    """Wall time of CLI commands that must not import TensorFlow, each in a fresh subprocess."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    samples: dict[str, list[float]] = {name: [] for name in STARTUP_COMMANDS}
    codes: dict[str, set[int]] = {name: set() for name in STARTUP_COMMANDS}
    for _ in range(sizes.startup_reps):  # interleaved, like the trainings
        for name, args in STARTUP_COMMANDS.items():
            start = time.perf_counter()
            result = subprocess.run([sys.executable, *args], cwd=workdir, env=env, capture_output=True)
            samples[name].append(time.perf_counter() - start)
            codes[name].add(result.returncode)
    rows = []
    for name, times in samples.items():
        held = name in STARTUP_EXPECTED_RC
        seconds = median(times)
        rows.append({
            "command": name, "median_s": seconds, "min_s": min(times), "max_s": max(times),
            "exit": ",".join(map(str, sorted(codes[name]))),
            "exit_ok": codes[name] == {STARTUP_EXPECTED_RC[name]} if held else None,
            "target_s": STARTUP_TARGET_S if held else None,
            "met": seconds <= STARTUP_TARGET_S if held else None,
        })
    print_table(
        f"startup: python -m lstm_experiments ..., median of {sizes.startup_reps}",
        ["command", "median_s", "min_s", "max_s", "exit", "exit_ok", "target_s", "met"],
        rows,
    )
    return {"rows": rows}
