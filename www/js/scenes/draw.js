// Scene "Draw a digit": a pad, the live answer of the shipped CNN, the 28×28 image it sees,
// every layer's activations and kernels, and for any clicked cell the dot product behind it.
// Every number comes from the wasm model; this file wires views to it.

import { Scene, el } from './base.js';
import { Pad, PAD_SIZE } from '../views/pad.js';
import { ProbBars } from '../views/probs.js';
import { Heatmap } from '../views/heatmap.js';
import { LayerStack } from '../views/layers.js';
import { explain, receptiveField } from '../views/dot.js';
import { NetInfo } from '../netinfo.js';
import { encodeStrokes, decodeStrokes, snap, example } from '../strokes.js';

const TIMES_KEPT = 15;

export class DrawScene extends Scene {
  static id = 'draw';

  constructor(root, ctx) {
    super(root, ctx);
    this.fwd = null;
    this.input = null;
    this.pick = null;
    this.times = [];
    this.pending = false; // a finished stroke still to share with the other scenes and the URL
    this.exampleIndex = 0;
    this.version = -1; // the shared drawing this pad shows
    this.build();
    this.ready = this.load();
  }

  build() {
    const r = this.root;
    r.append(el('div.intro', {},
      el('h2', { text: 'Draw a digit' }),
      el('p', { text: 'Draw any digit from 0 to 9 on the pad. A small convolutional network, running in your browser, answers while you draw, and every layer shows what it computed: each conv layer slides small kernels over the image before it, so its channels light up where a kernel\'s pattern appears. Click any cell to see the window, the kernel and the sum that made its number.' })));

    const top = el('div.draw-top');
    r.append(top);

    const padCard = el('div.card.padcard');
    const padWrap = el('div.padwrap');
    padCard.append(padWrap);
    this.pad = new Pad(padWrap, {
      label: 'Drawing pad: draw a digit with the mouse, a finger or a pen',
      onChange: () => this.infer(),
      onStrokeEnd: () => this.committed(),
    });
    this.hint = el('p.padhint', { text: 'Draw here', 'aria-hidden': 'true' });
    padWrap.append(this.hint);
    padCard.append(el('div.buttons', {},
      el('button#clear', { type: 'button', text: 'Clear', 'aria-label': 'Clear the pad (key C)', onclick: () => this.clear() }),
      el('button#example.secondary', { type: 'button', text: 'Try an example', 'aria-label': 'Draw an example digit (key E)', onclick: () => this.example() })));
    top.append(padCard);

    const answer = el('div.card.answer');
    // The answer changes every frame while drawing; screen readers hear it once per stroke (this.said).
    this.prediction = el('output#prediction', { 'data-digit': '', 'aria-live': 'off', 'aria-label': 'Prediction' });
    this.said = el('p.sr-only', { role: 'status', 'aria-live': 'polite' });
    this.predDigit = el('span.big', { text: '?' });
    this.predText = el('span.conf', { text: 'nothing drawn yet' });
    this.prediction.append(this.predDigit, this.predText);
    answer.append(el('h3', { text: 'The network says' }), this.prediction, this.said);
    this.probs = new ProbBars(answer);
    this.timing = el('p#timing.timing', { text: ' ' });
    this.source = el('p#model-source.small', { text: '' });
    answer.append(this.timing, this.source);
    top.append(answer);

    const seen = el('div.card.seen');
    seen.append(el('h3', { text: 'What it sees' }));
    const fig = el('figure.inputfig');
    this.inputMap = new Heatmap(fig, { label: 'The 28 × 28 input the network receives', signed: false, size: 168 });
    this.inputMap.update({ data: new Float32Array(784), h: 28, w: 28, scale: 1 });
    fig.append(el('figcaption', { text: '28 × 28 input, 0 to 1' }));
    seen.append(fig, el('p.small', { text: 'As MNIST was made: the ink is cropped, scaled so its longer side is 20 pixels, and placed so that its centre of mass is the centre of a 28 × 28 square.' }));
    top.append(seen);

    this.layersHead = el('div.layers-intro', {},
      el('h3', { text: 'Every layer' }),
      el('p', { text: 'One square per channel; red is positive, blue negative, white zero. Click a cell (or focus a map and use the arrow keys) to see how it was computed and which pixels of the input it can see.' }));
    r.append(this.layersHead);
    this.status = el('p.status', { role: 'status', text: 'loading the cnn model…' });
    r.append(this.status);
  }

