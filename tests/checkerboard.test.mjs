// The checkerboard section of #transpose (Distill's article, completed): two stacked stride-2
// transposed convs beside nearest-neighbour upsampling then a conv. What the page shows must be
// what the wasm ops compute (convTranspose2d twice; the nearest upsampling, itself a
// convTranspose2d with an s×s kernel of ones, then conv2d), the counts must be the outputs for
// ones everywhere, the legends must carry the end numbers, and a link must restore the setting.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, screenshot } from './browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const close = (a, b, what) => assert.ok(Math.abs(a - b) <= 1e-4 * (1 + Math.abs(b)), `${what}: ${a} vs ${b}`);
/** The values a grid shows: its cells' `data-value`, or a canvas grid's `gridValues`. */
const cells = (page, sel) => page.$eval(sel, (g) => (g.dataset.render === 'canvas' ? g.gridValues : [...g.querySelectorAll('.cs-cell')].map((c) => Number(c.dataset.value))));

/** Both paths through the wasm ops, for `setting`, in the page. */
function expected(page, { input, n, kernel, k, s }) {
  return page.evaluate(async ({ input, n, kernel, k, s }) => {
    const { api } = await (await import('./js/wasm.js')).loadWasm();
    const kv = api.tracePresetKernel({ name: kernel, size: k, seed: 5 }).values;
    const run = (x0, kvals) => {
      const kt = new api.Tensor(kvals, [1, 1, k, k]);
      const near = new api.Tensor(new Float32Array(s * s).fill(1), [1, 1, s, s]);
      const pad = k >= s ? [Math.floor((k - s) / 2), Math.floor((k - s) / 2), k - s - Math.floor((k - s) / 2), k - s - Math.floor((k - s) / 2)] : 0;
      const op = k >= s ? 0 : s - k;
      const rp = [Math.floor((k - 1) / 2), Math.floor((k - 1) / 2), k - 1 - Math.floor((k - 1) / 2), k - 1 - Math.floor((k - 1) / 2)];
      const out = { transposed: [], resize: [] };
      let t = new api.Tensor(x0, [1, 1, n, n]);
      let r = new api.Tensor(x0, [1, 1, n, n]);
      for (let i = 0; i < 2; i++) {
        const t2 = api.convTranspose2d(t, kt, null, { stride: s, padding: pad, outputPadding: op });
        const up = api.convTranspose2d(r, near, null, { stride: s });
        const r2 = api.conv2d(up, kt, null, { padding: rp });
        out.transposed.push({ shape: t2.shape, data: Array.from(t2.toArray()) });
        out.resize.push({ shape: r2.shape, data: Array.from(r2.toArray()) });
        t.free(); r.free(); up.free();
        t = t2; r = r2;
      }
      t.free(); r.free(); kt.free(); near.free();
      return out;
    };
    const x = api.tracePresetImage({ name: input, size: n, seed: 3 });
    return { values: run(x, kv), counts: run(new Float32Array(n * n).fill(1), new Float32Array(k * k).fill(1)) };
  }, { input, n, kernel, k, s });
}

