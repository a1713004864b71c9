//! The portable micro-kernel: plain Rust over fixed-size arrays, always compiled. LLVM
//! vectorises it natively (SSE2/NEON) and, in the wasm builds, into simd128; it is the
//! specification the SIMD micro-kernels are tested against and the last fallback.

use super::micro_kernel::{store_scaled, MicroKernel};

/// 4×8: eight 4-lane accumulators, which fits the 16 SSE registers of x86-64 natively.
pub(crate) struct Portable;

const MR: usize = 4;
const NR: usize = 8;

impl MicroKernel for Portable {
    const MR: usize = MR;
    const NR: usize = NR;

    #[inline(never)]
    unsafe fn tile(
        k: usize,
        alpha: f32,
        a: *const f32,
        b: *const f32,
        beta: f32,
        c: *mut f32,
        rsc: usize,
        csc: usize,
    ) {
        // safety: the caller guarantees `a` holds k·MR floats and `b` k·NR floats.
        let (a, b) = unsafe {
            (
                std::slice::from_raw_parts(a, k * MR),
                std::slice::from_raw_parts(b, k * NR),
            )
        };
        // Fixed-size rows (`as_chunks`) and one broadcast A element per row: the shape LLVM's
        // SLP vectoriser recognises. The first version (`chunks_exact` slices) stayed scalar
        // in wasm: 32 f32 accumulators and ~4 GFLOPS.
        let (a_rows, _) = a.as_chunks::<MR>();
        let (b_rows, _) = b.as_chunks::<NR>();
        let mut acc = [[0.0f32; NR]; MR];
        for (ap, bp) in a_rows.iter().zip(b_rows) {
            for (row, &ai) in acc.iter_mut().zip(ap) {
                for (x, &bj) in row.iter_mut().zip(bp) {
                    *x += ai * bj;
                }
            }
        }
        for (i, row) in acc.iter().enumerate() {
            for (j, &v) in row.iter().enumerate() {
                // safety: the caller guarantees every (i < MR, j < NR) element of the C tile
                // is a distinct valid float.
                let dst = unsafe { &mut *c.add(i * rsc + j * csc) };
                store_scaled(dst, v, alpha, beta);
            }
        }
    }
}

/// `Σ_p x[p]·B[p, 0..W]` for a row-major block with row stride `rs` (a fixed width keeps the
/// W partial sums in registers).
pub(crate) fn axpy_rows<const W: usize>(x: &[f32], b: &[f32], rs: usize) -> [f32; W] {
    let mut acc = [0.0f32; W];
    for (p, &xp) in x.iter().enumerate() {
        let row = &b[p * rs..p * rs + W];
        for (a, &v) in acc.iter_mut().zip(row) {
            *a += xp * v;
        }
    }
    acc
}

/// As [`axpy_rows`] for any width `acc.len()` (tails); adds into `acc`.
pub(crate) fn axpy_rows_dyn(x: &[f32], b: &[f32], rs: usize, acc: &mut [f32]) {
    let w = acc.len();
    for (p, &xp) in x.iter().enumerate() {
        let row = &b[p * rs..p * rs + w];
        for (a, &v) in acc.iter_mut().zip(row) {
            *a += xp * v;
        }
    }
}

/// Σ_p x[p]·col[p] with eight partial sums so LLVM can vectorise the reduction.
pub(crate) fn dot(x: &[f32], col: &[f32]) -> f32 {
    let mut part = [0.0f32; 8];
    let mut xc = x.chunks_exact(8);
    let mut cc = col.chunks_exact(8);
    for (xs, cs) in (&mut xc).zip(&mut cc) {
        for l in 0..8 {
            part[l] += xs[l] * cs[l];
        }
    }
    let mut s: f32 = part.iter().sum();
    for (a, b) in xc.remainder().iter().zip(cc.remainder()) {
        s += a * b;
    }
    s
}
