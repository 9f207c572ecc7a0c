// The text view's words and colours, pure (tests/js/text_view.test.mjs): a token's visible text (a space,
// a tab and a line end drawn as ␣ ⇥ ↵), the probe's texts, how a sequence wraps into lines, one unit's
// values along a probe sequence, and the colour of a value on the activations' own maps.

import { maxAbs, putBwr } from './colour.js';
import { usableScale } from './scales.js';

export const NO_TOKEN = -1; // board/metadata.py NO_TOKEN: a one-hot vector of zeros (padding)
export const TOKEN_ENCODINGS = ['ids', 'one_hot']; // board/metadata.py PROBE_IDS, PROBE_ONE_HOT
const SHOWN = { ' ': '␣', '\n': '↵', '\t': '⇥', '\r': '␍' };
const CONTROL_PICTURES = 0x2400; // U+2400..U+241F: a picture of each control character
const EMPTY_TOKEN = '∅';
const NO_TOKEN_TEXT = '·';
// A gate's value is in [0, 1], the candidate's in [-1, 1]: drawn as t = (v - offset) / divide (as activations.js).
export const GATE_MAP = { offset: 0.5, divide: 0.5 };
export const CANDIDATE_MAP = { offset: 0, divide: 1 };

/** Whether a run's probe holds tokens (its /runs entry's encoding): the text view is shown for it alone. */
export const holdsTokens = (run) => Boolean(run && TOKEN_ENCODINGS.includes(run.encoding));

/** A token's text with whitespace and control characters made visible. */
export function visibleText(text) {
  if (!text) return EMPTY_TOKEN;
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0);
    out += SHOWN[ch] ?? (code < 0x20 ? String.fromCodePoint(CONTROL_PICTURES + code) : ch);
  }
  return out;
}

/** The shown text of token `id`: its vocabulary text made visible, ⟨id⟩ without a vocabulary. */
export function tokenText(tokens, id) {
  if (id === NO_TOKEN) return NO_TOKEN_TEXT;
  if (!tokens) return `⟨${id}⟩`;
  return visibleText(tokens[id] ?? `⟨${id}⟩`);
}

/** [[shown text per time step] per sequence] of a /probe answer of token ids. */
export function probeTexts(probe) {
  const [sequences, time] = probe.shape;
  return Array.from({ length: sequences }, (_, q) => Array.from({ length: time },
    (__, t) => tokenText(probe.tokens, probe.data[q * time + t])));
}

/** A sequence's tokens cut into lines of at most `perLine` characters: [[start, end), ...], never empty. */
export function lineChunks(texts, perLine) {
  const chunks = [];
  let start = 0;
  let used = 0;
  texts.forEach((text, t) => {
    const width = [...text].length;
    if (t > start && used + width > perLine) {
      chunks.push([start, t]);
      start = t;
      used = 0;
    }
    used += width;
  });
  if (texts.length) chunks.push([start, texts.length]);
  return chunks;
}

/** Characters per line in widthPx, with labelPx for the row's label and charPx per character (at least 8). */
export const charsPerLine = (widthPx, charPx, labelPx) => Math.max(8, Math.floor((widthPx - labelPx) / charPx));

/** Offset of (panel, sequence, time 0, unit) in an /activations answer's data (panels, sequences, time, units). */
export function seriesStart(shape, panel, sequence, unit) {
  const [, sequences, time, units] = shape;
  return ((panel * sequences + sequence) * time) * units + unit;
}

/** One unit's values along one probe sequence: Float32Array(time). */
export function unitSeries(activations, panel, sequence, unit) {
  const [, , time, units] = activations.shape;
  const out = new Float32Array(time);
  let k = seriesStart(activations.shape, panel, sequence, unit);
  for (let t = 0; t < time; t++, k += units) out[t] = activations.data[k];
  return out;
}

/**
 * The colour map of a panel ({offset, divide, scale}): a gate on [0, 1], the candidate on [-1, 1], a
 * state (h, c) on this step's largest |value| of the panel, as the activations section draws them.
 */
export function panelMap(kind, activations, panel) {
  if (kind === 'gate') return { ...GATE_MAP, scale: 1 };
  if (kind === 'candidate') return { ...CANDIDATE_MAP, scale: 1 };
  const [, sequences, time, units] = activations.shape;
  const size = sequences * time * units;
  const scale = usableScale(maxAbs(activations.data, null, panel * size, (panel + 1) * size));
  return { offset: 0, divide: scale, scale };
}

/** The CSS colour of value v on a map (the bwr map of colour.js; NaN grey). */
export function cssColour(v, map) {
  putBwr(RGBA, 0, (v - map.offset) / map.divide);
  return `rgb(${RGBA[0]}, ${RGBA[1]}, ${RGBA[2]})`;
}
const RGBA = new Uint8ClampedArray(4); // cssColour's one buffer: a paint colours thousands of cells

/** The value a bwr colour [r, g, b] stands for on a map (to within divide / 255): the inverse of cssColour. */
export function valueOfColour([r, g, b], map) {
  const size = 1 - g / 255;
  const t = b < r ? size : r < b ? -size : 0;
  return t * map.divide + map.offset;
}

/** Left edges of a line's token cells and its width: {x: [left of each cell], width}; widths[i] px each, at least minPx. */
export function cellOffsets(widths, minPx) {
  const x = [];
  let left = 0;
  for (const w of widths) {
    x.push(left);
    left += Math.max(minPx, Math.ceil(w));
  }
  return { x, width: left };
}

/** The index of the cell under x px (offsets.x sorted, offsets.width the end), or -1 outside. */
export function cellAtX(offsets, px) {
  if (!(px >= 0) || px >= offsets.width || !offsets.x.length) return -1;
  let lo = 0;
  let hi = offsets.x.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (offsets.x[mid] <= px) lo = mid; else hi = mid - 1;
  }
  return lo;
}
