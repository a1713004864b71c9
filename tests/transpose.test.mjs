// The Transposed conv scene legible at a glance (issue 19): at 1280×800 the player and the whole
// stage (input, kernel, this stamp, the canvas so far, stamps per cell, the zero-insertion view)
// on one screen, the player pinned on a phone, every grid labelled input or output, big grids
// on canvas with no main-thread task over 50 ms, the Σ line's terms as the cells show them and
// adding up, no ASCII minus, no "1 stamps", no contrast failures, and "Show me" pausing at the
// moments the trace's data gives (screenshots of each pause: tests/artifacts/transpose-showme-*).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, screenshot, axeViolations, longRunTasks, ARTIFACTS } from './browser.mjs';
import path from 'node:path';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 375, height: 667 };
/** Every grid of the stage and the word its badge must say. */
const GRIDS = {
  'tr-input-grid': 'input', 'tr-kernel-grid': 'kernel', 'tr-stamp-values': 'stamp', 'tr-canvas': 'output', 'tr-coverage': 'output',
  'tr-flipped': 'kernel', 'tr-eq-grid': 'zero-inserted input', 'tr-eq-output': 'output',
};
const READY = '#tr-eq-output :is(.cs-cell, canvas)';

/** Scrolls so the scene's controls sit just under the top bar (the "one screen"). */
async function controlsAtTop(page) {
  await page.evaluate(() => {
    const bar = document.querySelector('header.topbar');
    const sticky = getComputedStyle(bar).position === 'sticky';
    const c = document.querySelector('#scene-transpose > .cs-controls');
    window.scrollTo(0, c.getBoundingClientRect().top + window.scrollY - (sticky ? bar.getBoundingClientRect().height : 0));
  });
}

/** Boxes (viewport coordinates) of the stage, the player, the step label and every grid. */
const boxes = (page) => page.evaluate((ids) => {
  const box = (e) => { const r = e.getBoundingClientRect(); return { top: r.top, bottom: r.bottom, left: r.left, right: r.right }; };
  const out = { stage: box(document.getElementById('stage')), player: box(document.querySelector('#scene-transpose .cs-player')), step: box(document.querySelector('#tr-step[data-step]')) };
  for (const id of ids) out[id] = box(document.getElementById(id).closest('figure'));
  return out;
}, Object.keys(GRIDS));

function inView(b, what, { width, height }, top = 0) {
  assert.ok(b.top >= top - 0.5 && b.bottom <= height + 0.5 && b.left >= -0.5 && b.right <= width + 0.5, `${what} at ${JSON.stringify(b)} is not inside ${width}×${height} (below ${top})`);
}

test('at 1280×800 the player and the whole stage, every grid of both views, are on one screen (with room for a code block), and stay there while stepping', async () => {
  for (const hash of ['#transpose', '#transpose?in=random&n=8&k=ones&ks=5&s=2,2', '#transpose?in=random&n=8&k=random&ks=5&s=4,4&p=1,1,1,1&d=2,2',
    '#transpose?in=dot&n=6&k=bilinear&ks=4&s=3,3&p=1,1,1,1', '#transpose?in=letter&n=2&k=delta&ks=1&s=1,1']) {
    const { page, context, errors } = await openPage(browser, hash, DESKTOP);
    await page.waitForSelector(READY);
    await controlsAtTop(page);
    const bar = (await page.locator('header.topbar').boundingBox()).height;
    for (let i = 0; i < 3; i++) {
      const b = await boxes(page);
      for (const [what, box] of Object.entries(b)) inView(box, `${hash} ${what}`, DESKTOP, bar);
      // Room left for a two-line code block under the player.
      assert.ok(b.stage.bottom <= DESKTOP.height - 40, `${hash}: the stage ends at ${b.stage.bottom}`);
      await page.click('#tr-fwd');
    }
    // Scrolled on to the sections below, the player stays pinned under the top bar.
    await page.evaluate(() => window.scrollBy(0, 500));
    inView((await boxes(page)).player, `${hash} player after scrolling`, DESKTOP, bar);
    assert.deepEqual(errors, []);
    await context.close();
  }
});

