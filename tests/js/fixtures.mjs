// Runs and data as the plugin's routes give them (board/plugin.py), made up so that every step and
// every cell has its own value: a view that paints the wrong step or cell paints a wrong colour.

import { nonFiniteByGate } from '../../src/lstm_experiments/board/static/model.js';
import { positionsOf } from '../../src/lstm_experiments/board/static/positions.js';
import { ChangeScales } from '../../src/lstm_experiments/board/static/scales.js';

export const GATES = ['input', 'forget', 'cell', 'output'];
const PANELS = ['input', 'forget', 'cell', 'output', 'cell_state', 'hidden'];

/** The /runs layer keys of a layer that logged its figures (/through_time and /units). */
export const FIGURES = Object.freeze({ through_time: ['h', 'c'], unit_figures: { gates: GATES, orders: ['built', 'saturation', 'activity', 'similarity'] } });

/**
 * A /runs entry of an LSTM run: `units` units on `features` inputs, these steps kept; `figures`: the
 * layer's through_time and unit_figures (FIGURES), none by default.
 */
export function lstmRun(name, { units = 4, features = 2, steps = [0, 1, 2], time = 5, sequences = 2, saturation = true, extra = {},
  figures = {} } = {}) {
  const matrix = (matrix, shape, scale) => ({ matrix, shape, logged_shape: shape.length === 1 ? [1, shape[0]] : shape,
    reduced: false, block: 1, scale, rows: matrix === 'kernel' ? Array.from({ length: features }, (_, i) => `x${i}`) : null });
  return {
    run: `${name}/tensorboard`, name, steps, max_step: steps[steps.length - 1], logged_steps: steps.length, kept_steps: steps.length,
    features: Array.from({ length: features }, (_, i) => `x${i}`),
    layers: [{
      layer: 'lstm', cell: 'LSTMCell', gates: GATES, units, saturation,
      matrices: [matrix('kernel', [features, 4 * units], 0.9), matrix('recurrent_kernel', [units, 4 * units], 0.7),
        matrix('bias', [4 * units], 1)],
      activations: { panels: PANELS, candidate: 'cell', sequences, time, input: true },
      ...figures,
    }],
    ...extra,
  };
}

/** The value of cell i of a matrix at a step: distinct for every step and cell, within [-1, 1]. */
export const weightValue = (step, i) => Math.round((((i * 37) % 19) / 19 - 0.5 + step * 0.05) * 4096) / 4096;
/** The value of an activation cell at a step, in [0, 1]. */
export const activationValue = (step, i) => Math.round((((i * 13) % 29) / 29 * 0.8 + step * 0.05) * 4096) / 4096;

/** The fused matrix at a step as model.js keeps it; at a `nanStep`, every third value NaN (a failing batch's). */
export function weightsAt(run, matrix, step, nanStep = null) {
  const info = run.layers[0].matrices.find((m) => m.matrix === matrix);
  const [rows, cols] = info.logged_shape;
  const data = Float32Array.from({ length: rows * cols }, (_, i) => (step === nanStep && i % 3 === 0 ? NaN : weightValue(step, i)));
  return { shape: [rows, cols], data, nonFinite: nonFiniteByGate(data, [rows, cols], run.layers[0].gates.length) };
}

/** /positions of a run logged every `every` batches of `perEpoch`, whose loss became inf after `failAt` batches if given. */
export function positionsJson(run, { every = 2, perEpoch = 5, failAt = null } = {}) {
  const steps = run.steps;
  const where = (step) => (step === 0 ? [0, 0] : [Math.ceil(step / perEpoch), step - (Math.ceil(step / perEpoch) - 1) * perEpoch]);
  const event = (step) => (failAt === null ? '' : step === failAt ? 'non_finite' : step === failAt - 1 ? 'last_finite' : '');
  return {
    log_every_batches: every, steps, epoch: steps.map((s) => where(s)[0]), batch: steps.map((s) => where(s)[1]), event: steps.map(event),
    failure: failAt === null ? null : { step: failAt, epoch: where(failAt)[0], batch: where(failAt)[1], last_finite: failAt - 1, loss: 'inf' },
  };
}

export function activationsAt(run, step) {
  const { units } = run.layers[0];
  const { panels, sequences, time } = run.layers[0].activations;
  const shape = [panels.length, sequences, time, units];
  return { shape, panels, data: Float32Array.from({ length: shape.reduce((a, b) => a * b) }, (_, i) => activationValue(step, i)) };
}

export function inputAt(run, step) {
  const { sequences, time } = run.layers[0].activations;
  const count = run.features.length;
  return { shape: [sequences, time, count], data: Float32Array.from({ length: sequences * time * count }, (_, i) => (i % 5) - 2 + step) };
}

