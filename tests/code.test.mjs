// The PyTorch line (`#code`): in every scene it applies to, one `#code` (the visible scene's
// line, from the wasm API), on the first screen at 1280×800, following the settings, copied by
// its Copy button, and present at 375 px.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, screenshot, axeViolations, BASE_URL } from './browser.mjs';
import { skeletonStrokes, indexOf, drawStrokes } from './draw-strokes.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 375, height: 812 };

const codeText = (page) => page.$eval('#code', (c) => c.textContent);

/** `#code`'s box, asserting there is exactly one and it is visible. */
async function codeBox(page) {
  assert.equal(await page.locator('#code').count(), 1, 'one #code');
  assert.equal(await page.locator('[id="code"]').count(), 1, 'one element with id code');
  await page.waitForSelector('#code', { state: 'visible' });
  return page.locator('#code').boundingBox();
}

function inViewport(b, { width, height }, what) {
  assert.ok(b, `${what}: no box`);
  assert.ok(b.x >= 0 && b.y >= 0 && b.x + b.width <= width + 0.5 && b.y + b.height <= height + 0.5,
    `${what}: #code at ${JSON.stringify(b)} is not inside the ${width}×${height} first screen`);
}

async function setNumber(page, sel, v) {
  await page.fill(sel, v);
  await page.dispatchEvent(sel, 'change');
}

/** Clicks Copy of the block holding `#code` and reads the clipboard. */
async function copied(page) {
  await page.locator('.cs-code:has(#code) .cs-code-copy').click();
  await page.waitForSelector('.cs-code:has(#code)[data-copied="1"]');
  return page.evaluate(() => navigator.clipboard.readText());
}

async function open(hash, viewport = DESKTOP) {
  const o = await openPage(browser, hash, viewport);
  await o.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(BASE_URL).origin });
  return o;
}

test('Sliding correlation: #code on the first screen, follows stride, padding and flip, copies', async () => {
  const { page, context, errors } = await open('#correlate?in=letter&n=8&k=sobel-x&s=1,1&p=0,0,0,0&d=1,1&f=0');
  inViewport(await codeBox(page), DESKTOP, 'correlate');
  assert.equal(await codeText(page), 'y = F.conv2d(x, w)');
  await setNumber(page, '#corr-stride-h', '2');
  await setNumber(page, '#corr-stride-w', '2');
  assert.equal(await codeText(page), 'y = F.conv2d(x, w, stride=2)');
  await setNumber(page, '#corr-stride-w', '1');
  await setNumber(page, '#corr-pad-top', '1');
  // Asymmetric padding: F.pad first, in F.pad's order (left, right, top, bottom).
  assert.equal(await codeText(page), 'y = F.pad(x, (0, 0, 1, 0))\ny = F.conv2d(y, w, stride=(2, 1))');
  await page.click('#corr-flip');
  const text = await codeText(page);
  assert.match(text, /^w = torch\.flip\(w, dims=\(-2, -1\)\)/);
  assert.equal(await copied(page), text);
  // The same line as the API gives it.
  const api = await page.evaluate(async () => {
    const { api } = await import('./js/wasm.js').then((m) => m.loadWasm());
    return api.pytorchCode({ op: 'conv2d', size: 8, kernelSize: 3, stride: [2, 1], padding: [1, 0, 0, 0], flip: true }).text;
  });
  assert.equal(api, text);
  // Bad settings: the trace's own errors, naming the setting.
  const refused = await page.evaluate(async () => {
    const { api } = await import('./js/wasm.js').then((m) => m.loadWasm());
    const msg = (f) => { try { f(); return null; } catch (e) { return e.message; } };
    const img = new Float32Array(64);
    const k = new Float32Array(9);
    return [
      msg(() => api.pytorchCode({ op: 'conv2d', size: 8, kernelSize: 3, stride: 0 })),
      msg(() => api.traceCorrelate(img, k, { size: 8, kernelSize: 3, stride: 0 })),
      msg(() => api.pytorchCode({ op: 'convTranspose2d', size: 8, kernelSize: 3, outputPadding: 1 })),
      msg(() => api.traceTranspose(img, k, { size: 8, kernelSize: 3, outputPadding: 1 })),
      msg(() => api.pytorchCode({ op: 'conv3d', size: 8 })),
      msg(() => api.pytorchCode({ op: 'conv2d', size: 8, kernelSize: 3, strides: 2 })),
      msg(() => api.pytorchCode({ op: 'train', model: 'cnn', lr: -1 })),
      msg(() => api.pytorchCode(7)),
    ];
  });
  assert.ok(refused[0] && refused[0] === refused[1], `${refused[0]} vs ${refused[1]}`);
  assert.ok(refused[2] && refused[2] === refused[3], `${refused[2]} vs ${refused[3]}`);
  assert.match(refused[4], /^invalid op = "conv3d": must be one of/);
  assert.match(refused[5], /strides.*is not an option of pytorchCode/);
  assert.match(refused[6], /^invalid lr = -1/);
  assert.match(refused[7], /^invalid setting/);
  assert.deepEqual(await axeViolations(page, '#correlate-code'), []);
  await screenshot(page, 'code-correlate');
  assert.deepEqual(errors, []);
  await context.close();
});

