"""Fuzzing the ``lstm_gates`` plugin's HTTP routes: what it serves stays safe whatever a request holds.

The app is built as ``test_board_routes`` builds it (its ``logdir`` fixture: two tiny
real runs, one of them in a directory named ``<img src=x onerror=alert(1)>``; its
``make_app``: ``EventMultiplexer`` -> ``MultiplexerDataProvider`` -> ``TBContext`` ->
``TensorBoardWSGI`` -> ``werkzeug.test.Client``). Hypothesis draws the query strings:
real names, missing and repeated parameters, unicode, ``..``, ``%2e%2e``, NUL, line
breaks, very long values, negative, huge, float, NaN and infinite numbers, malformed
percent escapes, extra parameters, sent percent-encoded or as raw query text.

For every route (runs, weights, activations, probe, saturation, positions, static/<file>):

- never a 5xx and never a Python traceback in the body;
- 200, 400 or 404 only; a 4xx is one non-empty ``text/plain`` line;
- a 200 data answer is ``application/json`` that parses, with no NaN or infinity;
- ``static/`` answers 200 only for a name of the plugin's allow-list, with exactly
  that file's bytes from ``board/static/``, and 404 for anything else;
- every answer carries ``X-Content-Type-Options: nosniff`` and none is ``text/html``.

TensorBoard's own routes that take a run (scalars, histograms, images) get the same
odd run and tag names, judged only on never failing with a 5xx or a traceback.

Found by it: a step of more than 4,300 digits made ``int()`` raise (Python's limit on
integer strings), a 500; ``http_answers.step_of`` now answers 400 for any step beyond
TensorBoard's 64-bit steps without calling ``int()`` on it.
"""

import json
import urllib.parse

import numpy as np
import pytest
from hypothesis import currently_in_test_context, event, example, given, settings
from hypothesis import strategies as st
from werkzeug.test import Client
from werkzeug.wrappers import Response

from test_board_routes import GRU, HOSTILE, LSTM, PREFIX, SpyProvider, logdir, make_app  # noqa: F401 - logdir

from lstm_experiments.board import plugin as plugin_module
from lstm_experiments.board.http_answers import static_files
from lstm_experiments.board.series_cache import SeriesCache
from lstm_experiments.tensorboard import tags as run_tags

# The fixture trains two tiny runs (TensorFlow) in this process.
pytestmark = pytest.mark.slow

EXAMPLES = settings(max_examples=200)
STATIC_FILES = static_files(plugin_module.STATIC_DIR)
STATIC_BYTES = {name: path.read_bytes() for name, path in STATIC_FILES.items()}

# Values that name something real in the fixture's logdir, so that draws reach the deep paths.
REAL = {
    "run": [LSTM, GRU, "lstm", HOSTILE, ".", "tensorboard"],
    "layer": ["lstm", "gru", "lstm_1", "forward_lstm"],
    "matrix": [*run_tags.MATRICES, "activations", "kernel/initial", "probe"],
    "step": ["0", "1", "2", "3", "4", "5"],
}
# Values that have broken parsers before, somewhere.
ODD = [
    "", " ", "..", "../..", "../../etc/passwd", "%2e%2e", "%2e%2e%2f", "..%2f..%2fplugin.py", "%252e%252e",
    "/etc/passwd", "\\", "..\\..", "\x00", "a\x00b", "lstm\x00", "\n", "\r\n", "a\rb", "\t", "\x0b", "\x1c",
    "\x85", "\u2028", "\u2029", "\ufeff", "\u202e", "\ud7ff", "\U0001f600", "é", "ｌｓｔｍ", "ß", "İ",
    "NaN", "nan", "-nan", "inf", "-inf", "Infinity", "1e309", "-1e309", "1e3", "-1", "-0", "+1", " 1 ", "\t1\n",
    "1.0", "1.5", "-0.0", "0x10", "0o7", "0b1", "1_0", "１", "٣", "²", "9" * 30, "9" * 4300, "9" * 4301,
    "-" + "9" * 5000, "1" * 20000, "x" * 20000, "%", "%zz", "%ff", "%ff%fe", "%c0%ae", "&", "=", "#", "?", ";",
    "'", '"', "`", "<script>alert(1)</script>", "</script>", "{{7*7}}", "${jndi:x}", "null", "true", "[]", "{}",
    "*", "lstm_gates/lstm/kernel", "lstm_gates/probe", "lstm/tensorboard/", "/lstm/tensorboard", HOSTILE,
    f"{HOSTILE}/tensorboard\x00", "lstm/tensorboard\n",
]
NAMES = {
    "runs": [],
    "weights": ["run", "layer", "matrix", "step"],
    "activations": ["run", "layer", "step"],
    "probe": ["run"],
    "saturation": ["run", "layer"],
    "positions": ["run"],
}
EXTRA_NAMES = ["", "extra", "run[]", "RUN", "Step", "step ", "experiment", "downsample", "tag", "\x00"]
# Everything a text strategy can send in a URL (lone surrogates cannot be UTF-8 encoded).
CHARACTERS = st.characters(blacklist_categories=("Cs",))


