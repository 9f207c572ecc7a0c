// The saturation charts, under the activations: for each gate of the activations' run and layer,
// the fraction of its values under 0.1 (blue) and over 0.9 (red; the candidate: under -0.8 and
// over 0.8) at every logged step (/saturation), the shown step marked.

import { el, formatValue } from './dom.js';
import { panelKind, panelLabel } from './labels.js';
import { layerOf } from './runs.js';
import { shownStep } from './state.js';
import { LineChart } from './widgets.js';

const CHART_WIDTH_PX = 300; // at most; narrower when the gates do not fit one row
const CHART_MIN_WIDTH_PX = 180;
const CHART_HEIGHT_PX = 100;
const CHART_GAP_PX = 16; // style.css .lg-saturation-row gap
const CHART_PAD_PX = 4;
export const HIGH_COLOUR = '#d62728';
export const LOW_COLOUR = '#1f5fbf';

/** The last point of a curve at or before `step`, as text ('–' if none). */
export function valueAt(points, step) {
  let found = null;
  for (const point of points) if (point[0] <= step) found = point;
  return found ? formatValue(found[1]) : '–';
}

/** The words under a chart: "step k: low a · high b". */
export const saturationText = (curves, step) => `step ${step}: low ${valueAt(curves.low, step)} · high ${valueAt(curves.high, step)}`;

export function build(container, state) {
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
    row.append(el('div', { class: 'lg-saturation' },
      el('div', { class: 'lg-gate-head', text: panelLabel(gate, panelKind(gate, info.candidate)) }), chart.canvas, text));
    return { run: run.run, layer: layer.layer, gate, chart, text };
  });
  const swatch = (colour, words) => el('span', { class: 'lg-feature' },
    el('span', { class: 'lg-swatch', style: { background: colour } }), words);
  container.append(el('div', { class: 'lg-section-head' }, el('h3', { text: `saturation · ${layer.layer}` }),
    swatch(HIGH_COLOUR, 'over 0.9 (candidate: over 0.8)'), swatch(LOW_COLOUR, 'under 0.1 (candidate: under −0.8)'),
    el('span', { class: 'lg-caption', text: 'fraction of the probe\'s values, by step; dashed: the shown step' })), row);
  return { charts };
}

/** Draw each gate's curves with the shown step marked; true once drawn or failed. */
export function paint(state, parts, env) {
  if (!parts.charts.length) return true;
  const source = env.source();
  let complete = true;
  for (const { run: id, layer, gate, chart, text } of parts.charts) {
    const run = state.byRun.get(id);
    const { value: data, error } = source.saturation(id, layer, `${run.max_step}:${run.kept_steps}`);
    if (!data) {
      complete = complete && Boolean(error);
      continue;
    }
    const curves = (data.gates || {})[gate] || { low: [], high: [] };
    const step = shownStep(state, run);
    const x1 = Math.max(1, run.max_step ?? 0, ...curves.low.map((p) => p[0]));
    chart.draw({ series: [{ points: curves.high, colour: HIGH_COLOUR }, { points: curves.low, colour: LOW_COLOUR }],
      x0: 0, x1, y0: 0, y1: 1, marker: step, zero: 0.5, ticks: ['0', '1'], xTicks: ['0', `step ${x1}`], pad: CHART_PAD_PX });
    chart.canvas.dataset.step = String(step);
    text.textContent = saturationText(curves, step);
  }
  return complete;
}
