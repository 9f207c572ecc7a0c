// The input above the activation panels: what the selected layer read at the shown step
// (/probe?run&layer&step: the model's input for a first layer, the embedding vectors for an
// Embedding-fed one, the outputs of the layer below for a stacked one), or, for runs logged
// before that route (the layer's activations.input absent or false), the model's input at
// step 0 (/probe?run). A few features are drawn as lines on the step's [min, max], its two ticks
// labelled; more than MAX_INPUT_LINES as a heat
// strip (time across, features down) on the bwr map of the step's largest |value|. Steps the
// layer's mask leaves out are NaN: gaps on a grey band in the lines, grey in the strip.
//
// Its data and words are input_data.js' (pure).

import { maxAbs, paintBlock } from './colour.js';
import { describeInput } from './describe.js';
import { clear, el, formatScale } from './dom.js';
import {
  featureLabel, inputLine, inputMode, inputShape, inputSource, maskedSteps, stripCaption, valueRange,
} from './input_data.js';
import { pixelsPer } from './layout.js';
import { shownStep } from './state.js';
import { FEATURE_COLOURS, HeatCanvas, Legend, LineChart } from './widgets.js';

const LINES_PX = 40;
const STRIP_MAX_PX = 64;
const STRIP_MIN_PX = 12;
const MASKED_BAND = '#dcdcdc';

/**
 * One input per activations section (activations.js): build() makes it, slot() a place above each
 * panel, paint() draws the shown step's input into every slot and the feature legend.
 * run, layer: /runs entries; time, fx (px per time step), cssWidth: the panels' geometry;
 * legend: the node of the feature legend.
 */
export function build({ run, layer, time, fx, cssWidth, legend }) {
  return { run: run.run, layer: layer.layer, source: inputSource(layer), time, fx, cssWidth, legend,
    slots: [], views: [], mode: null, count: null, drawn: null, current: null, step: null, sequence: 0 };
}

/** A new slot: a div above the panel `panel` (its canvas gets data-panel). */
export function slot(parts, panel) {
  const node = el('div', { class: 'lg-input-slot', 'data-testid': 'input-slot', dataset: { source: parts.source, panel } });
  parts.slots.push(node);
  return node;
}

const runOf = (state, parts) => state.byRun.get(parts.run);
const layerOfParts = (run, parts) => (run.layers || []).find((l) => l.layer === parts.layer);

/** The step whose input is shown: the panels' step, or 0 for the model's input. */
const inputStep = (state, parts) => (parts.source === 'layer' ? shownStep(state, runOf(state, parts)) : 0);

const namesOf = (state, parts) => (parts.source === 'probe' ? runOf(state, parts)?.features || [] : []);

/** Draw the shown step's input; true once drawn or failed (false while it loads). */
export function paint(state, parts, env) {
  const step = inputStep(state, parts);
  const source = env.source();
  const { value, error } = parts.source === 'layer' ? source.layerInput(parts.run, parts.layer, step) : source.probe(parts.run);
  if (!value) {
    for (const node of parts.slots) {
      if (error) { node.dataset.error = error.message; node.title = `could not load: ${error.message}`; } else node.dataset.pending = 'true';
    }
    return Boolean(error);
  }
  const q = Math.min(state.sequence, inputShape(value.shape).sequences - 1);
  const drawn = `${step}:${q}`;
  if (parts.drawn === drawn && parts.current === value) return true;
  Object.assign(parts, { drawn, current: value, step, sequence: q });
  const { count } = inputShape(value.shape);
  const mode = inputMode(count);
  if (mode !== parts.mode || count !== parts.count) makeCanvases(state, parts, env, mode, count);
  const scale = maxAbs(value.data);
  const range = Number.isFinite(scale) && scale > 0 ? scale : 1;
  if (mode === 'lines') drawLines(parts, value, q); else drawStrip(parts, value, q, range);
  for (const [index, { canvas }] of parts.views.entries()) {
    Object.assign(canvas.dataset, { sequence: String(q), scale: String(range), count: String(count) });
    if (parts.source === 'layer') canvas.dataset.step = String(step);
    delete parts.slots[index].dataset.pending;
    delete parts.slots[index].dataset.error;
  }
  paintLegend(parts, namesOf(state, parts), value, mode, range, step);
  return true;
}

/** The time step under a mouse event over a lines chart (its columns are fx px wide). */
function timeAt(event, canvas, fx, time) {
  const rect = canvas.getBoundingClientRect();
  const col = Math.floor((event.clientX - rect.left) / fx);
  return col >= 0 && col < time ? { col, row: 0 } : null;
}

