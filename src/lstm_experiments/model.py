"""Builds the Keras model: a stack of recurrent layers and a one-unit head.

Layer names are fixed (``lstm``, ``lstm_1``, ... or ``gru``, ...; ``head``) so
tags match across runs and sweeps.

Token data (``NEXT_TOKEN``, ``data=text``) reads int ids through an ``Embedding``
(``embedding``) of ``data.embedding_dim``; every recurrent layer returns its
sequence and the head is a softmax over the vocabulary at every position, compiled
with sparse categorical cross-entropy and accuracy.
"""

import keras

from lstm_experiments.config.choices import Cell, parse
from lstm_experiments.data import BINARY, NEXT_TOKEN
from lstm_experiments.errors import ConfigValueError

# The Embedding's width when a caller gives none (data.embedding_dim's default).
DEFAULT_EMBEDDING_DIM = 16

CELLS = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}


def layer_name(cell: str, index: int) -> str:
    """Keras' own naming pattern: ``lstm``, ``lstm_1``, ``lstm_2``, ..."""
    return cell if index == 0 else f"{cell}_{index}"


def _option(model_cfg, key: str, default):
    """``model_cfg.key``, or Keras' default for a config saved before the key existed (a resumed run)."""
    value = getattr(model_cfg, key, None)
    return default if value is None else value


def build_run_model(cfg, data) -> keras.Model:
    """The runner's model for ``cfg`` (its ``model``, ``units`` and, for tokens, ``data.embedding_dim``) and
    the loaded data set ``data`` (its shape, task and vocabulary), compiled with ``cfg.train``."""
    vocabulary_size = len(data.vocabulary) if data.vocabulary is not None else None
    embedding_dim = cfg.data.get("embedding_dim") or DEFAULT_EMBEDDING_DIM
    model = build_model(cfg.model, cfg.units, data.input_shape, data.task, vocabulary_size=vocabulary_size,
                        embedding_dim=embedding_dim)
    compile_model(model, cfg.train, data.task)
    return model


def build_model(model_cfg, units: int, input_shape: tuple[int, ...], task: str, *,
                vocabulary_size: int | None = None, embedding_dim: int = DEFAULT_EMBEDDING_DIM) -> keras.Model:
    """The recurrent stack of ``model_cfg`` on ``input_shape`` with the head of ``task``; ``NEXT_TOKEN``
    needs ``vocabulary_size`` (ids in, a softmax over as many tokens out)."""
    # A plain str from here on: it names the layers (lstm, lstm_1, ...) and the model.
    cell = parse(Cell, model_cfg.cell, "model.cell").value
    tokens = task == NEXT_TOKEN
    if tokens and not vocabulary_size:
        raise ValueError(f"a {NEXT_TOKEN} model needs vocabulary_size (received {vocabulary_size!r})")
    inputs = keras.Input(shape=input_shape, name="sequence", dtype="int32" if tokens else None)
    x = inputs
    if tokens:
        x = keras.layers.Embedding(vocabulary_size, embedding_dim, name="embedding")(x)
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
            units, return_sequences=tokens or index < model_cfg.layers - 1, name=name, **options
        )
        if model_cfg.bidirectional:
            layer = keras.layers.Bidirectional(layer, name=f"bidirectional_{name}")
        x = layer(x)
    if tokens:
        outputs = keras.layers.Dense(vocabulary_size, activation="softmax", name="head")(x)
    else:
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
    elif task == NEXT_TOKEN:
        # "accuracy": Keras' sparse categorical accuracy here, logged under the same name as binary's.
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    else:
        model.compile(optimizer=optimizer, loss="mse")
