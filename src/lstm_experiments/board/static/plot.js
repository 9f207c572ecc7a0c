// A chart with axes on a canvas, for the gradient-through-time chart and the unit scatter: a plot
// area inside margins that hold the tick labels, linear and log (decade) scales, lines and dots. The
// pure parts (scales, decades, ticks, the nearest point) are tested (tests/js/plot.test.mjs); the
// plot area is on the canvas as data-plot="left,top,width,height" (CSS px), for the browser tests.

import { sharpCanvas } from './dom.js';

export const MARGIN = Object.freeze({ left: 40, right: 10, top: 8, bottom: 18 });
export const MOST_TICKS = 7; // decade labels on a log axis, at most
const TICK_FONT = '11px sans-serif';
const TICK_COLOUR = '#616161';
const GRID_COLOUR = '#e6e6e6';
const FRAME_COLOUR = '#bdbdbd';
const EDGE_PX = 1;

/** A linear map from [d0, d1] to [p0, p1] (the middle of the range when d0 === d1), with invert(). */
export function linearScale(d0, d1, p0, p1) {
  const span = d1 - d0;
  const map = (v) => (span === 0 ? (p0 + p1) / 2 : p0 + ((v - d0) / span) * (p1 - p0));
  map.invert = (p) => (p1 === p0 ? d0 : d0 + ((p - p0) / (p1 - p0)) * span);
  return map;
}

/** A log map from decades [lo, hi] (powers of ten) to [p0, p1]; NaN for a value that is not positive. */
export function logScale(lo, hi, p0, p1) {
  const map = (v) => (v > 0 && Number.isFinite(v) ? p0 + ((Math.log10(v) - lo) / (hi - lo || 1)) * (p1 - p0) : NaN);
  map.invert = (p) => 10 ** (lo + ((p - p0) / (p1 - p0)) * (hi - lo || 1));
  return map;
}

/** The whole decades {lo, hi} around every positive finite value (at least one decade), or null if none is. */
export function decadeRange(values) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!(v > 0) || !Number.isFinite(v)) continue;
    lo = Math.min(lo, Math.log10(v));
    hi = Math.max(hi, Math.log10(v));
  }
  if (lo === Infinity) return null;
  const low = Math.floor(lo) + 0; // + 0: never -0
  const high = Math.max(Math.ceil(hi), low + 1) + 0;
  return { lo: low, hi: high };
}

/** The decades to label on a log axis from lo to hi: every one, or every k-th so that at most `most` are. */
export function decadeTicks({ lo, hi }, most = MOST_TICKS) {
  const stride = Math.max(1, Math.ceil((hi - lo) / Math.max(1, most - 1)));
  const ticks = [];
  for (let e = hi; e >= lo; e -= stride) ticks.unshift(e);
  return ticks;
}

/** A decade's label: '1', '10', '0.1', else '1e-5', '1e+3' (a power of ten, short). */
export function powerText(exponent) {
  if (exponent >= -1 && exponent <= 1) return String(10 ** exponent);
  return `1e${exponent > 0 ? '+' : ''}${exponent}`;
}

/** The index of the value in sorted `xs` nearest to x (-1 for none). */
export function nearestIndex(xs, x) {
  let best = -1;
  for (let i = 0; i < xs.length; i++) if (best < 0 || Math.abs(xs[i] - x) < Math.abs(xs[best] - x)) best = i;
  return best;
}

/** The indices of `points` ([{x, y}] in px; null skipped) within `radius` px of (x, y), nearest first. */
export function pointsNear(points, x, y, radius) {
  const found = [];
  points.forEach((point, index) => {
    if (!point) return;
    const distance = Math.hypot(point.x - x, point.y - y);
    if (distance <= radius) found.push([distance, index]);
  });
  return found.sort((a, b) => a[0] - b[0] || a[1] - b[1]).map(([, index]) => index);
}

/** The mouse position of an event in a canvas' CSS pixels. */
export function pointerAt(event, canvas) {
  const rect = canvas.getBoundingClientRect();
  return { x: event.clientX - rect.left, y: event.clientY - rect.top };
}


