// Shared by the tests (browser.mjs) and the benchmarks (bench/train-page.mjs); no imports, so
// it loads wherever playwright-core is installed.

/**
 * Makes `context` see the server's responses without COOP and COEP (and decoded, so without
 * Content-Encoding): the page is then not cross-origin isolated and cannot share memory.
 */
export async function withoutIsolation(context) {
  await context.route('**/*', async (route) => {
    const res = await route.fetch();
    const headers = { ...res.headers() };
    for (const h of ['cross-origin-opener-policy', 'cross-origin-embedder-policy', 'content-encoding', 'content-length']) delete headers[h];
    await route.fulfill({ response: res, headers, body: await res.body() });
  });
}
