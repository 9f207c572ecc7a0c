// The step bar: play, the step slider (its value is the step itself), the step's label, follow
// latest, and buttons that bring the activations and saturation into view. It stays at the top
// of the frame while the page scrolls (style.css .lg-sticky).

import { el } from './dom.js';
import { followPatch, playPatch, userStepPatch } from './state.js';
import { stepText } from './steps.js';

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
  container.append(el('div', { class: 'lg-stepbar' }, play, el('span', { class: 'lg-caption', text: 'step' }), slider, label,
    el('label', { class: 'lg-follow' }, follow, 'follow latest'),
    el('span', { class: 'lg-jumps' }, jump('weights ↑', 'jump-weights', 'weights'),
      jump('activations ↓', 'jump-activations', 'activations'), jump('saturation ↓', 'jump-saturation', 'saturation'))));
  return { play, slider, label, follow };
}

export function paint(state, parts) {
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
  label.textContent = stepText(steps, step);
  return true;
}
