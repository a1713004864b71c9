// Issue "legible at a glance", the page-wide parts and Correlate: scene switches land at the top
// of the scene, an unknown scene opens Draw with a note, Correlate's idea on one 1280×800 screen
// (window, kernel, products, Σ line, output and the player together), its player pinned on a
// phone, its "Show me" pausing at the moments the trace names, and fast scene switches.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, screenshot } from './browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 375, height: 667 };

/** The boxes of `sels` that are not wholly inside the viewport (empty when all are). */
async function offScreen(page, sels) {
  return page.evaluate((list) => {
    const out = [];
    for (const s of list) {
      const e = document.querySelector(s);
      if (!e) { out.push(`${s}: missing`); continue; }
      const r = e.getBoundingClientRect();
      if (r.width === 0 || r.top < 0 || r.left < 0 || r.bottom > innerHeight || r.right > innerWidth) {
        out.push(`${s}: ${Math.round(r.left)},${Math.round(r.top)} → ${Math.round(r.right)},${Math.round(r.bottom)}`);
      }
    }
    return out;
  }, sels);
}

const CORR_SCREEN = ['#corr-input-grid', '#corr-kernel-grid', '#corr-products', '#corr-sum', '#output', '#corr-play', '#corr-scrub', '[data-step]'];

test('a scene switch lands at the top of the new scene', async () => {
  const { page, context, errors } = await openPage(browser, '#transpose', DESKTOP);
  for (const [from, to] of [['#transpose', 'Sliding correlation'], ['#correlate', 'Draw'], ['#draw', 'Train'], ['#train', 'Dense = shift 0']]) {
    await page.evaluate((h) => { location.hash = h; }, from);
    await page.waitForFunction((h) => !document.querySelector(`#scene-${h.slice(1)}`).hidden, from);
    await page.evaluate(() => window.scrollTo(0, 700));
    assert.ok(await page.evaluate(() => scrollY) > 0, `${from} scrolls`);
    await page.getByRole('link', { name: to, exact: true }).click();
    await page.waitForFunction(() => scrollY === 0, null, { timeout: 5000 }).catch(() => {});
    assert.equal(await page.evaluate(() => scrollY), 0, `${from} → ${to} lands at the top`);
    const h2 = await page.locator('.scene:not([hidden]) h2').first().boundingBox();
    assert.ok(h2 && h2.y >= 0 && h2.y < 200, `${to}'s heading is on screen`);
  }
  assert.deepEqual(errors, []);
  await context.close();
});

test('#nosuchscene opens Draw with a note naming it, gone after the next navigation', async () => {
  const { page, context, errors } = await openPage(browser, '#nosuchscene', DESKTOP);
  assert.equal(await page.locator('#scene-draw').isVisible(), true);
  const note = page.locator('#route-note');
  assert.equal(await note.isVisible(), true);
  assert.match(await note.textContent(), /no scene “nosuchscene”.*Draw/);
  await page.getByRole('link', { name: 'Sliding correlation', exact: true }).click();
  await page.waitForSelector('#corr-output .cs-cell');
  assert.equal(await note.isVisible(), false);
  // A plain visit shows no note.
  const fresh = await openPage(browser, '#correlate', DESKTOP);
  assert.equal(await fresh.page.locator('#route-note').isVisible().catch(() => false), false);
  await fresh.context.close();
  assert.deepEqual(errors, []);
  await context.close();
});

test('Correlate: window, kernel, products, Σ line, output and player on one 1280×800 screen', async () => {
  for (const hash of ['#correlate', '#correlate?in=letter&n=9&k=box&ks=5&p=2,2,2,2', '#correlate?in=random&n=16&k=random&ks=3&s=1,2&d=2,1&f=1',
    '#correlate?in=edges&n=28&k=laplacian&ks=3&p=1,0,2,1', '#correlate?in=letter&n=9&k=learned&li=3']) {
    const { page, context, errors } = await openPage(browser, hash, DESKTOP);
    await page.waitForSelector('#corr-output .cs-cell');
    await page.waitForFunction(() => !/loading/.test(document.querySelector('#corr-note')?.textContent ?? ''));
    assert.deepEqual(await offScreen(page, CORR_SCREEN), [], hash);
    // Still together after stepping to the last window.
    await page.click('#corr-scrub');
    await page.keyboard.press('End');
    assert.deepEqual(await offScreen(page, CORR_SCREEN), [], `${hash}, last step`);
    assert.deepEqual(errors, []);
    await context.close();
  }
});

