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

use super::geometry::{
    col2im, col2im_rows, col2im_rows_channels, im2col, im2col_rows, ConvPlan, Window,
};
use super::{direct, implicit, phases};
use crate::error::Result;
use crate::gemm::{
    selected_kernel, sgemm, sgemm_gathered, sgemm_packed, sgemm_packed_gathered, Gathered,
    KernelKind, PackedB,
};
use crate::gemm::{MatMut, MatRef};
use crate::threadpool::{tasks_for, try_for_each, Chunks};

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
    check_lengths(plan, image.len(), small.len(), w.len())?;
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
    let pairs = plan.batch * plan.groups;
    // Pair i is group i % groups of image i / groups: its image and its output planes are
    // the i-th of their kind.
    let pair = |i: usize, out: &mut [f32], col: &mut [f32], tasks: usize| -> Result<()> {
        let g = i % plan.groups;
        let w_g = GroupWeights {
            raw: &w[g * opg * k..(g + 1) * opg * k],
            packed: None,
            direct: (per_group > 0).then(|| &direct_packed[g * per_group..(g + 1) * per_group]),
            bias: bias_of_group(g),
        };
        let img = &image[i * img_g..][..img_g];
        forward_group_split(
            kind,
            win,
            opg,
            chosen,
            Some(&offsets),
            img,
            w_g,
            out,
            col,
            tasks,
        )?;
        // The direct path added the bias in its accumulators.
        if let Some(b) = w_g.bias.filter(|_| chosen != Path::Direct) {
            add_channel_bias(out, p, b);
        }
        Ok(())
    };
    let tasks = tasks_for(pair_work(plan).saturating_mul(pairs));
    // Inside a pair the direct path splits its output rows or channels (when it has two
    // parts of them), the other paths their GEMM.
    let inner =
        chosen != Path::Direct || direct_pair_split(kind, win, opg, per_group > 0, tasks).is_some();
    let split = split_pairs(pairs, tasks, inner);
    for_pairs(pairs, tasks, split, opg * p, small, col, &pair)
}

/// Multiply-adds of one (image, group) pair of `plan`'s convolution (either direction, or its
/// weight gradient): `C_small/groups · P · K`.
fn pair_work(plan: &ConvPlan) -> usize {
    plan.small_per_group()
        .saturating_mul(plan.win.cols())
        .saturating_mul(plan.win.rows())
}

/// Whether `pairs` (image, group) pairs are cut into whole pairs per task: when there are at
/// least as many as tasks, and every task gets as many or each at least four, or a pair
/// cannot split inside (`inner` false). Else the pairs run one after another, each split
/// inside (output channels, or the GEMM's tiles): 3 pairs on 2 threads take 1.5 pairs' time
/// that way, 2 as whole pairs.
pub(crate) fn split_pairs(pairs: usize, tasks: usize, inner: bool) -> bool {
    tasks > 1 && pairs >= tasks && (!inner || pairs.is_multiple_of(tasks) || pairs >= 4 * tasks)
}

/// Checks the lengths of a plan's image, small and weight buffers (`batch · groups` pairs of
/// the first two, `C_small · K` weights).
fn check_lengths(plan: &ConvPlan, image: usize, small: usize, w: usize) -> Result<()> {
    let pairs = plan.batch * plan.groups;
    let want = (
        pairs * plan.win.image_len(),
        pairs * plan.small_per_group() * plan.win.cols(),
        plan.small_channels * plan.win.rows(),
    );
    if (image, small, w) != want {
        return Err(crate::Error::shape(format!(
            "conv buffers hold {image}, {small} and {w} floats (image, small, weights); the plan needs {}, {} and {}",
            want.0, want.1, want.2
        )));
    }
    Ok(())
}

/// One (image, group) pair's computation: `(pair, its output, scratch, tasks inside)`.
type PairTask<'a> = dyn Fn(usize, &mut [f32], &mut [f32], usize) -> Result<()> + Sync + 'a;

