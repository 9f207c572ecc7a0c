// The GATES tab of the lstm_gates TensorBoard plugin (server: board/plugin.py).
//
// TensorBoard loads this ES module inside an iframe (data/plugin_entry.html?name=lstm_gates)
// and calls render(). The iframe's CSP allows scripts, styles and connections to
// TensorBoard's own origin only: the page uses no inline script, no eval and nothing
// from outside; its other modules and style.css are addressed relative to this module.
// Data (run names, tags, feature names) reaches the DOM only as text (dom.js).
//
// The page is one module per view (controls, stepbar, banner, findings_list, weights_grid / runs_strip,
// activations with input_view, saturation, through_time_chart, unit_scatter, tooltip), each with build(container, state, env) and
// paint(state, parts, env); app.js holds the one state and its one setState -> render path.
//
// Hooks for tests (tests/test_board_browser.py), kept stable:
//   [data-testid=lstm-gates]    the root; data-step: the slider's step; data-complete="true"
//                               once every panel shows that step's data
//   [data-testid=step-slider]   <input type=range>; its value is the step itself
//   [data-testid=step-label]    where the step stands: "step 1200 · epoch 3, batch 150" (by batch),
//                               "step 3 · after epoch 3", "step 0 · initial weights", at a failure
//                               "... · last finite weights" / "... · loss became inf"; a run
//                               without /positions: "k / last · after epoch k"; data-step
//   [data-testid=step-mark]     on the slider, a failing run's steps: data-run, data-step, data-kind
//                               (last_finite | non_finite)
//   [data-testid=failure-line]  a ticked run whose loss became NaN or inf: data-run; its buttons
//                               [data-testid=jump-failing], [data-testid=jump-last-finite] (data-step)
//   [data-testid=findings]      the findings list (findings_list.js), hidden when no ticked run logged
//                               findings; [data-testid=findings-count] "2 warnings, 1 info"
//   [data-testid=finding]       one row (a button) per finding, warnings first: data-run, data-kind,
//                               data-severity, data-layer, data-gate (comma-joined), data-units,
//                               data-first-step, data-last-step; aria-pressed: its place is highlighted.
//                               A click moves the slider to data-first-step and highlights its place
//   [data-testid=findings-status]  a run's own line: "no findings (checked: …)", kinds not checked
//                               (their reasons in its title); data-run
//   [data-testid=findings-more] "show all (N)" past 6 rows, then "show fewer"
//   [data-testid=play], [data-testid=follow-latest], [data-testid=layer-select],
//   [data-testid=view-weights], [data-testid=view-change], [data-testid=scale-shared|own],
//   [data-testid=change-scale-step|run] (the change's scale: this step's, or the run's over its steps),
//   [data-testid=gate-select], [data-testid=matrix-select], [data-testid=sequence-select],
//   [data-testid=jump-weights|activations|saturation|figures] (scroll a section to the top)
//   [data-testid=run-checkbox]  one per run, in the page's order; data-run: the run's TensorBoard name;
//                               [data-testid=run-label] its label (the run's title); runs-all, runs-none
//   [data-testid=panel]         a weight canvas (one gate of one matrix of one run):
//                               data-run, data-layer, data-matrix, data-gate, data-step (the step
//                               it shows), data-rows / data-cols (its cells), data-view,
//                               data-non-finite (its values that are NaN or ±inf, drawn grey),
//                               data-order (the units order it shows) and, ordered, data-col-places
//                               (the unit at each column) and, for the recurrent kernel, data-row-places;
//                               hover in an order: data-row / data-unit (the cell as built), data-place-row/-col
//                               class lg-highlight and data-highlight (the finding's kind) while it is
//                               the clicked finding's place (its layer, and its gates if it names any)
//   [data-testid=unit-marks]    under each weight panel: the clicked finding's units marked by column,
//                               data-units (comma-separated) while it names units; data-run/-layer/-matrix/-gate
//   [data-testid=panel-shape]   under each weight panel: its own shape ("2 × 32")
//   [data-testid=legend]        a weight legend: data-scale, data-view, data-change-scale, data-covered
//                               (the steps a run-wide change scale was taken over), data-non-finite;
//                               [data-testid=legend-non-finite] under it says how many are grey
//   [data-testid=activation-panel]  data-run, data-layer, data-panel, data-step; a masked step is grey;
//                               data-order (the units order it shows: built | saturation | activity |
//                               similarity) and, ordered, data-places (the unit at each row, comma-joined)
//   [data-testid=unit-order-select]  the units order (unit_order.js), for a layer that logged /units;
//                               [data-testid=unit-order-note] says why a chosen order is not applied
//                               (to the activations, or to a block-reduced weight matrix);
//                               [data-testid=weights-order-note] beside the weight grid's title, the same
//   [data-testid=input-panel]   the input above each activation panel (input_view.js): data-run, data-layer,
//                               data-panel (the panel below it), data-source (layer: what the layer read,
//                               /probe?run&layer&step, with data-step; probe: the model's input at step 0,
//                               /probe?run, no data-step), data-mode (lines | strip, above 8 features),
//                               data-count, data-scale (largest |value|), data-sequence; data-rows/-cols
//   [data-testid=feature-legend]  the input's legend (feature names, or the strip's caption and scale)
//   [data-testid=saturation-panel]  data-gate, data-step (the marked step); saturation-text under it
//                               (the shown step's low + high); hover: data-step, data-value (the total),
//                               data-low, data-high
//   [data-testid=input-panel] in lines mode: data-min, data-max (its y axis' ticks)
//   [data-testid=figures-section]  the gradient through time and the unit saturation, under the saturation:
//                               [data-testid=through-time-section], [data-testid=unit-scatter-section]
//   [data-testid=through-time-chart]  one per ticked run whose layer logged /through_time: data-run,
//                               data-layer, data-states, data-step (the step it shows; data-error where it
//                               was not measured), data-plot (its plot area: left,top,width,height in CSS
//                               px; t = 0 at the left edge, the last t at the right), data-decades (lo,hi:
//                               its log axis, 10^lo at the bottom); through-time-text under it;
//                               hover: data-time, data-h, data-c (full precision), data-step
//   [data-testid=unit-scatter]  one per gate of each ticked run whose layer logged /units: data-run,
//                               data-layer, data-gate, data-step, data-plot (x: left fraction 0..1 across,
//                               y: right fraction 0..1 up), data-units, data-highlight (the clicked
//                               finding's units); hover: data-unit, data-left, data-right, data-units
//                               (every unit under the mouse, nearest first)
//   [data-testid=text-view]     the text view (text_view.js), for a run whose probe holds tokens: data-run,
//                               data-layer, data-panel (what colours it: hidden, cell_state or a gate),
//                               data-kind, data-step, data-units, data-offset and data-divide (a token's
//                               cell is the bwr colour of (v - offset) / divide); each line of a sequence a
//                               canvas [data-testid=text-line]: data-sequence, data-start, data-end (its
//                               tokens), data-units (a row each, data-row-px tall), data-x (each cell's
//                               left edge, CSS px), data-width, data-step; text-units (the units field),
//                               text-panel-select, match-count; text-extremes (text-high, text-low lists
//                               per unit, li data-sequence, data-t, data-value); select and match (drag
//                               over tokens): match-units (li data-unit, data-contrast, best first) and
//                               match-places (li data-sequence, data-start, data-end); hover: data-sequence,
//                               data-t, data-unit, data-token, data-value (full precision)
//   [data-testid=tooltip]       the hover box; data-run, data-matrix, data-gate, data-row,
//                               data-unit, data-step, data-value, data-initial (full precision),
//                               data-masked ("true" at a step the mask leaves out: data-value NaN);
//                               over an input: data-source, data-time, data-values (every feature,
//                               comma-separated), data-feature and data-value (a strip's hovered row)
//   [data-testid=banner]        shown when TensorBoard kept fewer steps than were logged
//   window.lstmGates            {app, shownSteps(), setStep(k), redraws: [{step, ms}]}:
//                               redraws times each complete render (performance.now()); app.state,
//                               app.steps, app.store and app.panels are read by scripts/bench/board.py.

import { GatesApp } from './app.js';

function loadStyle() {
  return new Promise((resolve) => {
    const link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = new URL('./style.css', import.meta.url).href;
    link.addEventListener('load', resolve);
    link.addEventListener('error', resolve);
    document.head.append(link);
    setTimeout(resolve, 2000);
  });
}

export async function render() {
  await loadStyle();
  const root = document.createElement('div');
  document.body.append(root);
  const app = new GatesApp(root);
  window.lstmGates = {
    app,
    shownSteps: () => app.shownSteps(),
    setStep: (step) => app.userStep(step),
    get redraws() { return app.redraws; },
  };
  app.start();
}
