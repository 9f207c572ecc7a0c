// Unit tests of board/static/labels.js: a gate panel is labelled with its own shape.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { panelKind, panelLabel, panelShape } from '../../src/lstm_experiments/board/static/labels.js';

test('a gate panel\'s shape is its own block of the fused matrix, not the fused matrix', () => {
  const kernel = { matrix: 'kernel', shape: [2, 128], logged_shape: [2, 128], reduced: false, block: 1 };
  assert.deepEqual(panelShape(kernel, 4), { rows: 2, cols: 32, fullRows: 2, fullCols: 32, text: '2 × 32' });
  const bias = { matrix: 'bias', shape: [128], logged_shape: [1, 128], reduced: false, block: 1 };
  assert.equal(panelShape(bias, 4).text, '1 × 32');
  const gru = { matrix: 'recurrent_kernel', shape: [16, 48], logged_shape: [16, 48], reduced: false, block: 1 };
  assert.equal(panelShape(gru, 3).text, '16 × 16');
});

test('a reduced matrix says the gate\'s full shape and what is drawn', () => {
  const wide = { matrix: 'recurrent_kernel', shape: [1024, 4096], logged_shape: [512, 2048], reduced: true, block: 2 };
  const shape = panelShape(wide, 4);
  assert.deepEqual([shape.rows, shape.cols], [512, 512]);
  assert.equal(shape.text, '1024 × 1024 · shown 512 × 512, 2×2 blocks');
});

test('activation panels: gates, the candidate and the states', () => {
  assert.equal(panelKind('forget', 'cell'), 'gate');
  assert.equal(panelKind('cell', 'cell'), 'candidate');
  assert.equal(panelKind('hidden', 'cell'), 'state');
  assert.equal(panelLabel('forget', 'gate'), 'forget gate');
  assert.equal(panelLabel('cell_state', 'state'), 'cell state c');
  assert.equal(panelLabel('state', 'candidate'), 'tanh(x W + h U + b)');
});
