// Pure helpers about runs: their steps and their names (no DOM, testable in node).

export const sortedNumbers = (values) => [...new Set(values)].sort((a, b) => a - b);

/** The largest of sorted steps that is <= step (the first one if none is). */
export function stepAtOrBefore(steps, step) {
  if (!steps.length) return null;
  let found = steps[0];
  for (const s of steps) {
    if (s <= step) found = s; else break;
  }
  return found;
}

export function nearest(steps, value) {
  let best = steps[0];
  for (const s of steps) if (Math.abs(s - value) < Math.abs(best - value)) best = s;
  return best;
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

/** A matrix shape as rows x columns (a bias of one row may come as [columns]). */
export const asMatrixShape = (shape) => (shape.length === 1 ? [1, shape[0]] : shape);

export const MATRIX_LABELS = { kernel: 'kernel', recurrent_kernel: 'recurrent kernel', bias: 'bias', recurrent_bias: 'recurrent bias' };
// A SimpleRNN's one block is its new state before masking: labelled as such, not as a gate.
export const PANEL_LABELS = { cell_state: 'cell state c', hidden: 'hidden h', state: 'tanh(x W + h U + b)' };
