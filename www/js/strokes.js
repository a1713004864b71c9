// A drawing as a list of strokes (polylines in pad coordinates 0..280), compact enough to live
// in the URL hash: each point is two bytes (coordinates halved), strokes are separated by 255,
// and the bytes are base64url. A shared link therefore carries the digit itself.

/** The pad's side in its own pixels: strokes are in 0 … PAD_SIZE on both axes. */
export const PAD_SIZE = 280;

/** Strokes → base64url string. */
export function encodeStrokes(strokes) {
  const bytes = [];
  for (const s of strokes) {
    if (bytes.length) bytes.push(255);
    let prev = null;
    for (const [x, y] of s) {
      const q = [clampByte(x / 2), clampByte(y / 2)];
      if (prev && prev[0] === q[0] && prev[1] === q[1]) continue;
      bytes.push(q[0], q[1]);
      prev = q;
    }
  }
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function clampByte(v) {
  return Math.max(0, Math.min(254, Math.round(v)));
}

/** base64url string → strokes, or null when the text is not a drawing. */
export function decodeStrokes(text) {
  if (!text || !/^[A-Za-z0-9_-]+$/.test(text)) return null;
  let bin;
  try {
    bin = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  } catch {
    return null;
  }
  const strokes = [];
  let cur = [];
  for (let i = 0; i < bin.length;) {
    const b = bin.charCodeAt(i);
    if (b === 255) {
      if (cur.length) strokes.push(cur);
      cur = [];
      i++;
      continue;
    }
    if (i + 1 >= bin.length) return null;
    cur.push([b * 2, bin.charCodeAt(i + 1) * 2]);
    i += 2;
  }
  if (cur.length) strokes.push(cur);
  return strokes.length ? strokes : null;
}

/**
 * A stroke exactly as the URL will store it: thinned, then every coordinate snapped to the
 * 2-px grid of the encoding. The pad redraws itself from these, so a shared link gives back
 * the very same pixels, hence the same numbers.
 */
export function snap(stroke) {
  return thin(stroke).map(([x, y]) => [2 * clampByte(x / 2), 2 * clampByte(y / 2)]);
}

/** Simplifies a stroke for storage: drops points closer than `tol` pad pixels to the last kept. */
export function thin(stroke, tol = 4) {
  if (stroke.length < 3) return stroke.slice();
  const out = [stroke[0]];
  for (let i = 1; i < stroke.length - 1; i++) {
    const [x, y] = stroke[i];
    const [px, py] = out[out.length - 1];
    if (Math.abs(x - px) + Math.abs(y - py) >= tol) out.push(stroke[i]);
  }
  out.push(stroke[stroke.length - 1]);
  return out;
}

// Hand-drawn digits in unit coordinates, the way a person draws them with a mouse: the
// "try an example" button draws one of these, placed and sized a little differently each time.
const EXAMPLES = {
  0: [[[0.52, 0.12], [0.36, 0.2], [0.26, 0.4], [0.27, 0.64], [0.38, 0.84], [0.55, 0.88], [0.7, 0.76], [0.76, 0.52], [0.72, 0.28], [0.62, 0.14], [0.5, 0.12]]],
  1: [[[0.4, 0.24], [0.54, 0.12], [0.54, 0.5], [0.54, 0.88]]],
  2: [[[0.28, 0.28], [0.38, 0.15], [0.56, 0.12], [0.7, 0.22], [0.7, 0.4], [0.56, 0.58], [0.38, 0.74], [0.26, 0.87], [0.5, 0.86], [0.76, 0.86]]],
  3: [[[0.3, 0.18], [0.48, 0.11], [0.66, 0.16], [0.7, 0.3], [0.6, 0.44], [0.46, 0.49], [0.62, 0.54], [0.72, 0.68], [0.66, 0.83], [0.48, 0.89], [0.28, 0.83]]],
  4: [[[0.56, 0.12], [0.42, 0.34], [0.28, 0.58], [0.5, 0.6], [0.76, 0.58]], [[0.62, 0.36], [0.62, 0.62], [0.62, 0.9]]],
  5: [[[0.7, 0.13], [0.4, 0.13], [0.36, 0.46], [0.54, 0.42], [0.7, 0.52], [0.72, 0.7], [0.62, 0.84], [0.44, 0.89], [0.28, 0.82]]],
  6: [[[0.64, 0.12], [0.46, 0.26], [0.32, 0.48], [0.3, 0.7], [0.4, 0.86], [0.56, 0.88], [0.68, 0.76], [0.66, 0.6], [0.52, 0.52], [0.38, 0.58], [0.31, 0.66]]],
  7: [[[0.26, 0.16], [0.5, 0.15], [0.74, 0.15], [0.62, 0.38], [0.52, 0.6], [0.44, 0.88]]],
  8: [[[0.64, 0.2], [0.5, 0.12], [0.34, 0.2], [0.36, 0.36], [0.5, 0.47], [0.66, 0.6], [0.66, 0.8], [0.5, 0.88], [0.34, 0.8], [0.34, 0.62], [0.5, 0.47], [0.64, 0.34], [0.64, 0.2]]],
  9: [[[0.66, 0.3], [0.56, 0.16], [0.4, 0.18], [0.34, 0.34], [0.44, 0.46], [0.6, 0.42], [0.67, 0.3], [0.64, 0.56], [0.6, 0.88]]],
};

/** A smooth curve through the points (Catmull–Rom, `n` steps per segment), as a hand would draw it. */
function smooth(pts, n = 6) {
  if (pts.length < 3) return pts;
  const out = [];
  const p = (i) => pts[Math.max(0, Math.min(pts.length - 1, i))];
  for (let i = 0; i < pts.length - 1; i++) {
    const [a, b, c, d] = [p(i - 1), p(i), p(i + 1), p(i + 2)];
    for (let s = 0; s < n; s++) {
      const t = s / n;
      const t2 = t * t;
      const t3 = t2 * t;
      out.push([0, 1].map((k) => 0.5 * ((2 * b[k]) + (-a[k] + c[k]) * t + (2 * a[k] - 5 * b[k] + 4 * c[k] - d[k]) * t2 + (-a[k] + 3 * b[k] - 3 * c[k] + d[k]) * t3)));
    }
  }
  out.push(pts[pts.length - 1]);
  return out;
}

/** Example digit `d` as strokes in pad coordinates, scaled by `size` (0..1) around (cx, cy). */
export function example(d, { size = 0.72, cx = 0.5, cy = 0.5 } = {}) {
  return EXAMPLES[d].map((s) => smooth(s).map(([x, y]) => [PAD_SIZE * (cx + (x - 0.5) * size), PAD_SIZE * (cy + (y - 0.5) * size)]));
}
