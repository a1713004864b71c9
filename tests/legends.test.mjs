// One visual language in Correlate, Transposed conv and Dense: every grid carries a legend with
// the numbers at its ends (diverging −s … s for signed values, sequential 0 … s for
// non-negative ones, from the shared colour module), each cell's colour is that scale's, and
// nothing moves while stepping (every grid, legend and caption keeps its box).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage } from './browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** Every grid of the scene: its legend's kind, ends and scale, and its cells' values. */
const grids = (page, scene) => page.$$eval(`#scene-${scene} .cs-grid`, (gs) => gs.map((g) => {
  const leg = g.closest('figure')?.querySelector('.legend');
  const vals = [...g.querySelectorAll('.cs-cell')].map((c) => c.dataset.value).filter((v) => v !== undefined).map(Number);
  return {
    id: g.id || g.getAttribute('aria-label'),
    visible: g.getClientRects().length > 0,
    legend: leg ? { signed: leg.classList.contains('diverging'), lo: leg.querySelector('.legend-lo').textContent, hi: leg.querySelector('.legend-hi').textContent, scale: Number(leg.dataset.scale) } : null,
    vals,
  };
}));

/** Boxes of every grid, legend and caption of the scene (the layout while stepping). */
const boxes = (page, scene) => page.$$eval(`#scene-${scene} .cs-grid, #scene-${scene} .legend, #scene-${scene} figcaption, #scene-${scene} .cs-sum`, (ns) => ns.map((n) => {
  const r = n.getBoundingClientRect();
  return `${n.id || n.className}:${Math.round(r.x)},${Math.round(r.y)},${Math.round(r.width)},${Math.round(r.height)}`;
}));

function checkLegends(list, scene) {
  assert.ok(list.length >= 4, `${scene}: ${list.length} grids`);
  for (const g of list.filter((x) => x.visible)) {
    assert.ok(g.legend, `${scene} ${g.id}: has a legend`);
    assert.notEqual(g.legend.hi, '', `${scene} ${g.id}: an end number`);
    if (!g.vals.length) continue;
    const neg = g.vals.some((v) => v < 0);
    // Negative values are drawn on the diverging scale, whose ends are ±s.
    if (neg) assert.ok(g.legend.signed, `${scene} ${g.id}: negative values on the diverging scale`);
    if (g.legend.signed) assert.match(g.legend.lo, /^−/, `${scene} ${g.id}: lower end −s`);
    else assert.equal(g.legend.lo, '0', `${scene} ${g.id}: sequential from 0`);
    const maxAbs = Math.max(...g.vals.map(Math.abs));
    assert.ok(maxAbs <= g.legend.scale * (1 + 1e-6) + 1e-9, `${scene} ${g.id}: the values (${maxAbs}) fit the scale ${g.legend.scale}`);
  }
}

test('Correlate: every grid has a legend with end numbers, and stepping moves nothing', async () => {
  const { page, context, errors } = await openPage(browser, '#correlate?in=letter&n=8&k=sobel-x&ks=3&s=1,1&p=1,1,1,1&d=1,1&f=0&t=0');
  await page.waitForSelector('#corr-output .cs-cell');
  checkLegends(await grids(page, 'correlate'), 'correlate');
  // The output's legend is the scale of the whole output, fixed from step 1.
  const out = (await grids(page, 'correlate')).find((g) => g.id === 'corr-output');
  const outScale = out.legend.scale;
  const first = await boxes(page, 'correlate');
  for (let i = 0; i < 12; i++) {
    await page.click('#corr-fwd');
    assert.deepEqual(await boxes(page, 'correlate'), first, `after step ${i + 2}`);
  }
  const now = (await grids(page, 'correlate')).find((g) => g.id === 'corr-output');
  assert.equal(now.legend.scale, outScale);
  checkLegends(await grids(page, 'correlate'), 'correlate');
  assert.deepEqual(errors, []);
  await context.close();
});

test('Transposed conv: every grid has a legend (stamps per cell sequential), and stepping moves nothing', async () => {
  const { page, context, errors } = await openPage(browser, '#transpose?in=random&n=4&k=random&ks=3&s=2,2&p=0,0,0,0&op=0,0&d=1,1&t=0');
  await page.waitForSelector('#tr-canvas .cs-cell');
  const list = await grids(page, 'transpose');
  checkLegends(list, 'transpose');
  const cover = list.find((g) => g.id === 'tr-coverage');
  assert.equal(cover.legend.signed, false);
  assert.equal(cover.legend.lo, '0');
  const first = await boxes(page, 'transpose');
  for (let i = 0; i < 10; i++) {
    await page.click('#tr-fwd');
    assert.deepEqual(await boxes(page, 'transpose'), first, `after step ${i + 2}`);
  }
  checkLegends(await grids(page, 'transpose'), 'transpose');
  assert.deepEqual(errors, []);
  await context.close();
});

test('Dense: every grid has a legend with end numbers', async () => {
  const { page, context, errors } = await openPage(browser, '#dense');
  await page.waitForSelector('#one-out-0 .cs-cell');
  checkLegends(await grids(page, 'dense'), 'dense');
  assert.deepEqual(errors, []);
  await context.close();
});
