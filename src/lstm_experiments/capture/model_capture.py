"""What ``GateLogger`` takes from one model at each logged step, and what it says it cannot take.

A ``ModelCapture`` finds the model's recurrent layers once (``capture.layers``),
decides once which probe path fits (the numpy replay of a plain stack, or the
compiled probe pass), and makes a ``Snapshot`` per logged step.

A model Keras has not built yet (a subclassed model not called before
``fit``: Keras builds it while tracing the first batch) has no weights at
``on_train_begin``. With a probe, the capture builds it symbolically, as Keras'
own ``_symbolic_build`` would, with no computation and no state changed. Without
one, ``watch_builds`` wraps each unbuilt layer's ``build`` and copies the
weights the moment Keras makes them, before the first batch changes them: step
0 is still the initial weights.

``notices`` are the lines the logger prints once: a layer it cannot log at
all, a visualizer that cannot serve a layer.
"""

import functools
import logging

from lstm_experiments.capture.layers import find_recurrent_layers
from lstm_experiments.capture.snapshot import (
    Snapshot, cell_variables, head_of, host_matrices, is_plain_stack, keras_name, layer_weights,
)
from lstm_experiments.errors import first_line
from lstm_experiments.gates.activity import why_not_replayed
from lstm_experiments.gates.layout import CONV_LSTM

log = logging.getLogger(__name__)


def _reason(error: BaseException) -> str:
    """The line that says why: a traced function's error names its cause on its last ``...Error:`` line."""
    for line in reversed(str(error).splitlines()):
        head, _, message = line.strip().partition(": ")
        if message and head.endswith(("Error", "Exception")) and head.replace(".", "").isidentifier():
            return message
    return first_line(error)


def _activations(cell) -> tuple[str, ...]:
    return tuple(keras_name(a) for a in (cell.activation, getattr(cell, "recurrent_activation", cell.activation)))


