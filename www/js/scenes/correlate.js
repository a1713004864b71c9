// Scene "Sliding correlation": a kernel stepped across an image one window at a time. Each
// step shows the window on the (padded) input, the element-wise products, and their sum
// landing in the output cell; beside it the im2col table (each window a row, the kernel a
// column) and the output-size formula with the numbers filled in. Every number comes from
// the wasm trace `traceCorrelate`; the controls' ranges from `traceCorrelateRanges`.
//
// A detector from the image: drag a box on the input (or "Use a patch as kernel" and the
// keyboard) and the box's cells become the kernel (`traceCorrelatePatch`, wasm); the output
// lights up where that pattern returns. "Normalised (NCC)" asks the trace for normalised
// cross-correlation, and the scene shows the trace's means, norms and quotient for each window.
import { Scene, el } from '../scene.js';
import { Grid, fmt } from '../stepper/grid.js';
import { largestScale } from '../wasm.js';
import { colour, dark, Legend } from '../views/colour.js';
import { Player } from '../stepper/player.js';
import { learnedKernel, formulaConv } from '../stepper/formulas.js';
import { CodeView } from '../views/code.js';
import { int, ints, oneOf, flag, custom, speed, readLink, writeLink, buildControls, defaultsOf, pairUi, paddingUi } from '../schema.js';
import { rasterise, PAD_SIZE } from '../views/pad.js';
import { encodeStrokes, decodeStrokes } from '../strokes.js';
import { ShowMe } from '../views/showme.js';
import { setDisabled } from '../views/disabled.js';

/**
 * "Show me": the scene's idea, the setting it starts from, and where it pauses (`at`: a step the
 * trace names in its `moments`; `set`: settings changed first). The captions live here only.
 */
const SHOW_ME = {
  idea: 'A conv layer slides its kernel over the input; at each position it multiplies the cells under the kernel by the kernel, adds the products and writes that one sum (a dot product) to one output cell.',
  setting: { input: 'letter', size: 9, kernel: 'sobel-x', kernelSize: 3, stride: [1, 1], padding: [1, 1, 1, 1], dilation: [1, 1], flip: false, normalized: false },
  stops: [
    { at: 'firstPadded', caption: 'The window hangs over the zero padding (dashed): those products are 0, so the border still gets an output cell.' },
    { at: 'firstInside', caption: 'Wholly on the image now: nine products, added up (Σ), land in one output cell. One window, one dot product.' },
    { at: 'largest', caption: 'The largest output: ink on the right of the window and none on the left is the pattern Sobel x is looking for.' },
    { set: { stride: [2, 2] }, at: 'largest', caption: 'Stride 2: the window jumps two cells at a time, so the output has about a quarter as many cells (the formula says exactly).' },
    { set: { flip: true }, at: 'smallest', caption: 'Flip on: a true convolution slides the kernel turned by 180°. For Sobel x that turns every sign, so the edge now gives the most negative output.' },
    { set: { stride: [1, 1], flip: false, normalized: true }, pick: [5, 1, 3], at: 'box', caption: 'A detector from the image: a 3×3 piece of the A’s left leg is now the kernel, normalised (NCC). At its own place the score is 1, and so it is at every window with the same pattern, however bright (the green outlines): here the right leg with the padding beside it.' },
  ],
};

const INPUTS = [['digit', 'your drawn digit'], ['letter', 'letter A'], ['edges', 'edges'], ['dot', 'single dot'], ['checker', 'checkerboard'], ['random', 'random']];
const KERNELS = [['delta', 'delta (identity)'], ['box', 'box blur'], ['sobel-x', 'Sobel x'], ['sobel-y', 'Sobel y'], ['laplacian', 'Laplacian'], ['random', 'random'], ['learned', 'learned (cnn conv1)'], ['custom', 'edited']];
const FIXED3 = new Set(['sobel-x', 'sobel-y', 'laplacian']);

const numbers = (text) => {
  const v = text.split(',').map(Number);
  return v.length >= 1 && v.length <= 25 && v.every(Number.isFinite) ? v : null;
};

/**
 * Every setting of the scene, its control and its URL key; `lim`: the scene's control ranges
 * from wasm (`traceControls().correlate`: input and kernel sides, the geometry's cap).
 */
export const schemaOf = (lim) => [
  oneOf('input=in', 'Input', INPUTS, 'letter', { id: 'corr-input', label: 'Input image', group: 'Input' }),
  int('size=n', 'Input size', lim.size[0], lim.size[1], 9, { id: 'corr-size', label: 'Input size (cells per side)', group: 'Input' }),
  custom('drawing=dg', 'The drawn digit', decodeStrokes, encodeStrokes, null, 'is not a drawing this page wrote'),
  oneOf('kernel=k', 'Kernel', KERNELS, 'sobel-x', { id: 'corr-kernel', group: 'Kernel' }),
  int('kernelSize=ks', 'Kernel size', lim.kernelSize[0], lim.kernelSize[1], 3, { id: 'corr-ksize', group: 'Kernel' }),
  custom('kernelValues=kv', 'Kernel values', numbers, (v) => v.join(','), null, 'is not a list of up to 25 numbers'),
  int('learnedIndex=li', 'Learned kernel number', 0, 63, 0, { id: 'corr-learned', group: 'Kernel' }),
  ints('stride=s', 'Stride', 2, 1, lim.cap, [1, 1], pairUi('corr', 'stride', 'Stride')),
  ints('padding=p', 'Padding', 4, 0, lim.cap, [0, 0, 0, 0], paddingUi('corr')),
  ints('dilation=d', 'Dilation', 2, 1, lim.cap, [1, 1], pairUi('corr', 'dil', 'Dilation')),
  flag('flip=f', 'Flip', false, { id: 'corr-flip', place: 'own' }),
  flag('normalized=nc', 'Normalised (NCC)', false, { id: 'corr-ncc', place: 'own' }),
  int('step=t', 'Step', 0, 99999, 0),
  speed(),
];
/** The geometry settings, which wasm checks against each other. */
const GEO = ['stride', 'padding', 'dilation'];

