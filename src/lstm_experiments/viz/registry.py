"""The visualizer registry: ``viz.<name>: true`` turns on the visualizer registered as ``name``.

A visualizer is a class with a ``summarise(snapshot, painter) -> Summaries``
method; it reads host copies of the weights and returns tagged summaries.
"""

from collections.abc import Callable, Iterator

from lstm_experiments.gates.layout import split_gates
from lstm_experiments.tensorboard import tags

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


def matrices(snapshot, names: tuple[str, ...] = tags.MATRICES) -> Iterator[tuple[object, str, object]]:
    """(layer weights, matrix name, matrix) for every recurrent layer and each of ``names`` it has."""
    for layer in snapshot.layers:
        for name in names:
            if name in layer.matrices:
                yield layer, name, layer.matrices[name]


def scaled_gate_blocks(snapshot, painter, names: tuple[str, ...]):
    """(layer weights, matrix name, gate, block, scale) for each gate block of ``names``.

    A gate's block shares the colour scale of its whole matrix, so gates compare by colour.
    """
    for layer, name, matrix in matrices(snapshot, names):
        scale = painter.scale(layer.layer, name, matrix)
        for gate, block in split_gates(matrix, layer.cell).items():
            yield layer, name, gate, block, scale
