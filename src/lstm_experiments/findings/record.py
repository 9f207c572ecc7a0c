"""Findings over a run: each one's first and last step, and where they are written.

``FindingsRecord.observe`` takes one step's observations (``rules.Observation``)
and keeps, per finding (its kind, layer and gate), the step it was first seen
at, the last, and what the latest step said. It is written:

- to ``findings.json`` (``FINDINGS_FILE``), whole or not at all, after every
  step: ``{"version", "last_step", "checked": {kind: "yes" or why not},
  "findings": [...]}``, an empty list when nothing was found;
- to TensorBoard by the drawer: ``findings`` (Text) at each step that has any,
  and ``findings/<kind>`` (scalars), how many places show each kind at each step.
"""

import json
import math
import os
from dataclasses import asdict
from pathlib import Path

from lstm_experiments.findings.rules import INFO, KINDS, NEEDS, NOT_LEARNING, WARNING

from lstm_experiments.run.layout import FINDINGS_FILE  # noqa: E402 (one name for the runner and GateLogger)
VERSION = 1
# The kinds a drawn step checks (the epoch metrics check not_learning).
DRAWN_KINDS = tuple(kind for kind in KINDS if kind != NOT_LEARNING)


class FindingsRecord:
    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path is not None else None
        self.entries: dict[tuple, dict] = {}
        self.last_step: int | None = None
        self.unmeasured: dict[str, str] = {}
        self.checked_at: dict[str, int] = {}  # kind -> the last step it was checked at

    def observe(self, step: int, observations, unmeasured: dict | None = None, kinds=None) -> None:
        """One step's observations of ``kinds`` (default: every kind but ``not_learning``, which the
        epoch metrics check): new findings start at ``step``, those seen again end there."""
        self.last_step = step if self.last_step is None else max(self.last_step, step)
        self.unmeasured.update(unmeasured or {})
        for kind in (kinds if kinds is not None else DRAWN_KINDS):
            self.checked_at[kind] = step
        for observation in observations:
            entry = self.entries.get(observation.key)
            fields = asdict(observation)
            for name in ("value", "threshold"):  # JSON has no inf or NaN
                fields[name] = fields[name] if math.isfinite(fields[name]) else None
            fields["units"] = list(observation.units) if observation.units is not None else None
            if entry is None:
                self.entries[observation.key] = {**fields, "first_step": step, "last_step": step,
                                                 "worst": observation.severity}
            else:  # what the latest step says; ``worst``, the most severe it has been
                worst = WARNING if WARNING in (entry["worst"], observation.severity) else observation.severity
                entry.update(fields, worst=worst, last_step=max(entry["last_step"], step))

    def checked(self) -> dict[str, str]:
        """{kind: "yes", or why it was not checked}."""
        return {kind: self.unmeasured.get(NEEDS[kind], "yes") if NEEDS[kind] else "yes" for kind in KINDS}

    def findings(self) -> list[dict]:
        """Warnings first, then by the step they were first seen. ``severity`` is what the latest step
        that saw it said; a finding no longer seen at the last step its kind was checked is ``active:
        false`` and an ``info`` whatever it was (it went away by itself: the gradient of a long sequence
        vanishes at the initial weights of a healthy run, then training opens the forget gate); ``worst``
        keeps the most severe it has been."""
        out = []
        for entry in self.entries.values():
            active = entry["last_step"] >= self.checked_at.get(entry["kind"], entry["last_step"])
            out.append({**entry, "active": active, "severity": entry["severity"] if active else INFO})
        return sorted(out, key=lambda e: (e["severity"] != WARNING, e["first_step"], e["kind"]))

    def to_json(self) -> dict:
        return {"version": VERSION, "last_step": self.last_step, "checked": self.checked(),
                "findings": self.findings()}

    def write(self) -> None:
        """``findings.json``, whole or not at all."""
        if self.path is None:
            return
        partial = self.path.with_name(self.path.name + ".partial")
        partial.write_text(json.dumps(self.to_json(), indent=1, allow_nan=False, default=float) + "\n")
        os.replace(partial, self.path)


def not_checked(why: str) -> dict:
    """findings.json of a run whose findings were off: every kind not checked, and why."""
    return {"version": VERSION, "last_step": None, "checked": {kind: f"no: {why}" for kind in KINDS}, "findings": []}


def counts(observations) -> dict[str, int]:
    """{kind: how many places show it} at one step, every kind present (0 where none)."""
    found = {kind: 0 for kind in KINDS}
    for observation in observations:
        found[observation.kind] += 1
    return found


def step_text(step: int, observations) -> str:
    """The Text record of one step's findings (markdown)."""
    lines = [f"**{len(observations)} finding(s) at step {step}**"]
    for o in observations:
        where = " / ".join(p for p in (o.layer, o.gate) if p)
        lines.append(f"- **{o.kind}** ({o.severity}{', ' + where if where else ''}): {o.sentence}")
    return "\n".join(lines)


def summary_lines(document: dict) -> list[str]:
    """One line per finding kind, for the end of a run's log: ``findings: vanishing_gradient in lstm since
    step 3 (...)``; from a ``findings.json`` document."""
    by_kind: dict[str, list[dict]] = {}
    for entry in document.get("findings", []):
        by_kind.setdefault(entry["kind"], []).append(entry)
    lines = []
    for kind, entries in by_kind.items():
        places = ", ".join(f"{e['layer'] or 'the run'} since step {e['first_step']}"
                           + ("" if e.get("active", True) else f", gone after step {e['last_step']}")
                           for e in entries)
        lines.append(f"findings: {kind} in {places} ({entries[0]['sentence']})")
    return lines


def summary_severities(document: dict) -> list[str]:
    """The severity of each of ``summary_lines``' lines: ``warning`` when any of its kind's findings is one."""
    by_kind: dict[str, str] = {}
    for entry in document.get("findings", []):
        worst = by_kind.get(entry["kind"], INFO)
        by_kind[entry["kind"]] = WARNING if WARNING in (worst, entry.get("severity")) else INFO
    return list(by_kind.values())
