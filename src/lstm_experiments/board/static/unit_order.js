// The order of a units axis: as built, or one of the orders the run logged at each step (/runs' layer
// unit_figures.orders; /units' orders: the unit at each place). One choice for the page (state
// unitOrder, 'built' by default), applied to the activation panels' units axis; the weight panels keep
// Keras' order (their columns are the fused matrix'). Where the shown step logged no order, or the
// units axis is reduced block-wise, the axis stays as built and says so. The words, the lookup and
// the permutation are pure (tests/js/unit_order.test.mjs); control() is the <select>.

import { el, select } from './dom.js';

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
