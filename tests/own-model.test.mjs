// Bring your own network (issue 20), on the page: a model file (safetensors with its spec, or
// ONNX) opened with Draw's #model-file or dropped on the pad runs layer by layer; the layer
// strip comes from model.layers(); every layer kind's cells explain (the sum is the kernels'
// value); a 3-channel model gets the drawing; a model whose output is not ten classes shows
// it as a map; a bad file says why and leaves the running model alone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { launch, openPage, screenshot } from './browser.mjs';
import { skeletonStrokes, indexOf, drawStrokes } from './draw-strokes.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** Specs that use every layer kind between them (the page's wasm builds them). */
const SPECS = {
  residual: {
    input: [1, 28, 28],
    layers: [
      { kind: 'conv2d', name: 'stem', outChannels: 4, kernelSize: 3, padding: 1, bias: false },
      { kind: 'leakyrelu', negativeSlope: 0.1 },
      // After an activation, not a conv: kept as a layer (after a conv it is folded in at load).
      { kind: 'batchnorm2d', name: 'bn' },
      { kind: 'conv2d', outChannels: 4, kernelSize: 3, padding: 2, dilation: 2, groups: 2 },
      { kind: 'add', from: 3 },
      { kind: 'avgpool2d', kernelSize: 2 },
      { kind: 'maxpool2d', kernelSize: 2 },
      { kind: 'tanh' },
      { kind: 'globalavgpool' },
      { kind: 'flatten' },
      { kind: 'linear', name: 'head', outFeatures: 10 },
      { kind: 'logsoftmax' },
    ],
  },
  autoencoder: {
    input: [1, 28, 28],
    layers: [
      { kind: 'conv2d', outChannels: 4, kernelSize: 3, stride: 2, padding: 1 },
      { kind: 'relu' },
      { kind: 'convtranspose2d', outChannels: 1, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1 },
      { kind: 'sigmoid' },
    ],
  },
  rgb: {
    input: [3, 32, 32],
    layers: [
      { kind: 'conv2d', outChannels: 6, kernelSize: 5 },
      { kind: 'relu' },
      { kind: 'maxpool2d', kernelSize: 2 },
      { kind: 'flatten' },
      { kind: 'linear', outFeatures: 10 },
      { kind: 'softmax' },
    ],
  },
};

/** safetensors bytes of a spec with seeded weights, made by the page's wasm. */
async function fileOf(page, spec) {
  const bytes = await page.evaluate(async (s) => {
    const { api } = await import('./js/wasm.js').then((m) => m.loadWasm());
    const m = api.Model.fromSpec(s, 7);
    const b = m.save();
    m.free();
    return Array.from(b);
  }, spec);
  return Buffer.from(bytes);
}

async function open() {
  const o = await openPage(browser, '#draw', { width: 1280, height: 800 });
  await o.page.waitForSelector('.layers .layer', { timeout: 30000 });
  return o;
}

async function useFile(page, name, buffer) {
  await page.click('#your-model summary');
  await page.setInputFiles('#model-file', { name, mimeType: 'application/octet-stream', buffer });
  await page.waitForFunction((n) => (document.querySelector('#model-source')?.textContent ?? '').includes(n), name);
}

/** Explains a cell of every layer through the page's own Forward; returns { kind: ok }. */
async function clickEveryLayer(page) {
  const kinds = await page.$$eval('.layers .layer', (ls) => ls.map((l) => [l.dataset.layer, l.dataset.kind]));
  const seen = {};
  for (const [name, kind] of kinds.slice(1)) {
    const canvas = page.locator(`.layer[data-layer="${name}"] .maps canvas`).first();
    await canvas.scrollIntoViewIfNeeded();
    const box = await canvas.boundingBox();
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await page.waitForSelector(`#explain #dot[data-layer="${name}"]`);
    const text = await page.textContent('#explain');
    assert.ok(!/NaN|undefined/.test(text), `${name} (${kind}): ${text.slice(0, 200)}`);
    seen[kind] = true;
  }
  return seen;
}

