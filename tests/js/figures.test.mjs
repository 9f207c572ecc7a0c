// The figures under the activations (issue 22) and the axes issue item 4 asks for, in node on the fake DOM:
// plot.js' scales and decades; the gradient-through-time chart and the unit saturation scatter, whose
// dots are read back where the plot put them (the canvas' calls) against the made-up /through_time and
// /units answers (fixtures.mjs), and whose hover reads back the values; the saturation charts as one
// figure (low + high) with the parts on hover; the input lines' value ticks.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  describeThroughTime, describeUnit,
} from '../../src/lstm_experiments/board/static/describe.js';
import { formatScale } from '../../src/lstm_experiments/board/static/dom.js';
import { valueRange } from '../../src/lstm_experiments/board/static/input_data.js';
import {
  decadeRange, decadeTicks, linearScale, logScale, nearestIndex, pointsNear, powerText,
} from '../../src/lstm_experiments/board/static/plot.js';
import * as activations from '../../src/lstm_experiments/board/static/activations.js';
import * as saturation from '../../src/lstm_experiments/board/static/saturation.js';
import { normalize, runsPatch } from '../../src/lstm_experiments/board/static/state.js';
import * as throughTime from '../../src/lstm_experiments/board/static/through_time_chart.js';
import * as unitScatter from '../../src/lstm_experiments/board/static/unit_scatter.js';
import { FakeElement, install } from './fake_dom.mjs';
import {
  FIGURES, GATES, fakeSource, inputAt, lstmRun, saturationOf, throughTimeAt, unitsAt,
} from './fixtures.mjs';

install();

const stateOf = (runs, extra = {}) => normalize({ ...runsPatch({ runs }), width: 1600, height: 1000, ...extra });

function envOf(state, source) {
  const hovers = [];
  return { hovers, setState: () => {}, getState: () => state, source: () => source, scrollTo: () => {},
    hover: (target, describe) => hovers.push({ target, describe }) };
}

const all = (node, testid) => node.querySelectorAll(`[data-testid=${testid}]`);
const plotArea = (canvas) => {
  const [left, top, width, height] = canvas.dataset.plot.split(',').map(Number);
  return { left, top, width, height };
};
/** The dots a canvas drew: [[x, y, fillStyle]]. */
const dotsOf = (canvas) => canvas.context.calls.filter(([name]) => name === 'arc').map(([, x, y, , , , colour]) => [x, y, colour]);
const close = (a, b) => Math.abs(a - b) < 1e-9;

// ------------------------------------------------------------------ plot.js

test('scales map data into the plot area and back; log scales by decades', () => {
  const x = linearScale(0, 5, 40, 340);
  assert.equal(x(0), 40);
  assert.equal(x(5), 340);
  assert.equal(x.invert(190), 2.5);
  assert.equal(linearScale(3, 3, 0, 10)(3), 5); // one value: the middle
  const y = logScale(-6, 0, 150, 0); // 1e-6 at the bottom (150 px), 1 at the top
  assert.equal(y(1), 0);
  assert.equal(y(1e-6), 150);
  assert.equal(y(1e-3), 75);
  assert.ok(Number.isNaN(y(0)) && Number.isNaN(y(-1)) && Number.isNaN(y(NaN)) && Number.isNaN(y(Infinity)));
  assert.ok(close(y.invert(75), 1e-3));
});

test('decades: whole powers of ten around the positive finite values, at least one; ticks thinned past seven', () => {
  assert.deepEqual(decadeRange([3e-5, 0.2, null, NaN, 0, -1, Infinity]), { lo: -5, hi: 0 });
  assert.deepEqual(decadeRange([0.5, 0.7]), { lo: -1, hi: 0 });
  assert.deepEqual(decadeRange([1]), { lo: 0, hi: 1 });
  assert.equal(decadeRange([0, NaN, null]), null);
  assert.deepEqual(decadeTicks({ lo: -5, hi: 0 }), [-5, -4, -3, -2, -1, 0]);
  const wide = decadeTicks({ lo: -15, hi: 0 });
  assert.ok(wide.length <= 7 && wide.at(-1) === 0 && wide.every((e, i) => i === 0 || e - wide[i - 1] === 3), wide);
  assert.deepEqual([-5, -1, 0, 1, 3].map(powerText), ['1e-5', '0.1', '1', '10', '1e+3']);
});

