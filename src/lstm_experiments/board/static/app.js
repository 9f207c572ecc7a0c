// The GATES tab's wiring: one state, one setState(patch) that every handler calls, one render path
// (render_plan.js decides which view to rebuild, repaint or leave), the data each view asked for
// repainting it when it arrives, the run list polled, the player's clock. See index.js for the
// test hooks.

import { clear, el } from './dom.js';
import { Prefetcher, Store, fetchRuns, keys, loadActivations, loadLayerInput, loadWeights } from './model.js';
import { BUILD, KEEP, VIEW_NAMES, planRender } from './render_plan.js';
import { ChangeScales } from './scales.js';
import { makeSource } from './source.js';
import {
  DEFAULTS, normalize, playTickPatch, runsPatch, selectedRuns, stepByPatch, userStepPatch,
} from './state.js';
import { prefetchOrder } from './steps.js';
import * as activations from './activations.js';
import * as banner from './banner.js';
import * as controls from './controls.js';
import * as findingsList from './findings_list.js';
import * as runsStrip from './runs_strip.js';
import * as saturation from './saturation.js';
import * as stepbar from './stepbar.js';
import * as text from './text_view.js';
import * as throughTime from './through_time_chart.js';
import * as tooltip from './tooltip.js';
import * as unitScatter from './unit_scatter.js';
import * as weightsGrid from './weights_grid.js';

export const POLL_MS = banner.POLL_SECONDS * 1000;
const PLAY_MS = 400; // one step per this many ms while playing, once the step is drawn
const RESIZE_MS = 150;
const PREFETCH_CONCURRENCY = 2;
const MIN_WIDTH_PX = 480;
const ROOT_PADDING_PX = 24; // style.css .lg-root's left and right padding
const REDRAWS_KEPT = 100;

/** One run: its grid; several: the strip; none: nothing. */
const weights = {
  build(container, state, env) {
    const count = selectedRuns(state).length;
    const module = count === 1 ? weightsGrid : count > 1 ? runsStrip : null;
    return { module, parts: module ? module.build(container, state, env) : { panels: [] } };
  },
  paint: (state, { module, parts }, env) => (module ? module.paint(state, parts, env) : true),
};

const VIEWS = { controls, stepbar, banner, findings: findingsList, weights, activations, saturation, text, throughTime, unitScatter };

export class GatesApp {
  constructor(root) {
    this.root = root;
    this.store = new Store();
    this.prefetcher = new Prefetcher(PREFETCH_CONCURRENCY);
    this.changeScales = new ChangeScales();
    this.redraws = [];
    this.parts = {};
    this.complete = {};
    this.wanted = {}; // view -> the data keys its last paint lacked
    this.dirty = new Set(); // views whose data arrived, to repaint at the next frame
    this.buildSkeleton();
    this.store.onLoad((key) => {
      for (const [name, wanted] of Object.entries(this.wanted)) if (wanted.has(key)) this.dirty.add(name);
      if (this.dirty.size) this.scheduleRepaint();
    });
    this.state = normalize({ ...DEFAULTS, ...this.frameSize() });
    this.render(null, this.state);
  }

