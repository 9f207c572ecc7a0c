"""What the GATES routes read through TensorBoard's data provider, with each tag's content typed.

Every read goes through the data provider that TensorBoard hands over in
``TBContext``: ``list_tensors``/``read_tensors`` for this plugin's tags,
``list_scalars``/``read_scalars`` for the scalars plugin's ``saturation/...``
tags. A request reads only the run and tag it names: the latest datum for the
last step, else the whole series, kept in a ``SeriesCache`` while the listing
shows it unchanged. Contents are parsed into ``metadata``'s dataclasses; a tag
whose content is not one of ours is left out. Lookups that find nothing raise
the 404 that names what is missing. ``Positions`` is a run's
``lstm_gates/position`` series as read: each kept step's epoch, batch and
event, and the failing step a loss gone NaN or inf left. ``findings_document``
reads a ``lstm_gates/findings`` datum back into the findings JSON it holds.
"""

import json
import math
from dataclasses import dataclass

import numpy as np
from tensorboard import plugin_util
from tensorboard.data import provider

from lstm_experiments.board import metadata
from lstm_experiments.board.http_answers import not_found, shown
from lstm_experiments.board.sampling import READ_ALL
from lstm_experiments.board.series_cache import SeriesCache
from lstm_experiments.tensorboard import tags as run_tags

SCALARS_PLUGIN = "scalars"


def content_of(series):
    """The typed content of a listed series, or None if it is not one of this plugin's."""
    try:
        return metadata.parse_content(series.plugin_content)
    except (ValueError, TypeError):
        return None


def at_step(data, step: int):
    """The datum logged at ``step`` among ``data``, or None."""
    for datum in data:
        if datum.step == step:
            return datum
    return None


@dataclass(frozen=True)
class Positions:
    """Where each kept step of a run stands in training (``lstm_gates/position``), in step order."""

    log_every_batches: int | None  # None: a step is an epoch
    steps: list[int]
    epoch: list[int]
    batch: list[int]
    event: list[str]  # metadata.EVENTS' names: "", "last_finite", "non_finite"

    @classmethod
    def of(cls, content: metadata.PositionContent, data) -> "Positions":
        """From the kept data of the tag; a datum that is not [epoch, batch, event] is left out."""
        names = list(content.events or metadata.EVENTS)
        rows = {}
        for datum in data:
            values = np.asarray(datum.numpy).reshape(-1)
            if values.size < 3 or not np.issubdtype(values.dtype, np.number) or not np.isfinite(values[:3]).all():
                continue
            epoch, batch, event = (int(value) for value in values[:3])
            rows[int(datum.step)] = (epoch, batch, names[event] if 0 <= event < len(names) else f"event {event}")
        steps = sorted(rows)
        every = content.log_every_batches
        return cls(log_every_batches=int(every) if isinstance(every, int | float) and every > 0 else None,
                   steps=steps, epoch=[rows[s][0] for s in steps], batch=[rows[s][1] for s in steps],
                   event=[rows[s][2] for s in steps])

    def failure(self) -> dict | None:
        """The first step holding the weights after a batch whose loss became NaN or inf, or None:
        {step, epoch, batch, last_finite}. ``last_finite`` is the step the writer marked as the last
        finite weights, else the latest kept step before the failing one (logged while the loss was
        finite), else None."""
        failing = next((i for i, event in enumerate(self.event) if event == metadata.NON_FINITE), None)
        if failing is None:
            return None
        step = self.steps[failing]
        marked = [s for s, event in zip(self.steps, self.event) if s < step and event == metadata.LAST_FINITE]
        earlier = [s for s, event in zip(self.steps, self.event) if s < step and event == ""]
        last_finite = max(marked) if marked else (max(earlier) if earlier else None)
        return {"step": step, "epoch": self.epoch[failing], "batch": self.batch[failing], "last_finite": last_finite}

    def to_json(self) -> dict:
        return {"log_every_batches": self.log_every_batches, "steps": self.steps, "epoch": self.epoch,
                "batch": self.batch, "event": self.event}


