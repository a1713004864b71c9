// Mouse strokes made from MNIST test digits: read data/mnist/t10k-*.gz with zlib, thin each
// digit's ink to a one-pixel skeleton (Zhang–Suen), then follow the skeleton into polylines
// that a test replays as mouse drags on the pad, at any place and size.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

let cache = null;

/** The MNIST test set: { images: Uint8Array(n·784), labels: Uint8Array(n), n }. */
export function mnistTest() {
  if (cache) return cache;
  const img = gunzipSync(readFileSync(path.join(ROOT, 'data/mnist/t10k-images-idx3-ubyte.gz')));
  const lab = gunzipSync(readFileSync(path.join(ROOT, 'data/mnist/t10k-labels-idx1-ubyte.gz')));
  if (img.readUInt32BE(0) !== 2051 || lab.readUInt32BE(0) !== 2049) throw new Error('bad MNIST magic');
  const n = img.readUInt32BE(4);
  cache = { images: img.subarray(16), labels: lab.subarray(8), n };
  return cache;
}

/** Index of the `k`-th test image of class `d`. */
export function indexOf(d, k = 0) {
  const { labels, n } = mnistTest();
  for (let i = 0; i < n; i++) if (labels[i] === d && k-- === 0) return i;
  throw new Error(`no test digit ${d}`);
}

/** Zhang–Suen thinning of a 28×28 binary image (array of 0/1), in place. */
function thinImage(b) {
  const at = (x, y) => (x < 0 || y < 0 || x >= 28 || y >= 28 ? 0 : b[y * 28 + x]);
  let changed = true;
  while (changed) {
    changed = false;
    for (const pass of [0, 1]) {
      const del = [];
      for (let y = 0; y < 28; y++) {
        for (let x = 0; x < 28; x++) {
          if (!b[y * 28 + x]) continue;
          const p = [at(x, y - 1), at(x + 1, y - 1), at(x + 1, y), at(x + 1, y + 1), at(x, y + 1), at(x - 1, y + 1), at(x - 1, y), at(x - 1, y - 1)];
          const nb = p.reduce((a, v) => a + v, 0);
          let trans = 0;
          for (let i = 0; i < 8; i++) if (!p[i] && p[(i + 1) % 8]) trans++;
          const [p2, , p4, , p6, , p8] = p;
          const ok = pass === 0 ? !(p2 && p4 && p6) && !(p4 && p6 && p8) : !(p2 && p4 && p8) && !(p2 && p6 && p8);
          if (nb >= 2 && nb <= 6 && trans === 1 && ok) del.push(y * 28 + x);
        }
      }
      for (const i of del) b[i] = 0;
      if (del.length) changed = true;
    }
  }
  return b;
}

/** The skeleton of test image `i` as polylines of [x, y] in MNIST pixel units (0..27). */
export function skeletonStrokes(i, threshold = 96) {
  const { images } = mnistTest();
  const px = images.subarray(i * 784, (i + 1) * 784);
  const b = thinImage(Array.from(px, (v) => (v >= threshold ? 1 : 0)));
  const on = (x, y) => x >= 0 && y >= 0 && x < 28 && y < 28 && b[y * 28 + x] === 1;
  const N8 = [[1, 0], [0, 1], [-1, 0], [0, -1], [1, 1], [-1, 1], [1, -1], [-1, -1]];
  const degree = (x, y) => N8.filter(([dx, dy]) => on(x + dx, y + dy)).length;
  const seen = new Set();
  const edge = (a, b2) => (a < b2 ? `${a}-${b2}` : `${b2}-${a}`);
  const strokes = [];
  // Walk unvisited edges, starting from end points first so strokes run end to end.
  const starts = [];
  for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) if (on(x, y)) starts.push([degree(x, y) === 1 ? 0 : 1, x, y]);
  starts.sort((a, c) => a[0] - c[0]);
  for (const [, sx, sy] of starts) {
    for (;;) {
      let x = sx;
      let y = sy;
      const line = [[x, y]];
      for (;;) {
        const next = N8.map(([dx, dy]) => [x + dx, y + dy]).find(([nx, ny]) => on(nx, ny) && !seen.has(edge(y * 28 + x, ny * 28 + nx)));
        if (!next) break;
        seen.add(edge(y * 28 + x, next[1] * 28 + next[0]));
        [x, y] = next;
        line.push([x, y]);
      }
      if (line.length < 2) break;
      strokes.push(line);
    }
  }
  // A lone pixel (a dot) is a stroke of its own.
  if (!strokes.length) for (const [, x, y] of starts) strokes.push([[x, y]]);
  return strokes;
}

/**
 * Replays strokes as mouse drags on the pad. `place` = { size: the digit's 28-px box as a
 * fraction of the pad, cx, cy: the box centre as fractions of the pad }.
 */
export async function drawStrokes(page, strokes, { size = 0.8, cx = 0.5, cy = 0.5 } = {}) {
  const box = await page.locator('#pad').boundingBox();
  const s = (box.width * size) / 28;
  const ox = box.x + box.width * cx - 14 * s;
  const oy = box.y + box.height * cy - 14 * s;
  for (const line of strokes) {
    const pts = line.map(([x, y]) => [ox + (x + 0.5) * s, oy + (y + 0.5) * s]);
    await page.mouse.move(pts[0][0], pts[0][1]);
    await page.mouse.down();
    for (const [x, y] of pts.slice(1)) await page.mouse.move(x, y);
    if (pts.length === 1) await page.mouse.move(pts[0][0] + 1, pts[0][1]);
    await page.mouse.up();
  }
}
