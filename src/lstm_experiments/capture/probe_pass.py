"""One compiled pass of the probe batch through a model that is not a plain stack.

The probe's visualizers need what each recurrent layer really receives in the
model: its input (after an ``Embedding``, a decoder's own input...), its mask
(``Embedding(mask_zero=True)``, ``Masking``, an explicit ``mask=``) and its
initial state (``initial_state=encoder_states``, a stateful layer's carried
state); and, for ``gradients``, the loss gradient of every recurrent weight.

It is a ``tf.function`` traced once, when logging starts: the model runs
forward on the probe (``training=False``) under a ``GradientTape`` with its
compiled loss, and the graph returns every recurrent layer's arguments and the
gradients. Each logged step then runs the traced graph: no eager pass over the
model and no second forward pass for the gradients on the training thread
(docs/performance.md, "GateLogger on any model").

While tracing, each recurrent layer's ``call`` is wrapped to hand its
arguments out of the graph; the wrapper is removed when the trace ends, so
Keras' own training function never sees it. A stateful layer's carried state
is read as the pass starts and put back after it, so logging never changes
what the model computes next.
"""

import functools
import inspect

import numpy as np

from lstm_experiments.capture.snapshot import LayerProbe, cell_variables, host_matrices
from lstm_experiments.errors import first_line


def _bound_arguments(original, args, kwargs) -> tuple:
    """(sequences, initial_state, mask) from a recurrent layer's call arguments."""
    try:
        bound = inspect.signature(original).bind(*args, **kwargs).arguments
    except TypeError:
        bound = {}
    sequences = args[0] if args else bound.get("sequences", bound.get("inputs"))
    return sequences, bound.get("initial_state"), bound.get("mask")


def _output_gradients(calls: list[dict], kept: list[int], start: int, stop: int, last: bool) -> dict:
    """``LayerProbe``'s d_output and d_states from the calls' loss gradients at what the layer returned
    (its output, then its flattened states with ``return_state``), joined along the batch as the inputs.
    ``last``: the cell whose output the layer returns (a StackedRNNCells returns its last cell's)."""
    if not all("d_outputs" in calls[i] for i in kept):
        return {}
    outputs = [[np.array(d, np.float32) for d in calls[i]["d_outputs"]] for i in kept]
    out = {"d_output": np.concatenate([o[0] for o in outputs]) if last else None}
    if all(len(o) > 1 for o in outputs):
        out["d_states"] = tuple(np.concatenate(parts) for parts in zip(*[o[1 + start:1 + stop] for o in outputs]))
    return out


def _joined(calls: list[dict], start: int, stop: int, previous, last: bool = True,
            zero_output_for_mask: bool = False) -> LayerProbe:
    """One ``LayerProbe`` of every call of a layer, their sequences one after the other along the batch
    (calls of another sequence shape than the first are left out)."""
    inputs = [np.array(call["input"]) for call in calls]
    kept = [i for i, values in enumerate(inputs) if values.shape[1:] == inputs[0].shape[1:]]
    masks = [np.array(calls[i]["mask"]).astype(bool) if "mask" in calls[i] else
             np.ones(inputs[i].shape[:2], bool) for i in kept]
    mask = np.concatenate(masks) if any("mask" in calls[i] for i in kept) else None
    state = None
    if any("state" in calls[i] for i in kept):
        width = [s for i in kept if "state" in calls[i] for s in calls[i]["state"][start:stop]][0].shape[-1]
        per_call = [[np.array(s) for s in calls[i]["state"][start:stop]] if "state" in calls[i] else
                    [np.zeros((len(inputs[i]), width), np.float32)] * (stop - start) for i in kept]
        state = tuple(np.concatenate(parts) for parts in zip(*per_call))
    return LayerProbe(input=None if previous else np.concatenate([inputs[i] for i in kept]),
                      mask=mask, initial_state=state, previous=previous,
                      zero_output_for_mask=zero_output_for_mask,
                      **_output_gradients(calls, kept, start, stop, last))


def _flat_states(states) -> list:
    import keras

    return [keras.ops.convert_to_tensor(state) for state in keras.tree.flatten(states)]


