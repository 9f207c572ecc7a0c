// The activations section: one run's gate values, cell and hidden state on a probe sequence (time
// across, units down), with what the layer read above each panel (input_view.js). The units axis
// follows the page's units order (unit_order.js: as built, or an order the run logged at the step); its
// note also says which of the layer's weight matrices stay as built (block-reduced).

import { maxAbs, paintBlock } from './colour.js';
import { describeActivation } from './describe.js';
import { el, select } from './dom.js';
import { panelKind, panelLabel } from './labels.js';
import { pixelsPer } from './layout.js';
import { stepPosition } from './positions.js';
import * as inputView from './input_view.js';
import { layerOf, runTitle } from './runs.js';
import { selectedRuns, shownStep } from './state.js';
import { usableScale } from './scales.js';
import * as unitOrder from './unit_order.js';
import { HeatCanvas, Legend } from './widgets.js';

const COLUMN_GAP_PX = 12; // style.css .lg-activation-row gap
const MAX_COLUMN_PX = 320;
const MAX_TIME_PX = 24; // px per time step, at most
const MAX_UNIT_PX = 24;
const UNITS_HEIGHT_PX = 256; // the units axis, at most ...
const UNITS_HEIGHT_SHARE = 0.2; // ... and at most this share of the frame's height
// A gate's value is in [0, 1], the candidate's in [-1, 1]: drawn as t = (v - offset) / divide.
const GATE_MAP = { offset: 0.5, divide: 0.5 };
const CANDIDATE_MAP = { offset: 0, divide: 1 };

/** The panels' geometry: {fx, fy} px per time step and per unit, cssWidth of a panel. */
export function activationsGeometry({ width, height }, panelCount, time, units) {
  const columnWidth = (width - COLUMN_GAP_PX * panelCount) / panelCount;
  const fx = pixelsPer(time, Math.min(MAX_COLUMN_PX, columnWidth), MAX_TIME_PX);
  const fy = pixelsPer(units, Math.min(UNITS_HEIGHT_PX, height * UNITS_HEIGHT_SHARE), MAX_UNIT_PX);
  return { fx, fy, cssWidth: time * fx };
}

const head = (text, ...extra) => el('div', { class: 'lg-section-head' }, el('h3', { text }), ...extra);

export function build(container, state, env) {
  const runs = selectedRuns(state);
  if (!runs.length) return { panels: [] };
  if (!state.activationsRun) {
    container.append(head('activations'), el('p', { class: 'lg-note',
      text: `No activations logged for layer ${state.layer} (train with viz=[gates,activations]).` }));
    return { panels: [] };
  }
  const run = state.byRun.get(state.activationsRun);
  const layer = layerOf(run, state.layer);
  const info = layer.activations;
  const extras = [];
  if (runs.length > 1) {
    const withActivations = runs.filter((r) => layerOf(r, state.layer)?.activations);
    extras.push(el('label', { class: 'lg-group' }, el('span', { class: 'lg-caption', text: 'run' }),
      select(withActivations.map((r) => [r.run, runTitle(r)]), run.run, { 'data-testid': 'activations-run-select',
        onchange: (event) => env.setState({ activationsRun: event.target.value }) })));
  }
  extras.push(el('label', { class: 'lg-group' }, el('span', { class: 'lg-caption', text: 'probe sequence' }),
    select([...Array(info.sequences).keys()].map((i) => [i, String(i)]), state.sequence, { 'data-testid': 'sequence-select',
      onchange: (event) => env.setState({ sequence: Number(event.target.value) }) })));
  const orders = layer.unit_figures ? layer.unit_figures.orders : null;
  const orderNote = el('span', { class: 'lg-step-note', 'data-testid': 'unit-order-note' });
  const order = orders ? unitOrder.control(layer, state.unitOrder, env) : null;
  if (order) extras.push(order.node, orderNote);
  const features = el('div', { class: 'lg-features', 'data-testid': 'feature-legend' });
  const { fx, fy, cssWidth } = activationsGeometry(state, info.panels.length, info.time, layer.units);
  const input = inputView.build({ run, layer, time: info.time, fx, cssWidth, legend: features });
  const row = el('div', { class: 'lg-activation-row' });
  const panels = info.panels.map((name, index) => {
    const kind = panelKind(name, info.candidate);
    const heat = new HeatCanvas({ cols: info.time, rows: layer.units, cssWidth, cssHeight: layer.units * fy,
      attrs: { 'data-testid': 'activation-panel', 'data-kind': 'activations' } });
    Object.assign(heat.canvas.dataset, { run: run.run, layer: layer.layer, panel: name });
    const legend = new Legend({ testid: 'activation-legend' });
    if (kind === 'gate') legend.set({ low: '0', mid: '0.5', high: '1' });
    if (kind === 'candidate') legend.set({ low: '−1', mid: '0', high: '+1' });
    const panel = { run: run.run, layer: layer.layer, index, name, kind, heat, legend, step: null };
    env.hover(heat, (cell) => describe(env, panel, input, cell));
    row.append(el('div', { class: 'lg-activation' }, el('div', { class: 'lg-gate-head', text: panelLabel(name, kind) }),
      inputView.slot(input, name), el('div', { class: 'lg-cell' }, heat.canvas), legend.node));
    return panel;
  });
  const above = input.source === 'layer' ? `what ${layer.layer} reads at this step` : 'the model\'s input (step 0)';
  const unitsText = el('span', { text: unitOrder.axisText(layer.units, unitOrder.BUILT) });
  container.append(head(`activations · ${runTitle(run)} · ${layer.layer}`, ...extras, features),
    el('div', { class: 'lg-axis-note' }, `time → across (${info.time} steps), `, unitsText,
      `; above each panel, ${above}; grey: a step the mask leaves out`), row);
  return { panels, input, run: run.run, layer: layer.layer, units: layer.units, orders, orderNote, unitsText,
    orderSelect: order && order.select, layerEntry: layer };
}

