"""The report's command line: ``lstm-experiments-report <sweep dir> [options]``.

The same command as ``python -m lstm_experiments.report`` and ``python scripts/compare_gates.py``.

    lstm-experiments-report multirun/<date>/<time> [--out DIR] [--layer lstm]
        [--matrix recurrent_kernel] [--gate forget] [--steps 0,last]

It writes the tables, the figures and ``index.html`` (all of them on one page)
into ``--out`` (default ``<sweep>/report``); ``build`` lists them. A previous
report's files there that this one does not write are removed (``folder``).

``python -m lstm_experiments.report`` and the ``lstm-experiments-report``
console script run the same ``main``. A bad ``--gate`` or ``--steps`` value
stops before anything is read: argparse's usage, then one error line naming the
option and the value, exit status 2. A missing sweep directory, or one without
runs, is one line and exit status 2 as well.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lstm_experiments.report.build import build_report
from lstm_experiments.report.folder import DEFAULT_OUT
from lstm_experiments.report.naming import GATE_ORDER
from lstm_experiments.report.runs import READERS, default_jobs
from lstm_experiments.report.strips import parse_steps

ALL = "all"

# The console script's name, in usage and error lines whichever way the report is started.
PROG = "lstm-experiments-report"


def _list_arg(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def check_gates(gates: list[str]) -> list[str]:
    """``gates`` if each is a gate of some cell, or they are just ``all``; else ValueError.

    A misspelt gate would otherwise only be a warning that no run logged its images.
    """
    if gates == [ALL]:
        return gates
    if not gates:
        raise ValueError("no gate given")
    if ALL in gates:
        raise ValueError(f"{','.join(gates)!r}: {ALL} takes every gate and goes alone")
    for gate in gates:
        if gate not in GATE_ORDER:
            raise ValueError(f"gate {gate!r} is not one of {', '.join(GATE_ORDER)} (or {ALL})")
    return gates


def report_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Compare the runs of a sweep: summary/aggregated tables, per-gate "
        "statistic curves and a strip of one gate's images across runs, and index.html: "
        "all of them on one page, figures embedded, readable offline in any browser.",
    )
    parser.add_argument("sweep", type=Path, help="the sweep directory, multirun/<date>/<time>")
    parser.add_argument("--out", type=Path, help=f"output directory (default: <sweep>/{DEFAULT_OUT}); "
                        "summary.csv/.md, aggregated.csv/.md, stats_*.png, strip_*.png, index.html")
    parser.add_argument("--layer", type=_list_arg, default=["lstm"],
                        help="layer(s), comma-separated, or 'all' (default: lstm)")
    parser.add_argument("--matrix", type=_list_arg, default=["recurrent_kernel"],
                        help="matrix/matrices, comma-separated, or 'all' (default: recurrent_kernel)")
    parser.add_argument("--gate", type=_list_arg, default=["forget"],
                        help="gate(s) for the image strip, comma-separated, or 'all' (default: forget)")
    parser.add_argument("--steps", default="0,last",
                        help="strip rows: steps, 'first' or 'last', comma-separated (default: 0,last)")
    parser.add_argument("--reader", choices=READERS, default="auto",
                        help="event file reader (default: auto: python, or tensorflow when it is "
                        "already imported)")
    parser.add_argument("--jobs", type=int, default=default_jobs(),
                        help="processes reading runs in parallel, python reader only "
                        "(default: the CPU count, at most 8)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the whole report; the exit status (0, or 2 when there is no sweep to report on).

    A usage error (a bad option value) exits through argparse, status 2.
    """
    parser = report_parser()
    args = parser.parse_args(argv)
    try:
        steps = parse_steps(args.steps)
    except ValueError as err:
        parser.error(f"--steps: {err}")
    try:
        gates = check_gates(args.gate)
    except ValueError as err:
        parser.error(f"--gate: {err}")
    try:
        report = build_report(args.sweep, args.out, args.layer, args.matrix, gates, steps,
                              args.reader, args.jobs)
    except FileNotFoundError as err:
        print(f"{PROG}: {err}", file=sys.stderr)
        return 2
    failed = [r.name for r in report.runs if not r.completed]
    print(f"read {len(report.runs)} runs ({len(failed)} failed"
          + (f": {', '.join(failed)}" if failed else "")
          + f") in {report.read_seconds:.2f} s with the {report.reader} reader")
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"wrote {len(report.files)} files to {report.out_dir}:")
    for path in report.files:
        print(f"  {path.name}")
    if report.removed:
        print(f"removed what the previous report there wrote and this one did not: {', '.join(report.removed)}")
    return 0