class ProbePass:
    """Runs the probe through ``model`` once per call, compiled: each cell's ``LayerProbe`` and the gradients.

    ``found``: the model's ``capture.layers.FoundLayer``s. ``x`` and ``y`` are what the
    model's ``fit`` takes (an array, or a list or dict of arrays); ``y`` only with gradients.
    ``with_output_gradients``: also the loss gradient at what each recurrent layer returns, for
    the findings' gradient through time (``gates.gradients.probed_through_time``); where the
    model's loss cannot be taken so, the pass runs without them and ``output_gradients_failure``
    says why.
    """

    def __init__(self, model, found, x, y=None, with_gradients: bool = False,
                 with_output_gradients: bool = False):
        self.model = model
        self.found = list(found)
        self.x = x
        self.y = y
        self.with_gradients = with_gradients and y is not None
        self.with_output_gradients = with_output_gradients and y is not None
        self.output_gradients_failure: str | None = None
        # Each RNN layer once (the cells of a StackedRNNCells share one), in order.
        self._rnn_layers = list({id(f.layer): f.layer for f in self.found}.values())
        self._function = None

    def _graph(self):
        import keras
        import tensorflow as tf

        model, rnn_layers, with_gradients = self.model, self._rnn_layers, self.with_gradients
        with_outputs = self.with_output_gradients
        variables = [variable for f in self.found for variable in cell_variables(f.cell).values()]

        def probe_pass(x, y):
            recorded: dict[str, list] = {}
            wrapped = []
            for index, layer in enumerate(rnn_layers):
                original = layer.call

                @functools.wraps(original)
                def recording(*args, _key=str(index), _original=original, **kwargs):
                    # Every call: TimeDistributed calls its layer once per outer step, a shared
                    # layer runs once per input.
                    sequences, initial_state, mask = _bound_arguments(_original, args, kwargs)
                    entry = {"input": keras.ops.convert_to_tensor(sequences)}
                    if mask is not None:
                        entry["mask"] = keras.ops.convert_to_tensor(mask)
                    if initial_state is not None:
                        entry["state"] = _flat_states(initial_state)
                    # else a stateful layer starts from what it carries: ``run`` copies that
                    # before the pass (a read here could run after the layer's own update).
                    recorded.setdefault(_key, []).append(entry)
                    result = _original(*args, **kwargs)
                    if with_outputs:  # what the layer returns, for the loss gradient there
                        entry["outputs"] = [keras.ops.convert_to_tensor(t) for t in keras.tree.flatten(result)]
                    return result

                had_own_call = "call" in vars(layer)
                layer.call = recording
                wrapped.append((layer, had_own_call, original))
            try:
                with tf.GradientTape() as tape:
                    prediction = model(x, training=False)
                    loss = model.compute_loss(x=x, y=y, y_pred=prediction) if with_gradients or with_outputs else None
            finally:
                for layer, had_own_call, original in wrapped:
                    if had_own_call:
                        layer.call = original
                    else:
                        del layer.call
            entries = [entry for calls in recorded.values() for entry in calls]
            counts = [len(entry.get("outputs", [])) for entry in entries]
            outputs = [t for entry in entries for t in entry.pop("outputs", [])]
            targets = (list(variables) if with_gradients else []) + outputs
            # One backward pass for both; what the loss does not reach gets zeros (a structure tf.function returns).
            found = tape.gradient(loss, targets, unconnected_gradients=tf.UnconnectedGradients.ZERO) if targets else []
            gradients, at_outputs = found[:len(found) - len(outputs)], iter(found[len(found) - len(outputs):])
            if with_outputs:
                for entry, count in zip(entries, counts):
                    entry["d_outputs"] = [next(at_outputs) for _ in range(count)]
            return recorded, gradients

        return tf.function(probe_pass)

    def check(self) -> None:
        """ValueError naming the layer when the probe cannot go through the model as it is: a stateful
        layer runs only on batches of the size it was built for."""
        import keras

        sizes = {len(array) for array in keras.tree.flatten(self.x) if hasattr(array, "__len__")}
        for layer in self._rnn_layers:
            expected = getattr(layer, "_expected_batch_size", None) if layer.stateful else None
            if expected is not None and sizes and sizes != {expected}:
                raise ValueError(f"layer {layer.name!r} is stateful with batch size {expected}; the probe has "
                                 f"{', '.join(map(str, sorted(sizes)))} sequences (give it {expected})")

    def run(self) -> tuple[dict[str, LayerProbe], dict | None]:
        """({cell name: LayerProbe}, {cell name: {matrix: gradient}} or None) at the model's current weights."""
        import keras

        if self._function is None:
            self._function = self._graph()
        carried = {id(layer): [(state, np.array(state)) for state in keras.tree.flatten(layer.states)]
                   for layer in self._rnn_layers if layer.stateful}
        try:
            try:
                recorded, gradients = self._function(
                    self.x, self.y if self.with_gradients or self.with_output_gradients else None)
            except Exception as error:  # noqa: BLE001 - the loss at the outputs is the findings' extra
                if not self.with_output_gradients:
                    raise
                # Without it the pictures still come: the findings say why the gradient through time is missing.
                self.output_gradients_failure = ("the loss gradient at the recurrent layers' outputs could not be "
                                                 f"taken ({first_line(error)})")
                self.with_output_gradients = False
                self._function = self._graph()
                recorded, gradients = self._function(self.x, self.y if self.with_gradients else None)
        finally:
            for states in carried.values():  # the probe never changes what a stateful layer carries
                for state, value in states:
                    state.assign(value)
        return self._probes(recorded, carried), self._gradients(gradients) if self.with_gradients else None

    def _probes(self, recorded, carried) -> dict[str, LayerProbe]:
        index_of = {id(layer): str(index) for index, layer in enumerate(self._rnn_layers)}
        probes = {}
        read = {f.previous for f in self.found if f.previous is not None}  # stacked cells another one reads
        for f in self.found:
            calls = recorded.get(index_of[id(f.layer)])
            if not calls:  # not called on the probe
                continue
            start, stop = f.state_slice
            if id(f.layer) in carried:
                stateful = tuple(value for _, value in carried[id(f.layer)][start:stop])
                calls = [{**call, "state": call.get("state", stateful)} for call in calls]
            probes[f.name] = _joined(calls, start, stop, f.previous, last=f.name not in read,
                                     zero_output_for_mask=bool(getattr(f.layer, "zero_output_for_mask", False)))
        return probes

    def _gradients(self, gradients) -> dict[str, dict[str, np.ndarray]]:
        out: dict[str, dict[str, np.ndarray]] = {}
        values = iter(gradients)
        for f in self.found:
            names = list(cell_variables(f.cell))
            out[f.name] = host_matrices(f.kind, {name: np.array(next(values)) for name in names})
        return out