/// Runs `pair(i, out_i, scratch, inner)` for every (image, group) pair `i`, where `out_i` is
/// the pair's `out_len` floats of `out`: whole pairs per task when `split` ([`split_pairs`])
/// (each task with its own scratch as long as `col`, the first task `col` itself; `inner` = 1),
/// else pair after pair with `col` and `inner` = `tasks` (the pair splits itself).
fn for_pairs(
    pairs: usize,
    tasks: usize,
    split: bool,
    out_len: usize,
    out: &mut [f32],
    col: &mut [f32],
    pair: &PairTask,
) -> Result<()> {
    let out_len = out_len.max(1);
    if !split {
        for (i, out) in out.chunks_exact_mut(out_len).enumerate() {
            pair(i, out, col, tasks)?;
        }
        return Ok(());
    }
    let chunks = Chunks::new(pairs, 1, tasks);
    let mut scratch: Vec<Vec<f32>> = (1..chunks.parts).map(|_| vec![0.0; col.len()]).collect();
    let cols = std::iter::once(col).chain(scratch.iter_mut().map(Vec::as_mut_slice));
    let items: Vec<_> = out.chunks_mut(chunks.chunk * out_len).zip(cols).collect();
    try_for_each(items, &|t, (out, col)| {
        let first = chunks.range(t).start;
        for (j, out) in out.chunks_exact_mut(out_len).enumerate() {
            pair(first + j, out, col, 1)?;
        }
        Ok(())
    })
}

/// [`forward_group`] on `tasks` threads: the direct path's output rows in bands, each task
/// padding only the input rows its band reads, or its output channels in runs (whole panels
/// of its SIMD tiles) over one padded copy of the image ([`direct_pair_split`]), each output
/// computed as in one call; the other paths as [`forward_group`] (their GEMM splits itself).
#[allow(clippy::too_many_arguments)]
pub(crate) fn forward_group_split(
    kind: KernelKind,
    win: &Window,
    opg: usize,
    path: Path,
    offsets: Option<&implicit::Offsets>,
    img: &[f32],
    w: GroupWeights,
    out: &mut [f32],
    col: &mut [f32],
    tasks: usize,
) -> Result<()> {
    let split = match path {
        Path::Direct => direct_pair_split(kind, win, opg, w.direct.is_some(), tasks),
        _ => None,
    };
    let (k, p, nr) = (win.rows(), win.cols(), direct::panel_width(opg));
    match split {
        None => forward_group(kind, win, opg, path, offsets, img, w, out, col),
        Some(Split::Rows(split)) => {
            let packed = w.direct.map(|d| (d, nr));
            let planes = direct::Planes::new(out);
            try_for_each(vec![(); split.parts], &|t, ()| {
                let rows = split.range(t);
                let too_large =
                    || crate::Error::shape("the direct path's padded band is too large");
                let len = direct::band_len(win, rows.clone()).ok_or_else(too_large)?;
                direct::with_band(len, |buf| {
                    let band =
                        direct::pad_rows(win, img, direct::band_rows(win, rows.clone()), buf)
                            .ok_or_else(too_large)?;
                    // safety: the bands of `split` are disjoint rows, each run by one task.
                    unsafe {
                        direct::conv_band(kind, win, band, rows, w.raw, w.bias, packed, planes)
                    };
                    Ok(())
                })
            })
        }
        Some(Split::Channels(split)) => {
            let padded = direct::pad(win, img, col).ok_or_else(|| {
                crate::Error::shape("the direct path's padded image is too large")
            })?;
            let items: Vec<&mut [f32]> = out.chunks_mut(split.chunk * p.max(1)).collect();
            try_for_each(items, &|t, out| {
                let o = split.range(t);
                // A run starts on a panel (the split's unit), so its panels are a slice of them.
                let packed = w.direct.map(|d| (&d[o.start / nr * (k + 1) * nr..], nr));
                let raw = &w.raw[o.start * k..o.end * k];
                let bias = w.bias.map(|b| &b[o.clone()]);
                direct::conv_padded(kind, win, padded, raw, bias, packed, out);
                Ok(())
            })
        }
    }
}

