// The page loads, the wasm initialises, the chosen build is shown, nothing errors, and no
// request leaves the page's origin.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, screenshot, BASE_URL } from './browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('page loads and shows the wasm build it chose', async () => {
  const { page, context, errors, foreign } = await openPage(browser);
  const flavour = await page.getAttribute('#build', 'data-flavour');
  // Chromium supports relaxed-simd without a flag and the server makes the page cross-origin
  // isolated, so the threaded build runs where it was made, else the relaxed build.
  const { builds } = await (await fetch(`${BASE_URL}/pkg/builds.json`)).json();
  assert.equal(flavour, builds.includes('threads') ? 'threads' : 'relaxed');
  assert.match(await page.textContent('#build'), /relaxed-simd/);
  const level = await page.evaluate(async () => {
    const { loadWasm } = await import('./js/wasm.js');
    return (await loadWasm()).api.simdLevel();
  });
  assert.equal(level, 'relaxed');
  await screenshot(page, 'smoke');
  assert.deepEqual(errors, [], 'console errors');
  assert.deepEqual(foreign, [], 'requests outside the origin');
  await context.close();
});

test('server sends wasm with its MIME type and a same-origin CSP', async () => {
  const res = await fetch(`${BASE_URL}/pkg/simd128/convscope_bg.wasm`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/wasm');
  assert.equal(res.headers.get('cache-control'), 'no-cache');
  assert.match(res.headers.get('content-security-policy'), /default-src 'self'/);
  const missing = await fetch(`${BASE_URL}/../Cargo.toml`);
  assert.equal(missing.status, 404);
});
