// Scene "Dense = correlation at shift 0": two people's days, hour by hour. A dense
// layer compares them at the same hour only; a 1-D conv compares them at every shift, and
// finds what they share at different times of day. Then a 1×1 conv shown as a dense layer
// over channels, and dense-vs-conv parameter counts. Numbers come from `traceSchedules`,
// `traceOneByOne` and `traceParamCounts`. "Show me" (SHOW_ME below) walks through the idea;
// each group of small controls (a day, the bars, a pixel grid, the palette) is one tab stop.
import { Scene, el } from '../scene.js';
import { Grid, fmt } from '../stepper/grid.js';
import { int, custom, readLink, writeLink, buildControls, fieldOf, defaultsOf } from '../schema.js';
import { ShowMe } from '../views/showme.js';
import { roving } from '../views/roving.js';
import { CodeView } from '../views/code.js';
import { grouped } from '../dom.js';

export const ACTIVITIES = ['sleep', 'running', 'commute', 'work', 'reading', 'study'];
const DEFAULT_A = '000000122333333333244400';
const DEFAULT_B = '000004422333333333255500';
const HOURS = 24;

const signed = (t) => `${t > 0 ? '+' : ''}${t}`.replace('-', '−');

/**
 * "Show me": the scene's idea and its guided run, every caption in this one place. Each stop's
 * moment comes from the wasm traces (`m`): the shift with the most overlap is
 * `traceSchedules`' `best`, F(t) its `total`, the 1×1 values `traceOneByOne`'s, the counts
 * `traceParamCounts`'. The run opens on two days where one person keeps the other's routine
 * three hours later, so the best shift is not shift 0.
 */
export const SHOW_ME = {
  idea: 'A dense layer is the cross-correlation at shift 0: it compares the two days hour by hour, where a conv layer compares them at every shift.',
  days: { a: '000000122333333333244400', b: '000000000122333333333244' },
  stops: [
    { moment: 'best', caption: (m) => `Shift ${signed(m.t)}: B’s day lines up with A’s, F(${signed(m.t)}) = ${fmt(m.f)} matching hours, the most of any shift. A conv layer finds it.` },
    { moment: 'zero', caption: (m) => `Shift 0: F(0) = ${fmt(m.f)} matching hours, exactly the dense layer’s value (${fmt(m.dense)}): a dense layer only sees this bar.` },
    { moment: 'oneByOne', caption: (m) => `A 1×1 conv is a dense layer over channels: at pixel (${m.row}, ${m.col}) the 2×3 weights on its channel vector give ${m.values.map((v) => fmt(v, 3)).join(' and ')}, just as the conv does.` },
    { moment: 'params', caption: (m) => `A ${m.img}×${m.img} image into ${fmt(m.hidden)} hidden units takes ${grouped(m.dense)} dense parameters; a ${m.k}×${m.k} conv takes ${grouped(m.conv)}, whatever the image size.` },
  ],
};

function decode(s) {
  if (typeof s !== 'string' || s.length !== HOURS || !/^[0-5]+$/.test(s)) return null;
  return Uint8Array.from(s, (c) => c.charCodeAt(0) - 48);
}

const day = (text) => decode(text);
const daySchema = (key, label, def) => custom(key, label, day, (v) => Array.from(v).join(''), decode(def), 'is not 24 activities 0–5');

/**
 * Every setting of the scene, its control and its URL key; `lim`: the parameter-count
 * controls' ranges from wasm (`traceControls().dense`); `shifts`: the first and last shift of
 * the correlation (from `traceSchedules`).
 */
export const schemaOf = (lim, shifts) => [
  daySchema('a', 'Person A’s day', DEFAULT_A),
  daySchema('b', 'Person B’s day', DEFAULT_B),
  int('shift=t', 'Shift', shifts[0], shifts[1], 0, { id: 'dense-shift', label: 'Shift t (hours)', kind: 'slider', place: 'own' }),
  int('px', 'Pixel', 0, 15, 5),
  int('size=img', 'Image side', lim.size[0], lim.size[1], 1000, { id: 'param-img', label: 'Image side (pixels)' }),
  int('channelsIn=cin', 'Input channels', lim.channels[0], lim.channels[1], 1, { id: 'param-cin' }),
  int('hidden', 'Dense hidden units', lim.hidden[0], lim.hidden[1], 1000, { id: 'param-hidden' }),
  int('kernelSize=k', 'Conv kernel size', lim.kernelSize[0], lim.kernelSize[1], 3, { id: 'param-k' }),
  int('channelsOut=cout', 'Conv output channels', lim.channels[0], lim.channels[1], 1, { id: 'param-cout' }),
  int('brush', 'Brush', 0, ACTIVITIES.length - 1, 4),
];
/** The settings of the parameter counts (named as `traceParamCounts` names them). */
const PARAMS = ['size', 'channelsIn', 'hidden', 'kernelSize', 'channelsOut'];

