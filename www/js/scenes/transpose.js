// Scene "Transposed convolution": stride-n upsampling stepped input cell by input cell. Each
// input value stamps the kernel, scaled by itself, into the output canvas (col2im); cells are
// shaded by how many stamps cover them, so the checkerboard appears when k is not divisible
// by the stride. Beside it, in sync, the zero-insertion view of the same operator: zeros between
// the pixels, then an ordinary correlation with the flipped kernel. Below: the adjoint check
// ⟨K f, g⟩ = ⟨f, Kᵀ g⟩ and the round trip Conv2d(stride n) → ConvTranspose2d.
// Every number comes from the wasm traces (`traceTranspose`, `traceAdjoint`, `traceRoundTrip`).
import { Scene, el } from '../scene.js';
import { Grid, fmt } from '../stepper/grid.js';
import { largestScale } from '../wasm.js';
import { Player, field } from '../stepper/player.js';
import { formulaTranspose } from '../stepper/formulas.js';
import { int, ints, oneOf, speed, readLink, writeLink, buildControls, defaultsOf, pairUi, paddingUi } from '../schema.js';
import { CheckerboardView } from '../views/checkerboard.js';
import { ShowMe } from '../views/showme.js';

/**
 * "Show me": the scene's one idea and the moments of its scripted run. Every moment is found in
 * the trace's data (`moments()`): the step where an output cell gets its second stamp, the step
 * where a cell's last stamp lands (the two views then show the same number), the end.
 */
const SHOW_ME = {
  idea: 'Each input cell stamps the kernel, times its value, onto the output; overlaps add up, and uneven overlap makes a checkerboard.',
  stops: [
    { caption: () => 'Stamp 1: the first input cell (outlined) adds its value × the kernel to the output canvas.',
      go: async (sc, run) => { await run.steps(sc.player, 0); } },
    { caption: (m) => `Stamp ${m.second.t + 1}: the green output cell gets its second stamp; overlapping stamps add up, so it now holds more than its neighbours and the checkerboard starts.`,
      go: async (sc, run) => { const m = sc.moments(); await run.steps(sc.player, m.second.t); sc.pinMoment(m.second); } },
    { caption: (m) => `Stamp ${m.same.t + 1}: the last of the green cell’s ${m.same.n} stamps has landed: both views now show the same number, ${m.same.shown}.`,
      go: async (sc, run) => { const m = sc.moments(); await run.steps(sc.player, m.same.t); sc.pinMoment(m.same); } },
    { caption: (m) => `Every stamp has landed: inside the border cells get ${m.levels}; kernel ${m.k} is not a multiple of stride ${m.s}: uneven overlap, a checkerboard.`,
      go: async (sc, run) => { await run.steps(sc.player, sc.tr.steps - 1, 90); } },
    { caption: (m) => `Kernel ${m.k}, a multiple of stride ${m.s}: inside the border every cell gets ${m.levels}: even, no checkerboard.`,
      go: async (sc, run) => { sc.s.kernelSize = 2 * sc.s.stride[0]; sc.rebuildAt(0); await run.wait(400); await run.steps(sc.player, sc.tr.steps - 1, 90); } },
  ],
};
import { CodeView } from '../views/code.js';

const INPUTS = [['ones', 'all ones'], ['dot', 'single dot'], ['letter', 'letter A'], ['edges', 'edges'], ['checker', 'checkerboard'], ['random', 'random']];
const KERNELS = [['ones', 'ones'], ['bilinear', 'bilinear (tent)'], ['box', 'box'], ['delta', 'delta'], ['random', 'random']];
/** Grids with more cells than this are drawn on one canvas (a div per cell was too slow). */
const CANVAS_AT = 256;

/**
 * Every setting of the scene, its control and its URL key; `lim`: the control ranges from wasm
 * (`traceControls()`: `.transpose` for the stepped conv, `.checkerboard` for its section).
 */
