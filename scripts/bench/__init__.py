"""Benchmarks of the experiment runner: logging overhead, event-file size, start-up, CSV, sweeps, the GATES page.

A benchmark, not a test: it prints one table per section and writes every
figure (plus the machine it ran on) to a JSON file. Times are medians over
repetitions; ratios are computed within one invocation, so they compare runs
that shared the same machine state. Figures and how they were measured:
docs/performance.md.

    python scripts/bench.py --quick                              # smoke run, a few minutes
    python scripts/bench.py                                      # everything, full sizes
    python scripts/bench.py --sections overhead --units 32,128   # one section, chosen sizes
    python scripts/bench.py --sections startup,csv --out outputs/bench_startup.json
    python scripts/bench.py --sections anymodel --anymodel-sequences 25000   # the Keras example's epoch
    python scripts/bench.py --profile all --units 128             # cProfile of one logged step instead

Sections (``--sections``, comma-separated, default all), one module each:

overhead  fit time with viz=none, the default visualizers and viz=all, interleaved
drawing   CPU per logged step in the drawing process, per visualizer, without training beside it
anchor    Keras' TensorBoard(histogram_freq=1, write_images=True) vs ours: s and bytes per logged step
bytes     event-file bytes per logged step per layer, by units (images are capped at max_side_px)
startup   ``--cfg job``, ``--help`` and a config error through the real CLI
csv       1,000,000 x 8 CSV into windows: time and peak memory, ours vs a naive pandas loop (csv_load.py)
sweeps    4 tiny jobs with ``-m``: basic launcher vs joblib (when the plugin is installed)
report    reading synthetic sweeps (scalars only, and with images) with ``lstm_experiments.report.read_sweep``
          per reader, each in a fresh process, against a bare EventAccumulator
board     the GATES page (lstm_gates plugin) in headless Chromium on a real 3-run sweep: first paint, slider
          redraws (fetched steps, target <= 50 ms) and a move to a step not fetched yet (needs playwright)
load      the GATES routes over HTTP on a real TensorBoard: a 50-run sweep at 128 units (runs, weights: median and
          p95, target p95 <= 300 ms; TensorBoard's RSS) and a 1,000-epoch run (event file, load time, last step)
anymodel  GateLogger in a user's own model.fit on the Keras example's IMDB model (Embedding, 2 x Bidirectional
          LSTM): none, the defaults, viz all with a probe, Keras' TensorBoard; fit time ratio, interleaved
          (``--anymodel-sequences``; fewer sequences per epoch than the example's 25,000: conservative ratios)
anyprobe  anymodel's second table alone: the probe's pass per logged step on the training thread (visualizers
          "all" or the defaults, findings on or off: the loss gradient at each recurrent layer's output), interleaved
batches   viz.log_every_batches at 10, 50, 200 (128 units, 125 batches per epoch): fit time against viz=none
          (target 1.10 at 50), bytes per logged step, steps skipped, the drawing process' RSS over the run, what
          skipping saves with every step logged, and the GATES routes on a run of 5,000 logged steps (p95 <= 300 ms)
tokens    the probe kept as characters (experiment=char_model's model and probe, GateLogger(vocabulary=...)): the
          event file with and without the vocabulary, the lstm_gates/probe value's bytes, the GATES data per step
text      the GATES text view in headless Chromium: its redraw after a slider move with 4 sequences of 200 characters and
          8 units shown (target under 50 ms; text_view.py)

Training is timed by wrapping ``keras.Model.fit`` and the project's callbacks
(the gate logger, ``Checkpointer``, ``TrainingGuard``) in this process while
``run_experiment`` runs unchanged. The commit and any uncommitted changes are
recorded, since the tree may be edited while a benchmark runs.

Modules: ``harness`` (options, sizes, the JSON file, running the sections),
``common`` (tables, medians, config composition, timed trainings, worker
processes), ``profiling`` (``--profile``) and one module per section.

Layout: ``scripts/bench.py`` is only the entry point; this package sits beside
it as ``scripts/bench/``. Run as ``python scripts/bench.py``, that file is
``__main__`` and ``scripts/`` is ``sys.path[0]``, so ``import bench`` finds this
package: a directory with ``__init__.py`` is taken before a same-named ``.py``
file in the same directory (PEP 420, "Specification"). ``bench`` therefore
always means this package, never the entry script. Modules import each other
as ``bench.<module>``; none is meant to be run directly. The CSV section is
``csv_load``, not ``csv``, so that running a file from this folder (which puts
the folder on ``sys.path``) cannot shadow the standard library's ``csv``.
"""
