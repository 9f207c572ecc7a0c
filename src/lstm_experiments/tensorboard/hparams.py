"""Hyperparameters for TensorBoard's HParams dashboard: the flattened config and the metrics that rank runs."""

from omegaconf import DictConfig, ListConfig, OmegaConf

from lstm_experiments.metrics import task_metrics
from lstm_experiments.tensorboard import tags

HPARAM_TYPES = (bool, int, float, str)


def flatten_config(cfg) -> dict[str, bool | int | float | str]:
    """Dotted keys to plugin-safe values: None and lists become strings (the plugin rejects them)."""
    container = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True) if isinstance(cfg, DictConfig | ListConfig) else cfg
    flat: dict[str, bool | int | float | str] = {}

    def visit(prefix: str, node) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                visit(f"{prefix}.{key}" if prefix else str(key), value)
        elif isinstance(node, HPARAM_TYPES):
            flat[prefix] = node
        else:
            flat[prefix] = str(node)

    visit("", container)
    return flat


def metric_tags(task: str) -> tuple[str, ...]:
    from lstm_experiments.data import CLASSIFICATION

    return tuple(tags.metric(name) for name in task_metrics(task in CLASSIFICATION))
