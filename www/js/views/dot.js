// "What made this number": for one activation cell, the values that produced it, read from the
// wasm model (the layer's input activation, its weights and bias) and laid out as the window,
// the kernel, their element-wise products and the sum + bias. The wasm API has no call that
// returns one window's products, so this view multiplies and adds those few values itself
// (at most 8 × 5 × 5 = 200 products); the sum is then checked against the activation wasm gave.

import { el } from '../scenes/base.js';
import { Heatmap, absMax } from './heatmap.js';

const fmt = (v) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2)).replace(/^-0\.00$/, '0.00');
const fmt4 = (v) => v.toFixed(4);

/**
 * Receptive field of cell (y, x) of layer `i`, walked back to the input: Map(layer index →
 * {y0, x0, y1, x1}), where index -1 is the 28×28 input. Spatial layers only.
 */
export function receptiveField(net, i, y, x) {
  const out = new Map();
  let r = { y0: y, x0: x, y1: y, x1: x };
  for (let j = i; j >= 0; j--) {
    const l = net.layers[j];
    if (!l.geo) return out;
    const { k, stride: s, pad: p } = l.geo;
    r = { y0: r.y0 * s - p, x0: r.x0 * s - p, y1: r.y1 * s - p + k - 1, x1: r.x1 * s - p + k - 1 };
    out.set(j - 1, r);
  }
  return out;
}

/** A k×k grid of numbers on coloured cells. */
function numberGrid(values, k, { scale, signed = true, title, hi = -1, pad = null }) {
  const g = el('div.ngrid', { 'aria-label': title, role: 'table' });
  g.style.gridTemplateColumns = `repeat(${k}, 1fr)`;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const t = scale > 0 ? Math.max(-1, Math.min(1, v / scale)) : 0;
    const cell = el('span.n', { text: pad?.[i] ? '0' : fmt(v), role: 'cell' });
    if (pad?.[i]) cell.classList.add('padcell');
    else if (!signed || t >= 0) cell.classList.add(`pos${Math.round(Math.abs(t) * 4)}`);
    else cell.classList.add(`neg${Math.round(Math.abs(t) * 4)}`);
    if (i === hi) cell.classList.add('hi');
    g.append(cell);
  }
  return el('figure.nfig', {}, g, el('figcaption', { text: title }));
}

