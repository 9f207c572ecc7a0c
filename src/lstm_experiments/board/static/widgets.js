// Canvas widgets the views draw with: heat maps (one canvas pixel per value, scaled up by CSS
// with image-rendering: pixelated), colour legends and line charts.

import { putBwr } from './colour.js';
import { el, formatScale, sharpCanvas } from './dom.js';

/**
 * A heat map canvas of cols x rows pixels shown at cssWidth x cssHeight.
 * paint(fn) fills its ImageData through fn(pixels) and puts it back.
 */
export class HeatCanvas {
  constructor({ cols, rows, cssWidth, cssHeight, attrs = {} }) {
    this.cols = cols;
    this.rows = rows;
    this.canvas = el('canvas', { class: 'lg-heat', width: cols, height: rows, ...attrs });
    this.canvas.style.width = `${cssWidth}px`;
    this.canvas.style.height = `${cssHeight}px`;
    this.canvas.dataset.cols = String(cols);
    this.canvas.dataset.rows = String(rows);
    this.context = this.canvas.getContext('2d');
    this.image = this.context.createImageData(cols, rows);
  }

  /** A new size in cells (the CSS size stays). */
  resize(cols, rows) {
    if (cols === this.cols && rows === this.rows) return;
    this.cols = cols;
    this.rows = rows;
    this.canvas.width = cols;
    this.canvas.height = rows;
    this.canvas.dataset.cols = String(cols);
    this.canvas.dataset.rows = String(rows);
    this.image = this.context.createImageData(cols, rows);
  }

  paint(fill) {
    fill(this.image.data);
    this.context.putImageData(this.image, 0, 0);
  }

  /** The data cell (col, row) under a mouse event, or null outside. */
  cellAt(event) {
    const rect = this.canvas.getBoundingClientRect();
    const col = Math.floor(((event.clientX - rect.left) / rect.width) * this.cols);
    const row = Math.floor(((event.clientY - rect.top) / rect.height) * this.rows);
    if (col < 0 || row < 0 || col >= this.cols || row >= this.rows) return null;
    return { col, row };
  }
}

const LEGEND_WIDTH = 128;
const TICK_FONT = '11px sans-serif';
const TICK_COLOUR = '#616161';

/**
 * A colour legend: a bar from low to high with its labels.
 * kind 'symmetric' (-s, 0, +s: the bwr map on scale s) or 'unit' ([0, 1], centre 0.5).
 */
export class Legend {
  constructor({ caption = '', testid = 'legend' } = {}) {
    this.bar = el('canvas', { class: 'lg-legend-bar', width: LEGEND_WIDTH, height: 1 });
    this.low = el('span', { class: 'lg-legend-low' });
    this.mid = el('span', { class: 'lg-legend-mid' });
    this.high = el('span', { class: 'lg-legend-high' });
    this.caption = el('div', { class: 'lg-legend-caption', text: caption });
    this.noteText = el('span');
    this.note = el('div', { class: 'lg-legend-note', 'data-testid': 'legend-non-finite', hidden: true },
      el('span', { class: 'lg-swatch-grey' }), this.noteText);
    this.node = el('div', { class: 'lg-legend', 'data-testid': testid },
      this.caption, this.bar, el('div', { class: 'lg-legend-labels' }, this.low, this.mid, this.high), this.note);
    const context = this.bar.getContext('2d');
    const image = context.createImageData(LEGEND_WIDTH, 1);
    for (let x = 0; x < LEGEND_WIDTH; x++) putBwr(image.data, x * 4, (2 * x) / (LEGEND_WIDTH - 1) - 1);
    context.putImageData(image, 0, 0);
  }

  set({ low, mid, high, caption }) {
    this.low.textContent = low;
    this.mid.textContent = mid;
    this.high.textContent = high;
    if (caption !== undefined) this.caption.textContent = caption;
  }

  symmetric(scale, caption) {
    const s = formatScale(scale);
    this.node.dataset.scale = String(scale);
    this.set({ low: `−${s}`, mid: '0', high: `+${s}`, caption });
  }

