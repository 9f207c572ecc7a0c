"""The ``lstm_gates`` plugin's names: what the writer logs and the dashboard reads.

Like a TensorBoard plugin's own ``metadata.py``, this is the only module the
writing side (``board.summary``, run by the drawing process) and the serving
side (``board.plugin``) share. It imports neither TensorFlow nor Keras.

Every tag starts with ``lstm_gates/`` (TensorBoard's fast loader drops a tag
that two plugins use, so these never share a tag with the images):

- ``lstm_gates/<layer>/<matrix>``, every logged step: the layer's fused
  ``kernel``, ``recurrent_kernel``, ``bias`` (one row) or ``recurrent_bias``
  (GRU with ``reset_after``), float16, rows x columns in Keras' gate order,
  reduced block-wise like the images when larger than ``max_side_px``.
- ``lstm_gates/<layer>/<matrix>/initial``, step 0 only: the same for W_0,
  kept apart so that W_0 survives TensorBoard's downsampling of the steps.
- ``lstm_gates/<layer>/activations``, every logged step with ``activations``:
  float16 (panels, sequences, time, units): each gate's values on the first
  probe sequences, then ``cell_state`` (LSTM) and ``hidden``, in the input's
  time order.
- ``lstm_gates/<layer>/input``, every logged step with ``activations``: what
  the layer read on the same probe sequences, float16 (sequences, time,
  features): the model's input for a first layer, an ``Embedding``'s vectors,
  the layer below's outputs. Wider than ``max_side_px`` features: that axis is
  reduced block-wise.
- ``lstm_gates/probe``, step 0 only: the probe sequences' input, when the model
  has one input array: float16 (sequences, time, features); or, for a probe of
  tokens (``ProbeContent.encoding``: ``ids`` for 2-D integer ids, the input of an
  ``Embedding``; ``one_hot`` for one-hot vectors given with a vocabulary), int32
  token ids (sequences, time), -1 where a one-hot position holds no token, with
  the text of each id in the metadata (``ProbeContent.tokens``, from
  ``GateLogger(vocabulary=...)``; the runner's ``data=text`` gives its characters).
- ``lstm_gates/position``, every logged step: int64 [epoch, batch, event,
  last_finite]: where in training the step stands (the epoch, from 1, and the
  batches done in it; 0, 0 before training), ``EVENTS[event]``: nothing, the
  last finite weights, or the weights after the batch whose loss became NaN or
  inf; and at that failing step, the step holding the last finite weights
  (-1 elsewhere, or where they were not kept).
- ``lstm_gates/findings``, every logged step with findings on: the run's
  findings so far, one JSON string (``FindingsContent``).
- ``lstm_gates/<layer>/through_time``, every logged step the findings measured
  it: float64 (states, time), the norm of the loss' gradient with respect to
  ``h`` (and an LSTM's ``c``) at each probe time step (``ThroughTimeContent``).
- ``lstm_gates/<layer>/units``, every logged step with a probe and findings on:
  float32 (rows, units), each unit's left and right saturation per gate, the
  std of its h and its place in each order of the units (``UnitsContent``).

In activations and inputs, a step the layer's mask leaves out is NaN.

Each tag's summary metadata carries a JSON object (``content``) describing it;
its keys are listed in ``WeightsContent``, ``ActivationsContent``,
``ProbeContent``, ``InputContent``, ``PositionContent``, ``FindingsContent``,
``ThroughTimeContent`` and ``UnitsContent`` below. The writer builds one of these
(``encode_content``); the server reads it back into the same class
(``parse_content``), so both sides name a key in one place.
"""

import json
import math
from dataclasses import MISSING, asdict, dataclass, field, fields

PLUGIN_NAME = "lstm_gates"
CONTENT_VERSION = 1
SEPARATOR = "/"
INITIAL = "initial"
ACTIVATIONS = "activations"
PROBE = "probe"
CELL_STATE = "cell_state"
HIDDEN = "hidden"
# How many probe sequences the activations keep (bytes per step stay bounded).
PROBE_SEQUENCES = 4
# Samples per tag TensorBoard must keep for this plugin to show every step of any run
# (TensorBoard's own default is 100 with its data server, 10 with --load_fast=false).
KEEP_EVERY_STEP = 100_000
SAMPLES_FLAG = f"--samples_per_plugin={PLUGIN_NAME}={KEEP_EVERY_STEP}"

KIND_WEIGHTS = "weights"
KIND_INITIAL = "initial"
KIND_ACTIVATIONS = "activations"
KIND_PROBE = "probe"
KIND_INPUT = "input"
KIND_POSITION = "position"
KIND_FINDINGS = "findings"
KIND_THROUGH_TIME = "through_time"
KIND_UNITS = "units"
THROUGH_TIME = "through_time"
UNITS = "units"
INPUT = "input"
POSITION = "position"
FINDINGS = "findings"
# The rows of ``lstm_gates/<layer>/units`` (``UnitsContent.rows``): ``<gate>/left``, ``<gate>/right``, ``activity``,
# ``order/<by>``; named here for the writer (``summary``) and the server (``layer_figures``) alike.
UNIT_SIDES = ("left", "right")
ACTIVITY = "activity"
ORDER = "order"
# What is special about a logged step: the last weights before a loss became NaN or inf, and the
# weights after that batch. ``lstm_gates/position``'s third value indexes EVENTS.
LAST_FINITE = "last_finite"
NON_FINITE = "non_finite"
EVENTS = ("", LAST_FINITE, NON_FINITE)


