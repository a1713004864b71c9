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
  // The ranges are wasm's (traceControls), not copies of them.
  const lim = await page.evaluate(async () => (await import('./js/wasm.js').then((m) => m.loadWasm())).api.traceControls());
  const [, sizeMax] = lim.correlate.size;
  await type(page, '#corr-size', String(sizeMax + 4));
  assert.equal(await page.inputValue('#corr-size'), String(sizeMax));
  assert.equal(await note(page, 'correlate'), `Input size (cells per side) ${sizeMax + 4} is not possible here: from ${lim.correlate.size[0]} to ${sizeMax}, so it is ${sizeMax}.`);
  await type(page, '#corr-size', '7');
  assert.equal(await note(page, 'correlate'), '', 'a value taken as typed clears the note');
  // A stride past the geometry's cap: the stepper says so and takes the cap.
  const cap = lim.correlate.cap;
  await type(page, '#corr-stride-h', String(cap + 3));
  assert.equal(await page.inputValue('#corr-stride-h'), String(cap));
  assert.equal(await note(page, 'correlate'), `Stride rows ${cap + 3} is not possible here: from 1 to ${cap}, so it is ${cap}.`);

  await page.evaluate(() => { location.hash = '#transpose'; });
  await page.waitForSelector('#tr-canvas .cs-cell');
  const [k0, k1] = lim.transpose.kernelSize;
  await type(page, '#tr-ksize', String(k1 + 4));
  assert.equal(await page.inputValue('#tr-ksize'), String(k1));
  assert.equal(await note(page, 'transpose'), `Kernel size ${k1 + 4} is not possible here: from ${k0} to ${k1}, so it is ${k1}.`);
  await type(page, '#tr-size', '2.5');
  assert.equal(await note(page, 'transpose'), `Input size (cells per side) 2.5 is not possible here: a whole number, from ${lim.transpose.size[0]} to ${lim.transpose.size[1]}, so it is 3.`);

  await page.evaluate(() => { location.hash = '#dense'; });
  await page.waitForSelector('#param-table');
  const [d0, d1] = lim.dense.kernelSize;
  await type(page, '#param-k', String(d1 + 29));
  assert.equal(await page.inputValue('#param-k'), String(d1));
  assert.equal(await note(page, 'dense'), `Conv kernel size ${d1 + 29} is not possible here: from ${d0} to ${d1}, so it is ${d1}.`);
  assert.deepEqual(errors, []);
  await context.close();
});
