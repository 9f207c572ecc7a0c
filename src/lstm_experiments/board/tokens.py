"""A probe of tokens: how its input holds them, their ids, and the text of each id.

``GateLogger(vocabulary=...)`` checks the vocabulary against the probe here and
turns it into texts on the training side (a callable may not pickle); the
drawing side (``board.summary``) writes the probe's ids with those texts in
``lstm_gates/probe``. Numpy only: the drawing process imports it.

- 2-D integer input (the ids an ``Embedding`` reads): ``metadata.PROBE_IDS``,
  with or without a vocabulary; any 2-D input with a vocabulary (Keras'
  ``Embedding`` casts floats to ids), provided its values are whole numbers.
- 3-D input with a vocabulary: one-hot vectors, ``metadata.PROBE_ONE_HOT``; a
  position's id is its vector's largest entry, ``metadata.NO_TOKEN`` where the
  vector is all zeros.
- Anything else: ``metadata.PROBE_FEATURES``, the float probe as before.
"""

import numpy as np

from lstm_experiments.board.metadata import NO_TOKEN, PROBE_FEATURES, PROBE_IDS, PROBE_ONE_HOT


def encoding(x, with_vocabulary: bool) -> str:
    """How the probe input ``x`` (one array) holds its tokens, if it does (module docstring)."""
    x = np.asarray(x)
    if x.ndim == 2 and (x.dtype.kind in "iu" or with_vocabulary):
        return PROBE_IDS
    if x.ndim == 3 and with_vocabulary:
        return PROBE_ONE_HOT
    return PROBE_FEATURES


def token_ids(x, how: str) -> np.ndarray:
    """int32 ids (sequences, time) of the probe input ``x`` held as ``how`` (``PROBE_IDS`` or ``PROBE_ONE_HOT``)."""
    x = np.asarray(x)
    if how == PROBE_ONE_HOT:
        ids = np.argmax(x, axis=-1).astype(np.int32)
        ids[~np.any(x != 0, axis=-1)] = NO_TOKEN
        return ids
    return x.astype(np.int32)


def vocabulary_texts(vocabulary, x) -> tuple[str, ...]:
    """The text of each token id of the probe input ``x`` (``tokens[id]``), from ``vocabulary``: a sequence
    of strings (whole) or a callable id -> text (for ids 0 to the probe's largest, or the one-hot width).

    ValueError naming ``vocabulary`` when it does not fit the probe: a string instead of a list, an entry
    that is not a string, a probe of several inputs or of floats that are not whole, an id outside the
    vocabulary, a one-hot width that is not the vocabulary's size.
    """
    if isinstance(vocabulary, str | bytes):
        raise ValueError(f"vocabulary={vocabulary[:40]!r} must be a list of tokens (list(text) for characters) "
                         "or a callable from an id to its text")
    if not callable(vocabulary):
        try:
            vocabulary = list(vocabulary)
        except TypeError:
            raise ValueError(f"vocabulary={type(vocabulary).__name__} must be a list of tokens or a callable "
                             "from an id to its text") from None
        bad = [token for token in vocabulary if not isinstance(token, str)]
        if bad:
            raise ValueError(f"vocabulary: {bad[0]!r} is not a string (received {len(bad)} such entries)")
        if not vocabulary:
            raise ValueError("vocabulary=[] has no tokens")
    if isinstance(x, list | tuple | dict):
        raise ValueError("vocabulary= labels a probe of one input array (token ids, or one-hot vectors); "
                         f"the probe's x is a {type(x).__name__} of inputs")
    x = np.asarray(x)
    how = encoding(x, with_vocabulary=True)
    if how == PROBE_FEATURES:
        raise ValueError(f"vocabulary= needs a probe of token ids (sequences, time) or one-hot vectors "
                         f"(sequences, time, vocabulary); the probe's x has shape {list(x.shape)}")
    if how == PROBE_IDS:
        if x.dtype.kind == "f" and not np.array_equal(x, np.round(x)):
            raise ValueError("vocabulary= needs token ids; the probe's x holds numbers that are not whole")
        needed = int(x.max()) + 1 if x.size else 0
        if x.size and x.min() < 0:
            raise ValueError(f"the probe holds the token id {int(x.min())}; ids start at 0")
    else:
        needed = x.shape[-1]
    if callable(vocabulary):
        return tuple(_text_of(vocabulary, token) for token in range(needed))
    if how == PROBE_ONE_HOT and needed != len(vocabulary):
        raise ValueError(f"vocabulary= has {len(vocabulary)} tokens but the probe's one-hot vectors are "
                         f"{needed} wide")
    if needed > len(vocabulary):
        raise ValueError(f"vocabulary= has {len(vocabulary)} tokens but the probe holds the id {needed - 1}")
    return tuple(vocabulary)


def _text_of(vocabulary, token: int) -> str:
    text = vocabulary(token)
    if not isinstance(text, str):
        raise ValueError(f"vocabulary({token}) returned {text!r}, not a string")
    return text
