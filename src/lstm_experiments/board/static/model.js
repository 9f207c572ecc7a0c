// Fetching and caching of the plugin's data (board/plugin.py).
//
// TensorBoard loads this module from data/plugin_entry.html?name=lstm_gates, whose
// <base href="plugin/lstm_gates/"> makes relative URLs such as 'runs' resolve to
// /data/plugin/lstm_gates/runs: fetch() resolves against the document's base URL,
// not the module's (static/), so the API is addressed relative to the document.
//
// Every step's matrices, activations and figures are immutable once logged, so they are
// cached (as Float32Arrays) and kept until the cache passes its byte budget; the
// run list, the saturation curves, the positions and the findings change while a run
// trains and are refetched (a run's positions and findings: their latest version only,
// see source.js).

import { positionsOf } from './positions.js';

const CACHE_BYTES = 512 * 1024 * 1024;

/** The API's URL for a route and its query, relative to the plugin's base. */
export function apiUrl(route, query = {}) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) params.set(key, String(value));
  const text = params.toString();
  return text ? `${route}?${text}` : route;
}

export class HttpError extends Error {
  constructor(url, status, body) {
    super(`${url}: HTTP ${status}${body ? `: ${body.slice(0, 200)}` : ''}`);
    this.status = status;
  }
}

export async function getJson(url) {
  const response = await fetch(url, { credentials: 'same-origin' });
  const text = await response.text();
  if (!response.ok) throw new HttpError(url, response.status, text);
  return JSON.parse(text); // the server sends NaN and infinities as null (board/plugin.py)
}

/** Nested lists (any depth) of numbers or nulls as one flat Float32Array (null -> NaN). */
export function flatten(values, size) {
  const out = new Float32Array(size);
  let i = 0;
  const walk = (item) => {
    if (Array.isArray(item)) {
      for (const child of item) walk(child);
    } else {
      out[i++] = item === null || item === undefined ? NaN : item;
    }
  };
  walk(values);
  if (i !== size) throw new Error(`expected ${size} values, got ${i}`);
  return out;
}

const product = (shape) => shape.reduce((a, b) => a * b, 1);

/** How many values of each gate's block of a fused matrix are NaN (the server sends NaN and ±inf as null). */
export function nonFiniteByGate(data, shape, gates) {
  const [rows, cols] = shape;
  const perGate = cols / Math.max(1, gates);
  const counts = new Array(Math.max(1, gates)).fill(0);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) if (Number.isNaN(data[r * cols + c])) counts[Math.floor(c / perGate)] += 1;
  }
  return counts;
}

function weightsOf(json) {
  const shape = json.shape.length === 1 ? [1, json.shape[0]] : json.shape;
  const data = flatten(json.values, product(shape));
  return { ...json, shape, data, values: undefined, nonFinite: nonFiniteByGate(data, shape, (json.gates || []).length) };
}

function activationsOf(json) {
  return { ...json, data: flatten(json.values, product(json.shape)), values: undefined };
}

function probeOf(json) {
  return { ...json, data: flatten(json.values, product(json.shape)), values: undefined };
}

/** Fetched data by key: a promise while loading, the value once there (peek() is synchronous). */
export class Store {
  constructor(fetchJson = getJson) {
    this.fetchJson = fetchJson;
    this.ready = new Map(); // key -> value, in least-recently-used order
    this.loading = new Map(); // key -> promise
    this.failed = new Map(); // key -> error
    this.bytes = 0;
    this.listeners = new Set();
  }

  onLoad(listener) {
    this.listeners.add(listener);
  }

  /** The value if loaded, without touching its place in the eviction order. */
  cached(key) {
    return this.ready.get(key);
  }

  peek(key) {
    const value = this.ready.get(key);
    if (value !== undefined) {
      this.ready.delete(key);
      this.ready.set(key, value);
    }
    return value;
  }

  error(key) {
    return this.failed.get(key);
  }

  /** Start loading (once) and return the promise of the value. */
  load(key, url, convert) {
    if (this.ready.has(key)) return Promise.resolve(this.peek(key));
    if (this.loading.has(key)) return this.loading.get(key);
    this.failed.delete(key);
    const promise = this.fetchJson(url).then((json) => {
      const value = convert ? convert(json) : json;
      this.loading.delete(key);
      this.ready.set(key, value);
      this.bytes += value.data ? value.data.byteLength : 0;
      this.evict();
      for (const listener of this.listeners) listener(key, value);
      return value;
    }, (error) => {
      this.loading.delete(key);
      this.failed.set(key, error);
      for (const listener of this.listeners) listener(key, undefined, error);
      throw error;
    });
    promise.catch(() => {});
    this.loading.set(key, promise);
    return promise;
  }

