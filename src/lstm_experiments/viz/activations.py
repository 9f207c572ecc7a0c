"""What the gates do on data: recomputed on the fixed validation probe batch from the weights.

``activations/<layer>/<gate>``: an image of one probe sequence, time down, units
across. Sigmoid gates run from blue (0, closed) through white (0.5) to red
(1, open); the tanh candidate from blue (-1) to red (+1).
``saturation/<layer>/<gate>/low`` and ``.../high``: the fractions of values
below 0.1 and above 0.9 over the whole probe batch (for the tanh candidate, of
(value + 1) / 2, i.e. below -0.8 and above 0.8).
Steps a layer's mask leaves out are grey in the images and left out of the
saturation fractions. The rule (thresholds, the candidate's mapping, the counted
steps) lives in ``gates.units``; each layer fraction is the mean of its per-unit
fractions there (``unit_saturation``). (The GATES tab's tensors of the same replay are the
``board`` writer's, ``board.summary``.)
"""

import numpy as np

from lstm_experiments.gates.layout import CANDIDATE_GATE
from lstm_experiments.gates.units import SATURATION_HIGH, SATURATION_LOW, counted_steps, counted_unit_range
from lstm_experiments.tensorboard import tags
from lstm_experiments.tensorboard.summaries import Summaries
from lstm_experiments.viz.registry import register

# Every gate value, centred as drawn, lies in [-1, 1].
GATE_RANGE = 1.0
# Which probe sequence the images show.
IMAGE_SEQUENCE = 0


@register("activations")
class GateActivations:
    needs_probe = True

    def summarise(self, snapshot, painter) -> Summaries:
        out = Summaries()
        if snapshot.probe_x is None:
            return out
        for activity in snapshot.probe_activity:
            # The steps that count: all, or those the layer's mask keeps (the others are drawn grey).
            kept = counted_steps(activity)
            for gate, values in activity.gates.items():
                tanh_gate = gate == CANDIDATE_GATE[activity.cell]
                centred = np.where(kept[..., None], values if tanh_gate else 2.0 * values - 1.0, np.nan)
                out.images[tags.activation_image(activity.layer, gate)] = painter.paint(
                    centred[IMAGE_SEQUENCE], painter.range_scale(GATE_RANGE)
                )
                counted = counted_unit_range(activity, gate)
                out.scalars[tags.saturation(activity.layer, gate, "low")] = float(np.mean(counted < SATURATION_LOW))
                out.scalars[tags.saturation(activity.layer, gate, "high")] = float(np.mean(counted > SATURATION_HIGH))
        return out
