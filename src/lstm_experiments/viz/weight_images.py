"""Images of the weights: the whole fused matrices (``kernel``), and each gate's slice (``gates``).

``gates`` also hands the ``lstm_gates`` plugin its raw tensors of every fused matrix
(``board.summary``: float16, reduced like the images when large; W_0 at step 0).
"""

# The module, not its names: board.summary imports viz.colour, so either may be imported first.
from lstm_experiments.board import summary as board_summary
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
    With them go the ``lstm_gates`` plugin's tensors: ``lstm_gates/<layer>/<matrix>`` for
    the kernel, recurrent kernel and bias(es), and their ``/initial`` at step 0.
    ``board``: the drawer's ``GateBoard`` (its run's feature names and log_every); None makes
    one from the painter's image options.
    """

    board = None  # a board_summary.GateBoard

    def summarise(self, snapshot, painter) -> Summaries:
        out = Summaries()
        for layer, name, gate, block, scale in scaled_gate_blocks(snapshot, painter, tags.WEIGHT_MATRICES):
            out.images[tags.gate_image(layer.layer, name, gate)] = painter.paint(block, scale)
        if self.board is None:
            self.board = board_summary.GateBoard.from_image(painter.image_cfg)
        out.tensors.update(self.board.weights(snapshot))
        return out
