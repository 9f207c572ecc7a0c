// The GATES tab: controls, layout and redraw. See index.js for the test hooks.

import { maxAbs, paintBlock } from './colour.js';
import { clear, el, formatValue, select } from './dom.js';
import {
  Prefetcher, Store, fetchRuns, keys, loadActivations, loadLayerInput, loadSaturation, loadWeights,
} from './model.js';
import { describeActivation, describeInput, describeWeight } from './describe.js';
import {
  MATRIX_LABELS, PANEL_LABELS, asMatrixShape, distinguishingNames, nearest, sortedNumbers, stepAtOrBefore,
} from './runs.js';
import { InputView } from './input_view.js';
import { HeatCanvas, Legend, LineChart, pixelsPer } from './views.js';

export const POLL_MS = 5000;
const PLAY_MS = 400;
const STATE_PANELS = new Set(['cell_state', 'hidden']);
const MIN_BAND_PX = 14; // a one-row matrix (a bias) is drawn at least this tall
const MAX_MATRIX_PX = 400;
const FALLBACK_SCALE = 1;

const usableScale = (scale) => (Number.isFinite(scale) && scale > 0 ? scale : FALLBACK_SCALE);

export class GatesApp {
  constructor(root) {
    this.root = root;
    this.store = new Store();
    this.prefetcher = new Prefetcher(2);
    this.runs = [];
    this.byRun = new Map();
    this.samplesFlag = '--samples_per_plugin=lstm_gates=100000';
    this.state = {
      selected: [], layer: null, view: 'weights', scale: 'shared', gate: null, matrix: 'recurrent_kernel',
      step: null, follow: true, playing: false, sequence: 0, activationsRun: null,
    };
    this.steps = [];
    this.panels = [];
    this.structure = '';
    this.redraws = [];
    this.diffScales = new Map();
    this.redrawQueued = false;
    this.wanted = new Set(); // keys the last redraw lacked: their arrival redraws
    this.store.onLoad((key) => { if (this.wanted.has(key)) this.scheduleRedraw(); });
    this.buildSkeleton();
  }

  // ------------------------------------------------------------------ skeleton and controls