@dataclass
class WeightsContent:
    """Metadata of ``lstm_gates/<layer>/<matrix>`` and of its ``/initial`` tag."""

    kind: str  # KIND_WEIGHTS or KIND_INITIAL
    layer: str
    matrix: str
    cell: str  # lstm or gru
    gates: list[str]  # Keras' order along the columns
    units: int
    shape: list[int]  # the full matrix' rows x columns, before any reduction
    reduced: bool  # the logged matrix is smaller: each value is one block of ``block`` x ``block``
    block: int
    reduce: str  # maxabs or mean
    scale: float  # the run's fixed colour scale of this matrix (largest |W_0|)
    rows: list[str] | None = None  # a label per full row: input feature names for a first kernel
    log_every: int = 1  # steps are 0, log_every, 2 log_every, ... and the last epoch
    version: int = CONTENT_VERSION

    def logged_shape(self) -> list[int]:
        """Rows x columns as logged: the full ``shape`` (a bias as one row), block-reduced when ``reduced``."""
        shape = [int(side) for side in self.shape]
        rows, cols = (1, shape[0]) if len(shape) == 1 else (shape[0], shape[1])
        block = int(self.block or 1) if self.reduced else 1
        return [math.ceil(rows / block), math.ceil(cols / block)]


@dataclass
class ActivationsContent:
    kind: str  # KIND_ACTIVATIONS
    layer: str
    cell: str
    panels: list[str]  # the gates in Keras' order, then CELL_STATE (LSTM only) and HIDDEN
    units: int
    candidate: str  # the gate on the tanh range [-1, 1]; the other gates are in [0, 1]
    # Wider than ``max_side_px`` units: the units axis (only) is reduced, each value one block of ``block`` units.
    reduced: bool = False
    block: int = 1
    reduce: str = "maxabs"  # maxabs or mean
    version: int = CONTENT_VERSION


# How ``lstm_gates/probe`` holds the probe (``ProbeContent.encoding``): float16 features (sequences, time,
# features), or int32 token ids (sequences, time) that the model read as ids (an Embedding's input) or as
# one-hot vectors (each position's id is its vector's largest entry; -1 where the vector is all zeros).
PROBE_FEATURES = "features"
PROBE_IDS = "ids"
PROBE_ONE_HOT = "one_hot"
PROBE_ENCODINGS = (PROBE_FEATURES, PROBE_IDS, PROBE_ONE_HOT)
# A one-hot position that holds no token (an all-zero vector: padding).
NO_TOKEN = -1


@dataclass
class ProbeContent:
    """Metadata of ``lstm_gates/probe``.

    A run written before tokens were kept reads as ``features`` with no ``tokens``; its probe of
    token ids (a 2-D datum, float16) then has no features either.
    """

    kind: str  # KIND_PROBE
    features: list[str] = field(default_factory=list)  # a name per input feature
    # PROBE_FEATURES, or PROBE_IDS / PROBE_ONE_HOT: the datum is int32 token ids (sequences, time).
    encoding: str = PROBE_FEATURES
    # The text of each token id: ``tokens[id]`` (a list vocabulary whole; a callable's, for ids 0 to the
    # probe's largest, or the one-hot width). None: no vocabulary was given (ids alone).
    tokens: list[str] | None = None
    version: int = CONTENT_VERSION

    @property
    def holds_ids(self) -> bool:
        """Whether the datum is token ids (sequences, time) rather than features."""
        return self.encoding in (PROBE_IDS, PROBE_ONE_HOT)


@dataclass
class InputContent:
    """Metadata of ``lstm_gates/<layer>/input``."""

    kind: str  # KIND_INPUT
    layer: str
    features: int  # the full width, before any reduction
    names: list[str] = field(default_factory=list)  # a name per feature, where known
    reduced: bool = False
    block: int = 1
    reduce: str = "maxabs"
    version: int = CONTENT_VERSION


@dataclass
class PositionContent:
    """Metadata of ``lstm_gates/position``."""

    kind: str  # KIND_POSITION
    # Steps are the optimizer's iterations, logged every this many batches; None: steps are epochs.
    log_every_batches: int | None = None
    events: list[str] = field(default_factory=lambda: list(EVENTS))
    version: int = CONTENT_VERSION


@dataclass
class FindingsContent:
    """Metadata of ``lstm_gates/findings``: at each logged step, the run's findings so far, a UTF-8 JSON
    string (a scalar string tensor) holding what ``findings.json`` holds then (``findings.record``)."""

    kind: str  # KIND_FINDINGS
    version: int = CONTENT_VERSION


