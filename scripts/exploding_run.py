"""Make an exploding gradient through time and its control in a user's own ``fit``, for docs/diagnosing.md.

    python scripts/exploding_run.py multirun/findings_exploding_gradient
    python scripts/screenshot_findings.py multirun/findings_exploding_gradient --out docs --shots exploding_gradient

Writes two ``GateLogger`` runs under the directory, as tests/test_findings.py's
``test_a_gradient_that_grows_back_through_time_is_exploding`` makes them: an LSTM
of 8 units over 12 steps of tiny inputs (× 1e-6), its input, forget and output
gates held open (bias +10) and its cell gate reading h through gain × I, so near
zero the cell state, and its gradient going back, grow by about 1 + gain a step.
SGD at 1e-12 for one epoch keeps the weights as set.

- ``cell_gain_2_exploding``: gain 2, the gradient at t = 0 about 3^11 of t = 11's
  (``exploding_gradient``);
- ``cell_gain_0.5_control``: gain 0.5, about 1.5^11 (neither exploding nor vanishing).
"""

import argparse
import json
from pathlib import Path

SEQ, FEATURES, UNITS, PROBE = 12, 2, 8, 16
RUNS = {"cell_gain_2_exploding": 2.0, "cell_gain_0.5_control": 0.5}


def data(n=96, scale=1e-6, seed=0):
    """Random inputs (n, SEQ, FEATURES) × ``scale``; the target is the mean of the last 3 steps' first feature."""
    import numpy as np

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, SEQ, FEATURES)).astype("float32")
    return x * scale, x[:, -3:, :1].mean(axis=1)


def model_with_gain(gain: float):
    """The LSTM and its Dense head, with the gates held open and the cell gate reading h through gain × I."""
    import keras
    import numpy as np

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((SEQ, FEATURES)), keras.layers.LSTM(UNITS, name="lstm"),
                              keras.layers.Dense(1, name="head")])
    cell = model.get_layer("lstm").cell
    recurrent = np.zeros((UNITS, 4 * UNITS), "float32")
    recurrent[:, 2 * UNITS:3 * UNITS] = gain * np.eye(UNITS)  # Keras' gate order: input, forget, cell, output
    bias = np.zeros(4 * UNITS, "float32")
    bias[:2 * UNITS], bias[3 * UNITS:] = 10.0, 10.0
    cell.recurrent_kernel.assign(recurrent)
    cell.bias.assign(bias)
    return model


def make_run(log_dir: Path, gain: float) -> dict:
    """Train one run into ``log_dir``; returns its findings.json."""
    import keras

    from lstm_experiments import GateLogger

    x, y = data()
    model = model_with_gain(gain)
    model.compile(keras.optimizers.SGD(1e-12), "mse")
    logger = GateLogger(log_dir, visualizers=("gates", "activations"), background=False, probe=(x[:PROBE], y[:PROBE]))
    model.fit(x, y, epochs=1, batch_size=16, verbose=0, callbacks=[logger])
    return json.loads((log_dir / "findings.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the directory the two runs go under")
    args = parser.parse_args()
    for name, gain in RUNS.items():
        document = make_run(args.out / name, gain)
        found = [f"{f['kind']} ({f['severity']}, {f['value']:.3g})" for f in document["findings"]]
        print(f"{args.out / name}: {', '.join(found) or 'no findings'}")


if __name__ == "__main__":
    main()
