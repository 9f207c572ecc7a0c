// The colour maps, identical to the images' (lstm_experiments/viz/colour.py):
// value v on scale s -> t = clip(v/s, -1, 1);
// R = 255*(t > 0 ? 1 : 1+t), G = 255*(1-|t|), B = 255*(t < 0 ? 1 : 1-t); NaN grey 128.
// Uint8ClampedArray rounds half to even, as numpy's rint does.

export const NAN_GREY = 128;

/** Write the bwr colour of t (already v/s) at pixel offset i of an RGBA array. */
export function putBwr(pixels, i, t) {
  if (Number.isNaN(t)) {
    pixels[i] = NAN_GREY; pixels[i + 1] = NAN_GREY; pixels[i + 2] = NAN_GREY;
  } else {
    if (t > 1) t = 1; else if (t < -1) t = -1;
    pixels[i] = t > 0 ? 255 : 255 * (1 + t);
    pixels[i + 1] = 255 * (1 - Math.abs(t));
    pixels[i + 2] = t < 0 ? 255 : 255 * (1 - t);
  }
  pixels[i + 3] = 255;
}

/** [r, g, b] of a value on a scale (for legends and tests). */
export function bwr(value, scale) {
  const out = new Uint8ClampedArray(4);
  putBwr(out, 0, value / scale);
  return [out[0], out[1], out[2]];
}

/**
 * Paint a block of a row-major matrix into RGBA pixels, one pixel per value.
 * src: Float32Array (rows x srcCols); the block is columns [col0, col0+cols);
 * base (optional, same layout) is subtracted first (the change W_t - W_0);
 * offset and divide map a value to t = (v - offset) / divide.
 * transpose: pixel (x, y) shows src (row y... ) or, transposed, pixel x is the row.
 */
export function paintBlock(pixels, src, srcCols, col0, rows, cols, { base = null, offset = 0, divide = 1, transpose = false } = {}) {
  const inv = 1 / divide;
  for (let r = 0; r < rows; r++) {
    const rowStart = r * srcCols + col0;
    for (let c = 0; c < cols; c++) {
      const k = rowStart + c;
      const v = base ? src[k] - base[k] : src[k];
      const pixel = transpose ? (c * rows + r) * 4 : (r * cols + c) * 4;
      putBwr(pixels, pixel, (v - offset) * inv);
    }
  }
}

/** The largest finite |value| of a (sub)array, or of a - b; 0 when there is none. */
export function maxAbs(values, base = null, start = 0, end = values.length) {
  let largest = 0;
  for (let i = start; i < end; i++) {
    const v = Math.abs(base ? values[i] - base[i] : values[i]);
    if (v > largest && v !== Infinity) largest = v;
  }
  return largest;
}
