// The threads page (issue 22 item 4). `bench/run.mjs` opens it twice, `?threads=1` and
// `?threads=2`, each its own renderer process, and alternates its calls between the two, so the
// 1- and 2-thread figures come from the same minutes. On each page, with n threads:
//
// - ours: the threaded build (www/pkg/threads, served as /pkg-threads/: nightly, wasm atomics,
//   shared memory) after `setThreads(n)`, through the public JS API as a user calls it
//   (`matmul`, `conv2d` with bias, `convTranspose2d` with bias: the API has no prepared weights,
//   so they are packed on every call), timed in JS around the calls, call overhead included; each
//   batch ends by reading its last output (`toArray()`), as TF.js's ends with `dataSync()`.
// - TF.js: @tensorflow/tfjs-backend-wasm's threaded SIMD binary
//   (tfjs-backend-wasm-threaded-simd.wasm, chosen because the page is cross-origin isolated) after
//   `tf.wasm.setThreadsCount(n)`, timed by the one-core page's runner (common.js).
// - training: our `Trainer` (the threaded build: a step splits its batch into a shard per
//   thread) on this page's thread, and the same network, batch and optimiser in TF.js on this
//   page's wasm backend (common.js's `tfModel`), where that backend has the kernels.
//
// The page answers `window.threads*` calls and keeps the row or model being measured between them.

import { noise, ROWS, flops, tfRunner, plan, tfModel, chunkedTrainer } from './common.js';

const N = Number(new URLSearchParams(location.search).get('threads') ?? '1');
const PKG = '/pkg-threads/';
let api = null;
let dataset = null;

