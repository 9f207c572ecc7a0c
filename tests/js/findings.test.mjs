// Unit tests of board/static/findings.js (what a finding's row says, the rows' order, a run's own
// line) and of the findings list (findings_list.js) and the weight panels' highlight on the fake DOM.
// The documents are shaped as the runs write findings.json (findings/record.py).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  checkedKinds, findingRows, highlightOf, highlights, notCheckedTitle, rowText, statusText, stepsText, unitColumns,
  unitsText, visibleRows, whereText,
} from '../../src/lstm_experiments/board/static/findings.js';
import * as findingsList from '../../src/lstm_experiments/board/static/findings_list.js';
import { findingPatch, normalize, runsPatch, toggleRunPatch } from '../../src/lstm_experiments/board/static/state.js';
import * as weightsGrid from '../../src/lstm_experiments/board/static/weights_grid.js';
import { FakeElement, install } from './fake_dom.mjs';
import { GATES, fakeSource, lstmRun } from './fixtures.mjs';

install();

const KINDS = ['vanishing_gradient', 'exploding_gradient', 'saturated_gates', 'dead_units', 'redundant_units', 'non_finite',
  'input_scale', 'not_learning'];
const ALL_CHECKED = Object.fromEntries(KINDS.map((kind) => [kind, 'yes']));
const finding = (kind, extra = {}) => ({ kind, severity: 'warning', layer: 'lstm', gate: null, units: null, figure: 'f', value: 1,
  threshold: 0.5, sentence: `${kind} sentence.`, first_step: 0, last_step: 3, ...extra });
// The x1000 + 2000 run of tests/test_findings.py, as its findings.json has it (warnings first, by first step).
const BROKEN = {
  version: 1, last_step: 3, step: 3, checked: ALL_CHECKED, findings: [
    finding('dead_units', { units: [1, 2, 4] }),
    finding('input_scale', { sentence: 'The inputs of lstm reach 5.07e+03: standardise the inputs.' }),
    finding('saturated_gates', { gate: 'input,forget,cell,output' }),
    finding('redundant_units', { severity: 'info', units: [3, 5], first_step: 1, last_step: 1 }),
  ],
};
const HEALTHY = { version: 1, last_step: 2, step: 2, checked: ALL_CHECKED, findings: [] };

test('units: one, a few, a long list cut after three with how many more', () => {
  assert.equal(unitsText(null), null);
  assert.equal(unitsText([]), null);
  assert.equal(unitsText([3]), 'unit 3');
  assert.equal(unitsText([1, 4]), 'units 1, 4');
  assert.equal(unitsText([1, 4, 7, 9]), 'units 1, 4, 7, 9');
  assert.equal(unitsText([1, 4, 7, ...Array.from({ length: 12 }, (_, i) => 10 + i)]), 'units 1, 4, 7 … (+12)');
});

test('where: the layer, the gates it names, its units; the whole run without a layer', () => {
  assert.equal(whereText(finding('saturated_gates', { gate: 'input,forget,cell,output' })), 'lstm · input, forget, cell, output gates');
  assert.equal(whereText(finding('saturated_gates', { gate: 'forget' })), 'lstm · forget gate');
  assert.equal(whereText(finding('dead_units', { units: [1, 4] })), 'lstm · units 1, 4');
  assert.equal(whereText(finding('non_finite', { layer: null })), 'the whole run');
});

test('when: since its first step; until its last once it stopped before the run\'s latest step', () => {
  assert.equal(stepsText(finding('x', { first_step: 2, last_step: 5 }), 5), 'since step 2');
  assert.equal(stepsText(finding('x', { first_step: 2, last_step: 5 }), 9), 'since step 2, until step 5');
  assert.equal(stepsText(finding('x', { first_step: 0, last_step: 0 }), 2), 'at step 0 only');
  assert.equal(stepsText(finding('x', { first_step: 4, last_step: 4 }), 4), 'since step 4');
});

