//! Timing exports for the benchmark page (`cargo xtask bench`).
//!
//! Each `bench*` export builds its inputs (seeded pseudo-random data), warms up, then runs `reps`
//! batches of `inner` calls and returns the time of one call in each batch, in milliseconds,
//! measured inside wasm with the page's `performance.now()` ([`Clock`]). So JS↔wasm call
//! overhead and input set-up are not counted; a batch of several calls hides the clock's coarse
//! resolution (5 µs or more in a browser) for the small shapes.
//!
//! `impl_` selects the implementation: `"relaxed"`, `"simd128"`, `"portable"` (our GEMM with
//! that micro-kernel forced, see [`crate::gemm::force_kernel`]), `"auto"` (whatever our GEMM
//! picks), `"rten"` (rten 0.27's own `matmul` / `conv` / `conv_transpose`, compiled into this same
//! wasm: [`super::rten_peer`]) or, for GEMM only, `"ndarray"` (`ndarray`'s `.dot()`,
//! matrixmultiply's kernel compiled into this same wasm). A `+packed` suffix (`"relaxed+packed"`) uses the paths that pack the
//! weights once and reuse them across calls: `gemm::sgemm_packed` with a `PackedB` made before
//! timing, `conv::PreparedConv2d` (what the model's forward pass uses) and
//! `conv::PreparedConvTranspose2d`.

use crate::gemm::{MatMut, MatRef};
use wasm_bindgen::prelude::*;

use super::rten_peer;
use super::{noise, Clock};
use crate::conv::{self, Conv2dParams, PreparedConv2d, PreparedConvTranspose2d};
use crate::gemm::{self, KernelKind, PackedB};
use crate::Tensor;

/// Forces our GEMM micro-kernel for the following calls; `false` when this build lacks it.
/// A `+packed` suffix is ignored here (see [`packed`]).
fn select(impl_: &str) -> Result<bool, JsError> {
    let kind = match impl_.trim_end_matches("+packed") {
        "auto" => None,
        other => Some(
            KernelKind::from_name(other)
                .map_err(|_| JsError::new(&format!("unknown implementation `{other}`")))?,
        ),
    };
    if let Some(k) = kind {
        if !gemm::available_kernels().contains(&k) {
            return Ok(false);
        }
    }
    gemm::force_kernel(kind);
    Ok(true)
}

/// Whether `impl_` asks for the weights-packed-once path.
fn packed(impl_: &str) -> bool {
    impl_.ends_with("+packed")
}

/// Runs `f` `warmup` times, then `reps` batches of `inner` calls; returns ms per call per batch.
fn time<E: Into<JsError>>(
    warmup: u32,
    reps: u32,
    inner: u32,
    mut f: impl FnMut() -> Result<(), E>,
) -> Result<Vec<f64>, JsError> {
    let clock = Clock::new()?;
    let mut f = || f().map_err(Into::into);
    for _ in 0..warmup {
        f()?;
    }
    let inner = inner.max(1);
    let mut out = Vec::with_capacity(reps as usize);
    for _ in 0..reps.max(1) {
        let t0 = clock.now();
        for _ in 0..inner {
            f()?;
        }
        out.push((clock.now() - t0) / f64::from(inner));
    }
    Ok(out)
}

/// Kernels this build can force, e.g. `["portable", "simd128", "relaxed"]`.
#[wasm_bindgen(js_name = benchKernels)]
pub fn bench_kernels() -> Vec<String> {
    gemm::available_kernels()
        .iter()
        .map(|k| k.name().to_string())
        .collect()
}

/// C (m×n) = A (m×k) · B (k×n), row-major. Returns ms per call, or an empty array when `impl_`
/// names a kernel this build does not have.
#[wasm_bindgen(js_name = benchGemm)]
pub fn bench_gemm(
    m: usize,
    k: usize,
    n: usize,
    impl_: &str,
    warmup: u32,
    reps: u32,
    inner: u32,
) -> Result<Vec<f64>, JsError> {
    crate::tensor::checked_numel(&[m, k])?;
    crate::tensor::checked_numel(&[k, n])?;
    crate::tensor::checked_numel(&[m, n])?;
    let a = noise(m * k, 1);
    let b = noise(k * n, 2);
    if impl_ == "ndarray" {
        let a = ndarray::ArrayView2::from_shape((m, k), &a)
            .map_err(|e| JsError::new(&e.to_string()))?;
        let b = ndarray::ArrayView2::from_shape((k, n), &b)
            .map_err(|e| JsError::new(&e.to_string()))?;
        let mut sink = 0.0f32;
        let t = time(warmup, reps, inner, || -> Result<(), JsError> {
            let c = a.dot(&b);
            sink += c[[0, 0]];
            Ok(())
        })?;
        std::hint::black_box(sink);
        return Ok(t);
    }
    if impl_ == "rten" {
        let inputs = rten_peer::Inputs::gemm(m, k, n, &a, &b);
        let mut sink = 0.0f32;
        let t = time(warmup, reps, inner, || -> Result<(), JsError> {
            sink += inputs
                .matmul()
                .map_err(|e| JsError::new(&e))?
                .first()
                .copied()
                .unwrap_or(0.0);
            Ok(())
        })?;
        std::hint::black_box(sink);
        return Ok(t);
    }
    if !select(impl_)? {
        return Ok(Vec::new());
    }
    let mut c = vec![0.0f32; m * n];
    let (k_, n_) = (k as isize, n as isize);
    let t = if packed(impl_) {
        let pb = PackedB::new(k, n, &b, n_, 1)?;
        time(warmup, reps, inner, || {
            gemm::sgemm_packed(
                m,
                1.0,
                MatRef::new(&a, k_, 1),
                &pb,
                0.0,
                MatMut::new(&mut c, n_, 1),
            )
        })
    } else {
        time(warmup, reps, inner, || {
            gemm::sgemm(
                [m, k, n],
                1.0,
                MatRef::new(&a, k_, 1),
                MatRef::new(&b, n_, 1),
                0.0,
                MatMut::new(&mut c, n_, 1),
            )
        })
    };
    gemm::force_kernel(None);
    std::hint::black_box(&c);
    t
}

