// Drives the benchmark page in headless Chromium and writes bench/results.json and bench/results.md.
// Started by `cargo xtask bench`, which serves the page and passes its address:
//   node bench/run.mjs --url http://127.0.0.1:PORT/ [--app-url http://127.0.0.1:PORT2/] [--training FILE.json] [--quick] [--rows "GEMM 64³,..."]
//     [--allow-load] [--max-load 1.0] [--wait-load SECONDS] [--no-threads REASON] [--no-node]
// Honest conditions: it waits (polling every 5 s, up to --wait-load, default 300 s) for the
// one-minute load average to fall to --max-load (default 1.0), and refuses to measure when it
// does not; with --allow-load it measures anyway and marks the run INVALID in both files. The
// load average is recorded at the start and at the end.
import { chromium } from 'playwright-core';
import { readFileSync, writeFileSync, existsSync, mkdtempSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import path from 'node:path';
import { trainToTarget, trainTable } from './train-page.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));

function args() {
  const a = process.argv.slice(2);
  const out = { url: null, appUrl: null, training: null, quick: false, rows: null, model: true, allowLoad: false, maxLoad: 1.0, waitLoad: 300, markdown: null, threads: true, noThreads: null, node: true };
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '--url') out.url = a[++i];
    else if (a[i] === '--app-url') out.appUrl = a[++i];
    else if (a[i] === '--markdown') out.markdown = a[++i];
    else if (a[i] === '--training') out.training = a[++i];
    else if (a[i] === '--quick') out.quick = true;
    else if (a[i] === '--no-model') out.model = false;
    else if (a[i] === '--rows') out.rows = a[++i].split(',').map((s) => s.trim());
    else if (a[i] === '--allow-load') out.allowLoad = true;
    else if (a[i] === '--max-load') out.maxLoad = Number(a[++i]);
    else if (a[i] === '--wait-load') out.waitLoad = Number(a[++i]);
    else if (a[i] === '--no-threads') { out.threads = false; out.noThreads = a[++i]; }
    else if (a[i] === '--no-node') out.node = false;
    else throw new Error(`unknown argument ${a[i]}`);
  }
  if (!out.url && !out.markdown) throw new Error('--url is required (or --markdown results.json to re-render a run)');
  if (!(out.maxLoad > 0) || !(out.waitLoad >= 0)) throw new Error('--max-load must be > 0 and --wait-load ≥ 0');
  return out;
}

const loadavg = () => os.loadavg().map((x) => Math.round(x * 100) / 100);

/**
 * Waits for the one-minute load average to fall to `max` (polling every 5 s for up to `wait`
 * seconds: a build or the training run just before leaves it high for a minute or two).
 * Returns the load average it settled at (or the last one seen).
 */
async function settleLoad(max, wait) {
  const t0 = Date.now();
  let l = loadavg();
  while (l[0] > max && Date.now() - t0 < wait * 1000) {
    console.log(`  load average ${l.join(' / ')} > ${max}: waiting for the machine to quiet down…`);
    await new Promise((r) => setTimeout(r, 5000));
    l = loadavg();
  }
  return l;
}

function cpuModel() {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
    return line ? line.split(':').slice(1).join(':').trim() : os.cpus()[0]?.model;
  } catch {
    return os.cpus()[0]?.model ?? 'unknown';
  }
}

const f1 = (x) => (x == null || !Number.isFinite(x) ? '—' : x >= 100 ? x.toFixed(0) : x.toFixed(1));
const ratio = (a, b) => (a == null || b == null || !Number.isFinite(a / b) ? '—' : `${(a / b).toFixed(2)}×`);
const pct = (a, b) => (a == null || b == null || !Number.isFinite(a / b) ? '—' : `${Math.round((100 * a) / b)}%`);

