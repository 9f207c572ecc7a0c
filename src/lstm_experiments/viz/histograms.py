"""``histograms/<layer>/<matrix>/<gate>``: each gate's kernel, recurrent kernel and bias values."""

from lstm_experiments.gates.layout import split_gates
from lstm_experiments.tensorboard import tags
from lstm_experiments.tensorboard.summaries import Summaries
from lstm_experiments.viz.registry import matrices, register


@register("histograms")
class GateHistograms:
    def summarise(self, snapshot, painter) -> Summaries:
        out = Summaries()
        for layer, name, matrix in matrices(snapshot):
            for gate, block in split_gates(matrix, layer.cell).items():
                out.histograms[tags.histogram(layer.layer, name, gate)] = block
        return out
