// Scene "Why this answer?" (`#look`): the gradient turned on the input. For the digit drawn here
// (shared with Draw and Templates) and any class: the saliency map (∂logit/∂input), gradient ×
// input, Grad-CAM on a conv layer and the occlusion map side by side, each on the diverging
// scale; an ε slider that makes the adversarial digit (FGSM) with its perturbation and the new
// answer; and what the network thinks a digit looks like (its class image) beside the
// single-layer perceptron's template. Every number comes from wasm (`model.inputGradient`,
// `gradCam`, `occlusion`, `adversarial`, `classImage`); this file wires views to them.

import { Scene, el } from '../scene.js';
import { Pad, PAD_SIZE } from '../views/pad.js';
import { Heatmap } from '../views/heatmap.js';
import { ShowMe } from '../views/showme.js';
import { encodeStrokes, decodeStrokes, snap, example } from '../strokes.js';
import { custom, int, readLink, writeLink } from '../schema.js';
import { grouped } from '../dom.js';

const SHOW_ME = {
  idea: 'The backward pass that trains a network also runs to its input: the gradient says which pixels made it answer, and a few grey pixels along it change the answer.',
  stops: [
    { at: 'draw', caption: 'A 3 is drawn: red pixels raise the score of 3 (the saliency map), and Grad-CAM lights the strokes conv2 used.' },
    { at: 'why-not', cls: 8, caption: 'Why not 8? The gradient of the 8\'s score: the gaps that an 8 would fill are red.' },
    { at: 'adversarial', eps: 0.2, caption: 'ε = 0.2: ten small steps along the sign of the loss\'s gradient (iterated FGSM) add grey specks, and the network\'s confidence falls or its answer changes.' },
  ],
};

/** The scene's settings as a link keeps them: the drawing, the class asked about, ε (in hundredths). */
export const SCHEMA = [
  custom('drawing=d', 'The drawing', decodeStrokes, encodeStrokes, null, 'is not one this page wrote', 'no digit'),
  int('target=c', 'Class', 0, 9, 3),
  int('epsilon=e', 'ε (hundredths)', 0, 30, 10),
];

export class LookScene extends Scene {
  static id = 'look';

  constructor(root, ctx) {
    super(root, ctx);
    this.version = -1;
    this.cls = 3;
    this.auto = true; // the class follows the answer until one is picked
    this.eps = 0.1;
    this.build();
    this.ready = this.load();
    // Another scene's digit (this scene's own is explained by share(), not twice).
    this.shared.addEventListener('digit', () => { if (!this.root.hidden && !this.sharing) { this.syncPad(); this.update(); } });
  }