def _floats():
    return st.floats(allow_nan=True, allow_infinity=True).map(lambda x: repr(x) if x == x else "nan")


VALUES = st.one_of(
    st.sampled_from(ODD),
    st.sampled_from(sorted({v for values in REAL.values() for v in values})),
    st.text(CHARACTERS, max_size=40),
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    _floats(),
)


def _coherent(route):
    """Queries that name real data of the fixture's runs (LSTM: steps 0-4; GRU: 0-2)."""
    found = []
    for run, layer, matrices, steps in ((LSTM, "lstm", run_tags.MATRICES[:3], 5), (GRU, "gru", run_tags.MATRICES, 3)):
        for matrix in matrices:
            for step in range(steps):
                query = {"run": run, "layer": layer, "matrix": matrix, "step": str(step)}
                found.append({name: query[name] for name in NAMES[route]})
    return [dict(q) for q in {tuple(q.items()) for q in found}]


@st.composite
def queries(draw, route):
    """A query string for ``route``: a real query with each parameter kept, replaced, missing or repeated."""
    base = draw(st.sampled_from(sorted(_coherent(route), key=str)))
    pairs = []
    for name in NAMES[route]:
        how = draw(st.sampled_from(["kept"] * 6 + ["real", "odd", "missing", "repeated"]))
        if how == "kept":
            pairs.append((name, base[name]))
        elif how == "real":
            pairs.append((name, draw(st.sampled_from(REAL[name]))))
        elif how == "odd":
            pairs.append((name, draw(VALUES)))
        elif how == "repeated":
            first, second = draw(st.permutations([base[name], draw(VALUES)]))
            pairs += [(name, first), (name, second)]
    pairs += draw(st.lists(st.tuples(st.sampled_from(NAMES[route] + EXTRA_NAMES), VALUES), max_size=2))
    pairs = draw(st.permutations(pairs))
    if draw(st.booleans()):
        # Percent-encoded as a browser would: every value arrives as drawn.
        return urllib.parse.urlencode(pairs, quote_via=urllib.parse.quote)
    # Raw query text: escapes in the values (%2e%2e, %00, %ff) are decoded by the server, '&' and '=' split.
    return "&".join(f"{urllib.parse.quote(k, safe='%&=')}={urllib.parse.quote(v, safe='%&=/?:+;')}"
                    for k, v in pairs)


def not_a_number(name):
    pytest.fail(f"{name} in a JSON answer")


def check_answer(response, method="GET", data=True):
    """What every answer of the plugin must be (``data``: of a data route, not static/); returns the body."""
    body = response.get_data()
    text = body.decode("utf-8")
    if currently_in_test_context():
        event(f"{method} {response.status_code}")  # pytest --hypothesis-show-statistics: what the draws reached
    assert response.status_code in (200, 400, 404), (response.status_code, text[:500])
    assert "Traceback" not in text and 'File "' not in text, text[:500]
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.mimetype != "text/html"
    if method == "HEAD":
        return text
    if response.status_code != 200:
        assert response.mimetype == "text/plain", response.mimetype
        assert text.strip() and len(text.splitlines()) == 1, text[:500]
    elif data:
        assert response.mimetype == "application/json", response.mimetype
        json.loads(text, parse_constant=not_a_number)
    return text


