// What the views paint from: the Store's data, asked for by route. A view's paint calls these and
// gets {value} (loaded), {error} (failed) or {} (loading: the load starts, and the key goes into
// `wanted`, so that its arrival repaints that view; GatesApp keeps one `wanted` per view).

import {
  keys, loadActivations, loadFindings, loadLayerInput, loadPositions, loadProbe, loadSaturation, loadThroughTime,
  loadUnits, loadWeights,
} from './model.js';

/** What changes when a run has new steps: the key of its saturation curves, positions and findings. */
export const runVersion = (run) => `${run.max_step}:${run.kept_steps}`;

// The key of each run's latest loaded positions and findings (of one Store): older versions are forgotten.
const latestLoaded = { positions: new WeakMap(), findings: new WeakMap() };

export function makeSource(store, changeScales, wanted) {
  const need = (key, load) => {
    const value = store.peek(key);
    if (value) return { value };
    const error = store.error(key);
    if (error) return { error };
    wanted.add(key);
    load();
    return {};
  };
  /** The run's latest version of `kind`; while a newer one loads, the last one loaded stands in with `stale: true`. */
  const latest = (kind, run, key, load) => {
    const found = need(key, load);
    if (!latestLoaded[kind].has(store)) latestLoaded[kind].set(store, new Map());
    const loaded = latestLoaded[kind].get(store);
    const previous = loaded.get(run.run);
    if (found.value) {
      if (previous && previous !== key) store.forget(previous);
      loaded.set(run.run, key);
      return found;
    }
    const older = previous && store.cached(previous);
    return older && !found.error ? { value: older, stale: true } : found;
  };
  return {
    weights: (run, layer, matrix, step) => need(keys.weights(run, layer, matrix, step),
      () => loadWeights(store, run, layer, matrix, step)),
    activations: (run, layer, step) => need(keys.activations(run, layer, step),
      () => loadActivations(store, run, layer, step)),
    layerInput: (run, layer, step) => need(keys.layerInput(run, layer, step),
      () => loadLayerInput(store, run, layer, step)),
    probe: (run) => need(keys.probe(run), () => loadProbe(store, run)),
    throughTime: (run, layer, step) => need(keys.throughTime(run, layer, step), () => loadThroughTime(store, run, layer, step)),
    units: (run, layer, step) => need(keys.units(run, layer, step), () => loadUnits(store, run, layer, step)),
    /** version: anything that changes when the run has new steps. */
    saturation: (run, layer, version) => need(keys.saturation(run, layer, version),
      () => loadSaturation(store, run, layer, version)),
    /**
     * A run's positions (/runs entry): {value} (positions.js' positionsOf), {error}, {} while it
     * loads, {value: null} for a run that logged none. While a newer version loads, the last one
     * loaded stands in with `stale: true` (a step logged since has no position in it yet).
     */
    positions(run) {
      if (!run || !run.positions) return { value: null };
      return latest('positions', run, keys.positions(run.run, runVersion(run)), () => loadPositions(store, run.run, runVersion(run)));
    },
    /** A run's findings (/findings' document), as positions: {value: null} for a run that logged none. */
    findings(run) {
      if (!run || !run.findings) return { value: null };
      return latest('findings', run, keys.findings(run.run, runVersion(run)), () => loadFindings(store, run.run, runVersion(run)));
    },
    /** The largest |W_t - W_0| of a matrix at one step (both loaded). */
    stepChange: (run, layer, matrix, step, current, initial) => changeScales.at(run, layer, matrix, step, current, initial),
    /**
     * The largest |W_t - W_0| of a matrix over the run's steps the page has: {scale, covered, total}.
     * Loads nothing (the prefetcher does); a step still missing is wanted, so its arrival repaints.
     */
    runChange(runEntry, layer, matrix) {
      const run = runEntry.run;
      const initial = store.cached(keys.weights(run, layer, matrix, 0));
      let scale = 0;
      let covered = 0;
      for (const step of runEntry.steps) {
        let known = changeScales.get(run, layer, matrix, step);
        if (known === undefined && initial) {
          const current = store.cached(keys.weights(run, layer, matrix, step));
          if (current) known = changeScales.at(run, layer, matrix, step, current, initial);
        }
        if (known === undefined) wanted.add(keys.weights(run, layer, matrix, step));
        else {
          covered += 1;
          scale = Math.max(scale, known);
        }
      }
      return { scale, covered, total: runEntry.steps.length };
    },
  };
}
