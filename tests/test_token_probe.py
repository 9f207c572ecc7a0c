"""The probe kept as tokens: ``GateLogger(vocabulary=...)`` in a user's own ``fit`` (Embedding ids and one-hot
vectors), ``board.tokens`` and ``lstm_gates/probe`` read back with TensorBoard's own reader."""

from types import SimpleNamespace

import numpy as np
import pytest

from conftest import read_tensors
from lstm_experiments.board import metadata
from lstm_experiments.board.summary import GateBoard
from lstm_experiments.board.tokens import encoding, token_ids, vocabulary_texts

TEXT = "if (a): print('x')\n" * 8
CHARS = sorted(set(TEXT))
SEQ_LEN = 12


def windows(text=TEXT, seq_len=SEQ_LEN):
    ids = np.array([CHARS.index(ch) for ch in text], np.int32)
    count = (len(ids) - 1) // seq_len
    return ids[: count * seq_len].reshape(count, seq_len), ids[1: count * seq_len + 1].reshape(count, seq_len)


# ----------------------------------------------------------------------------- board.tokens, numpy only


def test_how_a_probe_holds_its_tokens():
    ids = np.array([[0, 2, 1]])
    assert encoding(ids, with_vocabulary=False) == metadata.PROBE_IDS
    assert encoding(ids.astype(np.float32), with_vocabulary=False) == metadata.PROBE_FEATURES
    assert encoding(ids.astype(np.float32), with_vocabulary=True) == metadata.PROBE_IDS
    one_hot = np.eye(3, dtype=np.float32)[ids]
    assert encoding(one_hot, with_vocabulary=False) == metadata.PROBE_FEATURES
    assert encoding(one_hot, with_vocabulary=True) == metadata.PROBE_ONE_HOT
    one_hot[0, 1] = 0  # padding: no token there
    assert token_ids(one_hot, metadata.PROBE_ONE_HOT).tolist() == [[0, metadata.NO_TOKEN, 1]]
    assert token_ids(ids.astype(np.int64), metadata.PROBE_IDS).dtype == np.int32


def test_vocabulary_texts_from_a_list_or_a_callable():
    ids = np.array([[0, 2], [2, 1]])
    assert vocabulary_texts(["a", "b", "c", "d"], ids) == ("a", "b", "c", "d")
    assert vocabulary_texts(lambda i: f"<{i}>", ids) == ("<0>", "<1>", "<2>")  # ids 0 to the largest
    assert vocabulary_texts(lambda i: "abcde"[i], np.eye(5)[ids[:, :1]]) == tuple("abcde")  # the one-hot width


@pytest.mark.parametrize("vocabulary, x, message", [
    ("abc", np.array([[0, 1]]), r"vocabulary='abc' must be a list of tokens \(list\(text\) for characters\)"),
    (["a", 1], np.array([[0, 1]]), r"vocabulary: 1 is not a string"),
    (["a", "b"], np.array([[0, 2]]), r"vocabulary= has 2 tokens but the probe holds the id 2"),
    (["a", "b"], np.array([[0, -1]]), r"the probe holds the token id -1"),
    (["a", "b"], np.array([[0.5, 1.0]]), r"numbers that are not whole"),
    (["a", "b"], np.zeros((1, 2, 3)), r"vocabulary= has 2 tokens but the probe's one-hot vectors are 3 wide"),
    (["a", "b"], [np.array([[0, 1]])], r"a probe of one input array"),
    (["a", "b"], np.zeros((1, 2, 2, 2)), r"the probe's x has shape \[1, 2, 2, 2\]"),
    (lambda i: i, np.array([[0, 1]]), r"vocabulary\(0\) returned 0, not a string"),
])
def test_a_vocabulary_that_does_not_fit_the_probe_is_one_line_naming_it(vocabulary, x, message):
    with pytest.raises(ValueError, match=message) as info:
        vocabulary_texts(vocabulary, x)
    assert "\n" not in str(info.value)


def _probe_datum(board, probe_x):
    (tag, tensor), = board.probe(SimpleNamespace(probe_x=probe_x, step=0)).items()
    assert tag == metadata.probe_tag()
    return tensor.values, metadata.parse_content(tensor.metadata.plugin_data.content)


def test_the_board_writes_ids_with_their_texts_and_features_as_before():
    x, _ = windows()
    values, content = _probe_datum(GateBoard(tokens=tuple(CHARS)), x)
    assert values.dtype == np.int32 and np.array_equal(values, x[: metadata.PROBE_SEQUENCES])
    assert (content.encoding, content.tokens, content.features) == (metadata.PROBE_IDS, CHARS, [])
    values, content = _probe_datum(GateBoard(), x)  # ids without a vocabulary: exact ids, no texts
    assert values.dtype == np.int32 and (content.encoding, content.tokens) == (metadata.PROBE_IDS, None)
    floats = np.random.default_rng(0).normal(size=(6, 5, 2)).astype(np.float32)
    values, content = _probe_datum(GateBoard(feature_names=("u", "v")), floats)
    assert values.dtype == np.float16 and values.shape == (4, 5, 2)
    assert (content.encoding, content.tokens, content.features, content.holds_ids) == (
        metadata.PROBE_FEATURES, None, ["u", "v"], False)


