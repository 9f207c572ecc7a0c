// The saturation charts, under the activations: for each gate of the activations' run and layer, one
// figure per logged step, the fraction of its probe values that are saturated (under 0.1 plus over 0.9;
// the candidate: under -0.8 plus over 0.8), from /saturation's low and high curves, the shown step
// marked. Hovering a step shows its two parts.

import { describeSaturation } from './describe.js';
import { el, formatValue } from './dom.js';
import { panelKind, panelLabel } from './labels.js';
import { nearestIndex } from './plot.js';
import { layerOf } from './runs.js';
import { shownStep } from './state.js';
import { LineChart } from './widgets.js';

const CHART_WIDTH_PX = 300; // at most; narrower when the gates do not fit one row
const CHART_MIN_WIDTH_PX = 180;
const CHART_HEIGHT_PX = 100;
const CHART_GAP_PX = 16; // style.css .lg-saturation-row gap
const CHART_PAD_PX = 4;
export const SATURATION_COLOUR = '#6a1b9a';

/** The last point of a curve at or before `step`, or null. */
export function pointAt(points, step) {
  let found = null;
  for (const point of points) if (point[0] <= step) found = point;
  return found;
}

/** The last point of a curve at or before `step`, as text ('–' if none). */
export function valueAt(points, step) {
  const found = pointAt(points, step);
  return found ? formatValue(found[1]) : '–';
}

/** The saturated fraction at every step that has both parts: [[step, low + high]]. */
export function totalCurve(curves) {
  const high = new Map(curves.high.map(([step, value]) => [step, value]));
  return curves.low.filter(([step]) => high.has(step)).map(([step, low]) => [step, low + high.get(step)]);
}

/** {step, low, high} of the last step at or before `step` with both parts, or null. */
export function partsAt(curves, step) {
  const point = pointAt(totalCurve(curves), step);
  if (!point) return null;
  const at = (points) => points.find(([s]) => s === point[0])[1];
  return { step: point[0], low: at(curves.low), high: at(curves.high) };
}

/** The words under a chart: "step k: 0.35 saturated". */
export const saturationText = (curves, step) => `step ${step}: ${valueAt(totalCurve(curves), step)} saturated`;

export function build(container, state, env) {
  const run = state.activationsRun ? state.byRun.get(state.activationsRun) : null;
  const layer = layerOf(run, state.layer);
  if (!layer || !layer.saturation || !layer.activations) return { charts: [] };
  const info = layer.activations;
  const gates = info.panels.filter((name) => panelKind(name, info.candidate) !== 'state');
  const width = Math.max(CHART_MIN_WIDTH_PX,
    Math.min(CHART_WIDTH_PX, Math.floor((state.width - CHART_GAP_PX * gates.length) / gates.length)));
  const row = el('div', { class: 'lg-saturation-row' });
  const charts = gates.map((gate) => {
    const chart = new LineChart({ width, height: CHART_HEIGHT_PX, attrs: { 'data-testid': 'saturation-panel' } });
    Object.assign(chart.canvas.dataset, { run: run.run, layer: layer.layer, gate });
    const text = el('div', { class: 'lg-saturation-text', 'data-testid': 'saturation-text' });
    const entry = { run: run.run, layer: layer.layer, gate, candidate: gate === info.candidate, chart, text, curves: null };
    if (env) env.hover({ canvas: chart.canvas, cellAt: (event) => cellAt(entry, event) }, (cell) => describe(env, entry, cell));
    row.append(el('div', { class: 'lg-saturation' },
      el('div', { class: 'lg-gate-head', text: panelLabel(gate, panelKind(gate, info.candidate)) }), chart.canvas, text));
    return entry;
  });
  container.append(el('div', { class: 'lg-section-head' }, el('h3', { text: `saturation · ${layer.layer}` }),
    el('span', { class: 'lg-feature' }, el('span', { class: 'lg-swatch', style: { background: SATURATION_COLOUR } }),
      'saturated: under 0.1 or over 0.9 (candidate: under −0.8 or over 0.8)'),
    el('span', { class: 'lg-caption', text: 'fraction of the probe\'s values, by step; dashed: the shown step; hover: the two parts' })), row);
  return { charts };
}

/** The logged step nearest the mouse on a chart (as a cell's col), or null before it is drawn. */
function cellAt(entry, event) {
  if (!entry.curves) return null;
  const x = entry.chart.xAtPx(event.clientX - entry.chart.canvas.getBoundingClientRect().left);
  const steps = totalCurve(entry.curves).map(([step]) => step);
  const index = x === null ? -1 : nearestIndex(steps, x);
  return index < 0 ? null : { col: steps[index], row: 0 };
}

function describe(env, entry, cell) {
  const run = env.getState().byRun.get(entry.run);
  const parts = entry.curves && partsAt(entry.curves, cell.col);
  if (!run || !parts) return null;
  return describeSaturation({ run, layer: layerOf(run, entry.layer), gate: entry.gate, candidate: entry.candidate, ...parts });
}

/** Draw each gate's saturated fraction with the shown step marked; true once drawn or failed. */
export function paint(state, parts, env) {
  if (!parts.charts.length) return true;
  const source = env.source();
  let complete = true;
  for (const entry of parts.charts) {
    const { run: id, layer, gate, chart, text } = entry;
    const run = state.byRun.get(id);
    const { value: data, error } = source.saturation(id, layer, `${run.max_step}:${run.kept_steps}`);
    if (!data) {
      complete = complete && Boolean(error);
      continue;
    }
    const curves = (data.gates || {})[gate] || { low: [], high: [] };
    entry.curves = curves;
    const step = shownStep(state, run);
    const x1 = Math.max(1, run.max_step ?? 0, ...curves.low.map((p) => p[0]));
    chart.draw({ series: [{ points: totalCurve(curves), colour: SATURATION_COLOUR }],
      x0: 0, x1, y0: 0, y1: 1, marker: step, zero: 0.5, ticks: ['0', '1'], xTicks: ['0', `step ${x1}`], pad: CHART_PAD_PX });
    chart.canvas.dataset.step = String(step);
    text.textContent = saturationText(curves, step);
  }
  return complete;
}
