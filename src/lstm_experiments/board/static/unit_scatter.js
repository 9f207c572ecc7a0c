// Each unit's saturation, under the gradient through time (Karpathy, Johnson & Fei-Fei 2015, Fig. 3):
// for each ticked run whose layer logged its per-unit figures (/runs' layer unit_figures), one scatter
// per gate with a dot per unit at x = the fraction of its probe values under 0.1 (left-saturated: a
// gate shut) and y = over 0.9 (right-saturated: wide open), at the step the run shows (/units; the
// candidate on (v + 1) / 2). A unit near the dashed diagonal x + y = 1 is saturated all the time,
// near (0, 0) never. The clicked finding's units, in its run and layer, are drawn orange. Hover: the
// unit and its two fractions (and the other units under the mouse).

import { describeUnit } from './describe.js';
import { el } from './dom.js';
import { unitsOf } from './findings.js';
import { Plot, pointerAt, pointsNear } from './plot.js';
import { stepPosition } from './positions.js';
import { layerOf, runTitle } from './runs.js';
import { selectedRuns, shownStep } from './state.js';

const PLOT_PX = 130; // the square plot area's side
const MARGIN = { left: 30, right: 8, top: 8, bottom: 18 };
const DOT_RADIUS_PX = 3;
const HOVER_RADIUS_PX = 6;
const DOT_ALPHA = 0.6;
export const DOT_COLOUR = '#37474f';
export const HIGHLIGHT_COLOUR = '#ff6d00';
const TICKS = [0, 0.5, 1];

/** The ticked runs whose layer logged per-unit figures. */
export const scatterRuns = (state) => selectedRuns(state).filter((run) => layerOf(run, state.layer)?.unit_figures);

const number = (value) => (value === null || value === undefined ? NaN : value);

/** One dot per unit of a gate: {x: left, y: right} (null where either is NaN or ±inf, or the gate is not there). */
export function dotsOf(answer, gate) {
  const sides = answer && answer.saturation[gate];
  if (!sides) return [];
  return sides.left.map((left, unit) => {
    const x = number(left);
    const y = number(sides.right[unit]);
    return Number.isFinite(x) && Number.isFinite(y) ? { x, y } : null;
  });
}

/** The units the clicked finding names in this run and layer (null when it names none there). */
export function highlightedUnits(highlight, run, layer) {
  if (!highlight || highlight.run !== run || highlight.layer !== layer) return null;
  return unitsOf(highlight);
}

export function build(container, state, env) {
  const runs = scatterRuns(state);
  if (!runs.length) return { scatters: [] };
  const scatters = [];
  const rows = runs.map((run) => {
    const layer = layerOf(run, state.layer);
    const row = el('div', { class: 'lg-scatter-row' });
    for (const gate of layer.unit_figures.gates) {
      const plot = new Plot({ width: MARGIN.left + PLOT_PX + MARGIN.right, height: MARGIN.top + PLOT_PX + MARGIN.bottom,
        margin: MARGIN, attrs: { 'data-testid': 'unit-scatter' } });
      Object.assign(plot.canvas.dataset, { run: run.run, layer: layer.layer, gate });
      const scatter = { run: run.run, layer: layer.layer, gate, plot, answer: null, step: null, dots: [] };
      env.hover({ canvas: plot.canvas, cellAt: (event) => cellAt(scatter, event) }, (cell) => describe(env, scatter, cell));
      row.append(el('div', { class: 'lg-saturation' }, el('div', { class: 'lg-gate-head', text: `${gate} gate` }), plot.canvas));
      scatters.push(scatter);
    }
    return el('div', { class: 'lg-card', 'data-testid': 'unit-scatter-card', dataset: { run: run.run } },
      el('div', { class: 'lg-card-title', title: run.run, text: runTitle(run) }), row);
  });
  container.append(el('div', { class: 'lg-section-head' }, el('h3', { text: `unit saturation · ${state.layer}` }),
    el('span', { class: 'lg-caption', text: 'a dot per unit: → the fraction of its probe values under 0.1, '
      + '↑ over 0.9 (a tanh gate on (v + 1)/2); dashed: always saturated (Karpathy et al. 2015, Fig. 3)' })),
  el('div', { class: 'lg-compare' }, ...rows));
  return { scatters };
}

function cellAt(scatter, event) {
  if (!scatter.answer) return null;
  const { x, y } = pointerAt(event, scatter.plot.canvas);
  const units = pointsNear(scatter.dots, x, y, HOVER_RADIUS_PX);
  return units.length ? { col: units[0], row: 0, units } : null;
}

function describe(env, scatter, cell) {
  const state = env.getState();
  const run = state.byRun.get(scatter.run);
  const layer = layerOf(run, scatter.layer);
  if (!layer || !scatter.answer) return null;
  const positions = env.source().positions(run).value;
  return describeUnit({ run, layer, gate: scatter.gate, step: scatter.step, answer: scatter.answer, units: cell.units,
    where: stepPosition(positions, scatter.step) });
}

function draw(scatter, answer, marked) {
  const { plot } = scatter;
  const { x, y } = plot.scales({ x0: 0, x1: 1, y0: 0, y1: 1 });
  // The origin's 0 is the y axis' alone: the two would overlap in the corner.
  plot.axes({ xTicks: TICKS.filter((v) => v > 0).map((v) => ({ at: x(v), text: String(v) })),
    yTicks: TICKS.map((v) => ({ at: y(v), text: String(v) })) });
  plot.guide(x(0), y(1), x(1), y(0));
  const dots = dotsOf(answer, scatter.gate);
  scatter.dots = dots.map((dot) => (dot ? { x: x(dot.x), y: y(dot.y) } : null));
  const at = (units) => units.map((unit) => scatter.dots[unit]).filter(Boolean).map((dot) => [dot.x, dot.y]);
  const all = dots.map((_, unit) => unit);
  plot.dots(at(all.filter((unit) => !marked || !marked.includes(unit))), DOT_COLOUR, DOT_RADIUS_PX, DOT_ALPHA);
  if (marked) plot.dots(at(marked.filter((unit) => unit < dots.length)), HIGHLIGHT_COLOUR, DOT_RADIUS_PX + 1);
  plot.canvas.dataset.units = String(dots.length);
  if (marked) plot.canvas.dataset.highlight = marked.join(','); else delete plot.canvas.dataset.highlight;
}

/** Draw every run's gates at the step it shows; true once each has its answer (or failed). */
export function paint(state, parts, env) {
  if (!parts.scatters.length) return true;
  const source = env.source();
  let complete = true;
  for (const scatter of parts.scatters) {
    const canvas = scatter.plot.canvas;
    const step = shownStep(state, state.byRun.get(scatter.run));
    const { value, error } = source.units(scatter.run, scatter.layer, step);
    if (!value && !error) {
      canvas.dataset.pending = 'true';
      complete = false;
      continue;
    }
    delete canvas.dataset.pending;
    scatter.step = step;
    canvas.dataset.step = String(step);
    if (error) {
      scatter.answer = null;
      scatter.dots = [];
      scatter.plot.axes();
      scatter.plot.message(error.status === 404 ? `not measured at step ${step}` : 'could not load');
      canvas.dataset.error = error.message;
      continue;
    }
    delete canvas.dataset.error;
    scatter.answer = value;
    draw(scatter, value, highlightedUnits(state.highlight, scatter.run, scatter.layer));
  }
  return complete;
}
