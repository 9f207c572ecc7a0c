// The toolbar: which runs (a box each, 'all' and 'none'), which layer, W_t or W_t - W_0 and the
// change's scale. Built from the run list; painted from the selection and the choices.

import { clear, el } from './dom.js';
import { runTitle } from './runs.js';
import { allRunsPatch, layerNames, noRunsPatch, toggleRunPatch } from './state.js';

export function build(container, state, env) {
  const picker = el('div', { class: 'lg-runs', 'data-testid': 'run-picker' });
  const boxes = state.runs.map((run) => {
    const box = el('input', { type: 'checkbox', 'data-testid': 'run-checkbox', value: run.run,
      onchange: () => env.setState((s) => toggleRunPatch(s, run.run, box.checked)) });
    box.dataset.run = run.run;
    const title = runTitle(run);
    picker.append(el('label', { class: 'lg-run', title: title === run.run ? run.run : `${title}\n${run.run}`, 'data-testid': 'run-label' },
      box, el('span', { class: 'lg-run-name', text: title })));
    return box;
  });
  const button = (text, testid, patch) => el('button', { type: 'button', class: 'lg-small-button', 'data-testid': testid, text,
    onclick: () => env.setState(patch) });
  const layerSelect = el('select', { 'data-testid': 'layer-select',
    onchange: () => env.setState({ layer: layerSelect.value }) });
  const radios = [];
  const radio = (key, value, label, testid) => {
    const input = el('input', { type: 'radio', name: key, value, 'data-testid': testid, onchange: () => env.setState({ [key]: value }) });
    radios.push({ input, key });
    return el('label', { class: 'lg-radio' }, input, label);
  };
  const changeScale = el('div', { class: 'lg-group', role: 'radiogroup', 'data-testid': 'change-scale' },
    el('span', { class: 'lg-caption', text: 'change scale' }),
    radio('changeScale', 'step', 'this step\'s', 'change-scale-step'),
    radio('changeScale', 'run', 'the run\'s (fixed)', 'change-scale-run'));
  container.append(el('div', { class: 'lg-toolbar' },
    el('div', { class: 'lg-group' }, el('span', { class: 'lg-caption', text: 'runs' }), picker,
      button('all', 'runs-all', allRunsPatch), button('none', 'runs-none', noRunsPatch)),
    el('label', { class: 'lg-group' }, el('span', { class: 'lg-caption', text: 'layer' }), layerSelect),
    el('div', { class: 'lg-group', role: 'radiogroup' }, el('span', { class: 'lg-caption', text: 'view' }),
      radio('view', 'weights', 'W_t', 'view-weights'), radio('view', 'change', 'W_t − W_0', 'view-change')),
    changeScale));
  return { boxes, layerSelect, changeScale, layers: null, radios };
}

export function paint(state, parts) {
  for (const box of parts.boxes) box.checked = state.selected.includes(box.dataset.run);
  const names = layerNames(state);
  if (parts.layers === null || names.join('\n') !== parts.layers.join('\n')) {
    parts.layers = names;
    clear(parts.layerSelect);
    for (const name of names) parts.layerSelect.append(el('option', { value: name, text: name }));
  }
  parts.layerSelect.value = state.layer ?? '';
  parts.layerSelect.disabled = names.length < 2;
  for (const { input, key } of parts.radios) input.checked = state[key] === input.value;
  parts.changeScale.hidden = state.view !== 'change';
  return true;
}
