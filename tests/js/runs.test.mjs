// Unit tests of board/static/runs.js: the runs' order, titles and first selection.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  TICK_ALL_AT_MOST, defaultSelection, distinguishingNames, naturalCompare, runTitle, sortRuns, splitOverrides,
} from '../../src/lstm_experiments/board/static/runs.js';

const run = (name, extra = {}) => ({ run: `${name}/tensorboard`, name, ...extra });

test('numbers sort as numbers: units=32 < units=64 < units=128', () => {
  const names = ['units=128', 'units=32', 'units=64'].sort(naturalCompare);
  assert.deepEqual(names, ['units=32', 'units=64', 'units=128']);
  assert.deepEqual(['lr=0.01', 'lr=0.001', 'lr=0.1'].sort(naturalCompare), ['lr=0.001', 'lr=0.01', 'lr=0.1']);
  assert.deepEqual(['b', 'a10', 'a9', 'a'].sort(naturalCompare), ['a', 'a9', 'a10', 'b']);
  assert.deepEqual(['units=8,seed=1', 'units=8,seed=0', 'units=16,seed=0'].sort(naturalCompare),
    ['units=8,seed=0', 'units=8,seed=1', 'units=16,seed=0']);
});

test('a sweep\'s runs in natural order of their titles', () => {
  const sorted = sortRuns([run('units=128'), run('units=32'), run('units=64')]).map(runTitle);
  assert.deepEqual(sorted, ['units=32', 'units=64', 'units=128']);
});

test('the server\'s order wins when every run has one; its title names the run', () => {
  const runs = [run('2024-01-01/12-00-02', { order: 2, title: 'units=128' }), run('2024-01-01/12-00-00', { order: 0, title: 'units=32' }),
    run('2024-01-01/12-00-01', { order: 1, title: 'units=64' })];
  assert.deepEqual(sortRuns(runs).map(runTitle), ['units=32', 'units=64', 'units=128']);
  assert.equal(runTitle({ run: 'a/tensorboard', name: 'a' }), 'a');
  assert.equal(runTitle({ run: 'a/tensorboard' }), 'a/tensorboard');
  // Without an order on both, titles decide.
  assert.deepEqual(sortRuns([run('x', { title: 'units=64', order: 0 }), run('y', { title: 'units=8' })]).map(runTitle),
    ['units=8', 'units=64']);
});

test('a few runs are all ticked at first, more than that only the first', () => {
  assert.equal(TICK_ALL_AT_MOST, 4);
  const four = ['a', 'b', 'c', 'd'].map((n) => run(n));
  assert.deepEqual(defaultSelection(four), four.map((r) => r.run));
  const five = [...four, run('e')];
  assert.deepEqual(defaultSelection(five), ['a/tensorboard']);
  assert.deepEqual(defaultSelection([]), []);
  // A sweep still starting: its first 4 runs were all ticked; a 5th does not untick them.
  assert.deepEqual(defaultSelection(five, ['a/tensorboard', 'b/tensorboard', 'c/tensorboard', 'd/tensorboard']),
    ['a/tensorboard', 'b/tensorboard', 'c/tensorboard', 'd/tensorboard']);
});

test('side by side, a name is cut to the overrides that differ', () => {
  assert.deepEqual(splitOverrides('units=16,viz=[gates,stats]'), [['units', '16'], ['viz', '[gates,stats]']]);
  assert.equal(splitOverrides('2024-01-01'), null);
  assert.deepEqual(distinguishingNames(['units=16,seed=0', 'units=32,seed=0']), ['units=16', 'units=32']);
  assert.deepEqual(distinguishingNames(['a', 'units=1']), ['a', 'units=1']);
});
