// Runs: their order, their titles and which are ticked at first. Pure (tests/js/runs.test.mjs).
//
// The /runs route may give each run a `title` (what differs between runs, from Hydra's overrides)
// and an `order` (an integer for sorting them); without them the TensorBoard name stands in.

export const TICK_ALL_AT_MOST = 4; // this many runs or fewer are all ticked when the page opens

const CHUNKS = /(\d+(?:\.\d+)?)|(\D+)/g;

/** Compare two texts with their numbers as numbers: 'units=32' < 'units=128'. */
export function naturalCompare(a, b) {
  const left = String(a).match(CHUNKS) || [];
  const right = String(b).match(CHUNKS) || [];
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const x = left[i];
    const y = right[i];
    const nx = /^\d/.test(x) ? Number(x) : NaN;
    const ny = /^\d/.test(y) ? Number(y) : NaN;
    if (!Number.isNaN(nx) && !Number.isNaN(ny)) {
      if (nx !== ny) return nx - ny;
    } else if (x !== y) {
      return x < y ? -1 : 1;
    }
  }
  if (left.length !== right.length) return left.length - right.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** What the page calls a run: its title, else its display name, else its TensorBoard name. */
export const runTitle = (run) => run.title || run.name || run.run;

const hasOrder = (run) => Number.isFinite(run.order);

/** Runs in the page's order: by `order` where both have one, else naturally by title, then name. */
export function sortRuns(runs) {
  return runs.slice().sort((a, b) => {
    if (hasOrder(a) && hasOrder(b) && a.order !== b.order) return a.order - b.order;
    return naturalCompare(runTitle(a), runTitle(b)) || naturalCompare(a.run, b.run);
  });
}

/**
 * The runs ticked before the user ticks any: all of a few; of more, those already ticked (runs
 * that appeared while the list was short stay ticked), else the first.
 */
export function defaultSelection(runs, ticked = [], atMost = TICK_ALL_AT_MOST) {
  if (!runs.length) return [];
  if (runs.length <= atMost) return runs.map((run) => run.run);
  const kept = runs.map((run) => run.run).filter((id) => ticked.includes(id));
  return kept.length ? kept : [runs[0].run];
}

/** A sweep job's name ("units=16,viz=[gates,stats]") as [key, value] pairs; null if it is not one. */
export function splitOverrides(name) {
  const parts = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i <= name.length; i++) {
    const c = name[i];
    if (c === '[' || c === '{' || c === '(') depth += 1;
    else if (c === ']' || c === '}' || c === ')') depth -= 1;
    else if (i === name.length || (c === ',' && depth === 0)) {
      const part = name.slice(start, i);
      const equals = part.indexOf('=');
      if (equals <= 0) return null;
      parts.push([part.slice(0, equals), part.slice(equals + 1)]);
      start = i + 1;
    }
  }
  return parts;
}

/** For runs side by side: each name cut to the overrides that differ between them (else the name). */
export function distinguishingNames(names) {
  const parsed = names.map(splitOverrides);
  if (names.length < 2 || parsed.some((parts) => !parts)) return names.slice();
  const maps = parsed.map((parts) => new Map(parts));
  const keys = [...new Set(parsed.flatMap((parts) => parts.map(([key]) => key)))];
  const differing = keys.filter((key) => new Set(maps.map((map) => map.get(key))).size > 1);
  if (!differing.length) return names.slice();
  return maps.map((map) => differing.filter((key) => map.has(key)).map((key) => `${key}=${map.get(key)}`).join(',') || '(defaults)');
}

/** A run's layer of that name, or null. */
export const layerOf = (run, name) => (run && (run.layers || []).find((layer) => layer.layer === name)) || null;
