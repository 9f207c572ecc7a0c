// The units order (board/static/unit_order.js) and the activation panels drawn in it: each row of a
// panel shows the unit the logged order puts there (/units' orders at the shown step, fixtures.mjs'
// unitsAt), the hover names that unit, and as built stays the default and asks for nothing.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as activations from '../../src/lstm_experiments/board/static/activations.js';
import { normalize, runsPatch } from '../../src/lstm_experiments/board/static/state.js';
import {
  BUILT, axisText, orderOptions, permuteUnits, placeUnits,
} from '../../src/lstm_experiments/board/static/unit_order.js';
import { FakeElement, install, pixelAt } from './fake_dom.mjs';
import { FIGURES, activationsAt, fakeSource, lstmRun, unitsAt } from './fixtures.mjs';

install();

const stateOf = (runs, extra = {}) => normalize({ ...runsPatch({ runs }), width: 1600, height: 1000, ...extra });

function envOf(state, source) {
  const hovers = [];
  const patches = [];
  return { hovers, patches, setState: (patch) => patches.push(patch), getState: () => state, source: () => source,
    scrollTo: () => {}, hover: (target, describe) => hovers.push({ target, describe }) };
}

const all = (node, testid) => node.querySelectorAll(`[data-testid=${testid}]`);

test('the orders a layer logged, as built first; a logged order as the unit at each place', () => {
  assert.deepEqual(orderOptions({ unit_figures: { orders: ['built', 'saturation', 'activity', 'similarity'] } }),
    [['built', 'as built'], ['saturation', 'by saturation'], ['activity', 'by activity'], ['similarity', 'by similarity']]);
  assert.deepEqual(orderOptions({ unit_figures: { orders: ['activity'] } }), [['built', 'as built'], ['activity', 'by activity']]);
  assert.deepEqual(orderOptions({}), [['built', 'as built']]);
  const answer = { orders: { activity: [2, 0, 1], similarity: null } };
  assert.deepEqual(placeUnits(answer, 'activity', 3), [2, 0, 1]);
  assert.equal(placeUnits(answer, BUILT, 3), null);
  assert.equal(placeUnits(answer, 'similarity', 3), null); // not a permutation: the server sent null
  assert.equal(placeUnits(answer, 'activity', 2), null); // a units axis reduced block-wise
  assert.equal(placeUnits(null, 'activity', 3), null);
  // (time 2, units 3): each time step's units put in place order.
  assert.deepEqual([...permuteUnits(Float32Array.from([10, 11, 12, 20, 21, 22]), 2, 3, [2, 0, 1])], [12, 10, 11, 22, 20, 21]);
  const block = Float32Array.from([1, 2]);
  assert.equal(permuteUnits(block, 1, 2, null), block);
  assert.equal(axisText(32, 'activity'), 'units ↓ down (32, by activity)');
  assert.equal(axisText(32, BUILT), 'units ↓ down (32)');
});

/** A gate panel's colour channel G at (row, t) for value v on [0, 1]: 255 (1 - |2v - 1|), as colour.js maps it. */
const green = (v) => Uint8ClampedArray.from([255 * (1 - Math.abs(Math.max(-1, Math.min(1, (v - 0.5) / 0.5))))])[0];

test('an order puts each row\'s unit in its place on every activation panel, and the hover names the unit', () => {
  const run = lstmRun('a', { units: 4, steps: [0, 1, 2], figures: FIGURES });
  const state = stateOf([run], { follow: false, step: 1, unitOrder: 'activity' });
  const root = new FakeElement('div');
  const env = envOf(state, fakeSource([run]));
  const parts = activations.build(root, state, env);
  assert.equal(activations.paint(state, parts, env), true);
  const places = unitsAt(run, 1).orders.activity;
  assert.deepEqual(places, [2, 3, 0, 1]);
  const data = activationsAt(run, 1);
  const [, sequences, time, units] = data.shape;
  const panels = all(root, 'activation-panel');
  assert.equal(panels.length, 6);
  for (const canvas of panels) {
    assert.equal(canvas.dataset.order, 'activity');
    assert.equal(canvas.dataset.places, places.join(','));
  }
  const forget = panels.find((c) => c.dataset.panel === 'forget');
  for (let row = 0; row < units; row++) {
    for (let t = 0; t < time; t++) {
      const v = data.data[((1 * sequences + 0) * time + t) * units + places[row]];
      assert.equal(pixelAt(forget, row, t)[1], green(v), `row ${row} t ${t}`);
    }
  }
  const hover = env.hovers.find(({ target }) => target.canvas === forget);
  const { lines, data: said } = hover.describe({ col: 2, row: 0 });
  assert.equal(said.unit, places[0]);
  assert.equal(said.place, 0);
  assert.equal(Number(said.value), data.data[((1 * sequences) * time + 2) * units + places[0]]);
  assert.match(lines[2], /unit 2 · row 0 by activity/);
  assert.equal(all(root, 'unit-order-select')[0].value, 'activity');
  assert.match(root.textContent, /units ↓ down \(4, by activity\)/);
  // The select sets the page's order.
  all(root, 'unit-order-select')[0].fire('change', { target: { value: 'similarity' } });
  assert.deepEqual(env.patches, [{ unitOrder: 'similarity' }]);
});

test('as built (the default) draws the units in place and asks for no /units', () => {
  const run = lstmRun('a', { units: 4, steps: [0, 1], figures: FIGURES });
  const state = stateOf([run], { follow: false, step: 1 });
  assert.equal(state.unitOrder, BUILT);
  const root = new FakeElement('div');
  const source = fakeSource([run]);
  const asked = [];
  const units = source.units;
  source.units = (...args) => { asked.push(args); return units(...args); };
  const env = envOf(state, source);
  const parts = activations.build(root, state, env);
  assert.equal(activations.paint(state, parts, env), true);
  assert.ok(all(root, 'activation-panel').every((c) => c.dataset.order === BUILT && c.dataset.places === undefined));
  assert.equal(all(root, 'unit-order-note')[0].textContent, '');
  assert.deepEqual(asked, []);
});

test('an order not logged at the shown step leaves the axis as built and says why; one loading waits', () => {
  const run = lstmRun('a', { units: 4, steps: [0, 1], figures: FIGURES });
  const state = stateOf([run], { follow: false, step: 1, unitOrder: 'saturation' });
  const root = new FakeElement('div');
  let env = envOf(state, fakeSource([run], { unmeasured: [1] }));
  const parts = activations.build(root, state, env);
  assert.equal(activations.paint(state, parts, env), true);
  assert.ok(all(root, 'activation-panel').every((c) => c.dataset.order === BUILT && c.dataset.step === '1'));
  assert.equal(all(root, 'unit-order-note')[0].textContent, 'no saturation order at step 1: as built');
  env = envOf(state, fakeSource([run], { missing: [1] }));
  assert.equal(activations.paint(state, parts, env), false);
  // A layer without unit figures: no control, as built whatever the page's order.
  const bare = lstmRun('bare', { units: 4 });
  const bareState = stateOf([bare], { unitOrder: 'activity' });
  const bareRoot = new FakeElement('div');
  const bareEnv = envOf(bareState, fakeSource([bare]));
  const bareParts = activations.build(bareRoot, bareState, bareEnv);
  assert.equal(activations.paint(bareState, bareParts, bareEnv), true);
  assert.equal(all(bareRoot, 'unit-order-select').length, 0);
  assert.ok(all(bareRoot, 'activation-panel').every((c) => c.dataset.order === BUILT));
});
