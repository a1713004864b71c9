// Line charts of training: x = samples seen, y = a value per series (loss, accuracy). The
// points come from the trainer in wasm; this view only scales them to the canvas.

import { el, grouped } from '../dom.js';

export class Curves {
  /**
   * `series`: [{ key, label, colour, dots }]; `yMin`/`yMax` fix the axis (else it fits the
   * data from 0). `format(y)` labels the axis ends.
   */
  constructor(container, { title, series, yMin = 0, yMax = null, format = (y) => y.toFixed(2), height = 150 }) {
    this.series = series;
    this.yMin = yMin;
    this.yMax = yMax;
    this.format = format;
    this.box = el('figure.curves');
    this.canvas = el('canvas', { role: 'img', 'aria-label': title, height: String(height), width: '400' });
    const legend = el('figcaption.curves-key', {},
      el('strong', { text: title }),
      ...series.map((s) => {
        const swatch = el('i');
        swatch.style.background = s.colour; // CSSOM, which the page's CSP allows (a style attribute it does not)
        return el('span.key', {}, swatch, s.label);
      }));
    this.box.append(this.canvas, legend);
    container.append(this.box);
    this.points = Object.fromEntries(series.map((s) => [s.key, []]));
  }

  add(key, x, y) {
    if (!Number.isFinite(y)) return;
    const p = this.points[key];
    p.push([x, y]);
    // Keep the chart light: past 2,000 points, thin to every other one.
    if (p.length > 2000) this.points[key] = p.filter((_, i) => i % 2 === 0 || i === p.length - 1);
  }

  clear() {
    for (const k of Object.keys(this.points)) this.points[k] = [];
    this.draw();
  }

  /** Drops every point after `x` samples (a run rewound to there goes on from it). */
  truncate(x) {
    for (const k of Object.keys(this.points)) this.points[k] = this.points[k].filter((p) => p[0] <= x);
  }

  /**
   * Replays the run up to `x` samples: the curves as they stood then, the rest faded, and a
   * line at `x` (null: the whole run, as it stands now).
   */
  setCursor(x) {
    this.cursor = x;
    this.box.dataset.cursor = x === null ? '' : String(x);
  }

  draw() {
    const c = this.canvas;
    const wCss = c.clientWidth || 400;
    const dpr = window.devicePixelRatio || 1;
    const W = Math.round(wCss * dpr);
    const H = Math.round((c.clientHeight || 150) * dpr);
    if (c.width !== W || c.height !== H) { c.width = W; c.height = H; }
    const ctx = c.getContext('2d');
    ctx.clearRect(0, 0, W, H);
    const all = Object.values(this.points).flat();
    this.box.dataset.points = String(all.length); // a hook for tests: how many points are drawn
    const xMax = Math.max(1, ...all.map((p) => p[0]));
    const yMax = this.yMax ?? Math.max(1e-6, ...all.map((p) => p[1]));
    const yMin = this.yMin;
    const padL = 44 * dpr;
    const padB = 18 * dpr;
    const padT = 6 * dpr;
    const X = (x) => padL + ((W - padL - 6 * dpr) * x) / xMax;
    const Y = (y) => padT + (H - padT - padB) * (1 - (Math.min(Math.max(y, yMin), yMax) - yMin) / (yMax - yMin || 1));
    ctx.strokeStyle = '#c9c9c9';
    ctx.lineWidth = dpr;
    ctx.beginPath();
    ctx.moveTo(padL, padT);
    ctx.lineTo(padL, H - padB);
    ctx.lineTo(W, H - padB);
    ctx.stroke();
    ctx.fillStyle = '#555';
    ctx.font = `${11 * dpr}px system-ui, sans-serif`;
    ctx.textAlign = 'right';
    ctx.fillText(this.format(yMax), padL - 4 * dpr, padT + 10 * dpr);
    ctx.fillText(this.format(yMin), padL - 4 * dpr, H - padB);
    ctx.textAlign = 'left';
    ctx.fillText('0', padL, H - 4 * dpr);
    ctx.textAlign = 'right';
    ctx.fillText(`${grouped(xMax)} samples`, W - 4 * dpr, H - 4 * dpr);
    const cur = this.cursor ?? null;
    this.box.dataset.pointsShown = String(cur === null ? all.length : all.filter((p) => p[0] <= cur).length);
    if (cur !== null) {
      ctx.strokeStyle = '#333';
      ctx.lineWidth = dpr;
      ctx.setLineDash([4 * dpr, 3 * dpr]);
      ctx.beginPath();
      ctx.moveTo(X(cur), padT);
      ctx.lineTo(X(cur), H - padB);
      ctx.stroke();
      ctx.setLineDash([]);
    }
    // Up to the cursor at full strength; after it faded (what came later).
    for (const [part, alpha] of cur === null ? [[null, 1]] : [['then', 1], ['later', 0.18]]) {
      ctx.globalAlpha = alpha;
      this.drawSeries(ctx, part, cur, X, Y, dpr);
    }
    ctx.globalAlpha = 1;
  }

  /** Draws every series' points (`part`: 'then', up to `cur`; 'later', from it; null: all). */
  drawSeries(ctx, part, cur, X, Y, dpr) {
    for (const s of this.series) {
      let p = this.points[s.key];
      if (part === 'then') p = p.filter((q) => q[0] <= cur);
      else if (part === 'later') {
        const i = p.findIndex((q) => q[0] > cur);
        p = i < 0 ? [] : p.slice(Math.max(0, i - 1));
      }
      ctx.strokeStyle = s.colour;
      ctx.fillStyle = s.colour;
      ctx.lineWidth = 1.5 * dpr;
      if (s.dots) {
        for (const [x, y] of p) {
          ctx.beginPath();
          ctx.arc(X(x), Y(y), 3 * dpr, 0, 2 * Math.PI);
          ctx.fill();
        }
        continue;
      }
      ctx.beginPath();
      p.forEach(([x, y], i) => (i ? ctx.lineTo(X(x), Y(y)) : ctx.moveTo(X(x), Y(y))));
      ctx.stroke();
    }
  }
}
