// axe-core's WCAG 2.1 A/AA rules on every scene, at 1280×800 and at a 375 px phone width, in the
// states people see: Draw with a digit drawn and a cell picked, every scene after its controls
// are built, and each scene's "Show me" paused at its first moment.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, axeViolations } from './browser.mjs';
import { skeletonStrokes, indexOf, drawStrokes } from './draw-strokes.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const WIDTHS = [['desktop', { width: 1280, height: 800 }], ['phone', { width: 375, height: 667 }]];
const READY = {
  draw: '.layers .layer', correlate: '#corr-output .cs-cell', transpose: '#stage', dense: '#scene-dense .cs-panel',
  templates: '#scene-templates canvas', train: '#scene-train button', look: '#scene-look[data-warm]',
};

const report = (v) => v.map((x) => `${x.id} (${x.impact}): ${x.help} — ${x.nodes.slice(0, 4).join(' | ')}${x.nodes.length > 4 ? ` … ${x.nodes.length} nodes` : ''}`).join('\n');

for (const [name, viewport] of WIDTHS) {
  for (const scene of Object.keys(READY)) {
    test(`axe: ${scene} at ${name} width has no WCAG 2.1 A/AA violation`, async () => {
      const { page, context, errors } = await openPage(browser, `#${scene}`, viewport);
      await page.waitForSelector(READY[scene], { timeout: 30000 });
      if (scene === 'draw') {
        await drawStrokes(page, skeletonStrokes(indexOf(3)), { size: 0.8, cx: 0.5, cy: 0.5 });
        const map = page.locator('.layer[data-layer="conv2"] .maps canvas').first();
        await map.scrollIntoViewIfNeeded();
        const box = await map.boundingBox();
        await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
        await page.waitForSelector('#explain', { state: 'visible' });
      }
      const v = await axeViolations(page);
      assert.equal(v.length, 0, report(v));
      // And with its "Show me" paused at the first moment, where the scene has one.
      const show = page.locator('.scene:not([hidden]) [data-showme] .showme-play');
      if (await show.count() && scene !== 'train') {
        await page.keyboard.press('Escape');
        await show.click();
        await page.waitForSelector('.scene:not([hidden]) [data-showme][data-state="paused"]', { timeout: 30000 });
        const w = await axeViolations(page);
        assert.equal(w.length, 0, `during "Show me":\n${report(w)}`);
      }
      assert.deepEqual(errors, []);
      await context.close();
    });
  }
}
