"""What a log directory already holds for a new ``GateLogger``: its largest step, and the W_0 kept there.

A step never repeats in a directory: a logger given one that holds steps (an
earlier logger's, an earlier session's) goes on after the largest, and
measures change from the W_0 that the first logger kept (``INITIAL_FILE``,
written by the drawer with its first snapshot).
"""

import logging
from pathlib import Path

import numpy as np

from lstm_experiments.capture.drawer import INITIAL_FILE
from lstm_experiments.tensorboard.records import largest_step

log = logging.getLogger(__name__)


def kept_initial(logdir) -> dict | None:
    """{layer: {matrix: array}}, the W_0 a first logger kept in ``logdir``; None if none is there."""
    try:
        with np.load(Path(logdir) / INITIAL_FILE) as stored:
            initial: dict = {}
            for key in stored.files:
                layer, matrix = key.split("/", 1)
                initial.setdefault(layer, {})[matrix] = stored[key]
            return initial
    except (OSError, ValueError):
        return None


def held_steps(logdir) -> tuple[int | None, dict | None]:
    """(the largest step ``logdir`` holds, its kept W_0); (None, None) for a directory with no step.

    Read before a logger opens its own event file (which would hold a step of its own).
    """
    last = largest_step(logdir)
    if last is None:
        return None, None
    initial = kept_initial(logdir)
    note = (f"change is measured from the W_0 kept in {INITIAL_FILE}" if initial is not None else
            f"it keeps no {INITIAL_FILE}, so change is measured from the weights logging starts with")
    log.info("GateLogger: %s already holds steps up to %d; logging continues after it; %s", logdir, last, note)
    return last, initial
