// The units order (board/static/unit_order.js) and the activation and weight panels drawn in it: each
// row of an activation panel, each column of a gate's weights and each row of its recurrent kernel shows
// the unit the logged order puts there (/units' orders at the shown step, fixtures.mjs' unitsAt), the
// hover names that unit, a block-reduced matrix stays as built and says so, and as built stays the
// default and asks for nothing.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as activations from '../../src/lstm_experiments/board/static/activations.js';
import { bwr } from '../../src/lstm_experiments/board/static/colour.js';
import * as runsStrip from '../../src/lstm_experiments/board/static/runs_strip.js';
import * as weightsGrid from '../../src/lstm_experiments/board/static/weights_grid.js';
import { normalize, runsPatch } from '../../src/lstm_experiments/board/static/state.js';
import {
  BUILT, axisText, builtCell, gatherBlock, orderOptions, permuteUnits, placeUnits, placesOfUnits, weightPlaces, weightsNote,
} from '../../src/lstm_experiments/board/static/unit_order.js';
import { FakeElement, install, pixelAt } from './fake_dom.mjs';
import { FIGURES, GATES, activationsAt, fakeSource, lstmRun, unitsAt, weightsAt } from './fixtures.mjs';

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

test('a weight panel\'s places: a gate\'s columns are its units, the recurrent kernel\'s rows too; reduced stays as built', () => {
  const matrix = (name, shape, extra = {}) => ({ matrix: name, shape, logged_shape: shape.length === 1 ? [1, shape[0]] : shape, reduced: false, ...extra });
  const places = [2, 0, 1];
  assert.deepEqual(weightPlaces(matrix('recurrent_kernel', [3, 12]), 4, 3, places), { rows: places, cols: places });
  assert.deepEqual(weightPlaces(matrix('kernel', [3, 12]), 4, 3, places), { rows: null, cols: places }); // rows: the inputs
  assert.deepEqual(weightPlaces(matrix('bias', [12]), 4, 3, places), { rows: null, cols: places });
  assert.deepEqual(weightPlaces(matrix('recurrent_bias', [2, 9]), 3, 3, places), { rows: null, cols: places }); // a GRU's two biases
  assert.deepEqual(weightPlaces(matrix('recurrent_kernel', [3, 12], { reduced: true, logged_shape: [3, 12] }), 4, 3, places),
    { rows: null, cols: null });
  assert.deepEqual(weightPlaces(matrix('recurrent_kernel', [3, 12]), 4, 3, null), { rows: null, cols: null });
  // Gate 1 (columns 3-5) of a 3 x 12 matrix whose cell (r, c) holds 100 r + c, both axes moved.
  const src = Float32Array.from({ length: 36 }, (_, i) => 100 * Math.floor(i / 12) + (i % 12));
  assert.deepEqual([...gatherBlock(src, 12, 3, 3, 3, places, places)], [205, 203, 204, 5, 3, 4, 105, 103, 104]);
  assert.deepEqual([...gatherBlock(src, 12, 3, 3, 3, null, places)], [5, 3, 4, 105, 103, 104, 205, 203, 204]);
  assert.deepEqual([...gatherBlock(src, 12, 3, 1, 3, null, null)], [3, 4, 5]);
  assert.deepEqual(builtCell({ row: 0, col: 1 }, { rows: places, cols: places }), { row: 2, col: 0 });
  assert.deepEqual(builtCell({ row: 0, col: 1 }, { rows: null, cols: places }), { row: 0, col: 0 });
  assert.deepEqual(placesOfUnits([0, 2], places), [1, 0]);
  assert.deepEqual(placesOfUnits([0, 2], null), [0, 2]);
  const layer = { matrices: [matrix('kernel', [3, 12]), matrix('recurrent_kernel', [3, 12], { reduced: true })] };
  assert.equal(weightsNote(layer, 'activity'), 'recurrent kernel reduced block-wise: as built');
  assert.equal(weightsNote(layer, BUILT), '');
  assert.equal(weightsNote({ matrices: [matrix('kernel', [3, 12])] }, 'activity'), '');
});

/** A weight panel's pixel at (row, col) against value v of the fused matrix on `scale`. */
const weightPixel = (v, scale) => bwr(v, scale);

