// Issue 4 item 9: one-digit forward of the shipped `cnn`, ours beside the same network with the
// same weights in TF.js's wasm backend. Both are timed from JS as the page would call them:
//   ours:  model.forward(pixels) → probabilities(), free()   (the wasm calls the page makes)
//   ours, fused: model.predict(pixels)   (one call: the fastest path, probabilities only)
//   TF.js: tf.tidy(() => net(tf.tensor4d(pixels))) → dataSync()
// in batches of `batch` calls (the browser clock is coarse: 5 µs or worse); the figure is the
// median over batches of the mean per call, 10,000 calls in all, interleaved ours / TF.js.
// Then a per-layer table of our forward, each layer timed inside wasm (`benchInference`: per
// repetition the mean of 20 runs of the layer in a row; the median over the repetitions).

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};
const pause = () => new Promise((r) => setTimeout(r, 0));

/** OIHW → HWIO (TF's conv filter layout). */
function oihwToHwio(data, [o, i, h, w]) {
  const out = new Float32Array(data.length);
  for (let a = 0; a < o; a++) for (let b = 0; b < i; b++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    out[((y * w + x) * i + b) * o + a] = data[((a * i + b) * h + y) * w + x];
  }
  return out;
}

/**
 * A linear layer's weight [out, in] → TF's [in, out]. When the layer follows a flatten of a
 * [c, h, w] activation, TF flattens NHWC (h, w, c order) where we flatten NCHW (c, h, w): the
 * rows are permuted so both networks compute the same function.
 */
function linearToTf(data, [out, inp], chw) {
  const w = new Float32Array(data.length);
  for (let o = 0; o < out; o++) for (let i = 0; i < inp; i++) {
    let row = i;
    if (chw) {
      const [c, h, wd] = chw;
      const ci = Math.floor(i / (h * wd));
      const rest = i % (h * wd);
      row = rest * c + ci; // (y·W + x)·C + c
    }
    w[row * out + o] = data[o * inp + i];
  }
  return w;
}

/** Builds the TF.js network from our model's layer list and weights. */
function tfNetwork(model) {
  const layers = model.layers();
  const ops = [];
  const keep = [];
  let prevShape = layers[0].shape; // [1, 28, 28]
  let flattenedFrom = null;
  for (const l of layers.slice(1)) {
    if (l.kind === 'conv2d') {
      const wt = model.weights(l.name);
      const [, , kh] = wt.shape;
      if (l.shape[1] !== prevShape[1] || kh % 2 !== 1) throw new Error(`conv ${l.name}: only 'same' convs are ported`);
      const filter = tf.tensor4d(oihwToHwio(wt.data, wt.shape), [wt.shape[2], wt.shape[3], wt.shape[1], wt.shape[0]]);
      const bias = tf.tensor1d(wt.bias);
      keep.push(filter, bias);
      ops.push({ kind: 'conv', filter, bias, activation: 'linear' });
    } else if (l.kind === 'relu') {
      const last = ops[ops.length - 1];
      if (last && (last.kind === 'conv' || last.kind === 'dense') && last.activation === 'linear') last.activation = 'relu';
      else ops.push({ kind: 'relu' });
    } else if (l.kind === 'maxpool2d') {
      const k = prevShape[1] / l.shape[1];
      ops.push({ kind: 'pool', k });
    } else if (l.kind === 'flatten') {
      flattenedFrom = prevShape.length === 3 ? prevShape : null;
      ops.push({ kind: 'flatten' });
    } else if (l.kind === 'linear') {
      const wt = model.weights(l.name);
      const w = tf.tensor2d(linearToTf(wt.data, wt.shape, flattenedFrom), [wt.shape[1], wt.shape[0]]);
      const bias = tf.tensor1d(wt.bias);
      keep.push(w, bias);
      flattenedFrom = null;
      ops.push({ kind: 'dense', w, bias, activation: 'linear' });
    } else if (l.kind === 'softmax') {
      ops.push({ kind: 'softmax' });
    } else {
      throw new Error(`layer kind ${l.kind} is not ported to TF.js`);
    }
    prevShape = l.shape;
  }
  const [, h, w] = layers[0].shape;
  const run = (pixels) => tf.tidy(() => {
    let y = tf.tensor4d(pixels, [1, h, w, 1]);
    for (const op of ops) {
      if (op.kind === 'conv') y = tf.fused.conv2d({ x: y, filter: op.filter, strides: 1, pad: 'same', bias: op.bias, activation: op.activation });
      else if (op.kind === 'relu') y = tf.relu(y);
      else if (op.kind === 'pool') y = tf.maxPool(y, op.k, op.k, 'valid');
      else if (op.kind === 'flatten') y = tf.reshape(y, [1, -1]);
      else if (op.kind === 'dense') y = tf.fused.matMul({ a: y, b: op.w, bias: op.bias, activation: op.activation });
      else if (op.kind === 'softmax') y = tf.softmax(y);
    }
    return y;
  });
  run.dispose = () => keep.forEach((t) => t.dispose());
  return run;
}

