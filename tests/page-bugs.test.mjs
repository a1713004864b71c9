// Regression tests for the page bugs listed in the redesign issue, one test each (the ones
// fixed so far).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage } from './browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('the learned-kernel note goes when the hash picks another kernel', async () => {
  const { page, context, errors } = await openPage(browser, '#correlate?k=learned&ks=5');
  await page.waitForFunction(() => /learned kernel/.test(document.getElementById('corr-note').textContent));
  await page.evaluate(() => { location.hash = '#correlate?k=sobel-x&ks=3'; });
  await page.waitForFunction(() => document.getElementById('corr-kernel')?.value === 'sobel-x' || !/learned/.test(document.getElementById('corr-note').textContent));
  assert.doesNotMatch(await page.textContent('#corr-note'), /learned/);
  assert.deepEqual(errors, []);
  await context.close();
});

test('dense parameter counts past 2⁵³ are exact', async () => {
  const { page, context, errors } = await openPage(browser, '#dense');
  for (const [id, v] of [['param-img', '100000'], ['param-cin', '4096']]) {
    await page.fill(`#${id}`, v);
    await page.dispatchEvent(`#${id}`, 'change');
  }
  // 100000² pixels × 4096 channels into a 100000² × 1 image: 4.096·10¹³ · 10¹⁰ + 10¹⁰ weights.
  await page.waitForFunction(() => document.getElementById('param-dense-same')?.dataset.value === '409600000000010000000000');
  assert.equal(await page.textContent('#param-dense-same'), '409,600,000,000,010,000,000,000');
  assert.equal(await page.getAttribute('#param-inputs', 'data-value'), '40960000000000');
  assert.deepEqual(errors, []);
  await context.close();
});

test('the correlate output grid does not move while stepping', async () => {
  const { page, context, errors } = await openPage(browser, '#correlate');
  await page.waitForSelector('#corr-output .cs-cell');
  const xs = new Set();
  const ys = new Set();
  for (let i = 0; i < 30; i++) {
    const b = await page.locator('#corr-output').boundingBox();
    xs.add(Math.round(b.x));
    ys.add(Math.round(b.y));
    await page.keyboard.press('ArrowRight');
  }
  assert.equal(xs.size, 1, `the output grid's left edge took ${[...xs].join(', ')} px`);
  assert.equal(ys.size, 1, `the output grid's top edge took ${[...ys].join(', ')} px`);
  assert.deepEqual(errors, []);
  await context.close();
});

test('typing in the kernel editor and pressing Tab keeps the focus in the editor', async () => {
  const { page, context, errors } = await openPage(browser, '#correlate?k=box&ks=3');
  await page.waitForSelector('#corr-kernel-grid input');
  const cell = (i) => page.locator('#corr-kernel-grid input').nth(i);
  await cell(0).fill('2');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'kernel row 1 column 2');
  await page.keyboard.type('3');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'kernel row 1 column 3');
  assert.equal(await cell(0).inputValue(), '2');
  assert.equal(await cell(1).inputValue(), '3');
  assert.equal(await page.inputValue('#corr-kernel'), 'custom');
  assert.deepEqual(errors, []);
  await context.close();
});

test('with flip on, the kernel that slides is shown turned by 180°', async () => {
  const { page, context, errors } = await openPage(browser, '#correlate?k=custom&ks=3&kv=1,2,3,4,5,6,7,8,9&f=0');
  await page.waitForSelector('#corr-kernel-grid input');
  assert.equal(await page.isVisible('#corr-kernel-flipped'), false);
  await page.check('#corr-flip');
  await page.waitForSelector('#corr-kernel-flipped .cs-cell', { state: 'visible' });
  const shown = await page.$$eval('#corr-kernel-flipped .cs-cell', (cs) => cs.map((c) => Number(c.dataset.value)));
  assert.deepEqual(shown, [9, 8, 7, 6, 5, 4, 3, 2, 1]);
  // The products at this step are the window times the turned kernel, cell by cell.
  const win = await page.$$eval('#corr-input-grid .cs-cell.cs-win', (cs) => cs.map((c) => Number(c.dataset.value)));
  const prods = await page.$$eval('#corr-products .cs-cell', (cs) => cs.map((c) => Number(c.dataset.value)));
  assert.equal(win.length, 9, 'the window covers 9 cells');
  prods.forEach((p, i) => assert.ok(Math.abs(p - win[i] * shown[i]) < 1e-6, `product ${i}`));
  await page.uncheck('#corr-flip');
  await page.waitForSelector('#corr-kernel-flipped', { state: 'hidden' });
  assert.deepEqual(errors, []);
  await context.close();
});