  async load() {
    try {
      const model = await this.shared.model('cnn');
      this.net = new NetInfo(model);
    } catch (err) {
      this.status.textContent = `The model could not be loaded: ${err.message}`;
      console.error(err);
      return;
    }
    this.status.remove();
    this.stack = new LayerStack(this.root, this.net, { onPick: (p) => this.select(p) });
    this.stack.update(null);
    this.showSource();
    this.infer();
    this.warmUp();
    this.shared.addEventListener('model', (e) => { if (e.detail.arch === 'cnn') this.ready = this.reload(); });
  }

  /** Says when the cnn is not the shipped one. */
  showSource() {
    const source = this.shared.modelSource('cnn');
    this.source.textContent = source ? `Running the cnn ${source}.` : '';
  }

  /** Runs the model the page now uses for the cnn (trained on the Train scene, or a file). */
  async reload() {
    const model = await this.shared.model('cnn');
    this.net = new NetInfo(model);
    this.stack.root.remove();
    this.stack = new LayerStack(this.root, this.net, { onPick: (p) => this.select(p) });
    this.stack.update(null);
    this.pick = null;
    this.showSource();
    this.times = [];
    this.infer();
  }

  /**
   * Nothing is timed until the wasm runs optimised code: the first calls of a fresh instance
   * run the baseline compiler's code (about 30× slower) until the optimised code arrives from
   * a background thread, and a shared link's first time would show that. Blank forwards in
   * small batches (yielding between them) until the last ten are within 2× of the fastest.
   */
  async warmUp() {
    const blank = new Float32Array(784);
    const t0 = performance.now();
    const recent = [];
    let best = Infinity;
    let calls = 0;
    while (performance.now() - t0 < 5000) {
      const a = performance.now();
      this.net.forward(blank);
      const us = (performance.now() - a) * 1000;
      calls++;
      best = Math.min(best, us);
      recent.push(us);
      if (recent.length > 10) recent.shift();
      if (calls >= 20 && Math.max(...recent) < 2 * best) break;
      if (calls % 10 === 0) await new Promise((r) => setTimeout(r, 0));
    }
    this.timing.dataset.warmup = String(calls);
    this.warm = true;
    this.times = [];
    this.infer();
  }

  /** One live inference: preprocess (wasm), forward (wasm), then draw. */
  infer() {
    if (!this.net) return;
    this.hint.hidden = !this.pad.empty;
    const input = this.pad.empty ? null : this.api.preprocess(this.pad.pixels(), PAD_SIZE, PAD_SIZE);
    this.fwd?.free?.();
    this.fwd = null;
    this.input = input ?? null;
    if (this.pending && this.pad.live.size === 0) {
      this.pending = false;
      this.shared.setDigit(this.input, this.pad.empty ? null : this.pad.paths);
      this.version = this.shared.version;
      this.ctx.changed();
      this.announce = true;
    }
    if (!input) {
      this.prediction.dataset.digit = '';
      this.predDigit.textContent = '?';
      this.predText.textContent = 'nothing drawn yet';
      this.probs.update(null);
      if (this.announce) this.said.textContent = 'The pad is empty.';
      this.announce = false;
      this.inputMap.update({ data: new Float32Array(784), h: 28, w: 28, scale: 1 });
      this.stack.update(null);
      this.showPick();
      return;
    }
    const { fwd, us } = this.net.forward(input);
    this.fwd = fwd;
    if (this.warm) this.times.push(us);
    if (this.times.length > TIMES_KEPT) this.times.shift();
    const p = Float32Array.from(fwd.probabilities());
    const top = fwd.top();
    this.prediction.dataset.digit = String(top);
    this.predDigit.textContent = String(top);
    this.predText.textContent = `${(100 * p[top]).toFixed(1)}% sure`;
    this.probs.update(p, top);
    if (this.announce) this.said.textContent = `The network reads a ${top}, ${(100 * p[top]).toFixed(0)} percent sure.`;
    this.announce = false;
    this.inputMap.update({ data: input, h: 28, w: 28, scale: 1 });
    this.stack.update(fwd);
    if (!this.times.length) {
      this.timing.textContent = 'One forward pass: warming up the wasm before timing it…';
    } else {
      const sorted = [...this.times].sort((a, b) => a - b);
      const med = sorted[(sorted.length - 1) >> 1];
      this.timing.dataset.us = String(med);
      this.timing.dataset.samples = String(sorted.length);
      this.timing.textContent = `One forward pass: ${med < 10 ? med.toFixed(1) : med.toFixed(0)} µs (median of the last ${sorted.length}, timed around the one wasm call)`;
    }
    this.showPick();
  }

