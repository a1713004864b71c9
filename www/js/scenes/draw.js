// Scene "Draw a digit": a pad and the live answer of the shipped CNN beside every layer of it
// on one screen (the 28×28 input, conv1 … softmax, all channels), updating while you draw; for
// any clicked or hovered cell, its receptive field lit up on every layer before and, in the
// explanation panel, the window, weights and sum that made it (`forward.explain` in wasm).
// Every number comes from the wasm model; this file wires views to it.

import { Scene, el } from '../scene.js';
import { Pad, PAD_SIZE } from '../views/pad.js';
import { ProbBars } from '../views/probs.js';
import { Network, kernels } from '../views/layers.js';
import { Heatmap } from '../views/heatmap.js';
import { ExplainView } from '../views/dot.js';
import { NetInfo } from '../netinfo.js';
import { encodeStrokes, decodeStrokes, snap, example } from '../strokes.js';
import { custom, readLink, writeLink } from '../schema.js';
import { CodeView } from '../views/code.js';
import { ShowMe } from '../views/showme.js';
import { setDisabled } from '../views/disabled.js';
import { grouped } from '../dom.js';

const TIMES_KEPT = 15;

/**
 * "Show me": the scene's idea and its scripted run, in one place. Each stop names what the
 * scene does there (`at`); the cells are the ones the forward pass reports (`Forward.peak`: the
 * most active cell of a layer), never coordinates chosen here.
 */
const SHOW_ME = {
  idea: 'Every cell of every layer is a small sum over a window of the layer before it: pick any cell and follow it back to the pixels that made it.',
  stops: [
    { at: 'draw', caption: 'A digit is drawn: every layer answers at once, left to right, and the last one reads the digit.' },
    { at: 'conv1', caption: 'The most active conv1 cell: its 5×5 window on the input times the kernel, summed, plus the bias.' },
    { at: 'conv2', caption: 'The most active conv2 cell reads a 5×5 window of all 8 pool1 channels: through the pool its field on the input grows to 14×14.' },
    { at: 'fc2', caption: 'The winning fc2 score: a dot product with all 64 relu3 values, themselves fed by every flatten value (nothing dimmed).' },
  ],
};

/** The digit the run draws (one of strokes.js's examples) and where. */
const SHOW_ME_DIGIT = { digit: 3, place: { cx: 0.5, cy: 0.5, size: 0.75 } };

/** What the key explains: every outline style, the lines and the dimming. */
const KEY = [
  ['cell', 'picked cell'],
  ['window', 'window it read'],
  ['line', 'lines lead to the cells that made it'],
  ['field', 'dashed: its field further back'],
  ['dim', 'faded: does not feed it'],
  ['num', 'channel number'],
];

/**
 * The scene's settings as a link keeps them: the drawing (its strokes) and the picked cell
 * (`<layer>.<channel>.<y>.<x>`, checked against the network once it is loaded: a cell outside
 * its layer opens as the nearest one, with a note).
 */
