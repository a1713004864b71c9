//! The relaxed-simd multiply-add: the simd128 tile body with `f32x4_relaxed_madd` (a fused
//! multiply-add on x64 with FMA) instead of a multiply and an add. The same 2×16 tile: its 8
//! accumulator chains hide the FMA latency (measurements in docs/gemm.md).

use core::arch::wasm32::*;

use super::simd128::MulAdd;

/// `f32x4_relaxed_madd(a, b, c)` = a·b + c, fused where the hardware can.
pub(crate) struct RelaxedMulAdd;

impl MulAdd for RelaxedMulAdd {
    #[inline(always)]
    fn madd(a: v128, b: v128, c: v128) -> v128 {
        f32x4_relaxed_madd(a, b, c)
    }
}