@pytest.fixture(scope="module")
def client(logdir):  # noqa: F811 - the imported fixture
    return Client(make_app(logdir), Response)


@pytest.fixture(scope="module")
def tensorboard_client(logdir):  # noqa: F811
    """The GATES plugin beside TensorBoard's own scalars, histograms and images plugins, on one provider."""
    from tensorboard.backend import application
    from tensorboard.plugins import base_plugin
    from tensorboard.plugins.histogram import histograms_plugin
    from tensorboard.plugins.image import images_plugin
    from tensorboard.plugins.scalar import scalars_plugin

    providers = []
    make_app(logdir, wrap_provider=lambda inner: providers.append(inner) or inner)
    (provider,) = providers
    context = base_plugin.TBContext(data_provider=provider, logdir=str(logdir))
    plugins = [plugin_module.GatesPlugin(context), scalars_plugin.ScalarsPlugin(context),
               histograms_plugin.HistogramsPlugin(context), images_plugin.ImagesPlugin(context)]
    return Client(application.TensorBoardWSGI(plugins, data_provider=provider), Response)


# --------------------------------------------------------------------------- the data routes


def _data_route(route):
    @EXAMPLES
    @given(query=queries(route), method=st.sampled_from(["GET", "GET", "GET", "POST", "HEAD"]))
    def test(client, query, method):
        check_answer(client.open(f"{PREFIX}/{route}", method=method, query_string=query), method)

    test.__name__ = f"test_{route}_route_answers_safely"
    test.__doc__ = f"/{route} with any query string: 200 JSON that parses, or one plain line; never a 500."
    return test


test_runs_route_answers_safely = _data_route("runs")
test_probe_route_answers_safely = _data_route("probe")
test_saturation_route_answers_safely = _data_route("saturation")
test_positions_route_answers_safely = _data_route("positions")


@EXAMPLES
@given(query=queries("weights"), method=st.sampled_from(["GET", "GET", "GET", "POST", "HEAD"]))
@example(query="run=lstm%2Ftensorboard&layer=lstm&matrix=kernel&step=" + "9" * 4301, method="GET")
@example(query="run=lstm%2Ftensorboard&layer=lstm&matrix=kernel&step=-" + "9" * 5000, method="GET")
@example(query="run=lstm%2Ftensorboard&layer=lstm&matrix=kernel&step=%EF%BC%91", method="GET")
@example(query="run=lstm%2Ftensorboard&layer=lstm&matrix=kernel&step=%00", method="GET")
def test_weights_route_answers_safely(client, query, method):
    """/weights with any query string (a step of 4,301 digits once answered 500)."""
    check_answer(client.open(f"{PREFIX}/weights", method=method, query_string=query), method)


@EXAMPLES
@given(query=queries("activations"), method=st.sampled_from(["GET", "GET", "GET", "POST", "HEAD"]))
@example(query="run=lstm%2Ftensorboard&layer=lstm&step=" + "1" * 20000, method="GET")
def test_activations_route_answers_safely(client, query, method):
    """/activations with any query string."""
    check_answer(client.open(f"{PREFIX}/activations", method=method, query_string=query), method)


@pytest.mark.parametrize("route", ["weights", "activations"])
@pytest.mark.parametrize("step", ["9" * 4301, "-" + "9" * 5000, "1" * 20000, "0" * 5000, "0" * 4400 + "4"])
def test_a_step_of_thousands_of_digits_is_a_bad_request_or_not_found(client, route, step):
    """Python refuses int() of more than 4,300 digits (a ValueError, once a 500): now one plain line."""
    params = {"run": LSTM, "layer": "lstm", "step": step, **({"matrix": "kernel"} if route == "weights" else {})}
    response = client.get(f"{PREFIX}/{route}", query_string=urllib.parse.urlencode(params))
    text = check_answer(response)
    if step.lstrip("0") in ("", "4"):
        assert response.status_code == 200  # leading zeros are still the step (0 or 4)
    else:
        assert response.status_code in (400, 404) and "step=" in text and len(text) < 500


