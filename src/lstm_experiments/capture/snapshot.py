"""Copies a model's recurrent weights to the host once per logged step.

Visualizers read these numpy copies, never the live variables, so they can run
while training goes on, in another thread or process, and never see a
half-updated matrix. Any Keras model works: its LSTM and GRU layers are found
wherever they are (Sequential, functional, subclassed, nested models,
``Bidirectional``).

For the probe's activations and gradients there are two paths. A plain stack
(the runner's model: recurrent layers one after the other from the input, the
last returning its final step, then a one-unit Dense head) is replayed in
numpy in the drawing process: the snapshot carries the probe, the targets and
the head, and no TensorFlow pass runs for them in the training process. Any
other model gets one forward pass on the probe per logged step here, which
records every recurrent layer's input (the replay then starts from it), and,
for gradients, one ``GradientTape`` pass with the model's compiled loss.
"""

import functools
from dataclasses import dataclass, field, replace

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
    # The probe batch as this layer received it (batch, time, features), where the model is not
    # a plain stack; None: the replay feeds it the previous layer's rebuilt output.
    probe_input: np.ndarray | None = None


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
    # The probe loss' gradients {layer: {matrix: array}}, where they were taken with TensorFlow
    # (a model that is not a plain stack); None: ``gates.gradients`` computes them from the head.
    gradients: dict | None = None

    @functools.cached_property
    def probe_activity(self) -> list:
        """The probe batch replayed through the recurrent layers (``gates.activity.stack_activity``).

        Computed once per snapshot, on first use, and shared by the ``activations``
        visualizer (the gate values) and the ``gradients`` one (its backward pass).
        A layer that carries its own recorded input is replayed from it alone.
        """
        from lstm_experiments.gates.activity import stack_activity

        if self.layers and all(layer.probe_input is not None for layer in self.layers):
            return [activity for layer in self.layers
                    for activity in stack_activity([replace(layer, depth=0)], layer.probe_input)]
        return stack_activity(self.layers, self.probe_x)


def _recurrent_kinds() -> dict:
    import keras

    return {keras.layers.LSTM: "lstm", keras.layers.GRU: "gru"}


def _walk(layer_list, kinds, found: list, depth: list) -> None:
    import keras

    for layer in layer_list:
        if isinstance(layer, keras.layers.Bidirectional):
            for direction, half in (("forward", layer.forward_layer), ("backward", layer.backward_layer)):
                if type(half) in kinds:
                    found.append((half, kinds[type(half)], depth[0], direction))
            depth[0] += 1
        elif type(layer) in kinds:
            found.append((layer, kinds[type(layer)], depth[0], "forward"))
            depth[0] += 1
        elif getattr(layer, "layers", None):  # a nested model
            _walk(layer.layers, kinds, found, depth)


def recurrent_layers(model):
    """(tag name, Keras RNN layer, cell type, depth, direction) for each LSTM or GRU layer, in order.

    Nested models are searched too. A Bidirectional layer gives its two directions
    under Keras' own names, ``forward_<name>`` and ``backward_<name>``. A name that
    two layers share (possible only across nested models) gets a ``_2``, ``_3``...
    suffix in the order the layers come, so every layer keeps tags of its own.
    """
    found: list = []
    _walk(model.layers, _recurrent_kinds(), found, [0])
    seen: dict[str, int] = {}
    for layer, cell, depth, direction in found:
        seen[layer.name] = seen.get(layer.name, 0) + 1
        name = layer.name if seen[layer.name] == 1 else f"{layer.name}_{seen[layer.name]}"
        yield name, layer, cell, depth, direction


