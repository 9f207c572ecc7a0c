"""Each gate's bias as an image (``bias/...``) and as a histogram (``histograms/...``).

The two plugins get distinct tags: TensorBoard's fast loader drops a tag used by both.
"""

from lstm_experiments.tensorboard import tags
from lstm_experiments.tensorboard.summaries import Summaries
from lstm_experiments.viz.registry import register, scaled_gate_blocks


@register("bias")
class BiasImages:
    """``bias/<layer>/<bias>/<gate>`` images and ``histograms/<layer>/<bias>/<gate>`` histograms."""

    def summarise(self, snapshot, painter) -> Summaries:
        out = Summaries()
        for layer, name, gate, block, scale in scaled_gate_blocks(snapshot, painter, tags.BIAS_VECTORS):
            out.images[tags.bias_image(layer.layer, name, gate)] = painter.paint(block, scale)
            out.histograms[tags.histogram(layer.layer, name, gate)] = block
        return out