/// How one (image, group) pair of the direct path or of the phases is cut for its threads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Split {
    /// Bands of output rows, every output channel in each: a task reads only the input rows
    /// its band needs.
    Rows(Chunks),
    /// Runs of output channels (whole panels of the SIMD tiles), each over the whole input.
    Channels(Chunks),
}

/// Cuts a pair of `rows` output rows (`row_work` multiply-adds each) and `channels` output
/// channels (in runs of whole `unit`s) for `tasks` threads: by rows or by channels, whichever
/// leaves the smaller largest part (the time the pair takes), rows on a tie (their tasks read
/// only their own input rows: measured faster, docs/conv.md "Threads"); `None` when neither
/// makes two parts. No band of rows is below [`crate::threadpool::MIN_TASK_WORK`]
/// ([`Chunks::for_work`]).
pub(crate) fn pair_split(
    rows: usize,
    row_work: usize,
    channels: usize,
    unit: usize,
    tasks: usize,
) -> Option<Split> {
    let unit = unit.max(1);
    let by_rows = Chunks::for_work(rows, 1, row_work, tasks);
    let by_channels = Chunks::for_work(
        channels,
        unit,
        row_work.saturating_mul(rows) / channels.max(1),
        tasks,
    );
    match (by_rows.parts > 1, by_channels.parts > 1) {
        (false, false) => None,
        (true, false) => Some(Split::Rows(by_rows)),
        (false, true) => Some(Split::Channels(by_channels)),
        (true, true) => {
            // The largest part's share: chunk / rows against (chunk / unit) / panels (a
            // panel's tiles cost the same however many of its channels are real).
            let panels = channels.div_ceil(unit);
            let rows_share = by_rows.chunk.saturating_mul(panels);
            let channels_share = (by_channels.chunk / unit).saturating_mul(rows);
            Some(if rows_share <= channels_share {
                Split::Rows(by_rows)
            } else {
                Split::Channels(by_channels)
            })
        }
    }
}

/// [`pair_split`] for one group of the direct path ([`direct_split`]'s channel runs).
pub(crate) fn direct_pair_split(
    kind: KernelKind,
    win: &Window,
    opg: usize,
    packed: bool,
    tasks: usize,
) -> Option<Split> {
    let unit = direct_unit(kind, opg, packed);
    let row_work = opg.saturating_mul(win.out[1]).saturating_mul(win.rows());
    pair_split(win.out[0], row_work, opg, unit, tasks)
}

/// The direct path's unit of output channels: a panel of the SIMD tiles' packed weights (when
/// they are given: `packed`), else one channel.
fn direct_unit(kind: KernelKind, opg: usize, packed: bool) -> usize {
    if packed && is_simd(kind) {
        direct::panel_width(opg)
    } else {
        1
    }
}