test('rows: warnings first across runs, each run in the page\'s order, titled only with several runs', () => {
  const other = { ...BROKEN, findings: [finding('vanishing_gradient', { first_step: 2 }), finding('dead_units', { severity: 'info', units: [0] })] };
  const rows = findingRows([{ run: 'a', title: 'A', document: BROKEN }, { run: 'b', title: 'B', document: other }], { titled: true });
  assert.deepEqual(rows.map((row) => [row.run, row.kind, row.severity]), [
    ['a', 'dead_units', 'warning'], ['a', 'input_scale', 'warning'], ['a', 'saturated_gates', 'warning'],
    ['b', 'vanishing_gradient', 'warning'], ['a', 'redundant_units', 'info'], ['b', 'dead_units', 'info'],
  ]);
  assert.equal(rowText(rows[0]), 'A · ⚠ · dead_units · lstm · units 1, 2, 4 · since step 0 · dead_units sentence.');
  assert.equal(rowText(rows[4]), 'A · ℹ · redundant_units · lstm · units 3, 5 · at step 1 only · redundant_units sentence.');
  const one = findingRows([{ run: 'a', title: 'A', document: BROKEN }]);
  assert.ok(one.every((row) => row.title === null));
  assert.deepEqual(one[2].gates, GATES);
  assert.equal(one[1].firstStep, 0);
});

test('a run that found nothing says so in one line with the kinds it checked; kinds not checked are named, why in the hover', () => {
  assert.equal(statusText(HEALTHY), `no findings (checked: ${KINDS.join(', ')})`);
  assert.equal(statusText(BROKEN), null); // findings, every kind checked: the rows say it all
  assert.equal(notCheckedTitle(ALL_CHECKED), null);
  const noProbe = { ...ALL_CHECKED, saturated_gates: 'no probe: saturation needs one', input_scale: 'no probe' };
  assert.deepEqual(checkedKinds(noProbe).no, [['saturated_gates', 'no probe: saturation needs one'], ['input_scale', 'no probe']]);
  assert.deepEqual(checkedKinds({ input_scale: 'no: findings off' }).no, [['input_scale', 'findings off']]);
  assert.equal(statusText({ ...HEALTHY, checked: noProbe }, 'units=4'),
    'units=4: no findings (checked: vanishing_gradient, exploding_gradient, dead_units, redundant_units, non_finite, not_learning); '
    + 'not checked: saturated_gates, input_scale');
  assert.equal(statusText({ ...BROKEN, checked: noProbe }), 'not checked: saturated_gates, input_scale');
  assert.equal(notCheckedTitle(noProbe), 'not checked: saturated_gates (no probe: saturation needs one); input_scale (no probe)');
  const off = Object.fromEntries(KINDS.map((kind) => [kind, 'no: viz.findings.enabled=false']));
  assert.match(statusText({ ...HEALTHY, checked: off }), /^no findings \(nothing checked\); not checked: vanishing_gradient, /);
});

test('at most six rows, the rest behind "show all"', () => {
  const rows = Array.from({ length: 8 }, (_, i) => ({ key: String(i) }));
  assert.deepEqual(visibleRows(rows, false), { shown: rows.slice(0, 6), hidden: 2 });
  assert.deepEqual(visibleRows(rows, true), { shown: rows, hidden: 0 });
  assert.deepEqual(visibleRows(rows.slice(0, 6), false), { shown: rows.slice(0, 6), hidden: 0 });
});