  build() {
    const r = this.root;
    r.append(el('div.intro', {},
      el('h2', { text: 'Why this answer?' }),
      el('p', { text: 'Training moves the weights along the gradient of the loss. The same backward pass, run one layer further, gives the gradient with respect to the input: how each pixel pushes a class\'s score. Draw a digit, pick a class, and see what the network used.' })));
    const host = el('div.look-showme.showme-host');
    r.append(host);
    this.showMe = new ShowMe(host, {
      id: 'look',
      idea: SHOW_ME.idea,
      stops: SHOW_ME.stops.map((st) => ({ caption: st.caption, go: (run) => this.showMeTo(st, run) })),
      scope: r,
    });

    const top = el('div.look-top');
    r.append(top);
    const padCard = el('div.card.look-pad');
    const padWrap = el('div.tpl-padwrap');
    this.pad = new Pad(padWrap, {
      label: 'Drawing pad: draw a digit with the mouse, a finger or a pen',
      onChange: () => { if (this.pad.live.size) this.update(this.digitOfPad()); },
      onStrokeEnd: () => this.committed(),
    });
    this.pad.canvas.id = 'look-pad';
    this.answer = el('p#look-answer.look-answer', { role: 'status', 'aria-live': 'polite', 'data-digit': '' });
    padCard.append(el('h3', { text: 'Your digit' }), padWrap, el('div.buttons', {},
      el('button#look-clear.secondary', { type: 'button', text: 'Clear', onclick: () => { this.pad.clear(false); this.share(); } }),
      el('button#look-example.secondary', { type: 'button', text: 'Example', onclick: () => { this.pad.setPaths(example(3).map(snap)); this.share(); } })),
      this.answer);
    top.append(padCard);

    const ask = el('div.card.look-maps');
    this.classes = el('div#look-class.look-class', { role: 'radiogroup', 'aria-label': 'The class to explain' });
    this.classBtns = Array.from({ length: 10 }, (_, d) => {
      const b = el('button.secondary', { type: 'button', role: 'radio', 'data-class': String(d), text: String(d), 'aria-label': `class ${d}`, onclick: () => { this.auto = false; this.setClass(d); } });
      this.classes.append(b);
      return b;
    });
    this.classes.addEventListener('keydown', (e) => {
      const d = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[e.key];
      if (!d) return;
      e.preventDefault();
      this.auto = false;
      this.setClass((this.cls + d + 10) % 10);
      this.classBtns[this.cls].focus();
    });
    this.markClass();
    this.layerSel = el('select#look-layer', { 'aria-label': 'Layer for Grad-CAM', onchange: () => this.update() });
    const fig = (id, title, caption) => {
      const f = el(`figure#${id}.look-map`);
      const map = new Heatmap(f, { label: title, signed: true, size: 140 });
      const cap = el('figcaption', { text: caption });
      f.append(el('h4', { text: title }), cap);
      return { f, map, cap };
    };
    this.sal = fig('look-saliency', 'Saliency: ∂score / ∂pixel', 'red pixels raise the class\'s score, blue ones lower it');
    this.gx = fig('look-gradx', 'Gradient × input', 'the same, where there is ink: what the drawn strokes contributed');
    this.cam = fig('look-gradcam', 'Grad-CAM', 'the layer\'s channels, weighted by the mean gradient of each, summed and kept positive');
    this.occ = fig('look-occlusion', 'Occlusion', 'how much the class\'s probability drops when a grey 7 × 7 patch covers each place (the patch slides with stride 3: a correlation)');
    this.cam.f.insertBefore(el('label.field', {}, el('span', { text: 'layer ' }), this.layerSel), this.cam.cap);
    ask.append(el('h3', {}, el('span', { text: 'Explain class ' }), this.classes),
      el('div.look-row', {}, this.sal.f, this.gx.f, this.cam.f, this.occ.f));
    top.append(ask);

    const adv = el('section.card.look-adv', { 'aria-label': 'An adversarial digit' });
    this.epsIn = el('input#look-eps', { type: 'range', min: '0', max: '30', step: '1', value: '10', 'aria-label': 'ε, the largest change of any pixel (hundredths)' });
    this.epsIn.addEventListener('input', () => { this.eps = Number(this.epsIn.value) / 100; this.epsOut.textContent = this.eps.toFixed(2); this.updateAdversarial(); this.ctx.changed(); });
    this.epsOut = el('output#look-eps-value', { text: '0.10' });
    this.advMap = new Heatmap(adv, { label: 'The adversarial digit', signed: false, size: 140 });
    this.pertMap = new Heatmap(adv, { label: 'Its perturbation', signed: true, size: 140 });
    this.advPred = el('p#look-adv-pred.look-answer', { role: 'status', 'data-digit': '' });
    adv.prepend(el('h3', { text: 'How little ink changes the answer' }),
      el('p.small', { text: 'Every pixel moves by at most ε, in ten small steps along the sign of the gradient of the loss of the network\'s answer (FGSM, iterated and kept within ε), clipped to 0..1.' }),
      el('label.field', {}, el('span', { text: 'ε ' }), this.epsIn, this.epsOut));
    adv.append(this.advPred);
    const thinks = el('section.card.look-class-image', { 'aria-label': 'What the network thinks a digit looks like' });
    this.thinksTitle = el('h3', { text: 'What does it think a 3 looks like?' });
    this.ciMap = new Heatmap(thinks, { label: 'The cnn\'s class image', signed: false, size: 140 });
    this.tplMap = new Heatmap(thinks, { label: 'The slp\'s template', signed: true, size: 140 });
    thinks.prepend(this.thinksTitle, el('p.small', { text: 'Left: the input that maximises the cnn\'s score for the class (gradient ascent from a blank image, kept smooth). Right: the single-layer perceptron\'s template for it, its weights, which for that model is exactly the direction its score grows fastest.' }));
    this.ciNote = el('p#look-class-image.small', { 'data-class': '' });
    thinks.append(this.ciNote);
    r.append(el('div.look-bottom', {}, adv, thinks));
    this.buildAdjoint();
  }