/// How the direct path cuts `opg` output channels for `tasks` threads: runs of whole panels
/// of the SIMD tiles' packed weights (when they are given: `packed`), else of single channels
/// ([`direct_pair_split`]'s runs of channels, but for its limit on small parts).
#[cfg(test)]
pub(crate) fn direct_split(kind: KernelKind, opg: usize, packed: bool, tasks: usize) -> Chunks {
    Chunks::new(opg, direct_unit(kind, opg, packed), tasks)
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
    check_lengths(plan, image.len(), small.len(), w.len())?;
    if let Some(b) = bias.filter(|b| b.len() != plan.image_channels) {
        return Err(crate::Error::shape(format!(
            "transposed conv bias has {} values for {} output channels",
            b.len(),
            plan.image_channels
        )));
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    if let Some(phases) = phases_path(selected_kernel(), win, opg) {
        return small_to_image_phases(plan, &phases, small, w, bias, image);
    }
    // Pair i (group i % groups of image i / groups) reads the i-th small planes and writes the
    // i-th image; whole pairs per task, or pair after pair with the GEMM split inside.
    let pair = |i: usize, img: &mut [f32], col: &mut [f32], _tasks: usize| -> Result<()> {
        let g = i % plan.groups;
        let sm = &small[i * opg * p..][..opg * p];
        let wg = &w[g * opg * k..(g + 1) * opg * k];
        let bg = bias.map(|b| &b[g * win.channels..(g + 1) * win.channels]);
        transpose_group(win, opg, sm, GroupB::Raw(wg), bg, img, col, _tasks)
    };
    let pairs = plan.batch * plan.groups;
    let tasks = tasks_for(pair_work(plan).saturating_mul(pairs));
    // Inside a pair the GEMM splits.
    let split = split_pairs(pairs, tasks, true);
    for_pairs(pairs, tasks, split, img_g, image, col, &pair)
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
/// and [`col2im`]. `col` holds at least the window's column matrix. On `tasks` threads the
/// GEMM splits itself and the scatter its image channels.
#[allow(clippy::too_many_arguments)]
pub(crate) fn transpose_group(
    win: &Window,
    opg: usize,
    sm: &[f32],
    w: GroupB,
    bias: Option<&[f32]>,
    img: &mut [f32],
    col: &mut [f32],
    tasks: usize,
) -> Result<()> {
    let (k, p) = (win.rows(), win.cols());
    let hw = win.height * win.width;
    for (c, plane) in img.chunks_exact_mut(hw.max(1)).enumerate() {
        plane.fill(bias.map_or(0.0, |b| b[c]));
    }
    // The scatter's image channels in runs across `tasks` threads (no run below the minimum
    // work in additions): each pixel gets its terms in the one-thread order.
    let scatter = Chunks::new(win.channels, 1, tasks.min(tasks_for(k.saturating_mul(p))));
    let rows = |colt: &[f32], img: &mut [f32]| -> Result<()> {
        if scatter.parts <= 1 {
            return col2im_rows(win, colt, img);
        }
        let items: Vec<&mut [f32]> = img.chunks_mut(scatter.chunk * hw.max(1)).collect();
        try_for_each(items, &|t, planes| {
            col2im_rows_channels(win, colt, scatter.range(t), planes)
        })
    };
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
            rows(colt, img)
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
            rows(colt, img)
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
            if scatter.parts <= 1 {
                return col2im(win, col, img);
            }
            // Channel c's taps are rows c·kh·kw .. (c + 1)·kh·kw of col: a run of channels is
            // the same scatter over a window of fewer channels.
            let col: &[f32] = col;
            let taps = win.kernel[0] * win.kernel[1] * p;
            let items: Vec<&mut [f32]> = img.chunks_mut(scatter.chunk * hw.max(1)).collect();
            try_for_each(items, &|t, planes| {
                let cs = scatter.range(t);
                let sub = Window {
                    channels: cs.len(),
                    ..*win
                };
                col2im(&sub, &col[cs.start * taps..cs.end * taps], planes)
            })
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
    /// The phase path's padded copy of one small image (each thread its own, reused across
    /// calls).
    static PHASE_PADDED: std::cell::Cell<Vec<f32>> = const { std::cell::Cell::new(Vec::new()) };
    /// The phase path's packed weights of every group (reused across calls).
    static PHASE_PACKED: std::cell::Cell<Vec<f32>> = const { std::cell::Cell::new(Vec::new()) };
}

/// Takes this thread's buffer `key`, makes it at least `len` long, runs `f` on its first `len`
/// floats, and puts it back.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn with_buf<R>(
    key: &'static std::thread::LocalKey<std::cell::Cell<Vec<f32>>>,
    len: usize,
    f: impl FnOnce(&mut [f32]) -> R,
) -> R {
    let mut buf = key.with(|c| c.take());
    if buf.len() < len {
        buf.resize(len, 0.0);
    }
    let r = f(&mut buf[..len]);
    key.with(|c| c.set(buf));
    r
}

/// [`small_to_image`] phase by phase: every group of every image, the bias in the tiles'
/// accumulators. Only [`phases_path`] plans come here (SIMD kinds). On threads: whole
/// (image, group) pairs per task, or pair after pair, each split by [`phases_split`] over one
/// padded copy of its `small`.
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
    let pairs = plan.batch * plan.groups;
    let tasks = tasks_for(pair_work(plan).saturating_mul(pairs));
    with_buf(&PHASE_PACKED, packed_len * plan.groups, |packed| {
        for (g, dst) in packed.chunks_exact_mut(packed_len.max(1)).enumerate() {
            let wg = &w[g * opg * k..(g + 1) * opg * k];
            let bg = bias.map(|b| &b[g * win.channels..(g + 1) * win.channels]);
            phases.pack(win, wg, bg, dst);
        }
        let packed: &[f32] = packed;
        let of_pair = |i: usize| {
            let g = i % plan.groups;
            (
                &small[i * opg * p..][..opg * p],
                &packed[g * packed_len..(g + 1) * packed_len],
            )
        };
        let split = phases_pair_split(win, pair_work(plan), tasks);
        if split_pairs(pairs, tasks, split.is_some()) {
            let chunks = Chunks::new(pairs, 1, tasks);
            let items: Vec<&mut [f32]> = image.chunks_mut(chunks.chunk * img_g.max(1)).collect();
            return try_for_each(items, &|t, images| {
                with_buf(&PHASE_PADDED, padded_len, |padded| {
                    let first = chunks.range(t).start;
                    for (j, img) in images.chunks_exact_mut(img_g.max(1)).enumerate() {
                        let (sm, pk) = of_pair(first + j);
                        phases.group(win, sm, padded, pk, img)?;
                    }
                    Ok(())
                })
            });
        }
        with_buf(&PHASE_PADDED, padded_len, |padded| {
            for (i, img) in image.chunks_exact_mut(img_g.max(1)).enumerate() {
                let (sm, pk) = of_pair(i);
                match split {
                    None => phases.group(win, sm, padded, pk, img)?,
                    Some(split) => {
                        phases.pad(win, sm, padded);
                        phases_split(phases, win, padded, pk, split, img)?;
                    }
                }
            }
            Ok(())
        })
    })
}

