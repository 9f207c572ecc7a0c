// Several runs side by side: the chosen gate and matrix of each, at the same pixels per weight (a
// 128-unit run is drawn twice as wide as a 64-unit one), on one shared legend or one per run; a
// clicked finding's run outlined where the panel shows its layer and gate (weight_panel.js).

import { el, select } from './dom.js';
import { MATRIX_LABELS, panelShape } from './labels.js';
import { sidePx, stripFactor, weightsBudget } from './layout.js';
import { distinguishingNames, layerOf, runTitle } from './runs.js';
import { groupScale, scaleCaption } from './scales.js';
import { selectedRuns } from './state.js';
import * as weightPanel from './weight_panel.js';
import { Legend } from './widgets.js';

const CARD_GAP_PX = 16; // between the cards (style.css .lg-compare gap)
const CARD_MIN_PX = 120; // a card is at least this wide, for its title

function head(state, env, runs) {
  const layer = runs.map((run) => layerOf(run, state.layer)).find(Boolean);
  const gates = layer ? layer.gates : [];
  const matrices = layer ? layer.matrices.map((m) => m.matrix) : [];
  const radio = (value, label) => el('label', { class: 'lg-radio' }, el('input', { type: 'radio', name: 'scale', value,
    'data-testid': `scale-${value}`, checked: state.scale === value, onchange: () => env.setState({ scale: value }) }), label);
  return el('div', { class: 'lg-section-head' }, el('h3', { text: `${runs.length} runs · ${state.layer}` }),
    el('label', { class: 'lg-group' }, el('span', { class: 'lg-caption', text: 'gate' }),
      select(gates.map((g) => [g, g]), state.gate, { 'data-testid': 'gate-select',
        onchange: (event) => env.setState({ gate: event.target.value }) })),
    el('label', { class: 'lg-group' }, el('span', { class: 'lg-caption', text: 'matrix' }),
      select(matrices.map((m) => [m, MATRIX_LABELS[m] || m]), state.matrix, { 'data-testid': 'matrix-select',
        onchange: (event) => env.setState({ matrix: event.target.value }) })),
    el('div', { class: 'lg-group' }, el('span', { class: 'lg-caption', text: 'scale' }),
      radio('shared', 'shared'), radio('own', 'each run\'s own')));
}

export function build(container, state, env) {
  const runs = selectedRuns(state);
  const top = head(state, env, runs);
  const found = runs.map((run) => {
    const layer = layerOf(run, state.layer);
    const matrix = layer && layer.matrices.find((m) => m.matrix === state.matrix);
    const gateIndex = layer ? layer.gates.indexOf(state.gate) : -1;
    return matrix && gateIndex >= 0 ? { run, layer, matrix, gateIndex, shape: panelShape(matrix, layer.gates.length) } : { run };
  });
  const factor = stripFactor(found.map((f) => f.shape || null), state.width, weightsBudget(state.height), CARD_GAP_PX);
  const shared = state.scale === 'shared' ? { legend: new Legend({ testid: 'legend' }), members: [] } : null;
  if (shared) top.append(shared.legend.node);
  const groups = shared ? [shared] : [];
  const titles = distinguishingNames(runs.map(runTitle));
  const row = el('div', { class: 'lg-compare' });
  const notes = [];
  found.forEach(({ run, layer, matrix, gateIndex, shape }, position) => {
    const note = el('span', { class: 'lg-step-note' });
    const card = el('div', { class: 'lg-card', 'data-testid': 'run-card', dataset: { run: run.run } },
      el('div', { class: 'lg-card-title', title: run.run, text: titles[position] }),
      titles[position] !== runTitle(run) ? el('div', { class: 'lg-card-name', text: runTitle(run) }) : null, note);
    row.append(card);
    if (!matrix) {
      card.append(el('p', { class: 'lg-note', text: `no ${state.gate} ${state.matrix} in layer ${state.layer}` }));
      return;
    }
    const cssWidth = sidePx(shape.cols, factor);
    card.style.width = `${Math.max(CARD_MIN_PX, cssWidth)}px`;
    const panel = weightPanel.build({ run, layer, matrix, gateIndex, cssWidth, cssHeight: sidePx(shape.rows, factor) }, env);
    const group = shared || { legend: new Legend({ testid: 'legend' }), members: [] };
    group.members.push({ panel, fixed: matrix.scale });
    if (!shared) groups.push(group);
    notes.push({ panel, note });
    card.append(el('div', { class: 'lg-cell' }, panel.heat.canvas, panel.marks),
      el('div', { class: 'lg-shape', 'data-testid': 'panel-shape', text: shape.text }));
    if (!shared) card.append(group.legend.node);
  });
  container.append(top, row);
  return { groups, notes, panels: notes.map(({ panel }) => panel), shared: Boolean(shared) };
}

/** Paint each run's panel at the step it shows (its latest at or before the slider's). */
export function paint(state, parts, env) {
  const source = env.source();
  let complete = true;
  for (const group of parts.groups) {
    const frames = group.members.map(({ panel }) => weightPanel.frameOf(panel, state, source));
    const { scale, covered, total } = groupScale(group.members.map((m, i) => ({ fixed: m.fixed, ...frames[i] })),
      state.view, state.changeScale);
    group.legend.symmetric(scale, scaleCaption(state.view, state.changeScale, { shared: parts.shared, covered, total }));
    Object.assign(group.legend.node.dataset, { view: state.view, changeScale: state.changeScale, covered: String(covered) });
    group.legend.nonFinite(frames.reduce((sum, frame) => sum + (frame.ready ? frame.nonFinite : 0), 0));
    group.members.forEach(({ panel }, index) => {
      complete = weightPanel.paintPanel(panel, frames[index], scale, state.view) && complete;
    });
  }
  for (const { panel, note } of parts.notes) {
    const words = [panel.frame && panel.frame.step !== state.step ? `showing step ${panel.frame.step}` : '',
      panel.frame && panel.frame.ready ? panel.frame.order.note : ''];
    note.textContent = words.filter(Boolean).join('; ');
    weightPanel.paintHighlight(panel, state.highlight);
  }
  return complete;
}
