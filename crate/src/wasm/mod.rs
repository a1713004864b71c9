//! The JavaScript API (wasm-bindgen). This folder is the only place with `#[wasm_bindgen]`;
//! everything it calls is plain Rust tested natively.
//!
//! The boundary is built to take any JS value in any argument and either compute the right
//! result or throw a JS `Error` naming the argument (`invalid stride = -1: must be a whole
//! number ≥ 0`), without trapping, hanging or coercing:
//! - every export takes `JsValue`s, so wasm-bindgen's glue converts nothing by itself (its
//!   `usize` and `&str` conversions wrap 2³² + 1 to 1, coerce `"abcd"` to NaN and trap on a
//!   non-string);
//! - values are read through `js` (caught reads, a plain-data snapshot, typed arrays measured
//!   before anything is allocated) and `args` (declarative option types with serde);
//! - tensors and models are reached through numeric handles looked up in `handles` tables,
//!   never through pointers, so forged and freed handles are errors;
//! - errors are returned (`Result<_, JsError>`), never thrown from inside wasm, so nothing
//!   unwinds through wasm frames, and they are capped in length.
//!
//! The classes `Tensor`, `Model` and `Forward` that JS code uses wrap these handles:
//! `crate/js/api.js`, shipped beside the glue as `api.js`. Their TypeScript types are declared
//! once, in `crate/js/api.d.ts` (tsc checks it with a typed use of every export:
//! `tests/types/`); the glue's own `.d.ts` types these exports' values as `any`.

mod args;
mod code;
mod js;
mod look;
mod model;
mod ops;
mod threads;
mod trace;
mod train;

#[cfg(all(test, target_arch = "wasm32"))]
mod tests;

pub(crate) mod handles;

use wasm_bindgen::prelude::*;

use crate::error::Error;
use args::ArgError;

/// Why a call failed: a bad argument, or an error of the library.
pub(crate) enum Fail {
    Arg(ArgError),
    Lib(Error),
}

impl From<ArgError> for Fail {
    fn from(e: ArgError) -> Self {
        Fail::Arg(e)
    }
}

impl From<Error> for Fail {
    fn from(e: Error) -> Self {
        Fail::Lib(e)
    }
}

impl Fail {
    pub(crate) fn message(&self) -> String {
        let m = match self {
            Fail::Arg(e) => e.to_string(),
            // The library names parameters as Rust does; JS callers know their option names.
            Fail::Lib(Error::Param {
                name,
                value,
                reason,
            }) => {
                let name = match *name {
                    "kernel_size" => "kernelSize",
                    "output_padding" => "outputPadding",
                    "ceil_mode" => "ceilMode",
                    "c_in" => "channelsIn",
                    "c_out" => "channelsOut",
                    "height" | "width" => "size",
                    n => n,
                };
                format!("invalid {name} = {value}: {reason}")
            }
            Fail::Lib(e) => e.to_string(),
        };
        args::cap(m)
    }
}

impl From<Fail> for JsError {
    fn from(f: Fail) -> Self {
        JsError::new(&f.message())
    }
}

pub(crate) type R<T> = Result<T, Fail>;

/// Runs an export's body and turns its failure into a JS `Error`.
pub(crate) fn run<T>(f: impl FnOnce() -> R<T>) -> Result<T, JsError> {
    f().map_err(JsError::from)
}

/// Installed when the module is instantiated: a panic that slips through shows its message
/// in the console instead of a bare `unreachable`.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

/// The SIMD level this build was compiled for: `"relaxed"`, `"simd128"` or `"none"`.
#[wasm_bindgen(js_name = simdLevel)]
pub fn simd_level() -> String {
    crate::gemm::simd_level().to_string()
}

/// What the instance holds (for leak checks): live tensors, models, datasets and trainers, and the size of wasm
/// memory in bytes.
#[wasm_bindgen(js_name = liveObjects)]
pub fn live_objects() -> JsValue {
    let (tensors, _) = ops::live();
    let models = model::live();
    let (datasets, trainers) = train::live();
    #[cfg(target_arch = "wasm32")]
    let bytes = core::arch::wasm32::memory_size(0) * 65536;
    #[cfg(not(target_arch = "wasm32"))]
    let bytes = 0usize;
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Live {
        tensors: usize,
        models: usize,
        datasets: usize,
        trainers: usize,
        memory_bytes: usize,
    }
    let live = Live {
        tensors,
        models,
        datasets,
        trainers,
        memory_bytes: bytes,
    };
    // A record of plain numbers always serialises.
    js::to_js(&live, "liveObjects").unwrap_or(JsValue::UNDEFINED)
}
