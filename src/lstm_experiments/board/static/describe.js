// What the tooltip says about the cell under the mouse: {lines (text), data (data-* attributes)}.
// Pure: every function gets the data it describes (tests/js/describe.test.mjs).

import { formatValue, signed } from './dom.js';
import { isMaskedStep, isMissing, valueText, valuesAt } from './input_data.js';
import { GRADIENT_LABELS, PANEL_LABELS, asMatrixShape } from './labels.js';
import { runTitle } from './runs.js';

const blockRange = (i, block, total) => (block > 1 ? `${i * block}–${Math.min((i + 1) * block, total) - 1}` : String(i));

/** The row's words: a named feature, an input or h unit, or the rows of a block. */
function rowText(matrix, row, block) {
  const [fullRows] = asMatrixShape(matrix.shape);
  if (block > 1) return `rows ${blockRange(row, block, fullRows)}`;
  if (matrix.rows && matrix.rows[row] !== undefined && matrix.rows[row] !== null) return `row ${row}: ${matrix.rows[row]}`;
  if (matrix.matrix === 'kernel') return `row ${row}: input ${row}`;
  if (matrix.matrix === 'recurrent_kernel') return `row ${row}: h unit ${row}`;
  return 'row 0';
}

/** "at step 1200 (epoch 3, batch 150)": where: the step's position in words (positions.js), if known. */
const atStep = (step, where) => (where ? `at step ${step} (${where})` : `at step ${step}`);

/**
 * A weight cell. run, layer, matrix: /runs entries; gateIndex; step (shown); current and initial:
 * the fused matrix at that step and at step 0 ({shape, data}; initial may be missing); where: the
 * step's position in words ("epoch 3, batch 150"), if known; cell {col, row}. The server sends NaN
 * and ±inf alike (JSON null), so a value that is neither finite is said to be one of them.
 */
export function describeWeight({ run, layer, matrix, gateIndex, step, current, initial, where = null }, { col, row }) {
  if (!current) return null;
  const cols = current.shape[1];
  const perGate = cols / layer.gates.length;
  const index = row * cols + gateIndex * perGate + col;
  const value = current.data[index];
  const start = initial ? initial.data[index] : NaN;
  const gate = layer.gates[gateIndex];
  const block = matrix.reduced ? matrix.block : 1;
  const unitText = block > 1 ? `units ${blockRange(col, block, layer.units)}` : `unit ${col}`;
  const lines = [
    `run: ${runTitle(run)}`,
    `${layer.layer} · ${matrix.matrix} · ${gate} gate`,
    `${rowText(matrix, row, block)} · ${unitText}`,
    `value ${Number.isNaN(value) ? 'NaN or ±inf (not finite, drawn grey)' : formatValue(value)} ${atStep(step, where)}`,
    initial ? `${formatValue(start)} at step 0 · change ${signed(value - start)}` : 'step 0: loading',
  ];
  if (block > 1) lines.push(`each cell is one ${block}×${block} block of the full ${matrix.shape.join(' × ')} matrix`);
  return {
    lines,
    data: { run: run.run, layer: layer.layer, matrix: matrix.matrix, gate, row, unit: col, step,
      value: String(value), initial: String(start) },
  };
}

/**
 * An activation cell. panel: {index, name} of the /activations panels; sequence (asked for);
 * current / initial: /activations at the shown step and at step 0 (initial: undefined while
 * loading, null when step 0 is not kept); inputLine: the input's tooltip line ('' if none);
 * where: the step's position in words, if known; failing: the step holds a failing batch's
 * weights, where a missing value may be NaN or ±inf rather than a masked step.
 */
export function describeActivation({ run, layer, panel, step, sequence, current, initial, inputLine = '', where = null,
  failing = false }, { col: t, row: unit }) {
  if (!current) return null;
  const [, sequences, time, units] = current.shape;
  const q = Math.min(sequence, sequences - 1);
  const at = ((panel.index * sequences + q) * time + t) * units + unit;
  const value = current.data[at];
  const masked = isMissing(value);
  const block = Math.ceil(layer.units / units);
  const unitText = block > 1 ? `units ${unit * block}–${Math.min((unit + 1) * block, layer.units) - 1} (one block)` : `unit ${unit}`;
  const start = initial ? initial.data[at] : NaN;
  let before;
  if (masked) {
    before = failing ? `not finite (NaN or ±inf: the weights are not), or the mask leaves time ${t} out`
      : `the layer's mask leaves time ${t} of sequence ${q} out`;
  }
  else if (!initial) before = initial === null ? 'step 0: not kept' : 'step 0: loading';
  else before = `${valueText(start, 'masked step')} at step 0 · change ${isMissing(start) ? '–' : signed(value - start)}`;
  const lines = [
    `run: ${runTitle(run)}`,
    `${layer.layer} · ${PANEL_LABELS[panel.name] || `${panel.name} gate`} · probe sequence ${q}`,
    `time ${t} · ${unitText}`,
    masked ? `masked step ${atStep(step, where)}` : `value ${formatValue(value)} ${atStep(step, where)}`,
    before,
  ];
  if (inputLine) lines.push(inputLine);
  return { lines, data: { run: run.run, layer: layer.layer, panel: panel.name, sequence: q, time: t, unit, step,
    value: String(value), initial: String(start), masked: String(masked) } };
}

