"""Every tag a run writes: the one place they are built and parsed.

Visualizers, the painter, the callback, HParams and the report all name their
tags through these functions, so a tag can be renamed here and nowhere else,
and the report parses back exactly what was written. The Tag reference in
docs/reference.md lists the same vocabulary.

``<layer>`` is the Keras layer name (``lstm``, ``forward_lstm``, ``gru_1``...),
``<matrix>`` one of ``kernel``, ``recurrent_kernel``, ``bias`` or
``recurrent_bias``, ``<gate>`` a gate of ``gates.layout.GATE_NAMES``. Every
plugin has its own first component: TensorBoard's fast loader drops a tag that
two plugins use.
"""

from dataclasses import dataclass

from lstm_experiments import metrics

SEPARATOR = "/"

# First components, one per kind of summary.
KERNEL = "kernel"
GATES = "gates"
BIAS = "bias"
HISTOGRAMS = "histograms"
SCALE = "scale"
STATS = "stats"
DELTA = "delta"
ACTIVATIONS = "activations"
SATURATION = "saturation"
GRADIENTS = "gradients"
METRICS = "metrics"
# Per logged batch (``log_every_batches``): the batch's own loss and its update's gradient norms.
BATCH = "batch"
BATCH_LOSS = "loss"
BATCH_GRADIENT_NORM = "gradient_norm"
# The Text dashboard's record of a loss gone NaN or inf (its own plugin: text).
FAILURE = "failure"
# Findings (findings/): the Text record of a step's findings, and per kind how many places show it (scalars).
FINDINGS = "findings"
FINDINGS_TEXT = "findings_text"
# The gradient through time's decay per layer and state (h, c): ||dL/ds_0|| / ||dL/ds_T|| on the probe.
THROUGH_TIME = "through_time"

# The matrices of a recurrent cell, in the order a layer holds them.
WEIGHT_MATRICES = ("kernel", "recurrent_kernel")
BIAS_VECTORS = ("bias", "recurrent_bias")
MATRICES = (*WEIGHT_MATRICES, *BIAS_VECTORS)
STATISTICS = ("mean", "std", "frobenius_norm", "max_abs", "change", "spectral_norm")
SATURATION_SIDES = ("low", "high")
DELTA_SCALE_PREFIX = "delta_"
# The epoch metrics Keras reports, in the order tables list them (``metrics``, where they are named).
METRIC_NAMES = metrics.METRIC_NAMES
# The custom_scalars plugin's layout record (its own fixed tag), once per event file.
CUSTOM_SCALARS_LAYOUT = "custom_scalars__config__"


def _join(*parts: str) -> str:
    return SEPARATOR.join(parts)


def kernel_image(layer: str, matrix: str) -> str:
    """``kernel/<layer>/<matrix>``: a whole fused matrix, gate blocks in Keras' order."""
    return _join(KERNEL, layer, matrix)


def gate_image(layer: str, matrix: str, gate: str) -> str:
    """``gates/<layer>/<matrix>/<gate>``: one gate's slice of the kernel or recurrent kernel."""
    return _join(GATES, layer, matrix, gate)


def bias_image(layer: str, bias: str, gate: str) -> str:
    """``bias/<layer>/<bias>/<gate>``: one gate's bias as a one-row image."""
    return _join(BIAS, layer, bias, gate)


def histogram(layer: str, matrix: str, gate: str) -> str:
    """``histograms/<layer>/<matrix>/<gate>``: one gate's values."""
    return _join(HISTOGRAMS, layer, matrix, gate)


def scale(layer: str, matrix: str) -> str:
    """``scale/<layer>/<matrix>``: the colour scale s of a matrix's images."""
    return _join(SCALE, layer, matrix)


def delta_scale_name(matrix: str) -> str:
    """The painter's name for the per-step scale of a matrix's change (``delta_<matrix>``)."""
    return DELTA_SCALE_PREFIX + matrix


def statistic(layer: str, matrix: str, gate: str, name: str) -> str:
    """``stats/<layer>/<matrix>/<gate>/<statistic>``."""
    return _join(STATS, layer, matrix, gate, name)


def delta_image(layer: str, matrix: str, gate: str) -> str:
    """``delta/<layer>/<matrix>/<gate>``: W_t - W_0 of one gate."""
    return _join(DELTA, layer, matrix, gate)


def activation_image(layer: str, gate: str) -> str:
    """``activations/<layer>/<gate>``: one probe sequence's gate values, time down, units across."""
    return _join(ACTIVATIONS, layer, gate)


def saturation(layer: str, gate: str, side: str) -> str:
    """``saturation/<layer>/<gate>/low`` or ``.../high``."""
    if side not in SATURATION_SIDES:
        raise ValueError(f"side={side!r} (must be one of {', '.join(SATURATION_SIDES)})")
    return _join(SATURATION, layer, gate, side)


def gradient_norm(layer: str, matrix: str, gate: str) -> str:
    """``gradients/<layer>/<matrix>/<gate>``: the norm of the probe loss' gradient."""
    return _join(GRADIENTS, layer, matrix, gate)


def metric(name: str) -> str:
    """``metrics/<name>``: an epoch metric as Keras names it (``loss``, ``val_accuracy``...)."""
    return _join(METRICS, name)


def batch_loss() -> str:
    """``batch/loss``: one logged batch's own loss (not the epoch's running mean Keras reports)."""
    return _join(BATCH, BATCH_LOSS)


