// Unit tests of board/static/layout.js: minimum sizes, one scale for runs side by side, the height budget.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  MIN_CELL_PX, MIN_SIDE_PX, gridFactor, pixelsPer, sidePx, stripFactor, weightsBudget,
} from '../../src/lstm_experiments/board/static/layout.js';

test('pixels per value: whole pixels when they fit, a fraction when they must shrink', () => {
  assert.equal(pixelsPer(10, 100), 10);
  assert.equal(pixelsPer(10, 1000), 40); // at most MAX_FACTOR
  assert.equal(pixelsPer(200, 100), 0.5);
});

test('a side of few cells is raised to a hoverable size, a long side keeps its pixels per value', () => {
  assert.equal(MIN_CELL_PX, 16);
  assert.equal(MIN_SIDE_PX, 32);
  assert.equal(sidePx(1, 7), 16); // a bias: one 16 px row, not 7 px
  assert.equal(sidePx(2, 7), 32); // a 2-row kernel: not a 14 px strip
  assert.equal(sidePx(3, 7), 32);
  assert.equal(sidePx(32, 7), 224);
  assert.equal(sidePx(2, 20), 40); // already large enough
  for (let count = 1; count < 40; count++) assert.ok(sidePx(count + 1, 7) >= sidePx(count, 7), count);
});

test('one run\'s grid fits its width and the height budget', () => {
  // A 128-unit LSTM on 2 features: kernel 2 rows, recurrent 128, bias 1; one gate 128 columns wide.
  const matrices = [{ rows: 2, cols: 128 }, { rows: 128, cols: 128 }, { rows: 1, cols: 128 }];
  const factor = gridFactor(matrices, 300, weightsBudget(900), 26);
  assert.ok(factor * 128 <= 300);
  const total = matrices.reduce((sum, m) => sum + sidePx(m.rows, factor) + 26, 0);
  assert.ok(total <= weightsBudget(900) + MIN_SIDE_PX, total); // the small sides' minimum may add a little
  assert.ok(weightsBudget(1000) <= 0.45 * 1000);
});

test('runs side by side share one factor: 128 units are drawn twice as wide as 64', () => {
  const panels = [{ rows: 32, cols: 32 }, { rows: 64, cols: 64 }, { rows: 128, cols: 128 }, null];
  const factor = stripFactor(panels, 1576, 380, 16);
  const widths = panels.filter(Boolean).map((p) => sidePx(p.cols, factor));
  assert.equal(widths[2], 2 * widths[1]);
  assert.equal(widths[1], 2 * widths[0]);
  assert.ok(widths.reduce((a, b) => a + b, 0) + 16 * 3 <= 1576);
  assert.ok(sidePx(128, factor) <= 380);
});