/// [`pair_split`] for one (image, group) pair of the phases of `win` doing `work`
/// multiply-adds: bands of image rows, or runs of image channels in whole panels.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub(crate) fn phases_pair_split(win: &Window, work: usize, tasks: usize) -> Option<Split> {
    let unit = direct::panel_width(win.channels);
    let row_work = work / win.height.max(1);
    pair_split(win.height, row_work, win.channels, unit, tasks)
}

/// One group's image planes `img` of the phases on threads, from the padded copy of its
/// `small` ([`phases::Phases::pad`]) and its `packed` weights: each task a band of image rows
/// ([`phases::Phases::run_rows`]) or a run of image channels
/// ([`phases::Phases::run_channels`]), every pixel computed as in one call.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub(crate) fn phases_split(
    phases: &phases::Phases,
    win: &Window,
    padded: &[f32],
    packed: &[f32],
    split: Split,
    img: &mut [f32],
) -> Result<()> {
    match split {
        Split::Rows(split) => {
            let planes = direct::Planes::new(img);
            try_for_each(vec![(); split.parts], &|t, ()| {
                // safety: the bands of `split` are disjoint rows, each run by one task.
                unsafe { phases.run_rows(win, padded, packed, split.range(t), planes) }
            })
        }
        Split::Channels(split) => {
            let hw = (win.height * win.width).max(1);
            let items: Vec<&mut [f32]> = img.chunks_mut(split.chunk * hw).collect();
            try_for_each(items, &|t, planes| {
                phases.run_channels(win, padded, packed, split.range(t), planes)
            })
        }
    }
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
    input_grad_with(plan, dy, w, dx, col, None)
}