test('on a phone the views stack close together and the player stays pinned while they scroll', async () => {
  const { page, context, errors } = await openPage(browser, '#transpose', PHONE);
  await page.waitForSelector(READY);
  for (const id of ['tr-input-grid', 'tr-canvas', 'tr-coverage', 'tr-eq-grid', 'tr-eq-output']) {
    await page.$eval(`#${id}`, (g) => g.closest('figure').scrollIntoView({ block: 'end' }));
    const b = await boxes(page);
    inView(b.player, `player with ${id} in view`, PHONE);
    inView(b[id], id, PHONE);
    // The grid is not under the pinned player.
    assert.ok(b[id].top >= b.player.bottom - 1 || b[id].bottom <= b.player.top + 1, `${id} hidden by the player`);
  }
  // The canvas so far and the zero-insertion output were 1,200 px apart.
  const b = await boxes(page);
  assert.ok(b['tr-eq-output'].top - b['tr-canvas'].top < 700, `the two views are ${b['tr-eq-output'].top - b['tr-canvas'].top}px apart`);
  assert.deepEqual(errors, []);
  await context.close();
});

test('every grid says whether it is an input or an output (and which is the zero-inserted input)', async () => {
  const { page, context, errors } = await openPage(browser, '#transpose', DESKTOP);
  await page.waitForSelector(READY);
  const said = await page.$$eval('#stage .cs-grid', (gs) => gs.map((g) => [g.id, g.closest('figure').querySelector('figcaption .cs-role')?.textContent ?? null]));
  assert.deepEqual(Object.fromEntries(said), GRIDS);
  assert.deepEqual(errors, []);
  await context.close();
});

/** The long tasks (> 50 ms) since the last call. */
const longTasks = async (page) => {
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 60)))));
  return page.evaluate(() => window.__long.splice(0));
};