test('checkerboard: both paths are the wasm ops, the counts are ones through them, k = 3 is uneven and k = 4 even', async () => {
  const { page, context, errors, foreign } = await openPage(browser, '#transpose?ci=letter&cn=5&cw=random&ck=3&cs=2');
  await page.waitForSelector('#cb-transposed-2-paths canvas');
  await page.locator('#checkerboard').scrollIntoViewIfNeeded();
  for (const setting of [{ input: 'letter', n: 5, kernel: 'random', k: 3, s: 2 }, { input: 'ones', n: 6, kernel: 'ones', k: 4, s: 2 }, { input: 'random', n: 3, kernel: 'bilinear', k: 2, s: 3 }]) {
    if (setting.input !== 'letter') {
      await page.selectOption('#cb-input', setting.input);
      await page.fill('#cb-size', String(setting.n));
      await page.dispatchEvent('#cb-size', 'change');
      await page.selectOption('#cb-kernel', setting.kernel);
      await page.fill('#cb-ksize', String(setting.k));
      await page.dispatchEvent('#cb-ksize', 'change');
      await page.fill('#cb-stride', String(setting.s));
      await page.dispatchEvent('#cb-stride', 'change');
    }
    const want = await expected(page, setting);
    for (const path of ['transposed', 'resize']) {
      for (let i = 0; i < 2; i++) {
        const side = setting.n * setting.s ** (i + 1);
        assert.deepEqual(want.values[path][i].shape, [1, 1, side, side]);
        const got = await cells(page, `#cb-${path}-${i + 1}-out`);
        assert.equal(got.length, side * side, `${path} stage ${i + 1} cells`);
        got.forEach((v, j) => close(v, want.values[path][i].data[j], `${path} ${i + 1} [${j}] ${JSON.stringify(setting)}`));
        const counts = await cells(page, `#cb-${path}-${i + 1}-paths`);
        assert.deepEqual(counts, want.counts[path][i].data.map(Math.round), `${path} ${i + 1} counts`);
        // The legend's ends: 0 and the largest count, the output's ± its largest |value|.
        const max = Math.max(...counts);
        const hi = await page.$eval(`#cb-${path}-${i + 1}-paths`, (g) => g.closest('figure').querySelector('.legend-hi').textContent);
        assert.equal(Number(hi), max, `${path} ${i + 1} legend end`);
        const outMax = Math.max(...want.values[path][i].data.map(Math.abs));
        const legend = await page.$eval(`#cb-${path}-${i + 1}-out`, (g) => g.closest('figure').querySelector('.legend').dataset.scale);
        close(Number(legend), outMax, `${path} ${i + 1} output legend`);
      }
    }
  }
  // k = 3, stride 2: the transposed path's interior gets 1, 2 or 4 stamps, and more levels
  // through the second layer; the resize path 9, then 81: even.
  await page.click('button[data-k="3"]');
  assert.equal(await page.getAttribute('#cb-transposed-1-levels', 'data-levels'), '1,2,4');
  assert.equal(await page.getAttribute('#cb-transposed-2-levels', 'data-levels'), '1,2,3,4,6,9');
  assert.equal(await page.getAttribute('#cb-resize-1-levels', 'data-levels'), '9');
  assert.equal(await page.getAttribute('#cb-resize-2-levels', 'data-levels'), '81');
  assert.match(await page.textContent('#cb-rule'), /k = 3 is not a multiple of the stride 2: .*uneven overlap/);
  assert.match(await page.textContent('#cb-transposed-2-levels'), /uneven, a checkerboard/);
  assert.match(await page.textContent('#cb-resize-2-levels'), /81 stamps on every cell: even/);
  await page.click('button[data-k="4"]');
  assert.equal(await page.getAttribute('#cb-transposed-1-levels', 'data-levels'), '4');
  assert.equal(await page.getAttribute('#cb-transposed-2-levels', 'data-levels'), '16');
  assert.match(await page.textContent('#cb-rule'), /k = 4 is a multiple of the stride 2/);
  // The link keeps the section's setting, and a fresh page restores it.
  await page.waitForFunction(() => location.hash.includes('ck=4'));
  const hash = await page.evaluate(() => location.hash);
  assert.match(hash, /cs=2/);
  await screenshot(page, 'transpose-checkerboard');
  const again = await openPage(browser, hash);
  await again.page.waitForSelector('#cb-transposed-2-paths canvas');
  assert.equal(await again.page.inputValue('#cb-ksize'), '4');
  assert.equal(await again.page.getAttribute('#cb-transposed-2-levels', 'data-levels'), '16');
  await again.context.close();
  assert.deepEqual(errors, []);
  assert.deepEqual(foreign, []);
  await context.close();
});

test('checkerboard: a value out of range is refused with the rule named, a bad link value opens with a note', async () => {
  const { page, context, errors } = await openPage(browser, '#transpose?ck=9&cs=2');
  await page.waitForSelector('#cb-transposed-2-paths canvas');
  assert.match(await page.textContent('.link-note'), /Checkerboard kernel size “9” is not a whole number from 1 to 7: opened with 7/);
  assert.equal(await page.inputValue('#cb-ksize'), '7');
  await page.fill('#cb-stride', '5');
  await page.dispatchEvent('#cb-stride', 'change');
  assert.equal(await page.inputValue('#cb-stride'), '3');
  // The stepper's own note names what was typed, its real range and what it is now.
  assert.match(await page.textContent('.cs-refused[data-for="cb-stride"]'), /5 is not possible here: from 1 to 3, so it is 3\./);
  // The steppers' ranges are the trace's own limits.
  assert.deepEqual(await page.$eval('#cb-ksize', (i) => [i.min, i.max]), ['1', '7']);
  assert.deepEqual(await page.$eval('#cb-size', (i) => [i.min, i.max]), ['1', '8']);
  assert.deepEqual(errors, []);
  await context.close();
});
