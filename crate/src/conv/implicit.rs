//! Convolution without a materialised im2col: an implicit GEMM.
//!
//! The column matrix's transpose `colᵀ[P, K]` (windows × taps) is an outer sum of offsets
//! into a zero-padded copy of the image: window `q = (oy, ox)` starts at
//! `rows[q] = oy·s_h·W_p + ox·s_w`, tap `t = (c, ky, kx)` lies at
//! `cols[t] = c·H_p·W_p + ky·d_h·W_p + kx·d_w` inside it. So the GEMM `C[P, O] = colᵀ · W_gᵀ`
//! reads A through those two tables ([`crate::gemm::Gathered`]) and its driver packs the
//! windows straight into the micro-kernel's A panels: nothing the size of `K × P` is written.
//! For the 3×3 32×64×64 → 64 conv that is 4.7 MB of im2col (past L2) written and read back,
//! against a 0.55 MB padded copy read from cache. The padding is materialised (once per
//! call, about one image) so the packing needs no bounds checks: MR neighbouring windows of
//! one row at stride 1 are MR consecutive floats, copied as `pack_a` copies a column.

use super::geometry::Window;
use crate::gemm::{MatMut, MatRef};
use crate::tensor::MAX_ELEMENTS;

/// The implicit GEMM takes convolutions whose im2col matrix would hold at least this many
/// floats (16 KB); below it the column matrix stays in L1 and building the offset tables
/// costs about as much as the copy it saves. A constant to adjust by measurement (the
/// benchmark's conv rows; docs/conv.md).
pub const IMPLICIT_MIN_COL: usize = 4096;

#[cfg(test)]
thread_local! {
    /// Tests: run the implicit GEMM one way round whatever the rule says (`None`: the rule).
    pub(crate) static FORCE_COLUMNS: std::cell::Cell<Option<bool>> = const { std::cell::Cell::new(None) };
}

/// Which way round the implicit GEMM runs under micro-kernel `kind` for `win` with `opg` output
/// channels per group: `true` = the windows as B's columns, `C[O, P] = W_g · col` (B gathered,
/// NR neighbouring windows copied as one run, C's rows the output planes), `false` = the
/// windows as A's rows, `C[P, O] = colᵀ · W_gᵀ` (A gathered, the weights pre-packed as B).
/// The one that pads fewer cells to whole MR × NR tiles, windows as columns on a tie: with
/// a 3×12 tile, 64 output channels are 72 tile columns one way (12% idle) and 66 tile rows
/// the other (3%).
pub fn windows_as_columns(kind: crate::gemm::KernelKind, win: &Window, opg: usize) -> bool {
    #[cfg(test)]
    if let Some(forced) = FORCE_COLUMNS.with(|f| f.get()) {
        return forced;
    }
    let (mr, nr, p) = (kind.mr(), kind.nr(), win.cols());
    let whole = |n: usize, t: usize| n.div_ceil(t) as u128 * t as u128;
    whole(opg, mr) * whole(p, nr) <= whole(p, mr) * whole(opg, nr)
}

/// `out[O, P] = w[O, K] · col[K, P]` with col read from `padded` through `offsets` (the windows
/// as B's columns, see [`windows_as_columns`]): one group's forward GEMM. `w` holds `O·K`
/// floats (row-major), `out` `O·P`.
pub fn windows_as_columns_gemm(
    padded: &[f32],
    offsets: &Offsets,
    w: &[f32],
    out: &mut [f32],
) -> crate::error::Result<()> {
    let (k, p) = (offsets.cols.len(), offsets.rows.len());
    let opg = w.len() / k.max(1);
    let b = crate::gemm::Gathered {
        data: padded,
        rows: &offsets.cols,
        cols: &offsets.rows,
    };
    crate::gemm::sgemm_b_gathered(
        opg,
        1.0,
        MatRef::new(w, k as isize, 1),
        b,
        0.0,
        MatMut::new(out, p as isize, 1),
    )
}