test('Transposed conv and the checkerboard: #code follows stride and padding, the crop for an asymmetric padding', async () => {
  const { page, context, errors } = await open('#transpose?s=2,2&p=0,0,0,0&d=1,1&op=0,0');
  inViewport(await codeBox(page), DESKTOP, 'transpose');
  assert.equal(await codeText(page), 'y = F.conv_transpose2d(x, w, stride=2)');
  await setNumber(page, '#tr-stride-h', '3');
  assert.equal(await codeText(page), 'y = F.conv_transpose2d(x, w, stride=(3, 2))');
  await setNumber(page, '#tr-pad-top', '1');
  const text = await codeText(page);
  assert.match(text, /^y = F\.conv_transpose2d\(x, w, stride=\(3, 2\)\)\ny = y\[\.\.\., 1:\d+, 0:\d+\]/);
  assert.equal(await copied(page), text);
  // The checkerboard section has its own block (not #code: one per scene).
  const cb = page.locator('#checkerboard-code code');
  assert.match(await cb.textContent(), /F\.interpolate\(x, scale_factor=2, mode='nearest'\)/);
  await setNumber(page, '#cb-stride', '3');
  assert.match(await cb.textContent(), /scale_factor=3/);
  // k = 3, n = 3: nothing to crop, nothing to add.
  assert.match(await cb.textContent(), /y = F\.conv_transpose2d\(x, w, stride=3\)\ny = F\.conv_transpose2d\(y, w, stride=3\)/);
  assert.deepEqual(errors, []);
  await context.close();
});

