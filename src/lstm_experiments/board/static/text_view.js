// The text view (issue 23): the probe's text with each token coloured by a chosen unit's value (its
// hidden state h, cell state c or a gate) at the shown step, a row per chosen unit under the same text;
// where each unit is highest and lowest; and select and match: drag over the text to select a stretch,
// the units most active over it and the other places where they are all on are listed (unit_match.js).
// Shown only for a run whose probe holds tokens (/runs' encoding: ids or one_hot). Colours, words and
// layout: text_layout.js; the lists under the text: unit_lists.js. Each line of a sequence is one
// canvas, a row per unit: its tokens' texts are drawn once into a layer of their own, and a paint fills
// each cell's colour and lays that layer on top (recolouring thousands of DOM spans cost the browser
// about 60 ms a frame; docs/performance.md).

import { putBwr } from './colour.js';
import { el, formatValue, select } from './dom.js';
import { panelKind, panelLabel } from './labels.js';
import { layerOf, runTitle } from './runs.js';
import { shownStep } from './state.js';
import {
  cellAtX, cellOffsets, charsPerLine, cssColour, holdsTokens, lineChunks, panelMap, probeTexts,
} from './text_layout.js';
import { contextOf, MAX_MATCH_UNITS } from './unit_match.js';
import { paintExtremes, paintMatch } from './unit_lists.js';

export const DEFAULT_PANEL = 'hidden';
export const DEFAULT_UNITS = 4; // units 0..3 until the user names others
export const MAX_UNITS = 16;
const CHAR_PX = 10; // a token's cell is at least this wide (a character of FONT and its padding) ...
const CELL_PAD_PX = 2; // ... and its text's width plus this
const ROW_PX = 16; // a unit's row
const LABEL_PX = 56; // style.css .lg-text-labels width
const FONT = '12px "Roboto Mono", Menlo, "DejaVu Sans Mono", monospace';
const TEXT_COLOUR = '#212121';
const SELECTED_COLOUR = '#212121';
const MATCHED_COLOUR = '#e08e0b';
const MARK_PX = 3; // a matched token's underline

/** The units a state asks for, in range (at most MAX_UNITS): state.textUnits, else (none) the first DEFAULT_UNITS. */
export function chosenUnits(state, units) {
  const inRange = (asked) => [...new Set(asked)].filter((u) => Number.isInteger(u) && u >= 0 && u < units).slice(0, MAX_UNITS);
  const chosen = inRange(state.textUnits ?? []);
  return chosen.length ? chosen : inRange(Array.from({ length: DEFAULT_UNITS }, (_, u) => u));
}

/** The units written in a text field ("3, 17 42") as integers. */
export const parseUnits = (text) => (String(text).match(/\d+/g) || []).map(Number);

const head = (text, ...extra) => el('div', { class: 'lg-section-head' }, el('h3', { text }), ...extra);
const group = (caption, control) => el('label', { class: 'lg-group' }, el('span', { class: 'lg-caption', text: caption }), control);

export function build(container, state, env) {
  const run = state.activationsRun ? state.byRun.get(state.activationsRun) : null;
  const layer = run && layerOf(run, state.layer);
  if (!holdsTokens(run) || !layer || !layer.activations) return { shown: false };
  const info = layer.activations;
  const panel = info.panels.includes(state.textPanel) ? state.textPanel : (info.panels.includes(DEFAULT_PANEL) ? DEFAULT_PANEL : info.panels[0]);
  const panelIndex = info.panels.indexOf(panel);
  const kind = panelKind(panel, info.candidate);
  const units = chosenUnits(state, layer.units);
  const panelSelect = select(info.panels.map((name) => [name, panelLabel(name, panelKind(name, info.candidate))]), panel,
    { 'data-testid': 'text-panel-select', onchange: (event) => env.setState({ textPanel: event.target.value }) });
  const unitsInput = el('input', { type: 'text', value: units.join(' '), size: 24, 'data-testid': 'text-units',
    onchange: (event) => env.setState({ textUnits: parseUnits(event.target.value) }) });
  const countSelect = select([['', 'auto'], ...Array.from({ length: MAX_MATCH_UNITS }, (_, i) => [i + 1, String(i + 1)])],
    state.matchCount ?? '', { 'data-testid': 'match-count', onchange: (event) => env.setState({ matchCount: event.target.value ? Number(event.target.value) : null }) });
  const root = el('div', { class: 'lg-text-view', 'data-testid': 'text-view' });
  Object.assign(root.dataset, { run: run.run, layer: layer.layer, panel, kind, units: units.join(',') });
  const body = el('div', { class: 'lg-text-body', 'data-testid': 'text-body' });
  const extremesBox = el('div', { class: 'lg-text-extremes', 'data-testid': 'text-extremes' });
  const matchBox = el('div', { class: 'lg-text-match', 'data-testid': 'text-match' });
  root.append(body, el('h4', { text: 'where each unit is highest and lowest on the probe' }), extremesBox,
    el('h4', { text: 'select and match: drag over the text to select a stretch' }), matchBox);
  container.append(head(`text · ${runTitle(run)} · ${layer.layer}`, group('colour by', panelSelect), group('units', unitsInput),
    group('units to match', countSelect)),
  el('div', { class: 'lg-axis-note', text: `each token coloured by the unit's ${panelLabel(panel, kind)} at the shown step `
    + `(${kind === 'state' ? 'blue − / red + on the step\'s largest |value|' : kind === 'gate' ? '0 blue, 0.5 white, 1 red' : '−1 blue, +1 red'}); `
    + 'a row per unit; ␣ a space, ↵ a line end, ⇥ a tab; hover reads the value' }), root);
  const parts = { shown: true, run: run.run, layer: layer.layer, panel, panelIndex, kind, units, root, body, extremesBox, matchBox,
    width: state.width, texts: null, lines: null, anchor: null, step: null, env };
  body.addEventListener('mousedown', (event) => {
    const cell = cellOf(parts, event);
    if (!cell) return;
    event.preventDefault();
    parts.anchor = cell;
  });
  body.addEventListener('mouseup', (event) => {
    const cell = cellOf(parts, event);
    const anchor = parts.anchor;
    parts.anchor = null;
    if (!cell || !anchor || cell.sequence !== anchor.sequence) return;
    env.setState({ textSelection: { run: parts.run, layer: parts.layer, sequence: cell.sequence,
      start: Math.min(cell.t, anchor.t), end: Math.max(cell.t, anchor.t) + 1 } });
  });
  return parts;
}