export class CorrelateScene extends Scene {
  static id = 'correlate';

  constructor(root, ctx) {
    super(root, ctx);
    this.lim = this.api.traceControls().correlate;
    this.schema = schemaOf(this.lim);
    this.s = {
      ...defaultsOf(this.schema, ['drawing', 'speed']),
      // The box whose cells became the kernel ({ top, left, side } on the image), while that
      // kernel and image stay.
      box: null,
    };
    // A box being dragged or moved with the keyboard (not yet the kernel).
    this.draft = null;
    this.build();
    this.shared.addEventListener('digit', () => { if (this.s.input === 'digit') this.rebuild(); this.digitOption.disabled = false; });
  }

  build() {
    const r = this.root;
    // One screen at 1280×800: heading, the idea with "Show me", the controls in one row, the
    // player (sticky), then input | kernel, window × kernel, Σ | output, formula, all together.
    r.append(el('header.cs-head', {}, el('h2', { text: 'Sliding correlation' })));
    this.showMe = new ShowMe(r, {
      id: 'correlate', idea: SHOW_ME.idea, before: () => this.teach(SHOW_ME.setting),
      stops: SHOW_ME.stops.map((stop) => ({ caption: stop.caption, go: (run) => this.moment(run, stop) })),
    });

    const c = el('div.cs-controls', { role: 'group', 'aria-label': 'Correlation settings' });
    // The controls are built from the schema: ids, labels, ranges (the sizes from wasm).
    const { controls, fields } = buildControls(this.schema, (key, v, want, part) => this.set(key, v, want, part));
    this.ctl = controls;
    this.inputSel = controls.input.input;
    this.digitOption = this.inputSel.querySelector('option[value="digit"]');
    this.digitOption.disabled = !this.shared.digit;
    this.sizeIn = controls.size.input;
    this.kernelSel = controls.kernel.input;
    this.liIn = controls.learnedIndex.input;
    this.ksIn = controls.kernelSize.input;
    this.flipBox = controls.flip.input;
    this.nccBox = controls.normalized.input;
    this.pickBtn = el('button.cs-btn', {
      id: 'corr-pick', type: 'button', 'aria-pressed': 'false',
      title: 'Or drag a box on the input',
      onclick: () => (this.draft?.keys ? this.endPick(false) : this.startPick()),
    }, 'Use a patch as kernel');
    // The two switches share one column, so the controls stay one row at 1280 px.
    c.append(...fields, el('div.corr-toggles', {},
      el('label.cs-toggle', { for: 'corr-flip' }, this.flipBox, ' flip (true convolution)'),
      el('label.cs-toggle', { for: 'corr-ncc' }, this.nccBox, ' Normalised (NCC)')));
    this.note = el('p.cs-note', { id: 'corr-note', role: 'status' });
    this.rule = el('p.cs-note', { id: 'corr-rule', role: 'status', 'aria-live': 'polite' });
    r.append(c, this.note, this.rule);

    this.player = new Player(r, { prefix: 'corr', label: 'Sliding correlation', onStep: (t) => this.showStep(t), reducedMotion: this.shared.reducedMotion });

    // On a phone the kernel column and the output sit side by side under the input, so a step
    // shows window, products and output cell together.
    const narrow = matchMedia('(max-width: 520px)').matches;
    const stage = el('div.cs-stage.corr-stage', { id: 'corr-stage' });
    r.append(stage);
    this.inGrid = new Grid(stage, { id: 'corr-input-grid', label: 'Input with padding; the current window is outlined; drag a box to make it the kernel', caption: 'input (padding dashed; drag a box: a kernel)', maxWidth: narrow ? 330 : 300 });
    // The keyboard's way to the same box, beside the grid it picks on.
    this.inGrid.figure.append(this.pickBtn);
    const kcol = el('div.cs-col.corr-kcol');
    stage.append(kcol);
    const kpair = el('div.corr-kpair');
    kcol.append(kpair);
    this.kEdit = el('div.cs-grid.cs-kedit', { id: 'corr-kernel-grid', role: 'group', 'aria-label': 'Kernel values (editable)' });
    const kfig = el('figure.cs-figure', {}, this.kEdit, el('figcaption', {}, 'kernel (edit a cell)'));
    kpair.append(kfig);
    this.kLegend = new Legend(kfig, { signed: true, label: 'kernel', compact: true });
    this.kLegend.node.classList.add('cs-legend');
    // With "flip", what slides is the kernel turned by 180°: shown beside the one you edit.
    this.flipGrid = new Grid(kpair, { id: 'corr-kernel-flipped', label: 'The kernel turned by 180°: what slides over the input', caption: 'turned by 180°: what slides', maxWidth: narrow ? 114 : 132, maxCell: 44 });
    this.prodGrid = new Grid(kpair, { id: 'corr-products', label: 'Element-wise products of the window and the kernel', caption: 'window × kernel', maxWidth: narrow ? 114 : 132, maxCell: 44 });
    this.sum = el('p.cs-sum', { id: 'corr-sum', 'aria-live': 'polite' });
    const ocol = el('div.cs-col.corr-ocol');
    stage.append(ocol);
    this.outGrid = new Grid(ocol, { id: 'corr-output', label: 'Output; the current cell is outlined', caption: 'output', maxWidth: narrow ? 150 : 238 });
    this.outGrid.figure.id = 'output';
    // Direct manipulation: hovering or clicking an output cell jumps to its window; clicking an
    // input cell lights up every window (and output cell) that reads it.
    const cellOf = (e) => e.target.closest?.('.cs-cell');
    const jump = (e) => {
      const c = cellOf(e);
      if (!c || !this.tr) return;
      this.player.pause();
      this.player.go(Number(c.dataset.i));
    };
    this.outGrid.node.addEventListener('click', jump);
    this.outGrid.node.addEventListener('pointerover', (e) => { if (e.pointerType === 'mouse') jump(e); });
    this.inGrid.node.addEventListener('click', (e) => {
      if (this.dragged) { this.dragged = false; return; }
      const c = cellOf(e);
      if (c && this.tr) this.usesOf(Number(c.dataset.i));
    });
    this.dragBox();
    if (narrow) r.append(this.sum); else kcol.append(this.sum);

    this.formula = el('div.cs-formula', { id: 'corr-formula', 'aria-label': 'Output size formula' });
    (narrow ? r : kcol).append(this.formula);
    // The same correlation as the PyTorch call (from wasm), beside the output on the first screen.
    this.code = new CodeView(narrow ? r : ocol, { id: 'correlate', title: 'This correlation in PyTorch' });

    // The detector: what the box and the NCC switch do, in plain words (the numbers are in
    // the Σ line above, from the trace).
    this.detNote = el('p', { id: 'corr-detector-note', role: 'status', 'aria-live': 'polite' });
    r.append(el('section.cs-panel', { 'aria-label': 'A detector from the image', id: 'corr-detector' },
      el('h3', { text: 'A detector from the image' }),
      el('p.cs-muted', {}, 'A conv kernel is a detector slid over the image: it answers most where the window looks like it. Drag a box on the input (or press “Use a patch as kernel”, then the arrow keys, Shift+arrows or + and − to resize, Enter to take it) and the box’s cells become the kernel: the output lights up where that pattern repeats.'),
      el('p.cs-muted', { id: 'corr-ncc-why' }, 'The plain correlation also answers more to brighter windows. Normalised cross-correlation (NCC) first subtracts each window’s mean and divides by its spread, and does the same to the kernel: Σ(x − x̄)(k − k̄) / (‖x − x̄‖·‖k − k̄‖). Brightening a window (adding a number to its cells) or raising its contrast (multiplying them by a positive number) leaves its score unchanged, so only the pattern counts: 1 for the same pattern, −1 for its negative, 0 for a flat window.'),
      this.detNote));

    const im = el('section.cs-panel', { 'aria-label': 'im2col view' },
      el('h3', { text: 'The same thing as one matrix product (im2col)' }),
      el('p.cs-muted', {}, 'Each window becomes a row of the im2col table; the kernel becomes a column; the output is their product. This is how this page’s Rust code computes a conv layer: one GEMM (matrix multiplication).'));
    // A region that may scroll sideways (a phone): reachable and scrollable with the keyboard.
    this.im2col = el('div.cs-im2col', { id: 'corr-im2col', tabindex: 0, role: 'region', 'aria-label': 'im2col table' });
    im.append(this.im2col);
    r.append(im);
  }

