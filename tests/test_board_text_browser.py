"""The GATES text view (issue 23) in Debian's Chromium through Playwright, against a real TensorBoard.

Two tiny ``Embedding`` -> ``LSTM`` -> softmax runs through ``GateLogger(vocabulary=...)``, shared by the
module:

- ``trained``: one epoch from Keras' initial weights. Every token's background colour in every unit's row
  decodes (the bwr map, on the scale the view says in ``data-divide``) to the hidden state Keras' own LSTM
  gives on the probe (a ``keras.Model`` returning the layer's sequence), at the last step; the hover reads
  the logged value exactly.
- ``planted``: weights set by hand (one-hot embeddings; unit ``PLANTED``'s input gate open only for
  ``(``, its forget gate shut, its output gate open) and a learning rate of 0, so that the unit's h is
  about 0.76 at every ``(`` and about 0 elsewhere. Dragging over one ``(`` of the text lists that unit
  first, and its matches are exactly the other ``(`` of the probe.
"""

import numpy as np
import pytest

from conftest import read_tensors
from test_board_browser import Gates, chromium, tensorboard_run  # noqa: F401 (chromium: the module's fixture)
from tests.helpers.tensorboard_server import get_json, tensorboard

from lstm_experiments.board import metadata

pytestmark = pytest.mark.slow

TEXT = "def f(a, b):\n    return g(a) + h(b, (a))\nx = [f(1, 2) for i in range(3)]\n" * 3
CHARS = sorted(set(TEXT))
SEQ_LEN = 24
UNITS = 4
PLANTED = 2
LAYER = "chars"
HIDDEN = "hidden"


def windows():
    ids = np.array([CHARS.index(ch) for ch in TEXT], np.int32)
    count = (len(ids) - 1) // SEQ_LEN
    return ids[: count * SEQ_LEN].reshape(count, SEQ_LEN), ids[1: count * SEQ_LEN + 1].reshape(count, SEQ_LEN)


def char_model(learning_rate):
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((SEQ_LEN,), dtype="int32")
    embedded = keras.layers.Embedding(len(CHARS), len(CHARS), name="embed")(inputs)
    hidden = keras.layers.LSTM(UNITS, return_sequences=True, name=LAYER)(embedded)
    model = keras.Model(inputs, keras.layers.Dense(len(CHARS), activation="softmax")(hidden))
    model.compile(keras.optimizers.SGD(learning_rate), "sparse_categorical_crossentropy")
    return model


def plant(model, char="("):
    """One-hot embeddings; unit PLANTED's h about tanh(0.99) at ``char`` and about 0 elsewhere; the others damped."""
    model.get_layer("embed").set_weights([np.eye(len(CHARS), dtype="float32")])
    lstm = model.get_layer(LAYER)
    kernel, recurrent, bias = (w * 0.3 for w in lstm.get_weights())  # Keras' gate order: i, f, c, o
    i, f, c, o = (slice(g * UNITS + PLANTED, g * UNITS + PLANTED + 1) for g in range(4))
    kernel[:, [i.start, f.start, c.start, o.start]] = 0
    recurrent[:, [i.start, f.start, c.start, o.start]] = 0
    kernel[CHARS.index(char), i] = 10.0
    bias[i], bias[f], bias[c], bias[o] = -5.0, -10.0, 3.0, 10.0
    lstm.set_weights([kernel, recurrent, bias])


def fit(log_dir, planted):
    from lstm_experiments import GateLogger

    x, y = windows()
    model = char_model(0.0 if planted else 0.5)
    if planted:
        plant(model)
    model.fit(x, y, epochs=1, batch_size=4, verbose=0,
              callbacks=[GateLogger(log_dir, background=False, probe=(x[:metadata.PROBE_SEQUENCES], y[:metadata.PROBE_SEQUENCES]),
                                    visualizers=("gates", "activations"), vocabulary=CHARS)])
    import keras

    states = keras.Model(model.inputs, model.get_layer(LAYER).output)
    return states.predict(x[:metadata.PROBE_SEQUENCES], verbose=0)  # h: (sequences, time, units)


@pytest.fixture(scope="module")
def logged(tmp_path_factory, chromium):
    root = tmp_path_factory.mktemp("text")
    hidden = {name: fit(root / tensorboard_run(name), name == "planted") for name in ("planted", "trained")}
    return {"logdir": root, "hidden": hidden,
            "tensors": {name: read_tensors(root / tensorboard_run(name)) for name in hidden}}


@pytest.fixture(scope="module")
def server(logged):
    with tensorboard(logged["logdir"], expected_runs=2, extra_args=["--samples_per_plugin", "lstm_gates=1000"]) as base:
        get_json(f"{base}/data/plugin/lstm_gates/runs")
        yield base


@pytest.fixture(scope="module")
def gates(chromium, server):
    from tests.helpers.tensorboard_browser import Browser

    with Browser() as browser:
        opened = Gates(browser, server)
        yield opened
        opened.close()
        assert not opened.errors, opened.errors


def show_run(gates, name):
    """The text view on run ``name`` (the activations' run select), once it is drawn."""
    run = tensorboard_run(name)
    choose = gates.frame.locator("[data-testid=activations-run-select]")
    if choose.input_value() != run:
        choose.select_option(run)
    gates.frame.locator(f"[data-testid=text-view][data-run='{run}'][data-step]").wait_for()
    gates.wait_complete()
    return gates.frame.locator("[data-testid=text-view]")


