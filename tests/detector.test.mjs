// "A detector from the image" in Correlate, in Chromium at both widths: a box dragged on the
// letter A becomes the kernel (its values are the input's cells, cut in wasm), the plain output
// peaks at the box's place, and with "Normalised (NCC)" the output's largest cell is 1 there;
// every number the Σ line shows (numerator, norms, means, quotient) and every output cell equal
// a trace computed here; the keyboard picks a box too; the link keeps the switch; axe is clean.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, screenshot, axeViolations } from './browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

// The letter A on 9×9 with no padding: input cell (r, c) is padded cell r·9 + c, and the window
// of output cell (r, c) (7×7) starts there.
const N = 9;
const OUT_W = N - 3 + 1;
const cellSel = (r, c) => `#corr-input-grid .cs-cell[data-i="${r * N + c}"]`;

async function centre(page, sel) {
  const b = await page.locator(sel).boundingBox();
  return [b.x + b.width / 2, b.y + b.height / 2];
}

/** What the scene shows: input cells, kernel cells, output cells (null when blank), the step. */
const shown = (page) => page.evaluate(() => ({
  input: [...document.querySelectorAll('#corr-input-grid .cs-cell')].map((c) => Number(c.dataset.value)),
  kernel: [...document.querySelectorAll('#corr-kernel-grid input')].map((i) => Number(i.dataset.value)),
  output: [...document.querySelectorAll('#corr-output .cs-cell')].map((c) => (c.dataset.value === undefined ? null : Number(c.dataset.value))),
  step: Number(document.querySelector('#corr-step').dataset.step),
  picked: document.querySelector('#corr-input-grid').dataset.picked ?? null,
  kernelName: document.querySelector('#corr-kernel').value,
  ks: document.querySelector('#corr-ksize').value,
  same: [...document.querySelectorAll('#corr-output .cs-same')].map((c) => Number(c.dataset.i)),
}));

/** The trace of the letter with `kernel`, computed in the page through the API (not the scene). */
const traceOf = (page, kernel, normalized) => page.evaluate(async ([k, nz, n]) => {
  const { api } = await import('./js/wasm.js').then((m) => m.loadWasm());
  const img = api.tracePresetImage({ name: 'letter', size: n, seed: 1 });
  const t = api.traceCorrelate(img, Float32Array.from(k), { size: n, kernelSize: 3, normalized: nz });
  const n8 = t.ncc;
  return {
    output: [...t.output], largest: t.moments.largest,
    ncc: n8 ? { numerator: [...n8.numerator], denominator: [...n8.denominator], windowMean: [...n8.windowMean], windowNorm: [...n8.windowNorm], kernelMean: n8.kernelMean, kernelNorm: n8.kernelNorm, matches: [...n8.matches] } : null,
  };
}, [kernel, normalized, N]);

const value = (page, id) => page.$eval(id, (e) => Number(e.dataset.value));