def findings_document(datum) -> dict:
    """The findings document a ``lstm_gates/findings`` datum holds (one UTF-8 JSON string, shape (1,));
    ValueError when it holds something else."""
    values = np.asarray(datum.numpy, dtype=object).reshape(-1)
    if values.size != 1:
        raise ValueError(f"{values.size} values, not one JSON string")
    raw = values[0]
    try:
        document = json.loads(raw.decode("utf-8") if isinstance(raw, bytes | bytearray) else str(raw))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"not JSON: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("findings"), list):
        raise ValueError("not a findings document (no findings list)")
    return document


def loss_word(value) -> str | None:
    """How the failing loss reads in words: "inf", "-inf" or "NaN"; None when it is finite or unknown."""
    if value is None or math.isfinite(value):
        return None
    return "NaN" if math.isnan(value) else ("inf" if value > 0 else "-inf")


class GatesReader:
    """Reads for one plugin instance: ``downsample`` is what a read of a whole series asks for."""

    def __init__(self, data_provider, plugin_name: str, downsample: int, cache: SeriesCache):
        self._provider = data_provider
        self.plugin_name = plugin_name
        self._downsample = downsample
        self._series = cache

    @staticmethod
    def _scope(request):
        return plugin_util.context(request.environ), plugin_util.experiment_id(request.environ)

    # ------------------------------------------------------------------ the provider's calls

    def list(self, request, runs=None, tags=None) -> dict:
        """{run: {tag: TensorTimeSeries}} of this plugin, for these runs and tags (None: all)."""
        ctx, experiment = self._scope(request)
        run_tag_filter = None if runs is None and tags is None else provider.RunTagFilter(runs=runs, tags=tags)
        return self._provider.list_tensors(
            ctx, experiment_id=experiment, plugin_name=self.plugin_name, run_tag_filter=run_tag_filter
        )

    def read(self, request, run: str, tags, downsample=None) -> dict:
        """{tag: [TensorDatum]} of ``run``, for exactly these tags."""
        return self.read_runs(request, [run], tags, downsample).get(run, {})

    def read_runs(self, request, runs, tags, downsample=None) -> dict:
        """{run: {tag: [TensorDatum]}}: these tags of these runs, in one read of the data provider."""
        ctx, experiment = self._scope(request)
        return self._provider.read_tensors(
            ctx, experiment_id=experiment, plugin_name=self.plugin_name,
            downsample=self._downsample if downsample is None else downsample,
            run_tag_filter=provider.RunTagFilter(runs=list(runs), tags=list(tags)),
        )

    def read_grouped(self, request, wanted: dict, downsample=None) -> dict:
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
            data = self.read_runs(request, runs, sorted(tags), downsample)
            for run in runs:
                found[run] = {tag: data.get(run, {}).get(tag, []) for tag in tags}
        return found

    def read_series_grouped(self, request, wanted: dict) -> dict:
        """As ``read_grouped`` for whole series, {run: {tag: series}} (the listing's), each kept in the
        series cache: a series unchanged since the last request is not read again, and the rest are read
        together, one read per distinct set of tags."""
        _, experiment = self._scope(request)
        found, missing = {}, {}
        for run, by_tag in wanted.items():
            for tag, series in by_tag.items():
                version = (int(series.max_step), float(series.max_wall_time))
                data = self._series.peek((experiment, run, tag), version)
                if data is None:
                    missing.setdefault(run, []).append(tag)
                else:
                    found.setdefault(run, {})[tag] = data
        for run, by_tag in self.read_grouped(request, missing).items():
            for tag, data in by_tag.items():
                series = wanted[run][tag]
                version = (int(series.max_step), float(series.max_wall_time))
                found.setdefault(run, {})[tag] = self._series.get((experiment, run, tag), version, lambda d=data: d)
        return found

    def saturation_layers(self, request, runs) -> dict[str, set[str]]:
        """{run: layers with ``saturation/<layer>/...`` scalars}."""
        if not runs:
            return {}
        ctx, experiment = self._scope(request)
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

    def read_scalars(self, request, run: str, tags) -> dict:
        """{tag: [ScalarDatum]} of the scalars plugin's ``tags`` in ``run``, every datum kept."""
        ctx, experiment = self._scope(request)
        return self._provider.read_scalars(
            ctx, experiment_id=experiment, plugin_name=SCALARS_PLUGIN, downsample=READ_ALL,
            run_tag_filter=provider.RunTagFilter(runs=[run], tags=list(tags)),
        ).get(run, {})

    # ------------------------------------------------------------------ one tag, one step

    def tag_series(self, request, run: str, tag: str, kind: str, **expected):
        """(content, series) of ``run``'s ``tag`` when it is of ``kind`` (and names ``expected``), else None."""
        series = self.list(request, runs=[run], tags=[tag]).get(run, {}).get(tag)
        content = None if series is None else content_of(series)
        if content is None or content.kind != kind:
            return None
        if any(getattr(content, key, None) != value for key, value in expected.items()):
            return None
        return content, series

    def tag_content(self, request, run: str, tag: str, kind: str, **expected):
        found = self.tag_series(request, run, tag, kind, **expected)
        return None if found is None else found[0]

    def series_data(self, request, run: str, tag: str, series) -> list:
        """Every kept datum of ``run``'s ``tag`` (from the cache while the series is unchanged)."""
        _, experiment = self._scope(request)
        version = (int(series.max_step), float(series.max_wall_time))
        return self._series.get((experiment, run, tag), version,
                                lambda: self.read(request, run, [tag]).get(tag, []))

    def datum(self, request, run: str, tag: str, series, step: int):
        """The datum of ``run``'s ``tag`` at ``step``, or None if it is not kept.

        The last step is one datum's read (a provider's downsampled read always keeps the
        latest datum); any other step comes from the whole series (``series_data``).
        """
        if step == int(series.max_step):
            datum = at_step(self.read(request, run, [tag], downsample=1).get(tag, []), step)
            if datum is not None:
                return datum
        return at_step(self.series_data(request, run, tag, series), step)

    def positions(self, request, run: str, content, series, data=None) -> Positions:
        """``run``'s positions from its ``lstm_gates/position`` series (``data``: already read, else read),
        kept in the series cache while the series is unchanged."""
        tag = metadata.position_tag()
        if data is None:
            return Positions.of(content, self.series_data(request, run, tag, series))
        _, experiment = self._scope(request)
        version = (int(series.max_step), float(series.max_wall_time))
        return Positions.of(content, self._series.get((experiment, run, tag), version, lambda: data))

    def latest_findings(self, request, run: str) -> tuple[int, dict]:
        """(step, document) of ``run``'s latest ``lstm_gates/findings`` datum (a read of one datum: a
        downsampled read keeps the latest); 404 when none is kept or it is not a findings document."""
        tag = metadata.findings_tag()
        data = self.read(request, run, [tag], downsample=1).get(tag, [])
        if not data:
            raise not_found(f"run={shown(run)} kept no {tag} data")
        datum = max(data, key=lambda d: d.step)
        try:
            return int(datum.step), findings_document(datum)
        except ValueError as error:
            raise not_found(f"run={shown(run)}: {tag} at step {int(datum.step)} is unreadable ({error})") from None

    def failing_loss(self, request, run: str, step: int) -> str | None:
        """The loss at a failing step in words ("inf", "NaN"): the batch's loss, else the epoch's so far."""
        wanted = [run_tags.batch_loss(), run_tags.metric("loss")]
        scalars = self.read_scalars(request, run, wanted)
        for tag in wanted:
            found = next((d for d in scalars.get(tag, []) if int(d.step) == step), None)
            if found is not None:
                return loss_word(float(found.value))
        return None

    # ------------------------------------------------------------------ what a run holds

    def run_contents(self, request, run: str) -> dict:
        """{tag: content} of every one of this plugin's tags in ``run``; 404 if the run has none."""
        listing = self.list(request, runs=[run]).get(run)
        if not listing:
            raise not_found(f"run={shown(run)} not found (no {self.plugin_name} data)")
        contents = {}
        for tag, series in listing.items():
            content = content_of(series)
            if content is not None:
                contents[tag] = content
        return contents

    def layer_contents(self, request, run: str, layer: str) -> dict:
        """{tag: content} of one layer of ``run``; 404 naming the run or the layer."""
        contents = self.run_contents(request, run)
        mine = {tag: c for tag, c in contents.items() if getattr(c, "layer", None) == layer}
        if not mine:
            known = sorted({c.layer for c in contents.values() if getattr(c, "layer", None) is not None})
            raise not_found(f"layer={shown(layer)} not found in run={shown(run)} (layers: {', '.join(known)})")
        return mine
