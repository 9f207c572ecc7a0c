// Unit tests of board/static/scales.js: the weight legends' scales.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  ChangeScales, FALLBACK_SCALE, groupScale, scaleCaption, usableScale,
} from '../../src/lstm_experiments/board/static/scales.js';

test('W_t: the largest of the members\' fixed scales', () => {
  assert.deepEqual(groupScale([{ fixed: 0.5 }, { fixed: 0.8 }], 'weights', 'step'), { scale: 0.8, covered: 0, total: 0 });
});

test('the change on this step\'s scale: the largest change now; on the run\'s: over every step it has', () => {
  const members = [{ fixed: 1, stepChange: 0.1, runChange: { scale: 0.4, covered: 3, total: 3 } },
    { fixed: 1, stepChange: 0.2, runChange: { scale: 0.3, covered: 2, total: 3 } }];
  assert.equal(groupScale(members, 'change', 'step').scale, 0.2);
  assert.deepEqual(groupScale(members, 'change', 'run'), { scale: 0.4, covered: 5, total: 6 });
  assert.equal(groupScale([{ fixed: 1 }], 'change', 'step').scale, FALLBACK_SCALE); // still loading
  assert.equal(usableScale(0), FALLBACK_SCALE);
  assert.equal(usableScale(NaN), FALLBACK_SCALE);
});

test('a step\'s change is computed once and kept', () => {
  const scales = new ChangeScales();
  const initial = { data: Float32Array.from([1, 2, 3]) };
  assert.equal(scales.at('r', 'l', 'kernel', 2, { data: Float32Array.from([1, 2.5, 2]) }, initial), 1);
  assert.equal(scales.get('r', 'l', 'kernel', 2), 1);
  assert.equal(scales.at('r', 'l', 'kernel', 2, { data: Float32Array.from([9, 9, 9]) }, initial), 1);
  assert.equal(scales.get('r', 'l', 'kernel', 3), undefined);
});

test('the legend says which scale', () => {
  assert.equal(scaleCaption('weights', 'step'), 'W_t, the run\'s fixed scale');
  assert.equal(scaleCaption('change', 'step', { shared: true }), 'W_t − W_0, this step\'s largest change of every run');
  assert.equal(scaleCaption('change', 'run', { covered: 3, total: 3 }), 'W_t − W_0, the largest change over every step');
  assert.equal(scaleCaption('change', 'run', { covered: 2, total: 3 }), 'W_t − W_0, the largest change over 2 of 3 steps loaded');
});
