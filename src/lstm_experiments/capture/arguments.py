"""``GateLogger``'s arguments, checked when it is made: a ValueError names the argument and the value."""

import logging

from lstm_experiments.viz import VISUALIZERS

log = logging.getLogger(__name__)

DEFAULT_VISUALIZERS = ("kernel", "gates", "bias")
ALL = "all"


def visualizer_names(visualizers) -> tuple[str, ...]:
    """The visualizers' names in the registry's order (the order the runner's config gives them)."""
    if visualizers == ALL:
        return tuple(VISUALIZERS)
    names = (visualizers,) if isinstance(visualizers, str) else tuple(visualizers)
    unknown = [name for name in names if name not in VISUALIZERS]
    if unknown:
        raise ValueError(f"visualizers={unknown[0]!r} is not one of {', '.join(VISUALIZERS)} (or 'all')")
    return tuple(name for name in VISUALIZERS if name in names)


def feature_names(names) -> tuple[str, ...] | None:
    if names is None:
        return None
    if isinstance(names, str | bytes):
        raise ValueError(f"feature_names={names!r} must be a sequence of names, one per input feature")
    names = tuple(names)
    bad = [name for name in names if not isinstance(name, str)]
    if bad:
        raise ValueError(f"feature_names: {bad[0]!r} is not a string")
    return names


def probe_pair(probe):
    if probe is None:
        return None
    if not isinstance(probe, tuple | list) or len(probe) != 2:
        raise ValueError("probe must be a pair (x, y), each what the model's fit takes (an array, or a list "
                         f"or dict of arrays); received {type(probe).__name__} of length "
                         f"{len(probe) if hasattr(probe, '__len__') else '?'}")
    return tuple(probe)


def every(value, name: str, optional: bool = False) -> int | None:
    """A positive whole number of epochs or batches (None allowed when ``optional``)."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name}={value!r} (must be an integer >= 1{' or None' if optional else ''})")
    return value


def findings(value, probe):
    """``findings=``: None (on where a probe is given), True, False, or a dict of thresholds
    (``findings.thresholds.NAMES``, and ``enabled``); the Thresholds, or None when off."""
    from lstm_experiments.findings.thresholds import thresholds_from

    if value is None:
        value = probe is not None
    if isinstance(value, bool):
        return thresholds_from({}, key="findings") if value else None
    if not isinstance(value, dict):
        raise ValueError(f"findings={value!r} must be True, False, None or a dict of thresholds")
    options = dict(value)
    if not options.pop("enabled", True):
        return None
    return thresholds_from(options, key="findings")


def vocabulary(value, probe, feature_names_given: bool):
    """``vocabulary=``: None, a list of tokens or a callable id -> text, for a probe of token ids or one-hot
    vectors; (the text of each id, or None; the feature names it gives one-hot inputs, or None). Checked
    against the probe (``board.tokens.vocabulary_texts``); without a probe there is nothing to label."""
    from lstm_experiments.board.metadata import PROBE_ONE_HOT
    from lstm_experiments.board.tokens import encoding, vocabulary_texts

    if value is None:
        return None, None
    if probe is None:
        log.warning("GateLogger: vocabulary= labels the probe's tokens; without probe=(x, y) it is not used")
        return None, None
    texts = vocabulary_texts(value, probe[0])
    # One-hot inputs are features named by their token: the first kernel's rows and the probe's features.
    one_hot = encoding(probe[0], with_vocabulary=True) == PROBE_ONE_HOT
    return texts, (texts if one_hot and not feature_names_given else None)
