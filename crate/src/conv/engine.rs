//! The three GEMMs every convolution is made of (im2col / col2im), written once on a [`ConvPlan`]
//! and shared by `conv2d`, `conv_transpose2d` and their backward passes:
//!
//! | function | computes | used as |
//! |---|---|---|
//! | [`image_to_small`] | `small[o, p] = Σ_k W[o, k] · col(image)[k, p]` | conv2d forward, conv_transpose2d dX |
//! | [`small_to_image`] | `image = col2im(Wᵀ · small)` | conv_transpose2d forward, conv2d dX |
//! | [`weight_grad`] | `dW[o, k] = Σ_n Σ_p small[o, p] · col(image)[k, p]` | dW of both |
//!
//! The column matrix is `[K, P]` row-major (cheap to build: each row is a shifted copy of an
//! image row). The forward GEMM reads it transposed through strides, `C[P, O] = col[P, K]·Wᵀ[K, O]`
//! with C written straight into NCHW (`rsc = 1, csc = P`), so a conv with few output channels
//! still gives the GEMM a long M = P.

use super::geometry::{col2im, col2im_rows, im2col, ConvPlan, Window};
use super::{direct, implicit, phases};
use crate::error::Result;
use crate::gemm::{
    selected_kernel, sgemm, sgemm_gathered, sgemm_packed, sgemm_packed_gathered, Gathered,
    KernelKind, PackedB,
};
use crate::gemm::{MatMut, MatRef};

/// How [`image_to_small`] computes one group: the one choice per shape and micro-kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Path {
    /// 1×1, stride 1, unpadded: the image is the column matrix.
    Pointwise,
    /// Few taps: `conv::direct` (its limit follows the micro-kernel).
    Direct,
    /// The implicit GEMM over a padded copy (`conv::implicit`): no im2col matrix.
    Implicit,
    /// im2col + GEMM: the reference path, and what the rest take.
    Im2col,
}

/// The path [`image_to_small`] takes for `win` with `opg` small channels per group on
/// micro-kernel `kind`: pointwise, then direct (few taps), then implicit (large im2col
/// matrices), else im2col.
pub fn path(kind: KernelKind, win: &Window, opg: usize) -> Path {
    if win.is_pointwise() {
        Path::Pointwise
    } else if direct::scratch_len(kind, win).is_some() {
        Path::Direct
    } else if implicit::applies(win, opg) {
        Path::Implicit
    } else {
        Path::Im2col
    }
}

/// Scratch floats `path` needs for one group of `win`.
pub fn path_scratch(path: Path, kind: KernelKind, win: &Window) -> usize {
    match path {
        Path::Pointwise => 0,
        Path::Direct => direct::scratch_len(kind, win).unwrap_or(0),
        Path::Implicit => implicit::padded_len(win).unwrap_or(0),
        Path::Im2col => win.col_len(),
    }
}

/// Scratch for a forward conv (`image_to_small` under the micro-kernel in force): only what
/// its path needs, so the implicit path never allocates the im2col matrix.
pub fn forward_scratch(plan: &ConvPlan) -> Vec<f32> {
    let kind = selected_kernel();
    let p = path(kind, &plan.win, plan.small_per_group());
    vec![0.0; path_scratch(p, kind, &plan.win)]
}

/// From this horizontal stride up, [`small_to_image`] multiplies into the transposed column
/// matrix `[P, K]` and scatters whole kernel rows ([`col2im_rows`]: `kw` floats per add, a
/// vector) instead of `[K, P]` rows whose stride-`s` scatter goes one float at a time. At
/// stride 1 the `[K, P]` rows are contiguous runs of `W_out` floats, longer vectors than a
/// kernel row, so they stay. (A constant to adjust by measurement: docs/conv.md.)
pub const STAMP_ROWS_MIN_STRIDE: usize = 2;

/// Whether [`small_to_image`] scatters the window's stamps kernel row by kernel row.
pub fn stamp_rows(win: &Window) -> bool {
    win.stride[1] >= STAMP_ROWS_MIN_STRIDE && win.dilation[1] == 1
}

