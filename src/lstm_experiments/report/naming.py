"""The report's names: tags of one kind, and how names and tags sort.

Tags are parsed with the project's vocabulary (``tensorboard.tags``), so the
report reads back exactly what a run wrote. Override values, run names and
tags sort piece by piece (``units=8`` before ``units=16``); matrices, gates and
statistics in the order a layer holds them or the vocabulary lists them,
unknown ones last.
"""

from __future__ import annotations

from lstm_experiments.config.overrides import natural_key
from lstm_experiments.gates.layout import GATE_NAMES
from lstm_experiments.tensorboard import tags

# Every cell's gates, LSTM's then GRU's, each in Keras' order.
GATE_ORDER = tuple(gate for names in GATE_NAMES.values() for gate in names)


def parse_kind(tag: str, kind: str) -> tags.Tag | None:
    """The parts of ``tag`` if it is one of the vocabulary's tags of ``kind``, else None."""
    parsed = tags.parse(tag)
    return parsed if parsed is not None and parsed.kind == kind else None


def known_order(value: str, known: tuple[str, ...]) -> tuple[int, str]:
    """A value's place in ``known``; values not in it come after, by name."""
    return (known.index(value), "") if value in known else (len(known), value)


def stat_tag_key(tag: str):
    """Layers by name, then matrices, gates and statistics in their usual order."""
    parsed = parse_kind(tag, tags.STATS)
    if parsed is None:
        return (1, natural_key(tag))
    return (
        0,
        natural_key(parsed.layer),
        known_order(parsed.matrix, tags.MATRICES),
        known_order(parsed.gate, GATE_ORDER),
        known_order(parsed.statistic, tags.STATISTICS),
    )
