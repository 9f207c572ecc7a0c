// The gradient through time, under the saturation charts: for each ticked run that measured it (/runs'
// layer through_time), the norm of ∂L/∂h_t (and an LSTM's ∂L/∂c_t) at every time step t of the probe,
// at the step each run shows (/through_time), on a log scale whose decades every run shares, so runs
// side by side read on the same axis: a vanishing gradient falls by decades towards t = 0. A step
// where it was not measured (the weights were not finite) says so. Hover: t and each state's norm.

import { describeThroughTime } from './describe.js';
import { el, formatValue } from './dom.js';
import { GRADIENT_LABELS } from './labels.js';
import { Plot, decadeRange, decadeTicks, nearestIndex, pointerAt, powerText } from './plot.js';
import { stepPosition } from './positions.js';
import { layerOf, runTitle } from './runs.js';
import { selectedRuns, shownStep } from './state.js';

const CHART_WIDTH_PX = 340;
const CHART_HEIGHT_PX = 170;
const DOT_RADIUS_PX = 2;
export const STATE_COLOURS = { h: '#1565c0', c: '#e65100' };

/** The ticked runs whose layer measured the gradient through time. */
export const throughTimeRuns = (state) => selectedRuns(state).filter((run) => layerOf(run, state.layer)?.through_time);

/** A norm of /through_time as a number (null: NaN or ±inf). */
const norm = (value) => (value === null || value === undefined ? NaN : value);

/** Every norm of these answers (/through_time), for their shared decades. */
export const allNorms = (answers) => answers.flatMap((answer) => answer.states.flatMap((state) => answer.norms[state].map(norm)));

/** A ratio of norms in two significant digits: '0.47', '3.1e-5'. */
export function ratioText(value) {
  if (!Number.isFinite(value)) return formatValue(value);
  return value === 0 || (Math.abs(value) >= 0.01 && Math.abs(value) < 1000) ? String(Number(value.toPrecision(2))) : value.toExponential(1);
}

/**
 * The words under a chart: each state's first norm over its last ("t=0 / t=5: h 2.0e-6 · c 3.1e-5"),
 * what the vanishing and exploding rules read (docs/diagnosing.md).
 */
export function decayText(answer) {
  const last = answer.time - 1;
  const parts = answer.states.map((state) => {
    const values = answer.norms[state].map(norm);
    return `${state} ${ratioText(values[0] / values[last])}`;
  });
  return `t=0 / t=${last}: ${parts.join(' · ')}`;
}

/** The probe time step under x px of a chart of `time` steps (its scale x), or null outside. */
export function timeAtPx(x, time, scaleX) {
  const steps = Array.from({ length: time }, (_, t) => scaleX(t));
  const t = nearestIndex(steps, x);
  return t < 0 ? null : t;
}

const head = (layer, states) => el('div', { class: 'lg-section-head' },
  el('h3', { text: `gradient through time · ${layer}` }),
  ...states.map((state) => el('span', { class: 'lg-feature' },
    el('span', { class: 'lg-swatch', style: { background: STATE_COLOURS[state] } }), GRADIENT_LABELS[state])),
  el('span', { class: 'lg-caption', text: 'on the probe, by time step; log scale shared by the runs; '
    + 'a vanishing gradient falls by decades towards t = 0' }));

