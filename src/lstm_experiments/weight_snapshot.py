"""Copies a model's recurrent weights (and, if asked, their loss gradients) to the host once per logged step.

Visualizers read these numpy copies, never the live variables, so they can run
while training goes on and never see a half-updated matrix.
"""

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class RecurrentWeights:
    """One recurrent layer (one direction of a Bidirectional) and its matrices, keyed by tag name.

    ``matrices`` holds ``kernel`` (inputs, gates*units), ``recurrent_kernel``
    (units, gates*units) and, with a bias, ``bias`` (gates*units,); a GRU with
    ``reset_after`` also has ``recurrent_bias``, the bias' second row.
    ``gradients`` has the same keys when gradients were asked for.
    """

    layer: str
    cell: str
    units: int
    matrices: dict[str, np.ndarray]
    depth: int = 0
    direction: str = "forward"  # or "backward" (a Bidirectional's second half)
    activation: str = "tanh"
    recurrent_activation: str = "sigmoid"
    reset_after: bool = False
    returns_sequences: bool = False
    gradients: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class Snapshot:
    """Everything a visualizer may read for one logged step."""

    step: int
    layers: list[RecurrentWeights]
    # The fixed validation probe batch (inputs), for the gate activations.
    probe_x: np.ndarray | None = None
    # W_0: the step-0 matrices, {layer: {matrix name: array}}, for changes from the start.
    initial: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)


def recurrent_layers(model):
    """(tag name, Keras RNN layer, cell type, depth, direction) for each recurrent layer, in order.

    A Bidirectional layer gives its two directions under Keras' own names,
    ``forward_<name>`` and ``backward_<name>``.
    """
    import keras

    kinds = {keras.layers.LSTM: "lstm", keras.layers.GRU: "gru"}
    depth = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Bidirectional):
            yield layer.forward_layer.name, layer.forward_layer, kinds[type(layer.forward_layer)], depth, "forward"
            yield layer.backward_layer.name, layer.backward_layer, kinds[type(layer.backward_layer)], depth, "backward"
            depth += 1
        elif type(layer) in kinds:
            yield layer.name, layer, kinds[type(layer)], depth, "forward"
            depth += 1


def _split_bias(values: np.ndarray) -> dict[str, np.ndarray]:
    if values.ndim == 2:
        return {"bias": values[0], "recurrent_bias": values[1]}
    return {"bias": values}


def _cell_variables(cell) -> dict:
    variables = {"kernel": cell.kernel, "recurrent_kernel": cell.recurrent_kernel}
    if cell.use_bias:
        variables["bias"] = cell.bias
    return variables


def _as_host(variables: dict, values: dict) -> dict[str, np.ndarray]:
    out = {}
    for name in variables:
        array = np.array(values[name])
        out.update(_split_bias(array) if name == "bias" else {name: array})
    return out


# One compiled gradient function per model, kept on the model (a cycle the GC collects with it):
# run eagerly, Keras would step the recurrence in Python, which took most of a logged step's
# time on the training thread.
_GRADIENT_ATTRIBUTE = "_lstm_experiments_probe_gradients"


def _gradient_function(model):
    import keras
    import tensorflow as tf

    if getattr(model, _GRADIENT_ATTRIBUTE, None) is None:
        loss_fn = keras.losses.get(model.loss)
        variables = [v for _, layer, *_ in recurrent_layers(model)
                     for v in _cell_variables(layer.cell).values()]

        @tf.function(reduce_retracing=True)
        def gradients(x, y):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(loss_fn(y, model(x, training=False)))
            return tape.gradient(loss, [v.value for v in variables])

        object.__setattr__(model, _GRADIENT_ATTRIBUTE, (gradients, variables))
    return getattr(model, _GRADIENT_ATTRIBUTE)


def probe_gradients(model, probe_x, probe_y) -> dict[int, np.ndarray]:
    """{id(variable): gradient} of the model's loss on the probe batch."""
    function, variables = _gradient_function(model)
    gradients = function(probe_x, probe_y)
    return {id(v): (np.zeros(v.shape) if g is None else g.numpy()) for v, g in zip(variables, gradients)}


def take_snapshot(model, step: int, probe_x=None, probe_y=None, with_gradients=False) -> Snapshot:
    """Host copies of every recurrent layer's weights (and loss gradients on the probe batch)."""
    gradients = probe_gradients(model, probe_x, probe_y) if with_gradients else {}
    layers = []
    for name, layer, cell_type, depth, direction in recurrent_layers(model):
        cell = layer.cell
        variables = _cell_variables(cell)
        matrices = _as_host(variables, {k: v.numpy() for k, v in variables.items()})
        grads = _as_host(variables, {k: gradients[id(v)] for k, v in variables.items()}) if gradients else {}
        layers.append(
            RecurrentWeights(
                layer=name,
                cell=cell_type,
                units=cell.units,
                matrices=matrices,
                depth=depth,
                direction=direction,
                activation=keras_name(cell.activation),
                recurrent_activation=keras_name(cell.recurrent_activation),
                reset_after=bool(getattr(cell, "reset_after", False)),
                returns_sequences=bool(layer.return_sequences),
                gradients=grads,
            )
        )
    return Snapshot(step=step, layers=layers, probe_x=probe_x)


def keras_name(activation) -> str:
    import keras

    return keras.activations.serialize(activation) if not isinstance(activation, str) else activation