export const SCHEMA = [
  custom('drawing=d', 'The drawing', decodeStrokes, encodeStrokes, null, 'is not one this page wrote', 'an empty pad'),
  custom('cell', 'The picked cell', (t) => (/^[a-z0-9_]+(\.-?\d+){3}$/i.test(t) ? t : null), (v) => v, null, 'is not <layer>.<channel>.<y>.<x>', 'no cell picked'),
];

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
    const head = el('div.draw-head', {}, el('h2', { text: 'Draw a digit' }));
    r.append(head);
    this.showMe = new ShowMe(head, {
      id: 'draw',
      idea: SHOW_ME.idea,
      stops: SHOW_ME.stops.map((s) => ({ caption: s.caption, go: (run) => this.showMeAt(s.at, run) })),
      scope: r,
    });

    const grid = el('div.draw-grid');
    r.append(grid);
    const left = el('div.card.padcard');
    grid.append(left);
    const padWrap = el('div.padwrap');
    this.pad = new Pad(padWrap, {
      label: 'Drawing pad: draw a digit with the mouse, a finger or a pen',
      onChange: () => this.infer(),
      onStrokeEnd: () => this.committed(),
    });
    this.hint = el('p.padhint', { text: 'Draw here', 'aria-hidden': 'true' });
    padWrap.append(this.hint);
    const padCol = el('div.padcol', {}, padWrap, el('div.buttons', {},
      el('button#clear', { type: 'button', text: 'Clear', 'aria-label': 'Clear the pad (key C)', onclick: () => this.clear() }),
      el('button#example.secondary', { type: 'button', text: 'Example', 'aria-label': 'Draw an example digit (key E)', onclick: () => this.example() })));

    const answer = el('div.answer');
    // The answer changes every frame while drawing; screen readers hear it once per stroke (this.said).
    this.prediction = el('output#prediction', { 'data-digit': '', 'aria-live': 'off', 'aria-label': 'Prediction' });
    this.said = el('p.sr-only', { role: 'status', 'aria-live': 'polite' });
    this.predDigit = el('span.big', { text: '?' });
    this.predText = el('span.conf', { text: 'nothing drawn yet' });
    this.prediction.append(this.predDigit, this.predText);
    answer.append(el('h3', { text: 'The network says' }), this.prediction, this.said);
    this.probs = new ProbBars(answer);
    // A model whose output is a map (an autoencoder's reconstruction) shows it here instead.
    this.outputFig = el('figure#output-map.output-map', { hidden: true });
    this.outputMap = new Heatmap(this.outputFig, { signed: false, size: 168 });
    this.outputCaption = el('figcaption');
    this.outputFig.append(this.outputCaption);
    answer.append(this.outputFig);
    left.append(padCol, answer);
    this.timing = el('p#timing.timing', { text: ' ' });
    this.source = el('p#model-source.small', { text: '' });
    // "Your model": an .onnx or .safetensors file, chosen here or dropped on the pad.
    this.fileInput = el('input#model-file', { type: 'file', accept: '.onnx,.safetensors', 'aria-label': 'Open your own model: an .onnx or .safetensors file', 'aria-describedby': 'model-file-help' });
    this.fileInput.onchange = () => { const f = this.fileInput.files?.[0]; if (f) this.openFile(f); this.fileInput.value = ''; };
    this.btnShipped = el('button#model-reset.secondary', { type: 'button', text: 'Back to the shipped cnn', hidden: true, onclick: () => this.useOwn(null) });
    this.modelNote = el('p#model-note.small', { role: 'status', 'aria-live': 'polite' });
    const own = el('details#your-model.your-model', {},
      el('summary', { text: 'Your model' }),
      el('label.filepick', {}, el('span', { text: 'Open an .onnx or .safetensors file ' }), this.fileInput),
      el('p#model-file-help.small', { text: 'Or drop it on the pad. A network exported from PyTorch (see the README) runs here layer by layer; a picture dropped on the pad becomes its input.' }),
      this.btnShipped, this.modelNote);
    left.append(this.timing, this.source, own);
    padWrap.addEventListener('dragover', (e) => { e.preventDefault(); padWrap.classList.add('dropping'); });
    padWrap.addEventListener('dragleave', () => padWrap.classList.remove('dropping'));
    padWrap.addEventListener('drop', (e) => {
      e.preventDefault();
      padWrap.classList.remove('dropping');
      const f = e.dataTransfer?.files?.[0];
      if (!f) return;
      if (/\.(onnx|safetensors)$/i.test(f.name)) this.openFile(f);
      else if (/^image\//.test(f.type)) this.dropImage(f);
      else this.modelNote.textContent = `${f.name} is neither a model (.onnx, .safetensors) nor a picture.`;
    });

    this.right = el('div.netcol');
    grid.append(this.right);
    this.status = el('p.status', { role: 'status', text: 'loading the cnn model…' });
    this.right.append(this.status);
    this.note = el('p.cs-note', { id: 'draw-note', role: 'status', 'aria-live': 'polite' });
    r.append(this.note);
    this.more = el('section.draw-more', { 'aria-label': 'About this network' },
      el('p', { text: 'A small convolutional network answers while you draw; every layer shows what it computed, left to right. Click any cell to see what made it: the panel under the network enlarges its channel (pick cells there), shows the window it read and the sum. ' }),
      el('p', { text: 'Each conv layer slides small kernels over the layer before it, so its channels light up where a kernel\'s pattern appears; ReLU keeps the positive part; pooling keeps the largest value of each 2×2 block; the dense layers take a dot product with everything before them. The input is made as MNIST was made: the ink is cropped, scaled so its longer side is 20 pixels, and centred by its centre of mass in a 28 × 28 square. Colours: one diverging scale for signed values (blue negative, white 0, red positive) and paper-to-ink for values that cannot be negative, with each layer\'s end numbers under it.' }));
    r.append(this.more);
  }

  async load() {
    try {
      const model = this.own?.model ?? await this.shared.model('cnn');
      this.net = new NetInfo(model);
    } catch (err) {
      this.status.textContent = `The model could not be loaded: ${err.message}`;
      console.error(err);
      return;
    }
    this.status.remove();
    this.buildNetwork();
    this.showSource();
    this.infer();
    this.warmUp();
    this.shared.addEventListener('model', (e) => {
      // A model trained on the Train scene: the cnn, or a design of its architecture editor.
      if (e.detail.arch === 'custom') this.own = { model: this.shared.customModel, source: e.detail.source };
      if (e.detail.arch === 'cnn' || e.detail.arch === 'custom') this.ready = this.reload();
    });
  }

  /** Says which model runs when it is not the shipped cnn. */
  showSource() {
    const source = this.own ? this.own.source : this.shared.modelSource('cnn');
    const shape = this.net.inputShape.join(' × ');
    this.source.textContent = this.own
      ? `Running ${source}: input ${shape}, ${this.net.layers.length} layers, ${grouped(this.net.model.numParams)} parameters.`
      : source ? `Running the cnn ${source}.` : '';
    this.btnShipped.hidden = !this.own;
    // Show me's moments and captions are the shipped cnn's (its conv1, conv2, fc2).
    setDisabled(this.showMe.playBtn, this.own ? 'Show me follows the shipped cnn: go back to it first (Back to the shipped cnn)' : null);
  }

  /** Opens a model file (ONNX or safetensors) and runs it instead of the shipped cnn. */
  async openFile(file) {
    let model;
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      model = this.api.Model.load(bytes);
    } catch (err) {
      this.modelNote.dataset.error = err.message;
      this.modelNote.textContent = `${file.name} was not loaded: ${err.message}`;
      return;
    }
    this.modelNote.dataset.error = '';
    this.modelNote.textContent = `${file.name} loaded.`;
    await this.useOwn({ model, source: `your model ${file.name}` });
  }

  /** Runs `own` ({ model, source }), or the shipped cnn again (null). */
  async useOwn(own) {
    const old = this.own?.model;
    this.own = own;
    this.image = null;
    await (this.ready = this.reload());
    if (old && old !== own?.model && old !== this.shared.customModel) old.free();
    if (!own) this.modelNote.textContent = 'Back to the shipped cnn.';
  }

  /** A picture dropped on the pad: the model's input until the pad is drawn on or cleared. */
  async dropImage(file) {
    try {
      const bmp = await createImageBitmap(file);
      const c = document.createElement('canvas');
      [c.width, c.height] = [Math.min(bmp.width, 512), Math.min(bmp.height, 512)];
      const g = c.getContext('2d');
      g.drawImage(bmp, 0, 0, c.width, c.height);
      this.image = { rgba: g.getImageData(0, 0, c.width, c.height).data, w: c.width, h: c.height, name: file.name };
      this.modelNote.textContent = `The picture ${file.name} is the input now (${this.net.inputShape.join(' × ')}); draw or clear to go back to the pad.`;
      this.infer();
    } catch (err) {
      this.modelNote.textContent = `${file.name} could not be read as a picture: ${err.message}`;
    }
  }

  /** The layer views, the explanation panel and the kernels of `this.net`. */
  buildNetwork() {
    this.markKey = undefined;
    this.stack = new Network(this.right, this.net, {
      onPick: (p) => this.select(p),
      onHover: (p) => {
        const key = p && `${p.layer}.${p.c}.${p.y}.${p.x}`;
        if (key === this.hoverKey) return;
        this.hoverKey = key;
        this.hover = p;
        this.showPick({ panel: false });
      },
    });
    this.key = el('ul#draw-key.draw-key', { 'aria-label': 'Key to the outlines' },
      ...KEY.map(([k, text]) => el('li', { 'data-key': k }, el('span.sw', { 'aria-hidden': 'true', text: k === 'num' ? '3' : '' }), el('span', { text }))));
    this.right.append(this.key);
    this.explainView = new ExplainView(this.right, { onClose: () => this.select(null), onPick: (p) => this.select(p) });
    this.code = new CodeView(this.explainView.code, { id: 'draw', title: 'This layer in PyTorch' });
    this.kernelsAll?.remove();
    this.kernelsAll = el('details.kernels-all', {}, el('summary', { text: 'The kernels of the conv layers' }));
    for (const l of this.net.layers) if (l.kind === 'conv2d') this.kernelsAll.append(kernels(l));
    this.more.append(this.kernelsAll);
    this.stack.update(null, null);
  }

  /** Runs the model the page now uses for the cnn (trained on the Train scene, or a file). */
  async reload() {
    const model = this.own?.model ?? await this.shared.model('cnn');
    this.net = new NetInfo(model);
    this.right.replaceChildren();
    this.pick = null;
    this.hover = null;
    this.hoverKey = null;
    this.buildNetwork();
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
    const size = () => this.net.inputShape.reduce((a, b) => a * b, 1);
    // Sized again when another model came in while this waited between batches (a dropped
    // file: its input may be 3 × 32 × 32); the warm-up goes on with it.
    let blank = new Float32Array(size());
    const t0 = performance.now();
    const recent = [];
    let best = Infinity;
    let calls = 0;
    while (performance.now() - t0 < 5000) {
      if (blank.length !== size()) blank = new Float32Array(size());
      const a = performance.now();
      this.net.forward(blank);
      const us = (performance.now() - a) * 1000;
      calls++;
      best = Math.min(best, us);
      recent.push(us);
      if (recent.length > 10) recent.shift();
      if (calls >= 20 && Math.max(...recent) < 2 * best) break;
      if (calls % 10 === 0) {
        // A forward overwrites the model's activations in place: if the person drew while
        // warming up, run their digit again so the kept Forward (and every map and cell pick
        // read from it) is theirs, not the blank's, before they can act between batches.
        if (this.fwd && this.input) {
          this.fwd.free?.();
          this.fwd = this.net.forward(this.input).fwd;
        }
        await new Promise((r) => setTimeout(r, 0));
      }
    }
    this.timing.dataset.warmup = String(calls);
    this.warm = true;
    this.times = [];
    this.infer();
  }

  /** One live inference: preprocess (wasm), forward (wasm), then draw. */
  infer() {
    if (!this.net) return;
    this.hint.hidden = !this.pad.empty || !!this.image;
    if (this.pad.live.size) this.image = null;
    // The MNIST digit (shared with the other scenes), and what this model takes: the same for
    // a 1 × 28 × 28 model, else resampled to its input by wasm (or the dropped picture).
    const shape = this.net.inputShape;
    const mnist = shape.join() === '1,28,28';
    const digit = this.pad.empty ? null : this.api.preprocess(this.pad.pixels(), PAD_SIZE, PAD_SIZE);
    const input = this.image
      ? this.api.prepareInput(this.image.rgba, this.image.w, this.image.h, shape, true)
      : digit && (mnist ? digit : this.api.prepareInput(this.pad.pixels(), PAD_SIZE, PAD_SIZE, shape, false));
    this.fwd?.free?.();
    this.fwd = null;
    this.input = input ?? null;
    if (this.pending && this.pad.live.size === 0) {
      this.pending = false;
      this.shared.setDigit(digit ?? null, this.pad.empty ? null : this.pad.paths);
      this.version = this.shared.version;
      this.ctx.changed();
      this.announce = true;
    }
    if (!input) {
      this.prediction.style.display = '';
      this.outputFig.hidden = true;
      this.prediction.dataset.digit = '';
      this.predDigit.textContent = '?';
      this.predText.textContent = 'nothing drawn yet';
      this.probs.update(null);
      if (this.announce) this.said.textContent = 'The pad is empty.';
      this.announce = false;
      this.stack.update(null, null);
      this.showPick();
      return;
    }
    const { fwd, us } = this.net.forward(input);
    this.markKey = undefined; // a new forward: the marks are redrawn once
    this.fwd = fwd;
    if (this.warm) this.times.push(us);
    if (this.times.length > TIMES_KEPT) this.times.shift();
    const p = Float32Array.from(fwd.probabilities());
    const top = fwd.top();
    this.answer(fwd, p, top);
    this.announce = false;
    this.stack.update(fwd, input);
    // While a stroke is being drawn the panel waits for its end (the network answers live).
    const live = this.pad.live.size > 0;
    if (!this.times.length) {
      this.timing.textContent = 'One forward pass: warming up the wasm before timing it…';
    } else {
      const sorted = [...this.times].sort((a, b) => a - b);
      const med = sorted[(sorted.length - 1) >> 1];
      this.timing.dataset.us = String(med);
      this.timing.dataset.samples = String(sorted.length);
      this.timing.textContent = `One forward pass: ${med < 10 ? med.toFixed(1) : med.toFixed(0)} µs (median of the last ${sorted.length}, timed around the one wasm call)`;
    }
    this.showPick({ panel: !live });
  }

  /**
   * The answer: ten bars for a digit classifier; the top class for another number of classes;
   * for a model whose output is not a vector of classes (an autoencoder), its output as a map.
   */
  answer(fwd, p, top) {
    const digits = p.length === 10;
    this.probs.list.hidden = !digits;
    this.probs.list.style.display = digits ? '' : 'none';
    this.outputFig.hidden = p.length > 0;
    this.prediction.style.display = p.length === 0 ? 'none' : '';
    if (p.length === 0) {
      const out = fwd.output();
      const last = this.net.layers[this.net.layers.length - 1];
      const [c, h, w] = last.view;
      this.outputMap.update({ data: out, h, w });
      this.outputCaption.textContent = `The output: ${last.name}, ${last.shape.join(' × ')}${c > 1 ? ' (channel 0)' : ''}`;
      this.prediction.dataset.digit = '';
      if (this.announce) this.said.textContent = `The network's output is a ${last.shape.join(' by ')} map.`;
      this.announce = false;
      return;
    }
    this.prediction.dataset.digit = String(top);
    this.predDigit.textContent = String(top);
    this.predText.textContent = `${(100 * p[top]).toFixed(1)}% sure${digits ? '' : ` (class ${top} of ${p.length})`}`;
    if (digits) this.probs.update(p, top);
    if (this.announce) this.said.textContent = `The network reads a ${top}, ${(100 * p[top]).toFixed(0)} percent sure.`;
  }

  select(pick) {
    this.pick = pick;
    // The clicked cell is the one shown, until the pointer moves to another.
    this.hover = null;
    this.hoverKey = pick && `${pick.layer}.${pick.c}.${pick.y}.${pick.x}`;
    this.showPick();
    this.reveal();
    // The link follows in its own task (rewriting a long URL is not free).
    clearTimeout(this.linkTimer);
    this.linkTimer = setTimeout(() => this.ctx.changed(), 0);
  }

  /**
   * On a phone the explanation is a sheet over the lower part of the screen: when it covers
   * the picked cell's layer, the page scrolls that layer up above the sheet, so the cell and
   * its explanation are seen together.
   */
  reveal() {
    if (!this.pick || !matchMedia('(max-width: 980px)').matches) return;
    const block = this.stack.blocks[this.pick.layer]?.block;
    if (!block) return;
    const sheet = this.explainView.node.getBoundingClientRect();
    const b = block.getBoundingClientRect();
    // A heading row stuck to the top (during "Show me") covers the top of the screen.
    const head = this.root.querySelector('.draw-head');
    const top = getComputedStyle(head).position === 'sticky' ? head.getBoundingClientRect().bottom : 0;
    if (sheet.top > 0 && (b.bottom > sheet.top || b.top < top)) window.scrollBy({ top: Math.min(b.top - top - 8, b.bottom - sheet.top + 8), behavior: 'instant' });
  }

  /**
   * Outlines the hovered (else the picked) cell's receptive field on the network; the panel
   * explains the picked cell (a sheet over the page on a phone).
   */
  showPick({ panel = true } = {}) {
    if (!this.stack) return;
    const explain = (p) => (p && this.fwd ? this.net.explain(this.fwd, { layer: p.layer - 1, c: p.c, y: p.y, x: p.x }) : null);
    const key = (p) => (p && this.fwd ? `${p.layer}.${p.c}.${p.y}.${p.x}` : null);
    // The outlines and lines depend only on which cell is shown: redrawn when it changes.
    const shownKey = key(this.hover ?? this.pick);
    const picked = panel || (!this.hover && shownKey !== this.markKey) ? explain(this.pick) : null;
    if (shownKey !== this.markKey) {
      this.stack.mark(this.hover ? explain(this.hover) : picked);
      this.markKey = shownKey;
    }
    if (!panel) return;
    this.explainView.update(picked, this.net, (i) => this.stack.activation(i));
    this.code.set(picked && this.net.layers.find((l) => l.name === picked.name)?.torch);
    this.root.classList.toggle('sheet-open', !!picked);
  }

  /** The cell of the named layer (by kind and order) that the forward reports as most active. */
  peak(kind, nth = 0) {
    const i = this.net.layers.map((l, j) => (l.kind === kind ? j : -1)).filter((j) => j >= 0)[nth];
    if (i === undefined || !this.fwd) return null;
    const p = this.fwd.peak(this.net.actIndex(i));
    return { layer: i + 1, c: p.channel, y: p.y, x: p.x };
  }

  /** Brings the scene to one "Show me" moment (see SHOW_ME). */
  async showMeAt(at, run) {
    if (!this.net) await this.ready;
    run.check();
    if (at === 'draw') {
      this.select(null);
      const { digit, place } = SHOW_ME_DIGIT;
      const strokes = example(digit, place);
      const reduced = matchMedia('(prefers-reduced-motion: reduce)').matches;
      const total = strokes.reduce((n, st) => n + st.length, 0);
      // The digit appears a few points at a time, every layer answering as it grows.
      const frames = reduced ? 1 : 12;
      for (let f = 1; f <= frames; f++) {
        let left = Math.ceil((total * f) / frames);
        const part = [];
        for (const st of strokes) { if (left <= 0) break; part.push(st.slice(0, left)); left -= st.length; }
        this.pad.setPaths(part);
        this.infer();
        if (f < frames) await run.wait(70);
      }
      this.committed();
      await run.wait(reduced ? 0 : 250);
      return;
    }
    const pick = at === 'conv1' ? this.peak('conv2d', 0) : at === 'conv2' ? this.peak('conv2d', 1) : this.peak('linear', 1);
    this.hover = null;
    this.select(pick);
    await run.wait(50);
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
    this.image = null;
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
    const p = this.pick && this.net ? this.pick : null;
    return writeLink(SCHEMA, {
      drawing: this.pad.empty ? null : this.pad.paths,
      cell: p ? `${this.net.layers[p.layer - 1].name}.${p.c}.${p.y}.${p.x}` : null,
    });
  }

  async setState(params) {
    const { values, notes } = readLink(SCHEMA, params);
    const strokes = values.drawing ?? null;
    this.linkNotes(notes);
    if (strokes) this.pad.setPaths(strokes);
    await this.ready;
    if (strokes) {
      this.infer();
      this.shared.setDigit(this.input, strokes);
      this.version = this.shared.version;
    }
    this.note.textContent = '';
    if (values.cell && this.net) {
      const [name, ...nums] = values.cell.split('.');
      const i = this.net.layers.findIndex((l) => l.name === name);
      const [c, y, x] = nums.map(Number);
      if (i < 0 || nums.length !== 3 || ![c, y, x].every(Number.isFinite)) {
        this.note.textContent = `The link's cell "${values.cell}" names no cell of this network (layers: ${this.net.layers.map((l) => l.name).join(', ')}), so none is picked.`;
        this.pick = null;
      } else {
        // The nearest cell that exists, with a note when it is not the one the link names.
        const [vc, vh, vw] = this.net.layers[i].view;
        const near = (v, n) => Math.min(n - 1, Math.max(0, Math.round(v)));
        this.pick = { layer: i + 1, c: near(c, vc), y: near(y, vh), x: near(x, vw) };
        const p = this.pick;
        if (p.c !== c || p.y !== y || p.x !== x) {
          this.note.textContent = `The link names ${name}[${c}][${y}][${x}], but ${name} is ${vc} × ${vh} × ${vw}: showing the nearest cell, [${p.c}][${p.y}][${p.x}].`;
        }
      }
      this.showPick();
      this.ctx.changed();
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
    if (e.key === 'Escape' && this.pick) { this.select(null); this.hover = null; this.showPick(); return true; }
    return false;
  }
}
