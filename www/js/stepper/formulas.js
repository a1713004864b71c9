// Pieces the correlate and transpose scenes share: the output-size formula with the numbers
// filled in (from the trace's `terms`), and a learned kernel from the shipped cnn model.
import { el } from '../dom.js';

const sub = (t) => el('sub', {}, t);

/** Conv: out = ⌊(in + p₀ + p₁ − d·(k−1) − 1) / s⌋ + 1, with the trace's terms. */
export function formulaConv(terms, axis, sym) {
  const { input, padBegin: pb, padEnd: pe, dilation: d, kernel: k, stride: s, span, output: out } = terms;
  return [el('p.cs-eq', { 'data-axis': axis, 'data-output': String(out) },
    el('span.cs-eq-name', {}, `output ${axis} = `),
    '⌊(', sym, ' + p', sub('begin'), ' + p', sub('end'), ' − d·(k−1) − 1) / s⌋ + 1',
    el('br'),
    el('span.cs-eq-num', {}, `= ⌊(${input} + ${pb} + ${pe} − ${d}·(${k}−1) − 1) / ${s}⌋ + 1 = ⌊${span} / ${s}⌋ + 1 = `),
    el('b', {}, String(out)))];
}

/** Transposed: out = s·(in−1) + output_padding + d·(k−1) + 1 − p₀ − p₁. */
export function formulaTranspose(terms, axis, sym) {
  const { input, padBegin: pb, padEnd: pe, dilation: d, kernel: k, stride: s, outputPadding: op, span, output: out } = terms;
  return [el('p.cs-eq', { 'data-axis': axis, 'data-output': String(out) },
    el('span.cs-eq-name', {}, `output ${axis} = `),
    's·(', sym, '−1) + output_padding + d·(k−1) + 1 − p', sub('begin'), ' − p', sub('end'),
    el('br'),
    el('span.cs-eq-num', {}, `= ${s}·(${input}−1) + ${op} + ${d}·(${k}−1) + 1 − ${pb} − ${pe} = ${span} − ${pb} − ${pe} = `),
    el('b', {}, String(out)))];
}

/**
 * Kernel `index` of the cnn model's first conv layer (`model.weights(name)` gives
 * `{ data, shape: [out, in, k, k] }`), or null when the model is not available. Only called
 * when the person picks "learned", so a page without a shipped model makes no request.
 */
export async function learnedKernel(shared, index = 0) {
  try {
    const model = await shared.model('cnn');
    const conv = model.layers().find((l) => l.kind === 'conv2d');
    if (!conv) return null;
    const w = model.weights(conv.name);
    const [out, cin, kh, kw] = w.shape;
    if (kh !== kw || kh > 11) return null;
    const i = Math.max(0, Math.min(out - 1, index));
    const size = cin * kh * kw;
    return { name: `${conv.name}[${i}]`, k: kh, count: out, index: i, values: Float32Array.from(w.data.subarray(i * size, i * size + kh * kw)) };
  } catch {
    return null;
  }
}
