// Where a training step's time goes in Chromium: the bench build (it keeps the wasm name
// section) trains a model on the page's main thread while V8's sampling profiler runs (the
// DevTools protocol), and the self time is summed by function. A guide to what is not
// arithmetic in a step (issue 22), not a benchmark: compare shares, not times.
//   cargo xtask build --bench && node bench/profile-train.mjs [--model cnn] [--steps 150]
//                                  [--batch 64] [--build relaxed] [--top 30] [--augment]
//                                  [--optimizer adam|sgd|momentum] [--lr 0.003]
//                                  [--callers tiles_simd_to] (that function's self time split
//                                  by its callers, --depth levels up, 3 unless told)
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { join, dirname, extname, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, d) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : d);
const model = opt('model', 'cnn');
const steps = Number(opt('steps', 150));
const batch = Number(opt('batch', 64));
const build = opt('build', 'relaxed');
const top = Number(opt('top', 30));
const callersOf = opt('callers', null);
const depth = Number(opt('depth', 3));
const augment = args.includes('--augment'); // the page's default is off
// The page's optimiser and learning rate for the model (www/js/scenes/train.js DEFAULTS).
const optimizer = opt('optimizer', model === 'cnn' ? 'adam' : 'sgd');
const lr = Number(opt('lr', optimizer === 'adam' ? 0.003 : 0.1));

const page = `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><script type="module">
import init, * as api from '/pkg/api.js';
await init({ module_or_path: '/pkg/convscope_bg.wasm' });
const bytes = async (n) => new Uint8Array(await (await fetch('/mnist/' + n)).arrayBuffer());
window.ds = api.Dataset.load(await bytes('train-images-idx3-ubyte.gz'), await bytes('train-labels-idx1-ubyte.gz'));
window.api = api;
window.ready = true;
</script>`;
const types = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.gz': 'application/octet-stream' };
const server = createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/') { res.writeHead(200, { 'content-type': 'text/html' }); res.end(page); return; }
  const m = url.pathname.match(/^\/(pkg|mnist)\/([\w./-]+)$/);
  if (!m || m[2].split('/').includes('..')) { res.writeHead(404); res.end(); return; }
  const file = m[1] === 'pkg' ? join(root, 'bench/pkg', build, m[2]) : join(root, 'data/mnist', m[2]);
  try {
    const body = readFileSync(normalize(file));
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
    res.end(body);
  } catch { res.writeHead(404); res.end(); }
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}`;

const { chromium } = createRequire(join(root, 'tests/package.json'))('playwright-core');
const before = loadavg();
const browser = await chromium.launch({ executablePath: process.env.CHROME ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
try {
  const p = await browser.newPage();
  p.on('pageerror', (e) => console.error('page error:', e.message));
  p.on('console', (m) => { if (m.type() === 'error') console.error('console:', m.text()); });
  p.on('response', (r) => { if (r.status() >= 400) console.error('HTTP', r.status(), r.url()); });
  await p.goto(`${base}/`);
  await p.waitForFunction(() => window.ready === true, null, { timeout: 30000 });
  const settings = { model, optimizer, lr, batch, init: 'seeded', seed: 1, augment };
  // Warm up (V8 tiers the wasm up), then profile.
  await p.evaluate((s) => { const t = new window.api.Trainer(window.ds, s); t.run(window.ds, 20); window.t = t; }, settings);
  const cdp = await p.context().newCDPSession(p);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
  await cdp.send('Profiler.start');
  const ms = await p.evaluate((n) => { const t0 = performance.now(); window.t.run(window.ds, n); return performance.now() - t0; }, steps);
  const { profile } = await cdp.send('Profiler.stop');
  const self = new Map();
  let total = 0;
  for (const node of profile.nodes) {
    const name = node.callFrame.functionName || `(${node.callFrame.url ? 'anonymous' : 'program'})`;
    self.set(name, (self.get(name) ?? 0) + node.hitCount);
    total += node.hitCount;
  }
  // Rust's legacy mangling, shortened: `_ZN9convscope4gemm6driver4gemm17h…E` → convscope::gemm::driver::gemm.
  const demangle = (s) => {
    const m = s.match(/_ZN((?:\d+[^\d][^]*?)+)17h[0-9a-f]{16}E/);
    if (!m) return s;
    const parts = [];
    let rest = m[1];
    while (rest.length && /^\d/.test(rest)) {
      const len = parseInt(rest, 10);
      const digits = String(len).length;
      parts.push(rest.slice(digits, digits + len));
      rest = rest.slice(digits + len);
    }
    return parts.join('::').replace(/\$LT\$/g, '<').replace(/\$GT\$/g, '>').replace(/\$u20\$/g, ' ').replace(/\$C\$/g, ',').replace(/\.\./g, '::');
  };
  const rows = [...self].map(([n, h]) => [demangle(n), h]).sort((a, b) => b[1] - a[1]).slice(0, top);
  const after = loadavg();
  console.log(`${model}, batch ${batch}, ${steps} steps on the main thread (${build} bench build): ${ms.toFixed(0)} ms, ${((steps * batch) / (ms / 1000)).toFixed(0)} samples/s; ${total} samples; load ${before.map((v) => v.toFixed(2)).join(' / ')} → ${after.map((v) => v.toFixed(2)).join(' / ')}`);
  console.log('| self % | function |');
  console.log('|---|---|');
  for (const [n, h] of rows) console.log(`| ${((100 * h) / total).toFixed(1)} | ${n} |`);
  if (callersOf) {
    const parent = new Map();
    for (const node of profile.nodes) for (const c of node.children ?? []) parent.set(c, node);
    const short = (node) => demangle(node.callFrame.functionName || '(program)').replace(/::h[0-9a-f]{16}$/, '').replace(/^convscope::/, '');
    const paths = new Map();
    let sum = 0;
    for (const node of profile.nodes) {
      if (!node.hitCount || !demangle(node.callFrame.functionName).includes(callersOf)) continue;
      const chain = [];
      for (let p = parent.get(node.id); p && chain.length < depth; p = parent.get(p.id)) chain.push(short(p));
      const key = chain.join(' ← ');
      paths.set(key, (paths.get(key) ?? 0) + node.hitCount);
      sum += node.hitCount;
    }
    console.log(`\n${callersOf}: ${((100 * sum) / total).toFixed(1)}% of the samples, by caller`);
    for (const [k, h] of [...paths].sort((a, b) => b[1] - a[1])) console.log(`  ${((100 * h) / total).toFixed(1)}%  ${k}`);
  }
} finally {
  await browser.close();
  server.close();
}
