//! The thread pool's exports: `threads`, `threadsCheck` (what JavaScript's `setThreads` asks
//! first), `threadsSet`, and, in the threaded build, the workers' side: `poolPrepare`,
//! `poolWorker`, `poolWorkerFailed`, `poolShared` (the module and memory a worker
//! instantiates). `api.js` wraps them in `threads()` and `async setThreads(n)`; the workers
//! run `pool-worker.js`.

use wasm_bindgen::prelude::*;

use super::args::{ArgError, Whole};
use super::js::arg;
use super::{run, R};
use crate::threadpool;

/// How many threads run the kernels (the caller and the pool's active workers; 1 in a build
/// without threads).
#[wasm_bindgen]
pub fn threads() -> f64 {
    threadpool::threads() as f64
}

/// Whether this build has threads (wasm atomics on shared memory).
#[wasm_bindgen(js_name = threadsBuild)]
pub fn threads_build() -> bool {
    threadpool::threaded_build()
}

/// Reads `setThreads`'s argument `n`: a whole number from 1 to `MAX_THREADS`, and more than 1
/// only in a build with threads.
fn check_n(n: &JsValue) -> R<usize> {
    let Whole(n) = arg("n", "setThreads", n)?;
    if n == 0 || n > threadpool::MAX_THREADS {
        return Err(ArgError::new(
            "n",
            n,
            format!(
                "must be a whole number from 1 to {}",
                threadpool::MAX_THREADS
            ),
        )
        .into());
    }
    if n > 1 && !threadpool::threaded_build() {
        return Err(ArgError::new(
            "n",
            n,
            "this build has no threads (it was built without wasm atomics and shared \
             memory, which also need a cross-origin isolated page): only 1 thread runs",
        )
        .into());
    }
    Ok(n)
}

/// `setThreads`'s argument `n` checked ([`check_n`]), as a number.
#[wasm_bindgen(js_name = threadsCheck)]
pub fn threads_check(n: JsValue) -> Result<f64, JsError> {
    run(|| Ok(check_n(&n)? as f64))
}

/// Sets the number of threads to `n`; `n - 1` workers must have been started. Workers past
/// `n - 1` are told to stop (their `poolWorker` returns).
#[wasm_bindgen(js_name = threadsSet)]
pub fn threads_set(n: JsValue) -> Result<(), JsError> {
    run(|| {
        threadpool::set_threads(check_n(&n)?)?;
        Ok(())
    })
}

/// Reserves the next worker slot (a whole number) for a worker about to start.
#[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
#[wasm_bindgen(js_name = poolPrepare)]
pub fn pool_prepare() -> Result<f64, JsError> {
    run(|| Ok(threadpool::prepare_worker()? as f64))
}

/// A worker's loop: runs the pool's jobs until slot `slot` is retired. Only in a Worker (the
/// main thread may not wait).
#[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
#[wasm_bindgen(js_name = poolWorker)]
pub fn pool_worker(slot: u32) {
    threadpool::worker(slot as usize)
}

/// Called by a worker whose loop failed (trapped): the computation waiting for it panics
/// instead of spinning forever.
#[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
#[wasm_bindgen(js_name = poolWorkerFailed)]
pub fn pool_worker_failed() {
    threadpool::worker_failed()
}

/// `[module, memory]`: what a worker instantiates (the same module on the same shared memory).
#[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
#[wasm_bindgen(js_name = poolShared)]
pub fn pool_shared() -> js_sys::Array {
    js_sys::Array::of2(&wasm_bindgen::module(), &wasm_bindgen::memory())
}