/** The token under a mouse event on one of the lines' canvases: {sequence, t, unit}, or null. */
function cellOf(parts, event) {
  const line = parts.lines && parts.lines.find((l) => l.canvas === event.target);
  return line ? lineCell(parts, line, event) : null;
}

function lineCell(parts, line, event) {
  const rect = line.canvas.getBoundingClientRect();
  const index = cellAtX(line.offsets, event.clientX - rect.left);
  const row = Math.floor((event.clientY - rect.top) / ROW_PX);
  if (index < 0 || row < 0 || row >= parts.units.length) return null;
  return { sequence: line.sequence, t: line.start + index, unit: parts.units[row] };
}

function describe(env, parts, cell) {
  const state = env.getState();
  const run = state.byRun.get(parts.run);
  if (!run || parts.step === null) return null;
  const { value } = env.source().activations(parts.run, parts.layer, parts.step);
  if (!value || !parts.texts) return null;
  const [, sequences, time, units] = value.shape;
  if (cell.sequence >= sequences || cell.t >= time || cell.unit >= units) return null;
  const v = value.data[((parts.panelIndex * sequences + cell.sequence) * time + cell.t) * units + cell.unit];
  const { before, token, after } = contextOf(parts.texts, cell.sequence, cell.t);
  return {
    lines: [`run: ${runTitle(run)}`, `${parts.layer} · unit ${cell.unit} · ${panelLabel(parts.panel, parts.kind)} · step ${parts.step}`,
      `probe sequence ${cell.sequence} · t = ${cell.t}: ${before}[${token}]${after}`, `value ${formatValue(v)}`],
    data: { sequence: cell.sequence, t: cell.t, unit: cell.unit, step: parts.step, token, value: String(v) },
  };
}

/** The lines of every sequence, built once the probe is there: [{sequence, start, end, canvas, offsets, textLayer}]. */
function buildLines(parts, texts) {
  const perLine = charsPerLine(parts.width, CHAR_PX, LABEL_PX);
  const measure = document.createElement('canvas').getContext('2d');
  measure.font = FONT;
  const ratio = window.devicePixelRatio || 1;
  const height = parts.units.length * ROW_PX;
  const lines = [];
  texts.forEach((row, q) => {
    const block = el('div', { class: 'lg-text-sequence', 'data-testid': 'text-sequence', dataset: { sequence: q } },
      el('div', { class: 'lg-caption', text: `probe sequence ${q}` }));
    for (const [start, end] of lineChunks(row, perLine)) {
      const tokens = row.slice(start, end);
      const widths = tokens.map((text) => (measure.measureText ? measure.measureText(text).width : CHAR_PX) + CELL_PAD_PX);
      const offsets = cellOffsets(widths, CHAR_PX);
      const canvas = el('canvas', { class: 'lg-text-canvas', 'data-testid': 'text-line', width: Math.round(offsets.width * ratio),
        height: Math.round(height * ratio), dataset: { sequence: q, start, end, units: parts.units.join(','), rowPx: ROW_PX,
          x: offsets.x.join(','), width: offsets.width } });
      canvas.style.width = `${offsets.width}px`;
      canvas.style.height = `${height}px`;
      const textLayer = document.createElement('canvas');
      textLayer.width = canvas.width;
      textLayer.height = canvas.height;
      const context = textLayer.getContext('2d');
      context.scale(ratio, ratio);
      context.font = FONT;
      context.fillStyle = TEXT_COLOUR;
      context.textAlign = 'center';
      context.textBaseline = 'middle';
      parts.units.forEach((_, r) => tokens.forEach((text, i) => {
        const cellWidth = (offsets.x[i + 1] ?? offsets.width) - offsets.x[i];
        context.fillText(text, offsets.x[i] + cellWidth / 2, r * ROW_PX + ROW_PX / 2 + 1);
      }));
      const line = { sequence: q, start, end, canvas, offsets, textLayer, context: canvas.getContext('2d'), ratio,
        grid: uniformGrid(offsets, parts.units.length) };
      parts.env.hover({ canvas, cellAt: (event) => lineCell(parts, line, event) }, (cell) => describe(parts.env, parts, cell));
      const labels = el('div', { class: 'lg-text-labels' }, parts.units.map((unit) => el('div', { text: `unit ${unit}` })));
      block.append(el('div', { class: 'lg-text-line' }, labels, canvas));
      lines.push(line);
    }
    parts.body.append(block);
  });
  return lines;
}