export class DenseScene extends Scene {
  static id = 'dense';

  constructor(root, ctx) {
    super(root, ctx);
    // The shifts the correlation has (−23 … +23 for 24 hours), from the trace itself.
    const c = this.api.traceSchedules(decode(DEFAULT_A), decode(DEFAULT_B), ACTIVITIES.length);
    this.shifts = [c.shifts[0], c.shifts.at(-1)];
    this.schema = schemaOf(this.api.traceControls().dense, this.shifts);
    this.s = defaultsOf(this.schema);
    this.build();
  }

  build() {
    const r = this.root;
    // The controls are built from the schema (the parameter counts' ranges from wasm).
    const built = buildControls(this.schema, (name, v) => {
      if (name === 'shift') this.setShift(v);
      else { this.forget(name); this.s[name] = v; this.params(); }
    });
    this.ctl = built.controls;
    this.paramFields = built.fields;
    const head = el('header.cs-head', {},
      el('h2', { text: 'A dense layer is a correlation at shift 0' }),
      el('p.cs-lede', {}, 'Cross-correlation F(t) = Σₓ f(x)·g(x + t) compares two signals at every shift t; at t = 0 it is the dot product a fully connected layer computes. ',
        'Two people’s days, one activity per hour: hour by hour both are office workers; only a shift shows that both read, one in the morning, one at night.'));
    // The "Show me" bar sits right under the heading; while a run plays it sticks to the top,
    // so its caption stays in view at the stops further down.
    const bar = el('div.cs-showme-host');
    r.append(head, bar);
    this.showMe = new ShowMe(bar, {
      id: 'dense', idea: SHOW_ME.idea,
      stops: SHOW_ME.stops.map((stop) => {
        let m = null;
        return { go: async (run) => { m = await this.moment(stop.moment, run); }, get caption() { return m ? stop.caption(m) : ''; } };
      }),
      before: () => this.showMeStart(),
    });
    // While a run plays (and after it, until the viewer acts) the bar sticks to the top.
    const stick = () => {
      const st = this.showMe.state;
      bar.classList.toggle('cs-stuck', st === 'playing' || st === 'paused' || (st === 'done' && bar.classList.contains('cs-stuck')));
      if (st === 'idle') this.spot(null);
    };
    new MutationObserver(stick).observe(this.showMe.node, { attributes: true, attributeFilter: ['data-state'] });
    for (const type of ['pointerdown', 'keydown']) {
      r.addEventListener(type, (e) => {
        if (this.showMe.state === 'done' && !bar.contains(e.target)) { bar.classList.remove('cs-stuck'); this.spot(null); }
      }, true);
    }

    // The two days, the shift and F(t): the scene's idea, on one screen.
    const sched = el('section.cs-panel.cs-days', { 'aria-label': 'Schedules' });
    this.sched = sched;
    const pal = el('div.cs-palette', { role: 'radiogroup', 'aria-label': 'Activity to paint' });
    this.brushes = ACTIVITIES.map((name, i) => {
      const b = el('button.cs-chip', { type: 'button', role: 'radio', 'aria-checked': String(i === this.s.brush), 'data-act': i, onclick: () => this.pickBrush(i) }, name);
      pal.append(b);
      return b;
    });
    this.brushRove = roving(this.brushes, { start: this.s.brush, select: (i) => this.pickBrush(i) });
    this.rowA = el('div.cs-day', { id: 'dense-a', role: 'toolbar', 'aria-label': 'Person A’s day: paint an hour (arrows move)' });
    this.rowB = el('div.cs-day', { id: 'dense-b', role: 'toolbar', 'aria-label': 'Person B’s day, shifted: paint an hour (arrows move)' });
    this.cellsA = this.dayCells(this.rowA, 'a', 'A');
    this.cellsB = this.dayCells(this.rowB, 'b', 'B');
    this.roveA = roving(this.cellsA);
    this.roveB = roving(this.cellsB);
    const hours = el('div.cs-day.cs-hours', { 'aria-hidden': 'true' }, Array.from({ length: HOURS }, (_, h) => el('span', {}, h % 3 === 0 ? String(h) : '')));
    this.shiftIn = this.ctl.shift.input;
    this.shiftOut = el('output.cs-step', { id: 'dense-shift-value' });
    sched.append(
      el('div.cs-paint', {}, el('span.cs-field-label', { 'aria-hidden': 'true' }, 'Paint an hour with'), pal),
      el('div.cs-dayrow', {}, el('span.cs-who', {}, 'A'), el('div.cs-daywrap', {}, hours, this.rowA)),
      el('div.cs-dayrow', {}, el('span.cs-who', {}, 'B'), el('div.cs-daywrap', {}, this.rowB)),
      el('div.cs-player', {}, el('label.cs-inline', { for: 'dense-shift' }, 'shift t'), this.shiftIn, this.shiftOut),
      el('p.cs-sum', { id: 'dense-explain', 'aria-live': 'polite' }));
    r.append(sched);

    const chart = el('section.cs-panel.cs-chartpanel', { 'aria-label': 'Correlation over every shift' },
      el('h3', { text: 'F(t): matching hours at every shift' }));
    this.chart = el('div.cs-chart', { id: 'dense-chart', role: 'radiogroup', 'aria-label': 'Cross-correlation bars, one per shift (arrows pick the shift)' });
    // One bar per shift, built once (their heights change in place, so focus stays on them).
    const n = this.shifts[1] - this.shifts[0] + 1;
    this.bars = Array.from({ length: n }, (_, i) => {
      const t = this.shifts[0] + i;
      const bar = el('button.cs-bar', {
        type: 'button', role: 'radio', 'data-shift': t, class: `cs-bar${t === 0 ? ' cs-zero' : ''}`, onclick: () => this.setShift(t),
      }, ACTIVITIES.map((_, a) => el('span.cs-seg', { 'data-act': a })));
      this.chart.append(bar);
      return bar;
    });
    this.barRove = roving(this.bars, { start: -this.shifts[0], select: (i) => this.setShift(this.shifts[0] + i) });
    this.legend = el('div.cs-legend', { 'aria-label': 'Activities' }, ACTIVITIES.map((nm, i) => el('span.cs-chip', { 'data-act': i }, nm)));
    chart.append(this.chart, el('div.cs-axis', { 'aria-hidden': 'true' },
      el('span', {}, String(this.shifts[0]).replace('-', '−')), el('span.cs-axis-zero', {}, '▲ t = 0: the dense layer'), el('span', {}, `+${this.shifts[1]}`)));
    // Under the chart: the activities' key and, beside it, the PyTorch line that computes the
    // chart (the days and the chart stay on one screen).
    const foot = el('div.cs-chartfoot', {}, this.legend);
    chart.append(foot);
    this.code = new CodeView(foot, { id: 'dense', title: 'Every shift, this shift and the dense layer in PyTorch' });
    r.append(chart);

    this.buildOneByOne();
    this.buildParams();
  }

