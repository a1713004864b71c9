// The Templates scene: ten slp templates, the winning neuron's weights beside the drawn digit
// with a cosine in [-1, 1], for the slp and for the mlp's most active hidden neuron.
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

test('templates: ten slp templates, the winner marked, cosines in [-1, 1]', async () => {
  const { page, context, errors, foreign } = await openPage(browser, '#templates');
  await page.waitForSelector('#templates canvas');
  assert.equal(await page.locator('#templates > *').count(), 10);
  assert.equal(await page.locator('#templates > .win').count(), 0, 'nothing drawn: no winner');
  await page.click('#tpl-example');
  const c = await cosines(page);
  for (const v of [c.slp, c.mlp]) assert.ok(v >= -1 && v <= 1, `cosine ${v}`);
  assert.deepEqual(c.marked, [c.win]);
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
