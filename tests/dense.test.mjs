// Issue 19 in the Dense scene and the steppers every scene shares, in Chromium at 1280×800 and
// at a 375 px phone width: a typed fraction or out-of-range value always gets a note naming it
// and the stepper's real range, the note goes once its setting changes, Dense's many cells are
// a few tab stops (a roving tabindex per group), axe-core finds no WCAG 2.1 A/AA violation, the
// idea fits one screen, and "Show me" pauses at moments taken from the wasm trace.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, screenshot, axeViolations, ARTIFACTS } from './browser.mjs';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

const WIDTHS = [['desktop', { width: 1280, height: 800 }], ['phone', { width: 375, height: 812 }]];

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function type(page, sel, text) {
  await page.fill(sel, text);
  await page.dispatchEvent(sel, 'change');
}

/** The refusal note that explains control `id` ('' when none does). */
const noteFor = (page, id) => page.evaluate((id) => {
  const n = [...document.querySelectorAll('.scene:not([hidden]) .cs-refused')].find((x) => x.dataset.for === id);
  return n?.textContent ?? '';
}, id);

for (const [name, viewport] of WIDTHS) {
  test(`steppers (${name}): a fraction gets a note naming it, the cap is the stepper's own, the note goes when its setting changes`, async () => {
    const { page, context, errors } = await openPage(browser, '#dense', viewport);
    await page.waitForSelector('#param-table');
    // A fraction: never rounded silently.
    await type(page, '#param-k', '2.5');
    assert.equal(await page.inputValue('#param-k'), '3');
    assert.match(await noteFor(page, 'param-k'), /^Conv kernel size 2\.5 is not possible here: a whole number, from 1 to 11, so it is 3\.$/);
    // Another setting changing leaves the note about k; k changing (here through a link) clears it.
    await type(page, '#param-cin', '2');
    assert.match(await noteFor(page, 'param-k'), /2\.5/);
    await page.evaluate(() => { location.hash = '#dense?k=7'; });
    await page.waitForFunction(() => document.getElementById('param-k').value === '7');
    assert.equal(await noteFor(page, 'param-k'), '', 'k changed: the note about it is gone');
    // Out of range, then a value taken as typed clears it.
    await type(page, '#param-k', '40');
    assert.match(await noteFor(page, 'param-k'), /from 1 to 11, so it is 11\.$/);
    await type(page, '#param-k', '5');
    assert.equal(await noteFor(page, 'param-k'), '');
    // A blank box is refused with a note too, the value stays.
    await type(page, '#param-cout', '');
    assert.equal(await page.inputValue('#param-cout'), '1');
    assert.match(await noteFor(page, 'param-cout'), /^Conv output channels: no number was typed, so it stays 1\.$/);
    await page.fill('#param-cout', '');
    await page.focus('#param-cout');
    await page.keyboard.type('1e');
    await page.dispatchEvent('#param-cout', 'change');
    assert.equal(await page.inputValue('#param-cout'), '1');
    assert.match(await noteFor(page, 'param-cout'), /^Conv output channels: what was typed is not a number, so it stays 1\.$/);

    // A stepper whose cap comes from the other settings (Correlate's stride): the note names
    // that cap, never a wider limit, and never says the value "stays" when it moved.
    await page.goto(`${new URL(page.url()).origin}/#correlate?in=letter&n=8&k=box&ks=3`);
    await page.waitForSelector('#corr-stride-h');
    // The speed's labels: a factor (0.5× … 4×), and 'max' (not 'max×').
    assert.deepEqual(await page.$$eval('#corr-speed option', (o) => o.map((x) => x.textContent)), ['0.5×', '1×', '2×', '4×', 'max']);
    const cap = await page.$eval('#corr-stride-h', (e) => e.max);
    assert.equal(await page.inputValue('#corr-stride-h'), '1');
    await type(page, '#corr-stride-h', '200');
    assert.equal(await page.inputValue('#corr-stride-h'), cap);
    assert.equal(await noteFor(page, 'corr-stride-h'), `Stride rows 200 is not possible here: from 1 to ${cap}, so it is ${cap}.`);
    const text = await page.textContent('#scene-correlate');
    assert.doesNotMatch(text, /stays \d+: .*at most 96/, 'a limit other than the stepper\'s own');
    assert.doesNotMatch(text, new RegExp(`so it stays ${cap}`), 'it was 1: it did not stay');
    // Again, now that it is at the cap: every message names the number typed.
    await type(page, '#corr-stride-h', '200');
    assert.doesNotMatch(await page.textContent('#scene-correlate'), /Stride rows (?!200 )\d+ is not possible/);
    // A fraction in a stepper whose scene names the rule itself was rounded silently.
    await type(page, '#corr-stride-h', '1.5');
    assert.match(await noteFor(page, 'corr-stride-h'), /^Stride rows 1\.5 is not possible here: a whole number, from 1 to \d+, so it is 2\.$/);
    await type(page, '#corr-stride-h', '1');
    assert.equal(await noteFor(page, 'corr-stride-h'), '');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test(`dense (${name}): a link's note about a setting goes once that setting changes, the others stay`, async () => {
    const { page, context, errors } = await openPage(browser, '#dense?t=40&cin=0&zz=1', viewport);
    await page.waitForSelector('#dense-chart .cs-bar');
    const note = () => page.$eval('#scene-dense .link-note', (n) => (n.hidden ? '' : n.textContent));
    assert.match(await note(), /Shift “40” .*opened with 23/);
    assert.match(await note(), /Input channels “0”/);
    await page.click('#dense-chart .cs-bar[data-shift="5"]');
    assert.doesNotMatch(await note(), /Shift/, 'the shift changed');
    assert.match(await note(), /Input channels “0”.*no setting “zz”/);
    await type(page, '#param-cin', '2');
    assert.equal(await note(), 'This scene has no setting “zz”; ignored.');
    assert.equal(await page.$eval('#scene-dense .link-note', (n) => n.hidden), false);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test(`dense (${name}): a roving tabindex, one tab stop per group, arrows inside`, async () => {
    const { page, context, errors } = await openPage(browser, '#dense', viewport);
    await page.waitForSelector('#dense-chart .cs-bar');
    // Walk the scene with Tab, as a keyboard user does.
    await page.focus('#dense-showme');
    const stops = [];
    for (let i = 0; i < 80; i++) {
      const where = await page.evaluate(() => {
        const a = document.activeElement;
        return a && a.closest('#scene-dense') ? (a.id || a.closest('[role=radiogroup],[role=toolbar],[id]')?.id || a.tagName) : null;
      });
      if (where === null) break;
      stops.push(where);
      await page.keyboard.press('Tab');
    }
    // The play button, the palette, two days, the shift slider, the chart, five pixel grids,
    // five parameter steppers, and the Copy button of each PyTorch block.
    const copies = await page.locator('#scene-dense .cs-code-copy:visible').count();
    assert.equal(copies, 3);
    assert.equal(stops.length, 16 + copies, stops.join(' '));
    for (const group of ['dense-a', 'dense-b', 'dense-chart', 'one-in-0', 'one-in-1', 'one-in-2', 'one-out-0', 'one-out-1']) {
      assert.equal(await page.$$eval(`#${group} [tabindex="0"]`, (n) => n.length), 1, group);
      assert.ok(stops.includes(group) || stops.some((s) => s === group), `${group} is a tab stop`);
    }
    // Arrows move inside a group; in the chart they pick the shift (selection follows focus).
    await page.focus('#dense-chart .cs-bar[data-shift="0"]');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    assert.equal(await page.evaluate(() => document.activeElement.dataset.shift), '-2');
    assert.equal(await page.getAttribute('#dense-chart .cs-current', 'data-shift'), '-2');
    assert.equal(await page.getAttribute('#dense-chart [aria-checked="true"]', 'data-shift'), '-2');
    // In a day the arrows only move the focus (painting is Enter or a click); the shift stays.
    await page.focus('#dense-a .cs-hour[data-hour="0"]');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('End');
    assert.equal(await page.evaluate(() => document.activeElement.dataset.hour), '23');
    assert.equal(await page.getAttribute('#dense-chart .cs-current', 'data-shift'), '-2');
    // B's hours shifted out of its row can take the focus without scrolling the row.
    await page.click('#dense-chart .cs-bar[data-shift="-3"]');
    await page.focus('#dense-b .cs-hour[data-hour="0"]');
    await page.keyboard.press('End');
    assert.equal(await page.evaluate(() => document.activeElement.dataset.hour), '23');
    assert.equal(await page.$eval('#dense-b', (r) => r.parentElement.scrollLeft), 0);
    // A 4×4 pixel grid: ↓ moves a row and picks that pixel in every grid.
    await page.focus('#one-in-0 .cs-cell >> nth=0');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.evaluate(() => document.activeElement.dataset.i), '5');
    assert.equal(await page.$$eval('[id^="one-"] [aria-checked="true"]', (c) => c.map((x) => x.dataset.i).join()), '5,5,5,5,5');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test(`dense (${name}): axe-core finds no WCAG 2.1 A/AA violation`, async () => {
    const { page, context, errors } = await openPage(browser, '#dense', viewport);
    await page.waitForSelector('#one-text div');
    const v = await axeViolations(page, '#scene-dense');
    assert.deepEqual(v.map((x) => `${x.id}: ${x.nodes.length} (${x.nodes.slice(0, 3).join(' | ')})`), []);
    // With a refusal note showing, and during "Show me".
    await type(page, '#param-k', '2.5');
    await page.click('#dense-showme');
    await page.waitForSelector('[data-showme="dense"][data-state="paused"]');
    const w = await axeViolations(page, '#scene-dense');
    assert.deepEqual(w.map((x) => `${x.id}: ${x.nodes.length} (${x.nodes.slice(0, 3).join(' | ')})`), []);
    assert.deepEqual(errors, []);
    await context.close();
  });
}

test('dense at 1280×800: the two days, the shift and F(t) with shift 0 marked fit one screen', async () => {
  const { page, context, errors } = await openPage(browser, '#dense', { width: 1280, height: 800 });
  await page.waitForSelector('#dense-chart .cs-bar');
  const box = async (sel) => page.$eval(sel, (e) => { const r = e.getBoundingClientRect(); return { top: r.top, bottom: r.bottom }; });
  for (const sel of ['#dense-a', '#dense-b', '#dense-shift', '#dense-explain', '#dense-chart', '#dense-chart .cs-zero', '.cs-axis-zero', '[data-showme="dense"]']) {
    const b = await box(sel);
    assert.ok(b.top >= 0 && b.bottom <= 800, `${sel}: ${b.top}–${b.bottom}`);
  }
  await screenshot(page, 'dense-1280x800');
  assert.deepEqual(errors, []);
  await context.close();
});

for (const [name, viewport] of WIDTHS) {
  test(`dense (${name}): "Show me" pauses at the moments from the wasm trace, with captions`, async () => {
    const { page, context, errors } = await openPage(browser, '#dense', viewport);
    await page.waitForSelector('#dense-chart .cs-bar');
    assert.match(await page.textContent('[data-showme="dense"] .showme-idea'), /dense layer is the cross-correlation at shift 0/);
    await page.click('#dense-showme');
    const pauses = Number(await page.getAttribute('[data-showme="dense"]', 'data-pauses'));
    assert.equal(pauses, 4);
    mkdirSync(ARTIFACTS, { recursive: true });
    for (let i = 0; i < pauses; i++) {
      // The last stop pauses, then the run is done (its caption stays).
      await page.waitForSelector(`[data-showme="dense"]:is([data-state="paused"], [data-state="done"])[data-pause="${i}"]`, { timeout: 20000 });
      const caption = await page.textContent('#dense-showme-caption');
      // The caption and the part it talks about are both on screen.
      const inView = (sel) => page.$eval(sel, (e) => { const r = e.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight && r.height > 0; });
      assert.ok(await inView('#dense-showme-caption'), `pause ${i}: caption on screen`);
      assert.ok(await inView('#scene-dense .cs-spot'), `pause ${i}: the spot on screen`);
      assert.ok(caption.length > 20 && caption.length < 200, caption);
      if (i === 0) {
        // The shift where the days overlap most: wasm's `best`, not a maximum taken here.
        const best = await page.evaluate(async () => {
          const { api } = await (await import('./js/wasm.js')).loadWasm();
          const q = new URLSearchParams(location.hash.split('?')[1]);
          const day = (s) => Uint8Array.from(s, (c) => c.charCodeAt(0) - 48);
          const c = api.traceSchedules(day(q.get('a')), day(q.get('b')), 6);
          return { t: c.shifts[c.best], f: c.total[c.best], max: Math.max(...c.total) };
        });
        assert.notEqual(best.t, 0, 'the run opens on days whose best shift is not 0');
        assert.equal(best.f, best.max);
        assert.equal(await page.getAttribute('#dense-chart .cs-current', 'data-shift'), String(best.t));
        assert.ok(caption.includes(`= ${best.f} matching hours`), caption);
        assert.equal(await page.getAttribute('#dense-chart .cs-spot', 'data-shift'), String(best.t));
      }
      if (i === 1) {
        assert.equal(await page.getAttribute('#dense-chart .cs-current', 'data-shift'), '0');
        const f = await page.getAttribute('#dense-f', 'data-value');
        assert.equal(f, await page.getAttribute('#dense-value', 'data-value'));
        assert.ok(caption.includes(`F(0) = ${f} `), caption);
      }
      if (i === 2) {
        const shown = await page.$$eval('#one-text b', (bs) => bs.map((b) => Number(b.dataset.value)));
        assert.match(caption, /1×1 conv is a dense layer over channels/);
        for (const v of shown) assert.ok(caption.includes(v.toFixed(3).replace(/\.?0+$/, '').replace('-', '−')), caption);
      }
      if (i === 3) {
        const dense = await page.getAttribute('#param-dense', 'data-value');
        const conv = await page.getAttribute('#param-conv', 'data-value');
        assert.ok(caption.includes(BigInt(dense).toLocaleString('en-US')) && caption.includes(`conv takes ${conv},`), caption);
      }
      await page.screenshot({ path: path.join(ARTIFACTS, `dense-showme-${i}${name === 'phone' ? '-375' : ''}.png`) });
      if (i < pauses - 1) await page.click('#dense-showme-next');
    }
    await page.waitForSelector('[data-showme="dense"][data-state="done"]');
    // The viewer taking over ends a run: a click on a bar.
    await page.click('#dense-showme');
    await page.waitForSelector('[data-showme="dense"][data-state="paused"]', { timeout: 20000 });
    await page.click('#dense-chart .cs-bar[data-shift="5"]');
    assert.equal(await page.getAttribute('[data-showme="dense"]', 'data-state'), 'idle');
    assert.equal(await page.getAttribute('#dense-chart .cs-current', 'data-shift'), '5');
    assert.deepEqual(errors, []);
    await context.close();
  });
}
