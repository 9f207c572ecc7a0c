"""Each gate's bias as an image (``bias/...``) and as a histogram (``histograms/...``).

The two plugins get distinct tags: TensorBoard's fast loader drops a tag used by both.
"""

from lstm_experiments.gates.layout import split_gates
from lstm_experiments.tensorboard.summaries import Summaries
from lstm_experiments.viz.registry import register

BIAS_VECTORS = ("bias", "recurrent_bias")


@register("bias")
class BiasImages:
    """``bias/<layer>/<bias>/<gate>`` images and ``histograms/<layer>/<bias>/<gate>`` histograms."""

    def summarise(self, snapshot, painter) -> Summaries:
        out = Summaries()
        for layer in snapshot.layers:
            for name in BIAS_VECTORS:
                if name not in layer.matrices:
                    continue
                vector = layer.matrices[name]
                scale = painter.scale(layer.layer, name, vector)
                for gate, block in split_gates(vector, layer.cell).items():
                    tag = f"{layer.layer}/{name}/{gate}"
                    out.images[f"bias/{tag}"] = painter.paint(block, scale)
                    out.histograms[f"histograms/{tag}"] = block
        return out
