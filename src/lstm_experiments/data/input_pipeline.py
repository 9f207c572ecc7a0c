"""The tf.data pipelines that feed ``fit`` and ``evaluate``, with tf.data's autotuning off.

Given numpy arrays, Keras builds a pipeline with autotuned parallelism, and
tf.data then starts an autotuning thread for each iterator: one per epoch for
training, one per validation pass. With TensorFlow 2.21 on this project's
2-core development machine, destroying such an iterator at the end of an epoch
sometimes waited out that thread's current optimisation period with both
cores idle (seen with gdb: the training thread in
``RootDataset::Iterator::~Iterator``, the autotuning thread in
``Model::OptimizeLoop``'s timed wait; how long and how often:
docs/performance.md, "tf.data's autotuner").

These pipelines do what Keras' does for in-memory arrays (a new permutation of
the training set every epoch, each batch gathered from one copy of the arrays,
a small prefetch) with ``tf.data.Options.autotune.enabled = False``, so that
thread never starts. Whole arrays in memory need no tuning.

``training_batches`` orders each epoch by a permutation drawn from (seed,
epoch) alone, so a run resumed at epoch k sees the same batches an
uninterrupted run sees at epoch k (a reshuffling ``Dataset.shuffle`` would start
again from its first order).
"""

import math

import numpy as np
import tensorflow as tf

PREFETCH_BATCHES = 2


def pipeline_options() -> tf.data.Options:
    options = tf.data.Options()
    options.autotune.enabled = False
    # As Keras does for arrays: no graph rewrite (a serialisation of the pipeline) per iterator.
    options.experimental_optimization.apply_default_optimizations = False
    return options


def batches(x: np.ndarray, y: np.ndarray, batch_size: int, shuffle_seed: int | None = None) -> tf.data.Dataset:
    """(x, y) in batches of ``batch_size``, the last one partial; reshuffled every epoch when seeded."""
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} samples but y has {len(y)}")
    indices = tf.data.Dataset.range(len(x))
    if shuffle_seed is not None:
        indices = indices.shuffle(len(x), seed=shuffle_seed, reshuffle_each_iteration=True)
    arrays = tf.data.Dataset.from_tensors((x, y)).repeat()
    dataset = tf.data.Dataset.zip((indices.batch(batch_size), arrays)).map(_gather)
    return dataset.prefetch(PREFETCH_BATCHES).with_options(pipeline_options())


def training_batches(x: np.ndarray, y: np.ndarray, batch_size: int, seed: int,
                     first_epoch: int = 0) -> tuple[tf.data.Dataset, int]:
    """(an endless pipeline of epochs from ``first_epoch`` on, batches per epoch) for ``fit``.

    Epoch e is the permutation of the samples given by the stateless seed
    (seed, e), in batches of ``batch_size``, the last one partial. ``fit`` needs
    ``steps_per_epoch`` (the second value) and then keeps one iterator for all epochs.
    """
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} samples but y has {len(y)}")
    n = len(x)
    if n == 0:
        raise ValueError("no training samples: an epoch would never end")

    def epoch_order(epoch):
        keys = tf.random.stateless_uniform([n], seed=tf.stack([tf.constant(seed, tf.int64), epoch]))
        return tf.data.Dataset.from_tensor_slices(tf.argsort(keys)).batch(batch_size)

    indices = tf.data.Dataset.range(first_epoch, _ENDLESS).flat_map(epoch_order)
    arrays = tf.data.Dataset.from_tensors((x, y)).repeat()
    dataset = tf.data.Dataset.zip((indices, arrays)).map(_gather)
    return dataset.prefetch(PREFETCH_BATCHES).with_options(pipeline_options()), math.ceil(n / batch_size)


_ENDLESS = 2**62


def _gather(index, arrays):
    x, y = arrays
    return tf.gather(x, index), tf.gather(y, index)