  /** "Show me" starts from the setting its captions describe. */
  teach(setting) {
    this.player.pause();
    this.endPick(false);
    Object.assign(this.s, structuredClone(setting), { kernelValues: null, step: 0, box: null });
    this.note.textContent = '';
    this.rule.textContent = '';
    this.rebuild();
    this.player.go(0, true);
  }

  /** Brings the scene to one of "Show me"'s moments: a change of setting, then a step the trace names. */
  async moment(run, stop) {
    if (stop.set) {
      this.player.pause();
      Object.assign(this.s, structuredClone(stop.set));
      // A box of the image becomes the kernel (its values cut in wasm).
      if (stop.pick) this.takeBox({ top: stop.pick[0], left: stop.pick[1], side: stop.pick[2] }, false);
      this.rebuild();
      await run.wait(this.shared.reducedMotion ? 0 : 400);
    }
    const t = Math.max(0, stop.at === 'box' ? this.boxStep() : this.tr.moments[stop.at]);
    const gap = Math.abs(t - this.player.t);
    await run.steps(this.player, t, gap ? Math.min(160, 2500 / gap) : 0);
  }

  /** A control changed (`want`: what was typed, when the control had to adjust it). */
  set(name, v, want, part) {
    const s = this.s;
    // The box's kernel goes with a new image or another kernel.
    if (['input', 'size', 'kernel', 'learnedIndex', 'kernelSize'].includes(name)) { s.box = null; this.endPick(false); }
    switch (name) {
      case 'kernel': this.pickKernel(v); return;
      case 'learnedIndex': s.learnedIndex = v; this.pickKernel('learned'); return;
      case 'kernelSize':
        s.kernelSize = v;
        s.kernelValues = null;
        if (s.kernel === 'custom') s.kernel = 'delta';
        break;
      default:
        if (GEO.includes(name)) {
          this.refused(name, part, this.ctl[name].inputs[part].getAttribute('aria-label'), want, v);
          s[name][part] = v;
        } else s[name] = v;
    }
    this.rebuild();
  }

  /** The kernels' own error (from wasm) for a setting, or null when it is valid. */
  whyNot(img, ker, s) {
    try {
      this.api.traceCorrelate(img.data, ker.values, { size: [img.h, img.w], kernelSize: ker.k, stride: s.stride, padding: s.padding, dilation: s.dilation });
      return null;
    } catch (err) { return err.message; }
  }

  /** Says why a typed value was refused. */
  refused(key, a, label, want, got) {
    this.rule.textContent = '';
    if (want === got || !Number.isFinite(want)) return;
    const s = { ...this.s, [key]: this.s[key].slice() };
    s[key][a] = want;
    const why = this.whyNot(this.image(), this.kernelValues(), s) ?? `this scene shows values up to ${this.lim.cap}`;
    this.rule.textContent = `${label} ${want} is not possible with the other settings, so it stays ${got}: ${why}`;
    this.ruleFresh = true;
  }

