// The whole network on one screen: one block per activation (the input, then every layer),
// left to right, each channel a small heatmap, each block with its colour legend. Activations
// are drawn in the `view` wasm gives them (a flatten as the 16 × 7 × 7 it flattens, a dense
// layer as a small grid), never as a long strip. A block is one tab stop: the arrow keys move
// the picked cell, Page Up / Page Down change the channel. Clicking or hovering a cell calls
// `onPick` / `onHover({ layer, c, y, x })` (layer: the activation index, 1 = the first layer);
// `mark(explanation)` outlines the receptive field wasm computed and dims the channels that
// do not feed the cell.

import { el, SVG } from '../dom.js';
import { Heatmap } from './heatmap.js';
import { largestScale } from '../wasm.js';
import { Legend } from './colour.js';


const KIND_TEXT = {
  input: 'the image the network receives, 0 to 1',
  conv2d: 'slides each kernel over the layer before: one correlation per position',
  convtranspose2d: 'stamps each kernel once per cell of the layer before, scaled by it (the adjoint of a conv): upsampling',
  relu: 'keeps positive values, sets negative ones to 0',
  leakyrelu: 'keeps positive values, scales negative ones down',
  sigmoid: 'squashes every value into 0 to 1',
  tanh: 'squashes every value into −1 to 1',
  maxpool2d: 'the largest value of each block',
  avgpool2d: 'the mean of each block',
  globalavgpool: 'the mean of each whole channel',
  batchnorm2d: 'each channel scaled and shifted by its learned statistics',
  add: 'a residual connection: an earlier layer added to this one',
  flatten: 'the same values, read as one row (drawn as the channels they came from)',
  linear: 'each neuron: a dot product with everything before it',
  softmax: 'the scores turned into probabilities that add up to 1',
  logsoftmax: 'the log of the probabilities the scores give',
};

/** Non-negative maps get the sequential scale; signed outputs the diverging one. */
const SIGNED = new Set(['conv2d', 'convtranspose2d', 'linear', 'leakyrelu', 'tanh', 'batchnorm2d', 'add', 'logsoftmax']);

/**
 * Screen size of one channel and how many columns of channels, by the view [c, h, w]: every
 * block at most four channels tall, so the whole network is one short row at 1280 px and the
 * explanation fits under it. Cells this small are picked on the enlarged channel (the lens).
 */
function layout([c, h, w]) {
  // One value per channel (a global average pool): the channels side by side, one cell each.
  if (h === 1 && w === 1) return { size: 16, cols: Math.min(c, 8) };
  if (h === 1) return { size: 80, cols: 1 };
  if (c === 1) return { size: w >= 28 ? 84 : 44, cols: 1 };
  if (c <= 8) return { size: 36, cols: 2 };
  if (w >= 14) return { size: 24, cols: 4 };
  return { size: 18, cols: 4 };
}