test('a refused or adjusted setting says which rule refused it', async () => {
  const { page, context, errors } = await openPage(browser, '#transpose?s=2,2&op=1,1&k=ones&ks=3');
  await page.waitForSelector('#tr-stride-h');
  await page.fill('#tr-stride-h', '1');
  await page.dispatchEvent('#tr-stride-h', 'change');
  assert.equal(await page.inputValue('#tr-stride-h'), '2');
  assert.match(await page.textContent('#tr-rule'), /Stride rows 1 is not possible.*stays 2: invalid outputPadding = \[1, 1\]: must be smaller than max\(stride, dilation\)/);

  await page.goto(`${new URL(page.url()).origin}/#correlate?in=letter&n=8&k=box&ks=5&p=0,0,0,0`);
  await page.waitForSelector('#corr-size');
  await page.fill('#corr-size', '3');
  await page.dispatchEvent('#corr-size', 'change');
  await page.waitForFunction(() => /Adjusted padding to 0, 0, 2, 2/.test(document.getElementById('corr-rule').textContent));
  assert.match(await page.textContent('#corr-rule'), /invalid kernelSize = \[5, 5\]: the kernel .* is larger than the padded input 3×3/);
  assert.deepEqual(errors, []);
  await context.close();
});

test('a shared draw link times only warmed-up forwards', async () => {
  const { drawStrokes, skeletonStrokes, indexOf } = await import('./draw-strokes.mjs');
  const first = await openPage(browser, '#draw');
  await first.page.waitForSelector('.layers .layer', { timeout: 30000 });
  await drawStrokes(first.page, skeletonStrokes(indexOf(3)), { size: 0.7, cx: 0.5, cy: 0.5 });
  await first.page.waitForFunction(() => /#draw\?.*d=/.test(location.hash));
  const hash = await first.page.evaluate(() => location.hash);
  await first.context.close();
  const second = await openPage(browser, hash);
  await second.page.waitForFunction(() => document.getElementById('timing')?.dataset.samples);
  // Before the first timed forward the instance ran warm-up calls that are not in the median.
  assert.ok(Number(await second.page.getAttribute('#timing', 'data-warmup')) >= 20);
  const samples = Number(await second.page.getAttribute('#timing', 'data-samples'));
  assert.match(await second.page.textContent('#timing'), new RegExp(`median of the last ${samples},`));
  assert.ok(samples <= 2, `${samples} samples after opening a link`);
  assert.deepEqual(second.errors, []);
  await second.context.close();
});

test('the terms of a shown sum add up to the shown sum', async () => {
  const { page, context, errors } = await openPage(browser, '#correlate?in=ones&n=5&k=box&ks=3&p=1,1,1,1&t=0');
  await page.waitForSelector('#corr-sum-value');
  const units = (s) => Math.round(Number(s.replace('−', '-')) * 1000);
  for (let step = 0; step < 12; step++) {
    const text = await page.textContent('#corr-sum');
    const m = text.match(/^Σ = (.*) = (\S+) →/);
    assert.ok(m, text);
    const terms = m[1] === '0' ? [] : m[1].replaceAll('− ', '+ −').split(' + ');
    const sum = terms.reduce((a, x) => a + units(x), 0);
    assert.equal(sum, units(m[2]), `step ${step}: ${text}`);
    await page.keyboard.press('ArrowRight');
  }
  assert.deepEqual(errors, []);
  await context.close();
});
