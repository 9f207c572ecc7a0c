"""The Hydra entry point: compose the config, run one experiment, return its val_loss.

Nothing here imports TensorFlow, so ``--help``, ``--cfg job`` and config errors
answer fast; the training code is imported only when a job really runs.
"""

from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from lstm_experiments.run_names import register_run_name_resolver
from lstm_experiments.schema import register_configs
from lstm_experiments.tf_threads import threads_per_job

register_configs()
register_run_name_resolver()

CONFIG_PACKAGE = "pkg://lstm_experiments.conf"


@hydra.main(version_base="1.3", config_path=CONFIG_PACKAGE, config_name="config")
def main(cfg: DictConfig) -> float:
    """Train one model in Hydra's run directory; sweepers minimise the returned val_loss."""
    from lstm_experiments.runner import run_experiment

    hydra_cfg = HydraConfig.get()
    threads = threads_per_job(cfg.threads, hydra_cfg.launcher)
    metrics = run_experiment(cfg, Path(hydra_cfg.runtime.output_dir), threads=threads)
    return float(metrics["val_loss"])