def test_every_real_query_answers_200_json(client):
    """The real names reach the data: the fuzzing above is not only 404s (a check on its strategy)."""
    for route, params in [
        ("runs", {}),
        ("weights", {"run": LSTM, "layer": "lstm", "matrix": "kernel", "step": "4"}),
        ("weights", {"run": GRU, "layer": "gru", "matrix": "recurrent_bias", "step": "0"}),
        ("activations", {"run": LSTM, "layer": "lstm", "step": "2"}),
        ("probe", {"run": GRU}),
        ("saturation", {"run": LSTM, "layer": "lstm"}),
        ("positions", {"run": GRU}),
    ]:
        response = client.get(f"{PREFIX}/{route}", query_string=urllib.parse.urlencode(params))
        check_answer(response)
        assert response.status_code == 200 and response.mimetype == "application/json", (route, params)


# --------------------------------------------------------------------------- static files

STATIC_SEGMENTS = [
    *STATIC_FILES, "", ".", "..", "...", "%2e", "%2e%2e", "%2E%2E", "%252e%252e", "..%2f", "%2f", "%5c", "..\\",
    "%00", "\x00", "static", "board", "plugin.py", "http_answers.py", "__init__.py", "__pycache__", "etc",
    "passwd", "/etc/passwd", "~", "%7e", "index.js%00", "index.js.", "index.js ", "INDEX.JS", "index.js;x",
    "index.js%3f", "index.js#", "%c0%ae%c0%ae", "\u2215", "\uff0e\uff0e", "lib", "*", "%",
]


@st.composite
def static_paths(draw):
    if draw(st.integers(0, 4)) == 0:  # a page file, sometimes with an escape: '%69ndex.js' is 'index.js'
        name = draw(st.sampled_from(sorted(STATIC_FILES)))
        return "".join(f"%{ord(c):02x}" if draw(st.integers(0, 9)) == 0 else c for c in name)
    segments = draw(st.lists(st.one_of(st.sampled_from(STATIC_SEGMENTS), st.text(CHARACTERS, max_size=20)),
                             min_size=1, max_size=5))
    path = "/".join(segments)
    if draw(st.booleans()):
        path = "/" + path
    # '%' stays as drawn (so %2e%2e reaches the server as an escape); everything else URL-safe.
    return urllib.parse.quote(path, safe="/%;")


@EXAMPLES
@given(path=static_paths(), method=st.sampled_from(["GET", "GET", "POST", "HEAD"]))
@example(path="index.js", method="GET")
@example(path="%69ndex.js", method="GET")
@example(path="..%2fplugin.py", method="GET")
@example(path="%2e%2e/%2e%2e/board/plugin.py", method="GET")
def test_static_serves_only_the_page_files(client, path, method):
    """200 only for a name on the allow-list, with that file's bytes; 404 one plain line otherwise."""
    response = client.open(f"{PREFIX}/static/{path}", method=method)
    check_answer(response, method, data=False)
    served = response.request.path[len(f"{PREFIX}/static/"):]
    if response.status_code == 200:
        assert served in STATIC_FILES, served
        if method != "HEAD":
            assert response.get_data() == STATIC_BYTES[served]
    else:
        assert response.status_code == 404 and served not in STATIC_FILES, served


def test_static_answers_match_the_files_byte_for_byte(client):
    for name, content in STATIC_BYTES.items():
        response = client.get(f"{PREFIX}/static/{name}")
        assert response.status_code == 200 and response.get_data() == content, name


@EXAMPLES
@given(route=st.sampled_from(list(NAMES)), segment=st.one_of(st.sampled_from(ODD[:40]), st.text(CHARACTERS,
                                                                                                  max_size=20)))
def test_an_odd_experiment_path_answers_safely(client, route, segment):
    """TensorBoard's /experiment/<id>/ prefix with any id, in front of each route."""
    experiment = urllib.parse.quote(segment, safe="")
    response = client.get(f"/experiment/{experiment}{PREFIX}/{route}", query_string=f"run={urllib.parse.quote(LSTM)}")
    check_answer(response)


