// Page-wide: every scene link works without a console error; a copied link restores the
// drawing, the picked cell and the templates; controls carry labels; touch drawing works at
// a phone's width; reduced motion is respected.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, screenshot } from './browser.mjs';
import { skeletonStrokes, indexOf, drawStrokes } from './draw-strokes.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const settle = (page) => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));

test('every scene link shows its scene, with no console error and no foreign request', async () => {
  const { page, context, errors, foreign } = await openPage(browser, '');
  for (const id of ['draw', 'correlate', 'transpose', 'dense', 'templates', 'draw']) {
    await page.click(`nav a[href="#${id}"]`);
    await page.waitForFunction((s) => !document.getElementById(`scene-${s}`).hidden, id);
    assert.equal(await page.getAttribute(`nav a[href="#${id}"]`, 'aria-current'), 'page');
    const visible = await page.$$eval('.scene', (ss) => ss.filter((s) => !s.hidden).map((s) => s.dataset.scene));
    assert.deepEqual(visible, [id]);
    await settle(page);
  }
  await page.waitForTimeout(200);
  assert.deepEqual(errors, [], 'console errors');
  assert.deepEqual(foreign, [], 'requests outside the origin');
  await context.close();
});

test('a shared link restores the drawing, the prediction and the picked cell', async () => {
  const first = await openPage(browser, '#draw');
  await first.page.waitForSelector('.layers .layer', { timeout: 30000 });
  await drawStrokes(first.page, skeletonStrokes(indexOf(4)), { size: 0.7, cx: 0.45, cy: 0.5 });
  await settle(first.page);
  const canvas = first.page.locator('.layer[data-layer="conv2"] .maps canvas').nth(4);
  await canvas.scrollIntoViewIfNeeded();
  const box = await canvas.boundingBox();
  await first.page.mouse.click(box.x + box.width * 0.5, box.y + box.height * 0.4);
  await first.page.waitForSelector('#dot');
  const hash = await first.page.evaluate(() => location.hash);
  assert.match(hash, /^#draw\?/);
  assert.match(hash, /d=/);
  assert.match(hash, /cell=conv2\.4\./);
  const digit = await first.page.getAttribute('#prediction', 'data-digit');
  const value = await first.page.getAttribute('#dot', 'data-value');
  assert.deepEqual(first.errors, []);
  await first.context.close();

  const second = await openPage(browser, hash);
  await second.page.waitForSelector('#dot', { timeout: 30000 });
  assert.equal(await second.page.getAttribute('#prediction', 'data-digit'), digit);
  // The link stores the strokes (to 2 px), so the same digit comes back and the same cell
  // explains itself with nearly the same number.
  const v2 = Number(await second.page.getAttribute('#dot', 'data-value'));
  assert.ok(Math.abs(v2 - Number(value)) < 0.25 * Math.max(1, Math.abs(Number(value))), `${v2} vs ${value}`);
  assert.equal(await second.page.getAttribute('#dot', 'data-layer'), 'conv2');
  // The templates link of the same drawing shows that digit there.
  await second.page.click('a[href="#templates"]');
  await second.page.waitForFunction(() => document.querySelector('#cos-slp')?.dataset.cos);
  const thash = await second.page.evaluate(() => location.hash);
  assert.match(thash, /^#templates\?d=/);
  assert.deepEqual(second.errors, []);
  await second.context.close();

  const third = await openPage(browser, thash);
  await third.page.waitForFunction(() => document.querySelector('#cos-slp')?.dataset.cos, null, { timeout: 30000 });
  assert.equal(await third.page.locator('#templates > .win').count(), 1);
  await third.page.click('a[href="#draw"]');
  await third.page.waitForFunction((d) => document.querySelector('#prediction')?.dataset.digit === d, digit);
  assert.deepEqual(third.errors, []);
  await third.context.close();
});

test('every control is labelled; touch strokes draw at a phone width; reduced motion', async () => {
  const { page, context, errors } = await openPage(browser, '#draw', { width: 375, height: 812 });
  await page.waitForSelector('.layers .layer', { timeout: 30000 });
  const unlabelled = await page.$$eval('button, input, select, canvas[tabindex], a[href], [tabindex="0"]', (els) => els
    .filter((e) => e.offsetParent !== null)
    .filter((e) => !(e.getAttribute('aria-label') || e.textContent.trim() || e.getAttribute('title') || (e.id && document.querySelector(`label[for="${e.id}"]`))))
    .map((e) => e.outerHTML.slice(0, 80)));
  assert.deepEqual(unlabelled, []);
  assert.equal(await page.$eval('#pad', (c) => getComputedStyle(c).touchAction), 'none');
  // Touch: a pointer of type "touch" draws a stroke (a vertical line reads as 1).
  await page.evaluate(() => {
    const pad = document.querySelector('#pad');
    const r = pad.getBoundingClientRect();
    const fire = (type, y) => pad.dispatchEvent(new PointerEvent(type, {
      pointerId: 7, pointerType: 'touch', isPrimary: true, bubbles: true, button: 0, buttons: 1,
      clientX: r.left + r.width * 0.52, clientY: r.top + r.height * y,
    }));
    fire('pointerdown', 0.15);
    for (let y = 0.2; y <= 0.85; y += 0.05) fire('pointermove', y);
    fire('pointerup', 0.85);
  });
  await settle(page);
  assert.equal(await page.getAttribute('#prediction', 'data-digit'), '1');
  // On a phone the pad and the prediction with its bars share the first screen.
  const pad = await page.locator('#pad').boundingBox();
  const bars = await page.locator('#probs').boundingBox();
  assert.ok(pad.width >= 150 && pad.width <= 375, `pad is ${pad.width}px wide at 375px`);
  assert.ok(pad.y + pad.height <= 812 && bars.y + bars.height <= 812, `pad ends at ${pad.y + pad.height}, bars at ${bars.y + bars.height}`);
  assert.deepEqual(errors, []);
  await context.close();

  const ctx = await browser.newContext({ reducedMotion: 'reduce' });
  const p2 = await ctx.newPage();
  const { BASE_URL } = await import('./browser.mjs');
  await p2.goto(`${BASE_URL}/#draw`);
  await p2.waitForSelector('body[data-ready="true"]');
  const dur = await p2.$eval('.prob .fill', (e) => getComputedStyle(e).transitionDuration);
  assert.match(dur, /^0s/);
  await ctx.close();
});
