// End-to-end tests of the correlate, transpose and dense scenes: every animation stepped, the
// values on the page checked against the kernels' own results (the wasm API's conv2d /
// convTranspose2d), shared URLs restoring settings, keyboard, phone width, screenshots.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, screenshot, BASE_URL } from './browser.mjs';
import { drawStrokes, skeletonStrokes, indexOf } from './draw-strokes.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const close = (a, b, what) => assert.ok(Math.abs(a - b) <= 1e-4 * (1 + Math.abs(b)), `${what}: ${a} vs ${b}`);

/** Values of every cell of a grid, as numbers (NaN where a cell shows nothing yet). */
const cells = (page, sel) => page.$$eval(`${sel} .cs-cell`, (cs) => cs.map((c) => (c.dataset.value === undefined ? NaN : Number(c.dataset.value))));

async function stepAll(page, prefix) {
  const total = Number(await page.getAttribute(`#${prefix}-scrub`, 'max')) + 1;
  await page.evaluate((p) => { const s = document.getElementById(`${p}-scrub`); s.value = '0'; s.dispatchEvent(new Event('input')); }, prefix);
  return total;
}

async function noOverflow(page) {
  const { sw, w } = await page.evaluate(() => ({ sw: document.documentElement.scrollWidth, w: innerWidth }));
  assert.ok(sw <= w + 1, `page is ${sw}px wide in a ${w}px viewport`);
}

test('sliding correlation: every step shows the sum conv2d computes', async () => {
  const hash = '#correlate?in=letter&n=8&k=sobel-x&ks=3&s=2,1&p=1,0,2,1&d=1,2&f=0&t=0';
  const { page, context, errors, foreign } = await openPage(browser, hash);
  await page.waitForSelector('#corr-output .cs-cell');
  const expected = await page.evaluate(async () => {
    const { api } = await (await import('./js/wasm.js')).loadWasm();
    const x = new api.Tensor(api.tracePresetImage({ name: 'letter', size: [8, 8], seed: 1 }), [1, 1, 8, 8]);
    const w = new api.Tensor(api.tracePresetKernel({ name: 'sobel-x', size: 3, seed: 7 }).values, [1, 1, 3, 3]);
    const y = api.conv2d(x, w, null, { stride: [2, 1], padding: [1, 0, 2, 1], dilation: [1, 2] });
    return { shape: y.shape, data: Array.from(y.toArray()) };
  });
  const out = await cells(page, '#corr-output');
  assert.equal(out.length, expected.shape[2] * expected.shape[3]);
  const total = await stepAll(page, 'corr');
  assert.equal(total, out.length);
  await page.click('h2');
  for (let t = 0; t < total; t++) {
    assert.equal(await page.getAttribute('#corr-step', 'data-step'), String(t));
    close(Number(await page.getAttribute('#corr-sum-value', 'data-value')), expected.data[t], `step ${t}`);
    // The window covers exactly kernel-many cells; the im2col row of this step is current.
    assert.equal(await page.locator('#corr-input-grid .cs-win').count(), 9);
    assert.equal(await page.getAttribute('#corr-im2col tr.cs-current', 'data-row'), String(t));
    if (t < total - 1) await page.keyboard.press('ArrowRight');
  }
  const shown = await cells(page, '#corr-output');
  shown.forEach((v, i) => close(v, expected.data[i], `output ${i}`));
  // The formula shows the output size.
  assert.equal(await page.getAttribute('#corr-formula [data-axis="rows"]', 'data-output'), String(expected.shape[2]));
  assert.equal(await page.getAttribute('#corr-formula [data-axis="columns"]', 'data-output'), String(expected.shape[3]));
  // Step back works too.
  await page.keyboard.press('ArrowLeft');
  assert.equal(await page.getAttribute('#corr-step', 'data-step'), String(total - 2));
  await screenshot(page, 'scenes-correlate');
  assert.deepEqual(errors, []);
  assert.deepEqual(foreign, []);
  await context.close();
});

// The draw scene predicts (and shares its digit) once the cnn model is shipped.
const HAVE_CNN = (await fetch(`${BASE_URL}/data/models/cnn.safetensors`, { method: 'HEAD' }).catch(() => null))?.ok ?? false;

