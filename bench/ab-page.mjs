// What the A/B scripts share: serve two builds (`/a/`, `/b/`) and any extra files beside one
// page, open it in headless Chromium and return its `window.result`, with the load average
// before and after. Benchmark only on a quiet machine (load < 1).
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { join, resolve, dirname, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { createRequire } from 'node:module';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The command line: two build folders and numeric `--name value` options (defaults given). */
export function parseArgs(usage, defaults) {
  const args = process.argv.slice(2);
  const opts = Object.fromEntries(Object.entries(defaults).map(([k, d]) => [k, args.includes(`--${k}`) ? Number(args[args.indexOf(`--${k}`) + 1]) : d]));
  const dirs = args.filter((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
  if (dirs.length !== 2) throw new Error(`usage: ${usage}`);
  return { dirs, opts };
}

/** Serves `page` at `/`, build A at `/a/`, build B at `/b/`, `files` (url → path); returns the page's result. */
export async function runPage(dirs, page, files = {}) {
  const types = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' };
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const isolated = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };
    if (url.pathname === '/') { res.writeHead(200, { 'content-type': 'text/html', ...isolated }); res.end(page); return; }
    let file = files[url.pathname] ?? null;
    const m = url.pathname.match(/^\/([ab])\/([\w./-]+)$/);
    if (m && m[2].split('/').includes('..')) { res.writeHead(404); res.end(); return; }
    if (m) file = join(resolve(dirs[m[1] === 'a' ? 0 : 1]), m[2]);
    try {
      const body = readFileSync(file);
      // Cross-origin isolated (as `cargo xtask serve`), so that threaded builds can share memory.
      res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream', ...isolated });
      res.end(body);
    } catch { res.writeHead(404); res.end(); }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const require = createRequire(join(root, 'tests/package.json'));
  const { chromium } = require('playwright-core');
  const before = loadavg()[0];
  const browser = await chromium.launch({ executablePath: process.env.CHROME ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  try {
    const p = await browser.newPage();
    let failed = null;
    p.on('pageerror', (e) => { failed = e.message; });
    p.on('console', (msg) => { if (msg.type() === 'error') failed = msg.text(); });
    await p.goto(`http://127.0.0.1:${server.address().port}/`);
    await p.waitForFunction(() => window.result, null, { timeout: 300000, polling: 500 }).catch((e) => { throw new Error(failed ?? e.message); });
    const result = await p.evaluate(() => window.result);
    return { result, load: [before, loadavg()[0]] };
  } finally {
    await browser.close();
    server.close();
  }
}
