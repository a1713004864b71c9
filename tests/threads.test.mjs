// The thread pool: the server makes the page cross-origin isolated (COOP/COEP), the threaded
// build's GEMM on 2 threads equals its 1-thread GEMM bit for bit for several shapes (ragged
// edges, split by columns and by rows, depths past one k block), setThreads(1) retires the
// worker, and the builds without threads refuse n > 1 by name. The threaded tests skip when
// `cargo xtask build` skipped the threads build (no nightly toolchain). The page loads the
// threaded build, shows its threads and follows setThreads; without isolation it falls back and
// says why; a training run on 2 threads equals one on 2 one-thread workers (its shards), and a
// dense model's on 2 threads its run on 1.
// Convolutions (direct and the phases in bands of rows, implicit GEMM, grouped, depthwise,
// transposed by phases and by col2im), matrix-vector products and the cnn's conv gradients on
// 2 threads equal 1 thread bit for bit.
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
  // (k past one 256-deep block), wide (n past one 1024-wide block); matrix-vector products
  // (M = 1 and N = 1, columns split in 32-wide blocks).
  const shapes = [[512, 512, 512], [130, 70, 67], [37, 300, 83], [257, 129, 131], [83, 600, 29], [600, 64, 17], [9, 64, 1500], [1, 1024, 1000], [1000, 1024, 1]];
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

/**
 * Runs in the page: loads the threaded build and computes every conv case (conv2d or
 * convTranspose2d with a bias) on 1 thread and on 2, and a cnn Trainer's gradients of one batch
 * (the convs' backward passes: dX and dW) likewise; returns, per case, how many output
 * elements differ between the two and the output's length.
 */
async function threadedConvs(cases) {
  const api = await import('/pkg/threads/api.js');
  await api.default({ module_or_path: '/pkg/threads/convscope_bg.wasm' });
  let seed = 777;
  const rand = (len) => Float32Array.from({ length: len }, () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 2 ** 31 - 1;
  });
  const count = (shape) => shape.reduce((a, b) => a * b, 1);
  const operands = cases.map(({ x, w, bias }) => [new api.Tensor(rand(count(x)), x), new api.Tensor(rand(count(w)), w), new api.Tensor(rand(bias), [bias])]);
  const outputs = () => cases.map(({ op, opts }, i) => {
    const [x, w, b] = operands[i];
    const y = op === 'conv2d' ? api.conv2d(x, w, b, opts) : api.convTranspose2d(x, w, b, opts);
    const bits = new Uint32Array(y.toArray().buffer.slice(0));
    y.free();
    return bits;
  });
  const bytes = async (n) => new Uint8Array(await (await fetch(`data/mnist/${n}`)).arrayBuffer());
  const ds = api.Dataset.load(await bytes('train-images-idx3-ubyte.gz'), await bytes('train-labels-idx1-ubyte.gz'));
  const settings = { model: 'cnn', optimizer: 'sgd', lr: 0.01, batch: 64, init: 'seeded', seed: 5, augment: false };
  // One shard of one batch: computed by this thread, its convs split across the pool.
  const gradients = () => {
    const tr = new api.Trainer(ds, settings);
    const g = tr.gradients(ds, 0, 1);
    tr.free();
    return new Uint32Array(g.buffer.slice(g.byteOffset, g.byteOffset + g.byteLength));
  };
  const diff = (a, b) => {
    let d = a.length === b.length ? 0 : -1;
    for (let j = 0; j < a.length; j++) if (a[j] !== b[j]) d++;
    return d;
  };
  const out = { before: await api.setThreads(1) };
  const one = [...outputs(), gradients()];
  out.two = await api.setThreads(2);
  const two = [...outputs(), gradients()];
  out.back = await api.setThreads(1);
  const oneAgain = [...outputs(), gradients()];
  out.diff = two.map((t, i) => diff(t, one[i]));
  out.diffBack = oneAgain.map((t, i) => diff(t, one[i]));
  out.lengths = one.map((t) => t.length);
  out.nan = one.map((t) => new Float32Array(t.buffer).some(Number.isNaN));
  for (const ts of operands) for (const t of ts) t.free();
  ds.free();
  out.live = api.liveObjects();
  return out;
}

