"""Finds every recurrent layer of a Keras model, wherever it is, and says which ones it cannot show.

A recurrent layer is any ``keras.layers.RNN``: ``LSTM``, ``GRU``, ``SimpleRNN``,
``ConvLSTM1D/2D/3D`` and ``RNN(cell)`` with an ``LSTMCell``, ``GRUCell``,
``SimpleRNNCell`` or a ``StackedRNNCells`` of them. They are looked for in
every layer Keras tracks, however deep: the layers of Sequential and
functional models, the attributes of subclassed models and of a user's own
layers (lists and dicts of layers too), nested models, ``Bidirectional`` (its
two directions) and ``TimeDistributed``. Built or not: the layers of a model
that has not been called yet are found as well (their weights come later,
``capture.callback``).

An ``RNN`` whose cell is none of those (a user's own cell) cannot be split
into gates: it is listed in ``Discovery.unsupported``, one line each, and the
logger says so; nothing is drawn for it.
"""

from dataclasses import dataclass, field

from lstm_experiments.gates.layout import CONV_LSTM, GRU, LSTM, SIMPLE_RNN


@dataclass(frozen=True)
class FoundLayer:
    """One recurrent cell to log: its tag name, the Keras layer that runs it, and where it sits."""

    name: str  # the tag name: the Keras layer's name (a cell of a StackedRNNCells: <layer>_cell<k>)
    layer: object  # the keras.layers.RNN that runs the cell (its call, mask, state, return_sequences)
    cell: object  # the Keras cell that holds the weights
    kind: str  # gates.layout: lstm, gru, simple_rnn or conv_lstm
    depth: int  # position in the model's order of recurrent layers (both halves of a Bidirectional share one)
    direction: str  # "forward", or "backward" for a layer that reads its sequence reversed (go_backwards)
    # Within a StackedRNNCells, the tag name of the cell whose outputs this one reads; None: it
    # reads the RNN layer's input.
    previous: str | None = None
    # Which of the RNN layer's states are this cell's: [start, stop) of its flattened states.
    state_slice: tuple[int, int] = (0, 0)

    @property
    def type_name(self) -> str:
        return type(self.layer).__name__


@dataclass
class Discovery:
    layers: list[FoundLayer] = field(default_factory=list)
    # One line per recurrent layer that is not logged, naming it and why.
    unsupported: list[str] = field(default_factory=list)

    def unbuilt(self) -> list[FoundLayer]:
        """The layers whose weights Keras has not made yet (a model not called before ``fit``)."""
        return [found for found in self.layers if not found.cell.built]


def _cell_kinds() -> dict:
    import keras
    from keras.src.layers.rnn.conv_lstm import ConvLSTMCell  # not exported: ConvLSTM1D/2D/3D make it

    return {keras.layers.LSTMCell: LSTM, keras.layers.GRUCell: GRU, keras.layers.SimpleRNNCell: SIMPLE_RNN,
            ConvLSTMCell: CONV_LSTM}


def _kind(cell, kinds: dict) -> str | None:
    for cls, kind in kinds.items():
        if isinstance(cell, cls):
            return kind
    return None


def _state_count(kind: str) -> int:
    return 2 if kind in (LSTM, CONV_LSTM) else 1  # [h, c] or [h]


def _children(layer) -> list:
    # Every sublayer Keras tracks on this layer: attributes (and lists, dicts of them) of models
    # and of users' own layers, a functional model's layers, a wrapper's ``layer``. Keras' own
    # ``Model.layers`` is this same call; a plain ``Layer`` has no public equivalent.
    return list(layer._flatten_layers(include_self=False, recursive=False))


class _Walk:
    def __init__(self):
        import keras

        self.keras = keras
        self.kinds = _cell_kinds()
        self.found: list[tuple] = []
        self.unsupported: list[str] = []
        self.depth = 0
        self.seen: set[int] = set()

    def visit(self, layer) -> None:
        if id(layer) in self.seen:  # a layer used twice, or reachable by two paths
            return
        self.seen.add(id(layer))
        if isinstance(layer, self.keras.layers.Bidirectional):
            added = [self.rnn(half) for half in (layer.forward_layer, layer.backward_layer)]
            self.depth += max(added)
        elif isinstance(layer, self.keras.layers.RNN):
            self.depth += self.rnn(layer)
        else:
            for child in _children(layer):
                self.visit(child)

    def rnn(self, layer) -> int:
        """Add the cells of one RNN layer at the current depth; how many levels they take."""
        self.seen.add(id(layer))
        direction = "backward" if layer.go_backwards else "forward"
        cell = layer.cell
        cells = list(cell.cells) if isinstance(cell, self.keras.layers.StackedRNNCells) else [cell]
        kinds = [_kind(c, self.kinds) for c in cells]
        if None in kinds:
            odd = cells[kinds.index(None)]
            self.unsupported.append(
                f"layer {layer.name!r} ({type(layer).__name__} with cell {type(odd).__name__}) is not logged: "
                "GateLogger splits the gates of LSTM, GRU, SimpleRNN and ConvLSTM cells only")
            return 0
        stacked = len(cells) > 1 or cell is not cells[0]
        start, previous = 0, None
        for index, (one, kind) in enumerate(zip(cells, kinds)):
            name = f"{layer.name}_cell{index}" if stacked else layer.name
            stop = start + _state_count(kind)
            self.found.append((name, layer, one, kind, self.depth + index, direction, previous, (start, stop)))
            start, previous = stop, name
        return len(cells)


def find_recurrent_layers(model) -> Discovery:
    """Every recurrent cell of ``model``, in the model's order, and a line for each RNN it cannot show.

    A Bidirectional layer gives its two directions under Keras' own names,
    ``forward_<name>`` and ``backward_<name>``. A name that two layers share
    (possible across nested models) gets a ``_2``, ``_3``... suffix in the order
    the layers come, so every layer keeps tags of its own.
    """
    walk = _Walk()
    for child in _children(model):
        walk.visit(child)
    seen: dict[str, int] = {}
    renamed: dict[str, str] = {}
    layers = []
    for name, layer, cell, kind, depth, direction, previous, states in walk.found:
        seen[name] = seen.get(name, 0) + 1
        unique = name if seen[name] == 1 else f"{name}_{seen[name]}"
        renamed[name] = unique
        layers.append(FoundLayer(unique, layer, cell, kind, depth, direction,
                                 renamed.get(previous) if previous else None, states))
    return Discovery(layers, walk.unsupported)