@dataclass
class ThroughTimeContent:
    """Metadata of ``lstm_gates/<layer>/through_time``: float64 (states, time), row s the norm of the
    loss gradient with respect to that state (``h``, an LSTM's ``c``) at each time step of the probe,
    in the input's time order (``gates.gradients.backpropagate``)."""

    kind: str  # KIND_THROUGH_TIME
    layer: str
    states: list[str]
    version: int = CONTENT_VERSION


@dataclass
class UnitsContent:
    """Metadata of ``lstm_gates/<layer>/units``: float32 (rows, units), one row per name of ``rows``:
    ``<gate>/left`` and ``<gate>/right`` (each unit's fraction of probe values below 0.1 and above 0.9, a
    tanh gate on (v + 1)/2), ``activity`` (the std of its h), then ``order/<by>`` for each of ``orders``
    (``gates.units.UNIT_ORDERS``: a permutation of the units, exact as float32 below 2**24 units)."""

    kind: str  # KIND_UNITS
    layer: str
    cell: str
    gates: list[str]
    orders: list[str]
    rows: list[str]
    units: int
    version: int = CONTENT_VERSION


def weights_tag(layer: str, matrix: str) -> str:
    return SEPARATOR.join((PLUGIN_NAME, layer, matrix))


def initial_tag(layer: str, matrix: str) -> str:
    return SEPARATOR.join((PLUGIN_NAME, layer, matrix, INITIAL))


def activations_tag(layer: str) -> str:
    return SEPARATOR.join((PLUGIN_NAME, layer, ACTIVATIONS))


def input_tag(layer: str) -> str:
    return SEPARATOR.join((PLUGIN_NAME, layer, INPUT))


def position_tag() -> str:
    return SEPARATOR.join((PLUGIN_NAME, POSITION))


def through_time_tag(layer: str) -> str:
    return SEPARATOR.join((PLUGIN_NAME, layer, THROUGH_TIME))


def units_tag(layer: str) -> str:
    return SEPARATOR.join((PLUGIN_NAME, layer, UNITS))


def unit_saturation_row(gate: str, side: str) -> str:
    """The ``units`` row of one gate's left- or right-saturated fractions (``UNIT_SIDES``)."""
    return SEPARATOR.join((gate, side))


def unit_order_row(by: str) -> str:
    """The ``units`` row of one order of the units (a permutation)."""
    return SEPARATOR.join((ORDER, by))


def findings_tag() -> str:
    return SEPARATOR.join((PLUGIN_NAME, FINDINGS))


def probe_tag() -> str:
    return SEPARATOR.join((PLUGIN_NAME, PROBE))


def encode_content(content) -> bytes:
    """A content dataclass as the bytes stored in ``SummaryMetadata.plugin_data.content``."""
    return json.dumps(asdict(content), sort_keys=True).encode()


# Which class describes a tag of each kind (``/initial`` tags are described like their matrix).
CONTENT_CLASSES = {
    KIND_WEIGHTS: WeightsContent,
    KIND_INITIAL: WeightsContent,
    KIND_ACTIVATIONS: ActivationsContent,
    KIND_PROBE: ProbeContent,
    KIND_INPUT: InputContent,
    KIND_POSITION: PositionContent,
    KIND_FINDINGS: FindingsContent,
    KIND_THROUGH_TIME: ThroughTimeContent,
    KIND_UNITS: UnitsContent,
}


def decode_content(raw: bytes) -> dict:
    """The JSON object of a tag's plugin content; ValueError if it is not one of ours."""
    try:
        content = json.loads(raw.decode() if isinstance(raw, bytes | bytearray) else raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"not {PLUGIN_NAME} plugin content: {error}") from None
    if not isinstance(content, dict) or "kind" not in content:
        raise ValueError(f"not {PLUGIN_NAME} plugin content: {raw[:60]!r}")
    return content


def parse_content(raw) -> (WeightsContent | ActivationsContent | ProbeContent | InputContent | PositionContent
                          | FindingsContent):
    """A tag's plugin content read back into the class that wrote it (``CONTENT_CLASSES`` by ``kind``).

    ``raw`` is the stored bytes or an already decoded object. Keys a newer writer added are
    left out; keys an older run lacks take the class' defaults. ValueError when it is not
    one of ours: not JSON, an unknown kind, or a key without a default missing.
    """
    content = raw if isinstance(raw, dict) else decode_content(raw)
    cls = CONTENT_CLASSES.get(content.get("kind"))
    if cls is None:
        raise ValueError(f"{PLUGIN_NAME} content of an unknown kind: {content.get('kind')!r}")
    known = {f.name for f in fields(cls)}
    missing = [f.name for f in fields(cls)
               if f.name not in content and f.default is MISSING and f.default_factory is MISSING]
    if missing:
        raise ValueError(f"{PLUGIN_NAME} {content['kind']} content without {', '.join(missing)}")
    return cls(**{key: value for key, value in content.items() if key in known})


def summary_metadata(content):
    """TensorBoard's ``SummaryMetadata`` proto for one of this plugin's tags."""
    from tensorboard.compat.proto import summary_pb2

    return summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name=PLUGIN_NAME, content=encode_content(content)),
        data_class=summary_pb2.DATA_CLASS_TENSOR,
    )
