// Scene "Transposed convolution": stride-n upsampling stepped input cell by input cell. Each
// input value stamps the kernel, scaled by itself, into the output canvas (col2im); cells are
// shaded by how many stamps cover them, so the checkerboard appears when k is not divisible
// by the stride. Beside it, in sync, the zero-insertion view of the same operator: zeros between
// the pixels, then an ordinary correlation with the flipped kernel. Below: the adjoint check
// ⟨K f, g⟩ = ⟨f, Kᵀ g⟩ and the round trip Conv2d(stride n) → ConvTranspose2d.
// Every number comes from the wasm traces (`traceTranspose`, `traceAdjoint`, `traceRoundTrip`).
import { Scene, el } from './base.js';
import { Grid, fmt, scaleOf } from './correlate-grid.js';
import { Player, numberInput, select, field } from './correlate-player.js';
import { formulaTranspose } from './correlate-common.js';
import { int, ints, oneOf, speed, readLink, writeLink } from './schema.js';
import { CheckerboardView } from './checkerboard.js';

const INPUTS = [['ones', 'all ones'], ['dot', 'single dot'], ['letter', 'letter A'], ['edges', 'edges'], ['checker', 'checkerboard'], ['random', 'random']];
const KERNELS = [['ones', 'ones'], ['bilinear', 'bilinear (tent)'], ['box', 'box'], ['delta', 'delta'], ['random', 'random']];
const AXES = ['rows', 'columns'];
const SIDES = ['top', 'left', 'bottom', 'right'];

/** Every setting of the scene, as the URL keeps it. */
export const SCHEMA = [
  oneOf('in', 'Input', INPUTS, 'random'),
  int('n', 'Input size', 2, 8, 4),
  oneOf('k', 'Kernel', KERNELS, 'ones'),
  int('ks', 'Kernel size', 1, 5, 3),
  ints('s', 'Stride', 2, 1, 6, [2, 2]),
  ints('p', 'Padding', 4, 0, 6, [0, 0, 0, 0]),
  ints('op', 'Output padding', 2, 0, 5, [0, 0]),
  ints('d', 'Dilation', 2, 1, 6, [1, 1]),
  int('t', 'Step', 0, 99999, 0),
  speed(),
  // The checkerboard section (two stacked layers beside resize-then-conv).
  oneOf('ci', 'Checkerboard input', INPUTS, 'ones'),
  int('cn', 'Checkerboard input size', 1, 8, 6),
  oneOf('cw', 'Checkerboard kernel', KERNELS, 'ones'),
  int('ck', 'Checkerboard kernel size', 1, 7, 3),
  int('cs', 'Checkerboard stride', 1, 3, 2),
];

export class TransposeScene extends Scene {
  static id = 'transpose';

  constructor(root, ctx) {
    super(root, ctx);
    this.s = { input: 'random', n: 4, kernel: 'ones', ks: 3, stride: [2, 2], padding: [0, 0, 0, 0], op: [0, 0], dilation: [1, 1], t: 0 };
    this.cb = { input: 'ones', n: 6, kernel: 'ones', k: 3, stride: 2 };
    this.build();
    this.shared.addEventListener('digit', () => { if (this.shown) this.roundTrip(); });
  }

