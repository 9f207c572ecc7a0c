// The text view (issue 23): text_layout.js (visible whitespace, wrapping, a unit's series, colours that
// decode back to values), unit_match.js (extremes, select and match on a planted unit) and text_view.js
// drawn on the fake DOM from a run whose probe holds tokens.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { planRender, PAINT } from '../../src/lstm_experiments/board/static/render_plan.js';
import { normalize, runsPatch, userStepPatch } from '../../src/lstm_experiments/board/static/state.js';
import {
  cellAtX, cellOffsets, charsPerLine, cssColour, holdsTokens, lineChunks, panelMap, probeTexts, tokenText, unitSeries, valueOfColour, visibleText,
} from '../../src/lstm_experiments/board/static/text_layout.js';
import { autoCount, contextOf, extremes, matchSelection, rankUnits } from '../../src/lstm_experiments/board/static/unit_match.js';
import * as textView from '../../src/lstm_experiments/board/static/text_view.js';
import { install, pixelAt } from './fake_dom.mjs';
import { activationsAt, lstmRun } from './fixtures.mjs';

install();

const TEXT = 'ab(c)\n a(b)';
const TOKENS = [...new Set(TEXT)].sort();
const PLANTED = 2; // the unit that is on at '(' alone
const UNITS = 4;

/** A probe of TEXT twice (2 sequences) and activations (6 panels) where unit PLANTED's h is 0.8 at '(' and 0 elsewhere. */
function planted() {
  const time = TEXT.length;
  const ids = [...TEXT, ...TEXT].map((ch) => TOKENS.indexOf(ch));
  const probe = { shape: [2, time], data: Float32Array.from(ids), tokens: TOKENS, encoding: 'ids' };
  const shape = [6, 2, time, UNITS];
  const data = new Float32Array(shape.reduce((a, b) => a * b));
  for (let p = 0; p < 6; p++) for (let q = 0; q < 2; q++) for (let t = 0; t < time; t++) for (let u = 0; u < UNITS; u++) {
    const k = ((p * 2 + q) * time + t) * UNITS + u;
    data[k] = u === PLANTED ? (TEXT[t] === '(' ? 0.8 : 0) : Math.sin(k) * 0.1;
  }
  return { probe, activations: { shape, data } };
}

test('whitespace and control characters are visible; a missing token and an id without a vocabulary are marked', () => {
  assert.equal(visibleText(' \n\t\r'), '␣↵⇥␍');
  assert.equal(visibleText('\u0001x'), '\u2401x');
  assert.equal(visibleText(''), '∅');
  assert.equal(tokenText(['a'], -1), '·');
  assert.equal(tokenText(null, 7), '⟨7⟩');
  const { probe } = planted();
  assert.equal(probeTexts(probe)[1].join(''), 'ab(c)↵␣a(b)');
  assert.ok(holdsTokens({ encoding: 'ids' }) && holdsTokens({ encoding: 'one_hot' }));
  assert.ok(!holdsTokens({ encoding: 'features' }) && !holdsTokens({}) && !holdsTokens(null));
});

test('the units shown: those asked for in range, in order, else the first four', () => {
  assert.deepEqual(textView.chosenUnits({ textUnits: [7, 2, 2, 99] }, 8), [7, 2]);
  assert.deepEqual(textView.chosenUnits({ textUnits: [99] }, 8), [0, 1, 2, 3]);
  assert.deepEqual(textView.chosenUnits({ textUnits: null }, 2), [0, 1]);
  assert.deepEqual(textView.parseUnits('3, 17 x42'), [3, 17, 42]);
});

test('a sequence wraps into lines of at most so many characters', () => {
  assert.deepEqual(lineChunks(['a', 'b', 'c', 'd', 'e'], 2), [[0, 2], [2, 4], [4, 5]]);
  assert.deepEqual(lineChunks(['abc', 'd', 'ef'], 3), [[0, 1], [1, 3]]);
  assert.deepEqual(lineChunks(['toolong'], 3), [[0, 1]]);
  assert.deepEqual(lineChunks([], 3), []);
  assert.equal(charsPerLine(956, 9, 56), 100);
  assert.equal(charsPerLine(10, 9, 56), 8);
  const offsets = cellOffsets([7, 20.5, 3], 9);
  assert.deepEqual(offsets, { x: [0, 9, 30], width: 39 });
  assert.deepEqual([-1, 0, 8.9, 9, 29.9, 30, 38.9, 39].map((x) => cellAtX(offsets, x)), [-1, 0, 0, 1, 1, 2, 2, -1]);
});