  /**
   * The backward step of one conv layer, shown as what it is: dout stamps the conv's kernel,
   * scaled by each of its cells, onto dX (the transposed convolution of the transposed-conv
   * scene, with the same weights); dX that way beside the dX of the layer's backward pass, and
   * one cell's value three ways (wasm's `model.adjointStep`).
   */
  buildAdjoint() {
    const card = el('section#look-adjoint.card.look-adjoint', { 'aria-label': 'The backward step of a conv layer' });
    this.adjLayer = el('select#look-adjoint-layer', { 'aria-label': 'Conv layer whose backward step is shown', onchange: () => { this.adjCell = null; this.updateAdjoint(); } });
    this.adjChannel = el('select#look-adjoint-channel', { 'aria-label': 'Channel of dX shown', onchange: () => { const c = this.adjCell; if (c) this.adjCell = [Number(this.adjChannel.value), c[1], c[2]]; else this.adjCell = [Number(this.adjChannel.value), 0, 0]; this.updateAdjoint(); } });
    const fig = (id, title) => {
      const f = el(`figure#${id}.look-map`);
      f.append(el('h4', { text: title }));
      return f;
    };
    const fDout = fig('look-adjoint-dout', 'dout: ∂score / ∂(conv output)');
    this.adjDout = new Heatmap(fDout, { label: 'dout, one channel', signed: true, size: 140 });
    this.adjDoutCap = el('figcaption');
    fDout.append(this.adjDoutCap);
    const fStamp = fig('look-adjoint-stamp', 'One stamp: dout × kernel');
    const pair = el('div.look-stamp-pair');
    this.adjKernel = new Heatmap(pair, { label: 'the kernel', signed: true, size: 66 });
    this.adjStamp = new Heatmap(pair, { label: 'the kernel times the dout cell', signed: true, size: 66 });
    this.adjStampCap = el('figcaption');
    fStamp.append(pair, this.adjStampCap);
    const fDx = fig('look-adjoint-dx', 'dX = convTranspose2d(dout, W)');
    this.adjDx = new Heatmap(fDx, { label: 'dX by the transposed convolution: pick a cell', signed: true, size: 140, onPick: (y, x) => { this.adjCell = [Number(this.adjChannel.value), y, x]; this.updateAdjoint(); } });
    fDx.append(el('figcaption', { text: 'every dout cell stamps its kernel here, scaled by itself; overlaps add. Pick a cell.' }));
    const fModel = fig('look-adjoint-dxmodel', 'dX from the layer\'s backward pass');
    this.adjDxModel = new Heatmap(fModel, { label: 'dX from the backward pass in training', signed: true, size: 140 });
    fModel.append(el('figcaption', { text: 'what training computes for this layer (im2col\'s matrix product, then col2im)' }));
    this.adjCheck = el('p#look-adjoint-check.small', { role: 'status', 'data-diff': '', 'data-transpose': '', 'data-model': '', 'data-stamps': '' });
    card.append(
      el('h3', { text: 'The backward step of a conv layer is a transposed convolution' }),
      el('p.small', { text: 'To send the gradient back through a conv layer, each cell of dout (the gradient at its output) stamps the layer\'s kernel, scaled by itself, onto dX (the gradient at its input), and overlapping stamps add up: the transposed convolution of the transposed-conv scene, with the same weights. That is what "adjoint" means; for conv1, dX is the saliency map above.' }),
      el('div.buttons', {}, el('label.field', {}, el('span', { text: 'layer ' }), this.adjLayer), el('label.field', {}, el('span', { text: 'dX channel ' }), this.adjChannel)),
      el('div.look-row', {}, fDout, fStamp, fDx, fModel),
      this.adjCheck);
    this.root.append(card);
  }

