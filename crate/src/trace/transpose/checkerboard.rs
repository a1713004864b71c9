//! The checkerboard artifact (Odena, Dumoulin and Olah, "Deconvolution and Checkerboard
//! Artifacts", Distill 2016), completed: two stacked stride-n transposed convolutions, where
//! the uneven overlap of the stamps compounds, beside the artifact-free alternative,
//! nearest-neighbour upsampling followed by an ordinary (stride 1) convolution.
//!
//! Both paths upsample by exactly `stride` per stage (output = stride · input):
//! - a transposed stage crops `k − s` cells (split top/left first) when `k ≥ s`, and adds
//!   `s − k` rows/columns of output padding when `k < s`;
//! - a resize stage repeats each pixel `s × s` times, then correlates with `k × k` and `k − 1`
//!   cells of zero padding (split top/left first).
//!
//! Each stage records its output for the given image and kernel, and two counts that do not
//! depend on the values: `coverage`, how many stamps (or, for the resize path, kernel taps on
//! the image) land on each cell in this stage alone, and `paths`, how many input-to-output
//! paths reach each cell through every stage so far (the output for an all-ones image and an
//! all-ones kernel). `paths` is what the artifact is made of: even when the image is flat, a
//! cell reached by more paths gets more of it. Away from the border (`interior`, where the
//! count equals that of an unbounded image) the transposed path takes several values when
//! `k` is not a multiple of `s`, the resize path exactly one.

use serde::Serialize;

use super::stamps::stamps_only;
use crate::conv::geometry::Conv2dParams;
use crate::error::{Error, Result};
use crate::trace::{check_image, correlate};

/// Largest input side of the checkerboard scene (two stride-3 stages make it 9× larger).
pub const MAX_INPUT: usize = 8;
/// Largest kernel side.
pub const MAX_KERNEL: usize = 7;
/// Largest stride.
pub const MAX_STRIDE: usize = 3;
/// Stacked stages per path.
pub const STAGES: usize = 2;

/// One stage of one path.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stage {
    /// `"transposed"` or `"resize"`.
    pub kind: &'static str,
    /// This stage's input and output sizes.
    pub in_h: usize,
    pub in_w: usize,
    pub h: usize,
    pub w: usize,
    /// The geometry of this stage's convolution (the transposed one, or the stride-1 conv
    /// after the nearest-neighbour upsampling).
    pub geometry: Conv2dParams,
    /// The stage's output for the scene's image and kernel, and its largest |value| (the
    /// colour scale's end).
    #[serde(serialize_with = "crate::typed::f32s")]
    pub output: Vec<f32>,
    pub output_max: f32,
    /// Stamps (taps on the image) per cell, this stage alone on a flat input.
    #[serde(serialize_with = "crate::typed::u32s")]
    pub coverage: Vec<u32>,
    pub coverage_max: u32,
    /// Input-to-output paths per cell through every stage so far.
    #[serde(serialize_with = "crate::typed::u32s")]
    pub paths: Vec<u32>,
    pub paths_min: u32,
    pub paths_max: u32,
    /// 1 where the cell is away from the border's influence: its paths equal those of an
    /// unbounded image.
    #[serde(serialize_with = "crate::typed::u8s")]
    pub interior: Vec<u8>,
    /// The distinct path counts inside the border, ascending: one value means even, several
    /// the checkerboard. Empty when every cell feels the border.
    pub interior_levels: Vec<u32>,
}

/// Both paths, stage by stage.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Checkerboard {
    pub h: usize,
    pub w: usize,
    pub kh: usize,
    pub kw: usize,
    pub stride: [usize; 2],
    /// Per axis: whether the kernel size is a multiple of the stride (even overlap).
    pub even: [bool; 2],
    pub transposed: Vec<Stage>,
    pub resize: Vec<Stage>,
    /// What the scene's controls can reach: `[min, max]` of the input side, the kernel side and
    /// the stride.
    pub limits: Limits,
}

/// The `[min, max]` of each setting of the checkerboard trace.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Limits {
    pub size: [usize; 2],
    pub kernel_size: [usize; 2],
    pub stride: [usize; 2],
}

/// The checkerboard trace's limits.
pub const LIMITS: Limits = Limits {
    size: [1, MAX_INPUT],
    kernel_size: [1, MAX_KERNEL],
    stride: [1, MAX_STRIDE],
};

