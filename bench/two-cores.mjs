// How much of two cores the host gives right now: the one-core limit (`benchPeak`, independent
// relaxed FMA chains, no memory traffic) on one thread alone, then on two threads at once, a few
// times over. On this VM the second figure has read the full limit on both threads one minute
// and 0.67–0.74 of it the next (another tenant on the host), which is what any 2-thread figure
// of the same minute meets. Build the bench flavour first (`cargo xtask build --bench`), then:
//   node --experimental-wasm-relaxed-simd bench/two-cores.mjs [--times 4]
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { loadavg } from 'node:os';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

if (!isMainThread) {
  const api = await import(join(root, 'bench/pkg/relaxed/convscope.js'));
  api.initSync({ module: readFileSync(join(root, 'bench/pkg/relaxed/convscope_bg.wasm')) });
  parentPort.on('message', (n) => {
    const runs = Array.from({ length: n }, () => api.benchPeak('relaxed'));
    parentPort.postMessage(runs.sort((a, b) => a - b)[n >> 1]);
  });
} else {
  const args = process.argv.slice(2);
  const times = args.includes('--times') ? Number(args[args.indexOf('--times') + 1]) : 4;
  const me = fileURLToPath(import.meta.url);
  const workers = [new Worker(me), new Worker(me)];
  const peak = (w) => new Promise((r) => { w.once('message', r); w.postMessage(3); });
  await Promise.all(workers.map(peak)); // warm: both instances compiled and tiered up
  const load = loadavg()[0];
  for (let i = 0; i < times; i++) {
    const alone = await peak(workers[0]);
    const pair = await Promise.all(workers.map(peak));
    const f = (v) => v.toFixed(1);
    console.log(`${new Date().toISOString().slice(11, 19)} one core alone ${f(alone)} GFLOPS; two at once ${f(pair[0])} + ${f(pair[1])} = ${((pair[0] + pair[1]) / alone).toFixed(2)}× one`);
  }
  console.log(`load ${load.toFixed(2)} → ${loadavg()[0].toFixed(2)}`);
  for (const w of workers) await w.terminate();
}
