// The thread pool: the server makes the page cross-origin isolated (COOP/COEP), the threaded
// build's GEMM on 2 threads equals its 1-thread GEMM bit for bit for several shapes (ragged
// edges, split by columns and by rows, depths past one k block), setThreads(1) retires the
// worker, and the builds without threads refuse n > 1 by name. The threaded tests skip when
// `cargo xtask build` skipped the threads build (no nightly toolchain). The page loads the
// threaded build, shows its threads and follows setThreads; without isolation it falls back and
// says why; a training run on 2 threads equals one on 2 one-thread workers (its shards).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, withoutIsolation, BASE_URL } from './browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const threadsBuilt = async () => (await fetch(`${BASE_URL}/pkg/threads/convscope_bg.wasm`, { method: 'HEAD' })).ok;

test('the page is cross-origin isolated (COOP same-origin, COEP require-corp)', async () => {
  const res = await fetch(`${BASE_URL}/`);
  assert.equal(res.headers.get('cross-origin-opener-policy'), 'same-origin');
  assert.equal(res.headers.get('cross-origin-embedder-policy'), 'require-corp');
  const { page, context, errors } = await openPage(browser);
  assert.equal(await page.evaluate(() => globalThis.crossOriginIsolated), true);
  assert.equal(await page.evaluate(() => typeof SharedArrayBuffer), 'function');
  assert.deepEqual(errors, []);
  await context.close();
});

test('the builds without threads run 1 thread and refuse more by name', async () => {
  const { page, context, errors } = await openPage(browser);
  const got = await page.evaluate(async () => {
    const out = {};
    for (const flavour of ['simd128', 'relaxed']) {
      const api = await import(`/pkg/${flavour}/api.js`);
      await api.default({ module_or_path: `/pkg/${flavour}/convscope_bg.wasm` });
      const msg = async (n) => { try { return `resolved ${await api.setThreads(n)}`; } catch (e) { return e instanceof Error ? e.message : `non-Error ${e}`; } };
      out[flavour] = {
        threads: api.threads(),
        one: await msg(1),
        two: await msg(2),
        zero: await msg(0),
        half: await msg(1.5),
        text: await msg('2'),
        after: api.threads(),
      };
    }
    return out;
  });
  for (const flavour of ['simd128', 'relaxed']) {
    const r = got[flavour];
    assert.equal(r.threads, 1, flavour);
    assert.equal(r.one, 'resolved 1', flavour);
    assert.match(r.two, /^invalid n = 2: this build has no threads/, flavour);
    assert.match(r.zero, /^invalid n = 0: must be a whole number from 1 to 16/, flavour);
    assert.match(r.half, /^invalid n = 1\.5: must be a whole number/, flavour);
    assert.match(r.text, /^invalid n = a string "2": must be a number/, flavour);
    assert.equal(r.after, 1, flavour);
  }
  assert.deepEqual(errors, []);
  await context.close();
});

/**
 * Runs in the page: loads the threaded build, computes each product on 1 thread and on 2,
 * then on 1 again after setThreads(1), and returns the bits' comparisons.
 */
async function threadedGemm(shapes) {
  const api = await import('/pkg/threads/api.js');
  await api.default({ module_or_path: '/pkg/threads/convscope_bg.wasm' });
  let seed = 12345;
  const rand = (len) => Float32Array.from({ length: len }, () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 2 ** 31 - 1;
  });
  const operands = shapes.map(([m, k, n]) => [new api.Tensor(rand(m * k), [m, k]), new api.Tensor(rand(k * n), [k, n])]);
  const bitsOf = () => operands.map(([a, b]) => {
    const c = api.matmul(a, b);
    const bits = new Uint32Array(c.toArray().buffer.slice(0));
    c.free();
    return bits;
  });
  const same = (x, y) => x.map((b, i) => {
    let diff = 0;
    for (let j = 0; j < b.length; j++) if (b[j] !== y[i][j]) diff++;
    return diff;
  });
  // The page runs this same module (with its own threads): start from one thread.
  const out = { before: await api.setThreads(1), build: api.simdLevel() };
  const one = bitsOf();
  out.two = await api.setThreads(2);
  out.running = api.threads();
  const two = bitsOf();
  out.again = bitsOf();
  out.back = await api.setThreads(1);
  const oneAgain = bitsOf();
  out.twoAgain = await api.setThreads(2);
  const twoAgain = bitsOf();
  out.diffTwo = same(two, one);
  out.diffAgain = same(out.again, one);
  out.diffBack = same(oneAgain, one);
  out.diffTwoAgain = same(twoAgain, one);
  out.again = undefined;
  out.tooMany = await api.setThreads(17).then(() => 'resolved', (e) => e.message);
  out.final = await api.setThreads(1);
  for (const [a, b] of operands) { a.free(); b.free(); }
  return out;
}

