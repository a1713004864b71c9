// Heatmaps: a 2-D array of numbers drawn on a canvas, one square per value. Values come from
// the wasm API; this file only maps numbers to colours.

import { colour } from './colour.js';
import { largestScale } from '../wasm.js';

export { colour };


/**
 * A canvas showing an h×w slice of `data` starting at `offset`. The canvas has one pixel per
 * value and is scaled up by CSS with crisp edges, so it stays sharp at any size. Optional:
 * rectangles drawn over it (`mark`), and `onPick(y, x)` when a cell is clicked or chosen
 * with the keyboard.
 */
export class Heatmap {
  constructor(container, { label = '', signed = true, size = 112, onPick = null, onHover = null, keys = true, title = '', strip = false } = {}) {
    this.box = document.createElement('div');
    this.box.className = strip ? 'hm strip' : 'hm';
    this.strip = strip;
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'heatmap';
    this.canvas.setAttribute('role', 'img');
    if (label) this.canvas.setAttribute('aria-label', label);
    else this.canvas.setAttribute('aria-hidden', 'true'); // decorative: its container says what it is
    if (title) this.canvas.title = title;
    this.box.style.width = `${size}px`;
    // Marks sit on the drawn content (inside the canvas's border), like the cells they outline.
    this.overlay = document.createElement('div');
    this.overlay.className = 'hm-over';
    this.box.append(this.canvas, this.overlay);
    this.signed = signed;
    this.h = 0;
    this.w = 0;
    this.marks = [];
    const cellAt = (e) => this.cellAt(e.clientX, e.clientY);
    if (onHover) {
      this.canvas.addEventListener('pointermove', (e) => { if (e.pointerType === 'mouse') onHover(...cellAt(e)); });
      this.canvas.addEventListener('pointerleave', (e) => { if (e.pointerType === 'mouse') onHover(null); });
    }
    if (onPick) {
      this.box.classList.add('pickable');
      this.cursor = null;
      this.canvas.addEventListener('click', (e) => {
        this.cursor = cellAt(e);
        onPick(...this.cursor);
      });
    }
    if (onPick && keys) {
      this.canvas.tabIndex = 0;
      this.canvas.setAttribute('role', 'button');
      this.canvas.setAttribute('aria-label', `${label}: click a cell to see how it was computed (arrow keys move, Enter picks)`);
      this.canvas.addEventListener('keydown', (e) => {
        const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
        if (e.key === 'Enter' || moves[e.key]) {
          const [y, x] = this.cursor ?? [this.h >> 1, this.w >> 1];
          const [dy, dx] = moves[e.key] ?? [0, 0];
          this.cursor = [Math.min(this.h - 1, Math.max(0, y + dy)), Math.min(this.w - 1, Math.max(0, x + dx))];
          onPick(...this.cursor);
          e.preventDefault();
          e.stopPropagation();
        }
      });
    }
    container.append(this.box);
  }

  /**
   * The cell [y, x] under a point (client coordinates), measured on the canvas's content box:
   * its border is not part of the drawing, so an edge cell is hit where it is drawn.
   */
  cellAt(clientX, clientY) {
    const c = this.canvas;
    const r = c.getBoundingClientRect();
    const sx = r.width / (c.offsetWidth || r.width || 1); // CSS transforms scale the box
    const sy = r.height / (c.offsetHeight || r.height || 1);
    const left = r.left + c.clientLeft * sx;
    const top = r.top + c.clientTop * sy;
    const cw = (c.clientWidth || c.offsetWidth) * sx;
    const ch = (c.clientHeight || c.offsetHeight) * sy;
    const x = Math.min(this.w - 1, Math.max(0, Math.floor(((clientX - left) / cw) * this.w)));
    const y = Math.min(this.h - 1, Math.max(0, Math.floor(((clientY - top) / ch) * this.h)));
    return [y, x];
  }

  /** Makes the canvas h×w cells (its box keeps that aspect); returns it. */
  resize(h, w) {
    const c = this.canvas;
    if (c.width !== w || c.height !== h) {
      c.width = w;
      c.height = h;
      if (!this.strip) this.box.style.aspectRatio = `${w} / ${h}`;
    }
    this.h = h;
    this.w = w;
    return c;
  }

