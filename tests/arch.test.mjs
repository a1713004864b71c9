// The architecture editor (issue 20, Train): add, remove, reorder layers and set their options,
// each row's output shape and parameters from wasm, an invalid design refused with the rule
// (and Start saying why), the link keeping the design, a few batches trained, and the trained
// design downloaded (safetensors and ONNX) and run again in Draw.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, screenshot } from './browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const rows = (page) => page.$$eval('#arch-layers .arch-layer', (ls) => ls.map((l) => ({
  kind: l.dataset.kind, name: l.querySelector('.arch-name').textContent, shape: l.querySelector('.arch-shape').textContent, params: l.querySelector('.arch-params').textContent, bad: l.hasAttribute('data-bad'),
})));

async function custom(page) {
  await page.selectOption('#train-model', 'custom');
  await page.waitForSelector('#arch:not([hidden]) .arch-layer');
}

test('the editor shows each layer\'s shape and parameters from wasm, and edits the design', async () => {
  const { page, errors } = await openPage(browser, '#train', { width: 1280, height: 900 });
  await custom(page);
  let r = await rows(page);
  assert.deepEqual(r.map((x) => x.kind), ['conv2d', 'relu', 'maxpool2d', 'conv2d', 'relu', 'maxpool2d', 'flatten', 'linear', 'logsoftmax']);
  assert.deepEqual(r.map((x) => x.shape), ['→ 8 × 28 × 28', '→ 8 × 28 × 28', '→ 8 × 14 × 14', '→ 16 × 14 × 14', '→ 16 × 14 × 14', '→ 16 × 7 × 7', '→ 784', '→ 10', '→ 10']);
  assert.equal(r[0].params, '80 params');
  assert.match(await page.textContent('#arch-total'), /9 layers, 9,098 parameters, output 10/);

  // Add a dense layer: it goes before the final log softmax, and wasm gives its shape.
  await page.selectOption('#arch-add-kind', 'linear');
  await page.click('#arch-add');
  r = await rows(page);
  assert.deepEqual(r.slice(-3).map((x) => x.kind), ['linear', 'linear', 'logsoftmax']);
  assert.equal(r[8].params, '110 params');

  // Break it: a dense layer before the flatten is refused with the rule, and Start says why.
  await page.click('#arch-layers .arch-layer[data-index="7"] .arch-up');
  r = await rows(page);
  assert.equal(r[6].kind, 'linear');
  assert.ok(r[6].bad);
  assert.match(await page.textContent('#arch-error'), /layers\[6\] \(linear fc1\).*put a flatten before it/);
  assert.match(await page.getAttribute('#train-start', 'aria-disabled') ?? '', /true/);
  assert.match(await page.textContent('#train-error'), /put a flatten before it/);
  // Fixed by moving it back; then set an option: 4 output channels in the first conv.
  await page.click('#arch-layers .arch-layer[data-index="6"] .arch-down');
  assert.equal(await page.isHidden('#arch-error'), true);
  await page.fill('#arch-layers .arch-layer[data-index="0"] input[data-option="outChannels"]', '4');
  await page.press('#arch-layers .arch-layer[data-index="0"] input[data-option="outChannels"]', 'Enter');
  await page.waitForFunction(() => document.querySelector('#arch-layers .arch-layer .arch-shape')?.textContent === '→ 4 × 28 × 28');
  // An option out of range: wasm names it.
  await page.fill('#arch-layers .arch-layer[data-index="0"] input[data-option="kernelSize"]', '0');
  await page.press('#arch-layers .arch-layer[data-index="0"] input[data-option="kernelSize"]', 'Enter');
  await page.waitForFunction(() => /kernelSize must be at least 1/.test(document.querySelector('#arch-error')?.textContent ?? ''));
  await page.fill('#arch-layers .arch-layer[data-index="0"] input[data-option="kernelSize"]', '5');
  await page.press('#arch-layers .arch-layer[data-index="0"] input[data-option="kernelSize"]', 'Enter');
  await page.waitForFunction(() => document.querySelector('#arch-error')?.hidden);
  // Remove the extra dense layer.
  await page.click('#arch-layers .arch-layer[data-index="8"] .arch-remove');
  assert.equal((await rows(page)).length, 9);
  await screenshot(page, 'arch-editor');

  // The link keeps the design.
  const hash = await page.evaluate(() => location.hash);
  assert.match(decodeURIComponent(hash), /arch=\{"input":\[1,28,28\]/);
  const again = await openPage(browser, hash, { width: 1280, height: 900 });
  await again.page.waitForSelector('#arch:not([hidden]) .arch-layer');
  assert.deepEqual((await rows(again.page)).map((x) => x.shape), (await rows(page)).map((x) => x.shape));
  assert.equal(await again.page.inputValue('#arch-layers .arch-layer[data-index="0"] input[data-option="kernelSize"]'), '5');
  assert.deepEqual(errors, []);
  assert.deepEqual(again.errors, []);
});

test('a design trains on MNIST, its kernels drawn; downloaded as safetensors and ONNX it loads again', async () => {
  const { page, errors } = await openPage(browser, '#train', { width: 1280, height: 900 });
  await custom(page);
  await page.click('#train-step');
  await page.waitForFunction(() => Number(document.querySelector('#train-status')?.dataset.samples) > 0, null, { timeout: 120000 });
  await page.click('#train-step');
  await page.waitForFunction(() => Number(document.querySelector('#train-status')?.dataset.samples) >= 128, null, { timeout: 60000 });
  assert.match(await page.textContent('.train-weights h3'), /The kernels of conv1/);
  // Its 8 kernels of 3 × 3 on one canvas (in a row: one input channel), their gradients on another.
  assert.equal(await page.locator('#train-tiles figure.sheet canvas').count(), 2);
  await page.waitForFunction(() => document.querySelector('#train-tiles').dataset.drawn === '');
  const sheet = '#train-tiles figure.sheet[data-layer="weights"]';
  assert.deepEqual(await page.$eval(`${sheet} canvas`, (c) => [c.width, c.height]), [8 * 4 - 1, 3]);
  const box = await page.locator(`${sheet} canvas`).boundingBox();
  const cell = (box.width - 2) / (8 * 4 - 1);
  // (The position is in the canvas's padding box, inside its 1 px border.)
  await page.locator(`${sheet} canvas`).hover({ position: { x: (5 * 4 + 1.5) * cell, y: 1.5 * cell } });
  assert.equal(await page.textContent(`${sheet} figcaption`), 'conv1 kernel 5.0');
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#train-download')]).catch(async (e) => { throw new Error(`${e.message}; status: ${await page.textContent('#model-status')} ${await page.textContent('#train-error')}`); });
  assert.match(dl.suggestedFilename(), /convscope-custom\.safetensors/);
  const st = await (await import('node:fs/promises')).readFile(await dl.path());
  const [dl2] = await Promise.all([page.waitForEvent('download'), page.click('#train-download-onnx')]);
  assert.match(dl2.suggestedFilename(), /convscope-custom\.onnx/);
  const onnx = await (await import('node:fs/promises')).readFile(await dl2.path());
  // Both load in Draw and answer a drawn digit; on the same pixels their outputs are equal.
  const d = await openPage(browser, '#draw', { width: 1280, height: 800 });
  await d.page.waitForSelector('.layers .layer');
  for (const [name, buffer] of [['mine.safetensors', st], ['mine.onnx', onnx]]) {
    await d.page.click('#your-model summary').catch(() => {});
    await d.page.setInputFiles('#model-file', { name, mimeType: 'application/octet-stream', buffer });
    await d.page.waitForFunction((n) => (document.querySelector('#model-source')?.textContent ?? '').includes(n), name);
    await d.page.click('#clear');
    await d.page.waitForFunction(() => document.querySelector('#prediction')?.dataset.digit === '');
    await d.page.click('#example');
    await d.page.waitForFunction(() => document.querySelector('#prediction')?.dataset.digit !== '');
  }
  const answers = await d.page.evaluate(async ([a, b]) => {
    const { api } = await import('./js/wasm.js').then((m) => m.loadWasm());
    const x = Float32Array.from({ length: 784 }, (_, i) => ((i * 37) % 101) / 101);
    return [a, b].map((bytes) => { const m = api.Model.load(new Uint8Array(bytes)); const p = Array.from(m.predict(x), (v) => v.toFixed(5)); m.free(); return p; });
  }, [Array.from(st), Array.from(onnx)]);
  assert.deepEqual(answers[1], answers[0]);
  assert.deepEqual(errors, []);
  assert.deepEqual(d.errors, []);
});