test('a safetensors file with a spec runs in Draw: every layer drawn from model.layers(), every kind explained', async () => {
  const { page, errors } = await open();
  const file = await fileOf(page, SPECS.residual);
  await useFile(page, 'residual.safetensors', file);
  const kinds = await page.$$eval('.layers .layer', (ls) => ls.map((l) => l.dataset.kind));
  assert.deepEqual(kinds, ['input', ...SPECS.residual.layers.map((l) => l.kind)]);
  await drawStrokes(page, skeletonStrokes(indexOf(3, 0)), { size: 0.8, cx: 0.5, cy: 0.5 });
  await page.waitForFunction(() => document.querySelector('#prediction')?.dataset.digit !== '');
  assert.equal(await page.locator('#probs').isVisible(), true, 'ten classes: the bars');
  const seen = await clickEveryLayer(page);
  for (const k of ['conv2d', 'batchnorm2d', 'leakyrelu', 'add', 'avgpool2d', 'maxpool2d', 'tanh', 'globalavgpool', 'flatten', 'linear', 'logsoftmax']) assert.ok(seen[k], k);
  // Every explanation's sum is the forward's value (checked in wasm's own terms).
  const bad = await page.evaluate(async (spec) => {
    const { api } = await import('./js/wasm.js').then((m) => m.loadWasm());
    const m = api.Model.fromSpec(spec, 7);
    const px = new Float32Array(784).map((_, i) => (i % 29) / 29);
    const f = m.forward(px);
    const out = [];
    const layers = m.layers();
    for (let i = 1; i < layers.length; i++) {
      const [c, h, w] = layers[i].view;
      const e = f.explain(i, c - 1, h - 1, w >> 1);
      if (!(Math.abs(e.sum - e.value) <= 1e-4 * (1 + Math.abs(e.value)))) out.push(`${layers[i].name}: ${e.sum} vs ${e.value}`);
    }
    m.free();
    return out;
  }, SPECS.residual);
  assert.deepEqual(bad, []);
  await screenshot(page, 'own-model-residual');
  // Back to the shipped cnn.
  await page.click('#model-reset');
  await page.waitForFunction(() => document.querySelector('.layer[data-layer="conv2"]'));
  assert.deepEqual(errors, []);
});

test('an autoencoder shows its output as a map; a 3-channel model gets the drawing', async () => {
  const { page, errors } = await open();
  await useFile(page, 'ae.safetensors', await fileOf(page, SPECS.autoencoder));
  await drawStrokes(page, skeletonStrokes(indexOf(7, 0)), { size: 0.8, cx: 0.5, cy: 0.5 });
  await page.waitForSelector('#output-map:not([hidden])');
  assert.equal(await page.locator('#probs').isVisible(), false);
  assert.match(await page.textContent('#output-map figcaption'), /28 × 28/);
  const seen = await clickEveryLayer(page);
  assert.ok(seen.convtranspose2d && seen.sigmoid && seen.relu);
  await screenshot(page, 'own-model-autoencoder');

  await useFile(page, 'rgb.safetensors', await fileOf(page, SPECS.rgb));
  await page.waitForFunction(() => document.querySelector('.layer[data-kind="input"] .lshape')?.textContent === '3×32×32');
  await drawStrokes(page, skeletonStrokes(indexOf(1, 0)), { size: 0.8, cx: 0.5, cy: 0.5 });
  await page.waitForFunction(() => document.querySelector('#prediction')?.dataset.digit !== '');
  assert.match(await page.textContent('#model-source'), /3 × 32 × 32/);
  assert.deepEqual(errors, []);
});

test('a file that is no model says why and the running model stays', async () => {
  const { page, errors } = await open();
  await page.click('#your-model summary');
  await page.setInputFiles('#model-file', { name: 'notes.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from('hello, a text file') });
  await page.waitForFunction(() => /was not loaded/.test(document.querySelector('#model-note')?.textContent ?? ''));
  assert.ok(await page.$('.layer[data-layer="conv2"]'), 'the cnn still runs');
  assert.deepEqual(errors, []);
});

test('an ONNX file dropped on the pad runs: a residual 3-channel network with folded batch norms, every layer explained', async () => {
  const { page, errors } = await open();
  const bytes = Array.from(readFileSync(new URL('../crate/fixtures/onnx/resnet_bn.onnx', import.meta.url)));
  await page.evaluate((b) => {
    const dt = new DataTransfer();
    dt.items.add(new File([Uint8Array.from(b)], 'resnet_bn.onnx', { type: 'application/octet-stream' }));
    document.querySelector('.padwrap').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, bytes);
  await page.waitForFunction(() => /resnet_bn\.onnx/.test(document.querySelector('#model-source')?.textContent ?? ''));
  const kinds = await page.$$eval('.layers .layer', (ls) => ls.map((l) => l.dataset.kind));
  assert.ok(!kinds.includes('batchnorm2d'), `batch norms after convs are folded: ${kinds}`);
  assert.ok(kinds.includes('add') && kinds.includes('globalavgpool'), String(kinds));
  assert.equal(await page.textContent('.layer[data-kind="input"] .lshape'), '3×32×32');
  await drawStrokes(page, skeletonStrokes(indexOf(4, 0)), { size: 0.8, cx: 0.5, cy: 0.5 });
  await page.waitForFunction(() => document.querySelector('#prediction')?.dataset.digit !== '');
  const seen = await clickEveryLayer(page);
  assert.ok(seen.conv2d && seen.add && seen.globalavgpool && seen.linear, JSON.stringify(seen));
  // The Show me run follows the shipped cnn: it says so while another model runs.
  assert.equal(await page.getAttribute('#draw-showme', 'aria-disabled'), 'true');
  await screenshot(page, 'own-model-onnx');
  assert.deepEqual(errors, []);
});
