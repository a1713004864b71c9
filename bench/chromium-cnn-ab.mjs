// Before/after of the shipped cnn's one-digit forward in headless Chromium, two builds in one
// page, rounds interleaved (each round alternates which build goes first). Build the bench
// flavour of both (`cargo xtask build --bench` in each checkout), then:
//   node bench/chromium-cnn-ab.mjs DIR_A DIR_B [--rounds 16] [--batch 500]
// Each DIR holds api.js + convscope.js + convscope_bg.wasm (bench/pkg/relaxed of a build).
// Prints, per build, the median µs per call of `model.forward(pixels)` + `probabilities()` +
// `free()` and of `model.predict(pixels)`, over batches of `batch` calls (Chromium's clock is
// coarse without cross-origin isolation: 100 µs steps), and the ratio B / A. Benchmark only on
// a quiet machine (load < 1); the load average is printed before and after.
import { parseArgs, runPage, root } from './ab-page.mjs';
import { join } from 'node:path';

const { dirs, opts: { rounds, batch } } = parseArgs('chromium-cnn-ab.mjs DIR_A DIR_B [--rounds N] [--batch N]', { rounds: 16, batch: 500 });
const page = `<!doctype html><meta charset="utf-8"><script type="module">
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[(s.length - 1) >> 1]; };
const bytes = new Uint8Array(await (await fetch('/cnn.safetensors')).arrayBuffer());
const builds = [];
for (const name of ['a', 'b']) {
  const api = await import('/' + name + '/api.js');
  await api.default({ module_or_path: '/' + name + '/convscope_bg.wasm' });
  builds.push({ name, model: api.Model.load(bytes), fwd: [], pred: [] });
}
const px = Float32Array.from({ length: 784 }, (_, i) => ((i * 37) % 101) / 101);
for (const b of builds) for (let i = 0; i < 3000; i++) { b.model.forward(px).free(); b.model.predict(px); }
for (let round = 0; round < ${rounds}; round++) {
  for (const b of (round % 2 ? [...builds].reverse() : builds)) {
    for (let k = 0; k < 4; k++) {
      let t = performance.now();
      for (let i = 0; i < ${batch}; i++) { const f = b.model.forward(px); f.probabilities(); f.free(); }
      b.fwd.push((performance.now() - t) * 1000 / ${batch});
      t = performance.now();
      for (let i = 0; i < ${batch}; i++) b.model.predict(px);
      b.pred.push((performance.now() - t) * 1000 / ${batch});
    }
  }
}
window.result = builds.map((b) => ({ forward: median(b.fwd), predict: median(b.pred) }));
</script>`;
const { result: [a, b], load: [before, after] } = await runPage(dirs, page, { '/cnn.safetensors': join(root, 'data/models/cnn.safetensors') });
console.log(`cnn one-digit forward in Chromium, median µs per call (batches of ${batch}, ${rounds} rounds), load ${before.toFixed(2)} → ${after.toFixed(2)}`);
console.log(`forward + probabilities: A ${a.forward.toFixed(1)}, B ${b.forward.toFixed(1)}, B / A ${(b.forward / a.forward).toFixed(3)}`);
console.log(`predict:                 A ${a.predict.toFixed(1)}, B ${b.predict.toFixed(1)}, B / A ${(b.predict / a.predict).toFixed(3)}`);
