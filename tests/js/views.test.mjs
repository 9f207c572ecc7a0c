// The views build and paint in node on a fake DOM (fake_dom.mjs) over made-up data (fixtures.mjs)
// in which every step and cell has its own value: each test reads back what a view painted (pixels,
// data-step, words) and fails when it shows the wrong step, the wrong cell or the wrong scale.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as activations from '../../src/lstm_experiments/board/static/activations.js';
import * as banner from '../../src/lstm_experiments/board/static/banner.js';
import * as controls from '../../src/lstm_experiments/board/static/controls.js';
import { formatValue } from '../../src/lstm_experiments/board/static/dom.js';
import * as runsStrip from '../../src/lstm_experiments/board/static/runs_strip.js';
import * as saturation from '../../src/lstm_experiments/board/static/saturation.js';
import { normalize, runsPatch } from '../../src/lstm_experiments/board/static/state.js';
import * as stepbar from '../../src/lstm_experiments/board/static/stepbar.js';
import * as weightsGrid from '../../src/lstm_experiments/board/static/weights_grid.js';
import { FakeElement, install, pixelAt } from './fake_dom.mjs';
import {
  GATES, activationsAt, fakeSource, lstmRun, positionsJson, saturationOf, weightValue, weightsAt,
} from './fixtures.mjs';

install();

/** The images' bwr map (viz/colour.py), written out again: value v on scale s. */
function expectedColour(v, s) {
  let t = v / s;
  if (Number.isNaN(t)) return [128, 128, 128];
  t = Math.max(-1, Math.min(1, t));
  const c = Uint8ClampedArray.from([t > 0 ? 255 : 255 * (1 + t), 255 * (1 - Math.abs(t)), t < 0 ? 255 : 255 * (1 - t)]);
  return [...c];
}

const stateOf = (runs, extra = {}) => normalize({ ...runsPatch({ runs }), width: 1600, height: 1000, ...extra });

function envOf(state, source) {
  const patches = [];
  return { patches, setState: (patch) => patches.push(patch), getState: () => state, source: () => source, hover: () => {}, scrollTo: () => {} };
}

const all = (node, testid) => node.querySelectorAll(`[data-testid=${testid}]`);
const panel = (node, matrix, gate) => all(node, 'panel').find((c) => c.dataset.matrix === matrix && c.dataset.gate === gate);

/** Every pixel of a gate's panel against the fused matrix `values` (rows x cols) on `scale`. */
function assertPanelShows(canvas, values, cols, gateIndex, scale) {
  const { rows } = { rows: Number(canvas.dataset.rows) };
  const units = Number(canvas.dataset.cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < units; c++) {
      const v = values(r * cols + gateIndex * units + c);
      assert.deepEqual(pixelAt(canvas, r, c), expectedColour(v, scale), `${canvas.dataset.matrix} ${canvas.dataset.gate} (${r}, ${c})`);
    }
  }
}

test('the grid paints every gate of every matrix at the slider\'s step, on the run\'s fixed scale', () => {
  const run = lstmRun('a', { units: 4, features: 2, steps: [0, 1, 2] });
  const state = stateOf([run], { follow: false, step: 1 });
  const root = new FakeElement('div');
  const source = fakeSource([run]);
  const env = envOf(state, source);
  const parts = weightsGrid.build(root, state, env);
  assert.equal(weightsGrid.paint(state, parts, env), true);
  for (const info of run.layers[0].matrices) {
    const cols = info.logged_shape[1];
    GATES.forEach((gate, g) => {
      const canvas = panel(root, info.matrix, gate);
      assert.equal(canvas.dataset.step, '1');
      assertPanelShows(canvas, (i) => weightValue(1, i), cols, g, info.scale);
    });
    const legend = all(root, 'legend').find((l) => l.dataset.matrix === info.matrix);
    assert.equal(Number(legend.dataset.scale), info.scale);
  }
});

