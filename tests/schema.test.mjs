// State (issue 9, deliverable 5): each scene's one schema drives its controls, its link and the
// link's validation. A link with every setting set to a non-default valid value comes back as it
// was (the controls show it, the URL keeps it); an invalid value opens with the nearest valid
// one and a visible note naming it; a stepper reaches only the range wasm gives it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage } from './browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const query = (hash) => Object.fromEntries(new URLSearchParams(decodeURIComponent(hash).split('?')[1] ?? ''));
const hashOf = (page) => page.evaluate(() => location.hash);
const values = (page, ids) => page.evaluate((ids) => Object.fromEntries(ids.map((id) => {
  const e = document.getElementById(id);
  return [id, e.type === 'checkbox' ? e.checked : e.value];
})), ids);
const linkNote = (page) => page.$eval('.scene:not([hidden]) .link-note', (n) => (n.hidden ? '' : n.textContent));
const speedName = (page, id) => page.$eval(`#${id}`, (s) => s.selectedOptions[0].dataset.name);
const controls = () => import('./js/wasm.js').then(({ loadWasm }) => loadWasm()).then(({ api }) => api.traceControls());

/** Opens `hash` and waits until the scene has written its link back. */
async function open(hash, ready) {
  const o = await openPage(browser, hash);
  await o.page.waitForSelector(ready);
  await o.page.waitForTimeout(200);
  return o;
}

test('Correlate: every setting of a link comes back (controls and URL), the speed too', async () => {
  const link = '#correlate?in=edges&n=7&k=box&ks=2&s=2,1&p=1,0,2,1&d=1,2&f=1&t=3&sp=4';
  const { page, context, errors } = await open(link, '#corr-output .cs-cell');
  assert.deepEqual(query(await hashOf(page)), query(link));
  assert.deepEqual(await values(page, ['corr-input', 'corr-size', 'corr-kernel', 'corr-ksize', 'corr-stride-h', 'corr-stride-w',
    'corr-pad-top', 'corr-pad-left', 'corr-pad-bottom', 'corr-pad-right', 'corr-dil-h', 'corr-dil-w', 'corr-flip']), {
    'corr-input': 'edges', 'corr-size': '7', 'corr-kernel': 'box', 'corr-ksize': '2', 'corr-stride-h': '2', 'corr-stride-w': '1',
    'corr-pad-top': '1', 'corr-pad-left': '0', 'corr-pad-bottom': '2', 'corr-pad-right': '1', 'corr-dil-h': '1', 'corr-dil-w': '2', 'corr-flip': true,
  });
  assert.equal(await speedName(page, 'corr-speed'), '4');
  assert.equal(await page.getAttribute('#corr-step', 'data-step'), '3');
  assert.equal(await linkNote(page), '', 'a valid link has no note');
  assert.deepEqual(errors, []);
  await context.close();
});

test('Correlate: invalid link values open as the nearest valid ones (ranges from wasm), each named in a note', async () => {
  const { page, context, errors } = await open('#correlate?k=box&n=40&ks=0&s=1,9&f=maybe&sp=9', '#corr-output .cs-cell');
  const lim = (await page.evaluate(controls)).correlate;
  assert.equal(await page.inputValue('#corr-size'), String(lim.size[1]));
  assert.equal(await page.inputValue('#corr-ksize'), String(lim.kernelSize[0]));
  assert.equal(await page.inputValue('#corr-stride-w'), String(lim.cap));
  const note = await linkNote(page);
  assert.match(note, new RegExp(`Input size “40” is not a whole number from ${lim.size[0]} to ${lim.size[1]}: opened with ${lim.size[1]}\\.`));
  assert.match(note, /Kernel size “0” is not a whole number from 1 to \d+: opened with 1\./);
  assert.match(note, new RegExp(`Stride “1,9” has values outside 1 to ${lim.cap}: opened with 1, ${lim.cap}\\.`));
  assert.match(note, /Flip “maybe” is not 1 or 0: opened with off\./);
  assert.match(note, /Speed “9” is not one of 0\.5, 1, 2, 4, max: opened with 2\./);
  assert.equal(await speedName(page, 'corr-speed'), '2');
  const q = query(await hashOf(page));
  assert.equal(q.n, String(lim.size[1]), 'the URL holds the setting opened');
  assert.deepEqual(errors, []);
  await context.close();
});

