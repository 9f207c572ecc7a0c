"""The visualizer registry: ``viz.<name>: true`` turns on the visualizer registered as ``name``.

A visualizer is a class with a ``summarise(snapshot, painter) -> Summaries``
method; it reads host copies of the weights and returns tagged summaries.
"""

from collections.abc import Callable

VISUALIZERS: dict[str, type] = {}


def register(name: str) -> Callable[[type], type]:
    def decorate(cls: type) -> type:
        VISUALIZERS[name] = cls
        cls.name = name
        return cls

    return decorate


def enabled_visualizers(viz_cfg) -> list:
    """Instances of the visualizers whose flag is true in ``viz_cfg``, in registry order."""
    return [cls() for name, cls in VISUALIZERS.items() if viz_cfg.get(name, False)]
