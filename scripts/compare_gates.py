"""Compare the runs of a sweep: tables, per-gate statistic curves and gate image strips.

    python scripts/compare_gates.py multirun/<date>/<time> [--out DIR] [--gate forget]
        [--matrix recurrent_kernel] [--layer lstm] [--steps 0,last]

Writes summary.csv/.md, aggregated.csv/.md (seeds averaged), stats_<layer>_<matrix>_<statistic>.png
and strip_<layer>_<matrix>_<gate>.png into --out (default <sweep>/report). The work is done by
``lstm_experiments.report.sweep_report``; see its docstring for details.
"""

import sys

from lstm_experiments.report.sweep_report import report_main

if __name__ == "__main__":
    sys.exit(report_main())
