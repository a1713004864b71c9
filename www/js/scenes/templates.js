// Scene "Templates": a dense layer's weights are not a black box. For the drawn
// digit, the weights of the neuron that answered most, in the single-layer perceptron (slp,
// 784→10) and in the MLP's hidden layer (784→128), drawn as 28×28 images beside the input,
// with their cosine similarity; and all ten slp templates. The scene has its own small pad,
// which reads and writes the digit the scenes share (Draw's pad shows the same digit).

import { Scene, el } from '../scene.js';
import { Heatmap } from '../views/heatmap.js';
import { NetInfo } from '../netinfo.js';
import { Pad, rasterise, PAD_SIZE } from '../views/pad.js';
import { example, encodeStrokes, decodeStrokes, snap } from '../strokes.js';
import { custom, readLink, writeLink } from '../schema.js';
import { ShowMe } from '../views/showme.js';
import { CodeView } from '../views/code.js';

/**
 * "Show me": the idea and the guided run, in one place. The run draws `digit` on the pad stroke
 * by stroke, then pauses on the winning neuron's weights beside the digit, and on the ten
 * templates with their cosines (both computed in wasm).
 */
const SHOW_ME = {
  idea: 'A neuron\'s answer is the dot product of its weights with the image, and a dot product is large when the two look alike: so the neuron that wins holds a picture of the digit.',
  digit: 3,
  stops: [
    { focus: 'pad', caption: 'A digit drawn on the pad: to the network it is 784 numbers, the 28 × 28 image beside it.' },
    { focus: 'winner', caption: 'The winning slp neuron\'s 784 weights beside the digit: red where ink raises its score, blue where ink lowers it.' },
    { focus: 'grid', caption: 'All ten templates with their cosine to the digit (1 = the same picture): the winner is outlined.' },
  ],
};

/** The scene's one setting as a link keeps it: the drawn digit (its strokes). */
export const SCHEMA = [custom('drawing=d', 'The drawing', decodeStrokes, encodeStrokes, null, 'is not one this page wrote', 'no digit')];

export class TemplatesScene extends Scene {
  static id = 'templates';

  constructor(root, ctx) {
    super(root, ctx);
    this.version = -1; // the shared drawing the pad shows
    this.build();
    this.ready = this.load();
    this.shared.addEventListener('digit', () => {
      if (!this.showMe.run) this.focus(null); // a Show me outline goes with the digit it was about
      if (!this.root.hidden) { this.syncPad(); this.update(); }
    });
    this.shared.addEventListener('model', (e) => {
      if (e.detail.arch === 'cnn') return;
      this.clearCosines(); // they belong to the model that is going
      this.ready = this.load().then(() => { if (!this.root.hidden) this.update(); });
    });
  }

