// The step bar: play, the step slider (its value is the step itself) with a failing run's steps
// marked on it, the step's label (where the step stands in training: positions.js), follow latest,
// and buttons that bring the activations, the saturation and the gradient and units figures into
// view. It stays at the top of the frame while the page scrolls (style.css .lg-sticky).

import { clear, el } from './dom.js';
import { failureMarks, markFraction, stepLabel } from './positions.js';
import { runTitle } from './runs.js';
import { followPatch, playPatch, selectedRuns, userStepPatch } from './state.js';

// Half the width of Chromium's range thumb: the slider's first and last steps sit this far in.
const THUMB_HALF_PX = 8;
const MARK_TITLES = { last_finite: 'last finite weights', non_finite: 'the loss became NaN or inf' };

export function build(container, state, env) {
  const play = el('button', { type: 'button', class: 'lg-play', 'data-testid': 'play', 'aria-pressed': 'false',
    onclick: () => env.setState((s) => playPatch(s, !s.playing)) });
  const slider = el('input', { type: 'range', class: 'lg-slider', 'data-testid': 'step-slider', min: 0, max: 0, step: 1,
    'aria-label': 'step' });
  slider.addEventListener('input', () => env.setState((s) => userStepPatch(s, Number(slider.value))));
  const label = el('span', { class: 'lg-step-label', 'data-testid': 'step-label' });
  const follow = el('input', { type: 'checkbox', 'data-testid': 'follow-latest',
    onchange: () => env.setState(followPatch(follow.checked)) });
  const jump = (text, testid, target) => el('button', { type: 'button', class: 'lg-small-button', 'data-testid': testid, text,
    onclick: () => env.scrollTo(target) });
  const marks = el('span', { class: 'lg-marks', 'aria-hidden': 'true' });
  container.append(el('div', { class: 'lg-stepbar' }, play, el('span', { class: 'lg-caption', text: 'step' }),
    el('span', { class: 'lg-slider-wrap' }, slider, marks), label,
    el('label', { class: 'lg-follow' }, follow, 'follow latest'),
    el('span', { class: 'lg-jumps' }, jump('weights ↑', 'jump-weights', 'weights'),
      jump('activations ↓', 'jump-activations', 'activations'), jump('saturation ↓', 'jump-saturation', 'saturation'),
      jump('gradient, units ↓', 'jump-figures', 'figures'))));
  return { play, slider, label, follow, marks };
}

/**
 * The label's runs: the ticked runs that kept `step`, each {title, positions}, and whether every
 * one of them has its positions (loaded, failed or none logged).
 */
function labelEntries(state, source) {
  let complete = true;
  const entries = selectedRuns(state).filter((run) => (run.steps || []).includes(state.step)).map((run) => {
    const found = source ? source.positions(run) : { value: null };
    if (found.value === undefined && !found.error) complete = false;
    if (found.stale && !found.value.at.has(state.step)) complete = false;
    return { title: runTitle(run), positions: found.error ? null : found.value };
  });
  return { entries, complete };
}

function paintMarks(state, marks) {
  clear(marks);
  const { steps } = state;
  if (steps.length < 2) return;
  for (const mark of failureMarks(selectedRuns(state))) {
    const fraction = markFraction(steps, mark.step);
    marks.append(el('span', { class: `lg-mark lg-mark-${mark.kind}`, 'data-testid': 'step-mark',
      dataset: { run: mark.run, step: mark.step, kind: mark.kind }, title: `step ${mark.step}: ${MARK_TITLES[mark.kind]}`,
      style: { left: `calc(${THUMB_HALF_PX}px + (100% - ${2 * THUMB_HALF_PX}px) * ${fraction})` } }));
  }
}

export function paint(state, parts, env) {
  const { steps, step } = state;
  const { play, slider, label, follow } = parts;
  play.textContent = state.playing ? '❚❚ pause' : '▶ play';
  play.setAttribute('aria-pressed', String(state.playing));
  follow.checked = state.follow;
  slider.disabled = steps.length < 2;
  if (steps.length) {
    slider.min = String(steps[0]);
    slider.max = String(steps[steps.length - 1]);
    slider.value = String(step);
    slider.setAttribute('aria-valuetext', `step ${step}`);
    label.dataset.step = String(step);
  }
  const { entries, complete } = labelEntries(state, env && env.source ? env.source() : null);
  label.textContent = stepLabel(steps, step, entries);
  paintMarks(state, parts.marks);
  return complete;
}