/// [`input_grad`], where the turned kernel's correlation takes the direct path, with the
/// choice of [`direct::input_grad_sparse`] (the same bits) made by the caller (`Some`) or by
/// the share of nonzero values in `dy` (`None`: after a max pool most are zeros).
pub(crate) fn input_grad_with(
    plan: &ConvPlan,
    dy: &[f32],
    w: &[f32],
    dx: &mut [f32],
    col: &mut [f32],
    sparse: Option<bool>,
) -> Result<()> {
    let Some(flipped) = input_grad_as_conv(plan) else {
        return small_to_image(plan, dy, w, None, dx, col);
    };
    let kind = selected_kernel();
    if sparse != Some(false) && path(kind, &flipped.win, flipped.small_per_group()) == Path::Direct
    {
        let shape = (plan.groups, plan.small_per_group(), plan.batch);
        let tasks = tasks_for(pair_work(plan).saturating_mul(plan.batch * plan.groups));
        if direct::input_grad_sparse(kind, &plan.win, shape, dy, w, dx, tasks, sparse.is_none()) {
            return Ok(());
        }
    }
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
///
/// The sum over the batch runs image after image (β = 1 after the first) for every element,
/// whatever the threads: they split the groups (whole groups per task), or else each group's
/// taps `k` (runs of `tap_unit` taps, each task building only its rows of the column
/// matrix and summing its columns of dW over every image in order), so the result is bit for
/// bit the one-thread one.
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
    check_lengths(plan, image.len(), small.len(), dw.len())?;
    // Where the forward takes the direct path, so does dW (the SIMD pixel tiles).
    let shape = (plan.groups, opg, plan.batch);
    let tasks = tasks_for(pair_work(plan).saturating_mul(plan.batch * plan.groups));
    if direct::weight_grad(selected_kernel(), win, shape, image, small, dw, tasks) {
        return Ok(());
    }
    let padded_len = implicit::padded_len(win).unwrap_or(usize::MAX);
    let offsets = (implicit::applies(win, opg) && padded_len <= col.len())
        .then(|| implicit::Offsets::new(win));
    if offsets.is_none() && !win.is_pointwise() && col.len() < win.col_len() {
        return Err(crate::Error::shape(format!(
            "conv scratch has {} floats, the weight gradient needs {}",
            col.len(),
            win.col_len()
        )));
    }
    let wg = WeightGrad {
        plan,
        image,
        small,
        offsets: offsets.as_ref(),
    };
    let group_len = (opg * k).max(1);
    let split = tap_split(k, tap_unit(selected_kernel()), tasks);
    if split_pairs(plan.groups, tasks, split.parts > 1) {
        let chunks = Chunks::new(plan.groups, 1, tasks);
        let mut scratch: Vec<Vec<f32>> = (1..chunks.parts).map(|_| vec![0.0; col.len()]).collect();
        let cols = std::iter::once(col).chain(scratch.iter_mut().map(Vec::as_mut_slice));
        let items: Vec<_> = dw.chunks_mut(chunks.chunk * group_len).zip(cols).collect();
        return try_for_each(items, &|t, (dw, col)| {
            let first = chunks.range(t).start;
            for (j, dwg) in dw.chunks_exact_mut(group_len).enumerate() {
                wg.taps(first + j, 0..k, dwg, col)?;
            }
            Ok(())
        });
    }
    for (g, dwg) in dw.chunks_exact_mut(group_len).enumerate() {
        if split.parts <= 1 {
            wg.taps(g, 0..k, dwg, col)?;
            continue;
        }
        // Each task sums its columns of dW_g into a block of its own, copied in after.
        let mut blocks: Vec<Vec<f32>> = (0..split.parts)
            .map(|t| vec![0.0; opg * split.range(t).len()])
            .collect();
        let scratch_len = |t: usize| match offsets {
            Some(_) => padded_len,
            None => split.range(t).len() * p,
        };
        let mut scratch: Vec<Vec<f32>> = (1..split.parts)
            .map(|t| vec![0.0; scratch_len(t)])
            .collect();
        let cols = std::iter::once(&mut *col).chain(scratch.iter_mut().map(Vec::as_mut_slice));
        let items: Vec<_> = blocks.iter_mut().zip(cols).collect();
        try_for_each(items, &|t, (block, col)| {
            wg.taps(g, split.range(t), block, col)
        })?;
        for (t, block) in blocks.iter().enumerate() {
            let taps = split.range(t);
            for (row, src) in dwg.chunks_exact_mut(k).zip(block.chunks_exact(taps.len())) {
                row[taps.clone()].copy_from_slice(src);
            }
        }
    }
    Ok(())
}