test('Correlate: a kernel size or learned kernel number the kernel cannot have is named, with what opened', async () => {
  const { page, context, errors } = await open('#correlate?in=letter&k=sobel-x&ks=5', '#corr-output .cs-cell');
  assert.equal(await page.inputValue('#corr-ksize'), '3');
  assert.match(await linkNote(page), /Kernel size 5: the Sobel x kernel is 3×3: opened with 3\./);
  assert.equal(query(await hashOf(page)).ks, '3');
  await context.close();
  const learned = await open('#correlate?in=letter&k=learned&li=50', '#corr-output .cs-cell');
  await learned.page.waitForFunction(() => /Learned kernel number 50/.test(document.querySelector('#scene-correlate .link-note')?.textContent ?? ''));
  const count = await learned.page.evaluate(async () => {
    const { api } = await (await import('./js/wasm.js')).loadWasm();
    const m = api.Model.load(new Uint8Array(await (await fetch('data/models/cnn.safetensors')).arrayBuffer()));
    return m.weights(m.layers().find((l) => l.kind === 'conv2d').name).shape[0];
  });
  assert.match(await linkNote(learned.page), new RegExp(`Learned kernel number 50: the cnn's first conv layer has kernels 0 to ${count - 1}: opened with ${count - 1}\\.`));
  assert.equal(await learned.page.inputValue('#corr-learned'), String(count - 1));
  assert.equal(query(await hashOf(learned.page)).li, String(count - 1));
  assert.deepEqual(errors, []);
  assert.deepEqual(learned.errors, []);
  await learned.context.close();
});

test('Correlate: a stepper at its wasm maximum cannot go past it; the geometry steppers carry the wasm ranges', async () => {
  const { page, context, errors } = await open('#correlate?in=letter&n=5&k=box&ks=3&s=1,1&p=0,0,0,0&d=1,1', '#corr-output .cs-cell');
  const lim = (await page.evaluate(controls)).correlate;
  assert.equal(await page.getAttribute('#corr-size', 'max'), String(lim.size[1]));
  assert.equal(await page.getAttribute('#corr-ksize', 'max'), String(lim.kernelSize[1]));
  await page.fill('#corr-size', String(lim.size[1]));
  await page.dispatchEvent('#corr-size', 'change');
  await page.focus('#corr-size');
  for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowUp');
  await page.dispatchEvent('#corr-size', 'change');
  assert.equal(await page.inputValue('#corr-size'), String(lim.size[1]), 'ArrowUp stops at the maximum');
  assert.equal(query(await hashOf(page)).n, String(lim.size[1]));
  // What the page offers for each geometry stepper is what wasm reports for the setting shown.
  const want = await page.evaluate(async (cap) => {
    const { api } = await (await import('./js/wasm.js')).loadWasm();
    return api.traceCorrelateRanges({ size: 16, kernelSize: 3, stride: [1, 1], padding: [0, 0, 0, 0], dilation: [1, 1], cap });
  }, lim.cap);
  const ids = [['stride', ['h', 'w'].map((a) => `corr-stride-${a}`)], ['padding', ['top', 'left', 'bottom', 'right'].map((a) => `corr-pad-${a}`)], ['dilation', ['h', 'w'].map((a) => `corr-dil-${a}`)]];
  for (const [name, list] of ids) {
    for (const [i, id] of list.entries()) {
      const got = await page.$eval(`#${id}`, (e) => [Number(e.min), Number(e.max)]);
      assert.deepEqual(got, want[name][i], id);
    }
  }
  // Dilation rows at its maximum: the next step up is refused, the value stays, the URL with it.
  const top = want.dilation[0][1];
  await page.fill('#corr-dil-h', String(top));
  await page.dispatchEvent('#corr-dil-h', 'change');
  await page.focus('#corr-dil-h');
  await page.keyboard.press('ArrowUp');
  await page.dispatchEvent('#corr-dil-h', 'change');
  assert.equal(await page.inputValue('#corr-dil-h'), String(top));
  assert.equal(query(await hashOf(page)).d, `${top},1`);
  assert.deepEqual(errors, []);
  await context.close();
});

