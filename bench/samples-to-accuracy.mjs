// How many training samples the cnn needs before the page's test subset (the first 1,000 test
// images) passes 98.5%, and the full test set's accuracy after the first epoch and at 120k
// samples: for choosing the page's default learning rate (it is a property of the update, not
// of the speed: run it anywhere). Node 20, the simd128 build that `cargo xtask build` makes.
//   node bench/samples-to-accuracy.mjs <lr> <batch> [optimizer=adam] [seed=1]
import { readFileSync } from 'node:fs';
const root = new URL('..', import.meta.url).pathname;
const api = await import(new URL('../www/pkg/simd128/api.js', import.meta.url));
await api.default({ module_or_path: readFileSync(root + 'www/pkg/simd128/convscope_bg.wasm') });
const m = (n) => new Uint8Array(readFileSync(root + 'data/mnist/' + n));
const train = api.Dataset.load(m('train-images-idx3-ubyte.gz'), m('train-labels-idx1-ubyte.gz'));
const test = api.Dataset.load(m('t10k-images-idx3-ubyte.gz'), m('t10k-labels-idx1-ubyte.gz'));
const [lr, batch, opt] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4] ?? 'adam'];
const t = new api.Trainer(train, { model: 'cnn', optimizer: opt, lr, batch, init: 'seeded', seed: Number(process.argv[5] ?? 1), augment: false });
let first = null; const marks = [];
const t0 = Date.now();
while (t.status().samples < 120000) {
  const s = t.run(train, Math.ceil(2000 / batch));
  const e = t.evaluate(test, 1000);
  if (first === null && e.accuracy >= 0.985) first = s.samples;
  if (s.epoch >= 1 && marks.length === 0) marks.push(t.evaluate(test, test.length).accuracy);
}
const full = t.evaluate(test, test.length).accuracy;
console.log(JSON.stringify({ lr, batch, opt, seed: process.argv[5], first, epoch1: marks[0], at120k: full, s: (Date.now() - t0) / 1000 }));