test('the nearest time step, and the dots under the mouse nearest first', () => {
  assert.equal(nearestIndex([0, 10, 20], 14), 1);
  assert.equal(nearestIndex([], 3), -1);
  const dots = [{ x: 0, y: 0 }, null, { x: 4, y: 0 }, { x: 1, y: 1 }];
  assert.deepEqual(pointsNear(dots, 1, 0, 2.5), [0, 3]);
  assert.deepEqual(pointsNear(dots, 1, 0, 3), [0, 3, 2]);
  assert.deepEqual(pointsNear(dots, 50, 50, 3), []);
});

// ------------------------------------------------------------------ the gradient through time

const withFigures = (name, options = {}) => lstmRun(name, { figures: FIGURES, ...options });

/** Where a chart puts norm v of time step t, from its own plot area and decades. */
function expectedPoint(canvas, time, t, v) {
  const { left, top, width, height } = plotArea(canvas);
  const [lo, hi] = canvas.dataset.decades.split(',').map(Number);
  return [left + (t / (time - 1)) * width, top + height - ((Math.log10(v) - lo) / (hi - lo)) * height];
}

test('through time: a chart per run that measured it, each state\'s norms at its step on decades the runs share', () => {
  const a = withFigures('a', { steps: [0, 1, 2] });
  const b = withFigures('b', { steps: [0, 1] });
  const bare = lstmRun('bare');
  const state = stateOf([a, b, bare], { follow: false, step: 2 });
  const root = new FakeElement('div');
  const env = envOf(state, fakeSource([a, b, bare]));
  const parts = throughTime.build(root, state, env);
  assert.equal(throughTime.paint(state, parts, env), true);
  const charts = all(root, 'through-time-chart');
  assert.deepEqual(charts.map((c) => [c.dataset.run, c.dataset.step, c.dataset.states]),
    [['a/tensorboard', '2', 'h,c'], ['b/tensorboard', '1', 'h,c']]); // b at its latest step before 2; bare has none
  // Shared decades: from a's smallest (step 2: 10^-7) to b's largest (step 1, c at the last t: 10^-1).
  assert.deepEqual(charts.map((c) => c.dataset.decades), ['-7,-1', '-7,-1']);
  for (const [canvas, run, step] of [[charts[0], a, 2], [charts[1], b, 1]]) {
    const answer = throughTimeAt(run, step);
    const expected = answer.states.flatMap((s) => answer.norms[s].map((v, t) => (v === null ? null : expectedPoint(canvas, answer.time, t, v))))
      .filter(Boolean);
    const drawn = dotsOf(canvas).map(([x, y]) => [x, y]);
    assert.equal(drawn.length, expected.length);
    drawn.forEach(([x, y], i) => assert.ok(close(x, expected[i][0]) && close(y, expected[i][1]), `${run.run} dot ${i}`));
    assert.equal(new Set(dotsOf(canvas).map(([, , colour]) => colour)).size, 2); // h and c apart
  }
  const texts = all(root, 'through-time-text').map((t) => t.textContent);
  assert.equal(texts[1], 'step 1 · t=0 / t=4: h 1.0e-4 · c 1.0e-4');
  assert.equal(throughTime.ratioText(0.47), '0.47');
  assert.equal(throughTime.ratioText(NaN), 'NaN');
});

test('through time: the hover reads back t and each state\'s norm (null as NaN)', () => {
  const a = withFigures('a', { steps: [0, 1, 2] });
  const state = stateOf([a], { follow: false, step: 2 });
  const root = new FakeElement('div');
  const env = envOf(state, fakeSource([a]));
  const parts = throughTime.build(root, state, env);
  throughTime.paint(state, parts, env);
  const [{ target, describe }] = env.hovers;
  const canvas = target.canvas;
  const answer = throughTimeAt(a, 2);
  for (const t of [0, 1, 4]) {
    const [x] = expectedPoint(canvas, answer.time, t, answer.norms.c[t]);
    const cell = target.cellAt({ clientX: x + 3, clientY: plotArea(canvas).top + 5 });
    assert.deepEqual(cell, { col: t, row: 0 });
    const { lines, data } = describe(cell);
    assert.equal(data.time, t);
    assert.equal(data.step, 2);
    assert.equal(Number(data.c), answer.norms.c[t]);
    assert.equal(data.h, String(answer.norms.h[t] ?? NaN));
    assert.match(lines[2], new RegExp(`t = ${t} \\(of 0–4\\)`));
  }
  assert.match(describe({ col: 1, row: 0 }).lines[3], /‖∂L\/∂h_t‖ NaN or ±inf/);
  assert.equal(target.cellAt({ clientX: 1, clientY: -20 }), null); // outside the plot area
  assert.equal(describeThroughTime({ run: a, layer: a.layers[0], step: 2, answer }, 9), null);
});

