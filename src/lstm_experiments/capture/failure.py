"""What a run whose loss became NaN or inf leaves: the Text dashboard's record of where and what was kept."""

import numpy as np


def all_finite(matrices: dict | None) -> bool:
    """Whether every matrix of {layer: {matrix: array}} is finite (False for None)."""
    return matrices is not None and all(np.isfinite(m).all() for layer in matrices.values() for m in layer.values())


def failure_text(what: str, last_step: int, failing_step: int, tapped: bool, finite: bool) -> str:
    """The Text dashboard's record of a loss gone NaN or inf (markdown)."""
    if finite:
        before = f"Step {last_step}: the last finite weights, before that batch's update."
    elif tapped:
        before = "The weights were not finite before that batch's update either."
    else:
        before = ("The model's train step did not go through model.optimizer.apply_gradients: "
                  "its last finite weights were not kept.")
    return "\n\n".join((f"**{what}** (step {failing_step}).", before,
                         f"Step {failing_step}: the weights after it (non-finite values drawn grey).",
                         "The epoch's metrics so far are logged at that step."))
