// Issue 19 on the Train and Templates scenes: disabled controls look disabled and say why
// (views/disabled.js), honest state after Reset, a model change, a refused setting and a file
// that is not a model, the one-step view starting on an image the model gets wrong, no long
// main-thread task while the mlp trains at full speed, Templates' own pad, and the two "Show
// me" runs (a screenshot of every pause in tests/artifacts/), and the cnn's tiles made a few per task.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { launch, openPage, axeViolations, ARTIFACTS } from './browser.mjs';
import { skeletonStrokes, indexOf } from './draw-strokes.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 375, height: 812 };
const status = (page) => page.evaluate(() => ({ ...document.querySelector('#train-status').dataset, text: document.querySelector('#train-status').textContent }));

async function waitFor(page, pred, timeout = 60000) {
  const t0 = Date.now();
  for (;;) {
    const s = await status(page);
    if (pred(s)) return s;
    if (Date.now() - t0 > timeout) throw new Error(`timed out; status ${JSON.stringify(s)}, error "${await page.textContent('#train-error')}"`);
    await page.waitForTimeout(100);
  }
}

/** The accessible description Chromium computes for `selector` (devtools protocol). */
async function description(page, selector) {
  const cdp = await page.context().newCDPSession(page);
  const { root } = await cdp.send('DOM.getDocument');
  const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector });
  const { nodes } = await cdp.send('Accessibility.getPartialAXTree', { nodeId, fetchRelatives: false });
  await cdp.detach();
  return nodes[0]?.description?.value ?? '';
}

/** The look of a control and the tip shown for it. */
const look = (page, sel) => page.evaluate((s) => {
  const c = document.querySelector(s);
  const cs = getComputedStyle(c);
  const tip = document.getElementById(`${c.id}-why`);
  return {
    ariaDisabled: c.getAttribute('aria-disabled'), cursor: cs.cursor, opacity: Number(cs.opacity), filter: cs.filter,
    background: cs.backgroundColor, tabIndex: c.tabIndex, native: c.disabled,
    tipShown: !!tip && !tip.hidden && tip.getBoundingClientRect().width > 0, tip: tip?.textContent ?? '',
  };
}, sel);

function assertDisabledLook(l, name) {
  assert.equal(l.ariaDisabled, 'true', `${name}: aria-disabled`);
  assert.equal(l.cursor, 'not-allowed', `${name}: cursor`);
  assert.ok(l.opacity < 0.7 || /grayscale/.test(l.filter), `${name}: greyed (opacity ${l.opacity}, filter ${l.filter})`);
  assert.equal(l.native, false, `${name}: keeps its place in the tab order (not the disabled attribute)`);
  assert.ok(l.tabIndex >= 0, `${name}: reachable with Tab`);
}

