// The input above the activation panels: what the selected layer read at the shown step
// (/probe?run&layer&step: the model's input for a first layer, the embedding vectors for an
// Embedding-fed one, the outputs of the layer below for a stacked one), or, for runs logged
// before that route (the layer's activations.input absent or false), the model's input at
// step 0 (/probe?run). A few features are drawn as lines; more than MAX_INPUT_LINES as a heat
// strip (time across, features down) on the bwr map of the step's largest |value|. Steps the
// layer's mask leaves out are NaN: gaps on a grey band in the lines, grey in the strip.
//
// The functions above InputView are pure (tests/js/input_view.test.mjs runs them in node).

import { maxAbs, paintBlock } from './colour.js';
import { clear, el, formatValue } from './dom.js';
import { keys, loadLayerInput, loadProbe } from './model.js';
import { FEATURE_COLOURS, HeatCanvas, Legend, LineChart, pixelsPer } from './views.js';

export const MAX_INPUT_LINES = 8; // above this many features the input is a heat strip
export const MASKED = 'masked';
const LINES_PX = 40;
const STRIP_MAX_PX = 64;
const STRIP_MIN_PX = 12;
const MASKED_BAND = '#dcdcdc';

/** 'layer' when the layer logged what it read (/probe?layer&step), else 'probe' (/probe?run, step 0). */
export const inputSource = (layer) => (layer && layer.activations && layer.activations.input === true ? 'layer' : 'probe');

/** How an input of `count` features is drawn: 'lines' (few) or 'strip' (many). */
export const inputMode = (count, limit = MAX_INPUT_LINES) => (count > limit ? 'strip' : 'lines');

/** {sequences, time, count} of a (sequences, time, features...) shape; a (sequences, time) one has 1 feature. */
export function inputShape(shape) {
  const [sequences = 0, time = 0, ...rest] = shape;
  return { sequences, time, count: rest.reduce((a, b) => a * b, 1) };
}

export const isMissing = (value) => value === null || value === undefined || Number.isNaN(value);

/** A value as the tooltip says it: 'masked' (or `word`) for NaN, a step the layer's mask leaves out. */
export const valueText = (value, word = MASKED) => (isMissing(value) ? word : formatValue(value));

/** Every value missing: a masked time step (an empty list is not). */
export const isMaskedStep = (values) => values.length > 0 && values.every(isMissing);

/** The values of every feature of sequence q at time t. */
export function valuesAt(input, q, t) {
  const { time, count } = inputShape(input.shape);
  const start = (q * time + t) * count;
  return Array.from(input.data.subarray(start, start + count));
}

/** The label of feature f: its name, else `feature f`; a reduced input's block: `features a–b`. */
export function featureLabel(input, f, fallbackNames = []) {
  const block = input.block > 1 ? input.block : 1;
  if (block > 1) {
    const width = input.width || inputShape(input.shape).count * block;
    return `features ${f * block}–${Math.min((f + 1) * block, width) - 1}`;
  }
  const names = input.features && input.features.length ? input.features : fallbackNames || [];
  return names[f] ?? `feature ${f}`;
}

/** The legend's words for a strip: "input: N features (embedding/previous layer)". */
export function stripCaption(input) {
  const { count } = inputShape(input.shape);
  const width = input.width || count;
  const shown = input.block > 1 ? `, shown in ${count} blocks of ${input.block}` : '';
  return `input: ${width} features (embedding/previous layer)${shown}`;
}

/**
 * The tooltip's line about the input of sequence q at time t: 'input: masked' at a masked step;
 * each feature's value when there are at most `limit`; else the hovered `feature`'s (if any)
 * and the largest |value| at that time.
 */
export function inputLine(input, q, t, { feature = null, limit = MAX_INPUT_LINES, names = [] } = {}) {
  const values = valuesAt(input, q, t);
  if (isMaskedStep(values)) return `input: ${MASKED} (the layer's mask leaves time ${t} out)`;
  if (values.length <= limit) {
    return `input: ${values.map((v, f) => `${featureLabel(input, f, names)} ${valueText(v)}`).join(', ')}`;
  }
  const largest = formatValue(maxAbs(values));
  const hovered = feature === null ? '' : `${featureLabel(input, feature, names)} ${valueText(values[feature])} · `;
  return `input: ${hovered}largest |value| of ${values.length} features ${largest}`;
}

/** The time steps at which every feature of sequence q is missing. */
export function maskedSteps(input, q) {
  const { time } = inputShape(input.shape);
  const found = [];
  for (let t = 0; t < time; t++) if (isMaskedStep(valuesAt(input, q, t))) found.push(t);
  return found;
}

/**
 * One input per activations section: a slot above each panel (slot()), the feature legend, and
 * paint(), which draws the shown step's input into every slot. app: the GatesApp (need, shownStep,
 * hover, state.sequence); describe(view, cell): the tooltip of a cell of the input.
 */
export class InputView {
  constructor({ app, run, layer, time, fx, cssWidth, legend, describe }) {
    Object.assign(this, { app, run, layer, time, fx, cssWidth, legend, describe });
    this.source = inputSource(layer);
    this.slots = [];
    this.views = []; // per slot: {canvas, chart | heat}
    this.mode = null;
    this.drawn = null;
    this.current = null;
    this.step = null;
  }

  /** A new slot: a div above the panel `panel` (its canvas gets data-panel). */
  slot(panel) {
    const node = el('div', { class: 'lg-input-slot', 'data-testid': 'input-slot', dataset: { source: this.source, panel } });
    this.slots.push(node);
    return node;
  }

