// Training as a visitor meets it: the Train page in headless Chromium against a running
// `cargo xtask serve`, a model with the page's defaults at full speed, Start pressed once the
// scene says MNIST is ready (it loads on opening; that time is reported apart), and the status
// read every 50 ms until the test subset reaches `--target` (default 98.5%) or `--limit` seconds
// pass. Each setup runs `--rounds` times, the setups interleaved (A B A B …):
//   threads: the page as served (cross-origin isolated: the threaded build, one worker whose
//            kernels use every thread; or the relaxed build where no threaded build was made);
//   workers: the same server's responses without COOP/COEP (no shared memory: the relaxed
//            build, one worker per core averaging gradients: what the page did before threads).
// Reports per setup the median samples/s the page showed at 5 s and at the end, and the median
// seconds from Start to the target, with the load average before and after. Benchmark only on
// a quiet machine (load < 1).
//   cargo xtask serve --port 8790 &
//   node bench/train-page.mjs [--model cnn] [--rounds 3] [--target 0.985] [--limit 60]
//                             [--workers N] [--only threads|workers] [--params 'b=32&lr=0.002']
//                             [--trace]
// `--trace` records a Chrome trace of each round and prints every task of the page's thread
// over 50 ms with its CPU time beside its wall time (a task's wall time also counts the time
// the thread waited for a core, which two training threads on two cores make likely).
import { loadavg } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { withoutIsolation } from '../tests/isolation.mjs';
import { longRunTasks } from '../tests/browser.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** One run: Start, then the status every 50 ms; returns what the page showed. */
async function run(browser, { base, model, target, limit, workers, extra, trace }, isolated) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  if (!isolated) await withoutIsolation(context);
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${base}/#train?m=${model}&pace=full${workers ? `&w=${workers}` : ''}${extra ? `&${extra}` : ''}`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 60000 });
  const build = await page.$eval('#build', (b) => `${b.dataset.flavour} × ${b.dataset.threads}`);
  if (trace) await browser.startTracing(page, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline'] });
  const out = await page.evaluate(async ({ target, limit }) => {
    const st = document.querySelector('#train-status');
    // The scene loads MNIST and starts its workers when it opens: a visitor presses Start
    // once the load line says so (the seconds it took are reported apart, as "ready").
    const opened = performance.now();
    const isReady = () => /MNIST ready/.test(document.querySelector('.loadline')?.textContent ?? '');
    while (!isReady() && performance.now() - opened < 60000) await new Promise((r) => setTimeout(r, 20));
    const t0 = performance.now();
    const ready = (t0 - opened) / 1000;
    document.querySelector('#train-start').click();
    let at5 = null;
    let reached = null;
    let last = null;
    let longest = 0;
    let prev = performance.now();
    // The page's own thread: the longest gap between animation frames while it trains.
    const frames = () => requestAnimationFrame(() => { const now = performance.now(); longest = Math.max(longest, now - prev); prev = now; if (reached === null && now - t0 < limit * 1000) frames(); });
    frames();
    // …and its longest task (the browser reports only those over 50 ms: 0 means none). A long
    // frame gap with no long task is the thread waiting for a core, not blocked by the page.
    let longestTask = 0;
    const obs = new PerformanceObserver((l) => { for (const e of l.getEntries()) longestTask = Math.max(longestTask, e.duration); });
    obs.observe({ type: 'longtask', buffered: false });
    // What the page's scripts did in its longest animation frame over 50 ms (Long Animation
    // Frame timing: each script's entry point and duration, the frame's total besides).
    let loaf = null;
    const loafs = new PerformanceObserver((l) => {
      for (const e of l.getEntries()) {
        if (loaf && e.duration <= loaf.total) continue;
        const scripts = e.scripts.map((x) => `${x.sourceFunctionName || x.invoker || x.invokerType} ${Math.round(x.duration)} ms`).join('; ');
        loaf = { total: Math.round(e.duration), blocking: Math.round(e.blockingDuration), scripts: scripts || 'no script' };
      }
    });
    loafs.observe({ type: 'long-animation-frame', buffered: false });
    while (performance.now() - t0 < limit * 1000) {
      await new Promise((r) => setTimeout(r, 50));
      const s = { t: (performance.now() - t0) / 1000, samples: Number(st.dataset.samples), rate: Number(st.dataset.samplesPerS), acc: st.dataset.testAcc === '' ? null : Number(st.dataset.testAcc) };
      last = s;
      if (at5 === null && s.t >= 5) at5 = s;
      if (s.acc !== null && s.acc >= target) { reached = s; break; }
    }
    obs.disconnect();
    loafs.disconnect();
    return { at5, ready, reached, last, longestFrameMs: longest, longestTaskMs: longestTask, loaf, workers: document.querySelector('#train-workers')?.value };
  }, { target, limit });
  const tasks = trace ? longRunTasks(await browser.stopTracing()) : null;
  await context.close();
  return { build, ...out, tasks };
}

const median = (xs) => { const s = xs.filter((v) => v !== null && Number.isFinite(v)).sort((a, b) => a - b); return s.length ? s[s.length >> 1] : null; };

