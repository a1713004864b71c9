// Every numeric control reaches only what its scene can show, and a value it cannot take is not
// silently changed: a short note under the controls names the rule (the range) and what was
// set instead; a value taken as typed clears it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage } from './browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function type(page, sel, text) {
  await page.fill(sel, text);
  await page.dispatchEvent(sel, 'change');
}

const note = (page, scene) => page.$eval(`#scene-${scene} .cs-refused`, (n) => n.textContent).catch(() => null);

test('a refused or adjusted value is named with its rule in Correlate, Transposed conv and Dense', async () => {
  const { page, context, errors } = await openPage(browser, '#correlate');
  await page.waitForSelector('#corr-output .cs-cell');
  await type(page, '#corr-size', '20');
  assert.equal(await page.inputValue('#corr-size'), '16');
  assert.match(await note(page, 'correlate'), /^Input size \(cells per side\) 20 is not possible here: from 3 to 16, so it is 16\.$/);
  await type(page, '#corr-size', '7');
  assert.equal(await note(page, 'correlate'), '', 'a value taken as typed clears the note');
  // The geometry controls keep their own note, with the kernels' reason from wasm.
  await type(page, '#corr-stride-h', '9');
  assert.match(await page.textContent('#scene-correlate'), /Stride/);

  await page.evaluate(() => { location.hash = '#transpose'; });
  await page.waitForSelector('#tr-canvas .cs-cell');
  await type(page, '#tr-ksize', '9');
  assert.equal(await page.inputValue('#tr-ksize'), '5');
  assert.match(await note(page, 'transpose'), /^Kernel size 9 is not possible here: from 1 to 5, so it is 5\.$/);
  await type(page, '#tr-size', '2.5');
  assert.match(await note(page, 'transpose'), /^Input size \(cells per side\) 2\.5 is not possible here: a whole number, from 2 to 8, so it is 3\.$/);

  await page.evaluate(() => { location.hash = '#dense'; });
  await page.waitForSelector('#param-table');
  await type(page, '#param-k', '40');
  assert.equal(await page.inputValue('#param-k'), '11');
  assert.match(await note(page, 'dense'), /^Conv kernel size 40 is not possible here: from 1 to 11, so it is 11\.$/);
  assert.deepEqual(errors, []);
  await context.close();
});