test('an order moves every gate\'s unit columns and the recurrent kernel\'s rows; the hover reads the unit\'s exact weight', () => {
  const run = lstmRun('a', { units: 4, features: 2, steps: [0, 1, 2], figures: FIGURES });
  const state = stateOf([run], { follow: false, step: 1, unitOrder: 'activity' });
  const root = new FakeElement('div');
  const env = envOf(state, fakeSource([run]));
  const parts = weightsGrid.build(root, state, env);
  assert.equal(weightsGrid.paint(state, parts, env), true);
  const places = unitsAt(run, 1).orders.activity;
  assert.deepEqual(places, [2, 3, 0, 1]);
  const units = 4;
  for (const info of run.layers[0].matrices) {
    const { shape: [rows, cols], data } = weightsAt(run, info.matrix, 1);
    GATES.forEach((gate, g) => {
      const canvas = all(root, 'panel').find((c) => c.dataset.matrix === info.matrix && c.dataset.gate === gate);
      assert.equal(canvas.dataset.order, 'activity');
      assert.equal(canvas.dataset.colPlaces, places.join(','));
      assert.equal(canvas.dataset.rowPlaces, info.matrix === 'recurrent_kernel' ? places.join(',') : undefined);
      for (let r = 0; r < rows; r++) {
        const row = info.matrix === 'recurrent_kernel' ? places[r] : r;
        for (let c = 0; c < units; c++) {
          assert.deepEqual(pixelAt(canvas, r, c), weightPixel(data[row * cols + g * units + places[c]], info.scale),
            `${info.matrix} ${gate} (${r}, ${c})`);
        }
      }
    });
  }
  const forget = all(root, 'panel').find((c) => c.dataset.matrix === 'recurrent_kernel' && c.dataset.gate === 'forget');
  const { lines, data: said } = env.hovers.find(({ target }) => target.canvas === forget).describe({ row: 0, col: 1 });
  assert.equal(said.row, places[0]);
  assert.equal(said.unit, places[1]);
  assert.deepEqual([said.placeRow, said.placeCol], [0, 1]);
  assert.equal(Number(said.value), weightsAt(run, 'recurrent_kernel', 1).data[places[0] * 16 + units + places[1]]);
  assert.match(lines[2], /^row 2: h unit 2 · unit 3 · at row 0, column 1 by activity$/);
  assert.equal(all(root, 'weights-order-note')[0].textContent, '');
  // The change view moves W_0 with W_t.
  const change = stateOf([run], { follow: false, step: 1, unitOrder: 'activity', view: 'change' });
  const changeEnv = envOf(change, fakeSource([run]));
  assert.equal(weightsGrid.paint(change, parts, changeEnv), true);
  const [now, start] = [weightsAt(run, 'recurrent_kernel', 1).data, weightsAt(run, 'recurrent_kernel', 0).data];
  const largest = Math.max(...Array.from(now, (v, i) => Math.abs(v - start[i])));
  const at = (r, c) => places[r] * 16 + units + places[c];
  assert.deepEqual(pixelAt(forget, 0, 1), weightPixel(now[at(0, 1)] - start[at(0, 1)], largest));
  // A finding's units are marked at their places.
  const highlight = { key: 'k', run: run.run, kind: 'dead_units', layer: 'lstm', gates: null, units: [2], step: 1 };
  weightsGrid.paint({ ...state, highlight }, parts, env);
  const marks = all(root, 'unit-marks').find((m) => m.dataset.matrix === 'recurrent_kernel' && m.dataset.gate === 'forget');
  assert.deepEqual(marks.children.map((m) => m.dataset.col), ['0']);
});

test('a block-reduced matrix stays as built in an order and says so; /units still loading waits; runs side by side follow', () => {
  const run = lstmRun('a', { units: 4, features: 2, steps: [0, 1, 2], figures: FIGURES });
  const recurrent = run.layers[0].matrices[1];
  Object.assign(recurrent, { reduced: true, block: 2, logged_shape: [2, 8] });
  const state = stateOf([run], { follow: false, step: 1, unitOrder: 'activity' });
  const root = new FakeElement('div');
  let env = envOf(state, fakeSource([run]));
  const parts = weightsGrid.build(root, state, env);
  assert.equal(weightsGrid.paint(state, parts, env), true);
  const byMatrix = (matrix) => all(root, 'panel').filter((c) => c.dataset.matrix === matrix);
  assert.ok(byMatrix('recurrent_kernel').every((c) => c.dataset.order === BUILT && c.dataset.colPlaces === undefined));
  assert.ok(byMatrix('kernel').every((c) => c.dataset.order === 'activity'));
  assert.equal(all(root, 'weights-order-note')[0].textContent, 'recurrent kernel reduced block-wise: as built');
  // The activations' note says it too.
  const activationsRoot = new FakeElement('div');
  const activationsParts = activations.build(activationsRoot, state, env);
  assert.equal(activations.paint(state, activationsParts, env), true);
  assert.equal(all(activationsRoot, 'unit-order-note')[0].textContent, 'recurrent kernel reduced block-wise: as built');
  // /units at the step still loading: the weights wait.
  env = envOf(state, { ...fakeSource([run]), units: () => ({}) });
  assert.equal(weightsGrid.paint(state, parts, env), false);
  // /units not measured at the step: as built, said.
  env = envOf(state, fakeSource([run], { unmeasured: [1] }));
  assert.equal(weightsGrid.paint(state, parts, env), true);
  assert.ok(byMatrix('kernel').every((c) => c.dataset.order === BUILT));
  assert.equal(all(root, 'weights-order-note')[0].textContent, 'no activity order at step 1: as built; recurrent kernel reduced block-wise: as built');
  // Runs side by side: each run's panel in its own logged order at its step.
  const other = lstmRun('b', { units: 4, features: 2, steps: [0, 1, 2], figures: FIGURES });
  const strip = stateOf([run, other], { follow: false, step: 2, unitOrder: 'activity', matrix: 'recurrent_kernel', gate: 'forget' });
  const stripRoot = new FakeElement('div');
  const stripEnv = envOf(strip, fakeSource([run, other]));
  const stripParts = runsStrip.build(stripRoot, strip, stripEnv);
  assert.equal(runsStrip.paint(strip, stripParts, stripEnv), true);
  const [first, second] = all(stripRoot, 'panel');
  assert.equal(first.dataset.order, BUILT);
  assert.equal(second.dataset.rowPlaces, unitsAt(other, 2).orders.activity.join(','));
  assert.match(stripRoot.textContent, /recurrent kernel reduced block-wise: as built/);
});