function makeCanvases(state, parts, env, mode, count) {
  parts.mode = mode;
  parts.count = count;
  parts.views = [];
  const attrs = { 'data-testid': 'input-panel' };
  for (const node of parts.slots) {
    clear(node);
    let view;
    if (mode === 'lines') {
      const chart = new LineChart({ width: parts.cssWidth, height: LINES_PX, attrs });
      Object.assign(chart.canvas.dataset, { cols: String(parts.time), rows: '1' });
      view = { canvas: chart.canvas, chart, cellAt: (event) => timeAt(event, chart.canvas, parts.fx, parts.time) };
    } else {
      const fy = pixelsPer(count, STRIP_MAX_PX, 4);
      const heat = new HeatCanvas({ cols: parts.time, rows: count, cssWidth: parts.cssWidth,
        cssHeight: Math.max(STRIP_MIN_PX, count * fy), attrs: { ...attrs, 'data-kind': 'input' } });
      view = { canvas: heat.canvas, heat, cellAt: (event) => heat.cellAt(event) };
    }
    Object.assign(view.canvas.dataset, { run: parts.run, layer: parts.layer, panel: node.dataset.panel, source: parts.source, mode });
    env.hover(view, (cell) => describe(env.getState(), parts, cell));
    parts.views.push(view);
    node.append(view.canvas);
  }
}

function describe(state, parts, cell) {
  const run = runOf(state, parts);
  if (!run || !parts.current) return null;
  const feature = parts.mode === 'strip' ? cell.row : null;
  return describeInput({ run, layer: layerOfParts(run, parts), input: parts.current, source: parts.source, step: parts.step,
    sequence: parts.sequence, mode: parts.mode, line: lineAt(state, parts, parts.sequence, cell.col, feature) }, cell);
}

function drawLines(parts, input, q) {
  const { time, count } = inputShape(input.shape);
  const series = [];
  for (let f = 0; f < count; f++) {
    const points = [];
    for (let t = 0; t < time; t++) points.push([t, input.data[(q * time + t) * count + f]]);
    series.push({ points, colour: FEATURE_COLOURS[f % FEATURE_COLOURS.length] });
  }
  const fx = parts.fx;
  const bands = maskedSteps(input, q).map((t) => [t * fx, (t + 1) * fx]);
  const { min, max } = valueRange(input.data);
  for (const { chart } of parts.views) {
    chart.draw({ series, bands, bandColour: MASKED_BAND, x0: 0, x1: time - 1, y0: min, y1: max,
      zero: min < 0 && max > 0 ? 0 : null, ticks: [formatScale(min), formatScale(max)], xAt: (t) => (t + 0.5) * fx });
    Object.assign(chart.canvas.dataset, { min: String(min), max: String(max) });
  }
}

function drawStrip(parts, input, q, range) {
  const { time, count } = inputShape(input.shape);
  const block = input.data.subarray(q * time * count, (q + 1) * time * count);
  for (const { heat } of parts.views) {
    heat.paint((pixels) => paintBlock(pixels, block, count, 0, time, count, { divide: range, transpose: true }));
  }
}

function paintLegend(parts, names, input, mode, range, step) {
  const legend = parts.legend;
  clear(legend);
  const { count } = inputShape(input.shape);
  Object.assign(legend.dataset, { source: parts.source, mode, count: String(count), step: String(step) });
  const from = parts.source === 'layer' ? `what ${parts.layer} reads at step ${step}` : 'the model\'s input, step 0';
  if (mode === 'strip') {
    const bar = new Legend({ testid: 'input-legend' });
    bar.symmetric(range, 'input: this step\'s largest |value| · features ↓, time →');
    legend.append(el('span', { class: 'lg-caption', 'data-testid': 'input-caption', text: `${stripCaption(input)} · ${from}` }),
      bar.node);
    return;
  }
  legend.append(el('span', { class: 'lg-caption', 'data-testid': 'input-caption', text: `input (${from})` }));
  for (let f = 0; f < count; f++) {
    legend.append(el('span', { class: 'lg-feature' },
      el('span', { class: 'lg-swatch', style: { background: FEATURE_COLOURS[f % FEATURE_COLOURS.length] } }),
      featureLabel(input, f, names)));
  }
}

/** The tooltip line about time t of sequence q of the shown input ('' before it is there). */
export function lineAt(state, parts, q, t, feature = null) {
  const input = parts.current;
  if (!input) return '';
  const { sequences, time } = inputShape(input.shape);
  if (t < 0 || t >= time) return '';
  return inputLine(input, Math.min(q, sequences - 1), t, { feature, names: namesOf(state, parts) });
}
