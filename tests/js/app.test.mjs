// The whole page in node: GatesApp on the fake DOM, its routes answered from made-up data. Every
// canvas shows the step the slider asks for, painted from that step's data, and each state
// change goes through one render.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';

import { FakeElement, install, pixelAt } from './fake_dom.mjs';
import { activationsAt, inputAt, lstmRun, saturationOf, weightsAt } from './fixtures.mjs';

install({ width: 1600, height: 1000 });
const RUNS = [lstmRun('units=8', { units: 8, steps: [0, 1, 2] }), lstmRun('units=4', { units: 4, steps: [0, 1, 2] })];
const byRun = new Map(RUNS.map((run) => [run.run, run]));
const asked = [];

function answer(url) {
  const { pathname, searchParams } = new URL(url, 'http://board/');
  const route = pathname.slice(1);
  const run = byRun.get(searchParams.get('run'));
  const step = Number(searchParams.get('step'));
  asked.push([route, searchParams.get('run'), searchParams.get('matrix'), step]);
  const values = (data) => ({ shape: data.shape, values: Array.from(data.data) });
  if (route === 'runs') return { runs: RUNS, samples_flag: '--flag', downsampled: false };
  if (route === 'weights') return values(weightsAt(run, searchParams.get('matrix'), step));
  if (route === 'activations') return { ...values(activationsAt(run, step)), panels: run.layers[0].activations.panels };
  if (route === 'probe') return values(inputAt(run, searchParams.has('step') ? step : 0));
  if (route === 'saturation') return saturationOf(run);
  throw new Error(route);
}

globalThis.fetch = async (url) => {
  const body = JSON.stringify(answer(url));
  return { ok: true, status: 200, text: async () => body };
};

const { GatesApp } = await import('../../src/lstm_experiments/board/static/app.js');
const root = new FakeElement('div');
const app = new GatesApp(root);
after(() => {
  clearTimeout(app.pollTimer);
  clearInterval(app.playTimer);
});

async function shown(step) {
  for (let i = 0; i < 200; i++) {
    const canvases = app.shownSteps();
    if (root.dataset.complete === 'true' && root.dataset.step === String(step) && canvases.length
      && canvases.every((c) => c.step === step)) return canvases;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`step ${step} not shown: ${JSON.stringify(app.shownSteps().map((c) => [c.testid, c.step]))}`);
}

test('two runs open side by side at the last step, in natural order', async () => {
  app.start();
  const canvases = await shown(2);
  assert.deepEqual(app.state.runs.map((run) => run.name), ['units=4', 'units=8']);
  assert.deepEqual(app.state.selected, ['units=4/tensorboard', 'units=8/tensorboard']); // few runs: all ticked
  const panels = canvases.filter((c) => c.testid === 'panel');
  assert.deepEqual(panels.map((p) => [p.run, p.matrix, p.gate]),
    [['units=4/tensorboard', 'recurrent_kernel', 'forget'], ['units=8/tensorboard', 'recurrent_kernel', 'forget']]);
});

test('a slider move repaints every panel from that step\'s data', async () => {
  app.userStep(1);
  await shown(1);
  const canvas = root.querySelectorAll('[data-testid=panel]')[0];
  const data = weightsAt(byRun.get('units=4/tensorboard'), 'recurrent_kernel', 1);
  const scale = 0.7;
  for (let c = 0; c < 4; c++) {
    const t = Math.max(-1, Math.min(1, data.data[4 + c] / scale));
    assert.deepEqual(pixelAt(canvas, 0, c)[1], Uint8ClampedArray.from([255 * (1 - Math.abs(t))])[0]);
  }
  assert.equal(app.redraws.at(-1).step, 1);
});

test('one run: its grid; data already fetched repaints in the same call', async () => {
  const box = root.querySelectorAll('[data-testid=run-checkbox]').find((b) => b.dataset.run === 'units=8/tensorboard');
  box.checked = false;
  box.fire('change');
  await shown(1);
  assert.equal(root.querySelectorAll('[data-testid=panel]').length, 12);
  app.userStep(2);
  assert.equal(root.dataset.step, '2');
  await shown(2);
});