/// Scratch for one group's column matrix (or the direct path's padded image, whichever is
/// larger; empty for pointwise convs).
pub fn col_scratch(plan: &ConvPlan) -> Vec<f32> {
    if plan.win.is_pointwise() {
        Vec::new()
    } else {
        let direct = direct::scratch_len(selected_kernel(), &plan.win).unwrap_or(0);
        vec![0.0; plan.win.col_len().max(direct)]
    }
}

/// `small = conv(image; w)` (+ bias per small channel). Every cell of `small` is written.
pub fn image_to_small(
    plan: &ConvPlan,
    image: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    small: &mut [f32],
    col: &mut [f32],
) -> Result<()> {
    let win = &plan.win;
    let (k, p) = (win.rows(), win.cols());
    let opg = plan.small_per_group();
    let img_g = win.image_len();
    let kind = selected_kernel();
    if let Some(b) = bias.filter(|b| b.len() != plan.small_channels) {
        return Err(crate::Error::shape(format!(
            "conv bias has {} values for {} output channels",
            b.len(),
            plan.small_channels
        )));
    }
    // A scratch too small for the chosen path (a caller's buffer) falls back to im2col when
    // that fits; callers size it with `forward_scratch` or `col_scratch`.
    let mut chosen = path(kind, win, opg);
    if path_scratch(chosen, kind, win) > col.len() {
        chosen = if win.col_len() <= col.len() {
            Path::Im2col
        } else {
            return Err(crate::Error::shape(format!(
                "conv scratch has {} floats, the {chosen:?} path needs {}",
                col.len(),
                path_scratch(chosen, kind, win)
            )));
        };
    }
    let offsets = match chosen {
        Path::Implicit => implicit::Offsets::new(win),
        _ => implicit::Offsets::default(),
    };
    // The direct path's SIMD tiles read the weights laid out per group: once per call here,
    // not once per image. The direct path adds the bias in its accumulators (the layout's
    // last row); the other paths add it in a pass of their own below.
    let bias_of_group = |g: usize| bias.map(|b| &b[g * opg..(g + 1) * opg]);
    let per_group = match (chosen, is_simd(kind)) {
        (Path::Direct, true) => direct::packed_len(k, opg).unwrap_or(0),
        _ => 0,
    };
    let mut direct_packed = vec![0.0f32; per_group * plan.groups];
    for (g, dst) in direct_packed.chunks_exact_mut(per_group.max(1)).enumerate() {
        let wg = &w[g * opg * k..(g + 1) * opg * k];
        direct::pack_weights(k, opg, wg, bias_of_group(g), dst);
    }
    for n in 0..plan.batch {
        for g in 0..plan.groups {
            let img = &image[(n * plan.groups + g) * img_g..][..img_g];
            let out = &mut small[(n * plan.small_channels + g * opg) * p..][..opg * p];
            let w_g = GroupWeights {
                raw: &w[g * opg * k..(g + 1) * opg * k],
                packed: None,
                direct: (per_group > 0).then(|| &direct_packed[g * per_group..(g + 1) * per_group]),
                bias: bias_of_group(g),
            };
            forward_group(kind, win, opg, chosen, Some(&offsets), img, w_g, out, col)?;
        }
        // The direct path added the bias in its accumulators.
        if let Some(b) = bias.filter(|_| chosen != Path::Direct) {
            add_channel_bias(
                &mut small[n * plan.small_channels * p..][..plan.small_channels * p],
                p,
                b,
            );
        }
    }
    Ok(())
}

/// One group's weights as a forward conv reads them: raw `W_g` (`[C_out/groups, K]` row-major),
/// and, when made once beforehand, packed as the GEMM's B (`PreparedConv2d`) and laid out for
/// the direct path's tiles (with the bias); the group's bias.
#[derive(Clone, Copy)]
pub(crate) struct GroupWeights<'a> {
    pub raw: &'a [f32],
    pub packed: Option<&'a PackedB>,
    pub direct: Option<&'a [f32]>,
    pub bias: Option<&'a [f32]>,
}

