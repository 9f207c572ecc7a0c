"""``stats/<layer>/<matrix>/<gate>/<statistic>`` scalars: the curves sweeps overlay.

Statistics: mean, std, frobenius_norm, max_abs, change (from the snapshot's
W_0, the initial weights) and, for the recurrent kernel, spectral_norm (not for a
ConvLSTM, whose recurrent kernel is a convolution: its tiles are no matrix to take a norm of).
"""

from lstm_experiments.gates.layout import CONV_LSTM, split_gates
from lstm_experiments.tensorboard import tags
from lstm_experiments.gates.statistics import block_stats, spectral_norm
from lstm_experiments.tensorboard.summaries import Summaries
from lstm_experiments.viz.registry import matrices, register


@register("stats")
class GateStats:
    def __init__(self):
        self._power_start: dict[str, object] = {}

    def summarise(self, snapshot, painter) -> Summaries:
        out = Summaries()
        for layer, name, matrix in matrices(snapshot):
            initial = split_gates(snapshot.initial[layer.layer][name], layer.cell)
            for gate, block in split_gates(matrix, layer.cell).items():
                for stat, value in block_stats(block, initial[gate]).items():
                    out.scalars[tags.statistic(layer.layer, name, gate, stat)] = value
                if name == "recurrent_kernel" and layer.cell != CONV_LSTM:
                    tag = tags.statistic(layer.layer, name, gate, "spectral_norm")
                    value, self._power_start[tag] = spectral_norm(block, self._power_start.get(tag))
                    out.scalars[tag] = value
        return out