export class Network {
  /**
   * @param container where the blocks go
   * @param net NetInfo (layers with their `view`)
   * @param opts { onPick(p), onHover(p | null) }
   */
  constructor(container, net, { onPick, onHover } = {}) {
    this.net = net;
    this.onPick = onPick;
    this.root = el('div.layers', { role: 'group', 'aria-label': 'Every layer of the network, left to right' });
    this.blocks = [];
    const all = [{ name: 'input', kind: 'input', view: net.inputView }, ...net.layers];
    all.forEach((l, i) => {
      const [c, h, w] = l.view;
      const { size, cols } = layout(l.view);
      const signed = SIGNED.has(l.kind);
      const shape = c > 1 ? `${c}×${h}×${w}` : h > 1 ? `${h}×${w}` : `${w}`;
      const block = el('section.layer', {
        'data-layer': l.name, 'data-kind': l.kind,
        'aria-label': `${l.name}: ${KIND_TEXT[l.kind] ?? l.kind}. ${l.kind === 'flatten' ? `${c * h * w} values, drawn as ${shape}` : shape}${i > 0 ? '. Arrow keys pick a cell, Page Up and Page Down the channel' : ''}`,
      });
      block.append(el('header.layer-head', { title: KIND_TEXT[l.kind] ?? '' },
        el('span.lname', { text: l.name }), el('span.lshape', { text: shape })));
      const maps = el('div.maps');
      maps.style.setProperty('--cols', String(cols));
      maps.style.setProperty('--size', `${size}px`);
      block.append(maps);
      const heat = [];
      for (let ch = 0; ch < c; ch++) {
        const fig = el('figure.map', { 'data-channel': String(ch) });
        if (c > 1) fig.append(el('span.chnum', { text: String(ch), 'aria-hidden': 'true' }));
        maps.append(fig);
        const pick = i === 0 ? {} : {
          keys: false,
          onPick: (y, x) => this.pick({ layer: i, c: ch, y, x }),
          onHover: onHover ? (y, x) => onHover(y === null ? null : { layer: i, c: ch, y, x }) : null,
        };
        heat.push(new Heatmap(fig, { signed, size, strip: false, ...pick }));
      }
      if (h === 1 && w === 10) {
        maps.append(el('div.classes', { 'aria-hidden': 'true' }, ...Array.from({ length: 10 }, (_, d) => el('span', { text: String(d) }))));
      }
      const legend = new Legend(block, { signed, label: l.name, compact: size * cols < 72 });
      if (i > 0) {
        block.tabIndex = 0;
        block.setAttribute('aria-roledescription', 'layer');
        block.setAttribute('aria-keyshortcuts', 'ArrowUp ArrowDown ArrowLeft ArrowRight PageUp PageDown');
        block.addEventListener('keydown', (e) => this.key(e, i));
      }
      if (h === 1) block.classList.add('short'); // fc2 and softmax: stacked in one column on wide screens
      this.root.append(block);
      this.blocks.push({ block, heat, legend, view: l.view, kind: l.kind });
    });
    // The connecting lines: from a picked cell to the cells that produced it (drawn over the blocks).
    this.svg = document.createElementNS(SVG, 'svg');
    this.svg.classList.add('links');
    this.svg.setAttribute('aria-hidden', 'true');
    this.root.append(this.svg);
    container.append(this.root);
    this.cursor = null;
    this.shown = null;
    this.data = [];
    this.scales = [];
    // Lines follow the blocks when the layout changes (a resize, fonts, the panel).
    if (typeof ResizeObserver === 'function') {
      this.resize = new ResizeObserver(() => this.links(this.shown));
      this.resize.observe(this.root);
    }
  }

  /** What the lens needs of activation `i`: its data, view, colour scale and scale kind. */
  activation(i) {
    const b = this.blocks[i];
    return { data: this.data[i], view: b.view, scale: this.scales[i], signed: SIGNED.has(b.kind), name: b.block.dataset.layer };
  }

  pick(p) {
    this.cursor = p;
    this.onPick?.(p);
  }

  /** Arrow keys move the picked cell inside block `i`; Page Up / Down change its channel. */
  key(e, i) {
    const [c, h, w] = this.blocks[i].view;
    const cur = this.cursor?.layer === i ? this.cursor : { layer: i, c: 0, y: h >> 1, x: w >> 1 };
    const moves = { ArrowUp: [0, -1, 0], ArrowDown: [0, 1, 0], ArrowLeft: [0, 0, -1], ArrowRight: [0, 0, 1], PageUp: [-1, 0, 0], PageDown: [1, 0, 0] };
    if (!moves[e.key] && e.key !== 'Enter') return;
    const [dc, dy, dx] = moves[e.key] ?? [0, 0, 0];
    const clamp = (v, n) => Math.min(n - 1, Math.max(0, v));
    this.pick({ layer: i, c: clamp(cur.c + dc, c), y: clamp(cur.y + dy, h), x: clamp(cur.x + dx, w) });
    e.preventDefault();
    e.stopPropagation();
  }

  /** Draws every activation of one forward pass (`pixels` the input; null = clear). */
  update(fwd, pixels) {
    this.blocks.forEach(({ heat, legend, view, kind }, i) => {
      const [, h, w] = view;
      let data;
      if (i === 0) data = pixels ?? new Float32Array(h * w);
      else if (fwd) data = this.net.activation(fwd, i - 1);
      else data = new Float32Array(view[0] * h * w);
      const scale = kind === 'softmax' || kind === 'sigmoid' || kind === 'input' ? 1 : largestScale(data);
      this.data[i] = data;
      this.scales[i] = scale;
      heat.forEach((m, ch) => m.update({ data, h, w, offset: ch * h * w, scale }));
      legend.update(fwd || i === 0 ? scale : 0);
    });
  }

