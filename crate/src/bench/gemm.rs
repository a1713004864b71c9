//! GEMM timing exports for the benchmark page and bench/node-gemm.mjs. Timing happens inside
//! wasm with the host's `performance.now()` ([`Clock`]), so one JS call covers a whole series
//! and the JS↔wasm crossing (~µs) is not in the figures. Inputs are allocated once per series.

use crate::gemm::{MatMut, MatRef};
use wasm_bindgen::prelude::*;

use super::{noise, Clock};
use crate::gemm::{self, KernelKind, PackedB};

fn kernel(name: &str) -> Result<KernelKind, JsError> {
    let kind = KernelKind::from_name(name)?;
    if !kind.is_available() {
        return Err(JsError::new(&format!(
            "kernel {name:?} is not in this build (simdLevel = {})",
            gemm::simd_level()
        )));
    }
    Ok(kind)
}

fn check_dims(m: usize, k: usize, n: usize, reps: usize) -> Result<(), JsError> {
    let ok = [m, k, n].iter().all(|&d| (1..=4096).contains(&d)) && (1..=10_000).contains(&reps);
    if ok {
        Ok(())
    } else {
        Err(JsError::new(&format!(
            "benchmark sizes must be 1..=4096 and reps 1..=10000, got {m}×{k}×{n}, {reps} reps"
        )))
    }
}

/// Warms up (at least 3 runs and 50 ms), then times `reps` runs; milliseconds per run.
fn series(reps: usize, mut run: impl FnMut() -> crate::Result<()>) -> Result<Vec<f64>, JsError> {
    let clock = Clock::new()?;
    let t0 = clock.now();
    let mut warm = 0;
    while warm < 3 || clock.now() - t0 < 50.0 {
        run()?;
        warm += 1;
    }
    let mut out = Vec::with_capacity(reps);
    for _ in 0..reps {
        let t = clock.now();
        run()?;
        out.push(clock.now() - t);
    }
    Ok(out)
}

/// Names of the GEMM kernels in this build, best first.
#[wasm_bindgen(js_name = gemmKernels)]
pub fn gemm_kernels() -> Vec<String> {
    gemm::available_kernels()
        .iter()
        .map(|k| k.name().to_string())
        .collect()
}

/// Milliseconds per `C = A·B` (row-major, m×k by k×n) with one kernel, `reps` times.
#[wasm_bindgen(js_name = benchSgemm)]
pub fn bench_sgemm(
    kernel_name: &str,
    m: usize,
    k: usize,
    n: usize,
    reps: usize,
) -> Result<Vec<f64>, JsError> {
    let kind = kernel(kernel_name)?;
    check_dims(m, k, n, reps)?;
    let a = noise(m * k, 1);
    let b = noise(k * n, 2);
    let mut c = vec![0.0f32; m * n];
    let (k_, n_) = (k as isize, n as isize);
    series(reps, || {
        gemm::sgemm_with(
            kind,
            [m, k, n],
            1.0,
            MatRef::new(&a, k_, 1),
            MatRef::new(&b, n_, 1),
            0.0,
            MatMut::new(&mut c, n_, 1),
        )
    })
}

/// As [`bench_sgemm`] with B packed once before timing (weights reused across calls).
#[wasm_bindgen(js_name = benchSgemmPacked)]
pub fn bench_sgemm_packed(
    kernel_name: &str,
    m: usize,
    k: usize,
    n: usize,
    reps: usize,
) -> Result<Vec<f64>, JsError> {
    let kind = kernel(kernel_name)?;
    check_dims(m, k, n, reps)?;
    let a = noise(m * k, 1);
    let b = noise(k * n, 2);
    let pb = PackedB::new_for(kind, k, n, &b, n as isize, 1)?;
    let mut c = vec![0.0f32; m * n];
    let (k_, n_) = (k as isize, n as isize);
    series(reps, || {
        gemm::packed::sgemm_packed_with(
            kind,
            m,
            1.0,
            MatRef::new(&a, k_, 1),
            &pb,
            0.0,
            MatMut::new(&mut c, n_, 1),
        )
    })
}