test('the grid\'s change view: W_t - W_0 on this step\'s largest change, or the run\'s over every step', () => {
  const run = lstmRun('a', { steps: [0, 1, 2] });
  const root = new FakeElement('div');
  const step = 1;
  const change = (s) => (i) => weightValue(s, i) - weightValue(0, i);
  const largest = (s) => Math.max(...Array.from(weightsAt(run, 'recurrent_kernel', s).data, (v, i) => Math.abs(v - weightsAt(run, 'recurrent_kernel', 0).data[i])));
  let state = stateOf([run], { follow: false, step, view: 'change' });
  const env = envOf(state, fakeSource([run]));
  const parts = weightsGrid.build(root, state, env);
  weightsGrid.paint(state, parts, env);
  const canvas = panel(root, 'recurrent_kernel', 'forget');
  const legend = () => all(root, 'legend').find((l) => l.dataset.matrix === 'recurrent_kernel');
  assert.equal(Number(legend().dataset.scale), largest(step));
  assertPanelShows(canvas, change(step), 16, 1, largest(step));
  assert.equal(canvas.dataset.view, 'change');

  state = stateOf([run], { follow: false, step, view: 'change', changeScale: 'run' });
  weightsGrid.paint(state, parts, envOf(state, fakeSource([run])));
  const runScale = Math.max(largest(1), largest(2));
  assert.ok(runScale > largest(step));
  assert.equal(Number(legend().dataset.scale), runScale);
  assert.equal(legend().dataset.covered, '3');
  assertPanelShows(canvas, change(step), 16, 1, runScale);

  // Until every step is loaded the run's scale is over the steps there, and says so.
  weightsGrid.paint(state, parts, envOf(state, fakeSource([run], { missing: [2] })));
  assert.equal(Number(legend().dataset.scale), largest(1));
  assert.match(legend().textContent, /over 2 of 3 steps loaded/);
});

test('a panel waits for its step\'s data: pending, and the page is not complete', () => {
  const run = lstmRun('a', { steps: [0, 1, 2] });
  const state = stateOf([run], { follow: false, step: 2 });
  const root = new FakeElement('div');
  const env = envOf(state, fakeSource([run], { missing: [2] }));
  const parts = weightsGrid.build(root, state, env);
  assert.equal(weightsGrid.paint(state, parts, env), false);
  assert.equal(panel(root, 'kernel', 'input').dataset.pending, 'true');
  assert.equal(panel(root, 'kernel', 'input').dataset.step, undefined);
});

test('each panel is labelled with its own shape, and small sides are drawn big enough to hover', () => {
  const run = lstmRun('a', { units: 32, features: 2 });
  const state = stateOf([run]);
  const root = new FakeElement('div');
  weightsGrid.build(root, state, envOf(state, fakeSource([run])));
  const shapes = Object.fromEntries(all(root, 'panel-shape').filter((s) => s.dataset.gate === 'forget').map((s) => [s.dataset.matrix, s.textContent]));
  assert.deepEqual(shapes, { kernel: '2 × 32', recurrent_kernel: '32 × 32', bias: '1 × 32' });
  const height = (matrix) => parseFloat(panel(root, matrix, 'forget').style.height);
  assert.ok(height('kernel') >= 32, height('kernel'));
  assert.ok(height('bias') >= 16, height('bias'));
  assert.equal(height('recurrent_kernel') / 32, parseFloat(panel(root, 'recurrent_kernel', 'forget').style.width) / 32);
});

test('runs side by side: each at its own latest step, at the same pixels per weight', () => {
  const a = lstmRun('a', { units: 4, steps: [0, 2, 4] });
  const b = lstmRun('b', { units: 8, steps: [0, 1, 2, 3] });
  const state = stateOf([a, b], { follow: false, step: 3 });
  const root = new FakeElement('div');
  const env = envOf(state, fakeSource([a, b]));
  const parts = runsStrip.build(root, state, env);
  assert.equal(runsStrip.paint(state, parts, env), true);
  const [left, right] = all(root, 'panel');
  assert.deepEqual([left.dataset.step, right.dataset.step], ['2', '3']);
  const shared = Math.max(a.layers[0].matrices[1].scale, b.layers[0].matrices[1].scale);
  assertPanelShows(left, (i) => weightValue(2, i), 16, 1, shared);
  assertPanelShows(right, (i) => weightValue(3, i), 32, 1, shared);
  assert.equal(parseFloat(right.style.width), 2 * parseFloat(left.style.width));
  assert.match(all(root, 'run-card')[0].textContent, /showing step 2/);
});

