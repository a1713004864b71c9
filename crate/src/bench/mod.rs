//! The benchmark's wasm exports, compiled only with the `bench` cargo feature (`cargo xtask
//! bench`, `cargo xtask build --bench`); the playground's wasm has none of this.
//!
//! - `ops.rs`: the bench page's rows (`benchGemm`, `benchConv2d`, `benchConvTranspose2d`, the
//!   ndarray baseline) and its own peak chains (`benchPeakChains`);
//! - `gemm.rs`: per-kernel GEMM series, the tile variants and the peak (`bench/node-gemm.mjs`);
//! - `infer.rs`: one model's single-image forward, per layer (`bench/node-cnn.mjs`).
//!
//! Everything is timed inside wasm with the host's `performance.now()` ([`Clock`]), so the
//! JS↔wasm crossing and input set-up are not in the figures.

mod gemm;
mod infer;
mod ops;
pub(crate) mod rten_peer;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// The host's `performance` clock (milliseconds), looked up on the global object so it works
/// on the page, in a worker and in node alike (`window` exists only on the page).
pub(crate) struct Clock(web_sys::Performance);

impl Clock {
    pub(crate) fn new() -> Result<Clock, JsError> {
        js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("performance"))
            .ok()
            .filter(|p| p.is_object())
            .map(|p| Clock(p.unchecked_into()))
            .ok_or_else(|| JsError::new("this host has no global `performance` clock"))
    }

    pub(crate) fn now(&self) -> f64 {
        self.0.now()
    }
}

/// Deterministic inputs in [-1, 1) (the crate's one generator), so every run times the same data.
pub(crate) fn noise(len: usize, seed: u32) -> Vec<f32> {
    crate::rng::Rng::new(u64::from(seed)).uniform_vec(len, -1.0, 1.0)
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests;