/**
 * The measurement on `browser` against the playground at `base`: `rounds` runs of each setup,
 * interleaved. Returns `{ model, target, limit, rounds, loadStart, loadEnd, setups: [{ name,
 * build, workers, runs, ready, at5, end, seconds, longestFrameMs }] }`, the figures medians
 * over the rounds (`seconds` null when the target was not reached within `limit`).
 */
export async function trainToTarget(browser, { base, model = 'cnn', target = 0.985, limit = 60, rounds = 3, only = null, workers = null, extra = '', trace = false, log = () => {} }) {
  const o = { base, model, target, limit, workers, extra, trace };
  const setups = [['threads', true], ['workers', false]].filter(([name]) => !only || name === only);
  const results = Object.fromEntries(setups.map(([name]) => [name, []]));
  const loadStart = loadavg();
  for (let r = 0; r < rounds; r++) {
    for (const [name, isolated] of (r % 2 ? [...setups].reverse() : setups)) {
      const x = await run(browser, o, isolated);
      results[name].push(x);
      log(`${name} round ${r + 1}: ${x.build}, ${x.workers} worker(s); MNIST ready ${x.ready?.toFixed(1)} s after the scene opened; at 5 s ${x.at5?.rate?.toFixed(0)} samples/s; ${x.reached ? `${(100 * target).toFixed(1)}% at ${x.reached.t.toFixed(1)} s (${x.reached.samples} samples)` : `not reached in ${limit} s (last ${x.last?.acc})`}; end ${x.last?.rate?.toFixed(0)} samples/s; longest frame ${x.longestFrameMs.toFixed(0)} ms; longest task ${x.longestTaskMs ? `${x.longestTaskMs.toFixed(0)} ms` : 'none over 50 ms'}${x.loaf ? `; longest animation frame ${x.loaf.total} ms (blocking ${x.loaf.blocking} ms; scripts: ${x.loaf.scripts})` : ''}${x.tasks ? `; traced tasks over 50 ms (wall/CPU ms): ${x.tasks.map((t) => `${t.wall}/${t.cpu}`).join(', ') || 'none'}` : ''}`);
    }
  }
  return {
    model, target, limit, rounds, loadStart, loadEnd: loadavg(),
    setups: setups.map(([name]) => {
      const xs = results[name];
      return {
        name,
        build: xs[0].build,
        workers: xs[0].workers,
        runs: xs.map((x) => ({ ready: x.ready, at5: x.at5?.rate ?? null, end: (x.reached ?? x.last)?.rate ?? null, seconds: x.reached?.t ?? null, samples: x.reached?.samples ?? null, longestFrameMs: x.longestFrameMs, longestTaskMs: x.longestTaskMs })),
        ready: median(xs.map((x) => x.ready)),
        at5: median(xs.map((x) => x.at5?.rate ?? null)),
        end: median(xs.map((x) => (x.reached ?? x.last)?.rate ?? null)),
        // Null when any round missed the target: the median of the rounds that made it would flatter.
        seconds: xs.every((x) => x.reached) ? median(xs.map((x) => x.reached.t)) : null,
        longestFrameMs: median(xs.map((x) => x.longestFrameMs)),
        // The longest of every round's (0: no task over 50 ms in any round).
        longestTaskMs: Math.max(...xs.map((x) => x.longestTaskMs ?? 0)),
      };
    }),
  };
}

/** The table of `trainToTarget`'s result, in Markdown. */
export function trainTable(t) {
  const f = (v, d = 0) => (v === null || v === undefined ? '–' : v.toFixed(d));
  const L = [
    '| setup | build | MNIST ready after opening (s) | samples/s at 5 s | samples/s at the end | s from Start to target | longest frame (ms) | longest task of the page\'s thread |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const s of t.setups) {
    L.push(`| ${s.name} | ${s.build}, ${s.workers} worker(s) | ${f(s.ready, 1)} | ${f(s.at5)} | ${f(s.end)} | ${s.seconds === null ? `not in ${t.limit} s` : f(s.seconds, 1)} | ${f(s.longestFrameMs)} | ${s.longestTaskMs === undefined ? '–' : s.longestTaskMs ? `${f(s.longestTaskMs)} ms` : 'none over 50 ms'} |`);
  }
  return L.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const opt = (name, d) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : d);
  const o = {
    base: process.env.BASE_URL ?? 'http://127.0.0.1:8790',
    model: opt('model', 'cnn'),
    rounds: Number(opt('rounds', 3)),
    target: Number(opt('target', 0.985)),
    limit: Number(opt('limit', 60)),
    only: opt('only', null), // one setup by name
    workers: opt('workers', null), // the Workers setting (default: the page's for the model)
    extra: opt('params', ''), // more of the page's link keys, e.g. `b=32&lr=0.002`
    trace: args.includes('--trace'),
    log: (line) => console.log(line),
  };
  const { chromium } = createRequire(join(root, 'tests/package.json'))('playwright-core');
  const browser = await chromium.launch({ executablePath: process.env.CHROME ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  let t;
  try {
    t = await trainToTarget(browser, o);
  } finally {
    await browser.close();
  }
  console.log(`\n${t.model}, ${t.rounds} rounds, target ${(100 * t.target).toFixed(1)}% (test subset); load ${t.loadStart.map((v) => v.toFixed(2)).join(' / ')} → ${t.loadEnd.map((v) => v.toFixed(2)).join(' / ')}`);
  console.log(trainTable(t));
}