class ModelCapture:
    """Host copies of ``model``'s recurrent weights per step, with the probe's records when there is one.

    ``probe_x``/``probe_y``: what the model's ``fit`` takes as x and y (an array, a list
    or a dict of arrays), or None. ``plain``: whether the model is a plain stack
    (``snapshot.is_plain_stack``); None works it out when it matters.
    """

    def __init__(self, model, probe_x=None, probe_y=None, with_gradients: bool = False,
                 plain: bool | None = None, with_head: bool = False):
        self.model = model
        self.discovery = find_recurrent_layers(model)
        self.probe_x = probe_x
        self.probe_y = probe_y
        self.with_gradients = bool(with_gradients) and probe_x is not None and probe_y is not None
        # The findings' gradient through time: a plain stack's head for the drawing side's own backward
        # pass; on any other model, the probe pass' loss gradient at each recurrent layer's output.
        self.with_head = bool(with_head) and probe_x is not None and probe_y is not None
        self._plain = plain
        self._pass = None
        # Why the probe pass cannot run (one line), once it failed; the probe's visualizers then stop.
        self.probe_failure: str | None = None
        # {cell name: matrices} copied by ``watch_builds`` as Keras made them.
        self.built_weights: dict[str, dict] = {}

    @property
    def layers(self):
        return self.discovery.layers

    @property
    def plain(self) -> bool:
        if self._plain is None:
            self._plain = is_plain_stack(self.model)
        return self._plain

    # ------------------------------------------------------------------ building

    def rediscover(self) -> list:
        """Find the layers again (a user's layer may make its LSTM while it builds); those new since."""
        known = {found.name for found in self.layers}
        self.discovery = find_recurrent_layers(self.model)
        return [found for found in self.layers if found.name not in known]

    def unbuilt(self) -> bool:
        """Whether Keras has yet to build a recurrent layer, or the model (which may make its layers as it builds)."""
        return bool(self.discovery.unbuilt()) or not getattr(self.model, "built", True)

    def build_from_probe(self) -> bool:
        """Build an unbuilt model from the probe's shapes, symbolically (no computation, no state
        changed); False without a probe or if Keras cannot."""
        if self.probe_x is None:
            return False
        import keras
        from keras.src import backend  # what Keras' own Trainer._symbolic_build calls

        def symbolic(value):
            value = keras.ops.convert_to_tensor(value)
            return keras.KerasTensor(value.shape, keras.backend.standardize_dtype(value.dtype))

        try:
            backend.compute_output_spec(self.model, keras.tree.map_structure(symbolic, self.probe_x),
                                              training=False)
        except Exception as error:  # noqa: BLE001 - Keras' own message says what does not fit
            log.warning("GateLogger: the model cannot be built from the probe's shapes (%s); "
                        "step 0 waits for the first batch", first_line(error))
            return False
        self.discovery = find_recurrent_layers(self.model)
        return not self.unbuilt()

    def watch_builds(self) -> None:
        """Copy each unbuilt layer's weights the moment Keras makes them (into ``built_weights``)."""
        import tensorflow as tf

        pending = self.discovery.unbuilt()
        for layer in {id(f.layer): f.layer for f in pending}.values():
            cells = [f for f in pending if f.layer is layer]
            original = layer.build

            @functools.wraps(original)
            def build_and_copy(*args, _layer=layer, _original=original, _cells=cells, **kwargs):
                _original(*args, **kwargs)
                _layer.build = _original
                with tf.init_scope():  # Keras makes the variables eagerly, even inside its trace
                    for found in _cells:
                        values = {k: v.numpy() for k, v in cell_variables(found.cell).items()}
                        self.built_weights[found.name] = host_matrices(found.kind, values)

            layer.build = build_and_copy

    # ------------------------------------------------------------------ what to say

    def notices(self, visualizers) -> list[str]:
        """One line per layer the logger cannot log, and per visualizer that cannot serve a layer."""
        lines = [f"GateLogger: {line}" for line in self.discovery.unsupported]
        for found in self.layers:
            what = f"layer {found.name!r} ({found.type_name})"
            why = why_not_replayed(found.kind, *_activations(found.cell))
            if "activations" in visualizers and why:
                lines.append(f"GateLogger: activations are not drawn for {what}: {why}")
            if "stats" in visualizers and found.kind == CONV_LSTM:
                lines.append(f"GateLogger: stats has no spectral_norm for {what}: "
                             "its recurrent kernel is a convolution, not a matrix")
        return lines

    def unreached(self, snapshot) -> list[str]:
        """Lines for the layers the probe pass did not reach (not called on the probe)."""
        if snapshot.probes is None:
            return []
        return [f"GateLogger: layer {f.name!r} was not called on the probe: no activations or gradients for it"
                for f in self.layers if f.name not in snapshot.probes]

    # ------------------------------------------------------------------ snapshots

    def weights(self, initial: bool = False) -> list:
        """Every built cell's host copy; ``initial``: the copies ``watch_builds`` took, where it took them."""
        return [layer_weights(found, self.built_weights.get(found.name) if initial else None)
                for found in self.layers if found.cell.built]

    def snapshot_of(self, step: int, matrices: dict) -> Snapshot:
        """A snapshot of these weights ({layer: matrices}, ``train_step_tap``'s copies), without the probe."""
        return Snapshot(step=step, layers=[layer_weights(found, matrices[found.name]) for found in self.layers
                                           if found.name in matrices])

    def snapshot(self, step: int, initial: bool = False) -> Snapshot:
        """The weights (``initial``: as Keras made them) and, with a probe, what its visualizers need."""
        layers = self.weights(initial)
        if self.probe_x is None or self.probe_failure is not None:
            return Snapshot(step=step, layers=layers)
        if self.plain:
            head = head_of(self.model) if self.with_gradients or self.with_head else None
            return Snapshot(step=step, layers=layers, probe_x=self.probe_x, probe_y=self.probe_y, head=head)
        if initial and self.built_weights:
            # The probe pass would see the weights after the first batch, not these.
            log.warning("GateLogger: step 0 has no activations or gradients (the model was built by its "
                        "first batch; pass a probe, or call the model once before fit, to have them)")
            return Snapshot(step=step, layers=layers)
        if self._pass is None:
            from lstm_experiments.capture.probe_pass import ProbePass

            self._pass = ProbePass(self.model, self.layers, self.probe_x, self.probe_y, self.with_gradients,
                                   with_output_gradients=self.with_head)
        try:
            self._pass.check()
            probes, gradients = self._pass.run()
        except Exception as error:  # noqa: BLE001 - a picture must never stop training
            self.probe_failure = _reason(error)
            log.warning("GateLogger: the probe cannot run through the model: %s; "
                        "activations and gradients are off", self.probe_failure)
            return Snapshot(step=step, layers=layers)
        return Snapshot(step=step, layers=layers, probe_x=self.probe_x, probe_y=self.probe_y,
                        gradients=gradients, probes=probes, through_time_failure=self._pass.output_gradients_failure)





def take_snapshot(model, step: int, probe_x=None, probe_y=None, with_gradients=False,
                  plain: bool | None = None) -> Snapshot:
    """Host copies of every recurrent layer's weights, and what the probe's visualizers need.

    A one-off: ``GateLogger`` keeps a ``ModelCapture``, which finds the layers and compiles
    the probe pass once. ``plain``: whether ``model`` is a plain stack (``is_plain_stack``);
    None works it out.
    """
    return ModelCapture(model, probe_x, probe_y, with_gradients, plain=plain).snapshot(step)