def is_plain_stack(model) -> bool:
    """Whether the numpy replay and gradients fit ``model``: the runner's shape of model.

    That is recurrent layers (or Bidirectional ones) one after the other from the
    model's input, the last returning its final step only, then a one-unit Dense
    head compiled with ``mse`` or ``binary_crossentropy``.
    """
    import keras

    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    if len(layers) < 2 or not isinstance(layers[-1], keras.layers.Dense) or layers[-1].units != 1:
        return False
    kinds = _recurrent_kinds()
    body = layers[:-1]
    for layer in body:
        inner = layer.forward_layer if isinstance(layer, keras.layers.Bidirectional) else layer
        if type(inner) not in kinds or (isinstance(layer, keras.layers.Bidirectional) and layer.merge_mode != "concat"):
            return False
    if getattr(body[-1], "return_sequences", True) or not all(
            getattr(layer, "return_sequences", False) for layer in body[:-1]):
        return False
    if not isinstance(model, keras.Sequential):
        try:  # a functional model: each layer must read the one before it, the first the input
            previous = model.inputs[0]
            for layer in layers:
                if layer.input is not previous:
                    return False
                previous = layer.output
        except (AttributeError, ValueError, IndexError):  # subclassed, or a layer used twice
            return False
    loss = getattr(model, "loss", None)
    return loss in ("mse", "mean_squared_error", "binary_crossentropy")


def record_layer_inputs(model, named_layers, x) -> dict[str, np.ndarray]:
    """{tag name: the input each recurrent layer receives}, from one forward pass of ``model`` on ``x``.

    Each layer's ``call`` is wrapped for the pass and restored after it.
    """
    seen: dict[str, np.ndarray] = {}
    for name, layer in named_layers:
        original = layer.call

        def recording(*args, _name=name, _original=original, **kwargs):
            sequences = args[0] if args else kwargs.get("sequences", kwargs.get("inputs"))
            seen[_name] = np.array(sequences)
            return _original(*args, **kwargs)

        layer.call = recording
    try:
        model(x, training=False)
    finally:
        for _, layer in named_layers:
            del layer.call
    return seen


def tape_gradients(model, named_layers, x, y) -> dict[str, dict[str, np.ndarray]]:
    """{tag name: {matrix: dL/dmatrix}} on (x, y) with the model's compiled loss, by ``GradientTape``."""
    import tensorflow as tf

    variables = [(name, key, variable) for name, layer in named_layers
                 for key, variable in _cell_variables(layer.cell).items()]
    with tf.GradientTape() as tape:
        prediction = model(x, training=False)
        loss = model.compute_loss(x=x, y=y, y_pred=prediction)
    gradients = tape.gradient(loss, [variable for _, _, variable in variables])
    out: dict[str, dict[str, np.ndarray]] = {}
    for (name, key, _), gradient in zip(variables, gradients):
        if gradient is not None:
            array = np.array(gradient)
            out.setdefault(name, {}).update(_split_bias(array) if key == "bias" else {key: array})
    return out


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


def take_snapshot(model, step: int, probe_x=None, probe_y=None, with_gradients=False,
                  plain: bool | None = None) -> Snapshot:
    """Host copies of every recurrent layer's weights, and what the probe's visualizers need.

    ``plain``: whether ``model`` is a plain stack (``is_plain_stack``); None works it out.
    """
    found = list(recurrent_layers(model))
    if probe_x is not None and plain is None:
        plain = is_plain_stack(model)
    inputs = {}
    if probe_x is not None and not plain:
        inputs = record_layer_inputs(model, [(name, layer) for name, layer, *_ in found], probe_x)
    layers = []
    for name, layer, cell_type, depth, direction in found:
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
                probe_input=inputs.get(name),
            )
        )
    if not with_gradients or probe_x is None or probe_y is None:
        return Snapshot(step=step, layers=layers, probe_x=probe_x)
    if plain:
        return Snapshot(step=step, layers=layers, probe_x=probe_x, probe_y=probe_y, head=head_of(model))
    gradients = tape_gradients(model, [(name, layer) for name, layer, *_ in found], probe_x, probe_y)
    return Snapshot(step=step, layers=layers, probe_x=probe_x, probe_y=probe_y, gradients=gradients)


def keras_name(activation) -> str:
    import keras

    return keras.activations.serialize(activation) if not isinstance(activation, str) else activation