# --------------------------------------------------------------------------- the HTML run name


def test_an_html_run_name_comes_back_as_a_json_string(client):
    """The directory ``<img src=x onerror=alert(1)>`` is listed as that literal string, as JSON, never HTML."""
    response = client.get(f"{PREFIX}/runs")
    assert response.status_code == 200
    assert response.mimetype == "application/json" and response.headers["X-Content-Type-Options"] == "nosniff"
    entries = {entry["run"]: entry for entry in json.loads(response.get_data(as_text=True))["runs"]}
    assert entries[GRU]["name"] == HOSTILE and GRU in entries
    # An unknown run named with HTML comes back in a plain-text line, not as markup.
    missing = client.get(f"{PREFIX}/probe", query_string=urllib.parse.urlencode({"run": "<b>x</b>"}))
    assert missing.status_code == 404 and missing.mimetype == "text/plain"


# --------------------------------------------------------------------------- TensorBoard's own routes

TB_ROUTES = [
    ("/data/plugin/scalars/scalars", ["run", "tag"]),
    ("/data/plugin/scalars/tags", []),
    ("/data/plugin/histograms/histograms", ["run", "tag"]),
    ("/data/plugin/histograms/tags", []),
    ("/data/plugin/images/images", ["run", "tag"]),
    ("/data/plugin/images/tags", []),
]
TB_REAL = {
    "run": [LSTM, GRU],
    "tag": ["saturation/lstm/input/low", "metrics/loss", "lstm_gates/lstm/kernel", "gates/lstm/kernel/input"],
}


@st.composite
def tb_requests(draw):
    path, names = draw(st.sampled_from(TB_ROUTES))
    pairs = []
    for name in names:
        # Always given: TensorBoard's own histograms route raises a TypeError (a 500) without a run,
        # and that is its code, not this plugin's.
        # Only the names are fuzzed: the images route's int(sample) of a non-number is a 500 too.
        pairs.append((name, draw(st.one_of(st.sampled_from(TB_REAL[name]), VALUES))))
    return path, urllib.parse.urlencode(pairs, quote_via=urllib.parse.quote)


@settings(max_examples=100)
@given(request=tb_requests())
def test_tensorboards_own_routes_take_odd_run_names(tensorboard_client, request):
    """Not the plugin's code: only no 5xx and no traceback; TensorBoard's own answers may differ in form."""
    path, query = request
    response = tensorboard_client.get(path, query_string=query)
    text = response.get_data(as_text=True)
    assert response.status_code < 500, (path, query[:200], response.status_code, text[:300])
    assert "Traceback" not in text
    if response.status_code == 200 and response.mimetype == "application/json":
        json.loads(text)


def test_tensorboards_own_routes_list_the_html_run_as_a_string(tensorboard_client):
    response = tensorboard_client.get("/data/plugin/scalars/tags")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert GRU in json.loads(response.get_data(as_text=True))



# --------------------------------------------------------------------------- how the runs route reads