fn params(stride: usize, pad: usize) -> Conv2dParams {
    Conv2dParams {
        stride: [stride; 2],
        padding: [pad; 4],
        ..Conv2dParams::default()
    }
}

/// Times an rten call (its output read once per call, so nothing is optimised away).
fn rten_series(
    warmup: u32,
    reps: u32,
    inner: u32,
    f: impl Fn() -> Result<Vec<f32>, String>,
) -> Result<Vec<f64>, JsError> {
    let mut sink = 0.0f32;
    let t = time(warmup, reps, inner, || -> Result<(), JsError> {
        sink += f()
            .map_err(|e| JsError::new(&e))?
            .first()
            .copied()
            .unwrap_or(0.0);
        Ok(())
    })?;
    std::hint::black_box(sink);
    Ok(t)
}

/// `conv2d` of x `[1, c, h, w]` with weight `[co, c, kh, kw]` and a bias; square stride and
/// padding on every side. Returns ms per call (empty when the kernel is not in this build).
#[wasm_bindgen(js_name = benchConv2d)]
#[allow(clippy::too_many_arguments)]
pub fn bench_conv2d(
    c: usize,
    h: usize,
    w: usize,
    co: usize,
    kh: usize,
    kw: usize,
    stride: usize,
    pad: usize,
    impl_: &str,
    warmup: u32,
    reps: u32,
    inner: u32,
) -> Result<Vec<f64>, JsError> {
    let x = Tensor::new(noise(c * h * w, 3), &[1, c, h, w])?;
    let wt = Tensor::new(noise(co * c * kh * kw, 4), &[co, c, kh, kw])?;
    let bias = Tensor::new(noise(co, 5), &[co])?;
    let p = params(stride, pad);
    if impl_ == "rten" {
        let inputs = rten_peer::Inputs::conv(
            x.data(),
            [1, c, h, w],
            wt.data(),
            [co, c, kh, kw],
            bias.data(),
            stride,
            pad,
        );
        return rten_series(warmup, reps, inner, || inputs.conv2d());
    }
    if !select(impl_)? {
        return Ok(Vec::new());
    }
    let mut sink = 0.0f32;
    let t = if packed(impl_) {
        let mut layer = PreparedConv2d::new(&wt, Some(&bias), &p, [c, h, w])?;
        let mut out = vec![f32::NAN; layer.output_len()];
        let t = time(warmup, reps, inner, || {
            layer.forward_into(x.data(), &mut out)
        });
        sink += out[0];
        t
    } else {
        time(warmup, reps, inner, || {
            conv::conv2d(&x, &wt, Some(&bias), &p).map(|y| sink += y.data()[0])
        })
    };
    gemm::force_kernel(None);
    std::hint::black_box(sink);
    t
}

