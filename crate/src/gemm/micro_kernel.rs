//! The one micro-kernel trait. A kernel computes one MR×NR tile of C from one packed A
//! micro-panel (k × MR, k-major) and one packed B micro-panel (k × NR, k-major):
//! `C_tile ← α·A_panel·B_panel + β·C_tile`, with β = 0 meaning "C is write-only".
//!
//! Micro-kernels only ever see full tiles: the driver (`driver.rs`) sends edge tiles through a
//! masked scratch tile, and the packing (`packing.rs`) zero-pads the panels.

pub(crate) trait MicroKernel {
    /// Rows of the register tile (and of a packed A micro-panel).
    const MR: usize;
    /// Columns of the register tile (and of a packed B micro-panel).
    const NR: usize;

    /// # Safety
    /// `a` is readable for `k * MR` floats, `b` for `k * NR` floats, and every
    /// `c + i*rsc + j*csc` for `i < MR`, `j < NR` is a distinct writable (and, when β ≠ 0,
    /// readable) float.
    #[allow(clippy::too_many_arguments)]
    unsafe fn tile(
        k: usize,
        alpha: f32,
        a: *const f32,
        b: *const f32,
        beta: f32,
        c: *mut f32,
        rsc: usize,
        csc: usize,
    );
}

/// Writes `α·acc + β·C` into one element; β = 0 never reads C (so NaN in C cannot leak).
#[inline(always)]
pub(crate) fn store_scaled(dst: &mut f32, acc: f32, alpha: f32, beta: f32) {
    *dst = if beta == 0.0 {
        alpha * acc
    } else {
        alpha * acc + beta * *dst
    };
}