  /** The conv layer's backward step for the digit and class shown (one wasm call). */
  updateAdjoint() {
    if (!this.x || !this.adjLayer.value) {
      this.adjCheck.textContent = this.x ? '' : 'Draw a digit to see its backward step.';
      return;
    }
    let a;
    try {
      a = this.model.adjointStep(this.x, { layer: this.adjLayer.value, target: this.cls, ...(this.adjCell ? { cell: this.adjCell } : {}) });
    } catch (err) {
      this.adjCheck.textContent = err.message;
      return;
    }
    const [ci, h, w] = a.inputShape;
    const [, ho, wo] = a.outputShape;
    const [kh, kw] = a.kernelSize;
    const [c, y, x] = a.cell;
    if (this.adjChannel.options.length !== ci) {
      this.adjChannel.replaceChildren(...Array.from({ length: ci }, (_, i) => el('option', { value: String(i), text: String(i) })));
    }
    this.adjChannel.value = String(c);
    this.adjCell = a.cell;
    const st = a.stamp;
    const o = st ? st.channel : 0;
    this.adjDout.update({ data: a.dout, h: ho, w: wo, offset: o * ho * wo, scale: a.doutScale });
    this.adjDout.mark(st ? [{ y0: st.y, x0: st.x, y1: st.y, x1: st.x, kind: 'cell' }] : []);
    this.adjDoutCap.textContent = st ? `channel ${o}; the outlined cell is ${st.dout.toPrecision(3)}` : 'no dout cell reaches the picked cell';
    for (const [m, d] of [[this.adjDx, a.dx], [this.adjDxModel, a.dxModel]]) {
      m.update({ data: d, h, w, offset: c * h * w, scale: a.dxScale });
    }
    const [dh, dw] = a.dilation;
    const foot = st ? [{ y0: st.top, x0: st.left, y1: st.top + (kh - 1) * dh, x1: st.left + (kw - 1) * dw, kind: 'window' }] : [];
    this.adjDx.mark([...foot, { y0: y, x0: x, y1: y, x1: x, kind: 'cell' }]);
    this.adjDxModel.mark([{ y0: y, x0: x, y1: y, x1: x, kind: 'cell' }]);
    if (st) {
      this.adjKernel.update({ data: st.kernel, h: kh, w: kw });
      this.adjStamp.update({ data: st.scaled, h: kh, w: kw });
      this.adjStampCap.textContent = `W[${o}, ${c}] (left) times dout ${st.dout.toPrecision(3)} (right): the largest of the ${a.stamps} stamps that land on the picked cell (outlined in orange on dX)`;
    } else this.adjStampCap.textContent = 'no stamp lands on the picked cell';
    const f = (v) => v.toPrecision(4);
    Object.assign(this.adjCheck.dataset, { diff: String(a.maxDiff), transpose: String(a.byTranspose), model: String(a.byModel), stamps: String(a.byStamps), cell: a.cell.join(',') });
    this.adjCheck.textContent = `dX[${c}, ${y}, ${x}]: convTranspose2d gives ${f(a.byTranspose)}; the backward pass gives ${f(a.byModel)}; its ${a.stamps} stamps add up to ${f(a.byStamps)}. Over all ${grouped(ci * h * w)} cells of dX the largest difference is ${a.maxDiff.toExponential(1)}: the same numbers.`;
  }

  async load() {
    const [cnn, slp] = await Promise.all([this.shared.model('cnn'), this.shared.model('slp')]);
    this.model = cnn;
    this.slp = slp;
    this.layerSel.replaceChildren(...cnn.layers().map((l, i) => [l, i]).filter(([l, i]) => i > 0 && l.shape.length === 3)
      .map(([l, i]) => el('option', { value: String(i), text: l.name })));
    this.layerSel.value = String(cnn.layers().findIndex((l) => l.name === 'conv2'));
    this.adjLayer.replaceChildren(...cnn.layers().filter((l) => l.kind === 'conv2d').map((l) => el('option', { value: l.name, text: l.name })));
    this.adjLayer.value = 'conv2';
    this.template = slp.weights('fc1');
    await this.warmUp();
  }

  digitOfPad() {
    return this.pad.empty ? null : this.api.preprocess(this.pad.pixels(), PAD_SIZE, PAD_SIZE) ?? null;
  }