function timeCalls(f, calls, batch) {
  for (let i = 0; i < Math.min(500, calls / 10); i++) f(); // warm-up
  const per = [];
  for (let done = 0; done < calls; done += batch) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) f();
    per.push((performance.now() - t0) / batch);
  }
  return per;
}

window.benchModel = async (ours, log, { name = 'cnn', calls = 10000, batch = 50 } = {}) => {
  if (!ours.Model) return { pending: 'the Model JS API is not in this build yet' };
  const res = await fetch(`/data/models/${name}.safetensors`);
  if (!res.ok) return { pending: `data/models/${name}.safetensors is not shipped yet` };
  const model = ours.Model.load(new Uint8Array(await res.arrayBuffer()));
  const net = tfNetwork(model);
  // A deterministic stroke-like digit: a ring, so every layer has something to do.
  const pixels = new Float32Array(784);
  for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) {
    const r = Math.hypot(y - 14, (x - 14) * 1.4);
    pixels[y * 28 + x] = Math.max(0, 1 - Math.abs(r - 7) / 2);
  }
  const f0 = model.forward(pixels);
  const oursProbs = f0.probabilities();
  f0.free();
  const tfProbs = net(pixels);
  const tfData = tfProbs.dataSync();
  tfProbs.dispose();
  let maxAbsDiff = 0;
  for (let i = 0; i < 10; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(oursProbs[i] - tfData[i]));

  const oursCall = () => { const f = model.forward(pixels); f.probabilities(); f.free(); };
  const fusedCall = model.predict ? () => model.predict(pixels) : null;
  const tfCall = () => { const y = net(pixels); y.dataSync(); y.dispose(); };
  let predictDiff = null;
  if (fusedCall) {
    const p = model.predict(pixels);
    predictDiff = 0;
    for (let i = 0; i < 10; i++) predictDiff = Math.max(predictDiff, Math.abs(p[i] - oursProbs[i]));
  }
  // Interleave halves so all see the same machine load.
  const a1 = timeCalls(oursCall, calls / 2, batch); await pause();
  const c1 = fusedCall ? timeCalls(fusedCall, calls / 2, batch) : []; await pause();
  const b1 = timeCalls(tfCall, calls / 2, batch); await pause();
  const a2 = timeCalls(oursCall, calls / 2, batch); await pause();
  const c2 = fusedCall ? timeCalls(fusedCall, calls / 2, batch) : []; await pause();
  const b2 = timeCalls(tfCall, calls / 2, batch);
  net.dispose();
  // Per layer, inside wasm: reps × (layers + 1) ms, each row the layers then the whole forward,
  // each the mean of `inner` runs in a row (a layer of 1 µs is below the clock's 5 µs).
  let layers = null;
  if (ours.benchInference) {
    const bytes = new Uint8Array(await (await fetch(`/data/models/${name}.safetensors`)).arrayBuffer());
    const names = model.layers().slice(1).map((l) => l.name);
    const reps = Math.max(50, Math.round(calls / 100));
    const inner = 20;
    const t = ours.benchInference(bytes, pixels, reps, inner);
    const n = names.length;
    const col = (j) => Array.from({ length: reps }, (_, i) => t[i * (n + 1) + j]);
    layers = {
      reps,
      inner,
      rows: names.map((layer, j) => ({ layer, us: median(col(j)) * 1000 })),
      forwardUs: median(col(n)) * 1000,
    };
  }
  const out = {
    name,
    calls,
    batch,
    params: model.numParams,
    oursUs: median([...a1, ...a2]) * 1000,
    oursFusedUs: fusedCall ? median([...c1, ...c2]) * 1000 : null,
    tfjsUs: median([...b1, ...b2]) * 1000,
    maxAbsDiff,
    predictDiff,
    layers,
  };
  log(`${name} forward: ours ${out.oursUs.toFixed(1)} µs, TF.js ${out.tfjsUs.toFixed(1)} µs (max |Δp| ${maxAbsDiff.toExponential(1)})`);
  model.free?.();
  return out;
};