export const schemaOf = ({ transpose: lim, checkerboard: cb }) => [
  oneOf('input=in', 'Input', INPUTS, 'random', { id: 'tr-input', label: 'Input image', group: 'Input' }),
  int('size=n', 'Input size', lim.size[0], lim.size[1], 4, { id: 'tr-size', label: 'Input size (cells per side)', group: 'Input' }),
  oneOf('kernel=k', 'Kernel', KERNELS, 'ones', { id: 'tr-kernel', group: 'Kernel' }),
  int('kernelSize=ks', 'Kernel size', lim.kernelSize[0], lim.kernelSize[1], 3, { id: 'tr-ksize', group: 'Kernel' }),
  ints('stride=s', 'Stride', 2, 1, lim.cap, [2, 2], pairUi('tr', 'stride', 'Stride')),
  ints('padding=p', 'Padding', 4, 0, lim.cap, [0, 0, 0, 0], paddingUi('tr')),
  ints('dilation=d', 'Dilation', 2, 1, lim.cap, [1, 1], pairUi('tr', 'dil', 'Dilation')),
  ints('outputPadding=op', 'Output padding', 2, 0, lim.cap, [0, 0], pairUi('tr', 'op', 'Output padding')),
  int('step=t', 'Step', 0, 99999, 0),
  speed(),
  // The checkerboard section (two stacked layers beside resize-then-conv), with its own controls.
  oneOf('cbInput=ci', 'Checkerboard input', INPUTS, 'ones', { id: 'cb-input', label: 'Checkerboard input image', group: 'Input', cb: true }),
  int('cbSize=cn', 'Checkerboard input size', cb.size[0], cb.size[1], 6, { id: 'cb-size', label: 'Checkerboard input size (cells per side)', group: 'Input', says: false, cb: true }),
  oneOf('cbKernel=cw', 'Checkerboard kernel', KERNELS, 'ones', { id: 'cb-kernel', group: 'Kernel', cb: true }),
  int('cbKernelSize=ck', 'Checkerboard kernel size', cb.kernelSize[0], cb.kernelSize[1], 3, { id: 'cb-ksize', group: 'Kernel', says: false, cb: true }),
  int('cbStride=cs', 'Checkerboard stride', cb.stride[0], cb.stride[1], 2, { id: 'cb-stride', group: 'Stride', says: false, cb: true }),
];
/** The geometry settings, which wasm checks against each other. */
const GEO = ['stride', 'padding', 'dilation', 'outputPadding'];
/** The checkerboard section's settings (it is drawn again only when one of them moves). */
const CB = ['cbInput', 'cbSize', 'cbKernel', 'cbKernelSize', 'cbStride'];

export class TransposeScene extends Scene {
  static id = 'transpose';

  constructor(root, ctx) {
    super(root, ctx);
    this.lim = this.api.traceControls();
    this.schema = schemaOf(this.lim);
    this.s = defaultsOf(this.schema, ['speed']);
    this.build();
    this.shared.addEventListener('digit', () => { if (this.shown && !this.root.hidden) this.roundTrip(); else this.digitStale = true; });
    // The cells are fitted to the stage's width: fitted again when the window is resized.
    let pending = null;
    this.pinUnderBar();
    addEventListener('resize', () => {
      this.pinUnderBar();
      clearTimeout(pending);
      pending = setTimeout(() => { if (this.shown && !this.root.hidden && this.tr) this.rebuild(); }, 150);
    });
  }