  pickKernel(v) {
    this.s.kernel = v;
    if (v !== 'learned') this.note.textContent = '';
    if (v !== 'custom') this.s.kernelValues = null;
    if (v === 'learned') {
      this.note.textContent = 'loading the cnn model…';
      const want = this.s.learnedIndex;
      learnedKernel(this.shared, want).then((k) => {
        this.learned = k;
        if (k) { this.s.learnedIndex = k.index; this.liIn.max = k.count - 1; }
        // The model has `count` kernels (known once it is loaded): a number past them is named.
        if (k && k.index !== want) this.linkNotes([...(this.notes ?? []), `Learned kernel number ${want}: the cnn's first conv layer has kernels 0 to ${k.count - 1}: opened with ${k.index}.`]);
        this.note.textContent = k ? `learned kernel ${k.name} of the cnn's first conv layer: a ${k.k}×${k.k} pattern it found useful for digits` : 'no trained cnn model is available yet; showing a delta kernel';
        this.note.dataset.about = 'learned';
        this.rebuild();
      });
      return;
    }
    this.rebuild();
  }

  image() {
    if (this.s.input === 'digit' && this.shared.digit) return { data: this.shared.digit, h: 28, w: 28 };
    const name = this.s.input === 'digit' ? 'letter' : this.s.input;
    return { data: this.api.tracePresetImage({ name, size: this.s.size, seed: 1 }), h: this.s.size, w: this.s.size };
  }

  kernelValues() {
    const { kernel, kernelSize: ks, kernelValues: kv } = this.s;
    if (kernel === 'custom' && kv && kv.length === ks * ks) return { values: Float32Array.from(kv), k: ks };
    if (kernel === 'learned' && this.learned) return { values: this.learned.values, k: this.learned.k };
    const name = kernel === 'learned' || kernel === 'custom' ? 'delta' : kernel;
    const p = this.api.tracePresetKernel({ name, size: ks, seed: 7 });
    return { values: p.values, k: p.size };
  }

  rebuild() {
    // A note about the learned kernel goes with it (also when a link or the hash changes it).
    if (this.s.kernel !== 'learned' && this.note.dataset.about === 'learned') {
      this.note.textContent = '';
      this.note.dataset.about = '';
    }
    const img = this.image();
    const ker = this.kernelValues();
    // A link's kernel size that its kernel cannot have (Sobel and Laplacian are 3×3, the learned
    // kernel is the model's) is named, not silently replaced.
    if (this.wantKs !== undefined && this.wantKs !== ker.k && !(this.s.kernel === 'learned' && !this.learned)) {
      const name = KERNELS.find(([v]) => v === this.s.kernel)?.[1] ?? this.s.kernel;
      this.notes = [...(this.notes ?? []), `Kernel size ${this.wantKs}: the ${name} kernel is ${ker.k}×${ker.k}: opened with ${ker.k}.`];
      this.linkNotes(this.notes);
    }
    if (!(this.s.kernel === 'learned' && !this.learned)) this.wantKs = undefined;
    this.s.kernelSize = ker.k;
    const { api, s } = this;
    const setting = { size: [img.h, img.w], kernelSize: ker.k, stride: s.stride, padding: s.padding, dilation: s.dilation };
    const why = this.whyNot(img, ker, s);
    const settled = api.traceCorrelateSettle(setting);
    const moved = GEO.filter((k) => settled[k].join() !== s[k].join());
    if (!this.ruleFresh) this.rule.textContent = moved.length && why
      ? `Adjusted ${moved.map((k) => `${k} to ${settled[k].join(', ')}`).join(' and ')}: ${why}`
      : '';
    this.ruleFresh = false;
    for (const name of GEO) s[name] = settled[name];
    const rg = api.traceCorrelateRanges({ ...setting, stride: s.stride, padding: s.padding, dilation: s.dilation, cap: this.lim.cap });
    // Each geometry stepper reaches exactly what wasm says is valid with the others held.
    for (const name of GEO) {
      rg[name].forEach((r, i) => this.ctl[name].range(i, r));
      this.ctl[name].set(s[name]);
    }
    const c = this.ctl;
    c.input.set(s.input === 'digit' && !this.shared.digit ? 'letter' : s.input);
    c.size.set(s.size);
    setDisabled(this.sizeIn, s.input === 'digit' && this.shared.digit ? 'your drawn digit is 28×28' : null);
    c.kernel.set(s.kernel);
    c.kernelSize.set(ker.k);
    const kname = KERNELS.find(([v]) => v === s.kernel)?.[1];
    setDisabled(this.ksIn, FIXED3.has(s.kernel) ? `${kname} is 3×3 only` : s.kernel === 'learned' ? `the learned kernel is the cnn's ${ker.k}×${ker.k}` : null);
    this.liIn.hidden = s.kernel !== 'learned';
    c.learnedIndex.set(s.learnedIndex);
    c.flip.set(s.flip);
    c.normalized.set(s.normalized);

    const t = api.traceCorrelate(img.data, ker.values, { size: [img.h, img.w], kernelSize: ker.k, stride: s.stride, padding: s.padding, dilation: s.dilation, flip: s.flip, normalized: s.normalized });
    this.tr = {
      h: t.h, w: t.w, kh: t.kh, kw: t.kw, outH: t.outH, outW: t.outW, ph: t.paddedH, pw: t.paddedW,
      steps: t.steps, taps: t.taps, kernel: t.kernel, padded: t.padded, paddedSource: t.paddedSource,
      window: t.window, cols: t.cols, products: t.products, output: t.output, terms: t.terms,
      readerStart: t.readerStart, readers: t.readers, stepCell: t.stepCell, paddedCell: t.paddedCell,
      outputMax: t.outputMax, productsMax: t.productsMax, productsSigned: t.productsSigned, kernelMax: t.kernelMax,
      moments: t.moments, ncc: t.ncc ?? null, geometry: t.geometry,
    };
    this.img = img;
    this.rawKernel = ker.values;
    const tr = this.tr;
    this.inGrid.resize(tr.ph, tr.pw);
    this.inGrid.set(tr.padded, { text: true });
    this.inGrid.tag('cs-pad', (i) => tr.paddedSource[i] < 0);
    this.outGrid.resize(tr.outH, tr.outW);
    // One scale for every step (from the trace), so a colour means the same number at each step.
    this.outScale = tr.outputMax;
    this.prodScale = tr.productsMax;
    this.prodSigned = tr.productsSigned;
    this.prodGrid.resize(tr.kh, tr.kw);
    this.renderKernel(ker);
    this.flipGrid.figure.style.display = t.flipped ? '' : 'none';
    if (t.flipped) {
      this.flipGrid.resize(tr.kh, tr.kw);
      this.flipGrid.set(tr.kernel, { text: true });
    }
    this.formula.replaceChildren(...formulaConv(tr.terms.rows, 'rows', 'H'), ...formulaConv(tr.terms.cols, 'columns', 'W'));
    this.code.set(api.pytorchCode({ op: 'conv2d', size: [img.h, img.w], kernelSize: ker.k, stride: s.stride, padding: s.padding, dilation: s.dilation, flip: s.flip, normalized: s.normalized }));
    this.buildIm2col();
    this.drawBox();
    this.detectorNote();
    if (this.wantStep !== undefined && this.wantStep > tr.steps - 1) {
      this.linkNotes([...(this.notes ?? []), `Step ${this.wantStep + 1} is past the last of these ${tr.steps} steps: opened at step ${tr.steps}.`]);
    }
    this.wantStep = undefined;
    this.player.setSteps(tr.steps, Math.min(s.step, tr.steps - 1));
    this.showStep(this.player.t);
    this.ctx.changed();
  }