for (const [label, viewport] of [['1280×800', DESKTOP], ['375 px', PHONE]]) {
  test(`train (${label}): disabled buttons look disabled and say why on hover and on keyboard focus`, async () => {
    const { page, context, errors } = await openPage(browser, '#train?m=slp&w=1&pace=full', viewport);
    for (const [sel, why] of [['#train-pause', /not training: Start first/], ['#train-use', /train first/], ['#train-download', /train first/]]) {
      const l = await look(page, sel);
      assertDisabledLook(l, sel);
      assert.equal(l.tipShown, false, `${sel}: no tip before hover`);
      await page.hover(sel, { force: true });
      const h = await look(page, sel);
      assert.ok(h.tipShown, `${sel}: the reason shows on hover`);
      assert.match(h.tip, why);
      await page.mouse.move(1, 1);
      assert.equal((await look(page, sel)).tipShown, false, `${sel}: the tip goes when the pointer leaves`);
      assert.match(await description(page, sel), why, `${sel}: the reason is its accessible description`);
    }
    // Keyboard: Tab from Start lands on Pause (disabled, still reachable), which says why.
    await page.focus('#train-start');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'train-pause');
    assert.ok((await look(page, '#train-pause')).tipShown, 'the reason shows on keyboard focus');
    // A click on a disabled control does nothing.
    await page.click('#train-use', { force: true });
    await page.waitForTimeout(300);
    assert.doesNotMatch(await page.textContent('#model-status'), /trained here/);
    // An enabled button looks enabled.
    const start = await look(page, '#train-start');
    assert.equal(start.ariaDisabled, null);
    assert.equal(start.cursor, 'pointer');
    assert.equal(start.opacity, 1);
    // While training: Start and One batch are disabled and say so; Pause is enabled.
    await page.click('#train-start');
    await waitFor(page, (s) => Number(s.samples) > 0);
    for (const sel of ['#train-start', '#train-step']) {
      assertDisabledLook(await look(page, sel), sel);
      assert.match(await description(page, sel), /training is running/);
    }
    assert.equal((await look(page, '#train-pause')).ariaDisabled, null);
    assert.equal((await look(page, '#train-use')).ariaDisabled, null, 'a trained model can be used');
    await page.click('#train-pause');
    assert.equal((await look(page, '#train-start')).ariaDisabled, null);
    assert.deepEqual((await axeViolations(page)).map((v) => `${v.id}: ${v.nodes.join(', ')}`), [], 'axe (WCAG 2.1 A/AA) on Train');
    assert.deepEqual(errors, [], 'console errors');
    await context.close();
  });
}

test('train: Reset and a model change clear every figure of the last run (no "90.92% on all 10,000" beside a fresh model)', async () => {
  const { page, context, errors } = await openPage(browser, '#train?m=slp&w=1&pace=full', DESKTOP);
  await page.click('#train-start');
  // An epoch done: the status shows its accuracy on all 10,000 test images.
  await waitFor(page, (s) => /on all 10,000/.test(s.text));
  await page.click('#train-pause');
  await page.fill('#train-explain-index', '3');
  await page.click('#train-explain');
  await page.waitForSelector('.onestep-body table');
  await page.click('#train-reset');
  const s = await waitFor(page, (x) => x.samples === '0');
  assert.doesNotMatch(s.text, /on all 10,000/, `after Reset: ${s.text}`);
  assert.ok(s.testAcc === '' || Number(s.testAcc) < 0.3, `after Reset the test accuracy is the fresh model's: ${s.testAcc}`);
  assert.equal(await page.locator('.onestep-body > *').count(), 0, 'the slowed-down step is gone');
  const points = () => page.$$eval('.train-charts .curves', (c) => c.map((f) => Number(f.dataset.points)));
  // The fresh model's first evaluation may be drawn; nothing of the last run is.
  await page.waitForFunction(() => [...document.querySelectorAll('.train-charts .curves')].every((f) => Number(f.dataset.points) <= 1));
  // Train again, then change the model.
  await page.click('#train-start');
  await waitFor(page, (x) => /on all 10,000/.test(x.text));
  await page.click('#train-pause');
  assert.ok((await points()).every((n) => n > 1));
  await page.selectOption('#train-model', 'mlp');
  const m = await waitFor(page, (x) => x.samples === '0');
  assert.doesNotMatch(m.text, /on all 10,000/, `after a model change: ${m.text}`);
  await page.waitForFunction(() => document.querySelectorAll('#train-tiles figure.sheet canvas').length === 2);
  assert.ok((await points()).every((n) => n <= 1), `curves after a model change: ${await points()}`);
  assert.equal((await look(page, '#train-use')).ariaDisabled, 'true', 'nothing trained yet: Use is disabled again');
  assert.deepEqual(errors, [], 'console errors');
  await context.close();
});

