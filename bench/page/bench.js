// The benchmark page. `cargo xtask bench` opens it in headless Chromium and calls
// `window.runBench(options)`, which returns every measurement as one JSON-able object.
//
// Ours: the relaxed-simd build with the crate's `bench` feature (bench/pkg/relaxed, served as
// /pkg/relaxed), timed inside wasm by the bench* exports (crate/src/bench/ops.rs), so JS↔wasm
// call overhead is not counted. Columns relaxed / simd128 /
// portable force that GEMM micro-kernel and call the plain `sgemm` / `conv2d` /
// `conv_transpose2d` (weights packed on every call); `relaxed+packed` packs the weights once
// (`sgemm_packed`, `PreparedConv2d`, `PreparedConvTranspose2d`), as TF.js's XNNPACK operators do.
// rten: rten 0.27's own matmul / conv / conv_transpose compiled into the same wasm (bench
// feature), timed inside wasm like ours (`impl = "rten"`).
// onnxruntime-web 1.30: its wasm backend (one thread), each row a one-node ONNX model (MatMul /
// Conv / ConvTranspose, weights as initializers: `onnx.js`), timed around `session.run` (async:
// awaited per call, as a user calls it), call overhead included.
// TF.js: @tensorflow/tfjs-backend-wasm (XNNPACK), single-threaded SIMD binary, timed around the
// calls a user makes (`tf.matMul`, `tf.fused.conv2d`, `tf.conv2dTranspose`), call overhead
// included; each batch ends with `dataSync()` on its last output to force completion.

import init, * as api from '/pkg/relaxed/api.js';
import * as raw from '/pkg/relaxed/convscope.js';

// The bench exports come from the glue; the classes (Model, …) from api.js.
const ours = { ...raw, ...api };
import './model.js';
import { oneNodeModel } from './onnx.js';
import { median, noise, ROWS, flops, tfRunner, plan } from './common.js';

export { ROWS };

// onnxruntime-web: its wasm backend, one thread (no cross-origin isolation here, and the
// comparison is one core), files served from our origin. Loaded so that a missing package
// leaves its column with an error instead of stopping the page.
let ort = null;
let ortError = null;
try {
  ort = await import('/ort/ort.wasm.min.mjs');
  ort.env.wasm.wasmPaths = '/ort/';
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
} catch (e) {
  ortError = `onnxruntime-web did not load: ${e.message ?? e}`;
}

const log = (...a) => {
  const s = a.join(' ');
  console.log(s);
  document.getElementById('log').textContent += `${s}\n`;
};

const pause = () => new Promise((r) => setTimeout(r, 0));

export const OURS = ['relaxed', 'simd128', 'portable'];

/** One of our implementations on one row: `(warmup, reps, inner) → ms per call per batch`. */
function oursRunner(r, impl) {
  if (r.kind === 'gemm') return (wu, reps, inner) => ours.benchGemm(r.m, r.k, r.n, impl, wu, reps, inner);
  const f = r.kind === 'conv' ? ours.benchConv2d : ours.benchConvTranspose2d;
  return (wu, reps, inner) => f(r.c, r.h, r.w, r.co, r.k, r.k, r.s, r.p, impl, wu, reps, inner);
}

