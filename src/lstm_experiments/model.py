"""Builds the Keras model: a stack of recurrent layers and a one-unit head.

Layer names are fixed (``lstm``, ``lstm_1``, ... or ``gru``, ...; ``head``) so
tags match across runs and sweeps.
"""

import keras

from lstm_experiments.config.choices import Cell, parse
from lstm_experiments.data import BINARY
from lstm_experiments.errors import ConfigValueError

CELLS = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}


def layer_name(cell: str, index: int) -> str:
    """Keras' own naming pattern: ``lstm``, ``lstm_1``, ``lstm_2``, ..."""
    return cell if index == 0 else f"{cell}_{index}"


def _option(model_cfg, key: str, default):
    """``model_cfg.key``, or Keras' default for a config saved before the key existed (a resumed run)."""
    value = getattr(model_cfg, key, None)
    return default if value is None else value


def build_model(model_cfg, units: int, input_shape: tuple[int, int], task: str) -> keras.Model:
    # A plain str from here on: it names the layers (lstm, lstm_1, ...) and the model.
    cell = parse(Cell, model_cfg.cell, "model.cell").value
    inputs = keras.Input(shape=input_shape, name="sequence")
    x = inputs
    for index in range(model_cfg.layers):
        options = {
            "use_bias": model_cfg.use_bias,
            "dropout": float(_option(model_cfg, "dropout", 0.0)),
            "recurrent_dropout": float(_option(model_cfg, "recurrent_dropout", 0.0)),
            "recurrent_activation": str(_option(model_cfg, "recurrent_activation", "sigmoid")),
        }
        if cell == "gru":
            options["reset_after"] = model_cfg.reset_after
        else:
            options["unit_forget_bias"] = bool(_option(model_cfg, "unit_forget_bias", True))
        name = layer_name(cell, index)
        layer = CELLS[cell](
            units, return_sequences=index < model_cfg.layers - 1, name=name, **options
        )
        if model_cfg.bidirectional:
            layer = keras.layers.Bidirectional(layer, name=f"bidirectional_{name}")
        x = layer(x)
    activation = "sigmoid" if task == BINARY else None
    outputs = keras.layers.Dense(1, activation=activation, name="head")(x)
    return keras.Model(inputs, outputs, name=f"{cell}_model")


def compile_model(model: keras.Model, train_cfg, task: str) -> None:
    try:
        optimizer = keras.optimizers.get(
            {"class_name": train_cfg.optimizer, "config": {"learning_rate": train_cfg.learning_rate}}
        )
    except (ValueError, TypeError):
        raise ConfigValueError(f"train.optimizer={train_cfg.optimizer} (not a Keras optimizer; e.g. adam, adamw, "
                               "sgd, rmsprop, adagrad, nadam)") from None
    if task == BINARY:
        model.compile(optimizer=optimizer, loss="binary_crossentropy", metrics=["accuracy"])
    else:
        model.compile(optimizer=optimizer, loss="mse")
