// A first look at the thread pool: the threaded build's 512³ GEMM (`matmul` of the JS API) on 1
// and on 2 threads, in headless Chromium against a running `cargo xtask serve` (cross-origin
// isolated). Rounds alternate 1 and 2 threads; each round times `--reps` products and keeps its
// median; the table gives the medians of the rounds and the load average before and after. The
// relaxed build (no atomics) runs in the same rounds: what one thread costs in the threaded build.
//   cargo xtask serve --port 8790 &   node bench/threads-gemm.mjs [--size 512] [--rounds 15] [--reps 10]
import { loadavg } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, d) => (args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : d);
const size = opt('size', 512), rounds = opt('rounds', 15), reps = opt('reps', 10);
const base = process.env.BASE_URL ?? 'http://127.0.0.1:8790';

const { chromium } = createRequire(join(root, 'tests/package.json'))('playwright-core');
const before = loadavg();
const browser = await chromium.launch({ executablePath: process.env.CHROME ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${base}/`);
  const r = await page.evaluate(async ({ size, rounds, reps }) => {
    const api = await import('/pkg/threads/api.js');
    await api.default({ module_or_path: '/pkg/threads/convscope_bg.wasm' });
    const rel = await import('/pkg/relaxed/api.js');
    await rel.default({ module_or_path: '/pkg/relaxed/convscope_bg.wasm' });
    const data = Float32Array.from({ length: size * size }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
    const operands = (m) => [m, new m.Tensor(data, [size, size]), new m.Tensor(data, [size, size])];
    const thr = operands(api), relaxed = operands(rel);
    const median = (xs) => { const s = [...xs].sort((x, y) => x - y); return s[s.length >> 1]; };
    const round = ([m, a, b]) => {
      const t = [];
      for (let i = 0; i < reps; i++) {
        const t0 = performance.now();
        m.matmul(a, b).free();
        t.push(performance.now() - t0);
      }
      return median(t);
    };
    // Warm-up on all three (V8 tiers up; the worker starts and packs its first buffers).
    round(relaxed); round(relaxed);
    for (const n of [1, 2]) { await api.setThreads(n); round(thr); round(thr); }
    const ms = { 1: [], 2: [], r: [] };
    for (let i = 0; i < rounds; i++) {
      for (const n of i % 2 ? [2, 'r', 1] : [1, 'r', 2]) {
        if (n === 'r') { ms.r.push(round(relaxed)); continue; }
        await api.setThreads(n);
        ms[n].push(round(thr));
      }
    }
    await api.setThreads(1);
    return { isolated: crossOriginIsolated, cores: navigator.hardwareConcurrency, ms1: ms[1], ms2: ms[2], msr: ms.r, m1: median(ms[1]), m2: median(ms[2]), mr: median(ms.r) };
  }, { size, rounds, reps });
  const after = loadavg();
  const gflops = (ms) => (2 * size ** 3 / ms / 1e6).toFixed(1);
  console.log(`${size}³ GEMM, threaded build, Chromium, crossOriginIsolated ${r.isolated}, ${r.cores} cores, ${rounds} rounds × ${reps}`);
  console.log(`1 thread : ${r.m1.toFixed(2)} ms (${gflops(r.m1)} GFLOPS)  rounds ${r.ms1.map((x) => x.toFixed(2)).join(' ')}`);
  console.log(`2 threads: ${r.m2.toFixed(2)} ms (${gflops(r.m2)} GFLOPS)  rounds ${r.ms2.map((x) => x.toFixed(2)).join(' ')}`);
  console.log(`relaxed build (no atomics, 1 thread): ${r.mr.toFixed(2)} ms (${gflops(r.mr)} GFLOPS)`);
  console.log(`speed-up ${(r.m1 / r.m2).toFixed(2)}× (${(r.mr / r.m2).toFixed(2)}× the relaxed build); load average before ${before.map((x) => x.toFixed(2)).join(' ')}, after ${after.map((x) => x.toFixed(2)).join(' ')}`);
} finally {
  await browser.close();
}
