// Before/after comparison of the kernels in one node process, builds interleaved round by
// round (only figures from the same run compare). Build the bench flavour first
// (`cargo xtask build --bench`), copy an older bench/pkg/<flavour> aside, then:
//   node --experimental-wasm-relaxed-simd bench/node-ab.mjs DIR_A DIR_B [--impl relaxed] [--rounds 5]
// Each DIR holds convscope.js + convscope_bg.wasm of a bench build. Prints the median GFLOPS of
// each shape for each build and the ratio B / A. Benchmark only on a quiet machine (load < 1).
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { join, resolve } from 'node:path';
import { loadavg } from 'node:os';

const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const impl = opt('--impl', 'relaxed');
const rounds = Number(opt('--rounds', 5));
const optVals = new Set(['--impl', '--rounds'].map((o) => opt(o, null)).filter(Boolean));
const dirs = args.filter((a) => !a.startsWith('--') && !optVals.has(a));
if (dirs.length < 1) throw new Error('usage: node-ab.mjs DIR_A [DIR_B …] [--impl relaxed|simd128|relaxed-packed|…] [--rounds N]');

const builds = [];
for (const d of dirs) {
  const dir = resolve(d);
  const api = await import(pathToFileURL(join(dir, 'convscope.js')).href + `?${builds.length}`);
  api.initSync({ module: readFileSync(join(dir, 'convscope_bg.wasm')) });
  builds.push({ dir: d, api });
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const rows = [
  ['GEMM 256³', 2 * 256 ** 3, (a) => a.benchGemm(256, 256, 256, impl, 3, 15, 1)],
  ['GEMM 512³', 2 * 512 ** 3, (a) => a.benchGemm(512, 512, 512, impl, 1, 7, 1)],
  ['GEMM 1024³', 2 * 1024 ** 3, (a) => a.benchGemm(1024, 1024, 1024, impl, 1, 3, 1)],
  ['GEMM 64×784×128', 2 * 64 * 784 * 128, (a) => a.benchGemm(64, 784, 128, impl, 5, 25, 4)],
  ['conv 1×28×28→8 5×5 p2', 2 * 8 * 784 * 25, (a) => a.benchConv2d(1, 28, 28, 8, 5, 5, 1, 2, impl, 10, 25, 20)],
  ['conv 8×14×14→16 5×5 p2', 2 * 16 * 196 * 200, (a) => a.benchConv2d(8, 14, 14, 16, 5, 5, 1, 2, impl, 10, 25, 10)],
  ['conv 32×64×64→64 3×3 p1', 2 * 64 * 4096 * 288, (a) => a.benchConv2d(32, 64, 64, 64, 3, 3, 1, 1, impl, 2, 9, 1)],
  ['convT 16×14×14→8 4×4 s2 p1', 2 * 16 * 196 * 8 * 16, (a) => a.benchConvTranspose2d(16, 14, 14, 8, 4, 4, 2, 1, impl, 10, 25, 10)],
];
const samples = builds.map(() => rows.map(() => []));
const load0 = loadavg();
for (let r = 0; r < rounds; r++) {
  for (const [ri, row] of rows.entries()) {
    for (const [bi, b] of builds.entries()) {
      const ms = row[2](b.api);
      if (!ms.length) throw new Error(`${b.dir}: ${impl} is not in this build`);
      samples[bi][ri].push(row[1] / (median(ms) * 1e6));
    }
  }
}
const load1 = loadavg();
console.log(`impl ${impl}, ${rounds} interleaved rounds; load average at the start ${load0.map((x) => x.toFixed(2)).join(' / ')}, at the end ${load1.map((x) => x.toFixed(2)).join(' / ')}`);
console.log(`| shape | ${builds.map((b) => b.dir).join(' | ')} | ${builds.slice(1).map((b) => `${b.dir} / ${builds[0].dir}`).join(' | ')} |`);
console.log(`|---|${builds.map(() => '--:').join('|')}|${builds.slice(1).map(() => '--:').join('|')}|`);
for (const [ri, row] of rows.entries()) {
  const g = builds.map((_, bi) => median(samples[bi][ri]));
  console.log(`| ${row[0]} | ${g.map((x) => x.toFixed(1)).join(' | ')} | ${g.slice(1).map((x) => `${(x / g[0]).toFixed(2)}×`).join(' | ')} |`);
}
