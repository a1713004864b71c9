// The boundary fuzzer (fuzz.mjs), kept small here: both builds, a fixed seed, a few thousand
// hostile calls each. `cargo xtask fuzz` runs 10⁶ calls per build.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, BASE_URL } from './browser.mjs';
import { runFuzz, failures } from './fuzz.mjs';

const CALLS = Number(process.env.FUZZ_CALLS ?? 20000);
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

for (const flavour of ['simd128', 'relaxed']) {
  test(`${CALLS} hostile calls against the ${flavour} build: clean errors, no trap, no hang, no growth`, async () => {
    const r = await runFuzz(browser, BASE_URL, { flavour, calls: CALLS, seed: 20261201 });
    console.log(`${flavour}: ${r.calls} calls (${r.valid} valid, ${r.invalid} invalid, ${r.raw} raw), max ${r.maxMs.toFixed(1)} ms per call, memory ${r.memoryAtEnd} bytes`);
    for (const e of r.examples) console.log(`  ${e}`);
    assert.deepEqual(failures(r), []);
    assert.ok(r.valid > CALLS / 10 && r.invalid > CALLS / 2, 'the mix covers valid and invalid calls');
  });
}
