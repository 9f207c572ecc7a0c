// The input a layer read, as data: its shape, values at a time step, masked steps and the words
// the legend and tooltip use. Pure (tests/js/input_data.test.mjs).

import { maxAbs } from './colour.js';
import { formatValue } from './dom.js';

export const MAX_INPUT_LINES = 8; // above this many features the input is a heat strip
export const MASKED = 'masked';

/** 'layer' when the layer logged what it read (/probe?layer&step), else 'probe' (/probe?run, step 0). */
export const inputSource = (layer) => (layer && layer.activations && layer.activations.input === true ? 'layer' : 'probe');

/** How an input of `count` features is drawn: 'lines' (few) or 'strip' (many). */
export const inputMode = (count, limit = MAX_INPUT_LINES) => (count > limit ? 'strip' : 'lines');

/** {sequences, time, count} of a (sequences, time, features...) shape; a (sequences, time) one has 1 feature. */
export function inputShape(shape) {
  const [sequences = 0, time = 0, ...rest] = shape;
  return { sequences, time, count: rest.reduce((a, b) => a * b, 1) };
}

export const isMissing = (value) => value === null || value === undefined || Number.isNaN(value);

/** A value as the tooltip says it: 'masked' (or `word`) for NaN, a step the layer's mask leaves out. */
export const valueText = (value, word = MASKED) => (isMissing(value) ? word : formatValue(value));

/** Every value missing: a masked time step (an empty list is not). */
export const isMaskedStep = (values) => values.length > 0 && values.every(isMissing);

/** The values of every feature of sequence q at time t. */
export function valuesAt(input, q, t) {
  const { time, count } = inputShape(input.shape);
  const start = (q * time + t) * count;
  return Array.from(input.data.subarray(start, start + count));
}

/** The label of feature f: its name, else `feature f`; a reduced input's block: `features a–b`. */
export function featureLabel(input, f, fallbackNames = []) {
  const block = input.block > 1 ? input.block : 1;
  if (block > 1) {
    const width = input.width || inputShape(input.shape).count * block;
    return `features ${f * block}–${Math.min((f + 1) * block, width) - 1}`;
  }
  const names = input.features && input.features.length ? input.features : fallbackNames || [];
  return names[f] ?? `feature ${f}`;
}

/** The legend's words for a strip: "input: N features (embedding/previous layer)". */
export function stripCaption(input) {
  const { count } = inputShape(input.shape);
  const width = input.width || count;
  const shown = input.block > 1 ? `, shown in ${count} blocks of ${input.block}` : '';
  return `input: ${width} features (embedding/previous layer)${shown}`;
}

/**
 * The tooltip's line about the input of sequence q at time t: 'input: masked' at a masked step;
 * each feature's value when there are at most `limit`; else the hovered `feature`'s (if any)
 * and the largest |value| at that time.
 */
export function inputLine(input, q, t, { feature = null, limit = MAX_INPUT_LINES, names = [] } = {}) {
  const values = valuesAt(input, q, t);
  if (isMaskedStep(values)) return `input: ${MASKED} (the layer's mask leaves time ${t} out)`;
  if (values.length <= limit) {
    return `input: ${values.map((v, f) => `${featureLabel(input, f, names)} ${valueText(v)}`).join(', ')}`;
  }
  const largest = formatValue(maxAbs(values));
  const hovered = feature === null ? '' : `${featureLabel(input, feature, names)} ${valueText(values[feature])} · `;
  return `input: ${hovered}largest |value| of ${values.length} features ${largest}`;
}

/**
 * The lines' y axis: {min, max} of the finite values (every sequence of the step, so that switching
 * sequence keeps the axis); a flat input gets one unit either side; none finite: [-1, 1].
 */
export function valueRange(data) {
  let min = Infinity;
  let max = -Infinity;
  for (const v of data) {
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min === Infinity) return { min: -1, max: 1 };
  return min === max ? { min: min - 1, max: max + 1 } : { min, max };
}

/** The time steps at which every feature of sequence q is missing. */
export function maskedSteps(input, q) {
  const { time } = inputShape(input.shape);
  const found = [];
  for (let t = 0; t < time; t++) if (isMaskedStep(valuesAt(input, q, t))) found.push(t);
  return found;
}
