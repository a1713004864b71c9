// Correlate: the kernel's weights ride on the input window. Each weight (the kernel that slides:
// turned by 180° with "flip") sits on the cell it multiplies at every step, the layer moves with
// a short transition, and under prefers-reduced-motion it jumps at once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, BASE_URL } from './browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** The taps' boxes and values, and the boxes of the window's cells in the trace's tap order. */
const overlay = (page) => page.evaluate(() => {
  const box = (n) => { const r = n.getBoundingClientRect(); return [Math.round(r.x), Math.round(r.y), Math.round(r.width), Math.round(r.height)]; };
  const over = document.getElementById('corr-kernel-over');
  const taps = [...over.querySelectorAll('.cs-ktap')].map((t) => ({ value: Number(t.dataset.value), box: box(t) }));
  return { taps, at: Number(over.dataset.at), duration: getComputedStyle(over).transitionDuration };
});

async function windowCells(page, hash, t) {
  return page.evaluate(async ({ hash, t }) => {
    const { api } = await (await import('./js/wasm.js')).loadWasm();
    const q = new URLSearchParams(hash.split('?')[1]);
    const n = Number(q.get('n'));
    const x = api.tracePresetImage({ name: q.get('in'), size: [n, n], seed: 1 });
    const k = api.tracePresetKernel({ name: q.get('k'), size: Number(q.get('ks')), seed: 7 });
    const ints = (key) => q.get(key).split(',').map(Number);
    const tr = api.traceCorrelate(x, k.values, { size: n, kernelSize: k.size, stride: ints('s'), padding: ints('p'), dilation: ints('d'), flip: q.get('f') === '1' });
    const cells = document.querySelectorAll('#corr-input-grid .cs-cell');
    const win = Array.from(tr.window.subarray(t * tr.taps, (t + 1) * tr.taps));
    return {
      kernel: Array.from(tr.kernel),
      boxes: win.map((i) => { const r = cells[i].getBoundingClientRect(); return [Math.round(r.x), Math.round(r.y), Math.round(r.width), Math.round(r.height)]; }),
    };
  }, { hash, t });
}

for (const flip of ['0', '1']) {
  test(`Correlate: the kernel's weights sit on the window at every step (flip ${flip}), moved with a transition`, async () => {
    const hash = `#correlate?in=letter&n=7&k=sobel-x&ks=3&s=2,1&p=1,1,1,1&d=1,2&f=${flip}&t=0`;
    const { page, context, errors } = await openPage(browser, hash);
    await page.waitForSelector('#corr-kernel-over .cs-ktap');
    for (let t = 0; t < 6; t++) {
      if (t > 0) await page.click('#corr-fwd');
      await page.waitForTimeout(350); // past the 180 ms transition
      const o = await overlay(page);
      const want = await windowCells(page, hash, t);
      assert.deepEqual(o.taps.map((x) => x.value), want.kernel, `step ${t + 1}: the weights of the kernel that slides`);
      o.taps.forEach((tap, j) => assert.deepEqual(tap.box, want.boxes[j], `step ${t + 1}, tap ${j}: on its cell`));
      assert.equal(o.duration, '0.18s');
    }
    assert.deepEqual(errors, []);
    await context.close();
  });
}

test('Correlate: under prefers-reduced-motion the weights jump to the window at once', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, reducedMotion: 'reduce' });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const hash = '#correlate?in=letter&n=7&k=sobel-x&ks=3&s=1,1&p=0,0,0,0&d=1,1&f=0&t=0';
  await page.goto(`${BASE_URL}/${hash}`);
  await page.waitForSelector('#corr-kernel-over .cs-ktap');
  for (let t = 1; t < 4; t++) {
    await page.click('#corr-fwd');
    const o = await overlay(page);
    assert.equal(o.duration, '0s');
    const want = await windowCells(page, hash, t);
    o.taps.forEach((tap, j) => assert.deepEqual(tap.box, want.boxes[j], `step ${t + 1}, tap ${j}: there at once`));
  }
  assert.deepEqual(errors, []);
  await context.close();
});
