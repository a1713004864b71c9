//! General matrix multiply. The one public entry point is [`sgemm`].
//!
//! PLACEHOLDER: a plain triple loop with the final signature, so that the layers above can be
//! written against it. The packed, blocked SIMD implementation replaces the body.

use crate::error::{Error, Result};

/// Which SIMD level this build was compiled for: `"relaxed"`, `"simd128"` or `"none"`.
pub fn simd_level() -> &'static str {
    if cfg!(all(target_arch = "wasm32", target_feature = "relaxed-simd")) {
        "relaxed"
    } else if cfg!(all(target_arch = "wasm32", target_feature = "simd128")) {
        "simd128"
    } else {
        "none"
    }
}

/// Checks that every element a strided `rows × cols` matrix view touches lies inside `len`.
pub(crate) fn check_view(
    what: &'static str,
    len: usize,
    rows: usize,
    cols: usize,
    rs: isize,
    cs: isize,
) -> Result<()> {
    if rows == 0 || cols == 0 {
        return Ok(());
    }
    if rs < 0 || cs < 0 {
        return Err(Error::param(
            what,
            (rs, cs),
            "negative strides are not supported",
        ));
    }
    let last = (rows - 1).checked_mul(rs as usize).and_then(|r| {
        (cols - 1)
            .checked_mul(cs as usize)
            .and_then(|c| r.checked_add(c))
    });
    match last {
        Some(l) if l < len => Ok(()),
        _ => Err(Error::shape(format!(
            "{what}: a {rows}×{cols} view with strides ({rs}, {cs}) needs more than the {len} elements given"
        ))),
    }
}

/// C ← α·A·B + β·C, where A is m×k, B is k×n and C is m×n, each addressed through a row
/// stride and a column stride (so a transpose is just swapped strides, no copy).
/// When β = 0, C is only written, never read (NaN in C does not propagate).
#[allow(clippy::too_many_arguments)]
pub fn sgemm(
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    a: &[f32],
    rsa: isize,
    csa: isize,
    b: &[f32],
    rsb: isize,
    csb: isize,
    beta: f32,
    c: &mut [f32],
    rsc: isize,
    csc: isize,
) -> Result<()> {
    check_view("A", a.len(), m, k, rsa, csa)?;
    check_view("B", b.len(), k, n, rsb, csb)?;
    check_view("C", c.len(), m, n, rsc, csc)?;
    let (rsa, csa, rsb, csb, rsc, csc) = (
        rsa as usize,
        csa as usize,
        rsb as usize,
        csb as usize,
        rsc as usize,
        csc as usize,
    );
    for i in 0..m {
        for j in 0..n {
            let mut acc = 0.0f32;
            for p in 0..k {
                acc += a[i * rsa + p * csa] * b[p * rsb + j * csb];
            }
            let cij = &mut c[i * rsc + j * csc];
            *cij = if beta == 0.0 {
                alpha * acc
            } else {
                alpha * acc + beta * *cij
            };
        }
    }
    Ok(())
}
