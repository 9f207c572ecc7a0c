"""What the LSTM's gates do on the adding problem's marked steps, before and after training.

    python scripts/adding_gates.py <run dir of experiment=adding_memory>

For the run's validation sequences, it replays the gates in numpy (the same
replay the ``activations`` visualizer draws) with the initial weights and the
trained ones, and prints each gate's mean at the two marked steps and at the
other steps, with the forget bias's mean. Run from anywhere.
"""

import argparse
import sys
from pathlib import Path

import numpy as np


def gate_means(model, x, marker):
    from lstm_experiments.capture.model_capture import take_snapshot
    from lstm_experiments.gates.activity import stack_activity

    snapshot = take_snapshot(model, step=0, probe_x=x)
    (activity,) = stack_activity(snapshot.layers, x)
    marked = marker.astype(bool)
    out = {}
    for gate, values in activity.gates.items():
        per_unit = values[marked].mean(axis=0) - values[~marked].mean(axis=0)
        unit = int(np.argmax(np.abs(per_unit)))
        out[gate] = (float(values[marked].mean()), float(values[~marked].mean()), unit,
                     float(values[marked][:, unit].mean()), float(values[~marked][:, unit].mean()))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--sequences", type=int, default=500, help="validation sequences to average over")
    args = parser.parse_args(argv)
    config = args.run_dir / ".hydra" / "config.yaml"
    if not (args.run_dir / "model.keras").is_file() or not config.is_file():
        print(f"error: {args.run_dir} is not a completed run (no model.keras or .hydra/config.yaml)", file=sys.stderr)
        return 1
    from omegaconf import OmegaConf

    cfg = OmegaConf.load(config)
    if cfg.data.name != "adding" or cfg.model.cell != "lstm" or cfg.model.layers != 1 or cfg.model.bidirectional:
        print(f"error: {args.run_dir} is not a one-layer LSTM on data=adding", file=sys.stderr)
        return 1
    from lstm_experiments.run.tensorflow_setup import import_tensorflow

    import_tensorflow()
    import keras

    from lstm_experiments.data import load_dataset
    from lstm_experiments.run.layout import INITIAL_WEIGHTS
    from lstm_experiments.run.resume import checkpoint_dir

    data = load_dataset(cfg.data, cfg.seed)
    x = data.x_val[: args.sequences]
    marker = x[:, :, 1]
    trained = keras.models.load_model(args.run_dir / "model.keras")
    initial = keras.models.clone_model(trained)
    initial.optimizer = None
    initial.load_weights(checkpoint_dir(args.run_dir) / INITIAL_WEIGHTS)
    units = cfg.units
    print(f"{len(x)} validation sequences of {x.shape[1]} steps, 2 marked each; gate means at the marked / "
          "the other steps, over all units and for the unit where they differ most")
    for name, model in (("initial", initial), ("trained", trained)):
        forget_bias = float(model.get_layer("lstm").cell.bias.numpy()[units:2 * units].mean())
        print(f"{name} (forget bias mean {forget_bias:.3f}):")
        for gate, (marked, other, unit, unit_marked, unit_other) in gate_means(model, x, marker).items():
            print(f"  {gate:7s} all units {marked:.3f} / {other:.3f}   unit {unit:2d} {unit_marked:.3f} / {unit_other:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
