// Unit tests of board/static/steps.js: which step a run shows and where the slider goes.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  nearest, playNext, playStart, prefetchOrder, sortedNumbers, stepAtOrBefore, stepBy, stepText,
} from '../../src/lstm_experiments/board/static/steps.js';

test('a run shows its latest step at or before the slider\'s (its first if none is)', () => {
  const steps = [0, 3, 4, 6, 9, 10]; // log_every=3, resumed at 4 and 10
  assert.equal(stepAtOrBefore(steps, 5), 4);
  assert.equal(stepAtOrBefore(steps, 6), 6);
  assert.equal(stepAtOrBefore(steps, 100), 10);
  assert.equal(stepAtOrBefore([2, 5], 1), 2);
  assert.equal(stepAtOrBefore([], 3), null);
});

test('the slider snaps to the nearest step, the lower one on a tie', () => {
  assert.equal(nearest([0, 10, 20], 14), 10);
  assert.equal(nearest([0, 10, 20], 16), 20);
  assert.equal(nearest([0, 10, 20], 15), 10);
});

test('keys step to the neighbours and stop at both ends', () => {
  const steps = [0, 1, 2];
  assert.equal(stepBy(steps, 1, 1), 2);
  assert.equal(stepBy(steps, 2, 1), 2);
  assert.equal(stepBy(steps, 0, -1), 0);
  assert.equal(stepBy([], 0, 1), null);
});

test('play starts over from the last step and stops after it', () => {
  assert.equal(playStart([0, 1, 2], 2), 0);
  assert.equal(playStart([0, 1, 2], 1), 1);
  assert.equal(playNext([0, 1, 2], 1), 2);
  assert.equal(playNext([0, 1, 2], 2), null);
});

test('prefetching goes out from the shown step, later steps first', () => {
  assert.deepEqual(prefetchOrder([0, 1, 2, 3, 4], 2), [3, 1, 4, 0]);
  assert.deepEqual(prefetchOrder([0, 1, 2], 2), [1, 0]);
});

test('the label says the step, the last one and what the step is', () => {
  assert.equal(stepText([0, 1, 2], 1), '1 / 2 · after epoch 1');
  assert.equal(stepText([0, 1, 2], 0), '0 / 2 · initial weights, before training');
  assert.equal(stepText([], null), 'no steps yet');
  assert.deepEqual(sortedNumbers([3, 1, 3, 2]), [1, 2, 3]);
});