const log = (s) => {
  console.log(s);
  document.getElementById('log').textContent += `${s}\n`;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Our runner on one row: `(warmup, reps, inner) → ms per call of each batch`, like tfRunner. */
function oursRunner(r) {
  const keep = [];
  const t = (data, shape) => { const x = new api.Tensor(data, shape); keep.push(x); return x; };
  let op;
  if (r.kind === 'gemm') {
    const a = t(noise(r.m * r.k, 1), [r.m, r.k]);
    const b = t(noise(r.k * r.n, 2), [r.k, r.n]);
    op = () => api.matmul(a, b);
  } else if (r.kind === 'conv') {
    const x = t(noise(r.c * r.h * r.w, 3), [1, r.c, r.h, r.w]);
    const w = t(noise(r.co * r.c * r.k * r.k, 4), [r.co, r.c, r.k, r.k]);
    const bias = t(noise(r.co, 5), [r.co]);
    op = () => api.conv2d(x, w, bias, { stride: r.s, padding: r.p });
  } else {
    const x = t(noise(r.c * r.h * r.w, 6), [1, r.c, r.h, r.w]);
    const w = t(noise(r.c * r.co * r.k * r.k, 7), [r.c, r.co, r.k, r.k]);
    const bias = t(noise(r.co, 8), [r.co]);
    op = () => api.convTranspose2d(x, w, bias, { stride: r.s, padding: r.p });
  }
  const run = (wu, reps, inner) => {
    for (let i = 0; i < wu; i++) op().free();
    const out = [];
    for (let rep = 0; rep < reps; rep++) {
      const t0 = performance.now();
      for (let i = 0; i < inner; i++) {
        const y = op();
        if (i === inner - 1) y.toArray();
        y.free();
      }
      out.push((performance.now() - t0) / inner);
    }
    return out;
  };
  run.dispose = () => keep.forEach((x) => x.free());
  run.check = () => { const y = op(); const s = y.shape; y.free(); return s; };
  return run;
}

/** Loads both libraries with N threads; resolves to what runs (checked, not assumed). */
window.threadsSetup = async () => {
  const out = { threads: N, crossOriginIsolated: self.crossOriginIsolated, cores: navigator.hardwareConcurrency };
  api = await import(`${PKG}api.js`);
  await api.default({ module_or_path: `${PKG}convscope_bg.wasm` });
  await api.setThreads(N);
  out.ours = { threads: api.threads(), simdLevel: api.simdLevel() };
  tf.wasm.setWasmPaths('/tfjs/wasm/');
  tf.wasm.setThreadsCount(N);
  // TF.js caps its pool at navigator.hardwareConcurrency / 2 (its backend.cc assumes two
  // hyperthreads per core), read once as its module starts: on a 2-core machine
  // `setThreadsCount(2)` alone runs one thread. While the backend starts, the page reports 2·N
  // cores so that the count asked for is the count that runs (`getThreadsCount()` below says
  // what does); the true figure is back right after.
  out.tfjsDefaultCap = Math.max(1, Math.floor(navigator.hardwareConcurrency / 2));
  Object.defineProperty(navigator, 'hardwareConcurrency', { configurable: true, get: () => Math.max(out.cores, 2 * N) });
  try {
    await tf.setBackend('wasm');
    await tf.ready();
  } finally {
    delete navigator.hardwareConcurrency;
  }
  const mt = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  out.tfjs = {
    version: tf.version_core ?? tf.version?.['tfjs-core'],
    backend: tf.getBackend(),
    threads: tf.wasm.getThreadsCount(),
    binary: mt && simd ? 'tfjs-backend-wasm-threaded-simd.wasm' : simd ? 'tfjs-backend-wasm-simd.wasm' : 'tfjs-backend-wasm.wasm',
  };
  log(`threads page ${N}: ours ${out.ours.threads} thread(s) (${out.ours.simdLevel}), TF.js ${out.tfjs.version} `
    + `${out.tfjs.binary} on ${out.tfjs.threads} thread(s), crossOriginIsolated ${out.crossOriginIsolated}`);
  return out;
};

const current = { label: null, runners: null, plans: null };

/** Makes the runners of row `label` and plans their batches (a calibration call each). */
window.threadsRowStart = async (label, opts) => {
  window.threadsRowEnd();
  const r = { ...ROWS.find((x) => x.label === label) };
  if (!r.label) throw new Error(`no row ${label}`);
  const fl = flops(r);
  const runners = { ours: oursRunner(r), tfjs: tfRunner(r) };
  const check = { ours: runners.ours.check(), tfjs: runners.tfjs.check() };
  const plans = {};
  for (const [name, run] of Object.entries(runners)) plans[name] = await plan(run, opts);
  Object.assign(current, { label, runners, plans });
  return { flops: fl, plans, shapes: check };
};

/** One pass over the row: each runner's batches (its planned count), `first` runs first. */
window.threadsRowPass = async (first) => {
  const order = first === 'tfjs' ? ['tfjs', 'ours'] : ['ours', 'tfjs'];
  const out = {};
  for (const name of order) {
    const { inner, reps } = current.plans[name];
    out[name] = current.runners[name](inner, reps, inner);
    await sleep(0);
  }
  return out;
};

window.threadsRowEnd = () => {
  if (!current.runners) return;
  for (const run of Object.values(current.runners)) run.dispose();
  Object.assign(current, { label: null, runners: null, plans: null });
};

/** MNIST's training images, decoded by our API (once per page). */
async function mnist() {
  if (!dataset) {
    const get = async (n) => new Uint8Array(await (await fetch(`/data/mnist/${n}`)).arrayBuffer());
    dataset = api.Dataset.load(await get('train-images-idx3-ubyte.gz'), await get('train-labels-idx1-ubyte.gz'));
  }
  return dataset;
}

const trainers = {};

/**
 * One training window of `who` ('ours' or 'tfjs') on model `name`: `warmMs` of steps, then
 * samples/s over `ms`. Ours: `trainer.run(dataset, steps)` in chunks of about 20 ms; TF.js: one
 * step at a time. Resolves to `{ samplesPerSec }`, or `{ error }` where TF.js's wasm backend lacks
 * a kernel of the network (it has no Conv2DBackpropFilter: the cnn).
 */
window.threadsTrainWindow = async (who, name, { batch = 64, ms = 3000, warmMs = 500 } = {}) => {
  const key = `${who} ${name}`;
  if (!trainers[key]) {
    if (who === 'ours') {
      const settings = { model: name, optimizer: 'sgd', lr: 0.05, batch, init: 'seeded', augment: false };
      trainers[key] = chunkedTrainer(api, await mnist(), settings);
    } else {
      let m = null;
      try {
        m = tfModel(tf, name, batch);
        m.step();
      } catch (e) {
        m?.dispose();
        trainers[key] = { error: `TF.js ${tf.getBackend()} backend: ${String(e.message ?? e).slice(0, 160)}` };
        return { error: trainers[key].error };
      }
      let n = 0;
      trainers[key] = {
        samples: () => n,
        chunk: () => { m.step(); n += batch; },
        free: () => m.dispose(),
      };
    }
  }
  const tr = trainers[key];
  if (tr.error) return { error: tr.error };
  const w0 = performance.now();
  while (performance.now() - w0 < warmMs) tr.chunk();
  await sleep(0);
  const s0 = tr.samples();
  const t0 = performance.now();
  let last = t0;
  while (last - t0 < ms) {
    tr.chunk();
    last = performance.now();
  }
  const samplesPerSec = ((tr.samples() - s0) * 1000) / (last - t0);
  return { samplesPerSec };
};

window.threadsTrainEnd = () => {
  for (const [k, t] of Object.entries(trainers)) {
    t.free?.();
    delete trainers[k];
  }
};

window.threadsRows = ROWS.map((r) => r.label);
document.body.dataset.ready = 'true';
