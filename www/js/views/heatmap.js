// Heatmaps: a 2-D array of numbers drawn on a canvas, one square per value. Values come from
// the wasm API; this file only maps numbers to colours.

/** Diverging blue–white–red for signed data, white→ink for non-negative data. */
export function colour(v, scale, signed) {
  const t = scale > 0 ? Math.max(-1, Math.min(1, v / scale)) : 0;
  if (!signed) {
    const c = Math.round(255 * (1 - Math.max(0, t)));
    return [c, c, c];
  }
  if (t >= 0) {
    const c = Math.round(255 * (1 - t));
    return [255, c, Math.round(c * 0.9 + 20 * t)];
  }
  const c = Math.round(255 * (1 + t));
  return [c, Math.round(c * 0.95 + 30 * -t), 255];
}

/** Largest |value| in a range of an array (the colour scale). */
export function absMax(data, start = 0, len = data.length - start) {
  let m = 0;
  for (let i = start; i < start + len; i++) {
    const a = Math.abs(data[i]);
    if (a > m) m = a;
  }
  return m;
}

/**
 * A canvas showing an h×w slice of `data` starting at `offset`. The canvas has one pixel per
 * value and is scaled up by CSS with crisp edges, so it stays sharp at any size.
 */
export class Heatmap {
  constructor(container, { label = '', signed = true, size = 112 } = {}) {
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'heatmap';
    this.canvas.setAttribute('role', 'img');
    if (label) this.canvas.setAttribute('aria-label', label);
    this.canvas.style.width = `${size}px`;
    this.signed = signed;
    container.append(this.canvas);
  }

  /** Draws `data[offset .. offset + h*w]`; `scale` defaults to the slice's largest |value|. */
  update({ data, h, w, offset = 0, scale }) {
    const c = this.canvas;
    if (c.width !== w || c.height !== h) { c.width = w; c.height = h; }
    const ctx = c.getContext('2d');
    const img = ctx.createImageData(w, h);
    const s = scale ?? absMax(data, offset, h * w);
    for (let i = 0; i < h * w; i++) {
      const [r, g, b] = colour(data[offset + i], s, this.signed);
      img.data[4 * i] = r;
      img.data[4 * i + 1] = g;
      img.data[4 * i + 2] = b;
      img.data[4 * i + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }
}