function markdown(res) {
  const m = res.machine;
  const L = [];
  if (res.invalid) {
    L.push(`**INVALID RUN: ${res.invalid}. The figures below were taken on a busy machine and are not comparable.**`);
    L.push('');
  }
  // The limit is what one core can do: a measurement disturbed by another process is low, never
  // high, so the largest of the measurements taken before and after the rows is the limit.
  const limit = Math.max(...[res.limit.fma, res.limit.fmaAfter, res.limit.fmaOwn].filter((v) => v != null));
  L.push(`Machine: ${m.cpu}, ${m.cores} cores (one used), ${m.chromium}, TF.js ${res.env.tfjs.version} `
    + `(${res.env.tfjs.binary}, 1 thread), ${m.date}; load average (1 / 5 / 15 min) at the start `
    + `${m.loadavgStart?.join(' / ') ?? '?'}, at the end ${m.loadavg?.join(' / ') ?? '?'} `
    + '(the cores are shared: compare columns within a run, not across runs).');
  L.push('');
  const rowLimits = res.rows.map((r) => r.limit).filter((v) => v != null);
  const rowLimit = (r) => r.limit ?? limit;
  L.push(`One-core limit (independent-chains microbenchmark, \`benchPeak\`): relaxed FMA **${f1(limit)} GFLOPS** `
    + `(the largest of ${f1(res.limit.fma)} at the start, ${f1(res.limit.fmaAfter)} at the end, ${f1(res.limit.fmaOwn)} with the bench's own chains), simd128 mul+add ${f1(res.limit.mulAdd)} GFLOPS.`
    + (rowLimits.length
      ? ` The table's limit column is sampled between each row's passes (the median of that row's samples; `
        + `${f1(Math.min(...rowLimits))}–${f1(Math.max(...rowLimits))} across rows), and "relaxed / limit" divides by it.`
      : ''));
  L.push('');
  L.push('GFLOPS, median of many repetitions after warm-up (higher is better):');
  L.push('');
  L.push('| shape | ours relaxed | ours simd128 | ours portable | ours relaxed, packed once | ndarray `.dot()` | rten | onnxruntime-web | TF.js wasm | limit | relaxed / TF.js | packed once / TF.js | relaxed / rten | relaxed / ORT | relaxed / limit |');
  L.push('|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|');
  for (const r of res.rows) {
    const g = r.gflops;
    const pending = (k) => (g[k] == null && r.errors?.[k] ? 'pending' : f1(g[k]));
    L.push(`| ${r.label} | ${pending('relaxed')} | ${pending('simd128')} | ${pending('portable')} | `
      + `${pending('relaxed+packed')} | `
      + `${r.kind === 'gemm' ? pending('ndarray') : 'n/a'} | ${pending('rten')} | ${pending('ort')} | ${pending('tfjs')} | ${f1(rowLimit(r))} | `
      + `${ratio(g.relaxed, g.tfjs)} | ${ratio(g['relaxed+packed'], g.tfjs)} | ${ratio(g.relaxed, g.rten)} | ${ratio(g.relaxed, g.ort)} | ${pct(g.relaxed, rowLimit(r))} |`);
  }
  L.push('');
  L.push('Ours is timed inside wasm (no JS↔wasm call overhead); TF.js is timed around its JS calls as a user '
    + 'makes them (call overhead included). Convs include a bias (TF.js: `tf.fused.conv2d` with bias; '
    + '`tf.conv2dTranspose` without one). "ours relaxed" packs the weights on every call; "packed once" '
    + 'reuses them (`sgemm_packed`, `PreparedConv2d`, `PreparedConvTranspose2d`), like TF.js\'s cached XNNPACK operators. '
    + 'TF.js keeps the XNNPACK operator (with its packed weights) of a weight tensor between calls, so '
    + '"packed once / TF.js" compares like with like; the other ratios use "ours relaxed" (weights packed per call, '
    + 'the harder comparison). limit = relaxed-FMA peak sampled during the row.');
  L.push('');
  const modelTable = (md) => {
    L.push(`One-digit forward of the shipped \`${md.name}\` (${md.params} parameters), median per call over `
      + `${md.calls} calls in Chromium (batches of ${md.batch}), each including reading the ten probabilities:`);
    L.push('');
    L.push('| | ours (relaxed) | ours, fused (`predict`) | TF.js wasm | TF.js / ours | TF.js / fused |');
    L.push('|---|--:|--:|--:|--:|--:|');
    L.push(`| µs per forward | ${f1(md.oursUs)} | ${f1(md.oursFusedUs)} | ${f1(md.tfjsUs)} | ${ratio(md.tfjsUs, md.oursUs)} | ${ratio(md.tfjsUs, md.oursFusedUs)} |`);
    if (md.maxAbsDiff != null) L.push(`\nLargest |ours − TF.js| over the ten probabilities: ${md.maxAbsDiff.toExponential(1)}.`);
    if (md.predictDiff != null) L.push(`Largest |fused − layer by layer|: ${md.predictDiff.toExponential(1)}.`);
    if (md.layers) {
      L.push('');
      L.push(`Per layer (\`model.forward\`'s path, each layer timed inside wasm, the median of ${md.layers.reps} repetitions${md.layers.inner ? `, each the mean of ${md.layers.inner} runs of the layer in a row` : ''}):`);
      L.push('');
      L.push('| layer | µs |');
      L.push('|---|--:|');
      for (const r of md.layers.rows) L.push(`| ${r.layer} | ${f1(r.us)} |`);
      L.push(`| sum | ${f1(md.layers.rows.reduce((a, r) => a + r.us, 0))} |`);
      L.push(`| whole forward (no per-layer clock) | ${f1(md.layers.forwardUs)} |`);
    }
  };
  if (res.model) {
    const md = res.model;
    if (md.pending) {
      L.push(`**cnn forward (one digit): pending** — ${md.pending}.`);
      if (md.stand_in) {
        L.push('');
        L.push('Stand-in until cnn ships (not the issue-4 row): the same comparison on `mlp`.');
        L.push('');
        modelTable(md.stand_in);
      }
    } else {
      modelTable(md);
    }
    L.push('');
  }
  if (res.browserTraining) {
    const b = res.browserTraining;
    L.push(`In-browser training throughput, samples/s (MNIST, batch ${b.batch}, ${b.optimizer}; median of ${b.windows} `
      + `interleaved windows of ${b.windowMs / 1000} s; ours in Web Workers, each with its own wasm instance, all workers `
      + `averaging gradients; TF.js tfjs-core gradients on the wasm backend, one thread, in the page):`);
    L.push('');
    L.push(`| model | convscope, 1 worker | convscope, ${b.cores} workers | TF.js, 1 thread | 1 worker / TF.js | longest page task while ours trains |`);
    L.push('|---|--:|--:|--:|--:|--:|');
    for (const [name, v] of Object.entries(b.models)) {
      const tfCell = v.tfjs == null ? `— (${v.tfjsPending ?? 'not run'})`
        : `${f1(v.tfjs)}${v.tfjsBackend === 'wasm' ? '' : ` (${v.tfjsBackend} backend: ${v.tfjsPending})`}`;
      L.push(`| ${name} | ${f1(v.ours1)} | ${f1(v.oursAll)} | ${tfCell} | ${ratio(v.ours1, v.tfjs)} | ${v.longestTaskMs ? `${Math.round(v.longestTaskMs)} ms` : 'none over 50 ms'} |`);
    }
    L.push('');
  }
  if (res.training) {
    const t = res.training;
    if (t.pending) {
      L.push(`**Native training throughput: pending** — ${t.pending}`);
    } else {
      L.push(`Native training throughput (${t.how}):`);
      L.push('');
      L.push('| model | samples/s |');
      L.push('|---|--:|');
      for (const [name, v] of Object.entries(t.models)) L.push(`| ${name} | ${v.pending ? `pending (${v.pending})` : f1(v.samplesPerSec)} |`);
    }
    L.push('');
  }
  if (res.threads) L.push(...threadsMarkdown(res.threads, res));
  if (res.toTarget) L.push(...toTargetMarkdown(res.toTarget));
  if (res.node) L.push(...nodeMarkdown(res.node, res));
  return L.join('\n');
}