  renderKernel(ker) {
    const k = ker.k;
    this.kEdit.style.setProperty('--cols', k);
    // Kernels past 3×3 get smaller cells, so the kernel, products and Σ stay beside the input.
    if (k > 3) this.kEdit.style.setProperty('--cell', `${Math.max(30, Math.floor(156 / k))}px`);
    else this.kEdit.style.removeProperty('--cell');
    const old = this.kEdit.querySelectorAll('input');
    if (old.length === k * k) {
      // Same size: update the cells in place, so focus (and a Tab just pressed) stays where it is.
      old.forEach((inp, i) => { inp.value = fmt(ker.values[i], 3).replace('−', '-'); });
      this.shadeKernel(ker);
      return;
    }
    const cells = [];
    for (let row = 1; row <= k; row++) {
      for (let col = 1; col <= k; col++) {
        cells.push(el('input.cs-kcell', {
          type: 'number', step: 0.25, value: fmt(ker.values[cells.length], 3).replace('−', '-'),
          'aria-label': `kernel row ${row} column ${col}`,
          onchange: () => this.editKernel(),
        }));
      }
    }
    this.kEdit.replaceChildren(...cells);
    this.shadeKernel(ker);
  }

  /** The kernel editor's cells on the diverging scale, with its legend. */
  shadeKernel(ker) {
    const scale = largestScale(ker.values);
    this.kLegend.update(scale);
    this.kEdit.querySelectorAll('input').forEach((inp, i) => {
      const [r, g, b] = colour(ker.values[i], scale, true);
      inp.style.backgroundColor = `rgb(${r},${g},${b})`;
      inp.classList.toggle('cs-dark', dark([r, g, b]));
      inp.dataset.value = String(ker.values[i]);
    });
  }

  editKernel() {
    const vals = [...this.kEdit.querySelectorAll('input')].map((i) => Number(i.value));
    if (vals.some((v) => !Number.isFinite(v))) return;
    this.s.kernel = 'custom';
    this.s.kernelValues = vals;
    this.s.box = null;
    this.rebuild();
  }

  showStep(t) {
    const tr = this.tr;
    if (!tr) return;
    this.s.step = t;
    const win = tr.window.subarray(t * tr.taps, (t + 1) * tr.taps);
    this.inGrid.mark('cs-win', win);
    this.inGrid.mark('cs-win-first', [win[0]]);
    this.kernelOver(win);
    this.outGrid.set(tr.output, { scale: this.outScale, shown: (i) => i <= t });
    this.outGrid.mark('cs-cur', [t]);
    const prods = tr.products.subarray(t * tr.taps, (t + 1) * tr.taps);
    this.prodGrid.set(prods, { scale: this.prodScale, signed: this.prodSigned });
    const [i, j] = tr.stepCell.subarray(2 * t, 2 * t + 2);
    // Rounded in wasm so that the shown terms add up to the shown sum (3 decimals each).
    const r = this.api.traceRoundedSum(prods, 3);
    const terms = r.terms.map((v) => fmt(v, 3)).filter((x) => x !== '0');
    const sigma = `${terms.length ? terms.join(' + ').replaceAll('+ −', '− ') : '0'} = `;
    if (tr.ncc) this.nccLine(t, r, sigma, i, j);
    else {
      this.sum.replaceChildren(
        el('span', {}, `Σ = ${sigma}`),
        el('b', { id: 'corr-sum-value', 'data-value': String(tr.output[t]), 'data-shown': fmt(r.total, 3) }, fmt(r.total, 3)),
        el('span', {}, ` → output[${i}, ${j}]`));
    }
    this.showIm2colRow(t);
    this.player.changed(this.ctx.changed);
  }

  /**
   * The Σ line of a normalised step: the centred products' sum (the numerator), the two norms
   * and the quotient, every number from the trace's `ncc` (the page only formats them).
   */
  nccLine(t, r, sigma, i, j) {
    const n = this.tr.ncc;
    const v = (id, x, digits = 3) => el('span', { id, 'data-value': String(x) }, fmt(x, digits));
    const out = this.tr.output[t];
    const why = n.kernelFlat ? ' (the kernel is flat: no pattern, so 0)' : n.flat[t] ? ' (this window is flat: no pattern, so 0)' : '';
    this.sum.replaceChildren(
      el('span', {}, `Σ(x − x̄)(k − k̄) = ${sigma}`),
      el('span', { id: 'corr-ncc-num', 'data-value': String(n.numerator[t]), 'data-shown': fmt(r.total, 3) }, fmt(r.total, 3)),
      el('span', {}, ' ÷ (‖x − x̄‖·‖k − k̄‖ = '), v('corr-ncc-wnorm', n.windowNorm[t]), el('span', {}, ' · '), v('corr-ncc-knorm', n.kernelNorm),
      el('span', {}, ' = '), v('corr-ncc-den', n.denominator[t]), el('span', {}, ') = '),
      el('b', { id: 'corr-sum-value', 'data-value': String(out), 'data-shown': fmt(out, 3) }, fmt(out, 3)),
      el('span', {}, ` = output[${i}, ${j}]${why}`),
      el('br'),
      el('span.cs-muted', { id: 'corr-ncc-means' }, 'means: window x̄ = ', v('corr-ncc-wmean', n.windowMean[t]), ', kernel k̄ = ', v('corr-ncc-kmean', n.kernelMean)));
  }

