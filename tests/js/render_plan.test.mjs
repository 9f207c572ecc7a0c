// Unit tests of board/static/render_plan.js: which views a state change rebuilds, repaints or keeps.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { BUILD, KEEP, PAINT, planRender, same } from '../../src/lstm_experiments/board/static/render_plan.js';
import { findingPatch, normalize, runsPatch, toggleRunPatch, userStepPatch } from '../../src/lstm_experiments/board/static/state.js';
import { lstmRun } from './fixtures.mjs';

const start = () => normalize({ ...runsPatch({ runs: [lstmRun('a'), lstmRun('b', { units: 6 })] }) });
const set = (state, patch) => normalize({ ...state, ...(typeof patch === 'function' ? patch(state) : patch) });
const actions = (plan, want) => Object.fromEntries(Object.keys(want).map((name) => [name, plan[name]]));

test('the first render builds every view', () => {
  assert.ok(Object.values(planRender(null, start())).every((action) => action === BUILD));
});

test('a slider move repaints the step\'s views and rebuilds none', () => {
  const prev = start();
  const plan = planRender(prev, set(prev, (s) => userStepPatch(s, 1)));
  assert.deepEqual(plan, { controls: KEEP, stepbar: PAINT, banner: KEEP, findings: KEEP, weights: PAINT, activations: PAINT, saturation: PAINT,
    text: KEEP, throughTime: PAINT, unitScatter: PAINT }); // text: no run here holds tokens
});

test('the units order repaints the weights and the activations alone; a layer that logged figures lays out their charts', () => {
  const prev = start();
  const plan = planRender(prev, set(prev, { unitOrder: 'activity' }));
  assert.deepEqual(Object.entries(plan).filter(([, action]) => action !== KEEP), [['weights', PAINT], ['activations', PAINT]]);
  const figures = { through_time: ['h', 'c'], unit_figures: { gates: ['input'], orders: ['built', 'activity'] } };
  const logged = set(prev, runsPatch({ runs: [lstmRun('a', { figures }), lstmRun('b', { units: 6 })] }));
  const added = planRender(prev, logged);
  assert.deepEqual(actions(added, { throughTime: 0, unitScatter: 0, activations: 0, weights: 0 }),
    { throughTime: BUILD, unitScatter: BUILD, activations: BUILD, weights: KEEP });
  // A highlight at the shown step repaints the scatter (its units drawn orange), not the chart.
  const highlight = { key: 'k', run: 'a/tensorboard', kind: 'dead_units', layer: 'lstm', gates: null, units: [1], step: 2 };
  const clicked = planRender(logged, set(logged, (s) => findingPatch(s, highlight)));
  assert.deepEqual(actions(clicked, { throughTime: 0, unitScatter: 0 }), { throughTime: KEEP, unitScatter: PAINT });
});

test('a poll that brings the same runs changes nothing; new steps repaint without a rebuild', () => {
  const prev = start();
  const same1 = set(prev, runsPatch({ runs: [lstmRun('a'), lstmRun('b', { units: 6 })] }));
  assert.ok(Object.values(planRender(prev, same1)).every((action) => action === KEEP));
  const more = set(prev, runsPatch({ runs: [lstmRun('a', { steps: [0, 1, 2, 3] }), lstmRun('b', { units: 6 })] }));
  const plan = planRender(prev, more);
  assert.deepEqual(actions(plan, { weights: 0, activations: 0, saturation: 0, stepbar: 0, controls: 0 }),
    { weights: PAINT, activations: PAINT, saturation: PAINT, stepbar: PAINT, controls: KEEP });
});

test('ticking a run rebuilds the weights; a new run in the list rebuilds the picker', () => {
  const prev = start();
  const plan = planRender(prev, set(prev, (s) => toggleRunPatch(s, 'b/tensorboard', false)));
  assert.equal(plan.weights, BUILD);
  assert.equal(plan.controls, PAINT);
  const added = planRender(prev, set(prev, runsPatch({ runs: [lstmRun('a'), lstmRun('b', { units: 6 }), lstmRun('c')] })));
  assert.equal(added.controls, BUILD);
});

test('the view and the change scale repaint the weights; the sequence repaints the activations', () => {
  const prev = start();
  assert.deepEqual(actions(planRender(prev, set(prev, { view: 'change' })), { weights: 0, activations: 0, controls: 0 }),
    { weights: PAINT, activations: KEEP, controls: PAINT });
  assert.deepEqual(actions(planRender(prev, set(prev, { changeScale: 'run' })), { weights: 0, activations: 0 }),
    { weights: PAINT, activations: KEEP });
  assert.deepEqual(actions(planRender(prev, set(prev, { sequence: 1 })), { weights: 0, activations: 0, saturation: 0 }),
    { weights: KEEP, activations: PAINT, saturation: KEEP });
});

test('the compared gate, the scale mode and the frame size rebuild what they lay out', () => {
  const prev = start();
  assert.equal(planRender(prev, set(prev, { gate: 'output' })).weights, BUILD);
  assert.equal(planRender(prev, set(prev, { scale: 'own' })).weights, BUILD);
  const resized = planRender(prev, set(prev, { width: 900 }));
  assert.deepEqual(actions(resized, { weights: 0, activations: 0, saturation: 0, controls: 0 }),
    { weights: BUILD, activations: BUILD, saturation: BUILD, controls: KEEP });
});

test('same: deep equality of plain data', () => {
  assert.ok(same({ a: [1, 'x', null] }, { a: [1, 'x', null] }));
  assert.ok(!same({ a: [1] }, { a: [1, 2] }));
  assert.ok(!same([1], { 0: 1 }));
  assert.ok(same(NaN, NaN));
  assert.ok(!same({ a: 1 }, { b: 1 }));
});

test('a finding clicked repaints the list and the weights (their outline); a new layer or gate rebuilds the weights', () => {
  const prev = set(start(), (s) => toggleRunPatch(s, 'b/tensorboard', false));
  const highlight = { key: 'k', run: 'a/tensorboard', kind: 'dead_units', layer: 'lstm', gates: null, units: [1], step: 1 };
  const plan = planRender(prev, set(prev, (s) => findingPatch(s, highlight)));
  assert.deepEqual(actions(plan, { findings: 0, weights: 0, stepbar: 0, controls: 0 }),
    { findings: PAINT, weights: PAINT, stepbar: PAINT, controls: KEEP });
  const gated = planRender(prev, set(prev, (s) => findingPatch(s, { ...highlight, key: 'g', gates: ['output'] })));
  assert.equal(gated.weights, BUILD); // the compared gate changed to the finding's
  assert.equal(planRender(prev, set(prev, { findingsAll: true })).findings, PAINT);
});