  build() {
    const r = this.root;
    r.append(el('header.cs-head', {},
      el('h2', { text: 'Transposed convolution' }),
      el('p.cs-lede', {}, 'A stride-n transposed convolution upsamples: each input cell stamps the kernel, scaled by its value, ',
        'n cells further along the output, and overlapping stamps add up. Count the stamps per cell: when the kernel size is not ',
        'a multiple of the stride, some cells get more than their neighbours, and a checkerboard appears.')));

    const c = el('div.cs-controls', { role: 'group', 'aria-label': 'Transposed convolution settings' });
    this.inputSel = select('tr-input', 'Input image', INPUTS, this.s.input, (v) => { this.s.input = v; this.rebuild(); });
    this.sizeIn = numberInput('tr-size', 'Input size (cells per side)', { min: 2, max: 8, value: this.s.n, onchange: (v) => { this.s.n = v; this.rebuild(); } });
    this.kernelSel = select('tr-kernel', 'Kernel', KERNELS, this.s.kernel, (v) => { this.s.kernel = v; this.rebuild(); });
    this.ksIn = numberInput('tr-ksize', 'Kernel size', { min: 1, max: 5, value: this.s.ks, onchange: (v) => { this.s.ks = v; this.rebuild(); } });
    const num = (key, i, id, label, lo) => numberInput(id, label, {
      min: lo, max: 6, value: this.s[key][i], says: false,
      onchange: (v, want) => { this.refused(key, i, label, want, v); this.s[key][i] = v; this.rebuild(); },
    });
    this.geo = [
      ...[0, 1].map((a) => num('stride', a, `tr-stride-${'hw'[a]}`, `Stride ${AXES[a]}`, 1)),
      ...[0, 1, 2, 3].map((a) => num('padding', a, `tr-pad-${SIDES[a]}`, `Padding ${SIDES[a]}`, 0)),
      ...[0, 1].map((a) => num('dilation', a, `tr-dil-${'hw'[a]}`, `Dilation ${AXES[a]}`, 1)),
      ...[0, 1].map((a) => num('op', a, `tr-op-${'hw'[a]}`, `Output padding ${AXES[a]}`, 0)),
    ];
    c.append(
      field('Input', this.inputSel, this.sizeIn),
      field('Kernel', this.kernelSel, this.ksIn),
      field('Stride (rows, cols)', ...this.geo.slice(0, 2)),
      field('Padding (top, left, bottom, right)', ...this.geo.slice(2, 6)),
      field('Dilation (rows, cols)', ...this.geo.slice(6, 8)),
      field('Output padding (rows, cols)', ...this.geo.slice(8, 10)),
    );
    this.rule = el('p.cs-note', { id: 'tr-rule', role: 'status', 'aria-live': 'polite' });
    r.append(c, this.rule);
    this.player = new Player(r, { prefix: 'tr', label: 'Transposed convolution', onStep: (t) => this.showStep(t), reducedMotion: this.shared.reducedMotion });

    // One block that fits a 1280×800 screen: the stamps (input, kernel, this stamp's values,
    // the canvas so far, stamps per cell) and, beside them at the same cell size, the zero
    // insertion view whose output fills in step by step, in sync.
    const cols = el('div#stage.cs-two.tr-stage');
    r.append(cols);
    const left = el('section.cs-panel', { 'aria-label': 'Stamps (col2im)' }, el('h3', { text: 'Stamps: each input cell adds x · kernel (col2im)' }));
    const right = el('section.cs-panel', { 'aria-label': 'Zero insertion then the flipped kernel' }, el('h3', { text: 'The same: insert zeros, correlate with the flipped kernel' }));
    cols.append(left, right);
    const CELL = 24;
    const lrow = el('div.cs-stage');
    left.append(lrow);
    this.inGrid = new Grid(lrow, { id: 'tr-input-grid', label: 'Input; the stamping cell is outlined; click a cell to jump to its stamp', caption: 'input x', maxWidth: 8 * CELL, maxCell: CELL });
    this.kGrid = new Grid(lrow, { id: 'tr-kernel-grid', label: 'Kernel', caption: 'kernel K', maxWidth: 5 * CELL, maxCell: CELL });
    this.stampGrid = new Grid(lrow, { id: 'tr-stamp-values', label: 'This stamp: the input value times the kernel', caption: 'this stamp: x · K', maxWidth: 5 * CELL, maxCell: CELL });
    this.stampText = el('p.cs-sum.tr-text', { id: 'tr-stamp', 'aria-live': 'polite' });
    left.append(this.stampText);
    const lrow2 = el('div.cs-stage');
    left.append(lrow2);
    this.canvas = new Grid(lrow2, { id: 'tr-canvas', label: 'Output canvas: sums of the stamps so far; cells cropped by padding are hatched', caption: 'canvas so far (stamps added)', maxWidth: 12 * CELL, maxCell: CELL });
    this.cover = new Grid(lrow2, { id: 'tr-coverage', label: 'How many stamps cover each output cell', caption: 'stamps per cell', signed: false, maxWidth: 12 * CELL, maxCell: CELL });

    // Clicking an input cell jumps to its stamp.
    this.inGrid.node.addEventListener('click', (e) => {
      const c = e.target.closest?.('.cs-cell');
      if (!c || !this.tr) return;
      this.player.pause();
      this.player.go(Number(c.dataset.i));
    });
    const rrow = el('div.cs-stage');
    right.append(rrow);
    this.eqGrid = new Grid(rrow, { id: 'tr-eq-grid', label: 'Zero-inserted, padded input; the current pixel and one window are outlined', caption: 'zeros inserted (light), padding (dashed)', maxWidth: 14 * CELL, maxCell: CELL });
    this.fkGrid = new Grid(rrow, { id: 'tr-flipped', label: 'Flipped kernel', caption: 'kernel turned 180°', maxWidth: 5 * CELL, maxCell: CELL });
    this.eqText = el('p.cs-sum.tr-text', { id: 'tr-eq-sum', 'aria-live': 'polite' });
    right.append(this.eqText);
    const rrow2 = el('div.cs-stage');
    right.append(rrow2);
    this.eqOut = new Grid(rrow2, { id: 'tr-eq-output', label: 'Output of the correlation over the zero-inserted input: a cell appears once every stamp that reaches it has landed', caption: 'output: cells whose stamps have all landed', maxWidth: 12 * CELL, maxCell: CELL });

    this.formula = el('div.cs-formula', { id: 'tr-formula' });
    r.append(this.formula);

    this.buildCheckerboard(r);

    const adj = el('section.cs-panel', { 'aria-label': 'Adjoint check' },
      el('h3', { text: 'Why “transposed”: it is the adjoint of the strided convolution' }),
      el('p.cs-muted', {}, 'Let K be Conv2d with these settings (stride n: it shrinks), g this input and f a fixed random image of the output’s size. ',
        'The transposed convolution Kᵀ is defined by ⟨K f, g⟩ = ⟨f, Kᵀ g⟩ for every f and g, exactly as a transposed matrix.'));
    this.lhs = el('output.cs-big', { id: 'adj-lhs' });
    this.rhs = el('output.cs-big', { id: 'adj-rhs' });
    adj.append(el('div.cs-adjoint', {}, el('div', {}, el('span', {}, '⟨K f, g⟩ = '), this.lhs), el('div', {}, el('span', {}, '⟨f, Kᵀ g⟩ = '), this.rhs)));
    r.append(adj);

    const rt = el('section.cs-panel', { 'aria-label': 'Round trip' },
      el('h3', { text: 'Round trip: Conv2d(stride n), then ConvTranspose2d with the same kernel' }),
      el('p.cs-muted', { id: 'rt-note' }));
    const row = el('div.cs-stage.cs-rt');
    rt.append(row);
    const fig = (id, cap) => new Grid(row, { id, label: cap, caption: cap, maxWidth: 168, flat: true });
    this.rtIn = fig('rt-input', 'input 28×28');
    this.rtDown = fig('rt-down', 'Conv2d: downscaled');
    this.rtUp = fig('rt-up', 'ConvTranspose2d: back up');
    r.append(rt);
  }

