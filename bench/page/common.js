// What the benchmark's pages share: the rows (shapes), their flop counts, the seeded inputs, and
// the TF.js runner (timed in JS around the calls a user makes). The one-core page (bench.js) and
// the threads page (threads.js) both measure these rows, and node-bench.mjs in node; the TF.js
// training network (`tfModel`) too.

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};

/** Same generator as the Rust side (xorshift32), so inputs are comparable and deterministic. */
export function noise(len, seed) {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(len);
  for (let i = 0; i < len; i++) {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    out[i] = (s >>> 8) / (1 << 23) - 1;
  }
  return out;
}

export const ROWS = [
  ...[64, 128, 256, 512, 1024].map((s) => ({ kind: 'gemm', label: `GEMM ${s}³`, m: s, k: s, n: s })),
  { kind: 'gemm', label: 'GEMM 1×784×128', m: 1, k: 784, n: 128 },
  { kind: 'gemm', label: 'GEMM 64×784×128', m: 64, k: 784, n: 128 },
  { kind: 'conv', label: 'conv2d 1×28×28→8 5×5 p2', c: 1, h: 28, w: 28, co: 8, k: 5, s: 1, p: 2 },
  { kind: 'conv', label: 'conv2d 8×14×14→16 5×5 p2', c: 8, h: 14, w: 14, co: 16, k: 5, s: 1, p: 2 },
  { kind: 'conv', label: 'conv2d 32×64×64→64 3×3 p1', c: 32, h: 64, w: 64, co: 64, k: 3, s: 1, p: 1 },
  { kind: 'convT', label: 'conv_transpose2d 16×14×14→8 4×4 s2 p1', c: 16, h: 14, w: 14, co: 8, k: 4, s: 2, p: 1 },
];

export function flops(r) {
  if (r.kind === 'gemm') return 2 * r.m * r.k * r.n;
  const oh = r.kind === 'conv' ? (r.h + 2 * r.p - r.k) / r.s + 1 : (r.h - 1) * r.s - 2 * r.p + r.k;
  const ow = r.kind === 'conv' ? (r.w + 2 * r.p - r.k) / r.s + 1 : (r.w - 1) * r.s - 2 * r.p + r.k;
  r.oh = oh; r.ow = ow;
  // conv: every output pixel of every output channel is a dot product of c·k·k;
  // transposed: every input pixel of every input channel scatters into co·k·k outputs.
  return r.kind === 'conv' ? 2 * r.co * oh * ow * r.c * r.k * r.k : 2 * r.c * r.h * r.w * r.co * r.k * r.k;
}

/** A TF.js runner with the same contract, timed in JS around the user-facing calls. */
export function tfRunner(r) {
  let op;
  const keep = [];
  if (r.kind === 'gemm') {
    const a = tf.tensor2d(noise(r.m * r.k, 1), [r.m, r.k]);
    const b = tf.tensor2d(noise(r.k * r.n, 2), [r.k, r.n]);
    keep.push(a, b);
    op = () => tf.matMul(a, b);
  } else if (r.kind === 'conv') {
    // NHWC input, HWIO filter; 'same' is pad (k-1)/2 for these stride-1 odd kernels.
    const x = tf.tensor4d(noise(r.c * r.h * r.w, 3), [1, r.h, r.w, r.c]);
    const filter = tf.tensor4d(noise(r.co * r.c * r.k * r.k, 4), [r.k, r.k, r.c, r.co]);
    const bias = tf.tensor1d(noise(r.co, 5));
    keep.push(x, filter, bias);
    op = () => tf.fused.conv2d({ x, filter, strides: [r.s, r.s], pad: 'same', bias });
  } else {
    // filter [kh, kw, outC, inC]; 'same' with stride 2 and a 4×4 kernel is padding 1 per side.
    const x = tf.tensor4d(noise(r.c * r.h * r.w, 6), [1, r.h, r.w, r.c]);
    const filter = tf.tensor4d(noise(r.c * r.co * r.k * r.k, 7), [r.k, r.k, r.co, r.c]);
    keep.push(x, filter);
    op = () => tf.conv2dTranspose(x, filter, [1, r.oh, r.ow, r.co], [r.s, r.s], 'same');
  }
  const run = (wu, reps, inner) => {
    for (let i = 0; i < wu; i++) { const y = op(); y.dataSync(); y.dispose(); }
    const out = [];
    for (let rep = 0; rep < reps; rep++) {
      const t0 = performance.now();
      for (let i = 0; i < inner; i++) {
        const y = op();
        if (i === inner - 1) y.dataSync();
        y.dispose();
      }
      out.push((performance.now() - t0) / inner);
    }
    return out;
  };
  run.dispose = () => keep.forEach((t) => t.dispose());
  run.check = () => { const y = op(); const s = y.shape; y.dispose(); return s; };
  return run;
}

