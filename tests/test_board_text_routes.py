"""The routes of the GATES text view (issue 23): ``/probe?run`` and ``/runs`` of a probe kept as tokens.

Tiny ``Embedding`` -> ``LSTM`` fits through ``GateLogger`` (with ``vocabulary=`` as a list, without one, and
one-hot inputs), served as in ``test_board_routes`` and compared with what TensorBoard's own
``EventAccumulator`` reads back from the event files (``conftest.read_tensors``). A float probe's answer keeps
its values as before, with ``encoding`` ``features`` and no ``tokens``.
"""

import numpy as np
import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Response

from conftest import read_tensors
from test_board_routes import by_run, get_ok, make_app

from lstm_experiments.board import metadata

TEXT = "def f(a):\n    return (a, 'b')\n" * 6
CHARS = sorted(set(TEXT))
SEQ_LEN = 10
RUNS = {"ids": "ids/tensorboard", "bare": "bare/tensorboard", "one_hot": "one_hot/tensorboard",
        "floats": "floats/tensorboard"}


def _windows():
    ids = np.array([CHARS.index(ch) for ch in TEXT], np.int32)
    count = (len(ids) - 1) // SEQ_LEN
    return ids[: count * SEQ_LEN].reshape(count, SEQ_LEN), ids[1: count * SEQ_LEN + 1].reshape(count, SEQ_LEN)


def _fit(log_dir, x, y, one_hot=False, **options):
    import keras

    from lstm_experiments import GateLogger

    keras.utils.set_random_seed(0)
    size = len(CHARS)
    if one_hot:
        inputs = keras.Input((SEQ_LEN, size))
        hidden = inputs
    elif x.ndim == 3:
        inputs = keras.Input(x.shape[1:])
        hidden = inputs
    else:
        inputs = keras.Input((SEQ_LEN,), dtype="int32")
        hidden = keras.layers.Embedding(size, 3, name="embed")(inputs)
    hidden = keras.layers.LSTM(3, return_sequences=True, name="chars")(hidden)
    model = keras.Model(inputs, keras.layers.Dense(size, activation="softmax")(hidden))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, batch_size=8, verbose=0,
              callbacks=[GateLogger(log_dir, background=False, probe=(x[:6], y[:6]),
                                    visualizers=("gates", "activations"), **options)])


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("text_routes")
    x, y = _windows()
    one_hot = np.eye(len(CHARS), dtype=np.float32)[x]
    one_hot[0, 1] = 0  # a position with no token
    _fit(root / RUNS["ids"], x, y, vocabulary=CHARS)
    _fit(root / RUNS["bare"], x, y)
    _fit(root / RUNS["one_hot"], one_hot, y, one_hot=True, vocabulary=CHARS)
    _fit(root / RUNS["floats"], np.random.default_rng(0).normal(size=x.shape + (2,)).astype(np.float32), y)
    return root, Client(make_app(root), Response)


def test_a_token_probe_is_served_as_integer_ids_with_their_texts(served):
    root, client = served
    for kind, tokens in [("ids", CHARS), ("bare", None), ("one_hot", CHARS)]:
        body = get_ok(client, "probe", run=RUNS[kind])
        ((_, logged),) = read_tensors(root / RUNS[kind])[metadata.probe_tag()]
        assert body["encoding"] == (metadata.PROBE_ONE_HOT if kind == "one_hot" else metadata.PROBE_IDS)
        assert body["tokens"] == tokens and body["features"] == []
        assert body["shape"] == list(logged.shape) == [metadata.PROBE_SEQUENCES, SEQ_LEN]
        assert all(type(i) is int for row in body["values"] for i in row)  # noqa: E721 - ints, not 3.0
        assert np.array_equal(np.asarray(body["values"]), logged)
    one_hot = get_ok(client, "probe", run=RUNS["one_hot"])
    assert one_hot["values"][0][1] == metadata.NO_TOKEN
    ids = get_ok(client, "probe", run=RUNS["ids"])
    assert "".join(CHARS[i] for row in ids["values"] for i in row) == TEXT[: metadata.PROBE_SEQUENCES * SEQ_LEN]


def test_a_float_probe_keeps_its_values_and_says_features(served):
    root, client = served
    body = get_ok(client, "probe", run=RUNS["floats"])
    ((_, logged),) = read_tensors(root / RUNS["floats"])[metadata.probe_tag()]
    assert (body["encoding"], body["tokens"]) == (metadata.PROBE_FEATURES, None)
    np.testing.assert_array_equal(np.asarray(body["values"], dtype=np.float16), logged)


def test_runs_say_how_each_probe_holds_its_input(served):
    _, client = served
    runs = by_run(get_ok(client, "runs"))
    assert {kind: runs[run]["encoding"] for kind, run in RUNS.items()} == {
        "ids": metadata.PROBE_IDS, "bare": metadata.PROBE_IDS, "one_hot": metadata.PROBE_ONE_HOT,
        "floats": metadata.PROBE_FEATURES}
