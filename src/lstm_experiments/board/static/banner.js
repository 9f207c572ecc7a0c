// The banner (TensorBoard kept fewer steps than were logged: the flag to restart with) and the
// message line (no runs yet, the run list unreadable, no run ticked).

import { clear, el } from './dom.js';
import { runTitle } from './runs.js';

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
  const message = el('div', { class: 'lg-message', 'data-testid': 'message', hidden: true });
  container.append(banner, message);
  return { banner, message };
}

export function paint(state, parts) {
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
  return true;
}