/**
 * The units order at `step` for activations of `count` units: {places (the unit at each place, null:
 * as built), by, note}, or {pending: true} while /units loads.
 */
function orderAt(state, parts, source, step, count) {
  const by = parts.orders && parts.orders.includes(state.unitOrder) ? state.unitOrder : unitOrder.BUILT;
  if (by === unitOrder.BUILT) return { places: null, by, note: '' };
  const { value, error } = source.units(parts.run, parts.layer, step);
  if (!value && !error) return { pending: true };
  const places = unitOrder.placeUnits(value, by, count);
  if (places) return { places, by, note: '' };
  const why = value && count !== parts.units ? 'the units axis is reduced' : `no ${by} order at step ${step}`;
  return { places: null, by: unitOrder.BUILT, note: `${why}: as built` };
}

function describe(env, panel, input, cell) {
  const state = env.getState();
  const run = state.byRun.get(panel.run);
  const layer = layerOf(run, panel.layer);
  if (!layer || panel.step === null) return null;
  const source = env.source();
  const current = source.activations(panel.run, panel.layer, panel.step).value;
  const initial = run.steps.includes(0) ? source.activations(panel.run, panel.layer, 0).value : null;
  const positions = source.positions(run).value;
  // A row is a place on the units axis; in an order other than as built, it holds another unit.
  const unit = panel.places ? panel.places[cell.row] : cell.row;
  const described = describeActivation({ run, layer, panel, step: panel.step, sequence: state.sequence, current, initial,
    inputLine: inputView.lineAt(state, input, state.sequence, cell.col), where: stepPosition(positions, panel.step),
    failing: Boolean(positions && positions.failure && positions.failure.step === panel.step) }, { col: cell.col, row: unit });
  if (described && panel.places) {
    described.lines[2] += ` · row ${cell.row} ${unitOrder.ORDER_LABELS[panel.order] || panel.order}`;
    described.data.place = cell.row;
  }
  return described;
}

/** The colour map of a panel: gates on [0, 1], the candidate on [-1, 1], states on this step's largest |value|. */
function mapOf(panel, value, sequences, time, units) {
  if (panel.kind === 'gate') return GATE_MAP;
  if (panel.kind === 'candidate') return CANDIDATE_MAP;
  const size = sequences * time * units;
  const scale = usableScale(maxAbs(value.data, null, panel.index * size, (panel.index + 1) * size));
  panel.legend.symmetric(scale, 'this step\'s largest |value|');
  return { offset: 0, divide: scale };
}

/** Paint every panel and the input at the state's step and sequence; true once all are drawn. */
export function paint(state, parts, env) {
  if (!parts.panels.length) return true;
  const source = env.source();
  let complete = inputView.paint(state, parts.input, env);
  const run = state.byRun.get(parts.run);
  const step = shownStep(state, run);
  const { value, error } = source.activations(parts.run, parts.layer, step);
  const order = value ? orderAt(state, parts, source, step, value.shape[3]) : null;
  if (parts.orders) {
    parts.orderSelect.value = parts.orders.includes(state.unitOrder) ? state.unitOrder : unitOrder.BUILT;
    const asked = parts.orders.includes(state.unitOrder) ? state.unitOrder : unitOrder.BUILT;
    parts.orderNote.textContent = order && !order.pending
      ? [order.note, unitOrder.weightsNote(parts.layerEntry, asked)].filter(Boolean).join('; ') : '';
  }
  for (const panel of parts.panels) {
    const canvas = panel.heat.canvas;
    if (!value || order.pending) {
      if (error) { canvas.dataset.error = error.message; canvas.title = `could not load: ${error.message}`; } else canvas.dataset.pending = 'true';
      complete = complete && Boolean(error);
      continue;
    }
    const [, sequences, time, units] = value.shape;
    panel.heat.resize(time, units); // wide layers log their units reduced block-wise
    const q = Math.min(state.sequence, sequences - 1);
    const start = ((panel.index * sequences + q) * time) * units;
    const block = unitOrder.permuteUnits(value.data.subarray(start, start + time * units), time, units, order.places);
    const map = mapOf(panel, value, sequences, time, units);
    panel.heat.paint((pixels) => paintBlock(pixels, block, units, 0, time, units, { ...map, transpose: true }));
    Object.assign(panel, { step, places: order.places, order: order.by });
    canvas.dataset.step = String(step);
    canvas.dataset.order = order.by;
    if (order.places) canvas.dataset.places = order.places.join(','); else delete canvas.dataset.places;
    delete canvas.dataset.pending;
    delete canvas.dataset.error;
  }
  parts.unitsText.textContent = unitOrder.axisText(parts.units, order && !order.pending ? order.by : unitOrder.BUILT);
  return complete;
}