  committed() {
    if (this.pad.live.size) return;
    this.pad.setPaths(this.pad.paths.map(snap));
    this.share();
  }

  share() {
    const x = this.digitOfPad();
    this.sharing = true;
    try {
      this.shared.setDigit(x, x ? this.pad.paths : null);
    } finally {
      this.sharing = false;
    }
    this.version = this.shared.version;
    this.auto = true;
    this.update(x);
    this.ctx.changed();
  }

  syncPad() {
    if (this.shared.version === this.version) return;
    this.version = this.shared.version;
    if (this.shared.strokes) this.pad.setPaths(this.shared.strokes);
    else if (!this.shared.digit) this.pad.clear(false);
  }

  /** The class buttons show the class explained (a radio group: one checked, one tab stop). */
  markClass() {
    this.classBtns.forEach((b, i) => {
      b.setAttribute('aria-checked', String(i === this.cls));
      b.classList.toggle('on', i === this.cls);
      b.tabIndex = i === this.cls ? 0 : -1;
    });
  }

  setClass(d) {
    this.cls = d;
    this.markClass();
    this.update();
    this.laterClassImage();
    this.ctx.changed();
  }

  /**
   * Explains digit `x` for the class picked: the answer at once, then each map in a task of its
   * own (a few ms each on a quiet machine), so that no task of the page's runs long even on a
   * slow or busy one. A newer digit, class or layer drops the rest of an older explanation.
   */
  async update(x = this.shared.digit) {
    await this.ready;
    this.x = x;
    const ticket = (this.ticket = (this.ticket ?? 0) + 1);
    const blank = new Float32Array(784);
    if (!x) {
      this.answer.textContent = 'Draw a digit (or press Example).';
      this.answer.dataset.digit = '';
      for (const m of [this.sal, this.gx, this.cam, this.occ]) m.map.update({ data: blank, h: 28, w: 28, scale: 1 });
      this.advMap.update({ data: blank, h: 28, w: 28, scale: 1 });
      this.pertMap.update({ data: blank, h: 28, w: 28, scale: 1 });
      this.advPred.textContent = '';
      this.updateAdjoint();
      return;
    }
    const p = this.model.predict(x);
    const top = this.api.argmax(p);
    if (this.auto && this.cls !== top) { this.cls = top; this.laterClassImage(); }
    this.markClass();
    this.answer.dataset.digit = String(top);
    this.answer.textContent = `The cnn reads a ${top} (${(100 * p[top]).toFixed(0)}%); explaining class ${this.cls} (${(100 * p[this.cls]).toFixed(1)}%).`;
    this.top = top;
    const c = this.cls;
    const parts = [
      () => this.sal.map.update({ data: this.model.inputGradient(x, { target: c }), h: 28, w: 28 }),
      () => this.gx.map.update({ data: this.model.inputGradient(x, { target: c, timesInput: true }), h: 28, w: 28 }),
      () => {
        const cam = this.model.gradCam(x, { layer: Number(this.layerSel.value), target: c });
        this.cam.map.update({ data: cam.upsampled, h: cam.inputH, w: cam.inputW });
        this.cam.f.dataset.h = String(cam.h);
      },
      // The conv layer's backward step (one forward and backward).
      () => this.updateAdjoint(),
      // The occlusion map: 65 forwards.
      () => {
        const occ = this.model.occlusion(x, { target: c, patch: 7, stride: 3 });
        this.occ.map.update({ data: occ.map, h: occ.h, w: occ.w });
        this.occ.f.dataset.h = String(occ.h);
        this.occ.f.dataset.class = String(c);
      },
      // The adversarial digit: ten gradients and a forward.
      () => this.updateAdversarial(),
    ];
    for (const part of parts) {
      await new Promise((r) => setTimeout(r, 0));
      if (ticket !== this.ticket) return;
      part();
    }
  }