test('a unit\'s colours decode to its values on the panel\'s map', () => {
  const { activations } = planted();
  const series = unitSeries(activations, 5, 1, PLANTED);
  assert.deepEqual([...series].map((v) => (v > 0 ? 1 : 0)).join(''), [...TEXT].map((ch) => (ch === '(' ? 1 : 0)).join(''));
  const state = panelMap('state', activations, 5);
  assert.ok(Math.abs(state.divide - 0.8) < 1e-6 && state.offset === 0);
  assert.deepEqual(panelMap('gate', activations, 0), { offset: 0.5, divide: 0.5, scale: 1 });
  for (const [v, map] of [[0.8, state], [-0.3, state], [0, state], [0.93, { offset: 0.5, divide: 0.5 }], [0.1, { offset: 0.5, divide: 0.5 }]]) {
    const rgb = cssColour(v, map).match(/\d+/g).map(Number);
    assert.ok(Math.abs(valueOfColour(rgb, map) - v) <= map.divide / 255 + 1e-9, `${v}: ${rgb}`);
  }
  assert.equal(cssColour(NaN, state), 'rgb(128, 128, 128)');
});

test('extremes: where a unit is highest and lowest, with the tokens around', () => {
  const { probe, activations } = planted();
  const { high, low } = extremes(activations, 5, PLANTED, 3);
  assert.deepEqual(high.map((p) => [p.sequence, p.t]), [[0, 2], [0, 8], [1, 2]]);
  assert.ok(low.every((p) => p.value === 0));
  assert.deepEqual(contextOf(probeTexts(probe), 0, 8, 2), { before: '␣a', token: '(', after: 'b)' });
});

test('select and match: selecting a "(" ranks the planted unit first and matches every other "("', () => {
  const { activations } = planted();
  const selection = { sequence: 0, start: 2, end: 3 };
  const ranked = rankUnits(activations, 5, selection);
  assert.equal(ranked[0].unit, PLANTED);
  assert.equal(autoCount(ranked), 1);
  const found = matchSelection(activations, 5, selection);
  assert.deepEqual(found.units.map((u) => u.unit), [PLANTED]);
  assert.deepEqual(found.matches.map((m) => [m.sequence, m.start, m.end]).sort(), [[0, 8, 9], [1, 2, 3], [1, 8, 9]]);
  // Two units asked for: a place must have both on; an empty selection ranks nothing above the rest.
  const two = matchSelection(activations, 5, selection, { count: 2 });
  assert.equal(two.units.length, 2);
  assert.ok(two.matches.length <= found.matches.length);
});

// ------------------------------------------------------------------ the view, on the fake DOM

const tokenRun = () => lstmRun('chars', { units: UNITS, time: TEXT.length, sequences: 2, extra: { encoding: 'ids' } });

function sourceOf(probe, run) {
  return {
    probe: () => ({ value: probe }),
    activations: (r, layer, step) => ({ value: activationsAt(run, step) }),
  };
}

function envOf(getState, source) {
  const patches = [];
  const hovers = [];
  return { patches, hovers, setState: (patch) => patches.push(patch), getState, source: () => source,
    hover: (target, describe) => hovers.push({ target, describe }), scrollTo: () => {} };
}

/**
 * {unit: [[t, [r, g, b]]]} of one sequence's cells at the last paint: from a line's picture of a pixel per
 * cell where its cells are all as wide, else from the fillRect calls of its last paint.
 */
function cellColours(parts, sequence) {
  const out = {};
  for (const line of parts.lines.filter((l) => l.sequence === sequence)) {
    const units = line.canvas.dataset.units.split(',').map(Number);
    if (line.grid) {
      units.forEach((unit, r) => {
        for (let i = 0; i < line.end - line.start; i++) (out[unit] ||= []).push([line.start + i, pixelAt(line.grid.canvas, r, i)]);
      });
      continue;
    }
    const rowPx = Number(line.canvas.dataset.rowPx);
    const calls = line.context.calls;
    const last = calls.map(([name]) => name).lastIndexOf('drawImage');
    const paint = calls.slice(calls.slice(0, last).map(([name]) => name).lastIndexOf('drawImage') + 1, last);
    for (const [name, x, y, , h, colour] of paint) {
      if (name !== 'fillRect' || h !== rowPx) continue;
      (out[units[y / rowPx]] ||= []).push([line.start + line.offsets.x.indexOf(x), colour.match(/\d+/g).map(Number)]);
    }
  }
  return out;
}

function checkColours(parts, run, step, sequence, time) {
  const value = activationsAt(run, step);
  const map = { offset: Number(parts.root.dataset.offset), divide: Number(parts.root.dataset.divide) };
  const [, sequences, , units] = value.shape;
  const colours = cellColours(parts, sequence);
  assert.deepEqual(Object.keys(colours).map(Number).sort(), [...parts.units].sort());
  for (const [unit, cells] of Object.entries(colours)) {
    assert.deepEqual(cells.map(([t]) => t), [...Array(time).keys()]);
    for (const [t, rgb] of cells) {
      const expected = value.data[((5 * sequences + sequence) * time + t) * units + Number(unit)];
      assert.ok(Math.abs(valueOfColour(rgb, map) - expected) <= map.divide / 255 + 1e-6, `${unit} ${t}`);
    }
  }
}