test('train: a refused learning rate stays on screen, Start says why it won\'t start, and does nothing', async () => {
  const { page, context, errors } = await openPage(browser, '#train?m=slp&w=1', DESKTOP);
  // Refused at once, before MNIST is loaded (wasm's Trainer.check).
  await page.fill('#train-lr', '0');
  await page.dispatchEvent('#train-lr', 'change');
  await page.waitForFunction(() => !document.querySelector('#train-error').hidden);
  assert.match(await page.textContent('#train-error'), /invalid lr = 0: must be a number above 0/);
  assert.match(await description(page, '#train-start'), /won't start: invalid lr = 0/);
  // Fixed, a batch trained (MNIST loaded), then refused again: the case of the issue.
  await page.fill('#train-lr', '0.1');
  await page.dispatchEvent('#train-lr', 'change');
  assert.equal(await page.isHidden('#train-error'), true, 'the note goes once the setting is fixed');
  await page.click('#train-step');
  await waitFor(page, (s) => s.samples === '64');
  await page.fill('#train-lr', '-1');
  await page.dispatchEvent('#train-lr', 'change');
  await page.waitForFunction(() => !document.querySelector('#train-error').hidden);
  const start = await look(page, '#train-start');
  assertDisabledLook(start, '#train-start');
  assert.match(start.tip, /won't start: invalid lr = -1/);
  await page.click('#train-start', { force: true });
  await page.focus('#train-start');
  await page.keyboard.press('Space');
  await page.keyboard.press('Enter');
  // Space with nothing focused is the scene's own Start key.
  await page.evaluate(() => document.activeElement?.blur());
  await page.keyboard.press('Space');
  await page.waitForTimeout(800);
  assert.equal(await page.isVisible('#train-error'), true, 'the refusal is still on screen after Start');
  assert.match(await page.textContent('#train-error'), /invalid lr = -1/);
  assert.equal((await status(page)).samples, '64', 'nothing trained');
  assert.deepEqual(errors, [], 'console errors');
  await context.close();
});

test('train: a file that is not a model gets plain words (from the loader) and its exact message below', async () => {
  const { page, context, errors } = await openPage(browser, '#train', DESKTOP);
  const drop = (name, bytes) => page.evaluate(({ name, bytes }) => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(bytes)], name));
    document.querySelector('#train-drop').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, { name, bytes });
  await drop('notes.txt', [...Buffer.from('hello, this is not a model at all\n')]);
  await page.waitForSelector('#model-error:not([hidden])');
  const plain = await page.textContent('#model-error .file-error-plain');
  assert.match(plain, /notes\.txt was not loaded: this is not a model file: it starts with text, not a safetensors header/);
  const exact = await page.textContent('#model-error code');
  assert.match(exact, /^weights error: not a safetensors file: it starts with text \("hello, t"\), so its first 8 bytes would give a header of 8367736964726416744 bytes; and not a readable ONNX file \(a protobuf, not text\)$/);
  assert.equal(await page.getAttribute('#model-status', 'data-error'), exact);
  const colour = await page.$eval('#model-error .file-error-plain', (e) => getComputedStyle(e).color);
  const [r, g, b] = colour.match(/\d+/g).map(Number);
  assert.ok(r > g + 60 && r > b + 60, `shown as an error (red), not small grey: ${colour}`);
  await drop('model.pt', [0x50, 0x4b, 3, 4, 20, 0, 0, 0, 8, 0, 0x61, 0x62]);
  await page.waitForFunction(() => /zip archive/.test(document.querySelector('#model-error').textContent));
  assert.match(await page.textContent('#model-error .file-error-plain'), /model\.pt was not loaded: this is not a model file: it starts with a zip archive \(PyTorch/);
  assert.deepEqual(errors, [], 'console errors');
  await context.close();
});

test('train: the one-step view starts on an image the trained model gets wrong', async () => {
  const { page, context, errors } = await openPage(browser, '#train?m=slp&w=1&pace=full', DESKTOP);
  assert.equal(await page.inputValue('#train-explain-index'), '', 'no image picked: the model picks');
  await page.click('#train-start');
  await waitFor(page, (s) => Number(s.testAcc) >= 0.88);
  await page.click('#train-pause');
  await page.click('#train-explain');
  await page.waitForFunction(() => document.querySelector('.train-onestep').dataset.picked === 'hardest');
  const d = await page.$eval('.train-onestep', (e) => ({ ...e.dataset }));
  assert.notEqual(d.predicted, d.label, `the model answers ${d.predicted} for a ${d.label}`);
  assert.ok(Number(d.loss) > 1, `its loss is high: ${d.loss}`);
  assert.match(await page.textContent('#train-explain-picked'), /the one the model gets most wrong/);
  // Image 0 (the old default) it gets right, with a small loss.
  await page.fill('#train-explain-index', '0');
  await page.click('#train-explain');
  await page.waitForFunction(() => document.querySelector('.train-onestep').dataset.picked === 'typed');
  assert.ok(Number(await page.getAttribute('.train-onestep', 'data-loss')) < Number(d.loss));
  assert.deepEqual(errors, [], 'console errors');
  await context.close();
});

