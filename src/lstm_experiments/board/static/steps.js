// Steps: which step a run shows, where the slider and the player go next, what the label says.
// Pure (tests/js/steps.test.mjs).

export const sortedNumbers = (values) => [...new Set(values)].sort((a, b) => a - b);

/** The largest of sorted steps that is <= step (the first one if none is); null without steps. */
export function stepAtOrBefore(steps, step) {
  if (!steps.length) return null;
  let found = steps[0];
  for (const s of steps) {
    if (s <= step) found = s; else break;
  }
  return found;
}

/** The step nearest to value (the lower one on a tie). */
export function nearest(steps, value) {
  let best = steps[0];
  for (const s of steps) if (Math.abs(s - value) < Math.abs(best - value)) best = s;
  return best;
}

/** The step `delta` places from `step` in sorted steps, held at both ends. */
export function stepBy(steps, step, delta) {
  if (!steps.length) return null;
  const index = Math.max(0, steps.indexOf(step));
  return steps[Math.max(0, Math.min(steps.length - 1, index + delta))];
}

/** Where playing starts: from the first step when the slider is at the last, else where it is. */
export function playStart(steps, step) {
  if (!steps.length) return step;
  return step === steps[steps.length - 1] ? steps[0] : step;
}

/** The player's next step, or null at the end. */
export function playNext(steps, step) {
  const index = steps.indexOf(step);
  return index < 0 || index >= steps.length - 1 ? null : steps[index + 1];
}

/** Every other step, nearest to `step` first (later before earlier at the same distance). */
export function prefetchOrder(steps, step) {
  const index = Math.max(0, steps.indexOf(step));
  const order = [];
  for (let d = 1; d < steps.length; d++) {
    if (index + d < steps.length) order.push(steps[index + d]);
    if (index - d >= 0) order.push(steps[index - d]);
  }
  return order;
}

/** The step label: "k / last · after epoch k" ('no steps yet' without steps). */
export function stepText(steps, step) {
  if (step === null || step === undefined || !steps.length) return 'no steps yet';
  const epoch = step === 0 ? 'initial weights, before training' : `after epoch ${step}`;
  return `${step} / ${steps[steps.length - 1]} · ${epoch}`;
}