def shown_colours(gates):
    """{(sequence, unit): [(t, [r, g, b])]} of every token cell the view drew: its canvas' pixel at the cell's
    top left (above the token's text)."""
    cells = gates.frame.eval_on_selector_all("[data-testid=text-view] canvas[data-testid=text-line]", """(canvases) =>
      canvases.flatMap((canvas) => {
        const ratio = canvas.width / Number(canvas.dataset.width);
        const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
        const units = canvas.dataset.units.split(',').map(Number);
        const xs = canvas.dataset.x.split(',').map(Number);
        const rowPx = Number(canvas.dataset.rowPx);
        return units.flatMap((unit, r) => xs.map((x, i) => {
          const k = (Math.round(r * rowPx * ratio) * canvas.width + Math.round(x * ratio)) * 4;
          return [Number(canvas.dataset.sequence), unit, Number(canvas.dataset.start) + i,
            [pixels.data[k], pixels.data[k + 1], pixels.data[k + 2]]];
        }));
      })""")
    out = {}
    for sequence, unit, t, rgb in cells:
        out.setdefault((sequence, unit), []).append((t, rgb))
    return out


def cell_point(gates, sequence, unit, t):
    """(canvas locator, x, y): the middle of token t's cell in unit's row of sequence's line holding it."""
    lines = gates.frame.locator(f"[data-testid=text-view] canvas[data-testid=text-line][data-sequence='{sequence}']")
    for index in range(lines.count()):
        line = lines.nth(index)
        start, end = int(line.get_attribute("data-start")), int(line.get_attribute("data-end"))
        if start <= t < end:
            xs = [float(x) for x in line.get_attribute("data-x").split(",")] + [float(line.get_attribute("data-width"))]
            row = [int(u) for u in line.get_attribute("data-units").split(",")].index(unit)
            row_px = float(line.get_attribute("data-row-px"))
            return line, (xs[t - start] + xs[t - start + 1]) / 2, (row + 0.5) * row_px
    raise AssertionError(f"no line of sequence {sequence} holds t={t}")


def decode(rgb, offset, divide):
    r, g, b = rgb
    size = 1 - g / 255
    return (size if b < r else -size if r < b else 0.0) * divide + offset


def test_the_texts_colours_decode_to_keras_hidden_state(gates, logged):
    view = show_run(gates, "trained")
    assert view.get_attribute("data-panel") == HIDDEN
    step = int(view.get_attribute("data-step"))
    assert step == 1  # the slider follows the latest step: the weights after the epoch
    offset, divide = float(view.get_attribute("data-offset")), float(view.get_attribute("data-divide"))
    hidden = logged["hidden"]["trained"]
    assert offset == 0 and abs(divide - np.abs(hidden).max()) < 2e-3  # this step's largest |h|, float16 as logged
    x, _ = windows()
    texts = [CHARS[i].replace(" ", "␣").replace("\n", "↵") for i in x[:metadata.PROBE_SEQUENCES].ravel()]
    colours = shown_colours(gates)
    assert sorted(colours) == [(q, u) for q in range(metadata.PROBE_SEQUENCES) for u in range(UNITS)]
    for (q, unit), cells in colours.items():
        assert [t for t, _ in cells] == list(range(SEQ_LEN))
        decoded = np.array([decode(rgb, offset, divide) for _, rgb in cells])
        np.testing.assert_allclose(decoded, hidden[q, :, unit], atol=divide / 255 + 2e-3)
    # Hover reads the logged value (float16) at full precision.
    panels = logged["tensors"]["trained"][metadata.activations_tag(LAYER)]
    (values,) = [value for s, value in panels if s == step]  # (panels, sequences, time, units)
    line, cx, cy = cell_point(gates, 1, 3, 5)
    line.scroll_into_view_if_needed()
    line.hover(position={"x": cx, "y": cy})
    tooltip = gates.frame.locator("[data-testid=tooltip]")
    tooltip.wait_for(state="visible")
    said = tooltip.evaluate("(node) => ({...node.dataset})")
    hidden_index = 5  # the panels: input, forget, cell, output, cell_state, hidden
    assert float(said["value"]) == float(values[hidden_index, 1, 5, 3]) and said["token"] == texts[SEQ_LEN + 5]


def test_selecting_a_bracket_finds_the_planted_unit_and_every_other_bracket(gates, logged):
    show_run(gates, "planted")
    hidden = logged["hidden"]["planted"]
    x, _ = windows()
    probe = x[:metadata.PROBE_SEQUENCES]
    brackets = [(int(q), int(t)) for q, t in zip(*np.nonzero(probe == CHARS.index("(")))]
    assert len(brackets) > 4 and np.all(hidden[probe == CHARS.index("("), PLANTED] > 0.7)
    q, t = brackets[1]
    line, cx, cy = cell_point(gates, q, 0, t)
    line.scroll_into_view_if_needed()
    box = line.bounding_box()
    gates.page.mouse.move(box["x"] + cx, box["y"] + cy)
    gates.page.mouse.down()
    gates.page.mouse.up()
    units = gates.frame.locator("[data-testid=match-units] li")
    units.first.wait_for()
    assert units.first.get_attribute("data-unit") == str(PLANTED)
    places = gates.frame.eval_on_selector_all("[data-testid=match-places] li", """(nodes) => nodes.map((n) => [
        Number(n.dataset.sequence), Number(n.dataset.start), Number(n.dataset.end)])""")
    assert sorted(places) == sorted([s, b, b + 1] for s, b in brackets if (s, b) != (q, t))
