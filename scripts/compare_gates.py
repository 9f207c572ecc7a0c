"""Compare the runs of a sweep: tables, per-gate statistic curves and gate image strips.

    python scripts/compare_gates.py multirun/<date>/<time> [--out DIR] [--gate forget]
        [--matrix recurrent_kernel] [--layer lstm] [--steps 0,last]

Writes summary.csv/.md, aggregated.csv/.md (seeds averaged), stats_<layer>_<matrix>_<statistic>.png
and strip_<layer>_<matrix>_<gate>.png into --out (default <sweep>/report). The work is done by
``lstm_experiments.report`` (``python -m lstm_experiments.report`` is the same command); see
``lstm_experiments.report.build`` for what each file holds.
"""

import sys

from lstm_experiments.report.cli import main

if __name__ == "__main__":
    sys.exit(main())
