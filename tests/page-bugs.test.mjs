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

test('a #correlate link with the drawn digit restores it, the step and the speed from a fresh open', async () => {
  const { drawStrokes, skeletonStrokes, indexOf } = await import('./draw-strokes.mjs');
  const first = await openPage(browser, '#draw');
  await first.page.waitForSelector('.layers .layer', { timeout: 30000 });
  await drawStrokes(first.page, skeletonStrokes(indexOf(7)), { size: 0.7, cx: 0.5, cy: 0.5 });
  await first.page.waitForFunction(() => /d=/.test(location.hash));
  await first.page.click('a[href="#correlate"]');
  await first.page.waitForFunction(() => document.getElementById('corr-input')?.value === 'digit');
  await first.page.selectOption('#corr-speed', { label: '4×' });
  for (let i = 0; i < 40; i++) await first.page.keyboard.press('ArrowRight');
  await first.page.waitForFunction(() => /[?&]t=40/.test(location.hash) && /sp=4/.test(location.hash) && /dg=/.test(location.hash));
  const hash = await first.page.evaluate(() => location.hash);
  const sum = await first.page.getAttribute('#corr-sum-value', 'data-value');
  await first.context.close();

  const second = await openPage(browser, hash);
  await second.page.waitForSelector('#corr-sum-value');
  assert.equal(await second.page.inputValue('#corr-input'), 'digit');
  assert.equal(await second.page.getAttribute('#corr-step', 'data-step'), '40');
  assert.equal(await second.page.$eval('#corr-speed', (s) => s.selectedOptions[0].textContent), '4×');
  assert.equal(await second.page.getAttribute('#corr-sum-value', 'data-value'), sum);
  assert.equal(await second.page.evaluate(() => location.hash), hash, 'the link is not rewritten');
  assert.equal(await second.page.$eval('#scene-correlate .link-note', (n) => n.hidden), true);
  assert.deepEqual(second.errors, []);
  await second.context.close();
});

test('Dense keeps channels, hidden units and output channels in its link', async () => {
  const first = await openPage(browser, '#dense');
  for (const [id, v] of [['param-cin', '3'], ['param-hidden', '256'], ['param-cout', '64'], ['param-k', '5']]) {
    await first.page.fill(`#${id}`, v);
    await first.page.dispatchEvent(`#${id}`, 'change');
  }
  await first.page.waitForFunction(() => /cin=3/.test(location.hash) && /hidden=256/.test(location.hash) && /cout=64/.test(location.hash));
  const hash = await first.page.evaluate(() => location.hash);
  await first.context.close();
  const second = await openPage(browser, hash);
  await second.page.waitForSelector('#param-conv');
  for (const [id, v] of [['param-cin', '3'], ['param-hidden', '256'], ['param-cout', '64'], ['param-k', '5']]) assert.equal(await second.page.inputValue(`#${id}`), v, id);
  assert.equal(await second.page.getAttribute('#param-conv', 'data-value'), String(5 * 5 * 3 * 64 + 64));
  assert.equal(await second.page.evaluate(() => location.hash), hash);
  assert.deepEqual(second.errors, []);
  await second.context.close();
});

test('a link with invalid values opens the nearest valid setting and says so', async () => {
  const { page, context, errors } = await openPage(browser, '#correlate?in=letter&n=99&k=bogus&s=0,1&t=9999&sp=fast');
  await page.waitForSelector('#corr-sum-value');
  assert.equal(await page.inputValue('#corr-size'), '16');
  assert.equal(await page.inputValue('#corr-kernel'), 'sobel-x');
  assert.equal(await page.inputValue('#corr-stride-h'), '1');
  const note = page.locator('#scene-correlate .link-note');
  assert.equal(await note.isVisible(), true);
  const text = await note.textContent();
  for (const re of [/Input size “99” .*opened with 16/, /Kernel “bogus” .*opened with sobel-x/, /Stride “0,1” .*opened with 1, 1/, /Speed “fast”/, /Step 10000 is past the last of these \d+ steps/]) assert.match(text, re);
  const steps = Number((await page.textContent('#corr-step')).split('/')[1]);
  assert.equal(await page.getAttribute('#corr-step', 'data-step'), String(steps - 1));

  await page.goto(`${new URL(page.url()).origin}/#dense?cin=0&hidden=1e9&t=40`);
  await page.waitForFunction(() => /Input channels/.test(document.querySelector('#scene-dense .link-note')?.textContent ?? ''));
  assert.equal(await page.inputValue('#param-cin'), '1');
  assert.equal(await page.inputValue('#param-hidden'), '100000');
  assert.match(await page.textContent('#scene-dense .link-note'), /Shift “40” .*opened with 23/);
  assert.deepEqual(errors, []);
  await context.close();
});

/** "a + b − c" → thousandths. */
const thousandths = (s) => s.replaceAll('− ', '+ −').split(' + ').map((x) => Math.round(Number(x.replace('−', '-')) * 1000));

