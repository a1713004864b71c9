// What the page needs to know about a loaded model, gathered once from the wasm API:
// the layer list, where each layer's activation lives in a Forward, each layer's geometry
// (kernel, stride, padding: as `Model.layers()` reports them, the parameters the kernels run
// with) and the weights of parameterised layers. No arithmetic on values happens here.

/** Drops a leading batch dimension of 1 so shapes read as [C,H,W] or [N]. */
export function unbatch(shape) {
  const s = Array.from(shape, Number);
  return s.length > 1 && s[0] === 1 && (s.length === 4 || s.length === 2) ? s.slice(1) : s;
}

/** `[C,H,W]` → {c,h,w}; `[N]` → {c:1,h:1,w:N}. */
export function grid(shape) {
  const s = unbatch(shape);
  if (s.length === 3) return { c: s[0], h: s[1], w: s[2] };
  if (s.length === 2) return { c: 1, h: s[0], w: s[1] };
  return { c: 1, h: 1, w: s.reduce((a, b) => a * b, 1) };
}

function numel(shape) {
  return Array.from(shape, Number).reduce((a, b) => a * b, 1);
}

/** A weight tensor from `model.weights(name)`, whatever form it comes in, as {data, shape}. */
export function readTensor(t) {
  if (!t) return null;
  // Copied once: a view into wasm memory would be detached when that memory grows.
  if (t instanceof Float32Array) return { data: Float32Array.from(t), shape: [t.length] };
  const data = Float32Array.from(typeof t.toArray === 'function' ? t.toArray() : t.data);
  const shape = Array.from(t.shape ?? [data.length], Number);
  if (typeof t.free === 'function') t.free();
  return { data, shape };
}

export class NetInfo {
  /** @param model the wasm Model */
  constructor(model) {
    this.model = model;
    const all = Array.from(model.layers(), (l) => ({
      name: l.name,
      kind: String(l.kind).toLowerCase(),
      shape: unbatch(l.shape),
      conv: l.conv,
      pool: l.pool,
      kernelSize: l.kernelSize,
      // The layer's PyTorch constructor (`nn.Conv2d(1, 8, kernel_size=5, padding=2)`), from wasm.
      torch: l.torch,
      // The [C, H, W] the page draws it as (wasm's choice: a flatten as 16 × 7 × 7, fc1 as 8 × 8).
      view: Array.from(l.view ?? [], Number),
    }));
    // layers()[0] is the input (kind "input"); Forward.activation(i) follows layers()[i].
    this.offset = all.length && all[0].kind === 'input' ? 1 : 0;
    this.inputShape = this.offset ? all[0].shape : [1, 28, 28];
    this.inputView = this.offset ? all[0].view : [1, 28, 28];
    this.layers = all.slice(this.offset);
    this.params = new Map();
    for (const l of this.layers) {
      if (l.kind === 'conv2d' || l.kind === 'linear') l.params = this.weights(l.name);
    }
    this.geometry();
  }

  /** {weight:{data,shape}, bias:{data,shape}} of a parameterised layer. */
  weights(name) {
    if (this.params.has(name)) return this.params.get(name);
    const raw = this.model.weights(name);
    let out;
    if (raw && raw.data && raw.shape) {
      // { data, shape, bias }: the weight and the bias as Float32Array copies.
      out = {
        weight: { data: Float32Array.from(raw.data), shape: Array.from(raw.shape, Number) },
        bias: raw.bias ? { data: Float32Array.from(raw.bias), shape: [raw.bias.length] } : null,
      };
    } else if (Array.isArray(raw)) {
      out = { weight: readTensor(raw[0]), bias: readTensor(raw[1]) };
    } else if (raw && (raw.weight || raw.bias)) {
      out = { weight: readTensor(raw.weight), bias: readTensor(raw.bias) };
    } else {
      out = { weight: readTensor(raw), bias: readTensor(this.model.weights(`${name}.bias`)) };
    }
    this.params.set(name, out);
    return out;
  }

  /** Kernel size, stride and padding of conv and pool layers, as `Model.layers()` gives them. */
  geometry() {
    let prev = grid(this.inputShape);
    for (const l of this.layers) {
      const g = grid(l.shape);
      l.in = prev;
      l.out = g;
      if (l.kind === 'conv2d') {
        l.geo = { k: l.kernelSize[0], stride: l.conv.stride[0], pad: l.conv.padding[0], dilation: l.conv.dilation[0] };
      } else if (l.kind === 'maxpool2d') {
        l.geo = { k: l.pool.kernel[0], stride: l.pool.stride[0], pad: l.pool.padding[0], dilation: l.pool.dilation[0] };
      } else if (l.kind === 'relu') {
        l.geo = { k: 1, stride: 1, pad: 0 };
      }
      prev = g;
    }
  }

  /** Runs one forward pass; returns the Forward and the time of that one wasm call in µs. */
  forward(pixels) {
    const t0 = performance.now();
    const fwd = this.model.forward(pixels);
    const us = (performance.now() - t0) * 1000;
    return { fwd, us };
  }

  /** Index of layer `i`'s output in Forward.activation(): the input comes first. */
  actIndex(i) {
    return i + this.offset;
  }

  /** The [C, H, W] activation `a` is drawn as (0 = the input, a = layer a − 1). */
  viewOf(a) {
    return a === 0 ? this.inputView : this.layers[a - 1].view;
  }

  /** What made cell (c, y, x) of layer `i` (in its view): `forward.explain` in wasm. */
  explain(fwd, { layer: i, c, y, x }) {
    return fwd.explain(this.actIndex(i), c, y, x);
  }

  /** Layer `i`'s activation (a Float32Array copy). */
  activation(fwd, i) {
    return fwd.activation(this.actIndex(i));
  }
}
