// The first seconds of a run on the Train page: headless Chromium against a running
// `cargo xtask serve`, a model with the page's defaults at full speed, Start pressed `--wait` ms
// after the scene says MNIST is ready (0: at once, as bench/train-page.mjs does), the samples
// the status shows read every 10 ms for `--seconds`. Prints per round when the first batch
// showed and the rate over windows (0–0.25 s, 0.25–0.5 s, …), then the medians of the samples
// reached at 0.5, 1, 2 and 4 s (those within `--seconds`). A guide to what a run's start costs, not a benchmark of the
// kernels; only on a quiet machine (load < 1).
//   cargo xtask serve --port 8790 &
//   BASE_URL=http://127.0.0.1:8790 node bench/train-start.mjs [--rounds 4] [--model cnn]
//                                                            [--wait 0] [--seconds 4]
import { loadavg } from 'node:os';
import { launch } from '../tests/browser.mjs';

const args = process.argv.slice(2);
const opt = (name, d) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : d);
const base = process.env.BASE_URL ?? 'http://127.0.0.1:8000';
const rounds = Number(opt('rounds', 4));
const model = opt('model', 'cnn');
const wait = Number(opt('wait', 0));
const seconds = Number(opt('seconds', 4));
for (const [name, v, min] of [['rounds', rounds, 1], ['wait', wait, 0], ['seconds', seconds, 0.25]]) {
  if (!Number.isFinite(v) || v < min) throw new Error(`--${name} must be a number of at least ${min}, not ${opt(name)}`);
}
const marks = [0.5, 1, 2, 4].filter((t) => t <= seconds);

const browser = await launch();
const load = loadavg();
const reached = [];
for (let r = 0; r < rounds; r++) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${base}/#train?m=${model}&pace=full`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 60000 });
  const points = await page.evaluate(async ({ wait, seconds }) => {
    const st = document.querySelector('#train-status');
    while (!/MNIST ready/.test(document.querySelector('.loadline')?.textContent ?? '')) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, wait));
    const t0 = performance.now();
    document.querySelector('#train-start').click();
    const pts = [];
    let last = -1;
    while (performance.now() - t0 < seconds * 1000) {
      await new Promise((r) => setTimeout(r, 10));
      const s = Number(st.dataset.samples);
      if (s !== last) { pts.push([(performance.now() - t0) / 1000, s]); last = s; }
    }
    return pts;
  }, { wait, seconds });
  await context.close();
  const at = (t) => points.reduce((v, [x, s]) => (x <= t ? s : v), 0);
  const first = points.find(([, s]) => s > 0);
  const windows = [];
  for (let t = 0.25; t <= seconds + 1e-9; t += t < 1 ? 0.25 : 0.5) windows.push(t);
  let prev = [0, 0];
  const rates = windows.map((t) => { const s = at(t); const rate = (s - prev[1]) / (t - prev[0]); prev = [t, s]; return `${t}:${(rate / 1000).toFixed(1)}k`; });
  reached.push(marks.map(at));
  console.log(`round ${r + 1}: first batch shown ${first ? `${first[0].toFixed(3)} s after Start (${first[1]} samples)` : 'never'}; samples/s by window end (s): ${rates.join(' ')}`);
}
await browser.close();
const median = (xs) => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1];
console.log(`${model}, Start ${wait} ms after ready, ${rounds} rounds; median samples at ${marks.join('/')} s: ${marks.map((_, j) => median(reached.map((x) => x[j]))).join(' / ')}; load ${load.map((v) => v.toFixed(2)).join(' ')} → ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