  /** The checkerboard section: its own controls, both paths, the rule in words. */
  buildCheckerboard(r) {
    const sec = el('section#checkerboard.cs-panel.cb', { 'aria-label': 'Checkerboard artifacts: two stacked transposed convolutions and the fix' });
    r.append(sec);
    sec.append(el('h3', { text: 'Checkerboard artifacts: two layers deep, and the fix' }),
      el('p.cs-muted', {}, 'Stack two stride-n transposed convolutions and the uneven overlap compounds; upsample by nearest neighbour and then ',
        'convolve, and every cell away from the border gets the same number of stamps. Stamps per cell counts the paths from the ',
        'input to each cell (the output for an all-ones image and kernel). ',
        el('a', { href: 'https://distill.pub/2016/deconv-checkerboard/', rel: 'noopener' }, 'Odena, Dumoulin & Olah, Distill 2016'), '.'));
    const c = el('div.cs-controls', { role: 'group', 'aria-label': 'Checkerboard settings' });
    const cb = this.cb;
    this.cbInput = select('cb-input', 'Checkerboard input image', INPUTS, cb.input, (v) => { cb.input = v; this.checkerboard(); });
    this.cbSize = numberInput('cb-size', 'Checkerboard input size (cells per side)', { min: 1, max: 8, value: cb.n, says: false, onchange: (v, want) => { this.cbRefused('Input size', want, v, this.cbSize); cb.n = v; this.checkerboard(); } });
    this.cbKernel = select('cb-kernel', 'Checkerboard kernel', KERNELS, cb.kernel, (v) => { cb.kernel = v; this.checkerboard(); });
    this.cbK = numberInput('cb-ksize', 'Checkerboard kernel size', { min: 1, max: 7, value: cb.k, says: false, onchange: (v, want) => { this.cbRefused('Kernel size', want, v, this.cbK); cb.k = v; this.checkerboard(); } });
    this.cbS = numberInput('cb-stride', 'Checkerboard stride', { min: 1, max: 3, value: cb.stride, says: false, onchange: (v, want) => { this.cbRefused('Stride', want, v, this.cbS); cb.stride = v; this.checkerboard(); } });
    const quick = (k, text) => el('button.secondary', { type: 'button', 'data-k': String(k), onclick: () => { cb.k = k; cb.stride = 2; this.checkerboard(); } }, text);
    c.append(
      field('Input', this.cbInput, this.cbSize),
      field('Kernel', this.cbKernel, this.cbK),
      field('Stride', this.cbS),
      field('Try', quick(3, 'k = 3, stride 2 (uneven)'), quick(4, 'k = 4, stride 2 (even)')),
    );
    sec.append(c);
    this.cbRule = el('p.cs-note.cb-rule', { id: 'cb-rule', role: 'status', 'aria-live': 'polite' });
    sec.append(this.cbRule);
    // On a phone a stage's output and its counts still sit side by side.
    this.cbView = new CheckerboardView(sec, { px: matchMedia('(max-width: 520px)').matches ? 112 : 168 });
  }

