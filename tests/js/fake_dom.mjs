// A small stand-in for the browser's DOM, enough for the page's views to build and paint in node:
// elements with attributes, dataset, style, children and listeners; canvases whose 2d context keeps
// the pixels put into it (getImageData reads them back) and records the line charts' and plots' calls
// (with the fillStyle in force at each arc, so a test can tell a highlighted dot).
// install() sets globalThis.document / window / requestAnimationFrame; the views need nothing more.

const camel = (name) => name.replace(/-([a-z])/g, (_, c) => c.toUpperCase());

class FakeText {
  constructor(text) {
    this.nodeType = 3;
    this.text = String(text);
    this.parentNode = null;
  }

  get textContent() {
    return this.text;
  }
}

export class FakeContext {
  constructor(canvas) {
    this.canvas = canvas;
    this.calls = [];
    for (const name of ['clearRect', 'fillRect', 'beginPath', 'moveTo', 'lineTo', 'stroke', 'setLineDash', 'fillText', 'scale', 'arc', 'fill',
      'setTransform', 'drawImage', 'strokeRect']) {
      this[name] = name === 'arc' || name === 'fillRect' ? (...args) => this.calls.push([name, ...args, this.fillStyle])
        : (...args) => this.calls.push([name, ...args]);
    }
  }

  measureText(text) {
    return { width: [...String(text)].length * 7 };
  }

  createImageData(width, height) {
    return { width, height, data: new Uint8ClampedArray(width * height * 4) };
  }

  putImageData(image) {
    this.canvas.pixels = { width: image.width, height: image.height, data: Uint8ClampedArray.from(image.data) };
  }

  getImageData() {
    return this.canvas.pixels;
  }
}

export class FakeElement {
  constructor(tag) {
    this.nodeType = 1;
    this.tagName = tag.toUpperCase();
    this.children = [];
    this.parentNode = null;
    this.attributes = new Map();
    this.dataset = {};
    this.style = {};
    this.listeners = new Map();
    this.hidden = false;
    this.checked = false;
    this.disabled = false;
    this.value = '';
    this.width = 300;
    this.height = 150;
    this.classList = {
      add: (...names) => { this.className = [...new Set([...this.className.split(' ').filter(Boolean), ...names])].join(' '); },
      contains: (name) => this.className.split(' ').includes(name),
      remove: (...names) => { this.className = this.className.split(' ').filter((n) => n && !names.includes(n)).join(' '); },
    };
    this.className = '';
  }

  setAttribute(name, value) {
    if (name.startsWith('data-')) this.dataset[camel(name.slice(5))] = String(value);
    else if (name === 'width' || name === 'height') this[name] = Number(value);
    else if (name === 'hidden') this.hidden = true;
    else this.attributes.set(name, String(value));
  }

  getAttribute(name) {
    if (name.startsWith('data-')) return this.dataset[camel(name.slice(5))] ?? null;
    return this.attributes.get(name) ?? null;
  }

  removeAttribute(name) {
    if (name.startsWith('data-')) delete this.dataset[camel(name.slice(5))];
    else this.attributes.delete(name);
  }

  get title() { return this.attributes.get('title') ?? ''; }

  set title(value) { this.attributes.set('title', String(value)); }

  append(...items) {
    for (const item of items) {
      const node = item instanceof FakeElement || item instanceof FakeText ? item : new FakeText(item);
      if (node.parentNode) node.parentNode.removeChild(node);
      node.parentNode = this;
      this.children.push(node);
    }
  }

  removeChild(node) {
    this.children = this.children.filter((child) => child !== node);
    node.parentNode = null;
    return node;
  }

  get firstChild() {
    return this.children[0] ?? null;
  }

  get textContent() {
    return this.children.map((child) => child.textContent).join('');
  }

  set textContent(text) {
    for (const child of this.children) child.parentNode = null;
    this.children = [];
    if (text !== '') this.append(String(text));
  }

  addEventListener(type, listener) {
    if (!this.listeners.has(type)) this.listeners.set(type, []);
    this.listeners.get(type).push(listener);
  }

  /** Call the listeners of `type` with `event` (default {target: this}). */
  fire(type, event = {}) {
    for (const listener of this.listeners.get(type) || []) listener({ target: this, ...event });
  }

  getContext() {
    this.context = this.context || new FakeContext(this);
    return this.context;
  }

  getBoundingClientRect() {
    const width = parseFloat(this.style.width) || 0;
    const height = parseFloat(this.style.height) || 0;
    return { left: 0, top: 0, width, height, right: width, bottom: height };
  }

  scrollIntoView() {}

  /** Every descendant element, depth first. */
  * descendants() {
    for (const child of this.children) {
      if (child instanceof FakeElement) {
        yield child;
        yield* child.descendants();
      }
    }
  }

  /** Selectors of one compound part: tag, [name] and [name=value] (value quoted or not). */
  querySelectorAll(selector) {
    const tag = (selector.match(/^[a-z]+/i) || [null])[0];
    const attributes = [...selector.matchAll(/\[([\w-]+)(?:=["']?([^\]"']*)["']?)?\]/g)].map(([, name, value]) => [name, value]);
    return [...this.descendants()].filter((node) => (!tag || node.tagName === tag.toUpperCase())
      && attributes.every(([name, value]) => {
        const actual = name.startsWith('data-') ? node.dataset[camel(name.slice(5))] : node.attributes.get(name);
        return value === undefined ? actual !== undefined : actual === value;
      }));
  }

  querySelector(selector) {
    return this.querySelectorAll(selector)[0] ?? null;
  }
}

/** Put the fake document and window where the page's modules look for them. */
export function install({ width = 1600, height = 1000 } = {}) {
  const listeners = [];
  globalThis.document = {
    createElement: (tag) => new FakeElement(tag),
    addEventListener: (...args) => listeners.push(args),
    head: new FakeElement('head'),
    body: new FakeElement('body'),
  };
  globalThis.window = { devicePixelRatio: 1, innerWidth: width, innerHeight: height, addEventListener: () => {} };
  globalThis.requestAnimationFrame = (callback) => setTimeout(callback, 0);
  return globalThis.document;
}

/** A canvas' pixels as [r, g, b] of (row, col). */
export function pixelAt(canvas, row, col) {
  const { width, data } = canvas.pixels;
  const i = (row * width + col) * 4;
  return [data[i], data[i + 1], data[i + 2]];
}
