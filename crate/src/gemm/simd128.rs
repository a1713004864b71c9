//! The wasm simd128 micro-kernel (separate multiply and add), plus the register-tile and
//! matrix-vector bodies it shares with the relaxed-simd micro-kernel (which only swaps the
//! multiply-add, see [`MulAdd`]).
//!
//! 2×16 (R = 2 rows, V = 4 vectors of 4 lanes; 8 accumulators, 4 B vectors, 2 broadcasts)
//! was chosen by measurement on a quiet machine (docs/gemm.md): it fits V8's 15 x64 SIMD
//! registers without spilling, divides the 64- and 128-wide products with no idle tile cells,
//! and runs as fast as 3×12 on the large ones.

use core::arch::wasm32::*;
use std::marker::PhantomData;

use super::micro_kernel::MicroKernel;

/// `a·b + c`, either as a multiply then an add (simd128) or as one relaxed fused multiply-add.
pub(crate) trait MulAdd {
    fn madd(a: v128, b: v128, c: v128) -> v128;
}

/// simd128: `f32x4_add(f32x4_mul(a, b), c)`, exactly rounded twice, deterministic.
pub(crate) struct SeparateMulAdd;

impl MulAdd for SeparateMulAdd {
    #[inline(always)]
    fn madd(a: v128, b: v128, c: v128) -> v128 {
        f32x4_add(f32x4_mul(a, b), c)
    }
}

/// One k step of the tile: load the B row (V vectors), broadcast each A element, multiply-add.
///
/// # Safety
/// `a` readable for R floats, `b` for 4V floats.
#[inline(always)]
unsafe fn step<F: MulAdd, const R: usize, const V: usize>(
    acc: &mut [[v128; V]; R],
    a: *const f32,
    b: *const f32,
) {
    let mut bv = [f32x4_splat(0.0); V];
    for (v, bvv) in bv.iter_mut().enumerate() {
        // safety: 4V floats readable at `b` (unaligned loads are fine in wasm).
        *bvv = unsafe { v128_load(b.add(4 * v) as *const v128) };
    }
    for (i, row) in acc.iter_mut().enumerate() {
        // safety: R floats readable at `a`.
        let ai = unsafe { v128_load32_splat(a.add(i) as *const u32) };
        for (accv, &bvv) in row.iter_mut().zip(&bv) {
            *accv = F::madd(ai, bvv, *accv);
        }
    }
}

/// One R×(4V) register tile: `C ← α·A·B + β·C` over packed panels (see [`MicroKernel::tile`]).
///
/// # Safety
/// As [`MicroKernel::tile`] with MR = R and NR = 4V.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn tile<F: MulAdd, const R: usize, const V: usize, const U: usize>(
    k: usize,
    alpha: f32,
    a: *const f32,
    b: *const f32,
    beta: f32,
    c: *mut f32,
    rsc: usize,
    csc: usize,
) {
    let mut acc = [[f32x4_splat(0.0); V]; R];
    let (mut a, mut b) = (a, b);
    // U k steps per iteration (V8 does not unroll); the shipped tiles use U = 1, since U = 2
    // costs registers (docs/gemm.md).
    for _ in 0..k / U {
        for u in 0..U {
            // safety: U more steps remain in both panels.
            unsafe { step::<F, R, V>(&mut acc, a.add(u * R), b.add(u * 4 * V)) };
        }
        // safety: stays within (or one past the end of) the panels.
        unsafe {
            a = a.add(U * R);
            b = b.add(U * 4 * V);
        }
    }
    for _ in 0..k % U {
        // safety: one more step remains.
        unsafe {
            step::<F, R, V>(&mut acc, a, b);
            a = a.add(R);
            b = b.add(4 * V);
        }
    }
    let al = f32x4_splat(alpha);
    let be = f32x4_splat(beta);
    if csc == 1 {
        for (i, row) in acc.iter().enumerate() {
            for (v, &accv) in row.iter().enumerate() {
                // safety: the caller guarantees the R×4V tile at `c` with these strides is
                // valid; with csc = 1 each row's 4V floats are contiguous.
                unsafe {
                    let p = c.add(i * rsc + 4 * v) as *mut v128;
                    let r = f32x4_mul(accv, al);
                    let r = if beta == 0.0 {
                        r
                    } else {
                        F::madd(v128_load(p), be, r)
                    };
                    v128_store(p, r);
                }
            }
        }
    } else {
        for (i, row) in acc.iter().enumerate() {
            for (v, &accv) in row.iter().enumerate() {
                let mut lanes = [0.0f32; 4];
                // safety: `lanes` is 16 writable bytes.
                unsafe { v128_store(lanes.as_mut_ptr() as *mut v128, accv) };
                for (l, &x) in lanes.iter().enumerate() {
                    // safety: element (i, 4v + l) of the caller's valid tile.
                    let dst = unsafe { &mut *c.add(i * rsc + (4 * v + l) * csc) };
                    super::micro_kernel::store_scaled(dst, x, alpha, beta);
                }
            }
        }
    }
}

