// One run's weights: a row per matrix, a column per gate, each panel labelled with its own shape,
// a colour legend per row. Built from the run's layer; painted at the state's step, a clicked
// finding's panels outlined (weight_panel.js' paintHighlight). The panels follow the page's units order
// (unit_order.js); beside the title, why a matrix stays as built (the activations' note's words).

import { el } from './dom.js';
import { MATRIX_LABELS, panelShape } from './labels.js';
import { gridFactor, sidePx, weightsBudget } from './layout.js';
import { runTitle, layerOf } from './runs.js';
import { groupScale, scaleCaption } from './scales.js';
import { selectedRuns } from './state.js';
import * as weightPanel from './weight_panel.js';
import { Legend } from './widgets.js';

const LABEL_PX = 120; // the matrix names' column
const LEGEND_PX = 170;
const GAP_PX = 10; // between the grid's columns
const MAX_PANEL_PX = 340; // one gate's panel, at most
const ROW_OVERHEAD_PX = 32; // a row's unit marks (style.css .lg-unit-marks), shape caption and gap, taken from the height budget

export function build(container, state, env) {
  const [run] = selectedRuns(state);
  const layer = layerOf(run, state.layer);
  if (!layer) {
    container.append(el('p', { class: 'lg-note', text: 'This run has no such layer.' }));
    return { groups: [], panels: [] };
  }
  const gates = layer.gates;
  const panelWidth = Math.min(MAX_PANEL_PX, (state.width - LABEL_PX - LEGEND_PX - GAP_PX * (gates.length + 2)) / gates.length);
  const shapes = layer.matrices.map((matrix) => panelShape(matrix, gates.length));
  const factor = gridFactor(shapes, panelWidth, weightsBudget(state.height), ROW_OVERHEAD_PX);
  const grid = el('div', { class: 'lg-grid', 'data-testid': 'weights-grid',
    style: { gridTemplateColumns: `${LABEL_PX}px repeat(${gates.length}, max-content) ${LEGEND_PX}px` } });
  grid.append(el('div'), ...gates.map((gate) => el('div', { class: 'lg-gate-head', text: gate })), el('div'));
  const groups = [];
  const panels = [];
  layer.matrices.forEach((matrix, m) => {
    const shape = shapes[m];
    const legend = new Legend({ testid: 'legend' });
    legend.node.dataset.matrix = matrix.matrix;
    const group = { legend, fixed: matrix.scale, members: [] };
    groups.push(group);
    grid.append(el('div', { class: 'lg-row-head', text: MATRIX_LABELS[matrix.matrix] || matrix.matrix }));
    const cssWidth = sidePx(shape.cols, factor);
    const cssHeight = sidePx(shape.rows, factor);
    gates.forEach((gate, gateIndex) => {
      const panel = weightPanel.build({ run, layer, matrix, gateIndex, cssWidth, cssHeight }, env);
      group.members.push(panel);
      panels.push(panel);
      grid.append(el('div', { class: 'lg-cell' }, panel.heat.canvas, panel.marks,
        el('div', { class: 'lg-shape', 'data-testid': 'panel-shape', text: shape.text, dataset: { matrix: matrix.matrix, gate } })));
    });
    grid.append(el('div', { class: 'lg-legend-cell' }, legend.node));
  });
  const orderNote = el('span', { class: 'lg-step-note', 'data-testid': 'weights-order-note' });
  container.append(el('div', { class: 'lg-section-head' },
    el('h3', { text: `${runTitle(run)} · ${layer.layer} (${layer.cell}, ${layer.units} units)` }), orderNote), grid);
  return { groups, panels, orderNote };
}

/** Paint every panel at the state's step, each row on its legend's scale; true once all are drawn. */
export function paint(state, parts, env) {
  const source = env.source();
  let complete = true;
  for (const group of parts.groups) {
    const frames = group.members.map((panel) => weightPanel.frameOf(panel, state, source));
    // The four gates of a row share one matrix: one member is enough for the scale.
    const { scale, covered, total } = groupScale([{ fixed: group.fixed, ...frames[0] }], state.view, state.changeScale);
    group.legend.symmetric(scale, scaleCaption(state.view, state.changeScale, { covered, total }));
    Object.assign(group.legend.node.dataset, { view: state.view, changeScale: state.changeScale, covered: String(covered) });
    group.legend.nonFinite(frames.reduce((sum, frame) => sum + (frame.ready ? frame.nonFinite : 0), 0));
    group.members.forEach((panel, index) => {
      complete = weightPanel.paintPanel(panel, frames[index], scale, state.view) && complete;
    });
  }
  for (const panel of parts.panels) weightPanel.paintHighlight(panel, state.highlight);
  if (parts.orderNote) {
    const notes = new Set(parts.panels.map((panel) => (panel.frame && panel.frame.ready ? panel.frame.order.note : '')).filter(Boolean));
    parts.orderNote.textContent = [...notes].join('; ');
  }
  return complete;
}
