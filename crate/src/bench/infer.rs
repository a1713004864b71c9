//! Single-image inference timing for bench/node-cnn.mjs: one model, one image, every layer
//! timed inside wasm with the host's `performance.now()` ([`Clock`]), so the JS↔wasm
//! crossing is not in the figures.

use wasm_bindgen::prelude::*;

use super::Clock;
use crate::nn::infer::Inference;
use crate::nn::Model;

/// Loads `bytes` (safetensors), warms up (≥ 50 ms), then runs `pixels` `reps` times.
/// Returns `reps × (layers + 1)` milliseconds, row-major: each layer's time, then the whole
/// forward (timed separately, without the per-layer clock reads). Within a rep each layer,
/// and then the whole forward, runs `inner` times in a row and counts as the mean: a layer
/// of a few µs is below the resolution of a cross-origin-isolated page's clock (5 µs).
#[wasm_bindgen(js_name = benchInference)]
pub fn bench_inference(
    bytes: &[u8],
    pixels: &[f32],
    reps: usize,
    inner: usize,
) -> Result<Vec<f64>, JsError> {
    if !(1..=100_000).contains(&reps) {
        return Err(JsError::new(&format!(
            "reps must be 1..=100000, got {reps}"
        )));
    }
    if !(1..=10_000).contains(&inner) || reps * inner > 10_000_000 {
        return Err(JsError::new(&format!(
            "inner must be 1..=10000 with reps × inner ≤ 10^7, got {inner} (reps {reps})"
        )));
    }
    let clock = Clock::new()?;
    let model = Model::from_safetensors(bytes)?;
    let mut inf = Inference::new(&model)?;
    let n = inf.num_layers();
    let t0 = clock.now();
    while clock.now() - t0 < 50.0 {
        inf.run(pixels)?;
    }
    let mut out = vec![0.0f64; reps * (n + 1)];
    for row in out.chunks_exact_mut(n + 1) {
        inf.run_timed(pixels, || clock.now(), inner, &mut row[..n])?;
        let t = clock.now();
        for _ in 0..inner {
            inf.run(pixels)?;
        }
        row[n] = (clock.now() - t) / inner as f64;
    }
    Ok(out)
}
