// Where a step stands in training (/positions: its epoch, batch and event) and what a failing run's
// steps are: the words of the step label, the hover and the banner, and the slider's marks. Pure
// (tests/js/positions.test.mjs).
//
// A run logs by epoch (a step is an epoch: "after epoch 3") or by batch (a step is the optimizer's
// iteration: "epoch 3, batch 150"). When a batch's loss becomes NaN or inf, the run's last steps are
// the last finite weights (event last_finite) and the weights after that batch (event non_finite);
// /runs gives that failure as {step, epoch, batch, last_finite}. Runs logged before positions
// (/runs' positions: false) keep the label steps.js' stepText makes.

import { stepText } from './steps.js';

export const LAST_FINITE = 'last_finite';
export const NON_FINITE = 'non_finite';
export const MARK_KINDS = [LAST_FINITE, NON_FINITE];

/** /positions' answer as {byBatch, failure, at: Map(step -> {epoch, batch, event})}. */
export function positionsOf(json) {
  const at = new Map();
  (json.steps || []).forEach((step, i) => at.set(step, { epoch: json.epoch[i], batch: json.batch[i], event: json.event[i] || '' }));
  const every = json.log_every_batches;
  return { byBatch: Number.isFinite(every) && every > 0, logEveryBatches: every ?? null, failure: json.failure || null, at };
}

/** The loss of a failing step in words: "loss became inf", or "loss became NaN or inf" when unknown. */
export const lossText = (loss) => `loss became ${loss || 'NaN or inf'}`;

/**
 * The words for one step's position, or null without one: "initial weights", "after epoch 3"
 * (by epoch), "epoch 3, batch 150" (by batch), and at a failure "epoch 1, batch 11 · last finite
 * weights" and "epoch 1, batch 12 · loss became inf" (by epoch too: those steps are batches).
 */
export function positionText(position, { byBatch = false, loss = null } = {}) {
  if (!position) return null;
  const { epoch, batch, event } = position;
  const where = `epoch ${epoch}, batch ${batch}`;
  if (event === LAST_FINITE) return `${where} · last finite weights`;
  if (event === NON_FINITE) return `${where} · ${lossText(loss)}`;
  if (epoch === 0 && batch === 0) return 'initial weights';
  return byBatch ? where : `after epoch ${epoch}`;
}

/** The words for `step` of a run's positions (positionsOf), or null where it has none. */
export function stepPosition(positions, step) {
  if (!positions) return null;
  const failing = positions.failure && positions.failure.step === step;
  return positionText(positions.at.get(step), { byBatch: positions.byBatch, loss: failing ? positions.failure.loss : null });
}

/**
 * The step label. entries: the ticked runs that kept `step`, as {title, positions}: positionsOf's
 * object, undefined while it loads, null for a run that logged none. "step 1200 · epoch 3, batch
 * 150"; runs whose positions differ each say theirs ("step 8 · a: epoch 1, batch 8; b: after
 * epoch 8"); with no run that logs positions, stepText's label ("3 / 10 · after epoch 3").
 */
export function stepLabel(steps, step, entries) {
  if (step === null || step === undefined || !steps.length) return stepText(steps, step);
  const logging = entries.filter((entry) => entry.positions !== null);
  if (!logging.length) return stepText(steps, step);
  const said = logging.map((entry) => [entry.title, stepPosition(entry.positions, step)]).filter(([, text]) => text);
  const texts = [...new Set(said.map(([, text]) => text))];
  if (!texts.length) return `step ${step}`;
  if (texts.length === 1) return `step ${step} · ${texts[0]}`;
  return `step ${step} · ${said.map(([title, text]) => `${title}: ${text}`).join('; ')}`;
}

/** The slider's marks: [{run, step, kind}] for each ticked run's failure (/runs entries), in step order. */
export function failureMarks(runs) {
  const marks = [];
  for (const run of runs) {
    const failure = run.failure;
    if (!failure || !Number.isFinite(failure.step)) continue;
    if (Number.isFinite(failure.last_finite)) marks.push({ run: run.run, step: failure.last_finite, kind: LAST_FINITE });
    marks.push({ run: run.run, step: failure.step, kind: NON_FINITE });
  }
  return marks.sort((a, b) => a.step - b.step);
}

/** Where a mark sits along the slider, 0 (its first step) to 1 (its last). */
export const markFraction = (steps, step) => {
  const first = steps[0];
  const last = steps[steps.length - 1];
  return last > first ? Math.max(0, Math.min(1, (step - first) / (last - first))) : 0;
};

/**
 * The banner line of a failing run: "loss became inf at step 12 (epoch 1, batch 12); step 11 holds
 * the last finite weights". failure: /runs' {step, epoch, batch, last_finite}; loss: /positions'
 * word for it (null while unknown); title: the run's, when the line must say which run.
 */
export function failureText(failure, { loss = null, title = null } = {}) {
  const who = title ? `${title}: ` : '';
  const where = Number.isFinite(failure.epoch) ? ` (epoch ${failure.epoch}, batch ${failure.batch})` : '';
  const before = Number.isFinite(failure.last_finite)
    ? `step ${failure.last_finite} holds the last finite weights` : 'no earlier step was kept';
  return `${who}${lossText(loss)} at step ${failure.step}${where}; ${before}`;
}