test('activations: the step\'s values of the chosen probe sequence, time across and units down', () => {
  const run = lstmRun('a', { units: 3, steps: [0, 1, 2], time: 5, sequences: 2 });
  const state = stateOf([run], { follow: false, step: 1, sequence: 1 });
  const root = new FakeElement('div');
  const env = envOf(state, fakeSource([run]));
  const parts = activations.build(root, state, env);
  assert.equal(activations.paint(state, parts, env), true);
  const data = activationsAt(run, 1);
  const [, sequences, time, units] = data.shape;
  for (const [index, name] of data.panels.entries()) {
    const canvas = all(root, 'activation-panel').find((c) => c.dataset.panel === name);
    assert.equal(canvas.dataset.step, '1');
    if (name === 'cell_state' || name === 'hidden') continue; // on their own step's scale
    const [offset, divide] = name === 'cell' ? [0, 1] : [0.5, 0.5];
    for (let t = 0; t < time; t++) {
      for (let u = 0; u < units; u++) {
        const v = data.data[((index * sequences + 1) * time + t) * units + u];
        assert.deepEqual(pixelAt(canvas, u, t), expectedColour(v - offset, divide), `${name} t=${t} unit=${u}`);
      }
    }
  }
  const inputs = all(root, 'input-panel');
  assert.equal(inputs.length, 6);
  assert.ok(inputs.every((c) => c.dataset.step === '1' && c.dataset.sequence === '1'));
});

test('saturation: each gate\'s curve with the shown step marked and its values said', () => {
  const run = lstmRun('a', { steps: [0, 1, 2] });
  const state = stateOf([run], { follow: false, step: 1 });
  const root = new FakeElement('div');
  const parts = saturation.build(root, state);
  assert.equal(saturation.paint(state, parts, envOf(state, fakeSource([run]))), true);
  const curves = saturationOf(run).gates;
  for (const [g, gate] of GATES.entries()) {
    const chart = all(root, 'saturation-panel').find((c) => c.dataset.gate === gate);
    assert.equal(chart.dataset.step, '1');
    const text = all(root, 'saturation-text')[g].textContent;
    assert.equal(text, `step 1: ${formatValue(curves[gate].low[1][1] + curves[gate].high[1][1])} saturated`);
  }
  assert.ok(parseFloat(all(root, 'saturation-panel')[0].style.height) >= 100); // readable
});

test('the step bar: the slider and the label at the state\'s step', () => {
  const run = lstmRun('a', { steps: [0, 1, 2] });
  const state = stateOf([run], { follow: false, step: 1 });
  const root = new FakeElement('div');
  const parts = stepbar.build(root, state, envOf(state, null));
  stepbar.paint(state, parts);
  assert.equal(parts.slider.value, '1');
  assert.equal(parts.label.dataset.step, '1');
  assert.equal(parts.label.textContent, '1 / 2 · after epoch 1');
  assert.equal(parts.follow.checked, false);
});

// A run logged every 2 batches (5 a epoch) whose loss became inf in batch 4 of epoch 2 (step 9).
const FAILURE = { step: 9, epoch: 2, batch: 4, last_finite: 8 };
const failingRun = () => lstmRun('lr=20', { steps: [0, 2, 4, 6, 8, 9], extra: { positions: true, by_batch: true, failure: FAILURE } });

