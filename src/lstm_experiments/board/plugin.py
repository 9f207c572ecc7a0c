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
- ``/probe?run``: the probe sequences' input; ``/probe?run&layer&step``: what one layer read at a step;
- ``/saturation?run&layer``: the ``saturation/<layer>/<gate>/low|high`` scalars;
- ``/static/<file>``: the page's own files, from an allow-list made at start.

A bad or missing parameter answers 400, an unknown run, layer, matrix or step
404, each with one ``text/plain`` line naming the parameter and its value.
A data route reads only the run and tag it names: the latest datum for the last
step, else the whole series, kept (``SeriesCache``, up to ``SERIES_CACHE_BYTES``)
while the listing shows it unchanged, since a provider cannot read one step. The
runs route reads all runs together. NaN and infinities are sent as JSON ``null``.
"""

import math
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from tensorboard import plugin_util
from tensorboard.backend import http_util
from tensorboard.data import provider
from tensorboard.plugins import base_plugin

from lstm_experiments.board import metadata
from lstm_experiments.board.http_answers import (
    CONTENT_TYPES, datum_at, display_name, logged_shape, logged_step_count, not_found, required,
    respond_json, route, shown, static_files, step_of,
)
from lstm_experiments.tensorboard import tags as run_tags

STATIC_DIR = Path(__file__).resolve().parent / "static"
SCALARS_PLUGIN = "scalars"
# How many data a read asks for: all that TensorBoard kept (it keeps what
# --samples_per_plugin says; asking for fewer would drop steps a second time).
READ_ALL = 1_000_000
MATRIX_ORDER = {name: index for index, name in enumerate(run_tags.MATRICES)}
# The data provider cannot read one step of a series, only all of it (or the latest datum): the
# series read for a step other than the last are kept, up to this many bytes of tensors, so that
# the page's requests for the other steps do not each read the whole series again (for 1,000
# logged steps at 128 units, 131 MB and 0.6 s per request).
SERIES_CACHE_BYTES = 512 * 2**20


class SeriesCache:
    """Every kept datum of the most recently used (run, tag) series, while the series is unchanged.

    A series is identified by its key and its version (its max step and max wall time, from the
    listing every request makes anyway): a run still training gets a new version at each step.
    Least recently used series go first once the tensors pass ``max_bytes``; concurrent requests
    for one series wait for one read.
    """

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._entries = OrderedDict()  # key -> (version, data, bytes)
        self._loading = {}  # key -> the lock held while that series is read
        self._bytes = 0

    def _hit(self, key, version):
        entry = self._entries.get(key)
        if entry is None or entry[0] != version:
            return None
        self._entries.move_to_end(key)
        return entry[1]

    def get(self, key, version, read):
        """The cached data of ``key`` at ``version``, else ``read()``'s, kept for the next request."""
        with self._lock:
            data = self._hit(key, version)
            if data is not None:
                return data
            loading = self._loading.setdefault(key, threading.Lock())
        with loading:
            with self._lock:
                data = self._hit(key, version)
                if data is not None:
                    return data
            data = read()
            size = sum(np.asarray(datum.numpy).nbytes for datum in data)
            with self._lock:
                old = self._entries.pop(key, None)
                if old is not None:
                    self._bytes -= old[2]
                if size <= self.max_bytes:
                    self._entries[key] = (version, data, size)
                    self._bytes += size
                    while self._bytes > self.max_bytes:
                        _, (_, _, dropped) = self._entries.popitem(last=False)
                        self._bytes -= dropped
                self._loading.pop(key, None)
            return data