test('train: no main-thread task over 50 ms while the mlp trains at full speed', async () => {
  const { page, context, errors } = await openPage(browser, '#train?m=mlp&w=1&pace=full', DESKTOP);
  await page.click('#train-start');
  await waitFor(page, (s) => Number(s.samples) > 2000);
  await page.evaluate(() => {
    window.longTasks = [];
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.longTasks.push(e.duration); }).observe({ type: 'longtask', buffered: false });
  });
  // Windows of 5 s; the first without a task over 50 ms passes. Up to three: on a machine whose
  // cores other processes keep busy, the page's thread is preempted now and then (a long task
  // that is none of the page's work); the page's own work must leave a clean window.
  const windows = [];
  for (let i = 0; i < 3; i++) {
    await page.evaluate(() => { window.longTasks = []; });
    await page.waitForTimeout(5000);
    windows.push(await page.evaluate(() => window.longTasks.map(Math.round)));
    if (windows[i].length === 0) break;
  }
  const s = await status(page);
  assert.ok(Number(s.samples) > 5000, 'it trains');
  console.log(`main-thread tasks over 50 ms in 5-s windows of mlp training: ${windows.map((w) => (w.length ? w.join(', ') : 'none')).join(' | ')}`);
  assert.ok(windows.some((w) => w.length === 0), `every window had a task over 50 ms: ${JSON.stringify(windows)}`);
  await page.click('#train-pause');
  assert.deepEqual(errors, [], 'console errors');
  await context.close();
});

for (const [model, figures] of [['cnn', 9], ['mlp', 2]]) {
  test(`train: the ${model}'s weights are ${figures} figures, at most 16 made per task, so Start right away meets no long task`, async () => {
    // The tiles come with the first report, about when "MNIST ready" shows: made in one task, the
    // cnn's 136 figures (before its conv2 kernels shared one canvas) were 57–65 ms on the page's
    // thread while both cores trained (a visitor who presses Start at once). Counted per task (a
    // MutationObserver's callback runs after each), not timed, so it holds on any machine: the
    // cnn's conv1 kernel pairs and one conv2 sheet, the mlp's two sheets (not 136 and 32 figures),
    // never more than TILES_PER_FRAME (16) in one task.
    const { page, context, errors } = await openPage(browser, `#train?m=${model}&pace=full`, DESKTOP);
    await page.evaluate(() => {
      window.tileBatches = [];
      window.longTasks = [];
      new MutationObserver((records) => {
        const n = records.reduce((a, r) => a + [...r.addedNodes].filter((x) => x.matches?.('figure.tile')).length, 0);
        if (n) window.tileBatches.push(n);
      }).observe(document.querySelector('#train-tiles'), { childList: true });
      new PerformanceObserver((l) => { for (const e of l.getEntries()) window.longTasks.push(Math.round(e.duration)); }).observe({ type: 'longtask', buffered: false });
    });
    await page.waitForFunction(() => /MNIST ready/.test(document.querySelector('.loadline')?.textContent ?? ''));
    await page.click('#train-start');
    await page.waitForFunction((n) => document.querySelectorAll('#train-tiles figure.tile').length === n, figures);
    await waitFor(page, (s) => Number(s.samples) > 0);
    const { batches, long } = await page.evaluate(() => ({ batches: window.tileBatches, long: window.longTasks }));
    console.log(`${model} figures made per task: ${batches.join(', ')}; main-thread tasks over 50 ms: ${long.length ? long.join(', ') : 'none'}`);
    assert.equal(batches.reduce((a, b) => a + b, 0), figures);
    assert.ok(batches.length >= Math.ceil(figures / 16) && Math.max(...batches) <= 16, `at most 16 figures in one task: ${batches.join(', ')}`);
    await page.click('#train-pause');
    assert.deepEqual(errors, [], 'console errors');
    await context.close();
  });
}

