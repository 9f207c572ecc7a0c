"""``python -m lstm_experiments.report SWEEP_DIR [options]``: the report, as scripts/compare_gates.py."""

import sys

from lstm_experiments.report.cli import main

if __name__ == "__main__":
    sys.exit(main())