test('the step bar of a run logged by batch says the epoch and batch, and marks a failing run\'s steps', () => {
  const run = failingRun();
  const state = stateOf([run], { follow: false, step: 6 });
  const root = new FakeElement('div');
  const loaded = fakeSource([run], { positions: { [run.run]: positionsJson(run, { failAt: 9 }) } });
  const parts = stepbar.build(root, state, envOf(state, loaded));
  assert.equal(stepbar.paint(state, parts, envOf(state, loaded)), true);
  assert.equal(parts.label.textContent, 'step 6 · epoch 2, batch 1');
  const marks = all(root, 'step-mark');
  assert.deepEqual(marks.map((m) => [m.dataset.kind, m.dataset.step]), [['last_finite', '8'], ['non_finite', '9']]);
  assert.match(marks[0].style.left, /\* 0\.888/); // 8 of 0..9 along the slider
  const failing = stateOf([run], { follow: false, step: 9 });
  stepbar.paint(failing, parts, envOf(failing, loaded));
  assert.equal(parts.label.textContent, 'step 9 · epoch 2, batch 4 · loss became inf');
  // Until its positions are there, the label says the step only and the page is not complete.
  const loading = fakeSource([run]);
  assert.equal(stepbar.paint(state, parts, envOf(state, loading)), false);
  assert.equal(parts.label.textContent, 'step 6');
  // A run without a failure: no marks.
  const fine = lstmRun('ok', { steps: [0, 2, 4], extra: { positions: true, by_batch: true, failure: null } });
  const fineState = stateOf([fine], { follow: false, step: 2 });
  stepbar.paint(fineState, parts, envOf(fineState, fakeSource([fine], { positions: { [fine.run]: positionsJson(fine) } })));
  assert.equal(all(root, 'step-mark').length, 0);
  assert.equal(parts.label.textContent, 'step 2 · epoch 1, batch 2');
});

test('a failing run: the banner line\'s buttons go to its steps, and the failing weights are grey with the legend saying so', () => {
  const run = failingRun();
  const state = stateOf([run], { follow: false, step: 9 });
  const source = fakeSource([run], { positions: { [run.run]: positionsJson(run, { failAt: 9 }) }, nanStep: 9 });
  const env = envOf(state, source);
  const root = new FakeElement('div');
  const parts = banner.build(root, state, env);
  assert.equal(banner.paint(state, parts, env), true);
  const [line] = all(root, 'failure-line');
  assert.match(line.textContent, /^loss became inf at step 9 \(epoch 2, batch 4\); step 8 holds the last finite weights/);
  all(root, 'jump-last-finite')[0].fire('click');
  all(root, 'jump-failing')[0].fire('click');
  assert.deepEqual(env.patches.map((patch) => patch(state).step), [8, 9]);

  const grid = new FakeElement('div');
  const gridParts = weightsGrid.build(grid, state, env);
  assert.equal(weightsGrid.paint(state, gridParts, env), true);
  const canvas = panel(grid, 'recurrent_kernel', 'forget');
  const shown = weightsAt(run, 'recurrent_kernel', 9, 9);
  assertPanelShows(canvas, (i) => shown.data[i], 16, 1, run.layers[0].matrices[1].scale);
  assert.deepEqual(pixelAt(canvas, 0, 2), [128, 128, 128]); // index 6: NaN
  assert.equal(canvas.dataset.nonFinite, String(shown.nonFinite[1]));
  const legend = all(grid, 'legend').find((l) => l.dataset.matrix === 'recurrent_kernel');
  const note = all(legend, 'legend-non-finite')[0];
  assert.equal(note.hidden, false);
  const total = shown.nonFinite.reduce((a, b) => a + b);
  assert.match(note.textContent, new RegExp(`grey: NaN or ±inf \\(${total} values\\)`));
  // At the last finite step the note is gone.
  const before = stateOf([run], { follow: false, step: 8 });
  weightsGrid.paint(before, gridParts, envOf(before, source));
  assert.equal(note.hidden, true);
});

test('the toolbar: a box per run in natural order, all and none, the change scale only for the change', () => {
  const runs = ['units=128', 'units=32', 'units=64'].map((name) => lstmRun(name));
  const state = stateOf(runs);
  const root = new FakeElement('div');
  const env = envOf(state, null);
  const parts = controls.build(root, state, env);
  controls.paint(state, parts);
  assert.deepEqual(all(root, 'run-label').map((l) => l.textContent), ['units=32', 'units=64', 'units=128']);
  assert.ok(parts.boxes.every((box) => box.checked));
  assert.equal(all(root, 'change-scale')[0].hidden, true);
  all(root, 'runs-none')[0].fire('click');
  all(root, 'runs-all')[0].fire('click');
  const [none, every] = env.patches.map((patch) => patch(state));
  assert.deepEqual(none.selected, []);
  assert.equal(every.selected.length, 3);
  controls.paint({ ...state, view: 'change' }, parts);
  assert.equal(all(root, 'change-scale')[0].hidden, false);
});
