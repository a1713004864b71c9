// In-browser training throughput, `window.benchTraining(options)`: the playground's own training
// workers (www/js/train/, served at /js/) on MNIST, one worker and every core, beside the same
// network, batch size and optimiser trained with TF.js (tfjs-core gradients, wasm backend, one
// thread) in this page. Windows alternate (ours 1 worker, TF.js, ours all workers, …) and each
// figure is the median of its windows' samples/s.

import { TrainPool, loadMnist } from '/js/train/pool.js';
import { tfModel } from './common.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (v) => { const s = [...v].sort((a, b) => a - b); return s.length ? s[s.length >> 1] : null; };

/** One window of our training: samples/s between the first report after `warmMs` and `ms` later. */
async function oursWindow(pool, ms, warmMs, longest) {
  // A fresh task first: the previous window's last task (TF.js's, on this thread) must not be
  // counted as ours.
  await sleep(20);
  let last = null;
  // The page's own thread while the workers train: its longest task (the 50 ms bound).
  const obs = new PerformanceObserver((l) => { for (const e of l.getEntries()) longest.ms = Math.max(longest.ms, e.duration); });
  obs.observe({ type: 'longtask', buffered: false });
  const on = (e) => { last = { t: performance.now(), samples: e.detail.status.samples }; };
  pool.addEventListener('progress', on);
  pool.send({ type: 'start' });
  await sleep(warmMs);
  const a = last;
  await sleep(ms);
  const b = last;
  pool.send({ type: 'pause' });
  await new Promise((r) => pool.addEventListener('paused', r, { once: true }));
  pool.removeEventListener('progress', on);
  obs.disconnect();
  if (!a || !b || b.t === a.t) return null;
  return ((b.samples - a.samples) * 1000) / (b.t - a.t);
}

async function tfWindow(m, batch, ms) {
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < ms) {
    m.step();
    n += batch;
    if (n % (batch * 8) === 0) await sleep(0);
  }
  return (n * 1000) / (performance.now() - t0);
}

window.benchTraining = async (options = {}) => {
  const log = (s) => { console.log(s); };
  const { models = ['slp', 'mlp', 'cnn'], batch = 64, windows = 3, windowMs = 3000, warmMs = 1000 } = options;
  const tf = window.tf;
  const cores = Math.max(1, navigator.hardwareConcurrency || 1);
  const data = await loadMnist();
  const out = { batch, optimizer: 'SGD lr 0.05', cores, windowMs, windows, models: {} };
  for (const name of models) {
    const settings = { model: name, optimizer: 'sgd', lr: 0.05, batch, init: 'seeded', augment: false };
    const row = { ours1: [], oursAll: [], tfjs: [] };
    const pools = {};
    for (const w of [1, cores]) {
      if (pools[w]) continue;
      pools[w] = new TrainPool();
      await pools[w].start({ flavour: 'relaxed', data, settings, count: w });
    }
    // TF.js on its wasm backend; where that backend lacks a kernel the network needs (it has no
    // Conv2DBackpropFilter), on its CPU backend (plain JS), marked as such.
    let tfm = null;
    row.tfjsBackend = 'wasm';
    for (const backend of ['wasm', 'cpu']) {
      await tf.setBackend(backend);
      try {
        tfm = tfModel(tf, name, batch);
        tfm.step();
        row.tfjsBackend = backend;
        break;
      } catch (e) {
        row.tfjsPending = `TF.js ${backend}: ${String(e.message ?? e).slice(0, 160)}`;
        tfm?.dispose();
        tfm = null;
      }
    }
    const longest = { ms: 0 };
    for (let k = 0; k < windows; k++) {
      row.ours1.push(await oursWindow(pools[1], windowMs, warmMs, longest));
      if (tfm) row.tfjs.push(await tfWindow(tfm, batch, windowMs));
      if (cores > 1) row.oursAll.push(await oursWindow(pools[cores], windowMs, warmMs, longest));
    }
    for (const p of Object.values(pools)) p.stop();
    tfm?.dispose();
    await tf.setBackend('wasm');
    const r = {
      ours1: median(row.ours1.filter((x) => x != null)),
      oursAll: cores > 1 ? median(row.oursAll.filter((x) => x != null)) : null,
      tfjs: tfm ? median(row.tfjs) : null,
      // Over 50 ms only (shorter tasks are not reported by the browser); 0 = none.
      longestTaskMs: longest.ms,
      samples: row,
    };
    r.tfjsBackend = row.tfjsBackend;
    if (row.tfjsPending) r.tfjsPending = row.tfjsPending;
    out.models[name] = r;
    log(`training ${name}: ours ${r.ours1?.toFixed(0)} samples/s (1 worker), ${r.oursAll?.toFixed(0)} (${cores} workers); TF.js ${r.tfjs?.toFixed(0) ?? r.tfjsPending}`);
  }
  return out;
};
