// The findings list, at the top of the page (under the step bar and the banner): what the ticked
// runs' findings say (/findings: each run's findings.json as of its latest logged step), a row per
// finding, warnings first: a severity mark, the kind, where (layer, gates, units), since which step
// (and until which, once it stopped), the sentence, and with several runs ticked the run's title
// (findings.js makes the words). A run that found nothing says "no findings (checked: …)" in one
// line; kinds it did not check are named there and, with why, in the line's hover. At most
// ROWS_SHOWN rows, the rest behind "show all (N)".
//
// Clicking a row moves the slider to the finding's first step (state.js' findingPatch: as the
// slider does, follow latest goes off), selects its layer and, where it names gates, one of them
// for the several-runs strip, and highlights its place: the weight panels of its layer (and named
// gates) get an outline, and the columns of its units are marked under each of those panels
// (weight_panel.js' paintHighlight). Clicking it again takes the highlight off. Runs that logged no
// findings (/runs' findings: false) have no line; with none such ticked the list is hidden.

import { clear, el } from './dom.js';
import { WARNING, findingRows, highlightOf, notCheckedTitle, rowText, statusText, visibleRows } from './findings.js';
import { runTitle } from './runs.js';
import { findingPatch, selectedRuns } from './state.js';

export function build(container, state, env) {
  const head = el('div', { class: 'lg-findings-head' }, el('span', { class: 'lg-caption', text: 'findings' }));
  const count = el('span', { class: 'lg-findings-count', 'data-testid': 'findings-count' });
  head.append(count);
  const status = el('div', { class: 'lg-findings-status' });
  const rows = el('div', { class: 'lg-finding-rows' });
  const more = el('button', { type: 'button', class: 'lg-small-button lg-findings-more', 'data-testid': 'findings-more',
    hidden: true, onclick: () => env.setState((s) => ({ findingsAll: !s.findingsAll })) });
  const section = el('section', { class: 'lg-findings', 'data-testid': 'findings', hidden: true }, head, status, rows, more);
  container.append(section);
  return { section, count, status, rows, more };
}

/**
 * The ticked runs with findings: [{run, title, found}] (found: the source's answer), and whether
 * each has its document (loaded, or failed).
 */
function findingsOf(state, source) {
  let complete = true;
  const entries = selectedRuns(state).filter((run) => run.findings).map((run) => {
    const found = source ? source.findings(run) : { value: null };
    if (found.value === undefined && !found.error) complete = false;
    return { run: run.run, title: runTitle(run), found };
  });
  return { entries, complete };
}

function rowNode(row, state, env) {
  const active = Boolean(state.highlight && state.highlight.key === row.key);
  const cells = [
    el('span', { class: 'lg-finding-mark', text: row.mark, title: row.severity }),
    row.title !== null ? el('span', { class: 'lg-finding-run', text: row.title, title: row.title }) : null,
    el('span', { class: 'lg-finding-kind', text: row.kind }),
    el('span', { class: 'lg-finding-where', text: row.where }),
    el('span', { class: 'lg-finding-when', text: row.when }),
    el('span', { class: 'lg-finding-sentence', text: row.sentence }),
  ];
  return el('button', {
    type: 'button', class: `lg-finding lg-finding-${row.severity}${active ? ' lg-finding-active' : ''}`,
    'data-testid': 'finding', 'aria-pressed': String(active), title: `${rowText(row)}\nclick: show step ${row.firstStep} and its place`,
    dataset: { run: row.run, kind: row.kind, severity: row.severity, layer: row.layer ?? '', gate: row.gates ? row.gates.join(',') : '',
      units: row.units ? row.units.join(',') : '', firstStep: row.firstStep, lastStep: row.lastStep },
    onclick: () => env.setState((s) => findingPatch(s, highlightOf(row))),
  }, ...cells);
}

export function paint(state, parts, env) {
  const { entries, complete } = findingsOf(state, env && env.source ? env.source() : null);
  clear(parts.status);
  clear(parts.rows);
  parts.section.hidden = !entries.length;
  if (!entries.length) return complete;
  const titled = selectedRuns(state).length > 1;
  const loaded = [];
  for (const { run, title, found } of entries) {
    const who = titled ? `${title}: ` : '';
    let line = null;
    let hover = null;
    if (found.value === null) continue; // logged none
    if (found.error) line = `${who}findings could not be read (${found.error.message})`;
    else if (found.value === undefined) line = `${who}reading findings…`;
    else {
      loaded.push({ run, title, document: found.value });
      line = statusText(found.value, titled ? title : null);
      hover = notCheckedTitle(found.value.checked);
    }
    if (line !== null) {
      parts.status.append(el('div', { class: 'lg-findings-line', 'data-testid': 'findings-status', title: hover, dataset: { run },
        text: line }));
    }
  }
  const rows = findingRows(loaded, { titled });
  parts.rows.className = `lg-finding-rows${titled ? ' lg-titled' : ''}`;
  const { shown, hidden } = visibleRows(rows, state.findingsAll);
  for (const row of shown) parts.rows.append(rowNode(row, state, env));
  const warnings = rows.filter((row) => row.severity === WARNING).length;
  const infos = rows.length - warnings;
  parts.count.textContent = [warnings ? `${warnings} warning${warnings === 1 ? '' : 's'}` : '', infos ? `${infos} info` : '']
    .filter(Boolean).join(', ');
  const folds = rows.length > visibleRows(rows, false).shown.length; // more rows than the list shows folded
  parts.more.hidden = !folds;
  parts.more.textContent = hidden ? `show all (${rows.length})` : 'show fewer';
  return complete;
}
