// Loads the fastest wasm build this browser accepts: the relaxed-simd build where
// WebAssembly.validate says yes, else the simd128 build. Every module imports the API from here:
// `api` is the build's api.js (the exports, with the Tensor / Model / Forward classes).

let api = null;
let flavour = null;

async function fetchBytes(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`could not load ${url}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** Initialises the wasm once and returns `{ api, flavour }` (flavour is "relaxed" or "simd128"). */
export async function loadWasm() {
  if (api) return { api, flavour };
  const base = new URL('../pkg/', import.meta.url);
  const relaxed = await fetchBytes(new URL('relaxed/convscope_bg.wasm', base));
  flavour = WebAssembly.validate(relaxed) ? 'relaxed' : 'simd128';
  const mod = await import(new URL(`${flavour}/api.js`, base).href);
  const bytes = flavour === 'relaxed' ? relaxed : await fetchBytes(new URL('simd128/convscope_bg.wasm', base));
  await mod.default({ module_or_path: bytes });
  api = mod;
  return { api, flavour };
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
