"""Copies a model's recurrent weights to the host once per logged step.

Visualizers read these numpy copies, never the live variables, so they can run
while training goes on and never see a half-updated matrix.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RecurrentWeights:
    """One recurrent layer's matrices, keyed by the name used in tags.

    ``matrices`` holds ``kernel`` (inputs, gates*units), ``recurrent_kernel``
    (units, gates*units) and, with a bias, ``bias`` (gates*units,); a GRU with
    ``reset_after`` also has ``recurrent_bias``, the bias' second row.
    """

    layer: str
    cell: str
    units: int
    matrices: dict[str, np.ndarray]


def recurrent_layers(model):
    """(tag name, Keras RNN layer, cell type) for each recurrent layer, in order.

    A Bidirectional layer gives its two directions under Keras' own names,
    ``forward_<name>`` and ``backward_<name>``.
    """
    import keras

    kinds = {keras.layers.LSTM: "lstm", keras.layers.GRU: "gru"}
    for layer in model.layers:
        if isinstance(layer, keras.layers.Bidirectional):
            for direction in (layer.forward_layer, layer.backward_layer):
                yield direction.name, direction, kinds[type(direction)]
        elif type(layer) in kinds:
            yield layer.name, layer, kinds[type(layer)]


def take_snapshot(model) -> list[RecurrentWeights]:
    """Host copies of every recurrent layer's weights."""
    snapshot = []
    for name, layer, cell_type in recurrent_layers(model):
        cell = layer.cell
        matrices = {
            "kernel": np.array(cell.kernel.numpy()),
            "recurrent_kernel": np.array(cell.recurrent_kernel.numpy()),
        }
        if cell.use_bias:
            bias = np.array(cell.bias.numpy())
            if bias.ndim == 2:
                matrices["bias"], matrices["recurrent_bias"] = bias[0], bias[1]
            else:
                matrices["bias"] = bias
        snapshot.append(RecurrentWeights(name, cell_type, cell.units, matrices))
    return snapshot
