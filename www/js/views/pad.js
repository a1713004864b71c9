// The drawing pad: pointer events (mouse, touch, pen) leave thick, soft-edged round strokes,
// like the pen strokes MNIST was scanned from. The canvas keeps a fixed 280×280 resolution
// whatever its CSS size, so a stroke is always about a tenth of the pad wide, as in MNIST
// where a 20-px digit has 2–3-px strokes. `onChange` fires at most once per animation frame.

import { PAD_SIZE } from '../strokes.js';

export { PAD_SIZE };
const PAPER = '#ffffff';
const INK = '#16181d';
const WIDTH = 19; // stroke width in pad pixels
const SOFT = 5; // blur of the stroke edge

export class Pad {
  constructor(container, { onChange, onStrokeEnd, label = 'Drawing pad' } = {}) {
    this.canvas = document.createElement('canvas');
    this.canvas.id = 'pad';
    this.canvas.width = PAD_SIZE;
    this.canvas.height = PAD_SIZE;
    this.canvas.setAttribute('role', 'img');
    this.canvas.setAttribute('aria-label', label);
    container.append(this.canvas);
    this.ctx = this.canvas.getContext('2d', { willReadFrequently: true });
    this.onChange = onChange;
    this.onStrokeEnd = onStrokeEnd;
    this.paths = []; // every stroke drawn, as polylines in pad coordinates
    this.live = new Map(); // pointerId → the stroke it is drawing
    this.frame = 0;
    this.clear(false);

    const c = this.canvas;
    c.addEventListener('pointerdown', (e) => this.down(e));
    c.addEventListener('pointermove', (e) => this.move(e));
    for (const t of ['pointerup', 'pointercancel', 'lostpointercapture']) c.addEventListener(t, (e) => this.up(e));
    c.addEventListener('contextmenu', (e) => e.preventDefault());
  }

  /** Pad coordinates of a pointer event. */
  point(e) {
    const r = this.canvas.getBoundingClientRect();
    return [((e.clientX - r.left) / r.width) * PAD_SIZE, ((e.clientY - r.top) / r.height) * PAD_SIZE];
  }

  down(e) {
    if (e.button !== 0 && e.pointerType === 'mouse') return;
    e.preventDefault();
    try {
      this.canvas.setPointerCapture(e.pointerId);
    } catch {
      // Not an active pointer (a synthetic event): drawing works without capture.
    }
    const p = this.point(e);
    const path = [p];
    this.paths.push(path);
    this.live.set(e.pointerId, path);
    this.line(p, p);
    this.changed();
  }

  move(e) {
    const path = this.live.get(e.pointerId);
    if (!path) return;
    const events = typeof e.getCoalescedEvents === 'function' ? e.getCoalescedEvents() : [];
    let a = path[path.length - 1];
    for (const ev of events.length ? events : [e]) {
      const b = this.point(ev);
      this.line(a, b);
      path.push(b);
      a = b;
    }
    this.changed();
  }

  up(e) {
    if (this.live.delete(e.pointerId)) this.onStrokeEnd?.();
  }

  line(a, b) {
    inkLine(this.ctx, a, b);
  }

  /** Replaces the drawing with these strokes (redrawn from scratch; no change event). */
  setPaths(strokes) {
    this.ctx.fillStyle = PAPER;
    this.ctx.fillRect(0, 0, PAD_SIZE, PAD_SIZE);
    this.paths = [];
    for (const s of strokes) {
      for (let i = 0; i < s.length; i++) this.line(s[Math.max(0, i - 1)], s[i]);
      this.paths.push(s.map((p) => p.slice()));
    }
  }

  /** True when nothing has been drawn since the last clear. */
  get empty() {
    return this.paths.length === 0;
  }

  clear(notify = true) {
    this.ctx.fillStyle = PAPER;
    this.ctx.fillRect(0, 0, PAD_SIZE, PAD_SIZE);
    this.paths = [];
    this.live.clear();
    if (notify) this.changed();
  }

  /** Coalesces changes: the callback runs once in the next animation frame. */
  changed() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.onChange?.();
    });
  }

  /** The pad's RGBA pixels (what preprocess reads: ink = distance from the border's colour). */
  pixels() {
    return this.ctx.getImageData(0, 0, PAD_SIZE, PAD_SIZE).data;
  }
}

/** One soft round ink segment from a to b. */
export function inkLine(g, [x0, y0], [x1, y1]) {
  g.save();
  g.strokeStyle = INK;
  g.lineWidth = WIDTH;
  g.lineCap = 'round';
  g.lineJoin = 'round';
  g.shadowColor = INK;
  g.shadowBlur = SOFT;
  g.beginPath();
  g.moveTo(x0, y0);
  g.lineTo(x1, y1);
  g.stroke();
  g.restore();
}

/** RGBA pixels of strokes drawn on a fresh, off-screen pad (for scenes without a pad). */
export function rasterise(strokes) {
  const c = document.createElement('canvas');
  c.width = PAD_SIZE;
  c.height = PAD_SIZE;
  const g = c.getContext('2d', { willReadFrequently: true });
  g.fillStyle = PAPER;
  g.fillRect(0, 0, PAD_SIZE, PAD_SIZE);
  for (const s of strokes) for (let i = 0; i < s.length; i++) inkLine(g, s[Math.max(0, i - 1)], s[i]);
  return g.getImageData(0, 0, PAD_SIZE, PAD_SIZE).data;
}