test('Transposed conv and its checkerboard: every setting of a link comes back; invalid ones are named', async () => {
  const link = '#transpose?in=dot&n=3&k=bilinear&ks=4&s=2,3&p=1,0,1,0&op=1,0&d=1,1&t=2&sp=1&ci=checker&cn=4&cw=box&ck=4&cs=3';
  const { page, context, errors } = await open(link, '#tr-canvas .cs-cell');
  assert.deepEqual(query(await hashOf(page)), query(link));
  assert.deepEqual(await values(page, ['tr-input', 'tr-size', 'tr-kernel', 'tr-ksize', 'tr-stride-h', 'tr-stride-w', 'tr-pad-top', 'tr-pad-left',
    'tr-pad-bottom', 'tr-pad-right', 'tr-op-h', 'tr-op-w', 'tr-dil-h', 'tr-dil-w', 'cb-input', 'cb-size', 'cb-kernel', 'cb-ksize', 'cb-stride']), {
    'tr-input': 'dot', 'tr-size': '3', 'tr-kernel': 'bilinear', 'tr-ksize': '4', 'tr-stride-h': '2', 'tr-stride-w': '3', 'tr-pad-top': '1',
    'tr-pad-left': '0', 'tr-pad-bottom': '1', 'tr-pad-right': '0', 'tr-op-h': '1', 'tr-op-w': '0', 'tr-dil-h': '1', 'tr-dil-w': '1',
    'cb-input': 'checker', 'cb-size': '4', 'cb-kernel': 'box', 'cb-ksize': '4', 'cb-stride': '3',
  });
  assert.equal(await speedName(page, 'tr-speed'), '1');
  assert.equal(await page.getAttribute('#tr-step', 'data-step'), '2');
  assert.equal(await linkNote(page), '');
  await context.close();

  const bad = await open('#transpose?n=1&ks=99&cs=0&cn=30', '#tr-canvas .cs-cell');
  const lim = await bad.page.evaluate(controls);
  assert.equal(await bad.page.inputValue('#tr-size'), String(lim.transpose.size[0]));
  assert.equal(await bad.page.inputValue('#tr-ksize'), String(lim.transpose.kernelSize[1]));
  assert.equal(await bad.page.inputValue('#cb-stride'), String(lim.checkerboard.stride[0]));
  assert.equal(await bad.page.inputValue('#cb-size'), String(lim.checkerboard.size[1]));
  const note = await linkNote(bad.page);
  assert.match(note, new RegExp(`Input size “1” is not a whole number from ${lim.transpose.size[0]} to ${lim.transpose.size[1]}: opened with ${lim.transpose.size[0]}\\.`));
  assert.match(note, /Kernel size “99” .*opened with 5\./);
  assert.match(note, /Checkerboard stride “0” .*opened with 1\./);
  assert.match(note, /Checkerboard input size “30” .*opened with 8\./);
  // The stepper takes its range from the checkerboard trace's limits (wasm).
  assert.equal(await bad.page.getAttribute('#cb-ksize', 'max'), String(lim.checkerboard.kernelSize[1]));
  assert.deepEqual(errors, []);
  assert.deepEqual(bad.errors, []);
  await bad.context.close();
});

test('Dense: every setting of a link comes back, the parameter steppers carry the wasm ranges', async () => {
  const a = '012345012345012345012345';
  const b = '543210543210543210543210';
  const link = `#dense?a=${a}&b=${b}&t=-3&px=7&img=200&cin=3&hidden=50&k=5&cout=8&brush=2`;
  const { page, context, errors } = await open(link, '#param-table td');
  assert.deepEqual(query(await hashOf(page)), query(link));
  assert.deepEqual(await values(page, ['dense-shift', 'param-img', 'param-cin', 'param-hidden', 'param-k', 'param-cout']), {
    'dense-shift': '-3', 'param-img': '200', 'param-cin': '3', 'param-hidden': '50', 'param-k': '5', 'param-cout': '8',
  });
  const lim = (await page.evaluate(controls)).dense;
  assert.equal(await page.getAttribute('#param-k', 'max'), String(lim.kernelSize[1]));
  assert.equal(await page.getAttribute('#param-cin', 'max'), String(lim.channels[1]));
  assert.equal(await page.getAttribute('#param-img', 'max'), String(lim.size[1]));
  // The shift slider spans the shifts the correlation has (the trace's own).
  const shifts = await page.evaluate(async ([a, b]) => {
    const { api } = await (await import('./js/wasm.js')).loadWasm();
    const day = (t) => Uint8Array.from(t, (c) => Number(c));
    return Array.from(api.traceSchedules(day(a), day(b), 6).shifts);
  }, [a, b]);
  assert.deepEqual(await page.$eval('#dense-shift', (e) => [Number(e.min), Number(e.max)]), [shifts[0], shifts[shifts.length - 1]]);
  assert.equal(await page.getAttribute('#dense-a [data-hour="1"]', 'data-act'), '1');
  assert.equal(await page.getAttribute('[data-act="2"][role="radio"]', 'aria-checked'), 'true');
  assert.equal(await linkNote(page), '');
  assert.deepEqual(errors, []);
  await context.close();
});