/// `(rows, cols)` of the zero-padded image: exactly the cells some window reads.
pub fn padded_dims(win: &Window) -> Option<(usize, usize)> {
    let [oh, ow] = win.out;
    let span = |o: usize, s: usize, k: usize, d: usize| -> Option<usize> {
        (o.checked_sub(1)?)
            .checked_mul(s)?
            .checked_add(k.checked_sub(1)?.checked_mul(d)?)?
            .checked_add(1)
    };
    Some((
        span(oh, win.stride[0], win.kernel[0], win.dilation[0])?,
        span(ow, win.stride[1], win.kernel[1], win.dilation[1])?,
    ))
}

/// Floats of the padded copy of one group's image.
pub fn padded_len(win: &Window) -> Option<usize> {
    let (ph, pw) = padded_dims(win)?;
    win.channels
        .checked_mul(ph)?
        .checked_mul(pw)
        .filter(|&n| n <= MAX_ELEMENTS)
}

/// Whether the implicit GEMM takes `win` (with `opg` output channels per group): a real
/// window (not 1×1 pointwise), a product the blocked driver runs (M = P ≥ 2 and N ≥ 2; the
/// matrix-vector cases keep im2col), an im2col matrix of at least [`IMPLICIT_MIN_COL`]
/// floats, and a padded copy no larger than that matrix (huge padding with few windows
/// stays on im2col, so the scratch never grows).
pub fn applies(win: &Window, opg: usize) -> bool {
    let col = win.col_len();
    !win.is_pointwise()
        && win.cols() >= 2
        && opg >= 2
        && col >= IMPLICIT_MIN_COL
        && padded_len(win).is_some_and(|n| n <= col)
}

/// The offset tables of [`Window`] over its padded image: `rows` (one per window position, in
/// raster order) and `cols` (one per tap, in the weight's order).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Offsets {
    pub rows: Vec<usize>,
    pub cols: Vec<usize>,
}

impl Offsets {
    /// Callers check [`padded_len`] first (so no product here overflows).
    pub fn new(win: &Window) -> Offsets {
        let (ph, pw) = padded_dims(win).unwrap_or((0, 0));
        let [oh, ow] = win.out;
        let [kh, kw] = win.kernel;
        let ([s0, s1], [d0, d1]) = (win.stride, win.dilation);
        let mut rows = Vec::with_capacity(oh * ow);
        for oy in 0..oh {
            rows.extend((0..ow).map(|ox| oy * s0 * pw + ox * s1));
        }
        let mut cols = Vec::with_capacity(win.rows());
        for c in 0..win.channels {
            for ky in 0..kh {
                cols.extend((0..kw).map(|kx| c * ph * pw + ky * d0 * pw + kx * d1));
            }
        }
        Offsets { rows, cols }
    }
}

/// Writes every cell of `padded` (`[channels, H_p, W_p]`, [`padded_len`] floats): the image
/// where it lies (shifted by the top/left padding), zero elsewhere.
pub fn pad_image(win: &Window, img: &[f32], padded: &mut [f32]) {
    let Some((ph, pw)) = padded_dims(win) else {
        return;
    };
    let (h, w) = (win.height, win.width);
    let [pt, pl] = win.pad;
    // image columns pl.. land at padded columns pl..pl + w, cut at W_p
    let (x0, n) = (pl.min(pw), w.min(pw.saturating_sub(pl)));
    for (c, plane) in padded
        .chunks_exact_mut(ph * pw)
        .take(win.channels)
        .enumerate()
    {
        for (r, dst) in plane.chunks_exact_mut(pw).enumerate() {
            let iy = r.wrapping_sub(pt);
            if iy >= h || n == 0 {
                dst.fill(0.0);
                continue;
            }
            let src = &img[(c * h + iy) * w..][..n];
            dst[..x0].fill(0.0);
            dst[x0..x0 + n].copy_from_slice(src);
            dst[x0 + n..].fill(0.0);
        }
    }
}
