// A seeded fuzzer of convscope's JS boundary, run inside a Chromium page against one wasm build.
// Every export and method of the public API (api.js) is called with hostile values in one
// argument position while the others are valid, so the call must throw a clean Error naming
// the problem; some calls are fully valid and must succeed with the right shape; some call
// the raw wasm-bindgen exports with hostile values anywhere, which must never trap. At the end
// the instance must still compute the same conv2d as at the start, hold no extra tensors or
// models, and its memory must not have grown.
//
// `fuzzInPage` is serialised by playwright and runs in the page: it must not close over
// anything of this file.

/* eslint-disable no-new-wrappers */
export async function fuzzInPage({ flavour, calls, seed }) {
  const api = await import(`/pkg/${flavour}/api.js`);
  const raw = await import(`/pkg/${flavour}/convscope.js`);
  await api.default({ module_or_path: `/pkg/${flavour}/convscope_bg.wasm` });
  const modelBytes = new Uint8Array(await (await fetch('/data/models/cnn.safetensors')).arrayBuffer());

  // ---- seeded randomness (mulberry32) ----
  let st = seed >>> 0;
  const rnd = () => {
    st = (st + 0x6d2b79f5) >>> 0;
    let t = st;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = (a) => a[Math.floor(rnd() * a.length)];
  const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));

  // ---- hostile values, made once ----
  const throwing = { get stride() { throw new Error('getter says no'); }, get size() { throw new Error('no'); } };
  const proxy = new Proxy({}, { get() { throw new Error('proxy says no'); }, ownKeys() { throw new Error('no keys'); }, getPrototypeOf() { throw new Error('no proto'); } });
  const arrProxy = new Proxy([1, 2], { get() { throw new Error('proxy array'); } });
  const { proxy: revoked, revoke } = Proxy.revocable({}, {});
  revoke();
  const sparse = [1, , 1]; // eslint-disable-line no-sparse-arrays
  sparse.length = 2;
  const arrayLike = { length: 2, 0: 1, 1: 1 };
  const bigArray = new Array(2 ** 32 - 1);
  const longArray = new Array(2 ** 24).fill(1);
  const detached = new Float32Array(16);
  structuredClone(detached.buffer, { transfer: [detached.buffer] });
  const f32Proxy = new Proxy(new Float32Array(4), {});
  const f32Imitation = Object.create(Float32Array.prototype);
  // Strings that are not Unicode text (half of a UTF-16 pair): refused naming the lone surrogate.
  const lone = ['conv\uD800', '\uDC00', `${'a'.repeat(30)}\uD83D`];
  let huge = null;
  let hugeU8 = null;
  try { huge = new Float32Array(2 ** 29); } catch { /* not here */ } // 2 GiB
  try { hugeU8 = new Uint8Array(2 ** 31); } catch { /* not here */ } // 2 GiB
  const freed = new api.Tensor(new Float32Array(4), [4]);
  freed.free();
  const forged = Object.assign(Object.create(api.Tensor.prototype), { __wbg_ptr: 8 });
  const forgedModel = Object.create(api.Model.prototype);
  const ptrObj = { __wbg_ptr: 8 };
  const freedModel = api.Model.load(modelBytes);
  freedModel.free();

  const safe = (f) => { try { return f(); } catch { return undefined; } }; // reading a hostile value may throw
  const HOSTILE = [
    undefined, null, NaN, Infinity, -Infinity, -0, -1, 0.5, 1.5, 2 ** 31, 2 ** 32, 2 ** 32 + 1, 2 ** 53, 1e300,
    '', 'abc', '2', 'x'.repeat(100000), true, false, {}, [], [1], [2, 2], [1, 2, 3], [1, 2, 3, 4], [-1, 1], [NaN],
    sparse, arrayLike, bigArray, longArray, throwing, proxy, arrProxy, revoked, Symbol('s'), 10n, () => 1,
    new Float32Array(4), new Uint8Array(4), new BigInt64Array(2), new Float64Array(4), detached, f32Proxy, f32Imitation,
    ...lone, { ['\uD800']: 1 }, [1, '\uDFFF'], freed, forged, forgedModel, ptrObj, freedModel, new Map(), new Date(0), huge, hugeU8,
  ];
  const NOT_WHOLE = [NaN, Infinity, -Infinity, -1, 0.5, 1.5, 2 ** 32 + 1, 2 ** 53, 1e300, '', '2', true, false, {}, [1, 2, 3], [NaN], sparse, arrayLike,
    bigArray, longArray, throwing, proxy, arrProxy, revoked, Symbol('w'), 10n, () => 2, new Float32Array(2), freed, forged];
  const BAD_SIZE = [...NOT_WHOLE, 0, [0, 1], [1], [], [1, 2, 3], [2, -1], [1.5, 1], ['1', 1]];
  const BAD_PAD = [...NOT_WHOLE, [1], [], [1, 2, 3], [1, 2, 3, 4, 5], [0, -1], [0, 0.5, 0, 0]];
  const BAD_FLAG = [0, 1, 'true', 'yes', {}, [], NaN, Symbol('f'), 10n, throwing];
  const BAD_OPTS = [5, 'x', true, [], [1], Symbol('o'), 10n, () => 1, throwing, proxy, revoked, new Float32Array(4), freed, new Map(),
    { strides: 2 }, { stride: 1, extra: 1 }, { __proto__: null, bogus: 1 }];
  const BAD_TENSOR = [undefined, null, 5, 2 ** 32 + 1, 'x', {}, [], freed, forged, forgedModel, ptrObj, proxy, revoked,
    new Float32Array(4), Symbol('t'), 10n, () => 1];
  const f32of3 = new Float32Array(3);
  const BAD_F32 = [undefined, null, 5, 'abcd', [1, 2, 3, 4], new Float64Array(4), new BigInt64Array(4), new Uint8Array(4),
    arrayLike, detached, f32Proxy, f32Imitation, proxy, revoked, freed, huge, Symbol('d'), f32of3];
  // Not a Float32Array at all (for exports that take one of any length).
  const ANY_LEN_F32 = BAD_F32.filter((v) => v !== f32of3);
  // For settings whose sizes run from 1 (any length up to 64 can be right there): no Float32Array
  // of a small length, one longer than any setting takes instead.
  const BAD_F32_NO_SIZE = [...BAD_F32.filter((v) => v !== f32of3), new Float32Array(65)];
  const BAD_U8 = [undefined, null, 5, 'abcd', [1, 2, 3], new Float32Array(4), new Int8Array(4), arrayLike, proxy, revoked, hugeU8, Symbol('u')];
  const BAD_NAME = [undefined, null, 5, {}, [], 'x'.repeat(100000), Symbol('n'), 10n, throwing, proxy, 'conv9', '', ...lone];

  // ---- valid inputs ----
  const tensors = [];
  const keep = (t) => { tensors.push(t); return t; };
  const T = (shape) => keep(new api.Tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rnd() * 2 - 1), shape));
  const x = T([1, 2, 6, 6]);
  const w = T([3, 2, 3, 3]);
  const b = T([3]);
  const wt = T([2, 3, 3, 3]);
  const m = T([3, 4]);
  const n = T([4, 5]);
  const model = api.Model.load(modelBytes);
  const pixels = Float32Array.from({ length: 784 }, () => rnd());
  const img = (h, wd) => Float32Array.from({ length: h * wd }, () => Math.round(rnd() * 8) / 8);
  const rgba = new Uint8Array(40 * 40 * 4);
  for (let y = 5; y < 30; y++) rgba[(y * 40 + 20) * 4 + 3] = 255;

  // A small MNIST-like set (20 images, IDX), and trainers over it.
  const idx = (magic, dims, data) => {
    const head = new DataView(new ArrayBuffer(4 + 4 * dims.length));
    head.setUint32(0, magic);
    dims.forEach((d, i) => head.setUint32(4 + 4 * i, d));
    const out = new Uint8Array(head.byteLength + data.length);
    out.set(new Uint8Array(head.buffer));
    out.set(data, head.byteLength);
    return out;
  };
  const NS = 20;
  const idxImages = idx(0x803, [NS, 28, 28], Uint8Array.from({ length: NS * 784 }, () => Math.floor(rnd() * 256)));
  const idxLabels = idx(0x801, [NS], Uint8Array.from({ length: NS }, (_, i) => i % 10));
  const ds = api.Dataset.load(idxImages, idxLabels);
  const ds2 = api.Dataset.load(idx(0x803, [5, 28, 28], new Uint8Array(5 * 784)), idx(0x801, [5], new Uint8Array(5)));
  const freedDs = api.Dataset.load(idxImages, idxLabels);
  freedDs.free();
  const trainers = { slp: new api.Trainer(ds, { model: 'slp', batch: 4 }), cnn: new api.Trainer(ds, { model: 'cnn', batch: 2 }) };
  const tr2 = new api.Trainer(ds, { model: 'slp', batch: 3 });
  // A trainer that keeps its history (moments to look at and rewind to).
  const hist = new api.Trainer(ds, { model: 'slp', batch: 4, history: true });
  hist.run(ds, 3);
  const NOT_AT = [...NOT_WHOLE.filter((v) => v != null), 1e6];
  const freedTr = new api.Trainer(ds, { model: 'slp' });
  freedTr.free();
  const BAD_HANDLE = [...BAD_TENSOR, x, model];
  const BAD_DS = [...BAD_HANDLE, freedDs, trainers.slp];
  const BAD_TR = [...BAD_HANDLE, freedTr, ds];
  const trainerFields = {
    // (null and undefined leave an optional setting at its default)
    model: [...BAD_NAME, 'resnet'], optimizer: [...BAD_NAME.filter((v) => v != null), 'lbfgs'],
    lr: [NaN, 0, -1, 11, Infinity, -Infinity, 'x', {}, true, [0.1]], batch: [...NOT_WHOLE, 0, 60001], augment: BAD_FLAG,
    init: [...BAD_NAME.filter((v) => v != null), 'ones'], seed: NOT_WHOLE, history: BAD_FLAG,
  };
  // Designs for Model.fromSpec / specInfo: every kind between them, and designs that parse but
  // do not fit (specInfo answers those with an error entry; fromSpec throws).
  const SPEC_DESIGNS = [
    { input: [1, 28, 28], layers: [{ kind: 'flatten' }, { kind: 'linear', outFeatures: 10 }, { kind: 'softmax' }] },
    { input: [3, 16, 16], layers: [{ kind: 'conv2d', outChannels: 4, kernelSize: 3, padding: [1, 0, 1, 2], groups: 1 }, { kind: 'batchnorm2d' }, { kind: 'leakyrelu' }, { kind: 'avgpool2d', kernelSize: 2, countIncludePad: false }, { kind: 'add', from: 4 }, { kind: 'globalavgpool' }, { kind: 'flatten' }, { kind: 'linear', outFeatures: 5, bias: false }, { kind: 'logsoftmax' }] },
    { input: [1, 8, 8], layers: [{ kind: 'convtranspose2d', outChannels: 2, kernelSize: 3, stride: 2, outputPadding: 1 }, { kind: 'sigmoid' }, { kind: 'maxpool2d', kernelSize: 3, stride: 1, dilation: 2, ceilMode: true }, { kind: 'tanh' }] },
    JSON.stringify({ input: [1, 8, 8], layers: [{ kind: 'relu' }] }),
  ];
  const parsesBad = (d) => { d.parses = true; return d; };
  const BAD_DESIGNS = [{}, { input: [1, 28, 28] }, { input: [1, 28], layers: [] }, { input: [1, 28, 28], layers: [{ kind: 'conv3d' }] },
    { input: [1, 28, 28], layers: [{ kind: 'relu', slope: 1 }] }, { input: [1, 28, 28], layers: [{ kind: 'conv2d', outChannels: 2, kernelSize: [1, 2, 3] }] },
    '{"input":', 'x'.repeat(2 << 20), parsesBad({ input: [1, 28, 28], layers: new Array(65).fill({ kind: 'relu' }) }),
    parsesBad({ input: [2, 28, 28], layers: [{ kind: 'relu' }] }), parsesBad({ input: [1, 28, 28], layers: [{ kind: 'linear', outFeatures: 10 }] }),
    parsesBad({ input: [1, 64, 64], layers: [{ kind: 'convtranspose2d', outChannels: 256, kernelSize: 15, stride: 8 }] }),
    parsesBad({ input: [1, 64, 64], layers: [{ kind: 'flatten' }, { kind: 'linear', outFeatures: 4096 }, { kind: 'linear', outFeatures: 4096 }] }),
    parsesBad({ input: [1, 8, 8], layers: [{ kind: 'add', from: 9 }] }), parsesBad({ input: [1, 8, 8], layers: [{ kind: 'linear', outFeatures: 2 ** 53 }] }),
    { input: [1, 8, 8], layers: [{ kind: 'conv2d', outChannels: -1, kernelSize: 3 }] }, { input: [1, 8, 8], layers: [{ kind: 'leakyrelu', negativeSlope: 'x' }] },
    { input: [1, 8, 8], layers: [{ kind: 'flatten' }, { kind: 'linear', name: 'fc\uD800', outFeatures: 2 }] },
    // Sizes that overflow (wasm32's usize): an error naming the padding or the dilation.
    parsesBad({ input: [1, 8, 8], layers: [{ kind: 'conv2d', outChannels: 1, kernelSize: 3, padding: [2 ** 31, 0, 2 ** 31, 0] }] }),
    parsesBad({ input: [1, 8, 8], layers: [{ kind: 'conv2d', outChannels: 1, kernelSize: 3, dilation: 2 ** 31 }] }),
    parsesBad({ input: [1, 8, 8], layers: [{ kind: 'convtranspose2d', outChannels: 1, kernelSize: 3, stride: 2 ** 31 }] })];
  const oneShard = (g) => g;
  const gradsOf = (g, n) => Float32Array.from({ length: g.length }, (_, i) => (i === 0 ? n : i < 3 ? 0 : g[i]));
  // Gradients a diverged run would send: NaN or ∞ in one place, a NaN or ∞ loss, or finite
  // values so large that a step at learning rate 10 makes the weights infinite.
  const poisoned = (at, v) => (g) => { const h = g.slice(); h[at === 'last' ? h.length - 1 : at] = v; return h; };
  const DIVERGED = [poisoned(3, NaN), poisoned(100, Infinity), poisoned('last', -Infinity), poisoned(1, NaN), poisoned(1, Infinity),
    (g) => g.slice().fill(3e38, 3), (g) => g.slice().fill(-3e38, 3)];
  const zeroed = (g) => g.slice().fill(0, 3); // a step that changes no weight (plain SGD)
  const hot = new api.Trainer(ds, { model: 'slp', batch: 3, lr: 10, optimizer: pick(['sgd', 'momentum', 'adam']) });
  // The shipped model with conv1's weights times 1e15: every explanation still returns at once.
  const scaledModel = (() => {
    const file = model.save();
    const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
    const n = Number(dv.getBigUint64(0, true));
    const head = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + n)));
    const [a, z] = head['conv1.weight'].data_offsets;
    for (let o = 8 + n + a; o < 8 + n + z; o += 4) dv.setFloat32(o, dv.getFloat32(o, true) * 1e15, true);
    return api.Model.load(file);
  })();
  // Rounded sums of terms that cancel: the exact total (BigInt over 2^149 units) to compare.
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  const units = (v) => { // v · 2^149 as a BigInt (exact for every finite float32)
    f32[0] = v;
    const bits = u32[0];
    const e = (bits >>> 23) & 0xff;
    const m = BigInt(e === 0 ? bits & 0x7fffff : (bits & 0x7fffff) | 0x800000) << BigInt(e === 0 ? 0 : e - 1);
    return bits >>> 31 ? -m : m;
  };
  const exactTotal = (terms, d) => {
    const one = 1n << 149n;
    const s = terms.reduce((a, v) => a + units(v), 0n) * 10n ** BigInt(d);
    const q = ((s < 0n ? -s : s) + one / 2n) / one; // half away from zero
    return Number(s < 0n ? -q : q) / 10 ** d;
  };
  const cancelling = () => {
    const n = int(1, 3072);
    const out = new Float32Array(3 * n);
    for (let i = 0; i < n; i++) {
      const big = pick([2 ** 75, 2 ** 100, 3.4e38, 2 ** 24, 1e-45 * int(1, 9)]) * (rnd() < 0.5 ? -1 : 1);
      out.set([big, pick([2 ** 22 + 0.5, 0.125, -0.375, rnd() * 10, 1e-40]), -big], 3 * i);
    }
    return out;
  };

  // One spec per export: `args()` gives valid arguments; `bad` lists, per argument position,
  // values that are invalid there (an options object may instead get a bad field); `check`
  // verifies a valid result.
  const shapeIs = (want) => (r) => { const s = r.shape; r.free(); return JSON.stringify(s) === JSON.stringify(want); };
  const markers = new Set(); // option-field specs (a Set: no trap of a hostile value runs)
  const opt = (fields) => { const o = { fields }; markers.add(o); return o; };
  const convFields = { stride: BAD_SIZE, padding: BAD_PAD, dilation: BAD_SIZE, groups: [...NOT_WHOLE, 0, 4] };
  const corrFields = { size: BAD_SIZE, kernelSize: BAD_SIZE, stride: BAD_SIZE, padding: BAD_PAD, dilation: BAD_SIZE, flip: BAD_FLAG, normalized: BAD_FLAG, cap: NOT_WHOLE };
  const transFields = { size: BAD_SIZE, kernelSize: BAD_SIZE, stride: BAD_SIZE, padding: BAD_PAD, dilation: BAD_SIZE, outputPadding: [...NOT_WHOLE, [5, 5]], cap: NOT_WHOLE, seed: NOT_WHOLE };
  // Settling and ranges take any whole output padding (settling lowers it below the stride).
  const settleFields = { ...transFields, outputPadding: NOT_WHOLE };
  const corrSetting = () => ({ size: [int(3, 8), int(3, 8)], kernelSize: int(1, 3), stride: int(1, 2), padding: int(0, 1), dilation: 1, normalized: pick([undefined, false, true]) });
  const transSetting = () => ({ size: [int(2, 5), int(2, 5)], kernelSize: int(1, 4), stride: int(1, 3), padding: 0, dilation: 1 });
  const withData = (s) => [img(s.size[0], s.size[1]), img(s.kernelSize, s.kernelSize), s];
  const ok = () => true;
  const x1 = keep(new api.Tensor(Float32Array.of(2), [1, 1, 1, 1]));
  const k3 = keep(new api.Tensor(Float32Array.from({ length: 9 }, (_, i) => i + 1), [1, 1, 3, 3]));
  const stamp = '2,4,6,8,10,12,14,16,18';
  // Output sizes past wasm32's usize: each an Error naming the setting, never "leaves no output".
  const OVERFLOW_CONV = [{ padding: [0, 2 ** 31, 0, 2 ** 31] }, { padding: 2 ** 31 }, { dilation: 2 ** 31 }, { dilation: [2 ** 31, 1], padding: 2 ** 31 }];
  const OVERFLOW_TRANSPOSED = [{ stride: 2 ** 31 }, { stride: [2 ** 31, 1] }, { dilation: 2 ** 31 }, { stride: 2 ** 30, dilation: 2 ** 30 }];
  const OVERFLOW = new Set([...OVERFLOW_CONV, ...OVERFLOW_TRANSPOSED]);
  const overflowSays = (m, pos, bad) => !OVERFLOW.has(bad) || (/^invalid (padding|dilation|stride) = .*overflow/.test(m) && !/leaves no output/.test(m));
  const SPECS = {
    'new Tensor': { call: (d, s) => new api.Tensor(d, s), args: () => [new Float32Array(6), [2, 3]], bad: [BAD_F32, [...BAD_SIZE.filter((v) => safe(() => !Array.isArray(v) || v.length === 0 || v.length > 8) !== false), [2, 4], [0, 6], [2.5, 2], [2 ** 32 + 2, 2], [1, 1, 1, 1, 1, 1, 1, 1, 6], [2 ** 29]]], check: shapeIs([2, 3]) },
    'Tensor.shape': { call: (t) => Reflect.get(api.Tensor.prototype, 'shape', t), args: () => [x], bad: [BAD_TENSOR.filter((v) => v !== undefined && v !== null)], check: (r) => r.length === 4 },
    'Tensor.toArray': { call: (t) => api.Tensor.prototype.toArray.call(t), args: () => [x], bad: [BAD_TENSOR.filter((v) => v !== undefined && v !== null)], check: (r) => r instanceof Float32Array && r.length === 72 },
    matmul: { call: api.matmul, args: () => [m, n], bad: [BAD_TENSOR, [...BAD_TENSOR, x]], check: shapeIs([3, 5]) },
    conv2d: { call: api.conv2d, args: () => [x, w, pick([null, undefined, b]), { stride: int(1, 2), padding: int(0, 1) }], bad: [BAD_TENSOR, [...BAD_TENSOR, b], [5, 'x', {}, freed, forged, x, w], [...BAD_OPTS, opt(convFields), ...OVERFLOW_CONV]], check: (r) => { const s = r.shape; r.free(); return s[1] === 3 && s[2] >= 2; }, says: overflowSays },
    convTranspose2d: { call: api.convTranspose2d, args: () => [x, wt, pick([null, b]), { stride: 2, padding: 1, outputPadding: 1 }], bad: [BAD_TENSOR, [...BAD_TENSOR, x], [5, 'x', freed, forged, x], [...BAD_OPTS, opt({ ...convFields, outputPadding: [...NOT_WHOLE, [2, 2]] }), ...OVERFLOW_TRANSPOSED]], check: shapeIs([1, 3, 12, 12]), says: overflowSays },
    // A 1×1 input with any stride is one stamp of the kernel (a stride of 2^31 trapped, 2^16 took seconds).
    'convTranspose2d (1×1, any stride)': { call: (s) => api.convTranspose2d(x1, k3, null, { stride: s }), args: () => [pick([2 ** 31, 2 ** 28, 2 ** 14, 2 ** 16, [2 ** 31, 1], [1, 2 ** 31], int(1, 2 ** 31), [int(1, 2 ** 31), int(1, 2 ** 31)]])], bad: [[...BAD_SIZE, 2 ** 31 + 1, 2 ** 32]], check: (r) => { const s = r.shape.join(); const v = r.toArray().join(); r.free(); return s === '1,1,3,3' && v === stamp; } },
    // Padding per side: any form with at most one padded side per axis keeps 6 → 3 for a 2×2 pool.
    maxPool2d: { call: api.maxPool2d, args: () => [x, { kernelSize: 2, padding: pick([undefined, 0, [0, 0], [0, 1, 1, 0], [1, 0, 0, 1], [1, 1, 0, 0], [0, 0, 1, 1]]) }], bad: [BAD_TENSOR, [undefined, null, ...BAD_OPTS, { stride: 1 }, opt({ kernelSize: BAD_SIZE, stride: BAD_SIZE, padding: [...BAD_PAD, 2, [2, 2], [0, 2], [0, 0, 2, 0], [2, 0, 0, 0], [1, 1, 1, 2], [0, 0, 0, 0, 0]], dilation: BAD_SIZE, ceilMode: BAD_FLAG })]], check: shapeIs([1, 2, 3, 3]) },
    relu: { call: api.relu, args: () => [x], bad: [BAD_TENSOR], check: shapeIs([1, 2, 6, 6]) },
    softmax: { call: api.softmax, args: () => [x, pick([undefined, -1, 1])], bad: [BAD_TENSOR, [...NOT_WHOLE.filter((v) => v !== -1), 4, -5, 0.5]], check: shapeIs([1, 2, 6, 6]) },
    'Model.load': { call: (bytes) => api.Model.load(bytes), args: () => [modelBytes], bad: [[...BAD_U8, new Uint8Array(100), modelBytes.slice(0, 1000), Uint8Array.from([255, 255, 255, 255, 255, 255, 255, 127, 0, 0])]], check: (r) => { const a = r.arch; r.free(); return a === 'cnn'; } },
    'model.layers': { call: (mm) => api.Model.prototype.layers.call(mm), args: () => [model], bad: [[...BAD_TENSOR, x]], check: (r) => r.length === 12 && r[1].conv && r[1].conv.padding[0] === 2 },
    'model.weights': { call: (mm, name) => api.Model.prototype.weights.call(mm, name), args: () => [model, pick(['conv1', 'fc2'])], bad: [[...BAD_TENSOR, x], BAD_NAME], check: (r) => r.data instanceof Float32Array },
    'model.forward': { call: (mm, p) => api.Model.prototype.forward.call(mm, p), args: () => [model, pixels], bad: [[...BAD_TENSOR, x], [...BAD_F32, new Float32Array(783), Float32Array.from({ length: 784 }, (_, i) => (i === 9 ? NaN : 0))]], check: (f) => f.top() >= 0 && f.top() < 10 },
    'model.predict': { call: (mm, p) => api.Model.prototype.predict.call(mm, p), args: () => [model, pixels], bad: [[...BAD_TENSOR, x, freedModel], [...BAD_F32, new Float32Array(783), Float32Array.from({ length: 784 }, (_, i) => (i === 9 ? NaN : 0))]], check: (r) => r instanceof Float32Array && r.length === 10 && Math.abs(r.reduce((a, b) => a + b, 0) - 1) < 1e-4 },
    'forward.activation': { call: (i) => model.forward(pixels).activation(i), args: () => [int(0, 11)], bad: [[...NOT_WHOLE, 12, 2 ** 32 + 1, undefined, null]], check: (r) => r instanceof Float32Array },
    'forward.shape': { call: (i) => model.forward(pixels).shape(i), args: () => [int(0, 11)], bad: [[...NOT_WHOLE, 12, 2 ** 32 + 1]], check: (r) => Array.isArray(r) },
    'forward.peak': { call: (i, c) => model.forward(pixels).peak(i, c), args: () => [int(0, 11), pick([undefined, 0])], bad: [[...NOT_WHOLE, 12, 2 ** 32 + 1], [...NOT_WHOLE, 10000]], check: (r) => r.layer >= 0 && r.channel >= 0 && Number.isFinite(r.value) },
    'forward.name': { call: (i) => model.forward(pixels).name(i), args: () => [int(0, 11)], bad: [[...NOT_WHOLE, 12]], check: (r) => typeof r === 'string' },
    'forward.explain (conv1 × 1e15)': { call: (l, c, y, xx) => scaledModel.forward(pixels).explain(l, c, y, xx), args: () => pick([[1, int(0, 7), int(0, 27), int(0, 27)], [4, int(0, 15), int(0, 13), int(0, 13)], [7, int(0, 15), int(0, 6), int(0, 6)], [8, 0, int(0, 7), int(0, 7)], [10, 0, 0, int(0, 9)], [11, 0, 0, int(0, 9)]]), bad: [[...NOT_WHOLE, 0, 12]], check: (r) => Number.isFinite(r.sum) && Math.abs(r.sum - r.value) <= 1e-4 * (1 + Math.abs(r.value)) },
    'forward.explain': { call: (l, c, y, xx) => model.forward(pixels).explain(l, c, y, xx), args: () => pick([[1, int(0, 7), int(0, 27), int(0, 27)], [4, int(0, 15), int(0, 13), int(0, 13)], [7, int(0, 15), int(0, 6), int(0, 6)], [8, 0, int(0, 7), int(0, 7)], [10, 0, 0, int(0, 9)], [11, 0, 0, int(0, 9)]]), bad: [[...NOT_WHOLE, 0, 12, 2 ** 32 + 1], [...NOT_WHOLE, 16, 2 ** 32], [...NOT_WHOLE, 28], [...NOT_WHOLE, 28]], check: (r) => Math.abs(r.sum - r.value) <= 1e-4 * (1 + Math.abs(r.value)) && r.field.length === r.layer },
    'Tensor.free': { own: true, call: (t) => api.Tensor.prototype.free.call(t), args: () => [T([2])], bad: [BAD_TENSOR.filter((v) => v !== undefined && v !== null && v !== freed)], check: () => true },
    'model.arch': { call: (mm) => Reflect.get(api.Model.prototype, 'arch', mm), args: () => [model], bad: [[...BAD_TENSOR, x, freedModel]], check: (r) => r === 'cnn' },
    'model.numParams': { call: (mm) => Reflect.get(api.Model.prototype, 'numParams', mm), args: () => [model], bad: [[...BAD_TENSOR, x, freedModel]], check: (r) => r === 54314 },
    'model.free': { own: true, call: (mm) => api.Model.prototype.free.call(mm), args: () => [api.Model.load(modelBytes)], bad: [[...BAD_TENSOR, x].filter((v) => v !== undefined && v !== null)], check: () => true },
    'forward readers': { call: (k) => { const f = model.forward(pixels); return f[k](); }, args: () => [pick(['top', 'probabilities', 'numLayers'])], bad: [[]], check: (r) => r !== undefined },
    'forward this': { call: (k, that) => api.Forward.prototype[k].call(that, 0), args: null, bad: [['top', 'probabilities', 'numLayers', 'activation', 'shape', 'name', 'explain', 'free'], [...BAD_TENSOR, x, model]] },
    simdLevel: { call: () => api.simdLevel(), args: () => [], bad: [[]], check: (r) => r === flavour },
    traceControls: { call: () => api.traceControls(), args: () => [], bad: [[]], check: (r) => r.correlate.size[0] >= 1 && r.transpose.cap >= 1 && r.checkerboard.stride[1] >= 1 && r.dense.kernelSize[1] >= 1 && r.train.batch[1] >= 1 },
    liveObjects: { call: () => api.liveObjects(), args: () => [], bad: [[]], check: (r) => r.models >= 1 },
    'stale forward': { call: (k) => { const f = model.forward(pixels); model.forward(pixels); return f[k](0); }, args: null, bad: [['top', 'probabilities', 'numLayers', 'activation', 'shape', 'name', 'explain']] },
    preprocess: { call: api.preprocess, args: () => [rgba, 40, 40], bad: [[...BAD_U8, new Uint8Array(15)], [...BAD_SIZE, 8193, 2 ** 32 + 40], [...BAD_SIZE, 1.5, 2 ** 32 + 40]], check: (r) => r instanceof Float32Array && r.length === 784 },
    traceCorrelate: { call: api.traceCorrelate, args: () => withData(corrSetting()), bad: [BAD_F32, BAD_F32, [...BAD_OPTS, undefined, null, opt(corrFields), { size: 5 }, { kernelSize: 3 }, { size: 97, kernelSize: 3 }, { size: 4, kernelSize: 12 }, { size: 3, kernelSize: 3, dilation: 5 }, { size: 3, kernelSize: 3, outputPadding: 1 }]], check: (r) => r.output instanceof Float32Array && r.steps === r.outH * r.outW },
    traceCorrelatePatch: { call: api.traceCorrelatePatch, args: () => { const h = int(3, 8); const w = int(3, 8); const k = int(1, 3); return [img(h, w), { size: [h, w], top: int(0, h - k), left: int(0, w - k), kernelSize: k }]; }, bad: [BAD_F32, [...BAD_OPTS, undefined, null, opt({ size: BAD_SIZE, top: [...NOT_WHOLE, 9], left: [...NOT_WHOLE, 9], kernelSize: [...BAD_SIZE, 12, [1, 12]] }), { size: 5, top: 0, left: 0 }, { size: 3, top: 0, left: 0, kernelSize: 4 }]], check: (r) => r.values instanceof Float32Array && r.values.length === r.size[0] * r.size[1] && r.cells.length === r.values.length },
    traceCorrelateRanges: { call: api.traceCorrelateRanges, args: () => [{ ...corrSetting(), cap: 6 }], bad: [[...BAD_OPTS, undefined, null, opt(corrFields), { size: 2 ** 31, kernelSize: 3 }]], check: (r) => r.stride.length === 2 && r.padding.length === 4 },
    traceCorrelateSettle: { call: api.traceCorrelateSettle, args: () => [{ ...corrSetting(), dilation: int(1, 96), padding: [int(0, 96), 0, 0, 0] }], bad: [[...BAD_OPTS, undefined, opt(corrFields), { size: [1, 2 ** 32 - 1], kernelSize: 3 }]], check: (r) => r.stride[0] >= 1 },
    traceTranspose: { call: api.traceTranspose, args: () => withData(transSetting()), bad: [BAD_F32, BAD_F32, [...BAD_OPTS, undefined, opt(transFields), { size: 33, kernelSize: 3 }, { size: 3, kernelSize: 3, stride: 2, outputPadding: 2 }]], check: (r) => r.equivalent && r.output.length === r.outH * r.outW },
    traceTransposeAfter: { call: (a, k, s, t) => api.traceTransposeAfter(a, k, s, t), args: () => [...withData(transSetting()), int(0, 30)], bad: [BAD_F32, BAD_F32, [...BAD_OPTS, undefined, opt(transFields)], NOT_WHOLE], check: (r) => r.canvas instanceof Float32Array },
    traceTransposeRanges: { call: api.traceTransposeRanges, args: () => [{ ...transSetting(), cap: 6 }], bad: [[...BAD_OPTS, undefined, opt(settleFields)]], check: (r) => r.outputPadding.length === 2 },
    traceTransposeSettle: { call: api.traceTransposeSettle, args: () => [{ ...transSetting(), stride: int(1, 96), outputPadding: int(0, 96), padding: [int(0, 96), 0, int(0, 96), 0] }], bad: [[...BAD_OPTS, undefined, opt(settleFields), { size: [1, -1], kernelSize: 3, stride: [2], padding: [0], dilation: [1] }]], check: (r) => r.stride[0] >= 1 },
    traceAdjoint: { call: api.traceAdjoint, args: () => withData(transSetting()), bad: [BAD_F32, BAD_F32, [...BAD_OPTS, undefined, opt(transFields)]], says: (m, pos) => pos !== 0 || /^invalid g = /.test(m), check: (r) => Math.abs(r.lhs - r.rhs) <= 1e-3 * (1 + Math.abs(r.lhs)) },
    traceCheckerboard: { call: api.traceCheckerboard, args: () => { const s = { size: [int(1, 8), int(1, 8)], kernelSize: [int(1, 7), int(1, 7)], stride: [int(1, 3), int(1, 3)] }; return [img(s.size[0], s.size[1]), img(s.kernelSize[0], s.kernelSize[1]), s]; }, bad: [BAD_F32_NO_SIZE, BAD_F32_NO_SIZE, [...BAD_OPTS, undefined, null, { size: 9, kernelSize: 3 }, { size: 4, kernelSize: 8 }, { size: 4, kernelSize: 3, stride: 4 }, { size: 4, kernelSize: 3, stride: 0 }, { size: 4, kernelSize: 3, outputPadding: 1 }]], check: (r) => r.transposed.length === 2 && r.resize.length === 2 && r.transposed[1].h === r.h * r.stride[0] ** 2 && r.resize[1].paths.length === r.transposed[1].output.length && r.resize.every((s) => s.interiorLevels.length <= 1) },
    traceRoundTrip: { call: api.traceRoundTrip, args: () => withData(corrSetting()), bad: [BAD_F32, BAD_F32, [...BAD_OPTS, undefined, opt(corrFields)]], check: (r) => r.up instanceof Float32Array },
    tracePresetImage: { call: api.tracePresetImage, args: () => [{ name: pick(['edges', 'letter', 'dot', 'ones', 'checker', 'random']), size: int(1, 9), seed: int(0, 9) }], bad: [[...BAD_OPTS, undefined, opt({ name: BAD_NAME, size: [...BAD_SIZE, 97], seed: NOT_WHOLE })]], check: (r) => r instanceof Float32Array },
    tracePresetKernel: { call: api.tracePresetKernel, args: () => [{ name: pick(['delta', 'box', 'random', 'ones']), size: int(1, 5), seed: 1 }], bad: [[...BAD_OPTS, undefined, opt({ name: BAD_NAME, size: [...BAD_SIZE, 12, [3, 4]], seed: NOT_WHOLE })]], check: (r) => r.values instanceof Float32Array },
    traceSchedules: { call: api.traceSchedules, args: () => [new Uint8Array(24).fill(1), new Uint8Array(24).fill(2), 5], bad: [[...BAD_U8, new Uint8Array(300)], [...BAD_U8, new Uint8Array(23)], [...NOT_WHOLE, 0, 17]], check: (r) => r.total instanceof Float32Array },
    traceOneByOne: { call: api.traceOneByOne, args: () => [{ channelsIn: int(1, 8), channelsOut: int(1, 8), size: int(1, 16), seed: 1 }], bad: [[...BAD_OPTS, undefined, opt({ channelsIn: [...NOT_WHOLE, 0, 9], channelsOut: [...NOT_WHOLE, 0, 9], size: [...BAD_SIZE, 17], seed: NOT_WHOLE })]], check: (r) => r.conv instanceof Float32Array },
    'traceRoundedSum (cancelling terms)': { call: (t, d) => ({ r: api.traceRoundedSum(t, d), t, d }), args: () => [cancelling(), pick([0, 1, 3, 6])], bad: [[f32Proxy, f32Imitation, Float32Array.of(2 ** 75, NaN)], [-1, 7, 0.5]], check: ({ r, t, d }) => Math.abs(r.total - exactTotal(t, d)) <= Math.abs(r.total) * 2 ** -52 && r.terms.length === t.length },
    traceRoundedSum: { call: api.traceRoundedSum, args: () => [img(3, 3), pick([undefined, 0, 2, 3])], bad: [[undefined, null, 5, 'abcd', [1, 2, 3, 4], new Float64Array(4), new BigInt64Array(4), new Uint8Array(4), arrayLike, f32Proxy, proxy, revoked, freed, huge, Symbol('d'), Float32Array.from([NaN]), new Float32Array(96 * 96 + 1)], [...NOT_WHOLE, 7]], check: (r) => r.terms.length === 9 },
    'Dataset.load': { call: (a, b2) => api.Dataset.load(a, b2), args: () => [idxImages, idxLabels], bad: [[...BAD_U8, idxImages.slice(0, 100), idxLabels, new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2, 3])], [...BAD_U8, idxImages, idx(0x801, [3], new Uint8Array(3)), idx(0x801, [NS], new Uint8Array(NS).fill(12))]], check: (r) => { const n = r.length; r.free(); return n === NS; } },
    'dataset.image': { call: (d, i) => api.Dataset.prototype.image.call(d, i), args: () => [ds, int(0, NS - 1)], bad: [BAD_DS, [...NOT_WHOLE, NS, undefined]], check: (r) => r instanceof Float32Array && r.length === 784 },
    'dataset.label': { call: (d, i) => api.Dataset.prototype.label.call(d, i), args: () => [ds, int(0, NS - 1)], bad: [BAD_DS, [...NOT_WHOLE, NS]], check: (r) => r >= 0 && r <= 9 },
    'dataset.length': { call: (d) => Reflect.get(api.Dataset.prototype, 'length', d), args: () => [ds], bad: [BAD_DS], check: (r) => r === NS },
    'new Trainer': { call: (d, o) => new api.Trainer(d, o), args: () => [ds, { model: pick(['slp', 'mlp', 'cnn']), lr: 0.05, batch: int(1, 8), optimizer: pick(['sgd', 'momentum', 'adam']), init: pick(['zeros', 'seeded']), augment: pick([true, false]), seed: int(0, 9) }], bad: [BAD_DS, [...BAD_OPTS, undefined, null, opt(trainerFields)]], check: (r) => r.status().steps === 0 },
    'trainer.run': { call: (t, d, n) => api.Trainer.prototype.run.call(t, d, n), args: () => [trainers.slp, ds, int(1, 3)], bad: [BAD_TR, [...BAD_DS, ds2], [...NOT_WHOLE, 0, 10001]], check: (r) => r.steps >= 1 && r.samples >= 4 },
    'trainer.gradients': { call: (t, d, k, n) => { const g = api.Trainer.prototype.gradients.call(t, d, k, n); t.apply([oneShard(g)]); return g; }, args: () => [trainers[pick(['slp', 'cnn'])], ds, 0, 1], bad: [BAD_TR, [...BAD_DS, ds2], [...NOT_WHOLE, 1, 5], [...NOT_WHOLE, 0, 65]], check: (r) => r instanceof Float32Array && r[0] >= 1 },
    'trainer.apply': { call: (grads) => { const g = tr2.gradients(ds, 0, 1); try { return tr2.apply(grads === 'valid' ? [g] : typeof grads === 'function' ? grads(g) : grads); } catch (e) { tr2.apply([g]); throw e; } }, args: () => ['valid'], bad: [[5, 'x', {}, [], null, undefined, [new Float32Array(3)], [new Float64Array(7853)], [5], [undefined], arrProxy, proxy, revoked, new Array(65).fill(new Float32Array(7853)), (g) => [g, g], (g) => [g.slice(0, 100)], (g) => [gradsOf(g, NaN)], (g) => [gradsOf(g, 2.5)], (g) => [gradsOf(g, 9)]]], check: (r) => r.steps >= 1 },
    // A diverged step is refused and the weights stay; a zero step then clears the pending one.
    'trainer.apply (diverged)': { call: (f) => { const g = hot.gradients(ds, 0, 1); try { return hot.apply([f(g)]); } catch (e) { hot.apply([zeroed(g)]); throw e; } }, args: null, bad: [DIVERGED], says: (m) => /diverged \(try a smaller learning rate\)/.test(m) },
    'trainer.evaluate': { call: (t, d, n) => api.Trainer.prototype.evaluate.call(t, d, n), args: () => [trainers[pick(['slp', 'cnn'])], pick([ds, ds2]), int(1, 30)], bad: [BAD_TR, BAD_DS, [...NOT_WHOLE, 0]], check: (r) => r.accuracy >= 0 && r.accuracy <= 1 },
    'trainer.explain': { call: (t, d, i, at) => api.Trainer.prototype.explain.call(t, d, i, at), args: () => pick([[trainers[pick(['slp', 'cnn'])], ds, int(0, NS - 1)], [hist, ds, int(0, NS - 1), pick([undefined, null, 0, hist.history().moments.length - 1])]]), bad: [BAD_TR, BAD_DS, [...NOT_WHOLE, NS], NOT_AT], check: (r) => r.dlogits.length === 10 && (r.dense || r.conv) },
    'trainer.hardest': { call: (t, d, n, at) => api.Trainer.prototype.hardest.call(t, d, n, at), args: () => pick([[trainers[pick(['slp', 'cnn'])], pick([ds, ds2]), int(1, 30)], [hist, ds, int(1, 30), pick([undefined, 0])]]), bad: [BAD_TR, BAD_DS, [...NOT_WHOLE, 0, 10001], NOT_AT], check: (r) => r.index >= 0 && r.index < r.count && r.wrong <= r.count && r.loss >= 0 && r.label >= 0 && r.label <= 9 && r.predicted >= 0 && r.predicted <= 9 },
    'Trainer.check': { call: (o, n) => api.Trainer.check(o, n), args: () => [{ model: pick(['slp', 'mlp', 'cnn']), lr: 0.05, batch: int(1, 8), optimizer: pick(['sgd', 'momentum', 'adam']), init: pick(['zeros', 'seeded']) }, int(8, 60000)], bad: [[...BAD_OPTS, undefined, null, opt(trainerFields)], NOT_WHOLE], check: (r) => r === undefined },
    modelFileProblem: { call: api.modelFileProblem, args: () => [pick([modelBytes, new TextEncoder().encode('hello, a text file'), Uint8Array.from([0x50, 0x4b, 3, 4, 0, 0, 0, 0, 1]), modelBytes.slice(0, 100)])], bad: [BAD_U8.filter((v) => v !== undefined && v !== null)], check: (r) => r === undefined || /^this /.test(r) },
    'trainer.weights': { call: (t, nm, at) => api.Trainer.prototype.weights.call(t, nm, at), args: () => pick([[trainers.slp, 'fc1'], [hist, 'fc1', pick([undefined, null, 0, 1])]]), bad: [BAD_TR, BAD_NAME, NOT_AT], check: (r) => r.data.length === 7840 && r.grad.length === 7840 && r.scale > 0 && r.gradScale > 0 },
    'trainer.templateHistory': { call: (t, d, l) => api.Trainer.prototype.templateHistory.call(t, d, l), args: () => [hist, pick([ds, ds2]), pick([0.6, -1, 1, 0])], bad: [[...BAD_TR, trainers.cnn], BAD_DS, [NaN, Infinity, -1.5, 2, 'x', {}, undefined, null, true, [0.5]]], check: (r) => r.least instanceof Float32Array && r.least.length === hist.history().moments.length && (r.first === undefined || r.first < r.least.length) },
    'trainer.history': { call: (t) => api.Trainer.prototype.history.call(t), args: () => [pick([trainers.slp, hist])], bad: [BAD_TR], check: (r) => Array.isArray(r.moments) && (r.moments.length > 0) === !r.off },
    'trainer.rewind': { call: (t, at) => { const r = api.Trainer.prototype.rewind.call(t, at); hist.run(ds, 2); return r; }, args: () => [hist, pick([0, 1])], bad: [[...BAD_TR, trainers.slp], NOT_AT], check: (r) => r.steps <= 1 },
    'trainer.status': { call: (t) => api.Trainer.prototype.status.call(t), args: () => [trainers.cnn], bad: [BAD_TR], check: (r) => r.model === 'cnn' },
    'trainer.save': { call: (t) => api.Trainer.prototype.save.call(t), args: () => [trainers.slp], bad: [BAD_TR], check: (r) => { const mm = api.Model.load(r); const a = mm.arch; mm.free(); return a === 'slp'; } },
    'trainer.free': { own: true, call: (t) => api.Trainer.prototype.free.call(t), args: () => [new api.Trainer(ds, { model: 'slp' })], bad: [BAD_TR.filter((v) => v !== undefined && v !== null && v !== freedTr)], check: () => true },
    'dataset.free': { own: true, call: (d) => api.Dataset.prototype.free.call(d), args: () => [api.Dataset.load(idxImages, idxLabels)], bad: [BAD_DS.filter((v) => v !== undefined && v !== null && v !== freedDs)], check: () => true },
    pytorchCode: { call: api.pytorchCode, args: () => [pick([
      { op: 'conv2d', size: int(3, 16), kernelSize: int(1, 3), stride: [int(1, 2), int(1, 2)], padding: [int(0, 2), int(0, 2), int(0, 2), int(0, 2)], dilation: 1, flip: pick([true, false]), normalized: pick([undefined, true, false]) },
      { op: 'convTranspose2d', size: int(2, 8), kernelSize: 3, stride: 2, padding: [1, 0, int(0, 1), 1], outputPadding: 1 },
      { op: 'checkerboard', size: int(1, 8), kernelSize: int(1, 7), stride: int(1, 3) },
      { op: 'dense', length: 24, channels: 6, shift: int(-23, 23) },
      { op: 'oneByOne', channelsIn: int(1, 8), channelsOut: int(1, 8), size: int(1, 16) },
      { op: 'paramCounts', size: int(1, 1000), channelsIn: 1, channelsOut: 2, kernelSize: 3, hidden: 10 },
      { op: 'train', model: pick(['slp', 'mlp', 'cnn']), optimizer: pick(['sgd', 'momentum', 'adam']), lr: 0.05, batch: int(1, 64) },
    ])], bad: [[...BAD_OPTS, undefined, null, opt({ op: ['conv3d', 5, null, true, {}, ''], size: BAD_SIZE, stride: [...NOT_WHOLE, 0], lr: [NaN, -1, 0, 11, '0.1'], nope: [1] })]], check: (r) => typeof r.text === 'string' && r.lines.length >= 1 && r.text === r.lines.join('\n') },
    'Model.fromSpec': { call: (sp, seed) => api.Model.fromSpec(sp, seed), args: () => [pick(SPEC_DESIGNS), pick([undefined, null, int(0, 9)])], bad: [[...BAD_OPTS.filter((v) => typeof v !== 'string'), undefined, null, ...BAD_DESIGNS], NOT_WHOLE.filter((v) => v !== undefined)], check: (r) => { const s = r.inputShape; const n = r.layers().length; r.free(); return s.length === 3 && n >= 2; } },
    'model.spec': { call: (mm) => api.Model.prototype.spec.call(mm), args: () => [model], bad: [[...BAD_TENSOR, x, freedModel]], check: (r) => r.input.join() === '1,28,28' && r.layers.length === 11 },
    'model.inputShape': { call: (mm) => Reflect.get(api.Model.prototype, 'inputShape', mm), args: () => [model], bad: [[...BAD_TENSOR, x, freedModel]], check: (r) => r.join() === '1,28,28' },
    'model.save': { call: (mm) => api.Model.prototype.save.call(mm), args: () => [model], bad: [[...BAD_TENSOR, x, freedModel]], check: (r) => { const m2 = api.Model.load(r); const a = m2.arch; m2.free(); return a === 'cnn'; } },
    'forward.output': { call: () => model.forward(pixels).output(), args: () => [], bad: [[]], check: (r) => r instanceof Float32Array && r.length === 10 },
    specInfo: { call: api.specInfo, args: () => [pick(SPEC_DESIGNS)], bad: [[...BAD_OPTS.filter((v) => typeof v !== 'string'), undefined, null, ...BAD_DESIGNS.filter((d) => !d.parses)]], check: (r) => Array.isArray(r.layers) && (r.error === null || typeof r.error.message === 'string') },
    'model.inputGradient': { call: (mm, p, o) => api.Model.prototype.inputGradient.call(mm, p, o), args: () => [model, pixels, { target: int(0, 9), of: pick([undefined, 'logit', 'probability', 'loss']), timesInput: pick([undefined, true, false]) }], bad: [[...BAD_TENSOR, x, freedModel], [...BAD_F32, new Float32Array(783), new Float32Array(20000)], [...BAD_OPTS, undefined, null, opt({ target: [...NOT_WHOLE, 10], of: ['logits', 5, {}], timesInput: BAD_FLAG })]], check: (r) => r instanceof Float32Array && r.length === 784 },
    cosines: { call: (a, b) => api.cosines(a, b), args: () => { const n = int(2, 20); return [Float32Array.from({ length: n }, () => rnd()), Float32Array.from({ length: n * int(0, 5) }, () => rnd())]; }, bad: [[...ANY_LEN_F32, new Float32Array(0)], [...ANY_LEN_F32, new Float32Array(23)]], check: (r) => r instanceof Float32Array && r.every((v) => v >= -1.0000001 && v <= 1.0000001) },
    argmax: { call: (v) => api.argmax(v), args: () => [Float32Array.from({ length: int(1, 30) }, () => rnd())], bad: [[...ANY_LEN_F32, new Float32Array(0), Float32Array.of(NaN, NaN)]], check: (r) => Number.isInteger(r) && r >= 0 },
    colourScale: { call: (v, q) => api.colourScale(v, q), args: () => [Float32Array.from({ length: int(0, 300) }, () => rnd() - 0.5), pick([undefined, 1, 0.5, 0.99, 1e-9])], bad: [ANY_LEN_F32, [0, -0.5, 1.5, NaN, Infinity, 'x', {}, [1]]], check: (r) => r > 0 && Number.isFinite(r) },
    'model.adjointStep': { call: (mm, p, o) => api.Model.prototype.adjointStep.call(mm, p, o), args: () => [model, pixels, { layer: pick(['conv1', 'conv2']), target: int(0, 9), ...(rnd() < 0.5 ? { cell: [int(0, 0), int(0, 13), int(0, 13)] } : {}) }], bad: [[...BAD_TENSOR, x, freedModel], [...BAD_F32, new Float32Array(783)], [...BAD_OPTS, undefined, null, opt({ layer: [...BAD_NAME, 'fc1', 'relu1'], target: [...NOT_WHOLE, 10], cell: [5, 'x', [], [0, 0], [0, 0, 0, 0], [NaN, 0, 0], [0, 0, 28], [8, 0, 0], [0, -1, 0]] })]], check: (r) => r.dx.length === r.dxModel.length && r.maxDiff <= 1e-4 * r.dxScale && Math.abs(r.byStamps - r.byModel) <= 1e-4 * r.dxScale },
    'model.gradCam': { call: (mm, p, o) => api.Model.prototype.gradCam.call(mm, p, o), args: () => [model, pixels, { layer: pick([1, 2, 3, 4, 5, 6]), target: int(0, 9) }], bad: [[...BAD_TENSOR, x, freedModel], [...BAD_F32, new Float32Array(783)], [...BAD_OPTS, undefined, null, opt({ layer: [...NOT_WHOLE, 0, 7, 11, 12], target: [...NOT_WHOLE, 10] })]], check: (r) => r.map instanceof Float32Array && r.map.length === r.h * r.w && r.upsampled.length === 784 },
    'model.adversarial': { call: (mm, p, o) => api.Model.prototype.adversarial.call(mm, p, o), args: () => [model, pixels, { epsilon: pick([0, 0.05, 0.3]), label: int(0, 9), steps: pick([undefined, 1, 3]), target: pick([undefined, null, int(0, 9)]) }], bad: [[...BAD_TENSOR, x, freedModel], [...BAD_F32, new Float32Array(783)], [...BAD_OPTS, undefined, null, opt({ epsilon: [NaN, -0.1, 1.5, Infinity, '0.1', {}], label: [...NOT_WHOLE, 10], steps: [...NOT_WHOLE, 0, 1001, 1e6], target: [...NOT_WHOLE.filter((v) => v != null), 10] })]], check: (r) => r.pixels.length === 784 && r.probabilities.length === 10 && r.top >= 0 },
    'model.classImage': { call: (mm, t, o, st) => api.Model.prototype.classImage.call(mm, t, o, st), args: () => [model, int(0, 9), pick([undefined, null, { steps: int(1, 5), l2: 0.1, blur: 0.5, seed: int(0, 5) }]), pick([undefined, null, pixels])], bad: [[...BAD_TENSOR, x, freedModel], [...NOT_WHOLE, 10], [...BAD_OPTS, opt({ steps: [...NOT_WHOLE, 0, 1001, 1e7], l2: [NaN, -1, 2, 'x'], blur: [NaN, -1, 2, {}], seed: NOT_WHOLE })], [new Float32Array(783), new Float32Array(20000), 5, 'x', {}, [1, 2], Float32Array.from({ length: 784 }, (_, i) => (i === 3 ? NaN : 0))]], check: (r) => r.pixels.length === 784 && r.pixels.every((v) => v >= 0 && v <= 1) },
    'model.occlusion': { call: (mm, p, o) => api.Model.prototype.occlusion.call(mm, p, o), args: () => [model, pixels, { target: int(0, 9), patch: pick([undefined, 7, 14]), stride: pick([undefined, 7]) }], bad: [[...BAD_TENSOR, x, freedModel], [...BAD_F32, new Float32Array(783)], [...BAD_OPTS, undefined, null, opt({ target: [...NOT_WHOLE, 10], patch: [...NOT_WHOLE, 0, 29], stride: [...NOT_WHOLE, 0, 15], value: [NaN, -1, 2, 'x'] })]], check: (r) => r.map.length === r.h * r.w && Number.isFinite(r.base) },
    specRanges: { call: () => api.specRanges(), args: () => [], bad: [[]], check: (r) => r.kinds.length === 15 },
    prepareInput: { call: api.prepareInput, args: () => [rgba, 40, 40, pick([[1, 28, 28], [3, 16, 12], [1, 8, 64]]), pick([undefined, null, true, false])], bad: [[...BAD_U8, new Uint8Array(15)], [...BAD_SIZE, 8193], [...BAD_SIZE, 8193], [undefined, null, 5, [1, 28], [2, 28, 28], [1, 0, 28], [1, 28, 9000], ['1', 28, 28], proxy, revoked], [5, 'yes', {}, Symbol('b')]], check: (r) => r === null || r instanceof Float32Array },
    traceParamCounts: { call: api.traceParamCounts, args: () => [{ size: int(1, 1000), channelsIn: 1, channelsOut: 2, kernelSize: 3, hidden: 10 }], bad: [[...BAD_OPTS, undefined, opt({ size: BAD_SIZE, channelsIn: [...NOT_WHOLE, 0], channelsOut: [...NOT_WHOLE, 0], kernelSize: [...NOT_WHOLE, 0], hidden: [...NOT_WHOLE, 0] })]], check: (r) => r.conv > 0 },
  };
  const names = Object.keys(SPECS);
  // Frees are left out: a random number may be a live handle of the valid inputs above.
  // trainerGradients / trainerApply too: a random number may be a live trainer, left with a
  // step half done for the specs to trip over.
  const rawFns = Object.entries(raw).filter(([k, v]) => typeof v === 'function' && k !== 'default' && k !== 'initSync' && !/^[A-Z]/.test(k) && !/Free$/.test(k) && k !== 'trainerGradients' && k !== 'trainerApply');

  const stats = { calls: 0, valid: 0, invalid: 0, raw: 0, traps: 0, hangs: 0, silent: 0, badErrors: 0, wrongResults: 0, maxMs: 0, examples: [] };
  const perKind = {};
  const note = (kind, what, detail) => {
    perKind[kind] = (perKind[kind] ?? 0) + 1;
    if (perKind[kind] <= 6) stats.examples.push(`${kind}: ${what}: ${String(detail).slice(0, 200)}`);
  };
  const isTrap = (e) => e instanceof WebAssembly.RuntimeError || /unreachable|out of bounds|recursive use|null pointer|RuntimeError/i.test(String(e && e.message));
  const cleanError = (e) => e instanceof Error && !isTrap(e) && typeof e.message === 'string' && e.message.length > 0 && e.message.length <= 500
    && /^(invalid |shape error|weights error|data error|Model has|Forward has|Dataset has)/.test(e.message);
  const free = (r) => { if (r instanceof api.Tensor || r instanceof api.Model || r instanceof api.Dataset || r instanceof api.Trainer) r.free(); };

  function timed(f) {
    const t0 = performance.now();
    let res; let err = null; let threw = false;
    try { res = f(); } catch (e) { err = e; threw = true; }
    const ms = performance.now() - t0;
    stats.maxMs = Math.max(stats.maxMs, ms);
    return { res, err, threw, ms };
  }

  function describe(v) {
    try { return typeof v === 'string' ? `string(${v.length})` : Array.isArray(v) ? `array(${v.length})` : typeof v === 'object' && v ? (v.constructor?.name ?? 'object') : String(v); } catch { return '?'; }
  }

  function one() {
    stats.calls++;
    const r = rnd();
    if (r < 0.15) {
      // raw exports, hostile anywhere: never a trap or a hang
      stats.raw++;
      const [name, fn] = pick(rawFns);
      const args = Array.from({ length: fn.length || 3 }, () => (rnd() < 0.3 ? int(0, 40) : pick(HOSTILE)));
      const { res, err, threw, ms } = timed(() => fn(...args));
      if (threw && isTrap(err)) { stats.traps++; note('trap', `raw ${name}`, err); }
      if (ms > 100) { stats.hangs++; note('hang', `raw ${name}`, `${ms} ms`); }
      if (!threw && typeof res === 'number' && /^(tensorNew|matmul|conv|relu|softmax|maxPool)/.test(name)) {
        try { raw.tensorFree(res); } catch { /* not a tensor */ }
      }
      if (!threw && typeof res === 'number' && name === 'modelLoad') raw.modelFree(res);
      if (!threw && typeof res === 'number' && name === 'datasetLoad') raw.datasetFree(res);
      if (!threw && typeof res === 'number' && name === 'trainerNew') raw.trainerFree(res);
      return;
    }
    const name = pick(names);
    const spec = SPECS[name];
    const valid = spec.args && (r < 0.3 || spec.bad.every((b) => b.length === 0));
    let args; let what;
    let pos = -1; let badLeaf; // the bad argument's position, and the bad value itself (a field's, for options)
    const made = spec.args ? spec.args() : [];
    // Specs whose valid arguments own a tensor or a model free them after the call.
    const release = () => { if (spec.own) for (const v of made) { try { free(v); } catch { /* freed by the call */ } } };
    if (valid) {
      args = made.slice();
      what = `${name}(valid)`;
    } else {
      args = made.slice();
      if (!spec.args) args = spec.bad.map((b) => pick(b)); // every position from its list
      pos = int(0, spec.bad.length - 1);
      let bad = pick(spec.bad[pos]);
      badLeaf = bad;
      if (markers.has(bad)) {
        const fields = Object.keys(bad.fields);
        const f = pick(fields);
        const base = (args[pos] && typeof args[pos] === 'object' && !Array.isArray(args[pos])) ? args[pos] : {};
        badLeaf = pick(bad.fields[f]);
        bad = { ...base, [f]: badLeaf };
        what = `${name}(${pos}: { ${f}: ${describe(bad[f])} })`;
      } else {
        what = `${name}(${pos}: ${describe(bad)})`;
      }
      args[pos] = bad;
    }
    const { res, err, threw, ms } = timed(() => spec.call(...args));
    release();
    if (ms > 100) { stats.hangs++; note('hang', what, `${ms.toFixed(0)} ms`); }
    if (valid) {
      stats.valid++;
      if (threw) { stats.wrongResults++; note('valid call threw', what, err && err.message); return; }
      let good = false;
      try { good = spec.check(res); } catch (e) { note('check threw', what, e); }
      if (!good) { stats.wrongResults++; note('wrong result', what, JSON.stringify(res)?.slice(0, 100)); }
      free(res);
      return;
    }
    stats.invalid++;
    if (!threw) {
      // Some "bad" fields are valid by chance for that setting (e.g. a padding the kernel
      // accepts); only values that are invalid in every setting are in the lists, so this is
      // a silent accept.
      stats.silent++;
      note('silent accept', what, JSON.stringify(res)?.slice(0, 100));
      free(res);
      return;
    }
    if (isTrap(err)) { stats.traps++; note('trap', what, err); return; }
    if (!cleanError(err)) { stats.badErrors++; note('bad error', what, err instanceof Error ? err.message : `non-Error ${String(err)}`); return; }
    // The message says what is wrong: a lone surrogate by name, a Float32Array imitation as
    // such, and what each spec asks of its own refusals.
    const unclear = (lone.includes(badLeaf) && !/lone surrogate/.test(err.message))
      || ((badLeaf === f32Proxy || badLeaf === f32Imitation) && !/a Proxy or imitation of a Float32Array|must be a (Tensor|Dataset|Trainer|Model)/.test(err.message))
      || /unexpected end of hex escape|lone leading surrogate/.test(err.message)
      || (spec.says && !spec.says(err.message, pos, args[pos]));
    if (unclear) { stats.badErrors++; note('unclear error', what, err.message); }
  }

  // A fixed computation to compare at the end, and the instance's size after a warm-up.
  const probe = () => { const y = api.conv2d(x, w, b, { padding: 1 }); const a = y.toArray(); y.free(); return a; };
  const before = probe();
  // Every valid call a few times first (outside the counts), so that the allocator has seen each
  // size of request before the warm-up: the largest ones (an mlp trainer with Adam's state) come
  // rarely in the random sequence, and a late first one would raise the high-water mark once.
  for (let k = 0; k < 4; k++) {
    for (const nm of names) {
      const sp = SPECS[nm];
      if (!sp.args) continue;
      const made = sp.args();
      try { free(sp.call(...made)); } catch { /* counted nowhere: priming only */ }
      if (sp.own) for (const v of made) { try { free(v); } catch { /* freed by the call */ } }
    }
    // The checkerboard's largest setting (72×72 after two stride-3 stages) is rare at random.
    try { api.traceCheckerboard(new Float32Array(64).fill(1), new Float32Array(49).fill(1), { size: 8, kernelSize: 7, stride: 3 }); } catch { /* priming only */ }
    for (const model of ['slp', 'mlp', 'cnn']) {
      for (const optimizer of ['sgd', 'momentum', 'adam']) {
        const t = new api.Trainer(ds, { model, optimizer, batch: 8 });
        t.run(ds, 2);
        t.explain(ds, 0);
        t.save();
        t.free();
      }
    }
  }
  const baseline = api.liveObjects();
  // The warm-up reaches the allocator's high-water mark (a seeded, so fixed, sequence of calls).
  const warm = Math.min(calls, Math.max(6000, Math.floor(calls / 20)));
  for (let i = 0; i < warm; i++) one();
  const afterWarm = api.liveObjects();
  const trajectory = [];
  const tenth = Math.max(1, Math.floor((calls - warm) / 10));
  for (let i = warm; i < calls; i++) {
    one();
    if ((i - warm + 1) % tenth === 0) trajectory.push(api.liveObjects().memoryBytes);
  }
  const after = api.liveObjects();
  const again = probe();
  const same = before.length === again.length && before.every((v, i) => Object.is(v, again[i]));
  return {
    flavour, seed, ...stats,
    brokenInstance: same ? 0 : 1,
    tensorsBefore: baseline.tensors, tensorsAfter: after.tensors,
    modelsBefore: baseline.models, modelsAfter: after.models,
    datasetsBefore: baseline.datasets, datasetsAfter: after.datasets,
    trainersBefore: baseline.trainers, trainersAfter: after.trainers,
    memoryAfterWarmup: afterWarm.memoryBytes, memoryAtEnd: after.memoryBytes, memoryTrajectory: trajectory,
    hugeBuffers: [huge ? huge.length * 4 : 0, hugeU8 ? hugeU8.length : 0],
  };
}