test('a finding\'s place: its run\'s panels of its layer, of its gates if it names any; its units by column', () => {
  const [dead, , saturated] = findingRows([{ run: 'a', title: 'A', document: BROKEN }]);
  const at = (gate, run = 'a', layer = 'lstm') => ({ run, layer, gate });
  assert.ok(highlights(highlightOf(dead), at('forget')));
  assert.ok(!highlights(highlightOf(dead), at('forget', 'b')));
  assert.ok(!highlights(highlightOf(dead), at('forget', 'a', 'other')));
  assert.ok(highlights(highlightOf({ ...saturated, gates: ['forget'] }), at('forget')));
  assert.ok(!highlights(highlightOf({ ...saturated, gates: ['forget'] }), at('input')));
  assert.ok(!highlights(highlightOf({ ...dead, layer: null }), at('forget'))); // the whole run: no panel
  assert.ok(!highlights(null, at('forget')));
  assert.deepEqual(unitColumns([1, 2, 4], 8), [1, 2, 4]);
  assert.deepEqual(unitColumns([1, 2, 4, 9], 4, 2), [0, 1, 2]); // 2-unit blocks: units 1 and 2 fall in columns 0 and 1
  assert.deepEqual(unitColumns([7], 4), []);
});

test('a click moves the slider to the first step, selects the layer and a named gate; again, it takes the highlight off', () => {
  let state = normalize({ ...runsPatch({ runs: [lstmRun('a', { steps: [0, 2, 4] }), lstmRun('b', { steps: [0, 2, 4] })] }) });
  assert.equal(state.step, 4);
  const rows = findingRows([{ run: 'a/tensorboard', title: 'a', document: { ...BROKEN, findings: [finding('saturated_gates', {
    gate: 'output,cell', first_step: 2 })] } }]);
  const highlight = highlightOf(rows[0]);
  const apply = (patch) => normalize({ ...state, ...(typeof patch === 'function' ? patch(state) : patch) });
  state = apply((s) => findingPatch(s, highlight));
  assert.equal(state.step, 2);
  assert.equal(state.follow, false);
  assert.equal(state.gate, 'output'); // the strip shows one of its gates
  assert.equal(state.highlight.key, rows[0].key);
  assert.deepEqual(findingPatch(state, highlight), { highlight: null });
  assert.equal(findingPatch(state, { ...highlight, key: 'other', layer: 'second' }).layer, 'second'); // its layer selected
  state = apply((s) => toggleRunPatch(s, 'a/tensorboard', false)); // its run unticked: nothing to highlight
  assert.equal(state.highlight, null);
});

// ------------------------------------------------------------------ the list and the panels on the fake DOM

const stateOf = (runs, extra = {}) => normalize({ ...runsPatch({ runs }), width: 1600, height: 1000, ...extra });

function envOf(state, source) {
  const patches = [];
  return { patches, setState: (patch) => patches.push(patch), getState: () => state, source: () => source, hover: () => {}, scrollTo: () => {} };
}

const all = (node, testid) => node.querySelectorAll(`[data-testid=${testid}]`);

test('the list: a row per finding of the ticked runs, warnings first, a line for a run that found nothing', () => {
  const broken = lstmRun('broken', { steps: [0, 1, 2, 3], extra: { findings: true } });
  const healthy = lstmRun('healthy', { extra: { findings: true } });
  const older = lstmRun('older'); // logged no findings: no line
  const state = stateOf([broken, healthy, older]);
  const root = new FakeElement('div');
  const source = fakeSource([broken, healthy, older], { findings: { [broken.run]: BROKEN, [healthy.run]: HEALTHY } });
  const env = envOf(state, source);
  const parts = findingsList.build(root, state, env);
  assert.equal(findingsList.paint(state, parts, env), true);
  assert.equal(all(root, 'findings')[0].hidden, false);
  const rows = all(root, 'finding');
  assert.deepEqual(rows.map((row) => [row.dataset.run, row.dataset.kind, row.dataset.firstStep]), [
    [broken.run, 'dead_units', '0'], [broken.run, 'input_scale', '0'], [broken.run, 'saturated_gates', '0'],
    [broken.run, 'redundant_units', '1'],
  ]);
  assert.equal(rows[0].textContent, '⚠brokendead_unitslstm · units 1, 2, 4since step 0dead_units sentence.');
  assert.equal(rows[2].dataset.gate, 'input,forget,cell,output');
  assert.equal(all(root, 'findings-count')[0].textContent, '3 warnings, 1 info');
  const lines = all(root, 'findings-status');
  assert.deepEqual(lines.map((line) => [line.dataset.run, line.textContent]),
    [[healthy.run, `healthy: no findings (checked: ${KINDS.join(', ')})`]]);
  assert.equal(all(root, 'findings-more')[0].hidden, true); // four rows: all shown

  // A click asks to show its first step with its place highlighted.
  rows[1].fire('click');
  const patch = env.patches[0](state);
  assert.equal(patch.step, 0);
  assert.deepEqual([patch.highlight.run, patch.highlight.kind, patch.highlight.layer], [broken.run, 'input_scale', 'lstm']);
});