  build() {
    const r = this.root;
    r.append(el('header.cs-head', {},
      el('h2', { text: 'Transposed convolution' }),
      el('p.cs-lede', {}, 'A stride-n transposed convolution upsamples: each input cell stamps the kernel, scaled by its value, ',
        'n cells further along the output, and overlapping stamps add up. Count the stamps per cell: when the kernel size is not ',
        'a multiple of the stride, some cells get more than their neighbours, and a checkerboard appears.')));

    const c = el('div.cs-controls', { role: 'group', 'aria-label': 'Transposed convolution settings' });
    // The controls are built from the schema: ids, labels, ranges (the sizes from wasm).
    const { controls, fields } = buildControls(this.schema.filter((f) => !f.ui?.cb), (key, v, want, part) => this.set(key, v, want, part));
    this.ctl = controls;
    this.inputSel = controls.input.input;
    this.sizeIn = controls.size.input;
    this.kernelSel = controls.kernel.input;
    this.ksIn = controls.kernelSize.input;
    c.append(...fields);
    this.rule = el('p.cs-note', { id: 'tr-rule', role: 'status', 'aria-live': 'polite' });
    r.append(c, this.rule);
    // The player (with the "Show me" bar and room for a short code block) stays in view: it is
    // sticky under the top bar, so the stage below it always has its controls at hand.
    this.dock = el('div.tr-dock');
    r.append(this.dock);
    this.showMe = new ShowMe(this.dock, {
      id: 'transpose', idea: SHOW_ME.idea, scope: r,
      stops: SHOW_ME.stops.map((stop) => {
        const scene = this;
        return { get caption() { return stop.caption(scene.moments()); }, go: (run) => stop.go(scene, run) };
      }),
      before: () => this.showMeStart(),
      // The last caption stays pinned (on a phone) until the viewer does something.
      after: () => { this.dock.dataset.done = 'true'; },
    });
    for (const type of ['pointerdown', 'keydown', 'change']) r.addEventListener(type, () => { delete this.dock.dataset.done; }, true);
    this.player = new Player(this.dock, { prefix: 'tr', label: 'Transposed convolution', onStep: (t) => this.showStep(t), reducedMotion: this.shared.reducedMotion });
    // The PyTorch line sits with the player, so it stays on the first screen with the stage.
    this.code = new CodeView(this.dock, { id: 'transpose', title: 'This transposed convolution in PyTorch' });

    // One block that fits a 1280×800 screen under the player: the stamps (input, kernel, this
    // stamp's values, the canvas so far, stamps per cell) and, beside them at the same cell size,
    // the zero-insertion view whose output fills in step by step, in sync. Every grid says
    // whether it is an input or an output.
    const cols = el('div#stage.cs-two.tr-stage');
    this.stage = cols;
    r.append(cols);
    const left = el('section.cs-panel.tr-view', { 'aria-label': 'Stamps (col2im)', 'data-view': 'stamps' },
      el('h3', {}, 'Stamps: each ', el('em', {}, 'input'), ' cell adds x · kernel to the ', el('em', {}, 'output'), ' (col2im)'));
    const right = el('section.cs-panel.tr-view', { 'aria-label': 'Zero insertion then the flipped kernel', 'data-view': 'zeros' },
      el('h3', {}, 'The same: zeros into the ', el('em', {}, 'input'), ', then correlate with K turned 180°'));
    cols.append(left, right);
    const CELL = 24;
    const GRID = { maxCell: CELL, canvasAt: CANVAS_AT };
    const lrow = el('div.cs-stage.tr-row1');
    left.append(lrow);
    this.inGrid = new Grid(lrow, { ...GRID, id: 'tr-input-grid', role: 'input', label: 'Input x; the stamping cell is outlined; click a cell to jump to its stamp', caption: 'x', maxWidth: 8 * CELL });
    this.kGrid = new Grid(lrow, { ...GRID, id: 'tr-kernel-grid', role: 'kernel', label: 'Kernel K', caption: 'K', maxWidth: 5 * CELL });
    this.stampGrid = new Grid(lrow, { ...GRID, id: 'tr-stamp-values', role: 'stamp', label: 'This stamp: the input value times the kernel', caption: 'x · K', maxWidth: 5 * CELL });
    this.stampText = el('p.cs-sum.tr-text', { id: 'tr-stamp', 'aria-live': 'polite' });
    lrow.append(this.stampText);
    const lrow2 = el('div.cs-stage.tr-row2');
    left.append(lrow2);
    this.canvas = new Grid(lrow2, { ...GRID, id: 'tr-canvas', role: 'output', label: 'Output canvas: sums of the stamps so far; cells cropped by padding are hatched', caption: 'canvas: stamps so far', maxWidth: 12 * CELL });
    this.cover = new Grid(lrow2, { ...GRID, id: 'tr-coverage', role: 'output', label: 'How many stamps cover each output cell', caption: 'stamps per cell', signed: false, maxWidth: 12 * CELL });

    // Clicking an input cell jumps to its stamp.
    this.inGrid.node.addEventListener('click', (e) => {
      const i = this.inGrid.cellAt(e);
      if (i < 0 || !this.tr) return;
      this.player.pause();
      this.player.go(i);
    });
    const rrow = el('div.cs-stage.tr-row1');
    right.append(rrow);
    this.fkGrid = new Grid(rrow, { ...GRID, id: 'tr-flipped', role: 'kernel', label: 'Flipped kernel', caption: 'K turned 180°', maxWidth: 5 * CELL });
    this.eqText = el('p.cs-sum.tr-text', { id: 'tr-eq-sum', 'aria-live': 'polite' });
    rrow.append(this.eqText);
    const rrow2 = el('div.cs-stage.tr-row2');
    right.append(rrow2);
    this.eqGrid = new Grid(rrow2, { ...GRID, id: 'tr-eq-grid', role: 'zeros', label: 'Input with zeros inserted and padded; the current pixel and one window are outlined', caption: 'padding hatched', maxWidth: 14 * CELL });
    this.eqOut = new Grid(rrow2, { ...GRID, id: 'tr-eq-output', role: 'output', label: 'Output of the correlation over the zero-inserted input: a cell appears once every stamp that reaches it has landed', caption: 'complete cells', maxWidth: 12 * CELL });

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
    const fig = (id, cap) => new Grid(row, { id, label: cap, caption: cap, maxWidth: 168, flat: true, canvasAt: CANVAS_AT });
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
    const said = { cbSize: 'Input size', cbKernelSize: 'Kernel size', cbStride: 'Stride' };
    const { controls, fields } = buildControls(this.schema.filter((f) => f.ui?.cb), (name, v, want) => {
      if (said[name]) this.cbRefused(said[name], want, v, controls[name].input);
      this.s[name] = v;
      this.checkerboard();
    });
    this.cbCtl = controls;
    const quick = (k, text) => el('button.secondary', { type: 'button', 'data-k': String(k), onclick: () => { this.s.cbKernelSize = k; this.s.cbStride = 2; this.checkerboard(); } }, text);
    c.append(
      ...fields,
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
    const { api, s } = this;
    const x = api.tracePresetImage({ name: s.cbInput, size: s.cbSize, seed: 3 });
    const ker = api.tracePresetKernel({ name: s.cbKernel, size: s.cbKernelSize, seed: 5 });
    const c = api.traceCheckerboard(x, ker.values, { size: s.cbSize, kernelSize: ker.size, stride: s.cbStride });
    this.cbView.update(c, api.pytorchCode({ op: 'checkerboard', size: s.cbSize, kernelSize: ker.size, stride: s.cbStride }));
    // The steppers reach exactly what the trace draws (its limits, from wasm).
    for (const [name, limit] of [['cbSize', 'size'], ['cbKernelSize', 'kernelSize'], ['cbStride', 'stride']]) this.cbCtl[name].range(0, c.limits[limit]);
    for (const name of CB) this.cbCtl[name].set(s[name]);
    const rule = c.even[0]
      ? `k = ${c.kh} is a multiple of the stride ${c.stride[0]}: every cell gets the same number of overlapping stamps, so the transposed convs are even too.`
      : `k = ${c.kh} is not a multiple of the stride ${c.stride[0]}: neighbouring cells get different numbers of overlapping stamps (uneven overlap), and a second layer multiplies the unevenness. Nearest-neighbour upsampling then a conv stays even.`;
    this.cbRule.textContent = `${this.cbNote ? `${this.cbNote} ` : ''}${rule}`;
    this.cbNote = '';
    this.cbRule.dataset.even = String(c.even[0]);
    if (this.shown) this.ctx.changed?.();
  }

  image() {
    return { data: this.api.tracePresetImage({ name: this.s.input, size: this.s.size, seed: 3 }), h: this.s.size, w: this.s.size };
  }

  kernel() {
    const p = this.api.tracePresetKernel({ name: this.s.kernel, size: this.s.kernelSize, seed: 5 });
    return { values: p.values, k: p.size };
  }

  rebuild() {
    const { api, s } = this;
    const img = this.image();
    const ker = this.kernel();
    let why = null;
    let t = null;
    try { t = api.traceTranspose(img.data, ker.values, this.setting(img, ker)); } catch (err) { why = err.message; }
    const st = api.traceTransposeSettle(this.setting(img, ker));
    const moved = GEO.filter((k) => st[k].join() !== s[k].join());
    if (!this.ruleFresh) this.rule.textContent = moved.length && why
      ? `Adjusted ${moved.map((k) => `${k} to ${st[k].join(', ')}`).join(' and ')}: ${why}`
      : '';
    this.ruleFresh = false;
    for (const name of GEO) s[name] = st[name];
    const rg = api.traceTransposeRanges({ ...this.setting(img, ker), cap: this.lim.transpose.cap });
    // Each geometry stepper reaches exactly what wasm says is valid with the others held.
    for (const name of GEO) {
      rg[name].forEach((r, i) => this.ctl[name].range(i, r));
      this.ctl[name].set(s[name]);
    }
    for (const name of ['input', 'size', 'kernel', 'kernelSize']) this.ctl[name].set(s[name]);

    // Traced again only when the setting had to move.
    if (!t || moved.length) t = api.traceTranspose(img.data, ker.values, this.setting(img, ker));
    const e = t.equivalent;
    this.img = img;
    this.ker = ker;
    this.tr = {
      h: t.h, w: t.w, k: t.kh, fullH: t.fullH, fullW: t.fullW, outH: t.outH, outW: t.outW, steps: t.steps, taps: t.taps,
      input: img.data, kernel: t.kernel, stampFull: t.stampFull, stampOut: t.stampOut, stampValue: t.stampValue,
      full: t.full, output: t.output, coverageFull: t.coverageFull, canvasOutput: t.canvasOutput, terms: t.terms, completeAt: t.completeAt,
      valueMax: t.valueMax, signed: t.signed, coverageMax: t.coverageMax,
      outputCell: t.outputCell, stampInside: t.stampInside, stampFocus: t.stampFocus, stampCell: t.stampCell, stampCorner: t.stampCorner,
      eqH: e.corr.h, eqW: e.corr.w, eqKind: e.kind, eqGrid: e.corr.padded, eqPosition: e.position, eqKernel: e.corr.kernel,
      eqWindow: e.corr.window, eqProducts: e.corr.products, eqOutput: e.corr.output,
    };
    const tr = this.tr;
    // One scale and sign for every step's stamp, canvas and output (from the trace), so colours
    // keep their meaning.
    this.scale = tr.valueMax;
    this.signed = tr.signed;
    this.maxCover = tr.coverageMax;
    // Cells scaled to fit one screen: the small grids (input, kernels, stamp) in a band of
    // SMALL px, the big ones (canvas, counts, zero insertion, output) at one cell size, so the
    // two views read at the same scale, two to a view's width and at most BIG px tall.
    const { small, big } = this.cellSizes(tr);
    for (const g of [this.inGrid, this.kGrid, this.stampGrid, this.fkGrid]) {
      if (g.cellPx !== small) g.h = 0;
      g.maxCell = small;
      g.maxWidth = 10000;
    }
    this.inGrid.resize(tr.h, tr.w);
    this.inGrid.set(tr.input);
    this.kGrid.resize(tr.k, tr.k);
    this.kGrid.set(tr.kernel);
    this.stampGrid.resize(tr.k, tr.k);
    this.fkGrid.resize(tr.k, tr.k);
    this.fkGrid.set(tr.eqKernel);
    for (const g of [this.canvas, this.cover, this.eqGrid, this.eqOut]) {
      if (g.cellPx !== big) g.h = 0;
      g.maxCell = big;
      g.maxWidth = 10000;
    }
    this.canvas.resize(tr.fullH, tr.fullW);
    this.cover.resize(tr.fullH, tr.fullW);
    this.eqGrid.resize(tr.eqH, tr.eqW);
    this.eqOut.resize(tr.outH, tr.outW);
    // Numbers in the big cells as long as they fit (a smaller font than the grids' default).
    for (const g of [this.canvas, this.cover, this.eqGrid, this.eqOut]) g.node.classList.toggle('tr-num', big >= 18 && big < 22);
    this.canvas.tag('cs-crop', (i) => tr.canvasOutput[i] < 0);
    this.cover.resize(tr.fullH, tr.fullW);
    this.cover.tag('cs-crop', (i) => tr.canvasOutput[i] < 0);
    this.eqGrid.resize(tr.eqH, tr.eqW);
    this.eqGrid.set(tr.eqGrid, { scale: largestScale(tr.input) });
    this.eqGrid.tag('cs-zero', (i) => tr.eqKind[i] === 1);
    this.eqGrid.tag('cs-pad', (i) => tr.eqKind[i] === 2);
    this.eqOut.resize(tr.outH, tr.outW);
    this.formula.replaceChildren(...formulaTranspose(tr.terms.rows, 'rows', 'H'), ...formulaTranspose(tr.terms.cols, 'columns', 'W'));
    this.code.set(api.pytorchCode({ op: 'convTranspose2d', ...this.setting(img, ker) }));
    this.adjoint(img, ker);
    this.roundTrip();
    // The checkerboard section has its own settings: drawn once here, then on its own changes.
    if (!this.cbDrawn) this.checkerboard();
    this.cbDrawn = true;
    if (this.wantStep !== undefined && this.wantStep > tr.steps - 1) {
      this.linkNotes([...(this.notes ?? []), `Step ${this.wantStep + 1} is past the last of these ${tr.steps} steps: opened at step ${tr.steps}.`]);
    }
    this.wantStep = undefined;
    this.player.setSteps(tr.steps, Math.min(s.step, tr.steps - 1));
    this.showStep(this.player.t);
  }

  showStep(t) {
    const tr = this.tr;
    if (!tr) return;
    this.s.step = t;
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
    const xd = this.inGrid.cellPx >= 32 ? 2 : 1;
    this.stampText.replaceChildren(`Stamp ${t + 1}: input[${i}, ${j}] = `, el('b', {}, fmt(tr.input[t], xd)),
      ` adds ${fmt(tr.input[t], xd)} × kernel into the outlined output cells, corner at canvas (${cy}, ${cx})` +
      `${cropped > 0 ? ` (${cropped} of its ${tr.taps} cells fall in the cropped border)` : ''}.`);
    // A "Show me" moment outlines its cells until the step changes.
    if (this.pin && this.pin.t !== t) this.pin = null;
    const pin = this.pin;
    this.canvas.mark('cs-same', pin?.canvas ?? []);
    this.cover.mark('cs-same', pin?.canvas ?? []);
    this.eqOut.mark('cs-same', pin?.out ?? []);
    // The window of the first output cell this stamp reaches (or the moment's cell), on the
    // zero-inserted grid.
    const focus = pin?.focus ?? tr.stampFocus[t];
    if (focus >= 0) {
      const win = tr.eqWindow.subarray(focus * tr.taps, (focus + 1) * tr.taps);
      this.eqGrid.mark('cs-win', win);
      this.eqOut.mark('cs-cur', [focus]);
      // Rounded in wasm to the decimals the cells show, so that the shown terms add up to the
      // shown sum, and the sum is what the output cell shows.
      const d = this.eqDigits();
      const r = this.api.traceRoundedSum(tr.eqProducts.subarray(focus * tr.taps, (focus + 1) * tr.taps), d);
      const prods = r.terms.map((v) => fmt(v, d)).filter((x) => x !== '0');
      this.eqText.replaceChildren(`output[${tr.outputCell[2 * focus]}, ${tr.outputCell[2 * focus + 1]}] = Σ window × flipped kernel = ${prods.length ? prods.join(' + ').replaceAll('+ −', '− ') : '0'} = `,
        el('b', { id: 'tr-eq-value', 'data-value': String(tr.eqOutput[focus]), 'data-shown': fmt(r.total, d) }, fmt(r.total, d)),
        ', what the stamps add up to once all have landed.');
    } else {
      this.eqGrid.mark('cs-win', []);
      this.eqOut.mark('cs-cur', []);
      this.eqText.textContent = 'This stamp lands entirely in the cropped border.';
    }
    this.player.changed(this.ctx.changed);
  }

  /** The player is pinned just under the top bar, whatever its height (it wraps on a tablet). */
  pinUnderBar() {
    const bar = document.querySelector('header.topbar');
    if (bar) this.root.style.setProperty('--tr-top', `${Math.ceil(bar.getBoundingClientRect().height)}px`);
  }

  /** The cell sizes (px) of the small grids and of the big ones, fitted to the stage. */
  cellSizes(tr) {
    const phone = matchMedia('(max-width: 900px)').matches;
    const width = this.stage.clientWidth || 1200;
    // Each view is half the stage (the whole of it on a phone), its two big grids side by side.
    const view = (phone ? width : width / 2 - 8) - 24;
    const bigW = Math.floor((view - 16) / 2);
    const bigH = phone ? 260 : 210;
    const W = Math.max(tr.fullW, tr.eqW, tr.outW);
    const H = Math.max(tr.fullH, tr.eqH, tr.outH);
    // (Cells of 9 px and more have 1 px lines between them.)
    const big = Math.max(3, Math.min(24, Math.floor((bigW - W) / W), Math.floor((bigH - H) / H)));
    const small = Math.max(6, Math.min(24, Math.floor((phone ? 100 : 96) / Math.max(tr.h, tr.w, tr.k))));
    return { small, big };
  }

  /**
   * The moments of the "Show me" run, from the trace: the first stamp that lands on a cell
   * already stamped, the first output cell that several stamps reach to be complete (both views
   * then show its value), and the stamps per cell inside the border once all have landed.
   */
  moments() {
    const tr = this.tr;
    if (this.momentsFor === tr) return this.momentsCache;
    const count = new Uint32Array(tr.fullH * tr.fullW);
    let second = null;
    for (let t = 0; t < tr.steps && !second; t++) {
      for (const f of tr.stampFull.subarray(t * tr.taps, (t + 1) * tr.taps)) {
        if (f < 0) continue;
        count[f]++;
        if (count[f] === 2 && tr.canvasOutput[f] >= 0 && !second) second = { t, canvas: [f], out: [tr.canvasOutput[f]] };
      }
    }
    // The cell with the most stamps whose last stamp lands first (after the second stamp above).
    let same = null;
    for (let f = 0; f < tr.coverageFull.length; f++) {
      const o = tr.canvasOutput[f];
      if (o < 0 || tr.coverageFull[f] < 2) continue;
      const c = { t: tr.completeAt[o], canvas: [f], out: [o], focus: o, n: tr.coverageFull[f] };
      if (!same || c.n > same.n || (c.n === same.n && c.t < same.t)) same = c;
    }
    second ??= { t: 0, canvas: [], out: [] };
    same ??= { t: tr.steps - 1, canvas: [], out: [] };
    if (same.focus !== undefined) same.shown = fmt(tr.eqOutput[same.focus], this.eqDigits());
    // Inside the border: the cells a kernel away from every edge of the full canvas (a run
    // starts at dilation 1).
    const m = tr.k - 1;
    const levels = new Set();
    for (let y = m; y < tr.fullH - m; y++) for (let x = m; x < tr.fullW - m; x++) levels.add(tr.coverageFull[y * tr.fullW + x]);
    const lv = [...levels].sort((a, b) => a - b);
    const unit = lv.length === 1 && lv[0] === 1 ? 'stamp' : 'stamps';
    const said = `${lv.length === 0 ? 'no' : lv.length === 1 ? String(lv[0]) : `${lv.slice(0, -1).join(', ')} or ${lv[lv.length - 1]}`} ${unit}`;
    this.momentsFor = tr;
    this.momentsCache = { second, same, levels: said, k: tr.k, s: this.s.stride[0] };
    return this.momentsCache;
  }

  /** Outlines a moment's cells (green) in the canvas and both outputs until the step changes. */
  pinMoment(m) {
    this.pin = { t: this.player.t, ...m };
    this.showStep(this.player.t);
  }

  /** A "Show me" run starts from the scene's default setting, at the top of the scene. */
  showMeStart() {
    Object.assign(this.s, defaultsOf(this.schema.filter((f) => !f.ui?.cb), ['speed', 'step']));
    this.rebuildAt(0);
    // At 1280×800 the controls at the top leave the player and the whole stage in view; on a
    // phone the bar with its caption goes to the top (it is pinned there while the run lasts).
    const phone = matchMedia('(max-width: 600px)').matches;
    (phone ? this.showMe.node : this.root.querySelector('.cs-controls'))?.scrollIntoView({ block: 'start' });
  }

  /** Rebuilds at step `t`. */
  rebuildAt(t) {
    this.s.step = t;
    this.player.pause();
    this.rebuild();
    this.player.go(t, true);
  }

  /** The decimals the big grids' cells show (the Σ line shows its terms with as many). */
  eqDigits() { return this.eqOut.cellPx >= 32 ? 2 : 1; }

  adjoint(img, ker) {
    const s = this.s;
    const a = this.api.traceAdjoint(img.data, ker.values, { ...this.setting(img, ker), seed: 17 });
    this.lhs.value = a.lhs.toPrecision(7).replace('-', '−');
    this.rhs.value = a.rhs.toPrecision(7).replace('-', '−');
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

  /** A control changed (`want`: what was typed, when the control had to adjust it). */
  set(name, v, want, part) {
    const s = this.s;
    if (GEO.includes(name)) {
      this.refused(name, part, this.ctl[name].inputs[part].getAttribute('aria-label'), want, v);
      s[name][part] = v;
    } else s[name] = v;
    this.rebuild();
  }

  /** Says why a typed value was refused: the kernels' own error for it (from wasm). */
  refused(key, i, label, want, got) {
    this.rule.textContent = '';
    if (want === got || !Number.isFinite(want)) return;
    const s = { ...this.s, [key]: this.s[key].slice() };
    s[key][i] = want;
    const img = this.image();
    const ker = this.kernel();
    const setting = { ...this.setting(img, ker), [key]: s[key] };
    let why = `this scene shows values up to ${this.lim.transpose.cap}`;
    try { this.api.traceTranspose(img.data, ker.values, setting); } catch (err) { why = err.message; }
    this.rule.textContent = `${label} ${want} is not possible with the other settings, so it stays ${got}: ${why}`;
    this.ruleFresh = true;
  }

  /** The trace setting of the current controls. */
  setting(img, ker) {
    const s = this.s;
    return { size: [img.h, img.w], kernelSize: ker.k, stride: s.stride, padding: s.padding, dilation: s.dilation, outputPadding: s.outputPadding };
  }

  rtNote(text) { this.root.querySelector('#rt-note').textContent = text; }

  getState() {
    return writeLink(this.schema, { ...this.s, speed: this.player.speedName });
  }

  setState(p) {
    const s = this.s;
    this.stale = !this.shown;
    const { values: v, notes } = readLink(this.schema, p);
    const { speed, ...rest } = v;
    const cbWas = JSON.stringify(CB.map((name) => s[name]));
    Object.assign(s, rest);
    if (v.step !== undefined) this.wantStep = v.step;
    if (speed) this.player.speedName = speed;
    // The checkerboard is drawn again only when its own settings moved.
    if (JSON.stringify(CB.map((name) => s[name])) !== cbWas) this.cbDrawn = false;
    this.notes = notes;
    this.linkNotes(notes);
    if (this.shown) this.rebuild();
  }

  show() {
    // A second visit with nothing changed meanwhile shows what is there (a quick switch); a
    // digit drawn meanwhile redoes only the round trip, which uses it.
    const again = this.shown && !this.stale;
    this.shown = true;
    this.stale = false;
    if (again) {
      if (this.digitStale) this.roundTrip();
      this.digitStale = false;
      this.ctx.changed();
      return;
    }
    this.digitStale = false;
    this.rebuild();
  }

  hide() { this.player.pause(); }

  onKey(e) { return this.player.key(e); }
}