test('sliding correlation over a digit drawn on the pad', { skip: HAVE_CNN ? false : 'no cnn model shipped yet' }, async () => {
  const { page, context, errors } = await openPage(browser, '#draw');
  await page.waitForSelector('#pad');
  await drawStrokes(page, skeletonStrokes(indexOf(3)));
  await page.click('a[href="#correlate"]');
  await page.waitForSelector('#corr-output .cs-cell');
  await page.waitForFunction(() => !document.querySelector('#corr-input option[value="digit"]').disabled);
  // The drawn digit becomes the default input once there is one.
  assert.equal(await page.inputValue('#corr-input'), 'digit');
  assert.equal(await page.locator('#corr-input-grid .cs-cell').count(), 28 * 28);
  const digit = await cells(page, '#corr-input-grid');
  assert.ok(digit.some((v) => v > 0.5), 'the input shows ink');
  const expected = await page.evaluate(async (x) => {
    const { api } = await (await import('./js/wasm.js')).loadWasm();
    const y = api.conv2d(new api.Tensor(Float32Array.from(x), [1, 1, 28, 28]), new api.Tensor(api.tracePresetKernel({ name: 'sobel-x', size: 3, seed: 7 }).values, [1, 1, 3, 3]));
    return Array.from(y.toArray());
  }, digit);
  await page.evaluate(() => { const s = document.getElementById('corr-scrub'); s.value = s.max; s.dispatchEvent(new Event('input')); });
  const out = await cells(page, '#corr-output');
  assert.equal(out.length, 26 * 26);
  out.forEach((v, i) => close(v, expected[i], `digit output ${i}`));
  await screenshot(page, 'scenes-correlate-digit');
  assert.deepEqual(errors, []);
  await context.close();
});

test('sliding correlation: the flip toggle is a true convolution; controls reach only valid settings', async () => {
  const { page, context, errors } = await openPage(browser, '#correlate?in=random&n=6&k=random&ks=3&s=1,1&p=0,0,0,0&d=1,1&f=0&t=0');
  await page.waitForSelector('#corr-output .cs-cell');
  await page.check('#corr-flip');
  const total = await stepAll(page, 'corr');
  await page.evaluate((n) => { const s = document.getElementById('corr-scrub'); s.value = String(n - 1); s.dispatchEvent(new Event('input')); }, total);
  const expected = await page.evaluate(async () => {
    const { api } = await (await import('./js/wasm.js')).loadWasm();
    const k = api.tracePresetKernel({ name: 'random', size: 3, seed: 7 }).values;
    const flipped = Float32Array.from(k).reverse();
    const y = api.conv2d(new api.Tensor(api.tracePresetImage({ name: 'random', size: [6, 6], seed: 1 }), [1, 1, 6, 6]), new api.Tensor(flipped, [1, 1, 3, 3]));
    return Array.from(y.toArray());
  });
  (await cells(page, '#corr-output')).forEach((v, i) => close(v, expected[i], `flipped ${i}`));
  assert.match(page.url(), /f=1/);
  // 6×6 input, 3×3 kernel: dilation can reach 2 (span 5) but not 3 (span 7).
  assert.equal(await page.getAttribute('#corr-dil-h', 'max'), '2');
  // Asking for more is settled back to a valid value.
  await page.fill('#corr-dil-h', '5');
  await page.dispatchEvent('#corr-dil-h', 'change');
  assert.equal(await page.inputValue('#corr-dil-h'), '2');
  // Editing a kernel cell makes the kernel "edited" and keeps the values in the URL.
  await page.fill('#corr-kernel-grid input >> nth=4', '3');
  await page.dispatchEvent('#corr-kernel-grid input >> nth=4', 'change');
  assert.equal(await page.inputValue('#corr-kernel'), 'custom');
  assert.match(decodeURIComponent(page.url()), /kv=/);
  assert.deepEqual(errors, []);
  await context.close();
});