export function build(container, state, env) {
  const runs = throughTimeRuns(state);
  if (!runs.length) return { charts: [] };
  const states = [...new Set(runs.flatMap((run) => layerOf(run, state.layer).through_time))];
  const row = el('div', { class: 'lg-compare' });
  const charts = runs.map((run) => {
    const layer = layerOf(run, state.layer);
    const plot = new Plot({ width: CHART_WIDTH_PX, height: CHART_HEIGHT_PX, attrs: { 'data-testid': 'through-time-chart' } });
    Object.assign(plot.canvas.dataset, { run: run.run, layer: layer.layer, states: layer.through_time.join(',') });
    const text = el('div', { class: 'lg-saturation-text', 'data-testid': 'through-time-text' });
    const chart = { run: run.run, layer: layer.layer, plot, text, answer: null, step: null, x: null };
    env.hover({ canvas: plot.canvas, cellAt: (event) => cellAt(chart, event) }, (cell) => describe(env, chart, cell));
    row.append(el('div', { class: 'lg-card', 'data-testid': 'through-time-card', dataset: { run: run.run } },
      el('div', { class: 'lg-card-title', title: run.run, text: runTitle(run) }), plot.canvas, text));
    return chart;
  });
  container.append(head(state.layer, states), row);
  return { charts };
}

function cellAt(chart, event) {
  if (!chart.answer || !chart.x) return null;
  const { x, y } = pointerAt(event, chart.plot.canvas);
  const { left, top, width, height } = chart.plot.area;
  const slack = DOT_RADIUS_PX * 4;
  if (x < left - slack || x > left + width + slack || y < top || y > top + height) return null;
  const t = timeAtPx(x, chart.answer.time, chart.x);
  return t === null ? null : { col: t, row: 0 };
}

function describe(env, chart, cell) {
  const state = env.getState();
  const run = state.byRun.get(chart.run);
  const layer = layerOf(run, chart.layer);
  if (!layer || !chart.answer) return null;
  const positions = env.source().positions(run).value;
  return describeThroughTime({ run, layer, step: chart.step, answer: chart.answer, where: stepPosition(positions, chart.step) },
    cell.col);
}

function draw(chart, answer, decades) {
  const { plot } = chart;
  const last = Math.max(0, answer.time - 1);
  const scales = plot.scales({ x0: 0, x1: last, y0: decades.lo, y1: decades.hi, log: true });
  plot.axes({
    yTicks: decadeTicks(decades).map((e) => ({ at: scales.y(10 ** e), text: powerText(e) })),
    xTicks: [{ at: scales.x(0), text: 't = 0' }, ...(last > 0 ? [{ at: scales.x(last), text: `t = ${last}` }] : [])],
  });
  for (const state of answer.states) {
    const points = answer.norms[state].map((value, t) => [scales.x(t), scales.y(norm(value))]);
    plot.line(points, STATE_COLOURS[state] || '#555');
    plot.dots(points, STATE_COLOURS[state] || '#555', DOT_RADIUS_PX);
  }
  chart.x = scales.x;
  chart.plot.canvas.dataset.decades = `${decades.lo},${decades.hi}`;
}

/** Draw every run's norms at the step it shows, on decades shared by the loaded answers; true once all are there. */
export function paint(state, parts, env) {
  if (!parts.charts.length) return true;
  const source = env.source();
  const found = parts.charts.map((chart) => {
    const step = shownStep(state, state.byRun.get(chart.run));
    return { chart, step, ...source.throughTime(chart.run, chart.layer, step) };
  });
  const decades = decadeRange(allNorms(found.filter((f) => f.value).map((f) => f.value))) || { lo: -1, hi: 0 };
  let complete = true;
  for (const { chart, step, value, error } of found) {
    const canvas = chart.plot.canvas;
    if (!value && !error) {
      canvas.dataset.pending = 'true';
      complete = false;
      continue;
    }
    delete canvas.dataset.pending;
    chart.step = step;
    canvas.dataset.step = String(step);
    if (error) {
      chart.answer = null;
      chart.plot.axes();
      const words = error.status === 404 ? `not measured at step ${step}` : 'could not load';
      chart.plot.message(words);
      chart.text.textContent = words;
      chart.text.title = error.message;
      canvas.dataset.error = error.message;
      continue;
    }
    delete canvas.dataset.error;
    chart.answer = value;
    draw(chart, value, decades);
    chart.text.textContent = `step ${step} · ${decayText(value)}`;
    chart.text.title = '';
  }
  return complete;
}