  /** Says why a typed checkerboard value was refused (the range is the trace's own). */
  cbRefused(label, want, got, input) {
    this.cbNote = want === got || !Number.isFinite(want) ? '' : `${label} ${want} is outside ${input.min} to ${input.max}, what this section draws, so it is ${got}.`;
  }

  checkerboard() {
    const { api, cb } = this;
    const x = api.tracePresetImage({ name: cb.input, size: cb.n, seed: 3 });
    const ker = api.tracePresetKernel({ name: cb.kernel, size: cb.k, seed: 5 });
    const c = api.traceCheckerboard(x, ker.values, { size: cb.n, kernelSize: ker.size, stride: cb.stride });
    this.cbView.update(c);
    // The steppers reach exactly what the trace draws (its limits, from wasm).
    for (const [inp, key] of [[this.cbSize, 'size'], [this.cbK, 'kernelSize'], [this.cbS, 'stride']]) [inp.min, inp.max] = c.limits[key];
    this.cbInput.value = cb.input;
    this.cbSize.value = cb.n;
    this.cbKernel.value = cb.kernel;
    this.cbK.value = cb.k;
    this.cbS.value = cb.stride;
    const rule = c.even[0]
      ? `k = ${c.kh} is a multiple of the stride ${c.stride[0]}: every cell gets the same number of overlapping stamps, so the transposed convs are even too.`
      : `k = ${c.kh} is not a multiple of the stride ${c.stride[0]}: neighbouring cells get different numbers of overlapping stamps (uneven overlap), and a second layer multiplies the unevenness. Nearest-neighbour upsampling then a conv stays even.`;
    this.cbRule.textContent = `${this.cbNote ? `${this.cbNote} ` : ''}${rule}`;
    this.cbNote = '';
    this.cbRule.dataset.even = String(c.even[0]);
    if (this.shown) this.ctx.changed?.();
  }

  image() {
    return { data: this.api.tracePresetImage({ name: this.s.input, size: this.s.n, seed: 3 }), h: this.s.n, w: this.s.n };
  }

  kernel() {
    const p = this.api.tracePresetKernel({ name: this.s.kernel, size: this.s.ks, seed: 5 });
    return { values: p.values, k: p.size };
  }

