// "What made this number": the explanation panel (#explain) for one activation cell, drawn
// from `forward.explain` (wasm): the window of the layer before, the kernel, their products
// and the sum + bias. Every number, the sums and their rounding (the shown terms add up to the
// shown sum, 3 decimals) come from wasm; this view only lays them out.

import { el, SVG } from '../dom.js';
import { Heatmap, paintTiles } from './heatmap.js';
import { largestScale } from '../wasm.js';
import { colour, inkOn } from './colour.js';


/** A value at 3 decimals, − for minus, −0 as 0. */
const f3 = (v) => {
  const s = Number(v).toFixed(3);
  return (s === '-0.000' ? '0.000' : s).replace('-', '−');
};
/** A cell's value at 2 decimals. */
const f2 = (v) => {
  const s = Number(v).toFixed(2);
  return (s === '-0.00' ? '0.00' : s).replace('-', '−');
};

/** A k×k grid of numbers on the page's colour scale. */
function numberGrid(values, [kh, kw], { scale, signed = true, title, hi = -1, padded = null, format = f2 }) {
  const g = el('div.ngrid', { 'aria-label': title, role: 'table' });
  g.style.gridTemplateColumns = `repeat(${kw}, auto)`;
  let row = null;
  for (let i = 0; i < kh * kw; i++) {
    // Rows for assistive technology only (display: contents keeps the CSS grid).
    if (i % kw === 0) { row = el('div.nrow', { role: 'row' }); g.append(row); }
    const v = values[i];
    const pad = padded?.[i];
    const cell = el('span.n', { text: pad ? '0' : format(v), role: 'cell', 'data-value': String(v) });
    if (pad) cell.classList.add('padcell');
    else {
      const c = colour(v, scale, signed);
      cell.style.backgroundColor = `rgb(${c.join(',')})`;
      cell.style.color = inkOn(c);
    }
    if (i === hi) cell.classList.add('hi');
    row.append(cell);
  }
  return el('figure.nfig', {}, g, el('figcaption', { text: title }));
}

/**
 * Channels `[c, h, w]` of `data` drawn as tiles on one canvas, `cols` to a row, one white
 * pixel between tiles; `px` screen pixels a cell.
 */
function tiles(container, data, [c, h, w], { cols, signed, scale, px, label }) {
  const rows = Math.ceil(c / cols);
  const canvas = document.createElement('canvas');
  canvas.className = 'heatmap tiles';
  canvas.width = cols * (w + 1) - 1;
  canvas.height = rows * (h + 1) - 1;
  canvas.style.width = `${canvas.width * px + 2}px`;
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', label);
  paintTiles(canvas, { data, count: c, h, w, cols, scale, signed });
  container.append(canvas);
}

/** `a + b − c …` from shown terms. */
function joinTerms(terms) {
  return terms.map((t, j) => (j === 0 ? f3(t) : `${t < 0 ? ' − ' : ' + '}${f3(Math.abs(t))}`)).join('');
}

export class ExplainView {
  /** @param opts { onClose, onPick(p) (a cell picked on the enlarged channel) } */
  constructor(container, { onClose, onPick } = {}) {
    this.onPick = onPick;
    this.node = el('section#explain.explain', { 'aria-label': 'How the picked cell was computed', 'aria-live': 'polite' });
    this.body = el('div.explain-body');
    this.close = el('button.close', { type: 'button', 'aria-label': 'Close the explanation (Escape)', title: 'Close (Escape)', onclick: () => onClose?.() },
      el('span', { 'aria-hidden': 'true', text: '✕' }), el('span.close-word', { text: 'Close' }));
    // A line or two about the picked layer (e.g. its PyTorch constructor) goes here, under the heading.
    this.code = el('div.explain-code');
    this.node.append(this.close, this.body);
    container.append(this.node);
    this.update(null);
  }

