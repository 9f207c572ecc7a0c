// One weight canvas: one gate of one matrix of one run, for the one-run grid (weights_grid.js) and
// the several-runs strip (runs_strip.js). build() makes it (and the strip under it where a
// highlighted finding's units are marked); frameOf() finds what it shows at the state's step;
// paintPanel() draws that on its group's scale; paintHighlight() outlines it when it is a clicked
// finding's place (findings_list.js) and marks that finding's units' columns. The units axes follow the
// page's units order (unit_order.js: a gate's columns, the recurrent kernel's rows too); a block-reduced
// matrix stays as built, and the hover names the unit of the matrix as built.

import { clear, el } from './dom.js';
import { paintBlock } from './colour.js';
import { describeWeight } from './describe.js';
import { highlights, unitColumns, unitsText } from './findings.js';
import { panelShape } from './labels.js';
import { stepPosition } from './positions.js';
import { shownStep } from './state.js';
import * as unitOrder from './unit_order.js';
import { HeatCanvas } from './widgets.js';

/** A panel of `matrix`'s gate `gateIndex` (run, layer: /runs entries), cssWidth x cssHeight px. */
export function build({ run, layer, matrix, gateIndex, cssWidth, cssHeight }, env) {
  const { rows, cols } = panelShape(matrix, layer.gates.length);
  const heat = new HeatCanvas({ cols, rows, cssWidth, cssHeight, attrs: { 'data-testid': 'panel', 'data-kind': 'weights' } });
  Object.assign(heat.canvas.dataset, { run: run.run, layer: layer.layer, matrix: matrix.matrix, gate: layer.gates[gateIndex] });
  // Under the canvas, as wide: a finding's units marked by column (empty unless highlighted).
  const marks = el('div', { class: 'lg-unit-marks', 'data-testid': 'unit-marks', style: { width: `${cssWidth}px` },
    dataset: { run: run.run, layer: layer.layer, matrix: matrix.matrix, gate: layer.gates[gateIndex] } });
  const panel = { run: run.run, layer: layer.layer, matrix: matrix.matrix, gate: layer.gates[gateIndex], gateIndex, perGate: cols,
    block: matrix.reduced ? Number(matrix.block) || 1 : 1, heat, marks, frame: null, highlighted: null };
  heat.canvas.dataset.order = unitOrder.BUILT;
  env.hover(heat, (cell) => {
    const state = env.getState();
    const run = state.byRun.get(panel.run);
    const layer = run && (run.layers || []).find((l) => l.layer === panel.layer);
    const info = layer && layer.matrices.find((m) => m.matrix === panel.matrix);
    // (While /units loads, the canvas still shows the order before: nothing to name yet.)
    if (!info || !panel.frame || !panel.frame.current || panel.frame.orderPending) return null;
    const source = env.source();
    const initial = source.weights(panel.run, panel.layer, panel.matrix, 0).value;
    const where = stepPosition(source.positions(run).value, panel.frame.step);
    // A cell is a place on the panel's axes; in an order other than as built, it holds another unit's weight.
    const order = panel.frame.order;
    const described = describeWeight({ run, layer, matrix: info, gateIndex, step: panel.frame.step, current: panel.frame.current,
      initial, where }, unitOrder.builtCell(cell, order));
    if (described && (order.rows || order.cols)) {
      described.lines[2] += ` · at row ${cell.row}, column ${cell.col} ${unitOrder.ORDER_LABELS[order.by] || order.by}`;
      Object.assign(described.data, { placeRow: cell.row, placeCol: cell.col });
    }
    return described;
  });
  return panel;
}

const nonFiniteOf = (value, gateIndex) => (value.nonFinite ? value.nonFinite[gateIndex] || 0 : 0);

const AS_BUILT = { rows: null, cols: null, by: unitOrder.BUILT, note: '' };

/**
 * The panel's units order at `step`: {rows, cols (the unit at each place, null: as built), by, note
 * (why it stays as built)}, or {pending: true} while /units loads.
 */
function orderOf(panel, state, source, run, step) {
  const layer = run && (run.layers || []).find((l) => l.layer === panel.layer);
  const logged = layer && layer.unit_figures ? layer.unit_figures.orders || [] : [];
  const by = state.unitOrder;
  if (!by || by === unitOrder.BUILT || !logged.includes(by)) return AS_BUILT;
  const matrix = layer.matrices.find((m) => m.matrix === panel.matrix);
  if (!matrix || matrix.reduced) return { ...AS_BUILT, note: unitOrder.weightsNote(layer, by) };
  const { value, error } = source.units(panel.run, panel.layer, step);
  if (!value && !error) return { pending: true };
  const places = unitOrder.placeUnits(value, by, layer.units);
  if (!places) return { ...AS_BUILT, note: `no ${by} order at step ${step}: as built` };
  const { rows, cols } = unitOrder.weightPlaces(matrix, layer.gates.length, layer.units, places);
  return rows || cols ? { rows, cols, by, note: '' } : AS_BUILT;
}