test('through time: a step where it was not measured says so and counts as shown; one still loading does not', () => {
  const a = withFigures('a', { steps: [0, 1, 2] });
  const state = stateOf([a], { follow: false, step: 1 });
  const root = new FakeElement('div');
  let env = envOf(state, fakeSource([a], { unmeasured: [1] }));
  const parts = throughTime.build(root, state, env);
  assert.equal(throughTime.paint(state, parts, env), true);
  const [canvas] = all(root, 'through-time-chart');
  assert.equal(canvas.dataset.step, '1');
  assert.match(canvas.dataset.error, /404/);
  assert.equal(all(root, 'through-time-text')[0].textContent, 'not measured at step 1');
  assert.equal(env.hovers[0].target.cellAt({ clientX: 100, clientY: 50 }), null);
  env = envOf(state, fakeSource([a], { missing: [1] }));
  assert.equal(throughTime.paint(state, parts, env), false);
  assert.equal(canvas.dataset.pending, 'true');
});

// ------------------------------------------------------------------ the unit saturation scatter

test('scatter: a dot per unit at (left, right) of each gate, the clicked finding\'s units orange', () => {
  const a = withFigures('a', { units: 5, steps: [0, 1, 2] });
  const highlight = { key: 'k', run: 'a/tensorboard', kind: 'dead_units', layer: 'lstm', gates: null, units: [1, 3], step: 1 };
  const state = stateOf([a, lstmRun('bare')], { follow: false, step: 1, highlight });
  const root = new FakeElement('div');
  const env = envOf(state, fakeSource([a]));
  const parts = unitScatter.build(root, state, env);
  assert.equal(unitScatter.paint(state, parts, env), true);
  const scatters = all(root, 'unit-scatter');
  assert.deepEqual(scatters.map((s) => s.dataset.gate), GATES);
  const answer = unitsAt(a, 1);
  for (const canvas of scatters) {
    assert.equal(canvas.dataset.step, '1');
    assert.equal(canvas.dataset.highlight, '1,3');
    const { left, top, width, height } = plotArea(canvas);
    const { left: xs, right: ys } = answer.saturation[canvas.dataset.gate];
    const want = xs.map((x, u) => [left + x * width, top + height - ys[u] * height, [1, 3].includes(u)]);
    const drawn = dotsOf(canvas);
    assert.equal(drawn.length, 5);
    for (const [x, y, marked] of want) {
      const dot = drawn.find(([dx, dy]) => close(dx, x) && close(dy, y));
      assert.ok(dot, `${canvas.dataset.gate}: no dot at ${x}, ${y}`);
      assert.equal(dot[2] === unitScatter.HIGHLIGHT_COLOUR, marked);
    }
  }
});

test('scatter: the hover reads back the unit and its fractions, and names the others under the mouse', () => {
  const a = withFigures('a', { units: 4, steps: [0, 1] });
  const state = stateOf([a], { follow: false, step: 1 });
  const root = new FakeElement('div');
  const env = envOf(state, fakeSource([a]));
  const parts = unitScatter.build(root, state, env);
  unitScatter.paint(state, parts, env);
  const answer = unitsAt(a, 1);
  const forget = env.hovers.find(({ target }) => target.canvas.dataset.gate === 'forget');
  const { left, top, width, height } = plotArea(forget.target.canvas);
  for (let unit = 0; unit < 4; unit++) {
    const x = left + answer.saturation.forget.left[unit] * width;
    const y = top + height - answer.saturation.forget.right[unit] * height;
    const cell = forget.target.cellAt({ clientX: x + 1, clientY: y - 1 });
    const { lines, data } = forget.describe(cell);
    assert.equal(data.unit, unit);
    assert.equal(Number(data.left), answer.saturation.forget.left[unit]);
    assert.equal(Number(data.right), answer.saturation.forget.right[unit]);
    assert.equal(data.gate, 'forget');
    assert.match(lines[2], new RegExp(`^unit ${unit}: left `));
  }
  assert.equal(forget.target.cellAt({ clientX: left + width, clientY: top }), null); // no unit at (1, 1)
  // Two units on one spot: the nearest described, the other named.
  const twin = { ...answer, saturation: { forget: { left: [0.2, 0.2], right: [0.3, 0.3] } } };
  const described = describeUnit({ run: a, layer: a.layers[0], gate: 'forget', step: 1, answer: twin, units: [1, 0] });
  assert.equal(described.data.units, '1,0');
  assert.equal(described.lines.at(-1), 'also here: 0');
});