test('Correlate on a phone: the player stays pinned under the top bar while the stage scrolls', async () => {
  const { page, context, errors } = await openPage(browser, '#correlate', PHONE);
  await page.waitForSelector('#corr-output .cs-cell');
  await page.locator('#corr-sum').scrollIntoViewIfNeeded();
  await page.evaluate(() => window.scrollBy(0, 150));
  const bar = await page.locator('header.topbar').boundingBox();
  const player = await page.locator('#scene-correlate .cs-player').boundingBox();
  // Pinned just under the top bar, or at the very top once the (phone's) bar has scrolled away.
  const under = Math.max(0, bar.y + bar.height);
  assert.ok(player.y >= under - 1 && player.y <= under + 4 && player.y + player.height <= 667, `player at ${player.y}, bar ends ${bar.y + bar.height}`);
  assert.ok(await page.evaluate(() => scrollY) > 300, 'the page did scroll');
  await screenshot(page, 'correlate-phone-scrolled');
  assert.deepEqual(errors, []);
  await context.close();
});

test('Correlate "Show me" pauses at the moments the trace names, everything on screen at each', async () => {
  const { page, context, errors } = await openPage(browser, '#correlate?in=random&k=box&ks=5', DESKTOP);
  await page.waitForSelector('#corr-output .cs-cell');
  const bar = page.locator('[data-showme="correlate"]');
  assert.match(await bar.locator('.showme-idea').textContent(), /dot product/);
  await page.click('#correlate-showme');
  const seen = [];
  const pauses = Number(await bar.getAttribute('data-pauses'));
  assert.ok(pauses >= 4, `${pauses} pauses`);
  for (let i = 0; i < pauses; i++) {
    // Each stop pauses; the last one ends the run ("done") with its caption kept.
    await page.waitForFunction(([k, last]) => {
      const b = document.querySelector('[data-showme="correlate"]');
      return b.dataset.state === (last ? 'done' : 'paused') && b.dataset.pause === String(k);
    }, [i, i === pauses - 1], { timeout: 20000 });
    const caption = (await bar.locator('.showme-caption').textContent()).trim();
    assert.ok(caption.length > 20, `pause ${i} has a caption`);
    assert.deepEqual(await offScreen(page, CORR_SCREEN), [], `pause ${i}`);
    const state = await page.evaluate(() => ({
      step: Number(document.querySelector('[data-step]').dataset.step),
      onPad: document.querySelectorAll('#corr-input-grid .cs-win.cs-pad').length,
      stride: document.querySelector('#corr-stride-h').value,
      flip: document.querySelector('#corr-flip').checked,
      out: [...document.querySelectorAll('#corr-output .cs-cell')].map((c) => Number(c.dataset.value ?? NaN)),
      sum: Number(document.querySelector('#corr-sum-value').dataset.value),
    }));
    seen.push({ caption, ...state });
    await screenshot(page, `correlate-showme-${i}`);
    if (i < pauses - 1) await page.click('#correlate-showme-next');
  }
  // Pause 0: the window reads padding; pause 1: it lies wholly on the image, right after.
  assert.ok(seen[0].onPad > 0, 'the first pause shows the window over the padding');
  assert.equal(seen[1].onPad, 0, 'the second pause shows a window wholly on the image');
  // Pause 2: the step of the largest output (the scene's own output cells say so).
  const shown = seen[2].out.filter(Number.isFinite);
  assert.equal(seen[2].sum, Math.max(...shown), 'the third pause is at the largest output');
  assert.equal(seen[3].stride, '2');
  assert.equal(seen[4].flip, true);
  assert.equal(await bar.getAttribute('data-state'), 'done');
  assert.deepEqual(errors, []);
  await context.close();
});

test('"Show me" ends when the viewer takes over, and restarts from its first pause', async () => {
  const { page, context, errors } = await openPage(browser, '#correlate', DESKTOP);
  await page.waitForSelector('#corr-output .cs-cell');
  await page.click('#correlate-showme');
  await page.waitForSelector('[data-showme="correlate"][data-state="paused"][data-pause="0"]');
  await page.click('#correlate-showme-next');
  await page.click('#corr-fwd');
  await page.waitForSelector('[data-showme="correlate"][data-state="idle"]');
  assert.equal((await page.locator('.showme-caption').first().textContent()).trim(), '');
  await page.click('#correlate-showme');
  await page.waitForSelector('[data-showme="correlate"][data-state="paused"][data-pause="0"]');
  assert.deepEqual(errors, []);
  await context.close();
});