  /**
   * `e`: what `forward.explain` returned (null: the hint). `net`: NetInfo, for views.
   * `acts(i)`: activation i as the network draws it ({ data, view, scale, signed, name }), for
   * the enlarged channels.
   */
  update(e, net, acts = null) {
    this.node.dataset.empty = String(!e);
    this.close.hidden = !e;
    if (!e) {
      this.body.replaceChildren(el('p.hint', { text: 'Click any cell of a layer (or focus a layer and use the arrow keys) to see the window, the weights and the sum that made it, its channel enlarged to pick cells there, and lines to the cells that produced it. Hovering a cell lights the cells and channels that fed it on every layer before.' }));
      return;
    }
    const name = `${e.name}${cellName(e, net)}`;
    const node = el('div#dot.dot', { role: 'region', 'aria-label': `How ${name} was computed` });
    const head = el('h5', { text: `${name} = ` });
    node.append(head, this.code);
    const lens = acts ? new Lens(node, e, acts, this.onPick) : null;
    const render = RENDER[e.kind] ?? RENDER.other;
    render(e, node, head, net, lens);
    const ok = e.matches; // wasm's check: the sum equals the value within f32 rounding
    node.append(el('p.check', { 'data-ok': String(ok) },
      el('span', { text: `${ok ? '✓' : '✗'} the map shows ${name} = ` }),
      el('strong.value', { text: e.value.toFixed(4).replace('-', '−') }),
      el('span', { text: ok ? ', computed by wasm in the forward pass: the same number.' : ' (differs!)' })));
    node.dataset.sum = String(e.sum);
    node.dataset.value = String(e.value);
    node.dataset.layer = e.name;
    this.body.replaceChildren(node);
    lens?.links();
    this.lens = lens;
  }
}

/** Pixels per cell of an enlarged map: at least 8, the map at least `min` px across. */
const cellPx = ([, h, w], min) => Math.max(8, Math.floor(min / Math.max(h, w)));

/**
 * The picked cell's channel enlarged (≥ 8 px a cell, pickable), the channel of the layer before
 * it read from with its window, lines from the window's corners to the cell, and (from the
 * second layer on) its receptive field on the input, all from the explanation's `field`.
 */
class Lens {
  constructor(node, e, acts, onPick) {
    this.e = e;
    this.acts = acts;
    const fields = new Map(e.field.map((f) => [f.layer, f]));
    this.win = fields.get(e.layer - 1);
    this.row = el('div.lens', { id: 'draw-lens' });
    node.append(this.row);
    const field = fields.get(0);
    if (e.layer > 1 && field) {
      const a = acts(0);
      const [, h, w] = a.view;
      const fig = el('figure.lens-field', { 'data-lens': 'field' });
      const m = new Heatmap(fig, { signed: a.signed, size: 4 * w + 2, label: `The input with the receptive field of ${e.name}[${e.channel}][${e.y}][${e.x}]` });
      m.update({ data: a.data, h, w, scale: a.scale });
      m.mark([{ ...field, kind: 'field' }]);
      fig.append(el('figcaption', { text: `its field on the input: ${field.y1 - field.y0 + 1} × ${field.x1 - field.x0 + 1}` }));
      this.row.append(fig);
    }
    // The channel of the layer before that is read (one at a time: the chosen one for a conv).
    this.fromFig = el('figure.lens-from', { 'data-lens': 'from' });
    this.row.append(this.fromFig);
    this.svg = document.createElementNS(SVG, 'svg');
    this.svg.classList.add('lens-links');
    this.svg.setAttribute('aria-hidden', 'true');
    this.row.append(this.svg);
    const out = acts(e.layer);
    const [, h, w] = out.view;
    const px = cellPx(out.view, 112);
    const pickFig = el('figure.lens-pick', { 'data-lens': 'pick', 'data-channel': String(e.channel) });
    this.pick = new Heatmap(pickFig, {
      signed: out.signed,
      size: px * w + 2,
      label: `${out.name} channel ${e.channel}, enlarged: click a cell to explain it`,
      onPick: onPick ? (y, x) => onPick({ layer: e.layer, c: e.channel, y, x }) : null,
      keys: false,
    });
    this.pick.canvas.setAttribute('role', 'img');
    this.pick.update({ data: out.data, h, w, offset: e.channel * h * w, scale: out.scale });
    this.pick.mark([{ y0: e.y, x0: e.x, y1: e.y, x1: e.x, kind: 'cell' }]);
    pickFig.append(el('figcaption', { text: `${out.name}${out.view[0] > 1 ? ` ch ${e.channel}` : ''} enlarged: click a cell` }));
    this.row.append(pickFig);
    this.from(e.channels.includes(e.channel) && e.kind !== 'linear' ? e.channel : e.channels[0]);
  }

  /** Shows channel `ch` of the layer before with the window the cell read. */
  from(ch) {
    const e = this.e;
    const a = this.acts(e.layer - 1);
    const [, h, w] = a.view;
    const px = Math.min(16, Math.max(4, Math.floor(112 / Math.max(h, w))));
    this.fromFig.replaceChildren();
    this.fromFig.dataset.channel = String(ch);
    const m = new Heatmap(this.fromFig, { signed: a.signed, size: px * w + 2, label: `${a.name} channel ${ch}, with the window ${e.name}[${e.channel}][${e.y}][${e.x}] read` });
    m.update({ data: a.data, h, w, offset: ch * h * w, scale: a.scale });
    if (this.win) m.mark([{ ...this.win, kind: 'window' }]);
    this.fromMap = m;
    this.fromFig.append(el('figcaption', { text: `${a.name}${a.view[0] > 1 ? ` ch ${ch}` : ''}: the window read` }));
    if (this.row.isConnected) this.links();
  }

