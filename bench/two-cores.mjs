// How much of two cores the host gives right now: a workload on one thread alone, then on two
// threads at once (two independent instances, nothing shared), a few times over.
//   --work peak (default): the one-core limit (`benchPeak`, independent relaxed FMA chains, no
//     memory traffic). On this VM the second figure has read the full limit on both threads one
//     minute and 0.67–0.74 of it the next (another tenant on the host).
//   --work train: the cnn's training step with the page's settings (Adam 3e-3, batch 64, one
//     thread each), samples/s over about two seconds: what a 2-thread training run can at most
//     reach that minute, its memory and cache traffic included.
// Build the bench flavour first (`cargo xtask build --bench`), then:
//   node --experimental-wasm-relaxed-simd bench/two-cores.mjs [--times 4] [--work peak|train]
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { loadavg } from 'node:os';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

if (!isMainThread) {
  // The raw bindings for benchPeak; the API module over the same instance for its classes.
  const api = await import(join(root, 'bench/pkg/relaxed/convscope.js'));
  api.initSync({ module: readFileSync(join(root, 'bench/pkg/relaxed/convscope_bg.wasm')) });
  const classes = await import(join(root, 'bench/pkg/relaxed/api.js'));
  let trainer = null;
  let data = null;
  const work = {
    peak: () => api.benchPeak('relaxed'),
    // Samples per second over steps for about two seconds (after the first call's warm-up).
    train: () => {
      if (!trainer) {
        const gz = (n) => new Uint8Array(readFileSync(join(root, 'data/mnist', n)));
        data = classes.Dataset.load(gz('train-images-idx3-ubyte.gz'), gz('train-labels-idx1-ubyte.gz'));
        trainer = new classes.Trainer(data, { model: 'cnn', batch: 64, init: 'seeded', seed: 1, augment: false, optimizer: 'adam', lr: 0.003 });
      }
      const t0 = performance.now();
      let steps = 0;
      while (performance.now() - t0 < 2000) { trainer.run(data, 4); steps += 4; }
      return (steps * 64) / ((performance.now() - t0) / 1000);
    },
  };
  parentPort.on('message', ({ n, what }) => {
    const runs = Array.from({ length: n }, () => work[what]());
    parentPort.postMessage(runs.sort((a, b) => a - b)[n >> 1]);
  });
} else {
  const args = process.argv.slice(2);
  const times = args.includes('--times') ? Number(args[args.indexOf('--times') + 1]) : 4;
  if (!Number.isInteger(times) || times < 1) throw new Error(`--times must be a whole number of at least 1, not ${args[args.indexOf('--times') + 1]}`);
  const what = args.includes('--work') ? args[args.indexOf('--work') + 1] : 'peak';
  if (!['peak', 'train'].includes(what)) throw new Error(`--work must be peak or train, not ${what}`);
  const unit = what === 'peak' ? 'GFLOPS' : 'samples/s';
  const n = what === 'peak' ? 3 : 1;
  const me = fileURLToPath(import.meta.url);
  const workers = [new Worker(me), new Worker(me)];
  const peak = (w) => new Promise((r) => { w.once('message', r); w.postMessage({ n, what }); });
  await Promise.all(workers.map(peak)); // warm: both instances compiled and tiered up
  const load = loadavg()[0];
  for (let i = 0; i < times; i++) {
    const alone = await peak(workers[0]);
    const pair = await Promise.all(workers.map(peak));
    const f = (v) => (what === 'peak' ? v.toFixed(1) : v.toFixed(0));
    console.log(`${new Date().toISOString().slice(11, 19)} ${what}: one core alone ${f(alone)} ${unit}; two at once ${f(pair[0])} + ${f(pair[1])} = ${((pair[0] + pair[1]) / alone).toFixed(2)}× one`);
  }
  console.log(`load ${load.toFixed(2)} → ${loadavg()[0].toFixed(2)}`);
  for (const w of workers) await w.terminate();
}