  buildSkeleton() {
    const root = this.root;
    root.classList.add('lg-root');
    root.dataset.testid = 'lstm-gates';
    const box = (tag, attrs) => el(tag, attrs);
    this.containers = {
      controls: box('div', { class: 'lg-controls' }),
      stepbar: box('div', { class: 'lg-sticky', 'data-testid': 'stepbar' }),
      banner: box('div'),
      findings: box('div'),
      weights: box('section', { class: 'lg-section lg-weights', 'data-testid': 'weights-section' }),
      activations: box('div', { class: 'lg-activations-view' }),
      saturation: box('div', { class: 'lg-section lg-saturation-view', 'data-testid': 'saturation-section' }),
      text: box('section', { class: 'lg-section lg-text', 'data-testid': 'text-section' }),
      throughTime: box('div', { class: 'lg-through-time-view', 'data-testid': 'through-time-section' }),
      unitScatter: box('div', { class: 'lg-unit-scatter-view', 'data-testid': 'unit-scatter-section' }),
    };
    const c = this.containers;
    const activationsSection = el('section', { class: 'lg-section lg-activations', 'data-testid': 'activations-section' },
      c.activations, c.saturation);
    const figuresSection = el('section', { class: 'lg-section lg-figures', 'data-testid': 'figures-section' },
      c.throughTime, c.unitScatter);
    this.anchors = { weights: c.weights, activations: activationsSection, saturation: c.saturation, figures: figuresSection, text: c.text };
    const tips = el('div');
    root.append(c.controls, c.stepbar, c.banner, c.findings, c.weights, activationsSection, c.text, figuresSection, tips);
    this.tooltip = tooltip.build(tips);
    this.envs = Object.fromEntries(VIEW_NAMES.map((name) => [name, {
      setState: (patch) => this.setState(patch),
      getState: () => this.state,
      source: () => makeSource(this.store, this.changeScales, this.wanted[name] || (this.wanted[name] = new Set())),
      hover: (target, describe) => tooltip.hover(this.tooltip, target, describe),
      scrollTo: (anchor) => this.anchors[anchor].scrollIntoView({ block: 'start' }),
    }]));
    document.addEventListener('keydown', (event) => this.onKey(event));
    let resizeTimer = null;
    window.addEventListener('resize', () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => this.setState(this.frameSize()), RESIZE_MS);
    });
  }

  frameSize() {
    return { width: Math.max(MIN_WIDTH_PX, (this.root.clientWidth || window.innerWidth) - ROOT_PADDING_PX),
      height: window.innerHeight };
  }

  onKey(event) {
    if (event.key !== 'ArrowLeft' && event.key !== 'ArrowRight') return;
    const target = event.target;
    if (target && (target.tagName === 'SELECT' || target.tagName === 'TEXTAREA'
      || (target.tagName === 'INPUT' && !['range', 'checkbox', 'button'].includes(target.type)))) return;
    event.preventDefault();
    this.setState((state) => stepByPatch(state, event.key === 'ArrowRight' ? 1 : -1));
  }

  // ------------------------------------------------------------------ state and render

  /** The one way the state changes: patch (an object, or a function of the state giving one). */
  setState(patch) {
    const prev = this.state;
    const next = normalize({ ...prev, ...(typeof patch === 'function' ? patch(prev) : patch) });
    this.state = next;
    if (next.playing !== prev.playing) this.clock(next.playing);
    this.render(prev, next);
  }

  render(prev, next) {
    const started = performance.now();
    const plan = planRender(prev, next);
    for (const name of VIEW_NAMES) {
      if (plan[name] === BUILD) {
        tooltip.paint(this.tooltip, null);
        clear(this.containers[name]);
        this.parts[name] = VIEWS[name].build(this.containers[name], next, this.envs[name]);
      }
      if (plan[name] !== KEEP) this.paintView(name);
    }
    this.finish(started);
  }

  paintView(name) {
    this.wanted[name] = new Set();
    this.dirty.delete(name);
    this.complete[name] = VIEWS[name].paint(this.state, this.parts[name], this.envs[name]);
  }

  scheduleRepaint() {
    if (this.repaintQueued) return;
    this.repaintQueued = true;
    requestAnimationFrame(() => {
      this.repaintQueued = false;
      const started = performance.now();
      for (const name of VIEW_NAMES) if (this.dirty.has(name)) this.paintView(name);
      this.finish(started);
    });
  }

  finish(started) {
    const { step } = this.state;
    this.root.dataset.step = step === null ? '' : String(step);
    const complete = step !== null && Object.values(this.complete).every(Boolean);
    this.root.dataset.complete = String(complete);
    this.lastComplete = complete;
    if (!complete) return;
    this.redraws.push({ step, ms: performance.now() - started });
    if (this.redraws.length > REDRAWS_KEPT) this.redraws.shift();
    this.prefetch();
  }

  clock(on) {
    clearInterval(this.playTimer);
    if (!on) return;
    this.playTimer = setInterval(() => {
      if (this.lastComplete) this.setState(playTickPatch(this.state));
    }, PLAY_MS);
  }

  // ------------------------------------------------------------------ data

  start() {
    this.poll();
  }

  async poll() {
    try {
      const patch = runsPatch(await fetchRuns());
      for (const run of patch.runs) {
        const old = this.state.byRun.get(run.run);
        // New steps: what failed to load (a step TensorBoard had not read yet) is tried again.
        if (old && (old.max_step !== run.max_step || old.kept_steps !== run.kept_steps)) this.store.failed.clear();
      }
      this.setState(patch);
    } catch (error) {
      this.setState({ runsError: error.message });
    } finally {
      clearTimeout(this.pollTimer);
      this.pollTimer = setTimeout(() => this.poll(), POLL_MS);
    }
  }

  /** [{kind: 'weights', run, layer, matrix} | {kind: 'activations', run, layer, input}] the views show. */
  shownData() {
    const shown = (this.parts.weights?.parts.panels || []).map((p) => ({ kind: 'weights', run: p.run, layer: p.layer, matrix: p.matrix }));
    const first = this.parts.activations?.panels?.[0];
    if (first) shown.push({ kind: 'activations', run: first.run, layer: first.layer, input: this.parts.activations.input.source === 'layer' });
    return shown;
  }

  /** Background loads of what is shown, at every other step, nearest first. */
  prefetch() {
    const { state, store } = this;
    const thunks = [];
    const queued = new Set();
    const add = (key, load) => {
      if (queued.has(key) || store.cached(key) || store.error(key)) return;
      queued.add(key);
      thunks.push(load);
    };
    const shown = this.shownData();
    for (const step of prefetchOrder(state.steps, state.step)) {
      for (const d of shown) {
        if (!state.byRun.get(d.run)?.steps.includes(step)) continue;
        if (d.kind === 'weights') add(keys.weights(d.run, d.layer, d.matrix, step), () => loadWeights(store, d.run, d.layer, d.matrix, step));
        else {
          add(keys.activations(d.run, d.layer, step), () => loadActivations(store, d.run, d.layer, step));
          if (d.input) add(keys.layerInput(d.run, d.layer, step), () => loadLayerInput(store, d.run, d.layer, step));
        }
      }
    }
    this.prefetcher.replace(thunks);
  }

  // ------------------------------------------------------------------ test hooks

  userStep(value) {
    this.setState((state) => userStepPatch(state, value));
  }

  get steps() {
    return this.state.steps;
  }

  /** What is shown, as scripts/bench/board.py reads it: [{kind, run: {run}, layer: {layer}, matrix: {matrix}}]. */
  get panels() {
    return this.shownData().map((d) => ({ kind: d.kind, run: { run: d.run }, layer: { layer: d.layer },
      matrix: d.matrix ? { matrix: d.matrix } : undefined, index: 0 }));
  }

  /** [{testid, run, layer, matrix, gate, panel, step}] of every drawn panel. */
  shownSteps() {
    return [...this.root.querySelectorAll('canvas[data-testid]')]
      .filter((canvas) => canvas.dataset.testid !== 'input-panel' || canvas.dataset.source === 'layer')
      .map((canvas) => ({ ...canvas.dataset, step: canvas.dataset.step === undefined ? null : Number(canvas.dataset.step) }));
  }
}