  /**
   * The kernel's weights drawn over the input window, as one layer that moves with it (a short
   * transition, instant under prefers-reduced-motion). Each weight sits on the cell it
   * multiplies (`win`: the trace's padded-cell index per tap); positions are the cells' own.
   */
  kernelOver(win) {
    const tr = this.tr;
    const grid = this.inGrid;
    if (!this.kOver || this.kOver.parentNode !== grid.node || this.kOverTaps !== tr.taps || this.kOverFor !== tr) {
      this.kOver?.remove();
      this.kOver = el('div.cs-kover', { id: 'corr-kernel-over', 'aria-hidden': 'true' });
      this.kOver.classList.toggle('cs-still', this.shared.reducedMotion);
      const scale = tr.kernelMax;
      const first = grid.cells[win[0]];
      for (let j = 0; j < tr.taps; j++) {
        const c = grid.cells[win[j]];
        const v = tr.kernel[j];
        const [r, g, b] = colour(v, scale, true);
        const tap = el('span.cs-ktap', { 'data-value': String(v), 'data-tap': String(j) }, grid.cellPx >= 22 ? `×${fmt(v, 2)}` : '');
        tap.style.left = `${c.offsetLeft - first.offsetLeft}px`;
        tap.style.top = `${c.offsetTop - first.offsetTop}px`;
        tap.style.width = `${c.offsetWidth}px`;
        tap.style.height = `${c.offsetHeight}px`;
        tap.style.setProperty('--tap', `rgba(${r},${g},${b},.55)`);
        this.kOver.append(tap);
      }
      grid.node.append(this.kOver);
      this.kOverTaps = tr.taps;
      this.kOverFor = tr;
    }
    const at = grid.cells[win[0]];
    this.kOver.style.transform = `translate(${at.offsetLeft}px, ${at.offsetTop}px)`;
    this.kOver.dataset.at = String(win[0]);
  }

  /** The image cell [row, column] under padded cell `p`, or the nearest one on the image. */
  imageCell(p) {
    const tr = this.tr;
    const [pt, pl] = tr.geometry.padding;
    const clamp = (v, hi) => Math.max(0, Math.min(hi, v));
    return [clamp(tr.paddedCell[2 * p] - pt, tr.h - 1), clamp(tr.paddedCell[2 * p + 1] - pl, tr.w - 1)];
  }

  /** The step whose window is the kernel's box (its first tap on the box's corner), or −1. */
  boxStep() {
    const { tr } = this;
    const b = this.s.box;
    if (!b) return -1;
    const [pt, pl] = tr.geometry.padding;
    const corner = (b.top + pt) * tr.pw + b.left + pl;
    for (let s = 0; s < tr.steps; s++) if (tr.window[s * tr.taps] === corner) return s;
    return -1;
  }

  /** The largest box side the kernel can take on this image. */
  maxSide() { return Math.min(this.lim.kernelSize[1], this.tr.h, this.tr.w); }

  /** A square box from image cell `a` towards `b` (the kernel is square), kept on the image. */
  boxFrom(a, b) {
    const { h, w } = this.tr;
    const dr = b[0] - a[0];
    const dc = b[1] - a[1];
    const side = Math.min(this.maxSide(), Math.max(Math.abs(dr), Math.abs(dc)) + 1);
    const top = dr >= 0 ? a[0] : a[0] - side + 1;
    const left = dc >= 0 ? a[1] : a[1] - side + 1;
    return { top: Math.max(0, Math.min(h - side, top)), left: Math.max(0, Math.min(w - side, left)), side };
  }

  /** Dragging on the input draws a box; releasing makes its cells the kernel. */
  dragBox() {
    const node = this.inGrid.node;
    const cellAt = (e) => {
      const c = document.elementFromPoint(e.clientX, e.clientY)?.closest?.('.cs-cell');
      return c && node.contains(c) ? Number(c.dataset.i) : -1;
    };
    node.addEventListener('pointerdown', (e) => {
      if (e.button !== 0 || !this.tr) return;
      const i = cellAt(e);
      if (i < 0) return;
      // No capture yet: a press and release on one cell stays a click on that cell.
      this.drag = { from: this.imageCell(i), moved: false, id: e.pointerId };
    });
    node.addEventListener('pointermove', (e) => {
      const d = this.drag;
      if (!d || e.pointerId !== d.id) return;
      const i = cellAt(e);
      if (i < 0) return;
      const to = this.imageCell(i);
      if (!d.moved && to[0] === d.from[0] && to[1] === d.from[1]) return;
      // A drag from here on: the grid keeps the pointer until it is released.
      if (!d.moved) node.setPointerCapture?.(e.pointerId);
      d.moved = true;
      this.draft = { ...this.boxFrom(d.from, to), keys: !!this.draft?.keys };
      this.drawBox();
    });
    const end = (e, take) => {
      const d = this.drag;
      if (!d || e.pointerId !== d.id) return;
      this.drag = null;
      if (!d.moved) return;
      // The click that follows a drag is not a click on a cell.
      this.dragged = true;
      setTimeout(() => { this.dragged = false; }, 0);
      if (take) this.endPick(true);
      else this.endPick(false);
    };
    node.addEventListener('pointerup', (e) => end(e, true));
    node.addEventListener('pointercancel', (e) => end(e, false));
  }

