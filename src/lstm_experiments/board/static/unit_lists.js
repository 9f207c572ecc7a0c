// The text view's lists (text_view.js' parts): where each shown unit is highest and lowest, with the
// tokens around, and the selection's match: the units ranked over it and the other places where the
// matched ones are on (unit_match.js computes both; parts.texts are the probe's shown tokens).

import { clear, el, formatValue } from './dom.js';
import { CONTEXT_TOKENS, contextOf, extremes, matchSelection } from './unit_match.js';

function place(parts, { sequence, t }, value) {
  const { before, token, after } = contextOf(parts.texts, sequence, t, CONTEXT_TOKENS);
  return el('li', { class: 'lg-text-place', dataset: { sequence, t, value } },
    el('span', { class: 'lg-caption', text: `${formatValue(value)} · seq ${sequence} t ${t}  ` }),
    el('code', {}, before, el('mark', { text: token }), after));
}

/** parts.extremesBox: the highest and lowest probe positions of each unit in parts.units. */
export function paintExtremes(parts, value) {
  clear(parts.extremesBox);
  for (const unit of parts.units) {
    const { high, low } = extremes(value, parts.panelIndex, unit);
    parts.extremesBox.append(el('div', { class: 'lg-text-unit', 'data-testid': 'text-unit-extremes', dataset: { unit } },
      el('strong', { text: `unit ${unit}` }),
      el('div', {}, el('span', { class: 'lg-caption', text: 'highest' }), el('ol', { 'data-testid': 'text-high' }, high.map((p) => place(parts, p, p.value)))),
      el('div', {}, el('span', { class: 'lg-caption', text: 'lowest' }), el('ol', { 'data-testid': 'text-low' }, low.map((p) => place(parts, p, p.value))))));
  }
}

/** The selection's match listed (parts.matchBox); [[sequence, start, end, selected]] to mark on the text. */
export function paintMatch(state, parts, value) {
  clear(parts.matchBox);
  const selection = state.textSelection;
  if (!selection || selection.run !== parts.run || selection.layer !== parts.layer
    || selection.sequence >= value.shape[1] || selection.end > value.shape[2]) {
    parts.matchBox.append(el('p', { class: 'lg-note', text: 'No stretch selected.' }));
    return [];
  }
  const found = matchSelection(value, parts.panelIndex, selection, { count: state.matchCount });
  const texts = parts.texts[selection.sequence].slice(selection.start, selection.end).join('');
  const stretch = (m) => parts.texts[m.sequence].slice(m.start, m.end).join('');
  parts.matchBox.append(
    el('p', {}, `selected: sequence ${selection.sequence}, t ${selection.start}–${selection.end - 1} `, el('code', { text: texts }), ' ',
      el('button', { type: 'button', text: 'clear', 'data-testid': 'text-clear', onclick: () => parts.env.setState({ textSelection: null }) })),
    el('div', { class: 'lg-caption', text: 'units most active over it (mean over the selection − mean elsewhere on the probe):' }),
    el('ol', { 'data-testid': 'match-units' }, found.ranked.slice(0, 8).map((r, i) => el('li', {
      class: i < found.units.length ? 'lg-matching' : '', dataset: { unit: r.unit, contrast: r.contrast } },
    `unit ${r.unit}: ${formatValue(r.contrast)} (${formatValue(r.inside)} against ${formatValue(r.outside)})${i < found.units.length ? ' · matched' : ''}`))),
    el('div', { class: 'lg-caption', text: `other places where unit${found.units.length > 1 ? 's' : ''} ${found.units.map((u) => u.unit).join(', ')} `
      + `${found.units.length > 1 ? 'are all' : 'is'} on (at least halfway between the two means): ${found.total}${found.total > found.matches.length ? `, the first ${found.matches.length}` : ''}` }),
    el('ol', { 'data-testid': 'match-places' }, found.matches.map((m) => el('li', { dataset: { sequence: m.sequence, start: m.start, end: m.end } },
      el('span', { class: 'lg-caption', text: `seq ${m.sequence} t ${m.start}–${m.end - 1}  ` }),
      el('code', {}, contextOf(parts.texts, m.sequence, m.start).before, el('mark', { text: stretch(m) }),
        contextOf(parts.texts, m.sequence, m.end - 1).after)))));
  return [[selection.sequence, selection.start, selection.end, true], ...found.matches.map((m) => [m.sequence, m.start, m.end, false])];
}