  build() {
    const r = this.root;
    r.append(el('div.intro', {},
      el('h2', { text: 'Weights that look like digits' }),
      el('p', { text: 'A dense neuron takes the dot product of its weights with the input, and a dot product is a similarity: it is large when the two look alike. Training nudges each neuron\'s weights toward the inputs it must answer, so the neuron that wins for your digit holds a picture of that digit.' })));

    const showMeHost = el('div.tpl-showme.showme-host');
    r.append(showMeHost);
    this.showMe = new ShowMe(showMeHost, {
      id: 'templates',
      idea: SHOW_ME.idea,
      stops: SHOW_ME.stops.map((st, i) => ({ caption: st.caption, go: (run) => this.showMeTo(st, i, run) })),
      scope: r,
    });

    const row = el('div.tpl-row');
    r.append(row);
    const card = (title, id) => {
      const c = el('figure.card.tpl-card', { id });
      c.append(el('h3', { text: title }));
      row.append(c);
      return c;
    };
    const cin = card('Your digit', 'tpl-input');
    // The scene's own pad (the shared digit: what is drawn here shows on Draw, and back).
    const padRow = el('div.tpl-padrow');
    const padWrap = el('div.tpl-padwrap');
    this.pad = new Pad(padWrap, {
      label: 'Drawing pad: draw a digit with the mouse, a finger or a pen',
      onChange: () => this.drawn(),
      onStrokeEnd: () => this.committed(),
    });
    this.pad.canvas.id = 'tpl-pad'; // Draw's pad is #pad
    this.inputMap = new Heatmap(padRow, { label: 'Your digit, 28 × 28, as the network reads it', signed: false, size: 84 });
    this.inputMap.update({ data: new Float32Array(784), h: 28, w: 28, scale: 1 });
    padRow.prepend(padWrap);
    this.inputCap = el('figcaption', { text: 'the pad, and the 28 × 28 input it makes' });
    cin.append(padRow, this.inputCap, el('div.buttons', {},
      el('button#tpl-clear.secondary', { type: 'button', text: 'Clear', 'aria-label': 'Clear the pad', onclick: () => this.clear() }),
      el('button#tpl-example-pad.secondary', { type: 'button', text: 'Example', 'aria-label': 'Draw an example digit', onclick: () => this.example() })));

    const cslp = card('Single-layer perceptron', 'tpl-slp');
    this.slpMap = new Heatmap(cslp, { label: 'Weights of the winning slp neuron', signed: true, size: 168 });
    this.slpCap = el('figcaption', { text: 'the winning neuron\'s 784 weights' });
    this.slpCos = el('p#cos-slp.cos', { 'data-cos': '' });
    cslp.append(this.slpCap, this.slpCos);
    // The perceptron as PyTorch writes it (from wasm): its one nn.Linear holds these templates.
    this.code = new CodeView(cslp, { id: 'templates', title: 'The single-layer perceptron in PyTorch' });

    const cmlp = card('MLP hidden layer', 'tpl-mlp');
    this.mlpMap = new Heatmap(cmlp, { label: 'Weights of the most active mlp hidden neuron', signed: true, size: 168 });
    this.mlpCap = el('figcaption', { text: 'the most active of 128 hidden neurons' });
    this.mlpCos = el('p#cos-mlp.cos', { 'data-cos': '' });
    cmlp.append(this.mlpCap, this.mlpCos);

    this.empty = el('div.card.empty-note', {},
      el('p', { text: 'Nothing drawn yet. Draw a digit on the pad (or on ' }, el('a', { href: '#draw', text: 'Draw' }), '), or'),
      el('button#tpl-example', { type: 'button', text: 'use an example', 'aria-label': 'Use an example digit', onclick: () => this.example() }));
    r.append(this.empty);

    r.append(el('h3.tpl-h', { text: 'All ten slp neurons' }),
      el('p.small', { text: 'The slp has one neuron per digit, each with 784 weights: red where ink raises its score, blue where ink lowers it. Under each: its probability for your digit and the cosine between your digit and its weights. The winner is outlined.' }));
    this.grid = el('div#templates.tpl-grid', { role: 'list', 'aria-label': 'The ten slp templates' });
    this.tiles = [];
    for (let d = 0; d < 10; d++) {
      const f = el('figure.tpl', { role: 'listitem', 'data-class': String(d) });
      const m = new Heatmap(f, { label: `slp weights of digit ${d}`, signed: true, size: 84 });
      const cap = el('figcaption', { text: String(d) });
      f.append(cap);
      this.grid.append(f);
      this.tiles.push({ f, m, cap });
    }
    r.append(this.grid);

    r.append(el('div.card.why', {},
      el('h3', { text: 'Why the weights become pictures' }),
      el('p', {}, 'During training each weight matrix moves by ', el('code', { text: 'dW = Xᵀ · dout' }),
        ': the layer\'s inputs X, weighted by how wrong each output was. A neuron that must answer "3" keeps adding a little of every 3 it misses, and subtracting a little of every non-3 that fooled it, so its weights drift toward the average 3 minus what the other digits share.'),
      el('p', { text: 'The cosine similarity is the dot product with the lengths divided out: 1 for the same picture, 0 for unrelated ones. An slp template also holds negative evidence (the blue that tells the other digits apart), so its cosine with any one digit stays small, but compare the ten: the winner\'s is usually the largest. Hidden neurons of the MLP answer parts and strokes, so the most active one often resembles a piece of your digit more closely.' })));
    this.status = el('p.status', { role: 'status', text: 'loading the slp and mlp models…' });
    this.source = el('p#tpl-source.small', { text: '' });
    r.append(this.status, this.source);
  }