  dayCells(row, who, name) {
    return Array.from({ length: HOURS }, (_, h) => {
      const b = el('button.cs-hour', { type: 'button', 'data-hour': h, onclick: () => this.paint(who, h) });
      b.dataset.name = name;
      row.append(b);
      return b;
    });
  }

  /** The viewer picked a brush. */
  pickBrush(i) {
    this.forget('brush');
    this.setBrush(i);
  }

  setBrush(i) {
    this.s.brush = i;
    this.brushes.forEach((b, j) => b.setAttribute('aria-checked', String(i === j)));
    this.brushRove?.set(i);
    this.ctx.changed();
  }

  paint(who, h) {
    this.forget(who);
    this.s[who][h] = this.s.brush;
    this.update();
  }

  setShift(t) {
    this.forget('shift');
    this.s.shift = Math.max(this.shifts[0], Math.min(this.shifts[1], t));
    this.update();
  }

  /** The wasm trace of the current days. */
  trace() {
    return this.api.traceSchedules(Uint8Array.from(this.s.a), Uint8Array.from(this.s.b), ACTIVITIES.length);
  }

  update() {
    const { s } = this;
    const c = this.trace();
    const res = { shifts: c.shifts, total: c.total, per: c.perChannel, matches: c.matches, zero: c.zero, dense: c.dense };
    const si = res.zero + s.shift;
    const match = res.matches.subarray(si * HOURS, (si + 1) * HOURS);
    this.cellsA.forEach((b, h) => {
      b.dataset.act = s.a[h];
      b.classList.toggle('cs-match', match[h] > 0);
      b.setAttribute('aria-label', `A, ${h}:00, ${ACTIVITIES[s.a[h]]}${match[h] ? ', matches' : ''}`);
    });
    this.cellsB.forEach((b, h) => {
      b.dataset.act = s.b[h];
      b.setAttribute('aria-label', `B, ${h}:00, ${ACTIVITIES[s.b[h]]}`);
    });
    // B slides left by t cells, so B's hour x + t sits under A's hour x.
    this.rowB.style.setProperty('--shift', String(-s.shift));
    this.code.set(this.api.pytorchCode({ op: 'dense', length: HOURS, channels: ACTIVITIES.length, shift: s.shift }));
    this.shiftIn.value = String(s.shift);
    this.shiftOut.dataset.step = String(s.shift);
    this.shiftOut.value = `t = ${s.shift > 0 ? '+' : ''}${s.shift}${s.shift === 0 ? ' (dense layer)' : ''}`;
    // Bars: stacked by activity, updated in place.
    let max = 1;
    for (const v of res.total) if (v > max) max = v;
    this.bars.forEach((bar, i) => {
      const t = res.shifts[i];
      bar.dataset.value = String(res.total[i]);
      bar.setAttribute('aria-label', `shift ${t}: ${fmt(res.total[i])} matching hours${t === 0 ? ' (the dense layer)' : ''}`);
      bar.setAttribute('aria-checked', String(t === s.shift));
      bar.classList.toggle('cs-current', t === s.shift);
      [...bar.children].forEach((seg, a) => {
        const v = res.per[i * ACTIVITIES.length + a];
        seg.hidden = !v;
        seg.style.setProperty('--h', String(v / max));
      });
    });
    this.barRove.set(si);
    const total = res.total[si];
    const parts = ACTIVITIES.map((n, a) => [n, res.per[si * ACTIVITIES.length + a]]).filter(([, v]) => v > 0).map(([n, v]) => `${fmt(v)} ${n}`);
    document.getElementById('dense-explain')?.replaceChildren(
      `F(${s.shift}) = `, el('b', { id: 'dense-f', 'data-value': String(total) }, fmt(total)),
      ` matching hour${total === 1 ? '' : 's'}${parts.length ? ` (${parts.join(', ')})` : ''}. `,
      'The dense layer (one neuron whose weights are B’s day, one-hot, applied to A’s day) sees only F(0) = ',
      el('b', { id: 'dense-value', 'data-value': String(res.dense) }, fmt(res.dense)), '.');
    this.ctx.changed();
  }

