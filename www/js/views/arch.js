// The architecture editor (Train): a model's layers as rows you add, remove, reorder and set.
// Each row shows the layer's output shape and parameter count, and a design that does not fit
// is refused with the rule; all of it from wasm (`specInfo`: what a spec builds, without
// building it; `specRanges`: the ranges each option is offered in). The editor holds a spec
// (`{ input, layers }`, what `Model.fromSpec` and the trainer take) and does no arithmetic.

import { el, grouped } from '../dom.js';

/** What a new layer of each kind starts as. */
const FRESH = {
  conv2d: { outChannels: 8, kernelSize: 3, padding: 1 },
  convtranspose2d: { outChannels: 8, kernelSize: 2, stride: 2 },
  maxpool2d: { kernelSize: 2 },
  avgpool2d: { kernelSize: 2 },
  leakyrelu: { negativeSlope: 0.01 },
  linear: { outFeatures: 10 },
  batchnorm2d: {},
  add: { from: 0 },
};

/** Options shown per kind, in order, and which are on/off switches. */
const OPTIONS = {
  conv2d: ['outChannels', 'kernelSize', 'stride', 'padding', 'dilation', 'groups', 'bias'],
  convtranspose2d: ['outChannels', 'kernelSize', 'stride', 'padding', 'outputPadding', 'dilation', 'groups', 'bias'],
  maxpool2d: ['kernelSize', 'stride', 'padding', 'dilation', 'ceilMode'],
  avgpool2d: ['kernelSize', 'stride', 'padding', 'ceilMode', 'countIncludePad'],
  leakyrelu: ['negativeSlope'],
  linear: ['outFeatures', 'bias'],
  add: ['from'],
};
/** What an empty field means (PyTorch's default, which wasm applies). */
const PLACEHOLDER = { stride: '1', padding: '0', dilation: '1', groups: '1', outputPadding: '0', negativeSlope: '0.01' };
const SWITCHES = new Set(['bias', 'ceilMode', 'countIncludePad']);
const SWITCH_DEFAULT = { bias: true, ceilMode: false, countIncludePad: true };
const LABEL = {
  outChannels: 'out channels', outFeatures: 'out features', kernelSize: 'kernel', stride: 'stride', padding: 'padding',
  outputPadding: 'output padding', dilation: 'dilation', groups: 'groups', bias: 'bias', ceilMode: 'ceil mode',
  countIncludePad: 'count padding', negativeSlope: 'slope', from: 'add activation',
};
const KIND_NAME = {
  conv2d: 'conv', convtranspose2d: 'transposed conv', maxpool2d: 'max pool', avgpool2d: 'average pool', globalavgpool: 'global average pool',
  relu: 'ReLU', leakyrelu: 'leaky ReLU', sigmoid: 'sigmoid', tanh: 'tanh', flatten: 'flatten', linear: 'dense (linear)',
  batchnorm2d: 'batch norm', softmax: 'softmax', logsoftmax: 'log softmax', add: 'residual add',
};

/** A size or padding as typed: "3", "3,5" or "1,0,1,0" → a number or a list; else the text (wasm names it). */
function parseValue(text) {
  const t = text.trim();
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  if (/^\d+(\s*,\s*\d+){1,3}$/.test(t)) return t.split(',').map((v) => Number(v));
  return t;
}

const shownValue = (v) => (Array.isArray(v) ? (v.every((x) => x === v[0]) ? String(v[0]) : v.join(',')) : v === undefined || v === null ? '' : String(v));

export class ArchEditor {
  /**
   * @param container where the editor goes
   * @param api the wasm API (specInfo, specRanges)
   * @param opts { onChange(spec, info) } called after every edit
   */
  constructor(container, api, { onChange, presets = {} } = {}) {
    this.api = api;
    this.onChange = onChange;
    this.ranges = api.specRanges();
    this.spec = { input: [1, 28, 28], layers: [] };
    this.node = el('section#arch.card.arch-editor', { 'aria-label': 'Architecture editor' });
    this.list = el('ol#arch-layers.arch-layers');
    this.error = el('p#arch-error.error', { role: 'alert', hidden: true });
    this.total = el('p#arch-total.small', { role: 'status' });
    this.addKind = el('select#arch-add-kind', { 'aria-label': 'Kind of the layer to add' },
      ...this.ranges.kinds.map((k) => el('option', { value: k, text: KIND_NAME[k] ?? k })));
    this.addKind.value = 'conv2d';
    const starts = Object.entries(presets).map(([name, get]) => el('button.secondary', {
      type: 'button', 'data-preset': name, text: `Start from the ${name}`,
      onclick: async () => { this.set(await get()); this.changed(); },
    }));
    this.node.append(
      el('h3', { text: 'Your architecture' }),
      el('p.small', { text: 'Add, remove and reorder layers and set their options; each layer shows its output shape and parameters as you go (from wasm). Train learns MNIST, so the input is 1 × 28 × 28 and the last layer must give 10 values.' }),
      el('div.buttons', {}, ...starts),
      el('p#arch-input.small', { text: 'input: 1 × 28 × 28' }),
      this.list,
      el('div.buttons.arch-add', {}, el('label', {}, el('span', { text: 'Add a ' }), this.addKind),
        el('button#arch-add', { type: 'button', text: 'Add layer', onclick: () => this.add(this.addKind.value) })),
      this.total, this.error);
    container.append(this.node);
  }