  async load() {
    try {
      const [slp, mlp] = await Promise.all([this.shared.model('slp'), this.shared.model('mlp')]);
      this.slp = new NetInfo(slp);
      // A design trained on the Train scene whose first weighted layer is dense over the 784
      // pixels takes the hidden-layer card: its neurons are templates too.
      const own = this.shared.customModel && new NetInfo(this.shared.customModel);
      const firstWeighted = own?.layers.find((l) => l.kind === 'linear' || l.kind === 'conv2d' || l.kind === 'convtranspose2d');
      this.own = own && firstWeighted?.kind === 'linear' && firstWeighted.params?.weight.shape[1] === 784 && own.inputShape.join() === '1,28,28' ? own : null;
      this.mlp = this.own ?? new NetInfo(mlp);
      this.code.set(slp.pytorchCode());
    } catch (err) {
      this.status.textContent = `The models could not be loaded: ${err.message}`;
      console.error(err);
      return;
    }
    this.status.remove();
    const src = ['slp', 'mlp'].map((a) => [a, this.shared.modelSource(a)]).filter(([, s]) => s);
    this.source.textContent = [...src.map(([a, s]) => `The ${a} here is the one ${s}.`), this.own ? `The hidden-layer card runs your design (${this.shared.modelSource('custom')}).` : ''].join(' ').trim();
    const fc = this.slp.layers.find((l) => l.kind === 'linear');
    this.slpW = fc.params.weight;
    const scale = this.api.colourScale(this.slpW.data);
    this.tiles.forEach(({ m }, d) => m.update({ data: this.slpW.data, h: 28, w: 28, offset: d * 784, scale }));
    this.mlpFc = this.mlp.layers.findIndex((l) => l.kind === 'linear');
  }

  /** The pad changed under the pointer: the templates follow it live (the digit is shared at the stroke's end). */
  drawn() {
    if (this.pad.live.size === 0) return;
    const x = this.pad.empty ? null : this.api.preprocess(this.pad.pixels(), PAD_SIZE, PAD_SIZE);
    this.update(x ?? null);
  }

  /** A stroke ended: snap it to what a link stores, and share the digit. */
  committed() {
    if (this.pad.live.size) return;
    this.pad.setPaths(this.pad.paths.map(snap));
    this.share();
  }

  share() {
    // A note about the link's drawing goes once another digit is drawn.
    if (this.linkNote && !this.linkNote.hidden) this.linkNotes([]);
    const x = this.pad.empty ? null : this.api.preprocess(this.pad.pixels(), PAD_SIZE, PAD_SIZE);
    this.shared.setDigit(x ?? null, x ? this.pad.paths : null);
    this.version = this.shared.version;
    this.ctx.changed();
  }

  clear() {
    this.pad.clear(false);
    this.share();
  }

  /** Shows the shared drawing on the pad when another scene (or a link) set it. */
  syncPad() {
    if (this.shared.version === this.version) return;
    this.version = this.shared.version;
    if (this.shared.strokes) this.pad.setPaths(this.shared.strokes);
    else if (!this.shared.digit) this.pad.clear(false);
  }