  forget(key) {
    const value = this.ready.get(key);
    if (value && value.data) this.bytes -= value.data.byteLength;
    this.ready.delete(key);
    this.failed.delete(key);
  }

  evict() {
    for (const [key, value] of this.ready) {
      if (this.bytes <= CACHE_BYTES) break;
      this.bytes -= value.data ? value.data.byteLength : 0;
      this.ready.delete(key);
    }
  }

  get pending() {
    return this.loading.size;
  }
}

// Keys and loaders of each route. JSON.stringify keeps run names with any character apart.
export const keys = {
  weights: (run, layer, matrix, step) => JSON.stringify(['weights', run, layer, matrix, step]),
  activations: (run, layer, step) => JSON.stringify(['activations', run, layer, step]),
  probe: (run) => JSON.stringify(['probe', run]),
  layerInput: (run, layer, step) => JSON.stringify(['input', run, layer, step]),
  saturation: (run, layer, version) => JSON.stringify(['saturation', run, layer, version]),
  positions: (run, version) => JSON.stringify(['positions', run, version]),
  findings: (run, version) => JSON.stringify(['findings', run, version]),
  throughTime: (run, layer, step) => JSON.stringify(['through_time', run, layer, step]),
  units: (run, layer, step) => JSON.stringify(['units', run, layer, step]),
};

export function loadWeights(store, run, layer, matrix, step) {
  return store.load(keys.weights(run, layer, matrix, step),
    apiUrl('weights', { run, layer, matrix, step }), weightsOf);
}

export function loadActivations(store, run, layer, step) {
  return store.load(keys.activations(run, layer, step),
    apiUrl('activations', { run, layer, step }), activationsOf);
}

export function loadProbe(store, run) {
  return store.load(keys.probe(run), apiUrl('probe', { run }), probeOf);
}

/** What one layer read at one step (/probe?run&layer&step): (sequences, time, features), NaN where masked. */
export function loadLayerInput(store, run, layer, step) {
  return store.load(keys.layerInput(run, layer, step), apiUrl('probe', { run, layer, step }), probeOf);
}

/** version: anything that changes when the run has new steps (its max_step). */
export function loadSaturation(store, run, layer, version) {
  return store.load(keys.saturation(run, layer, version), apiUrl('saturation', { run, layer }));
}

/** A run's /positions (positions.js' positionsOf) at `version` (anything that changes with new steps). */
export function loadPositions(store, run, version) {
  return store.load(keys.positions(run, version), apiUrl('positions', { run }), positionsOf);
}

/** A run's /findings (its findings.json as of its latest logged step) at `version`. */
export function loadFindings(store, run, version) {
  return store.load(keys.findings(run, version), apiUrl('findings', { run }));
}

/** One layer's gradient norm through time at one step (/through_time): {states, time, norms: {state: [...]}}. */
export function loadThroughTime(store, run, layer, step) {
  return store.load(keys.throughTime(run, layer, step), apiUrl('through_time', { run, layer, step }));
}

/** One layer's per-unit figures at one step (/units): {units, gates, saturation, activity, orders}. */
export function loadUnits(store, run, layer, step) {
  return store.load(keys.units(run, layer, step), apiUrl('units', { run, layer, step }));
}

export function fetchRuns() {
  return getJson(apiUrl('runs'));
}

/** A queue of background loads, a few at a time, most recent request first. */
export class Prefetcher {
  constructor(concurrency = 2) {
    this.concurrency = concurrency;
    this.queue = [];
    this.active = 0;
  }

  /** Replace the queue with these thunks (each returns a promise), run in order. */
  replace(thunks) {
    this.queue = thunks.slice();
    this.pump();
  }

  pump() {
    while (this.active < this.concurrency && this.queue.length) {
      const thunk = this.queue.shift();
      const promise = thunk();
      if (!promise) continue;
      this.active += 1;
      promise.catch(() => {}).finally(() => {
        this.active -= 1;
        this.pump();
      });
    }
  }
}
