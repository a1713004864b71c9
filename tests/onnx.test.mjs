// ONNX both ways, checked against onnxruntime (onnxruntime-web, run here in node): every model
// the page's wasm writes with `model.toOnnx()` (the shipped cnn, designs that use every layer
// kind, imported fixtures) computes in onnxruntime what `model.forward` computed in Chromium; and
// the committed fixtures (made with onnx + onnxruntime, crate/fixtures/onnx) load in the page
// and compute onnxruntime's outputs. Hostile files are refused with the fixture's expected words.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-web';
import { launch, openPage } from './browser.mjs';

const FIXTURES = new URL('../crate/fixtures/onnx/', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('manifest.json', FIXTURES)));
ort.env.wasm.numThreads = 1;

let browser;
let page;
before(async () => {
  browser = await launch();
  ({ page } = await openPage(browser, '#draw', { width: 1280, height: 800 }));
});
after(async () => { await browser?.close(); });

const DESIGNS = [
  { input: [1, 28, 28], layers: [{ kind: 'conv2d', outChannels: 4, kernelSize: 3, stride: 2, padding: [1, 0, 2, 1], bias: false }, { kind: 'leakyrelu', negativeSlope: 0.1 }, { kind: 'batchnorm2d' }, { kind: 'conv2d', outChannels: 4, kernelSize: 3, padding: 2, dilation: 2, groups: 2 }, { kind: 'add', from: 3 }, { kind: 'avgpool2d', kernelSize: 3, stride: 2, padding: 1, countIncludePad: false }, { kind: 'sigmoid' }, { kind: 'maxpool2d', kernelSize: 2, stride: 1, dilation: 2, padding: 1 }, { kind: 'tanh' }, { kind: 'flatten' }, { kind: 'linear', outFeatures: 10, bias: false }, { kind: 'logsoftmax' }] },
  { input: [1, 16, 16], layers: [{ kind: 'conv2d', outChannels: 3, kernelSize: 3, stride: 2, padding: 1 }, { kind: 'relu' }, { kind: 'convtranspose2d', outChannels: 2, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1 }, { kind: 'convtranspose2d', outChannels: 4, kernelSize: 2, dilation: 2, groups: 2, padding: [1, 0, 0, 1] }, { kind: 'softmax' }, { kind: 'sigmoid' }] },
  { input: [3, 12, 10], layers: [{ kind: 'conv2d', outChannels: 6, kernelSize: 3, groups: 3 }, { kind: 'relu' }, { kind: 'batchnorm2d' }, { kind: 'globalavgpool' }, { kind: 'flatten' }, { kind: 'linear', outFeatures: 7 }, { kind: 'tanh' }, { kind: 'linear', outFeatures: 10 }, { kind: 'softmax' }] },
];

/** In the page: each model's ONNX bytes, an input and the page's output for it. */
async function fromPage(what) {
  return page.evaluate(async ({ designs, fixtures }) => {
    const { api } = await import('./js/wasm.js').then((m) => m.loadWasm());
    const shipped = new Uint8Array(await (await fetch('data/models/cnn.safetensors')).arrayBuffer());
    const models = [['cnn', api.Model.load(shipped)], ...designs.map((d, i) => [`design ${i}`, api.Model.fromSpec(d, 3 + i)])];
    for (const [name, bytes] of fixtures) models.push([`${name} (imported)`, api.Model.load(Uint8Array.from(bytes))]);
    return models.map(([name, m]) => {
      const n = m.inputShape.reduce((a, b) => a * b, 1);
      const x = Float32Array.from({ length: n }, (_, i) => ((i * 37) % 101) / 101);
      const out = { name, onnx: Array.from(m.toOnnx()), shape: m.inputShape, x: Array.from(x), y: Array.from(m.forward(x).output()) };
      m.free();
      return out;
    });
  }, what);
}

async function runOrt(bytes, shape, x) {
  const s = await ort.InferenceSession.create(Uint8Array.from(bytes));
  const out = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', Float32Array.from(x), [1, ...shape]) });
  return Array.from(out[s.outputNames[0]].data);
}

const worst = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]) / (1 + Math.abs(b[i]))), 0);

test('model.toOnnx() runs in onnxruntime with the page\'s outputs: the shipped cnn, designs of every kind, imported files', async () => {
  const fixtures = manifest.fixtures.map((f) => [f.name, Array.from(readFileSync(new URL(`${f.name}.onnx`, FIXTURES)))]);
  const models = await fromPage({ designs: DESIGNS, fixtures });
  assert.equal(models.length, 1 + DESIGNS.length + fixtures.length);
  for (const m of models) {
    const y = await runOrt(m.onnx, m.shape, m.x);
    assert.equal(y.length, m.y.length, m.name);
    assert.ok(worst(y, m.y) <= 1e-4, `${m.name}: worst relative difference ${worst(y, m.y)}`);
  }
});

test('the committed ONNX fixtures load in the page and compute onnxruntime\'s outputs; hostile ones are refused in words', async () => {
  const cases = manifest.fixtures.map((f) => ({ name: f.name, bytes: Array.from(readFileSync(new URL(`${f.name}.onnx`, FIXTURES))), ...JSON.parse(readFileSync(new URL(`${f.name}.json`, FIXTURES))) }));
  const hostile = manifest.hostile.map((h) => ({ ...h, bytes: Array.from(readFileSync(new URL(h.file ?? `${h.name}.onnx`, FIXTURES))) }));
  const r = await page.evaluate(async ({ cases, hostile }) => {
    const { api } = await import('./js/wasm.js').then((m) => m.loadWasm());
    const good = cases.map((c) => {
      const m = api.Model.load(Uint8Array.from(c.bytes));
      const y = Array.from(m.forward(Float32Array.from(c.x)).output());
      m.free();
      return { name: c.name, y };
    });
    const bad = hostile.map((h) => {
      try { api.Model.load(Uint8Array.from(h.bytes)).free(); return { name: h.name ?? h.file, message: null }; } catch (e) { return { name: h.name ?? h.file, message: e.message }; }
    });
    // The instance still works after every refusal.
    const ok = api.Model.fromSpec({ input: [1, 8, 8], layers: [{ kind: 'relu' }] }).forward(new Float32Array(64)).output().length === 64;
    return { good, bad, ok };
  }, { cases, hostile });
  for (const [i, g] of r.good.entries()) {
    const ort1 = await runOrt(cases[i].bytes, cases[i].input, cases[i].x);
    assert.ok(worst(g.y, cases[i].y) <= 1e-4, `${g.name}: page vs fixture ${worst(g.y, cases[i].y)}`);
    assert.ok(worst(ort1, cases[i].y) <= 1e-5, `${g.name}: onnxruntime-web vs the fixture's onnxruntime`);
  }
  const wrong = [];
  for (const [i, b] of r.bad.entries()) {
    const want = manifest.hostile[i].error;
    if (!b.message || !b.message.includes(want) || b.message.length >= 500 || /unreachable|RuntimeError/.test(b.message)) wrong.push(`${b.name}: ${b.message} (wanted “${want}”)`);
  }
  assert.deepEqual(wrong, []);
  assert.ok(r.ok);
});
