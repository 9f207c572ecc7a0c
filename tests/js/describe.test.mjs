// Unit tests of board/static/describe.js: the tooltip says the hovered cell's value at the shown step.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { describeActivation, describeInput, describeWeight } from '../../src/lstm_experiments/board/static/describe.js';
import { formatValue } from '../../src/lstm_experiments/board/static/dom.js';
import { activationsAt, inputAt, lstmRun, weightValue, weightsAt } from './fixtures.mjs';

test('a weight: its value at the shown step, at step 0 and the change, by row and unit', () => {
  const run = lstmRun('a', { units: 4, features: 2, extra: { title: 'units=4' } });
  const layer = run.layers[0];
  const matrix = layer.matrices[1]; // recurrent_kernel, 4 x 16
  const described = describeWeight({ run, layer, matrix, gateIndex: 1, step: 2, current: weightsAt(run, 'recurrent_kernel', 2),
    initial: weightsAt(run, 'recurrent_kernel', 0) }, { row: 3, col: 2 });
  const index = 3 * 16 + 4 + 2;
  assert.equal(Number(described.data.value), Math.fround(weightValue(2, index)));
  assert.equal(Number(described.data.initial), Math.fround(weightValue(0, index)));
  assert.deepEqual([described.data.step, described.data.gate, described.data.row, described.data.unit], [2, 'forget', 3, 2]);
  assert.equal(described.lines[0], 'run: units=4');
  assert.equal(described.lines[2], 'row 3: h unit 3 · unit 2');
  assert.equal(described.lines[3], `value ${formatValue(Math.fround(weightValue(2, index)))} at step 2`);
  const kernel = describeWeight({ run, layer, matrix: layer.matrices[0], gateIndex: 0, step: 2, current: weightsAt(run, 'kernel', 2) },
    { row: 1, col: 0 });
  assert.equal(kernel.lines[2], 'row 1: x1 · unit 0');
  assert.equal(kernel.lines[4], 'step 0: loading');
});

test('an activation: the panel\'s value of the sequence at that time and unit', () => {
  const run = lstmRun('a', { units: 3, time: 5, sequences: 2 });
  const layer = run.layers[0];
  const current = activationsAt(run, 1);
  const described = describeActivation({ run, layer, panel: { index: 1, name: 'forget' }, step: 1, sequence: 1, current,
    initial: null }, { col: 4, row: 2 });
  const at = ((1 * 2 + 1) * 5 + 4) * 3 + 2;
  assert.equal(Number(described.data.value), current.data[at]);
  assert.equal(described.lines[4], 'step 0: not kept');
  assert.equal(described.data.masked, 'false');
});

test('an input: every feature at the hovered time', () => {
  const run = lstmRun('a', { features: 2, time: 5, sequences: 2 });
  const input = inputAt(run, 1);
  const described = describeInput({ run, layer: run.layers[0], input, source: 'layer', step: 1, sequence: 1, mode: 'lines', line: 'x' },
    { col: 3, row: 0 });
  const start = (1 * 5 + 3) * 2;
  assert.equal(described.data.values, `${input.data[start]},${input.data[start + 1]}`);
  assert.equal(described.data.step, 1);
});