  rebuild() {
    const { api, s } = this;
    const img = this.image();
    const ker = this.kernel();
    let why = null;
    try { api.traceTranspose(img.data, ker.values, this.setting(img, ker)); } catch (err) { why = err.message; }
    const st = api.traceTransposeSettle(this.setting(img, ker));
    const moved = [['stride', 'stride'], ['padding', 'padding'], ['dilation', 'dilation'], ['op', 'outputPadding']]
      .filter(([k, w]) => st[w].join() !== s[k].join());
    if (!this.ruleFresh) this.rule.textContent = moved.length && why
      ? `Adjusted ${moved.map(([k, w]) => `${w} to ${st[w].join(', ')}`).join(' and ')}: ${why}`
      : '';
    this.ruleFresh = false;
    s.stride = st.stride;
    s.padding = st.padding;
    s.dilation = st.dilation;
    s.op = st.outputPadding;
    const rg = api.traceTransposeRanges({ ...this.setting(img, ker), cap: 6 });
    const ranges = [...rg.stride, ...rg.padding, ...rg.dilation, ...rg.outputPadding];
    const values = [...s.stride, ...s.padding, ...s.dilation, ...s.op];
    this.geo.forEach((inp, i) => { [inp.min, inp.max] = ranges[i]; inp.value = values[i]; });
    this.inputSel.value = s.input;
    this.sizeIn.value = s.n;
    this.kernelSel.value = s.kernel;
    this.ksIn.value = s.ks;

    const t = api.traceTranspose(img.data, ker.values, this.setting(img, ker));
    const e = t.equivalent;
    this.img = img;
    this.ker = ker;
    this.tr = {
      h: t.h, w: t.w, k: t.kh, fullH: t.fullH, fullW: t.fullW, outH: t.outH, outW: t.outW, steps: t.steps, taps: t.taps,
      input: img.data, kernel: t.kernel, stampFull: t.stampFull, stampOut: t.stampOut, stampValue: t.stampValue,
      full: t.full, output: t.output, coverageFull: t.coverageFull, canvasOutput: t.canvasOutput, terms: t.terms, completeAt: t.completeAt,
      valueMax: t.valueMax, signed: t.signed, coverageMax: t.coverageMax,
      stampInside: t.stampInside, stampFocus: t.stampFocus, stampCell: t.stampCell, stampCorner: t.stampCorner,
      eqH: e.corr.h, eqW: e.corr.w, eqKind: e.kind, eqGrid: e.corr.padded, eqPosition: e.position, eqKernel: e.corr.kernel,
      eqWindow: e.corr.window, eqProducts: e.corr.products, eqOutput: e.corr.output,
    };
    const tr = this.tr;
    // One scale and sign for every step's stamp, canvas and output (from the trace), so colours
    // keep their meaning.
    this.scale = tr.valueMax;
    this.signed = tr.signed;
    this.maxCover = tr.coverageMax;
    this.inGrid.resize(tr.h, tr.w);
    this.inGrid.set(tr.input);
    this.kGrid.resize(tr.k, tr.k);
    this.kGrid.set(tr.kernel);
    this.stampGrid.resize(tr.k, tr.k);
    this.fkGrid.resize(tr.k, tr.k);
    this.fkGrid.set(tr.eqKernel);
    // The canvas and the zero-insertion view share one cell size, so they read at the same scale.
    const cell = Math.max(4, Math.min(24, Math.floor(264 / Math.max(tr.fullW, tr.eqW, tr.outW))));
    for (const g of [this.canvas, this.cover, this.eqGrid, this.eqOut]) {
      if (g.cellPx !== cell) g.h = 0;
      g.maxCell = cell;
      g.maxWidth = 10000;
    }
    this.canvas.resize(tr.fullH, tr.fullW);
    this.canvas.tag('cs-crop', (i) => tr.canvasOutput[i] < 0);
    this.cover.resize(tr.fullH, tr.fullW);
    this.cover.tag('cs-crop', (i) => tr.canvasOutput[i] < 0);
    this.eqGrid.resize(tr.eqH, tr.eqW);
    this.eqGrid.set(tr.eqGrid, { scale: scaleOf(tr.input) });
    this.eqGrid.tag('cs-zero', (i) => tr.eqKind[i] === 1);
    this.eqGrid.tag('cs-pad', (i) => tr.eqKind[i] === 2);
    this.eqOut.resize(tr.outH, tr.outW);
    this.formula.replaceChildren(...formulaTranspose(tr.terms.rows, 'rows', 'H'), ...formulaTranspose(tr.terms.cols, 'columns', 'W'));
    this.adjoint(img, ker);
    this.roundTrip();
    this.checkerboard();
    if (this.wantStep !== undefined && this.wantStep > tr.steps - 1) {
      this.linkNotes([...(this.notes ?? []), `Step ${this.wantStep + 1} is past the last of these ${tr.steps} steps: opened at step ${tr.steps}.`]);
    }
    this.wantStep = undefined;
    this.player.setSteps(tr.steps, Math.min(s.t, tr.steps - 1));
    this.showStep(this.player.t);
  }