  /** "Use a patch as kernel": a box to move and resize with the keys (Enter takes it). */
  startPick() {
    if (!this.tr) return;
    const side = Math.min(this.s.box?.side ?? this.s.kernelSize, this.maxSide());
    const b = this.s.box ?? { top: 0, left: 0, side };
    this.draft = { top: Math.min(b.top, this.tr.h - side), left: Math.min(b.left, this.tr.w - side), side, keys: true };
    this.pickBtn.setAttribute('aria-pressed', 'true');
    const g = this.inGrid.node;
    g.tabIndex = 0;
    g.classList.add('cs-picking');
    g.setAttribute('aria-label', 'Input: pick a box. Arrow keys move it, Shift+arrows or + and − resize it, Enter makes it the kernel, Escape cancels');
    g.focus();
    this.drawBox();
  }

  /** Ends picking; with `take`, the box being drawn becomes the kernel. */
  endPick(take) {
    const d = this.draft;
    const g = this.inGrid.node;
    const focused = document.activeElement === g;
    this.draft = null;
    this.pickBtn?.setAttribute('aria-pressed', 'false');
    if (g.hasAttribute('tabindex')) {
      g.removeAttribute('tabindex');
      g.classList.remove('cs-picking');
      g.setAttribute('aria-label', this.inGrid.label);
      if (focused) this.pickBtn.focus();
    }
    if (take && d) this.takeBox(d);
    else this.drawBox();
  }