test('play runs each animation to its end (max speed) and the page holds the kernels\' outputs', async () => {
  const { page, context, errors } = await openPage(browser, '#correlate?in=edges&n=7&k=laplacian&ks=3&s=1,2&p=2,1,0,1&d=2,1&f=0&t=0');
  await page.waitForSelector('#corr-output .cs-cell');
  const expected = await page.evaluate(async () => {
    const { api } = await (await import('./js/wasm.js')).loadWasm();
    const y = api.conv2d(new api.Tensor(api.tracePresetImage({ name: 'edges', size: [7, 7], seed: 1 }), [1, 1, 7, 7]),
      new api.Tensor(api.tracePresetKernel({ name: 'laplacian', size: 3, seed: 7 }).values, [1, 1, 3, 3]), null, { stride: [1, 2], padding: [2, 1, 0, 1], dilation: [2, 1] });
    return Array.from(y.toArray());
  });
  await page.selectOption('#corr-speed', { label: 'max' });
  await page.click('#corr-play');
  await page.waitForFunction(() => document.getElementById('corr-play').getAttribute('aria-pressed') === 'false', null, { timeout: 20000 });
  (await cells(page, '#corr-output')).forEach((v, i) => close(v, expected[i], `played ${i}`));
  assert.match(page.url(), new RegExp(`t=${expected.length - 1}`));

  await page.goto(`${page.url().split('#')[0]}#transpose?in=letter&n=5&k=bilinear&ks=4&s=2,2&p=1,1,1,1&op=0,0&d=1,1&t=0`);
  await page.waitForSelector('#tr-canvas .cs-cell');
  const up = await page.evaluate(async () => {
    const { api } = await (await import('./js/wasm.js')).loadWasm();
    const y = api.convTranspose2d(new api.Tensor(api.tracePresetImage({ name: 'letter', size: [5, 5], seed: 3 }), [1, 1, 5, 5]),
      new api.Tensor(api.tracePresetKernel({ name: 'bilinear', size: 4, seed: 5 }).values, [1, 1, 4, 4]), null, { stride: 2, padding: 1 });
    return Array.from(y.toArray());
  });
  await page.selectOption('#tr-speed', { label: 'max' });
  await page.click('#tr-play');
  await page.waitForFunction(() => document.getElementById('tr-play').getAttribute('aria-pressed') === 'false', null, { timeout: 20000 });
  const canvas = await page.$$eval('#tr-canvas .cs-cell', (cs) => cs.filter((c) => !c.classList.contains('cs-crop')).map((c) => Number(c.dataset.value ?? 0)));
  assert.equal(canvas.length, up.length);
  canvas.forEach((v, i) => close(v, up[i], `played stamp ${i}`));
  assert.deepEqual(errors, []);
  await context.close();
});

test('transposed convolution: stamps add up to convTranspose2d, the zero-insertion view agrees, adjoint holds', async () => {
  const hash = '#transpose?in=random&n=4&k=random&ks=3&s=2,2&p=1,0,0,1&op=1,0&d=1,1&t=0';
  const { page, context, errors, foreign } = await openPage(browser, hash);
  await page.waitForSelector('#tr-canvas .cs-cell');
  const expected = await page.evaluate(async () => {
    const { api } = await (await import('./js/wasm.js')).loadWasm();
    const x = new api.Tensor(api.tracePresetImage({ name: 'random', size: [4, 4], seed: 3 }), [1, 1, 4, 4]);
    const w = new api.Tensor(api.tracePresetKernel({ name: 'random', size: 3, seed: 5 }).values, [1, 1, 3, 3]);
    const y = api.convTranspose2d(x, w, null, { stride: 2, padding: [1, 0, 0, 1], outputPadding: [1, 0] });
    return { shape: y.shape, data: Array.from(y.toArray()) };
  });
  const total = await stepAll(page, 'tr');
  assert.equal(total, 16);
  await page.click('h2 >> visible=true');
  let prevStamped = 0;
  for (let t = 0; t < total; t++) {
    assert.equal(await page.getAttribute('#tr-step', 'data-step'), String(t));
    // Each stamp outlines kernel-many canvas cells; coverage only grows.
    assert.equal(await page.locator('#tr-canvas .cs-win').count(), 9);
    const cover = await cells(page, '#tr-coverage');
    const stamped = cover.reduce((a, b) => a + b, 0);
    assert.equal(stamped, prevStamped + 9);
    prevStamped = stamped;
    // The focused window of the equivalent view sums to the kernels' output cell.
    const focus = await page.$('#tr-eq-value');
    if (focus) {
      const cur = await page.$eval('#tr-eq-output .cs-cur', (c) => Number(c.dataset.i));
      close(Number(await focus.getAttribute('data-value')), expected.data[cur], `window ${cur}`);
    }
    if (t < total - 1) await page.keyboard.press('ArrowRight');
  }
  // After the last stamp, the uncropped canvas cells hold the output.
  const canvas = await page.$$eval('#tr-canvas .cs-cell', (cs) => cs.filter((c) => !c.classList.contains('cs-crop')).map((c) => Number(c.dataset.value ?? 0)));
  assert.equal(canvas.length, expected.shape[2] * expected.shape[3]);
  canvas.forEach((v, i) => close(v, expected.data[i], `stamped ${i}`));
  (await cells(page, '#tr-eq-output')).forEach((v, i) => close(v, expected.data[i], `zero insertion ${i}`));
  assert.equal(await page.getAttribute('#tr-formula [data-axis="rows"]', 'data-output'), String(expected.shape[2]));
  const lhs = Number(await page.getAttribute('#adj-lhs', 'data-value'));
  const rhs = Number(await page.getAttribute('#adj-rhs', 'data-value'));
  close(lhs, rhs, 'adjoint');
  assert.notEqual(lhs, 0);
  assert.equal(await page.getAttribute('#rt-down', 'data-shape'), '14x14');
  await screenshot(page, 'scenes-transpose');
  assert.deepEqual(errors, []);
  assert.deepEqual(foreign, []);
  await context.close();
});