test('threaded GEMM on 2 threads equals 1 thread bit for bit; setThreads(1) works', async (t) => {
  if (!(await threadsBuilt())) {
    t.skip('no threads build (cargo xtask build skipped it: no nightly toolchain)');
    return;
  }
  const worker = await fetch(`${BASE_URL}/pkg/threads/pool-worker.js`);
  assert.equal(worker.status, 200);
  assert.match(worker.headers.get('content-type'), /javascript/);
  const { page, context, errors } = await openPage(browser);
  // m × k × n: square (columns split), ragged in every dimension, tall (rows split), deep
  // (k past one 256-deep block), wide (n past one 1024-wide block).
  const shapes = [[512, 512, 512], [130, 70, 67], [37, 300, 83], [257, 129, 131], [83, 600, 29], [600, 64, 17], [9, 64, 1500]];
  const r = await page.evaluate(threadedGemm, shapes);
  assert.equal(r.before, 1);
  assert.equal(r.build, 'relaxed');
  assert.equal(r.two, 2);
  assert.equal(r.running, 2);
  const zero = shapes.map(() => 0);
  assert.deepEqual(r.diffTwo, zero, `elements that differ on 2 threads, per shape ${JSON.stringify(shapes)}`);
  assert.deepEqual(r.diffAgain, zero, 'a second run on 2 threads');
  assert.equal(r.back, 1);
  assert.deepEqual(r.diffBack, zero, 'after setThreads(1)');
  assert.equal(r.twoAgain, 2);
  assert.deepEqual(r.diffTwoAgain, zero, 'after setThreads(2) again');
  assert.match(r.tooMany, /^invalid n = 17: must be a whole number from 1 to 16/);
  assert.equal(r.final, 1);
  assert.deepEqual(errors, []);
  await context.close();
});

/** The header's build line. */
const header = (page) => page.$eval('#build', (b) => ({ text: b.textContent, flavour: b.dataset.flavour, threads: b.dataset.threads, why: b.dataset.why ?? null }));

test('the page runs the threaded build on the cores it reports, says so, and works after setThreads(1)', async (t) => {
  if (!(await threadsBuilt())) {
    t.skip('no threads build (cargo xtask build skipped it: no nightly toolchain)');
    return;
  }
  const { page, context, errors } = await openPage(browser, '#draw');
  const cores = await page.evaluate(() => Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1)));
  const h = await header(page);
  assert.equal(h.flavour, 'threads');
  assert.equal(h.threads, String(cores));
  assert.match(h.text, new RegExp(`^relaxed-simd · ${cores} threads?$`));
  assert.equal(h.why, null);
  assert.equal(await page.evaluate(() => globalThis.convscope.threads()), cores);
  await page.waitForSelector('.layers .layer');
  await page.keyboard.press('e');
  await page.waitForFunction(() => document.querySelector('#prediction')?.dataset.digit !== '');
  const before = await page.getAttribute('#prediction', 'data-digit');
  // One thread from the console: the header follows, and the scenes go on working.
  assert.equal(await page.evaluate(() => globalThis.convscope.setThreads(1)), 1);
  await page.waitForFunction(() => document.querySelector('#build').dataset.threads === '1');
  assert.match((await header(page)).text, /· 1 thread$/);
  await page.keyboard.press('c');
  await page.waitForFunction(() => document.querySelector('#prediction')?.dataset.digit === '');
  await page.keyboard.press('e');
  await page.waitForFunction(() => document.querySelector('#prediction')?.dataset.digit !== '');
  assert.match(before, /^\d$/);
  await page.goto(`${BASE_URL}/#correlate`);
  await page.waitForSelector('#corr-output .cs-cell');
  assert.deepEqual(errors, []);
  await context.close();
});

