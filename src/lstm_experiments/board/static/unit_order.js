// The order of a units axis: as built, or one of the orders the run logged at each step (/runs' layer
// unit_figures.orders; /units' orders: the unit at each place). One choice for the page (state
// unitOrder, 'built' by default), applied to every units axis of the layer's panels: the activations'
// units axis, and in the weight panels each gate's unit columns (kernel, recurrent kernel, biases) and
// the recurrent kernel's rows (the previous h's units). Where the shown step logged no order, or the
// units axis is reduced block-wise, the axis stays as built and says so. The words, the lookup and
// the permutations are pure (tests/js/unit_order.test.mjs); control() is the <select>.

import { el, select } from './dom.js';
import { MATRIX_LABELS, asMatrixShape } from './labels.js';

export const BUILT = 'built';
export const ORDER_LABELS = { built: 'as built', saturation: 'by saturation', activity: 'by activity', similarity: 'by similarity' };
export const ORDER_TITLES = {
  built: 'the units in the layer\'s own order',
  saturation: 'most saturated first: left + right, summed over the gates',
  activity: 'most active first: the largest std of h over the probe',
  similarity: 'units whose h moves together side by side',
};

/** [[by, label]] of the orders a layer logged (as built first, always there). */
export function orderOptions(layer) {
  const logged = (layer && layer.unit_figures && layer.unit_figures.orders) || [];
  return [BUILT, ...logged.filter((by) => by !== BUILT)].map((by) => [by, ORDER_LABELS[by] || by]);
}

/**
 * The unit at each place of a units axis of `count` units ordered `by`, from /units' answer; null
 * for as built, or when the answer has no such order or it does not fit the axis.
 */
export function placeUnits(answer, by, count) {
  if (by === BUILT || !answer || !answer.orders) return null;
  const order = answer.orders[by];
  if (!Array.isArray(order) || order.length !== count) return null;
  return order;
}

/**
 * A (time, units) block, row-major, with its units put in `places` order: out[t][p] = block[t][places[p]].
 * As is when `places` is null.
 */
export function permuteUnits(block, time, units, places) {
  if (!places) return block;
  const out = new Float32Array(time * units);
  for (let t = 0; t < time; t++) {
    const row = t * units;
    for (let p = 0; p < units; p++) out[row + p] = block[row + places[p]];
  }
  return out;
}

/**
 * The places of a weight panel's two axes ({rows, cols}: the unit at each place, null: as built) for
 * `places` of a layer of `units` units: a gate's columns are its units; the recurrent kernel's rows are
 * the previous h's units. A block-reduced matrix (or an axis that is not `units` long) stays as built.
 */
export function weightPlaces(matrix, gateCount, units, places) {
  if (!places || matrix.reduced) return { rows: null, cols: null };
  const [rows, cols] = asMatrixShape(matrix.logged_shape);
  return { rows: matrix.matrix === 'recurrent_kernel' && rows === units ? places : null,
    cols: cols / gateCount === units ? places : null };
}

/**
 * One gate's block (columns [col0, col0 + cols) of a row-major matrix of `srcCols` columns) with its
 * rows and columns put in place order: out[r][c] = src[rowPlaces[r]][col0 + colPlaces[c]] (null: as built).
 */
export function gatherBlock(src, srcCols, col0, rows, cols, rowPlaces, colPlaces) {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const from = (rowPlaces ? rowPlaces[r] : r) * srcCols + col0;
    for (let c = 0; c < cols; c++) out[r * cols + c] = src[from + (colPlaces ? colPlaces[c] : c)];
  }
  return out;
}

/** The cell of the matrix as built shown at place {row, col}. */
export const builtCell = ({ row, col }, { rows, cols }) => ({ row: rows ? rows[row] : row, col: cols ? cols[col] : col });

/** The place of each of `units` on an axis in `places` order (as is when places is null; -1: not there). */
export const placesOfUnits = (units, places) => (places ? units.map((unit) => places.indexOf(unit)) : units);

/** Why a layer's weight panels stay as built in order `by`: "recurrent kernel reduced block-wise: as built", or ''. */
export function weightsNote(layer, by) {
  if (!by || by === BUILT || !layer) return '';
  const reduced = (layer.matrices || []).filter((m) => m.reduced).map((m) => MATRIX_LABELS[m.matrix] || m.matrix);
  return reduced.length ? `${reduced.join(', ')} reduced block-wise: as built` : '';
}

/** The axis' words: "units ↓ down (32, by activity)". */
export const axisText = (units, by) => `units ↓ down (${units}${by && by !== BUILT ? `, ${ORDER_LABELS[by] || by}` : ''})`;

/** {node, select}: the <select> of the orders a layer logged, captioned; onchange sets the page's unitOrder. */
export function control(layer, current, env) {
  const options = orderOptions(layer);
  const menu = select(options, current, { 'data-testid': 'unit-order-select',
    title: options.map(([by, label]) => `${label}: ${ORDER_TITLES[by] || by}`).join('\n'),
    onchange: (event) => env.setState({ unitOrder: event.target.value }) });
  return { node: el('label', { class: 'lg-group' }, el('span', { class: 'lg-caption', text: 'units order' }), menu), select: menu };
}
