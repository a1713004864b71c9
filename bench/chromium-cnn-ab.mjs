// Before/after of the shipped cnn's one-digit forward in headless Chromium, two builds in one
// page, rounds interleaved (each round alternates which build goes first). Build the bench
// flavour of both (`cargo xtask build --bench` in each checkout), then:
//   node bench/chromium-cnn-ab.mjs DIR_A DIR_B [--rounds 16] [--batch 500]
// Each DIR holds api.js + convscope.js + convscope_bg.wasm (bench/pkg/relaxed of a build).
// Prints, per build, the median µs per call of `model.forward(pixels)` + `probabilities()` +
// `free()` and of `model.predict(pixels)`, over batches of `batch` calls (Chromium's clock is
// coarse without cross-origin isolation: 100 µs steps), and the ratio B / A. Benchmark only on
// a quiet machine (load < 1); the load average is printed before and after.
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { join, resolve, dirname, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { createRequire } from 'node:module';

const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const rounds = opt('--rounds', 16);
const batch = opt('--batch', 500);
const dirs = args.filter((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
if (dirs.length !== 2) throw new Error('usage: chromium-cnn-ab.mjs DIR_A DIR_B [--rounds N] [--batch N]');
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const page = `<!doctype html><meta charset="utf-8"><script type="module">
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[(s.length - 1) >> 1]; };
const bytes = new Uint8Array(await (await fetch('/cnn.safetensors')).arrayBuffer());
const builds = [];
for (const name of ['a', 'b']) {
  const api = await import('/' + name + '/api.js');
  await api.default({ module_or_path: '/' + name + '/convscope_bg.wasm' });
  builds.push({ name, model: api.Model.load(bytes), fwd: [], pred: [] });
}
const px = Float32Array.from({ length: 784 }, (_, i) => ((i * 37) % 101) / 101);
for (const b of builds) for (let i = 0; i < 3000; i++) { b.model.forward(px).free(); b.model.predict(px); }
for (let round = 0; round < ${rounds}; round++) {
  for (const b of (round % 2 ? [...builds].reverse() : builds)) {
    for (let k = 0; k < 4; k++) {
      let t = performance.now();
      for (let i = 0; i < ${batch}; i++) { const f = b.model.forward(px); f.probabilities(); f.free(); }
      b.fwd.push((performance.now() - t) * 1000 / ${batch});
      t = performance.now();
      for (let i = 0; i < ${batch}; i++) b.model.predict(px);
      b.pred.push((performance.now() - t) * 1000 / ${batch});
    }
  }
}
window.result = builds.map((b) => ({ forward: median(b.fwd), predict: median(b.pred) }));
</script>`;
const types = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' };
const server = createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  let file = null;
  if (url.pathname === '/') { res.writeHead(200, { 'content-type': 'text/html' }); res.end(page); return; }
  if (url.pathname === '/cnn.safetensors') file = join(root, 'data/models/cnn.safetensors');
  const m = url.pathname.match(/^\/([ab])\/([\w./-]+)$/);
  if (m && m[2].split('/').includes('..')) { res.writeHead(404); res.end(); return; }
  if (m) file = join(resolve(dirs[m[1] === 'a' ? 0 : 1]), m[2]);
  try {
    const body = readFileSync(file);
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
    res.end(body);
  } catch { res.writeHead(404); res.end(); }
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const require = createRequire(join(root, 'tests/package.json'));
const { chromium } = require('playwright-core');
const before = loadavg()[0];
const browser = await chromium.launch({ executablePath: process.env.CHROME ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
const p = await browser.newPage();
let failed = null;
p.on('pageerror', (e) => { failed = e.message; });
p.on('console', (m) => { if (m.type() === 'error') failed = m.text(); });
await p.goto(`http://127.0.0.1:${server.address().port}/`);
await p.waitForFunction(() => window.result, null, { timeout: 300000, polling: 500 }).catch((e) => { throw new Error(failed ?? e.message); });
const [a, b] = await p.evaluate(() => window.result);
await browser.close();
server.close();
console.log(`cnn one-digit forward in Chromium, median µs per call (batches of ${batch}, ${rounds} rounds), load ${before.toFixed(2)} → ${loadavg()[0].toFixed(2)}`);
console.log(`forward + probabilities: A ${a.forward.toFixed(1)}, B ${b.forward.toFixed(1)}, B / A ${(b.forward / a.forward).toFixed(3)}`);
console.log(`predict:                 A ${a.predict.toFixed(1)}, B ${b.predict.toFixed(1)}, B / A ${(b.predict / a.predict).toFixed(3)}`);
