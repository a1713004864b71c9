// The Templates scene: ten slp templates, the winning neuron's weights beside the drawn digit
// with its cosine (each equal to one computed here from the model's weights and the digit), for
// the slp and for the mlp's most active hidden neuron.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, screenshot } from './browser.mjs';
import { skeletonStrokes, indexOf, drawStrokes } from './draw-strokes.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function cosines(page) {
  await page.waitForFunction(() => document.querySelector('#cos-slp')?.dataset.cos && document.querySelector('#cos-mlp')?.dataset.cos);
  return page.evaluate(() => ({
    slp: Number(document.querySelector('#cos-slp').dataset.cos),
    mlp: Number(document.querySelector('#cos-mlp').dataset.cos),
    win: document.querySelector('#templates').dataset.win,
    marked: [...document.querySelectorAll('#templates > .win')].map((f) => f.dataset.class),
  }));
}

test('templates: ten slp templates, the winner marked, each cosine the one its definition gives', async () => {
  const { page, context, errors, foreign } = await openPage(browser, '#templates');
  await page.waitForSelector('#templates canvas');
  assert.equal(await page.locator('#templates > *').count(), 10);
  assert.equal(await page.locator('#templates > .win').count(), 0, 'nothing drawn: no winner');
  await page.click('#tpl-example');
  const c = await cosines(page);
  assert.deepEqual(c.marked, [c.win]);
  // Every cosine shown is the one computed here, by its definition, from the weights and the digit.
  const want = await page.evaluate(async () => {
    const { api } = await import('./js/wasm.js').then((m) => m.loadWasm());
    const load = async (n) => api.Model.load(new Uint8Array(await (await fetch(`data/models/${n}.safetensors`)).arrayBuffer()));
    const slp = await load('slp');
    const x = api.preprocess(document.querySelector('#tpl-pad').getContext('2d').getImageData(0, 0, 280, 280).data, 280, 280);
    const cos = (a, w, off) => {
      let d = 0, na = 0, nb = 0;
      for (let i = 0; i < a.length; i++) { d += a[i] * w[off + i]; na += a[i] * a[i]; nb += w[off + i] * w[off + i]; }
      return d / Math.sqrt(na * nb);
    };
    const ws = slp.weights('fc1').data;
    const all = Array.from({ length: 10 }, (_, k) => cos(x, ws, k * 784));
    slp.free();
    return { all, shown: [...document.querySelectorAll('#templates > figure')].map((t) => Number(t.dataset.cos)) };
  });
  want.all.forEach((v, k) => assert.ok(Math.abs(v - want.shown[k]) < 1e-5, `template ${k}: shown ${want.shown[k]}, by definition ${v}`));
  assert.ok(Math.abs(want.all[Number(c.win)] - c.slp) < 1e-5, 'the winner\'s cosine');
  assert.deepEqual(errors, [], 'console errors');
  assert.deepEqual(foreign, [], 'requests outside the origin');
  await context.close();
});

test('templates follow the digit drawn on the pad; screenshots at desktop and phone width', async () => {
  for (const [name, viewport] of [['templates-desktop', { width: 1280, height: 900 }], ['templates-phone', { width: 375, height: 812 }]]) {
    const { page, context, errors } = await openPage(browser, '#draw', viewport);
    await page.waitForSelector('.layers .layer', { timeout: 30000 });
    await drawStrokes(page, skeletonStrokes(indexOf(3)), { size: 0.8, cx: 0.5, cy: 0.5 });
    await page.click('a[href="#templates"]');
    const c = await cosines(page);
    // The slp is a 92% model: for a clear 3 its winner is 3, and its template looks like one.
    assert.equal(c.win, '3');
    assert.ok(c.slp > 0, `a winning template resembles the digit: cosine ${c.slp}`);
    assert.ok(c.mlp >= -1 && c.mlp <= 1);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${name}: page scrolls sideways by ${overflow}px`);
    await screenshot(page, name);
    assert.deepEqual(errors, [], 'console errors');
    await context.close();
  }
});