/// `out[0..4V] = Σ_p x[p]·B[p, 0..4V]` for a row-major block with row stride `rs`
/// (rows contiguous; also a packed B panel with rs = NR). `U` rows are in flight at once
/// with their own accumulators so that U·V independent chains hide the add latency.
///
/// # Safety
/// `x` readable for k floats; `b + p*rs + j` readable for p < k, j < 4V.
#[inline(always)]
pub(crate) unsafe fn axpy_rows<F: MulAdd, const V: usize, const U: usize>(
    k: usize,
    x: *const f32,
    b: *const f32,
    rs: usize,
) -> [v128; V] {
    let zero = f32x4_splat(0.0);
    let mut acc = [[zero; V]; U];
    let mut p = 0;
    while p + U <= k {
        for (u, accu) in acc.iter_mut().enumerate() {
            // safety: p + u < k, so x[p + u] and row p + u of B are in bounds.
            unsafe {
                let xs = v128_load32_splat(x.add(p + u) as *const u32);
                let row = b.add((p + u) * rs);
                for (v, a) in accu.iter_mut().enumerate() {
                    *a = F::madd(xs, v128_load(row.add(4 * v) as *const v128), *a);
                }
            }
        }
        p += U;
    }
    while p < k {
        // safety: p < k, as above.
        unsafe {
            let xs = v128_load32_splat(x.add(p) as *const u32);
            let row = b.add(p * rs);
            for (v, a) in acc[0].iter_mut().enumerate() {
                *a = F::madd(xs, v128_load(row.add(4 * v) as *const v128), *a);
            }
        }
        p += 1;
    }
    let mut out = acc[0];
    for accu in &acc[1..] {
        for (o, &a) in out.iter_mut().zip(accu) {
            *o = f32x4_add(*o, a);
        }
    }
    out
}

/// Four dot products `Σ_p x[p]·col_c[p]` at once (each column contiguous), sharing the loads
/// of x; two accumulators per column give 8 independent chains.
///
/// # Safety
/// `x` and each `cols[c]` readable for k floats.
#[inline(always)]
pub(crate) unsafe fn dot4<F: MulAdd>(k: usize, x: *const f32, cols: [*const f32; 4]) -> [f32; 4] {
    let zero = f32x4_splat(0.0);
    let mut acc = [[zero; 2]; 4];
    let mut p = 0;
    while p + 8 <= k {
        // safety: p + 8 ≤ k, so both 4-float loads of x and of every column are in bounds.
        unsafe {
            let x0 = v128_load(x.add(p) as *const v128);
            let x1 = v128_load(x.add(p + 4) as *const v128);
            for (a, &col) in acc.iter_mut().zip(&cols) {
                a[0] = F::madd(x0, v128_load(col.add(p) as *const v128), a[0]);
                a[1] = F::madd(x1, v128_load(col.add(p + 4) as *const v128), a[1]);
            }
        }
        p += 8;
    }
    let mut out = [0.0f32; 4];
    for (o, (a, &col)) in out.iter_mut().zip(acc.iter().zip(&cols)) {
        let s = f32x4_add(a[0], a[1]);
        let mut s = f32x4_extract_lane::<0>(s)
            + f32x4_extract_lane::<1>(s)
            + f32x4_extract_lane::<2>(s)
            + f32x4_extract_lane::<3>(s);
        for q in p..k {
            // safety: q < k.
            s += unsafe { *x.add(q) * *col.add(q) };
        }
        *o = s;
    }
    out
}

/// An R×(4V) register-tile micro-kernel with multiply-add `F`, k loop unrolled U times: the
/// simd128 and relaxed micro-kernels are instances, and the benchmark instantiates others to
/// compare tile shapes.
pub(crate) struct Tile<F, const R: usize, const V: usize, const U: usize>(PhantomData<F>);

impl<F: MulAdd, const R: usize, const V: usize, const U: usize> MicroKernel for Tile<F, R, V, U> {
    const MR: usize = R;
    const NR: usize = 4 * V;

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
        // safety: forwarded contract of MicroKernel::tile with MR = R, NR = 4V.
        unsafe { tile::<F, R, V, U>(k, alpha, a, b, beta, c, rsc, csc) }
    }
}

/// The shipped SIMD micro-kernel shape, 2×16 with k not unrolled, for either multiply-add:
/// `SimdTile<SeparateMulAdd>` is the simd128 micro-kernel, `SimdTile<RelaxedMulAdd>` the
/// relaxed one (chosen through `gemm::with_kernel!`).
pub(crate) type SimdTile<F> = Tile<F, 2, 4, 1>;