test('without cross-origin isolation the page falls back to one thread and says why', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  // The same server's responses without COOP and COEP: no SharedArrayBuffer, no threads.
  await withoutIsolation(context);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(`${BASE_URL}/#draw`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30000 });
  assert.equal(await page.evaluate(() => globalThis.crossOriginIsolated), false);
  const h = await header(page);
  assert.equal(h.flavour, 'relaxed');
  assert.equal(h.threads, '1');
  const { builds } = await (await fetch(`${BASE_URL}/pkg/builds.json`)).json();
  if (builds.includes('threads')) {
    assert.match(h.text, /^relaxed-simd · 1 thread \(not isolated\)$/);
    assert.match(h.why, /not cross-origin isolated/);
  } else assert.match(h.text, /1 thread \(not built\)$/);
  assert.equal(await page.evaluate(() => globalThis.convscope.threads()), 1);
  assert.match(await page.evaluate(() => globalThis.convscope.setThreads(2).then(() => 'resolved', (e) => e.message)), /^invalid n = 2: this build has no threads/);
  await page.waitForSelector('.layers .layer');
  await page.keyboard.press('e');
  await page.waitForFunction(() => document.querySelector('#prediction')?.dataset.digit !== '');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a training run on 2 threads equals the same run on 2 one-thread workers bit for bit', async (t) => {
  if (!(await threadsBuilt())) {
    t.skip('no threads build (cargo xtask build skipped it: no nightly toolchain)');
    return;
  }
  const { page, context, errors } = await openPage(browser);
  const r = await page.evaluate(async () => {
    const api = globalThis.convscope;
    const bytes = async (n) => new Uint8Array(await (await fetch(`data/mnist/${n}`)).arrayBuffer());
    const ds = api.Dataset.load(await bytes('train-images-idx3-ubyte.gz'), await bytes('train-labels-idx1-ubyte.gz'));
    const settings = { model: 'cnn', optimizer: 'adam', lr: 0.002, batch: 64, init: 'seeded', seed: 3, augment: true };
    const STEPS = 6;
    // On 2 threads a step splits its batch in 2 shards, computed at once, applied in order.
    await api.setThreads(2);
    const threaded = new api.Trainer(ds, settings);
    const s = threaded.run(ds, STEPS);
    // The same as the page's 2 training workers on 1 thread each: each computes its shard of
    // every batch, and both apply the two shards' gradients.
    await api.setThreads(1);
    const workers = [new api.Trainer(ds, settings), new api.Trainer(ds, settings)];
    let w = null;
    for (let i = 0; i < STEPS; i++) {
      const g = workers.map((tr, k) => tr.gradients(ds, k, 2));
      w = workers.map((tr) => tr.apply(g))[0];
    }
    // The tensors' bytes, after the safetensors header (whose metadata's key order is a
    // HashMap's, so it can differ between any two saves).
    const tensors = (tr) => { const f = tr.save(); return f.subarray(8 + Number(new DataView(f.buffer, f.byteOffset).getBigUint64(0, true))); };
    const diff = (a, b) => { let d = a.length === b.length ? 0 : -1; for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) d++; return d; };
    const [tt, tw0, tw1] = [threaded, ...workers].map(tensors);
    const out = { samples: s.samples, loss: s.batchLoss, workersLoss: w.batchLoss, bytes: tt.length, workers: diff(tt, tw0), workersAgree: diff(tw0, tw1) };
    for (const tr of [threaded, ...workers]) tr.free();
    ds.free();
    return out;
  });
  assert.equal(r.samples, 6 * 64);
  assert.ok(r.bytes > 10000, `${r.bytes} bytes of tensors saved`);
  assert.equal(r.workers, 0, 'bytes of the saved model that differ between 2 threads and 2 one-thread workers');
  assert.equal(r.workersAgree, 0, 'the two workers hold the same weights');
  assert.equal(r.loss, r.workersLoss);
  assert.deepEqual(errors, []);
  await context.close();
});