test('the list: past six rows "show all (N)"; loading is not complete; no ticked run with findings hides it', () => {
  const run = lstmRun('a', { extra: { findings: true } });
  const many = { ...BROKEN, findings: Array.from({ length: 9 }, (_, i) => finding(`kind${i}`)) };
  let state = stateOf([run]);
  const root = new FakeElement('div');
  let env = envOf(state, fakeSource([run], { findings: { [run.run]: many } }));
  const parts = findingsList.build(root, state, env);
  findingsList.paint(state, parts, env);
  assert.equal(all(root, 'finding').length, 6);
  const more = all(root, 'findings-more')[0];
  assert.deepEqual([more.hidden, more.textContent], [false, 'show all (9)']);
  more.fire('click');
  state = normalize({ ...state, ...env.patches[0](state) });
  findingsList.paint(state, parts, env);
  assert.equal(all(root, 'finding').length, 9);
  assert.equal(more.textContent, 'show fewer');

  env = envOf(state, fakeSource([run])); // not loaded yet
  assert.equal(findingsList.paint(state, parts, env), false);
  assert.match(all(root, 'findings-status')[0].textContent, /reading findings/);
  const none = stateOf([lstmRun('old')]);
  findingsList.paint(none, parts, envOf(none, fakeSource([lstmRun('old')])));
  assert.equal(all(root, 'findings')[0].hidden, true);
});

test('the highlight: its layer\'s panels outlined (its gates only, if named), its units marked under each; off again', () => {
  const run = lstmRun('a', { units: 8, extra: { findings: true } });
  const [dead, , saturated] = findingRows([{ run: run.run, title: 'a', document: BROKEN }]);
  let state = stateOf([run], { highlight: highlightOf(dead) });
  const root = new FakeElement('div');
  const env = envOf(state, fakeSource([run]));
  const parts = weightsGrid.build(root, state, env);
  weightsGrid.paint(state, parts, env);
  const panels = all(root, 'panel');
  assert.equal(panels.length, 12);
  assert.ok(panels.every((p) => p.classList.contains('lg-highlight') && p.dataset.highlight === 'dead_units'));
  const marks = all(root, 'unit-marks');
  assert.equal(marks.length, 12);
  for (const strip of marks) {
    assert.equal(strip.dataset.units, '1,2,4');
    assert.deepEqual(strip.children.map((mark) => [mark.dataset.col, mark.style.left]), [['1', '12.5%'], ['2', '25%'], ['4', '50%']]);
  }
  state = stateOf([run], { highlight: highlightOf({ ...saturated, gates: ['forget', 'output'] }) });
  weightsGrid.paint(state, parts, env);
  assert.deepEqual(panels.filter((p) => p.classList.contains('lg-highlight')).map((p) => [p.dataset.matrix, p.dataset.gate]),
    [['kernel', 'forget'], ['kernel', 'output'], ['recurrent_kernel', 'forget'], ['recurrent_kernel', 'output'],
      ['bias', 'forget'], ['bias', 'output']]);
  assert.ok(marks.every((strip) => strip.children.length === 0 && strip.dataset.units === undefined));
  state = stateOf([run]);
  weightsGrid.paint(state, parts, env);
  assert.ok(panels.every((p) => !p.classList.contains('lg-highlight') && p.dataset.highlight === undefined));
});