/** Builds the explanation of one picked cell; returns {node, sum, value}. */
export function explain(net, fwd, pixels, { layer: i, c, y, x }) {
  const l = net.layers[i];
  const prevData = i === 0 ? pixels : Float32Array.from(net.activation(fwd, i - 1));
  const out = net.activation(fwd, i);
  const { h, w } = l.out;
  const idx = (c * h + y) * w + x;
  const value = out[idx];
  const inG = l.in;
  const at = (ci, yy, xx) => (yy < 0 || xx < 0 || yy >= inG.h || xx >= inG.w ? null : prevData[(ci * inG.h + yy) * inG.w + xx]);
  const prevName = i === 0 ? 'input' : net.layers[i - 1].name;
  const where = l.out.h > 1 ? `[${c}][${y}][${x}]` : `[${x}]`;
  const node = el('div#dot.dot', { role: 'region', 'aria-label': `How ${l.name}${where} was computed`, 'aria-live': 'polite' });
  const head = el('h5', { text: `${l.name}${where} = ` });
  node.append(head);
  let sum = value;

  if (l.kind === 'conv2d') {
    const { weight, bias } = l.params;
    const [, ci, k] = weight.shape;
    const { pad: p, stride: s } = l.geo;
    const b = bias.data[c];
    const rows = [];
    let total = 0;
    for (let ch = 0; ch < ci; ch++) {
      const win = new Float32Array(k * k);
      const isPad = new Array(k * k).fill(false);
      const ker = weight.data.subarray(((c * ci) + ch) * k * k, ((c * ci) + ch + 1) * k * k);
      const prod = new Float32Array(k * k);
      let part = 0;
      for (let ky = 0; ky < k; ky++) {
        for (let kx = 0; kx < k; kx++) {
          const v = at(ch, y * s - p + ky, x * s - p + kx);
          const j = ky * k + kx;
          isPad[j] = v === null;
          win[j] = v ?? 0;
          prod[j] = win[j] * ker[j];
          part += prod[j];
        }
      }
      total += part;
      rows.push({ ch, win, ker, prod, part, isPad });
    }
    sum = total + b;
    head.append(el('span.formula', { text: `Σ over ${ci > 1 ? `${ci} channels × ` : ''}${k}×${k} (window × kernel) + bias` }));
    const winScale = Math.max(...rows.map((r) => absMax(r.win))) || 1;
    const kerScale = absMax(weight.data.subarray(c * ci * k * k, (c + 1) * ci * k * k)) || 1;
    const prodScale = Math.max(...rows.map((r) => absMax(r.prod))) || 1;
    const detailFor = (r) => el('div.triple', {},
      numberGrid(r.win, k, { scale: winScale, signed: i > 0, title: `window of ${prevName}${ci > 1 ? ` ch ${r.ch}` : ''}`, pad: r.isPad }),
      el('span.op', { text: '×' }),
      numberGrid(r.ker, k, { scale: kerScale, title: `kernel ${c}${ci > 1 ? `, ch ${r.ch}` : ''}` }),
      el('span.op', { text: '=' }),
      numberGrid(r.prod, k, { scale: prodScale, title: 'products' }),
      el('span.op', { text: '→' }),
      el('div.partial', {}, el('span.lbl', { text: 'sum' }), el('strong', { text: fmt4(r.part) })));
    if (ci === 1) {
      node.append(detailFor(rows[0]));
    } else {
      // One line per input channel (small maps), and the numbers of the one the user picks.
      const list = el('div.chlist', { role: 'group', 'aria-label': 'Contribution of each input channel' });
      const numbers = el('div.chnumbers');
      const choose = (r, btn) => {
        numbers.replaceChildren(detailFor(r));
        for (const bb of list.querySelectorAll('button')) bb.setAttribute('aria-pressed', String(bb === btn));
      };
      let best = rows[0];
      for (const r of rows) if (Math.abs(r.part) > Math.abs(best.part)) best = r;
      for (const r of rows) {
        const btn = el('button.chrow', { type: 'button', 'aria-label': `input channel ${r.ch}: sum ${fmt4(r.part)}; show its numbers`, 'aria-pressed': 'false' });
        btn.append(el('span.chn', { text: `ch ${r.ch}` }));
        new Heatmap(btn, { signed: false, size: 30 }).update({ data: r.win, h: k, w: k, scale: winScale });
        btn.append(el('span.op', { text: '×' }));
        new Heatmap(btn, { signed: true, size: 30 }).update({ data: r.ker, h: k, w: k, scale: kerScale });
        btn.append(el('span.op', { text: '→' }));
        btn.append(el('span.chsum', { text: fmt(r.part) }));
        btn.addEventListener('click', () => choose(r, btn));
        list.append(btn);
        if (r === best) queueMicrotask(() => choose(r, btn));
      }
      node.append(list, el('p.hint', { text: 'Pick a channel to see its numbers. Largest contribution first shown.' }), numbers);
    }
    const terms = rows.map((r, j) => (j === 0 ? fmt4(r.part) : `${r.part < 0 ? ' − ' : ' + '}${fmt4(Math.abs(r.part))}`)).join('');
    node.append(el('p.total', {},
      el('span', { text: terms }),
      el('span', { text: ` + bias (${fmt4(b)}) = ` }),
      el('strong.sum', { text: fmt4(sum) })));
  } else if (l.kind === 'relu') {
    const v = at(c, y, x) ?? prevData[x];
    sum = Math.max(0, v);
    head.append(el('span.formula', { text: `max(0, ${prevName}${where})` }));
    node.append(el('p.total', { text: `max(0, ${fmt4(v)}) = ` }, el('strong.sum', { text: fmt4(sum) })));
  } else if (l.kind === 'maxpool2d') {
    const { k, stride: s } = l.geo;
    const win = new Float32Array(k * k);
    let hi = 0;
    for (let j = 0; j < k * k; j++) {
      win[j] = at(c, y * s + Math.floor(j / k), x * s + (j % k)) ?? -Infinity;
      if (win[j] > win[hi]) hi = j;
    }
    sum = win[hi];
    head.append(el('span.formula', { text: `the largest of a ${k}×${k} block of ${prevName}` }));
    node.append(el('div.triple', {}, numberGrid(win, k, { scale: absMax(win), signed: false, title: `${prevName} block`, hi })),
      el('p.total', { text: 'largest = ' }, el('strong.sum', { text: fmt4(sum) })));
  } else if (l.kind === 'linear') {
    const { weight, bias } = l.params;
    const n = weight.shape[1];
    const row = weight.data.subarray(x * n, (x + 1) * n);
    const prod = new Float32Array(n);
    let total = 0;
    for (let j = 0; j < n; j++) {
      prod[j] = prevData[j] * row[j];
      total += prod[j];
    }
    sum = total + bias.data[x];
    head.append(el('span.formula', { text: `Σ over ${n} (${prevName} × weights of neuron ${x}) + bias` }));
    // Drawn as the image it came from when the row is a flattened 28 × 28 input, else as a strip.
    const src = i > 0 && net.layers[i - 1].kind === 'flatten' ? net.layers[i - 1].in : null;
    const side = src && src.c === 1 && src.h * src.w === n ? src.h : null;
    const strip = (data, title, signed) => {
      const f = el(`figure.vfig${side ? '' : '.wide'}`);
      new Heatmap(f, { label: title, signed, size: side ? 112 : 520, strip: !side })
        .update({ data, h: side ?? 1, w: side ?? n });
      f.append(el('figcaption', { text: title }));
      return f;
    };
    const top = Array.from(prod.keys()).sort((a, b2) => Math.abs(prod[b2]) - Math.abs(prod[a])).slice(0, 4);
    node.append(el('div.vectors', {},
      strip(prevData.subarray(0, n), `${prevName} (${n} values)`, i > 0 && net.layers[i - 1].kind === 'linear'),
      el('span.op', { text: '×' }), strip(row, `weights of neuron ${x}`, true),
      el('span.op', { text: '=' }), strip(prod, 'products', true)));
    node.append(el('p.hint', { text: `Largest products: ${top.map((j) => `#${j} ${fmt(prevData[j])} × ${fmt(row[j])} = ${fmt(prod[j])}`).join(', ')}.` }));
    node.append(el('p.total', { text: `Σ products ${fmt4(total)} + bias ${fmt4(bias.data[x])} = ` }, el('strong.sum', { text: fmt4(sum) })));
  } else if (l.kind === 'softmax') {
    head.append(el('span.formula', { text: `e^score / Σ e^scores, computed by the wasm softmax` }));
    node.append(el('p.total', { text: `score ${fmt4(prevData[x])} → probability ` }, el('strong.sum', { text: fmt4(value) })));
  } else {
    head.append(el('span.formula', { text: `${prevName}, the same value at index ${x}` }));
    node.append(el('p.total', { text: 'value ' }, el('strong.sum', { text: fmt4(value) })));
  }
  const ok = Math.abs(sum - value) <= 1e-4 * Math.max(1, Math.abs(value));
  node.append(el('p.check', { 'data-ok': String(ok) },
    el('span', { text: `${ok ? '✓' : '✗'} the heatmap shows ${l.name}${where} = ` }),
    el('strong.value', { text: fmt4(value) }),
    el('span', { text: ok ? ', computed by wasm in the forward pass: the same number.' : ' (differs!)' })));
  node.dataset.sum = String(sum);
  node.dataset.value = String(value);
  node.dataset.layer = l.name;
  return { node, sum, value };
}