/// Taps per unit of the weight gradient's split over taps for micro-kernel `kind`: a multiple
/// of its MR and NR (the taps are the GEMM's rows on the implicit path, its columns on the
/// im2col one, so a run starts on a tile) and of the matrix-vector product's column block
/// (one output channel per group makes the GEMM a matrix-vector product).
pub(crate) fn tap_unit(kind: KernelKind) -> usize {
    let lcm = |a: usize, b: usize| {
        let (mut x, mut y) = (a, b);
        while y != 0 {
            (x, y) = (y, x % y);
        }
        a / x.max(1) * b
    };
    lcm(lcm(kind.mr(), kind.nr()), crate::gemm::MATVEC_SPLIT_UNIT)
}

/// `k` taps in runs of whole `unit`s for `tasks` threads, none of exactly one tap unless `k`
/// is 1: a 1-wide part would make its GEMM a matrix-vector product where the whole one is not.
pub(crate) fn tap_split(k: usize, unit: usize, tasks: usize) -> Chunks {
    let mut tasks = tasks;
    loop {
        let split = Chunks::new(k, unit, tasks);
        if split.parts <= 1 || split.range(split.parts - 1).len() > 1 {
            return split;
        }
        tasks = split.parts - 1;
    }
}

/// What every part of a weight gradient reads.
struct WeightGrad<'a> {
    plan: &'a ConvPlan,
    image: &'a [f32],
    small: &'a [f32],
    offsets: Option<&'a implicit::Offsets>,
}

impl WeightGrad<'_> {
    /// `dw[o, t] = Σ_n Σ_p small[n, g·opg + o, p] · col(image_n)[t, p]` for group `g` and taps
    /// `t` in `taps`: `dw` is `[opg, taps.len()]` row-major, summed image after image.
    fn taps(
        &self,
        g: usize,
        taps: std::ops::Range<usize>,
        dw: &mut [f32],
        col: &mut [f32],
    ) -> Result<()> {
        let (plan, win) = (self.plan, &self.plan.win);
        let (p, opg, img_g) = (win.cols(), plan.small_per_group(), win.image_len());
        let kt = taps.len();
        for n in 0..plan.batch {
            let beta = if n == 0 { 0.0 } else { 1.0 };
            let img = &self.image[(n * plan.groups + g) * img_g..][..img_g];
            let sm = &self.small[(n * plan.small_channels + g * opg) * p..][..opg * p];
            if let Some(o) = self.offsets {
                let padded = &mut col[..implicit::padded_len(win).unwrap_or(0)];
                implicit::pad_image(win, img, padded);
                let a = Gathered {
                    data: padded,
                    rows: &o.cols[taps.clone()],
                    cols: &o.rows,
                };
                // C[K, O] = col[K, P] · smallᵀ[P, O], stored as dW[O, K] (rsc = 1, csc = K).
                sgemm_gathered(
                    opg,
                    1.0,
                    a,
                    MatRef::new(sm, 1, p as isize),
                    beta,
                    MatMut::new(dw, 1, kt as isize),
                )?;
                continue;
            }
            let b: &[f32] = if win.is_pointwise() {
                &img[taps.start * p..taps.end * p]
            } else {
                let col = &mut col[..kt * p];
                im2col_rows(win, img, taps.clone(), col)?;
                col
            };
            // C[O, K] = A[O, P] · B[P, K]: A = small planes, B = colᵀ.
            sgemm(
                [opg, p, kt],
                1.0,
                MatRef::new(sm, p as isize, 1),
                MatRef::new(b, 1, p as isize),
                beta,
                MatMut::new(dw, kt as isize, 1),
            )?;
        }
        Ok(())
    }
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