test('transposed convolution: the checkerboard appears when k is not divisible by the stride', async () => {
  const { page, context, errors } = await openPage(browser, '#transpose?in=ones&n=4&k=ones&ks=3&s=2,2&p=0,0,0,0&op=0,0&d=1,1&t=15');
  await page.waitForSelector('#tr-coverage .cs-cell');
  const cover = await cells(page, '#tr-coverage');
  // 9×9 canvas; row 2 (an overlap row) alternates 2, 4, 2, 4…; row 1 alternates 1, 2.
  assert.deepEqual(cover.slice(9 * 2 + 1, 9 * 2 + 8), [2, 4, 2, 4, 2, 4, 2]);
  assert.deepEqual(cover.slice(9 + 1, 9 + 8), [1, 2, 1, 2, 1, 2, 1]);
  await page.fill('#tr-ksize', '4');
  await page.dispatchEvent('#tr-ksize', 'change');
  await page.evaluate(() => { const s = document.getElementById('tr-scrub'); s.value = s.max; s.dispatchEvent(new Event('input')); });
  const even = await cells(page, '#tr-coverage');
  // 10×10 canvas; away from the border every cell is covered 4 times.
  assert.deepEqual(even.slice(10 * 4 + 2, 10 * 4 + 8), [4, 4, 4, 4, 4, 4]);
  assert.deepEqual(errors, []);
  await context.close();
});

test('dense = correlation at shift 0: bars equal a multi-channel conv, shift 0 is the dense value', async () => {
  const { page, context, errors, foreign } = await openPage(browser, '#dense');
  await page.waitForSelector('#dense-chart .cs-bar');
  assert.equal(await page.locator('#dense-chart .cs-bar').count(), 47);
  // Paint one more hour, to check the page recomputes.
  await page.click('#scene-dense .cs-palette .cs-chip[data-act="4"]');
  await page.click('#dense-b .cs-hour[data-hour="4"]');
  const state = new URLSearchParams(decodeURIComponent(page.url()).split('?')[1]);
  const bars = await page.$$eval('#dense-chart .cs-bar', (bs) => bs.map((b) => [Number(b.dataset.shift), Number(b.dataset.value)]));
  const expected = await page.evaluate(async ({ a, b }) => {
    const { api } = await (await import('./js/wasm.js')).loadWasm();
    const hot = (s) => { const v = new Float32Array(6 * 24); [...s].forEach((c, h) => { v[Number(c) * 24 + h] = 1; }); return v; };
    // F(t) = Σ_c Σ_x A_c(x)·B_c(x + t): conv2d of B (6 channels, 1×24) with A as the kernel, padding 23 left and right.
    const y = api.conv2d(new api.Tensor(hot(b), [1, 6, 1, 24]), new api.Tensor(hot(a), [1, 6, 1, 24]), null, { padding: [0, 23, 0, 23] });
    return Array.from(y.toArray());
  }, { a: state.get('a'), b: state.get('b') });
  assert.equal(state.get('b')[4], '4');
  bars.forEach(([t, v], i) => { assert.equal(t, i - 23); close(v, expected[i], `F(${t})`); });
  const dense = Number(await page.getAttribute('#dense-value', 'data-value'));
  close(dense, expected[23], 'dense layer = F(0)');
  // Shift with the keyboard and the bar highlighted follows.
  await page.click('h2 >> visible=true');
  for (let i = 0; i < 14; i++) await page.keyboard.press('ArrowLeft');
  assert.equal(await page.getAttribute('#dense-chart .cs-current', 'data-shift'), '-14');
  close(Number(await page.getAttribute('#dense-f', 'data-value')), expected[23 - 14], 'F(-14)');
  // 1×1 conv = dense over channels, checked against conv2d.
  await page.click('#one-in-0 .cs-cell >> nth=6');
  const one = await page.evaluate(async () => {
    const { api } = await (await import('./js/wasm.js')).loadWasm();
    const d = api.traceOneByOne({ channelsIn: 3, channelsOut: 2, size: 4, seed: 5 });
    const y = api.conv2d(new api.Tensor(d.input, [1, 3, 4, 4]), new api.Tensor(d.weight, [2, 3, 1, 1]));
    return Array.from(y.toArray());
  });
  const shown = await page.$$eval('#one-text b', (bs) => bs.map((b) => Number(b.dataset.value)));
  close(shown[0], one[6], '1×1 out 1');
  close(shown[1], one[16 + 6], '1×1 out 2');
  assert.equal(await page.getAttribute('#param-dense', 'data-value'), String(1e9 + 1e3));
  assert.equal(await page.getAttribute('#param-conv', 'data-value'), '10');
  await screenshot(page, 'scenes-dense');
  assert.deepEqual(errors, []);
  assert.deepEqual(foreign, []);
  await context.close();
});

