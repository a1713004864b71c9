// Where the Train page's own threads spend their time while a model trains at full speed: opens
// the page, presses Start once MNIST is ready, records a Chrome trace for `--seconds` after
// `--after` seconds, and sums the renderer main thread's (and compositor's) top-level work by
// event name. For deciding what the page costs the training threads beside it.
//   cargo xtask serve --port 8790 &
//   BASE_URL=http://127.0.0.1:8790 node bench/trace-page.mjs [--model cnn] [--after 2] [--seconds 5]
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, d) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : d);
const model = opt('model', 'cnn');
const after = Number(opt('after', 2));
const seconds = Number(opt('seconds', 5));
const base = process.env.BASE_URL ?? 'http://127.0.0.1:8790';
const require = createRequire(join(root, 'tests/package.json'));
const { chromium } = require('playwright-core');
const browser = await chromium.launch({ executablePath: process.env.CHROME ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${base}/#train?m=${model}&pace=full`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 60000 });
  await page.waitForFunction(() => /MNIST ready/.test(document.querySelector('.loadline')?.textContent ?? ''), null, { timeout: 60000 });
  await page.click('#train-start');
  await page.waitForTimeout(after * 1000);
  const s0 = Number(await page.$eval('#train-status', (s) => s.dataset.samples));
  // The page's JavaScript too: a sampling profile of its main thread over the same seconds.
  const cdp = await context.newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await browser.startTracing(page, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'toplevel'] });
  await cdp.send('Profiler.start');
  await page.waitForTimeout(seconds * 1000);
  const { profile } = await cdp.send('Profiler.stop');
  const buf = await browser.stopTracing();
  const s1 = Number(await page.$eval('#train-status', (s) => s.dataset.samples));
  const events = JSON.parse(buf.toString()).traceEvents;
  const names = new Map();
  for (const e of events) if (e.ph === 'M' && e.name === 'thread_name') names.set(`${e.pid}:${e.tid}`, e.args.name);
  // Per thread: the union of complete events' time at depth 0 (nested events not double-counted).
  const byThread = new Map();
  for (const e of events) {
    if (e.ph !== 'X' || !e.dur) continue;
    const k = `${e.pid}:${e.tid}`;
    if (!byThread.has(k)) byThread.set(k, []);
    byThread.get(k).push(e);
  }
  console.log(`${model}: ${seconds} s traced after ${after} s; ${s1 - s0} samples meanwhile (${Math.round((s1 - s0) / seconds)}/s); load ${loadavg()[0].toFixed(2)}`);
  for (const [k, list] of byThread) {
    const name = names.get(k) ?? k;
    if (!/CrRendererMain|Compositor|VizCompositor|CrGpuMain|CrBrowserMain/.test(name)) continue;
    list.sort((a, b) => a.ts - b.ts || b.dur - a.dur);
    let end = -Infinity;
    let busy = 0;
    const top = new Map();
    // Children: the events directly inside a top-level event, summed by name.
    const inner = new Map();
    let cur = null;
    for (const e of list) {
      if (e.ts >= end) {
        busy += e.dur;
        end = e.ts + e.dur;
        cur = e;
        top.set(e.name, (top.get(e.name) ?? 0) + e.dur);
      } else if (cur && e.ts + e.dur <= end) {
        inner.set(e.name, (inner.get(e.name) ?? 0) + e.dur);
      }
    }
    const fmt = (m) => [...m].sort((a, b) => b[1] - a[1]).slice(0, 14).map(([n, d]) => `${n} ${(d / 1000).toFixed(0)}`).join(', ');
    const commits = list.filter((e) => e.name === 'Commit').length;
    const paints = list.filter((e) => e.name === 'Paint').length;
    console.log(`\n${name}: ${commits} commits, ${paints} paints; busy ${(busy / 1000).toFixed(0)} ms of ${seconds * 1000} (${((100 * busy) / (seconds * 1e6)).toFixed(1)}%)`);
    console.log(`  top level (ms): ${fmt(top)}`);
    console.log(`  inside (ms, nested sums): ${fmt(inner)}`);
  }
  // Self time by function (file:line), and inclusive time of the page's own functions.
  const dt = new Map();
  for (let i = 0; i < profile.samples.length; i++) dt.set(profile.samples[i], (dt.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const label = (n) => `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.replace(/^.*\//, '')}:${n.callFrame.lineNumber + 1}`;
  const self = new Map();
  const incl = new Map();
  for (const [id, t] of dt) {
    const n = nodes.get(id);
    self.set(label(n), (self.get(label(n)) ?? 0) + t);
    const seen = new Set();
    for (let x = id; x !== undefined; x = parent.get(x)) {
      const l = label(nodes.get(x));
      if (!seen.has(l)) { seen.add(l); incl.set(l, (incl.get(l) ?? 0) + t); }
    }
  }
  const show = (m) => [...m].filter(([l]) => !/^\((idle|program|root)\)/.test(l)).sort((a, b) => b[1] - a[1]).slice(0, 20).map(([l, t]) => `  ${(t / 1000).toFixed(0)} ms  ${l}`).join('\n');
  console.log(`\nJavaScript on the page's main thread, self time:\n${show(self)}\ninclusive:\n${show(incl)}`);
} finally {
  await browser.close();
}
