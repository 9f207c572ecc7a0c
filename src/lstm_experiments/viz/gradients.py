"""``gradients/<layer>/<matrix>/<gate>``: the norm of the loss gradient on the probe batch, per gate.

For a plain stack (the runner's model) the gradients are computed in numpy
from the snapshot (``gates.gradients``), in the drawing process, so the
training process runs no extra pass for them; the forward pass is the one the
``activations`` visualizer draws, computed once. For any other model the
snapshot carries them, taken with ``GradientTape`` (``capture.snapshot``).
"""

import numpy as np

from lstm_experiments.gates.layout import split_gates
from lstm_experiments.tensorboard import tags
from lstm_experiments.tensorboard.summaries import Summaries
from lstm_experiments.viz.registry import register


@register("gradients")
class GateGradients:
    needs_probe = True
    needs_gradients = True

    def summarise(self, snapshot, painter) -> Summaries:
        out = Summaries()
        if snapshot.gradients is not None:  # taken with TensorFlow (a model that is not a plain stack)
            gradients = snapshot.gradients
        elif snapshot.head is not None and snapshot.probe_x is not None:
            gradients = snapshot.probe_backpropagation.matrices  # the pass the findings share
        else:
            return out
        for layer in snapshot.layers:
            for name, gradient in gradients.get(layer.layer, {}).items():
                for gate, block in split_gates(gradient, layer.cell).items():
                    out.scalars[tags.gradient_norm(layer.layer, name, gate)] = float(np.linalg.norm(block))
        return out
