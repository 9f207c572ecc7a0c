"""The ``lstm_gates`` TensorBoard plugin: the GATES tab's HTTP API and its page.

Registered through the ``tensorboard_plugins`` entry point, so ``tensorboard
--logdir outputs`` shows the tab whenever a run logged this plugin's tags
(``metadata``). Built like TensorBoard's ``example_raw_scalars``: everything is
read through the data provider that TensorBoard hands over in ``TBContext``
(``list_tensors``/``read_tensors`` for this plugin's tags, ``list_scalars``/
``read_scalars`` for the scalars plugin's ``saturation/...`` tags), and the
page is a plain ES module served from ``board/static/``.

Routes, under ``/data/plugin/lstm_gates``; one werkzeug handler each:

- ``/runs``: every run with gate data, its kept steps, layers and matrices;
- ``/weights?run&layer&matrix&step``: one fused matrix at one step (step 0
  from the ``/initial`` tag when TensorBoard dropped it from the steps);
- ``/activations?run&layer&step``: the gate values on the probe sequences;
- ``/probe?run``: the probe sequences' input;
- ``/saturation?run&layer``: the ``saturation/<layer>/<gate>/low|high`` scalars;
- ``/static/<file>``: the page's own files, from an allow-list made at start.

A bad or missing parameter answers 400, an unknown run, layer, matrix or step
404, each with one ``text/plain`` line naming the parameter and its value.
A data route reads only the run and tag it names. NaN and infinities are sent
as JSON ``null``.
"""

import functools
import json
import logging
import math
import re
from pathlib import Path

import numpy as np
from werkzeug import wrappers

from tensorboard import errors as tb_errors
from tensorboard import plugin_util
from tensorboard.backend import http_util
from tensorboard.data import provider
from tensorboard.plugins import base_plugin

from lstm_experiments.board import metadata
from lstm_experiments.tensorboard import tags as run_tags

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
RUN_SUFFIX = "/tensorboard"
SCALARS_PLUGIN = "scalars"
# How many data a read asks for: all that TensorBoard kept (it keeps what
# --samples_per_plugin says; asking for fewer would drop steps a second time).
READ_ALL = 1_000_000
MATRIX_ORDER = {name: index for index, name in enumerate(run_tags.MATRICES)}
CONTENT_TYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".html": "text/html",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".txt": "text/plain",
    ".map": "application/json",
}
_INTEGER = re.compile(r"-?[0-9]+")


class HttpError(Exception):
    """An answer other than 200: its status and its one-line message."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def _shown(value: str) -> str:
    """A parameter's value for a one-line message: as given, unless it holds control characters."""
    text = str(value)
    if text.isprintable():
        return text
    return text.encode("unicode_escape").decode("ascii")


def _bad_request(message: str) -> HttpError:
    return HttpError(400, message)


def _not_found(message: str) -> HttpError:
    return HttpError(404, message)


def _jsonable(value):
    """``value`` with numpy arrays as nested lists and every non-finite float as None."""
    if isinstance(value, np.ndarray):
        array = value.astype(np.float64)
        finite = np.isfinite(array)
        if finite.all():
            return array.tolist()
        return np.where(finite, array, None).tolist()
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    return value


def _json(request, body):
    text = json.dumps(_jsonable(body), allow_nan=False, separators=(",", ":"))
    return http_util.Respond(request, text, "application/json")


def _plain(request, code: int, message: str):
    line = " ".join(message.splitlines()) or "error"
    return http_util.Respond(request, line, "text/plain", code=code)


def _route(handler):
    """A werkzeug handler that answers HttpError and TensorBoard's public errors as one plain line."""

    @functools.wraps(handler)
    def answer(self, request):
        try:
            return handler(self, request)
        except HttpError as error:
            return _plain(request, error.code, error.message)
        except tb_errors.PublicError as error:
            return _plain(request, error.http_code, str(error))
        except Exception as error:  # noqa: BLE001 - the client gets one line, the log the traceback
            logger.exception("lstm_gates: %s failed", request.path)
            return _plain(request, 500, f"internal error in {request.path}: {type(error).__name__}")

    return wrappers.Request.application(answer)


