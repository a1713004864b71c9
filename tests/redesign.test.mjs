// The redesigned page, end to end at 1280×800 and 375 px: every layer of Draw on one screen,
// the transposed stage within the screen's height, Correlate's output fixed while stepping,
// each scene's link restoring every setting, and screenshots of every scene at both widths.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, screenshot } from './browser.mjs';
import { skeletonStrokes, indexOf, drawStrokes } from './draw-strokes.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 375, height: 812 };

test('at 1280×800 the pad, the prediction and every layer are on screen after drawing, live', async () => {
  const { page, context, errors } = await openPage(browser, '#draw', DESKTOP);
  await page.waitForSelector('.layers .layer', { timeout: 30000 });
  await drawStrokes(page, skeletonStrokes(indexOf(6)), { size: 0.8, cx: 0.5, cy: 0.5 });
  const boxes = await page.$$eval('[data-layer]', (els) => els.map((e) => {
    const r = e.getBoundingClientRect();
    return { name: e.dataset.layer, top: r.top, left: r.left, bottom: r.bottom, right: r.right };
  }));
  const names = boxes.map((b) => b.name);
  for (const n of ['input', 'conv1', 'relu1', 'pool1', 'conv2', 'relu2', 'pool2', 'flatten', 'fc1', 'relu3', 'fc2', 'softmax']) assert.ok(names.includes(n), n);
  for (const b of boxes) assert.ok(b.top >= 0 && b.left >= 0 && b.bottom <= 800 && b.right <= 1280, `${b.name} at ${JSON.stringify(b)}`);
  for (const sel of ['#pad', '#probs', '#prediction']) {
    const b = await page.locator(sel).boundingBox();
    assert.ok(b.y + b.height <= 800, `${sel} ends at ${b.y + b.height}`);
  }
  // Every channel is drawn: 8 + 8 + 8 + 16 + 16 + 16 + 16 maps, one each for fc1, relu3, fc2, softmax.
  assert.equal(await page.locator('.layer[data-layer="conv2"] .maps canvas').count(), 16);
  assert.equal(await page.locator('.layer[data-layer="flatten"] .maps canvas').count(), 16);
  assert.deepEqual(await page.$eval('.layer[data-layer="fc1"] .maps canvas', (c) => [c.height, c.width]), [8, 8]);
  // Live: a stroke in progress changes the layers before it ends.
  const before = await page.$eval('.layer[data-layer="conv1"] .legend', (l) => l.dataset.scale);
  const pad = await page.locator('#pad').boundingBox();
  await page.click('#clear');
  await page.mouse.move(pad.x + pad.width * 0.5, pad.y + pad.height * 0.2);
  await page.mouse.down();
  await page.mouse.move(pad.x + pad.width * 0.52, pad.y + pad.height * 0.8, { steps: 8 });
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  const during = await page.$eval('.layer[data-layer="conv1"] .legend', (l) => l.dataset.scale);
  await page.mouse.up();
  assert.notEqual(during, before, 'conv1 changed while the stroke was still being drawn');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a picked cell lights exactly the channels that fed it', async () => {
  const { page, context, errors } = await openPage(browser, '#draw?cell=pool2.5.3.3', DESKTOP);
  await page.waitForSelector('.layers .layer', { timeout: 30000 });
  await drawStrokes(page, skeletonStrokes(indexOf(0)), { size: 0.8, cx: 0.5, cy: 0.5 });
  const canvas = page.locator('.layer[data-layer="pool2"] .maps canvas').nth(5);
  const box = await canvas.boundingBox();
  await page.mouse.click(box.x + (3.5 * box.width) / 7, box.y + (3.5 * box.height) / 7);
  await page.waitForSelector('#explain #dot[data-layer="pool2"]');
  const lit = (layer) => page.$$eval(`.layer[data-layer="${layer}"] .map`, (ms) => ms.map((m, i) => (m.classList.contains('dim') ? null : i)).filter((i) => i !== null));
  assert.deepEqual(await lit('relu2'), [5]);
  assert.deepEqual(await lit('conv2'), [5]);
  assert.deepEqual(await lit('pool1'), [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.equal(await page.locator('.layer[data-layer="relu2"] .mark.window').count(), 1);
  assert.equal(await page.locator('.layer[data-layer="input"] .mark').count(), 1);
  assert.deepEqual(errors, []);
  await context.close();
});

test('the transposed conv stage fits the screen height', async () => {
  for (const hash of ['#transpose', '#transpose?in=random&n=8&k=ones&ks=5&s=2,2', '#transpose?in=dot&n=6&k=bilinear&ks=4&s=3,3&p=1,1,1,1']) {
    const { page, context, errors } = await openPage(browser, hash, DESKTOP);
    await page.waitForSelector('#tr-eq-output :is(.cs-cell, canvas)');
    const stage = await page.locator('#stage').boundingBox();
    const bar = await page.locator('header.topbar').boundingBox();
    assert.ok(stage.height <= 800 - bar.height, `${hash}: the stage is ${stage.height}px tall`);
    assert.deepEqual(errors, []);
    await context.close();
  }
});

test('the correlate output grid stays put over every step', async () => {
  const { page, context, errors } = await openPage(browser, '#correlate', DESKTOP);
  await page.waitForSelector('#output .cs-cell');
  const steps = Number((await page.textContent('#corr-step')).split('/')[1]);
  const at = new Set();
  for (let i = 0; i < steps; i++) {
    const b = await page.locator('#output').boundingBox();
    at.add(`${Math.round(b.x)},${Math.round(b.y)}`);
    assert.equal(await page.getAttribute('#corr-step', 'data-step'), String(i));
    await page.keyboard.press('ArrowRight');
  }
  assert.equal(at.size, 1, `#output took ${[...at].join(' ')}`);
  assert.deepEqual(errors, []);
  await context.close();
});

test('each scene\'s link restores every setting (and the drawing) unchanged', async () => {
  const first = await openPage(browser, '#draw', DESKTOP);
  await first.page.waitForSelector('.layers .layer', { timeout: 30000 });
  await drawStrokes(first.page, skeletonStrokes(indexOf(9)), { size: 0.7, cx: 0.5, cy: 0.5 });
  await first.page.waitForFunction(() => /d=/.test(location.hash));
  const strokes = await first.page.evaluate(() => new URLSearchParams(location.hash.split('?')[1]).get('d'));
  await first.context.close();
  const links = [
    `#draw?d=${strokes}&cell=conv2.3.4.5`,
    `#correlate?in=digit&n=9&dg=${strokes}&k=custom&ks=3&kv=1,0,-1,2,0,-2,1,0,-1&s=2,1&p=1,0,1,2&d=1,2&f=1&t=17&sp=0.5`,
    '#transpose?in=letter&n=5&k=bilinear&ks=4&s=2,2&p=1,1,1,1&op=1,1&d=1,1&t=9&sp=4',
    '#dense?a=000000122333333333244400&b=000004422333333333255500&t=-3&px=7&img=640&cin=3&hidden=512&k=5&cout=32&brush=2',
    `#templates?d=${strokes}`,
  ];
  for (const link of links) {
    const { page, context, errors } = await openPage(browser, link, DESKTOP);
    await page.waitForTimeout(800);
    const now = await page.evaluate(() => decodeURIComponent(location.hash));
    const want = new URLSearchParams(link.split('?')[1]);
    const got = new URLSearchParams(now.split('?')[1]);
    for (const [k, v] of want) assert.equal(got.get(k), v, `${link.split('?')[0]} ${k}`);
    const notes = await page.$$eval('.scene:not([hidden]) .link-note', (ns) => ns.filter((n) => !n.hidden).map((n) => n.textContent));
    assert.deepEqual(notes, [], `${link.split('?')[0]}: no note for a valid link`);
    assert.deepEqual(errors, []);
    await context.close();
  }
});

test('screenshots of every scene at desktop and phone width', async () => {
  for (const [name, viewport] of [['desktop', DESKTOP], ['phone', PHONE]]) {
    for (const scene of ['draw', 'correlate', 'transpose', 'dense', 'templates']) {
      const { page, context, errors } = await openPage(browser, `#${scene}`, viewport);
      if (scene === 'draw') {
        await page.waitForSelector('.layers .layer', { timeout: 30000 });
        await drawStrokes(page, skeletonStrokes(indexOf(5, 1)), { size: 0.8, cx: 0.5, cy: 0.5 });
        const canvas = page.locator('.layer[data-layer="conv2"] .maps canvas').nth(3);
        await canvas.scrollIntoViewIfNeeded();
        const box = await canvas.boundingBox();
        await page.mouse.click(box.x + box.width * 0.5, box.y + box.height * 0.45);
        await page.waitForSelector('#explain #dot');
        await page.mouse.move(0, 0);
      }
      await page.waitForTimeout(500);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `${scene} ${name}: scrolls sideways by ${overflow}px`);
      await screenshot(page, `${scene}-${name}`);
      assert.deepEqual(errors, []);
      await context.close();
    }
  }
});

test('direct manipulation: an output cell jumps the player, an input cell lights its windows or its stamp', async () => {
  const { page, context, errors } = await openPage(browser, '#correlate?in=letter&n=7&k=box&ks=3&p=0,0,0,0&s=1,1&d=1,1', DESKTOP);
  await page.waitForSelector('#output .cs-cell');
  await page.click('#corr-output .cs-cell[data-i="12"]');
  assert.equal(await page.getAttribute('#corr-step', 'data-step'), '12');
  await page.hover('#corr-output .cs-cell[data-i="3"]');
  assert.equal(await page.getAttribute('#corr-step', 'data-step'), '3');
  // The centre cell of a 7×7 input is read by all nine 3×3 windows around it.
  await page.click('#corr-input-grid .cs-cell[data-i="24"]');
  assert.equal(await page.locator('#corr-output .cs-uses').count(), 9);
  await page.goto(`${new URL(page.url()).origin}/#transpose`);
  await page.waitForSelector('#tr-input-grid .cs-cell');
  await page.click('#tr-input-grid .cs-cell[data-i="5"]');
  assert.equal(await page.getAttribute('#tr-step', 'data-step'), '5');
  assert.match(await page.textContent('#tr-stamp'), /^Stamp 6: input\[1, 1\]/);
  assert.deepEqual(errors, []);
  await context.close();
});