def test_the_runs_route_reads_all_runs_at_once(logdir, tmp_path):  # noqa: F811
    """Two reads for a sweep, whatever its size: with TensorBoard's data server each read is a
    round trip of about 45 ms, and one read per run made /runs take 2.4 s for 50 runs. The
    positions (by batch or not, the failing step) come in the first read, with the kept steps."""
    import shutil

    for name in ("a", "b", "c", "d"):
        shutil.copytree(logdir / "lstm" / "tensorboard", tmp_path / name / "tensorboard")
    spies = []

    def wrap(inner):
        spies.append(SpyProvider(inner))
        return spies[-1]

    client = Client(make_app(tmp_path, wrap_provider=wrap), Response)
    (spy,) = spies
    response = client.get(f"{PREFIX}/runs")
    assert response.status_code == 200
    body = json.loads(response.get_data(as_text=True))
    assert [entry["steps"] for entry in body["runs"]] == [[0, 1, 2, 3, 4]] * 4
    assert all(entry["layers"][0]["activations"]["time"] == 6 for entry in body["runs"])
    reads = [(name, runs, tags) for name, _, runs, tags in spy.reads]
    everyone = {f"{name}/tensorboard" for name in ("a", "b", "c", "d")}
    # The kept steps from one small matrix (kernel and bias are both 1 x 20 here) and the positions,
    # then the activations' shapes.
    (steps, runs, tags), (activations, *more) = reads[0], reads[1:]
    assert (steps, runs, len(tags)) == ("read_tensors", everyone, 2) and not more
    (smallest,) = tags - {"lstm_gates/position"}
    assert smallest in {"lstm_gates/lstm/kernel", "lstm_gates/lstm/bias"}
    assert activations == ("read_tensors", everyone, {"lstm_gates/lstm/activations"})
    assert all(entry["positions"] and entry["failure"] is None and not entry["by_batch"] for entry in body["runs"])
    # /positions then reads nothing: the series read with the steps is kept while it is unchanged.
    spy.reads.clear()
    response = client.get(f"{PREFIX}/positions", query_string=urllib.parse.urlencode({"run": "a/tensorboard"}))
    assert response.status_code == 200 and not [read for read in spy.reads if read[0] == "read_tensors"]
    assert json.loads(response.get_data(as_text=True))["steps"] == [0, 1, 2, 3, 4]


def test_steps_other_than_the_last_are_read_once_per_series(logdir):  # noqa: F811
    """The provider reads a whole series or its latest datum, never one step: the last step is the
    latest datum's read, the others one read of the series, kept while the series is unchanged."""
    spies = []

    def wrap(inner):
        spies.append(SpyProvider(inner))
        return spies[-1]

    client = Client(make_app(logdir, wrap_provider=wrap), Response)
    (spy,) = spies
    kernel = "lstm_gates/lstm/kernel"
    bodies = {}
    for step in (4, 1, 2, 3, 1, 4):
        query = urllib.parse.urlencode({"run": LSTM, "layer": "lstm", "matrix": "kernel", "step": step})
        response = client.get(f"{PREFIX}/weights", query_string=query)
        assert response.status_code == 200
        bodies.setdefault(step, set()).add(response.get_data())
    assert all(len(answers) == 1 for answers in bodies.values())
    assert [(runs, tags) for _, _, runs, tags in spy.reads] == [({LSTM}, {kernel})] * 3  # step 4, steps 1-3, step 4
    missing = client.get(f"{PREFIX}/weights", query_string=urllib.parse.urlencode(
        {"run": LSTM, "layer": "lstm", "matrix": "kernel", "step": 7}))
    assert missing.status_code == 404 and "kept steps: 0, 1, 2, 3, 4" in missing.get_data(as_text=True)
    assert len(spy.reads) == 3  # the 404's kept steps from the kept series too


class Datum:
    def __init__(self, nbytes):
        self.numpy = np.zeros(nbytes, dtype=np.uint8)


def test_the_series_cache_reads_again_when_a_series_changes_and_keeps_to_its_bytes():
    cache = SeriesCache(max_bytes=100)
    reads = []

    def read(name, nbytes):
        def load():
            reads.append(name)
            return [Datum(nbytes)]
        return load

    first = cache.get("a", (3, 1.0), read("a", 40))
    assert cache.get("a", (3, 1.0), read("a", 40)) is first and reads == ["a"]
    cache.get("a", (4, 2.0), read("a", 40))  # the run logged another step
    assert reads == ["a", "a"]
    cache.get("b", (1, 1.0), read("b", 40))
    cache.get("a", (4, 2.0), read("a", 40))  # a is now the most recently used
    cache.get("c", (1, 1.0), read("c", 40))  # 120 bytes: b, the least recently used, goes
    assert reads == ["a", "a", "b", "c"]
    cache.get("a", (4, 2.0), read("a", 40))
    cache.get("b", (1, 1.0), read("b", 40))
    assert reads == ["a", "a", "b", "c", "b"]
    cache.get("huge", (1, 1.0), read("huge", 101))  # larger than the cache: served, not kept
    cache.get("huge", (1, 1.0), read("huge", 101))
    assert reads[-2:] == ["huge", "huge"]
