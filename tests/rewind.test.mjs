// Training you can rewind: the workers keep evenly spaced moments of the run (wasm's
// Trainer.history), and the scrubber replays the weights with their last-batch gradients, the
// curves and the one-step view at any of them; "Train on from here" goes on from a moment.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, screenshot } from './browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const data = (page, sel) => page.evaluate((s) => ({ ...document.querySelector(s).dataset }), sel);

/** The distinct colours drawn in each weight tile (the big canvas of each pair), once drawn. */
const tileColours = async (page, at = '') => (await page.waitForFunction((a) => document.querySelector('#train-tiles').dataset.drawn === a, at), page.$$eval('#train-tiles .tile-pair', (pairs) => pairs.map((p) => {
  const c = p.querySelector('canvas');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const seen = new Set();
  for (let i = 0; i < d.length; i += 4) seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
  return seen.size;
})));

async function trainBatches(page, n) {
  const before = Number((await data(page, '#train-status')).samples);
  for (let i = 0; i < n; i++) {
    const at = Number((await data(page, '#train-status')).samples);
    await page.click('#train-step');
    await page.waitForFunction((a) => Number(document.querySelector('#train-status').dataset.samples) > a, at, { timeout: 60000 });
  }
  return before;
}

for (const [name, viewport] of [['desktop', { width: 1280, height: 900 }], ['phone', { width: 390, height: 844 }]]) {
  test(`rewind (${name}): scrub back to the zero start and a middle moment, replay, then train on from there`, async () => {
    const { page, context, errors, foreign } = await openPage(browser, '#train?m=slp&w=1&pace=full&init=zeros&opt=sgd', viewport);
    assert.equal(await page.isDisabled('#train-scrub'), true, 'nothing to scrub before training');
    await trainBatches(page, 6);
    // Every template has its gradient of the last batch beside it.
    await page.waitForFunction(() => document.querySelectorAll('#train-tiles .tile-pair').length === 10
      && [...document.querySelectorAll('#train-tiles .tile-pair')].every((p) => p.querySelectorAll('canvas').length === 2));
    const gradLabel = await page.$eval('#train-tiles .tile-pair', (p) => p.querySelectorAll('canvas')[1].getAttribute('aria-label'));
    assert.match(gradLabel, /gradient of template of digit 0, last batch/);
    await page.waitForFunction(() => Number(document.querySelector('#train-scrub').max) === 7);
    assert.equal(await page.inputValue('#train-scrub'), '7', 'the scrubber starts at now');
    assert.equal(await page.isDisabled('#train-rewind'), true, 'nothing to rewind to while showing now');
    const liveColours = await tileColours(page);
    assert.ok(liveColours.every((n) => n > 3), `trained templates are pictures: ${liveColours}`);
    const pointsAll = Number((await data(page, '.train-charts figure.curves')).points);

    // Moment 0: the zero start. The templates are blank, the curves show nothing yet, and the
    // one-step view by those weights gives every class 0.1 (loss ln 10).
    await page.fill('#train-scrub', '0');
    await page.waitForFunction(() => document.querySelector('.train-weights').dataset.at === '0');
    await page.waitForFunction(() => document.querySelector('#train-moment').dataset.steps === '0');
    assert.equal((await data(page, '.train-charts figure.curves')).cursor, '0');
    const zeroColours = await tileColours(page, '0');
    assert.deepEqual(zeroColours, new Array(10).fill(1), 'the zero start draws blank templates');
    assert.equal((await data(page, '.train-charts figure.curves')).pointsShown, '1', 'only the test subset\'s loss at the start is shown');
    await page.fill('#train-explain-index', '5');
    await page.click('#train-explain');
    await page.waitForFunction(() => document.querySelector('.train-onestep').dataset.at === '0');
    const step0 = await data(page, '.train-onestep');
    assert.ok(Math.abs(Number(step0.loss) - Math.log(10)) < 1e-5, `the zero model's loss is ln 10, got ${step0.loss}`);
    assert.match(await page.textContent('#train-explain-picked'), /By the weights of step 0/);

    // Moment 3: the templates there, the curves up to its samples, and the one-step view again.
    await page.fill('#train-scrub', '3');
    await page.waitForFunction(() => document.querySelector('.train-weights').dataset.at === '3');
    const m3 = await data(page, '#train-moment');
    assert.equal(m3.steps, '3');
    await page.waitForFunction(() => document.querySelector('.train-onestep').dataset.at === '3');
    const step3 = await data(page, '.train-onestep');
    assert.ok(Number(step3.loss) < Math.log(10) && Number(step3.loss) !== Number(step0.loss), `loss at step 3: ${step3.loss}`);
    const shown3 = Number((await data(page, '.train-charts figure.curves')).pointsShown);
    assert.ok(shown3 > 0 && shown3 < pointsAll, `${shown3} of ${pointsAll} points up to step 3`);
    assert.ok((await tileColours(page, '3')).every((n) => n > 1), 'three batches in, the templates are no longer blank');
    await screenshot(page, `train-rewind-${name}`);

    if (name === 'desktop') {
      // When did the templates first look like digits? The page goes to the moment wasm names;
      // the same run made here (same settings) agrees, and it is the first to reach 0.6.
      await page.click('#train-first-digits');
      await page.waitForFunction(() => /first looked like digits|Not yet/.test(document.querySelector('#train-moment').textContent));
      const at = (await data(page, '#train-moment')).at;
      const mine = await page.evaluate(async () => {
        const { api } = await import('./js/wasm.js').then((m) => m.loadWasm());
        const get = async (f) => new Uint8Array(await (await fetch(`data/mnist/${f}`)).arrayBuffer());
        const train = api.Dataset.load(await get('train-images-idx3-ubyte.gz'), await get('train-labels-idx1-ubyte.gz'));
        const test = api.Dataset.load(await get('t10k-images-idx3-ubyte.gz'), await get('t10k-labels-idx1-ubyte.gz'));
        const t = new api.Trainer(train, { model: 'slp', optimizer: 'sgd', lr: 0.1, batch: 64, init: 'zeros', seed: 1, augment: false, history: true });
        t.run(train, 6);
        const h = t.templateHistory(test, 0.6);
        t.free(); train.free(); test.free();
        return { first: h.first, least: Array.from(h.least) };
      });
      assert.notEqual(mine.first, undefined, `six batches make digit-like templates: ${mine.least}`);
      assert.equal(at, String(mine.first), 'the page goes where wasm says');
      assert.ok(mine.least[mine.first] >= 0.6 && (mine.first === 0 || mine.least[mine.first - 1] < 0.6), `${mine.least}`);
      await page.waitForFunction((a) => document.querySelector('.train-weights').dataset.at === a, at);
    }

    // Back to now, then to moment 3 again and train on from there: the run is at step 3 again,
    // the later moments and points are gone.
    await page.click('#train-live');
    assert.equal(await page.inputValue('#train-scrub'), '7');
    assert.equal((await data(page, '#train-moment')).at, '');
    await page.fill('#train-scrub', '3');
    await page.waitForFunction(() => document.querySelector('#train-moment').dataset.at === '3');
    await page.click('#train-rewind');
    await page.waitForFunction(() => document.querySelector('#train-status').dataset.samples === document.querySelector('#train-moment').dataset.samples
      && document.querySelector('#train-moment').dataset.at === '');
    assert.equal((await data(page, '#train-status')).samples, m3.samples, 'the run is back at step 3');
    await page.waitForFunction(() => Number(document.querySelector('#train-scrub').max) === 4);
    // The curves are redrawn in the next frame: the later points are dropped.
    await page.waitForFunction((n) => Number(document.querySelector('.train-charts figure.curves').dataset.points) < n, pointsAll);
    await trainBatches(page, 2);
    assert.equal((await data(page, '#train-moment')).steps, '5', 'training went on from step 3');
    if (name === 'phone') {
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      if (overflow > 0) console.log(await page.evaluate(() => [...document.querySelectorAll('#scene-train *')].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 8).map((e) => `${e.tagName}.${e.className}#${e.id} ${Math.round(e.getBoundingClientRect().right)}`)));
      assert.ok(overflow <= 0, `the scene fits the phone's width (overflow ${overflow}px)`);
    }
    assert.deepEqual(errors, [], 'console errors');
    assert.deepEqual(foreign, [], 'requests outside the origin');
    await context.close();
  });
}

test('rewind: the cnn shows its conv1 kernels with their gradients; looking back pauses a run', async () => {
  const { page, context, errors } = await openPage(browser, '#train?m=cnn&w=1&pace=full');
  await page.click('#train-start');
  await page.waitForFunction(() => Number(document.querySelector('#train-scrub').max) >= 5, null, { timeout: 60000 });
  await page.waitForFunction(() => document.querySelectorAll('#train-tiles canvas').length === 2 * 8 + 1);
  await page.fill('#train-scrub', '1');
  await page.waitForFunction(() => !document.querySelector('#scene-train').classList.contains('training'));
  assert.equal(await page.isDisabled('#train-start'), false, 'looking back paused the run');
  await page.waitForFunction(() => document.querySelector('.train-weights').dataset.at === '1');
  await page.waitForTimeout(500); // the chunk under way when it paused reports last
  const a = (await data(page, '#train-status')).samples;
  await page.waitForTimeout(800);
  assert.equal((await data(page, '#train-status')).samples, a, 'the run stays paused while looking back');
  assert.deepEqual(errors, [], 'console errors');
  await context.close();
});
