// DOM helpers. Every piece of data (run names, tags, feature names, numbers) goes
// into the page as text: el() sets attributes with setAttribute and children with
// append(), which makes text nodes of strings. Nothing here parses HTML.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = String(value);
    else if (key === 'dataset') {
      for (const [name, item] of Object.entries(value)) node.dataset[name] = String(item);
    } else if (key === 'style') Object.assign(node.style, value);
    else if (key.startsWith('on') && typeof value === 'function') {
      node.addEventListener(key.slice(2), value);
    } else if (key === 'checked' || key === 'selected' || key === 'disabled' || key === 'value') {
      node[key] = value;
    } else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child !== undefined && child !== null && child !== false) node.append(child);
  }
  return node;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

/** A <select> of [value, label] pairs (labels as text). */
export function select(options, current, attrs = {}) {
  const node = el('select', attrs);
  for (const [value, label] of options) {
    node.append(el('option', { value: String(value), text: label, selected: String(value) === String(current) }));
  }
  return node;
}

/** A number as the page shows it: five significant digits (float16 has about 3.3). */
export function formatValue(value) {
  if (value === null || value === undefined || Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+inf' : '-inf';
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e-4 && magnitude < 1e5) return String(Number(value.toPrecision(5)));
  return value.toExponential(4);
}

export function formatScale(scale) {
  return Number.isFinite(scale) ? String(Number(scale.toPrecision(3))) : String(scale);
}

export function signed(value) {
  const text = formatValue(value);
  return value > 0 ? `+${text}` : text;
}

/** A canvas of width x height CSS pixels drawn at the device's pixel ratio (1 to 3), its 2-D context
 * scaled so that drawing is in CSS pixels: {canvas, context}. */
export function sharpCanvas({ width, height, attrs = {} }) {
  const ratio = Math.max(1, Math.min(3, window.devicePixelRatio || 1));
  const canvas = el('canvas', { class: 'lg-chart', ...attrs });
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const context = canvas.getContext('2d');
  context.scale(ratio, ratio);
  return { canvas, context };
}