/// `out = conv(img; W_g)` for one group of one image along `path`: the one place a forward
/// convolution runs, for raw weights ([`image_to_small`]) and prepared ones
/// (`PreparedConv2d`). `out` is that group's `[C_out/groups, P]` planes; `col` holds at least
/// [`path_scratch`] floats; `offsets` are the implicit path's tables (needed on that path).
/// The direct path adds the group's bias in its accumulators, the others leave it out.
#[allow(clippy::too_many_arguments)]
pub(crate) fn forward_group(
    kind: KernelKind,
    win: &Window,
    opg: usize,
    path: Path,
    offsets: Option<&implicit::Offsets>,
    img: &[f32],
    w: GroupWeights,
    out: &mut [f32],
    col: &mut [f32],
) -> Result<()> {
    let (k, p) = (win.rows(), win.cols());
    let a: &[f32] = match path {
        Path::Direct => {
            direct::conv_bias(kind, win, img, w.raw, w.bias, w.direct, out, col);
            return Ok(());
        }
        Path::Implicit => {
            let offsets = offsets
                .ok_or_else(|| crate::Error::shape("the implicit path needs its offset tables"))?;
            let padded = &mut col[..path_scratch(path, kind, win)];
            implicit::pad_image(win, img, padded);
            if implicit::windows_as_columns(kind, win, opg) {
                return implicit::windows_as_columns_gemm(padded, offsets, w.raw, out);
            }
            let a = Gathered {
                data: padded,
                rows: &offsets.rows,
                cols: &offsets.cols,
            };
            // C[P, O] = colᵀ[P, K] · W_gᵀ[K, O], A gathered from the padded image.
            return match w.packed {
                Some(b) => sgemm_packed_gathered(1.0, a, b, 0.0, MatMut::new(out, 1, p as isize)),
                None => sgemm_gathered(
                    opg,
                    1.0,
                    a,
                    MatRef::new(w.raw, 1, k as isize),
                    0.0,
                    MatMut::new(out, 1, p as isize),
                ),
            };
        }
        Path::Pointwise => img,
        Path::Im2col => {
            let col = &mut col[..win.col_len()];
            im2col(win, img, col)?;
            col
        }
    };
    // C[P, O] = A[P, K] · B[K, O]: A = colᵀ, B = W_gᵀ, C = the NCHW output planes.
    match w.packed {
        Some(b) => sgemm_packed(
            p,
            1.0,
            MatRef::new(a, 1, p as isize),
            b,
            0.0,
            MatMut::new(out, 1, p as isize),
        ),
        None => sgemm(
            [p, k, opg],
            1.0,
            MatRef::new(a, 1, p as isize),
            MatRef::new(w.raw, 1, k as isize),
            0.0,
            MatMut::new(out, 1, p as isize),
        ),
    }
}

/// Adds `bias[c]` to every value of plane `c` of one image's `planes` (each `plane_len` long).
pub(crate) fn add_channel_bias(planes: &mut [f32], plane_len: usize, bias: &[f32]) {
    for (plane, &bv) in planes.chunks_exact_mut(plane_len).zip(bias) {
        for v in plane {
            *v += bv;
        }
    }
}

/// `image = conv_transpose(small; w)` (+ bias per image channel): the adjoint of
/// [`image_to_small`]. Every cell of `image` is written (it is cleared first).
pub fn small_to_image(
    plan: &ConvPlan,
    small: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    image: &mut [f32],
    col: &mut [f32],
) -> Result<()> {
    let win = &plan.win;
    let (k, p) = (win.rows(), win.cols());
    let opg = plan.small_per_group();
    let img_g = win.image_len();
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    if let Some(phases) = phases_path(selected_kernel(), win, opg) {
        return small_to_image_phases(plan, &phases, small, w, bias, image);
    }
    for n in 0..plan.batch {
        for g in 0..plan.groups {
            let sm = &small[(n * plan.small_channels + g * opg) * p..][..opg * p];
            let wg = &w[g * opg * k..(g + 1) * opg * k];
            let img = &mut image[(n * plan.groups + g) * img_g..][..img_g];
            let bg = bias.map(|b| &b[g * win.channels..(g + 1) * win.channels]);
            transpose_group(win, opg, sm, GroupB::Raw(wg), bg, img, col)?;
        }
    }
    Ok(())
}