test('a shared URL restores each scene; space plays and pauses', async () => {
  for (const [scene, set, check] of [
    ['correlate', async (p) => { await p.fill('#corr-stride-h', '2'); await p.dispatchEvent('#corr-stride-h', 'change'); await p.click('#corr-fwd'); await p.click('#corr-fwd'); },
      async (p) => { assert.equal(await p.inputValue('#corr-stride-h'), '2'); assert.equal(await p.getAttribute('#corr-step', 'data-step'), '2'); }],
    ['transpose', async (p) => { await p.fill('#tr-stride-h', '3'); await p.dispatchEvent('#tr-stride-h', 'change'); await p.click('#tr-fwd'); },
      async (p) => { assert.equal(await p.inputValue('#tr-stride-h'), '3'); assert.equal(await p.getAttribute('#tr-step', 'data-step'), '1'); }],
    ['dense', async (p) => { await p.click('#dense-chart .cs-bar[data-shift="5"]'); },
      async (p) => { assert.equal(await p.getAttribute('#dense-chart .cs-current', 'data-shift'), '5'); }],
  ]) {
    const a = await openPage(browser, `#${scene}`);
    await a.page.waitForSelector(`#scene-${scene} .cs-controls, #scene-${scene} .cs-panel`);
    await set(a.page);
    const url = a.page.url();
    assert.match(url, new RegExp(`#${scene}\\?`));
    const b = await openPage(browser, `#${url.split('#')[1]}`);
    await b.page.waitForSelector(`#scene-${scene} .cs-panel`);
    await check(b.page);
    assert.deepEqual([...a.errors, ...b.errors], [], scene);
    await a.context.close();
    await b.context.close();
  }
  const { page, context } = await openPage(browser, '#correlate?in=letter&n=8');
  await page.waitForSelector('#corr-output .cs-cell');
  await page.click('h2 >> visible=true');
  await page.keyboard.press(' ');
  assert.equal(await page.getAttribute('#corr-play', 'aria-pressed'), 'true');
  await page.keyboard.press(' ');
  assert.equal(await page.getAttribute('#corr-play', 'aria-pressed'), 'false');
  await context.close();
});

test('phone width, reduced motion, labelled controls, screenshots', async () => {
  for (const scene of ['correlate', 'transpose', 'dense']) {
    const { page, context, errors, foreign } = await openPage(browser, `#${scene}`, { width: 375, height: 812 });
    await page.waitForSelector(`#scene-${scene} .cs-panel`);
    await noOverflow(page);
    // Every control has an accessible name.
    const unlabelled = await page.$$eval(`#scene-${scene} input, #scene-${scene} select, #scene-${scene} button`, (els) =>
      els.filter((e) => !(e.getAttribute('aria-label') || e.labels?.length || e.textContent.trim())).map((e) => e.outerHTML.slice(0, 80)));
    assert.deepEqual(unlabelled, [], scene);
    await screenshot(page, `scenes-${scene}-375`);
    assert.deepEqual(errors, [], scene);
    assert.deepEqual(foreign, [], scene);
    await context.close();
  }
  const context = await browser.newContext({ reducedMotion: 'reduce', viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${BASE_URL}/#correlate?in=letter&n=8`);
  await page.waitForSelector('#corr-output .cs-cell');
  assert.equal(await page.getAttribute('#corr-play', 'aria-pressed'), null); // nothing autoplays
  await page.click('#corr-fwd');
  assert.equal(await page.getAttribute('#corr-step', 'data-step'), '1');
  await context.close();
});
