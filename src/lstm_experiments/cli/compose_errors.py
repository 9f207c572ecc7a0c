"""One-line error messages on the command line.

Hydra reports a config error (an unknown key, a wrong type, an unknown group
option) in several lines plus a hint about HYDRA_FULL_ERROR. While the config
is being composed we hold stderr back; if composition fails, its report is
folded into one line. Once the task starts, stderr flows as usual.
``hydra.verbose=true`` or ``HYDRA_FULL_ERROR=1`` keep Hydra's full report.
"""

import io
import os
import re
import sys

from lstm_experiments.cli.help import config_groups
from lstm_experiments.config.choices import BY_KEY, valid_values

_DROPPED_PREFIXES = (
    "Set the environment variable HYDRA_FULL_ERROR",
    "object_type=",
    "Config search path:",
    "provider=",
)


# Answers from outside the config (a cluster's sbatch), each with the setting that fixes it.
_REMEDIES = (
    ("Invalid generic resource (gres) specification",
     "cluster=slurm asks for one GPU per job (conf/cluster/slurm.yaml); on a cluster without GPUs "
     "set hydra.launcher.gpus_per_node=0"),
)
_MISSING_OPTION = re.compile(r"Could not (?:load|find) '([\w/]+)/([^'/]+)'")
# OmegaConf's complaints about a value an Enum field (a choice) cannot take: not a member's name,
# not a string at all, or null.
_BAD_CHOICE = re.compile(r"Invalid value '(.*)', expected one of \[|is not a valid input for <enum|is not Optional")
_OVERRIDE = re.compile(r"Error merging override ([^=\s]+)=(.*)")


def _bad_choice(report: str, key: str | None) -> str | None:
    """``key=value (must be one of ...)`` when the report is about a value a choice key cannot take.

    The value is spelt as on the command line when it came from an override,
    else as OmegaConf quotes it.
    """
    if key not in BY_KEY:
        return None
    complaint = _BAD_CHOICE.search(report)
    if complaint is None:
        return None
    override = _OVERRIDE.search(report)
    if override and override.group(1) == key:
        value = override.group(2).strip()
    elif complaint.group(1) is not None:
        value = complaint.group(1)
    else:
        value = "null" if "is not Optional" in complaint.group(0) else "?"
    return f"{key}={value} (must be one of {valid_values(BY_KEY[key])})"


def fold_hydra_report(report: str) -> str:
    """Fold Hydra's multi-line error report into one line that keeps the key and the value.

    For an unknown group option the valid ones are listed from our packaged
    conf/ (Hydra lists them for a single choice but not inside a list). A bad
    choice (an Enum field of the schema) reads ``key=value (must be one of ...)``,
    as the range checks do.
    """
    if _TRACEBACK in report:
        return _last_exception(report) + _remedy(report)
    parts: list[str] = []
    key = None
    for raw in report.splitlines():
        line = raw.strip()
        if (not line or line.startswith(_DROPPED_PREFIXES) or raw.startswith("\t")
                or line.startswith("Available options")):
            continue
        if line.startswith("full_key:"):
            key = line.split(":", 1)[1].strip()
            continue
        if line.startswith("In '") and "': " in line:
            line = line.split("': ", 1)[1]
        parts.append(line.rstrip(":").rstrip("."))
    choice = _bad_choice(report, key)
    if choice:
        return f"error: {choice}"
    text = "; ".join(parts)
    missing = _MISSING_OPTION.search(text)
    options = config_groups().get(missing.group(1)) if missing else None
    if options:
        text += f"; available options in '{missing.group(1)}': {', '.join(options)}"
    if key and key not in text:
        text += f" (key: {key})"
    return f"error: {text}{_remedy(report)}"


def _remedy(report: str) -> str:
    return "".join(f"; {remedy}" for trigger, remedy in _REMEDIES if trigger in report)


_TRACEBACK = "Traceback (most recent call last)"
_EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit)): (.*)$")
_OS_ERROR = re.compile(r"^\[Errno \d+\] ([^:]+): '(.*)'$")


def _last_exception(report: str) -> str:
    """One line from a report holding a traceback (Hydra printed one): its last exception line.

    An OSError of a path is the run (or sweep) directory Hydra could not create or write:
    named with the setting that chose it.
    """
    found = [m for m in map(_EXCEPTION_LINE.match, (ln.strip() for ln in report.splitlines())) if m]
    if not found:
        return "error: " + "; ".join(ln.strip() for ln in report.splitlines() if ln.strip())[-500:]
    # An OS error of a path anywhere in the chain (a logging handler's ValueError can wrap it) says most.
    with_path = [m for m in found if _OS_ERROR.match(m.group(2))]
    kind, message = (with_path or found)[-1].groups()
    os_error = _OS_ERROR.match(message)
    if os_error:
        reason, path = os_error.groups()
        return f"error: cannot create or write {path}: {reason} (the run directory: hydra.run.dir, or hydra.sweep.dir)"
    return f"error: {message} ({kind.rsplit('.', 1)[-1]})"


def wants_full_errors(argv: list[str]) -> bool:
    verbose = any(a.replace(" ", "").lower() in ("hydra.verbose=true", "hydra.verbose=1") for a in argv)
    return verbose or os.environ.get("HYDRA_FULL_ERROR", "") not in ("", "0")


_held: "ComposeStderr | None" = None


def release_held_stderr() -> None:
    """Called when the task starts: pass on whatever stderr was held back during composition.

    A module-level function (not a global object in the task's own module) so that
    launchers that pickle the task function (joblib, submitit) never see the held stream.
    """
    if _held is not None:
        _held.release()


class ComposeStderr:
    """Holds stderr back until ``release()``; on exit without release, folds what Hydra printed."""

    def __init__(self, argv: list[str]):
        self._active = not wants_full_errors(argv)
        self._buffer = io.StringIO()
        self._real = sys.stderr

    def __enter__(self):
        global _held
        if self._active:
            sys.stderr = self._buffer
        _held = self
        return self

    def release(self) -> None:
        """The task has started: pass on what was held and stop holding."""
        if sys.stderr is self._buffer:
            sys.stderr = self._real
            self._real.write(self._buffer.getvalue())
            self._buffer = io.StringIO()

    def __exit__(self, exc_type, exc, tb):
        global _held
        _held = None
        if sys.stderr is not self._buffer:
            return False
        sys.stderr = self._real
        held = self._buffer.getvalue()
        failed = exc_type is SystemExit and exc.code not in (0, None)
        if failed and held.strip():
            self._real.write(fold_hydra_report(held) + "\n")
        else:
            self._real.write(held)
        return False