/// The transposed stage's geometry: output exactly `s · input`.
pub fn transposed_geometry([kh, kw]: [usize; 2], stride: [usize; 2]) -> Conv2dParams {
    let mut g = Conv2dParams {
        stride,
        ..Default::default()
    };
    for (axis, k) in [kh, kw].into_iter().enumerate() {
        let s = stride[axis];
        if k >= s {
            let crop = k - s;
            g.padding[axis] = crop / 2;
            g.padding[axis + 2] = crop - crop / 2;
        } else {
            g.output_padding[axis] = s - k;
        }
    }
    g
}

/// The resize stage's convolution: stride 1, `k − 1` cells of zero padding ("same").
pub fn resize_geometry([kh, kw]: [usize; 2]) -> Conv2dParams {
    let (ph, pw) = (kh - 1, kw - 1);
    Conv2dParams {
        padding: [ph / 2, pw / 2, ph - ph / 2, pw - pw / 2],
        ..Default::default()
    }
}

/// Nearest-neighbour upsampling: each pixel repeated `s_h × s_w` times.
pub fn upsample_nearest(x: &[f32], h: usize, w: usize, [sh, sw]: [usize; 2]) -> Vec<f32> {
    let (uh, uw) = (h * sh, w * sw);
    (0..uh * uw)
        .map(|p| x[(p / uw / sh) * w + (p % uw) / sw])
        .collect()
}

pub(crate) fn check_setting(
    [h, w]: [usize; 2],
    [kh, kw]: [usize; 2],
    stride: [usize; 2],
) -> Result<()> {
    if [h, w].iter().any(|&v| v == 0 || v > MAX_INPUT) {
        return Err(Error::param(
            "size",
            [h, w],
            format!("each side must be between 1 and {MAX_INPUT} here"),
        ));
    }
    if [kh, kw].iter().any(|&v| v == 0 || v > MAX_KERNEL) {
        return Err(Error::param(
            "kernelSize",
            [kh, kw],
            format!("each side must be between 1 and {MAX_KERNEL} here"),
        ));
    }
    if stride.iter().any(|&v| v == 0 || v > MAX_STRIDE) {
        return Err(Error::param(
            "stride",
            stride,
            format!("must be between 1 and {MAX_STRIDE} here"),
        ));
    }
    Ok(())
}

/// One transposed stage over `x` (`h × w`).
fn transposed_stage(
    x: &[f32],
    h: usize,
    w: usize,
    k: &[f32],
    ks: [usize; 2],
    s: [usize; 2],
) -> Result<(Vec<f32>, usize, usize, Vec<u32>)> {
    let g = transposed_geometry(ks, s);
    let t = stamps_only(x, h, w, k, ks[0], ks[1], &g)?;
    debug_assert_eq!((t.out_h, t.out_w), (h * s[0], w * s[1]));
    Ok((t.output, t.out_h, t.out_w, t.coverage))
}

/// One resize stage over `x`: upsample, then the stride-1 correlation.
fn resize_stage(
    x: &[f32],
    h: usize,
    w: usize,
    k: &[f32],
    ks: [usize; 2],
    s: [usize; 2],
) -> Result<(Vec<f32>, usize, usize)> {
    let up = upsample_nearest(x, h, w, s);
    let t = correlate::trace(
        &up,
        h * s[0],
        w * s[1],
        k,
        ks[0],
        ks[1],
        &resize_geometry(ks),
        false,
    )?;
    debug_assert_eq!((t.out_h, t.out_w), (h * s[0], w * s[1]));
    Ok((t.output, t.out_h, t.out_w))
}

fn counts(v: &[f32]) -> Vec<u32> {
    v.iter().map(|&c| c.round() as u32).collect()
}

/// Paths along one axis through `stages` stages of a path, for a line of `n` ones (counts
/// are separable: a 2-D count is the product of its row's and its column's).
fn line_paths(resize: bool, n: usize, k: usize, s: usize, stages: usize) -> Vec<u64> {
    let mut c = vec![1u64; n];
    for _ in 0..stages {
        let len = c.len() * s;
        let mut out = vec![0u64; len];
        if resize {
            let pb = (k - 1) / 2;
            for (y, o) in out.iter_mut().enumerate() {
                for a in 0..k {
                    let u = y + a;
                    if u >= pb && u - pb < len {
                        *o += c[(u - pb) / s];
                    }
                }
            }
        } else {
            let pb = if k >= s { (k - s) / 2 } else { 0 };
            for (i, &ci) in c.iter().enumerate() {
                for a in 0..k {
                    let y = i * s + a;
                    if y >= pb && y - pb < len {
                        out[y - pb] += ci;
                    }
                }
            }
        }
        c = out;
    }
    c
}

