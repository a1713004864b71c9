// Before/after of a training step in headless Chromium (one thread unless `--threads`): two builds in one page, the
// same model, settings and seed, rounds interleaved (each round alternates which build goes
// first). Build the bench flavour of both (`cargo xtask build --bench` in each checkout), then:
//   node bench/train-ab.mjs DIR_A DIR_B [--rounds 8] [--steps 40] [--model cnn|mlp|slp] [--threads 1] [--busy 0]
// Each DIR holds api.js + convscope.js + convscope_bg.wasm (bench/pkg/relaxed of a build). With
// `--threads N` above 1 each DIR is a threaded build (www/pkg/threads of `cargo xtask build`,
// with its pool-worker.js), each with its own pool of N - 1 workers.
// Prints per build the median samples/s over rounds of `steps` steps with the page's optimiser
// and batch for the model, and the ratio B / A. `--busy F` (0 to 1) adds what a page's own threads
// do beside training: a worker that computes F of every 16 ms frame and idles the rest. Benchmark
// only on a quiet machine (load < 1).
import { parseArgs, runPage, root } from './ab-page.mjs';
import { join } from 'node:path';

const { dirs, opts: { rounds, steps, threads, busy } } = parseArgs('train-ab.mjs DIR_A DIR_B [--rounds N] [--steps N] [--model cnn] [--threads N] [--busy F]', { rounds: 8, steps: 40, threads: 1, busy: 0 });
const args = process.argv.slice(2);
const model = args.includes('--model') ? args[args.indexOf('--model') + 1] : 'cnn';
// The page's defaults (www/js/scenes/train.js): Adam 3e-3 for the cnn, SGD 0.1 for dense models.
const settings = { model, batch: 64, init: 'seeded', seed: 1, augment: false, ...(model === 'cnn' ? { optimizer: 'adam', lr: 0.003 } : { optimizer: 'sgd', lr: 0.1 }) };
const page = `<!doctype html><meta charset="utf-8"><script type="module">
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[(s.length - 1) >> 1]; };
const get = async (n) => new Uint8Array(await (await fetch('/mnist/' + n)).arrayBuffer());
const [images, labels] = [await get('train-images-idx3-ubyte.gz'), await get('train-labels-idx1-ubyte.gz')];
const builds = [];
for (const name of ['a', 'b']) {
  const api = await import('/' + name + '/api.js');
  await api.default({ module_or_path: '/' + name + '/convscope_bg.wasm' });
  if (${threads} > 1 && await api.setThreads(${threads}) !== ${threads}) throw new Error('build ' + name + ' runs ' + api.threads() + ' threads');
  const ds = api.Dataset.load(images, labels);
  const t = new api.Trainer(ds, ${JSON.stringify(settings)});
  t.run(ds, ${steps});
  builds.push({ name, ds, t, rates: [] });
}
if (${busy} > 0) {
  const src = 'setInterval(() => { const t = performance.now(); while (performance.now() - t < ${busy * 16}) {} }, 16);';
  new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })));
}
for (let round = 0; round < ${rounds}; round++) {
  for (const b of (round % 2 ? [...builds].reverse() : builds)) {
    const s0 = b.t.status().samples;
    const t0 = performance.now();
    b.t.run(b.ds, ${steps});
    b.rates.push((b.t.status().samples - s0) / ((performance.now() - t0) / 1000));
  }
}
window.result = builds.map((b) => ({ rate: median(b.rates), rates: b.rates.map(Math.round) }));
</script>`;
const mnist = (n) => join(root, 'data/mnist', n);
const files = Object.fromEntries(['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz'].map((n) => [`/mnist/${n}`, mnist(n)]));
const { result: [a, b], load: [before, after] } = await runPage(dirs, page, files);
console.log(`${model} training, ${threads} thread${threads > 1 ? "s" : ""}${busy ? `, a worker busy ${busy * 100}% of each frame beside` : ""}, median samples/s over ${rounds} rounds of ${steps} steps, load ${before.toFixed(2)} → ${after.toFixed(2)}`);
console.log(`A ${a.rate.toFixed(0)} ${JSON.stringify(a.rates)}\nB ${b.rate.toFixed(0)} ${JSON.stringify(b.rates)}\nB / A ${(b.rate / a.rate).toFixed(3)}`);
