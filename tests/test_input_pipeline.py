"""The pipelines that feed fit: every sample once per epoch, a new order each epoch, no tf.data autotuning."""

import numpy as np
import pytest

X = np.arange(37 * 3 * 2, dtype=np.float32).reshape(37, 3, 2)
Y = np.arange(37, dtype=np.float32).reshape(37, 1) * 10


def epoch(dataset):
    return [(x.numpy(), y.numpy()) for x, y in dataset]


def sample_ids(batches):
    return [int(i) for _, y in batches for i in (y[:, 0] / 10)]


def test_batches_keep_pairs_and_sizes_without_shuffle():
    from lstm_experiments.data.input_pipeline import batches

    got = epoch(batches(X, Y, 8))
    assert [len(y) for _, y in got] == [8, 8, 8, 8, 5]
    assert sample_ids(got) == list(range(37))
    for x, y in got:
        np.testing.assert_array_equal(x, X[(y[:, 0] / 10).astype(int)])


def test_seeded_batches_reshuffle_every_epoch_and_repeat_across_pipelines():
    from lstm_experiments.data.input_pipeline import batches

    dataset = batches(X, Y, 8, shuffle_seed=3)
    first, second = epoch(dataset), epoch(dataset)
    assert sorted(sample_ids(first)) == sorted(sample_ids(second)) == list(range(37))
    assert sample_ids(first) != sample_ids(second) != list(range(37))
    for x, y in first:  # each x still travels with its own y
        np.testing.assert_array_equal(x, X[(y[:, 0] / 10).astype(int)])
    again = batches(X, Y, 8, shuffle_seed=3)
    assert sample_ids(epoch(again)) == sample_ids(first)
    assert sample_ids(epoch(again)) == sample_ids(second)


def test_autotuning_is_off():
    from lstm_experiments.data.input_pipeline import batches

    options = batches(X, Y, 8, shuffle_seed=0).options()
    assert options.autotune.enabled is False


def test_mismatched_lengths_are_refused():
    from lstm_experiments.data.input_pipeline import batches

    with pytest.raises(ValueError, match="37 samples but y has 36"):
        batches(X, Y[:36], 8)


def test_training_batches_depend_on_the_epoch_alone():
    """A pipeline started at epoch 2 (a resumed run) gives the batches an uninterrupted one gives at epoch 2."""
    from lstm_experiments.data.input_pipeline import training_batches

    dataset, steps = training_batches(X, Y, 8, seed=3)
    assert steps == 5
    batches_seen = [(x.numpy(), y.numpy()) for x, y in dataset.take(4 * steps)]
    epochs = [batches_seen[i * steps:(i + 1) * steps] for i in range(4)]
    for one in epochs:
        assert [len(y) for _, y in one] == [8, 8, 8, 8, 5]
        assert sorted(sample_ids(one)) == list(range(37))
        for x, y in one:
            np.testing.assert_array_equal(x, X[(y[:, 0] / 10).astype(int)])
    assert len({tuple(sample_ids(one)) for one in epochs}) == 4
    resumed, _ = training_batches(X, Y, 8, seed=3, first_epoch=2)
    assert sample_ids([(x.numpy(), y.numpy()) for x, y in resumed.take(2 * steps)]) == \
        sample_ids(epochs[2] + epochs[3])
    other_seed, _ = training_batches(X, Y, 8, seed=4)
    assert sample_ids([(x.numpy(), y.numpy()) for x, y in other_seed.take(steps)]) != sample_ids(epochs[0])
