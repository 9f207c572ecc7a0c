// The text view (issue 23): the probe's text with each token coloured by a chosen unit's value (its
// hidden state h, cell state c or a gate) at the shown step, a row per chosen unit under the same text;
// where each unit is highest and lowest; and select and match: drag over the text to select a stretch,
// the units most active over it and the other places where they are all on are listed (unit_match.js).
// Shown only for a run whose probe holds tokens (/runs' encoding: ids or one_hot). Colours, words and
// layout: text_layout.js.

import { clear, el, formatValue, select } from './dom.js';
import { panelKind, panelLabel } from './labels.js';
import { layerOf, runTitle } from './runs.js';
import { shownStep } from './state.js';
import { charsPerLine, cssColour, holdsTokens, lineChunks, panelMap, probeTexts } from './text_layout.js';
import { CONTEXT_TOKENS, contextOf, extremes, matchSelection, MAX_MATCH_UNITS } from './unit_match.js';

export const DEFAULT_PANEL = 'hidden';
export const DEFAULT_UNITS = 4; // units 0..3 until the user names others
export const MAX_UNITS = 16;
const CHAR_PX = 9; // style.css .lg-char width
const LABEL_PX = 56; // style.css .lg-text-label width

/** The units a state asks for, in range: state.textUnits, or the first DEFAULT_UNITS. */
export function chosenUnits(state, units) {
  const asked = state.textUnits ?? Array.from({ length: DEFAULT_UNITS }, (_, u) => u);
  return [...new Set(asked)].filter((u) => Number.isInteger(u) && u >= 0 && u < units).slice(0, MAX_UNITS);
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
  Object.assign(root.dataset, { run: run.run, layer: layer.layer, panel, kind });
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
    width: state.width, texts: null, cells: null, anchor: null, step: null };
  env.hover({ canvas: body, cellAt: (event) => cellOf(event.target) }, (cell) => describe(env, parts, cell));
  body.addEventListener('mousedown', (event) => {
    const cell = cellOf(event.target);
    if (!cell) return;
    event.preventDefault();
    parts.anchor = cell;
  });
  body.addEventListener('mouseup', (event) => {
    const cell = cellOf(event.target);
    const anchor = parts.anchor;
    parts.anchor = null;
    if (!cell || !anchor || cell.sequence !== anchor.sequence) return;
    env.setState({ textSelection: { run: parts.run, layer: parts.layer, sequence: cell.sequence,
      start: Math.min(cell.t, anchor.t), end: Math.max(cell.t, anchor.t) + 1 } });
  });
  return parts;
}