/** The cnn on the Train page from Start to 98.5% on the test subset (`trainToTarget`). */
function toTargetMarkdown(t) {
  const L = ['### Time to 98.5% (the cnn on the Train page)', ''];
  if (t.skipped || t.error) {
    L.push(t.skipped ? `**Not measured**: ${t.skipped}.` : `**Failed**: ${t.error}`);
    L.push('');
    return L;
  }
  L.push(`The playground as a visitor meets it (\`bench/train-page.mjs\`): the Train page with the ${t.model}'s defaults at full speed, `
    + `Start pressed once the scene says MNIST is ready (it loads as the scene opens), the status read every 50 ms until the test `
    + `subset (1,000 images) reaches ${(100 * t.target).toFixed(1)}%. Setups: *threads*, the page as served (cross-origin isolated: `
    + 'the threaded build in one worker); *workers*, the same responses without COOP/COEP (the relaxed build, one worker per core '
    + `exchanging gradients). ${t.rounds} rounds alternating the setups, medians; the seconds are "–" unless every round reached the `
    + `target within ${t.limit} s. The longest frame is the longest gap between the page's animation frames; the longest task is its own `
    + 'thread\'s longest task (the browser reports only those over 50 ms): a long frame with no long task is the page\'s thread waiting '
    + `for a core both training threads hold, not blocked by the page. Load average at the start ${t.loadStart.map((v) => v.toFixed(2)).join(' / ')}, `
    + `at the end ${t.loadEnd.map((v) => v.toFixed(2)).join(' / ')}.`);
  L.push('');
  L.push(trainTable(t));
  L.push('');
  return L;
}