test('the view colours each unit\'s row by its value at the shown step and names it on hover', () => {
  const run = tokenRun();
  let state = normalize({ ...runsPatch({ runs: [run] }), width: 120, textUnits: [3, 1] });
  const { probe } = planted();
  const env = envOf(() => state, sourceOf(probe, run));
  const container = document.createElement('div');
  const parts = textView.build(container, state, env);
  assert.ok(parts.shown);
  assert.ok(textView.paint(state, parts, env));
  const lines = container.querySelectorAll('canvas[data-testid=text-line][data-sequence="1"]');
  assert.equal(lines.length, 2); // 11 tokens, 8 to a line at 120 px
  assert.deepEqual(lines.map((c) => [Number(c.dataset.start), Number(c.dataset.end)]).at(-1)[1], TEXT.length);
  // Each line's texts are drawn once into a layer of their own, a row per unit, laid over the colours.
  const texts = parts.lines.filter((l) => l.sequence === 1)
    .map((l) => l.textLayer.context.calls.filter(([name]) => name === 'fillText').map(([, text]) => text).join(''));
  assert.deepEqual(texts, ['ab(c)↵␣a'.repeat(2), '(b)'.repeat(2)]);
  assert.ok(parts.lines.every((l) => l.grid)); // one character a token: cells all as wide
  checkColours(parts, run, state.step, 1, TEXT.length);
  const value = activationsAt(run, state.step);
  const [, sequences, time, units] = value.shape;
  assert.equal(container.querySelectorAll('[data-testid=text-unit-extremes]').length, 2);
  assert.equal(env.hovers.length, 2 * lines.length);
  const described = env.hovers[0].describe({ sequence: 1, t: 2, unit: 1 });
  assert.equal(Number(described.data.value), value.data[((5 * sequences + 1) * time + 2) * units + 1]);
  assert.equal(described.data.token, '(');
  // Dragging from t 2 to t 3 of sequence 1 (row 1: unit 1) selects that stretch; the listeners sit on the body.
  const xs = lines[0].dataset.x.split(',').map(Number);
  const body = container.querySelector('[data-testid=text-body]');
  body.fire('mousedown', { target: lines[0], clientX: xs[2] + 1, clientY: 20, preventDefault() {} });
  body.fire('mouseup', { target: lines[0], clientX: xs[3] + 1, clientY: 20 });
  assert.deepEqual(env.patches.at(-1), { textSelection: { run: run.run, layer: 'lstm', sequence: 1, start: 2, end: 4 } });
  state = normalize({ ...state, ...env.patches.at(-1) });
  assert.ok(textView.paint(state, parts, env));
  assert.ok(container.querySelectorAll('[data-testid=match-units]')[0].children.length > 0);
  assert.ok(lines[0].context.calls.some(([name]) => name === 'strokeRect')); // the selection, outlined
  // A slider move repaints the text view of a token run.
  const moved = normalize({ ...state, ...userStepPatch(state, 0) });
  assert.equal(planRender(state, moved).text, PAINT);
});

test('tokens of several characters get cells as wide as their text, each filled on its own', () => {
  const run = tokenRun();
  const state = normalize({ ...runsPatch({ runs: [run] }), width: 1200, textUnits: [0, 2] });
  const words = ['if', ' ', 'value', '(', ')', '\n'];
  const probe = { shape: [2, TEXT.length], data: Float32Array.from({ length: 2 * TEXT.length }, (_, i) => i % words.length), tokens: words };
  const env = envOf(() => state, sourceOf(probe, run));
  const container = document.createElement('div');
  const parts = textView.build(container, state, env);
  assert.ok(textView.paint(state, parts, env));
  assert.ok(parts.lines.every((l) => !l.grid));
  assert.equal(parts.lines[0].offsets.x[3] - parts.lines[0].offsets.x[2], 5 * 7 + 2); // 'value': 5 characters of 7 px, padded
  checkColours(parts, run, state.step, 0, TEXT.length);
});

test('a run whose probe holds features shows no text view', () => {
  const run = lstmRun('floats');
  const state = normalize({ ...runsPatch({ runs: [run] }) });
  const container = document.createElement('div');
  const parts = textView.build(container, state, envOf(() => state, {}));
  assert.equal(parts.shown, false);
  assert.equal(container.children.length, 0);
  assert.ok(textView.paint(state, parts, envOf(() => state, {})));
});