function cellOf(node) {
  const data = node && node.dataset;
  if (!data || data.t === undefined || data.sequence === undefined) return null;
  return { sequence: Number(data.sequence), t: Number(data.t), unit: Number(data.unit) };
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

/** The rows of every sequence, built once the probe is there: {cells: [{sequence, unit, spans}]}. */
function buildRows(parts, texts) {
  const perLine = charsPerLine(parts.width, CHAR_PX, LABEL_PX);
  const cells = [];
  texts.forEach((row, q) => {
    const spans = parts.units.map(() => []);
    const block = el('div', { class: 'lg-text-sequence', 'data-testid': 'text-sequence', dataset: { sequence: q } },
      el('div', { class: 'lg-caption', text: `probe sequence ${q}` }));
    for (const [start, end] of lineChunks(row, perLine)) {
      const line = el('div', { class: 'lg-text-line' });
      parts.units.forEach((unit, i) => {
        const rowNode = el('div', { class: 'lg-text-row', 'data-testid': 'text-row', dataset: { unit, sequence: q } },
          el('span', { class: 'lg-text-label', text: `unit ${unit}` }));
        for (let t = start; t < end; t++) {
          const span = el('span', { class: 'lg-char', text: row[t], dataset: { sequence: q, t, unit } });
          spans[i].push(span);
          rowNode.append(span);
        }
        line.append(rowNode);
      });
      block.append(line);
    }
    parts.units.forEach((unit, i) => cells.push({ sequence: q, unit, spans: spans[i] }));
    parts.body.append(block);
  });
  return cells;
}

function place(parts, { sequence, t }, value) {
  const { before, token, after } = contextOf(parts.texts, sequence, t, CONTEXT_TOKENS);
  return el('li', { class: 'lg-text-place', dataset: { sequence, t, value } },
    el('span', { class: 'lg-caption', text: `${formatValue(value)} · seq ${sequence} t ${t}  ` }),
    el('code', {}, before, el('mark', { text: token }), after));
}

function paintExtremes(parts, value) {
  clear(parts.extremesBox);
  for (const unit of parts.units) {
    const { high, low } = extremes(value, parts.panelIndex, unit);
    parts.extremesBox.append(el('div', { class: 'lg-text-unit', 'data-testid': 'text-unit-extremes', dataset: { unit } },
      el('strong', { text: `unit ${unit}` }),
      el('div', {}, el('span', { class: 'lg-caption', text: 'highest' }), el('ol', { 'data-testid': 'text-high' }, high.map((p) => place(parts, p, p.value)))),
      el('div', {}, el('span', { class: 'lg-caption', text: 'lowest' }), el('ol', { 'data-testid': 'text-low' }, low.map((p) => place(parts, p, p.value))))));
  }
}

function paintMatch(state, parts, value) {
  clear(parts.matchBox);
  for (const span of parts.marked || []) span.classList.remove('lg-selected', 'lg-matched');
  parts.marked = [];
  const selection = state.textSelection;
  if (!selection || selection.run !== parts.run || selection.layer !== parts.layer
    || selection.sequence >= value.shape[1] || selection.end > value.shape[2]) {
    parts.matchBox.append(el('p', { class: 'lg-note', text: 'No stretch selected.' }));
    return;
  }
  const found = matchSelection(value, parts.panelIndex, selection, { count: state.matchCount });
  const mark = (q, start, end, name) => {
    for (const cell of parts.cells) {
      if (cell.sequence !== q) continue;
      for (let t = start; t < end; t++) { cell.spans[t].classList.add(name); parts.marked.push(cell.spans[t]); }
    }
  };
  mark(selection.sequence, selection.start, selection.end, 'lg-selected');
  for (const m of found.matches) mark(m.sequence, m.start, m.end, 'lg-matched');
  const texts = parts.texts[selection.sequence].slice(selection.start, selection.end).join('');
  const stretch = (m) => parts.texts[m.sequence].slice(m.start, m.end).join('');
  parts.matchBox.append(
    el('p', {}, `selected: sequence ${selection.sequence}, t ${selection.start}–${selection.end - 1} `, el('code', { text: texts }),
      el('button', { type: 'button', text: 'clear', 'data-testid': 'text-clear', onclick: () => parts.env.setState({ textSelection: null }) })),
    el('div', { class: 'lg-caption', text: 'units most active over it (mean over the selection − mean elsewhere on the probe):' }),
    el('ol', { 'data-testid': 'match-units' }, found.ranked.slice(0, 8).map((r, i) => el('li', {
      class: i < found.units.length ? 'lg-matching' : '', dataset: { unit: r.unit, contrast: r.contrast } },
    `unit ${r.unit}: ${formatValue(r.contrast)} (${formatValue(r.inside)} against ${formatValue(r.outside)})${i < found.units.length ? ' · matched' : ''}`))),
    el('div', { class: 'lg-caption', text: `other places where unit${found.units.length > 1 ? 's' : ''} ${found.units.map((u) => u.unit).join(', ')} `
      + `${found.units.length > 1 ? 'are all' : 'is'} on (at least halfway between the two means): ${found.total}${found.total > found.matches.length ? `, the first ${found.matches.length}` : ''}` }),
    el('ol', { 'data-testid': 'match-places' }, found.matches.map((m) => el('li', { dataset: { sequence: m.sequence, start: m.start, end: m.end } },
      el('span', { class: 'lg-caption', text: `seq ${m.sequence} t ${m.start}–${m.end - 1}  ` }),
      el('code', {}, contextOf(parts.texts, m.sequence, m.start).before, el('mark', { text: stretch(m) }),
        contextOf(parts.texts, m.sequence, m.end - 1).after)))));
}

/** Colour every row at the state's step; list the extremes and the matches. True once drawn (or failed). */
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
  if (!parts.cells) {
    parts.texts = probeTexts(probe.value);
    parts.cells = buildRows(parts, parts.texts);
  }
  const value = acts.value;
  const [, sequences, time, units] = value.shape;
  const map = panelMap(parts.kind, value, parts.panelIndex);
  for (const { sequence, unit, spans } of parts.cells) {
    if (sequence >= sequences || unit >= units) continue;
    let k = ((parts.panelIndex * sequences + sequence) * time) * units + unit;
    for (let t = 0; t < spans.length && t < time; t++, k += units) spans[t].style.backgroundColor = cssColour(value.data[k], map);
  }
  paintExtremes(parts, value);
  paintMatch(state, parts, value);
  parts.step = step;
  Object.assign(parts.root.dataset, { step: String(step), offset: String(map.offset), divide: String(map.divide) });
  delete parts.root.dataset.pending;
  delete parts.root.dataset.error;
  return true;
}