/**
 * The node 20 section (`bench/node-bench.mjs`, its own process: node needs
 * --experimental-wasm-relaxed-simd for the relaxed build).
 */
function measureNode(a) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'convscope-node-bench-'));
  const json = path.join(dir, 'node.json');
  const argv = ['--experimental-wasm-relaxed-simd', path.join(HERE, 'node-bench.mjs'), '--json', json];
  if (a.quick) argv.push('--quick');
  if (a.rows) argv.push('--rows', a.rows.join(','));
  const r = spawnSync(process.execPath, argv, { stdio: ['ignore', 'inherit', 'inherit'], timeout: 30 * 60 * 1000 });
  if (r.status !== 0) return { error: `bench/node-bench.mjs exited with ${r.status ?? r.signal}` };
  return JSON.parse(readFileSync(json, 'utf8'));
}

/** The node 20 section of results.md. */
function nodeMarkdown(n, res) {
  const L = ['### Node 20', ''];
  if (n.skipped || n.error) {
    L.push(n.skipped ? `**Not measured**: ${n.skipped}.` : `**Failed**: ${n.error}`);
    L.push('');
    return L;
  }
  const chromium = Object.fromEntries((res.rows ?? []).map((r) => [r.label, r]));
  L.push(`What the npm package meets in node (${n.env.node}; \`bench/node-bench.mjs\`, one process, one thread): ours, the relaxed build `
    + '(with `--experimental-wasm-relaxed-simd`) and the simd128 build (what node runs without the flag), timed inside wasm as on the page; '
    + `TF.js ${n.env.tfjs.version}'s wasm backend in node (single-threaded SIMD binary: it has no threads under node), timed around its calls. `
    + `${n.options.passes} pass${n.options.passes === 1 ? '' : 'es'} alternating and rotating the three, medians; the limit is the relaxed FMA chains sampled between the passes `
    + `(${n.limit.fma.toFixed(1)} GFLOPS before the rows, ${n.limit.fmaAfter.toFixed(1)} after; simd128 mul+add ${n.limit.mulAdd.toFixed(1)}). `
    + 'The last column sets the simd128 build in node beside the one-core table\'s simd128 column (Chromium, this run: the relaxed '
    + `build with its simd128 micro-kernel forced). Load average at the section's start ${n.loadavgStart.map((v) => v.toFixed(2)).join(' / ')}, `
    + `at its end ${n.loadavgEnd.map((v) => v.toFixed(2)).join(' / ')}.`);
  L.push('');
  L.push('| shape | ours relaxed | ours simd128 build | TF.js wasm | limit | relaxed / TF.js | simd128 / TF.js | relaxed / limit | simd128: node / Chromium |');
  L.push('|---|--:|--:|--:|--:|--:|--:|--:|--:|');
  for (const r of n.rows) {
    const g = r.gflops;
    const c = chromium[r.label]?.gflops?.simd128;
    L.push(`| ${r.label} | ${f1(g.relaxed)} | ${f1(g.simd128)} | ${f1(g.tfjs)} | ${f1(r.limit)} | ${ratio(g.relaxed, g.tfjs)} | `
      + `${ratio(g.simd128, g.tfjs)} | ${pct(g.relaxed, r.limit)} | ${ratio(g.simd128, c)} |`);
  }
  L.push('');
  const tr = n.training;
  L.push(`Training in node, samples/s (MNIST, batch ${tr.batch}, ${tr.optimizer}, no augmentation; the median of ${tr.windows} window(s) of `
    + `${tr.windowMs / 1000} s after ${tr.warmMs} ms of steps, the three alternating): ours, each build's \`Trainer.run\` on one thread; `
    + 'TF.js, the same network in tfjs-core on its wasm backend in node (where that backend lacks a kernel, its CPU backend: plain JS).');
  L.push('');
  L.push('| model | ours relaxed | ours simd128 build | TF.js | relaxed / TF.js | simd128 / TF.js |');
  L.push('|---|--:|--:|--:|--:|--:|');
  for (const [name, m] of Object.entries(tr.models)) {
    const tfCell = m.tfjs == null ? '—' : `${f1(m.tfjs)}${m.tfjsBackend === 'wasm' ? '' : ` (${m.tfjsBackend})`}`;
    L.push(`| ${name} | ${f1(m.relaxed)} | ${f1(m.simd128)} | ${tfCell} | ${ratio(m.relaxed, m.tfjs)} | ${ratio(m.simd128, m.tfjs)} |`);
  }
  const why = Object.entries(tr.models).flatMap(([name, m]) => (m.tfjsWhy ? [`${name}: ${m.tfjsWhy}`] : []));
  if (why.length) L.push(`\nCPU backend where the wasm backend cannot train it (${why.join('; ')}).`);
  L.push('');
  const t = n.toTarget;
  const cell = (r) => (r.seconds == null ? `not within ${t.limitS} s` : `${r.seconds.toFixed(1)} s (${r.samples.toLocaleString('en')} samples)`);
  L.push(`The cnn to ${(100 * t.target).toFixed(1)}% in node: a fresh \`Trainer\` with the page's cnn defaults (Adam, lr 0.003, batch 64, seed 1), `
    + 'one thread, the test subset (1,000 images) checked at every 10,000 samples as the page\'s fixed points are; seconds include '
    + `the checks. Relaxed build: ${cell(t.builds.relaxed)}; simd128 build: ${cell(t.builds.simd128)}.`);
  L.push('');
  return L;
}

