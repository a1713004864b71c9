// The node 20 section of `cargo xtask bench` (what the npm package meets: V8 in node, one thread,
// no threaded build). `bench/run.mjs` starts it after the Chromium sections; on its own:
//   cargo xtask build --bench
//   node --experimental-wasm-relaxed-simd bench/node-bench.mjs [--quick] [--rows "GEMM 64³,..."] [--no-training] [--json FILE]
// Three parts, each interleaved the way the Chromium page does it:
// - every kernel row (page/common.js's ROWS): ours, the relaxed build (its relaxed micro-kernel)
//   and the simd128 build (what node gives without --experimental-wasm-relaxed-simd), timed
//   inside wasm by the bench exports; TF.js 4.22's wasm backend in node (single-threaded SIMD:
//   tfjs-backend-wasm has no threads under node), timed around the calls a user makes; passes
//   alternate and rotate, the one-core limit (relaxed FMA chains) sampled between them;
// - training samples/s (MNIST, batch 64, SGD lr 0.05, no augmentation: the threads section's
//   settings): each build's `Trainer.run` in chunks of ~20 ms beside the same network in
//   tfjs-core (common.js's `tfModel`) on the wasm backend, or the CPU backend where the wasm
//   backend lacks a kernel; windows alternate, medians;
// - the cnn from a fresh trainer with the page's defaults to 98.5% on the test subset (the first
//   1,000 test images), checked at every 10,000 samples as the page's fixed points are: seconds
//   (evaluations included) and samples, per build.
// Prints progress on stderr and writes the results as JSON to --json (default: stdout).
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { median, ROWS, flops, tfRunner, plan, tfModel, chunkedTrainer } from './page/common.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.join(HERE, '..');
const log = (s) => process.stderr.write(`${s}\n`);

function args() {
  const a = process.argv.slice(2);
  const out = { quick: false, rows: null, json: null, training: true };
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '--quick') out.quick = true;
    else if (a[i] === '--rows') out.rows = a[++i].split(',').map((s) => s.trim());
    else if (a[i] === '--json') out.json = a[++i];
    else if (a[i] === '--no-training') out.training = false;
    else throw new Error(`unknown argument ${a[i]}`);
  }
  return out;
}

/** A bench build (bench/pkg/<flavour>): the API and the glue's bench exports, initialised. */
async function build(flavour) {
  const dir = path.join(HERE, 'pkg', flavour);
  const api = await import(path.join(dir, 'api.js'));
  const raw = await import(path.join(dir, 'convscope.js'));
  await api.default({ module_or_path: readFileSync(path.join(dir, 'convscope_bg.wasm')) });
  return { ...raw, ...api };
}

function oursRunner(ours, r, impl) {
  if (r.kind === 'gemm') return (wu, reps, inner) => ours.benchGemm(r.m, r.k, r.n, impl, wu, reps, inner);
  const f = r.kind === 'conv' ? ours.benchConv2d : ours.benchConvTranspose2d;
  return (wu, reps, inner) => f(r.c, r.h, r.w, r.co, r.k, r.k, r.s, r.p, impl, wu, reps, inner);
}

async function measureRow(builds, r, opts) {
  const fl = flops(r);
  const runners = {
    relaxed: oursRunner(builds.relaxed, r, 'relaxed'),
    simd128: oursRunner(builds.simd128, r, 'simd128'),
    tfjs: tfRunner(r),
  };
  const plans = {};
  const samples = {};
  for (const [name, run] of Object.entries(runners)) {
    plans[name] = await plan(run, opts);
    samples[name] = [];
  }
  const limitSamples = [];
  const sampleLimit = () => limitSamples.push(...builds.relaxed.benchPeakChains(true, 1_000_000, 2));
  const order = Object.keys(runners);
  for (let pass = 0; pass < opts.passes; pass++) {
    const shift = pass % order.length;
    for (let i = 0; i < order.length; i++) {
      const name = order[(i + shift) % order.length];
      const { inner, reps } = plans[name];
      sampleLimit();
      samples[name].push(...(await runners[name](inner, reps, inner)));
    }
  }
  sampleLimit();
  runners.tfjs.dispose();
  const gflops = Object.fromEntries(Object.entries(samples).map(([k, xs]) => [k, fl / (median(xs) * 1e6)]));
  const limit = median(limitSamples);
  log(`node ${r.label}: ${Object.entries(gflops).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}; limit ${limit.toFixed(1)} GFLOPS`);
  return { label: r.label, flops: fl, gflops, limit };
}

const mnistFile = (n) => new Uint8Array(readFileSync(path.join(ROOT, 'data/mnist', n)));

/** Samples/s over `ms` after `warmMs` of chunks. */
function window_(tr, { ms, warmMs }) {
  const w0 = performance.now();
  while (performance.now() - w0 < warmMs) tr.chunk();
  const s0 = tr.samples();
  const t0 = performance.now();
  while (performance.now() - t0 < ms) tr.chunk();
  return ((tr.samples() - s0) * 1000) / (performance.now() - t0);
}