  /**
   * A fresh wasm instance runs its baseline compiler's code (many times slower) until the
   * optimised code arrives: the gradients are run on a blank input in small batches, yielding
   * between them, before the scene's first answer (Draw does the same for its forward).
   */
  async warmUp() {
    const blank = new Float32Array(784);
    const t0 = performance.now();
    let best = Infinity;
    for (let i = 0; i < 60 && performance.now() - t0 < 4000; i++) {
      const a = performance.now();
      this.model.inputGradient(blank, { target: 0 });
      this.model.predict(blank);
      const ms = performance.now() - a;
      best = Math.min(best, ms);
      if (i >= 10 && ms < 2 * best) break;
      await new Promise((r) => setTimeout(r, 0));
    }
    this.root.dataset.warm = '1';
  }

  updateAdversarial() {
    if (!this.x) return;
    const a = this.model.adversarial(this.x, { epsilon: this.eps, label: this.top, steps: 10 });
    this.advMap.update({ data: a.pixels, h: 28, w: 28, scale: 1 });
    this.pertMap.update({ data: a.perturbation, h: 28, w: 28, scale: Math.max(this.eps, 0.01) });
    this.advPred.dataset.digit = String(a.top);
    this.advPred.dataset.eps = this.eps.toFixed(2);
    this.advPred.textContent = `With ε = ${this.eps.toFixed(2)} the cnn reads a ${a.top} (${(100 * a.probabilities[a.top]).toFixed(0)}%)${a.top === this.top ? ', still' : `, not the ${this.top} it read before`}.`;
  }

  /** The class image in a task of its own (60 steps of gradient ascent: ~20 ms for the cnn). */
  laterClassImage() {
    clearTimeout(this.ciTimer);
    this.ciTimer = setTimeout(() => this.showClassImage(), 0);
  }

  async showClassImage() {
    await this.ready;
    const d = this.cls;
    this.thinksTitle.textContent = `What does it think a ${d} looks like?`;
    // 60 steps of ascent in parts of 10, each in a task of its own (a few ms each).
    const ticket = (this.ciTicket = (this.ciTicket ?? 0) + 1);
    let img = null;
    for (let part = 0; part < 6; part++) {
      if (part) await new Promise((r) => setTimeout(r, 0));
      if (ticket !== this.ciTicket) return; // another class was asked for meanwhile
      img = this.model.classImage(d, { steps: 10, l2: 0.05, blur: 0.3 }, img?.pixels);
      this.ciMap.update({ data: img.pixels, h: 28, w: 28 });
    }
    this.tplMap.update({ data: this.template.data.subarray(d * 784, (d + 1) * 784), h: 28, w: 28 });
    this.ciNote.dataset.class = String(d);
    this.ciNote.textContent = `The cnn's ${d} (left) is built from the strokes its filters respond to; the perceptron's template (right) is one picture per class.`;
  }

  async showMeTo(st, run) {
    await this.ready;
    run.check();
    if (st.at === 'draw') {
      this.pad.setPaths(example(3).map(snap));
      this.share();
      this.layerSel.value = String(this.model.layers().findIndex((l) => l.name === 'conv2'));
      await this.update();
    } else if (st.at === 'why-not') {
      this.auto = false;
      this.setClass(st.cls);
    } else if (st.at === 'adversarial') {
      this.epsIn.value = String(Math.round(st.eps * 100));
      this.epsIn.dispatchEvent(new Event('input'));
    }
    await run.wait(50);
  }

  getState() {
    return writeLink(SCHEMA, { drawing: this.shared.strokes, target: this.auto ? null : this.cls, epsilon: Math.round(this.eps * 100) === 10 ? null : Math.round(this.eps * 100) });
  }

  async setState(params) {
    const { values, notes } = readLink(SCHEMA, params);
    this.linkNotes(notes);
    if (values.drawing) { this.pad.setPaths(values.drawing); this.shared.setDigit(this.digitOfPad(), values.drawing); this.version = this.shared.version; }
    if (values.epsilon !== undefined) { this.eps = values.epsilon / 100; this.epsIn.value = String(values.epsilon); this.epsOut.textContent = this.eps.toFixed(2); }
    if (values.target !== undefined) { this.auto = false; this.setClass(values.target); }
  }

  async show() {
    this.syncPad();
    await this.update();
    if (!this.shownOnce) { this.shownOnce = true; this.laterClassImage(); }
    this.ctx.changed();
  }
}