  /** Outlines the picked cell and its receptive field (`e` from `forward.explain`, or null). */
  mark(e) {
    const fields = new Map((e?.field ?? []).map((f) => [f.layer, f]));
    this.blocks.forEach(({ block, heat }, i) => {
      const f = fields.get(i);
      const own = e && i === e.layer;
      block.classList.toggle('picked', !!own);
      block.classList.toggle('feeds', !!f);
      heat.forEach((m, ch) => {
        const used = f ? f.channels.includes(ch) : true;
        m.box.parentElement.classList.toggle('dim', !!e && !!f && !used);
        if (own && ch === e.channel) m.mark([{ y0: e.y, x0: e.x, y1: e.y, x1: e.x, kind: 'cell' }]);
        else if (f && used) m.mark([{ ...f, kind: i === e.layer - 1 ? 'window' : 'field' }]);
        else m.mark([]);
      });
    });
    this.shown = e;
    this.links(e);
  }

  /**
   * Lines from the picked cell (`e.layer`, outlined by `mark`) to the window it read on every
   * channel of the layer before that fed it: two per channel, to the window's corners nearest
   * the cell. Each line carries `data-channel` (the producing channel) and `data-layer`.
   */
  links(e) {
    // Drawn in the next frame: the layout is then read once, with the frame's own.
    cancelAnimationFrame(this.linkFrame);
    this.svg.replaceChildren();
    if (e) this.linkFrame = requestAnimationFrame(() => this.drawLinks(e));
  }

  drawLinks(e) {
    const svg = this.svg;
    svg.replaceChildren();
    if (!e || !this.blocks[e.layer] || !this.blocks[e.layer - 1]) return;
    const cell = this.blocks[e.layer].heat[e.channel]?.marks[0];
    if (!cell) return;
    const root = this.root.getBoundingClientRect();
    if (!root.width) return;
    svg.setAttribute('width', String(root.width));
    svg.setAttribute('height', String(root.height));
    svg.setAttribute('viewBox', `0 0 ${root.width} ${root.height}`);
    const c = cell.getBoundingClientRect();
    const cx = c.left + c.width / 2 - root.left;
    const cy = c.top + c.height / 2 - root.top;
    const prev = this.blocks[e.layer - 1];
    prev.heat.forEach((m, ch) => {
      const win = m.marks.find((d) => d.classList.contains('window'));
      if (!win) return;
      const r = win.getBoundingClientRect();
      const x = (r.right <= c.left ? r.right : r.left) - root.left;
      for (const y of [r.top - root.top, r.bottom - root.top]) {
        const line = document.createElementNS(SVG, 'line');
        line.setAttribute('x1', cx.toFixed(1));
        line.setAttribute('y1', cy.toFixed(1));
        line.setAttribute('x2', x.toFixed(1));
        line.setAttribute('y2', y.toFixed(1));
        line.dataset.channel = String(ch);
        line.dataset.layer = prev.block.dataset.layer;
        svg.append(line);
      }
    });
  }
}

/** The kernels of a conv layer: one small heatmap per (output, input) channel pair. */
export function kernels(l) {
  const { weight } = l.params;
  const [co, ci, kh, kw] = weight.shape;
  const scale = largestScale(weight.data);
  const box = el('figure.kernels', { 'data-kernels': l.name });
  box.append(el('figcaption', { text: `${l.name}: ${co} × ${ci} kernels of ${kh} × ${kw} weights` }));
  const wrap = el('div.kgrid', { 'data-cin': String(ci) });
  for (let o = 0; o < co; o++) {
    const group = el('div.kgroup', { title: `kernel of output channel ${o}` });
    for (let c = 0; c < ci; c++) {
      new Heatmap(group, { label: `${l.name} kernel ${o}, input channel ${c}`, signed: true, size: ci === 1 ? 44 : 22 })
        .update({ data: weight.data, h: kh, w: kw, offset: ((o * ci) + c) * kh * kw, scale });
    }
    group.append(el('span.kcap', { text: String(o) }));
    wrap.append(group);
  }
  box.append(wrap);
  new Legend(box, { signed: true, label: `${l.name} kernels` }).update(scale);
  return box;
}