  select(pick) {
    this.pick = pick;
    this.showPick();
    this.ctx.changed();
  }

  /** Redraws the explanation of the picked cell and the receptive-field outlines. */
  showPick() {
    if (!this.stack) return;
    for (const s of this.root.querySelectorAll('.detail-slot')) s.replaceChildren();
    const marks = new Map();
    const p = this.pick;
    if (!p || !this.fwd) {
      this.stack.mark(marks);
      this.inputMap.mark([]);
      return;
    }
    const slot = this.stack.slot(p.layer);
    const { node } = explain(this.net, this.fwd, this.input, p);
    const close = el('button.close', { type: 'button', text: '×', 'aria-label': 'Close the explanation (Escape)', onclick: () => this.select(null) });
    node.prepend(close);
    slot.append(node);
    marks.set(p.layer, [{ c: p.c, y0: p.y, x0: p.x, y1: p.y, x1: p.x, kind: 'cell' }]);
    const l = this.net.layers[p.layer];
    const field = receptiveField(this.net, p.layer, p.y, p.x);
    let inputRect = null;
    for (const [j, r] of field) {
      const own = l.kind === 'conv2d' || j < p.layer - 1 ? null : p.c;
      const kind = j === p.layer - 1 ? 'window' : 'field';
      if (j === -1) inputRect = { ...r, kind };
      else marks.set(j, [{ ...r, c: own, kind }]);
    }
    this.stack.mark(marks);
    this.inputMap.mark(inputRect ? [inputRect] : []);
  }

  /** A stroke ended: snap the drawing to what the URL stores, then infer and share it. */
  committed() {
    if (this.pad.live.size) return;
    this.pad.setPaths(this.pad.paths.map(snap));
    this.pending = true;
    this.pad.changed();
  }

  clear() {
    this.pad.clear(false);
    this.pick = null;
    this.committed();
  }

  example() {
    const d = this.exampleIndex++ % 10;
    const jitter = [[0.5, 0.5, 0.72], [0.42, 0.55, 0.55], [0.58, 0.45, 0.85], [0.5, 0.6, 0.45]][d % 4];
    this.pad.setPaths(example(d, { cx: jitter[0], cy: jitter[1], size: jitter[2] }));
    this.committed();
  }

  getState() {
    const s = {};
    if (!this.pad.empty) s.d = encodeStrokes(this.pad.paths);
    if (this.pick && this.net) {
      const p = this.pick;
      s.cell = `${this.net.layers[p.layer].name}.${p.c}.${p.y}.${p.x}`;
    }
    return s;
  }

  async setState(params) {
    const strokes = decodeStrokes(params.d);
    if (strokes) this.pad.setPaths(strokes);
    await this.ready;
    if (strokes) {
      this.infer();
      this.shared.setDigit(this.input, strokes);
      this.version = this.shared.version;
    }
    if (params.cell && this.net) {
      const [name, ...nums] = params.cell.split('.');
      const layer = this.net.layers.findIndex((l) => l.name === name);
      const [c, y, x] = nums.map(Number);
      const g = this.net.layers[layer]?.out;
      if (g && [c, y, x].every(Number.isInteger) && c >= 0 && c < g.c && y >= 0 && y < g.h && x >= 0 && x < g.w) {
        this.pick = { layer, c, y, x };
        this.showPick();
      }
    }
  }

  async show() {
    // Another scene may have set the drawing (a shared #templates link, say): show it here.
    if (this.shared.version !== this.version && this.shared.strokes) {
      this.version = this.shared.version;
      this.pad.setPaths(this.shared.strokes);
      await this.ready;
      this.infer();
    }
  }

  onKey(e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return false;
    if (e.key === 'c' || e.key === 'C') { this.clear(); return true; }
    if (e.key === 'e' || e.key === 'E') { this.example(); return true; }
    if (e.key === 'Escape' && this.pick) { this.select(null); return true; }
    return false;
  }
}
