"""``delta/<layer>/<matrix>/<gate>``: images of each gate's change from the initial weights, W_t − W_0.

The change starts at zero, so its colour scale is set per step (logged as
``scale/<layer>/delta_<matrix>``) whatever ``viz.image.scale`` says, except minmax.
"""

from lstm_experiments.gates.layout import split_gates
from lstm_experiments.tensorboard.summaries import Summaries
from lstm_experiments.viz.registry import register


@register("delta")
class DeltaImages:
    def summarise(self, snapshot, painter) -> Summaries:
        out = Summaries()
        for layer in snapshot.layers:
            for name, matrix in layer.matrices.items():
                key = f"{layer.layer}/{name}"
                change = matrix - snapshot.initial[layer.layer][name]
                scale = painter.scale(layer.layer, f"delta_{name}", change, per_step=True)
                for gate, block in split_gates(change, layer.cell).items():
                    out.images[f"delta/{key}/{gate}"] = painter.paint(block, scale)
        return out