/** Runs the fuzzer in a fresh page (one wasm instance) of `flavour`; returns its report. */
export async function runFuzz(browser, baseUrl, { flavour, calls, seed }) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  // A page of the origin without the playground, so the instance is the fuzzer's alone.
  await page.goto(`${baseUrl}/fuzz-blank`);
  const report = await page.evaluate(fuzzInPage, { flavour, calls, seed });
  report.pageErrors = errors;
  await context.close();
  return report;
}

/** The conditions of done: 0 traps, silent accepts, unclear errors, broken instances, no growth;
 *  with `{ hangs: true }` also no call over 100 ms (`cargo xtask fuzz`, not the timing-free test). */
export function failures(r, { hangs = false } = {}) {
  const f = [];
  const keys = ['traps', 'silent', 'badErrors', 'wrongResults', 'brokenInstance', ...(hangs ? ['hangs'] : [])];
  for (const k of keys) if (r[k] !== 0) f.push(`${k} = ${r[k]}`);
  if (r.tensorsAfter !== r.tensorsBefore) f.push(`live tensors ${r.tensorsBefore} → ${r.tensorsAfter}`);
  if (r.modelsAfter !== r.modelsBefore) f.push(`live models ${r.modelsBefore} → ${r.modelsAfter}`);
  if (r.datasetsAfter !== r.datasetsBefore) f.push(`live datasets ${r.datasetsBefore} → ${r.datasetsAfter}`);
  if (r.trainersAfter !== r.trainersBefore) f.push(`live trainers ${r.trainersBefore} → ${r.trainersAfter}`);
  if (r.memoryAtEnd !== r.memoryAfterWarmup) f.push(`wasm memory grew ${r.memoryAfterWarmup} → ${r.memoryAtEnd} bytes`);
  if (r.pageErrors.length) f.push(`page errors: ${r.pageErrors.join('; ')}`);
  return f;
}
