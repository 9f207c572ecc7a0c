// Unit tests of the pure functions of board/static/input_data.js: `node --test tests/js/`
// (tests/test_board_browser.py runs them too). No DOM: only functions that need none are called.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  MAX_INPUT_LINES, featureLabel, inputLine, inputMode, inputShape, inputSource, isMaskedStep, maskedSteps,
  stripCaption, valueText, valuesAt,
} from '../../src/lstm_experiments/board/static/input_data.js';

/** An input as model.js makes it: shape and a flat Float32Array (null -> NaN). */
const input = (shape, values, extra = {}) => ({ shape, data: Float32Array.from(values, (v) => (v === null ? NaN : v)), ...extra });

test('lines up to MAX_INPUT_LINES features, a heat strip above', () => {
  assert.equal(MAX_INPUT_LINES, 8);
  assert.equal(inputMode(1), 'lines');
  assert.equal(inputMode(8), 'lines');
  assert.equal(inputMode(9), 'strip');
  assert.equal(inputMode(128), 'strip');
  assert.equal(inputMode(3, 2), 'strip');
});

test('the source: the layer\'s own input only when the runs route says input: true', () => {
  assert.equal(inputSource({ activations: { input: true } }), 'layer');
  assert.equal(inputSource({ activations: { input: false } }), 'probe');
  assert.equal(inputSource({ activations: {} }), 'probe'); // a run logged before /probe?layer
  assert.equal(inputSource({ activations: null }), 'probe');
  assert.equal(inputSource(null), 'probe');
});

test('shapes: (sequences, time) is one feature, trailing axes multiply', () => {
  assert.deepEqual(inputShape([4, 8, 3]), { sequences: 4, time: 8, count: 3 });
  assert.deepEqual(inputShape([4, 8]), { sequences: 4, time: 8, count: 1 }); // token ids
  assert.deepEqual(inputShape([2, 5, 3, 2]), { sequences: 2, time: 5, count: 6 });
});

test('a masked value reads "masked", a number as the page formats it', () => {
  assert.equal(valueText(NaN), 'masked');
  assert.equal(valueText(null), 'masked');
  assert.equal(valueText(NaN, 'masked step'), 'masked step');
  assert.equal(valueText(0.123456789), '0.12346');
  assert.equal(valueText(0), '0');
  assert.equal(valueText(-2.5), '-2.5');
});

test('a masked step: every feature missing (an empty list is not one)', () => {
  assert.equal(isMaskedStep([NaN, NaN]), true);
  assert.equal(isMaskedStep([NaN, 1]), false);
  assert.equal(isMaskedStep([]), false);
});

test('values, masked steps and labels of one sequence', () => {
  // 2 sequences, 3 steps, 2 features; sequence 1 masked at its last step.
  const x = input([2, 3, 2], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, null, null], { features: ['a', 'b'] });
  assert.deepEqual(valuesAt(x, 0, 1), [3, 4]);
  assert.deepEqual(valuesAt(x, 1, 0), [7, 8]);
  assert.deepEqual(maskedSteps(x, 0), []);
  assert.deepEqual(maskedSteps(x, 1), [2]);
  assert.equal(featureLabel(x, 1), 'b');
  assert.equal(featureLabel(input([1, 1, 2], [0, 0]), 1), 'feature 1');
  assert.equal(featureLabel(input([1, 1, 2], [0, 0]), 1, ['x', 'y']), 'y'); // the run's names, for /probe?run
  // A reduced input: blocks of 4 of 10 features.
  assert.equal(featureLabel(input([1, 1, 3], [0, 0, 0], { block: 4, width: 10 }), 2), 'features 8–9');
});

test('the tooltip line: every value for a few features, the hovered one and the largest for many', () => {
  const few = input([1, 2, 2], [0.5, -1, null, null], { features: ['sine', 'noise'] });
  assert.equal(inputLine(few, 0, 0), 'input: sine 0.5, noise -1');
  assert.match(inputLine(few, 0, 1), /^input: masked/);
  const values = Array.from({ length: 10 }, (_, f) => f / 10 - 0.8);
  const many = input([1, 1, 10], values);
  assert.equal(inputLine(many, 0, 0, { feature: 3 }), 'input: feature 3 -0.5 · largest |value| of 10 features 0.8');
  assert.equal(inputLine(many, 0, 0), 'input: largest |value| of 10 features 0.8');
  const partly = input([1, 1, 2], [null, 2]);
  assert.equal(inputLine(partly, 0, 0), 'input: feature 0 masked, feature 1 2');
});

test('the strip\'s caption names the width and any reduction', () => {
  assert.equal(stripCaption(input([1, 1, 12], new Array(12).fill(0))), 'input: 12 features (embedding/previous layer)');
  assert.equal(stripCaption(input([1, 1, 16], new Array(16).fill(0), { width: 128, block: 8 })),
    'input: 128 features (embedding/previous layer), shown in 16 blocks of 8');
});
