"""Copies a model's recurrent weights to the host once per logged step.

Visualizers read these numpy copies, never the live variables, so they can run
while training goes on, in another thread or process, and never see a
half-updated matrix. Any Keras model works: its recurrent layers are found
wherever they are (``capture.layers``).

For the probe's activations and gradients there are two paths. A plain stack
(the runner's model: LSTM or GRU layers one after the other from the input,
the last returning its final step, then a one-unit Dense head) is replayed in
numpy in the drawing process: the snapshot carries the probe, the targets and
the head, and no TensorFlow pass runs for them in the training process. Any
other model gets one compiled pass on the probe per logged step here
(``capture.probe_pass``), which records what every recurrent layer receives
(its input, mask and initial state: the replay then starts from it), for
gradients the loss gradient of every recurrent weight and, for the findings,
the loss gradient at what each recurrent layer returns.
"""

import functools
from dataclasses import dataclass, field

import numpy as np

from lstm_experiments.gates.layout import CONV_LSTM, GATE_NAMES, GRU, LSTM, tile_kernel


@dataclass(frozen=True)
class RecurrentWeights:
    """One recurrent cell (one direction of a Bidirectional) and its matrices, keyed by tag name.

    ``matrices`` holds ``kernel`` (inputs, gates*units), ``recurrent_kernel``
    (units, gates*units) and, with a bias, ``bias`` (gates*units,); a GRU with
    ``reset_after`` also has ``recurrent_bias``, the bias' second row. A
    ConvLSTM's kernels are tiled into 2-D matrices (``gates.layout.tile_kernel``).
    """

    layer: str
    cell: str
    units: int
    matrices: dict[str, np.ndarray]
    depth: int = 0
    direction: str = "forward"  # or "backward": the layer reads its sequence reversed
    activation: str = "tanh"
    recurrent_activation: str = "sigmoid"
    reset_after: bool = False
    returns_sequences: bool = False


@dataclass(frozen=True)
class LayerProbe:
    """What one recurrent cell received in the model on the probe batch (``capture.probe_pass``)."""

    input: np.ndarray | None  # (batch, time, features); None for a stacked cell that reads ``previous``
    mask: np.ndarray | None = None  # (batch, time) booleans, True where a step counts
    initial_state: tuple[np.ndarray, ...] | None = None  # (h_0, c_0) or (h_0,); None: zeros
    previous: str | None = None  # a stacked cell's: the cell whose outputs it reads
    # The probe loss' gradient at what the layer returned, for the gradient through time
    # (``gates.gradients.probed_through_time``), in processing order: at its output, (batch, time,
    # units) or (batch, units) for the final step only (None for a stacked cell another one reads),
    # and at its final states where it returns them ((dL/dh_T, dL/dc_T) or (dL/dh_T,)), else None.
    d_output: np.ndarray | None = None
    d_states: tuple[np.ndarray, ...] | None = None
    # Keras' ``zero_output_for_mask``: a masked step outputs 0 rather than the last counted step's output.
    zero_output_for_mask: bool = False


@dataclass(frozen=True)
class Snapshot:
    """Everything a visualizer may read for one logged step."""

    step: int
    layers: list[RecurrentWeights]
    # The fixed validation probe batch (inputs) as the user gave it: an array, or a list or dict of them.
    probe_x: object = None
    # W_0: the step-0 matrices, {layer: {matrix name: array}}, for changes from the start.
    initial: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    # The probe batch's targets and the model's head ({kernel, bias, activation, loss}), for gradients.
    probe_y: object = None
    head: dict | None = None
    # The probe loss' gradients {layer: {matrix: array}}, where they were taken with TensorFlow
    # (a model that is not a plain stack); None: ``gates.gradients`` computes them from the head.
    gradients: dict | None = None
    # {layer: LayerProbe}, where the probe pass recorded each layer's input (a model that is not a
    # plain stack); None: the replay rebuilds the stack from ``probe_x``.
    probes: dict[str, LayerProbe] | None = None
    # Where in training the step stands (``capture.step_clock``): the epoch (from 1; 0 before
    # training) and the batches done in it, and what is special about it: "" (nothing),
    # ``board.metadata``'s LAST_FINITE or NON_FINITE (a run whose loss became NaN or inf).
    epoch: int = 0
    batch: int = 0
    event: str = ""
    # At a NON_FINITE step: the step that holds the last finite weights (-1: not kept).
    last_finite_step: int = -1
    # Why the probe pass took no loss gradient at the recurrent layers' outputs (a model that is
    # not a plain stack), when the findings asked for it; None: it did, or nobody asked.
    through_time_failure: str | None = None

    @functools.cached_property
    def probe_activity(self) -> list:
        """The probe batch replayed through the recurrent layers (``gates.activity``).

        Computed once per snapshot, on first use, and shared by the ``activations``
        visualizer (the gate values), the GATES board and the ``gradients`` one (its
        backward pass). Layers the replay cannot serve (a ConvLSTM) are left out.
        """
        from lstm_experiments.gates.activity import replay, stack_activity

        if self.probes is not None:
            return replay(self.layers, self.probes)
        if self.probe_x is None:
            return []
        return stack_activity(self.layers, self.probe_x)

    @functools.cached_property
    def probe_backpropagation(self):
        """The probe loss' backward pass through a plain stack (``gates.gradients.backpropagate``, from
        ``head``): the weight gradients and the gradient through time, computed once per snapshot and
        shared by the ``gradients`` visualizer and the findings. Raises ValueError for an activation or
        loss the numpy pass does not know."""
        from lstm_experiments.gates.gradients import backpropagate

        return backpropagate(self.layers, self.head, self.probe_x, self.probe_y, self.probe_activity)

    def probe_through_time(self) -> tuple[dict, dict]:
        """({layer: {"h": (time,), "c": (time,)}}, {layer: why it has none}): the gradient through time
        on the probe. On a plain stack from the shared backward pass when a visualizer already took
        it, else from a pass without the weight gradients (the findings alone need only the norms);
        on any other model from the loss gradients the probe pass took at the layers' outputs.
        Raises ValueError for an activation or loss the numpy pass does not know."""
        from lstm_experiments.gates.gradients import backpropagate, probed_through_time

        if self.probes is not None:
            return probed_through_time(self.layers, self.probes, self.probe_activity)
        if "probe_backpropagation" in self.__dict__:
            return self.probe_backpropagation.through_time, {}
        return backpropagate(self.layers, self.head, self.probe_x, self.probe_y, self.probe_activity,
                             matrices=False).through_time, {}


