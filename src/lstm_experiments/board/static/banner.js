// The banner (TensorBoard kept fewer steps than were logged: the flag to restart with), a line per
// ticked run whose loss became NaN or inf (with buttons to its failing and last finite steps) and
// the message line (no runs yet, the run list unreadable, no run ticked).

import { clear, el } from './dom.js';
import { failureText } from './positions.js';
import { runTitle } from './runs.js';
import { selectedRuns, userStepPatch } from './state.js';

export const POLL_SECONDS = 5;

/**
 * The banner's words before the flag, or null when every run kept every step. A run's
 * logged_steps is null where TensorBoard's reservoir is full and the server cannot tell how many
 * steps were logged: it kept kept_steps and may have dropped others.
 */
export function bannerText(runs, downsampled) {
  const short = runs.filter((run) => Number.isFinite(run.kept_steps) && (run.logged_steps === null
    || (Number.isFinite(run.logged_steps) && run.kept_steps < run.logged_steps)));
  if (!short.length) return downsampled ? 'TensorBoard kept fewer steps than were logged: restart with ' : null;
  const kept = (run) => (run.logged_steps === null ? `${run.kept_steps} steps` : `${run.kept_steps} of ${run.logged_steps} steps`);
  const maybe = short.some((run) => run.logged_steps === null) ? ' (it may have dropped others)' : '';
  if (new Set(short.map(kept)).size === 1) {
    const which = runs.length > 1 && short.length < runs.length ? ` of ${short.map(runTitle).join(', ')}` : '';
    return `TensorBoard kept ${kept(short[0])}${which}${maybe}: restart with `;
  }
  const each = short.map((run) => `${runTitle(run)}: ${kept(run)}`).join('; ');
  return `TensorBoard kept fewer steps than were logged (${each})${maybe}: restart with `;
}

/** The message line's words, or null. */
export function messageText(state) {
  if (state.runsError) return `Could not read the runs: ${state.runsError}`;
  if (state.loaded && !state.runs.length) {
    return 'No run in this log directory has GATES data yet (runs log it with viz=gates); '
      + `this page looks again every ${POLL_SECONDS} s.`;
  }
  if (state.runs.length && !state.selected.length) return 'No run ticked: tick one above, or all.';
  return null;
}

export function build(container) {
  const banner = el('div', { class: 'lg-banner', 'data-testid': 'banner', hidden: true });
  const failures = el('div', { 'data-testid': 'failures' });
  const message = el('div', { class: 'lg-message', 'data-testid': 'message', hidden: true });
  container.append(banner, failures, message);
  return { banner, failures, message };
}

/** A line per ticked failing run; true once each line has its loss in words (or cannot). */
function paintFailures(state, parts, env) {
  clear(parts.failures);
  let complete = true;
  const source = env && env.source ? env.source() : null;
  for (const run of selectedRuns(state)) {
    const failure = run.failure;
    if (!failure) continue;
    const found = source ? source.positions(run) : { value: null };
    if (found.value === undefined && !found.error) complete = false;
    const loss = found.value && found.value.failure ? found.value.failure.loss : null;
    const jump = (step, testid, words) => el('button', { type: 'button', class: 'lg-small-button', 'data-testid': testid,
      dataset: { step }, text: words, onclick: () => env.setState((s) => userStepPatch(s, step)) });
    parts.failures.append(el('div', { class: 'lg-failure', 'data-testid': 'failure-line', dataset: { run: run.run } },
      el('span', { class: 'lg-swatch lg-swatch-non_finite' }),
      el('span', { text: failureText(failure, { loss, title: state.runs.length > 1 ? runTitle(run) : null }) }),
      jump(failure.step, 'jump-failing', `show step ${failure.step}`),
      Number.isFinite(failure.last_finite)
        ? jump(failure.last_finite, 'jump-last-finite', `show step ${failure.last_finite} (last finite)`) : null));
  }
  return complete;
}

export function paint(state, parts, env) {
  const text = bannerText(state.runs, state.downsampled);
  clear(parts.banner);
  parts.banner.hidden = text === null;
  if (text !== null) {
    parts.banner.append(el('span', { class: 'lg-banner-icon', text: '⚠ ' }), text,
      el('code', { 'data-testid': 'samples-flag', text: state.samplesFlag }));
  }
  const message = messageText(state);
  parts.message.hidden = message === null;
  parts.message.textContent = message || '';
  return paintFailures(state, parts, env);
}
