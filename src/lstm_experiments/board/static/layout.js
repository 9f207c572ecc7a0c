// How big things are drawn: pixels per value, minimum sizes, the page's height budget. Pure
// (tests/js/layout.test.mjs); the numbers of one view are named at the top of that view.

export const MIN_CELL_PX = 16; // a side of few cells gets at least this many pixels per cell ...
export const MIN_SIDE_PX = 32; // ... until it is this long: a 2-row kernel is 32 px, a bias 16 px
export const MAX_FACTOR = 40; // pixels per value, at most
// At 1600 x 1000 the weights take at most this share of the frame's height, so the activations
// start above the fold; the several-runs strip takes the same.
export const WEIGHTS_HEIGHT_SHARE = 0.36;
export const MIN_WEIGHTS_PX = 200;

/** Pixels per value along an axis: an integer when it fits, a fraction when it must shrink. */
export function pixelsPer(count, available, largest = MAX_FACTOR) {
  if (count <= 0) return 1;
  if (count > available) return available / count;
  return Math.max(1, Math.min(largest, Math.floor(available / count)));
}

/** CSS pixels of a side of `count` cells at `factor` px each, small sides raised to a hoverable size. */
export function sidePx(count, factor) {
  const natural = count * factor;
  if (natural >= MIN_SIDE_PX) return natural;
  return Math.min(count * MIN_CELL_PX, Math.max(natural, MIN_SIDE_PX));
}

/** Pixels the weights may take at this frame height. */
export const weightsBudget = (height) => Math.max(MIN_WEIGHTS_PX, height * WEIGHTS_HEIGHT_SHARE);

/**
 * One run's grid: one factor (px per weight) for every matrix, so that the widest gate block fits
 * `panelWidth` and the matrices' rows together fit `height` (after `overhead` px per matrix row).
 * matrices: [{rows, cols}] of one gate's panel.
 */
export function gridFactor(matrices, panelWidth, height, overhead = 0) {
  const widest = Math.max(1, ...matrices.map((m) => m.cols));
  const rows = matrices.reduce((sum, m) => sum + m.rows, 0);
  const available = Math.max(1, height - overhead * matrices.length);
  return Math.min(pixelsPer(widest, panelWidth), pixelsPer(rows, available));
}

/**
 * Runs side by side: one factor for every run, so a 128-unit panel is drawn twice as wide as a
 * 64-unit one. The panels (plus `gap` px each) fit `width` in one row and the tallest fits `height`.
 * panels: [{rows, cols}] (null for a run without the panel).
 */
export function stripFactor(panels, width, height, gap = 0) {
  const shown = panels.filter(Boolean);
  if (!shown.length) return 1;
  const cols = shown.reduce((sum, p) => sum + p.cols, 0);
  const tallest = Math.max(...shown.map((p) => p.rows));
  return Math.min(pixelsPer(cols, Math.max(1, width - gap * shown.length)), pixelsPer(tallest, height));
}
