// The page's state: one plain object, replaced (never changed) by GatesApp.setState(patch), which
// runs normalize() over the merged object so every handler gets the same rules. Pure
// (tests/js/state.test.mjs).
//
// Fields set by handlers: runs (sorted), samplesFlag, downsampled, runsError, loaded; selected and
// selectionTouched (the user ticked or unticked a run); layer; view ('weights' | 'change');
// changeScale ('step' | 'run'); scale ('shared' | 'own', runs side by side); gate, matrix (the
// compared panel); step, follow, playing; sequence, activationsRun; width, height (the frame);
// highlight (the clicked finding: findings.js' highlightOf, or null; dropped when its run is
// unticked), findingsAll (the findings list shows every row); unitOrder (the units axes' order:
// unit_order.js, 'built' or an order the runs logged); the text view's textPanel (what colours the text),
// textUnits (null: text_view.js' first units), textSelection ({run, layer, sequence, start, end} or null)
// and matchCount (units to match, null: unit_match.js' autoCount).
// Derived here, never patched: steps (every selected run's kept steps), byRun.

import { defaultSelection, layerOf, sortRuns } from './runs.js';
import { nearest, playNext, playStart, sortedNumbers, stepAtOrBefore, stepBy } from './steps.js';

export const SAMPLES_FLAG = '--samples_per_plugin=lstm_gates=100000';
const DEFAULT_GATE = 'forget';
const DEFAULT_MATRIX = 'recurrent_kernel';

export const DEFAULTS = Object.freeze({
  runs: [], samplesFlag: SAMPLES_FLAG, downsampled: false, runsError: null, loaded: false,
  selected: [], selectionTouched: false, layer: null, view: 'weights', changeScale: 'step', scale: 'shared',
  gate: null, matrix: DEFAULT_MATRIX, step: null, follow: true, playing: false, sequence: 0, activationsRun: null,
  width: 1200, height: 900, highlight: null, findingsAll: false, unitOrder: 'built',
  textPanel: 'hidden', textUnits: null, textSelection: null, matchCount: null,
});

const pick = (options, wanted, preferred) => {
  if (options.includes(wanted)) return wanted;
  return options.includes(preferred) ? preferred : options[0] ?? wanted;
};

/** The state with every derived field and rule applied (see the top of this module). */
export function normalize(input) {
  const state = { ...DEFAULTS, ...input };
  const runs = state.runs;
  const byRun = new Map(runs.map((run) => [run.run, run]));
  const ids = runs.map((run) => run.run);
  const wanted = state.selectionTouched ? state.selected : defaultSelection(runs, state.selected);
  const selected = ids.filter((id) => wanted.includes(id)); // the picker's order
  const chosen = selected.map((id) => byRun.get(id));

  const layers = [...new Set(chosen.flatMap((run) => (run.layers || []).map((layer) => layer.layer)))];
  const layer = layers.length ? pick(layers, state.layer, null) : state.layer;

  const steps = sortedNumbers(chosen.flatMap((run) => run.steps || []));
  let step = null;
  if (steps.length) {
    if (state.follow || state.step === null || state.step === undefined) step = steps[steps.length - 1];
    else step = steps.includes(state.step) ? state.step : stepAtOrBefore(steps, state.step);
  }

  let { gate, matrix } = state;
  const first = chosen.map((run) => layerOf(run, layer)).find(Boolean);
  if (first) {
    gate = pick(first.gates, gate, DEFAULT_GATE);
    matrix = pick(first.matrices.map((m) => m.matrix), matrix, DEFAULT_MATRIX);
  }

  const withActivations = chosen.filter((run) => layerOf(run, layer)?.activations).map((run) => run.run);
  const activationsRun = withActivations.length ? pick(withActivations, state.activationsRun, null) : null;
  const info = activationsRun ? layerOf(byRun.get(activationsRun), layer).activations : null;
  const sequence = info && state.sequence < (info.sequences ?? 1) ? state.sequence : 0;
  const playing = state.playing && steps.length > 1;
  const highlight = state.highlight && selected.includes(state.highlight.run) ? state.highlight : null;

  return { ...state, byRun, selected, layer, steps, step, gate, matrix, activationsRun, sequence, playing, highlight };
}

// ---------------------------------------------------------------- selectors

export const selectedRuns = (state) => state.selected.map((id) => state.byRun.get(id)).filter(Boolean);

/** The layer names the selected runs have, in order. */
export const layerNames = (state) => [...new Set(selectedRuns(state).flatMap((run) => (run.layers || []).map((l) => l.layer)))];

/** The step a run shows: the slider's, or the run's latest before it (runs keep different steps). */
export const shownStep = (state, run) => stepAtOrBefore(run.steps || [], state.step);

// ---------------------------------------------------------------- patches: what a handler asks for

/** The run list from /runs. */
export const runsPatch = (data) => ({
  runs: sortRuns(Array.isArray(data.runs) ? data.runs : []).map((run) => ({ ...run, steps: sortedNumbers(run.steps || []) })),
  samplesFlag: data.samples_flag || SAMPLES_FLAG, downsampled: Boolean(data.downsampled), runsError: null, loaded: true,
});

export const toggleRunPatch = (state, id, on) => ({
  selected: on ? [...state.selected.filter((r) => r !== id), id] : state.selected.filter((r) => r !== id),
  selectionTouched: true,
});

export const allRunsPatch = (state) => ({ selected: state.runs.map((run) => run.run), selectionTouched: true });
export const noRunsPatch = () => ({ selected: [], selectionTouched: true });

/** A step the user chose (slider, keys, setStep): it holds; follow latest and playing stop. */
export const userStepPatch = (state, value) => (state.steps.length
  ? { step: nearest(state.steps, value), follow: false, playing: false } : {});

export const stepByPatch = (state, delta) => (state.steps.length
  ? { step: stepBy(state.steps, state.step, delta), follow: false, playing: false } : {});

/**
 * A finding's row clicked (highlight: findings.js' highlightOf): the slider goes to its first step
 * (as userStepPatch), the layer to its layer and, where it names gates, the compared gate to one of
 * them; its place is highlighted. Clicking the highlighted finding again takes the highlight off.
 */
export function findingPatch(state, highlight) {
  if (state.highlight && state.highlight.key === highlight.key) return { highlight: null };
  const patch = { ...(Number.isFinite(highlight.step) ? userStepPatch(state, highlight.step) : {}), highlight };
  if (highlight.layer) patch.layer = highlight.layer;
  if (highlight.gates && !highlight.gates.includes(state.gate)) patch.gate = highlight.gates[0];
  return patch;
}

export const followPatch = (on) => ({ follow: on, ...(on ? { playing: false } : {}) });

export const playPatch = (state, on) => (on
  ? { playing: true, follow: false, step: playStart(state.steps, state.step) } : { playing: false });

/** One tick of the player: the next step, or stop at the last. */
export function playTickPatch(state) {
  const next = playNext(state.steps, state.step);
  return next === null ? { playing: false } : { step: next };
}
