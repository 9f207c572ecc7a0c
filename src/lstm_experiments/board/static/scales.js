// Colour scales of the weight panels. Pure (tests/js/scales.test.mjs).
//
// W_t is drawn on the run's fixed scale (largest |W_0| of the matrix, from /runs). The change
// W_t - W_0 is drawn on one of two scales (the `change scale` control):
//   'step': the largest |W_t - W_0| at the shown step (every step fills the colour range);
//   'run':  the largest |W_t - W_0| over every step of the run the page has loaded, so playing
//           the run shows the drift grow. The page loads every step in the background; until it
//           has them all the legend says over how many steps the scale was taken.

import { maxAbs } from './colour.js';

export const FALLBACK_SCALE = 1; // a scale of 0 (nothing changed yet) or none: drawn on 1
export const CHANGE_SCALES = ['step', 'run'];

export const usableScale = (scale) => (Number.isFinite(scale) && scale > 0 ? scale : FALLBACK_SCALE);

/** The largest |W_t - W_0| of each (run, layer, matrix, step), kept after the matrices leave the cache. */
export class ChangeScales {
  constructor() {
    this.known = new Map();
  }

  static key(run, layer, matrix, step) {
    return JSON.stringify([run, layer, matrix, step]);
  }

  get(run, layer, matrix, step) {
    return this.known.get(ChangeScales.key(run, layer, matrix, step));
  }

  /** The largest change of W_t against W_0 (both {data}), computed once. */
  at(run, layer, matrix, step, current, initial) {
    const key = ChangeScales.key(run, layer, matrix, step);
    let scale = this.known.get(key);
    if (scale === undefined) {
      scale = maxAbs(current.data, initial.data);
      this.known.set(key, scale);
    }
    return scale;
  }
}

/**
 * The scale of a group of panels drawn on one legend.
 * members: [{fixed, stepChange, runChange}]: fixed (the run's W_0 scale), stepChange (this step's
 * largest change, undefined while loading), runChange ({scale, covered, total}: over the run's steps).
 * Returns {scale (usable), covered, total} (covered/total: how many steps a 'run' scale was taken over).
 */
export function groupScale(members, view, changeScale) {
  let scale = 0;
  let covered = 0;
  let total = 0;
  for (const member of members) {
    if (view !== 'change') scale = Math.max(scale, member.fixed ?? 0);
    else if (changeScale === 'run' && member.runChange) {
      scale = Math.max(scale, member.runChange.scale);
      covered += member.runChange.covered;
      total += member.runChange.total;
    } else if (changeScale !== 'run' && member.stepChange !== undefined) scale = Math.max(scale, member.stepChange);
  }
  return { scale: usableScale(scale), covered, total };
}

/** The legend's caption of a group. shared: several runs on one legend. */
export function scaleCaption(view, changeScale, { shared = false, covered = 0, total = 0 } = {}) {
  if (view !== 'change') return shared ? 'W_t, shared by every run: the largest of their fixed scales' : 'W_t, the run\'s fixed scale';
  const who = shared ? ' of every run' : '';
  if (changeScale === 'run') {
    const over = covered < total ? `${covered} of ${total} steps loaded` : 'every step';
    return `W_t − W_0, the largest change${who} over ${over}`;
  }
  return `W_t − W_0, this step's largest change${who}`;
}
