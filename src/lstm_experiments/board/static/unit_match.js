// Units that respond to something, pure (tests/js/text_view.test.mjs), on one step's /activations answer
// (panels, sequences, time, units) and one panel of it:
// - extremes: where a unit is highest and lowest on the probe, with the tokens around;
// - select and match (after LSTMVis, Strobelt et al. 2018): for a selected stretch of one probe sequence,
//   rank the units by their mean over the stretch minus their mean everywhere else on the probe; take
//   the leading ones (by default those within half the best's contrast, at most MAX_MATCH_UNITS); a
//   unit is on where its value is at least its threshold, halfway between its two means; the matches
//   are the other stretches of the probe where every one of them is on (each bounded by positions where
//   one is off), the closest in length to the selection first.

import { seriesStart } from './text_layout.js';

export const EXTREMES_KEPT = 5;
export const CONTEXT_TOKENS = 4; // tokens each side of a listed position
export const MAX_MATCH_UNITS = 5;
export const MATCHES_KEPT = 20;
const AUTO_SHARE = 0.5; // units within this share of the best contrast are matched by default

/** The tokens around (sequence, t): {before, token, after} (texts: probeTexts). */
export function contextOf(texts, sequence, t, context = CONTEXT_TOKENS) {
  const row = texts[sequence];
  return { before: row.slice(Math.max(0, t - context), t).join(''), token: row[t],
    after: row.slice(t + 1, t + 1 + context).join('') };
}

/** {high, low}: the `count` probe positions where `unit` is highest and lowest, [{sequence, t, value}]. */
export function extremes(activations, panel, unit, count = EXTREMES_KEPT) {
  const [, sequences, time, units] = activations.shape;
  const all = [];
  for (let q = 0; q < sequences; q++) {
    let k = seriesStart(activations.shape, panel, q, unit);
    for (let t = 0; t < time; t++, k += units) {
      const value = activations.data[k];
      if (Number.isFinite(value)) all.push({ sequence: q, t, value });
    }
  }
  all.sort((a, b) => b.value - a.value || a.sequence - b.sequence || a.t - b.t);
  return { high: all.slice(0, count), low: all.slice(-count).reverse() };
}

const inside = (selection, q, t) => q === selection.sequence && t >= selection.start && t < selection.end;

/** Every unit by its contrast over the selection ({sequence, start, end}, end excluded), largest first: [{unit, contrast, inside, outside}]. */
export function rankUnits(activations, panel, selection) {
  const [, sequences, time, units] = activations.shape;
  const ranked = [];
  for (let u = 0; u < units; u++) {
    let sumIn = 0; let countIn = 0; let sumOut = 0; let countOut = 0;
    for (let q = 0; q < sequences; q++) {
      let k = seriesStart(activations.shape, panel, q, u);
      for (let t = 0; t < time; t++, k += units) {
        const value = activations.data[k];
        if (!Number.isFinite(value)) continue;
        if (inside(selection, q, t)) { sumIn += value; countIn += 1; } else { sumOut += value; countOut += 1; }
      }
    }
    const meanIn = countIn ? sumIn / countIn : NaN;
    const meanOut = countOut ? sumOut / countOut : NaN;
    ranked.push({ unit: u, contrast: meanIn - meanOut, inside: meanIn, outside: meanOut });
  }
  return ranked.filter((r) => Number.isFinite(r.contrast)).sort((a, b) => b.contrast - a.contrast || a.unit - b.unit);
}

/** How many leading units are matched by default: those within AUTO_SHARE of the best contrast (at least 1). */
export function autoCount(ranked, most = MAX_MATCH_UNITS) {
  if (!ranked.length) return 0;
  const best = ranked[0].contrast;
  if (!(best > 0)) return 1;
  let count = 0;
  while (count < Math.min(most, ranked.length) && ranked[count].contrast >= best * AUTO_SHARE) count += 1;
  return Math.max(1, count);
}

/**
 * Select and match: {ranked, units: [{unit, threshold}], matches: [{sequence, start, end, score}]}.
 * count: how many leading units to match (null: autoCount); limit: matches kept.
 */
export function matchSelection(activations, panel, selection, { count = null, limit = MATCHES_KEPT } = {}) {
  const ranked = rankUnits(activations, panel, selection);
  const n = Math.min(ranked.length, count ?? autoCount(ranked));
  const units = ranked.slice(0, n).map((r) => ({ unit: r.unit, threshold: (r.inside + r.outside) / 2 }));
  const [, sequences, time] = activations.shape;
  const length = selection.end - selection.start;
  const matches = [];
  if (units.length) {
    for (let q = 0; q < sequences; q++) {
      const series = units.map(({ unit }) => seriesStart(activations.shape, panel, q, unit));
      const unitsCount = activations.shape[3];
      const on = (t) => units.every(({ threshold }, i) => activations.data[series[i] + t * unitsCount] >= threshold);
      let start = null;
      for (let t = 0; t <= time; t++) {
        if (t < time && on(t)) { if (start === null) start = t; continue; }
        if (start === null) continue;
        const overlaps = q === selection.sequence && start < selection.end && t > selection.start;
        if (!overlaps) {
          let score = 0;
          for (let s = start; s < t; s++) {
            units.forEach(({ threshold }, i) => { score += activations.data[series[i] + s * unitsCount] - threshold; });
          }
          matches.push({ sequence: q, start, end: t, score: score / ((t - start) * units.length) });
        }
        start = null;
      }
    }
  }
  matches.sort((a, b) => Math.abs(a.end - a.start - length) - Math.abs(b.end - b.start - length)
    || b.score - a.score || a.sequence - b.sequence || a.start - b.start);
  return { ranked, units, matches: matches.slice(0, limit), total: matches.length };
}
