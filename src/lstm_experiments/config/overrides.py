"""A run's command-line overrides: how ``key=value`` is split, and what tells runs apart.

Every module that reads an override's key or value (``-m resume=<sweep dir>``,
``resume=`` with ``train.epochs=N``, the sweep report, the GATES tab's run
titles) does it here: ``split_override`` and ``override_key``; the keys whose
values differ between runs (``varying_keys``); a run's label made of them
(``label``), and the natural order of labels and names (``natural_key``:
``units=8`` before ``units=16``).
"""

import re
from collections.abc import Iterable, Sequence

# Hydra's prefixes: + adds a key, ++ adds or overrides, ~ deletes.
_OVERRIDE_PREFIXES = "+~"


def split_override(override: str) -> tuple[str, str | None]:
    """``("units", "4")`` for ``units=4``, ``+units=4`` or ``++units=4``; ``("seed", None)`` for ``~seed``."""
    key, equals, value = str(override).partition("=")
    return key.lstrip(_OVERRIDE_PREFIXES).strip(), (value if equals else None)


def override_key(override: str) -> str:
    """``units`` for ``units=4``, ``+seed=1``, ``~seed``."""
    return split_override(override)[0]


def varying_keys(override_lists: Sequence[Sequence[str]]) -> list[str]:
    """Override keys whose value is not the same in every run (or that some runs lack), in first-seen order."""
    seen: dict[str, set] = {}
    present: dict[str, int] = {}
    for overrides in override_lists:
        for override in overrides:
            key = override_key(override)
            seen.setdefault(key, set()).add(override)
            present[key] = present.get(key, 0) + 1
    return [key for key, values in seen.items() if len(values) > 1 or present[key] < len(override_lists)]


def label(overrides: Iterable[str], keys: Iterable[str], name: str) -> str:
    """A run's overrides of ``keys`` (``units=4 seed=1``), or ``name`` if it has none of them."""
    keys = set(keys)
    return " ".join(o for o in overrides if override_key(o) in keys) or name


def natural_key(text: str) -> list:
    """Sort ``2`` before ``10`` and ``units=8`` before ``units=16``."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", text)]