/** An onnxruntime-web runner with the same contract (async), on a one-node model of the row. */
async function ortRunner(r) {
  if (!ort) throw new Error(ortError);
  let desc; let x;
  if (r.kind === 'gemm') {
    desc = { op: 'MatMul', x: [r.m, r.k], w: noise(r.k * r.n, 2), wShape: [r.k, r.n], y: [r.m, r.n] };
    x = noise(r.m * r.k, 1);
  } else if (r.kind === 'conv') {
    desc = { op: 'Conv', x: [1, r.c, r.h, r.w], w: noise(r.co * r.c * r.k * r.k, 4), wShape: [r.co, r.c, r.k, r.k],
      b: noise(r.co, 5), y: [1, r.co, r.oh, r.ow], stride: r.s, pad: r.p };
    x = noise(r.c * r.h * r.w, 3);
  } else {
    desc = { op: 'ConvTranspose', x: [1, r.c, r.h, r.w], w: noise(r.c * r.co * r.k * r.k, 7), wShape: [r.c, r.co, r.k, r.k],
      b: noise(r.co, 8), y: [1, r.co, r.oh, r.ow], stride: r.s, pad: r.p };
    x = noise(r.c * r.h * r.w, 6);
  }
  const session = await ort.InferenceSession.create(oneNodeModel(desc), { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const feeds = { x: new ort.Tensor('float32', x, desc.x) };
  const once = async () => { const out = await session.run(feeds); const y = out.y; const v = y.data[0]; y.dispose?.(); return v; };
  const run = async (wu, reps, inner) => {
    for (let i = 0; i < wu; i++) await once();
    const out = [];
    for (let rep = 0; rep < reps; rep++) {
      const t0 = performance.now();
      for (let i = 0; i < inner; i++) await once();
      out.push((performance.now() - t0) / inner);
    }
    return out;
  };
  run.dispose = () => session.release();
  return run;
}

async function measureRow(r, opts) {
  const fl = flops(r);
  const runners = {};
  for (const impl of [...OURS, 'relaxed+packed', 'ndarray', 'rten']) {
    if (impl === 'ndarray' && r.kind !== 'gemm') continue;
    runners[impl] = oursRunner(r, impl);
  }
  runners.tfjs = tfRunner(r);
  const errors = {};
  try {
    runners.ort = await ortRunner(r);
  } catch (e) {
    errors.ort = String(e.message ?? e);
  }
  const samples = {};
  const plans = {};
  for (const [name, run] of Object.entries(runners)) {
    try {
      plans[name] = await plan(run, opts);
      samples[name] = [];
      if (!plans[name]) delete runners[name];
    } catch (e) {
      errors[name] = String(e.message ?? e);
      delete runners[name];
    }
    await pause();
  }
  // Interleave the implementations pass by pass, so a noisy moment hurts all of them alike. The
  // one-core limit is sampled between the implementations too, so the row's "of the limit" compares
  // figures taken in the same minutes (the machine's clock drifts by up to 15% within a run).
  const limitSamples = [];
  const sampleLimit = () => {
    if (ours.simdLevel() === 'relaxed') limitSamples.push(...ours.benchPeakChains(true, 1_000_000, 2));
  };
  // Each pass starts at a different implementation, so that none always runs right after the
  // previous pass's onnxruntime-web and TF.js calls (a fixed order put "ours relaxed" there in
  // every pass).
  const order = Object.keys(runners);
  for (let pass = 0; pass < opts.passes; pass++) {
    const shift = Math.round((pass * order.length) / opts.passes);
    for (let i = 0; i < order.length; i++) {
      const name = order[(i + shift) % order.length];
      const run = runners[name];
      const { inner, reps } = plans[name];
      sampleLimit();
      samples[name].push(...(await run(inner, reps, inner)));
      await pause();
    }
  }
  sampleLimit();
  runners.tfjs?.dispose?.();
  await runners.ort?.dispose?.();
  const ms = {};
  const gflops = {};
  for (const [name, xs] of Object.entries(samples)) {
    if (!xs.length) continue;
    ms[name] = median(xs);
    gflops[name] = fl / (ms[name] * 1e6);
  }
  const shown = Object.entries(gflops).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ');
  const lim = limitSamples.length ? `; limit ${median(limitSamples).toFixed(1)}` : '';
  log(`${r.label}: ${shown}${lim}${Object.keys(errors).length ? ` (errors: ${JSON.stringify(errors)})` : ''}`);
  return {
    label: r.label, kind: r.kind, shape: { ...r }, flops: fl, ms, gflops, errors,
    limit: limitSamples.length ? median(limitSamples) : null,
    limitSamples,
    reps: Object.fromEntries(Object.entries(plans).map(([k, p]) => [k, p && p.reps * opts.passes])),
    inner: Object.fromEntries(Object.entries(plans).map(([k, p]) => [k, p && p.inner])),
  };
}

/** Our own chains microbenchmark (crate/src/bench/ops.rs): relaxed FMA, or the mul + add issue rate. */
function peakOwn(fma) {
  const g = ours.benchPeakChains(fma, 2_000_000, 3); // warm-up
  if (!g.length) return null;
  return median(ours.benchPeakChains(fma, 10_000_000, 15));
}

/** The gemm helper's `benchPeak` (crate/src/bench/gemm.rs): median of 3 calls, each a median of 7. */
function peak(kind) {
  if (!ours.benchPeak) return null;
  return median([0, 1, 2].map(() => ours.benchPeak(kind)));
}

async function setupTf() {
  tf.wasm.setWasmPaths('/tfjs/wasm/');
  // One thread: the non-threaded SIMD binary (our page is cross-origin isolated, so TF.js would
  // otherwise pick the threaded one).
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  await tf.setBackend('wasm');
  await tf.ready();
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  return {
    version: tf.version_core ?? tf.version?.['tfjs-core'],
    backend: tf.getBackend(),
    binary: simd ? 'tfjs-backend-wasm-simd.wasm' : 'tfjs-backend-wasm.wasm',
    threads: 1,
  };
}

window.runBench = async (options = {}) => {
  const opts = { passes: 3, budgetMs: 300, batchMs: 3, minReps: 3, maxReps: 200, ...options };
  await init({ module_or_path: '/pkg/relaxed/convscope_bg.wasm' });
  const env = {
    simdLevel: ours.simdLevel(),
    kernels: ours.benchKernels(),
    tfjs: await setupTf(),
    crossOriginIsolated: self.crossOriginIsolated,
    userAgent: navigator.userAgent,
  };
  log(`ours: ${env.simdLevel}, kernels [${env.kernels}]; TF.js ${env.tfjs.version} ${env.tfjs.backend} ${env.tfjs.binary}`);
  const limit = {
    fma: peak('relaxed') ?? peakOwn(true),
    mulAdd: peak('simd128'),
    fmaOwn: peakOwn(true),
    mulAddIssue: peakOwn(false),
  };
  log(`one-core limit: relaxed FMA ${limit.fma?.toFixed(1)} GFLOPS (own chains ${limit.fmaOwn?.toFixed(1)}), `
    + `simd128 mul+add ${limit.mulAdd?.toFixed(1)} GFLOPS (issue rate ${limit.mulAddIssue?.toFixed(1)})`);
  const only = options.rows ? new Set(options.rows) : null;
  const rows = [];
  for (const r of ROWS) {
    if (only && !only.has(r.label)) continue;
    rows.push(await measureRow({ ...r }, opts));
    await pause();
  }
  limit.fmaAfter = peak('relaxed') ?? peakOwn(true);
  log(`one-core limit again: relaxed FMA ${limit.fmaAfter?.toFixed(1)} GFLOPS`);
  let model = null;
  if (options.model !== false) {
    try {
      model = await window.benchModel(ours, log, { name: 'cnn', calls: options.modelCalls ?? 10000 });
      // Until cnn is shipped, the same comparison on mlp shows the harness works (marked as such).
      if (model.pending) {
        const mlp = await window.benchModel(ours, log, { name: 'mlp', calls: options.modelCalls ?? 10000 });
        if (!mlp.pending) model.stand_in = mlp;
      }
    } catch (e) {
      model = { pending: `error: ${e.message ?? e}` };
      log(`cnn forward failed: ${e.message ?? e}`);
    }
  }
  return { env, limit, rows, model, options: opts };
};

document.body.dataset.ready = 'true';