/**
 * Where every cell of a line is as wide (characters), its colours are a picture of a pixel per cell
 * (cols x rows), drawn scaled: {canvas, context, image, cellPx}; else null (each cell filled on its own).
 */
function uniformGrid(offsets, rows) {
  const cols = offsets.x.length;
  const cellPx = offsets.width / Math.max(1, cols);
  if (!cols || offsets.x.some((x, i) => x !== i * cellPx)) return null;
  const canvas = document.createElement('canvas');
  canvas.width = cols;
  canvas.height = rows;
  const context = canvas.getContext('2d');
  return { canvas, context, image: context.createImageData(cols, rows), cellPx };
}

/** Colour one line at the step: each cell its unit's colour, then the texts, then the selection's and matches' marks. */
function paintLine(parts, line, value, map, marks) {
  const { context: c, ratio, offsets, grid } = line;
  const [, sequences, time, units] = value.shape;
  const cols = line.end - line.start;
  const inverse = 1 / map.divide;
  c.setTransform(ratio, 0, 0, ratio, 0, 0);
  parts.units.forEach((unit, r) => {
    if (line.sequence >= sequences || unit >= units) return;
    let k = ((parts.panelIndex * sequences + line.sequence) * time + line.start) * units + unit;
    for (let t = line.start; t < line.end && t < time; t++, k += units) {
      const i = t - line.start;
      if (grid) {
        putBwr(grid.image.data, (r * cols + i) * 4, (value.data[k] - map.offset) * inverse);
        continue;
      }
      c.fillStyle = cssColour(value.data[k], map);
      c.fillRect(offsets.x[i], r * ROW_PX, (offsets.x[i + 1] ?? offsets.width) - offsets.x[i], ROW_PX);
    }
  });
  if (grid) {
    grid.context.putImageData(grid.image, 0, 0);
    c.imageSmoothingEnabled = false;
    c.drawImage(grid.canvas, 0, 0, cols, parts.units.length, 0, 0, offsets.width, parts.units.length * ROW_PX);
  }
  c.setTransform(1, 0, 0, 1, 0, 0);
  c.drawImage(line.textLayer, 0, 0);
  c.setTransform(ratio, 0, 0, ratio, 0, 0);
  const height = parts.units.length * ROW_PX;
  for (const [q, start, end, selected] of marks) {
    if (q !== line.sequence || end <= line.start || start >= line.end) continue;
    const from = Math.max(start, line.start) - line.start;
    const to = Math.min(end, line.end) - line.start;
    const left = offsets.x[from];
    const right = offsets.x[to] ?? offsets.width;
    if (selected) {
      c.strokeStyle = SELECTED_COLOUR;
      c.lineWidth = 2;
      c.strokeRect(left + 1, 1, right - left - 2, height - 2);
    } else {
      c.fillStyle = MATCHED_COLOUR;
      for (let r = 1; r <= parts.units.length; r++) c.fillRect(left, r * ROW_PX - MARK_PX, right - left, MARK_PX);
    }
  }
}

/** Colour every line at the state's step; list the extremes and the matches. True once drawn (or failed). */
export function paint(state, parts, env) {
  if (!parts.shown) return true;
  parts.env = env;
  const source = env.source();
  const run = state.byRun.get(parts.run);
  const step = shownStep(state, run);
  const probe = source.probe(parts.run);
  const acts = source.activations(parts.run, parts.layer, step);
  const error = probe.error || acts.error;
  if (error) { parts.root.dataset.error = error.message; return true; }
  if (!probe.value || !acts.value) { parts.root.dataset.pending = 'true'; return false; }
  if (!parts.lines) {
    parts.texts = probeTexts(probe.value);
    parts.lines = buildLines(parts, parts.texts);
  }
  const value = acts.value;
  const map = panelMap(parts.kind, value, parts.panelIndex);
  paintExtremes(parts, value);
  const marks = paintMatch(state, parts, value);
  for (const line of parts.lines) {
    paintLine(parts, line, value, map, marks);
    line.canvas.dataset.step = String(step); // as every panel's canvas: what the page's waits check
  }
  parts.step = step;
  Object.assign(parts.root.dataset, { step: String(step), offset: String(map.offset), divide: String(map.divide) });
  delete parts.root.dataset.pending;
  delete parts.root.dataset.error;
  return true;
}
