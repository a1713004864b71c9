// `cargo xtask fuzz`: the boundary fuzzer at full size against a served playground, both builds,
// one fresh instance each. Usage: BASE_URL=… node fuzz-run.mjs [--calls N] [--seed S]
// Prints one report per build and exits 1 when any build has a trap, a hang (a call over
// 100 ms), a silent accept, an unclear error, a wrong result, a broken instance or growth.
import { launch, BASE_URL } from './browser.mjs';
import { runFuzz, failures } from './fuzz.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const calls = arg('--calls', 1_000_000);
const seed = arg('--seed', 20261201);
const browser = await launch();
let bad = 0;
for (const flavour of ['simd128', 'relaxed']) {
  const t0 = Date.now();
  const r = await runFuzz(browser, BASE_URL, { flavour, calls, seed });
  const f = failures(r, { hangs: true });
  console.log(`${flavour}: ${r.calls} calls in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${r.valid} valid, ${r.invalid} invalid, ${r.raw} raw; ` +
    `traps ${r.traps}, hangs ${r.hangs} (slowest call ${r.maxMs.toFixed(1)} ms), silent accepts ${r.silent}, unclear errors ${r.badErrors}, ` +
    `wrong results ${r.wrongResults}, broken instance ${r.brokenInstance}; live tensors ${r.tensorsBefore} → ${r.tensorsAfter}, ` +
    `models ${r.modelsBefore} → ${r.modelsAfter}; wasm memory ${r.memoryAfterWarmup} → ${r.memoryAtEnd} bytes; ` +
    `2 GiB buffers tried: ${r.hugeBuffers.map((b) => (b ? 'yes' : 'no')).join(', ')}`);
  console.log(`  wasm memory after each tenth: ${r.memoryTrajectory.join(', ')}`);
  for (const e of r.examples) console.log(`  ${e}`);
  if (f.length) { bad++; console.log(`  FAILED: ${f.join('; ')}`); }
}
await browser.close();
process.exit(bad ? 1 : 0);