test('scene switches take under 100 ms after the first visit', async () => {
  const { page, context, errors } = await openPage(browser, '#draw', DESKTOP);
  const scenes = ['correlate', 'transpose', 'dense', 'templates', 'train', 'draw'];
  const go = (id) => page.evaluate((name) => new Promise((resolve) => {
    const t0 = performance.now();
    location.hash = `#${name}`;
    const check = () => {
      if (!document.getElementById(`scene-${name}`).hidden) requestAnimationFrame(() => resolve(performance.now() - t0));
      else setTimeout(check, 0);
    };
    check();
  }), id);
  for (const id of scenes) { await go(id); await page.waitForTimeout(300); }
  // Each scene's best of up to three switches: on a machine whose cores other jobs keep busy the
  // page's thread is now and then preempted mid-switch (none of the page's work); a switch whose
  // own work is slow is slow every time.
  const times = {};
  for (let round = 0; round < 3; round++) {
    for (const [i, id] of scenes.entries()) {
      if (times[id]?.some((ms) => ms < 100)) continue;
      // A retry comes from the same scene as the first try.
      if (round > 0) { await go(scenes.at(i - 1)); await page.waitForTimeout(200); }
      (times[id] ??= []).push(await go(id));
      await page.waitForTimeout(200);
    }
  }
  const shown = JSON.stringify(Object.fromEntries(Object.entries(times).map(([id, v]) => [id, v.map(Math.round)])));
  for (const [id, v] of Object.entries(times)) assert.ok(Math.min(...v) < 100, `switch to ${id} took ${shown}`);
  assert.deepEqual(errors, []);
  await context.close();
});

test('Correlate: a kernel size its kernel cannot have looks disabled and says why', async () => {
  const { page, context, errors } = await openPage(browser, '#correlate?k=sobel-x', DESKTOP);
  await page.waitForSelector('#corr-output .cs-cell');
  const ks = page.locator('#corr-ksize');
  const look = () => ks.evaluate((e) => ({ aria: e.getAttribute('aria-disabled'), cursor: getComputedStyle(e).cursor, why: e.dataset.disabledWhy ?? '' }));
  let s = await look();
  assert.equal(s.aria, 'true');
  assert.equal(s.cursor, 'not-allowed');
  assert.match(s.why, /Sobel x is 3×3 only/);
  await ks.hover({ force: true });
  assert.match(await page.locator('#corr-ksize-why').textContent(), /3×3 only/);
  // Typing into it changes nothing.
  await ks.focus();
  await page.keyboard.press('ArrowUp');
  assert.equal(await ks.inputValue(), '3');
  // A kernel of any size enables it again.
  await page.selectOption('#corr-kernel', 'box');
  s = await look();
  assert.notEqual(s.aria, 'true');
  assert.notEqual(s.cursor, 'not-allowed');
  assert.deepEqual(errors, []);
  await context.close();
});

test('Transposed conv: the whole stage and the player on the first screen as the scene opens (scroll 0)', async () => {
  for (const hash of ['#transpose', '#transpose?in=random&n=8&k=ones&ks=5&s=2,2', '#transpose?in=dot&n=6&k=bilinear&ks=4&s=3,3&p=1,1,1,1']) {
    const { page, context, errors } = await openPage(browser, hash, DESKTOP);
    await page.waitForSelector('#stage');
    assert.equal(await page.evaluate(() => scrollY), 0);
    assert.deepEqual(await offScreen(page, ['#stage', '#tr-play', '#tr-scrub', '[data-step]', '#transpose-showme']), [], hash);
    assert.deepEqual(errors, []);
    await context.close();
  }
});

test('Templates: #code is the perceptron as PyTorch writes it, from wasm', async () => {
  const { page, context, errors } = await openPage(browser, '#templates', DESKTOP);
  await page.waitForSelector('#code', { state: 'visible' });
  const code = await page.textContent('#code');
  assert.match(code, /nn\.Linear\(784, 10\)/);
  const fromWasm = await page.evaluate(async () => {
    const { api } = await (await import('./js/wasm.js')).loadWasm();
    const m = api.Model.load(new Uint8Array(await (await fetch('data/models/slp.safetensors')).arrayBuffer()));
    const t = m.pytorchCode().text;
    m.free();
    return t;
  });
  assert.equal(code.trim(), fromWasm.trim());
  assert.deepEqual(errors, []);
  await context.close();
});
