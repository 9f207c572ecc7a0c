"""``delta/<layer>/<matrix>/<gate>``: images of each gate's change from the initial weights, W_t − W_0.

The change starts at zero, so its colour scale is set per step (logged as
``scale/<layer>/delta_<matrix>``) whatever ``viz.image.scale`` says, except minmax.
"""

from lstm_experiments.gates.layout import split_gates
from lstm_experiments.tensorboard import tags
from lstm_experiments.tensorboard.summaries import Summaries
from lstm_experiments.viz.registry import matrices, register


@register("delta")
class DeltaImages:
    def summarise(self, snapshot, painter) -> Summaries:
        out = Summaries()
        for layer, name, matrix in matrices(snapshot):
            change = matrix - snapshot.initial[layer.layer][name]
            scale = painter.scale(layer.layer, tags.delta_scale_name(name), change, per_step=True)
            for gate, block in split_gates(change, layer.cell).items():
                out.images[tags.delta_image(layer.layer, name, gate)] = painter.paint(block, scale)
        return out
