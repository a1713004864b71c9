//! Other register-tile shapes, instantiated only so that the benchmark can compare them with
//! the shipped kernels (`benchTile` in crate/src/bench/gemm.rs; compiled only with the `bench`
//! feature); docs/gemm.md has the measured tables that chose the tile for both simd128 and relaxed (2×16).

use super::driver::{self, BSource};
use super::simd128::{SeparateMulAdd, Tile};
use crate::error::{Error, Result};

/// Row-major `C = A·B` (m×k by k×n) with an R×4V tile, k unrolled U times, and mul+add (`fma = false`) or
/// relaxed FMA (`fma = true`, relaxed builds only).
#[allow(clippy::too_many_arguments)]
pub(crate) fn sgemm_tile(
    fma: bool,
    r: usize,
    v: usize,
    u: usize,
    m: usize,
    k: usize,
    n: usize,
    a: &[f32],
    b: &[f32],
    c: &mut [f32],
) -> Result<()> {
    super::check_all(
        m,
        k,
        n,
        (a.len(), k as isize, 1),
        Some((b.len(), n as isize, 1)),
        (c.len(), n as isize, 1),
    )?;
    if m == 0 || n == 0 || k == 0 {
        return Err(Error::shape("tile benchmark needs m, k, n ≥ 1"));
    }
    let bs = BSource::View {
        ptr: b.as_ptr(),
        rs: n,
        cs: 1,
    };
    let (ap, cp) = (a.as_ptr(), c.as_mut_ptr());
    macro_rules! go {
        ($F:ty, $(($r:literal, $v:literal, $u:literal)),*) => {
            match (r, v, u) {
                $(($r, $v, $u) => {
                    // safety: the row-major views were checked above.
                    unsafe { driver::gemm::<Tile<$F, $r, $v, $u>>(m, k, n, 1.0, driver::ASource::View { ptr: ap, rs: k, cs: 1 }, bs, 0.0, cp, n, 1) };
                    Ok(())
                })*
                _ => Err(Error::param("tile", (r, v, u), "not one of the instantiated shapes")),
            }
        };
    }
    if fma {
        #[cfg(target_feature = "relaxed-simd")]
        return go!(
            super::relaxed::RelaxedMulAdd,
            (4, 2, 1),
            (2, 4, 1),
            (3, 3, 1),
            (6, 2, 1),
            (4, 3, 1),
            (5, 2, 1),
            (2, 3, 1),
            (3, 2, 1),
            (4, 4, 1),
            (4, 2, 2),
            (2, 4, 2),
            (3, 3, 2),
            (5, 2, 2)
        );
        #[cfg(not(target_feature = "relaxed-simd"))]
        return Err(Error::param("tile", "fma", "needs the relaxed build"));
    }
    go!(
        SeparateMulAdd,
        (4, 2, 1),
        (2, 4, 1),
        (3, 3, 1),
        (6, 2, 1),
        (4, 3, 1),
        (5, 2, 1),
        (2, 3, 1),
        (3, 2, 1),
        (4, 4, 1),
        (4, 2, 2),
        (2, 4, 2),
        (3, 3, 2),
        (5, 2, 2)
    )
}