  buildSkeleton() {
    const root = this.root;
    root.classList.add('lg-root');
    root.dataset.testid = 'lstm-gates';
    this.runPicker = el('div', { class: 'lg-runs', 'data-testid': 'run-picker' });
    this.layerSelect = el('select', { 'data-testid': 'layer-select', onchange: () => {
      this.state.layer = this.layerSelect.value;
      this.rebuild();
    } });
    const radio = (name, value, label, testid) => el('label', { class: 'lg-radio' },
      el('input', { type: 'radio', name, value, 'data-testid': testid, checked: this.state[name] === value,
        onchange: (event) => { this.state[name] = event.target.value; this.rebuild(); } }), label);
    this.viewRadios = el('div', { class: 'lg-group', role: 'radiogroup' }, el('span', { class: 'lg-caption', text: 'view' }),
      radio('view', 'weights', 'W_t', 'view-weights'), radio('view', 'change', 'W_t − W_0', 'view-change'));
    this.toolbar = el('div', { class: 'lg-toolbar' },
      el('div', { class: 'lg-group' }, el('span', { class: 'lg-caption', text: 'runs' }), this.runPicker),
      el('label', { class: 'lg-group' }, el('span', { class: 'lg-caption', text: 'layer' }), this.layerSelect),
      this.viewRadios);

    this.playButton = el('button', { type: 'button', class: 'lg-play', 'data-testid': 'play', 'aria-pressed': 'false',
      text: '▶ play', onclick: () => this.setPlaying(!this.state.playing) });
    this.slider = el('input', { type: 'range', class: 'lg-slider', 'data-testid': 'step-slider', min: 0, max: 0, step: 1,
      'aria-label': 'step' });
    this.slider.addEventListener('input', () => this.userStep(Number(this.slider.value)));
    this.stepLabel = el('span', { class: 'lg-step-label', 'data-testid': 'step-label' });
    this.followBox = el('input', { type: 'checkbox', 'data-testid': 'follow-latest', checked: true,
      onchange: () => this.setFollow(this.followBox.checked) });
    this.stepbar = el('div', { class: 'lg-stepbar' },
      this.playButton, el('span', { class: 'lg-caption', text: 'step' }), this.slider, this.stepLabel,
      el('label', { class: 'lg-follow' }, this.followBox, 'follow latest'));

    this.banner = el('div', { class: 'lg-banner', 'data-testid': 'banner', hidden: true });
    this.message = el('div', { class: 'lg-message', 'data-testid': 'message', hidden: true });
    this.weightsSection = el('section', { class: 'lg-section lg-weights', 'data-testid': 'weights-section' });
    this.activationsSection = el('section', { class: 'lg-section lg-activations', 'data-testid': 'activations-section' });
    this.tooltip = el('div', { class: 'lg-tooltip', 'data-testid': 'tooltip', hidden: true, role: 'tooltip' });
    root.append(this.toolbar, this.stepbar, this.banner, this.message, this.weightsSection, this.activationsSection, this.tooltip);

    document.addEventListener('keydown', (event) => this.onKey(event));
    let resizeTimer = null;
    window.addEventListener('resize', () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => this.rebuild(), 150);
    });
  }

  onKey(event) {
    if (event.key !== 'ArrowLeft' && event.key !== 'ArrowRight') return;
    const target = event.target;
    if (target && (target.tagName === 'SELECT' || target.tagName === 'TEXTAREA'
      || (target.tagName === 'INPUT' && !['range', 'checkbox', 'radio', 'button'].includes(target.type)))) return;
    if (target && target.tagName === 'INPUT' && target.type === 'radio') return; // arrows move between radios
    event.preventDefault();
    this.stepBy(event.key === 'ArrowRight' ? 1 : -1);
  }

  stepBy(delta) {
    if (!this.steps.length) return;
    const index = Math.max(0, this.steps.indexOf(this.state.step));
    const next = this.steps[Math.max(0, Math.min(this.steps.length - 1, index + delta))];
    this.userStep(next);
  }

  /** A step the user chose: the slider stays there (follow latest goes off). */
  userStep(value) {
    if (!this.steps.length) return;
    this.setPlaying(false);
    this.setFollow(false);
    this.setStep(nearest(this.steps, value));
  }

  setStep(step) {
    this.state.step = step;
    this.slider.value = String(step);
    this.updateStepLabel();
    this.redraw();
  }

  setFollow(on) {
    this.state.follow = on;
    this.followBox.checked = on;
    if (on && this.steps.length) this.setStep(this.steps[this.steps.length - 1]);
  }

  setPlaying(on) {
    if (on === this.state.playing) return;
    this.state.playing = on;
    this.playButton.textContent = on ? '❚❚ pause' : '▶ play';
    this.playButton.setAttribute('aria-pressed', String(on));
    clearInterval(this.playTimer);
    if (!on) return;
    this.setFollow(false);
    if (this.state.step === this.steps[this.steps.length - 1]) this.setStep(this.steps[0]);
    this.playTimer = setInterval(() => {
      if (!this.lastComplete) return; // wait for the current step's data
      const index = this.steps.indexOf(this.state.step);
      if (index >= this.steps.length - 1) { this.setPlaying(false); return; }
      this.setStep(this.steps[index + 1]);
    }, PLAY_MS);
  }

  updateStepLabel() {
    const step = this.state.step;
    if (step === null || !this.steps.length) {
      this.stepLabel.textContent = 'no steps yet';
      return;
    }
    const last = this.steps[this.steps.length - 1];
    const epoch = step === 0 ? 'initial weights, before training' : `after epoch ${step}`;
    this.stepLabel.textContent = `${step} / ${last} · ${epoch}`;
    this.stepLabel.dataset.step = String(step);
    this.slider.setAttribute('aria-valuetext', `step ${step}`);
  }

  setMessage(text) {
    this.message.hidden = !text;
    this.message.textContent = text || '';
  }

  // ------------------------------------------------------------------ runs (polled)

  start() {
    this.poll();
  }

  async poll() {
    try {
      this.applyRuns(await fetchRuns());
      if (this.runs.length) this.setMessage(null);
    } catch (error) {
      this.setMessage(`Could not read the runs: ${error.message}`);
    } finally {
      clearTimeout(this.pollTimer);
      this.pollTimer = setTimeout(() => this.poll(), POLL_MS);
    }
  }

  applyRuns(data) {
    const runs = Array.isArray(data.runs) ? data.runs : [];
    if (data.samples_flag) this.samplesFlag = data.samples_flag;
    for (const run of runs) {
      run.steps = sortedNumbers(run.steps || []);
      const old = this.byRun.get(run.run);
      // New steps: what failed to load (a step TensorBoard had not read yet) is tried again.
      if (old && (old.max_step !== run.max_step || old.kept_steps !== run.kept_steps)) this.store.failed.clear();
    }
    this.runs = runs;
    this.byRun = new Map(runs.map((run) => [run.run, run]));
    const state = this.state;
    state.selected = state.selected.filter((run) => this.byRun.has(run));
    if (!state.selected.length && runs.length) state.selected = [runs[0].run];
    this.updateRunPicker();
    this.updateLayers();
    this.updateSteps();
    this.updateBanner(runs, data.downsampled);
    if (!runs.length) {
      this.setMessage('No run in this log directory has GATES data yet (runs log it with viz=gates); '
        + `this page looks again every ${POLL_MS / 1000} s.`);
    }
    this.rebuild();
  }

  updateRunPicker() {
    const signature = JSON.stringify(this.runs.map((run) => [run.run, run.name]));
    if (signature !== this.runSignature) {
      this.runSignature = signature;
      clear(this.runPicker);
      for (const run of this.runs) {
        const box = el('input', { type: 'checkbox', 'data-testid': 'run-checkbox', value: run.run,
          onchange: () => this.toggleRun(run.run, box.checked) });
        box.dataset.run = run.run;
        this.runPicker.append(el('label', { class: 'lg-run', title: run.run, 'data-testid': 'run-label' },
          box, el('span', { class: 'lg-run-name', text: run.name || run.run })));
      }
    }
    for (const box of this.runPicker.querySelectorAll('input')) box.checked = this.state.selected.includes(box.dataset.run);
  }

  toggleRun(run, on) {
    const selected = this.state.selected.filter((r) => r !== run);
    if (on) selected.push(run);
    // Keep the picker's order.
    this.state.selected = this.runs.map((r) => r.run).filter((r) => selected.includes(r));
    this.updateRunPicker();
    this.updateLayers();
    this.updateSteps();
    this.rebuild();
  }

  selectedRuns() {
    return this.state.selected.map((run) => this.byRun.get(run)).filter(Boolean);
  }

  updateLayers() {
    const names = [];
    for (const run of this.selectedRuns()) for (const layer of run.layers || []) if (!names.includes(layer.layer)) names.push(layer.layer);
    if (!names.includes(this.state.layer)) this.state.layer = names[0] ?? null;
    const signature = JSON.stringify(names);
    if (signature !== this.layerSignature) {
      this.layerSignature = signature;
      clear(this.layerSelect);
      for (const name of names) this.layerSelect.append(el('option', { value: name, text: name }));
    }
    this.layerSelect.value = this.state.layer ?? '';
    this.layerSelect.disabled = names.length < 2;
  }

  updateSteps() {
    const steps = sortedNumbers(this.selectedRuns().flatMap((run) => run.steps));
    this.steps = steps;
    this.slider.disabled = steps.length < 2;
    if (!steps.length) {
      this.state.step = null;
      this.updateStepLabel();
      return;
    }
    this.slider.min = String(steps[0]);
    this.slider.max = String(steps[steps.length - 1]);
    let step = this.state.step;
    if (this.state.follow || step === null) step = steps[steps.length - 1];
    else if (!steps.includes(step)) step = stepAtOrBefore(steps, step);
    this.state.step = step;
    this.slider.value = String(step);
    this.updateStepLabel();
  }

  updateBanner(runs, downsampled) {
    const short = runs.filter((run) => Number.isFinite(run.logged_steps) && Number.isFinite(run.kept_steps)
      && run.kept_steps < run.logged_steps);
    clear(this.banner);
    this.banner.hidden = !(short.length || downsampled);
    if (this.banner.hidden) return;
    const counts = new Set(short.map((run) => `${run.kept_steps}/${run.logged_steps}`));
    let text;
    if (short.length && (counts.size === 1)) {
      const [run] = short;
      const which = runs.length > 1 && short.length < runs.length ? ` of ${short.map((r) => r.name || r.run).join(', ')}` : '';
      text = `TensorBoard kept ${run.kept_steps} of ${run.logged_steps} steps${which}: restart with `;
    } else if (short.length) {
      const each = short.map((run) => `${run.name || run.run}: ${run.kept_steps} of ${run.logged_steps}`).join('; ');
      text = `TensorBoard kept fewer steps than were logged (${each}): restart with `;
    } else {
      text = 'TensorBoard kept fewer steps than were logged: restart with ';
    }
    this.banner.append(el('span', { class: 'lg-banner-icon', text: '⚠ ' }), text,
      el('code', { 'data-testid': 'samples-flag', text: this.samplesFlag }));
  }

  // ------------------------------------------------------------------ layout

  width() {
    return Math.max(480, (this.root.clientWidth || window.innerWidth) - 24);
  }

  layerOf(run, name = this.state.layer) {
    return (run.layers || []).find((layer) => layer.layer === name) || null;
  }

  rebuild() {
    const runs = this.selectedRuns();
    const state = this.state;
    const shapes = runs.map((run) => {
      const layer = this.layerOf(run);
      return [run.run, run.name, layer && layer.gates, layer && layer.matrices.map((m) => [m.matrix, m.logged_shape]),
        layer && layer.activations, layer && layer.saturation];
    });
    const signature = JSON.stringify([state.selected, state.layer, state.gate, state.matrix, state.scale,
      state.activationsRun, state.sequence, this.width(), shapes]);
    if (signature !== this.structure) {
      this.structure = signature;
      this.hideTooltip();
      this.panels = [];
      clear(this.weightsSection);
      clear(this.activationsSection);
      if (runs.length === 1) this.buildGrid(runs[0]);
      else if (runs.length > 1) this.buildCompare(runs);
      this.buildActivations(runs);
    } else {
      this.refreshPanels();
    }
    this.redraw();
  }

  /** Point the panels at the latest run list (same layout, newer steps): each poll replaces it. */
  refreshPanels() {
    for (const panel of this.panels) {
      const run = this.byRun.get(panel.run.run);
      if (!run) continue;
      panel.run = run;
      if (panel.input) panel.input.run = run; // its steps: the input shows the newest the run has
      if (!panel.layer) continue;
      const layer = this.layerOf(run, panel.layer.layer);
      if (!layer) continue;
      panel.layer = layer;
      if (panel.matrix) panel.matrix = layer.matrices.find((m) => m.matrix === panel.matrix.matrix) || panel.matrix;
      if (panel.info) panel.info = layer.activations || panel.info;
    }
  }

  sectionTitle(text, ...extra) {
    return el('div', { class: 'lg-section-head' }, el('h3', { text }), ...extra);
  }

  /** One run: a row per matrix, a column per gate, a legend per row. */
  buildGrid(run) {
    const layer = this.layerOf(run);
    if (!layer) {
      this.weightsSection.append(el('p', { class: 'lg-note', text: 'This run has no such layer.' }));
      return;
    }
    const gates = layer.gates;
    const legendWidth = 170;
    const labelWidth = 130;
    const perGateWidth = Math.min(340, (this.width() - labelWidth - legendWidth - 12 * (gates.length + 2)) / gates.length);
    const perGate = (matrix) => asMatrixShape(matrix.logged_shape)[1] / gates.length;
    const tallest = Math.max(...layer.matrices.map((m) => asMatrixShape(m.logged_shape)[0]));
    const factor = Math.min(pixelsPer(Math.max(...layer.matrices.map(perGate)), perGateWidth, 40),
      pixelsPer(tallest, MAX_MATRIX_PX, 40));
    const grid = el('div', { class: 'lg-grid', style: { gridTemplateColumns: `${labelWidth}px repeat(${gates.length}, max-content) ${legendWidth}px` } });
    grid.append(el('div'));
    for (const gate of gates) grid.append(el('div', { class: 'lg-gate-head', text: gate }));
    grid.append(el('div'));
    for (const matrix of layer.matrices) {
      const [rows, cols] = asMatrixShape(matrix.logged_shape);
      const full = asMatrixShape(matrix.shape);
      const legend = new Legend({ testid: 'legend' });
      legend.node.dataset.matrix = matrix.matrix;
      const group = { legend, members: [], fixed: matrix.scale, label: 'the run\'s fixed scale' };
      const shapeText = `${full[0]} × ${full[1]}` + (matrix.reduced ? ` · shown ${rows} × ${cols}, ${matrix.block}×${matrix.block} blocks` : '');
      grid.append(el('div', { class: 'lg-row-head' }, el('div', { text: MATRIX_LABELS[matrix.matrix] || matrix.matrix }),
        el('div', { class: 'lg-shape', text: shapeText })));
      const height = this.matrixHeight(rows, factor);
      gates.forEach((gate, gateIndex) => {
        const panel = this.weightPanel(run, layer, matrix, gateIndex, cols / gates.length * factor, height, group);
        grid.append(el('div', { class: 'lg-cell' }, panel.heat.canvas));
      });
      grid.append(el('div', { class: 'lg-legend-cell' }, legend.node));
    }
    this.weightsSection.append(this.sectionTitle(`${run.name || run.run} · ${layer.layer} (${layer.cell}, ${layer.units} units)`), grid);
  }

  matrixHeight(rows, factor) {
    const height = rows * factor;
    if (height < MIN_BAND_PX) return MIN_BAND_PX;
    return Math.min(height, MAX_MATRIX_PX);
  }

  weightPanel(run, layer, matrix, gateIndex, cssWidth, cssHeight, group) {
    const [rows, cols] = asMatrixShape(matrix.logged_shape);
    const perGate = cols / layer.gates.length;
    const heat = new HeatCanvas({ cols: perGate, rows, cssWidth, cssHeight, attrs: {
      'data-testid': 'panel', 'data-kind': 'weights' } });
    Object.assign(heat.canvas.dataset, { run: run.run, layer: layer.layer, matrix: matrix.matrix, gate: layer.gates[gateIndex] });
    const panel = { kind: 'weights', run, layer, matrix, gateIndex, perGate, heat, group };
    group.members.push(panel);
    this.panels.push(panel);
    this.hover(heat, (cell) => describeWeight(this, panel, cell));
    return panel;
  }

  /** Several runs: the chosen gate and matrix of each, side by side. */
  buildCompare(runs) {
    const state = this.state;
    const layers = runs.map((run) => this.layerOf(run)).filter(Boolean);
    const gates = layers[0] ? layers[0].gates : [];
    const matrices = layers[0] ? layers[0].matrices.map((m) => m.matrix) : [];
    if (!gates.includes(state.gate)) state.gate = gates.includes('forget') ? 'forget' : gates[0];
    if (!matrices.includes(state.matrix)) state.matrix = matrices.includes('recurrent_kernel') ? 'recurrent_kernel' : matrices[0];
    const gateSelect = select(gates.map((g) => [g, g]), state.gate, { 'data-testid': 'gate-select',
      onchange: (event) => { state.gate = event.target.value; this.rebuild(); } });
    const matrixSelect = select(matrices.map((m) => [m, MATRIX_LABELS[m] || m]), state.matrix, { 'data-testid': 'matrix-select',
      onchange: (event) => { state.matrix = event.target.value; this.rebuild(); } });
    const radio = (value, label) => el('label', { class: 'lg-radio' }, el('input', { type: 'radio', name: 'scale', value,
      'data-testid': `scale-${value}`, checked: state.scale === value,
      onchange: () => { state.scale = value; this.rebuild(); } }), label);
    const head = this.sectionTitle(`${runs.length} runs · ${state.layer}`,
      el('label', { class: 'lg-group' }, el('span', { class: 'lg-caption', text: 'gate' }), gateSelect),
      el('label', { class: 'lg-group' }, el('span', { class: 'lg-caption', text: 'matrix' }), matrixSelect),
      el('div', { class: 'lg-group' }, el('span', { class: 'lg-caption', text: 'scale' }), radio('shared', 'shared'), radio('own', 'each run\'s own')));
    const row = el('div', { class: 'lg-compare' });
    const cardWidth = Math.floor(Math.max(160, Math.min(420, (this.width() - 16 * runs.length) / runs.length)));
    const shared = state.scale === 'shared'
      ? { legend: new Legend({ testid: 'legend' }), members: [], fixed: 0, label: 'shared by every run: the largest of their fixed scales' } : null;
    if (shared) head.append(shared.legend.node);
    const short = distinguishingNames(runs.map((run) => run.name || run.run));
    for (const [position, run] of runs.entries()) {
      const layer = this.layerOf(run);
      const matrix = layer && layer.matrices.find((m) => m.matrix === state.matrix);
      const gateIndex = layer ? layer.gates.indexOf(state.gate) : -1;
      const note = el('span', { class: 'lg-step-note' });
      const name = run.name || run.run;
      const card = el('div', { class: 'lg-card', 'data-testid': 'run-card', style: { width: `${cardWidth}px` } },
        el('div', { class: 'lg-card-title', title: run.run, text: short[position] }),
        short[position] !== name ? el('div', { class: 'lg-card-name', text: name }) : null, note);
      card.dataset.run = run.run;
      if (!matrix || gateIndex < 0) {
        card.append(el('p', { class: 'lg-note', text: `no ${state.gate} ${state.matrix} in layer ${state.layer}` }));
        row.append(card);
        continue;
      }
      const [rows, cols] = asMatrixShape(matrix.logged_shape);
      const perGate = cols / layer.gates.length;
      const factor = Math.min(pixelsPer(perGate, cardWidth, 40), pixelsPer(rows, MAX_MATRIX_PX, 40));
      const group = shared || { legend: new Legend({ testid: 'legend' }), members: [], fixed: 0, label: 'this run\'s fixed scale' };
      group.fixed = Math.max(group.fixed, matrix.scale);
      const panel = this.weightPanel(run, layer, matrix, gateIndex, perGate * factor, this.matrixHeight(rows, factor), group);
      panel.note = note;
      card.append(el('div', { class: 'lg-cell' }, panel.heat.canvas));
      if (!shared) card.append(group.legend.node);
      row.append(card);
    }
    this.weightsSection.append(head, row);
  }

  /** The probe's input over time, above each panel of time x units; saturation curves below. */
  buildActivations(runs) {
    const state = this.state;
    const withActivations = runs.filter((run) => this.layerOf(run)?.activations);
    if (!runs.length) return;
    if (!withActivations.length) {
      this.activationsSection.append(this.sectionTitle('activations'),
        el('p', { class: 'lg-note', text: `No activations logged for layer ${state.layer} (train with viz=[gates,activations]).` }));
      return;
    }
    if (!withActivations.some((run) => run.run === state.activationsRun)) state.activationsRun = withActivations[0].run;
    const run = this.byRun.get(state.activationsRun);
    const layer = this.layerOf(run);
    const info = layer.activations;
    if (state.sequence >= info.sequences) state.sequence = 0;
    const extras = [];
    if (runs.length > 1) {
      extras.push(el('label', { class: 'lg-group' }, el('span', { class: 'lg-caption', text: 'run' }),
        select(withActivations.map((r) => [r.run, r.name || r.run]), run.run, { 'data-testid': 'activations-run-select',
          onchange: (event) => { state.activationsRun = event.target.value; this.rebuild(); } })));
    }
    extras.push(el('label', { class: 'lg-group' }, el('span', { class: 'lg-caption', text: 'probe sequence' }),
      select([...Array(info.sequences).keys()].map((i) => [i, String(i)]), state.sequence, { 'data-testid': 'sequence-select',
        onchange: (event) => { state.sequence = Number(event.target.value); this.rebuild(); } })));
    const features = el('div', { class: 'lg-features', 'data-testid': 'feature-legend' });
    const head = this.sectionTitle(`activations · ${run.name || run.run} · ${layer.layer}`, ...extras, features);
    const panels = info.panels;
    const time = info.time;
    const units = layer.units;
    const columnWidth = (this.width() - 12 * panels.length) / panels.length;
    const fx = pixelsPer(time, Math.min(320, columnWidth), 24);
    const fy = pixelsPer(units, 256, 24);
    const cssWidth = time * fx;
    const row = el('div', { class: 'lg-activation-row' });
    const input = new InputView({ app: this, run, layer, time, fx, cssWidth, legend: features,
      describe: (view, cell) => describeInput(this, view, cell) });
    this.panels.push({ kind: 'probe', run, input });
    panels.forEach((name, index) => {
      const kind = name === info.candidate ? 'candidate' : STATE_PANELS.has(name) ? 'state' : 'gate';
      const heat = new HeatCanvas({ cols: time, rows: units, cssWidth, cssHeight: units * fy, attrs: {
        'data-testid': 'activation-panel', 'data-kind': 'activations' } });
      Object.assign(heat.canvas.dataset, { run: run.run, layer: layer.layer, panel: name });
      const legend = new Legend({ testid: 'activation-legend' });
      if (kind === 'gate') legend.set({ low: '0', mid: '0.5', high: '1' });
      if (kind === 'candidate') legend.set({ low: '−1', mid: '0', high: '+1' });
      const panel = { kind: 'activations', run, layer, info, index, name, heat, legend, panelKind: kind, input };
      this.panels.push(panel);
      this.hover(heat, (cell) => describeActivation(this, panel, cell));
      const column = el('div', { class: 'lg-activation' },
        el('div', { class: 'lg-gate-head', text: PANEL_LABELS[name] || `${name}${kind === 'state' ? '' : ' gate'}` }),
        input.slot(name), el('div', { class: 'lg-cell' }, heat.canvas), legend.node);
      if (kind !== 'state' && layer.saturation) {
        const chart = new LineChart({ width: cssWidth, height: 44, attrs: { 'data-testid': 'saturation-panel' } });
        Object.assign(chart.canvas.dataset, { run: run.run, layer: layer.layer, gate: name });
        const text = el('div', { class: 'lg-saturation-text' });
        this.panels.push({ kind: 'saturation', run, layer, gate: name, chart, text });
        column.append(chart.canvas, text);
      }
      row.append(column);
    });
    const saturation = layer.saturation ? ' · below each gate, its saturation over the steps: the fraction of values under 0.1 (blue) and over 0.9 (red; the candidate: under −0.8 and over 0.8), the current step dashed' : '';
    const above = input.source === 'layer' ? `what ${layer.layer} reads at this step` : 'the model\'s input (step 0)';
    this.activationsSection.append(head, el('div', { class: 'lg-axis-note',
      text: `time → across (${time} steps), units ↓ down (${units}); above each panel, ${above}; grey: a step the mask leaves out${saturation}` }), row);
  }

  timeAt(event, canvas, fx, time) {
    const rect = canvas.getBoundingClientRect();
    const col = Math.floor((event.clientX - rect.left) / fx);
    return col >= 0 && col < time ? { col, row: 0 } : null;
  }

  // ------------------------------------------------------------------ drawing

  scheduleRedraw() {
    if (this.redrawQueued) return;
    this.redrawQueued = true;
    requestAnimationFrame(() => {
      this.redrawQueued = false;
      this.redraw();
    });
  }

  shownStep(run) {
    return stepAtOrBefore(run.steps, this.state.step);
  }

  /** The change's scale of one matrix at one step: its largest |W_t - W_0| (memoised). */
  diffScale(run, layer, matrix, step, current, initial) {
    const key = JSON.stringify([run.run, layer.layer, matrix.matrix, step]);
    let scale = this.diffScales.get(key);
    if (scale === undefined) {
      scale = maxAbs(current.data, initial.data);
      this.diffScales.set(key, scale);
    }
    return scale;
  }

  /** Paint every panel at the current step from cached data, fetching what is missing. */
  redraw() {
    const started = performance.now();
    const state = this.state;
    const root = this.root;
    root.dataset.step = state.step === null ? '' : String(state.step);
    if (state.step === null) return;
    const change = state.view === 'change';
    this.wanted = new Set();
    let complete = true;
    const groups = new Set();
    for (const panel of this.panels) {
      if (panel.kind !== 'weights') continue;
      const { run, layer, matrix } = panel;
      const step = this.shownStep(run);
      panel.step = step;
      const current = this.need(keys.weights(run.run, layer.layer, matrix.matrix, step),
        () => loadWeights(this.store, run.run, layer.layer, matrix.matrix, step));
      const initial = this.need(keys.weights(run.run, layer.layer, matrix.matrix, 0),
        () => loadWeights(this.store, run.run, layer.layer, matrix.matrix, 0));
      panel.current = current.value;
      panel.initial = initial.value;
      panel.ready = Boolean(panel.current && (!change || panel.initial));
      panel.error = current.error || (change && initial.error) || null;
      if (!panel.ready && !panel.error) complete = false;
      groups.add(panel.group);
      if (panel.note) panel.note.textContent = step !== state.step ? `showing step ${step}` : '';
    }
    for (const group of groups) {
      let scale = 0;
      if (!change) scale = group.fixed;
      else {
        for (const panel of group.members) {
          if (panel.ready) scale = Math.max(scale, this.diffScale(panel.run, panel.layer, panel.matrix, panel.step, panel.current, panel.initial));
        }
      }
      group.scale = usableScale(scale);
      group.legend.symmetric(group.scale, change ? `W_t − W_0, this step's largest change${group.label.startsWith('shared') ? ' of every run' : ''}` : `W_t, ${group.label}`);
    }
    for (const panel of this.panels) {
      if (panel.kind === 'weights') this.paintWeights(panel, change);
      else if (panel.kind === 'activations') complete = this.paintActivations(panel) && complete;
      else if (panel.kind === 'probe') complete = this.paintProbe(panel) && complete;
      else if (panel.kind === 'saturation') complete = this.paintSaturation(panel) && complete;
    }
    root.dataset.complete = String(complete);
    this.lastComplete = complete;
    if (complete) {
      this.redraws.push({ step: state.step, ms: performance.now() - started });
      if (this.redraws.length > 100) this.redraws.shift();
      this.prefetch();
    }
  }

  /** A cached value {value}, a failed load {error}, or {} while it loads (started here). */
  need(key, load) {
    const value = this.store.peek(key);
    if (value) return { value };
    const error = this.store.error(key);
    if (error) return { error };
    this.wanted.add(key);
    load();
    return {};
  }

  markError(canvas, error) {
    canvas.dataset.error = error.message;
    canvas.title = `could not load: ${error.message}`;
    delete canvas.dataset.pending;
  }

  paintWeights(panel, change) {
    const canvas = panel.heat.canvas;
    if (!panel.ready) {
      if (panel.error) this.markError(canvas, panel.error);
      else canvas.dataset.pending = 'true';
      return;
    }
    const data = panel.current.data;
    const cols = panel.current.shape[1];
    const base = change ? panel.initial.data : null;
    panel.heat.paint((pixels) => paintBlock(pixels, data, cols, panel.gateIndex * panel.perGate, panel.heat.rows, panel.perGate,
      { base, divide: panel.group.scale }));
    canvas.dataset.step = String(panel.step);
    canvas.dataset.view = change ? 'change' : 'weights';
    delete canvas.dataset.pending;
    delete canvas.dataset.error;
  }

  paintActivations(panel) {
    const { run, layer, info, index, heat, legend, panelKind } = panel;
    const step = this.shownStep(run);
    const { value, error } = this.need(keys.activations(run.run, layer.layer, step),
      () => loadActivations(this.store, run.run, layer.layer, step));
    if (!value) {
      if (error) this.markError(heat.canvas, error);
      else heat.canvas.dataset.pending = 'true';
      return Boolean(error);
    }
    panel.current = value;
    const [, sequences, time, units] = value.shape;
    heat.resize(time, units); // wide layers log their units reduced block-wise
    const q = Math.min(this.state.sequence, sequences - 1);
    const block = value.data.subarray(((index * sequences + q) * time) * units, ((index * sequences + q + 1) * time) * units);
    let options = { offset: 0, divide: 1 };
    if (panelKind === 'gate') options = { offset: 0.5, divide: 0.5 };
    if (panelKind === 'state') {
      const whole = value.data.subarray(index * sequences * time * units, (index + 1) * sequences * time * units);
      const scale = usableScale(maxAbs(whole));
      legend.symmetric(scale, 'this step\'s largest |value|');
      options = { offset: 0, divide: scale };
    }
    heat.paint((pixels) => paintBlock(pixels, block, units, 0, time, units, { ...options, transpose: true }));
    heat.canvas.dataset.step = String(step);
    delete heat.canvas.dataset.pending;
    delete heat.canvas.dataset.error;
    return true;
  }

  paintProbe(panel) {
    return panel.input.paint();
  }

  paintSaturation(panel) {
    const { run, layer, gate, chart, text } = panel;
    const version = `${run.max_step}:${run.kept_steps}`;
    const key = keys.saturation(run.run, layer.layer, version);
    const { value: data, error } = this.need(key, () => loadSaturation(this.store, run.run, layer.layer, version));
    if (!data) return Boolean(error);
    const curves = (data.gates || {})[gate] || { low: [], high: [] };
    const step = this.shownStep(run);
    const x1 = Math.max(1, run.max_step ?? 0, ...curves.low.map((p) => p[0]));
    chart.draw({ series: [{ points: curves.high, colour: '#d62728' }, { points: curves.low, colour: '#1f5fbf' }],
      x0: 0, x1, y0: 0, y1: 1, marker: step, zero: 0.5, ticks: ['0', '1'], pad: 3 });
    chart.canvas.dataset.step = String(step);
    const at = (points) => {
      const point = points.filter((p) => p[0] <= step).pop();
      return point ? formatValue(point[1]) : '–';
    };
    text.textContent = `step ${step}: low ${at(curves.low)} · high ${at(curves.high)}`;
    return true;
  }

  /** Background loads of the shown matrices and activations at every other step, nearest first. */
  prefetch() {
    const thunks = [];
    const order = [];
    const index = Math.max(0, this.steps.indexOf(this.state.step));
    for (let d = 1; d < this.steps.length; d++) {
      if (index + d < this.steps.length) order.push(this.steps[index + d]);
      if (index - d >= 0) order.push(this.steps[index - d]);
    }
    for (const step of order) {
      for (const panel of this.panels) {
        if (panel.kind === 'weights' && panel.run.steps.includes(step)) {
          const { run, layer, matrix } = panel;
          if (!this.store.peek(keys.weights(run.run, layer.layer, matrix.matrix, step))) {
            thunks.push(() => loadWeights(this.store, run.run, layer.layer, matrix.matrix, step));
          }
        } else if (panel.kind === 'activations' && panel.index === 0 && panel.run.steps.includes(step)) {
          const { run, layer } = panel;
          const key = keys.activations(run.run, layer.layer, step);
          if (!this.store.peek(key) && !this.store.error(key)) thunks.push(() => loadActivations(this.store, run.run, layer.layer, step));
          const input = keys.layerInput(run.run, layer.layer, step);
          if (panel.input.source === 'layer' && !this.store.peek(input) && !this.store.error(input)) {
            thunks.push(() => loadLayerInput(this.store, run.run, layer.layer, step));
          }
        }
      }
    }
    this.prefetcher.replace(thunks);
  }

  // ------------------------------------------------------------------ hover

  hover(target, describe) {
    const canvas = target.canvas;
    canvas.addEventListener('mousemove', (event) => {
      const cell = target.cellAt(event);
      if (!cell) { this.hideTooltip(); return; }
      const described = describe(cell);
      if (!described) { this.hideTooltip(); return; }
      this.showTooltip(event, described);
    });
    canvas.addEventListener('mouseleave', () => this.hideTooltip());
  }

  showTooltip(event, { lines, data }) {
    const tip = this.tooltip;
    clear(tip);
    for (const [index, line] of lines.entries()) tip.append(el('div', { class: index === 0 ? 'lg-tip-head' : 'lg-tip-line', text: line }));
    for (const key of Object.keys(tip.dataset)) if (key !== 'testid') delete tip.dataset[key];
    for (const [key, value] of Object.entries(data)) tip.dataset[key] = String(value);
    tip.hidden = false;
    const margin = 14;
    const { innerWidth, innerHeight } = window;
    const box = tip.getBoundingClientRect();
    let x = event.clientX + margin;
    let y = event.clientY + margin;
    if (x + box.width > innerWidth) x = Math.max(0, event.clientX - margin - box.width);
    if (y + box.height > innerHeight) y = Math.max(0, event.clientY - margin - box.height);
    tip.style.left = `${x}px`;
    tip.style.top = `${y}px`;
  }

  hideTooltip() {
    if (this.tooltip) this.tooltip.hidden = true;
  }

  // ------------------------------------------------------------------ test hooks

  /** [{testid, run, layer, matrix, gate, panel, step}] of every drawn panel. */
  shownSteps() {
    return [...this.root.querySelectorAll('canvas[data-testid]')]
      .filter((canvas) => canvas.dataset.testid !== 'input-panel' || canvas.dataset.source === 'layer')
      .map((canvas) => ({ ...canvas.dataset, step: canvas.dataset.step === undefined ? null : Number(canvas.dataset.step) }));
  }
}