/** /saturation of a run: each gate's low and high fractions at every step. */
export function saturationOf(run) {
  const gates = {};
  GATES.forEach((gate, g) => {
    gates[gate] = { low: run.steps.map((s) => [s, (g + 1) * 0.01 + s * 0.1]), high: run.steps.map((s) => [s, (g + 1) * 0.02 + s * 0.05]) };
  });
  return { gates };
}

/**
 * /through_time of a run at a step: each state's norm falls by a decade per time step towards t = 0
 * from 10^-step at the last (h ten times lower than c); t = 1 of h is NaN or ±inf (null) at step 2.
 */
export function throughTimeAt(run, step) {
  const { time } = run.layers[0].activations;
  const norms = {
    h: Array.from({ length: time }, (_, t) => (step === 2 && t === 1 ? null : 10 ** (t - time - step))),
    c: Array.from({ length: time }, (_, t) => 10 ** (t + 1 - time - step)),
  };
  return { run: run.run, layer: 'lstm', step, states: ['h', 'c'], time, norms };
}

/** /units of a run at a step: distinct fractions per unit and gate; the orders reverse, rotate and swap the units. */
export function unitsAt(run, step) {
  const { units } = run.layers[0];
  const all = [...Array(units).keys()];
  const saturation = Object.fromEntries(GATES.map((gate, g) => [gate, {
    left: all.map((u) => Math.round(((u + 1) / (units + 1)) * 0.5 * 4096) / 4096),
    right: all.map((u) => Math.round(((g + 1) / 8 + step * 0.01 + u * 0.001) * 4096) / 4096),
  }]));
  return {
    run: run.run, layer: 'lstm', step, cell: 'lstm', units, gates: GATES, saturation, activity: all.map((u) => u / 10),
    orders: { built: all, saturation: all.slice().reverse(), activity: all.map((u) => (u + step + 1) % units),
      similarity: all.map((u) => (u % 2 ? u - 1 : (u + 1 < units ? u + 1 : u))) },
  };
}

/**
 * A source (board/static/source.js' interface) over made-up data of these runs; `missing` lists
 * steps not loaded yet (their loads pend), `asked` records what the views asked for; `findings`
 * gives each run's /findings document; at an `unmeasured` step /through_time and /units are a 404.
 */
export function fakeSource(runs, { missing = [], positions = {}, nanStep = null, findings = {}, unmeasured = [] } = {}) {
  const byRun = new Map(runs.map((run) => [run.run, run]));
  const changeScales = new ChangeScales();
  const asked = [];
  const answer = (step, make) => (missing.includes(step) ? {} : { value: make() });
  const notMeasured = (step) => Object.assign(new Error(`through_time?step=${step}: HTTP 404: step=${step} not found`), { status: 404 });
  const figure = (step, make) => (unmeasured.includes(step) ? { error: notMeasured(step) } : answer(step, make));
  const source = {
    asked,
    weights: (run, layer, matrix, step) => { asked.push(['weights', run, matrix, step]); return answer(step, () => weightsAt(byRun.get(run), matrix, step, nanStep)); },
    positions: (run) => {
      if (!run || !run.positions) return { value: null };
      return positions[run.run] === undefined ? {} : { value: positionsOf(positions[run.run]) };
    },
    /** A run's /findings: `findings[run]` (undefined: still loading; an Error: failed). */
    findings: (run) => {
      if (!run || !run.findings) return { value: null };
      const found = findings[run.run];
      if (found === undefined) return {};
      return found instanceof Error ? { error: found } : { value: found };
    },
    activations: (run, layer, step) => { asked.push(['activations', run, step]); return answer(step, () => activationsAt(byRun.get(run), step)); },
    layerInput: (run, layer, step) => answer(step, () => inputAt(byRun.get(run), step)),
    probe: (run) => ({ value: inputAt(byRun.get(run), 0) }),
    saturation: (run) => ({ value: saturationOf(byRun.get(run)) }),
    /** /through_time and /units: pending at a `missing` step, a 404 at an `unmeasured` one. */
    throughTime: (run, layer, step) => figure(step, () => throughTimeAt(byRun.get(run), step)),
    units: (run, layer, step) => figure(step, () => unitsAt(byRun.get(run), step)),
    stepChange: (...args) => changeScales.at(...args),
    runChange(runEntry, layer, matrix) {
      const initial = weightsAt(runEntry, matrix, 0);
      const steps = runEntry.steps.filter((s) => !missing.includes(s));
      const scale = Math.max(0, ...steps.map((s) => changeScales.at(runEntry.run, layer, matrix, s, weightsAt(runEntry, matrix, s), initial)));
      return { scale, covered: steps.length, total: runEntry.steps.length };
    },
  };
  return source;
}