def batch_gradient_norm(layer: str | None = None) -> str:
    """``batch/gradient_norm``: the global norm of one batch's gradients over every trainable weight;
    ``batch/gradient_norm/<layer>``: over one recurrent cell's weights."""
    return _join(BATCH, BATCH_GRADIENT_NORM) if layer is None else _join(BATCH, BATCH_GRADIENT_NORM, layer)


def findings_count(kind: str) -> str:
    """``findings/<kind>``: how many places (layers, gates) show a finding of that kind at a step."""
    return _join(FINDINGS, kind)


def findings_text() -> str:
    """``findings_text``: the Text dashboard's record of a step's findings (its own first component: the
    text plugin's, not the scalars' ``findings/...``)."""
    return FINDINGS_TEXT


def through_time_decay(layer: str, state: str) -> str:
    """``through_time/<layer>/<state>``: ||dL/d<state>_0|| / ||dL/d<state>_T|| on the probe (state h or c)."""
    return _join(THROUGH_TIME, layer, state)


def findings_tags(through_time=()) -> set[str]:
    """Every tag a run with findings on writes beside its visualizers' (its ``findings_text`` only at steps
    with findings): ``findings/<kind>`` for every kind, and ``through_time/<layer>/<state>`` for each
    (layer, states) of ``through_time``, the layers whose gradient through time was measured."""
    from lstm_experiments.findings.rules import KINDS  # the kinds are the rules' to name

    return ({findings_count(kind) for kind in KINDS}
            | {through_time_decay(layer, state) for layer, states in through_time for state in states})


def metric_name(tag: str) -> str:
    """The metric's own name, as the HParams dashboard shows it (``metrics/val_loss`` -> ``val_loss``)."""
    return tag.split(SEPARATOR)[-1]


@dataclass(frozen=True)
class Tag:
    """A parsed tag: its kind (first component) and whichever parts that kind has."""

    kind: str
    layer: str | None = None
    matrix: str | None = None
    gate: str | None = None
    statistic: str | None = None  # stats: the statistic; saturation: low or high; metrics: the name


# kind -> the fields its remaining components fill, in order.
_FIELDS = {
    KERNEL: ("layer", "matrix"),
    GATES: ("layer", "matrix", "gate"),
    BIAS: ("layer", "matrix", "gate"),
    HISTOGRAMS: ("layer", "matrix", "gate"),
    SCALE: ("layer", "matrix"),
    STATS: ("layer", "matrix", "gate", "statistic"),
    DELTA: ("layer", "matrix", "gate"),
    ACTIVATIONS: ("layer", "gate"),
    SATURATION: ("layer", "gate", "statistic"),
    GRADIENTS: ("layer", "matrix", "gate"),
    METRICS: ("statistic",),
    BATCH: ("statistic", "layer"),
    FINDINGS: ("statistic",),
    THROUGH_TIME: ("layer", "statistic"),
}


def parse(tag: str) -> Tag | None:
    """The parts of one of this module's tags; None for anything else (another tool's tag)."""
    kind, *rest = tag.split(SEPARATOR)
    fields = _FIELDS.get(kind)
    if kind == BATCH and len(rest) == 1:  # batch/loss, batch/gradient_norm: no layer
        fields = fields[:1]
    if fields is None or len(rest) != len(fields) or not all(rest):
        return None
    return Tag(kind, **dict(zip(fields, rest)))


def layer_tags(visualizer: str, layer: str, gates: tuple[str, ...], matrices: tuple[str, ...],
               spectral_norm: bool = True) -> set[str]:
    """Every tag ``visualizer`` writes for one recurrent layer with these gates and matrices.

    The exact set a test compares a run's event file with; the image visualizers'
    colour scales (``scale/...``) are included with them. ``spectral_norm``: False for
    a ConvLSTM, which has none.
    """
    weights = [m for m in WEIGHT_MATRICES if m in matrices]
    biases = [m for m in BIAS_VECTORS if m in matrices]
    if visualizer == "kernel":
        return {kernel_image(layer, m) for m in weights} | {scale(layer, m) for m in weights}
    if visualizer == "gates":
        return {gate_image(layer, m, g) for m in weights for g in gates} | {scale(layer, m) for m in weights}
    if visualizer == "bias":
        return ({bias_image(layer, b, g) for b in biases for g in gates}
                | {histogram(layer, b, g) for b in biases for g in gates} | {scale(layer, b) for b in biases})
    if visualizer == "histograms":
        return {histogram(layer, m, g) for m in matrices for g in gates}
    if visualizer == "stats":
        names = [s for s in STATISTICS if s != "spectral_norm"]
        return ({statistic(layer, m, g, s) for m in matrices for g in gates for s in names}
                | {statistic(layer, "recurrent_kernel", g, "spectral_norm") for g in gates if spectral_norm})
    if visualizer == "delta":
        return ({delta_image(layer, m, g) for m in matrices for g in gates}
                | {scale(layer, delta_scale_name(m)) for m in matrices})
    if visualizer == "activations":
        return ({activation_image(layer, g) for g in gates}
                | {saturation(layer, g, side) for g in gates for side in SATURATION_SIDES})
    if visualizer == "gradients":
        return {gradient_norm(layer, m, g) for m in matrices for g in gates}
    raise ValueError(f"visualizer={visualizer!r} is not one of the visualizers this module names")