def _required(request, name: str) -> str:
    value = request.args.get(name)
    if value is None or value == "":
        raise _bad_request(f"{name} is missing: give ?{name}=...")
    return value


def _step(request) -> int:
    value = _required(request, "step")
    if not _INTEGER.fullmatch(value.strip()):
        raise _bad_request(f"step={_shown(value)} is not an integer")
    step = int(value)
    if step < 0:
        raise _bad_request(f"step={step} is negative")
    return step


def display_name(run: str) -> str:
    """A run's name without the trailing ``/tensorboard`` that every runner's run directory ends in."""
    return run[: -len(RUN_SUFFIX)] if run.endswith(RUN_SUFFIX) else run


def logged_step_count(max_step: int, log_every: int) -> int:
    """How many steps were logged: 0, log_every, 2 log_every, ... and ``max_step``."""
    if max_step < 0:
        return 0
    every = max(1, int(log_every))
    return max_step // every + 1 + (0 if max_step % every == 0 else 1)


def logged_shape(content: dict) -> list[int]:
    """A matrix's rows x columns as logged: block-reduced by ``block`` when ``reduced``."""
    shape = [int(side) for side in content["shape"]]
    rows, cols = (1, shape[0]) if len(shape) == 1 else (shape[0], shape[1])
    block = int(content.get("block") or 1) if content.get("reduced") else 1
    return [math.ceil(rows / block), math.ceil(cols / block)]


def static_files(folder: Path) -> dict[str, Path]:
    """The page's files: {path relative to ``folder`` (posix): file}; hidden files and caches left out."""
    if not folder.is_dir():
        return {}
    found = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if not path.is_file() or any(part.startswith(".") or part == "__pycache__" for part in relative.parts):
            continue
        found[relative.as_posix()] = path
    return found


