// The npm package (`cargo xtask pack`): the tarball installs into an empty project and works in
// node 20 (`import init, { Tensor, conv2d } from 'convscope'; await init();`, the simd128 build,
// or the relaxed one with V8's flag), in Chromium as plain ES modules and bundled by Vite, its
// results equal to a naive reference, its errors named. The tarball is `CONVSCOPE_TGZ` (xtask test packs it once),
// else this test packs it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, readdirSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch } from './browser.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let dir;
let tgz;
let browser;

before(async () => {
  tgz = process.env.CONVSCOPE_TGZ;
  if (!tgz) tgz = execFileSync('cargo', ['xtask', 'pack'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop();
  assert.ok(existsSync(tgz), `the tarball ${tgz} exists`);
  dir = mkdtempSync(path.join(tmpdir(), 'convscope-pkg-'));
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'uses-convscope', private: true, type: 'module' }));
  // The package has no dependencies: installing it needs no registry.
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--silent', tgz], { cwd: dir, stdio: 'inherit' });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// What a user writes, plus checks against a naive conv computed here.
const USE = `
import init, { Tensor, conv2d, convTranspose2d, matmul, simdLevel } from 'convscope';
const naive = (x, [n, c, h, w], k, [o, , kh, kw], s, p) => {
  const oh = Math.floor((h + 2 * p - kh) / s) + 1, ow = Math.floor((w + 2 * p - kw) / s) + 1;
  const y = new Float32Array(n * o * oh * ow);
  for (let b = 0; b < n; b++) for (let q = 0; q < o; q++) for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) {
    let acc = 0;
    for (let ch = 0; ch < c; ch++) for (let u = 0; u < kh; u++) for (let v = 0; v < kw; v++) {
      const yy = i * s - p + u, xx = j * s - p + v;
      if (yy >= 0 && yy < h && xx >= 0 && xx < w) acc += x[((b * c + ch) * h + yy) * w + xx] * k[((q * c + ch) * kh + u) * kw + v];
    }
    y[((b * o + q) * oh + i) * ow + j] = acc;
  }
  return y;
};
const out = {};
try { new Tensor(new Float32Array(1), [1]); out.before = 'no error'; } catch (e) { out.before = e.message; }
const loaded = await init();
out.flavour = loaded.flavour;
out.simd = simdLevel();
out.again = (await init()).flavour;
let seed = 7;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5;
const xs = [2, 3, 13, 11], ks = [5, 3, 3, 3];
const xd = Float32Array.from({ length: 2 * 3 * 13 * 11 }, rnd), kd = Float32Array.from({ length: 5 * 3 * 3 * 3 }, rnd);
const y = conv2d(new Tensor(xd, xs), new Tensor(kd, ks), null, { stride: 2, padding: 1 });
const want = naive(xd, xs, kd, ks, 2, 1);
out.shape = y.shape;
out.maxDiff = Math.max(...Array.from(y.toArray(), (v, i) => Math.abs(v - want[i])));
const t = convTranspose2d(y, new Tensor(Float32Array.from({ length: 5 * 3 * 9 }, rnd), [5, 3, 3, 3]), null, { stride: 2, padding: 1 });
out.transposeShape = t.shape;
out.matmul = Array.from(matmul(new Tensor(Float32Array.of(1, 2, 3, 4), [2, 2]), new Tensor(Float32Array.of(5, 6, 7, 8), [2, 2])).toArray());
try { conv2d(new Tensor(xd, xs), new Tensor(kd, ks), null, { strid: 2 }); out.misspelt = 'accepted'; } catch (e) { out.misspelt = e.message; }
try { await init({ flavour: 'fast' }); out.badFlavour = 'accepted'; } catch (e) { out.badFlavour = e.message; }
console.log(JSON.stringify(out));
`;

function check(r, flavour) {
  assert.match(r.before, /init|not|undefined|constructor/i, 'before init() the API is not bound');
  assert.equal(r.flavour, flavour);
  assert.equal(r.simd, flavour);
  assert.equal(r.again, flavour, 'a second init() resolves to the same build');
  assert.deepEqual(r.shape, [2, 5, 7, 6]);
  assert.ok(r.maxDiff < 1e-5, `conv2d equals the naive conv (max |Δ| ${r.maxDiff})`);
  assert.deepEqual(r.transposeShape, [2, 3, 13, 11]);
  assert.deepEqual(r.matmul, [19, 22, 43, 50]);
  assert.match(r.misspelt, /strid/, 'a misspelt option is named');
  assert.match(r.badFlavour, /invalid flavour = fast/);
}

test('package: installed from the tarball, it runs in node 20 (simd128, and relaxed with V8\'s flag)', () => {
  writeFileSync(path.join(dir, 'use.mjs'), USE);
  const plain = JSON.parse(execFileSync(process.execPath, ['use.mjs'], { cwd: dir, encoding: 'utf8' }));
  check(plain, 'simd128');
  const relaxed = JSON.parse(execFileSync(process.execPath, ['--experimental-wasm-relaxed-simd', 'use.mjs'], { cwd: dir, encoding: 'utf8' }));
  check(relaxed, 'relaxed');
  const pkg = JSON.parse(readFileSync(path.join(dir, 'node_modules/convscope/package.json'), 'utf8'));
  assert.equal(pkg.type, 'module');
  assert.ok(existsSync(path.join(dir, 'node_modules/convscope/index.d.ts')), 'the package carries its types');
  const readme = readFileSync(path.join(dir, 'node_modules/convscope/README.md'), 'utf8');
  assert.match(readme, /await init\(\)/);
  assert.match(readme, /export function conv2d\(x: Tensor/, 'the API reference is made from the types');
  // The README's example runs as written.
  const example = readme.split('## Three lines')[1].split('```js')[1].split('```')[0];
  writeFileSync(path.join(dir, 'readme.mjs'), example);
  const shown = execFileSync(process.execPath, ['readme.mjs'], { cwd: dir, encoding: 'utf8' });
  assert.match(shown, /\[ 1, 1, 5, 5 \][^]*4, 6, 6, 6, 4, 6, 9/, shown);
});

/** Serves `root`'s files at http://package.test/ to a fresh page; returns the page's result. */
async function runIn(root, html) {
  const base = 'http://package.test/';
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const types = { js: 'text/javascript', mjs: 'text/javascript', wasm: 'application/wasm', html: 'text/html' };
  await page.route(`${base}**`, (route) => {
    const rel = decodeURIComponent(new URL(route.request().url()).pathname).replace(/^\/+/, '');
    const file = path.join(root, rel);
    if (rel === 'index.html' && html) return route.fulfill({ status: 200, body: html, contentType: 'text/html' });
    if (!file.startsWith(root) || !existsSync(file)) return route.fulfill({ status: 404, body: 'not found' });
    return route.fulfill({ status: 200, body: readFileSync(file), contentType: types[rel.split('.').pop()] ?? 'application/octet-stream' });
  });
  await page.goto(`${base}index.html`);
  await page.waitForFunction(() => window.result, null, { timeout: 30000 });
  const result = await page.evaluate(() => window.result);
  assert.deepEqual(errors, []);
  await context.close();
  return result;
}

const inPage = (from) => USE.replace("from 'convscope'", `from '${from}'`).replace('console.log(JSON.stringify(out));', 'window.result = out;');

test('package: typed for a TypeScript user (tsc --strict on code that imports it; a misspelt option fails)', () => {
  const tsc = path.join(ROOT, 'tests/node_modules/typescript/bin/tsc');
  writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', skipLibCheck: false }, files: ['typed.ts'] }));
  const good = `import init, { Tensor, conv2d, type Conv2dOptions } from 'convscope';
const { flavour } = await init();
const f: 'relaxed' | 'simd128' = flavour;
const opts: Conv2dOptions = { stride: 2, padding: [1, 1] };
const y: Tensor = conv2d(new Tensor(new Float32Array(9), [1, 1, 3, 3]), new Tensor(new Float32Array(1), [1, 1, 1, 1]), null, opts);
const shape: number[] = y.shape;
export { f, shape };
`;
  writeFileSync(path.join(dir, 'typed.ts'), good);
  execFileSync(process.execPath, [tsc, '-p', dir], { cwd: dir, encoding: 'utf8' });
  writeFileSync(path.join(dir, 'typed.ts'), good.replace('{ stride: 2, padding: [1, 1] }', '{ strid: 2 }'));
  let out = '';
  try { execFileSync(process.execPath, [tsc, '-p', dir], { cwd: dir, encoding: 'utf8' }); } catch (e) { out = String(e.stdout); }
  assert.match(out, /strid/, `a misspelt option fails to type-check: ${out}`);
});

test('package: in Chromium as plain ES modules from the installed folder', async () => {
  check(await runIn(dir, `<!doctype html><script type="module">${inPage('./node_modules/convscope/index.js')}</script>`), 'relaxed');
});

test('package: bundled by Vite, the wasm files emitted as assets', async () => {
  const { build } = await import('vite');
  writeFileSync(path.join(dir, 'main.js'), USE.replace('console.log(JSON.stringify(out));', 'window.result = out;'));
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html><script type="module" src="./main.js"></script>');
  await build({ root: dir, logLevel: 'error', build: { outDir: 'dist', target: 'es2022' } });
  const assets = readdirSync(path.join(dir, 'dist/assets'));
  assert.ok(assets.some((f) => f.endsWith('.wasm')), `the wasm is an asset of the bundle: ${assets}`);
  check(await runIn(path.join(dir, 'dist'), null), 'relaxed');
});
