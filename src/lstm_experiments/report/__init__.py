"""The comparison report of a sweep: tables, statistic curves and gate image strips.

``read_sweep(sweep_dir, image_tags, reader, jobs, exclude)`` reads every run
into a ``Run``; ``build_report(sweep_dir, out_dir, ...)`` writes the whole
report and returns a ``Report``; ``main(argv)`` is the command line
(``python -m lstm_experiments.report SWEEP_DIR``, scripts/compare_gates.py).
Modules: ``runs`` (reading), ``naming`` (tags, sort order), ``groups``
(labels, seed groups), ``tables``, ``curves``, ``strips``, ``figures``,
``page`` (``index.html``), ``folder`` (the file names; one report per folder),
``build``, ``cli``. Importing this package imports neither TensorFlow nor
matplotlib.
"""

from lstm_experiments.report.build import Report, build_report
from lstm_experiments.report.cli import main
from lstm_experiments.report.runs import Run, read_sweep

__all__ = ["Report", "Run", "build_report", "main", "read_sweep"]