  /** The keys of picking (on the focused input grid): true when the key was used. */
  pickKey(e) {
    const d = this.draft;
    const { h, w } = this.tr;
    const fit = () => {
      d.top = Math.max(0, Math.min(h - d.side, d.top));
      d.left = Math.max(0, Math.min(w - d.side, d.left));
    };
    const dir = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] }[e.key];
    if (dir && !e.shiftKey) {
      d.top += dir[0];
      d.left += dir[1];
    } else if (dir || ['+', '=', '-', '_'].includes(e.key)) {
      const grow = dir ? dir[0] + dir[1] : e.key === '+' || e.key === '=' ? 1 : -1;
      d.side = Math.max(1, Math.min(this.maxSide(), d.side + grow));
    } else if (e.key === 'Enter') {
      this.endPick(true);
      return true;
    } else if (e.key === 'Escape') {
      this.endPick(false);
      return true;
    } else return false;
    fit();
    this.drawBox();
    return true;
  }

  /** Makes box `b` ({ top, left, side } on the image) the kernel: its cells, cut in wasm. */
  takeBox(b, rebuild = true) {
    const img = this.image();
    const p = this.api.traceCorrelatePatch(img.data, { size: [img.h, img.w], top: b.top, left: b.left, kernelSize: b.side });
    this.player.pause();
    Object.assign(this.s, { kernel: 'custom', kernelSize: p.size[0], kernelValues: Array.from(p.values), box: { top: p.at[0], left: p.at[1], side: p.size[0] } });
    // The whole output, so every place the pattern returns is lit.
    this.s.step = 99999;
    this.draft = null;
    if (rebuild) this.rebuild();
  }

  /** Outlines the box being drawn (dashed) or the box that is the kernel (`#corr-box`). */
  drawBox() {
    const g = this.inGrid;
    const b = this.draft ?? this.s.box;
    if (!b || !this.tr) {
      this.boxEl?.remove();
      delete g.node.dataset.picked;
      delete g.node.dataset.draft;
      return;
    }
    const tr = this.tr;
    const [pt, pl] = tr.geometry.padding;
    const at = (r, c) => g.cells[(r + pt) * tr.pw + c + pl];
    const first = at(b.top, b.left);
    const last = at(b.top + b.side - 1, b.left + b.side - 1);
    if (!first || !last) return;
    if (!this.boxEl) this.boxEl = el('div.cs-box', { id: 'corr-box', 'aria-hidden': 'true' });
    if (this.boxEl.parentNode !== g.node) g.node.append(this.boxEl);
    this.boxEl.classList.toggle('cs-draft', !!this.draft);
    Object.assign(this.boxEl.style, {
      left: `${first.offsetLeft - 2}px`, top: `${first.offsetTop - 2}px`,
      width: `${last.offsetLeft + last.offsetWidth - first.offsetLeft + 4}px`,
      height: `${last.offsetTop + last.offsetHeight - first.offsetTop + 4}px`,
    });
    const where = `${b.top},${b.left},${b.side}`;
    if (this.draft) {
      g.node.dataset.draft = where;
      this.detNote.textContent = `Box: ${b.side}×${b.side} from row ${b.top}, column ${b.left} of the input. ${this.draft.keys ? 'Enter makes it the kernel, Escape cancels.' : 'Release to make it the kernel.'}`;
    } else {
      delete g.node.dataset.draft;
      g.node.dataset.picked = where;
    }
  }

  /** What the detector found, in words (counts and places from the trace). */
  detectorNote() {
    const tr = this.tr;
    const { box } = this.s;
    this.outGrid.mark('cs-same', tr.ncc ? tr.ncc.matches : []);
    const parts = [];
    if (box) parts.push(`The kernel is the ${box.side}×${box.side} box at row ${box.top}, column ${box.left} of the input (outlined).`);
    if (tr.ncc) {
      const m = tr.ncc.matches.length;
      parts.push(tr.ncc.kernelFlat
        ? 'Its values are all equal: a flat kernel has no pattern, so NCC is 0 everywhere.'
        : `NCC: ${m} window${m === 1 ? ' scores' : 's score'} at least ${fmt(tr.ncc.matchAt, 4)} (the same pattern, at any brightness), outlined green in the output.`);
    } else if (box && tr.moments.largest >= 0) {
      const k = tr.moments.largest;
      parts.push(`Plain correlation: the largest output is output[${tr.stepCell[2 * k]}, ${tr.stepCell[2 * k + 1]}] = ${fmt(tr.output[k], 3)}; brighter windows answer more too (try Normalised (NCC)).`);
    }
    this.detNote.textContent = parts.join(' ');
  }

  /** Lights up the windows that read padded input cell `i` (the trace's `readers` of it). */
  usesOf(i) {
    const tr = this.tr;
    // The steps that read cell i, recorded by the trace (wasm): no search here.
    const steps = tr.readers.subarray(tr.readerStart[i], tr.readerStart[i + 1]);
    this.inGrid.mark('cs-picked', [i]);
    this.outGrid.mark('cs-uses', steps);
    this.rule.textContent = `Input cell ${tr.paddedCell[2 * i]}, ${tr.paddedCell[2 * i + 1]} (padded grid) is read by ${steps.length} window${steps.length === 1 ? '' : 's'}: the outlined output cells.`;
  }

  buildIm2col() {
    const tr = this.tr;
    const head = el('tr', {}, el('th', { scope: 'col' }, 'window'),
      ...Array.from({ length: tr.taps }, (_, k) => el('th', { scope: 'col' }, `x${k + 1}`)),
      el('th.cs-sep', { scope: 'col' }, '· kernel ='), el('th', { scope: 'col' }, 'out'));
    this.imBody = el('tbody');
    const kernelRow = el('tr.cs-kernel-row', {}, el('th', { scope: 'row' }, 'kernel'),
      ...[...tr.kernel].map((v) => el('td', {}, fmt(v))), el('td.cs-sep'), el('td'));
    this.im2col.replaceChildren(el('table.cs-table', {}, el('thead', {}, head, kernelRow), this.imBody),
      el('p.cs-muted', {}, `${tr.steps} windows × ${tr.taps} taps, multiplied by a ${tr.taps}×1 kernel column: a ${tr.steps}×1 output, reshaped to ${tr.outH}×${tr.outW}.`),
      tr.ncc ? el('p.cs-muted', { id: 'corr-im2col-ncc' }, 'Normalised (NCC): each row and the kernel column are first centred (their mean subtracted), and each product is divided by the two norms, so the out column holds the NCC, from −1 to 1.') : null);
  }

  showIm2colRow(t) {
    const tr = this.tr;
    const lo = Math.max(0, Math.min(t - 2, tr.steps - 5));
    const hi = Math.min(tr.steps, lo + 5);
    const rows = [];
    for (let s = lo; s < hi; s++) {
      const cells = [];
      for (let k = 0; k < tr.taps; k++) cells.push(el('td', {}, fmt(tr.cols[s * tr.taps + k])));
      rows.push(el(s === t ? 'tr.cs-current' : 'tr', { 'data-row': s, 'aria-current': s === t ? 'true' : null },
        el('th', { scope: 'row' }, `${tr.stepCell[2 * s]},${tr.stepCell[2 * s + 1]}`), ...cells, el('td.cs-sep'),
        el('td.cs-out', { 'data-value': s <= t ? String(tr.output[s]) : null }, s <= t ? fmt(tr.output[s], 3) : '')));
    }
    this.imBody.replaceChildren(...rows);
  }

  getState() {
    const s = this.s;
    return writeLink(this.schema, {
      ...s,
      drawing: s.input === 'digit' && this.shared.strokes ? this.shared.strokes : null,
      kernelValues: s.kernel === 'custom' ? s.kernelValues : null,
      learnedIndex: s.kernel === 'learned' ? s.learnedIndex : null,
      normalized: s.normalized ? true : null,
      speed: this.player.speedName,
    });
  }

  setState(p) {
    this.restored = true;
    this.stale = true;
    const s = this.s;
    const { values: v, notes } = readLink(this.schema, p);
    const { drawing, kernelValues, speed: sp, ...rest } = v;
    if (drawing) {
      // The drawing travels in the link: rasterised and preprocessed as the pad does.
      const x = this.api.preprocess(rasterise(drawing), PAD_SIZE, PAD_SIZE);
      if (x) this.shared.setDigit(x, drawing);
    }
    // Whatever is not in the link is as the scene had it, but for NCC, which a link turns off
    // unless it says nc=1.
    Object.assign(s, { normalized: false }, rest);
    if (s.input === 'digit' && !this.shared.digit) notes.push('The link shows “your drawn digit” but holds no drawing: opened with letter A (draw one in the Draw scene).');
    if (v.kernelSize !== undefined) this.wantKs = v.kernelSize;
    if (kernelValues) {
      if (kernelValues.length === s.kernelSize * s.kernelSize) s.kernelValues = kernelValues;
      else if (s.kernel === 'custom') {
        notes.push(`Kernel values: ${kernelValues.length} numbers do not fill a ${s.kernelSize}×${s.kernelSize} kernel: opened with the delta kernel.`);
        s.kernel = 'delta';
      }
    }
    s.box = null;
    this.endPick(false);
    if (v.step !== undefined) this.wantStep = v.step;
    if (sp) this.player.speedName = sp;
    this.notes = notes;
    this.linkNotes(notes);
    if (this.shown) { this.rebuild(); this.stale = false; }
  }

  show() {
    if (!this.shown && !this.restored && this.shared.digit) this.s.input = 'digit';
    const again = this.shown && !this.stale;
    this.shown = true;
    this.stale = false;
    this.digitOption.disabled = !this.shared.digit;
    // A second visit with nothing changed meanwhile (a new digit rebuilds at once) shows what
    // is there: a scene switch stays quick.
    if (again && this.tr) { this.ctx.changed(); return; }
    if (this.s.kernel === 'learned' && !this.learned) this.pickKernel('learned');
    else this.rebuild();
  }

  hide() { this.player.pause(); }

  onKey(e) {
    if (this.draft?.keys && document.activeElement === this.inGrid.node && this.pickKey(e)) return true;
    return this.player.key(e);
  }
}
