"""Images of the weights: the whole fused matrices (``kernel``), and each gate's slice (``gates``)."""

from lstm_experiments.tensorboard import tags
from lstm_experiments.tensorboard.summaries import Summaries
from lstm_experiments.viz.registry import matrices, register, scaled_gate_blocks


@register("kernel")
class KernelImages:
    """``kernel/<layer>/<matrix>``: the kernel and recurrent kernel, gate blocks in Keras order."""

    def summarise(self, snapshot, painter) -> Summaries:
        out = Summaries()
        for layer, name, matrix in matrices(snapshot, tags.WEIGHT_MATRICES):
            scale = painter.scale(layer.layer, name, matrix)
            out.images[tags.kernel_image(layer.layer, name)] = painter.paint(matrix, scale)
        return out


@register("gates")
class GateImages:
    """``gates/<layer>/<matrix>/<gate>``: each gate's slice of the kernel and recurrent kernel.

    A gate's slice shares the scale of its whole matrix, so gates compare by colour.
    """

    def summarise(self, snapshot, painter) -> Summaries:
        out = Summaries()
        for layer, name, gate, block, scale in scaled_gate_blocks(snapshot, painter, tags.WEIGHT_MATRICES):
            out.images[tags.gate_image(layer.layer, name, gate)] = painter.paint(block, scale)
        return out
