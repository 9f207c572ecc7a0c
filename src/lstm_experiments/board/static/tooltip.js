// The hover box: hover() makes a canvas describe the cell under the mouse (describe.js says what);
// paint() shows those words next to the mouse, or hides the box (null).

import { clear, el } from './dom.js';

const MARGIN_PX = 14; // between the mouse and the box

export function build(container) {
  const tip = el('div', { class: 'lg-tooltip', 'data-testid': 'tooltip', hidden: true, role: 'tooltip' });
  container.append(tip);
  return { tip };
}

/** Show {lines, data} at the mouse event, or hide the box when described is null. */
export function paint(parts, described, event) {
  const { tip } = parts;
  if (!described) {
    tip.hidden = true;
    return;
  }
  clear(tip);
  for (const [index, line] of described.lines.entries()) tip.append(el('div', { class: index === 0 ? 'lg-tip-head' : 'lg-tip-line', text: line }));
  for (const key of Object.keys(tip.dataset)) if (key !== 'testid') delete tip.dataset[key];
  for (const [key, value] of Object.entries(described.data)) tip.dataset[key] = String(value);
  tip.hidden = false;
  const box = tip.getBoundingClientRect();
  let x = event.clientX + MARGIN_PX;
  let y = event.clientY + MARGIN_PX;
  if (x + box.width > window.innerWidth) x = Math.max(0, event.clientX - MARGIN_PX - box.width);
  if (y + box.height > window.innerHeight) y = Math.max(0, event.clientY - MARGIN_PX - box.height);
  tip.style.left = `${x}px`;
  tip.style.top = `${y}px`;
}

/** target: {canvas, cellAt(event)}; describe(cell): {lines, data} or null. */
export function hover(parts, target, describe) {
  target.canvas.addEventListener('mousemove', (event) => {
    const cell = target.cellAt(event);
    paint(parts, cell ? describe(cell) : null, event);
  });
  target.canvas.addEventListener('mouseleave', () => paint(parts, null));
}
