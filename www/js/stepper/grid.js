// Grids of cells for the correlate, transpose and dense scenes: one <div> per value, so each
// cell can carry its number (`data-value`), a highlight class and, when the cells are big
// enough, the number as text. Values come from the wasm traces; this file only draws them.
//
// A grid made with `canvasAt: n` draws itself on one <canvas> once it has more than n cells
// (a div per cell for thousands of cells froze the page): the same methods (`set`, `counts`,
// `mark`, `tag`), the known classes drawn (outlines of `cs-win` / `cs-cur` regions, hatching of
// `cs-crop`, `cs-pad`, `cb-border`, the light `cs-zero`), the node then `role="img"` with an
// `aria-label` that names the grid, its size and its range, `data-render="canvas"`, and the
// value under the pointer in the canvas's `title` (`cellAt(event)` hit-tests either kind), and
// the values it shows as the node's `gridValues` property (null for a blank cell; for tests).

// The page's one colour language (views/colour.js): diverging for signed values, paper to ink
// for non-negative ones.
import { colour, Legend } from '../views/colour.js';
import { largestScale } from '../wasm.js';

export { colour };

/** Formats a number for a cell: at most 2 decimals, no trailing zeros, −0 shown as 0. */
export function fmt(v, digits = 2) {
  if (!Number.isFinite(v)) return '';
  const s = v.toFixed(digits).replace(/\.?0+$/, '');
  return s === '-0' ? '0' : s.replace('-', '−');
}


/**
 * True when a cell of this colour needs white text: the WCAG contrast of white against it beats
 * that of black (cell text is black or white, so it always reaches 4.5:1; the page's ink,
 * slightly lighter than black, fell short on mid reds and blues).
 */
