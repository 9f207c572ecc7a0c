"""The ``lstm_gates`` TensorBoard plugin: the GATES tab's HTTP API and its page.

Registered through the ``tensorboard_plugins`` entry point, so ``tensorboard
--logdir outputs`` shows the tab whenever a run logged this plugin's tags
(``metadata``). Built like TensorBoard's ``example_raw_scalars``: every read
goes through the data provider TensorBoard hands over (``reader``), and the page
is a plain ES module served from ``board/static/``.

Routes, under ``/data/plugin/lstm_gates``; one thin werkzeug handler each:

- ``/runs``: every run with gate data, its title and order, kept steps, layers
  and matrices, whether it logged by batch and its failing step if a loss
  became NaN or inf, whether it logged findings, and per layer the states of its gradient through time
  (``through_time``) and the gates and orders of its per-unit figures (``unit_figures``), or null
  (``run_index``, ``run_titles``, ``sampling``);
- ``/weights?run&layer&matrix&step``: one fused matrix at one step (step 0
  from the ``/initial`` tag when TensorBoard dropped it from the steps);
- ``/activations?run&layer&step``: the gate values on the probe sequences;
- ``/probe?run``: the probe sequences' input, its ``encoding`` (``features``, or ``ids`` / ``one_hot``: then
  ``values`` are integer token ids (sequences, time), -1 for no token) and ``tokens`` (the text of each id, or
  null); ``/probe?run&layer&step``: what one layer read at a step;
- ``/saturation?run&layer``: the ``saturation/<layer>/<gate>/low|high`` scalars;
- ``/positions?run``: each kept step's epoch, batch and event (``lstm_gates/position``),
  and the failing step with its loss in words;
- ``/findings?run``: the run's latest findings document (``lstm_gates/findings``: what its
  ``findings.json`` held then: ``version``, ``last_step``, ``checked``, ``findings``), with
  ``run`` and ``step``, the step of that datum; 404 for a run that logged none (one from
  before findings were logged, or with findings off);
- ``/through_time?run&layer&step``: the norm of the loss' gradient with respect to each state (``h``, an
  LSTM's ``c``) at every probe time step (``lstm_gates/<layer>/through_time``): ``states``, ``time`` and
  ``norms`` {state: [norm per time step]}; 404 for a layer that logged none (findings off, no probe or
  one without targets, a cell the replay does not serve) and for a step where it was not measured;
- ``/units?run&layer&step``: each unit's figures (``lstm_gates/<layer>/units``): ``saturation`` {gate:
  {left, right}} (the fractions of its probe values below 0.1 and above 0.9, a tanh gate on (v + 1)/2),
  ``activity`` (the std of its h) and ``orders`` {by: the unit at each place}, for ``built``,
  ``saturation``, ``activity`` and ``similarity``; 404 as ``/through_time``;
- ``/static/<file>``: the page's own files, from an allow-list made at start.

A bad or missing parameter answers 400, an unknown run, layer, matrix or step
404, each with one ``text/plain`` line naming the parameter and its value
(``http_answers``). A data route reads only the run and tag it names; the runs
route reads all runs together. NaN and infinities are sent as JSON ``null``.
"""

from pathlib import Path

import numpy as np

from tensorboard import plugin_util
from tensorboard.backend import http_util
from tensorboard.plugins import base_plugin

from lstm_experiments.board import metadata, sampling
from lstm_experiments.board.layer_figures import through_time_answer, units_answer
from lstm_experiments.board.http_answers import (
    CONTENT_TYPES, datum_at, not_found, required, respond_json, route, shown, static_files, step_of,
)
from lstm_experiments.board.reader import GatesReader, at_step
from lstm_experiments.board.run_index import run_entry, run_parts
from lstm_experiments.board.run_titles import RunTitles
from lstm_experiments.board.series_cache import SERIES_CACHE_BYTES, SeriesCache
from lstm_experiments.tensorboard import tags as run_tags

STATIC_DIR = Path(__file__).resolve().parent / "static"


