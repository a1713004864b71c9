// The threaded build's convolutions on 1 and on 2 threads (`conv2d` / `convTranspose2d` of the
// JS API, with a bias, batch 1 unless --batch), in headless Chromium against a running `cargo
// xtask serve` (cross-origin isolated). By default the 32→64 3×3 conv of `cargo xtask bench`
// (32×64×64, padding 1). Rounds alternate 1 and 2 threads (and the relaxed build, without
// atomics: what one thread costs in the threaded build); each round times `--reps` calls and
// keeps its median; the table gives the medians of the rounds and the load average before and
// after. Modelled on bench/threads-gemm.mjs.
//   cargo xtask serve --port 8790 &   node bench/threads-conv.mjs [--c 32] [--co 64] [--hw 64] [--k 3]
//     [--stride 1] [--pad 1] [--groups 1] [--batch 1] [--transpose] [--rounds 15] [--reps 10]
//   e.g. the 56×56 layer: --hw 56; the transposed conv of the bench: --transpose --c 16 --co 8 --hw 14 --k 4 --stride 2 --pad 1
import { loadavg } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, d) => (args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : d);
const shape = {
  c: opt('c', 32), co: opt('co', 64), hw: opt('hw', 64), k: opt('k', 3), stride: opt('stride', 1),
  pad: opt('pad', 1), groups: opt('groups', 1), batch: opt('batch', 1), transpose: args.includes('--transpose'),
};
const rounds = opt('rounds', 15), reps = opt('reps', 10);
for (const [name, v] of Object.entries(shape)) {
  if (name !== 'transpose' && !(Number.isInteger(v) && v >= (name === 'pad' ? 0 : 1))) throw new Error(`--${name} must be a whole number, got ${v}`);
}
if (!(Number.isInteger(rounds) && rounds >= 1 && Number.isInteger(reps) && reps >= 1)) throw new Error('--rounds and --reps must be whole numbers ≥ 1');
const base = process.env.BASE_URL ?? 'http://127.0.0.1:8790';

const { chromium } = createRequire(join(root, 'tests/package.json'))('playwright-core');
const before = loadavg();
const browser = await chromium.launch({ executablePath: process.env.CHROME ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${base}/`);
  const r = await page.evaluate(async ({ shape: s, rounds, reps }) => {
    const api = await import('/pkg/threads/api.js');
    await api.default({ module_or_path: '/pkg/threads/convscope_bg.wasm' });
    const rel = await import('/pkg/relaxed/api.js');
    await rel.default({ module_or_path: '/pkg/relaxed/convscope_bg.wasm' });
    const noise = (n, seed) => Float32Array.from({ length: n }, (_, i) => (((i + seed) * 7919) % 1000) / 1000 - 0.5);
    // conv2d: w [co, c/groups, k, k]; convTranspose2d: w [c, co/groups, k, k]; bias [co].
    const ws = s.transpose ? [s.c, s.co / s.groups, s.k, s.k] : [s.co, s.c / s.groups, s.k, s.k];
    const xs = [s.batch, s.c, s.hw, s.hw];
    const count = (sh) => sh.reduce((a, b) => a * b, 1);
    const opts = { stride: s.stride, padding: s.pad, groups: s.groups };
    const operands = (m) => ({ m, x: new m.Tensor(noise(count(xs), 1), xs), w: new m.Tensor(noise(count(ws), 2), ws), b: new m.Tensor(noise(s.co, 3), [s.co]) });
    const thr = operands(api), relaxed = operands(rel);
    const call = ({ m, x, w, b }) => (s.transpose ? m.convTranspose2d(x, w, b, opts) : m.conv2d(x, w, b, opts));
    const probe = call(thr);
    const outShape = probe.shape;
    probe.free();
    const median = (v) => { const t = [...v].sort((a, b) => a - b); return t[t.length >> 1]; };
    const round = (o) => {
      const t = [];
      for (let i = 0; i < reps; i++) {
        const t0 = performance.now();
        call(o).free();
        t.push(performance.now() - t0);
      }
      return median(t);
    };
    // Warm-up on all three (V8 tiers up; the worker starts and fills its buffers).
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
    for (const o of [thr, relaxed]) for (const t of [o.x, o.w, o.b]) t.free();
    return { isolated: crossOriginIsolated, cores: navigator.hardwareConcurrency, outShape, ms1: ms[1], ms2: ms[2], msr: ms.r, m1: median(ms[1]), m2: median(ms[2]), mr: median(ms.r) };
  }, { shape, rounds, reps });
  const after = loadavg();
  const [, co, oh, ow] = r.outShape;
  // Multiply-adds: every output of a conv is a dot product of c/groups·k² terms; every input
  // of a transposed conv is spread over co/groups·k² outputs.
  const macs = shape.transpose
    ? shape.batch * shape.c * shape.hw * shape.hw * (shape.co / shape.groups) * shape.k * shape.k
    : shape.batch * co * oh * ow * (shape.c / shape.groups) * shape.k * shape.k;
  const gflops = (ms) => (2 * macs / ms / 1e6).toFixed(1);
  const what = `${shape.transpose ? 'convTranspose2d' : 'conv2d'} ${shape.batch}×${shape.c}×${shape.hw}×${shape.hw} → ${r.outShape.join('×')}, ${shape.k}×${shape.k} stride ${shape.stride} pad ${shape.pad} groups ${shape.groups}`;
  console.log(`${what}, threaded build, Chromium, crossOriginIsolated ${r.isolated}, ${r.cores} cores, ${rounds} rounds × ${reps}`);
  console.log(`1 thread : ${r.m1.toFixed(3)} ms (${gflops(r.m1)} GFLOPS)  rounds ${r.ms1.map((x) => x.toFixed(3)).join(' ')}`);
  console.log(`2 threads: ${r.m2.toFixed(3)} ms (${gflops(r.m2)} GFLOPS)  rounds ${r.ms2.map((x) => x.toFixed(3)).join(' ')}`);
  console.log(`relaxed build (no atomics, 1 thread): ${r.mr.toFixed(3)} ms (${gflops(r.mr)} GFLOPS)`);
  console.log(`speed-up ${(r.m1 / r.m2).toFixed(2)}× (${(r.mr / r.m2).toFixed(2)}× the relaxed build); load average before ${before.map((x) => x.toFixed(2)).join(' ')}, after ${after.map((x) => x.toFixed(2)).join(' ')}`);
} finally {
  await browser.close();
}