async function measureTraining(builds, data, { windows, ms, warmMs }) {
  const batch = 64;
  const out = { batch, optimizer: 'SGD lr 0.05', windows, windowMs: ms, warmMs, models: {} };
  for (const name of ['slp', 'mlp', 'cnn']) {
    const settings = { model: name, optimizer: 'sgd', lr: 0.05, batch, init: 'seeded', augment: false };
    const trainers = {
      relaxed: chunkedTrainer(builds.relaxed, data.relaxed, settings),
      simd128: chunkedTrainer(builds.simd128, data.simd128, settings),
    };
    let tfBackend = null;
    let tfWhy = null;
    for (const backend of ['wasm', 'cpu']) {
      await tf.setBackend(backend);
      let m = null;
      try {
        m = tfModel(tf, name, batch);
        m.step();
        let n = 0;
        trainers.tfjs = { samples: () => n, chunk: () => { m.step(); n += batch; }, free: () => m.dispose() };
        tfBackend = backend;
        break;
      } catch (e) {
        tfWhy = `TF.js ${backend} backend: ${String(e.message ?? e).slice(0, 160)}`;
        m?.dispose();
      }
    }
    const per = Object.fromEntries(Object.keys(trainers).map((k) => [k, []]));
    const order = Object.keys(trainers);
    for (let k = 0; k < windows; k++) {
      for (let i = 0; i < order.length; i++) {
        const who = order[(i + k) % order.length];
        per[who].push(window_(trainers[who], { ms, warmMs }));
      }
    }
    for (const t of Object.values(trainers)) t.free();
    await tf.setBackend('wasm');
    const m = { samples: per, tfjsBackend: tfBackend, tfjsWhy: tfBackend === 'wasm' ? null : tfWhy };
    for (const k of Object.keys(per)) m[k] = median(per[k]);
    log(`node training ${name}: relaxed ${m.relaxed.toFixed(0)}, simd128 ${m.simd128.toFixed(0)}, TF.js (${tfBackend}) ${m.tfjs?.toFixed(0)} samples/s`);
    out.models[name] = m;
  }
  return out;
}

/** The cnn with the page's defaults from a fresh trainer to `target` on the test subset. */
function toTarget(ours, train, test, { target, limitS }) {
  // The page's cnn defaults (www/js/scenes/train.js DEFAULTS): Adam, lr 0.003, batch 64, seeded.
  const t = new ours.Trainer(train, { model: 'cnn', optimizer: 'adam', lr: 0.003, batch: 64, init: 'seeded', seed: 1, augment: false });
  const t0 = performance.now();
  let next = 10000;
  let out = null;
  while (!out && performance.now() - t0 < limitS * 1000) {
    const s = t.run(train, Math.ceil((next - t.status().samples) / 64));
    if (s.samples >= next) {
      const e = t.evaluate(test, 1000);
      if (e.accuracy >= target) out = { seconds: (performance.now() - t0) / 1000, samples: s.samples, accuracy: e.accuracy };
      next += 10000;
    }
  }
  t.free();
  return out ?? { seconds: null, samples: null, limitS };
}

async function main() {
  const a = args();
  const quick = a.quick;
  const loadStart = loadavg();
  setWasmPaths(`${path.join(HERE, 'node_modules/@tensorflow/tfjs-backend-wasm/dist')}/`);
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  await tf.setBackend('wasm');
  await tf.ready();
  globalThis.tf = tf;
  const builds = { relaxed: await build('relaxed'), simd128: await build('simd128') };
  const env = {
    node: process.version,
    relaxed: builds.relaxed.simdLevel(),
    simd128: builds.simd128.simdLevel(),
    tfjs: { version: tf.version_core, backend: tf.getBackend(), simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT') },
  };
  log(`node ${env.node}: ours ${env.relaxed} and ${env.simd128} builds; TF.js ${env.tfjs.version} ${env.tfjs.backend} (SIMD ${env.tfjs.simd})`);
  const limit = {
    fma: median([0, 1, 2].map(() => builds.relaxed.benchPeak('relaxed'))),
    mulAdd: median([0, 1, 2].map(() => builds.simd128.benchPeak('simd128'))),
  };
  const opts = quick ? { passes: 1, budgetMs: 60, batchMs: 3, minReps: 2, maxReps: 20 } : { passes: 3, budgetMs: 300, batchMs: 3, minReps: 3, maxReps: 200 };
  const rows = [];
  for (const r of ROWS) {
    if (a.rows && !a.rows.includes(r.label)) continue;
    rows.push(await measureRow(builds, { ...r }, opts));
  }
  limit.fmaAfter = median([0, 1, 2].map(() => builds.relaxed.benchPeak('relaxed')));
  if (!a.training) {
    process.stdout.write(`${JSON.stringify({ env, limit, rows }, null, 2)}\n`);
    return;
  }
  const files = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'].map(mnistFile);
  const data = {};
  const tests = {};
  for (const f of ['relaxed', 'simd128']) {
    data[f] = builds[f].Dataset.load(files[0], files[1]);
    tests[f] = builds[f].Dataset.load(files[2], files[3]);
  }
  const training = await measureTraining(builds, data, quick ? { windows: 1, ms: 1000, warmMs: 200 } : { windows: 3, ms: 3000, warmMs: 500 });
  const target = { target: 0.985, limitS: quick ? 5 : 90, builds: {} };
  for (const f of ['relaxed', 'simd128']) {
    target.builds[f] = toTarget(builds[f], data[f], tests[f], target);
    const r = target.builds[f];
    log(`node ${f}: the cnn ${r.seconds == null ? `did not reach 98.5% within ${target.limitS} s` : `reached 98.5% after ${r.seconds.toFixed(1)} s (${r.samples} samples)`}`);
  }
  const out = { env, limit, rows, training, toTarget: target, loadavgStart: loadStart, loadavgEnd: loadavg(), options: opts };
  const json = `${JSON.stringify(out, null, 2)}\n`;
  if (a.json) writeFileSync(a.json, json);
  else process.stdout.write(json);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
