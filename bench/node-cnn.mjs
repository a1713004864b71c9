// One-digit forward of a shipped model, per layer, in node (the page's engine: V8).
// Build the bench flavour first (`cargo xtask build --bench`: the `bench` feature's exports,
// into bench/pkg/), then:
//   node --experimental-wasm-relaxed-simd bench/node-cnn.mjs [relaxed|simd128|DIR ...] [--model cnn] [--reps 2000] [--rounds 3]
// Each argument that is not an option names a build: `relaxed`/`simd128` (bench/pkg/<name>) or a
// directory holding convscope.js + convscope_bg.wasm (e.g. a copy of an older build), so a
// before/after comparison runs side by side in one process, rounds interleaved. Prints the
// median µs of every layer (timed inside wasm by `benchInference`), the whole forward inside
// wasm, `model.forward(pixels)` called from JS (what the page pays per stroke), and
// `model.predict(pixels)` (the fused path: probabilities only) called from JS.
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join, resolve } from 'node:path';

const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const modelName = opt('--model', 'cnn');
const reps = Number(opt('--reps', 2000));
const rounds = Number(opt('--rounds', 3));
const optVals = new Set(['--model', '--reps', '--rounds'].map((o) => opt(o, null)).filter(Boolean));
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
let builds = args.filter((a) => !a.startsWith('--') && !optVals.has(a));
if (builds.length === 0) builds = ['relaxed'];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// A deterministic "digit": a thick 7, values in 0..1 (timing does not depend on the values).
const pixels = new Float32Array(784);
for (let y = 0; y < 28; y++) {
  for (let x = 0; x < 28; x++) {
    const top = y >= 5 && y <= 7 && x >= 6 && x <= 21;
    const diag = y > 7 && y <= 23 && Math.abs(x - (21 - (y - 7) * 0.55)) < 1.6;
    pixels[y * 28 + x] = top || diag ? 0.9 + 0.1 * ((x * 7 + y * 3) % 5) / 5 : 0;
  }
}
const bytes = new Uint8Array(readFileSync(join(root, 'data/models', `${modelName}.safetensors`)));

const loaded = [];
for (const b of builds) {
  const dir = existsSync(join(root, 'bench/pkg', b, 'api.js')) ? join(root, 'bench/pkg', b) : resolve(b);
  // A query string makes every build its own module instance.
  const api = await import(`${pathToFileURL(join(dir, 'api.js'))}?${loaded.length}`);
  api.initSync({ module: readFileSync(join(dir, 'convscope_bg.wasm')) });
  // The bench exports come from the glue api.js wraps (the same module instance).
  const raw = await import(`${pathToFileURL(join(dir, 'convscope.js'))}`);
  const model = api.Model.load(bytes);
  const names = model.layers().slice(1).map((l) => l.name);
  loaded.push({ name: b, api, raw, model, names, layer: names.map(() => []), inner: [], js: [], predict: [] });
}

for (let r = 0; r < rounds; r++) {
  for (const L of loaded) {
    const n = L.names.length;
    const t = L.raw.benchInference(bytes, pixels, reps, 1);
    for (let i = 0; i < reps; i++) {
      for (let j = 0; j < n; j++) L.layer[j].push(t[i * (n + 1) + j]);
      L.inner.push(t[i * (n + 1) + n]);
    }
    // JS → wasm → JS, as the page calls it (the Forward object is freed each time).
    for (let i = 0; i < 200; i++) L.model.forward(pixels).free();
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      const f = L.model.forward(pixels);
      L.js.push(performance.now() - t0);
      f.free();
    }
    // The fused path (`model.predict`: probabilities only, no activation kept), from JS.
    if (typeof L.model.predict !== 'function') continue; // an older build
    for (let i = 0; i < 200; i++) L.model.predict(pixels);
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      L.model.predict(pixels);
      L.predict.push(performance.now() - t0);
    }
  }
}

const us = (ms) => (ms * 1000).toFixed(1);
const pad = (s, w) => String(s).padStart(w);
const simd = loaded.map((L) => L.api.simdLevel());
const W = Math.max(22, ...loaded.map((L, i) => L.name.length + simd[i].length + 5));
console.log(`convscope ${modelName} one-digit forward, node ${process.version}, median µs of ${rounds}×${reps} runs`);
console.log(pad('layer', 12) + loaded.map((L, i) => pad(`${L.name} (${simd[i]})`, W)).join(''));
for (let j = 0; j < loaded[0].names.length; j++) {
  console.log(pad(loaded[0].names[j], 12) + loaded.map((L) => pad(us(median(L.layer[j])), W)).join(''));
}
console.log(pad('sum', 12) + loaded.map((L) => pad(us(L.layer.reduce((s, x) => s + median(x), 0)), W)).join(''));
console.log(pad('forward', 12) + loaded.map((L) => pad(us(median(L.inner)), W)).join(''));
console.log(pad('from JS', 12) + loaded.map((L) => pad(us(median(L.js)), W)).join(''));
console.log(pad('predict', 12) + loaded.map((L) => pad(L.predict.length ? us(median(L.predict)) : 'n/a', W)).join(''));