def test_a_probe_written_before_tokens_reads_as_features():
    content = metadata.parse_content(b'{"features": [], "kind": "probe", "version": 1}')
    assert (content.encoding, content.tokens, content.holds_ids) == (metadata.PROBE_FEATURES, None, False)


# ----------------------------------------------------------------------------- GateLogger in a user's own fit


def _token_model(vocabulary_size, one_hot=False):
    import keras

    keras.utils.set_random_seed(0)
    if one_hot:
        inputs = keras.Input((SEQ_LEN, vocabulary_size))
        x = inputs
    else:
        inputs = keras.Input((SEQ_LEN,), dtype="int32")
        x = keras.layers.Embedding(vocabulary_size, 4, name="embed")(inputs)
    x = keras.layers.LSTM(4, return_sequences=True, name="chars")(x)
    outputs = keras.layers.Dense(vocabulary_size, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def _fit(log_dir, x, y, one_hot=False, **logger_options):
    from lstm_experiments import GateLogger

    model = _token_model(len(CHARS), one_hot)
    logger = GateLogger(log_dir, visualizers=("activations",), probe=(x[:6], y[:6]), **logger_options)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0, callbacks=[logger])
    return read_tensors(log_dir)


def _probe_content(log_dir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(log_dir), size_guidance={"tensors": 0})
    accumulator.Reload()
    return metadata.parse_content(accumulator.SummaryMetadata(metadata.probe_tag()).plugin_data.content)


@pytest.fixture(scope="module")
def embedding_runs(tmp_path_factory):
    """An Embedding model fitted with vocabulary= as a list and as a callable: {kind: (log dir, tensors)}."""
    x, y = windows()
    root = tmp_path_factory.mktemp("token_probe")
    return {
        "list": (root / "list", _fit(root / "list", x, y, vocabulary=CHARS)),
        "callable": (root / "callable", _fit(root / "callable", x, y, vocabulary=lambda i: CHARS[i])),
    }


@pytest.mark.parametrize("kind", ["list", "callable"])
def test_the_logged_tokens_are_the_probes_text(embedding_runs, kind):
    log_dir, tensors = embedding_runs[kind]
    x, _ = windows()
    ((step, ids),) = tensors[metadata.probe_tag()]
    assert step == 0 and np.array_equal(ids, x[: metadata.PROBE_SEQUENCES])
    content = _probe_content(log_dir)
    largest = int(x[:6].max())  # a callable is asked for the ids 0 to the probe's largest
    assert content.tokens == (CHARS if kind == "list" else CHARS[: largest + 1])
    assert content.encoding == metadata.PROBE_IDS
    assert "".join(content.tokens[i] for i in ids.ravel()) == TEXT[: ids.size]
    # The LSTM read the Embedding's vectors; its activations are there for the text view.
    assert tensors[metadata.activations_tag("chars")][0][1].shape[1:3] == (metadata.PROBE_SEQUENCES, SEQ_LEN)


def test_one_hot_inputs_keep_their_ids_and_name_their_features_by_token(tmp_path):
    x, y = windows()
    one_hot = np.eye(len(CHARS), dtype=np.float32)[x]
    one_hot[0, 0] = 0  # a padded position: no token
    tensors = _fit(tmp_path / "one_hot", one_hot, y, one_hot=True, vocabulary=CHARS)
    ((_, ids),) = tensors[metadata.probe_tag()]
    expected = x[: metadata.PROBE_SEQUENCES].copy()
    expected[0, 0] = metadata.NO_TOKEN
    assert np.array_equal(ids, expected)
    content = _probe_content(tmp_path / "one_hot")
    assert (content.encoding, content.tokens) == (metadata.PROBE_ONE_HOT, CHARS)
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(tmp_path / "one_hot"), size_guidance={"tensors": 0})
    accumulator.Reload()
    kernel = metadata.parse_content(
        accumulator.SummaryMetadata(metadata.weights_tag("chars", "kernel")).plugin_data.content)
    assert kernel.rows == CHARS


def test_gate_logger_checks_its_vocabulary_when_it_is_made():
    from lstm_experiments import GateLogger

    x, y = windows()
    with pytest.raises(ValueError, match=r"^vocabulary= has 3 tokens but the probe holds the id"):
        GateLogger("unused", probe=(x, y), vocabulary=CHARS[:3])
    with pytest.raises(ValueError, match=r"^vocabulary='abc' must be a list of tokens"):
        GateLogger("unused", probe=(x, y), vocabulary="abc")
    assert GateLogger("unused", vocabulary=CHARS).spec.tokens is None  # no probe: nothing to label
