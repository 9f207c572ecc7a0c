"""anyprobe: the anymodel section's probe table alone (the probe's pass per logged step on the training
thread, on the IMDB-shaped model), without its fits: about a minute instead of 12 to 15."""

from bench.any_model import run_probe as run  # noqa: F401 - the harness calls run(sizes, workdir)
