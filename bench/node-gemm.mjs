// GEMM throughput table in node, for tuning the kernels (the full side-by-side benchmark is
// `cargo xtask bench`). Build the bench flavour first (`cargo xtask build --bench`: the
// `bench` feature's exports, into bench/pkg/), then:
//   node --experimental-wasm-relaxed-simd bench/node-gemm.mjs [relaxed|simd128] [--packed] [--best] [--shapes 256,512x512x512,1x784x128]
// Prints GFLOPS (median over repetitions timed inside wasm) per kernel, plus the one-core
// peak of independent multiply-add chains.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const args = process.argv.slice(2);
const flavour = args.find((a) => a === 'relaxed' || a === 'simd128') ?? 'relaxed';
const packedOnly = args.includes('--packed');
// --best: the fastest repetition instead of the median (on a machine shared with other jobs
// the median mostly measures the other jobs; the best shows what the code can do).
const useBest = args.includes('--best');
const shapesArg = args.includes('--shapes') ? args[args.indexOf('--shapes') + 1] : null;

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = join(root, 'bench/pkg', flavour);
const api = await import(join(pkg, 'convscope.js'));
api.initSync({ module: readFileSync(join(pkg, 'convscope_bg.wasm')) });

const defaultShapes = [
  [64, 64, 64], [128, 128, 128], [256, 256, 256], [512, 512, 512], [1024, 1024, 1024],
  [1, 784, 128], [64, 784, 128],
];
const shapes = shapesArg
  ? shapesArg.split(',').map((s) => {
    const d = s.split('x').map(Number);
    return d.length === 1 ? [d[0], d[0], d[0]] : d;
  })
  : defaultShapes;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const kernels = api.gemmKernels();
const peaks = {};
for (const k of ['relaxed', 'simd128']) {
  // Best of three calls: the first may still run in V8's baseline tier.
  if (kernels.includes(k)) peaks[k] = Math.max(...[0, 1, 2].map(() => api.benchPeak(k)));
}

const cols = [];
for (const k of kernels) {
  if (!packedOnly) cols.push({ name: k, fn: (m, kk, n, r) => api.benchSgemm(k, m, kk, n, r) });
  cols.push({ name: `${k} packedB`, fn: (m, kk, n, r) => api.benchSgemmPacked(k, m, kk, n, r) });
}

const pad = (s, w) => String(s).padStart(w);
console.log(`convscope GEMM, ${flavour} build, node ${process.version}, GFLOPS (${useBest ? 'best' : 'median'} of the repetitions)`);
console.log(`peak (independent chains): ${Object.entries(peaks).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
console.log(pad('shape', 16) + cols.map((c) => pad(c.name, 17)).join(''));
for (const [m, k, n] of shapes) {
  const flops = 2 * m * k * n;
  // About 0.3 s per cell, at least 7 repetitions.
  const reps = Math.max(7, Math.min(2000, Math.round(3e9 / flops)));
  const row = cols.map((c) => {
    const times = c.fn(m, k, n, reps);
    const ms = useBest ? Math.min(...times) : median(times);
    return pad((flops / (ms * 1e6)).toFixed(1), 17);
  });
  console.log(pad(`${m}x${k}x${n}`, 16) + row.join(''));
}
