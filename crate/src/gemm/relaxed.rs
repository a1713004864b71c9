//! The relaxed-simd micro-kernel: the simd128 tile body with `f32x4_relaxed_madd` (a fused
//! multiply-add on x64 with FMA) instead of a multiply and an add.
//!
//! Why 3×12 (R = 3, V = 3): an FMA has ~4 cycles of latency and two issue ports, so ≥ 8
//! independent accumulator chains are needed; 3×12 has 9 and uses 9 + 3 B + 1 A + 1 temp = 14
//! of V8's 15 x64 SIMD registers. Measured (benchTile, 256³, same run, best of ~45): 3×12 42.2
//! GFLOPS against a chain peak of 44.6; 4×8 40.0, 2×16 37.6, 5×8 43.5 (+3%, within noise; kept
//! 3×12 for the register margin), 6×8 19.2 and 4×12 20.2 (spill); k unrolled ×2: 23.1.

use core::arch::wasm32::*;

use super::simd128::{MulAdd, Tile};

/// `f32x4_relaxed_madd(a, b, c)` = a·b + c, fused where the hardware can.
pub(crate) struct RelaxedMulAdd;

impl MulAdd for RelaxedMulAdd {
    #[inline(always)]
    fn madd(a: v128, b: v128, c: v128) -> v128 {
        f32x4_relaxed_madd(a, b, c)
    }
}

/// The relaxed micro-kernel: 3×12 with relaxed FMA.
pub(crate) type Relaxed = Tile<RelaxedMulAdd, 3, 3, 1>;