test('scatter: a step without unit figures says so; a layer without them has no scatter', () => {
  const a = withFigures('a', { steps: [0, 1] });
  const state = stateOf([a], { follow: false, step: 0 });
  const root = new FakeElement('div');
  const env = envOf(state, fakeSource([a], { unmeasured: [0] }));
  const parts = unitScatter.build(root, state, env);
  assert.equal(unitScatter.paint(state, parts, env), true);
  assert.ok(all(root, 'unit-scatter').every((c) => c.dataset.step === '0' && /404/.test(c.dataset.error)));
  const bare = stateOf([lstmRun('bare')]);
  const empty = new FakeElement('div');
  assert.deepEqual(unitScatter.build(empty, bare, envOf(bare, null)), { scatters: [] });
  assert.equal(empty.children.length, 0);
});

// ------------------------------------------------------------------ saturation as one figure; the input's axis

test('saturation: one curve of low + high; the hover gives the step\'s total and its two parts', () => {
  const run = lstmRun('a', { steps: [0, 1, 2] });
  const state = stateOf([run], { follow: false, step: 2 });
  const root = new FakeElement('div');
  const env = envOf(state, fakeSource([run]));
  const parts = saturation.build(root, state, env);
  assert.equal(saturation.paint(state, parts, env), true);
  const curves = saturationOf(run).gates.forget;
  assert.deepEqual(saturation.totalCurve(curves), curves.low.map(([s, low], i) => [s, low + curves.high[i][1]]));
  const forget = env.hovers.find(({ target }) => target.canvas.dataset.gate === 'forget');
  const chart = forget.target.canvas;
  // The step under the mouse: x of step 1 on a chart of steps 0..2 (its pad 4 px either side).
  const width = parseFloat(chart.style.width);
  const cell = forget.target.cellAt({ clientX: 4 + (width - 8) / 2 + 2, clientY: 10 });
  assert.deepEqual(cell, { col: 1, row: 0 });
  const { lines, data } = forget.describe(cell);
  assert.equal(data.step, 1);
  assert.equal(Number(data.low), curves.low[1][1]);
  assert.equal(Number(data.high), curves.high[1][1]);
  assert.equal(Number(data.value), curves.low[1][1] + curves.high[1][1]);
  assert.match(lines[3], /^under 0\.1: .* · over 0\.9: /);
  const cellHover = env.hovers.find(({ target }) => target.canvas.dataset.gate === 'cell').describe(cell);
  assert.match(cellHover.lines[3], /^under −0\.8: .* · over 0\.8: /); // the candidate's thresholds
  assert.deepEqual(saturation.partsAt(curves, 5), { step: 2, low: curves.low[2][1], high: curves.high[2][1] });
  assert.equal(saturation.partsAt({ low: [], high: [] }, 1), null);
});

test('the input\'s lines get the step\'s value range as their axis, its min and max written on it', () => {
  assert.deepEqual(valueRange(Float32Array.from([0.5, NaN, -2, 3])), { min: -2, max: 3 });
  assert.deepEqual(valueRange(Float32Array.from([4, 4])), { min: 3, max: 5 });
  assert.deepEqual(valueRange(Float32Array.from([NaN])), { min: -1, max: 1 });
  const run = lstmRun('a', { steps: [0, 1, 2] });
  const state = stateOf([run], { follow: false, step: 1 });
  const root = new FakeElement('div');
  const env = envOf(state, fakeSource([run]));
  const parts = activations.build(root, state, env);
  assert.equal(activations.paint(state, parts, env), true);
  const input = inputAt(run, 1);
  const { min, max } = valueRange(input.data);
  for (const canvas of all(root, 'input-panel')) {
    assert.deepEqual([Number(canvas.dataset.min), Number(canvas.dataset.max)], [min, max]);
    const labels = canvas.context.calls.filter(([name]) => name === 'fillText').map(([, text]) => text);
    assert.deepEqual(labels, [formatScale(max), formatScale(min)]); // three significant digits
  }
});