/// Per axis position: whether its count equals that of an unbounded line (the border does not
/// reach it).
fn line_interior(resize: bool, n: usize, k: usize, s: usize, stages: usize) -> Vec<bool> {
    let bounded = line_paths(resize, n, k, s, stages);
    // A margin of 2k + 2 input cells is further than the border reaches in two stages.
    let m = 2 * k + 2;
    let big = line_paths(resize, n + 2 * m, k, s, stages);
    let off = m * s.pow(stages as u32);
    bounded
        .iter()
        .enumerate()
        .map(|(y, &b)| b == big[y + off])
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn stage_record(
    kind: &'static str,
    resize: bool,
    [in_h, in_w]: [usize; 2],
    [h, w]: [usize; 2],
    geometry: Conv2dParams,
    output: Vec<f32>,
    coverage: Vec<u32>,
    paths: Vec<u32>,
    [n_h, n_w]: [usize; 2],
    ks: [usize; 2],
    s: [usize; 2],
    stage: usize,
) -> Stage {
    let rows = line_interior(resize, n_h, ks[0], s[0], stage);
    let cols = line_interior(resize, n_w, ks[1], s[1], stage);
    let interior: Vec<u8> = (0..h * w)
        .map(|p| u8::from(rows[p / w] && cols[p % w]))
        .collect();
    let mut levels: Vec<u32> = paths
        .iter()
        .zip(&interior)
        .filter(|(_, &i)| i == 1)
        .map(|(&p, _)| p)
        .collect();
    levels.sort_unstable();
    levels.dedup();
    Stage {
        kind,
        in_h,
        in_w,
        h,
        w,
        geometry,
        output_max: output.iter().fold(0.0f32, |m, v| m.max(v.abs())),
        output,
        coverage_max: coverage.iter().copied().max().unwrap_or(0),
        coverage,
        paths_min: paths.iter().copied().min().unwrap_or(0),
        paths_max: paths.iter().copied().max().unwrap_or(0),
        paths,
        interior,
        interior_levels: levels,
    }
}

/// Both paths for the image `x` (`h × w`) and the kernel `k` (`kh × kw`), `STAGES` stages each.
pub fn checkerboard(
    x: &[f32],
    [h, w]: [usize; 2],
    k: &[f32],
    [kh, kw]: [usize; 2],
    stride: [usize; 2],
) -> Result<Checkerboard> {
    check_setting([h, w], [kh, kw], stride)?;
    check_image("input", x, h, w, MAX_INPUT)?;
    check_image("kernel", k, kh, kw, MAX_KERNEL)?;
    let ks = [kh, kw];
    let ones = vec![1.0f32; kh * kw];
    let mut transposed = Vec::with_capacity(STAGES);
    let mut resize = Vec::with_capacity(STAGES);
    let (mut tx, mut rx, mut tp, mut rp) = (
        x.to_vec(),
        x.to_vec(),
        vec![1.0f32; h * w],
        vec![1.0f32; h * w],
    );
    let (mut ih, mut iw) = (h, w);
    for stage in 1..=STAGES {
        let (out, oh, ow, coverage) = transposed_stage(&tx, ih, iw, k, ks, stride)?;
        let (paths, _, _, _) = transposed_stage(&tp, ih, iw, &ones, ks, stride)?;
        transposed.push(stage_record(
            "transposed",
            false,
            [ih, iw],
            [oh, ow],
            transposed_geometry(ks, stride),
            out.clone(),
            coverage,
            counts(&paths),
            [h, w],
            ks,
            stride,
            stage,
        ));
        let (rout, _, _) = resize_stage(&rx, ih, iw, k, ks, stride)?;
        let (rpaths, _, _) = resize_stage(&rp, ih, iw, &ones, ks, stride)?;
        let flat = vec![1.0f32; ih * iw];
        let (rcov, _, _) = resize_stage(&flat, ih, iw, &ones, ks, stride)?;
        resize.push(stage_record(
            "resize",
            true,
            [ih, iw],
            [oh, ow],
            resize_geometry(ks),
            rout.clone(),
            counts(&rcov),
            counts(&rpaths),
            [h, w],
            ks,
            stride,
            stage,
        ));
        (tx, rx, tp, rp) = (out, rout, paths, rpaths);
        (ih, iw) = (oh, ow);
    }
    Ok(Checkerboard {
        h,
        w,
        kh,
        kw,
        stride,
        even: [kh % stride[0] == 0, kw % stride[1] == 0],
        transposed,
        resize,
        limits: LIMITS,
    })
}

#[cfg(test)]
pub(crate) fn line_paths_for_tests(
    resize: bool,
    n: usize,
    k: usize,
    s: usize,
    stages: usize,
) -> Vec<u64> {
    line_paths(resize, n, k, s, stages)
}
