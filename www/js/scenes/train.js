// Scene "Train": train the slp, the mlp or the cnn on MNIST in the page, on convscope's own
// kernels in Web Workers, and watch the weights become templates while the curves climb. One
// step slowed down shows why: dW = doutᵀ · x adds the image to the right template and
// subtracts it from the others; for the cnn, a conv's dW = dout · colᵀ (im2col) and its dX is
// the transposed convolution of dout (the adjoint). Every number comes from the workers' wasm.

import { Scene, el } from '../scene.js';
import { Heatmap } from '../views/heatmap.js';
import { largestScale, defaultThreads } from '../wasm.js';
import { Curves } from '../views/curves.js';
import { Legend } from '../views/colour.js';
import { TrainPool, loadMnist } from '../train/pool.js';
import { int, num, oneOf, flag, custom, readLink, writeLink, buildControls, fieldOf, defaultsOf } from '../schema.js';
import { ArchEditor } from '../views/arch.js';
import { CodeView } from '../views/code.js';
import { setDisabled } from '../views/disabled.js';
import { ShowMe } from '../views/showme.js';
import { grouped } from '../dom.js';

/**
 * "Show me": the scene's idea and its guided run, in one place. The run trains the slp from
 * zeros (the fastest to turn its weights into pictures) a few batches at a time and pauses at
 * moments read from the running training: after its first batch; when every template's centred
 * cosine with its digit's mean test image (wasm's `Trainer.templateCosines`) first reaches
 * `cosine`; when the test subset's accuracy (wasm's evaluation of 1,000 test images) first
 * reaches `accuracy`; and last on the training image the model then gets most wrong (wasm's
 * `Trainer.hardest`), slowed down.
 */
const SHOW_ME = {
  idea: 'Every training step adds each image to the template of its digit and takes it away from the templates that fooled the model, so ten blank templates turn into pictures of digits.',
  stops: [
    { at: 'first batch', caption: 'After one batch of 64 images: each template is a faint copy of the few digits of its class it has seen, minus the others.' },
    { cosine: 0.6, caption: 'A few batches in, every template already looks like its digit (centred cosine with its mean test image ≥ 0.6, like the shipped slp), though the model is still often wrong.' },
    { accuracy: 0.85, caption: 'Thousands of images later, 85% right: the templates sharpen, blue where the digits they are confused with put ink.' },
    { at: 'hardest', caption: 'One image the model still gets most wrong, slowed down: dW adds it to its own template and subtracts it from the ones that outscored it.' },
  ],
};
/** The run's settings (the slp from zeros, plain SGD) and how many batches it trains between looks. */
const SHOW_ME_RUN = { model: 'slp', optimizer: 'sgd', lr: '0.1', batch: '64', init: 'zeros', augment: false, seed: 1, workers: 1, pace: '3000' };
/** The centred cosine at which a template looks like its digit (the shipped slp's are all above it). */
const LIKE_DIGITS = 0.6;
/** Longest stretch of weight-tile drawing in one animation frame (ms). */
const TILE_BUDGET_MS = 4;
/**
 * New tile figures per animation frame: the cnn's 136 in one frame (or 74 in 4 ms of script)
 * made a main-thread task of 57–65 ms while both cores trained, most of it style and layout.
 */
const TILES_PER_FRAME = 16;
/** While tiles are still being drawn, newer weights wait this long at most (ms). */
const WEIGHTS_EVERY_MS = 250;
/** How many training images the one-step view looks through for the one the model gets most wrong. */
const HARDEST_OF = 1000;

const MODELS = {
  slp: 'single-layer perceptron (784 → 10)',
  mlp: 'MLP (784 → 128 → 10)',
  cnn: 'CNN (two 5 × 5 conv layers, 99% after training)',
  custom: 'your design (the architecture editor below)',
};
/** The design the editor starts from: a small CNN (its numbers are data, checked by wasm). */
const FIRST_DESIGN = {
  input: [1, 28, 28],
  layers: [
    { kind: 'conv2d', outChannels: 8, kernelSize: 3, padding: 1 }, { kind: 'relu' }, { kind: 'maxpool2d', kernelSize: 2 },
    { kind: 'conv2d', outChannels: 16, kernelSize: 3, padding: 1 }, { kind: 'relu' }, { kind: 'maxpool2d', kernelSize: 2 },
    { kind: 'flatten' }, { kind: 'linear', outFeatures: 10 }, { kind: 'logsoftmax' },
  ],
};
const OPTIMISERS = { sgd: 'SGD', momentum: 'SGD + momentum 0.9', adam: 'Adam' };
/** The page's defaults per model: what trains well from the start the model gets. */
const MAX_WORKERS = Math.max(1, Math.min(8, navigator.hardwareConcurrency || 1));
const DEFAULTS = {
  // The slp trains an epoch in well under a second: slowed by default, so the templates can be
  // watched as they form (an epoch in 20 s). The slp and mlp train on one worker: their step is
  // short beside the workers' exchange of gradients, and measured, two workers are slower
  // (slp 0.49×, mlp 0.71×; the cnn 1.48× faster: bench/results.md).
  slp: { optimizer: 'sgd', lr: '0.1', init: 'zeros', pace: '3000', workers: 1 },
  mlp: { optimizer: 'sgd', lr: '0.1', init: 'seeded', pace: 'full', workers: 1 },
  // lr 0.003 rather than 0.002: over seeds 1–3 the test subset passed 98.5% after 49–51k samples
  // (0.002: 61k, 84k, none by 120k) and the first epoch ended higher on the full test set
  // (98.27–98.41% against 98.11–98.24%).
  cnn: { optimizer: 'adam', lr: '0.003', init: 'seeded', pace: 'full', workers: MAX_WORKERS },
  custom: { optimizer: 'adam', lr: '0.002', init: 'seeded', pace: 'full', workers: MAX_WORKERS },
};
const PACES = { full: 'as fast as it goes', 30000: '30,000 samples/s', 10000: '10,000 samples/s', 3000: '3,000 samples/s', 1000: '1,000 samples/s', 200: '200 samples/s' };
const BATCHES = ['1', '8', '16', '32', '64', '128', '256', '512'];

/**
 * Every setting of the scene, its control and its URL key. What is typed into the learning
 * rate or the batch goes to the trainer as it is (wasm names the rule when it refuses it); a
 * link is read against the trainer's own ranges (`lim`: `traceControls().train`, from wasm).
 */
export const schemaOf = (lim) => [
  oneOf('model=m', 'Model', Object.entries(MODELS).map(([v, t]) => [v, `${v}: ${t}`]), 'slp', { id: 'train-model', label: 'Model to train' }),
  oneOf('optimizer=opt', 'Optimiser', Object.entries(OPTIMISERS), 'sgd', { id: 'train-opt' }),
  num('lr', 'Learning rate', lim.lr[0], lim.lr[1], 0.1, { id: 'train-lr' }),
  int('batch=b', 'Batch size', lim.batch[0], lim.batch[1], 64, { id: 'train-batch', kind: 'number' }),
  oneOf('init', 'Initial weights', [['zeros', 'zeros'], ['seeded', 'random (seeded)']], 'zeros', { id: 'train-init', group: 'Start from' }),
  flag('augment=aug', 'Augmentation', false, { id: 'train-aug', ariaLabel: 'Augment the training images', text: 'augment (small rotations, shifts, strokes)' }),
  oneOf('pace', 'Speed', Object.entries(PACES), '3000', { id: 'train-pace', hint: 'slow it down to watch' }),
  int('workers=w', 'Workers', 1, MAX_WORKERS, 1, { id: 'train-workers', kind: 'select', hint: `this browser reports ${navigator.hardwareConcurrency || 1} cores` }),
  int('seed', 'Seed', 0, 2 ** 32 - 1, 1),
  // The design of "your design" (m=custom): the spec as JSON (the trainer checks it).
  custom('arch', 'The architecture', (t) => { try { const v = JSON.parse(t); return v && typeof v === 'object' && Array.isArray(v.layers) ? JSON.stringify(v) : null; } catch { return null; } }, (v) => v, null, 'is not an architecture (JSON of { input, layers })', 'the first design'),
  // The training image the slowed-down step explains (one of the 60,000).
  int('image=img', 'Training image', 0, 59999, 0, { id: 'train-explain-index', label: 'Training image number', kind: 'number', place: 'own' }),
];

