// Loads the fastest wasm build this browser runs: the threaded build (relaxed-simd on wasm
// atomics and shared memory, its kernels split across a thread pool) where the page is
// cross-origin isolated and that build was made; else the relaxed-simd build where
// WebAssembly.validate says yes; else the simd128 build. Every module imports the API from
// here: `api` is the build's api.js (the exports, with the Tensor / Model / Forward classes).

let api = null;
let flavour = null;
let why = null;

async function fetchBytes(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`could not load ${url}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** The builds `cargo xtask build` made (www/pkg/builds.json; the two stable ones if it is absent). */
async function builds(base) {
  try {
    const res = await fetch(new URL('builds.json', base));
    if (res.ok) return (await res.json()).builds ?? [];
  } catch { /* an older build: no list */ }
  return ['simd128', 'relaxed'];
}

/** How many threads the threaded build starts with: the cores this browser reports, at most 4. */
export const defaultThreads = () => Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1));

/**
 * Initialises the wasm once and returns `{ api, flavour, why }`: flavour is "threads",
 * "relaxed" or "simd128"; `why` says why one thread runs (`{ short, text }`; null when the
 * threaded build runs its pool).
 */
export async function loadWasm() {
  if (api) return { api, flavour, why };
  const base = new URL('../pkg/', import.meta.url);
  const made = await builds(base);
  let bytes = null;
  if (!made.includes('threads')) why = { short: 'not built', text: 'the threaded build was not made (it needs the nightly toolchain)' };
  else if (!globalThis.crossOriginIsolated) why = { short: 'not isolated', text: 'the page is not cross-origin isolated (no COOP/COEP headers), so it cannot share memory between threads' };
  else {
    const threaded = await fetchBytes(new URL('threads/convscope_bg.wasm', base));
    if (WebAssembly.validate(threaded)) { flavour = 'threads'; bytes = threaded; }
    else why = { short: 'unsupported', text: 'this browser does not run the threaded build (wasm threads with relaxed-simd)' };
  }
  if (!flavour) {
    const relaxed = await fetchBytes(new URL('relaxed/convscope_bg.wasm', base));
    flavour = WebAssembly.validate(relaxed) ? 'relaxed' : 'simd128';
    bytes = flavour === 'relaxed' ? relaxed : await fetchBytes(new URL('simd128/convscope_bg.wasm', base));
  }
  const mod = await import(new URL(`${flavour}/api.js`, base).href);
  await mod.default({ module_or_path: bytes });
  if (flavour === 'threads') {
    try { await mod.setThreads(defaultThreads()); } catch (err) { why = { short: 'pool failed', text: `its thread pool could not start (${err.message})` }; }
  }
  api = mod;
  return { api, flavour, why };
}

/**
 * The colour scale that shows every value of `data` (from `offset`, `length` of them) unclipped:
 * their largest magnitude, from wasm (`colourScale` at quantile 1; 1 when all are 0). For views,
 * once the wasm is loaded.
 */
export function largestScale(data, offset = 0, length = data.length - offset) {
  if (!api) throw new Error('largestScale: the wasm is not loaded yet (await loadWasm() first)');
  const v = data instanceof Float32Array ? data.subarray(offset, offset + length) : Float32Array.from(data.slice(offset, offset + length));
  return api.colourScale(v, 1);
}
