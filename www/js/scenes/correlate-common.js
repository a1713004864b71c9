// Pieces the correlate and transpose scenes share: the output-size formula with the numbers
// filled in (from the trace's `terms`), and a learned kernel from the shipped cnn model.
import { el } from './base.js';

const sub = (t) => el('sub', {}, t);

/** Conv: out = ⌊(in + p₀ + p₁ − d·(k−1) − 1) / s⌋ + 1, with the trace's terms. */
export function formulaConv(terms, axis, sym) {
  const [input, pb, pe, d, k, s, , span, out] = terms;
  return [el('p.cs-eq', { 'data-axis': axis, 'data-output': String(out) },
    el('span.cs-eq-name', {}, `output ${axis} = `),
    '⌊(', sym, ' + p', sub('begin'), ' + p', sub('end'), ' − d·(k−1) − 1) / s⌋ + 1',
    el('br'),
    el('span.cs-eq-num', {}, `= ⌊(${input} + ${pb} + ${pe} − ${d}·(${k}−1) − 1) / ${s}⌋ + 1 = ⌊${span} / ${s}⌋ + 1 = `),
    el('b', {}, String(out)))];
}

/** Transposed: out = s·(in−1) + output_padding + d·(k−1) + 1 − p₀ − p₁. */
export function formulaTranspose(terms, axis, sym) {
  const [input, pb, pe, d, k, s, op, span, out] = terms;
  return [el('p.cs-eq', { 'data-axis': axis, 'data-output': String(out) },
    el('span.cs-eq-name', {}, `output ${axis} = `),
    's·(', sym, '−1) + output_padding + d·(k−1) + 1 − p', sub('begin'), ' − p', sub('end'),
    el('br'),
    el('span.cs-eq-num', {}, `= ${s}·(${input}−1) + ${op} + ${d}·(${k}−1) + 1 − ${pb} − ${pe} = ${span} − ${pb} − ${pe} = `),
    el('b', {}, String(out)))];
}

/**
 * The first kernel of the cnn model's first conv layer, or null when the model (or its
 * weights API) is not available. Only called when the person picks "learned".
 */
export async function learnedKernel(shared) {
  try {
    const model = await shared.model('cnn');
    const names = typeof model.weightNames === 'function' ? model.weightNames() : ['conv1.weight', '0.weight', 'conv.0.weight'];
    for (const name of names) {
      if (!/conv.*weight|^0\.weight/.test(name)) continue;
      let w;
      try { w = model.weights(name); } catch { continue; }
      if (!w) continue;
      const shape = w.shape ?? [];
      const data = typeof w.toArray === 'function' ? w.toArray() : w;
      if (shape.length === 4 && shape[2] === shape[3] && shape[2] <= 11) {
        const k = shape[2];
        return { name: `${name}[0]`, k, values: Float32Array.from(data.subarray(0, k * k)) };
      }
    }
  } catch {
    // No model shipped yet: the caller says so in the page.
  }
  return null;
}
