"""``gradients/<layer>/<matrix>/<gate>``: the norm of the loss gradient on the probe batch, per gate."""

import numpy as np

from lstm_experiments.gates import split_gates
from lstm_experiments.summaries import Summaries
from lstm_experiments.visualizers.registry import register


@register("gradients")
class GateGradients:
    needs_probe = True
    needs_gradients = True

    def summarise(self, snapshot, painter) -> Summaries:
        out = Summaries()
        for layer in snapshot.layers:
            for name, gradient in layer.gradients.items():
                for gate, block in split_gates(gradient, layer.cell).items():
                    out.scalars[f"gradients/{layer.layer}/{name}/{gate}"] = float(np.linalg.norm(block))
        return out