test('train and templates: scene switches under 100 ms after the first visit, while the mlp trains', async () => {
  const { page, context, errors } = await openPage(browser, '#train?m=mlp&w=1&pace=full', DESKTOP);
  await page.click('#train-start');
  await waitFor(page, (s) => Number(s.samples) > 2000);
  // Scene switches, after a first visit of each.
  for (const id of ['templates', 'train']) {
    await page.click(`nav a[href="#${id}"]`);
    await page.waitForSelector(`#scene-${id}:not([hidden])`);
  }
  // Pairs of switches (there and back), up to five: on a machine whose cores other jobs keep
  // busy the page's thread is now and then preempted mid-switch (none of the page's work), so the
  // first pair whose two switches are both under 100 ms passes; a slow switch is slow every time.
  const times = [];
  for (let i = 0; i < 5 && !times.some(([a, b]) => a < 100 && b < 100); i++) {
    const pair = [];
    for (const id of ['templates', 'train']) {
      pair.push(await page.evaluate((id) => new Promise((resolve) => {
        const t0 = performance.now();
        document.querySelector(`nav a[href="#${id}"]`).click();
        const check = () => (document.querySelector(`#scene-${id}`).hidden ? requestAnimationFrame(check) : requestAnimationFrame(() => resolve(performance.now() - t0)));
        check();
      }), id));
    }
    times.push(pair.map(Math.round));
  }
  console.log(`scene switches (ms, templates and back): ${times.map((p) => p.join(', ')).join(' | ')}`);
  assert.ok(times.some(([a, b]) => a < 100 && b < 100), `scene switches ${JSON.stringify(times)}`);
  await page.click('#train-pause');
  assert.deepEqual(errors, [], 'console errors');
  await context.close();
});

/** A screenshot of the screen as it is (the sticky Show me bar with the figure it is about). */
async function shot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
}

/** Plays a scene's Show me, calling `atPause(i)` at every pause; returns the pauses seen. */
async function playShowMe(page, id, atPause) {
  const bar = `[data-showme="${id}"]`;
  const n = Number(await page.getAttribute(bar, 'data-pauses'));
  await page.click(`${bar} .showme-play`);
  for (let i = 0; i < n; i++) {
    await page.waitForFunction(({ bar, i }) => document.querySelector(bar).dataset.pause === String(i), { bar, i }, { timeout: 30000 });
    assert.ok((await page.textContent(`${bar} .showme-caption`)).length > 20, 'a caption');
    await page.waitForTimeout(120);
    await atPause(i);
    if (i < n - 1) await page.click(`${bar} .showme-next`);
  }
  await page.waitForFunction((bar) => document.querySelector(bar).dataset.state === 'done', bar);
  return n;
}