class GatesPlugin(base_plugin.TBPlugin):
    """The GATES tab: every gate of every recurrent layer, step by step, run by run."""

    plugin_name = metadata.PLUGIN_NAME

    def __init__(self, context):
        self._provider = context.data_provider
        hint = (context.sampling_hints or {}).get(self.plugin_name)
        self._downsample = max(int(hint or 0), READ_ALL)
        # Fixed at start: a request can only name one of these, whatever its path says.
        self._static = static_files(STATIC_DIR)
        self._series = SeriesCache(SERIES_CACHE_BYTES)

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
        return self._read_runs(request, [run], tags, downsample).get(run, {})

    def _read_runs(self, request, runs, tags, downsample=None) -> dict:
        """{run: {tag: [TensorDatum]}}: these tags of these runs, in one read of the data provider."""
        ctx, experiment = self._request_scope(request)
        return self._provider.read_tensors(
            ctx, experiment_id=experiment, plugin_name=self.plugin_name,
            downsample=self._downsample if downsample is None else downsample,
            run_tag_filter=provider.RunTagFilter(runs=list(runs), tags=list(tags)),
        )

    def _read_grouped(self, request, wanted: dict, downsample=None) -> dict:
        """{run: {tag: [TensorDatum]}} for ``wanted`` {run: tags}: one read per distinct set of tags.

        A read's filter is runs x tags, so runs that want the same tags (every run of a
        sweep) share one read; each run gets back only the tags it asked for.
        """
        groups = {}
        for run, tags in wanted.items():
            if tags:
                groups.setdefault(frozenset(tags), []).append(run)
        found = {}
        for tags, runs in groups.items():
            data = self._read_runs(request, runs, sorted(tags), downsample)
            for run in runs:
                found[run] = {tag: data.get(run, {}).get(tag, []) for tag in tags}
        return found

    @staticmethod
    def _content(series) -> dict | None:
        try:
            return metadata.decode_content(series.plugin_content)
        except ValueError:
            return None

    def _tag_series(self, request, run: str, tag: str, kind: str, **expected):
        """(content, series) of ``run``'s ``tag`` when it is of ``kind`` (and names ``expected``), else None."""
        series = self._list(request, runs=[run], tags=[tag]).get(run, {}).get(tag)
        content = None if series is None else self._content(series)
        if content is None or content.get("kind") != kind:
            return None
        if any(content.get(key) != value for key, value in expected.items()):
            return None
        return content, series

    def _tag_content(self, request, run: str, tag: str, kind: str, **expected) -> dict | None:
        found = self._tag_series(request, run, tag, kind, **expected)
        return None if found is None else found[0]

    def _series_data(self, request, run: str, tag: str, series) -> list:
        """Every kept datum of ``run``'s ``tag`` (from the cache while the series is unchanged)."""
        _, experiment = self._request_scope(request)
        version = (int(series.max_step), float(series.max_wall_time))
        return self._series.get((experiment, run, tag), version,
                                lambda: self._read(request, run, [tag]).get(tag, []))

    def _datum(self, request, run: str, tag: str, series, step: int):
        """The datum of ``run``'s ``tag`` at ``step``, or None if it is not kept.

        The last step is one datum's read (a provider's downsampled read always keeps the
        latest datum); any other step comes from the whole series (``_series_data``).
        """
        if step == int(series.max_step):
            datum = self._at_step(self._read(request, run, [tag], downsample=1).get(tag, []), step)
            if datum is not None:
                return datum
        return self._at_step(self._series_data(request, run, tag, series), step)

    def _run_contents(self, request, run: str) -> dict[str, dict]:
        """{tag: content} of every one of this plugin's tags in ``run``; 404 if the run has none."""
        listing = self._list(request, runs=[run]).get(run)
        if not listing:
            raise not_found(f"run={shown(run)} not found (no {self.plugin_name} data)")
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
            raise not_found(f"layer={shown(layer)} not found in run={shown(run)} (layers: {', '.join(known)})")
        return mine

    @staticmethod
    def _at_step(data, step: int):
        for datum in data:
            if datum.step == step:
                return datum
        return None

    # ------------------------------------------------------------------ routes

    @route
    def _serve_runs(self, request):
        """Every run with gate data: kept steps, layers, matrices and what the page may ask for."""
        listing = self._list(request)
        saturated = self._saturation_layers(request, list(listing))
        parts = {run: self._run_parts(listing[run]) for run in sorted(listing)}
        parts = {run: part for run, part in parts.items() if part["weights"]}
        # Two reads for all the runs together, not two per run: with TensorBoard's data server
        # every read is a round trip of about 45 ms, and per-run reads took 2.4 s for 50 runs
        # (median; 0.14 s batched: docs/performance.md, "Load: a 50-run sweep in the dashboard").
        steps = self._read_grouped(request, {run: [part["smallest"]] for run, part in parts.items()})
        sampled = self._read_grouped(
            request, {run: [tag for tag, _ in part["activations"].values()] for run, part in parts.items()},
            downsample=1,
        )
        runs = [self._run_index(run, part, steps.get(run, {}), sampled.get(run, {}), saturated.get(run, set()))
                for run, part in parts.items()]
        return respond_json(request, {
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

    def _run_parts(self, series_by_tag: dict) -> dict:
        """One run's tags by kind, read from the listing alone, and its smallest weights tag."""
        weights, activations, probe, inputs = {}, {}, None, set()
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
            elif kind == metadata.KIND_INPUT:
                inputs.add(content["layer"])
        # Kept steps from the smallest matrix: TensorBoard keeps the same steps of every
        # tag that logged the same steps, and this read is the cheapest.
        smallest = min(weights, key=lambda tag: math.prod(logged_shape(weights[tag][0]))) if weights else None
        return {"weights": weights, "activations": activations, "probe": probe, "inputs": inputs,
                "smallest": smallest}

    @staticmethod
    def _run_index(run: str, parts: dict, step_data: dict, sampled: dict, saturated: set[str]) -> dict:
        """The runs route's entry of one run: ``step_data`` holds its smallest tag, ``sampled`` one datum
        of each activations tag (for their shapes: sequences, time)."""
        weights, activations, probe = parts["weights"], parts["activations"], parts["probe"]
        steps = sorted(datum.step for datum in step_data.get(parts["smallest"], []))
        max_step = max(int(series.max_step) for _, series in weights.values())
        log_every = max(int(content.get("log_every") or 1) for content, _ in weights.values())
        activation_shapes = {}
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
                    # /probe?layer= serves what this layer read, step by step
                    "input": entry["layer"] in parts.get("inputs", ()),
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

    @route
    def _serve_weights(self, request):
        """One fused matrix at one step, as logged (rows x columns, Keras' gate order)."""
        run = required(request, "run")
        layer = required(request, "layer")
        matrix = required(request, "matrix")
        step = step_of(request)
        tag = metadata.weights_tag(layer, matrix)
        found = self._tag_series(request, run, tag, metadata.KIND_WEIGHTS, layer=layer, matrix=matrix)
        if found is None:
            self._explain_missing_matrix(request, run, layer, matrix)
        content, series = found
        datum = self._datum(request, run, tag, series, step)
        if datum is None and step == 0:
            initial = metadata.initial_tag(layer, matrix)
            if self._tag_content(request, run, initial, metadata.KIND_INITIAL, layer=layer, matrix=matrix):
                datum = self._at_step(self._read(request, run, [initial]).get(initial, []), 0)
        if datum is None:  # a 404 that lists the kept steps
            datum = datum_at(self._series_data(request, run, tag, series), step,
                     f"run={shown(run)}, layer={shown(layer)}, matrix={shown(matrix)}")
        values = np.asarray(datum.numpy)
        values = values.reshape(1, -1) if values.ndim < 2 else values.reshape(values.shape[0], -1)
        return respond_json(request, {
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
        raise not_found(
            f"matrix={shown(matrix)} not found in run={shown(run)}, layer={shown(layer)}"
            f" (matrices: {', '.join(known) or 'none'})"
        )

    @route
    def _serve_activations(self, request):
        """Each gate's values (then cell state and hidden) on the probe sequences at one step."""
        run = required(request, "run")
        layer = required(request, "layer")
        content, datum = self._layer_datum(request, run, layer, metadata.activations_tag(layer),
                                           metadata.KIND_ACTIVATIONS, "activations")
        values = np.asarray(datum.numpy)
        return respond_json(request, {
            "step": int(datum.step),
            "panels": list(content.get("panels") or []),
            "candidate": content.get("candidate"),
            "shape": list(values.shape),
            "values": values,
        })

    @route
    def _serve_probe(self, request):
        """The probe sequences' input (sequences, time, features), logged once at step 0; with
        ``layer`` (and ``step``), what that layer read at that step."""
        run = required(request, "run")
        if request.args.get("layer") is not None:
            return self._serve_layer_input(request, run, required(request, "layer"))
        tag = metadata.probe_tag()
        content = self._tag_content(request, run, tag, metadata.KIND_PROBE)
        if content is None:
            self._run_contents(request, run)  # 404 for an unknown run
            raise not_found(f"run={shown(run)} logged no probe")
        data = self._read(request, run, [tag]).get(tag, [])
        if not data:
            raise not_found(f"run={shown(run)} kept no probe data")
        values = np.asarray(data[0].numpy)
        return respond_json(request, {
            "features": list(content.get("features") or []),
            "shape": list(values.shape),
            "values": values,
        })

    def _layer_datum(self, request, run: str, layer: str, tag: str, kind: str, what: str):
        """(content, datum) of one layer's ``tag`` at the request's step; 404s naming what is missing."""
        step = step_of(request)
        found = self._tag_series(request, run, tag, kind, layer=layer)
        if found is None:
            self._layer_contents(request, run, layer)  # 404 for an unknown run or layer
            raise not_found(f"layer={shown(layer)} of run={shown(run)} logged no {what}")
        content, series = found
        datum = self._datum(request, run, tag, series, step)
        if datum is None:  # a 404 that lists the kept steps
            datum = datum_at(self._series_data(request, run, tag, series), step,
                             f"run={shown(run)}, layer={shown(layer)} {what}")
        return content, datum

    def _serve_layer_input(self, request, run: str, layer: str):
        content, datum = self._layer_datum(request, run, layer, metadata.input_tag(layer), metadata.KIND_INPUT,
                                           "input")
        values = np.asarray(datum.numpy)
        return respond_json(request, {
            "step": int(datum.step),
            "layer": layer,
            "features": list(content.get("names") or []),
            "width": int(content.get("features") or values.shape[-1]),
            "reduced": bool(content.get("reduced")),
            "block": int(content.get("block") or 1),
            "shape": list(values.shape),
            "values": values,
        })

    @route
    def _serve_saturation(self, request):
        """The scalars plugin's saturation fractions of one layer's gates, by gate: [[step, value], ...]."""
        run = required(request, "run")
        layer = required(request, "layer")
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
        return respond_json(request, {"gates": {gate: result[gate] for gate in gates if gate in result}})

    @route
    def _serve_static(self, request):
        """One of the page's files (the allow-list made at start); anything else 404."""
        prefix = f"/data/plugin/{self.plugin_name}/static/"
        path = request.path
        name = path[len(prefix):] if path.startswith(prefix) else None
        file = self._static.get(name) if name else None
        if file is None:
            raise not_found(f"file={shown(name or path)} is not one of the {self.plugin_name} page's files")
        content_type = CONTENT_TYPES.get(file.suffix.lower(), "application/octet-stream")
        return http_util.Respond(request, file.read_bytes(), content_type)
