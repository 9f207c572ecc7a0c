"""The Hydra entry point: compose the config, run one experiment, return its val_loss.

Nothing here imports TensorFlow, so ``--help``, ``--cfg job`` and config errors
answer fast; the training code is imported only when a job really runs.
"""

from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from lstm_experiments.schema import register_configs

register_configs()

CONFIG_PACKAGE = "pkg://lstm_experiments.conf"


@hydra.main(version_base="1.3", config_path=CONFIG_PACKAGE, config_name="config")
def main(cfg: DictConfig) -> float:
    """Train one model in Hydra's run directory; sweepers minimise the returned val_loss."""
    from lstm_experiments.runner import run_experiment

    output_dir = Path(HydraConfig.get().runtime.output_dir)
    metrics = run_experiment(cfg, output_dir)
    return float(metrics["val_loss"])