def cell_variables(cell) -> dict:
    """The cell's weight variables by name: ``kernel``, ``recurrent_kernel`` and, with one, ``bias``."""
    variables = {"kernel": cell.kernel, "recurrent_kernel": cell.recurrent_kernel}
    if cell.use_bias:
        variables["bias"] = cell.bias
    return variables


def host_matrices(kind: str, values: dict) -> dict[str, np.ndarray]:
    """Variables' values (or their gradients) as the snapshot's matrices: a GRU's two bias rows
    apart (``bias``, ``recurrent_bias``), a ConvLSTM's kernels tiled into 2-D."""
    out = {}
    for name, value in values.items():
        array = np.array(value)
        if name == "bias" and array.ndim == 2:
            out.update(bias=array[0], recurrent_bias=array[1])
        elif kind == CONV_LSTM and name != "bias":
            out[name] = tile_kernel(array, len(GATE_NAMES[kind]))
        else:
            out[name] = array
    return out


def keras_name(activation) -> str:
    import keras

    return keras.activations.serialize(activation) if not isinstance(activation, str) else activation


def layer_weights(found, matrices: dict | None = None) -> RecurrentWeights:
    """A found cell's host copy (``capture.layers.FoundLayer``); ``matrices``: values already copied."""
    cell = found.cell
    if matrices is None:
        matrices = host_matrices(found.kind, {k: v.numpy() for k, v in cell_variables(cell).items()})
    return RecurrentWeights(
        layer=found.name,
        cell=found.kind,
        units=int(getattr(cell, "units", None) or cell.filters),
        matrices=matrices,
        depth=found.depth,
        direction=found.direction,
        activation=keras_name(cell.activation),
        recurrent_activation=keras_name(getattr(cell, "recurrent_activation", cell.activation)),
        reset_after=bool(getattr(cell, "reset_after", False)),
        returns_sequences=bool(found.layer.return_sequences),
    )


def is_plain_stack(model) -> bool:
    """Whether the numpy replay and gradients fit ``model``: the runner's shape of model.

    That is LSTM or GRU layers (or Bidirectional ones) one after the other from the
    model's input, with activations the replay knows, none stateful or reading its
    sequence reversed on its own, the
    last returning its final step only, then a one-unit Dense head compiled with
    ``mse`` or ``binary_crossentropy``.
    """
    import keras

    from lstm_experiments.gates.activity import why_not_replayed

    kinds = {keras.layers.LSTM: LSTM, keras.layers.GRU: GRU}
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    if len(layers) < 2 or not isinstance(layers[-1], keras.layers.Dense) or layers[-1].units != 1:
        return False
    body = layers[:-1]
    for layer in body:
        bidirectional = isinstance(layer, keras.layers.Bidirectional)
        inner = layer.forward_layer if bidirectional else layer
        if type(inner) not in (keras.layers.LSTM, keras.layers.GRU) or inner.stateful:
            return False
        if why_not_replayed(kinds[type(inner)], keras_name(inner.activation),
                            keras_name(inner.recurrent_activation)):
            return False
        if (bidirectional and layer.merge_mode != "concat") or (not bidirectional and layer.go_backwards):
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


def head_of(model) -> dict:
    """The one-unit Dense head after the recurrent stack, and the loss it was compiled with."""
    head = model.layers[-1]
    values = {"kernel": np.array(head.kernel), "activation": keras_name(head.activation),
              "loss": model.loss if isinstance(model.loss, str) else getattr(model.loss, "__name__", str(model.loss))}
    if head.use_bias:
        values["bias"] = np.array(head.bias)
    return values