/**
 * The input under the mouse: every feature's value at that time (lines), or the hovered feature's
 * (strip). input: {shape, data}; source 'layer' (what the layer read at `step`) or 'probe'; line: the
 * input's tooltip line; mode 'lines' | 'strip'.
 */
export function describeInput({ run, layer, input, source, step, sequence, mode, line }, { col: t, row }) {
  if (!input) return null;
  const feature = mode === 'strip' ? row : null;
  const values = valuesAt(input, sequence, t);
  const masked = isMaskedStep(values);
  const where = source === 'layer' ? `${layer.layer} reads, step ${step}` : 'the model\'s input, step 0';
  const lines = [`run: ${runTitle(run)}`, `input · ${where}`, `probe sequence ${sequence} · time ${t}`, line];
  const data = { run: run.run, layer: layer.layer, source, sequence, time: t, masked: String(masked), values: values.map(String).join(',') };
  if (source === 'layer') data.step = step;
  if (feature !== null) Object.assign(data, { feature, value: String(values[feature]) });
  else if (values.length === 1) data.value = String(values[0]);
  return { lines, data };
}

/** A JSON value of a figures route as a number (null, sent for NaN and ±inf, as NaN). */
const numberOf = (value) => (value === null || value === undefined ? NaN : value);
const figureText = (value) => (Number.isNaN(value) ? 'NaN or ±inf' : formatValue(value));

/**
 * A time step of the gradient through time. answer: /through_time at `step` ({states, time, norms});
 * where: the step's position in words, if known; t: the probe time step under the mouse.
 */
export function describeThroughTime({ run, layer, step, answer, where = null }, t) {
  if (!answer || t < 0 || t >= answer.time) return null;
  const values = Object.fromEntries(answer.states.map((state) => [state, numberOf(answer.norms[state][t])]));
  const lines = [
    `run: ${runTitle(run)}`,
    `${layer.layer} · gradient through time ${atStep(step, where)}`,
    `probe time step t = ${t} (of 0–${answer.time - 1})`,
    ...answer.states.map((state) => `${GRADIENT_LABELS[state] || state} ${figureText(values[state])}`),
  ];
  const data = { run: run.run, layer: layer.layer, step, time: t };
  for (const [state, value] of Object.entries(values)) data[state] = String(value);
  return { lines, data };
}

/**
 * A unit's dot on a gate's saturation scatter. answer: /units at `step`; units: the units whose dots
 * are under the mouse, nearest first (the first is described, the others named).
 */
export function describeUnit({ run, layer, gate, step, answer, units, where = null }) {
  if (!answer || !units || !units.length || !answer.saturation[gate]) return null;
  const [unit] = units;
  const left = numberOf(answer.saturation[gate].left[unit]);
  const right = numberOf(answer.saturation[gate].right[unit]);
  const lines = [
    `run: ${runTitle(run)}`,
    `${layer.layer} · ${gate} gate ${atStep(step, where)}`,
    `unit ${unit}: left ${figureText(left)} · right ${figureText(right)}`,
    `saturated ${figureText(left + right)} of its probe values (left: under 0.1, right: over 0.9)`,
  ];
  if (units.length > 1) lines.push(`also here: ${units.length > 6 ? `${units.slice(1, 6).join(', ')} … (+${units.length - 6})` : units.slice(1).join(', ')}`);
  return { lines, data: { run: run.run, layer: layer.layer, gate, step, unit, left: String(left), right: String(right),
    units: units.join(',') } };
}

/** A step of a gate's saturation curve: the total and its two parts (low: under 0.1, high: over 0.9). */
export function describeSaturation({ run, layer, gate, step, low, high, candidate = false }) {
  const total = low + high;
  const [under, over] = candidate ? ['under −0.8', 'over 0.8'] : ['under 0.1', 'over 0.9'];
  return {
    lines: [`run: ${runTitle(run)}`, `${layer.layer} · ${gate} gate · step ${step}`,
      `saturated ${figureText(total)} of the probe's values`, `${under}: ${figureText(low)} · ${over}: ${figureText(high)}`],
    data: { run: run.run, layer: layer.layer, gate, step, value: String(total), low: String(low), high: String(high) },
  };
}
