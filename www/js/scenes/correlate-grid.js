// Grids of cells for the correlate, transpose and dense scenes: one <div> per value, so each
// cell can carry its number (`data-value`), a highlight class and, when the cells are big
// enough, the number as text. Values come from the wasm traces; this file only draws them.

// The page's one colour language (views/colour.js): diverging for signed values, paper to ink
// for non-negative ones.
import { colour, dark, Legend } from '../views/colour.js';

export { colour };

/** Formats a number for a cell: at most 2 decimals, no trailing zeros, −0 shown as 0. */
export function fmt(v, digits = 2) {
  if (!Number.isFinite(v)) return '';
  const s = v.toFixed(digits).replace(/\.?0+$/, '');
  return s === '-0' ? '0' : s.replace('-', '−');
}

/** Largest |value| of an array (the colour scale). */
export function scaleOf(values) {
  let m = 0;
  for (const v of values) if (Math.abs(v) > m) m = Math.abs(v);
  return m;
}

export class Grid {
  /**
   * @param container where the grid goes
   * @param opts { id, label, caption, signed, maxWidth (px), maxCell (px), legend }: `legend`
   *   (default true) puts the colour scale with its end numbers under the grid, updated by
   *   `set` and `counts`.
   */
  constructor(container, { id, label = '', caption = '', signed = 'auto', maxWidth = 340, maxCell = 34, flat = false, legend = true } = {}) {
    this.figure = document.createElement('figure');
    this.figure.className = 'cs-figure';
    this.node = document.createElement('div');
    this.node.className = flat ? 'cs-grid cs-flat' : 'cs-grid';
    if (id) this.node.id = id;
    this.node.setAttribute('role', 'group');
    if (label) this.node.setAttribute('aria-label', label);
    this.figure.append(this.node);
    this.cap = document.createElement('figcaption');
    this.cap.textContent = caption;
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

  caption(text) {
    this.cap.textContent = text;
    if (!this.cap.parentNode) this.figure.append(this.cap);
  }

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
    const s = scale ?? scaleOf(values);
    const sign = signed === 'auto' ? values.some((v) => v < 0) : signed;
    if (this.legend) {
      this.legend.setSigned(!!sign);
      this.legend.update(s);
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
      c.classList.toggle('cs-dark', dark([r, g, b]));
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
    for (let i = 0; i < this.cells.length; i++) {
      const c = this.cells[i];
      const v = values[i];
      c.dataset.value = String(v);
      const [r, g, b] = colour(v, max, false);
      c.style.backgroundColor = `rgb(${r},${g},${b})`;
      c.classList.toggle('cs-dark', r < 120);
      c.textContent = v ? String(v) : '';
    }
  }

  /** Gives exactly the cells in `indices` the class `cls` (removing it from the others). */
  mark(cls, indices) {
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
    for (let i = 0; i < this.cells.length; i++) this.cells[i].classList.toggle(cls, !!pred(i));
  }
}