  /** Draws `data[offset .. offset + h*w]`; `scale` defaults to the slice's largest |value|. */
  update({ data, h, w, offset = 0, scale }) {
    const c = this.resize(h, w);
    this.grid = null;
    const ctx = c.getContext('2d');
    const img = ctx.createImageData(w, h);
    const s = scale ?? largestScale(data, offset, h * w);
    for (let i = 0; i < h * w; i++) {
      const [r, g, b] = colour(data[offset + i], s, this.signed);
      img.data[4 * i] = r;
      img.data[4 * i + 1] = g;
      img.data[4 * i + 2] = b;
      img.data[4 * i + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }

  /**
   * `count` tiles of h×w values on this one canvas, `cols` to a row, a blank pixel between
   * them (see {@link paintTiles}). One canvas instead of one per tile: every drawn canvas is a
   * layer of its own for the compositor, and the cnn's 128 conv2 kernels as 128 canvases cost
   * the page's thread more than all else it draws while training. `tileAt(y, x)` gives a
   * cell's tile back.
   */
  updateTiles({ data, count, h, w, cols, scale, at }) {
    if (!(count >= 1 && cols >= 1 && h >= 1 && w >= 1)) throw new Error(`updateTiles: count, cols, h and w must be at least 1, got ${count}, ${cols}, ${h}, ${w}`);
    const rows = Math.ceil(count / cols);
    const c = this.resize(rows * (h + 1) - 1, cols * (w + 1) - 1);
    this.grid = { count, h, w, cols };
    paintTiles(c, { data, count, h, w, cols, scale, signed: this.signed, at });
  }

  /** The tile (index, row and column of the grid) under cell [y, x] of `updateTiles`; null in a gap. */
  tileAt(y, x) {
    const g = this.grid;
    if (!g || y % (g.h + 1) === g.h || x % (g.w + 1) === g.w) return null;
    const [row, col] = [Math.floor(y / (g.h + 1)), Math.floor(x / (g.w + 1))];
    const index = row * g.cols + col;
    return index < g.count ? { index, row, col } : null;
  }

  /** Outlines cells: `rects` = [{y0, x0, y1, x1, kind}] (inclusive, clipped to the map). */
  mark(rects = []) {
    for (const m of this.marks) m.remove();
    this.marks = [];
    if (!this.h || !this.w) return;
    for (const r of rects) {
      const y0 = Math.max(0, r.y0);
      const x0 = Math.max(0, r.x0);
      const y1 = Math.min(this.h - 1, r.y1);
      const x1 = Math.min(this.w - 1, r.x1);
      if (y1 < y0 || x1 < x0) continue;
      const d = document.createElement('div');
      d.className = `mark ${r.kind ?? ''}`;
      d.style.left = `${(100 * x0) / this.w}%`;
      d.style.top = `${(100 * y0) / this.h}%`;
      d.style.width = `${(100 * (x1 - x0 + 1)) / this.w}%`;
      d.style.height = `${(100 * (y1 - y0 + 1)) / this.h}%`;
      if (r.data) for (const [k, v] of Object.entries(r.data)) d.dataset[k] = String(v);
      this.overlay.append(d);
      this.marks.push(d);
    }
  }
}

/**
 * Draws `count` tiles of h×w values of `data` on `canvas` (already W×H: `cols` tiles to a
 * row, one white pixel between them): tile i is `data[at(i) … at(i) + h·w]` (by default the
 * i-th slice in order), coloured on one scale.
 */
export function paintTiles(canvas, { data, count, h, w, cols, scale, signed, at = (i) => i * h * w }) {
  const W = canvas.width;
  const g = canvas.getContext('2d');
  const img = g.createImageData(W, canvas.height);
  img.data.fill(255);
  for (let t = 0; t < count; t++) {
    const x0 = (t % cols) * (w + 1);
    const y0 = Math.floor(t / cols) * (h + 1);
    const base = at(t);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const [r, gg, b] = colour(data[base + y * w + x], scale, signed);
        const o = 4 * ((y0 + y) * W + x0 + x);
        img.data[o] = r;
        img.data[o + 1] = gg;
        img.data[o + 2] = b;
      }
    }
  }
  g.putImageData(img, 0, 0);
}
