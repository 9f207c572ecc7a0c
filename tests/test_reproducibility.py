"""The same config and seed give identical weights and identical logged values."""

import numpy as np

from conftest import read_tensors


def test_same_seed_same_weights_and_summaries(run_tiny):
    import keras

    overrides = ["viz=[gates,stats,activations]", "seed=7"]
    first, _ = run_tiny(overrides)
    second, _ = run_tiny(overrides)
    weights = [keras.models.load_model(d / "model.keras").get_weights() for d in (first, second)]
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)
    logged = [read_tensors(d / "tensorboard") for d in (first, second)]
    assert logged[0].keys() == logged[1].keys()
    for tag, values in logged[0].items():
        if tag.startswith("_hparams_"):
            continue  # names the run directory, which differs
        for (step_a, a), (step_b, b) in zip(values, logged[1][tag]):
            assert step_a == step_b
            np.testing.assert_array_equal(a, b, err_msg=tag)


def test_another_seed_gives_other_weights(run_tiny):
    import keras

    a, _ = run_tiny(["viz=none", "seed=1"])
    b, _ = run_tiny(["viz=none", "seed=2"])
    wa = keras.models.load_model(a / "model.keras").get_weights()[0]
    wb = keras.models.load_model(b / "model.keras").get_weights()[0]
    assert not np.array_equal(wa, wb)