  showStep(t) {
    const tr = this.tr;
    if (!tr) return;
    this.s.t = t;
    const { canvas, coverage: cover } = this.api.traceTransposeAfter(this.img.data, this.ker.values, this.setting(this.img, this.ker), t + 1);
    this.canvas.set(canvas, { scale: this.scale, signed: this.signed, shown: (i) => cover[i] > 0 });
    this.cover.counts(cover, this.maxCover);
    this.stampGrid.set(tr.stampValue.subarray(t * tr.taps, (t + 1) * tr.taps), { scale: this.scale, signed: this.signed });
    // An output cell is complete once its last stamp has landed (the step is the trace's).
    this.eqOut.set(tr.eqOutput, { scale: this.scale, signed: this.signed, shown: (o) => tr.completeAt[o] <= t });
    const taps = tr.stampFull.subarray(t * tr.taps, (t + 1) * tr.taps);
    this.canvas.mark('cs-win', taps);
    this.cover.mark('cs-win', taps);
    this.inGrid.mark('cs-cur', [t]);
    // Where the stamp lands, which input cell makes it, its corner and its first output cell:
    // all recorded by the trace (wasm); marks skip the −1 of cropped taps.
    this.eqOut.mark('cs-win', tr.stampOut.subarray(t * tr.taps, (t + 1) * tr.taps));
    this.eqGrid.mark('cs-cur', [tr.eqPosition[t]]);
    const [i, j] = tr.stampCell.subarray(2 * t, 2 * t + 2);
    const [cy, cx] = tr.stampCorner.subarray(2 * t, 2 * t + 2);
    const cropped = tr.taps - tr.stampInside[t];
    this.stampText.replaceChildren(`Stamp ${t + 1}: input[${i}, ${j}] = `, el('b', {}, fmt(tr.input[t], 3)),
      ` adds ${fmt(tr.input[t], 3)} × kernel into the outlined cells, corner at canvas (${cy}, ${cx})` +
      `${cropped > 0 ? ` (${cropped} of its ${tr.taps} cells fall in the cropped border)` : ''}.`);
    // The window of the first output cell this stamp reaches, on the zero-inserted grid.
    const focus = tr.stampFocus[t];
    if (focus >= 0) {
      const win = tr.eqWindow.subarray(focus * tr.taps, (focus + 1) * tr.taps);
      this.eqGrid.mark('cs-win', win);
      this.eqOut.mark('cs-cur', [focus]);
      // Rounded in wasm so that the shown terms add up to the shown sum (3 decimals each).
      const r = this.api.traceRoundedSum(tr.eqProducts.subarray(focus * tr.taps, (focus + 1) * tr.taps), 3);
      const prods = r.terms.map((v) => fmt(v, 3)).filter((x) => x !== '0');
      this.eqText.replaceChildren(`output[${Math.floor(focus / tr.outW)}, ${focus % tr.outW}] = Σ window × flipped kernel = ${prods.length ? prods.join(' + ').replaceAll('+ −', '− ') : '0'} = `,
        el('b', { id: 'tr-eq-value', 'data-value': String(tr.eqOutput[focus]), 'data-shown': fmt(r.total, 3) }, fmt(r.total, 3)),
        ', what the stamps add up to once all have landed.');
    } else {
      this.eqGrid.mark('cs-win', []);
      this.eqOut.mark('cs-cur', []);
      this.eqText.textContent = 'This stamp lands entirely in the cropped border.';
    }
    this.player.changed(this.ctx.changed);
  }

