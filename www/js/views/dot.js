// "What made this number": the explanation panel (#explain) for one activation cell, drawn
// from `forward.explain` (wasm): the window of the layer before, the kernel, their products
// and the sum + bias. Every number, the sums and their rounding (the shown terms add up to the
// shown sum, 3 decimals) come from wasm; this view only lays them out.

import { el } from '../scenes/base.js';
import { Heatmap, absMax } from './heatmap.js';
import { colour, dark } from './colour.js';

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
  for (let i = 0; i < kh * kw; i++) {
    const v = values[i];
    const pad = padded?.[i];
    const cell = el('span.n', { text: pad ? '0' : format(v), role: 'cell', 'data-value': String(v) });
    if (pad) cell.classList.add('padcell');
    else {
      const c = colour(v, scale, signed);
      cell.style.backgroundColor = `rgb(${c.join(',')})`;
      if (dark(c)) cell.style.color = '#fff';
    }
    if (i === hi) cell.classList.add('hi');
    g.append(cell);
  }
  return el('figure.nfig', {}, g, el('figcaption', { text: title }));
}

/** `a + b − c …` from shown terms. */
function joinTerms(terms) {
  return terms.map((t, j) => (j === 0 ? f3(t) : `${t < 0 ? ' − ' : ' + '}${f3(Math.abs(t))}`)).join('');
}

export class ExplainView {
  /** @param opts { onClose } */
  constructor(container, { onClose } = {}) {
    this.node = el('section#explain.explain', { 'aria-label': 'How the picked cell was computed', 'aria-live': 'polite' });
    this.body = el('div.explain-body');
    this.close = el('button.close', { type: 'button', 'aria-label': 'Close the explanation (Escape)', title: 'Close (Escape)', onclick: () => onClose?.() },
      el('span', { 'aria-hidden': 'true', text: '✕' }), el('span.close-word', { text: 'Close' }));
    this.node.append(this.close, this.body);
    container.append(this.node);
    this.update(null);
  }

  /** `e`: what `forward.explain` returned (null: the hint). `net`: NetInfo, for views. */
  update(e, net) {
    this.node.dataset.empty = String(!e);
    this.close.hidden = !e;
    if (!e) {
      this.body.replaceChildren(el('p.hint', { text: 'Click or hover any cell of a layer (or focus a layer and use the arrow keys) to see the window, the weights and the sum that made it; the cells and channels that fed it light up on every layer before.' }));
      return;
    }
    const name = `${e.name}${cellName(e, net)}`;
    const node = el('div#dot.dot', { role: 'region', 'aria-label': `How ${name} was computed` });
    const head = el('h5', { text: `${name} = ` });
    node.append(head);
    const render = RENDER[e.kind] ?? RENDER.other;
    render(e, node, head, net);
    const ok = Math.abs(e.sum - e.value) <= 1e-4 * Math.max(1, Math.abs(e.value));
    node.append(el('p.check', { 'data-ok': String(ok) },
      el('span', { text: `${ok ? '✓' : '✗'} the map shows ${name} = ` }),
      el('strong.value', { text: e.value.toFixed(4).replace('-', '−') }),
      el('span', { text: ok ? ', computed by wasm in the forward pass: the same number.' : ' (differs!)' })));
    node.dataset.sum = String(e.sum);
    node.dataset.value = String(e.value);
    node.dataset.layer = e.name;
    this.body.replaceChildren(node);
  }
}

/** How a cell is named: [channel][y][x] on maps, [index] on dense vectors (from wasm). */
function cellName(e, net) {
  const dense = net?.layers[e.layer - 1]?.shape.length === 1;
  return dense ? `[${e.index}]` : `[${e.channel}][${e.y}][${e.x}]`;
}

const RENDER = {
  conv2d(e, node, head) {
    const [kh, kw] = e.window;
    const taps = kh * kw;
    const n = e.channels.length;
    head.append(el('span.formula', { text: `Σ over ${n > 1 ? `${n} channels × ` : ''}${kh}×${kw} (window × kernel) + bias` }));
    const winScale = absMax(e.inputs) || 1;
    const kerScale = absMax(e.weights) || 1;
    const prodScale = absMax(e.products) || 1;
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
      const list = el('div.chlist', { role: 'listbox', 'aria-label': 'Contribution of each input channel (arrow keys choose)', 'aria-orientation': 'horizontal' });
      const numbers = el('div.chnumbers');
      const rows = [];
      const choose = (j, focus = false) => {
        numbers.replaceChildren(detail(j));
        rows.forEach((b, k) => {
          b.setAttribute('aria-selected', String(k === j));
          b.setAttribute('aria-pressed', String(k === j));
          b.tabIndex = k === j ? 0 : -1;
        });
        if (focus) rows[j].focus();
      };
      let best = 0;
      e.partials.forEach((v, j) => { if (Math.abs(v) > Math.abs(e.partials[best])) best = j; });
      e.channels.forEach((ch, j) => {
        const p = part(j);
        const btn = el('button.chrow', { type: 'button', role: 'option', 'aria-label': `input channel ${ch}: sum ${f3(e.shown.terms[j])}; show its numbers` });
        btn.append(el('span.chn', { text: `ch ${ch}` }));
        new Heatmap(btn, { signed: false, size: 26 }).update({ data: p.win, h: kh, w: kw, scale: winScale });
        btn.append(el('span.op', { text: '×' }));
        new Heatmap(btn, { signed: true, size: 26 }).update({ data: p.ker, h: kh, w: kw, scale: kerScale });
        btn.append(el('span.chsum', { text: f3(e.shown.terms[j]) }));
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
    node.append(el('div.triple', {}, numberGrid(e.inputs, e.window, { scale: absMax(e.inputs) || 1, signed: false, title: `${e.from} block`, hi: e.pick ?? -1, padded: e.padded })),
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
      box.style.gridTemplateColumns = `repeat(${Math.min(c, 8)}, auto)`;
      const scale = absMax(data) || 1;
      for (let ch = 0; ch < c; ch++) new Heatmap(box, { signed, size: c > 1 ? 22 : 72 }).update({ data, h, w, offset: ch * h * w, scale });
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
    node.append(el('p.total', { text: `score ${f3(e.inputs[e.x])} of ${e.inputs.length} → probability ` }, el('strong.sum', { text: f3(e.sum) })));
  },

  other(e, node) {
    node.append(el('p.total', { text: 'value ' }, el('strong.sum', { text: f3(e.sum) })));
  },
};
