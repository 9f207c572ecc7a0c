"""What GateLogger reads from inside Keras' train step: each batch's gradient norms, and the weights before its update.

A Keras callback sees a batch's logs, not its gradients, and the weights only
after the optimizer changed them. Two things need more: the per-batch gradient
norms (``batch/gradient_norm``: a spike is the first sign of an explosion) and
the last finite weights of a run whose loss or weights became NaN or inf (the
update that made them non-finite has already been applied when
``on_train_batch_end`` sees the loss).

So the tap wraps the model's ``optimizer.apply_gradients`` (and
``optimizer.scale_loss``, which Keras' train step hands the batch's loss) for
the length of ``fit`` and has Keras trace its train step again with them:
inside the traced step, before the update, it stores the batch's own loss (the
logs hold the epoch's running mean), the global gradient norm and each
recurrent cell's norm in variables and copies every recurrent weight to a shadow
variable (a device-side copy per step: one more assignment per recurrent
weight, no transfer to the host); after the update it notes whether every
updated weight is finite (one boolean the host reads each batch). The host
reads the rest only at a logged or a failing batch. ``remove`` puts the optimizer back and drops the traced step, so
a later ``fit`` without the logger runs Keras' own.

A train step of one's own that does not call ``model.optimizer.apply_gradients``
leaves the tap unread (``seen`` stays False): no gradient norms, and a failure
is logged without its last finite weights; GateLogger says so in one line.
"""

import functools

import numpy as np

from lstm_experiments.capture.snapshot import cell_variables, host_matrices
from lstm_experiments.tensorboard import tags


class TrainStepTap:
    """Gradient norms and pre-update weights of ``found`` (``capture.layers.FoundLayer``s), per train step."""

    def __init__(self, model, found):
        import tensorflow as tf

        self.model = model
        self.found = list(found)
        self._variables = {f.name: cell_variables(f.cell) for f in self.found}
        with tf.init_scope():
            # [global norm, then one per cell]; NaN until a step ran.
            self._norms = tf.Variable(np.full(1 + len(self.found), np.nan, np.float32), trainable=False)
            self._seen = tf.Variable(False, trainable=False)
            self._finite = tf.Variable(True, trainable=False)  # every updated weight finite after the last step
            self._loss = tf.Variable(np.nan, dtype=tf.float32, trainable=False)
            self._shadows = {name: {key: tf.Variable(tf.zeros_like(v), trainable=False) for key, v in vs.items()}
                             for name, vs in self._variables.items()}
        self._optimizer = None

    def install(self) -> None:
        """Wrap the optimizer's ``apply_gradients`` and have Keras trace its train step again."""
        import tensorflow as tf

        optimizer = self.model.optimizer
        original = optimizer.apply_gradients
        original_scale = optimizer.scale_loss
        cells = [(f.name, [v for v in self._variables[f.name].values()]) for f in self.found]

        @functools.wraps(original)
        def apply_and_tap(grads_and_vars, *args, **kwargs):
            pairs = [(g, v) for g, v in grads_and_vars]
            # Keras passes the model's own variable objects, the ones the cells hold.
            by_variable = {id(v): g for g, v in pairs if g is not None}
            norms = [tf.linalg.global_norm([g for g, _ in pairs if g is not None])]
            for _, variables in cells:
                grads = [by_variable[id(v)] for v in variables if id(v) in by_variable]
                norms.append(tf.linalg.global_norm(grads) if grads else tf.constant(np.nan, tf.float32))
            self._norms.assign(tf.cast(tf.stack(norms), tf.float32))
            for name, variables in self._variables.items():
                for key, variable in variables.items():
                    self._shadows[name][key].assign(variable)
            self._seen.assign(True)
            result = original(pairs, *args, **kwargs)
            # After the update (the traced step orders stateful ops as written): one reduction per weight.
            self._finite.assign(tf.reduce_all(tf.stack([tf.reduce_all(tf.math.is_finite(v)) for _, v in pairs])))
            return result

        @functools.wraps(original_scale)
        def scale_and_tap(loss):
            self._loss.assign(tf.cast(loss, tf.float32))
            return original_scale(loss)

        optimizer.apply_gradients = apply_and_tap
        optimizer.scale_loss = scale_and_tap
        self._optimizer = optimizer
        self.model.make_train_function(force=True)

    def remove(self) -> None:
        """Put the optimizer's own ``apply_gradients`` back; the next ``fit`` traces Keras' train step anew."""
        if self._optimizer is None:
            return
        for name in ("apply_gradients", "scale_loss"):
            if name in vars(self._optimizer):
                delattr(self._optimizer, name)
        self._optimizer = None
        self.model.train_function = None

    @property
    def seen(self) -> bool:
        """Whether a train step went through the tap (Keras' train step, or one that calls apply_gradients)."""
        return bool(self._seen.numpy())

    def weights_finite(self) -> bool:
        """Whether every weight the last step updated is finite after it (True before any step)."""
        return bool(self._finite.numpy())

    def batch_loss(self) -> float:
        """The last step's loss, as Keras' train step computed it for that batch alone."""
        return float(self._loss.numpy())

    def scalars(self) -> dict[str, float]:
        """The last step's ``batch/loss`` and ``batch/gradient_norm`` (global, then per recurrent cell)."""
        scalars = {tags.batch_loss(): self.batch_loss()}
        for cell, norm in self.gradient_norms().items():
            scalars[tags.batch_gradient_norm(cell or None)] = norm
        return scalars

    def gradient_norms(self) -> dict[str, float]:
        """{"": the global norm, cell name: its norm} of the last step's gradients."""
        values = self._norms.numpy()
        return {"": float(values[0]), **{f.name: float(v) for f, v in zip(self.found, values[1:])}}

    def previous_matrices(self) -> dict[str, dict[str, np.ndarray]]:
        """{cell name: matrices} as they were before the last step's update, as the snapshot holds them."""
        by_name = {f.name: f for f in self.found}
        return {name: host_matrices(by_name[name].kind, {k: v.numpy() for k, v in shadows.items()})
                for name, shadows in self._shadows.items()}