  /** Shows `spec` (the editor's copy). */
  set(spec) {
    this.spec = JSON.parse(JSON.stringify(spec));
    this.render();
  }

  /** What wasm says the design builds (null when the spec does not even parse: then `parseError`). */
  info() {
    try {
      this.parseError = null;
      return this.api.specInfo(this.spec);
    } catch (err) {
      this.parseError = err.message;
      return null;
    }
  }

  changed() {
    const info = this.render();
    this.onChange?.(this.spec, info);
  }

  add(kind) {
    const layers = this.spec.layers;
    // Before a final softmax / log softmax, where a new layer usually belongs.
    const last = layers[layers.length - 1];
    const at = last && (last.kind === 'softmax' || last.kind === 'logsoftmax') ? layers.length - 1 : layers.length;
    layers.splice(at, 0, { kind, ...(FRESH[kind] ?? {}) });
    this.changed();
    this.list.children[at]?.querySelector('input, button')?.focus();
  }

  move(i, d) {
    const layers = this.spec.layers;
    const j = i + d;
    if (j < 0 || j >= layers.length) return;
    [layers[i], layers[j]] = [layers[j], layers[i]];
    this.changed();
    this.list.children[j]?.querySelector(d < 0 ? '.arch-up' : '.arch-down')?.focus();
  }

  remove(i) {
    this.spec.layers.splice(i, 1);
    this.changed();
    (this.list.children[Math.min(i, this.list.children.length - 1)]?.querySelector('.arch-remove') ?? this.addKind).focus();
  }

  render() {
    const info = this.info();
    const rows = info?.layers ?? [];
    const err = info?.error ?? (this.parseError ? { layer: null, message: this.parseError } : null);
    this.list.replaceChildren(...this.spec.layers.map((l, i) => this.row(l, i, rows[i], err && err.layer === i)));
    this.error.hidden = !err;
    this.error.textContent = err ? `This design does not fit: ${err.message}` : '';
    this.total.textContent = info && !err ? `${rows.length} layers, ${grouped(info.params)} parameters, output ${rows[rows.length - 1]?.shape.join(' × ') ?? '–'}` : '';
    this.node.dataset.valid = String(!!info && !err);
    return info;
  }

  row(l, i, r, bad) {
    const n = this.spec.layers.length;
    const li = el('li.arch-layer', { 'data-kind': l.kind, 'data-index': String(i), ...(bad ? { 'data-bad': '' } : {}) });
    const name = r?.name ?? l.name ?? '';
    li.append(el('span.arch-kind', { text: `${KIND_NAME[l.kind] ?? l.kind}` }), el('span.arch-name', { text: name }));
    const opts = el('span.arch-opts');
    const range = this.ranges.options[l.kind] ?? {};
    for (const k of OPTIONS[l.kind] ?? []) {
      const label = `${name || l.kind} ${LABEL[k] ?? k}`;
      if (SWITCHES.has(k)) {
        const box = el('input', { type: 'checkbox', 'data-option': k, 'aria-label': label });
        box.checked = l[k] ?? SWITCH_DEFAULT[k];
        box.onchange = () => { l[k] = box.checked; this.changed(); };
        opts.append(el('label.arch-opt', {}, box, el('span', { text: LABEL[k] ?? k })));
        continue;
      }
      const [min, max] = range[k] ?? [];
      const input = el('input', {
        type: 'text', inputmode: k === 'negativeSlope' ? 'decimal' : 'numeric', size: '4', 'data-option': k, 'aria-label': label,
        value: shownValue(l[k]), placeholder: k === 'stride' && l.kind.endsWith('pool2d') ? 'kernel' : (PLACEHOLDER[k] ?? ''),
        title: min !== undefined ? `${LABEL[k] ?? k}: ${min} to ${max}${k === 'padding' || k === 'kernelSize' || k === 'stride' ? ' (one number, or h,w)' : ''}` : '',
      });
      input.onchange = () => {
        const v = input.value.trim();
        if (v === '') delete l[k];
        else l[k] = parseValue(v);
        this.changed();
      };
      opts.append(el('label.arch-opt', {}, el('span', { text: LABEL[k] ?? k }), input));
    }
    li.append(opts);
    li.append(el('span.arch-shape', { text: r ? `→ ${r.shape.join(' × ')}` : '' }),
      el('span.arch-params', { text: r && r.params ? `${grouped(r.params)} params` : '' }));
    li.append(el('span.arch-buttons', {},
      el('button.arch-up.secondary', { type: 'button', text: '↑', 'aria-label': `Move ${name || l.kind} up`, disabled: i === 0, onclick: () => this.move(i, -1) }),
      el('button.arch-down.secondary', { type: 'button', text: '↓', 'aria-label': `Move ${name || l.kind} down`, disabled: i === n - 1, onclick: () => this.move(i, 1) }),
      el('button.arch-remove.secondary', { type: 'button', text: '✕', 'aria-label': `Remove ${name || l.kind}`, onclick: () => this.remove(i) })));
    return li;
  }
}