const med = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((x, y) => x - y);
  const n = s.length;
  return n === 0 ? null : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};

/** `p`, or an error after `ms` (a page whose library never starts must not hang the run). */
function within(p, ms, what) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** The thread counts of the threads section. */
const THREADS = [1, 2];

/**
 * The threads section (issue 22 item 4): `page/threads.html` opened once per thread count
 * (`?threads=1`, `?threads=2`: TF.js's wasm backend takes its thread count before it starts, so
 * each count gets its own page and renderer process), both cross-origin isolated by the bench
 * server (COOP same-origin, COEP require-corp). Every kernel row, then (unless `--no-training`)
 * training samples/s per model; rounds alternate which page goes first (and, within a page,
 * whether ours or TF.js goes first), so the 1- and 2-thread figures come from the same minutes.
 * Each round's figure is the median of its batches; the section reports the median of the rounds.
 */
async function measureThreads(browser, a) {
  const quick = a.quick;
  const rounds = quick ? 2 : 7;
  const opts = quick ? { budgetMs: 40, batchMs: 3, minReps: 2, maxReps: 10 } : { budgetMs: 150, batchMs: 3, minReps: 3, maxReps: 100 };
  const out = { rounds, options: opts, loadavgStart: loadavg(), env: {}, rows: [], pageErrors: [] };
  const pages = {};
  for (const n of THREADS) {
    const page = await (await browser.newContext()).newPage();
    page.on('console', (m) => console.log(`  [threads ${n}] ${m.text()}`));
    page.on('pageerror', (e) => out.pageErrors.push(`threads=${n}: ${e}`));
    await page.goto(new URL(`threads.html?threads=${n}`, a.url).href);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 60000 });
    out.env[n] = await within(page.evaluate(() => window.threadsSetup()), 60000, `threads page ${n}: loading both libraries`);
    pages[n] = page;
  }
  const labels = (await pages[1].evaluate(() => window.threadsRows)).filter((l) => !a.rows || a.rows.includes(l));
  const order = (k) => (k % 2 ? [...THREADS].reverse() : THREADS);
  for (const label of labels) {
    let fl = null;
    for (const n of THREADS) fl = (await pages[n].evaluate(([l, o]) => window.threadsRowStart(l, o), [label, opts])).flops;
    const per = { ours: { 1: [], 2: [] }, tfjs: { 1: [], 2: [] } };
    for (let k = 0; k < rounds; k++) {
      for (const n of order(k)) {
        const got = await pages[n].evaluate((f) => window.threadsRowPass(f), (k >> 1) % 2 ? 'tfjs' : 'ours');
        for (const who of ['ours', 'tfjs']) per[who][n].push(med(got[who]));
      }
    }
    for (const n of THREADS) await pages[n].evaluate(() => window.threadsRowEnd());
    const ms = {};
    const gflops = {};
    for (const who of ['ours', 'tfjs']) {
      for (const n of THREADS) {
        const key = `${who}${n}`;
        ms[key] = med(per[who][n]);
        gflops[key] = ms[key] == null ? null : fl / (ms[key] * 1e6);
      }
    }
    console.log(`  threads ${label}: ${Object.entries(gflops).map(([k, v]) => `${k} ${v?.toFixed(1)}`).join(', ')} GFLOPS`);
    out.rows.push({ label, flops: fl, ms, gflops, roundsMs: per });
  }
  if (a.training) {
    const windows = quick ? 1 : 3;
    const w = quick ? { ms: 1000, warmMs: 200 } : { ms: 3000, warmMs: 500 };
    out.training = { batch: 64, optimizer: 'SGD lr 0.05', windows, windowMs: w.ms, warmMs: w.warmMs, models: {} };
    for (const name of ['slp', 'mlp', 'cnn']) {
      const per = { ours: { 1: [], 2: [] }, tfjs: { 1: [], 2: [] } };
      const errors = {};
      for (let k = 0; k < windows; k++) {
        for (const n of order(k)) {
          for (const who of k % 2 ? ['tfjs', 'ours'] : ['ours', 'tfjs']) {
            if (errors[`${who}${n}`]) continue;
            const r = await pages[n].evaluate(([x, m, o]) => window.threadsTrainWindow(x, m, o), [who, name, { batch: 64, ...w }]);
            if (r.error) errors[`${who}${n}`] = r.error;
            else per[who][n].push(r.samplesPerSec);
          }
        }
      }
      for (const n of THREADS) await pages[n].evaluate(() => window.threadsTrainEnd());
      const m = { samples: per, errors };
      for (const who of ['ours', 'tfjs']) for (const n of THREADS) m[`${who}${n}`] = med(per[who][n]);
      console.log(`  threads training ${name}: ours ${m.ours1?.toFixed(0)} / ${m.ours2?.toFixed(0)} samples/s (1 / 2 threads), `
        + `TF.js ${m.tfjs1?.toFixed(0) ?? errors.tfjs1} / ${m.tfjs2?.toFixed(0) ?? errors.tfjs2}`);
      out.training.models[name] = m;
    }
  }
  for (const n of THREADS) await pages[n].context().close();
  out.loadavgEnd = loadavg();
  return out;
}