  adjoint(img, ker) {
    const s = this.s;
    const a = this.api.traceAdjoint(img.data, ker.values, { ...this.setting(img, ker), seed: 17 });
    this.lhs.value = a.lhs.toPrecision(7);
    this.rhs.value = a.rhs.toPrecision(7);
    this.lhs.dataset.value = String(a.lhs);
    this.rhs.dataset.value = String(a.rhs);
  }

  roundTrip() {
    const { api, s } = this;
    const ker = this.kernel();
    const x = this.shared.digit ?? api.tracePresetImage({ name: 'letter', size: 28, seed: 0 });
    let rt;
    try {
      rt = api.traceRoundTrip(x, ker.values, { size: 28, kernelSize: ker.k, stride: s.stride, padding: s.padding, dilation: s.dilation });
    } catch (err) {
      this.rtNote(`Conv2d cannot run with these settings on 28×28: ${err.message}`);
      return;
    }
    this.rtIn.resize(28, 28);
    this.rtIn.set(x);
    this.rtDown.resize(rt.downH, rt.downW);
    this.rtDown.set(rt.down, { text: false });
    this.rtUp.resize(28, 28);
    this.rtUp.set(rt.up);
    this.rtDown.node.dataset.shape = `${rt.downH}x${rt.downW}`;
    const op = rt.outputPadding;
    this.rtNote(`${this.shared.digit ? 'Your digit' : 'A letter'} (28×28) → Conv2d stride ${s.stride.join('×')} → ${rt.downH}×${rt.downW} → ConvTranspose2d (output_padding ${op[0]}, ${op[1]}) → 28×28. ` +
      'The transposed conv restores the size, not the image: it is the adjoint, not the inverse.');
  }

  /** Says why a typed value was refused: the kernels' own error for it (from wasm). */
  refused(key, i, label, want, got) {
    this.rule.textContent = '';
    if (want === got || !Number.isFinite(want)) return;
    const s = { ...this.s, [key]: this.s[key].slice() };
    s[key][i] = want;
    const img = this.image();
    const ker = this.kernel();
    const setting = { size: [img.h, img.w], kernelSize: ker.k, stride: s.stride, padding: s.padding, dilation: s.dilation, outputPadding: s.op };
    let why = `this scene shows values up to 6`;
    try { this.api.traceTranspose(img.data, ker.values, setting); } catch (err) { why = err.message; }
    this.rule.textContent = `${label} ${want} is not possible with the other settings, so it stays ${got}: ${why}`;
    this.ruleFresh = true;
  }

  /** The trace setting of the current controls. */
  setting(img, ker) {
    const s = this.s;
    return { size: [img.h, img.w], kernelSize: ker.k, stride: s.stride, padding: s.padding, dilation: s.dilation, outputPadding: s.op };
  }

  rtNote(text) { this.root.querySelector('#rt-note').textContent = text; }

  getState() {
    const s = this.s;
    return writeLink(SCHEMA, { in: s.input, n: s.n, k: s.kernel, ks: s.ks, s: s.stride, p: s.padding, op: s.op, d: s.dilation, t: s.t, sp: this.player.speedName, ci: this.cb.input, cn: this.cb.n, cw: this.cb.kernel, ck: this.cb.k, cs: this.cb.stride });
  }

  setState(p) {
    const s = this.s;
    const { values: v, notes } = readLink(SCHEMA, p);
    if (v.in) s.input = v.in;
    if (v.k) s.kernel = v.k;
    if (v.n !== undefined) s.n = v.n;
    if (v.ks !== undefined) s.ks = v.ks;
    if (v.s) s.stride = v.s;
    if (v.p) s.padding = v.p;
    if (v.op) s.op = v.op;
    if (v.d) s.dilation = v.d;
    if (v.t !== undefined) { s.t = v.t; this.wantStep = v.t; }
    if (v.sp) this.player.speedName = v.sp;
    if (v.ci) this.cb.input = v.ci;
    if (v.cn !== undefined) this.cb.n = v.cn;
    if (v.cw) this.cb.kernel = v.cw;
    if (v.ck !== undefined) this.cb.k = v.ck;
    if (v.cs !== undefined) this.cb.stride = v.cs;
    this.notes = notes;
    this.linkNotes(notes);
    if (this.shown) this.rebuild();
  }

  show() { this.shown = true; this.rebuild(); }

  hide() { this.player.pause(); }

  onKey(e) { return this.player.key(e); }
}