  /** Say that `count` drawn values are NaN or ±inf, drawn grey (hidden when none is). */
  nonFinite(count) {
    this.node.dataset.nonFinite = String(count);
    this.note.hidden = !(count > 0);
    this.noteText.textContent = count > 0 ? `grey: NaN or ±inf (${count} ${count === 1 ? 'value' : 'values'})` : '';
  }
}


/** A small line chart on a canvas (device-pixel sharp). */
export class LineChart {
  constructor({ width, height, attrs = {} }) {
    this.width = width;
    this.height = height;
    ({ canvas: this.canvas, context: this.context } = sharpCanvas({ width, height, attrs }));
  }

  /**
   * series: [{points: [[x, y]...], colour}]; x range [x0, x1] maps to [left, width-right];
   * y range [y0, y1] to the height; marker: an x to draw as a vertical line;
   * xAt(x): optional mapping of x to a pixel (overrides the range);
   * bands: [[left, right]] in pixels, shaded in bandColour behind the lines (masked steps);
   * ticks: [low, high] labels of y (left corners); xTicks: [first, last] of x, the last drawn
   * in the bottom right corner (the first would sit on the y axis' low label).
   */
  draw({ series, x0, x1, y0, y1, marker = null, xAt = null, zero = null, pad = 2, ticks = null, xTicks = null,
    bands = [], bandColour = '#dcdcdc' }) {
    const g = this.context;
    const w = this.width;
    const h = this.height;
    g.clearRect(0, 0, w, h);
    g.fillStyle = bandColour;
    for (const [left, right] of bands) g.fillRect(left, 0, right - left, h);
    const px = xAt || ((x) => (x1 === x0 ? w / 2 : pad + ((x - x0) / (x1 - x0)) * (w - 2 * pad)));
    this.drawn = { x0, x1, pad };
    const py = (y) => h - pad - ((y - y0) / (y1 - y0 || 1)) * (h - 2 * pad);
    g.lineWidth = 1;
    if (zero !== null) {
      g.strokeStyle = '#ddd';
      g.beginPath();
      g.moveTo(0, Math.round(py(zero)) + 0.5);
      g.lineTo(w, Math.round(py(zero)) + 0.5);
      g.stroke();
    }
    g.fillStyle = TICK_COLOUR;
    g.font = TICK_FONT;
    if (ticks) {
      g.textAlign = 'left';
      g.textBaseline = 'top';
      g.fillText(ticks[1], 2, 1);
      g.textBaseline = 'bottom';
      g.fillText(ticks[0], 2, h - 1);
    }
    if (xTicks) {
      g.textBaseline = 'bottom';
      g.textAlign = 'right';
      g.fillText(xTicks[1], w - 2, h - 1);
      g.textAlign = 'left';
    }
    if (marker !== null) {
      g.strokeStyle = '#555';
      g.setLineDash([2, 2]);
      g.beginPath();
      const mx = Math.round(px(marker)) + 0.5;
      g.moveTo(mx, 0);
      g.lineTo(mx, h);
      g.stroke();
      g.setLineDash([]);
    }
    g.lineWidth = 1.5;
    for (const { points, colour } of series) {
      g.strokeStyle = colour;
      g.beginPath();
      let drawing = false;
      for (const [x, y] of points) {
        if (!Number.isFinite(y)) { drawing = false; continue; }
        if (drawing) g.lineTo(px(x), py(y)); else g.moveTo(px(x), py(y));
        drawing = true;
      }
      g.stroke();
      if (points.length === 1 && Number.isFinite(points[0][1])) {
        g.fillStyle = colour;
        g.fillRect(px(points[0][0]) - 1.5, py(points[0][1]) - 1.5, 3, 3);
      }
    }
  }

  /** The x of the last drawing's range under `px` CSS pixels from the chart's left (null before one). */
  xAtPx(px) {
    if (!this.drawn) return null;
    const { x0, x1, pad } = this.drawn;
    return x1 === x0 ? x0 : x0 + ((px - pad) / (this.width - 2 * pad)) * (x1 - x0);
  }
}

export const FEATURE_COLOURS = ['#1b6ca8', '#d1495b', '#2e8b57', '#e08e0b', '#6a4c93', '#00798c', '#8d6a9f', '#555555'];
