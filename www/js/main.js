// The page's entry point: load the wasm, show which build runs, then start the scenes.
import { loadWasm } from './wasm.js';

async function main() {
  const status = document.getElementById('build');
  try {
    const { api, flavour } = await loadWasm();
    status.textContent = `wasm: ${flavour} (${api.simdLevel()})`;
    status.dataset.flavour = flavour;
    document.body.dataset.ready = 'true';
  } catch (err) {
    status.textContent = `could not start: ${err.message}`;
    status.dataset.flavour = 'error';
    console.error(err);
  }
}

main();
