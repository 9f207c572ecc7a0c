// Words the page puts next to its pictures: matrix and panel names, a panel's own shape. Pure
// (tests/js/labels.test.mjs).

export const MATRIX_LABELS = { kernel: 'kernel', recurrent_kernel: 'recurrent kernel', bias: 'bias', recurrent_bias: 'recurrent bias' };
// A SimpleRNN's one block is its new state before masking: labelled as such, not as a gate.
export const PANEL_LABELS = { cell_state: 'cell state c', hidden: 'hidden h', state: 'tanh(x W + h U + b)' };
export const STATE_PANELS = new Set(['cell_state', 'hidden']);
// The states whose gradient through time is measured (/through_time's states).
export const GRADIENT_LABELS = { h: '‖∂L/∂h_t‖', c: '‖∂L/∂c_t‖' };

/** A matrix shape as rows x columns (a bias of one row may come as [columns]). */
export const asMatrixShape = (shape) => (shape.length === 1 ? [1, shape[0]] : shape);

/**
 * One gate's panel of a fused matrix: {rows, cols} as logged (drawn) and {fullRows, fullCols} of the
 * gate's own block of the full matrix, with `text`: "2 × 32", or for a block-reduced matrix
 * "128 × 512 · shown 64 × 256, 2×2 blocks".
 */
export function panelShape(matrix, gateCount) {
  const [rows, loggedCols] = asMatrixShape(matrix.logged_shape);
  const [fullRows, fusedCols] = asMatrixShape(matrix.shape);
  const cols = loggedCols / gateCount;
  const fullCols = fusedCols / gateCount;
  let text = `${fullRows} × ${fullCols}`;
  if (matrix.reduced) text += ` · shown ${rows} × ${cols}, ${matrix.block}×${matrix.block} blocks`;
  return { rows, cols, fullRows, fullCols, text };
}

/** An activation panel's kind: 'gate' (in [0, 1]), 'candidate' (in [-1, 1]) or 'state' (unbounded). */
export function panelKind(name, candidate) {
  if (name === candidate) return 'candidate';
  return STATE_PANELS.has(name) ? 'state' : 'gate';
}

/** An activation panel's heading: 'forget gate', 'cell state c', ... */
export function panelLabel(name, kind) {
  return PANEL_LABELS[name] || `${name}${kind === 'state' ? '' : ' gate'}`;
}