/// `conv_transpose2d` of x `[1, c, h, w]` with weight `[c, co, kh, kw]` and a bias.
#[wasm_bindgen(js_name = benchConvTranspose2d)]
#[allow(clippy::too_many_arguments)]
pub fn bench_conv_transpose2d(
    c: usize,
    h: usize,
    w: usize,
    co: usize,
    kh: usize,
    kw: usize,
    stride: usize,
    pad: usize,
    impl_: &str,
    warmup: u32,
    reps: u32,
    inner: u32,
) -> Result<Vec<f64>, JsError> {
    let x = Tensor::new(noise(c * h * w, 6), &[1, c, h, w])?;
    let wt = Tensor::new(noise(c * co * kh * kw, 7), &[c, co, kh, kw])?;
    let bias = Tensor::new(noise(co, 8), &[co])?;
    let p = params(stride, pad);
    if impl_ == "rten" {
        let inputs = rten_peer::Inputs::conv(
            x.data(),
            [1, c, h, w],
            wt.data(),
            [c, co, kh, kw],
            bias.data(),
            stride,
            pad,
        );
        return rten_series(warmup, reps, inner, || inputs.conv_transpose2d());
    }
    if !select(impl_)? {
        return Ok(Vec::new());
    }
    let mut sink = 0.0f32;
    let t = if packed(impl_) {
        let mut layer = PreparedConvTranspose2d::new(&wt, Some(&bias), &p, [c, h, w])?;
        let mut out = vec![f32::NAN; layer.output_len()];
        let t = time(warmup, reps, inner, || {
            layer.forward_into(x.data(), &mut out)
        });
        sink += out[0];
        t
    } else {
        time(warmup, reps, inner, || {
            conv::conv_transpose2d(&x, &wt, Some(&bias), &p).map(|y| sink += y.data()[0])
        })
    };
    gemm::force_kernel(None);
    std::hint::black_box(sink);
    t
}

/// The one-core limit: 12 independent chains of 4 lanes, `iters` steps per rep. `fma = true`
/// uses `f32x4_relaxed_madd` (relaxed build only: an empty array in the simd128 build), `false`
/// separate multiplies and adds. Returns GFLOPS per rep (a multiply-add counts as 2 flops).
#[wasm_bindgen(js_name = benchPeakChains)]
pub fn bench_peak_chains(fma: bool, iters: u32, reps: u32) -> Result<Vec<f64>, JsError> {
    Ok(peak::run(&Clock::new()?, fma, iters, reps))
}

#[cfg(target_arch = "wasm32")]
mod peak {
    use core::arch::wasm32::*;

    const CHAINS: usize = 12;

    /// 12 chains of `acc ← acc·x + y`, each one fused multiply-add (relaxed build only).
    #[cfg(target_feature = "relaxed-simd")]
    fn fma_chains(iters: u32, x: v128, y: v128) -> [v128; CHAINS] {
        let mut acc = [f32x4_splat(0.0); CHAINS];
        for (i, a) in acc.iter_mut().enumerate() {
            *a = f32x4_splat(i as f32 * 1e-3);
        }
        for _ in 0..iters {
            for a in acc.iter_mut() {
                *a = f32x4_relaxed_madd(*a, x, y);
            }
        }
        acc
    }

    #[cfg(not(target_feature = "relaxed-simd"))]
    fn fma_chains(_: u32, _: v128, _: v128) -> [v128; CHAINS] {
        [f32x4_splat(0.0); CHAINS]
    }

    /// 6 multiply chains `p ← p·x` feeding 6 add chains `acc ← acc + p`: every chain waits on
    /// one operation only, so this measures the mul + add issue rate, not their latency.
    fn mul_add_chains(iters: u32, x: v128) -> [v128; CHAINS] {
        const H: usize = CHAINS / 2;
        let mut p = [f32x4_splat(0.0); H];
        let mut acc = [f32x4_splat(0.0); H];
        for (i, v) in p.iter_mut().enumerate() {
            *v = f32x4_splat(1.0 + i as f32 * 1e-3);
        }
        for _ in 0..iters {
            for (a, v) in acc.iter_mut().zip(p.iter_mut()) {
                *a = f32x4_add(*a, *v);
                *v = f32x4_mul(*v, x);
            }
        }
        let mut out = [f32x4_splat(0.0); CHAINS];
        out[..H].copy_from_slice(&p);
        out[H..].copy_from_slice(&acc);
        out
    }

    pub fn run(clock: &super::Clock, fma: bool, iters: u32, reps: u32) -> Vec<f64> {
        if fma && !cfg!(target_feature = "relaxed-simd") {
            return Vec::new();
        }
        let mut out = Vec::with_capacity(reps as usize);
        for _ in 0..reps.max(1) {
            let t0 = clock.now();
            let acc = if fma {
                // acc·0.999 + 0.001 converges to 1: finite, never denormal.
                let x = core::hint::black_box(f32x4_splat(0.999));
                let y = core::hint::black_box(f32x4_splat(0.001));
                fma_chains(iters, x, y)
            } else {
                // p·1 stays p; acc grows by about 1 per step: finite for any iters we use.
                mul_add_chains(iters, core::hint::black_box(f32x4_splat(1.0)))
            };
            let ms = clock.now() - t0;
            core::hint::black_box(acc);
            // Per step: 12 fused multiply-adds, or 6 multiplies + 6 adds; 4 lanes each.
            let flops_per_step = if fma { 2.0 * 4.0 * 12.0 } else { 4.0 * 12.0 };
            out.push(flops_per_step * f64::from(iters) / (ms * 1e6));
        }
        out
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod peak {
    pub fn run(_: &super::Clock, _fma: bool, _iters: u32, _reps: u32) -> Vec<f64> {
        Vec::new()
    }
}