test('no main-thread task over 50 ms while changing settings, stepping and playing, the checkerboard at its largest included', async (t) => {
  const { page, context, errors } = await openPage(browser, '#transpose', DESKTOP);
  await page.waitForSelector(READY);
  const observe = () => page.evaluate(() => {
    window.__long = [];
    new PerformanceObserver((l) => { for (const e of l.getEntries()) if (e.duration > 50) window.__long.push(Math.round(e.duration)); }).observe({ type: 'longtask' });
  });
  await observe();
  await browser.startTracing(page, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline'] });
  const set = async (sel, v) => { await page.fill(sel, String(v)); await page.dispatchEvent(sel, 'change'); };
  const seen = {};
  const note = async (what) => { seen[what] = await longTasks(page); };
  // The checkerboard up to input 8, kernel 7, stride 3 (and around it).
  await page.locator('#checkerboard').scrollIntoViewIfNeeded();
  for (const [sel, v] of [['#cb-size', 8], ['#cb-ksize', 7], ['#cb-stride', 3], ['#cb-ksize', 6], ['#cb-ksize', 7]]) { await set(sel, v); await note(`${sel} ${v}`); }
  await page.selectOption('#cb-input', 'random'); await note('cb input');
  await page.selectOption('#cb-kernel', 'random'); await note('cb kernel');
  // The stepped conv at its heaviest settings.
  await page.locator('#stage').scrollIntoViewIfNeeded();
  for (const [sel, v] of [['#tr-size', 8], ['#tr-ksize', 5], ['#tr-stride-h', 3], ['#tr-stride-w', 3], ['#tr-dil-h', 2], ['#tr-stride-h', 4], ['#tr-stride-w', 4]]) { await set(sel, v); await note(`${sel} ${v}`); }
  await page.selectOption('#tr-kernel', 'random'); await note('kernel');
  for (let i = 0; i < 6; i++) await page.click('#tr-fwd');
  await note('stepping');
  await page.selectOption('#tr-speed', { label: 'max' });
  await page.click('#tr-play');
  await page.waitForFunction(() => document.getElementById('tr-play').getAttribute('aria-pressed') === 'false', null, { timeout: 30000 });
  await note('playing');
  // Input 8, kernel 5 (the second setting), stride 2.
  await page.evaluate(() => { location.hash = '#transpose?n=8&ks=5'; });
  await page.waitForFunction(() => document.getElementById('tr-size').value === '8' && document.getElementById('tr-ksize').value === '5');
  await note('n=8 ks=5');
  for (let i = 0; i < 6; i++) await page.keyboard.press('ArrowRight');
  await note('n=8 ks=5 stepping');
  await set('#tr-ksize', 4); await note('n=8 ks=4');
  const tasks = longRunTasks(await browser.stopTracing());
  const slow = Object.entries(seen).filter(([, v]) => v.length);
  // A long task the observer saw must be the machine's doing, not the page's: no main-thread
  // task of the trace did more than 50 ms of work (CPU time).
  if (slow.length) t.diagnostic(`long tasks (wall): ${JSON.stringify(slow)}; their CPU time: ${JSON.stringify(tasks)}`);
  assert.deepEqual(tasks.filter((x) => x.cpu > 50), [], `main-thread tasks over 50 ms of work: ${JSON.stringify(slow)}`);
  if (!tasks.length) assert.deepEqual(slow, [], 'long tasks outside the trace');
  // Big grids are canvases, not a div per cell.
  assert.equal(await page.locator('#checkerboard .cs-cell').count(), 0, 'the checkerboard has no cell divs');
  assert.ok((await page.$$eval('#scene-transpose *', (n) => n.length)) < 1500, 'the scene has under 1,500 elements');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a canvas grid keeps hover, an accessible name that sums it up, and its values', async () => {
  const { page, context, errors } = await openPage(browser, '#transpose?in=random&n=8&k=random&ks=5&s=3,3&t=63&ci=ones&cn=8&cw=ones&ck=7&cs=3', DESKTOP);
  await page.waitForSelector('#tr-canvas canvas');
  const g = page.locator('#tr-canvas');
  assert.equal(await g.getAttribute('role'), 'img');
  assert.match(await g.getAttribute('aria-label'), /^Output canvas.*: 26 × 26 cells, from −?\d.* to \d/);
  // Hovering a cell names its row, column and value; `gridValues` holds what is drawn.
  const box = await page.locator('#tr-canvas canvas').boundingBox();
  await page.mouse.move(box.x + (3.5 * box.width) / 26, box.y + (2.5 * box.height) / 26);
  const title = await page.getAttribute('#tr-canvas canvas', 'title');
  const value = await page.$eval('#tr-canvas', (n) => n.gridValues[2 * 26 + 3]);
  assert.match(title, /^row 2, column 3: /);
  assert.equal(Number(title.split(': ')[1].replace('−', '-')), Number(value.toFixed(3)));
  assert.equal(await page.getAttribute('#tr-canvas', 'data-hover'), String(2 * 26 + 3));
  // The checkerboard's largest stage: all its counts are drawn (88 × 88 = 7,744 values).
  const counts = await page.$eval('#cb-transposed-2-paths', (n) => n.gridValues);
  assert.equal(counts.length, 72 * 72);
  assert.match(await page.getAttribute('#cb-transposed-2-paths', 'aria-label'), /stamps per cell: 72 × 72 cells, from \d+ to \d+ stamps$/);
  assert.deepEqual(errors, []);
  await context.close();
});

/** "0.4 + 0.9 − 0.1" → tenths (or hundredths) as integers, with the decimals each term has. */
const terms = (s) => s.replaceAll('− ', '+ −').split(' + ').map((x) => ({ n: Number(x.replace('−', '-')), d: (x.split('.')[1] ?? '').length }));

test('the Σ line shows its terms as the cells show numbers, they add up to the total, and the output cell shows that total', async () => {
  const { page, context, errors } = await openPage(browser, '#transpose?in=random&n=4&k=random&ks=3&s=2,2', DESKTOP);
  await page.waitForSelector(READY);
  const steps = Number(await page.getAttribute('#tr-scrub', 'max')) + 1;
  let compared = 0;
  for (let t = 0; t < steps; t++) {
    const text = await page.textContent('#tr-eq-sum');
    const m = text.match(/flipped kernel = (.*) = (\S+), what/);
    assert.ok(m, text);
    // The cells here show one decimal (the grids' rule below 32 px): so do the terms and the total.
    const cell = await page.$eval('#tr-eq-output', (g) => g.style.getPropertyValue('--cell'));
    const digits = parseInt(cell, 10) >= 32 ? 2 : 1;
    const list = m[1] === '0' ? [] : terms(m[1]);
    for (const x of list) assert.ok(x.d <= digits, `step ${t}: term ${x.n} has ${x.d} decimals, the cells ${digits}: ${text}`);
    const scale = 10 ** digits;
    assert.equal(list.reduce((a, x) => a + Math.round(x.n * scale), 0), Math.round(Number(m[2].replace('−', '-')) * scale), `step ${t}: ${text}`);
    // Once the cell is complete, the output cell itself shows the same number.
    const shown = await page.$eval('#tr-eq-output .cs-cur', (c) => (c.dataset.value === undefined ? null : c.textContent));
    if (shown !== null) { assert.equal(shown, m[2], `step ${t}: output cell ${shown}, Σ ${m[2]}`); compared++; }
    await page.keyboard.press('ArrowRight');
  }
  assert.ok(compared > 3, `compared ${compared} output cells`);
  assert.deepEqual(errors, []);
  await context.close();
});

test('numbers use the true minus sign, and one stamp is "1 stamp"', async () => {
  const { page, context, errors } = await openPage(browser, '#transpose?in=random&n=5&k=random&ks=3&s=2,2&ci=ones&cn=4&cw=ones&ck=2&cs=2', DESKTOP);
  await page.waitForSelector(READY);
  let negative = 0;
  for (const hash of ['#transpose?in=random&n=5&k=random&ks=3&s=2,2&ci=ones&cn=4&cw=ones&ck=2&cs=2', '#transpose?in=edges&n=6&k=random&ks=4&s=2,2&ci=ones&cn=5&cw=ones&ck=1&cs=1',
    '#transpose?in=checker&n=4&k=random&ks=2&s=2,2']) {
    await page.goto(`${new URL(page.url()).origin}/${hash}`);
    await page.reload();
    await page.waitForSelector(READY);
    for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowRight');
    if (Number(await page.getAttribute('#adj-lhs', 'data-value')) < 0) negative++;
    const text = await page.$eval('#scene-transpose', (s) => s.innerText + [...s.querySelectorAll('output')].map((o) => ` ${o.value}`).join(''));
    assert.doesNotMatch(text, /(^|[\s(=,:[])-\d/m, `${hash}: an ASCII minus`);
    assert.doesNotMatch(text, /\b1 stamps\b/, `${hash}: "1 stamps"`);
  }
  assert.ok(negative > 0, 'a negative adjoint was shown (else the minus check proves nothing)');
  assert.match(await page.textContent('#cb-transposed-1-levels'), /1 stamp\b|stamps/);
  assert.deepEqual(errors, []);
  await context.close();
});

test('axe-core finds no WCAG 2.1 A/AA violations in Transposed conv at either width', async () => {
  for (const viewport of [DESKTOP, PHONE]) {
    for (const hash of ['#transpose', '#transpose?in=random&n=8&k=random&ks=5&s=3,3&t=20', '#transpose?in=letter&n=5&k=bilinear&ks=4&s=2,2&p=1,1,1,1&t=9']) {
      const { page, context, errors } = await openPage(browser, hash, viewport);
      await page.waitForSelector(READY);
      const v = await axeViolations(page, '#scene-transpose');
      assert.deepEqual(v, [], `${hash} at ${viewport.width}px: ${JSON.stringify(v)}`);
      assert.deepEqual(errors, []);
      await context.close();
    }
  }
});

/** The most stamps on one cell after the first `steps` stamps, in the run's setting (wasm). */
const mostStamps = (page, steps) => page.evaluate(async (steps) => {
  const { api } = await (await import('./js/wasm.js')).loadWasm();
  const x = api.tracePresetImage({ name: 'random', size: 4, seed: 3 });
  const k = api.tracePresetKernel({ name: 'ones', size: 3, seed: 5 });
  const c = api.traceTransposeAfter(x, k.values, { size: [4, 4], kernelSize: 3, stride: [2, 2], padding: [0, 0, 0, 0], dilation: [1, 1], outputPadding: [0, 0] }, steps).coverage;
  return Math.max(...c);
}, steps);

/** Waits for "Show me" to pause at stop `i` (the last stop leaves the bar "done"). */
const pausedAt = (page, i) => page.waitForSelector(`[data-showme="transpose"][data-pause="${i}"]:is([data-state="paused"], [data-state="done"])`, { timeout: 30000 });

test('"Show me" pauses where the trace says, with one caption each, cause and effect on one screen', async () => {
  const { page, context, errors } = await openPage(browser, '#transpose?in=letter&n=6&k=random&ks=4&s=3,3', DESKTOP);
  await page.waitForSelector(READY);
  assert.match(await page.textContent('#scene-transpose .showme-idea'), /stamps the kernel.*checkerboard/);
  await page.click('#transpose-showme');
  const n = Number(await page.getAttribute('[data-showme="transpose"]', 'data-pauses'));
  assert.equal(n, 5);
  const bar = (await page.locator('header.topbar').boundingBox()).height;
  const cellText = (sel) => page.$eval(sel, (c) => c.textContent);
  for (let i = 0; i < n; i++) {
    await pausedAt(page, i);
    const caption = await page.textContent('.showme-caption');
    assert.ok(caption.length > 20 && caption.length < 200, `pause ${i}: ${caption}`);
    // Cause and effect together: the caption, the player and the whole stage in view.
    const b = await boxes(page);
    for (const [what, box] of Object.entries(b)) inView(box, `pause ${i}: ${what}`, DESKTOP, bar);
    inView(await page.locator('.showme-caption').boundingBox().then((r) => ({ top: r.y, bottom: r.y + r.height, left: r.x, right: r.x + r.width })), `pause ${i}: caption`, DESKTOP, bar);
    const step = Number(await page.getAttribute('#tr-step', 'data-step'));
    const cover = await page.$$eval('#tr-coverage .cs-cell', (cs) => cs.map((c) => Number(c.dataset.value)));
    if (i === 0) assert.equal(step, 0);
    if (i === 1) {
      // The first step at which a cell gets its second stamp (from the counts: no cell had 2 before).
      const same = await page.$eval('#tr-coverage .cs-same', (c) => Number(c.dataset.value));
      assert.equal(same, 2);
      assert.ok(step > 0);
      assert.equal(await mostStamps(page, step), 1, `before stamp ${step + 1} no cell had two stamps`);
      assert.match(caption, new RegExp(`^Stamp ${step + 1}: `));
    }
    if (i === 2) {
      // Both views show the same number, and the Σ line adds up to it.
      const a = await cellText('#tr-canvas .cs-same');
      const z = await cellText('#tr-eq-output .cs-same');
      assert.equal(a, z);
      assert.notEqual(a, '');
      assert.equal(await page.getAttribute('#tr-eq-value', 'data-shown'), a);
      assert.match(caption, new RegExp(`same number, ${a.replace('.', '\\.')}\\.$`));
    }
    if (i === 3) assert.equal(step, Number(await page.getAttribute('#tr-scrub', 'max')));
    if (i === 4) {
      assert.equal(await page.inputValue('#tr-ksize'), '4');
      assert.match(caption, /every cell gets 4 stamps: even/);
    }
    if (i === 3 || i === 4) assert.ok(cover.length > 0);
    await page.screenshot({ path: path.join(ARTIFACTS, `transpose-showme-${i}.png`) });
    if (i < n - 1) await page.click('.showme-next');
  }
  assert.deepEqual(errors, []);
  await context.close();
});

test('"Show me" on a phone: the caption is pinned in view at every pause', async () => {
  const { page, context, errors } = await openPage(browser, '#transpose', PHONE);
  await page.waitForSelector(READY);
  await page.click('#transpose-showme');
  for (let i = 0; i < 5; i++) {
    await pausedAt(page, i);
    // Scrolled down to the zero-insertion output, the caption is still on screen.
    await page.locator('#tr-eq-output').scrollIntoViewIfNeeded();
    const c = await page.locator('.showme-caption').boundingBox();
    assert.ok(c.y >= 0 && c.y + c.height <= PHONE.height, `pause ${i}: caption at ${JSON.stringify(c)}`);
    if (i < 4) await page.click('.showme-next');
  }
  await screenshot(page, 'transpose-phone');
  assert.deepEqual(errors, []);
  await context.close();
});

test('screenshots of the scene at both widths', async () => {
  for (const [name, viewport] of [['transpose-1280', DESKTOP], ['transpose-375', PHONE]]) {
    const { page, context, errors } = await openPage(browser, '#transpose?in=letter&n=5&k=bilinear&ks=4&s=2,2&p=1,1,1,1&t=9', viewport);
    await page.waitForSelector(READY);
    await controlsAtTop(page);
    await page.screenshot({ path: path.join(ARTIFACTS, `${name}-screen.png`) });
    await screenshot(page, name);
    assert.deepEqual(errors, []);
    await context.close();
  }
});