/** A canvas of width x height CSS px (device-pixel sharp) with a plot area inside `margin`. */
export class Plot {
  constructor({ width, height, margin = MARGIN, attrs = {} }) {
    this.width = width;
    this.height = height;
    this.area = { left: margin.left, top: margin.top, width: width - margin.left - margin.right,
      height: height - margin.top - margin.bottom };
    ({ canvas: this.canvas, context: this.context } = sharpCanvas({ width, height, attrs }));
    const { left, top } = this.area;
    this.canvas.dataset.plot = [left, top, this.area.width, this.area.height].join(',');
  }

  /** Scales of the plot area: x from [x0, x1] left to right, y from [y0, y1] bottom to top (log: decades). */
  scales({ x0, x1, y0, y1, log = false }) {
    const { left, top, width, height } = this.area;
    const x = linearScale(x0, x1, left, left + width);
    const y = log ? logScale(y0, y1, top + height, top) : linearScale(y0, y1, top + height, top);
    return { x, y };
  }

  /** Clear it and draw the plot area's frame, grid lines and tick labels: ticks [{at (px), text}]. */
  axes({ xTicks = [], yTicks = [] } = {}) {
    const g = this.context;
    const { left, top, width, height } = this.area;
    g.clearRect(0, 0, this.width, this.height);
    g.lineWidth = 1;
    g.strokeStyle = GRID_COLOUR;
    g.beginPath();
    for (const { at } of yTicks) {
      g.moveTo(left, Math.round(at) + 0.5);
      g.lineTo(left + width, Math.round(at) + 0.5);
    }
    g.stroke();
    g.strokeStyle = FRAME_COLOUR;
    g.beginPath();
    g.moveTo(left + 0.5, top);
    g.lineTo(left + 0.5, top + height + 0.5);
    g.lineTo(left + width, top + height + 0.5);
    g.stroke();
    g.fillStyle = TICK_COLOUR;
    g.font = TICK_FONT;
    g.textAlign = 'right';
    g.textBaseline = 'middle';
    for (const { at, text } of yTicks) g.fillText(text, left - 4, at);
    g.textBaseline = 'top';
    for (const { at, text } of xTicks) {
      // A label at an edge of the plot area stays inside it; one between is centred on its tick.
      g.textAlign = at <= left + EDGE_PX ? 'left' : at >= left + width - EDGE_PX ? 'right' : 'center';
      g.fillText(text, at, top + height + 3);
    }
  }

  /** A line through points [[x, y]] in px; a point that is not finite breaks it. */
  line(points, colour, width = 1.5) {
    const g = this.context;
    g.strokeStyle = colour;
    g.lineWidth = width;
    g.beginPath();
    let drawing = false;
    for (const [x, y] of points) {
      if (!Number.isFinite(x) || !Number.isFinite(y)) { drawing = false; continue; }
      if (drawing) g.lineTo(x, y); else g.moveTo(x, y);
      drawing = true;
    }
    g.stroke();
  }

  /** Round dots at points [[x, y]] in px (points that are not finite are left out). */
  dots(points, colour, radius = 2.5, alpha = 1) {
    const g = this.context;
    g.fillStyle = colour;
    g.globalAlpha = alpha;
    for (const [x, y] of points) {
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      g.beginPath();
      g.arc(x, y, radius, 0, 2 * Math.PI);
      g.fill();
    }
    g.globalAlpha = 1;
  }

  /** A thin dashed line from (x0, y0) to (x1, y1) in px (a guide: the diagonal of the scatter). */
  guide(x0, y0, x1, y1) {
    const g = this.context;
    g.strokeStyle = FRAME_COLOUR;
    g.lineWidth = 1;
    g.setLineDash([3, 3]);
    g.beginPath();
    g.moveTo(x0, y0);
    g.lineTo(x1, y1);
    g.stroke();
    g.setLineDash([]);
  }

  /** A message in the middle of the plot area (no data at this step). */
  message(text) {
    const g = this.context;
    const { left, top, width, height } = this.area;
    g.fillStyle = TICK_COLOUR;
    g.font = TICK_FONT;
    g.textAlign = 'center';
    g.textBaseline = 'middle';
    g.fillText(text, left + width / 2, top + height / 2);
  }
}