test('in the draw scene and the transposed conv the shown terms add up to the shown sums', async () => {
  const { drawStrokes, skeletonStrokes, indexOf } = await import('./draw-strokes.mjs');
  const { page, context, errors } = await openPage(browser, '#draw');
  await page.waitForSelector('.layers .layer', { timeout: 30000 });
  await drawStrokes(page, skeletonStrokes(indexOf(3)), { size: 0.8, cx: 0.5, cy: 0.5 });
  for (const [layer, ch, y, x] of [['conv1', 2, 12, 12], ['conv2', 5, 6, 7], ['fc1', 0, 3, 4], ['fc2', 0, 0, 3]]) {
    const canvas = page.locator(`.layer[data-layer="${layer}"] .maps canvas`).nth(ch);
    const box = await canvas.boundingBox();
    const { h, w } = await canvas.evaluate((c) => ({ h: c.height, w: c.width }));
    await page.mouse.click(box.x + ((x + 0.5) * box.width) / w, box.y + ((y + 0.5) * box.height) / h);
    await page.waitForSelector(`#explain #dot[data-layer="${layer}"]`);
    const { terms, bias, sum } = await page.$eval('#dot .total', (t) => ({
      terms: t.querySelector('.terms').textContent.replace('Σ products ', ''),
      bias: t.children[1].textContent.match(/([+−]) bias (\S+)/).slice(1).join(' '),
      sum: t.querySelector('.sum').textContent,
    }));
    const all = [...thousandths(terms), ...thousandths(`0 ${bias}`)];
    assert.equal(all.reduce((a, b) => a + b, 0), thousandths(sum)[0], `${layer}: ${terms} ${bias} = ${sum}`);
    // Each channel's products add up to that channel's shown sum.
    if (layer.startsWith('conv')) {
      const { prods, part } = await page.$eval('#dot .triple', (t) => ({
        prods: [...t.querySelectorAll('.nfig')[2].querySelectorAll('.n')].map((c) => c.textContent),
        part: t.querySelector('.partial strong').textContent,
      }));
      assert.equal(prods.reduce((a, p) => a + thousandths(p)[0], 0), thousandths(part)[0], `${layer} products`);
    }
  }
  // A hash change (the router's own path; page.goto of the same document with a new hash once
  // waited 30 s for a navigation event under load in a full run).
  await page.evaluate(() => { location.hash = '#transpose?in=random&n=4&k=random&ks=3&s=2,2'; });
  await page.waitForSelector('#tr-eq-value', { timeout: 60000 });
  for (let step = 0; step < 10; step++) {
    const text = await page.textContent('#tr-eq-sum');
    const m = text.match(/flipped kernel = (.*) = (\S+), what/);
    assert.ok(m, text);
    assert.equal(m[1] === '0' ? 0 : thousandths(m[1]).reduce((a, b) => a + b, 0), thousandths(m[2])[0], `step ${step}: ${text}`);
    await page.keyboard.press('ArrowRight');
  }
  assert.deepEqual(errors, []);
  await context.close();
});

test('a skip link, at most 29 tab stops in Draw, each layer one stop with arrow keys, a close button that reads Close', async () => {
  const { drawStrokes, skeletonStrokes, indexOf } = await import('./draw-strokes.mjs');
  const { page, context, errors } = await openPage(browser, '#draw');
  await page.waitForSelector('.layers .layer', { timeout: 30000 });
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'skip');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'scene-draw');
  assert.match(await page.evaluate(() => location.hash), /^#draw/);
  await drawStrokes(page, skeletonStrokes(indexOf(2)), { size: 0.8, cx: 0.5, cy: 0.5 });
  await page.focus('#example');
  // Focus conv2 with Tab and move inside it with the arrow keys.
  let guard = 0;
  while (guard++ < 40 && await page.evaluate(() => document.activeElement?.dataset?.layer) !== 'conv2') await page.keyboard.press('Tab');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('PageDown');
  await page.waitForSelector('#explain #dot[data-layer="conv2"]');
  assert.match(await page.textContent('#dot h5'), /^conv2\[1\]\[7\]\[8\]/);
  const stops = await page.evaluate(() => [...document.querySelectorAll('a[href], button, input, select, textarea, summary, [tabindex]')]
    .filter((e) => e.tabIndex >= 0 && !e.disabled && e.offsetParent !== null && !e.closest('[hidden]')).length);
  // 25 until the scene's "Show me" button (one more stop, on purpose), two for "Your model"
  // (its summary and its file picker, counted here even while the details are closed) and one
  // for the seventh scene's link in the top bar (Why this answer?).
  assert.ok(stops <= 29, `${stops} tab stops`);
  const close = page.locator('#explain button.close');
  assert.equal(await close.getAttribute('aria-label'), 'Close the explanation (Escape)');
  assert.match(await close.textContent(), /Close/);
  await close.click();
  assert.equal(await page.locator('#dot').count(), 0);
  assert.deepEqual(errors, []);
  await context.close();
});
