// What the findings list says (/findings: a run's findings.json as of its latest logged step) and
// where a finding sits among the weight panels. Pure (tests/js/findings.test.mjs); the list itself
// is findings_list.js, the panels' outline and unit marks weight_panel.js.
//
// A finding: {kind, severity ('warning' | 'info'), layer (null: the whole run), gate (null, or
// gates comma-joined: 'input,forget'), units (null or unit indices), sentence, first_step,
// last_step, ...}; a document: {last_step, checked: {kind: 'yes' | 'no: why' | why}, findings}.
// A row reads: mark, kind, where ('lstm · input, forget gates · units 1, 4'), when ('since step 0',
// 'since step 2, until step 5' once it stopped before the run's latest step), the sentence, and
// with several runs ticked the run's title. Warnings first.

export const WARNING = 'warning';
export const INFO = 'info';
export const MARKS = { [WARNING]: '⚠', [INFO]: 'ℹ' };
export const ROWS_SHOWN = 6; // rows shown before "show all (N)"
export const UNITS_SHOWN = 3; // unit indices named before "… (+N)"

/** The gates a finding names, as a list, or null ('input,forget' -> ['input', 'forget']). */
export function gatesOf(finding) {
  if (!finding || typeof finding.gate !== 'string' || !finding.gate) return null;
  const gates = finding.gate.split(',').map((gate) => gate.trim()).filter(Boolean);
  return gates.length ? gates : null;
}

/** The units a finding names as integers, or null. */
export function unitsOf(finding) {
  const units = finding && Array.isArray(finding.units) ? finding.units.filter(Number.isInteger) : [];
  return units.length ? units : null;
}

/** "unit 3", "units 1, 4", a long list cut: "units 1, 4, 7 … (+12)"; null without units. */
export function unitsText(units, shown = UNITS_SHOWN) {
  if (!units || !units.length) return null;
  if (units.length === 1) return `unit ${units[0]}`;
  if (units.length <= shown + 1) return `units ${units.join(', ')}`;
  return `units ${units.slice(0, shown).join(', ')} … (+${units.length - shown})`;
}

/** Where a finding is: "lstm · forget gate · units 1, 4"; "the whole run" when it names no layer. */
export function whereText(finding) {
  const gates = gatesOf(finding);
  const parts = [finding.layer || 'the whole run'];
  if (gates) parts.push(gates.length === 1 ? `${gates[0]} gate` : `${gates.join(', ')} gates`);
  const units = unitsText(unitsOf(finding));
  if (units) parts.push(units);
  return parts.join(' · ');
}

/**
 * When: "since step N"; ", until step M" once it was last seen before `latest` (the run's latest
 * checked step); "at step N only" when it was seen at that one step and not since.
 */
export function stepsText(finding, latest) {
  const first = finding.first_step;
  const last = finding.last_step;
  const stopped = Number.isFinite(last) && Number.isFinite(latest) && last < latest;
  if (!stopped) return `since step ${first}`;
  return last === first ? `at step ${first} only` : `since step ${first}, until step ${last}`;
}

/** The kinds a document checked, and [[kind, why]] of those it did not ('no: why' -> why). */
export function checkedKinds(checked) {
  const entries = Object.entries(checked || {});
  const yes = entries.filter(([, said]) => said === 'yes').map(([kind]) => kind);
  const no = entries.filter(([, said]) => said !== 'yes')
    .map(([kind, said]) => [kind, String(said).replace(/^no:\s*/, '') || 'not checked']);
  return { yes, no };
}

/** The hover of a run's line: each kind not checked and why, or null when every kind was checked. */
export function notCheckedTitle(checked) {
  const { no } = checkedKinds(checked);
  return no.length ? `not checked: ${no.map(([kind, why]) => `${kind} (${why})`).join('; ')}` : null;
}

/**
 * A run's own line, or null when it has findings and checked every kind: "no findings (checked: a,
 * b)", with "; not checked: c" when some were not; with findings, only "not checked: c". `title`
 * (the run's) starts it when several runs are ticked.
 */
export function statusText(document, title = null) {
  const { yes, no } = checkedKinds(document.checked);
  const who = title ? `${title}: ` : '';
  const skipped = no.length ? `not checked: ${no.map(([kind]) => kind).join(', ')}` : null;
  if ((document.findings || []).length) return skipped ? `${who}${skipped}` : null;
  const checked = yes.length ? `checked: ${yes.join(', ')}` : 'nothing checked';
  return `${who}no findings (${checked})${skipped ? `; ${skipped}` : ''}`;
}

/** What makes a finding the same one in the list and in the highlight: its run, kind, layer and gate. */
export const findingKey = (run, finding) => JSON.stringify([run, finding.kind, finding.layer ?? null, finding.gate ?? null]);

/**
 * The list's rows of the ticked runs' documents: entries [{run, title, document}] in the page's
 * order; `titled`: say each row's run. Warnings first, then the runs' order, then each document's
 * own order (warnings first, by first step).
 */
export function findingRows(entries, { titled = false } = {}) {
  const rows = [];
  for (const { run, title, document } of entries) {
    const latest = Number.isFinite(document.last_step) ? document.last_step : document.step;
    for (const finding of document.findings || []) {
      const severity = finding.severity === WARNING ? WARNING : INFO;
      rows.push({
        key: findingKey(run, finding), run, title: titled ? title : null, severity, mark: MARKS[severity],
        kind: finding.kind, where: whereText(finding), when: stepsText(finding, latest), sentence: finding.sentence || '',
        layer: finding.layer ?? null, gates: gatesOf(finding), units: unitsOf(finding),
        firstStep: finding.first_step, lastStep: finding.last_step,
      });
    }
  }
  const rank = (row) => (row.severity === WARNING ? 0 : 1);
  return rows.map((row, index) => [row, index]).sort((a, b) => rank(a[0]) - rank(b[0]) || a[1] - b[1]).map(([row]) => row);
}

/** The rows shown (the first `atMost` unless `all`) and how many are behind "show all (N)". */
export function visibleRows(rows, all, atMost = ROWS_SHOWN) {
  if (all || rows.length <= atMost) return { shown: rows, hidden: 0 };
  return { shown: rows.slice(0, atMost), hidden: rows.length - atMost };
}

/** A row's text in one line (its hover, and what the tests read). */
export const rowText = (row) => [row.title, row.mark, row.kind, row.where, row.when, row.sentence].filter(Boolean).join(' · ');

/** The state's highlight of a clicked row: {key, run, kind, layer, gates, units, step}. */
export const highlightOf = (row) => ({ key: row.key, run: row.run, kind: row.kind, layer: row.layer, gates: row.gates,
  units: row.units, step: row.firstStep });

/** Whether a weight panel ({run, layer, gate}) is a highlighted finding's place: its layer, and its gates if named. */
export function highlights(highlight, panel) {
  if (!highlight || !highlight.layer || highlight.run !== panel.run || highlight.layer !== panel.layer) return false;
  return !highlight.gates || highlight.gates.includes(panel.gate);
}

/**
 * The columns of a gate's panel that hold `units` (one column per unit, or per `block` units when
 * the matrix was reduced), distinct, in order, within `cols`.
 */
export function unitColumns(units, cols, block = 1) {
  const step = Math.max(1, block || 1);
  const columns = new Set((units || []).map((unit) => Math.floor(unit / step)).filter((col) => col >= 0 && col < cols));
  return [...columns].sort((a, b) => a - b);
}
