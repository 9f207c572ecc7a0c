// Which views a state change rebuilds, repaints or leaves alone. Pure (tests/js/render_plan.test.mjs).
//
// Each view is drawn from two projections of the state: `layout`, what its DOM is built from (a
// change rebuilds it), and `paint`, what its pixels and words show (a change repaints it). Data
// arriving from the server repaints the views that asked for it (GatesApp), not through here.

import { layerOf, runTitle } from './runs.js';
import { selectedRuns } from './state.js';
import { holdsTokens } from './text_layout.js';

export const BUILD = 'build';
export const PAINT = 'paint';
export const KEEP = 'keep';

const matrixShapes = (layer) => (layer ? layer.matrices.map((m) => [m.matrix, m.shape, m.logged_shape, m.reduced, m.block]) : null);

const weightsLayout = (s) => ({
  width: s.width, height: s.height, layer: s.layer, gate: s.gate, matrix: s.matrix, scale: s.scale,
  runs: selectedRuns(s).map((run) => {
    const layer = layerOf(run, s.layer);
    return [run.run, runTitle(run), run.name, layer && [layer.cell, layer.units, layer.gates, matrixShapes(layer)]];
  }),
});

// What the step label, the slider's marks and the failure lines are drawn from, of each ticked run.
const positionInputs = (s) => selectedRuns(s).map((r) => [r.run, runTitle(r), r.positions, r.failure, r.max_step, r.kept_steps]);

const activationsRun = (s) => (s.activationsRun ? s.byRun.get(s.activationsRun) : null);

const activationsLayout = (s) => {
  const run = activationsRun(s);
  const layer = layerOf(run, s.layer);
  return {
    width: s.width, height: s.height, layer: s.layer, run: run && [run.run, runTitle(run)], units: layer && layer.units,
    activations: layer && layer.activations, selected: selectedRuns(s).map((r) => [r.run, runTitle(r), Boolean(layerOf(r, s.layer)?.activations)]),
    unitFigures: layer && layer.unit_figures,
  };
};

// The ticked runs whose layer logged a figure (`key`: through_time, unit_figures), with what it logged.
const figureRuns = (s, key) => selectedRuns(s).map((r) => [r.run, runTitle(r), layerOf(r, s.layer)?.[key] ?? null])
  .filter(([, , logged]) => logged);
const figuresPaint = (s) => ({ step: s.step, steps: selectedRuns(s).map((r) => r.steps) });

export const VIEW_INPUTS = {
  controls: {
    layout: (s) => ({ runs: s.runs.map((run) => [run.run, runTitle(run), run.name]) }),
    paint: (s) => ({ selected: s.selected, layers: selectedRuns(s).map((r) => (r.layers || []).map((l) => l.layer)),
      layer: s.layer, view: s.view, changeScale: s.changeScale }),
  },
  stepbar: {
    layout: () => null,
    paint: (s) => ({ steps: s.steps, step: s.step, follow: s.follow, playing: s.playing, runs: positionInputs(s) }),
  },
  banner: {
    layout: () => null,
    paint: (s) => ({ runs: s.runs.map((r) => [runTitle(r), r.kept_steps, r.logged_steps]), downsampled: s.downsampled,
      flag: s.samplesFlag, error: s.runsError, loaded: s.loaded, ticked: s.selected.length, failures: positionInputs(s) }),
  },
  findings: {
    layout: () => null,
    paint: (s) => ({ runs: selectedRuns(s).map((r) => [r.run, runTitle(r), r.findings, r.max_step, r.kept_steps]),
      highlight: s.highlight && s.highlight.key, all: s.findingsAll }),
  },
  weights: {
    layout: weightsLayout,
    paint: (s) => ({ step: s.step, view: s.view, changeScale: s.changeScale, steps: selectedRuns(s).map((r) => r.steps),
      highlight: s.highlight, unitOrder: s.unitOrder }),
  },
  activations: {
    layout: activationsLayout,
    paint: (s) => ({ step: s.step, sequence: s.sequence, steps: activationsRun(s)?.steps ?? null, unitOrder: s.unitOrder }),
  },
  saturation: {
    layout: activationsLayout,
    paint: (s) => {
      const run = activationsRun(s);
      return { step: s.step, run: run && [run.steps, run.max_step, run.kept_steps] };
    },
  },
  text: {
    layout: (s) => {
      const run = activationsRun(s);
      const layer = layerOf(run, s.layer);
      return { width: s.width, layer: s.layer, run: run && [run.run, runTitle(run), run.encoding], units: layer && layer.units,
        activations: layer && layer.activations, panel: s.textPanel, units_shown: s.textUnits };
    },
    // A run whose probe holds no tokens shows no text view: nothing to repaint.
    paint: (s) => (holdsTokens(activationsRun(s))
      ? { step: s.step, steps: activationsRun(s).steps, selection: s.textSelection, count: s.matchCount } : null),
  },
  throughTime: {
    layout: (s) => ({ width: s.width, layer: s.layer, runs: figureRuns(s, 'through_time') }),
    paint: figuresPaint,
  },
  unitScatter: {
    layout: (s) => ({ width: s.width, layer: s.layer, runs: figureRuns(s, 'unit_figures') }),
    paint: (s) => ({ ...figuresPaint(s), highlight: s.highlight }),
  },
};

export const VIEW_NAMES = Object.keys(VIEW_INPUTS);

/** Deep equality of plain data (arrays, objects, numbers, strings, null). */
export function same(a, b) {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return Number.isNaN(a) && Number.isNaN(b);
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => same(a[key], b[key]));
}

/** {view: BUILD | PAINT | KEEP} going from prev (null: the first render) to next. */
export function planRender(prev, next) {
  const plan = {};
  for (const [name, { layout, paint }] of Object.entries(VIEW_INPUTS)) {
    if (!prev || !same(layout(prev), layout(next))) plan[name] = BUILD;
    else if (!same(paint(prev), paint(next))) plan[name] = PAINT;
    else plan[name] = KEEP;
  }
  return plan;
}