  /** Lines from the window's corners to the picked cell (drawn in the next frame). */
  links() {
    cancelAnimationFrame(this.frame);
    this.svg.replaceChildren();
    this.frame = requestAnimationFrame(() => this.drawLinks());
  }

  drawLinks() {
    const svg = this.svg;
    svg.replaceChildren();
    const cell = this.pick.marks[0];
    const win = this.fromMap?.marks[0];
    if (!cell || !win) return;
    const root = this.row.getBoundingClientRect();
    svg.setAttribute('width', String(root.width));
    svg.setAttribute('height', String(root.height));
    svg.setAttribute('viewBox', `0 0 ${root.width} ${root.height}`);
    const c = cell.getBoundingClientRect();
    const r = win.getBoundingClientRect();
    for (const [x, y] of [[r.right, r.top], [r.right, r.bottom], [r.left, r.top], [r.left, r.bottom]]) {
      const line = document.createElementNS(SVG, 'line');
      line.setAttribute('x1', (x - root.left).toFixed(1));
      line.setAttribute('y1', (y - root.top).toFixed(1));
      line.setAttribute('x2', (c.left + c.width / 2 - root.left).toFixed(1));
      line.setAttribute('y2', (c.top + c.height / 2 - root.top).toFixed(1));
      svg.append(line);
    }
  }
}

/** How a cell is named: [channel][y][x] on maps, [index] on dense vectors (from wasm). */
function cellName(e, net) {
  const dense = net?.layers[e.layer - 1]?.shape.length === 1;
  return dense ? `[${e.index}]` : `[${e.channel}][${e.y}][${e.x}]`;
}