class GatesPlugin(base_plugin.TBPlugin):
    """The GATES tab: every gate of every recurrent layer, step by step, run by run."""

    plugin_name = metadata.PLUGIN_NAME

    def __init__(self, context):
        self._provider = context.data_provider
        hint = (context.sampling_hints or {}).get(self.plugin_name)
        self._downsample = max(int(hint or 0), READ_ALL)
        # Fixed at start: a request can only name one of these, whatever its path says.
        self._static = static_files(STATIC_DIR)

    # ------------------------------------------------------------------ TensorBoard's plugin interface

    def get_plugin_apps(self):
        return {
            "/runs": self._serve_runs,
            "/weights": self._serve_weights,
            "/activations": self._serve_activations,
            "/probe": self._serve_probe,
            "/saturation": self._serve_saturation,
            "/static/*": self._serve_static,
        }

    def is_active(self):
        # TensorBoard already shows the tab when the data provider lists this plugin
        # (data_plugin_names); this answers the same question for providers that do not.
        if self._provider is None:
            return False
        try:
            listing = self._provider.list_tensors(
                plugin_util.context({}), experiment_id="", plugin_name=self.plugin_name
            )
        except Exception:  # noqa: BLE001 - an inactive tab, never a broken listing
            return False
        return any(listing.values())

    def data_plugin_names(self):
        return (self.plugin_name,)

    def frontend_metadata(self):
        return base_plugin.FrontendMetadata(es_module_path="/static/index.js", tab_name="GATES")

    # ------------------------------------------------------------------ reading

    def _request_scope(self, request):
        return plugin_util.context(request.environ), plugin_util.experiment_id(request.environ)

    def _list(self, request, runs=None, tags=None) -> dict:
        ctx, experiment = self._request_scope(request)
        run_tag_filter = None if runs is None and tags is None else provider.RunTagFilter(runs=runs, tags=tags)
        return self._provider.list_tensors(
            ctx, experiment_id=experiment, plugin_name=self.plugin_name, run_tag_filter=run_tag_filter
        )

    def _read(self, request, run: str, tags, downsample=None) -> dict:
        """{tag: [TensorDatum]} of ``run``, for exactly these tags."""
        ctx, experiment = self._request_scope(request)
        data = self._provider.read_tensors(
            ctx, experiment_id=experiment, plugin_name=self.plugin_name,
            downsample=self._downsample if downsample is None else downsample,
            run_tag_filter=provider.RunTagFilter(runs=[run], tags=list(tags)),
        )
        return data.get(run, {})

    @staticmethod
    def _content(series) -> dict | None:
        try:
            return metadata.decode_content(series.plugin_content)
        except ValueError:
            return None

    def _tag_content(self, request, run: str, tag: str, kind: str, **expected) -> dict | None:
        """The content of ``run``'s ``tag`` when it is of ``kind`` (and names ``expected``), else None."""
        series = self._list(request, runs=[run], tags=[tag]).get(run, {}).get(tag)
        content = None if series is None else self._content(series)
        if content is None or content.get("kind") != kind:
            return None
        if any(content.get(key) != value for key, value in expected.items()):
            return None
        return content

    def _run_contents(self, request, run: str) -> dict[str, dict]:
        """{tag: content} of every one of this plugin's tags in ``run``; 404 if the run has none."""
        listing = self._list(request, runs=[run]).get(run)
        if not listing:
            raise _not_found(f"run={_shown(run)} not found (no {self.plugin_name} data)")
        contents = {}
        for tag, series in listing.items():
            content = self._content(series)
            if content is not None:
                contents[tag] = content
        return contents

    def _layer_contents(self, request, run: str, layer: str) -> dict[str, dict]:
        """{tag: content} of one layer of ``run``; 404 naming the run or the layer."""
        contents = self._run_contents(request, run)
        mine = {tag: c for tag, c in contents.items() if c.get("layer") == layer}
        if not mine:
            known = sorted({c["layer"] for c in contents.values() if "layer" in c})
            raise _not_found(f"layer={_shown(layer)} not found in run={_shown(run)} (layers: {', '.join(known)})")
        return mine

    @staticmethod
    def _at_step(data, step: int):
        for datum in data:
            if datum.step == step:
                return datum
        return None

    # ------------------------------------------------------------------ routes

    @_route
    def _serve_runs(self, request):
        """Every run with gate data: kept steps, layers, matrices and what the page may ask for."""
        listing = self._list(request)
        saturated = self._saturation_layers(request, list(listing))
        runs = [self._run_index(request, run, listing[run], saturated.get(run, set())) for run in sorted(listing)]
        runs = [entry for entry in runs if entry is not None]
        return _json(request, {
            "runs": runs,
            "samples_flag": metadata.SAMPLES_FLAG,
            "downsampled": any(entry["kept_steps"] < entry["logged_steps"] for entry in runs),
        })

    def _saturation_layers(self, request, runs) -> dict[str, set[str]]:
        """{run: layers with ``saturation/<layer>/...`` scalars}."""
        if not runs:
            return {}
        ctx, experiment = self._request_scope(request)
        scalars = self._provider.list_scalars(
            ctx, experiment_id=experiment, plugin_name=SCALARS_PLUGIN,
            run_tag_filter=provider.RunTagFilter(runs=runs),
        )
        found = {}
        for run, tag_map in scalars.items():
            for tag in tag_map:
                parsed = run_tags.parse(tag)
                if parsed is not None and parsed.kind == run_tags.SATURATION:
                    found.setdefault(run, set()).add(parsed.layer)
        return found

    def _run_index(self, request, run: str, series_by_tag: dict, saturated: set[str]) -> dict | None:
        weights, activations, probe = {}, {}, None
        for tag, series in series_by_tag.items():
            content = self._content(series)
            if content is None:
                continue
            kind = content["kind"]
            if kind == metadata.KIND_WEIGHTS:
                weights[tag] = (content, series)
            elif kind == metadata.KIND_ACTIVATIONS:
                activations[content["layer"]] = (tag, content)
            elif kind == metadata.KIND_PROBE:
                probe = content
        if not weights:
            return None
        # Kept steps from the smallest matrix: TensorBoard keeps the same steps of every
        # tag that logged the same steps, and this read is the cheapest.
        smallest = min(weights, key=lambda tag: math.prod(logged_shape(weights[tag][0])))
        steps = sorted(datum.step for datum in self._read(request, run, [smallest]).get(smallest, []))
        max_step = max(int(series.max_step) for _, series in weights.values())
        log_every = max(int(content.get("log_every") or 1) for content, _ in weights.values())
        # One datum per tag for the shapes (sequences, time) of the activations.
        activation_shapes = {}
        if activations:
            sampled = self._read(request, run, [tag for tag, _ in activations.values()], downsample=1)
            for layer, (tag, _) in activations.items():
                data = sampled.get(tag) or []
                if data:
                    activation_shapes[layer] = list(np.shape(data[-1].numpy))

        layers = {}
        for content, _ in weights.values():
            layer = content["layer"]
            entry = layers.setdefault(layer, {
                "layer": layer, "cell": content.get("cell"), "gates": list(content.get("gates") or []),
                "units": content.get("units"), "matrices": [], "activations": None,
                "saturation": layer in saturated,
            })
            entry["matrices"].append({
                "matrix": content["matrix"],
                "shape": list(content["shape"]),
                "logged_shape": logged_shape(content),
                "reduced": bool(content.get("reduced")),
                "block": int(content.get("block") or 1),
                "scale": content.get("scale"),
                "rows": content.get("rows"),
            })
        for entry in layers.values():
            entry["matrices"].sort(key=lambda m: MATRIX_ORDER.get(m["matrix"], len(MATRIX_ORDER)))
            if entry["layer"] in activations:
                content = activations[entry["layer"]][1]
                shape = activation_shapes.get(entry["layer"]) or [None] * 4
                entry["activations"] = {
                    "panels": list(content.get("panels") or []),
                    "candidate": content.get("candidate"),
                    "sequences": shape[1],
                    "time": shape[2],
                }
        features = list(probe.get("features") or []) if probe is not None else None
        return {
            "run": run,
            "name": display_name(run),
            "steps": steps,
            "max_step": max_step,
            "logged_steps": logged_step_count(max_step, log_every),
            "kept_steps": len(steps),
            "features": features,
            "layers": list(layers.values()),
        }

    @_route
    def _serve_weights(self, request):
        """One fused matrix at one step, as logged (rows x columns, Keras' gate order)."""
        run = _required(request, "run")
        layer = _required(request, "layer")
        matrix = _required(request, "matrix")
        step = _step(request)
        tag = metadata.weights_tag(layer, matrix)
        content = self._tag_content(request, run, tag, metadata.KIND_WEIGHTS, layer=layer, matrix=matrix)
        if content is None:
            self._explain_missing_matrix(request, run, layer, matrix)
        data = self._read(request, run, [tag]).get(tag, [])
        datum = self._at_step(data, step)
        if datum is None and step == 0:
            initial = metadata.initial_tag(layer, matrix)
            initial_content = self._tag_content(request, run, initial, metadata.KIND_INITIAL, layer=layer, matrix=matrix)
            if initial_content is not None:
                datum = self._at_step(self._read(request, run, [initial]).get(initial, []), 0)
        if datum is None:
            kept = ", ".join(str(d.step) for d in data)
            raise _not_found(
                f"step={step} not found for run={_shown(run)}, layer={_shown(layer)}, matrix={_shown(matrix)}"
                f" (kept steps: {kept or 'none'})"
            )
        values = np.asarray(datum.numpy)
        values = values.reshape(1, -1) if values.ndim < 2 else values.reshape(values.shape[0], -1)
        return _json(request, {
            "run": run, "layer": layer, "matrix": matrix, "step": int(datum.step),
            "gates": list(content.get("gates") or []),
            "shape": list(values.shape),
            "full_shape": list(content["shape"]),
            "scale": content.get("scale"),
            "reduced": bool(content.get("reduced")),
            "block": int(content.get("block") or 1),
            "rows": content.get("rows"),
            "values": values,
        })

    def _explain_missing_matrix(self, request, run: str, layer: str, matrix: str):
        """Raise the 404 that names what is unknown: the run, the layer or the matrix."""
        contents = self._layer_contents(request, run, layer)
        known = sorted({c["matrix"] for c in contents.values() if c.get("kind") == metadata.KIND_WEIGHTS})
        raise _not_found(
            f"matrix={_shown(matrix)} not found in run={_shown(run)}, layer={_shown(layer)}"
            f" (matrices: {', '.join(known) or 'none'})"
        )

    @_route
    def _serve_activations(self, request):
        """Each gate's values (then cell state and hidden) on the probe sequences at one step."""
        run = _required(request, "run")
        layer = _required(request, "layer")
        step = _step(request)
        tag = metadata.activations_tag(layer)
        content = self._tag_content(request, run, tag, metadata.KIND_ACTIVATIONS, layer=layer)
        if content is None:
            self._layer_contents(request, run, layer)  # 404 for an unknown run or layer
            raise _not_found(f"layer={_shown(layer)} of run={_shown(run)} logged no activations")
        data = self._read(request, run, [tag]).get(tag, [])
        datum = self._at_step(data, step)
        if datum is None:
            kept = ", ".join(str(d.step) for d in data)
            raise _not_found(
                f"step={step} not found for run={_shown(run)}, layer={_shown(layer)} activations"
                f" (kept steps: {kept or 'none'})"
            )
        values = np.asarray(datum.numpy)
        return _json(request, {
            "step": int(datum.step),
            "panels": list(content.get("panels") or []),
            "candidate": content.get("candidate"),
            "shape": list(values.shape),
            "values": values,
        })

    @_route
    def _serve_probe(self, request):
        """The probe sequences' input (sequences, time, features), logged once at step 0."""
        run = _required(request, "run")
        tag = metadata.probe_tag()
        content = self._tag_content(request, run, tag, metadata.KIND_PROBE)
        if content is None:
            self._run_contents(request, run)  # 404 for an unknown run
            raise _not_found(f"run={_shown(run)} logged no probe")
        data = self._read(request, run, [tag]).get(tag, [])
        if not data:
            raise _not_found(f"run={_shown(run)} kept no probe data")
        values = np.asarray(data[0].numpy)
        return _json(request, {
            "features": list(content.get("features") or []),
            "shape": list(values.shape),
            "values": values,
        })

    @_route
    def _serve_saturation(self, request):
        """The scalars plugin's saturation fractions of one layer's gates, by gate: [[step, value], ...]."""
        run = _required(request, "run")
        layer = _required(request, "layer")
        contents = self._layer_contents(request, run, layer)
        gates = next((list(c["gates"]) for c in contents.values() if c.get("gates")), [])
        wanted = {run_tags.saturation(layer, gate, side): (gate, side)
                  for gate in gates for side in run_tags.SATURATION_SIDES}
        ctx, experiment = self._request_scope(request)
        scalars = self._provider.read_scalars(
            ctx, experiment_id=experiment, plugin_name=SCALARS_PLUGIN, downsample=READ_ALL,
            run_tag_filter=provider.RunTagFilter(runs=[run], tags=list(wanted)),
        ).get(run, {})
        result = {}
        for tag, (gate, side) in wanted.items():
            if tag in scalars:
                sides = result.setdefault(gate, {s: [] for s in run_tags.SATURATION_SIDES})
                sides[side] = [[int(d.step), float(d.value)] for d in scalars[tag]]
        return _json(request, {"gates": {gate: result[gate] for gate in gates if gate in result}})

    @_route
    def _serve_static(self, request):
        """One of the page's files (the allow-list made at start); anything else 404."""
        prefix = f"/data/plugin/{self.plugin_name}/static/"
        path = request.path
        name = path[len(prefix):] if path.startswith(prefix) else None
        file = self._static.get(name) if name else None
        if file is None:
            raise _not_found(f"file={_shown(name or path)} is not one of the {self.plugin_name} page's files")
        content_type = CONTENT_TYPES.get(file.suffix.lower(), "application/octet-stream")
        return http_util.Respond(request, file.read_bytes(), content_type)
