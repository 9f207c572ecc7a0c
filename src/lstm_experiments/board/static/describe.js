// What the tooltip says about the cell under the mouse: {lines (text), data (data-* attributes)}.

import { formatValue, signed } from './dom.js';
import { isMaskedStep, isMissing, valueText, valuesAt } from './input_view.js';
import { keys, loadActivations } from './model.js';
import { PANEL_LABELS, asMatrixShape } from './runs.js';

export function describeWeight(app, panel, { col, row }) {
  const { run, layer, matrix, gateIndex, perGate } = panel;
  const current = app.store.peek(keys.weights(run.run, layer.layer, matrix.matrix, panel.step));
  const initial = app.store.peek(keys.weights(run.run, layer.layer, matrix.matrix, 0));
  if (!current) return null;
  const cols = current.shape[1];
  const index = row * cols + gateIndex * perGate + col;
  const value = current.data[index];
  const start = initial ? initial.data[index] : NaN;
  const gate = layer.gates[gateIndex];
  const block = matrix.reduced ? matrix.block : 1;
  const [fullRows] = asMatrixShape(matrix.shape);
  const range = (i, total) => (block > 1 ? `${i * block}–${Math.min((i + 1) * block, total) - 1}` : String(i));
  let rowText;
  if (block > 1) rowText = `rows ${range(row, fullRows)}`;
  else if (matrix.rows && matrix.rows[row] !== undefined && matrix.rows[row] !== null) rowText = `row ${row}: ${matrix.rows[row]}`;
  else if (matrix.matrix === 'kernel') rowText = `row ${row}: input ${row}`;
  else if (matrix.matrix === 'recurrent_kernel') rowText = `row ${row}: h unit ${row}`;
  else rowText = 'row 0';
  const unitText = block > 1 ? `units ${range(col, layer.units)}` : `unit ${col}`;
  const lines = [
    `run: ${run.name || run.run}`,
    `${layer.layer} · ${matrix.matrix} · ${gate} gate`,
    `${rowText} · ${unitText}`,
    `value ${formatValue(value)} at step ${panel.step}`,
    initial ? `${formatValue(start)} at step 0 · change ${signed(value - start)}` : 'step 0: loading',
  ];
  if (block > 1) lines.push(`each cell is one ${block}×${block} block of the full ${matrix.shape.join(' × ')} matrix`);
  return {
    lines,
    data: { run: run.run, layer: layer.layer, matrix: matrix.matrix, gate, row, unit: col, step: panel.step,
      value: String(value), initial: String(start) },
  };
}

export function describeActivation(app, panel, { col: t, row: unit }) {
  const { run, layer, index, name } = panel;
  const step = app.shownStep(run);
  const current = app.store.peek(keys.activations(run.run, layer.layer, step));
  if (!current) return null;
  const [, sequences, time, units] = current.shape;
  const q = Math.min(app.state.sequence, sequences - 1);
  const at = ((index * sequences + q) * time + t) * units + unit;
  const value = current.data[at];
  const masked = isMissing(value);
  const block = Math.ceil(layer.units / units);
  const unitText = block > 1 ? `units ${unit * block}–${Math.min((unit + 1) * block, layer.units) - 1} (one block)` : `unit ${unit}`;
  const initialKey = keys.activations(run.run, layer.layer, 0);
  const initial = app.store.peek(initialKey);
  if (!initial && !app.store.error(initialKey) && run.steps.includes(0)) loadActivations(app.store, run.run, layer.layer, 0);
  const start = initial ? initial.data[at] : NaN;
  let before;
  if (masked) before = `the layer's mask leaves time ${t} of sequence ${q} out`;
  else if (!initial) before = run.steps.includes(0) ? 'step 0: loading' : 'step 0: not kept';
  else before = `${valueText(start, 'masked step')} at step 0 · change ${isMissing(start) ? '–' : signed(value - start)}`;
  const lines = [
    `run: ${run.name || run.run}`,
    `${layer.layer} · ${PANEL_LABELS[name] || `${name} gate`} · probe sequence ${q}`,
    `time ${t} · ${unitText}`,
    masked ? `masked step at step ${step}` : `value ${formatValue(value)} at step ${step}`,
    before,
  ];
  const input = panel.input ? panel.input.lineAt(q, t) : '';
  if (input) lines.push(input);
  return { lines, data: { run: run.run, layer: layer.layer, panel: name, sequence: q, time: t, unit, step,
    value: String(value), initial: String(start), masked: String(masked) } };
}

/** The input under the mouse: every feature's value at that time (lines), or the hovered feature's (strip). */
export function describeInput(app, view, { col: t, row }) {
  const input = view.current;
  if (!input) return null;
  const q = view.sequence;
  const feature = view.mode === 'strip' ? row : null;
  const values = valuesAt(input, q, t);
  const masked = isMaskedStep(values);
  const where = view.source === 'layer' ? `${view.layer.layer} reads, step ${view.step}` : 'the model\'s input, step 0';
  const lines = [`run: ${view.run.name || view.run.run}`, `input · ${where}`, `probe sequence ${q} · time ${t}`,
    view.lineAt(q, t, feature)];
  const data = { run: view.run.run, layer: view.layer.layer, source: view.source, sequence: q, time: t,
    masked: String(masked), values: values.map(String).join(',') };
  if (view.source === 'layer') data.step = view.step;
  if (feature !== null) Object.assign(data, { feature, value: String(values[feature]) });
  else if (values.length === 1) data.value = String(values[0]);
  return { lines, data };
}
