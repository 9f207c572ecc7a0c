// Unit tests of board/static/state.js: the rules every setState goes through, and the handlers' patches.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  allRunsPatch, followPatch, noRunsPatch, normalize, playPatch, playTickPatch, runsPatch, selectedRuns, shownStep,
  stepByPatch, toggleRunPatch, userStepPatch,
} from '../../src/lstm_experiments/board/static/state.js';
import { lstmRun } from './fixtures.mjs';

const withRuns = (runs, extra = {}) => normalize({ ...runsPatch({ runs }), ...extra });
const set = (state, patch) => normalize({ ...state, ...(typeof patch === 'function' ? patch(state) : patch) });

test('the run list arrives sorted naturally; a few runs are all ticked, more only the first', () => {
  const runs = ['units=128', 'units=32', 'units=64'].map((name) => lstmRun(name));
  const state = withRuns(runs);
  assert.deepEqual(state.runs.map((run) => run.name), ['units=32', 'units=64', 'units=128']);
  assert.deepEqual(state.selected, state.runs.map((run) => run.run));
  const many = withRuns(['a', 'b', 'c', 'd', 'e'].map((name) => lstmRun(name)));
  assert.deepEqual(many.selected, ['a/tensorboard']);
});

test('ticking, all and none: the user\'s choice holds through later polls', () => {
  let state = withRuns(['a', 'b', 'c', 'd', 'e'].map((name) => lstmRun(name)));
  state = set(state, (s) => toggleRunPatch(s, 'c/tensorboard', true));
  assert.deepEqual(state.selected, ['a/tensorboard', 'c/tensorboard']);
  state = set(state, (s) => toggleRunPatch(s, 'a/tensorboard', false));
  assert.deepEqual(state.selected, ['c/tensorboard']);
  state = set(state, runsPatch({ runs: ['a', 'b', 'c', 'd', 'e', 'f'].map((name) => lstmRun(name)) }));
  assert.deepEqual(state.selected, ['c/tensorboard']);
  state = set(state, allRunsPatch);
  assert.equal(state.selected.length, 6);
  state = set(state, noRunsPatch);
  assert.deepEqual(state.selected, []);
  assert.deepEqual(state.steps, []);
  assert.equal(state.step, null);
});

test('runs that appear before the user ticks any are ticked while they are few', () => {
  let state = withRuns([lstmRun('a')]);
  state = set(state, runsPatch({ runs: [lstmRun('a'), lstmRun('b')] }));
  assert.deepEqual(state.selected, ['a/tensorboard', 'b/tensorboard']);
  state = set(state, runsPatch({ runs: ['a', 'b', 'c', 'd', 'e'].map((name) => lstmRun(name)) }));
  assert.deepEqual(state.selected, ['a/tensorboard', 'b/tensorboard']); // a fifth run unticks none
});

test('follow latest shows the last step; a step the user chose holds', () => {
  let state = withRuns([lstmRun('a', { steps: [0, 1] })]);
  assert.equal(state.step, 1);
  state = set(state, runsPatch({ runs: [lstmRun('a', { steps: [0, 1, 2] })] }));
  assert.equal(state.step, 2);
  state = set(state, (s) => userStepPatch(s, 0.8));
  assert.deepEqual([state.step, state.follow], [1, false]);
  state = set(state, runsPatch({ runs: [lstmRun('a', { steps: [0, 1, 2, 3] })] }));
  assert.equal(state.step, 1);
  state = set(state, (s) => stepByPatch(s, 1));
  assert.equal(state.step, 2);
  state = set(state, followPatch(true));
  assert.equal(state.step, 3);
});

test('a held step the runs no longer keep falls back to the latest before it', () => {
  let state = withRuns([lstmRun('a', { steps: [0, 2, 4] })], { follow: false, step: 4 });
  state = set(state, runsPatch({ runs: [lstmRun('a', { steps: [0, 2, 3] })] }));
  assert.equal(state.step, 3);
});

test('each run shows its own latest step at or before the slider\'s', () => {
  const state = withRuns([lstmRun('a', { steps: [0, 2, 4] }), lstmRun('b', { steps: [0, 1, 2, 3] })], { follow: false, step: 3 });
  assert.deepEqual(state.steps, [0, 1, 2, 3, 4]);
  const [a, b] = selectedRuns(state);
  assert.equal(shownStep(state, a), 2);
  assert.equal(shownStep(state, b), 3);
});

test('play starts over from the last step, ticks forward and stops at the end', () => {
  let state = withRuns([lstmRun('a', { steps: [0, 1, 2] })]);
  state = set(state, (s) => playPatch(s, true));
  assert.deepEqual([state.playing, state.step, state.follow], [true, 0, false]);
  state = set(state, playTickPatch);
  assert.equal(state.step, 1);
  state = set(state, playTickPatch);
  state = set(state, playTickPatch);
  assert.deepEqual([state.playing, state.step], [false, 2]);
});

test('layer, gate, matrix, activations run and sequence fall back to ones that exist', () => {
  const state = withRuns([lstmRun('a')], { layer: 'gone', gate: 'reset', matrix: 'nope', sequence: 9 });
  assert.deepEqual([state.layer, state.gate, state.matrix, state.activationsRun, state.sequence],
    ['lstm', 'forget', 'recurrent_kernel', 'a/tensorboard', 0]);
  const kept = withRuns([lstmRun('a')], { gate: 'output', matrix: 'kernel', sequence: 1 });
  assert.deepEqual([kept.gate, kept.matrix, kept.sequence], ['output', 'kernel', 1]);
});
