"""What tells runs apart: the overrides that vary, run labels and seed groups.

Tables, curves and strips label a run by the overrides that are not the same
in every run, and runs whose overrides differ only by ``seed`` form a group
whose completed runs are averaged.
"""

from __future__ import annotations

from dataclasses import dataclass

from lstm_experiments.config import overrides
from lstm_experiments.config.overrides import override_key
from lstm_experiments.report.runs import SEED_KEY, Run

# A run named after its overrides is labelled by the ones that vary when its name is longer.
DISPLAY_NAME_MAX = 24


def varying_keys(runs: list[Run]) -> list[str]:
    """Override keys whose value is not the same in every run, in first-seen order."""
    return overrides.varying_keys([run.overrides for run in runs])


def common_overrides(runs: list[Run]) -> list[str]:
    if not runs:
        return []
    shared = set(runs[0].overrides).intersection(*(r.overrides for r in runs[1:]))
    return [o for o in runs[0].overrides if o in shared]


def varying_overrides(run: Run, keys: list[str], with_seed: bool = True) -> list[str]:
    return [
        o for o in run.overrides
        if override_key(o) in keys and (with_seed or override_key(o) != SEED_KEY)
    ]


def run_label(run: Run, keys: list[str]) -> str:
    """The run's varying overrides (``units=4 seed=1``), or its name if none vary."""
    return overrides.label(run.overrides, keys, run.name)


def display_label(run: Run, keys: list[str]) -> str:
    """A short label: ``0: units=4 seed=1`` for numbered jobs; for jobs named after their
    overrides (``seed=1,units=4,...``) the name when short, else the overrides that vary."""
    parts = varying_overrides(run, keys)
    if not parts:
        return run.name
    label = " ".join(parts)
    if all(part in run.name for part in parts):
        return run.name if len(run.name) <= DISPLAY_NAME_MAX else label
    return f"{run.name}: {label}"


@dataclass
class Group:
    key: tuple[str, ...]
    label: str
    runs: list[Run]

    @property
    def completed(self) -> list[Run]:
        return [r for r in self.runs if r.completed]


def seed_groups(runs: list[Run]) -> list[Group]:
    """Runs grouped by their overrides without ``seed``, in order of first appearance."""
    keys = varying_keys(runs)
    groups: dict[tuple, Group] = {}
    for run in runs:
        key = run.group_key
        if key not in groups:
            groups[key] = Group(key, " ".join(varying_overrides(run, keys, with_seed=False)), [])
        groups[key].runs.append(run)
    for group in groups.values():
        if not group.label:  # the runs without any of the overrides that vary
            group.label = "all runs" if len(groups) == 1 else " ".join(group.key) or "(no overrides)"
    return list(groups.values())