for (const [label, viewport, suffix] of [['1280×800', DESKTOP, ''], ['375 px', PHONE, '-phone']]) {
  test(`train (${label}): Show me trains the slp from zeros and pauses at moments read from the training`, async () => {
    const { page, context, errors } = await openPage(browser, '#train?m=cnn&lr=0.01', viewport);
    assert.match(await page.textContent('[data-showme="train"] .showme-idea'), /templates/);
    const t0 = Date.now();
    const seen = [];
    const n = await playShowMe(page, 'train', async (i) => {
      const s = await status(page);
      seen.push(s);
      if (i === 0) assert.equal(s.samples, '64', 'the first pause: one batch');
      if (i === 1) {
        const least = Number(await page.getAttribute('#train-template-cos', 'data-least'));
        assert.ok(least >= 0.6, `second pause: every template's centred cosine ≥ 0.6 (${least})`);
      }
      console.log(`pause ${i}: ${s.samples} samples, test subset ${s.testAcc}, least centred cosine ${await page.getAttribute('#train-template-cos', 'data-least')}`);
      if (i === 2) assert.ok(Number(s.testAcc) >= 0.85, `third pause at ${s.testAcc}`);
      if (i === 3) {
        const d = await page.$eval('.train-onestep', (e) => ({ ...e.dataset }));
        assert.equal(d.picked, 'hardest');
        assert.notEqual(d.predicted, d.label);
      }
      if (i === 1) assert.ok(Number(s.samples) > Number(seen[0].samples), 'the run trains between pauses');
      await shot(page, `train-showme-${i}${suffix}`);
    });
    assert.equal(n, 4);
    assert.ok(Date.now() - t0 < 20000 + 4 * 500, `the run takes ${Date.now() - t0} ms`);
    assert.equal(await page.inputValue('#train-model'), 'slp');
    assert.deepEqual(errors, [], 'console errors');
    await context.close();
  });

  test(`templates (${label}): its own pad shares the digit with Draw; Show me draws a digit and pauses on the winner and the cosines`, async () => {
    const { page, context, errors } = await openPage(browser, '#templates', viewport);
    await page.waitForSelector('#tpl-pad');
    assert.equal(await page.locator('#pad').count(), 0, 'Templates\' pad is #tpl-pad (Draw\'s is #pad)');
    // Draw a 3 on Templates' own pad.
    const box = await page.locator('#tpl-pad').boundingBox();
    const s = (box.width * 0.8) / 28;
    for (const line of skeletonStrokes(indexOf(3))) {
      const pts = line.map(([x, y]) => [box.x + box.width * 0.1 + (x + 0.5) * s, box.y + box.height * 0.1 + (y + 0.5) * s]);
      await page.mouse.move(...pts[0]);
      await page.mouse.down();
      for (const p of pts.slice(1)) await page.mouse.move(...p);
      await page.mouse.up();
    }
    await page.waitForFunction(() => document.querySelector('#templates').dataset.win === '3');
    assert.match(page.url(), /#templates\?d=/, 'the drawing is in the link');
    const link = page.url();
    // Draw shows the same digit (on its own #pad: one of each).
    await page.click('nav a[href="#draw"]');
    await page.waitForFunction(() => document.querySelector('#prediction')?.dataset.digit === '3', null, { timeout: 30000 });
    assert.equal(await page.locator('#pad').count(), 1);
    assert.equal(await page.locator('#tpl-pad').count(), 1);
    // The link restores the pad.
    const p2 = await openPage(browser, link.slice(link.indexOf('#')), viewport);
    await p2.page.waitForFunction(() => document.querySelector('#templates').dataset.win === '3');
    const ink = await p2.page.$eval('#tpl-pad', (c) => c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some((v, i) => i % 4 === 0 && v < 128));
    assert.ok(ink, 'the pad shows the link\'s digit');
    await p2.context.close();

    await page.click('nav a[href="#templates"]');
    const n = await playShowMe(page, 'templates', async (i) => {
      const win = await page.getAttribute('#templates', 'data-win');
      if (i === 0) assert.ok(await page.$eval('#tpl-input', (e) => e.classList.contains('showme-focus')));
      if (i >= 1) assert.notEqual(win, '', 'a winner');
      if (i === 1) assert.ok(await page.$eval('#tpl-slp', (e) => e.classList.contains('showme-focus')));
      if (i === 2) assert.ok(Number(await page.getAttribute('#cos-slp', 'data-cos')) > 0);
      await shot(page, `templates-showme-${i}${suffix}`);
    });
    assert.equal(n, 3);
    assert.deepEqual((await axeViolations(page)).map((v) => `${v.id}: ${v.nodes.join(', ')}`), [], 'axe (WCAG 2.1 A/AA) on Templates');
    assert.deepEqual(errors, [], 'console errors');
    await context.close();
  });
}
