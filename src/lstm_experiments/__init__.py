"""lstm_experiments: train LSTMs from Hydra configs and watch their gates in TensorBoard.

Importing this package must stay cheap: TensorFlow is imported only by the
modules that train or write summaries, never by the ones that read configs.
"""

__version__ = "0.1.0"