/// One group's weights as a transposed conv's GEMM reads them (B = `W_g`, `[C_in/groups, K]`):
/// raw, or packed once beforehand (`PreparedConvTranspose2d`).
#[derive(Clone, Copy)]
pub(crate) enum GroupB<'a> {
    Raw(&'a [f32]),
    Packed(&'a PackedB),
}

/// `img = conv_transpose(sm; W_g) + bias` for one group of one image along the GEMM paths:
/// the one place they run, for raw weights ([`small_to_image`]) and packed ones
/// (`PreparedConvTranspose2d`). The planes start as the bias and every path adds onto them:
/// packed weights run `Cᵀ[P, K] = smᵀ · W_g` and scatter whole kernel rows ([`col2im_rows`]);
/// raw ones take the pointwise product, kernel-row stamps ([`stamp_rows`]) or `[K, P]` rows
/// and [`col2im`]. `col` holds at least the window's column matrix.
pub(crate) fn transpose_group(
    win: &Window,
    opg: usize,
    sm: &[f32],
    w: GroupB,
    bias: Option<&[f32]>,
    img: &mut [f32],
    col: &mut [f32],
) -> Result<()> {
    let (k, p) = (win.rows(), win.cols());
    let hw = win.height * win.width;
    for (c, plane) in img.chunks_exact_mut(hw.max(1)).enumerate() {
        plane.fill(bias.map_or(0.0, |b| b[c]));
    }
    match w {
        GroupB::Packed(wg) => {
            let colt = &mut col[..win.col_len()];
            // Cᵀ[P, K] = smallᵀ[P, C_in/g] · W_g[C_in/g, K], tiles stored row by row.
            sgemm_packed(
                p,
                1.0,
                MatRef::new(sm, 1, p as isize),
                wg,
                0.0,
                MatMut::new(colt, k as isize, 1),
            )?;
            col2im_rows(win, colt, img)
        }
        // C[K, P] += A[K, O] · B[O, P]: A = W_gᵀ, B = the small planes (β = 1: onto the bias).
        GroupB::Raw(wg) if win.is_pointwise() => sgemm(
            [k, opg, p],
            1.0,
            MatRef::new(wg, 1, k as isize),
            MatRef::new(sm, p as isize, 1),
            1.0,
            MatMut::new(img, p as isize, 1),
        ),
        GroupB::Raw(wg) if stamp_rows(win) => {
            // Cᵀ[P, K] = A[P, O] · B[O, K]: A = the small planes read transposed, B = W_g.
            let colt = &mut col[..win.col_len()];
            sgemm(
                [p, opg, k],
                1.0,
                MatRef::new(sm, 1, p as isize),
                MatRef::new(wg, k as isize, 1),
                0.0,
                MatMut::new(colt, k as isize, 1),
            )?;
            col2im_rows(win, colt, img)
        }
        GroupB::Raw(wg) => {
            let col = &mut col[..win.col_len()];
            sgemm(
                [k, opg, p],
                1.0,
                MatRef::new(wg, 1, k as isize),
                MatRef::new(sm, p as isize, 1),
                0.0,
                MatMut::new(col, p as isize, 1),
            )?;
            col2im(win, col, img)
        }
    }
}

/// Whether `kind` is one of the SIMD micro-kernels (the ones the pixel tiles and the phases
/// run with).
pub(crate) fn is_simd(kind: KernelKind) -> bool {
    matches!(kind, KernelKind::Simd128 | KernelKind::Relaxed)
}

/// From this stride up (either axis), [`small_to_image`] runs phase by phase
/// ([`phases::Phases`]: s² stride-1 correlations with the direct path's pixel tiles) under
/// the SIMD micro-kernels, when the phases take the window; stride 1 (conv2d's input
/// gradient) keeps its GEMM paths. (A constant to adjust by measurement: docs/conv.md.)
pub const PHASES_MIN_STRIDE: usize = 2;

/// The phase plan [`small_to_image`] runs for `win` with `opg` small channels per group under
/// micro-kernel `kind`, or `None` for its GEMM + col2im paths.
pub fn phases_path(kind: KernelKind, win: &Window, opg: usize) -> Option<phases::Phases> {
    let strided = win.stride[0].max(win.stride[1]) >= PHASES_MIN_STRIDE;
    (is_simd(kind) && strided && !win.is_pointwise())
        .then(|| phases::Phases::new(win, opg))
        .flatten()
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
thread_local! {
    /// The phase path's padded copy and packed weights (reused across calls).
    static PHASE_BUF: std::cell::Cell<Vec<f32>> = const { std::cell::Cell::new(Vec::new()) };
}

/// [`small_to_image`] phase by phase: every group of every image, the bias in the tiles'
/// accumulators. Only [`phases_path`] plans come here (SIMD kinds).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn small_to_image_phases(
    plan: &ConvPlan,
    phases: &phases::Phases,
    small: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    image: &mut [f32],
) -> Result<()> {
    let win = &plan.win;
    let (k, p, opg) = (win.rows(), win.cols(), plan.small_per_group());
    let img_g = win.image_len();
    let (padded_len, packed_len) = (phases.padded_len(), phases.packed_len(win.channels));
    let mut buf = PHASE_BUF.with(|c| c.take());
    if buf.len() < padded_len + packed_len {
        buf.resize(padded_len + packed_len, 0.0);
    }
    let (padded, packed) = buf[..padded_len + packed_len].split_at_mut(padded_len);
    for g in 0..plan.groups {
        let wg = &w[g * opg * k..(g + 1) * opg * k];
        let bg = bias.map(|b| &b[g * win.channels..(g + 1) * win.channels]);
        phases.pack(win, wg, bg, packed);
        for n in 0..plan.batch {
            let sm = &small[(n * plan.small_channels + g * opg) * p..][..opg * p];
            let img = &mut image[(n * plan.groups + g) * img_g..][..img_g];
            if let Err(e) = phases.group(win, sm, padded, packed, img) {
                PHASE_BUF.with(|c| c.set(buf));
                return Err(e);
            }
        }
    }
    PHASE_BUF.with(|c| c.set(buf));
    Ok(())
}

/// conv2d's input gradient as a forward conv, when that can run as an implicit GEMM: at stride
/// 1, `dX[c, y, x] = Σ_(o, ky, kx) dY[o, y + pt − ky·d, x + pl − kx·d] · W[o, c, ky, kx]` is the
/// correlation of dY (zero-padded by `d·(k−1) − pad` before) with the kernel turned by 180°
/// and its channel axes swapped. Returns that plan (image = dY, small = dX) when the stride is
/// 1, the padding at most the dilated kernel's reach, and [`implicit::applies`] takes it.
pub(crate) fn input_grad_as_conv(plan: &ConvPlan) -> Option<ConvPlan> {
    let win = &plan.win;
    if win.stride != [1, 1] {
        return None;
    }
    let reach = [
        win.dilation[0] * (win.kernel[0] - 1),
        win.dilation[1] * (win.kernel[1] - 1),
    ];
    let pad = [
        reach[0].checked_sub(win.pad[0])?,
        reach[1].checked_sub(win.pad[1])?,
    ];
    let flipped = ConvPlan {
        batch: plan.batch,
        groups: plan.groups,
        image_channels: plan.small_channels,
        small_channels: plan.image_channels,
        win: Window {
            channels: plan.small_per_group(),
            height: win.out[0],
            width: win.out[1],
            kernel: win.kernel,
            stride: [1, 1],
            pad,
            dilation: win.dilation,
            out: [win.height, win.width],
        },
    };
    implicit::applies(&flipped.win, flipped.small_per_group()).then_some(flipped)
}

/// conv2d's `dX` from `dY` (every cell written): through `input_grad_as_conv` (an implicit
/// GEMM, no column matrix) when it applies, else [`small_to_image`] (a GEMM into the column
/// matrix, then col2im) with the caller's scratch `col`.
pub fn input_grad(
    plan: &ConvPlan,
    dy: &[f32],
    w: &[f32],
    dx: &mut [f32],
    col: &mut [f32],
) -> Result<()> {
    let Some(flipped) = input_grad_as_conv(plan) else {
        return small_to_image(plan, dy, w, None, dx, col);
    };
    // W'[g·cpg + c, o, ky', kx'] = W[g·opg + o, c, kh−1−ky', kw−1−kx']
    let (opg, cpg) = (plan.small_per_group(), plan.win.channels);
    let [kh, kw] = plan.win.kernel;
    let mut wf = vec![0.0f32; w.len()];
    for g in 0..plan.groups {
        for o in 0..opg {
            for c in 0..cpg {
                for ky in 0..kh {
                    for kx in 0..kw {
                        let src = (((g * opg + o) * cpg + c) * kh + ky) * kw + kx;
                        let dst =
                            (((g * cpg + c) * opg + o) * kh + (kh - 1 - ky)) * kw + (kw - 1 - kx);
                        wf[dst] = w[src];
                    }
                }
            }
        }
    }
    let mut scratch = forward_scratch(&flipped);
    image_to_small(&flipped, dy, &wf, None, dx, &mut scratch)
}

/// `dw[o, k] = Σ_n Σ_p small[n, o, p] · col(image_n)[k, p]`. Every cell of `dw` is written.
/// Windows the implicit GEMM takes ([`implicit::applies`]) never build the column matrix here
/// either: `dWᵀ[K, O] = col[K, P] · smallᵀ[P, O]` with `col` gathered from the padded image
/// (the forward's offset tables with their roles swapped: taps are A's rows, windows its
/// columns), so MR neighbouring taps of a kernel row are MR consecutive floats.
pub fn weight_grad(
    plan: &ConvPlan,
    image: &[f32],
    small: &[f32],
    dw: &mut [f32],
    col: &mut [f32],
) -> Result<()> {
    let win = &plan.win;
    let (k, p) = (win.rows(), win.cols());
    let opg = plan.small_per_group();
    // Where the forward takes the direct path, so does dW (the SIMD pixel tiles).
    let shape = (plan.groups, opg, plan.batch);
    if direct::weight_grad(selected_kernel(), win, shape, image, small, dw) {
        return Ok(());
    }
    let img_g = win.image_len();
    let padded_len = implicit::padded_len(win).unwrap_or(usize::MAX);
    let offsets = (implicit::applies(win, opg) && padded_len <= col.len())
        .then(|| implicit::Offsets::new(win));
    for n in 0..plan.batch {
        let beta = if n == 0 { 0.0 } else { 1.0 };
        for g in 0..plan.groups {
            let img = &image[(n * plan.groups + g) * img_g..][..img_g];
            let sm = &small[(n * plan.small_channels + g * opg) * p..][..opg * p];
            let dwg = &mut dw[g * opg * k..(g + 1) * opg * k];
            if let Some(o) = &offsets {
                let padded = &mut col[..padded_len];
                implicit::pad_image(win, img, padded);
                let a = Gathered {
                    data: padded,
                    rows: &o.cols,
                    cols: &o.rows,
                };
                // C[K, O] = col[K, P] · smallᵀ[P, O], stored as dW[O, K] (rsc = 1, csc = K).
                sgemm_gathered(
                    opg,
                    1.0,
                    a,
                    MatRef::new(sm, 1, p as isize),
                    beta,
                    MatMut::new(dwg, 1, k as isize),
                )?;
                continue;
            }
            let b: &[f32] = if win.is_pointwise() {
                img
            } else {
                let col = &mut col[..win.col_len()];
                im2col(win, img, col)?;
                col
            };
            // C[O, K] = A[O, P] · B[P, K]: A = small planes, B = colᵀ.
            sgemm(
                [opg, p, k],
                1.0,
                MatRef::new(sm, p as isize, 1),
                MatRef::new(b, 1, p as isize),
                beta,
                MatMut::new(dwg, k as isize, 1),
            )?;
        }
    }
    Ok(())
}

/// Sum of each channel of an NCHW tensor over batch and pixels (the bias gradient).
pub fn channel_sums(data: &[f32], batch: usize, channels: usize, hw: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; channels];
    for n in 0..batch {
        for (c, o) in out.iter_mut().enumerate() {
            *o += plane_sum(&data[(n * channels + c) * hw..][..hw]) as f32;
        }
    }
    out
}

/// The sum of a plane in f64 (so large planes stay accurate), over four running sums that the
/// compiler keeps in SIMD registers (one chain of dependent f64 adds was a fortieth of a cnn
/// training step).
fn plane_sum(plane: &[f32]) -> f64 {
    let mut acc = [0.0f64; 4];
    let chunks = plane.chunks_exact(4);
    let rest = chunks.remainder();
    for c in chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a += v as f64;
        }
    }
    rest.iter()
        .fold((acc[0] + acc[1]) + (acc[2] + acc[3]), |s, &v| s + v as f64)
}