/** The threads section of results.md. */
function threadsMarkdown(t, res) {
  const L = ['### Threads', ''];
  if (t.skipped || t.error) {
    L.push(t.skipped ? `**Not measured**: ${t.skipped}.` : `**Threads section failed**: ${t.error}`);
    L.push('');
    return L;
  }
  const e1 = t.env[1];
  const e2 = t.env[2];
  L.push(`Ours: the threaded build (\`www/pkg/threads\`: nightly, wasm atomics and shared memory) through the public JS API `
    + `(\`matmul\`, \`conv2d\` and \`convTranspose2d\` with bias; the API has no prepared weights, so they are packed on every call), `
    + `after \`setThreads(n)\` (running: ${e1.ours.threads} and ${e2.ours.threads}). TF.js ${e1.tfjs.version}: \`${e2.tfjs.binary}\` after `
    + `\`tf.wasm.setThreadsCount(n)\` (running: ${e1.tfjs.threads} and ${e2.tfjs.threads}; TF.js caps its pool at half of `
    + `\`navigator.hardwareConcurrency\`, ${e1.tfjsDefaultCap} thread(s) here, as it assumes two hyperthreads per core, so the page `
    + `reports 2·n cores while the backend starts; the one-core table's TF.js calls, so its transposed conv has no bias). Both timed in JS around the calls a user makes, `
    + 'call overhead included, each batch ending by reading its last output. One page per thread count, cross-origin isolated '
    + `(${e1.crossOriginIsolated && e2.crossOriginIsolated}), ${e1.cores} cores; ${t.rounds} rounds alternating the two pages, `
    + `each figure the median of its rounds. Load average (1 / 5 / 15 min) at the section's start ${t.loadavgStart.join(' / ')}, `
    + `at its end ${t.loadavgEnd.join(' / ')}.`);
  L.push('');
  L.push('GFLOPS (higher is better):');
  L.push('');
  L.push('| shape | ours, 1 thread | ours, 2 threads | ours 2 / 1 | TF.js, 1 thread | TF.js, 2 threads | TF.js 2 / 1 | ours / TF.js, 1 thread | ours / TF.js, 2 threads |');
  L.push('|---|--:|--:|--:|--:|--:|--:|--:|--:|');
  for (const r of t.rows) {
    const g = r.gflops;
    L.push(`| ${r.label} | ${f1(g.ours1)} | ${f1(g.ours2)} | ${ratio(g.ours2, g.ours1)} | ${f1(g.tfjs1)} | ${f1(g.tfjs2)} | `
      + `${ratio(g.tfjs2, g.tfjs1)} | ${ratio(g.ours1, g.tfjs1)} | ${ratio(g.ours2, g.tfjs2)} |`);
  }
  L.push('');
  if (t.training) {
    const tr = t.training;
    const one = res.browserTraining?.models ?? {};
    L.push(`Training, samples/s (MNIST, batch ${tr.batch}, ${tr.optimizer}, no augmentation; the median of ${tr.windows} window(s) of `
      + `${tr.windowMs / 1000} s per cell after ${tr.warmMs} ms of steps, the pages alternating): ours, the threaded build's \`Trainer\` `
      + '(a step splits its batch into a shard per thread) on the page\'s thread; TF.js, the same network in tfjs-core on the '
      + 'page\'s threaded wasm backend. The last column is TF.js\'s figure from the one-core training table above (where the '
      + 'wasm backend lacks a kernel, its CPU backend: plain JS, one thread whatever the count).');
    L.push('');
    L.push('| model | ours, 1 thread | ours, 2 threads | ours 2 / 1 | TF.js wasm, 1 thread | TF.js wasm, 2 threads | ours / TF.js, 2 threads | TF.js, one-core table |');
    L.push('|---|--:|--:|--:|--:|--:|--:|--:|');
    for (const [name, m] of Object.entries(tr.models)) {
      const tfCell = (n) => (m[`tfjs${n}`] != null ? f1(m[`tfjs${n}`]) : m.errors[`tfjs${n}`] ? 'n/a' : '—');
      const base = one[name];
      const baseCell = base?.tfjs != null ? `${f1(base.tfjs)}${base.tfjsBackend && base.tfjsBackend !== 'wasm' ? ` (${base.tfjsBackend})` : ''}` : '—';
      L.push(`| ${name} | ${f1(m.ours1)} | ${f1(m.ours2)} | ${ratio(m.ours2, m.ours1)} | ${tfCell(1)} | ${tfCell(2)} | ${ratio(m.ours2, m.tfjs2)} | ${baseCell} |`);
    }
    const why = Object.entries(tr.models).flatMap(([name, m]) => (m.errors.tfjs1 ? [`${name}: ${m.errors.tfjs1}`] : []));
    if (why.length) L.push(`\nn/a: TF.js's wasm backend cannot train it (${why.join('; ')}).`);
    L.push('');
  }
  L.push('Node 20: not applicable. The npm package ships only the stable builds (simd128 and relaxed, no atomics), and '
    + 'tfjs-backend-wasm loads its single-threaded binary in node (`WASM_HAS_MULTITHREAD_SUPPORT` is false under node: '
    + 'tensorflow/tfjs#3830), so neither library has threads there.');
  L.push('');
  return L;
}