test('threaded conv2d, convTranspose2d and the cnn\'s conv gradients on 2 threads equal 1 thread bit for bit', async (t) => {
  if (!(await threadsBuilt())) {
    t.skip('no threads build (cargo xtask build skipped it: no nightly toolchain)');
    return;
  }
  const { page, context, errors } = await openPage(browser);
  // Each big enough to split on 2 threads: by bands of output rows (one image: the direct
  // path, the phases), by whole images or groups (batches, grouped and depthwise convs), and
  // inside the GEMM (the stride-1 transposed conv's col2im path).
  const cases = [
    { name: 'conv2d 8→16 5×5 14×14 (the cnn\'s conv2: one panel, 2 bands of rows)', op: 'conv2d', x: [1, 8, 14, 14], w: [16, 8, 5, 5], bias: 16, opts: { padding: 2 } },
    { name: 'conv2d 3→24 3×3 stride [3, 1], dilation [2, 1], padding [2, 1, 0, 3] (21 rows: 11 and 10)', op: 'conv2d', x: [1, 3, 64, 50], w: [24, 3, 3, 3], bias: 24, opts: { stride: [3, 1], dilation: [2, 1], padding: [2, 1, 0, 3] } },
    { name: 'conv2d 3 groups of 8→8 on one image (each group in bands of rows)', op: 'conv2d', x: [1, 24, 33, 33], w: [24, 8, 3, 3], bias: 24, opts: { padding: 1, groups: 3 } },
    { name: 'convTranspose2d 32→16 3×3 stride 3, 15×15 → 43×43 (bands of rows of every phase)', op: 'convT', x: [1, 32, 15, 15], w: [32, 16, 3, 3], bias: 16, opts: { stride: 3, padding: 1 } },
    { name: 'conv2d 1→32 5×5, 1 image (direct)', op: 'conv2d', x: [1, 1, 96, 96], w: [32, 1, 5, 5], bias: 32, opts: { padding: 2 } },
    { name: 'conv2d 1→32 5×5, 8 images (direct)', op: 'conv2d', x: [8, 1, 28, 28], w: [32, 1, 5, 5], bias: 32, opts: { padding: 2 } },
    { name: 'conv2d 32→64 3×3 56×56', op: 'conv2d', x: [1, 32, 56, 56], w: [64, 32, 3, 3], bias: 64, opts: { padding: 1 } },
    { name: 'conv2d 32→64 3×3, 2 images', op: 'conv2d', x: [2, 32, 28, 28], w: [64, 32, 3, 3], bias: 64, opts: { padding: 1 } },
    { name: 'conv2d 32→64 3×3 stride 2 (implicit GEMM)', op: 'conv2d', x: [1, 32, 56, 56], w: [64, 32, 3, 3], bias: 64, opts: { padding: 1, stride: 2 } },
    { name: 'conv2d grouped 32→64, 4 groups', op: 'conv2d', x: [1, 32, 28, 28], w: [64, 8, 3, 3], bias: 64, opts: { padding: 1, groups: 4 } },
    { name: 'conv2d depthwise 64 3×3', op: 'conv2d', x: [1, 64, 56, 56], w: [64, 1, 3, 3], bias: 64, opts: { padding: 1, groups: 64 } },
    { name: 'convTranspose2d 64→32 4×4 stride 2 (phases)', op: 'convT', x: [1, 64, 28, 28], w: [64, 32, 4, 4], bias: 32, opts: { stride: 2, padding: 1 } },
    { name: 'convTranspose2d 16→8 4×4 stride 2, 2 images', op: 'convT', x: [2, 16, 14, 14], w: [16, 8, 4, 4], bias: 8, opts: { stride: 2, padding: 1 } },
    { name: 'convTranspose2d 32→16 3×3 stride 1 (GEMM + col2im)', op: 'convT', x: [1, 32, 28, 28], w: [32, 16, 3, 3], bias: 16, opts: { padding: 1 } },
    { name: 'convTranspose2d grouped, 2 groups, stride 2', op: 'convT', x: [2, 32, 14, 14], w: [32, 16, 3, 3], bias: 32, opts: { stride: 2, groups: 2 } },
  ];
  const r = await page.evaluate(threadedConvs, cases);
  const names = [...cases.map((c) => c.name), 'cnn Trainer gradients of one batch of 64'];
  assert.equal(r.before, 1);
  assert.equal(r.two, 2);
  assert.equal(r.back, 1);
  const zero = names.map(() => 0);
  const per = (d) => Object.fromEntries(names.map((n, i) => [n, d[i]]));
  assert.deepEqual(per(r.diff), per(zero), 'elements that differ on 2 threads');
  assert.deepEqual(per(r.diffBack), per(zero), 'elements that differ after setThreads(1)');
  assert.deepEqual(per(r.nan), per(names.map(() => false)), 'NaN in an output');
  for (const [i, n] of r.lengths.entries()) assert.ok(n > 1000, `${names[i]}: ${n} values`);
  assert.equal(r.live.tensors, 0);
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

test('a training run on 2 threads equals the same run on 2 one-thread workers bit for bit (a dense model: the one-thread run)', async (t) => {
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
    // A dense model keeps its batch whole on 2 threads (its products split inside): the
    // one-thread run, bit for bit.
    const dense = { ...settings, model: 'mlp', optimizer: 'sgd', lr: 0.1 };
    await api.setThreads(2);
    const mlp2 = new api.Trainer(ds, dense);
    const m2 = mlp2.run(ds, STEPS);
    await api.setThreads(1);
    const mlp1 = new api.Trainer(ds, dense);
    const m1 = mlp1.run(ds, STEPS);
    const [tm2, tm1] = [mlp2, mlp1].map(tensors);
    const out = { samples: s.samples, loss: s.batchLoss, workersLoss: w.batchLoss, bytes: tt.length, workers: diff(tt, tw0), workersAgree: diff(tw0, tw1), mlp: diff(tm2, tm1), mlpBytes: tm1.length, mlpLoss: [m2.batchLoss, m1.batchLoss] };
    for (const tr of [threaded, ...workers, mlp2, mlp1]) tr.free();
    ds.free();
    return out;
  });
  assert.equal(r.samples, 6 * 64);
  assert.ok(r.bytes > 10000, `${r.bytes} bytes of tensors saved`);
  assert.equal(r.workers, 0, 'bytes of the saved model that differ between 2 threads and 2 one-thread workers');
  assert.equal(r.workersAgree, 0, 'the two workers hold the same weights');
  assert.equal(r.loss, r.workersLoss);
  assert.ok(r.mlpBytes > 100000, `${r.mlpBytes} bytes of the mlp's tensors`);
  assert.equal(r.mlp, 0, 'bytes of the mlp that differ between 2 threads and 1');
  assert.equal(r.mlpLoss[0], r.mlpLoss[1]);
  assert.deepEqual(errors, []);
  await context.close();
});
