"""Benchmarks of the experiment runner; the entry point of the ``scripts/bench/`` package.

    python scripts/bench.py --quick                              # smoke run
    python scripts/bench.py                                      # everything, full sizes
    python scripts/bench.py --sections overhead --units 32,128   # one section, chosen sizes

Options, sections and modules: ``scripts/bench/__init__.py``; figures: ``docs/performance.md``.
"""

# Layout: this file and the package scripts/bench/ sit side by side. Run as
# `python scripts/bench.py`, this file is __main__ and scripts/ is sys.path[0], so
# `import bench` below finds the package: a directory with __init__.py is taken before a
# same-named bench.py in the same directory (PEP 420). `bench` therefore always names the
# package, never this file, which is only ever run, not imported. Worker processes
# (--csv-worker, --report-worker) are started through this file too.

from bench.harness import main

if __name__ == "__main__":
    main()
