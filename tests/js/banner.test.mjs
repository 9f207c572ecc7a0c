// Unit tests of board/static/banner.js: what the banner and the message line say.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { bannerText, messageText } from '../../src/lstm_experiments/board/static/banner.js';

const run = (title, kept, logged) => ({ run: `${title}/tensorboard`, title, kept_steps: kept, logged_steps: logged });

test('no banner while every run kept every step', () => {
  assert.equal(bannerText([run('a', 3, 3)], false), null);
});

test('the steps kept of those logged, and which runs when not all', () => {
  assert.equal(bannerText([run('a', 10, 31)], true), 'TensorBoard kept 10 of 31 steps: restart with ');
  assert.equal(bannerText([run('a', 10, 31), run('b', 5, 5)], true), 'TensorBoard kept 10 of 31 steps of a: restart with ');
  assert.equal(bannerText([run('a', 10, 31), run('b', 10, 12)], true),
    'TensorBoard kept fewer steps than were logged (a: 10 of 31 steps; b: 10 of 12 steps): restart with ');
});

test('a full reservoir whose logged count the server cannot tell (logged_steps null)', () => {
  assert.equal(bannerText([run('a', 2, null), run('b', 2, null)], true),
    'TensorBoard kept 2 steps (it may have dropped others): restart with ');
  assert.equal(bannerText([], true), 'TensorBoard kept fewer steps than were logged: restart with ');
});

test('the message line: no runs yet, unreadable runs, none ticked', () => {
  assert.match(messageText({ runs: [], loaded: true, selected: [] }), /^No run in this log directory/);
  assert.equal(messageText({ runs: [], loaded: false, selected: [] }), null);
  assert.equal(messageText({ runsError: 'HTTP 500', runs: [], selected: [] }), 'Could not read the runs: HTTP 500');
  assert.equal(messageText({ runs: [run('a', 1, 1)], loaded: true, selected: [] }), 'No run ticked: tick one above, or all.');
});
