//! The stamps of a transposed convolution (col2im one input cell at a time), and how many of
//! them cover each output cell.

use serde::Serialize;

use super::zero_insertion::{self, Equivalent};
use crate::conv::geometry::{Conv2dParams, OutputTerms};
use crate::error::Result;
use crate::trace::{check, check_image, Op, MAX_KERNEL, MAX_SIDE};

/// Every stamp of a transposed convolution of one `h × w` image.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TransTrace {
    pub h: usize,
    pub w: usize,
    pub kh: usize,
    pub kw: usize,
    pub geometry: Conv2dParams,
    #[serde(serialize_with = "crate::typed::f32s")]
    pub kernel: Vec<f32>,
    /// The output-size formula with its numbers.
    pub terms: OutputTerms,
    /// The uncropped canvas every stamp lands in: `stride·(in−1) + output_padding + dilation·(k−1) + 1`.
    pub full_h: usize,
    pub full_w: usize,
    /// The output is the canvas without `padding` rows/columns at each side.
    pub out_h: usize,
    pub out_w: usize,
    /// Stamps (input cells) and kernel taps.
    pub steps: usize,
    pub taps: usize,
    /// Per input cell (row-major) and tap: the canvas cell it adds into. `h·w × taps`.
    #[serde(serialize_with = "crate::typed::u32s")]
    pub stamp_full: Vec<u32>,
    /// The same as an output index, −1 where the padding crops it.
    #[serde(serialize_with = "crate::typed::i32s")]
    pub stamp_out: Vec<i32>,
    /// The value added: `x[i][j] · k[a][b]`.
    #[serde(serialize_with = "crate::typed::f32s")]
    pub stamp_value: Vec<f32>,
    /// The canvas after all stamps, and the output cropped from it.
    #[serde(serialize_with = "crate::typed::f32s")]
    pub full: Vec<f32>,
    #[serde(serialize_with = "crate::typed::f32s")]
    pub output: Vec<f32>,
    /// How many stamps cover each canvas cell / output cell.
    #[serde(serialize_with = "crate::typed::u32s")]
    pub coverage_full: Vec<u32>,
    #[serde(serialize_with = "crate::typed::u32s")]
    pub coverage: Vec<u32>,
    /// Per canvas cell: its output index, or −1 where the padding crops it.
    #[serde(serialize_with = "crate::typed::i32s")]
    pub canvas_output: Vec<i32>,
    /// Per output cell: the step (0-based) at which its last stamp lands, so it is complete
    /// from then on (0 for a cell no stamp reaches).
    #[serde(serialize_with = "crate::typed::u32s")]
    pub complete_at: Vec<u32>,
    /// One colour scale for every step's stamp, canvas and output: the largest |canvas value|,
    /// whether any stamp or canvas value is negative, and the most stamps on a canvas cell.
    pub value_max: f32,
    pub signed: bool,
    pub coverage_max: u32,
    /// Per stamp: how many of its taps land inside the output (the rest fall in the cropped
    /// border), and the first output cell it reaches (−1 for none): the cell whose window the
    /// zero-insertion view shows.
    #[serde(serialize_with = "crate::typed::u32s")]
    pub stamp_inside: Vec<u32>,
    #[serde(serialize_with = "crate::typed::i32s")]
    pub stamp_focus: Vec<i32>,
    /// Per stamp: its input cell `[row, column]` and the canvas cell of its first tap (its corner).
    #[serde(serialize_with = "crate::typed::u32s")]
    pub stamp_cell: Vec<u32>,
    #[serde(serialize_with = "crate::typed::u32s")]
    pub stamp_corner: Vec<u32>,
    /// Per output cell: `[row, column]` (what a label names).
    #[serde(serialize_with = "crate::typed::u32s")]
    pub output_cell: Vec<u32>,
    /// The zero-insertion view (absent when only the stamps were asked for).
    pub equivalent: Option<Equivalent>,
}

impl TransTrace {
    /// The canvas after the first `steps` stamps (col2im stopped part way).
    pub fn canvas_after(&self, steps: usize) -> Vec<f32> {
        let mut c = vec![0.0; self.full_h * self.full_w];
        let n = steps.min(self.steps) * self.taps;
        for (&p, &v) in self.stamp_full[..n].iter().zip(&self.stamp_value[..n]) {
            c[p as usize] += v;
        }
        c
    }

    /// How many of the first `steps` stamps cover each canvas cell.
    pub fn coverage_after(&self, steps: usize) -> Vec<u32> {
        let mut c = vec![0; self.full_h * self.full_w];
        for &p in &self.stamp_full[..steps.min(self.steps) * self.taps] {
            c[p as usize] += 1;
        }
        c
    }
}

/// The transposed convolution as the scatter loop (each input cell stamps the kernel).
pub fn conv_transpose(
    x: &[f32],
    h: usize,
    w: usize,
    k: &[f32],
    kh: usize,
    kw: usize,
    g: &Conv2dParams,
) -> Result<(Vec<f32>, usize, usize)> {
    let t = trace_stamps(x, h, w, k, kh, kw, g, false)?;
    Ok((t.output, t.out_h, t.out_w))
}