test('Dense: #code on the first screen follows the shift; the parameter layers follow their controls', async () => {
  const { page, context, errors } = await open('#dense');
  inViewport(await codeBox(page), DESKTOP, 'dense');
  assert.match(await codeText(page), /corr = F\.conv1d\(b, a, padding=23\)/);
  assert.match(await codeText(page), /corr\[0, 0, 23\]/);
  await page.click('#scene-dense .cs-bar[data-shift="5"]');
  const text = await codeText(page);
  assert.match(text, /corr\[0, 0, 28\]  # F\(5\)/);
  assert.equal(await copied(page), text);
  await setNumber(page, '#param-k', '5');
  assert.match(await page.locator('#dense-params-code code').textContent(), /nn\.Conv2d\(1, 1, kernel_size=5\)/);
  assert.match(await page.locator('#dense-1x1-code code').textContent(), /w\.view\(2, 3, 1, 1\)/);
  assert.deepEqual(errors, []);
  await context.close();
});

test('Train: #code is the model as an nn.Sequential and its optimiser, following the settings', async () => {
  const { page, context, errors } = await open('#train');
  const box = await codeBox(page);
  assert.ok(box.y < DESKTOP.height, `#code starts at ${box.y}, below the first screen`);
  let text = await codeText(page);
  assert.match(text, /^model = nn\.Sequential\(\n    nn\.Flatten\(\),  # flatten\n    nn\.Linear\(784, 10\),  # fc1/);
  assert.match(text, /opt = torch\.optim\.SGD\(model\.parameters\(\), lr=0\.1\)/);
  await page.selectOption('#train-model', 'cnn');
  text = await codeText(page);
  assert.match(text, /nn\.Conv2d\(1, 8, kernel_size=5, padding=2\),  # conv1/);
  assert.match(text, /nn\.MaxPool2d\(2\),  # pool1/);
  assert.match(text, /torch\.optim\.Adam\(model\.parameters\(\), lr=0\.003\)/);
  await page.selectOption('#train-opt', 'momentum');
  assert.match(await codeText(page), /torch\.optim\.SGD\(model\.parameters\(\), lr=0\.003, momentum=0\.9\)/);
  assert.equal(await copied(page), await codeText(page));
  assert.deepEqual(errors, []);
  await context.close();
});

test('Draw: the explanation names the picked layer’s nn constructor in #code', async () => {
  const { page, context, errors } = await open('#draw');
  await page.waitForSelector('.layers .layer', { timeout: 30000 });
  assert.equal(await page.locator('#code').count(), 0, 'no line before a layer is picked');
  await drawStrokes(page, skeletonStrokes(indexOf(3)), { size: 0.8, cx: 0.5, cy: 0.5 });
  const pick = async (layer, map) => {
    const canvas = page.locator(`.layer[data-layer="${layer}"] .maps canvas`).nth(map);
    const b = await canvas.boundingBox();
    await page.mouse.click(b.x + b.width / 2, b.y + b.height / 2);
    await page.waitForSelector(`#explain #dot[data-layer="${layer}"]`);
  };
  await pick('conv1', 0);
  inViewport(await codeBox(page), DESKTOP, 'draw');
  assert.equal(await codeText(page), 'nn.Conv2d(1, 8, kernel_size=5, padding=2)');
  await pick('pool1', 0);
  assert.equal(await codeText(page), 'nn.MaxPool2d(2)');
  assert.equal(await copied(page), 'nn.MaxPool2d(2)');
  // The API behind it: every layer's constructor, and the model as an nn.Sequential.
  const m = await page.evaluate(async () => {
    const { api } = await import('./js/wasm.js').then((w) => w.loadWasm());
    const bytes = new Uint8Array(await (await fetch('data/models/cnn.safetensors')).arrayBuffer());
    const model = api.Model.load(bytes);
    const out = { torch: model.layers().map((l) => l.torch ?? null), code: model.pytorchCode() };
    model.free();
    return out;
  });
  assert.deepEqual(m.torch.slice(0, 4), [null, 'nn.Conv2d(1, 8, kernel_size=5, padding=2)', 'nn.ReLU()', 'nn.MaxPool2d(2)']);
  assert.equal(m.torch.at(-1), 'nn.Softmax(dim=1)');
  assert.equal(m.code.lines[0], 'model = nn.Sequential(');
  assert.equal(m.code.lines[1], '    nn.Conv2d(1, 8, kernel_size=5, padding=2),  # conv1');
  assert.ok(m.code.lines.includes('    nn.Linear(784, 64),  # fc1'));
  assert.equal(m.code.text, m.code.lines.join('\n'));
  assert.deepEqual(errors, []);
  await context.close();
});

test('one #code at a time: switching scenes moves it to the visible scene', async () => {
  const { page, context, errors } = await open('#correlate');
  await codeBox(page);
  assert.equal(await page.$eval('#code', (c) => c.closest('.scene').dataset.scene), 'correlate');
  for (const scene of ['transpose', 'dense', 'train', 'correlate']) {
    await page.click(`nav a[href="#${scene}"]`);
    await page.waitForFunction((s) => document.querySelector('#code')?.closest('.scene')?.dataset.scene === s, scene);
    assert.equal(await page.locator('[id="code"]').count(), 1, scene);
  }
  assert.deepEqual(errors, []);
  await context.close();
});

test('at 375 px every scene’s #code is present, within the width, and wraps instead of widening the page', async () => {
  for (const hash of ['#correlate?p=1,0,2,1&f=1', '#transpose?p=1,0,0,0', '#dense', '#train']) {
    const { page, context, errors } = await open(hash, PHONE);
    const b = await codeBox(page);
    assert.ok(b.x >= 0 && b.x + b.width <= PHONE.width + 0.5, `${hash}: ${JSON.stringify(b)}`);
    assert.ok((await codeText(page)).length > 0);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `${hash}: the page scrolls sideways by ${overflow}px`);
    await screenshot(page, `code-375-${hash.slice(1).split('?')[0]}`);
    assert.deepEqual(errors, []);
    await context.close();
  }
});