/**
 * What the panel shows at the state's step: {step, current, initial, ready, error}; for the
 * change view also stepChange (this step's largest change) and runChange (over the run's steps).
 */
export function frameOf(panel, state, source) {
  const run = state.byRun.get(panel.run);
  const step = shownStep(state, run);
  const change = state.view === 'change';
  const current = source.weights(panel.run, panel.layer, panel.matrix, step);
  const initial = change ? source.weights(panel.run, panel.layer, panel.matrix, 0) : {};
  const order = orderOf(panel, state, source, run, step);
  const ready = Boolean(current.value && (!change || initial.value) && !order.pending);
  const frame = { step, current: current.value, initial: initial.value, ready, order: order.pending ? AS_BUILT : order,
    orderPending: Boolean(order.pending),
    error: current.error || (change && initial.error) || null,
    // this gate's values that are NaN or ±inf (a failing batch's weights), drawn grey
    nonFinite: current.value ? nonFiniteOf(current.value, panel.gateIndex) : 0 };
  if (ready && change) frame.stepChange = source.stepChange(panel.run, panel.layer, panel.matrix, step, current.value, initial.value);
  if (change && state.changeScale === 'run') frame.runChange = source.runChange(run, panel.layer, panel.matrix);
  panel.frame = frame;
  return frame;
}

/** Draw the panel's frame on `scale`; true once drawn or failed (false while it loads). */
export function paintPanel(panel, frame, scale, view) {
  const canvas = panel.heat.canvas;
  if (!frame.ready) {
    if (frame.error) {
      canvas.dataset.error = frame.error.message;
      canvas.title = `could not load: ${frame.error.message}`;
      delete canvas.dataset.pending;
    } else canvas.dataset.pending = 'true';
    return Boolean(frame.error);
  }
  const data = frame.current.data;
  const cols = frame.current.shape[1];
  const base = view === 'change' ? frame.initial.data : null;
  const { rows: rowPlaces, cols: colPlaces, by } = frame.order;
  const col0 = panel.gateIndex * panel.perGate;
  if (rowPlaces || colPlaces) {
    // The gate's block as the order places it (values copied, not recomputed: the hover reads the same).
    const rows = panel.heat.rows;
    const moved = (src) => unitOrder.gatherBlock(src, cols, col0, rows, panel.perGate, rowPlaces, colPlaces);
    const block = moved(data);
    const moveBase = base ? moved(base) : null;
    panel.heat.paint((pixels) => paintBlock(pixels, block, panel.perGate, 0, rows, panel.perGate, { base: moveBase, divide: scale }));
  } else {
    panel.heat.paint((pixels) => paintBlock(pixels, data, cols, col0, panel.heat.rows, panel.perGate, { base, divide: scale }));
  }
  canvas.dataset.order = by;
  for (const [key, places] of [['rowPlaces', rowPlaces], ['colPlaces', colPlaces]]) {
    if (places) canvas.dataset[key] = places.join(','); else delete canvas.dataset[key];
  }
  canvas.dataset.step = String(frame.step);
  canvas.dataset.view = view;
  canvas.dataset.nonFinite = String(frame.nonFinite);
  delete canvas.dataset.pending;
  delete canvas.dataset.error;
  return true;
}

/**
 * Outline the panel (class lg-highlight, data-highlight: the finding's kind) when it is the
 * highlighted finding's place (findings.js' highlights), and mark its units' columns in the strip
 * under it (data-units); undo both when it is not. The same highlight twice paints nothing.
 */
export function paintHighlight(panel, highlight) {
  const on = highlights(highlight, panel);
  const colPlaces = panel.frame && panel.frame.order ? panel.frame.order.cols : null;
  const key = on ? JSON.stringify([highlight.key, panel.perGate, colPlaces]) : null;
  if (key === panel.highlighted) return;
  panel.highlighted = key;
  const canvas = panel.heat.canvas;
  const marks = panel.marks;
  clear(marks);
  if (!on) {
    canvas.className = canvas.className.split(' ').filter((name) => name && name !== 'lg-highlight').join(' ');
    delete canvas.dataset.highlight;
    delete marks.dataset.units;
    marks.removeAttribute('title');
    return;
  }
  canvas.classList.add('lg-highlight');
  canvas.dataset.highlight = highlight.kind;
  const units = highlight.units || [];
  // In a units order, a unit's column is its place.
  const columns = unitColumns(unitOrder.placesOfUnits(units, colPlaces), panel.perGate, panel.block);
  if (!columns.length) {
    delete marks.dataset.units;
    marks.removeAttribute('title');
    return;
  }
  marks.dataset.units = units.join(',');
  marks.title = `${unitsText(units, units.length)} highlighted (${highlight.kind})`;
  for (const col of columns) {
    marks.append(el('span', { class: 'lg-unit-mark', dataset: { col },
      style: { left: `${(100 * col) / panel.perGate}%`, width: `${100 / panel.perGate}%` } }));
  }
}
