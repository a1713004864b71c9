// Before/after of the conv and GEMM ops through the JS API in headless Chromium, two builds in
// one page, rounds interleaved (each round alternates which build goes first): conv2d (the
// executor's raw path: im2col / implicit / direct by shape), conv_transpose2d (stride 1 and 2),
// matmul. Build the bench flavour of both (`cargo xtask build --bench` in each checkout), then:
//   node bench/chromium-ops-ab.mjs DIR_A DIR_B [--rounds 9]
// Each DIR holds api.js + convscope.js + convscope_bg.wasm (bench/pkg/relaxed of a build).
// Prints per op the median ms per call of each build and the ratio B / A, with the load.
import { parseArgs, runPage } from './ab-page.mjs';

const { dirs, opts: { rounds } } = parseArgs('chromium-ops-ab.mjs DIR_A DIR_B [--rounds N]', { rounds: 9 });
const page = `<!doctype html><meta charset="utf-8"><script type="module">
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[(s.length - 1) >> 1]; };
const rnd = (n, seed) => { let s = seed; return Float32Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5); };
const CASES = [
  ['conv2d 32→64 3×3 pad 1 on 32×32', (api) => { const x = new api.Tensor(rnd(32 * 32 * 32, 1), [1, 32, 32, 32]); const w = new api.Tensor(rnd(64 * 32 * 9, 2), [64, 32, 3, 3]); return () => api.conv2d(x, w, null, { padding: 1 }).free(); }],
  ['conv2d 8→16 5×5 pad 2 on 14×14, batch 64', (api) => { const x = new api.Tensor(rnd(64 * 8 * 196, 3), [64, 8, 14, 14]); const w = new api.Tensor(rnd(16 * 8 * 25, 4), [16, 8, 5, 5]); return () => api.conv2d(x, w, null, { padding: 2 }).free(); }],
  ['conv2d 1→8 5×5 pad 2 on 28×28, batch 64', (api) => { const x = new api.Tensor(rnd(64 * 784, 5), [64, 1, 28, 28]); const w = new api.Tensor(rnd(8 * 25, 6), [8, 1, 5, 5]); return () => api.conv2d(x, w, null, { padding: 2 }).free(); }],
  ['convTranspose2d 64→32 4×4 stride 2 on 16×16', (api) => { const x = new api.Tensor(rnd(64 * 256, 7), [1, 64, 16, 16]); const w = new api.Tensor(rnd(64 * 32 * 16, 8), [64, 32, 4, 4]); const b = new api.Tensor(rnd(32, 9), [32]); return () => api.convTranspose2d(x, w, b, { stride: 2, padding: 1 }).free(); }],
  ['convTranspose2d 32→16 3×3 stride 1 on 32×32', (api) => { const x = new api.Tensor(rnd(32 * 1024, 10), [1, 32, 32, 32]); const w = new api.Tensor(rnd(32 * 16 * 9, 11), [32, 16, 3, 3]); const b = new api.Tensor(rnd(16, 12), [16]); return () => api.convTranspose2d(x, w, b, { padding: 1 }).free(); }],
  ['matmul 256³', (api) => { const a = new api.Tensor(rnd(65536, 13), [256, 256]); const b = new api.Tensor(rnd(65536, 14), [256, 256]); return () => api.matmul(a, b).free(); }],
];
const builds = [];
for (const name of ['a', 'b']) {
  const api = await import('/' + name + '/api.js');
  await api.default({ module_or_path: '/' + name + '/convscope_bg.wasm' });
  builds.push({ name, runs: CASES.map(([, make]) => make(api)), t: CASES.map(() => []) });
}
const timeOne = (f) => { let n = 0; const t0 = performance.now(); let t = t0; while (t - t0 < 60) { f(); n++; t = performance.now(); } return (t - t0) / n; };
for (const b of builds) for (const f of b.runs) for (let i = 0; i < 20; i++) f();
for (let round = 0; round < ${rounds}; round++) {
  for (const b of (round % 2 ? [...builds].reverse() : builds)) b.runs.forEach((f, i) => b.t[i].push(timeOne(f)));
}
window.result = CASES.map(([name], i) => ({ name, a: median(builds[0].t[i]), b: median(builds[1].t[i]) }));
</script>`;
const { result: rows, load: [before, after] } = await runPage(dirs, page);
console.log(`ops in Chromium, median ms per call (${rounds} rounds, interleaved), load ${before.toFixed(2)} → ${after.toFixed(2)}`);
for (const r of rows) console.log(`${r.name.padEnd(46)} A ${r.a.toFixed(3)}  B ${r.b.toFixed(3)}  B / A ${(r.b / r.a).toFixed(3)}`);
