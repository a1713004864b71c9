// Register-tile shapes side by side (the measurement that picks the micro-kernels' tiles), in
// one node process, shapes interleaved round by round. Build the bench flavour first
// (`cargo xtask build --bench`), then on a quiet machine (load < 1):
//   node --experimental-wasm-relaxed-simd bench/node-tiles.mjs [relaxed|simd128] [--size 256,512] [--rounds 5]
// Prints the median GFLOPS of each R×4V tile (k not unrolled, and ×2) beside the one-core limit.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { loadavg } from 'node:os';

const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const madd = args.includes('simd128') ? 'simd128' : 'relaxed';
const sizes = opt('--size', '256,512').split(',').map(Number);
const rounds = Number(opt('--rounds', 5));
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = join(root, 'bench/pkg', madd);
const api = await import(join(pkg, 'convscope.js'));
api.initSync({ module: readFileSync(join(pkg, 'convscope_bg.wasm')) });
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const tiles = [[3, 3, 1], [4, 2, 1], [5, 2, 1], [2, 4, 1], [6, 2, 1], [4, 3, 1], [3, 2, 1], [2, 3, 1], [3, 3, 2], [4, 2, 2], [5, 2, 2]];
const load0 = loadavg();
const res = new Map();
for (let r = 0; r < rounds; r++) {
  for (const n of sizes) {
    for (const t of tiles) {
      const ms = api.benchTile(madd, t[0], t[1], t[2], n, n, n, n >= 512 ? 3 : 9);
      const key = `${t[0]}×${4 * t[1]}${t[2] > 1 ? ` k×${t[2]}` : ''} @${n}`;
      if (!res.has(key)) res.set(key, []);
      res.get(key).push((2 * n ** 3) / (median(ms) * 1e6));
    }
  }
}
const peak = api.benchPeak(madd);
const load1 = loadavg();
console.log(`${madd}: limit ${peak.toFixed(1)} GFLOPS; load ${load0[0].toFixed(2)} → ${load1[0].toFixed(2)}`);
console.log('| tile | GFLOPS (median of rounds) | of limit |');
console.log('|---|--:|--:|');
for (const [k, v] of res) console.log(`| ${k} | ${median(v).toFixed(1)} | ${((100 * median(v)) / peak).toFixed(0)}% |`);