function fmtTime(s) {
  if (!Number.isFinite(s) || s < 0) return '–';
  const m = Math.floor(s / 60);
  return `${m}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
}

export class TrainScene extends Scene {
  static id = 'train';

  constructor(root, ctx) {
    super(root, ctx);
    // The threaded build trains every model on one worker whose batch is split across its
    // threads in shared memory (no gradients to message): measured on 2 cores, the cnn at
    // 7.7k samples/s against 7.1k on 2 one-thread workers (bench/train-page.mjs, docs/bench.md).
    if (ctx.flavour === 'threads') for (const d of Object.values(DEFAULTS)) d.workers = 1;
    this.schema = schemaOf(this.api.traceControls().train);
    this.pool = new TrainPool();
    // The settings by their schema names; the learning rate and the batch as typed (the trainer
    // names what it refuses); the training image is its box's.
    const d = defaultsOf(this.schema, ['image']);
    this.state = { ...d, lr: String(d.lr), batch: String(d.batch), ...DEFAULTS[d.model] };
    this.lim = this.api.traceControls().train;
    this.running = false;
    this.started = false;
    this.lastStatus = null;
    this.refused = null; // the trainer's message for a refused setting, while it stands
    this.at = null; // the kept moment looked at (null: now)
    this.hist = null;
    this.build();
    this.wire();
    this.check();
    this.updateButtons();
  }

  build() {
    const r = this.root;
    r.append(el('div.intro', {},
      el('h2', { text: 'Train it here and watch the weights become digits' }),
      el('p', {}, 'Each step moves a dense layer\'s weights by ', el('code', { text: 'dW = Xᵀ · dout' }),
        ': the inputs, scaled by how wrong each output was. The neuron for "3" keeps adding a little of every 3 and subtracting a little of the digits that fooled it, so its weights drift toward a picture of a 3. Press start: the training runs on convscope\'s own SIMD kernels, in Web Workers, on the 60,000 MNIST training images.')));
    // The bar is the scene's own child, so it can stay in view (sticky) while a run plays.
    const showMeHost = el('div.train-showme.showme-host');
    r.append(showMeHost);
    this.showMe = new ShowMe(showMeHost, {
      id: 'train',
      idea: SHOW_ME.idea,
      stops: SHOW_ME.stops.map((st) => ({ caption: st.caption, go: (run) => this.showMeTo(st, run) })),
      before: () => this.showMeBefore(),
      scope: r,
    });

    const form = el('form.card.train-controls', { 'aria-label': 'Training settings', onsubmit: (e) => e.preventDefault() });
    // The controls are built from the schema, in a label each (its hint under it).
    const { controls, fields } = buildControls(this.schema, (name) => (name === 'image' ? this.ctx.changed() : this.fromControls(this.ctl[name].input)), {
      wrap: (name, nodes, f) => (f.kind === 'flag'
        ? el('label.field.check', {}, ...nodes, el('span', { text: f.ui.text }))
        : el('label.field', {}, el('span', { text: name }), ...nodes, f.ui.hint ? el('small', { text: f.ui.hint }) : null)),
    });
    this.ctl = controls;
    this.inModel = controls.model.input;
    this.inOpt = controls.optimizer.input;
    this.inLr = controls.lr.input;
    this.inBatch = controls.batch.input;
    this.inBatch.setAttribute('list', 'train-batches');
    this.inInit = controls.init.input;
    this.inAug = controls.augment.input;
    this.inPace = controls.pace.input;
    this.inWorkers = controls.workers.input;
    const batches = el('datalist#train-batches', {}, ...BATCHES.map((b) => el('option', { value: b })));
    form.append(...fields, batches);
    this.note = el('p#train-note.note', { role: 'status', 'aria-live': 'polite' });

    const buttons = el('div.buttons.train-buttons', {},
      this.btnStart = el('button#train-start', { type: 'button', text: 'Start', 'aria-label': 'Start training' }),
      this.btnPause = el('button#train-pause.secondary', { type: 'button', text: 'Pause', 'aria-label': 'Pause training', disabled: true }),
      this.btnStep = el('button#train-step.secondary', { type: 'button', text: 'One batch', 'aria-label': 'Train one batch' }),
      this.btnReset = el('button#train-reset.secondary', { type: 'button', text: 'Reset', 'aria-label': 'Reset the weights to the start' }));
    this.load = el('progress#train-load', { max: '1', value: '0', 'aria-label': 'Loading MNIST' });
    this.loadText = el('span.small', { text: '' });
    this.status = el('p#train-status.train-status', { role: 'status', 'data-samples': '0', 'data-samples-per-s': '', 'data-epoch': '0', 'data-test-acc': '' });
    this.errorBox = el('p#train-error.error', { role: 'alert', hidden: true });
    this.errorWhat = null;
    const head = el('div.train-head', {}, form, el('div.card.train-run', {}, buttons, el('div.loadline', {}, this.load, this.loadText), this.status, this.errorBox, this.note));
    this.code = new CodeView(head.lastChild, { id: 'train', title: 'This model and its training in PyTorch' });
    r.append(head);

    // "Your design": the architecture editor, shown when the model is m=custom.
    const presets = Object.fromEntries(['cnn', 'mlp', 'slp'].map((n) => [n, async () => (await this.shared.model(n)).spec()]));
    this.arch = new ArchEditor(r, this.api, { presets, onChange: (spec) => this.fromDesign(spec) });
    this.arch.node.hidden = true;

    // The run's history: a scrubber over the moments the workers keep (wasm's Trainer.history).
    this.historyCard = el('section#train-history.card.train-history', { 'aria-label': 'Rewind the training' });
    this.scrub = el('input#train-scrub', { type: 'range', min: '0', max: '0', step: '1', value: '0', disabled: true, 'aria-label': 'Moment of the run to look at', 'aria-valuetext': 'now' });
    this.momentText = el('p#train-moment.small', { role: 'status', 'aria-live': 'polite', 'data-at': '', 'data-samples': '', 'data-steps': '' });
    this.btnLive = el('button#train-live.secondary', { type: 'button', text: 'Back to now' });
    this.btnRewind = el('button#train-rewind.secondary', { type: 'button', text: 'Train on from here' });
    this.btnFirst = el('button#train-first-digits.secondary', { type: 'button', text: 'When did the templates first look like digits?' });
    this.historyCard.append(
      el('h3', { text: 'Rewind: the run as it was' }),
      el('p.small', { text: 'The workers keep the weights every few steps (evenly spaced over the whole run; the spacing doubles as it grows, so memory stays bounded). Drag back to see the weights, the curves and the one-step view as they were at that moment.' }),
      el('div.scrub-row', {}, el('span.small', { text: 'start' }), this.scrub, el('span.small', { text: 'now' })),
      this.momentText,
      el('div.buttons', {}, this.btnLive, this.btnRewind, this.btnFirst));

    const charts = el('div.train-charts');
    this.loss = new Curves(charts, {
      title: 'Loss (cross-entropy)',
      series: [
        { key: 'batch', label: 'training batches', colour: '#9aa7b8' },
        { key: 'test', label: 'test subset (1,000)', colour: '#d63027' },
      ],
    });
    this.acc = new Curves(charts, {
      title: 'Accuracy',
      yMin: 0,
      yMax: 1,
      format: (y) => `${Math.round(100 * y)}%`,
      series: [
        { key: 'batch', label: 'training batches', colour: '#9aa7b8' },
        { key: 'test', label: 'test subset (1,000)', colour: '#d63027' },
        { key: 'full', label: 'all 10,000 test images, each epoch', colour: '#2662ce', dots: true },
      ],
    });
    r.append(charts, this.historyCard);

    this.weightsCard = el('section.card.train-weights', { 'aria-label': 'The weights as they change' });
    this.weightsTitle = el('h3', { text: 'The weights' });
    this.weightsText = el('p.small', { text: '' });
    this.legend = el('div.scale-legend', {});
    this.tiles = el('div#train-tiles.train-tiles');
    this.templateCos = el('p#train-template-cos.small', { 'data-least': '' });
    this.weightsCard.append(this.weightsTitle, this.weightsText, this.legend, this.tiles, this.templateCos);
    r.append(this.weightsCard);

    this.stepCard = el('section.card.train-onestep', { 'aria-label': 'One step, slowed down' });
    this.stepIndex = this.ctl.image.input;
    // Empty: the image the current model gets most wrong (wasm looks through the first 1,000).
    this.stepIndex.value = '';
    this.stepIndex.placeholder = 'auto';
    this.stepBody = el('div.onestep-body');
    this.stepPicked = el('p#train-explain-picked.small', { role: 'status' });
    this.stepCard.append(
      el('h3', { text: 'One step, slowed down' }),
      el('p.small', { text: `One training image: its forward values, dout = softmax − one-hot, and the update each neuron would get from this image alone. Left empty, the image is the one the current model gets most wrong among the first ${grouped(HARDEST_OF)}.` }),
      el('div.buttons', {}, el('label.field', {}, el('span', { text: 'Training image' }), this.stepIndex),
        el('button#train-explain-next.secondary', { type: 'button', text: 'Next image', onclick: () => { this.stepIndex.value = String((this.shownIndex ?? -1) + 1); this.ctx.changed(); this.explain(); } }),
        el('button#train-explain-hardest.secondary', { type: 'button', text: 'One it gets wrong', onclick: () => { this.stepIndex.value = ''; this.ctx.changed(); this.explain(); } }),
        el('button#train-explain.secondary', { type: 'button', text: 'Show the step', onclick: () => this.explain() })),
      this.stepPicked,
      this.stepBody);
    r.append(this.stepCard);

    this.useCard = el('section.card.train-use', { 'aria-label': 'Use a model' });
    this.btnUse = el('button#train-use', { type: 'button', text: 'Use this model in Draw and Templates' });
    this.btnDownload = el('button#train-download.secondary', { type: 'button', text: 'Download (.safetensors)' });
    this.btnOnnx = el('button#train-download-onnx.secondary', { type: 'button', text: 'Download (.onnx)' });
    this.fileInput = el('input#train-file', { type: 'file', accept: '.safetensors,.onnx,application/octet-stream', 'aria-label': 'Load a .safetensors or .onnx model file' });
    this.drop = el('div#train-drop.dropzone', { tabindex: '-1' }, el('p', { text: 'Or drop a model file here (.safetensors or .onnx): one saved by this page or exported from PyTorch as the README shows.' }), this.fileInput);
    this.useStatus = el('p#model-status.small', { role: 'status', 'aria-live': 'polite' });
    // A file that could not be loaded: why, in plain words (wasm's), and the loader's exact message.
    this.fileError = el('div#model-error.file-error', { role: 'alert', hidden: true },
      this.fileErrorPlain = el('p.file-error-plain'),
      this.fileErrorExact = el('p.file-error-exact', {}, el('span', { text: 'The loader said: ' }), this.fileErrorCode = el('code')));
    this.btnShipped = el('button#model-shipped.secondary', { type: 'button', text: 'Back to the shipped models', hidden: true });
    this.useCard.append(el('h3', { text: 'Use what you trained' }), el('div.buttons', {}, this.btnUse, this.btnDownload, this.btnOnnx, this.btnShipped), this.drop, this.fileError, this.useStatus);
    r.append(this.useCard);
  }

  wire() {
    this.btnStart.onclick = () => this.start();
    this.btnPause.onclick = () => this.pause();
    this.btnStep.onclick = () => this.stepOnce();
    this.btnReset.onclick = () => this.reset();
    this.scrub.addEventListener('input', () => this.scrubTo(Number(this.scrub.value)));
    this.btnLive.onclick = () => this.setAt(null);
    this.btnRewind.onclick = () => this.rewind();
    this.btnFirst.onclick = () => this.pool.send({ type: 'firstLike', least: LIKE_DIGITS });
    this.btnUse.onclick = () => this.save('use');
    this.btnDownload.onclick = () => this.save('download');
    this.btnOnnx.onclick = () => this.save('onnx');
    this.btnShipped.onclick = () => { for (const a of ['slp', 'mlp', 'cnn']) this.shared.resetModel(a); };
    this.fileInput.onchange = () => { const f = this.fileInput.files?.[0]; if (f) this.loadFile(f); };
    this.drop.addEventListener('dragover', (e) => { e.preventDefault(); this.drop.classList.add('over'); });
    this.drop.addEventListener('dragleave', () => this.drop.classList.remove('over'));
    this.drop.addEventListener('drop', (e) => {
      e.preventDefault();
      this.drop.classList.remove('over');
      const f = e.dataTransfer?.files?.[0];
      if (f) this.loadFile(f);
    });
    this.stepIndex.addEventListener('change', () => this.explain());
    this.shared.addEventListener('model', () => this.showSources());
    const p = this.pool;
    p.addEventListener('phase', (e) => this.phase(e.detail));
    p.addEventListener('progress', (e) => this.progress(e.detail));
    p.addEventListener('paused', (e) => { if (e.detail.status) { this.lastStatus = e.detail.status; this.rate = null; this.draw(); } });
    p.addEventListener('explain', (e) => this.showStep(e.detail));
    p.addEventListener('moment', (e) => this.showMoment(e.detail));
    p.addEventListener('firstLike', (e) => this.showFirstLike(e.detail));
    p.addEventListener('saved', (e) => this.saved(e.detail));
    p.addEventListener('error', (e) => this.error(e.detail));
    this.showControls();
  }

  /** The settings the workers get, as typed (the trainer in wasm checks them). */
  settings() {
    const s = this.state;
    return { model: s.model === 'custom' ? this.design() : s.model, optimizer: s.optimizer, lr: Number(s.lr), batch: Number(s.batch), augment: s.augment, init: s.init, seed: s.seed };
  }

  /** The editor's design (the spec as the link keeps it), or the first design. */
  design() {
    try { return JSON.parse(this.state.arch ?? ''); } catch { return FIRST_DESIGN; }
  }

  /** The editor changed the design: a new run of it (as any other setting's change). */
  fromDesign(spec) {
    this.state.arch = JSON.stringify(spec);
    this.fromControls(null);
  }

  showControls() {
    const s = this.state;
    this.inModel.value = s.model;
    this.arch.node.hidden = s.model !== 'custom';
    if (s.model === 'custom' && JSON.stringify(this.arch.spec) !== JSON.stringify(this.design())) this.arch.set(this.design());
    this.inOpt.value = s.optimizer;
    this.inLr.value = s.lr;
    this.inBatch.value = s.batch;
    this.inInit.value = s.init;
    this.inAug.checked = s.augment;
    this.inWorkers.value = String(s.workers);
    this.inPace.value = s.pace;
    try { this.code.set(this.api.pytorchCode({ op: 'train', ...this.settings() })); } catch { this.code.set(null); }
  }

  fromControls(changed) {
    const s = this.state;
    if (changed === this.inModel) Object.assign(s, { model: this.inModel.value }, DEFAULTS[this.inModel.value]);
    else if (changed !== null) {
      s.optimizer = this.inOpt.value;
      s.lr = this.inLr.value.trim();
      s.batch = this.inBatch.value.trim();
      s.init = this.inInit.value;
      s.augment = this.inAug.checked;
      s.workers = Number(this.inWorkers.value);
      s.pace = this.inPace.value;
    }
    // A note about the link explains settings the viewer has now set themselves.
    this.linkNotes([]);
    this.showControls();
    this.ctx.changed();
    this.check();
    if (changed === this.inWorkers || (this.poolReady && this.pool.count !== s.workers)) this.restartPool();
    else if (changed === this.inPace) this.sendPace();
    else {
      // Any other setting starts a new run: nothing of the last one stays on screen.
      // (A refused one starts none: the workers keep the last run, and the page shows it.)
      if (!this.refused && JSON.stringify(this.settings()) !== this.settingsSent) this.clearRun();
      this.applySettings();
      this.sendPace();
    }
  }

  /**
   * Asks wasm whether the settings shown would be taken (`Trainer.check`, the trainer's own
   * rules), so a refused one is named at once and stays named, and Start says why it won't start.
   */
  check() {
    try {
      this.api.Trainer.check(this.settings(), this.lim.batch[1]);
      this.refused = null;
      if (this.errorWhat === 'settings') this.clearError();
    } catch (err) {
      this.refused = err.message;
      this.showError('settings', `Settings refused: ${err.message}`);
      // The run in the workers goes on with the last settings taken: stop it, the settings shown are not its.
      if (this.running) this.pause();
    }
    this.updateButtons();
  }

  noteText(text) { this.note.textContent = text; }

  sendPace() {
    if (this.poolReady) this.pool.send({ type: 'pace', pace: this.state.pace === 'full' ? 0 : Number(this.state.pace) });
  }

  error({ what, message }) {
    if (what === 'settings') {
      this.refused = message;
      this.showError('settings', `Settings refused: ${message}`);
    } else this.showError(what, message);
    if (what === 'train' || what === 'step' || what === 'settings') this.setRunning(false);
    this.updateButtons();
  }

  showError(what, text) {
    this.errorWhat = what;
    this.errorBox.hidden = false;
    this.errorBox.textContent = text;
  }

  clearError() { this.errorWhat = null; this.errorBox.hidden = true; this.errorBox.textContent = ''; }

  phase({ phase, loaded, total }) {
    if (phase === 'download') {
      this.load.value = total ? loaded / total : 0;
      this.loadText.textContent = `downloading MNIST: ${(loaded / 1e6).toFixed(1)} of ${(total / 1e6).toFixed(1)} MB`;
    } else if (phase === 'decode') {
      this.load.removeAttribute('value');
      this.loadText.textContent = 'decoding 70,000 images in wasm…';
    } else if (phase === 'ready') {
      this.load.value = 1;
      this.loadText.textContent = 'MNIST ready: 60,000 training and 10,000 test images';
    }
  }

  /**
   * Each training worker's threads: in the threaded build the threads the page runs, shared
   * out among the workers (1 worker: all of them); 1 in the other builds.
   */
  threadsPerWorker(workers) {
    return this.ctx.flavour === 'threads' ? Math.max(1, Math.floor(defaultThreads() / workers)) : 1;
  }

  /** Loads MNIST and starts the workers (once; again when the worker count changes). */
  ensurePool() {
    if (!this.poolReady) {
      const count = this.state.workers || 1;
      const threads = this.threadsPerWorker(count);
      this.poolReady = (async () => {
        const data = await loadMnist((loaded, total) => this.phase({ phase: 'download', loaded, total }));
        this.phase({ phase: 'decode' });
        // The settings the workers start with: those changed while MNIST loaded go after them
        // (applySettings compares with these).
        const settings = this.settings();
        await this.pool.start({ flavour: this.ctx.flavour, data, settings, count, threads });
        this.poolThreads = threads;
        this.phase({ phase: 'ready' });
        this.pool.send({ type: 'pace', pace: this.state.pace === 'full' ? 0 : Number(this.state.pace) });
        this.settingsSent = JSON.stringify(settings);
      })();
      this.poolReady.catch((err) => {
        this.poolReady = null;
        this.error({ what: 'load', message: `Training could not start: ${err.message}` });
      });
    }
    return this.poolReady;
  }

  async restartPool() {
    this.setRunning(false);
    this.pool.stop();
    this.poolReady = null;
    this.clearRun();
    if (this.started) await this.ensurePool();
  }

  /** Sends changed settings: a new run from the start, with the curves cleared. */
  async applySettings() {
    if (!this.poolReady) return;
    await this.poolReady;
    const text = JSON.stringify(this.settings());
    if (text === this.settingsSent || this.refused) return;
    this.pendingReset = true;
    this.settingsSent = text;
    this.setRunning(false);
    this.pool.send({ type: 'settings', settings: this.settings() });
  }

  clearCurves() {
    this.loss.clear();
    this.acc.clear();
    this.rates = [];
  }

  /**
   * Clears every figure of the last run (after Reset or a change of model or setting): the
   * curves, the status line and its numbers, the weights, the slowed-down step.
   */
  clearRun() {
    this.clearCurves();
    this.loss.draw();
    this.acc.draw();
    this.testAcc = undefined;
    this.testSamples = undefined;
    this.fullAcc = null;
    this.cosines = null;
    this.templateCos.textContent = '';
    this.templateCos.dataset.least = '';
    this.lastStatus = null;
    this.rate = null;
    this.pendingWeights = null;
    this.liveWeights = null;
    this.at = null;
    this.loss.setCursor(null);
    this.acc.setCursor(null);
    this.showHistory(null);
    const st = this.status;
    Object.assign(st.dataset, { samples: '0', epoch: '0', testAcc: '', samplesPerS: '' });
    delete st.dataset.testSamples;
    st.textContent = 'A fresh model: nothing trained yet.';
    this.tiles.replaceChildren();
    this.tilesFor = null;
    this.maps = [];
    this.tileQueue = [];
    this.tileBuild = [];
    this.legend.replaceChildren();
    this.stepBody.replaceChildren();
    this.stepPicked.textContent = '';
    for (const k of ['index', 'picked', 'loss', 'label', 'predicted']) delete this.stepCard.dataset[k];
    this.shownIndex = undefined;
    this.updateButtons();
  }

  setRunning(on) {
    this.running = on;
    this.root.classList.toggle('training', on);
    this.updateButtons();
  }

  /** Every run button, enabled or disabled with its reason (views/disabled.js). */
  updateButtons() {
    const trained = (this.lastStatus?.samples ?? 0) > 0;
    const refused = this.refused ? `won't start: ${this.refused}` : null;
    setDisabled(this.btnStart, this.running ? 'training is running: Pause stops it' : refused);
    setDisabled(this.btnPause, this.running ? null : 'not training: Start first');
    setDisabled(this.btnStep, this.running ? 'training is running: Pause first, then step one batch at a time' : this.refused ? `won't step: ${this.refused}` : null);
    const untrained = this.running ? null : trained ? null : 'train first: press Start or One batch';
    setDisabled(this.btnUse, untrained);
    setDisabled(this.btnDownload, untrained);
    setDisabled(this.btnOnnx, untrained);
    setDisabled(this.btnLive, this.at === null ? 'already showing now' : null);
    setDisabled(this.btnRewind, this.at === null ? 'look back first: drag the scrubber to an earlier moment' : null);
    const dense = ['slp', 'mlp'].includes(this.lastStatus?.model);
    setDisabled(this.btnFirst, !dense ? 'only a dense model (slp, mlp) has a template per digit' : !this.hist?.moments.length ? 'train first' : null);
  }

  async start() {
    if (this.refused) { this.check(); return; } // the refusal stays on screen, and Start says why
    if (this.at !== null) this.setAt(null);
    this.started = true;
    if (this.errorWhat !== 'settings') this.clearError();
    try { await this.ensurePool(); } catch { return; }
    await this.applySettings();
    if (this.refused) return;
    this.setRunning(true);
    this.pool.send({ type: 'start' });
  }

  pause() {
    this.setRunning(false);
    this.pool.send({ type: 'pause' });
  }

  async stepOnce(n = 1) {
    if (this.refused) { this.check(); return; }
    if (this.at !== null) this.setAt(null);
    this.started = true;
    if (this.errorWhat !== 'settings') this.clearError();
    try { await this.ensurePool(); } catch { return; }
    await this.applySettings();
    if (this.refused) return;
    this.pool.send({ type: 'step', n });
  }

  async reset() {
    if (this.errorWhat !== 'settings') this.clearError();
    this.setRunning(false);
    this.clearRun();
    if (!this.poolReady || this.refused) return;
    await this.poolReady;
    this.settingsSent = JSON.stringify(this.settings());
    this.pendingReset = true;
    this.pool.send({ type: 'settings', settings: this.settings() });
  }

  progress(m) {
    if (m.reset) {
      this.pendingReset = false;
      this.clearRun();
    }
    if (m.rewound) {
      // Gone back to a kept moment: what came after it is no longer this run's.
      this.loss.truncate(m.rewound.samples);
      this.acc.truncate(m.rewound.samples);
      if (this.fullAcc && this.fullAcc.epoch >= m.rewound.epoch) this.fullAcc = null;
      this.at = null;
      this.loss.setCursor(null);
      this.acc.setCursor(null);
    }
    const s = m.status;
    if (s.steps > 0 && Number.isFinite(s.batchLoss)) {
      this.loss.add('batch', s.samples, s.batchLoss);
      this.acc.add('batch', s.samples, s.batchAccuracy);
    }
    if (m.evaluation) {
      const e = m.evaluation;
      if (e.full) this.acc.add('full', e.samples, e.accuracy);
      else {
        this.loss.add('test', e.samples, e.loss);
        this.acc.add('test', e.samples, e.accuracy);
        this.testAcc = e.accuracy;
        this.testSamples = e.samples;
      }
      if (e.full) this.fullAcc = { epoch: e.epoch, accuracy: e.accuracy };
    }
    this.lastStatus = s;
    if (m.cosines) this.showCosines(m.cosines);
    if (m.rate !== undefined) this.rate = m.rate;
    if (m.weights) {
      // While an earlier moment is looked at, the tiles keep showing it.
      this.liveWeights = { model: s.model, weights: m.weights };
      if (this.at === null) this.pendingWeights = this.liveWeights;
    }
    if (m.history) this.showHistory(m.history);
    this.showStatus(s, this.rate);
    this.updateButtons();
    this.draw();
  }

  /**
   * Draws the curves and the weights once per animation frame at most (the workers report
   * several times a second; drawing each report would add up to long tasks), and not while
   * the scene is hidden (show() draws what came meanwhile).
   */
  draw() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      if (this.lastStatus) this.showStatus(this.lastStatus, this.rate);
      if (this.root.hidden) return;
      this.loss.draw();
      this.acc.draw();
      // The first frame after the scene shows draws the curves only; the weights the next.
      if (this.deferWeights) { this.deferWeights = false; if (this.pendingWeights) this.draw(); return; }
      const w = this.pendingWeights;
      // New weights at most every WEIGHTS_EVERY_MS while the last ones are still being drawn
      // (the curves and the status follow every report).
      if (w && (this.tileQueue?.length ?? 0) > 0 && performance.now() - (this.weightsDrawnAt ?? 0) < WEIGHTS_EVERY_MS) { this.draw(); return; }
      this.pendingWeights = null;
      if (w) {
        // Which moment the tiles show once drawn ('' now): a hook for tests.
        this.tiles.dataset.drawn = 'pending';
        this.drawnAt = w.at === undefined || w.at === null ? '' : String(w.at);
        this.showWeights(w.model, w.weights);
      }
    });
  }

  showStatus(s, rate) {
    this.lastStatus = s;
    const st = this.status;
    st.dataset.samples = String(s.samples);
    st.dataset.epoch = String(s.epoch);
    if (rate !== undefined && rate !== null && Number.isFinite(rate)) st.dataset.samplesPerS = String(Math.round(rate));
    if (this.testAcc !== undefined) {
      st.dataset.testAcc = String(this.testAcc);
      st.dataset.testSamples = String(this.testSamples);
    }
    const r = Number(st.dataset.samplesPerS);
    const left = r > 0 ? (s.perEpoch - s.done) / r : NaN;
    const parts = [
      `epoch ${s.epoch + 1}`,
      `${grouped(s.done)} / ${grouped(s.perEpoch)} images`,
      `${grouped(s.samples)} samples in all`,
    ];
    const threads = this.poolThreads > 1 ? ` × ${this.poolThreads} threads` : '';
    if (this.running && r > 0) parts.push(`${grouped(r)} samples/s on ${this.pool.count} worker${this.pool.count > 1 ? 's' : ''}${threads}${this.state.pace === 'full' ? '' : ' (slowed to watch)'}`, `epoch ends in ${fmtTime(left)}`);
    if (this.testAcc !== undefined) parts.push(`test subset ${(100 * this.testAcc).toFixed(1)}%`);
    if (this.fullAcc) parts.push(`epoch ${this.fullAcc.epoch + 1}: ${(100 * this.fullAcc.accuracy).toFixed(2)}% on all 10,000`);
    st.textContent = parts.join(' · ');
  }

  /** How much the templates look like the digits (wasm's centred cosines with the mean test images). */
  showCosines(c) {
    this.cosines = c;
    this.templateCos.dataset.least = String(c.least);
    this.templateCos.textContent = `Every template's centred cosine with its digit's mean test image is at least ${c.least.toFixed(2)} (the lowest: digit ${c.leastClass}); the shipped slp's are all above 0.6.`;
  }

  /** The templates (slp), hidden neurons (mlp) or kernels (cnn), on one colour scale. */
  showWeights(arch, weights) {
    if (!weights) return;
    if (arch === 'custom') { this.showDesignWeights(weights); return; }
    if (this.tilesFor !== arch) {
      this.tilesFor = arch;
      this.tiles.replaceChildren();
      this.maps = [];
      this.gradMaps = [];
      // `grads`: the first layer's tiles, each with its gradient of the last batch beside it.
      // The figures are made a few per animation frame (drawTiles, before any is filled:
      // TILES_PER_FRAME).
      this.tileBuild = [];
      this.gradsMade = 0;
      let made = 0; // the tiles the queue below fills, made or to be made
      const add = (n, size, caption, grads = false) => {
        made += n;
        if (grads) this.gradsMade = n;
        for (let i = 0; i < n; i++) {
          this.tileBuild.push(() => {
            const f = el('figure.tile', { 'data-index': String(i) });
            const pair = el('div.tile-pair');
            f.append(pair);
            this.maps.push(new Heatmap(pair, { label: caption(i), signed: true, size }));
            if (grads) this.gradMaps.push(new Heatmap(pair, { label: `gradient of ${caption(i)}, last batch`, signed: true, size: Math.round(size * 0.6) }));
            f.append(el('figcaption', { text: caption(i).replace(/^.* /, '') }));
            this.tiles.append(f);
          });
        }
      };
      this.sheets = {};
      this.tiles.className = `train-tiles ${arch}`;
      this.legend.replaceChildren();
      this.legends = (arch === 'cnn' ? ['conv1', 'conv2'] : ['fc1']).map((n) => {
        const box = el('span.legend-item', {}, el('small', { text: n }));
        this.legend.append(box);
        return new Legend(box, { signed: true, label: `${n} weights` });
      });
      this.gradLegend = this.gradLegendIn(arch === 'cnn' ? 'conv1' : 'fc1');
      if (arch === 'slp') {
        this.weightsTitle.textContent = 'The ten templates (fc1 weights, one 28 × 28 image per digit)';
        this.weightsText.textContent = 'Red where ink raises the digit\'s score, blue where ink lowers it. From zeros, each fills in with the digits it must answer.';
        add(10, 96, (i) => `template of digit ${i}`, true);
      } else if (arch === 'mlp') {
        this.weightsTitle.textContent = 'The first 32 of 128 hidden neurons (fc1 weights as 28 × 28 images)';
        this.weightsText.textContent = 'Hidden neurons answer strokes and parts, not whole digits; watch them sharpen out of the random start.';
        // Two sheets (two compositor layers, not 64): the neurons, and their gradients in the
        // same places.
        this.makeSheet('fc1', { label: 'hidden neurons 0–31, eight to a row', size: 464, hover: (t) => `hidden neuron ${t.index}` });
        this.makeSheet('fc1 gradient', { label: 'their gradients of the last batch, in the same places', size: 326, hover: (t) => `gradient of hidden neuron ${t.index}, last batch` });
      } else {
        this.weightsTitle.textContent = 'The conv kernels: conv1 (8 of 5 × 5) and conv2 (16 × 8 of 5 × 5)';
        this.weightsText.textContent = 'conv1\'s kernels become edge and stroke detectors. In conv2, each column is one output channel: its 8 kernels, one over each conv1 channel, top to bottom.';
        add(8, 48, (i) => `conv1 kernel ${i}`, true);
        this.tileBuild.push(() => this.tiles.append(el('div.break')));
        // conv2's 128 kernels on one canvas (one layer for the compositor, not 128).
        this.makeSheet('conv2', {
          label: 'conv2\'s 128 kernels: a column per output channel (0–15), a row per conv1 channel it reads (0–7)',
          size: 382,
          hover: (t) => `conv2 kernel ${t.col}.${t.row}: output channel ${t.col} over conv1 channel ${t.row}`,
        });
      }
      this.tilesMade = made;
    }
    const parts = arch === 'cnn' ? [weights.conv1, weights.conv2] : [weights.fc1];
    const scale = parts.map((w) => w.scale);
    // The tiles to draw, in order; drawn a few per animation frame (see drawTiles).
    const queue = [];
    let tile = 0; // the next tile to fill (the queue also holds the gradients)
    parts.forEach((w, j) => {
      if (arch === 'cnn' && j === 1) {
        // conv2 [out, in, kh, kw] on the sheet: column o, row c is kernel o.c.
        const [outs, ins, kh, kw] = w.shape;
        const at = (i) => ((i % outs) * ins + Math.floor(i / outs)) * kh * kw;
        queue.push({ map: () => this.sheets.conv2, draw: 'updateTiles', args: { data: w.data, count: outs * ins, h: kh, w: kw, cols: outs, scale: scale[j], at } });
        return;
      }
      if (arch === 'mlp') {
        // The rows sent (the first 32 neurons), as 28 × 28 images in rows of eight.
        const args = { count: w.shape[0], h: 28, w: 28, cols: 8 };
        queue.push({ map: () => this.sheets.fc1, draw: 'updateTiles', args: { ...args, data: w.data, scale: scale[j] } });
        if (w.grad) queue.push({ map: () => this.sheets['fc1 gradient'], draw: 'updateTiles', args: { ...args, data: w.grad, scale: w.gradScale } });
        return;
      }
      const [rows, ...rest] = w.shape;
      const per = rest.reduce((a, b) => a * b, 1);
      const [h, ww] = arch === 'cnn' ? [w.shape[2], w.shape[3]] : [28, 28];
      const count = arch === 'cnn' ? rows * w.shape[1] : Math.min(rows, this.tilesMade);
      const step = arch === 'cnn' ? h * ww : per;
      // The maps by index (a function: drawTiles makes the figures before it fills them).
      const gradMaps = j === 0 && w.grad ? this.gradsMade : 0;
      for (let i = 0; i < count && tile < this.tilesMade; i++) {
        const k = tile++;
        queue.push({ map: () => this.maps[k], args: { data: w.data, h, w: ww, offset: i * step, scale: scale[j] } });
        if (i < gradMaps) queue.push({ map: () => this.gradMaps[i], args: { data: w.grad, h, w: ww, offset: i * step, scale: w.gradScale } });
      }
    });
    scale.forEach((sc, j) => this.legends[j].update(sc));
    this.gradLegend?.update(parts[0].gradScale ?? 1);
    this.tileQueue = queue;
    this.drawTiles();
  }

  /**
   * Queues (in tileBuild) a figure of many tiles on one canvas (Heatmap.updateTiles: every
   * drawn canvas is a compositor layer of its own); `hover(t)` names the tile under the
   * pointer in its caption. `this.sheets[key]` once made.
   */
  makeSheet(key, { label, size, hover }) {
    this.tileBuild.push(() => {
      const f = el('figure.tile.sheet', { 'data-layer': key });
      const caption = el('figcaption', { text: label });
      const map = new Heatmap(f, {
        label,
        signed: true,
        size,
        onHover: (y, x) => {
          const t = y === null ? null : map.tileAt(y, x);
          caption.textContent = t ? hover(t) : label;
        },
      });
      f.append(caption);
      this.tiles.append(f);
      this.sheets[key] = map;
    });
  }

  /**
   * A design's first conv layer's kernels (up to 64) or its first dense layer's neurons (28 × 28
   * images when it reads the flattened image, else one row each), on one colour scale: one
   * sheet of weights and one of their gradients, in the same places.
   */
  showDesignWeights(weights) {
    const [name, w] = Object.entries(weights)[0] ?? [];
    const key = name ? `custom ${name} ${w.shape.join('×')}` : 'custom none';
    const conv = w?.shape.length === 4;
    const image = w && !conv && w.shape[1] === 784;
    const [h, ww] = conv ? [w.shape[2], w.shape[3]] : image ? [28, 28] : [1, w?.shape[1] ?? 1];
    const [outs, ins] = w ? [w.shape[0], conv ? w.shape[1] : 1] : [0, 1];
    // The first 64 in the weights' order: kernels 16 to a row (the first conv reads the one
    // image channel), 28 × 28 neurons 8 to a row, other neurons a row each.
    const count = w ? Math.min(64, outs * ins) : 0;
    const cols = conv ? Math.min(count, 16) : image ? 8 : 1;
    if (this.tilesFor !== key) {
      this.tilesFor = key;
      this.tiles.replaceChildren();
      this.tileBuild = [];
      this.sheets = {};
      this.tiles.className = 'train-tiles custom';
      this.legend.replaceChildren();
      this.legends = [];
      this.gradLegend = null;
      if (!w) {
        this.weightsTitle.textContent = 'This design has no conv or dense layer to draw';
        this.weightsText.textContent = '';
        return;
      }
      const box = el('span.legend-item', {}, el('small', { text: name }));
      this.legend.append(box);
      this.legends = [new Legend(box, { signed: true, label: `${name} weights` })];
      // The tiles' names, in the weights' order (no index arithmetic on values).
      const names = [];
      if (conv) for (let o = 0; o < outs; o++) for (let c = 0; c < ins; c++) names.push(`${name} kernel ${o}.${c}`);
      else for (let o = 0; o < outs; o++) names.push(`${name} neuron ${o}`);
      const nameOf = (t) => names[t.index];
      this.gradLegend = this.gradLegendIn(name);
      const layout = `${count < names.length ? `the first ${count} of ${names.length}` : `all ${count}`}, in order`;
      this.weightsTitle.textContent = conv
        ? `The kernels of ${name}, the design's first conv layer (${outs} × ${ins} of ${h} × ${ww})`
        : `The first ${count} neurons of ${name}, the design's first dense layer${image ? ' (28 × 28 images)' : ''}`;
      this.weightsText.textContent = 'Red raises the output, blue lowers it; watch them form out of the random start.';
      const W = cols * (ww + 1) - 1;
      // Screen pixels per value: a kernel about 40 px wide, a 28 × 28 image 56, a row of other
      // inputs as wide as fits; the sheet at most 720 px wide.
      const fit = conv ? Math.floor(40 / Math.max(h, ww)) : image ? 2 : Infinity;
      const px = Math.max(1, Math.min(fit, Math.floor(720 / W)));
      this.makeSheet('weights', { label: `${name}: ${layout}`, size: W * px + 2, hover: nameOf });
      this.makeSheet('gradients', { label: 'their gradients of the last batch, in the same places', size: Math.max(24, Math.round(W * px * 0.7)) + 2, hover: (t) => `gradient of ${nameOf(t)}, last batch` });
    }
    if (!w) return;
    const args = { count, h, w: ww, cols };
    this.tileQueue = [
      { map: () => this.sheets.weights, draw: 'updateTiles', args: { ...args, data: w.data, scale: w.scale } },
      ...(w.grad ? [{ map: () => this.sheets.gradients, draw: 'updateTiles', args: { ...args, data: w.grad, scale: w.gradScale } }] : []),
    ];
    this.legends[0].update(w.scale);
    this.gradLegend?.update(w.gradScale ?? 1);
    this.drawTiles();
  }

  /** The legend of the first layer's gradients (drawn beside its tiles). */
  gradLegendIn(name) {
    const box = el('span.legend-item', {}, el('small', { text: `${name} gradient, last batch (small tiles)` }));
    this.legend.append(box);
    return new Legend(box, { signed: true, label: `${name} gradient of the last batch` });
  }

  /** The kept moments (wasm's Trainer.history): the scrubber's places; its last is now. */
  showHistory(h) {
    this.hist = h;
    const n = h?.moments.length ?? 0;
    this.scrub.max = String(n);
    if (this.at === null) this.scrub.value = String(n);
    this.scrub.disabled = n === 0;
    this.showMomentText();
    this.updateButtons();
  }

  /** The scrubber moved to place `v` (the last one is now). */
  scrubTo(v) {
    const n = this.hist?.moments.length ?? 0;
    this.setAt(v >= n ? null : v);
  }

  /**
   * Looks at kept moment `at` (null: now): the curves replayed up to it, its weights and
   * gradients, and the one-step view by its weights. Looking back pauses the training.
   */
  setAt(at) {
    if (at !== null && !this.hist?.moments[at]) at = null;
    if (at !== null && this.running) this.pause();
    const changed = at !== this.at;
    this.at = at;
    this.scrub.value = String(at ?? this.hist?.moments.length ?? 0);
    const m = at === null ? null : this.hist.moments[at];
    this.loss.setCursor(m ? m.samples : null);
    this.acc.setCursor(m ? m.samples : null);
    this.showMomentText();
    this.updateButtons();
    if (at === null) this.pendingWeights = this.liveWeights ?? this.pendingWeights;
    else this.requestMoment(at);
    this.draw();
    if (changed && this.shownIndex !== undefined) this.explain();
  }

  /** Asks the leader for moment `at`'s weights, one request at a time (the latest wins). */
  requestMoment(at) {
    this.wantMoment = at;
    if (this.momentAsked) return;
    this.momentAsked = true;
    this.pool.send({ type: 'moment', at });
  }

  showMoment({ at, weights }) {
    this.momentAsked = false;
    if (this.at === null) return;
    if (this.at !== at) { this.requestMoment(this.at); return; }
    this.pendingWeights = { model: this.lastStatus?.model, weights, at };
    this.weightsCard.dataset.at = String(at);
    this.draw();
  }

  showMomentText() {
    const t = this.momentText;
    const h = this.hist;
    const m = this.at === null ? null : h?.moments[this.at];
    const s = m ?? this.lastStatus;
    Object.assign(t.dataset, { at: this.at === null ? '' : String(this.at), samples: s ? String(s.samples) : '', steps: s ? String(s.steps) : '' });
    this.scrub.setAttribute('aria-valuetext', m ? `step ${grouped(m.steps)}` : 'now');
    if (!h) { t.textContent = 'Nothing kept yet: train first.'; return; }
    if (h.off) { t.textContent = `No history for this run: ${h.off}.`; return; }
    const kept = `${h.moments.length} moments kept, one every ${grouped(h.every)} step${h.every > 1 ? 's' : ''}`;
    if (!m) {
      t.textContent = s ? `Now: step ${grouped(s.steps)}, ${grouped(s.samples)} samples (${kept}).` : kept;
      delete this.weightsCard.dataset.at;
      return;
    }
    const loss = m.batchLoss === undefined || m.batchLoss === null ? 'the start, before any batch' : `that batch's loss ${m.batchLoss.toFixed(3)}, accuracy ${(100 * m.batchAccuracy).toFixed(0)}%`;
    t.textContent = `Looking back at step ${grouped(m.steps)} (${grouped(m.samples)} samples, epoch ${m.epoch + 1}): ${loss}. Training is paused; "Train on from here" goes on from this moment, "Back to now" returns.`;
  }

  /** Goes to the first kept moment whose templates all look like their digits (wasm's scores). */
  showFirstLike({ first, least }) {
    if (first === undefined || first === null) {
      this.momentText.textContent = `Not yet: at no kept moment does every template reach a centred cosine of ${least} with its digit's mean test image. Train longer.`;
      return;
    }
    this.setAt(first);
    this.momentText.textContent += ` This is the first kept moment at which every template's centred cosine with its digit's mean test image reaches ${least}: the templates first looked like digits.`;
  }

  /** Goes back to the moment shown and trains on from there (the later curves are dropped). */
  rewind() {
    if (this.at === null) return;
    this.pool.send({ type: 'rewind', at: this.at });
  }

  /**
   * Draws the queued weight tiles for at most TILE_BUDGET_MS per animation frame, the rest in
   * the next frames, so that no drawing task grows long (the mlp shows 32 tiles, the cnn 136).
   * Newer weights replace the queue: a tile is never drawn twice for one report.
   */
  drawTiles() {
    if (this.tileFrame || !this.tileQueue?.length) return;
    this.tileFrame = requestAnimationFrame(() => {
      this.tileFrame = 0;
      const t0 = performance.now();
      // The figures still to make come first, TILES_PER_FRAME at most (showWeights): their
      // style, layout and first paint cost more than the script that makes them.
      const build = this.tileBuild ?? [];
      for (let i = 0; build.length && i < TILES_PER_FRAME && performance.now() - t0 < TILE_BUDGET_MS; i++) build.shift()();
      const q = this.tileQueue;
      while (!build.length && q.length && performance.now() - t0 < TILE_BUDGET_MS) {
        const { map, args, draw = 'update' } = q.shift();
        map()[draw](args);
      }
      if (q.length || build.length) this.drawTiles();
      else {
        this.weightsDrawnAt = performance.now();
        this.tiles.dataset.drawn = this.drawnAt ?? '';
      }
    });
  }

  /** Explains the image in the field, or (the field empty) the one the model gets most wrong. */
  async explain() {
    try { await this.ensurePool(); } catch { return; }
    const text = this.stepIndex.value.trim();
    const i = Number(text);
    if (text === '') this.pool.send({ type: 'explain', index: null, hardestOf: HARDEST_OF, at: this.at });
    else this.pool.send({ type: 'explain', index: Number.isFinite(i) ? i : text, at: this.at });
  }

  showStep({ index, label, image, step, picked, at }) {
    const b = this.stepBody;
    b.replaceChildren();
    this.shownIndex = index;
    this.stepCard.dataset.index = String(index);
    this.stepCard.dataset.at = at === null || at === undefined ? '' : String(at);
    this.stepCard.dataset.picked = picked ? 'hardest' : 'typed';
    Object.assign(this.stepCard.dataset, { loss: String(step.loss), label: String(label), predicted: picked ? String(picked.predicted) : '' });
    this.stepPicked.textContent = picked
      ? `Training image ${index}: of the first ${grouped(picked.count)}, the one the model gets most wrong (loss ${picked.loss.toFixed(2)}; it answers ${picked.predicted} for this ${label}, and gets ${grouped(picked.wrong)} of the ${grouped(picked.count)} wrong).`
      : `Training image ${index}, as picked.`;
    const then = at === null || at === undefined ? null : this.hist?.moments[at];
    if (then) this.stepPicked.textContent += ` By the weights of step ${grouped(then.steps)} (looking back).`;
    const fig = (title, data, h, w, opts = {}) => {
      const f = el('figure.tile');
      new Heatmap(f, { label: title, signed: opts.signed ?? true, size: opts.size ?? 72 }).update({ data, h, w, offset: opts.offset ?? 0, scale: opts.scale });
      f.append(el('figcaption', { text: opts.caption ?? title }));
      return f;
    };
    const top = el('div.onestep-top');
    top.append(fig(`training image ${index}, a ${label}`, image, 28, 28, { signed: false, scale: 1, size: 96 }));
    const rows = el('table.onestep-out', {}, el('caption', { text: `softmax and dout = softmax − one-hot (label ${label}); loss ${step.loss.toFixed(3)}` }),
      el('tr', {}, el('th', { text: 'class' }), ...Array.from({ length: 10 }, (_, d) => el('th', { text: String(d) }))),
      el('tr', {}, el('th', { text: 'p' }), ...Array.from(step.probabilities, (p) => el('td', { text: p.toFixed(2) }))),
      el('tr', {}, el('th', { text: 'dout' }), ...Array.from(step.dlogits, (d) => el('td', { text: d.toFixed(2), class: d < 0 ? 'neg' : d > 0 ? 'pos' : '' }))));
    top.append(rows);
    b.append(top);
    if (step.dense) {
      const d = step.dense;
      const n = d.rows.length;
      const sBefore = largestScale(d.before);
      const sDw = largestScale(d.dw);
      const grid = el('div.onestep-grid');
      grid.style.setProperty('--cols', String(n));
      const head = (t) => el('p.rowhead', { text: t });
      grid.append(head(`${d.layer} before`));
      for (let i = 0; i < n; i++) grid.append(fig(`${d.layer} neuron ${d.rows[i]} before`, d.before, 28, 28, { offset: i * 784, scale: sBefore, size: 56, caption: String(d.rows[i]) }));
      grid.append(head('dW = dout · x'));
      for (let i = 0; i < n; i++) grid.append(fig(`update of neuron ${d.rows[i]}`, d.dw, 28, 28, { offset: i * 784, scale: sDw, size: 56, caption: `dout ${d.dout[i].toFixed(2)}` }));
      grid.append(head(`after w − ${this.state.lr}·dW`));
      for (let i = 0; i < n; i++) grid.append(fig(`${d.layer} neuron ${d.rows[i]} after`, d.after, 28, 28, { offset: i * 784, scale: sBefore, size: 56, caption: String(d.rows[i]) }));
      b.append(grid, el('p.small', { text: `dW is the image times each neuron's dout: the true class (dout < 0) gets the image added (w − lr·dW), every other class has it subtracted in proportion to its probability. Largest difference from the model's own backward pass: ${d.maxDiff.toExponential(1)}.` }));
    }
    if (step.conv) {
      const c = step.conv;
      const [K, P] = c.colShape;
      const [co] = c.outputShape;
      const [ci, hi, wi] = c.inputShape;
      const row = el('div.onestep-conv');
      row.append(
        fig(`im2col of ${c.layer}'s input: ${K} rows × ${P} windows`, c.col, K, P, { size: 196, caption: `col: ${K} × ${P}` }),
        fig(`dout of ${c.layer}: ${co} × ${P}`, c.dout, co, P, { size: 196, caption: `dout: ${co} × ${P}` }),
        fig(`dW = dout · colᵀ: ${co} × ${K}`, c.dw, co, K, { size: 196, caption: 'dW = dout · colᵀ' }),
        fig('dW from the model\'s backward pass', c.dwModel, co, K, { size: 196, caption: `model's dW (max |Δ| ${c.dwDiff.toExponential(1)})` }));
      b.append(el('h4', { text: `${c.layer}: the weight gradient is one matrix product over the im2col table` }), row);
      const dx = el('div.onestep-dx');
      const sx = largestScale(c.dxModel);
      for (let i = 0; i < ci; i++) dx.append(fig(`dX channel ${i} by convTranspose2d`, c.dx, hi, wi, { offset: i * hi * wi, scale: sx, size: 56, caption: `${i}` }));
      const dxm = el('div.onestep-dx');
      for (let i = 0; i < ci; i++) dxm.append(fig(`dX channel ${i} from the model`, c.dxModel, hi, wi, { offset: i * hi * wi, scale: sx, size: 56, caption: `${i}` }));
      b.append(el('h4', { text: 'The input gradient is the transposed convolution of dout with the same weights (the adjoint)' }),
        el('p.small', { text: 'convTranspose2d(dout, W):' }), dx,
        el('p.small', { text: 'what the model\'s backward pass hands to the layer below:' }), dxm,
        el('p#train-adjoint.small', { 'data-diff': String(c.dxDiff), text: `largest difference ${c.dxDiff.toExponential(1)}: the same numbers.` }));
    }
  }

  save(purpose) {
    this.pool.send({ type: 'save', purpose });
  }

  saved({ purpose, arch, bytes }) {
    if (purpose === 'download' || purpose === 'onnx') {
      let ext = 'safetensors';
      if (purpose === 'onnx') {
        // The same weights as ONNX (wasm writes it), for PyTorch, onnxruntime and Netron.
        try {
          const m = this.api.Model.load(bytes);
          bytes = m.toOnnx();
          m.free();
          ext = 'onnx';
        } catch (err) {
          this.useStatus.textContent = `Could not write ONNX: ${err.message}`;
          return;
        }
      }
      const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
      const a = el('a', { href: url, download: `convscope-${arch}.${ext}` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      this.useStatus.textContent = `Saved convscope-${arch}.${ext} (${grouped(bytes.length)} bytes).`;
      return;
    }
    try {
      const m = this.api.Model.load(bytes);
      this.shared.useModel(m, `trained here (${grouped(this.lastStatus?.samples ?? 0)} samples)`);
    } catch (err) {
      this.useStatus.textContent = err.message;
    }
  }

  async loadFile(file) {
    let bytes = null;
    try {
      bytes = new Uint8Array(await file.arrayBuffer());
      const m = this.api.Model.load(bytes);
      this.shared.useModel(m, `your file ${file.name}`);
      this.useStatus.dataset.error = '';
      this.fileError.hidden = true;
    } catch (err) {
      // What is wrong, in plain words (wasm's), and below it the loader's exact message.
      let plain = null;
      try { plain = bytes && this.api.modelFileProblem(bytes); } catch { /* the exact message says it */ }
      this.fileErrorPlain.replaceChildren(el('strong', { text: `${file.name} was not loaded: ` }), plain ?? 'the loader refused it.');
      this.fileErrorCode.textContent = err.message;
      this.fileError.hidden = false;
      this.useStatus.dataset.error = err.message;
      this.showSources();
    }
    this.fileInput.value = '';
  }

  showSources() {
    const used = ['slp', 'mlp', 'cnn'].map((a) => [a, this.shared.modelSource(a)]).filter(([, s]) => s);
    this.btnShipped.hidden = used.length === 0;
    if (used.length) {
      const where = { slp: 'Templates', mlp: 'Templates', cnn: 'Draw' };
      this.useStatus.textContent = used.map(([a, s]) => `${where[a]} runs the ${a} ${s}`).join('; ') + '.';
    } else this.useStatus.textContent = 'Draw and Templates run the shipped models.';
  }

  /** Show me, first: the slp from zeros with plain SGD, on one worker, nothing else changed. */
  showMeBefore() {
    if (this.running) this.pause();
    Object.assign(this.state, SHOW_ME_RUN);
    this.stepIndex.value = '';
    this.linkNotes([]);
    this.showControls();
    this.check();
    this.ctx.changed();
  }

  /** The next report of the workers of `type` that passes `pred` (an error report rejects). */
  nextEvent(type, pred = () => true) {
    return new Promise((resolve, reject) => {
      const on = (e) => {
        if (!pred(e.detail)) return;
        this.pool.removeEventListener(type, on);
        this.pool.removeEventListener('error', bad);
        resolve(e.detail);
      };
      const bad = (e) => {
        this.pool.removeEventListener(type, on);
        this.pool.removeEventListener('error', bad);
        reject(new Error(e.detail.message));
      };
      this.pool.addEventListener(type, on);
      this.pool.addEventListener('error', bad);
    });
  }

  /** Trains `n` batches and waits for the report (with the test subset's accuracy). */
  async showMeSteps(n, run) {
    const done = this.nextEvent('progress', (m) => m.stepped !== undefined);
    this.pool.send({ type: 'step', n, cosines: true });
    await done;
    run.check();
  }

  /** Brings the guided run to the moment `stop` names (see SHOW_ME). */
  async showMeTo(stop, run) {
    const pace = this.shared.reducedMotion ? 0 : 40;
    if (stop.at === 'first batch') {
      this.started = true;
      if (this.poolReady && this.pool.count !== 1) await this.restartPool();
      await this.ensurePool();
      run.check();
      // A fresh slp from zeros, whatever ran before.
      const fresh = this.nextEvent('progress', (m) => m.reset);
      this.settingsSent = JSON.stringify(this.settings());
      this.pool.send({ type: 'settings', settings: this.settings() });
      this.pool.send({ type: 'pace', pace: 0 });
      await fresh;
      await run.wait(pace * 5);
      await this.showMeSteps(1, run);
      this.weightsCard.scrollIntoView({ block: 'center' });
    } else if (stop.accuracy || stop.cosine) {
      // A few batches at a time, each followed by wasm's evaluation of the test subset and of the templates.
      const reached = () => (stop.accuracy ? this.testAcc >= stop.accuracy : this.cosines?.least >= stop.cosine);
      let n = 1;
      while (!reached() && (this.lastStatus?.samples ?? 0) < 3 * this.lim.batch[1]) {
        await run.wait(pace);
        await this.showMeSteps(n, run);
        n = Math.min(n + 1, 6);
      }
      this.weightsCard.scrollIntoView({ block: 'center' });
    } else if (stop.at === 'hardest') {
      this.stepIndex.value = '';
      this.ctx.changed();
      const shown = this.nextEvent('explain');
      this.explain();
      await shown;
      run.check();
      this.stepCard.scrollIntoView({ block: 'start' });
    }
    // The figures are drawn in the next frame.
    await run.wait(Math.max(pace, 50));
  }

  getState() {
    const s = this.state;
    const img = this.stepIndex.value.trim();
    // The typed learning rate and batch stay as typed (the trainer names what it refuses).
    // (The typed learning rate and batch are strings: the link writes them as they are.)
    return writeLink(this.schema, { ...s, arch: s.model === 'custom' ? (s.arch ?? JSON.stringify(FIRST_DESIGN)) : null, image: img || null });
  }

  async setState(p) {
    const s = this.state;
    // An invalid value opens with the default of the model the link names (or the one shown).
    const model = MODELS[p.m] ? p.m : s.model;
    for (const [name, d] of Object.entries(DEFAULTS[model])) fieldOf(this.schema, name).def = name === 'lr' ? Number(d) : d;
    const { values: { image, ...v }, notes } = readLink(this.schema, p);
    // A model brings its own defaults; the link's other settings then override them.
    if (v.model) Object.assign(s, DEFAULTS[v.model]);
    Object.assign(s, v);
    for (const name of ['lr', 'batch']) if (v[name] !== undefined) s[name] = String(v[name]);
    if (image !== undefined) this.stepIndex.value = String(image);
    if (p.w !== undefined && v.workers !== undefined && String(v.workers) !== p.w) notes.push(`This browser reports ${MAX_WORKERS} cores.`);
    this.linkNotes(notes);
    this.showControls();
    this.check();
    if (this.poolReady) {
      if (this.pool.count !== s.workers) await this.restartPool();
      else {
        if (!this.refused && JSON.stringify(this.settings()) !== this.settingsSent) this.clearRun();
        await this.applySettings();
        this.sendPace();
      }
    }
    this.ctx.changed();
  }

  async show() {
    this.showSources();
    this.ctx.changed();
    this.deferWeights = true;
    this.draw();
    // MNIST downloads and the workers start while the visitor reads the scene, so that Start
    // trains at once (a failure shows in the error box, and Start tries again).
    if (!this.poolReady && !this.refused) this.ensurePool().catch(() => {});
  }

  hide() {
    // Training goes on in the workers; the page only stops drawing it.
  }

  onKey(e) {
    if (e.key === ' ') { if (this.running) this.pause(); else this.start(); return true; }
    return false;
  }
}
