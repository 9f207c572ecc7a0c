// One weight canvas: one gate of one matrix of one run, for the one-run grid (weights_grid.js) and
// the several-runs strip (runs_strip.js). build() makes it; frameOf() finds what it shows at the
// state's step; paintPanel() draws that on its group's scale.

import { paintBlock } from './colour.js';
import { describeWeight } from './describe.js';
import { panelShape } from './labels.js';
import { stepPosition } from './positions.js';
import { shownStep } from './state.js';
import { HeatCanvas } from './widgets.js';

/** A panel of `matrix`'s gate `gateIndex` (run, layer: /runs entries), cssWidth x cssHeight px. */
export function build({ run, layer, matrix, gateIndex, cssWidth, cssHeight }, env) {
  const { rows, cols } = panelShape(matrix, layer.gates.length);
  const heat = new HeatCanvas({ cols, rows, cssWidth, cssHeight, attrs: { 'data-testid': 'panel', 'data-kind': 'weights' } });
  Object.assign(heat.canvas.dataset, { run: run.run, layer: layer.layer, matrix: matrix.matrix, gate: layer.gates[gateIndex] });
  const panel = { run: run.run, layer: layer.layer, matrix: matrix.matrix, gateIndex, perGate: cols, heat, frame: null };
  env.hover(heat, (cell) => {
    const state = env.getState();
    const run = state.byRun.get(panel.run);
    const layer = run && (run.layers || []).find((l) => l.layer === panel.layer);
    const info = layer && layer.matrices.find((m) => m.matrix === panel.matrix);
    if (!info || !panel.frame || !panel.frame.current) return null;
    const source = env.source();
    const initial = source.weights(panel.run, panel.layer, panel.matrix, 0).value;
    const where = stepPosition(source.positions(run).value, panel.frame.step);
    return describeWeight({ run, layer, matrix: info, gateIndex, step: panel.frame.step, current: panel.frame.current, initial,
      where }, cell);
  });
  return panel;
}

const nonFiniteOf = (value, gateIndex) => (value.nonFinite ? value.nonFinite[gateIndex] || 0 : 0);

/**
 * What the panel shows at the state's step: {step, current, initial, ready, error}; for the
 * change view also stepChange (this step's largest change) and runChange (over the run's steps).
 */
export function frameOf(panel, state, source) {
  const run = state.byRun.get(panel.run);
  const step = shownStep(state, run);
  const change = state.view === 'change';
  const current = source.weights(panel.run, panel.layer, panel.matrix, step);
  const initial = change ? source.weights(panel.run, panel.layer, panel.matrix, 0) : {};
  const ready = Boolean(current.value && (!change || initial.value));
  const frame = { step, current: current.value, initial: initial.value, ready,
    error: current.error || (change && initial.error) || null,
    // this gate's values that are NaN or ±inf (a failing batch's weights), drawn grey
    nonFinite: current.value ? nonFiniteOf(current.value, panel.gateIndex) : 0 };
  if (ready && change) frame.stepChange = source.stepChange(panel.run, panel.layer, panel.matrix, step, current.value, initial.value);
  if (change && state.changeScale === 'run') frame.runChange = source.runChange(run, panel.layer, panel.matrix);
  panel.frame = frame;
  return frame;
}

/** Draw the panel's frame on `scale`; true once drawn or failed (false while it loads). */
export function paintPanel(panel, frame, scale, view) {
  const canvas = panel.heat.canvas;
  if (!frame.ready) {
    if (frame.error) {
      canvas.dataset.error = frame.error.message;
      canvas.title = `could not load: ${frame.error.message}`;
      delete canvas.dataset.pending;
    } else canvas.dataset.pending = 'true';
    return Boolean(frame.error);
  }
  const data = frame.current.data;
  const cols = frame.current.shape[1];
  const base = view === 'change' ? frame.initial.data : null;
  panel.heat.paint((pixels) => paintBlock(pixels, data, cols, panel.gateIndex * panel.perGate, panel.heat.rows, panel.perGate,
    { base, divide: scale }));
  canvas.dataset.step = String(frame.step);
  canvas.dataset.view = view;
  canvas.dataset.nonFinite = String(frame.nonFinite);
  delete canvas.dataset.pending;
  delete canvas.dataset.error;
  return true;
}