export function whiteText([r, g, b]) {
  const lin = (c) => { const v = c / 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  const L = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  return 1.05 / (L + 0.05) > (L + 0.05) / 0.05;
}

/** Classes a canvas grid draws as region outlines: [outer colour, inner colour or null]. */
const OUTLINES = { 'cs-win': ['#f0a202', null], 'cs-cur': ['#111', '#fff'], 'cs-same': ['#1f8a4c', '#fff'], 'cs-uses': ['#1f8a4c', null], 'cs-picked': ['#1f8a4c', null] };
/** Classes a canvas grid draws as fills or hatching over the cell. */
const HATCHED = { 'cs-crop': 'rgba(255,255,255,.55)', 'cs-pad': null, 'cb-border': null };

/** The colour scale sampled at 1024 points of −1 … 1 (a canvas grid's thousands of cells). */
const RAMPS = new Map();
function ramp(signed) {
  if (!RAMPS.has(signed)) {
    const lut = new Uint8ClampedArray(3 * 1024);
    for (let k = 0; k < 1024; k++) lut.set(colour(k / 511.5 - 1, 1, signed), 3 * k);
    RAMPS.set(signed, lut);
  }
  return RAMPS.get(signed);
}

/** The diagonal hatching of padding, cropped and border cells, as a fill pattern. */
let HATCH = null;
function hatch(ctx) {
  if (!HATCH) {
    const t = document.createElement('canvas');
    t.width = 4;
    t.height = 4;
    const g = t.getContext('2d');
    g.fillStyle = 'rgba(0,0,0,.14)';
    for (let k = 0; k < 4; k++) g.fillRect(k, 3 - k, 1, 1);
    HATCH = t;
  }
  return ctx.createPattern(HATCH, 'repeat');
}

export class Grid {
  /**
   * @param container where the grid goes
   * @param opts { id, label, caption, role, signed, maxWidth (px), maxCell (px), legend, canvasAt }:
   *   `legend` (default true) puts the colour scale with its end numbers under the grid, updated
   *   by `set` and `counts`; `role` ('input' | 'output' | 'zeros', optional) puts that word as a
   *   badge before the caption (`data-role` on the figure); `canvasAt` (default: never) the
   *   number of cells above which the grid is drawn on a canvas.
   */
  constructor(container, { id, label = '', caption = '', role, signed = 'auto', maxWidth = 340, maxCell = 34, flat = false, legend = true, canvasAt = Infinity } = {}) {
    this.figure = document.createElement('figure');
    this.figure.className = 'cs-figure';
    this.node = document.createElement('div');
    this.node.className = flat ? 'cs-grid cs-flat' : 'cs-grid';
    if (id) this.node.id = id;
    this.node.setAttribute('role', 'group');
    if (label) this.node.setAttribute('aria-label', label);
    this.label = label;
    this.flat = flat;
    this.canvasAt = canvasAt;
    this.figure.append(this.node);
    this.cap = document.createElement('figcaption');
    this.role = role;
    if (role) this.figure.dataset.role = role;
    this.caption(caption, false);
    if (caption) this.figure.append(this.cap);
    if (legend) {
      this.legend = new Legend(this.figure, { signed: signed !== false, label: caption || label, compact: true });
      this.legend.node.classList.add('cs-legend');
    }
    container.append(this.figure);
    this.signed = signed;
    this.maxWidth = maxWidth;
    this.maxCell = maxCell;
    this.h = 0;
    this.w = 0;
    this.cells = [];
    this.marks = new Map();
  }

  caption(text, append = true) {
    this.cap.replaceChildren();
    if (this.role) {
      const b = document.createElement('span');
      b.className = 'cs-role';
      b.dataset.role = this.role;
      b.textContent = this.role === 'zeros' ? 'zero-inserted input' : this.role;
      this.cap.append(b, ' ');
    }
    this.cap.append(text);
    if (append && !this.cap.parentNode) this.figure.append(this.cap);
  }

  /** True when the grid is drawn on a canvas (more cells than `canvasAt`). */
  get isCanvas() { return !!this.cv; }

  /** Rebuilds the cells for an h×w grid (only when the size changes). */
  resize(h, w) {
    if (h === this.h && w === this.w) return;
    this.h = h;
    this.w = w;
    this.marks.clear();
    const cell = Math.max(4, Math.min(this.maxCell, Math.floor(this.maxWidth / Math.max(w, 1))));
    this.cellPx = cell;
    this.node.style.setProperty('--cols', w);
    this.node.style.setProperty('--cell', `${cell}px`);
    this.node.classList.toggle('cs-small', cell < 22);
    this.node.classList.toggle('cs-tiny', cell < 9);
    this.cells = [];
    if (h * w > this.canvasAt) {
      this.toCanvas();
      return;
    }
    if (this.cv) {
      this.cv = null;
      this.node.setAttribute('role', 'group');
      if (this.label) this.node.setAttribute('aria-label', this.label);
      delete this.node.dataset.render;
    }
    const frag = document.createDocumentFragment();
    for (let i = 0; i < h * w; i++) {
      const c = document.createElement('div');
      c.className = 'cs-cell';
      c.dataset.i = i;
      this.cells.push(c);
      frag.append(c);
    }
    this.node.replaceChildren(frag);
  }

  /**
   * Shows values. `shown(i)` false leaves a cell blank (not yet computed); `text` false hides
   * the numbers; `scale` fixes the colour scale.
   */
  set(values, { scale, shown, text = true, signed = this.signed, digits = 2 } = {}) {
    const s = scale ?? largestScale(values);
    const sign = signed === 'auto' ? values.some((v) => v < 0) : signed;
    if (this.legend) {
      this.legend.setSigned(!!sign);
      this.legend.update(s);
    }
    if (this.cv) {
      const n = this.h * this.w;
      const { rgb, vals, hidden } = this.cv;
      const lut = ramp(!!sign);
      const inv = s > 0 ? 1 / s : 0;
      for (let i = 0; i < n; i++) {
        const off = !!(shown && !shown(i));
        hidden[i] = off ? 1 : 0;
        vals[i] = values[i];
        const t = Math.max(-1, Math.min(1, values[i] * inv));
        const k = off ? -1 : 3 * Math.round((t + 1) * 511.5);
        rgb[3 * i] = off ? 255 : lut[k];
        rgb[3 * i + 1] = off ? 255 : lut[k + 1];
        rgb[3 * i + 2] = off ? 255 : lut[k + 2];
      }
      this.cv.text = text ? (v) => fmt(v, this.cellPx < 32 ? Math.min(digits, 1) : digits) : null;
      this.summary(vals, hidden);
      this.redraw();
      return;
    }
    for (let i = 0; i < this.cells.length; i++) {
      const c = this.cells[i];
      const v = values[i];
      if (shown && !shown(i)) {
        if (c.dataset.value !== undefined) {
          delete c.dataset.value;
          c.textContent = '';
          c.style.removeProperty('background-color');
          c.classList.remove('cs-dark');
        }
        continue;
      }
      const str = fmt(v, this.cellPx < 32 ? Math.min(digits, 1) : digits);
      if (c.dataset.value === String(v) && c.dataset.scale === `${s}${sign}`) continue;
      c.dataset.value = String(v);
      c.dataset.scale = `${s}${sign}`;
      const [r, g, b] = colour(v, s, sign);
      c.style.backgroundColor = `rgb(${r},${g},${b})`;
      c.classList.toggle('cs-dark', whiteText([r, g, b]));
      c.textContent = text ? str : '';
      c.title = fmt(v, 3);
    }
  }

  /** Integer counts shaded from white to ink (the stamp coverage). */
  counts(values, max) {
    if (this.legend) {
      this.legend.setSigned(false);
      this.legend.update(max);
    }
    if (this.cv) {
      const { rgb, vals, hidden } = this.cv;
      for (let i = 0; i < this.h * this.w; i++) {
        vals[i] = values[i];
        hidden[i] = 0;
        const [r, g, b] = colour(values[i], max, false);
        rgb[3 * i] = r;
        rgb[3 * i + 1] = g;
        rgb[3 * i + 2] = b;
      }
      this.cv.text = (v) => (v ? String(v) : '');
      this.summary(vals, hidden, ' stamps');
      this.redraw();
      return;
    }
    for (let i = 0; i < this.cells.length; i++) {
      const c = this.cells[i];
      const v = values[i];
      c.dataset.value = String(v);
      const [r, g, b] = colour(v, max, false);
      c.style.backgroundColor = `rgb(${r},${g},${b})`;
      c.classList.toggle('cs-dark', whiteText([r, g, b]));
      c.textContent = v ? String(v) : '';
    }
  }

  /** Gives exactly the cells in `indices` the class `cls` (removing it from the others). */
  mark(cls, indices) {
    if (this.cv) {
      this.marks.set(cls, [...indices].filter((i) => i >= 0 && i < this.h * this.w));
      this.redraw();
      return;
    }
    const prev = this.marks.get(cls) ?? [];
    for (const i of prev) this.cells[i]?.classList.remove(cls);
    const next = [];
    for (const i of indices) {
      if (i >= 0 && i < this.cells.length) {
        this.cells[i].classList.add(cls);
        next.push(i);
      }
    }
    this.marks.set(cls, next);
  }

  /** Adds a class to cells once (static decorations such as padding). */
  tag(cls, pred) {
    if (this.cv) {
      const on = new Uint8Array(this.h * this.w);
      let any = false;
      for (let i = 0; i < on.length; i++) if (pred(i)) { on[i] = 1; any = true; }
      if (any) this.cv.tags.set(cls, on);
      else this.cv.tags.delete(cls);
      this.redraw();
      return;
    }
    for (let i = 0; i < this.cells.length; i++) this.cells[i].classList.toggle(cls, !!pred(i));
  }

  /** The index of the cell under a pointer event (either kind of grid), or −1. */
  cellAt(e) {
    if (!this.cv) {
      const c = e.target.closest?.('.cs-cell');
      return c && this.node.contains(c) ? Number(c.dataset.i) : -1;
    }
    const r = this.cv.canvas.getBoundingClientRect();
    const pitch = r.width / this.w;
    const x = Math.floor((e.clientX - r.left) / pitch);
    const y = Math.floor((e.clientY - r.top) / (r.height / this.h));
    return x >= 0 && y >= 0 && x < this.w && y < this.h ? y * this.w + x : -1;
  }

  /** Replaces the cells with one canvas of the grid's size (see the header). */
  toCanvas() {
    const n = this.h * this.w;
    const gap = this.flat || this.cellPx < 9 ? 0 : 1;
    const canvas = document.createElement('canvas');
    canvas.className = 'cs-canvas';
    const pw = this.w * this.cellPx + (this.w - 1) * gap;
    const ph = this.h * this.cellPx + (this.h - 1) * gap;
    const dpr = Math.min(2, globalThis.devicePixelRatio || 1);
    canvas.width = Math.round(pw * dpr);
    canvas.height = Math.round(ph * dpr);
    canvas.style.width = `${pw}px`;
    canvas.style.height = `${ph}px`;
    this.cv = { canvas, gap, dpr, rgb: new Uint8ClampedArray(3 * n).fill(255), vals: new Float64Array(n), hidden: new Uint8Array(n).fill(1), tags: new Map(), text: null, queued: false };
    this.node.setAttribute('role', 'img');
    this.node.dataset.render = 'canvas';
    this.node.setAttribute('aria-label', `${this.label}: ${this.h} × ${this.w} cells`);
    canvas.addEventListener('pointermove', (e) => {
      const i = this.cellAt(e);
      canvas.title = i < 0 || this.cv.hidden[i] ? '' : `row ${Math.floor(i / this.w)}, column ${i % this.w}: ${fmt(this.cv.vals[i], 3)}`;
      this.node.dataset.hover = String(i);
    });
    if (!Object.getOwnPropertyDescriptor(this.node, 'gridValues')) {
      Object.defineProperty(this.node, 'gridValues', { configurable: true, get: () => (this.cv ? Array.from(this.cv.vals, (v, i) => (this.cv.hidden[i] ? null : v)) : null) });
    }
    this.node.replaceChildren(canvas);
    this.redraw();
  }

  /** The text alternative of a canvas grid: what it is, its size and its range. */
  summary(vals, hidden, unit = '') {
    let lo = Infinity;
    let hi = -Infinity;
    let shown = 0;
    for (let i = 0; i < vals.length; i++) {
      if (hidden[i]) continue;
      shown++;
      if (vals[i] < lo) lo = vals[i];
      if (vals[i] > hi) hi = vals[i];
    }
    const range = shown ? `, ${shown < vals.length ? `${shown} shown, ` : ''}from ${fmt(lo, 3)} to ${fmt(hi, 3)}${unit}` : ', none shown yet';
    this.node.setAttribute('aria-label', `${this.label}: ${this.h} × ${this.w} cells${range}`);
  }

  /** Draws a canvas grid once, after the calls of this task (set, mark, tag) are all in. */
  redraw() {
    if (!this.cv || this.cv.queued) return;
    this.cv.queued = true;
    queueMicrotask(() => { if (this.cv) { this.cv.queued = false; this.draw(); } });
  }

  draw() {
    const { canvas, gap, dpr, rgb, vals, hidden, tags, text } = this.cv;
    const ctx = canvas.getContext('2d');
    const { h, w, cellPx: c } = this;
    const p = c + gap;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    // One pixel per cell, scaled up without smoothing (fast for thousands of cells); the gap
    // lines go over it.
    const px = this.cv.px ?? (this.cv.px = new ImageData(w, h));
    const d = px.data;
    const zero = tags.get('cs-zero');
    for (let i = 0; i < h * w; i++) {
      const light = zero?.[i] && !hidden[i];
      d[4 * i] = light ? 243 : rgb[3 * i];
      d[4 * i + 1] = light ? 241 : rgb[3 * i + 1];
      d[4 * i + 2] = light ? 234 : rgb[3 * i + 2];
      d[4 * i + 3] = 255;
    }
    const small = this.cv.small ?? (this.cv.small = document.createElement('canvas'));
    small.width = w;
    small.height = h;
    small.getContext('2d').putImageData(px, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.clearRect(0, 0, w * p, h * p);
    ctx.drawImage(small, 0, 0, w * p, h * p);
    if (gap) {
      ctx.fillStyle = '#e3e1da';
      for (let x = 1; x < w; x++) ctx.fillRect(x * p - gap, 0, gap, h * p);
      for (let y = 1; y < h; y++) ctx.fillRect(0, y * p - gap, w * p, gap);
    }
    for (const [cls, on] of tags) {
      if (!(cls in HATCHED)) continue;
      // The tagged cells as one path, made once per tagging (tags change with the setting, not
      // with the step).
      if (!on.path) {
        on.path = new Path2D();
        for (let i = 0; i < on.length; i++) if (on[i]) on.path.rect((i % w) * p, Math.floor(i / w) * p, c, c);
      }
      if (HATCHED[cls]) { ctx.fillStyle = HATCHED[cls]; ctx.fill(on.path); }
      ctx.fillStyle = hatch(ctx);
      ctx.fill(on.path);
    }
    if (text && c >= 22) {
      ctx.font = '11px system-ui, sans-serif';
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      for (let i = 0; i < h * w; i++) {
        if (hidden[i]) continue;
        ctx.fillStyle = whiteText([rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]]) ? '#fff' : '#000';
        ctx.fillText(text(vals[i]), (i % w) * p + c / 2, Math.floor(i / w) * p + c / 2);
      }
    }
    for (const [cls, [outer, inner]] of Object.entries(OUTLINES)) {
      const list = this.marks.get(cls);
      if (!list?.length) continue;
      const set = new Set(list);
      const edges = new Path2D();
      for (const i of set) {
        const x = (i % w) * p;
        const y = Math.floor(i / w) * p;
        const col = i % w;
        if (col === 0 || !set.has(i - 1)) { edges.moveTo(x, y); edges.lineTo(x, y + c); }
        if (col === w - 1 || !set.has(i + 1)) { edges.moveTo(x + c, y); edges.lineTo(x + c, y + c); }
        if (!set.has(i - w)) { edges.moveTo(x, y); edges.lineTo(x + c, y); }
        if (!set.has(i + w)) { edges.moveTo(x, y + c); edges.lineTo(x + c, y + c); }
      }
      ctx.lineCap = 'square';
      if (inner) { ctx.strokeStyle = inner; ctx.lineWidth = 4; ctx.stroke(edges); }
      ctx.strokeStyle = outer;
      ctx.lineWidth = 2;
      ctx.stroke(edges);
    }
  }
}