test('Train: a link with every setting comes back; invalid values open as the model\'s defaults or the nearest, with a note', async () => {
  const link = '#train?m=mlp&opt=adam&lr=0.01&b=32&init=zeros&aug=1&pace=1000&w=1&seed=7&img=42';
  const { page, context, errors } = await open(link, '#train-model');
  assert.deepEqual(query(await hashOf(page)), query(link));
  assert.deepEqual(await values(page, ['train-model', 'train-opt', 'train-lr', 'train-batch', 'train-init', 'train-aug', 'train-pace', 'train-workers', 'train-explain-index']), {
    'train-model': 'mlp', 'train-opt': 'adam', 'train-lr': '0.01', 'train-batch': '32', 'train-init': 'zeros', 'train-aug': true, 'train-pace': '1000', 'train-workers': '1',
    'train-explain-index': '42',
  });
  assert.equal(await linkNote(page), '');
  await context.close();

  const bad = await open('#train?m=cnn&lr=NaN&b=0&w=999&pace=7&init=ones&colour=red&img=70000', '#train-model');
  const cores = await bad.page.evaluate(() => Math.max(1, Math.min(8, navigator.hardwareConcurrency || 1)));
  assert.deepEqual(await values(bad.page, ['train-model', 'train-lr', 'train-batch', 'train-workers', 'train-pace', 'train-init']), {
    'train-model': 'cnn', 'train-lr': '0.003', 'train-batch': '1', 'train-workers': String(cores), 'train-pace': 'full', 'train-init': 'seeded',
  });
  const note = await linkNote(bad.page);
  assert.match(note, /Learning rate “NaN” is not a number: opened with 0\.003\./);
  const lim = (await bad.page.evaluate(controls)).train;
  assert.match(note, new RegExp(`Batch size “0” is not a whole number from ${lim.batch[0]} to ${lim.batch[1]}: opened with 1\\.`));
  assert.equal(lim.batch[1], 60000, 'the trainer takes up to all 60,000 training images');
  assert.match(note, new RegExp(`Workers “999” is not a whole number from 1 to ${cores}: opened with ${cores}\\.`));
  assert.match(note, /Speed “7” is not one of .*: opened with full\./);
  assert.match(note, /Initial weights “ones” is not one of zeros, seeded: opened with seeded\./);
  assert.match(note, /This scene has no setting “colour”; ignored\./);
  assert.match(note, /Training image “70000” is not a whole number from 0 to 59999: opened with 59999\./);
  assert.equal(await bad.page.inputValue('#train-explain-index'), '59999');
  const q = query(await hashOf(bad.page));
  assert.equal(q.lr, '0.003');
  assert.equal(q.b, '1');
  await bad.context.close();
  const big = await open('#train?m=slp&lr=50', '#train-model');
  assert.equal(await big.page.inputValue('#train-lr'), String(lim.lr[1]));
  assert.match(await linkNote(big.page), new RegExp(`Learning rate “50” is not a number above ${lim.lr[0]} and at most ${lim.lr[1]}: opened with ${lim.lr[1]}\\.`));
  assert.deepEqual(errors, []);
  assert.deepEqual(bad.errors, []);
  assert.deepEqual(big.errors, []);
  await big.context.close();
});

test('Draw and Templates: a drawing a link cannot hold, and a cell outside its layer, are named', async () => {
  const { page, context, errors } = await open('#templates?d=!!notstrokes!!', '#templates');
  assert.match(await linkNote(page), /The drawing “!!notstrokes!!” is not one this page wrote: opened with no digit\./);
  await context.close();
  const draw = await open('#draw?d=%%%&cell=conv1.99.0.0', '[data-layer="conv1"]');
  assert.match(await linkNote(draw.page), /The drawing “%%%” is not one this page wrote: opened with an empty pad\./);
  await draw.page.waitForFunction(() => /nearest cell/.test(document.querySelector('#scene-draw').textContent));
  assert.match(await draw.page.textContent('#scene-draw'), /The link names conv1\[99\]\[0\]\[0\], but conv1 is \d+ × \d+ × \d+: showing the nearest cell/);
  assert.match(query(await hashOf(draw.page)).cell ?? '', /^conv1\.\d+\.0\.0$/);
  assert.deepEqual(errors, []);
  assert.deepEqual(draw.errors, []);
  await draw.context.close();
});