/// Records every stamp, then builds the equivalent zero-insertion view.
pub fn trace(
    x: &[f32],
    h: usize,
    w: usize,
    k: &[f32],
    kh: usize,
    kw: usize,
    g: &Conv2dParams,
) -> Result<TransTrace> {
    trace_stamps(x, h, w, k, kh, kw, g, true)
}

/// The stamps without the zero-insertion view (for the canvas part way through).
pub fn stamps_only(
    x: &[f32],
    h: usize,
    w: usize,
    k: &[f32],
    kh: usize,
    kw: usize,
    g: &Conv2dParams,
) -> Result<TransTrace> {
    trace_stamps(x, h, w, k, kh, kw, g, false)
}

#[allow(clippy::too_many_arguments)]
fn trace_stamps(
    x: &[f32],
    h: usize,
    w: usize,
    k: &[f32],
    kh: usize,
    kw: usize,
    g: &Conv2dParams,
    with_equivalent: bool,
) -> Result<TransTrace> {
    let op = if with_equivalent {
        Op::Transpose
    } else {
        Op::TransposeOnly
    };
    let terms = check(op, [h, w], [kh, kw], g)?;
    check_image("input", x, h, w, MAX_SIDE)?;
    check_image("kernel", k, kh, kw, MAX_KERNEL)?;
    let (full_h, full_w) = (terms.rows.span, terms.cols.span);
    let [out_h, out_w] = terms.out();
    let (pt, pl) = (g.padding[0], g.padding[1]);
    let taps = kh * kw;
    let mut stamp_full = Vec::with_capacity(h * w * taps);
    let mut stamp_out = Vec::with_capacity(h * w * taps);
    let mut stamp_value = Vec::with_capacity(h * w * taps);
    let mut full = vec![0.0f32; full_h * full_w];
    let mut coverage_full = vec![0u32; full_h * full_w];
    for i in 0..h {
        for j in 0..w {
            for a in 0..kh {
                for b in 0..kw {
                    let fy = i * g.stride[0] + a * g.dilation[0];
                    let fx = j * g.stride[1] + b * g.dilation[1];
                    let p = fy * full_w + fx;
                    let v = x[i * w + j] * k[a * kw + b];
                    let inside = fy >= pt && fy < pt + out_h && fx >= pl && fx < pl + out_w;
                    stamp_full.push(p as u32);
                    stamp_out.push(if inside {
                        ((fy - pt) * out_w + fx - pl) as i32
                    } else {
                        -1
                    });
                    stamp_value.push(v);
                    full[p] += v;
                    coverage_full[p] += 1;
                }
            }
        }
    }
    let crop = |c: &[u32]| -> Vec<u32> {
        (0..out_h)
            .flat_map(|r| c[(r + pt) * full_w + pl..(r + pt) * full_w + pl + out_w].to_vec())
            .collect()
    };
    let output: Vec<f32> = (0..out_h)
        .flat_map(|r| full[(r + pt) * full_w + pl..(r + pt) * full_w + pl + out_w].to_vec())
        .collect();
    let coverage = crop(&coverage_full);
    let mut canvas_output = vec![-1i32; full_h * full_w];
    for r in 0..out_h {
        for c in 0..out_w {
            canvas_output[(r + pt) * full_w + c + pl] = (r * out_w + c) as i32;
        }
    }
    let value_max = crate::trace::correlate::max_abs(&full);
    let signed = stamp_value.iter().chain(&full).any(|&v| v < 0.0);
    let coverage_max = coverage_full.iter().copied().max().unwrap_or(0);
    let steps = h * w;
    let mut stamp_inside = Vec::with_capacity(steps);
    let mut stamp_focus = Vec::with_capacity(steps);
    let mut stamp_cell = Vec::with_capacity(2 * steps);
    let mut stamp_corner = Vec::with_capacity(2 * steps);
    for (t, outs) in stamp_out.chunks(taps.max(1)).enumerate().take(steps) {
        stamp_inside.push(outs.iter().filter(|&&o| o >= 0).count() as u32);
        stamp_focus.push(outs.iter().copied().find(|&o| o >= 0).unwrap_or(-1));
        stamp_cell.extend([(t / w) as u32, (t % w) as u32]);
        let c = stamp_full[t * taps] as usize;
        stamp_corner.extend([(c / full_w) as u32, (c % full_w) as u32]);
    }
    let mut complete_at = vec![0u32; out_h * out_w];
    for (i, &o) in stamp_out.iter().enumerate() {
        if o >= 0 {
            complete_at[o as usize] = (i / taps) as u32;
        }
    }
    let equivalent = if with_equivalent {
        Some(zero_insertion::equivalent(x, h, w, k, kh, kw, g, &terms)?)
    } else {
        None
    };
    let output_cell = (0..out_h * out_w)
        .flat_map(|c| [(c / out_w) as u32, (c % out_w) as u32])
        .collect();
    Ok(TransTrace {
        output_cell,
        h,
        w,
        kh,
        kw,
        geometry: *g,
        kernel: k.to_vec(),
        terms,
        full_h,
        full_w,
        out_h,
        out_w,
        steps: h * w,
        taps,
        stamp_full,
        stamp_out,
        stamp_value,
        full,
        output,
        coverage_full,
        coverage,
        value_max,
        signed,
        coverage_max,
        stamp_inside,
        stamp_focus,
        stamp_cell,
        stamp_corner,
        canvas_output,
        complete_at,
        equivalent,
    })
}
