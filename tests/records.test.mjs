// "The page does no maths": what Correlate and Transposed conv light up comes from records of
// the traces (`readers`, `completeAt`), and equals what a search of the trace finds (done here,
// in the test, not in the page).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage } from './browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('Correlate: clicking an input cell lights exactly the windows that read it (stride, dilation, padding)', async () => {
  const hash = '#correlate?in=letter&n=7&k=box&ks=3&s=2,1&p=1,0,2,1&d=1,2&f=0&t=0';
  const { page, context, errors } = await openPage(browser, hash);
  await page.waitForSelector('#corr-output .cs-cell');
  const t = await page.evaluate(async () => {
    const { api } = await (await import('./js/wasm.js')).loadWasm();
    const x = api.tracePresetImage({ name: 'letter', size: [7, 7], seed: 1 });
    const k = api.tracePresetKernel({ name: 'box', size: 3, seed: 7 });
    const tr = api.traceCorrelate(x, k.values, { size: 7, kernelSize: 3, stride: [2, 1], padding: [1, 0, 2, 1], dilation: [1, 2] });
    return { cells: tr.paddedH * tr.paddedW, steps: tr.steps, taps: tr.taps, window: Array.from(tr.window) };
  });
  for (const p of [0, 5, 17, 24, t.cells - 1]) {
    await page.click(`#corr-input-grid .cs-cell[data-i="${p}"]`);
    const want = [];
    for (let s = 0; s < t.steps; s++) if (t.window.slice(s * t.taps, (s + 1) * t.taps).includes(p)) want.push(s);
    const got = await page.$$eval('#corr-output .cs-uses', (cs) => cs.map((c) => Number(c.dataset.i)).sort((a, b) => a - b));
    assert.deepEqual(got, want, `cell ${p}`);
  }
  assert.deepEqual(errors, []);
  await context.close();
});

test('Transposed conv: an output cell of the zero-insertion view appears exactly when its last stamp has landed', async () => {
  const hash = '#transpose?in=random&n=4&k=random&ks=3&s=2,2&p=1,0,0,1&op=1,0&d=1,1&t=0';
  const { page, context, errors } = await openPage(browser, hash);
  await page.waitForSelector('#tr-eq-output .cs-cell');
  const setting = { size: [4, 4], kernelSize: 3, stride: [2, 2], padding: [1, 0, 0, 1], outputPadding: [1, 0], dilation: [1, 1] };
  const steps = Number(await page.getAttribute('#tr-scrub', 'max')) + 1;
  for (let t = 0; t < steps; t++) {
    const want = await page.evaluate(async ({ setting, t }) => {
      const { api } = await (await import('./js/wasm.js')).loadWasm();
      const x = api.tracePresetImage({ name: 'random', size: 4, seed: 3 });
      const k = api.tracePresetKernel({ name: 'random', size: 3, seed: 5 }).values;
      const tr = api.traceTranspose(x, k, setting);
      const { coverage } = api.traceTransposeAfter(x, k, setting, t + 1);
      const done = [];
      for (let c = 0; c < coverage.length; c++) if (tr.canvasOutput[c] >= 0 && coverage[c] === tr.coverageFull[c]) done.push(tr.canvasOutput[c]);
      return done.sort((a, b) => a - b);
    }, { setting, t });
    const got = await page.$$eval('#tr-eq-output .cs-cell', (cs) => cs.filter((c) => c.dataset.value !== undefined).map((c) => Number(c.dataset.i)));
    assert.deepEqual(got, want, `step ${t + 1}`);
    // The stamp's words: its input cell, its corner on the canvas (i·stride, j·stride) and how
    // many of its 9 cells the padding crops (the output is 9×8: top padding 1 and output padding
    // 1 on the rows, right padding 1 on the columns), worked out here from the definition.
    const [i, j] = [Math.floor(t / 4), t % 4];
    const rows = [0, 1, 2].filter((a) => { const y = i * 2 + a - 1; return y >= 0 && y < 9; }).length;
    const cols = [0, 1, 2].filter((b) => { const x = j * 2 + b; return x >= 0 && x < 8; }).length;
    const cropped = 9 - rows * cols;
    const text = await page.textContent('#tr-stamp');
    assert.ok(text.startsWith(`Stamp ${t + 1}: input[${i}, ${j}] = `), text);
    assert.ok(text.includes(`corner at canvas (${i * 2}, ${j * 2})`), text);
    assert.equal(text.includes(`(${cropped} of its 9 cells fall in the cropped border)`), cropped > 0, text);
    if (t < steps - 1) await page.click('#tr-fwd');
  }
  assert.deepEqual(errors, []);
  await context.close();
});