const RENDER = {
  conv2d(e, node, head, net, lens) {
    const [kh, kw] = e.window;
    const taps = kh * kw;
    const n = e.channels.length;
    head.append(el('span.formula', { text: `Σ over ${n > 1 ? `${n} channels × ` : ''}${kh}×${kw} (window × kernel) + bias` }));
    const winScale = largestScale(e.inputs);
    const kerScale = largestScale(e.weights);
    const prodScale = largestScale(e.products);
    const part = (j) => ({
      win: e.inputs.subarray(j * taps, (j + 1) * taps),
      ker: e.weights.subarray(j * taps, (j + 1) * taps),
      pad: e.padded.subarray(j * taps, (j + 1) * taps),
      prods: e.shownProducts.slice(j * taps, (j + 1) * taps),
    });
    const detail = (j) => {
      const p = part(j);
      const ch = e.channels[j];
      return el('div.triple', {},
        numberGrid(p.win, e.window, { scale: winScale, signed: e.from !== 'input' && !e.from.startsWith('pool') && !e.from.startsWith('relu'), title: `window of ${e.from}${n > 1 ? ` ch ${ch}` : ''}`, padded: p.pad }),
        el('span.op', { text: '×' }),
        numberGrid(p.ker, e.window, { scale: kerScale, title: `kernel ${e.channel}${n > 1 ? `, ch ${ch}` : ''}` }),
        el('span.op', { text: '=' }),
        numberGrid(p.prods, e.window, { scale: prodScale, title: 'products', format: f3 }),
        el('span.op', { text: '→' }),
        el('div.partial', {}, el('span.lbl', { text: 'sum' }), el('strong', { text: f3(e.shown.terms[j]) })));
    };
    if (n === 1) {
      node.append(detail(0));
    } else {
      // One row per input channel: a single tab stop, the arrow keys choose (roving tabindex).
      const list = el('div.chlist', { role: 'radiogroup', 'aria-label': 'Contribution of each input channel (arrow keys choose)' });
      const numbers = el('div.chnumbers');
      const rows = [];
      const choose = (j, focus = false) => {
        numbers.replaceChildren(detail(j));
        rows.forEach((b, k) => {
          b.setAttribute('aria-checked', String(k === j));
          b.tabIndex = k === j ? 0 : -1;
        });
        lens?.from(e.channels[j]);
        if (focus) rows[j].focus();
      };
      let best = 0;
      e.partials.forEach((v, j) => { if (Math.abs(v) > Math.abs(e.partials[best])) best = j; });
      e.channels.forEach((ch, j) => {
        const p = part(j);
        const btn = el('button.chrow', { type: 'button', role: 'radio', 'data-channel': String(ch), title: `input channel ${ch}: its window × its kernel, summed; show its numbers` });
        btn.append(el('span.chn', { text: `ch ${ch}` }));
        new Heatmap(btn, { signed: false, size: 26 }).update({ data: p.win, h: kh, w: kw, scale: winScale });
        btn.append(el('span.op', { text: '×', 'aria-hidden': 'true' }));
        new Heatmap(btn, { signed: true, size: 26 }).update({ data: p.ker, h: kh, w: kw, scale: kerScale });
        btn.append(el('span.sr-only', { text: ' sum ' }), el('span.chsum', { text: f3(e.shown.terms[j]) }));
        btn.addEventListener('click', () => choose(j));
        btn.addEventListener('keydown', (ev) => {
          const d = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[ev.key];
          if (!d) return;
          choose((j + d + n) % n, true);
          ev.preventDefault();
          ev.stopPropagation();
        });
        rows.push(btn);
        list.append(btn);
      });
      choose(best);
      node.append(list, numbers);
    }
    const terms = e.shown.terms.slice(0, n);
    const bias = e.shown.terms[n];
    node.append(el('p.total', {},
      el('span.terms', { text: n > 1 ? joinTerms(terms) : f3(terms[0]) }),
      el('span', { text: ` ${bias < 0 ? '−' : '+'} bias ${f3(Math.abs(bias))} = ` }),
      el('strong.sum', { text: f3(e.shown.total) })));
  },

  maxpool2d(e, node, head) {
    head.append(el('span.formula', { text: `the largest of a ${e.window[0]}×${e.window[1]} block of ${e.from}` }));
    node.append(el('div.triple', {}, numberGrid(e.inputs, e.window, { scale: largestScale(e.inputs), signed: false, title: `${e.from} block`, hi: e.pick ?? -1, padded: e.padded })),
      el('p.total', { text: 'largest = ' }, el('strong.sum', { text: f3(e.sum) })));
  },

  relu(e, node, head, net) {
    head.append(el('span.formula', { text: `max(0, ${e.from}${cellName(e, net)})` }));
    node.append(el('p.total', { text: `max(0, ${f3(e.inputs[0])}) = ` }, el('strong.sum', { text: f3(e.sum) })));
  },

  flatten(e, node, head) {
    head.append(el('span.formula', { text: `${e.from}[${e.channel}][${e.y}][${e.x}], the same value` }));
    node.append(el('p.total', { text: 'value ' }, el('strong.sum', { text: f3(e.sum) })));
  },

  linear(e, node, head, net) {
    const n = e.inputs.length;
    head.append(el('span.formula', { text: `Σ over ${n} (${e.from} × weights of this neuron) + bias` }));
    // Drawn in the view of the layer before (16 × 7 × 7 for fc1, 8 × 8 for fc2).
    const view = net?.viewOf(e.layer - 1) ?? [1, 1, n];
    const [c, h, w] = view;
    const maps = (data, title, signed) => {
      const f = el('figure.vfig');
      const box = el('div.vmaps');
      const scale = largestScale(data);
      // All channels on one canvas (one tile each, a white line between): one canvas, not c.
      tiles(box, data, view, { cols: Math.min(c, 8), signed, scale, px: c > 1 ? 3 : 9, label: title });
      f.append(box, el('figcaption', { text: title }));
      return f;
    };
    node.append(el('div.vectors', {},
      maps(e.inputs, `${e.from} (${n} values)`, e.from.startsWith('fc')),
      el('span.op', { text: '×' }), maps(e.weights, 'weights of this neuron', true),
      el('span.op', { text: '=' }), maps(e.products, 'products', true)));
    node.append(el('p.hint', { text: `Largest products: ${e.top.map((j) => `#${j} ${f3(e.inputs[j])} × ${f3(e.weights[j])} = ${f3(e.products[j])}`).join(', ')}.` }));
    const [s, b] = e.shown.terms;
    node.append(el('p.total', {},
      el('span.terms', { text: `Σ products ${f3(s)}` }),
      el('span', { text: ` ${b < 0 ? '−' : '+'} bias ${f3(Math.abs(b))} = ` }),
      el('strong.sum', { text: f3(e.shown.total) })));
  },

  softmax(e, node, head) {
    head.append(el('span.formula', { text: 'e^score / Σ e^scores (the wasm softmax)' }));
    node.append(el('p.total', { text: `score ${f3(e.inputs[e.pick ?? e.x])} of ${e.inputs.length} → probability ` }, el('strong.sum', { text: f3(e.sum) })));
  },

  // The adjoint of a conv: the input cells that land on this output cell (∅ = an inserted
  // zero, no cell lands there) times the kernel taps, summed; the same layout as a conv.
  convtranspose2d(e, node, head, net, lens) {
    RENDER.conv2d(e, node, head, net, lens);
    head.querySelector('.formula').textContent = `Σ over ${e.channels.length > 1 ? `${e.channels.length} channels × ` : ''}${e.window[0]}×${e.window[1]} taps (input cells landing here × kernel; greyed taps land on an inserted zero) + bias`;
  },

  avgpool2d(e, node, head) {
    const inside = e.weights.filter((w) => w > 0).length;
    head.append(el('span.formula', { text: `the mean of a ${e.window[0]}×${e.window[1]} block of ${e.from}: each of ${inside} cells × ${f3(e.weights.find((w) => w > 0) ?? 0)}` }));
    node.append(el('div.triple', {},
      numberGrid(e.inputs, e.window, { scale: largestScale(e.inputs), signed: false, title: `${e.from} block`, padded: e.padded }),
      el('span.op', { text: '×' }),
      numberGrid(e.weights, e.window, { scale: largestScale(e.weights), signed: false, title: 'weights (1 / divisor)', format: f3 }),
      el('span.op', { text: '=' }),
      numberGrid(e.shownProducts, e.window, { scale: largestScale(e.products), title: 'products', format: f3 })));
    node.append(el('p.total', { text: 'mean = ' }, el('strong.sum', { text: f3(e.shown.total) })));
  },

  globalavgpool(e, node, head) {
    head.append(el('span.formula', { text: `the mean of all ${e.inputs.length} cells of ${e.from} channel ${e.channel}` }));
    node.append(el('div.triple', {}, numberGrid(e.inputs, e.window, { scale: largestScale(e.inputs), signed: false, title: `${e.from} ch ${e.channel}` })),
      el('p.total', { text: 'mean = ' }, el('strong.sum', { text: f3(e.sum) })));
  },

  leakyrelu(e, node, head, net) {
    head.append(el('span.formula', { text: `${e.from}${cellName(e, net)}, times the slope when negative` }));
    node.append(el('p.total', { text: `${f3(e.inputs[0])} → ` }, el('strong.sum', { text: f3(e.sum) })));
  },

  sigmoid(e, node, head, net) {
    head.append(el('span.formula', { text: `1 / (1 + e^−${e.from}${cellName(e, net)})` }));
    node.append(el('p.total', { text: `sigmoid(${f3(e.inputs[0])}) = ` }, el('strong.sum', { text: f3(e.sum) })));
  },

  tanh(e, node, head, net) {
    head.append(el('span.formula', { text: `tanh(${e.from}${cellName(e, net)})` }));
    node.append(el('p.total', { text: `tanh(${f3(e.inputs[0])}) = ` }, el('strong.sum', { text: f3(e.sum) })));
  },

  batchnorm2d(e, node, head, net) {
    head.append(el('span.formula', { text: `${e.from}${cellName(e, net)} × scale + shift (from the channel's learned statistics)` }));
    const [t, b] = e.shown.terms;
    node.append(el('p.total', {},
      el('span.terms', { text: `${f3(e.inputs[0])} × ${f3(e.weights[0])} = ${f3(t)}` }),
      el('span', { text: ` ${b < 0 ? '−' : '+'} shift ${f3(Math.abs(b))} = ` }),
      el('strong.sum', { text: f3(e.shown.total) })));
  },

  add(e, node, head) {
    head.append(el('span.formula', { text: `${e.from}: the same cell of both, added` }));
    const [a, b] = e.shown.terms;
    node.append(el('p.total', { text: `${f3(a)} ${b < 0 ? '−' : '+'} ${f3(Math.abs(b))} = ` }, el('strong.sum', { text: f3(e.shown.total) })));
  },

  logsoftmax(e, node, head) {
    head.append(el('span.formula', { text: 'score − log Σ e^scores (the wasm log softmax)' }));
    node.append(el('p.total', { text: `score ${f3(e.inputs[e.pick ?? e.x])} of ${e.inputs.length} → log probability ` }, el('strong.sum', { text: f3(e.sum) })));
  },

  other(e, node) {
    node.append(el('p.total', { text: 'value ' }, el('strong.sum', { text: f3(e.sum) })));
  },
};