  async update(x = this.shared.digit) {
    await this.ready;
    this.empty.hidden = !!x;
    this.root.classList.toggle('nodigit', !x);
    if (!x || !this.slp) {
      this.inputMap.update({ data: new Float32Array(784), h: 28, w: 28, scale: 1 });
      for (const m of [this.slpMap, this.mlpMap]) m.update({ data: new Float32Array(784), h: 28, w: 28, scale: 1 });
      this.clearCosines();
      for (const t of this.tiles) t.f.classList.remove('win');
      this.grid.dataset.win = '';
      return;
    }
    this.inputMap.update({ data: x, h: 28, w: 28, scale: 1 });

    const fs = this.slp.model.forward(x);
    const win = fs.top();
    const ps = Float32Array.from(fs.probabilities());
    fs.free?.();
    const wS = this.slpW.data.subarray(win * 784, (win + 1) * 784);
    this.slpMap.update({ data: wS, h: 28, w: 28, scale: this.api.colourScale(wS) });
    const cos = this.api.cosines(x, this.slpW.data);
    const cS = cos[win];
    this.slpCap.textContent = `neuron ${win} won (${(100 * ps[win]).toFixed(0)}%): its 784 weights`;
    this.slpCos.dataset.cos = String(cS);
    this.slpCos.replaceChildren(el('span', { text: 'cosine with your digit' }), el('strong', { text: cS.toFixed(3) }));
    this.grid.dataset.win = String(win);
    this.tiles.forEach(({ f, cap }, d) => {
      f.classList.toggle('win', d === win);
      f.setAttribute('aria-label', `digit ${d}: ${(100 * ps[d]).toFixed(1)}%${d === win ? ', the winner' : ''}`);
      cap.replaceChildren(el('strong', { text: String(d) }), ` ${(100 * ps[d]).toFixed(ps[d] > 0.1 ? 0 : 1)}%`,
        el('span.tcos', { text: `cos ${cos[d].toFixed(2)}`, title: 'cosine between your digit and these weights' }));
      f.dataset.cos = String(cos[d]);
    });

    const fm = this.mlp.model.forward(x);
    const hidden = Float32Array.from(this.mlp.activation(fm, this.mlpFc));
    const mtop = fm.top();
    fm.free?.();
    const n = this.api.argmax(hidden);
    const wM = this.mlp.layers[this.mlpFc].params.weight.data.subarray(n * 784, (n + 1) * 784);
    this.mlpMap.update({ data: wM, h: 28, w: 28, scale: this.api.colourScale(wM) });
    const [cM] = this.api.cosines(x, wM);
    this.mlpCap.textContent = `${this.own ? `${this.mlp.layers[this.mlpFc].name} neuron` : 'hidden neuron'} ${n} of ${hidden.length} (activation ${hidden[n].toFixed(2)}); the ${this.own ? 'design' : 'MLP'} answers ${mtop}`;
    this.mlpCos.dataset.cos = String(cM);
    this.mlpCos.replaceChildren(el('span', { text: 'cosine with your digit' }), el('strong', { text: cM.toFixed(3) }));
  }

  /** No cosine is shown (or left in `data-cos`) until one is computed for the models now loaded. */
  clearCosines() {
    for (const c of [this.slpCos, this.mlpCos]) { c.dataset.cos = ''; c.replaceChildren(); }
    for (const { f, cap } of this.tiles) { f.dataset.cos = ''; cap.querySelector('.tcos')?.remove(); }
  }

  async example() {
    const d = Math.floor((this.shared.version * 7) % 10);
    this.pad.setPaths(example(d).map(snap));
    this.share();
  }

  useStrokes(strokes) {
    const x = this.api.preprocess(rasterise(strokes), PAD_SIZE, PAD_SIZE);
    this.shared.setDigit(x ?? null, x ? strokes : null);
    this.syncPad();
  }

  /** Outlines the part of the scene a Show me pause is about (null: none). */
  focus(node) {
    for (const n of this.root.querySelectorAll('.showme-focus')) n.classList.remove('showme-focus');
    if (node) {
      node.classList.add('showme-focus');
      node.scrollIntoView({ block: 'nearest' });
    }
  }

  /** Brings the guided run to the moment `stop` names (see SHOW_ME). */
  async showMeTo(stop, i, run) {
    await this.ready;
    if (stop.focus === 'pad') {
      // The example digit drawn stroke by stroke, the templates following it.
      this.focus(null);
      this.pad.clear(false);
      this.share();
      const strokes = example(SHOW_ME.digit).map(snap);
      const done = [];
      for (const stroke of strokes) {
        for (let k = 2; k <= stroke.length; k += 2) {
          this.pad.setPaths([...done, stroke.slice(0, k)]);
          this.update(this.api.preprocess(this.pad.pixels(), PAD_SIZE, PAD_SIZE) ?? null);
          await run.wait(this.shared.reducedMotion ? 0 : 16);
        }
        done.push(stroke);
      }
      this.pad.setPaths(done);
      this.share();
      await this.update();
      this.focus(this.root.querySelector('#tpl-input'));
    } else if (stop.focus === 'winner') {
      await this.update();
      this.focus(this.root.querySelector('#tpl-slp'));
    } else {
      this.focus(this.grid);
    }
    await run.wait(50);
  }

  getState() {
    return writeLink(SCHEMA, { drawing: this.shared.strokes });
  }

  async setState(params) {
    const { values, notes } = readLink(SCHEMA, params);
    this.linkNotes(notes);
    if (values.drawing) this.useStrokes(values.drawing);
  }

  async show() {
    this.syncPad();
    await this.update();
    this.ctx.changed();
  }
}