class GatesPlugin(base_plugin.TBPlugin):
    """The GATES tab: every gate of every recurrent layer, step by step, run by run."""

    plugin_name = metadata.PLUGIN_NAME

    def __init__(self, context):
        self._provider = context.data_provider
        self._reader = GatesReader(self._provider, self.plugin_name, sampling.read_size(context, self.plugin_name),
                                   SeriesCache(SERIES_CACHE_BYTES))
        self._kept_per_tag = sampling.kept_per_tag(context, self.plugin_name)
        self._titles = RunTitles(getattr(context, "logdir", None))
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
            "/positions": self._serve_positions,
            "/findings": self._serve_findings,
            "/through_time": self._serve_through_time,
            "/units": self._serve_units,
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

    # ------------------------------------------------------------------ routes

    @route
    def _serve_runs(self, request):
        """Every run with gate data: title, order, kept steps, layers, matrices and what the page may ask for."""
        reader = self._reader
        listing = reader.list(request)
        saturated = reader.saturation_layers(request, list(listing))
        parts = {run: run_parts(listing[run]) for run in sorted(listing)}
        parts = {run: part for run, part in parts.items() if part.weights}
        # Two reads for all the runs together, not two per run: with TensorBoard's data server
        # every read is a round trip of about 45 ms, and per-run reads took 2.4 s for 50 runs
        # (median; 0.14 s batched: docs/performance.md, "Load: a 50-run sweep in the dashboard").
        # The positions (4 integers a step) come in the same read: by batch or not, and the failing step.
        # Both series are kept while unchanged: re-read at every poll they took 213 ms (median; p95 377 ms) on
        # a run of 5,000 logged steps (docs/performance.md, "Between epochs: batch logging").
        position_tag = metadata.position_tag()
        steps = reader.read_series_grouped(request, {
            run: {part.smallest: part.weights[part.smallest][1],
                  **({position_tag: part.position[1]} if part.position else {})}
            for run, part in parts.items()})
        positions = {run: reader.positions(request, run, *part.position, data=steps[run][position_tag])
                     for run, part in parts.items() if part.position and run in steps}
        sampled = reader.read_grouped(
            request, {run: [tag for tag, _ in part.activations.values()] for run, part in parts.items()},
            downsample=1,
        )
        titles = self._titles.titles(list(parts))
        runs = [run_entry(run, part, steps.get(run, {}), sampled.get(run, {}), saturated.get(run, set()),
                          titles[run], self._kept_per_tag, positions.get(run))
                for run, part in parts.items()]
        return respond_json(request, {
            "runs": runs,
            "samples_flag": metadata.SAMPLES_FLAG,
            "downsampled": any(entry["logged_steps"] is None for entry in runs),
        })

    @route
    def _serve_weights(self, request):
        """One fused matrix at one step, as logged (rows x columns, Keras' gate order)."""
        reader = self._reader
        run = required(request, "run")
        layer = required(request, "layer")
        matrix = required(request, "matrix")
        step = step_of(request)
        tag = metadata.weights_tag(layer, matrix)
        found = reader.tag_series(request, run, tag, metadata.KIND_WEIGHTS, layer=layer, matrix=matrix)
        if found is None:
            self._explain_missing_matrix(request, run, layer, matrix)
        content, series = found
        datum = reader.datum(request, run, tag, series, step)
        if datum is None and step == 0:
            initial = metadata.initial_tag(layer, matrix)
            if reader.tag_content(request, run, initial, metadata.KIND_INITIAL, layer=layer, matrix=matrix):
                datum = at_step(reader.read(request, run, [initial]).get(initial, []), 0)
        if datum is None:  # a 404 that lists the kept steps
            datum = datum_at(reader.series_data(request, run, tag, series), step,
                             f"run={shown(run)}, layer={shown(layer)}, matrix={shown(matrix)}")
        values = np.asarray(datum.numpy)
        values = values.reshape(1, -1) if values.ndim < 2 else values.reshape(values.shape[0], -1)
        return respond_json(request, {
            "run": run, "layer": layer, "matrix": matrix, "step": int(datum.step),
            "gates": list(content.gates or []),
            "shape": list(values.shape),
            "full_shape": list(content.shape),
            "scale": content.scale,
            "reduced": bool(content.reduced),
            "block": int(content.block or 1),
            "rows": content.rows,
            "values": values,
        })

    def _explain_missing_matrix(self, request, run: str, layer: str, matrix: str):
        """Raise the 404 that names what is unknown: the run, the layer or the matrix."""
        contents = self._reader.layer_contents(request, run, layer)
        known = sorted({c.matrix for c in contents.values() if c.kind == metadata.KIND_WEIGHTS})
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
            "panels": list(content.panels or []),
            "candidate": content.candidate,
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
        content = self._reader.tag_content(request, run, tag, metadata.KIND_PROBE)
        if content is None:
            self._reader.run_contents(request, run)  # 404 for an unknown run
            raise not_found(f"run={shown(run)} logged no probe")
        data = self._reader.read(request, run, [tag]).get(tag, [])
        if not data:
            raise not_found(f"run={shown(run)} kept no probe data")
        values = np.asarray(data[0].numpy)
        return respond_json(request, {
            "features": list(content.features or []),
            "encoding": content.encoding,
            "tokens": list(content.tokens) if content.tokens is not None else None,
            "shape": list(values.shape),
            # A token probe's ids (NO_TOKEN: -1, a one-hot vector of zeros) as integers, not floats.
            "values": values.astype(np.int64).tolist() if content.holds_ids else values,
        })

    def _layer_datum(self, request, run: str, layer: str, tag: str, kind: str, what: str):
        """(content, datum) of one layer's ``tag`` at the request's step; 404s naming what is missing."""
        reader = self._reader
        step = step_of(request)
        found = reader.tag_series(request, run, tag, kind, layer=layer)
        if found is None:
            reader.layer_contents(request, run, layer)  # 404 for an unknown run or layer
            raise not_found(f"layer={shown(layer)} of run={shown(run)} logged no {what}")
        content, series = found
        datum = reader.datum(request, run, tag, series, step)
        if datum is None:  # a 404 that lists the kept steps
            datum = datum_at(reader.series_data(request, run, tag, series), step,
                             f"run={shown(run)}, layer={shown(layer)} {what}")
        return content, datum

    def _serve_layer_input(self, request, run: str, layer: str):
        content, datum = self._layer_datum(request, run, layer, metadata.input_tag(layer), metadata.KIND_INPUT,
                                           "input")
        values = np.asarray(datum.numpy)
        return respond_json(request, {
            "step": int(datum.step),
            "layer": layer,
            "features": list(content.names or []),
            "width": int(content.features or values.shape[-1]),
            "reduced": bool(content.reduced),
            "block": int(content.block or 1),
            "shape": list(values.shape),
            "values": values,
        })

    @route
    def _serve_saturation(self, request):
        """The scalars plugin's saturation fractions of one layer's gates, by gate: [[step, value], ...]."""
        run = required(request, "run")
        layer = required(request, "layer")
        contents = self._reader.layer_contents(request, run, layer)
        gates = next((list(c.gates) for c in contents.values() if getattr(c, "gates", None)), [])
        wanted = {run_tags.saturation(layer, gate, side): (gate, side)
                  for gate in gates for side in run_tags.SATURATION_SIDES}
        scalars = self._reader.read_scalars(request, run, wanted)
        result = {}
        for tag, (gate, side) in wanted.items():
            if tag in scalars:
                sides = result.setdefault(gate, {s: [] for s in run_tags.SATURATION_SIDES})
                sides[side] = [[int(d.step), float(d.value)] for d in scalars[tag]]
        return respond_json(request, {"gates": {gate: result[gate] for gate in gates if gate in result}})

    @route
    def _serve_positions(self, request):
        """Where each kept step stands in training: its epoch, batch and event, and the failing step."""
        reader = self._reader
        run = required(request, "run")
        tag = metadata.position_tag()
        found = reader.tag_series(request, run, tag, metadata.KIND_POSITION)
        if found is None:
            reader.run_contents(request, run)  # 404 for an unknown run
            raise not_found(f"run={shown(run)} logged no {tag} (a run from before positions were logged: "
                            "its steps are epochs)")
        positions = reader.positions(request, run, *found)
        failure = positions.failure()
        if failure is not None:
            failure["loss"] = reader.failing_loss(request, run, failure["step"])
        return respond_json(request, {"run": run, **positions.to_json(), "failure": failure})

    @route
    def _serve_findings(self, request):
        """The run's findings so far: the latest ``lstm_gates/findings`` document, and the step it was logged at."""
        reader = self._reader
        run = required(request, "run")
        tag = metadata.findings_tag()
        found = reader.tag_series(request, run, tag, metadata.KIND_FINDINGS)
        if found is None:
            reader.run_contents(request, run)  # 404 for an unknown run
            raise not_found(f"run={shown(run)} logged no {tag} (a run from before findings were logged, "
                            "or with findings off)")
        step, document = reader.latest_findings(request, run)
        return respond_json(request, {**document, "run": run, "step": step})

    @route
    def _serve_through_time(self, request):
        """The gradient's norm through time of one layer at one step, by state."""
        run = required(request, "run")
        layer = required(request, "layer")
        content, datum = self._layer_datum(request, run, layer, metadata.through_time_tag(layer),
                                           metadata.KIND_THROUGH_TIME, "through_time")
        return respond_json(request, {"run": run, **through_time_answer(content, datum.numpy, datum.step)})

    @route
    def _serve_units(self, request):
        """Each unit's saturation, activity and places in the orders of one layer at one step."""
        run = required(request, "run")
        layer = required(request, "layer")
        content, datum = self._layer_datum(request, run, layer, metadata.units_tag(layer), metadata.KIND_UNITS,
                                           "units")
        return respond_json(request, {"run": run, **units_answer(content, datum.numpy, datum.step)})

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
