// Every layer of the network, one row each: its activations as one heatmap per channel
// (labelled with the layer's name and shape) and, for conv layers, its kernels. Clicking an
// activation cell calls `onPick({layer, c, y, x})`; `mark()` outlines receptive fields.

import { el } from '../scenes/base.js';
import { Heatmap, absMax } from './heatmap.js';

const KIND_TEXT = {
  conv2d: 'slides each kernel over the layer before and writes one correlation per position',
  relu: 'keeps positive values and sets negative ones to 0',
  maxpool2d: 'keeps the largest value of each 2×2 block: half the width and height',
  flatten: 'lays the channels out in one long row, values unchanged',
  linear: 'each neuron takes a dot product with the whole row before it',
  softmax: 'turns the ten scores into probabilities that add up to 1',
};

/** Screen size of one channel's heatmap, by its width in cells. */
function mapSize(w, h) {
  if (h === 1) return Math.min(720, Math.max(240, w * 11));
  if (w >= 28) return 92;
  if (w >= 14) return 72;
  return 56;
}

export class LayerStack {
  constructor(container, net, { onPick } = {}) {
    this.net = net;
    this.root = el('div.layers');
    this.rows = [];
    net.layers.forEach((l, i) => {
      const shape = l.shape.join(' × ');
      const row = el('section.layer', { 'data-layer': l.name, 'aria-label': `Layer ${l.name}` });
      row.append(el('header.layer-head', {},
        el('h4', {}, el('span.lname', { text: l.name }), el('span.lkind', { text: l.kind })),
        el('span.lshape', { text: shape }),
        el('p.lwhat', { text: KIND_TEXT[l.kind] ?? '' })));
      const maps = el('div.maps');
      row.append(maps);
      const signed = l.kind === 'conv2d' || l.kind === 'linear';
      const { c, h, w } = l.out;
      const heat = [];
      if (l.kind !== 'flatten') {
        for (let ch = 0; ch < c; ch++) {
          const label = c > 1 ? `${l.name} channel ${ch}` : l.name;
          const fig = el(`figure.map.${h === 1 ? 'vec' : `s${w}`}`);
          maps.append(fig);
          heat.push(new Heatmap(fig, {
            label,
            signed,
            size: mapSize(w, h),
            strip: h === 1,
            onPick: (y, x) => onPick?.({ layer: i, c: ch, y, x }),
          }));
          if (c > 1) fig.append(el('figcaption', { text: String(ch) }));
          if (h === 1 && w === 10) {
            fig.append(el('div.classes', { 'aria-hidden': 'true' }, ...Array.from({ length: 10 }, (_, d) => el('span', { text: String(d) }))));
          }
        }
      } else {
        maps.append(el('p.note', { text: `The ${l.in.c} × ${l.in.h} × ${l.in.w} values above, read row by row: ${l.out.w} numbers in one line, which the dense layer below takes as its input.` }));
      }
      if (l.kind === 'conv2d') row.append(this.kernels(l));
      this.root.append(row);
      const detail = el('div.detail-slot');
      row.append(detail);
      this.rows.push({ row, heat, detail });
    });
    container.append(this.root);
  }

  /** The kernels of a conv layer: one small heatmap per (output, input) channel pair. */
  kernels(l) {
    const { weight } = l.params;
    const [co, ci, kh, kw] = weight.shape;
    const scale = absMax(weight.data);
    const open = ci === 1;
    const box = el('details.kernels', { open });
    box.append(el('summary', { text: `kernels: ${co} × ${ci} × ${kh} × ${kw} weights (blue negative, red positive)` }));
    const wrap = el('div.kgrid', { 'data-cin': String(ci) });
    for (let o = 0; o < co; o++) {
      const group = el('div.kgroup', { title: `kernel of output channel ${o}` });
      for (let c = 0; c < ci; c++) {
        new Heatmap(group, { label: `${l.name} kernel ${o}, input channel ${c}`, signed: true, size: ci === 1 ? 56 : 26 })
          .update({ data: weight.data, h: kh, w: kw, offset: ((o * ci) + c) * kh * kw, scale });
      }
      group.append(el('span.kcap', { text: String(o) }));
      wrap.append(group);
    }
    box.append(wrap);
    return box;
  }

  /** Draws every layer of one forward pass (null = clear). */
  update(fwd) {
    this.rows.forEach(({ heat }, i) => {
      if (!heat.length) return;
      const l = this.net.layers[i];
      const { h, w } = l.out;
      if (!fwd) {
        for (const m of heat) m.update({ data: new Float32Array(h * w), h, w, scale: 1 });
        return;
      }
      const data = this.net.activation(fwd, i);
      const scale = l.kind === 'softmax' ? 1 : absMax(data) || 1;
      heat.forEach((m, ch) => m.update({ data, h, w, offset: ch * h * w, scale }));
    });
  }

  /** Outlines on layer rows: `marks` = Map(layerIndex → [{c|null, y0,x0,y1,x1, kind}]). */
  mark(marks) {
    this.rows.forEach(({ heat }, i) => {
      const list = marks.get(i) ?? [];
      heat.forEach((m, ch) => m.mark(list.filter((r) => r.c === null || r.c === undefined || r.c === ch)));
    });
  }

  slot(i) {
    return this.rows[i].detail;
  }
}
