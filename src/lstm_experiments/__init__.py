"""lstm_experiments: train LSTMs from Hydra configs and watch their gates in TensorBoard.

    from lstm_experiments import GateLogger   # a Keras callback for your own model.fit
    from lstm_experiments import train        # train(cfg) -> metrics, as the command line does

Importing this package stays cheap: ``GateLogger`` (Keras) and ``train`` are
imported on first use, and TensorFlow only by the modules that train or take
snapshots, never by the ones that read configs.

The subpackages follow the data: ``cli`` -> ``config`` -> ``data`` ->
``model`` -> ``run`` (the runner's steps) -> ``capture`` (snapshots, the
callback, the drawing process) -> ``gates`` (where a gate is split, replayed
and differentiated) -> ``viz`` (visualizers; where a pixel gets its colour) ->
``tensorboard`` (tags, records, PNG) -> ``report``.
"""

__version__ = "0.1.0"
__all__ = ["GateLogger", "train", "__version__"]

_LAZY = {
    "GateLogger": ("lstm_experiments.capture.callback", "GateLogger"),
    "train": ("lstm_experiments.run.train", "train"),
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        value = getattr(importlib.import_module(module), attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'lstm_experiments' has no attribute {name!r}")
