"""The config's choices as Enums: the one place their valid values are listed.

The schema (``config/schema.py``) types its choice fields with these, so
composing a config rejects a bad value and lists the valid ones. Code that is
handed a value outside OmegaConf (the drawing process, the painter, the CSV
loader, the model builder, or a caller in Python) converts it with ``parse``,
which names the key in its error.

This module imports only ``enum``: the drawing process and the visualizers
import it, and they must never import Hydra or OmegaConf; members pickle by
reference to this module.

Members are named exactly as their values: OmegaConf validates a string
against the member *names* and writes a member to YAML by its name, so the
saved ``.hydra/config.yaml`` and the command line spell a choice the same way
(``viz.image.scale=per_step``). Every Enum here is a ``StrEnum`` (a ``str``
and an ``Enum``): a member compares equal to its value (``Scale.fixed ==
"fixed"``), hashes like it (dict lookups by the plain string work), and its
``str()`` and f-string are the bare value, so names built from it (a Keras
layer ``lstm_1``, a log line) read the same as before. (A plain ``(str, Enum)``
would format as ``Scale.fixed`` on Python 3.11.)
"""

from enum import StrEnum


def _choice(name: str, values: tuple[str, ...], doc: str) -> type[StrEnum]:
    """A StrEnum whose members are named as their values, picklable as ``choices.<name>``."""
    choice = StrEnum(name, [(value, value) for value in values], module=__name__, qualname=name)
    choice.__doc__ = doc
    return choice


Cell = _choice("Cell", ("lstm", "gru"), "``model.cell``: the recurrent layer type.")
Scale = _choice("Scale", ("fixed", "per_step", "minmax"),
                "``viz.image.scale``: how a weight matrix's colour scale is chosen.")
Reduce = _choice("Reduce", ("maxabs", "mean"),
                 "``viz.image.reduce``: how a block of weights becomes one pixel of a large matrix.")
Worker = _choice("Worker", ("process", "thread"), "``viz.worker``: where background drawing runs.")
Priority = _choice("Priority", ("idle", "low", "normal"), "``viz.worker_priority``: the drawing process' CPU priority.")
Missing = _choice("Missing", ("error", "drop", "ffill", "interpolate"),
                  "``data.missing``: what to do with blank or NaN CSV cells.")
# The gate activations with values in [0, 1], as the activations pictures and saturation expect
# (the numpy replay, gates/activity.py, and its gradients know both).
RecurrentActivation = _choice("RecurrentActivation", ("sigmoid", "hard_sigmoid"),
                              "``model.recurrent_activation``: the input, forget and output (GRU: update, reset) gates' activation.")


# Every choice key of the config and its Enum (the schema types these fields with them).
BY_KEY: dict[str, type[StrEnum]] = {
    "model.cell": Cell,
    "model.recurrent_activation": RecurrentActivation,
    "viz.image.scale": Scale,
    "viz.image.reduce": Reduce,
    "viz.worker": Worker,
    "viz.worker_priority": Priority,
    "data.missing": Missing,
}


class ChoiceError(ValueError):
    """A value that is not one of its key's choices; the message names the key and the choices."""


def valid_values(choice: type[StrEnum]) -> str:
    """The choices as the error messages list them: ``fixed, per_step, minmax``."""
    return ", ".join(member.value for member in choice)


def parse(choice: type[StrEnum], value, key: str):
    """``value`` (a member or its spelling) as a member of ``choice``; ``ChoiceError`` naming ``key`` if none."""
    try:
        return choice(value)
    except ValueError:
        raise ChoiceError(f"{key}={value} (must be one of {valid_values(choice)})") from None