for (const [label, viewport] of [['1280×800', { width: 1280, height: 800 }], ['390 px', { width: 390, height: 844 }]]) {
  test(`detector (${label}): a dragged box is the kernel, the output peaks there, NCC gives 1`, async () => {
    const { page, context, errors } = await openPage(browser, `#correlate?in=letter&n=${N}&k=sobel-x&ks=3&p=0,0,0,0`, viewport);
    await page.waitForSelector('#corr-output .cs-cell');
    // The apex's left side: rows 1–3, columns 1–3 (a diagonal of ink), dragged corner to corner.
    const [top, left, side] = [1, 1, 3];
    await page.locator(cellSel(top + side - 1, left + side - 1)).scrollIntoViewIfNeeded();
    const [x0, y0] = await centre(page, cellSel(top, left));
    const [x1, y1] = await centre(page, cellSel(top + side - 1, left + side - 1));
    await page.mouse.move(x0, y0);
    await page.mouse.down();
    await page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, { steps: 3 });
    assert.equal(await page.getAttribute('#corr-input-grid', 'data-draft'), `${top},${left},2`, 'the box follows the pointer');
    await page.mouse.move(x1, y1, { steps: 3 });
    await page.mouse.up();
    await page.waitForFunction(() => document.querySelector('#corr-input-grid').dataset.picked === '1,1,3');
    let s = await shown(page);
    assert.equal(s.kernelName, 'custom');
    assert.equal(s.ks, '3');
    assert.ok(await page.locator('#corr-box').isVisible(), 'the box stays outlined on the input');
    // The kernel's cells are the input's cells under the box, as the page shows both.
    const under = [];
    for (let a = 0; a < side; a++) for (let b = 0; b < side; b++) under.push(s.input[(top + a) * N + left + b]);
    assert.deepEqual(s.kernel, under);
    assert.ok(under.some((v) => v !== under[0]), 'the box holds a pattern, not a flat patch');
    // The whole output is shown, and its peak is at the box's place.
    const own = top * OUT_W + left;
    assert.ok(s.output.every((v) => v !== null), 'every output cell is lit');
    const plain = await traceOf(page, s.kernel, false);
    assert.deepEqual(s.output, plain.output, 'the output cells are the trace');
    assert.equal(s.output[own], Math.max(...s.output), 'the plain output peaks at the box');
    // A click (no drag) on an input cell still lights the windows that read it, box unchanged.
    await page.click(cellSel(4, 4));
    assert.equal(await page.locator('#corr-output .cs-uses').count(), 9);
    assert.equal(await page.getAttribute('#corr-input-grid', 'data-picked'), '1,1,3');

    // Normalised: 1 at the box's place, the largest cell, and the numbers are the trace's.
    await page.check('#corr-ncc');
    await page.waitForFunction(() => document.querySelector('#corr-ncc-num'));
    s = await shown(page);
    const ncc = await traceOf(page, s.kernel, true);
    assert.deepEqual(s.output, ncc.output, 'the NCC output cells are the trace');
    const max = Math.max(...s.output);
    assert.ok(Math.abs(max - 1) <= 1e-5, `largest ${max}`);
    assert.ok(Math.abs(s.output[own] - 1) <= 1e-5, `at the box ${s.output[own]}`);
    assert.ok(s.output.every((v) => v >= -1 - 1e-6 && v <= 1 + 1e-6));
    assert.deepEqual(s.same, ncc.ncc.matches, 'the windows outlined as matches are the trace\'s');
    assert.ok(s.same.includes(own));
    // Step to the box's window (click its output cell): the Σ line explains 1 with the trace's numbers.
    await page.click(`#corr-output .cs-cell[data-i="${own}"]`);
    await page.waitForFunction((o) => Number(document.querySelector('#corr-step').dataset.step) === o, own);
    assert.equal(await value(page, '#corr-sum-value'), ncc.output[own]);
    assert.equal(await value(page, '#corr-ncc-num'), ncc.ncc.numerator[own]);
    assert.equal(await value(page, '#corr-ncc-den'), ncc.ncc.denominator[own]);
    assert.equal(await value(page, '#corr-ncc-wnorm'), ncc.ncc.windowNorm[own]);
    assert.equal(await value(page, '#corr-ncc-knorm'), ncc.ncc.kernelNorm);
    assert.equal(await value(page, '#corr-ncc-wmean'), ncc.ncc.windowMean[own]);
    assert.equal(await value(page, '#corr-ncc-kmean'), ncc.ncc.kernelMean);
    assert.match(await page.textContent('#corr-sum'), /= 1 = output\[1, 1\]/);
    // Another window: its own numbers (not the box's).
    await page.click('#corr-output .cs-cell[data-i="0"]');
    await page.waitForFunction(() => Number(document.querySelector('#corr-step').dataset.step) === 0);
    assert.equal(await value(page, '#corr-sum-value'), ncc.output[0]);
    assert.equal(await value(page, '#corr-ncc-wmean'), ncc.ncc.windowMean[0]);
    assert.match(await page.textContent('#corr-detector-note'), /NCC: (1 window scores|\d+ windows score) at least 0\.9999/);
    // The PyTorch lines say how (from wasm): three conv2d's and the quotient.
    const code = await page.textContent('#correlate-code code');
    assert.equal((code.match(/F\.conv2d\(/g) ?? []).length, 3, code);
    assert.match(code, /kc = w - w\.mean\(\)/);
    assert.match(code, /torch\.where\(den > 0/);
    // The link keeps the switch (and the box's values as the edited kernel); off leaves no key.
    await page.waitForFunction(() => /[?&]nc=1/.test(location.hash) && /k=custom/.test(location.hash));
    await screenshot(page, `detector-${viewport.width}`);
    assert.deepEqual(await axeViolations(page, '#scene-correlate'), []);
    await page.uncheck('#corr-ncc');
    await page.waitForFunction(() => !/nc=/.test(location.hash));
    assert.deepEqual(errors, []);
    await context.close();
  });
}

test('detector: the keyboard picks a box (arrows move, Shift+arrows and +/− resize, Enter takes it, Escape cancels)', async () => {
  const { page, context, errors } = await openPage(browser, `#correlate?in=letter&n=${N}&k=box&ks=3&p=0,0,0,0`, { width: 1280, height: 800 });
  await page.waitForSelector('#corr-output .cs-cell');
  await page.focus('#corr-pick');
  await page.keyboard.press('Enter');
  assert.equal(await page.getAttribute('#corr-pick', 'aria-pressed'), 'true');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'corr-input-grid');
  assert.equal(await page.getAttribute('#corr-input-grid', 'data-draft'), '0,0,3');
  const before = await page.getAttribute('#corr-step', 'data-step');
  for (const k of ['ArrowDown', 'ArrowDown', 'ArrowRight', 'Shift+ArrowDown', '-', '-', '+']) await page.keyboard.press(k);
  assert.equal(await page.getAttribute('#corr-input-grid', 'data-draft'), '2,1,3');
  assert.equal(await page.getAttribute('#corr-step', 'data-step'), before, 'the arrows moved the box, not the player');
  // Escape leaves the kernel as it was.
  await page.keyboard.press('Escape');
  assert.equal(await page.inputValue('#corr-kernel'), 'box');
  assert.equal(await page.getAttribute('#corr-pick', 'aria-pressed'), 'false');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'corr-pick');
  // Again, larger, and taken.
  await page.keyboard.press('Enter');
  for (const k of ['ArrowDown', 'ArrowDown', 'ArrowDown', 'ArrowRight', '+']) await page.keyboard.press(k);
  assert.equal(await page.getAttribute('#corr-input-grid', 'data-draft'), '3,1,4');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('#corr-input-grid').dataset.picked === '3,1,4');
  const s = await shown(page);
  assert.equal(s.kernelName, 'custom');
  assert.equal(s.ks, '4');
  const under = [];
  for (let a = 0; a < 4; a++) for (let b = 0; b < 4; b++) under.push(s.input[(3 + a) * N + 1 + b]);
  assert.deepEqual(s.kernel, under);
  // A box is as large as the kernel may be (5) and stays on the image.
  await page.click('#corr-pick');
  for (let i = 0; i < 9; i++) await page.keyboard.press('Shift+ArrowRight');
  for (let i = 0; i < 12; i++) await page.keyboard.press('ArrowRight');
  assert.equal(await page.getAttribute('#corr-input-grid', 'data-draft'), '3,4,5');
  await page.keyboard.press('Escape');
  // Another input drops the box (its kernel came from the old image).
  await page.selectOption('#corr-input', 'checker');
  await page.waitForFunction(() => !document.querySelector('#corr-input-grid').dataset.picked);
  assert.equal(await page.locator('#corr-box').count(), 0);
  assert.deepEqual(errors, []);
  await context.close();
});