/// Milliseconds per row-major `C = A·B` with an experimental R×4V register tile, k loop
/// unrolled `unroll` times
/// (`madd` = "simd128" for mul+add, "relaxed" for relaxed FMA); used to choose the tiles.
#[wasm_bindgen(js_name = benchTile)]
#[allow(unused_variables, clippy::too_many_arguments)]
pub fn bench_tile(
    madd: &str,
    rows: usize,
    vecs: usize,
    unroll: usize,
    m: usize,
    k: usize,
    n: usize,
    reps: usize,
) -> Result<Vec<f64>, JsError> {
    let fma = kernel(madd)? == KernelKind::Relaxed;
    check_dims(m, k, n, reps)?;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        let a = noise(m * k, 1);
        let b = noise(k * n, 2);
        let mut c = vec![0.0f32; m * n];
        series(reps, || {
            gemm::variants::sgemm_tile(fma, rows, vecs, unroll, m, k, n, &a, &b, &mut c)
        })
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    Err(JsError::new("tile variants need a SIMD build"))
}

/// GFLOPS of independent multiply-add chains, the one-core limit for `"simd128"` (mul + add)
/// or `"relaxed"` (relaxed FMA); the median of 7 runs of ~20 ms.
#[wasm_bindgen(js_name = benchPeak)]
pub fn bench_peak(kind_name: &str) -> Result<f64, JsError> {
    let kind = kernel(kind_name)?;
    let clock = Clock::new()?;
    let mut runs = Vec::new();
    // Warm-up once, then 7 timed runs.
    for r in 0..8 {
        let iters = 1usize << 20;
        let t = clock.now();
        let flops = peak::chains(kind, iters)?;
        let ms = clock.now() - t;
        if r > 0 {
            runs.push(flops / (ms * 1e6));
        }
    }
    runs.sort_by(f64::total_cmp);
    Ok(runs[runs.len() / 2])
}

mod peak {
    use super::{JsError, KernelKind};

    /// Runs `iters` steps of 12 independent vector chains; returns the flops done.
    /// Not inlined: wasm has no on-stack replacement, so a loop inside the exported function
    /// would stay in V8's baseline tier for the whole first call (measured ~5 vs ~45 GFLOPS).
    #[inline(never)]
    pub fn chains(kind: KernelKind, iters: usize) -> Result<f64, JsError> {
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        {
            use core::arch::wasm32::*;
            use std::hint::black_box;
            #[inline(always)]
            fn run<F: Fn(v128, v128, v128) -> v128>(iters: usize, f: F) -> f32 {
                let x = black_box(f32x4_splat(0.999));
                let y = black_box(f32x4_splat(1e-3));
                let mut acc = [f32x4_splat(0.0); 12];
                for (i, a) in acc.iter_mut().enumerate() {
                    *a = black_box(f32x4_splat(i as f32));
                }
                for _ in 0..iters {
                    for a in acc.iter_mut() {
                        *a = f(*a, x, y);
                    }
                }
                let s = acc.iter().fold(f32x4_splat(0.0), |s, &a| f32x4_add(s, a));
                black_box(f32x4_extract_lane::<0>(s))
            }
            let flops = (iters * 12 * 8) as f64;
            match kind {
                #[cfg(target_feature = "relaxed-simd")]
                KernelKind::Relaxed => {
                    // acc·x + y: one FMA per chain step.
                    black_box(run(iters, |a, x, y| f32x4_relaxed_madd(a, x, y)));
                    return Ok(flops);
                }
                KernelKind::Simd128 => {
                    // acc·x + y as a multiply then an add.
                    black_box(run(iters, |a, x, y| f32x4_add(f32x4_mul(a, x), y)));
                    return Ok(flops);
                }
                _ => {}
            }
        }
        let _ = iters;
        Err(JsError::new(&format!(
            "no peak microbenchmark for {:?} in this build",
            kind
        )))
    }
}
