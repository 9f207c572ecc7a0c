"""Copies a model's recurrent weights to the host once per logged step.

Visualizers read these numpy copies, never the live variables, so they can run
while training goes on, in another thread or process, and never see a
half-updated matrix. For the loss gradients (``gate_gradients``, numpy) the
snapshot also carries the probe targets and the head's weights, activation and
loss, so no TensorFlow pass runs for them in the training process.
"""

import functools
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class RecurrentWeights:
    """One recurrent layer (one direction of a Bidirectional) and its matrices, keyed by tag name.

    ``matrices`` holds ``kernel`` (inputs, gates*units), ``recurrent_kernel``
    (units, gates*units) and, with a bias, ``bias`` (gates*units,); a GRU with
    ``reset_after`` also has ``recurrent_bias``, the bias' second row.
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


@dataclass(frozen=True)
class Snapshot:
    """Everything a visualizer may read for one logged step."""

    step: int
    layers: list[RecurrentWeights]
    # The fixed validation probe batch (inputs), for the gate activations.
    probe_x: np.ndarray | None = None
    # W_0: the step-0 matrices, {layer: {matrix name: array}}, for changes from the start.
    initial: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    # The probe batch's targets and the model's head ({kernel, bias, activation, loss}), for gradients.
    probe_y: np.ndarray | None = None
    head: dict | None = None

    @functools.cached_property
    def probe_activity(self) -> list:
        """The probe batch replayed through the recurrent stack (``gate_activity.stack_activity``).

        Computed once per snapshot, on first use, and shared by the ``activations``
        visualizer (the gate values) and the ``gradients`` one (its backward pass).
        """
        from lstm_experiments.gates.activity import stack_activity

        return stack_activity(self.layers, self.probe_x)


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


def head_of(model) -> dict:
    """The one-unit Dense head after the recurrent stack, and the loss it was compiled with."""
    head = model.layers[-1]
    values = {"kernel": np.array(head.kernel), "activation": keras_name(head.activation),
              "loss": model.loss if isinstance(model.loss, str) else getattr(model.loss, "__name__", str(model.loss))}
    if head.use_bias:
        values["bias"] = np.array(head.bias)
    return values


def take_snapshot(model, step: int, probe_x=None, probe_y=None, with_gradients=False) -> Snapshot:
    """Host copies of every recurrent layer's weights (and, for gradients, of the head)."""
    layers = []
    for name, layer, cell_type, depth, direction in recurrent_layers(model):
        cell = layer.cell
        variables = _cell_variables(cell)
        matrices = _as_host(variables, {k: v.numpy() for k, v in variables.items()})
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
            )
        )
    if with_gradients and probe_x is not None:
        return Snapshot(step=step, layers=layers, probe_x=probe_x, probe_y=probe_y, head=head_of(model))
    return Snapshot(step=step, layers=layers, probe_x=probe_x)


def keras_name(activation) -> str:
    import keras

    return keras.activations.serialize(activation) if not isinstance(activation, str) else activation