  buildOneByOne() {
    const sec = el('section.cs-panel', { 'aria-label': '1×1 convolution' },
      el('h3', { text: 'A 1×1 conv is a dense layer over channels' }),
      el('p.cs-muted', {}, 'Three input channels, two output channels, 1×1 kernels: at every pixel, the output is the 2×3 weight matrix times that pixel’s channel vector. Pick a pixel (arrows move inside a grid).'));
    this.oneSec = sec;
    const d = this.api.traceOneByOne({ channelsIn: 3, channelsOut: 2, size: 4, seed: 5 });
    this.one = { input: d.input, weight: d.weight, conv: d.conv, dense: d.dense, cell: d.pixelCell };
    const row = el('div.cs-stage');
    sec.append(row);
    this.oneIn = [0, 1, 2].map((c) => new Grid(row, { id: `one-in-${c}`, label: `Input channel ${c + 1}: pick a pixel`, caption: `in ch ${c + 1}`, signed: false, maxWidth: 150, maxCell: 36 }));
    this.oneW = new Grid(row, { id: 'one-weight', label: 'Weights, 2 outputs × 3 inputs', caption: 'W (2×3)', maxWidth: 120, maxCell: 36 });
    this.oneOut = [0, 1].map((c) => new Grid(row, { id: `one-out-${c}`, label: `Output channel ${c + 1}: pick a pixel`, caption: `out ch ${c + 1}`, maxWidth: 150, maxCell: 36 }));
    this.oneIn.forEach((g, c) => { g.resize(4, 4); g.set(this.one.input.subarray(c * 16, (c + 1) * 16), { scale: 1 }); });
    this.oneW.resize(2, 3);
    this.oneW.set(this.one.weight);
    this.oneOut.forEach((g, c) => { g.resize(4, 4); g.set(this.one.conv.subarray(c * 16, (c + 1) * 16)); });
    // Each pickable grid is a radio group: one tab stop, the arrows move (and pick) inside it;
    // a pixel's name starts with the number it shows.
    this.oneRoves = [...this.oneIn, ...this.oneOut].map((g) => {
      g.node.setAttribute('role', 'radiogroup');
      g.cells.forEach((cell, p) => {
        cell.setAttribute('role', 'radio');
        cell.setAttribute('aria-label', `${cell.textContent}, pixel ${this.one.cell[2 * p]}, ${this.one.cell[2 * p + 1]}`);
        cell.addEventListener('click', () => this.choosePixel(p));
        cell.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); this.choosePixel(p); } });
      });
      return roving(g.cells, { cols: 4, start: this.s.px, select: (p) => this.choosePixel(p) });
    });
    this.oneText = el('p.cs-sum', { id: 'one-text' });
    sec.append(this.oneText);
    new CodeView(sec, { id: 'dense-1x1', title: 'The 1×1 conv and the dense layer in PyTorch' })
      .set(this.api.pytorchCode({ op: 'oneByOne', channelsIn: 3, channelsOut: 2, size: 4 }));
    this.root.append(sec);
  }

  /** The viewer picked a pixel. */
  choosePixel(p) {
    this.forget('px');
    this.pickPixel(p);
  }

  pickPixel(p) {
    this.s.px = p;
    for (const g of [...this.oneIn, ...this.oneOut]) {
      g.mark('cs-cur', [p]);
      g.cells.forEach((cell, i) => cell.setAttribute('aria-checked', String(i === p)));
    }
    for (const r of this.oneRoves) r.set(p);
    const x = [0, 1, 2].map((c) => this.one.input[c * 16 + p]);
    const lines = [0, 1].map((o) => el('div', {},
      `out ch ${o + 1} = ${[0, 1, 2].map((c) => `${fmt(this.one.weight[o * 3 + c])}×${fmt(x[c])}`).join(' + ').replaceAll('+ −', '− ')} = `,
      el('b', { 'data-value': String(this.one.dense[p * 2 + o]), 'data-conv': String(this.one.conv[o * 16 + p]) }, fmt(this.one.dense[p * 2 + o], 3)),
      ' (dense) = ', fmt(this.one.conv[o * 16 + p], 3), ' (1×1 conv)'));
    this.oneText.replaceChildren(el('div', {}, `pixel (${this.one.cell[2 * p]}, ${this.one.cell[2 * p + 1]}): channel vector [${x.map((v) => fmt(v)).join(', ')}]`), ...lines);
    this.ctx.changed();
  }

  // ---- "Show me" ----

  /** A run starts from the Show-me days at shift 0 and the default parameter counts. */
  showMeStart() {
    const s = this.s;
    for (const key of Object.keys(this.noteOf ?? {})) this.forget(key);
    s.a = decode(SHOW_ME.days.a);
    s.b = decode(SHOW_ME.days.b);
    s.shift = 0;
    for (const k of PARAMS) s[k] = fieldOf(this.schema, k).def;
    this.render();
    window.scrollTo({ top: 0 });
  }

  /** Marks the part of the scene a stop talks about (one at a time). */
  spot(node) {
    this.root.querySelectorAll('.cs-spot').forEach((n) => n.classList.remove('cs-spot'));
    node?.classList.add('cs-spot');
  }

  /** Moves the shift one hour at a time to `t` (at once under reduced motion). */
  async walk(run, t) {
    const still = matchMedia('(prefers-reduced-motion: reduce)').matches;
    while (this.s.shift !== t && !still) {
      await run.wait(140);
      this.setShift(this.s.shift + Math.sign(t - this.s.shift));
    }
    this.setShift(t);
  }

  /** Brings the scene to a stop's moment and returns its numbers, all from the wasm traces. */
  async moment(name, run) {
    // Scrolls `node` to the middle of the screen unless it is already well in view (below the
    // stuck bar): at 1280×800 the days and the chart stay where they are.
    const reveal = (node) => {
      const r = node.getBoundingClientRect();
      const top = this.showMe.node.getBoundingClientRect().bottom;
      if (r.top < top + 8 || r.bottom > innerHeight - 8) node.scrollIntoView({ block: 'center' });
    };
    if (name === 'best' || name === 'zero') {
      const c = this.trace();
      const t = name === 'best' ? c.shifts[c.best] : 0;
      await this.walk(run, t);
      const i = c.zero + t;
      // The days and the chart together, just under the bar (a phone scrolls; 1280×800 does not).
      const host = this.showMe.node.parentElement;
      const under = parseFloat(getComputedStyle(host).top) + host.getBoundingClientRect().height; // the stuck bar's bottom
      const days = this.sched.getBoundingClientRect();
      if (days.top < under || this.chart.getBoundingClientRect().bottom > innerHeight) window.scrollBy(0, days.top - under - 6);
      this.spot(name === 'best' ? this.bars[i] : this.chart);
      return { t, f: c.total[i], dense: c.dense };
    }
    if (name === 'oneByOne') {
      const p = this.s.px;
      this.pickPixel(p);
      reveal(this.oneText);
      await run.wait(400);
      this.spot(this.oneText);
      return { row: this.one.cell[2 * p], col: this.one.cell[2 * p + 1], values: [this.one.dense[2 * p], this.one.dense[2 * p + 1]] };
    }
    const s = this.s;
    const p = this.api.traceParamCounts({ size: s.size, channelsIn: s.channelsIn, channelsOut: s.channelsOut, kernelSize: s.kernelSize, hidden: s.hidden });
    reveal(this.paramTable);
    await run.wait(400);
    this.spot(this.paramTable);
    return { img: s.size, hidden: s.hidden, k: s.kernelSize, dense: p.denseHidden, conv: p.conv };
  }

  buildParams() {
    const sec = el('section.cs-panel', { 'aria-label': 'Parameter counts' },
      el('h3', { text: 'Why images need convolutions: parameters of one layer' }),
      el('p.cs-muted', {}, 'Translation invariance and locality: a one-megapixel photo into a dense layer of 1000 hidden units needs 10⁹ weights. A conv layer’s weights do not depend on the image size at all.'));
    this.paramTable = el('table.cs-table.cs-params', { id: 'param-table' });
    sec.append(el('div.cs-controls', {}, ...this.paramFields), this.paramTable);
    this.paramCode = new CodeView(sec, { id: 'dense-params', title: 'The two layers in PyTorch' });
    this.root.append(sec);
  }

  params() {
    const { s } = this;
    let p;
    try {
      p = this.api.traceParamCounts(Object.fromEntries(PARAMS.map((name) => [name, s[name]])));
    } catch (err) {
      this.paramTable.replaceChildren(el('tr', {}, el('td', {}, err.message)));
      this.paramCode.set(null);
      return;
    }
    this.paramCode.set(this.api.pytorchCode({ op: 'paramCounts', size: s.size, channelsIn: s.channelsIn, channelsOut: s.channelsOut, kernelSize: s.kernelSize, hidden: s.hidden }));
    const n = grouped;
    const row = (id, what, v) => el('tr', {}, el('th', { scope: 'row' }, what), el('td', { id, 'data-value': String(v) }, n(v)));
    this.paramTable.replaceChildren(
      row('param-inputs', `inputs (${s.size}×${s.size}×${s.channelsIn})`, p.inputs),
      row('param-dense', `dense layer → ${s.hidden} hidden units`, p.denseHidden),
      row('param-dense-same', `dense layer → a ${s.size}×${s.size}×${s.channelsOut} image`, p.denseSame),
      row('param-conv', `${s.kernelSize}×${s.kernelSize} conv, ${s.channelsIn} → ${s.channelsOut} channels`, p.conv));
    this.ctx.changed();
  }

  getState() {
    return writeLink(this.schema, this.s);
  }

  setState(p) {
    const { values: { brush, ...v }, noteOf } = readLink(this.schema, p);
    Object.assign(this.s, v);
    if (brush !== undefined) this.setBrush(brush);
    this.noteOf = { ...noteOf };
    this.linkNotes(Object.values(this.noteOf));
    if (this.shown) this.render();
  }

  /** A link's note about setting `key` goes once that setting changes. */
  forget(key) {
    if (!this.noteOf || !(key in this.noteOf)) return;
    delete this.noteOf[key];
    this.linkNotes(Object.values(this.noteOf));
  }

  render() {
    for (const k of PARAMS) this.ctl[k].set(this.s[k]);
    this.update();
    this.pickPixel(this.s.px);
    this.params();
  }

  show() { this.shown = true; this.render(); }

  onKey(e) {
    if (e.key === 'ArrowLeft') { this.setShift(this.s.shift - 1); return true; }
    if (e.key === 'ArrowRight') { this.setShift(this.s.shift + 1); return true; }
    return false;
  }
}
