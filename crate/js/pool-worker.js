// A worker of convscope's thread pool (the threaded build; api.js's setThreads starts it):
// instantiates the page's module on its shared memory and runs the pool's jobs until its slot
// is retired. Copied beside the threaded build's glue by `cargo xtask build`.
import init, { poolWorker, poolWorkerFailed } from './convscope.js';

self.onmessage = async ({ data: { module, memory, slot } }) => {
  let wasm;
  try {
    wasm = await init({ module_or_path: module, memory });
  } catch (e) {
    postMessage({ error: `could not instantiate the module: ${e}` });
    return;
  }
  postMessage({ ready: true });
  try {
    poolWorker(slot); // returns when the slot is retired
  } catch (e) {
    // A trap inside a job: the caller waiting for this worker must not spin forever.
    try { poolWorkerFailed(); } catch { /* nothing more to do */ }
    postMessage({ error: String(e) });
    return;
  }
  wasm.__wbindgen_thread_destroy();
  postMessage({ exit: true });
};