/**
 * Measures one runner: a calibration call, then `passes` × (a warm-up batch + enough batches for
 * about `budgetMs`), each batch long enough (≥ `batchMs`) for the clock's resolution.
 */
export async function plan(run, { budgetMs, batchMs, minReps, maxReps }) {
  const t = median(await run(1, 3, 1));
  if (!Number.isFinite(t)) return null;
  const inner = Math.max(1, Math.ceil(batchMs / Math.max(t, 1e-4)));
  const reps = Math.min(maxReps, Math.max(minReps, Math.round(budgetMs / (t * inner))));
  return { inner, reps };
}

/** The same network in TF.js (NHWC), SGD, softmax cross-entropy: one step of `batch` samples. */
export function tfModel(tf, name, batch) {
  const v = (shape, fanIn) => tf.variable(tf.randomUniform(shape, -Math.sqrt(6 / fanIn), Math.sqrt(6 / fanIn)));
  const z = (n) => tf.variable(tf.zeros([n]));
  const dense = (i, o) => [v([i, o], i), z(o)];
  let params;
  let forward;
  if (name === 'slp') {
    params = dense(784, 10);
    forward = (x) => tf.add(tf.matMul(x, params[0]), params[1]);
  } else if (name === 'mlp') {
    params = [...dense(784, 128), ...dense(128, 10)];
    forward = (x) => tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(x, params[0]), params[1])), params[2]), params[3]);
  } else {
    params = [v([5, 5, 1, 8], 25), z(8), v([5, 5, 8, 16], 200), z(16), ...dense(784, 64), ...dense(64, 10)];
    forward = (x) => {
      let h = tf.reshape(x, [-1, 28, 28, 1]);
      h = tf.maxPool(tf.relu(tf.add(tf.conv2d(h, params[0], 1, 'same'), params[1])), 2, 2, 'valid');
      h = tf.maxPool(tf.relu(tf.add(tf.conv2d(h, params[2], 1, 'same'), params[3])), 2, 2, 'valid');
      h = tf.reshape(h, [-1, 784]);
      h = tf.relu(tf.add(tf.matMul(h, params[4]), params[5]));
      return tf.add(tf.matMul(h, params[6]), params[7]);
    };
  }
  const opt = tf.train.sgd(0.05);
  const xs = tf.randomUniform([batch, 784]);
  const ys = tf.oneHot(tf.randomUniform([batch], 0, 10, 'int32'), 10);
  const step = () => tf.tidy(() => {
    const loss = opt.minimize(() => tf.losses.softmaxCrossEntropy(ys, forward(xs)), true, params);
    return loss.dataSync()[0];
  });
  return { step, dispose: () => { tf.dispose([...params, xs, ys]); opt.dispose(); } };
}

/**
 * Our `Trainer` of `settings` on `data` (from the API module `api`), run in chunks of about
 * 20 ms (few returns to JS, and a page stays responsive between them): `{ samples, chunk, free }`.
 */
export function chunkedTrainer(api, data, settings) {
  const t = new api.Trainer(data, settings);
  let steps = 1;
  for (;;) {
    const t0 = performance.now();
    t.run(data, steps);
    if (performance.now() - t0 > 20 || steps >= 1024) break;
    steps *= 2;
  }
  return { samples: () => t.status().samples, chunk: () => t.run(data, steps), free: () => t.free() };
}