async function main() {
  const a = args();
  if (a.markdown) {
    // Re-render a finished run's table (e.g. after a change to this file), without measuring.
    const md = markdown(JSON.parse(readFileSync(a.markdown, 'utf8')));
    writeFileSync(path.join(HERE, 'results.md'), `${md}\n`);
    console.log(md);
    return;
  }
  const loadStart = await settleLoad(a.maxLoad, a.waitLoad);
  let invalid = null;
  if (loadStart[0] > a.maxLoad) {
    const why = `the one-minute load average was ${loadStart[0]} (> ${a.maxLoad}) at the start`;
    if (!a.allowLoad) {
      console.error(`bench: refusing to measure: ${why} after waiting ${a.waitLoad} s. `
        + 'Stop what else runs, or pass --allow-load to measure anyway (the results are then marked INVALID).');
      process.exit(2);
    }
    invalid = why;
  }
  const browser = await chromium.launch({
    executablePath: process.env.CHROME ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
      '--disable-renderer-backgrounding', '--disable-background-timer-throttling'],
  });
  const errors = [];
  try {
    const page = await (await browser.newContext()).newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
      console.log(`  [page] ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(a.url);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 60000 });
    const options = a.quick ? { passes: 1, budgetMs: 60, maxReps: 20 } : {};
    if (a.rows) options.rows = a.rows;
    if (!a.model) options.model = false;
    if (a.quick) options.modelCalls = 1000;
    const res = await page.evaluate((o) => window.runBench(o), options);
    res.machine = {
      cpu: cpuModel(),
      loadavgStart: loadStart,
      loadavg: loadavg(),
      cores: os.cpus().length,
      chromium: `Chromium ${browser.version()}`,
      node: process.version,
      date: new Date().toISOString(),
    };
    if (errors.length) res.pageErrors = errors;
    if (invalid) res.invalid = invalid;
    if (a.training && existsSync(a.training)) res.training = JSON.parse(readFileSync(a.training, 'utf8'));
    if (a.training) {
      res.browserTraining = await page.evaluate((o) => window.benchTraining(o), a.quick ? { windows: 1, windowMs: 1000 } : {});
    }
    if (!a.threads) {
      res.threads = { skipped: a.noThreads };
    } else {
      // The one-core page is done: closed, so that its instances sit in no process while the
      // threads are measured.
      await page.close();
      try {
        res.threads = await measureThreads(browser, a);
      } catch (e) {
        res.threads = { error: String(e.message ?? e).split('\n')[0] };
        console.error(`bench: the threads section failed: ${e.stack ?? e}`);
      }
    }
    if (a.training && a.appUrl && !a.quick) {
      try {
        res.toTarget = await trainToTarget(browser, { base: a.appUrl.replace(/\/$/, ''), model: 'cnn', target: 0.985, rounds: 3, log: (l) => console.log(`  ${l}`) });
      } catch (e) {
        res.toTarget = { error: String(e.message ?? e).split('\n')[0] };
        console.error(`bench: the time-to-98.5% section failed: ${e.stack ?? e}`);
      }
    } else if (a.training) {
      res.toTarget = { skipped: a.quick ? 'skipped with --quick' : 'no playground address (--app-url)' };
    }
    if (a.node) {
      // The browser's pages are done: node runs alone.
      res.node = measureNode(a);
    } else {
      res.node = { skipped: 'skipped with --no-node' };
    }
    res.machine.loadavg = loadavg();
    writeFileSync(path.join(HERE, 'results.json'), `${JSON.stringify(res, null, 2)}\n`);
    const md = markdown(res);
    writeFileSync(path.join(HERE, 'results.md'), `${md}\n`);
    console.log(`\n${md}`);
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