  key(step) {
    return this.source === 'layer' ? keys.layerInput(this.run.run, this.layer.layer, step) : keys.probe(this.run.run);
  }

  load(step) {
    return this.source === 'layer' ? loadLayerInput(this.app.store, this.run.run, this.layer.layer, step)
      : loadProbe(this.app.store, this.run.run);
  }

  /** The step whose input is shown: the panels' step, or 0 for the model's input. */
  shownStep() {
    return this.source === 'layer' ? this.app.shownStep(this.run) : 0;
  }

  names() {
    return this.source === 'probe' ? this.run.features || [] : [];
  }

  /** Draw the shown step's input; true once drawn or failed (false while it loads). */
  paint() {
    const step = this.shownStep();
    const { value, error } = this.app.need(this.key(step), () => this.load(step));
    if (!value) {
      for (const slot of this.slots) {
        if (error) { slot.dataset.error = error.message; slot.title = `could not load: ${error.message}`; } else slot.dataset.pending = 'true';
      }
      return Boolean(error);
    }
    const q = Math.min(this.app.state.sequence, inputShape(value.shape).sequences - 1);
    const drawn = JSON.stringify([this.key(step), q]);
    if (this.drawn === drawn) return true;
    this.drawn = drawn;
    this.current = value;
    this.step = step;
    this.sequence = q;
    const { count } = inputShape(value.shape);
    const mode = inputMode(count);
    if (mode !== this.mode || count !== this.count) this.makeCanvases(mode, count);
    const scale = maxAbs(value.data);
    const range = Number.isFinite(scale) && scale > 0 ? scale : 1;
    if (mode === 'lines') this.drawLines(value, q, range); else this.drawStrip(value, q, range);
    for (const [index, { canvas }] of this.views.entries()) {
      Object.assign(canvas.dataset, { sequence: String(q), scale: String(range), count: String(count) });
      if (this.source === 'layer') canvas.dataset.step = String(step);
      delete this.slots[index].dataset.pending;
      delete this.slots[index].dataset.error;
    }
    this.paintLegend(value, mode, range, step);
    return true;
  }

  makeCanvases(mode, count) {
    this.mode = mode;
    this.count = count;
    this.views = [];
    const attrs = { 'data-testid': 'input-panel' };
    for (const slot of this.slots) {
      clear(slot);
      let view;
      if (mode === 'lines') {
        const chart = new LineChart({ width: this.cssWidth, height: LINES_PX, attrs });
        Object.assign(chart.canvas.dataset, { cols: String(this.time), rows: '1' });
        const cellAt = (event) => this.app.timeAt(event, chart.canvas, this.fx, this.time);
        view = { canvas: chart.canvas, chart, cellAt };
      } else {
        const fy = pixelsPer(count, STRIP_MAX_PX, 4);
        const heat = new HeatCanvas({ cols: this.time, rows: count, cssWidth: this.cssWidth,
          cssHeight: Math.max(STRIP_MIN_PX, count * fy), attrs: { ...attrs, 'data-kind': 'input' } });
        view = { canvas: heat.canvas, heat, cellAt: (event) => heat.cellAt(event) };
      }
      Object.assign(view.canvas.dataset, { run: this.run.run, layer: this.layer.layer, panel: slot.dataset.panel,
        source: this.source, mode });
      this.app.hover(view, (cell) => this.describe(this, cell));
      this.views.push(view);
      slot.append(view.canvas);
    }
  }

  drawLines(input, q, range) {
    const { time, count } = inputShape(input.shape);
    const series = [];
    for (let f = 0; f < count; f++) {
      const points = [];
      for (let t = 0; t < time; t++) points.push([t, input.data[(q * time + t) * count + f]]);
      series.push({ points, colour: FEATURE_COLOURS[f % FEATURE_COLOURS.length] });
    }
    const fx = this.fx;
    const bands = maskedSteps(input, q).map((t) => [t * fx, (t + 1) * fx]);
    for (const { chart } of this.views) {
      chart.draw({ series, bands, bandColour: MASKED_BAND, x0: 0, x1: time - 1, y0: -range, y1: range, zero: 0,
        xAt: (t) => (t + 0.5) * fx });
    }
  }

  drawStrip(input, q, range) {
    const { time, count } = inputShape(input.shape);
    const block = input.data.subarray(q * time * count, (q + 1) * time * count);
    for (const { heat } of this.views) {
      heat.paint((pixels) => paintBlock(pixels, block, count, 0, time, count, { divide: range, transpose: true }));
    }
  }

  paintLegend(input, mode, range, step) {
    const legend = this.legend;
    clear(legend);
    const { count } = inputShape(input.shape);
    Object.assign(legend.dataset, { source: this.source, mode, count: String(count), step: String(step) });
    const from = this.source === 'layer' ? `what ${this.layer.layer} reads at step ${step}` : 'the model\'s input, step 0';
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
        featureLabel(input, f, this.names())));
    }
  }

  /** The tooltip line about time t of the shown sequence ('' before the input is there). */
  lineAt(q, t, feature = null) {
    const input = this.current;
    if (!input) return '';
    const { sequences, time } = inputShape(input.shape);
    if (t < 0 || t >= time) return '';
    return inputLine(input, Math.min(q, sequences - 1), t, { feature, names: this.names() });
  }
}
