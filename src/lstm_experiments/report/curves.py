"""Statistic figures: one panel per gate, one line per run over the steps.

``stats_<layer>_<matrix>_<statistic>.png`` draws the scalar
``stats/<layer>/<matrix>/<gate>/<statistic>`` of every run; a seed group with
more than one completed run is drawn as its mean with a shaded ±std band, and
a run that did not complete as a dashed line of its own.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from lstm_experiments.report.figures import DPI, figure
from lstm_experiments.report.groups import Group, display_label, varying_keys
from lstm_experiments.report.naming import GATE_ORDER, known_order, parse_kind
from lstm_experiments.report.runs import Run
from lstm_experiments.tensorboard import tags



def step_axis(runs) -> str:
    """The x label: a step is an epoch, or the optimizer's iteration in runs logged by batch."""
    by_batch = {run.by_batch for run in runs}
    if by_batch == {True}:
        return "step (optimizer iteration)"
    return "step (epoch, or iteration where logged by batch)" if True in by_batch else "step (epoch)"

def _colors(n: int) -> list:
    import matplotlib

    if n <= 10:
        cmap = matplotlib.colormaps["tab10"]
        return [cmap(i) for i in range(n)]
    if n <= 20:
        cmap = matplotlib.colormaps["tab20"]
        return [cmap(i) for i in range(n)]
    cmap = matplotlib.colormaps["turbo"]
    return [cmap(0.05 + 0.9 * i / (n - 1)) for i in range(n)]


def group_curve(runs: list[Run], tag: str) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Steps (the union of the runs'), mean over the runs that logged each step, and std
    (ddof=1; NaN where fewer than two did)."""
    series = [r.scalars[tag] for r in runs if tag in r.scalars]
    if not series:
        return None
    steps = np.unique(np.concatenate([s for s, _ in series]))
    table = np.full((len(series), len(steps)), np.nan)
    for i, (s, v) in enumerate(series):
        table[i, np.searchsorted(steps, s)] = v
    count = np.sum(~np.isnan(table), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nansum(table, axis=0) / count
        centred = np.where(np.isnan(table), 0.0, table - mean)
        std = np.sqrt(np.sum(centred**2, axis=0) / (count - 1))
    std[count < 2] = np.nan
    return steps, mean, std


def plot_statistic(
    runs: list[Run], groups: list[Group], layer: str, matrix: str, statistic: str, path: Path
) -> bool:
    """One panel per gate, a line per run (a seed group: mean line and ±std band)."""
    gates = sorted(
        {
            parsed.gate
            for r in runs
            for t in r.scalars
            if (parsed := parse_kind(t, tags.STATS))
            and (parsed.layer, parsed.matrix, parsed.statistic) == (layer, matrix, statistic)
        },
        key=lambda g: known_order(g, GATE_ORDER),
    )
    if not gates:
        return False
    keys = varying_keys(runs)
    entries = len(groups) + sum(len(g.runs) - len(g.completed) for g in groups)
    legend_cols = max(1, math.ceil(entries / 28))
    longest = max([len(g.label) for g in groups] + [len(display_label(r, keys)) for r in runs])
    legend_w = legend_cols * min(5.0, 0.8 + 0.065 * (longest + 18))
    height = max(3.2, 0.2 * min(entries, 28) + 1.0)
    fig = figure(3.3 * len(gates) + legend_w, height, layout="constrained")
    axes = fig.subplots(1, len(gates), sharex=True, squeeze=False)[0]
    colors = _colors(len(groups))
    for ax, gate in zip(axes, gates):
        tag = tags.statistic(layer, matrix, gate, statistic)
        for color, group in zip(colors, groups):
            done = group.completed
            if len(done) > 1:
                curve = group_curve(done, tag)
                if curve is not None:
                    steps, mean, std = curve
                    label = f"{group.label} (mean ± std, {len(done)} seeds)"
                    ax.plot(steps, mean, color=color, lw=1.6, label=label)
                    ax.fill_between(steps, mean - std, mean + std, color=color, lw=0,
                                    alpha=0.22 if len(groups) <= 6 else 0.12)
            elif done and tag in done[0].scalars:
                steps, values = done[0].scalars[tag]
                ax.plot(steps, values, color=color, lw=1.4, label=display_label(done[0], keys),
                        marker="o" if len(steps) == 1 else None)
            for run in group.runs:
                if run.completed or tag not in run.scalars:
                    continue
                steps, values = run.scalars[tag]
                ax.plot(steps, values, color=color, lw=1.0, ls="--",
                        label=f"{display_label(run, keys)} ({run.status})")
        ax.set_title(gate)
        ax.set_xlabel(step_axis(run for group in groups for run in group.runs))
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(statistic)
    fig.suptitle(f"{layer} / {matrix}: {statistic}")
    handles, labels = {}, []
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in handles:
                handles[lab] = h
                labels.append(lab)
    if labels:
        fig.legend([handles[lab] for lab in labels], labels, loc="outside right upper",
                   fontsize="small", ncols=legend_cols, frameon=False)
    fig.savefig(path, dpi=DPI)
    return True
