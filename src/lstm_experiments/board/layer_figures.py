"""The ``/through_time`` and ``/units`` answers: one layer's logged figures, shaped by their metadata's names.

Pure data shaping, no reads. ``through_time_answer`` gives each state's norms
by time step (``ThroughTimeContent``); ``units_answer`` splits the ``units``
rows (``UnitsContent.rows``, named in ``metadata``: ``<gate>/left``,
``<gate>/right``, ``activity``, ``order/<by>``) into each gate's left and right
saturated fractions, the activity and each order of the units as integers. A
row the metadata names but the array lacks is left out, as is an order that
is not a permutation of the units (None).
"""

import numpy as np

from lstm_experiments.board import metadata


def _rows(values: np.ndarray, names) -> dict:
    """{name: row} of a (rows, ...) array by the metadata's row names; rows beyond the array are left out."""
    values = np.asarray(values)
    if values.ndim == 1:
        values = values.reshape(1, -1)
    return {name: values[index] for index, name in enumerate(names) if index < values.shape[0]}


def through_time_answer(content: metadata.ThroughTimeContent, values, step: int) -> dict:
    """``/through_time``: {layer, step, states, time, norms: {state: [norm per time step]}} (NaN, inf: null)."""
    values = np.asarray(values, np.float64)
    rows = _rows(values, list(content.states or []))
    return {"layer": content.layer, "step": int(step), "states": list(rows),
            "time": int(values.shape[-1]) if values.ndim else 0, "norms": rows}


def _permutation(row, units: int) -> list[int] | None:
    """A logged order as integers, or None when it is not a permutation of ``range(units)``."""
    row = np.asarray(row, np.float64)
    if row.shape != (units,) or not np.isfinite(row).all():
        return None
    order = row.astype(np.int64)
    if not np.array_equal(order, row) or not np.array_equal(np.sort(order), np.arange(units)):
        return None
    return order.tolist()


def units_answer(content: metadata.UnitsContent, values, step: int) -> dict:
    """``/units``: {layer, step, cell, units, gates, saturation: {gate: {left, right}}, activity, orders: {by: [unit
    per place] or None}} (NaN, inf: null)."""
    rows = _rows(np.asarray(values, np.float32), list(content.rows or []))
    units = int(content.units)
    saturation = {}
    for gate in content.gates or []:
        sides = {side: rows.get(metadata.unit_saturation_row(gate, side)) for side in metadata.UNIT_SIDES}
        if all(part is not None for part in sides.values()):
            saturation[gate] = sides
    orders = {by: _permutation(rows[metadata.unit_order_row(by)], units)
              for by in content.orders or [] if metadata.unit_order_row(by) in rows}
    return {"layer": content.layer, "step": int(step), "cell": content.cell, "units": units,
            "gates": list(saturation), "saturation": saturation, "activity": rows.get(metadata.ACTIVITY),
            "orders": orders}
