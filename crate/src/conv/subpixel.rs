//! The transposed convolution as `s₀·s₁` stride-1 convolutions, one per output phase
//! ("sub-pixel" convolution): no column matrix, no scatter-add.
//!
//! Output row `y` of a stride-`s` transposed conv collects `x[q]·W[ky]` for every
//! `y = s·q + ky − pad`. Write `y + pad = s·q' + r` with `0 ≤ r < s`: the taps that reach `y`
//! are `ky = r + s·j` (`j = 0, 1, …` while `ky < k`) from input rows `q = q' − j`. So the rows
//! of one residue `r` (one phase) are a stride-1 correlation of the input with the sub-kernel
//! `W[r], W[r + s], …` read backwards, and the whole output is the `s₀·s₁` phases interleaved.
//! Each phase runs through [`engine::image_to_small`] (the direct loop, the implicit GEMM or
//! im2col, as that picks), so a transposed conv reaches a forward conv's speed, and every output
//! cell is written exactly once (its phase's value plus the bias), with no `+=`.
//!
//! Taken for dilation 1 when every phase's window needs no negative padding (always true for
//! `pad < kernel`); [`engine::small_to_image`] uses it from stride [`MIN_STRIDE`] up.

use super::engine;
use super::geometry::{ConvPlan, Window};
use crate::error::Result;

/// From this stride (on either axis) up the transposed conv runs phase by phase. At stride 1
/// there is one phase: the whole conv with the kernel turned, which the column path also does
/// well. (A constant to adjust by measurement: docs/conv.md.)
pub const MIN_STRIDE: usize = 2;

/// One axis of one phase: residue `r`, `taps` sub-kernel taps, and the input-side index
/// `q0 + u` of phase output `u` for `u < count` (output index `s·(q0 + u) + r − pad`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhaseAxis {
    pub r: usize,
    pub taps: usize,
    pub q0: usize,
    pub count: usize,
}

impl PhaseAxis {
    /// Output index of phase output `u`.
    fn out_index(&self, u: usize, stride: usize, pad: usize) -> usize {
        stride * (self.q0 + u) + self.r - pad
    }
}

/// The phases of one axis, or `None` when a phase would need negative padding.
/// `size` = output length, `kernel`, `stride`, `pad` (before).
fn axis_phases(size: usize, kernel: usize, stride: usize, pad: usize) -> Option<Vec<PhaseAxis>> {
    (0..stride)
        .map(|r| {
            let taps = if r < kernel {
                (kernel - r).div_ceil(stride)
            } else {
                0
            };
            // q0 = ⌈(pad − r) / s⌉, at least 0; the last q with s·q + r − pad ≤ size − 1.
            let q0 = pad.saturating_sub(r).div_ceil(stride);
            let count = (size + pad)
                .checked_sub(r + 1)
                .map_or(0, |top| (top / stride + 1).saturating_sub(q0));
            if taps > 0 && q0 > taps - 1 {
                return None;
            }
            Some(PhaseAxis { r, taps, q0, count })
        })
        .collect()
}

/// Whether the phase decomposition takes `plan` (a transposed conv's plan: image = output).
pub fn applies(plan: &ConvPlan) -> bool {
    let win = &plan.win;
    win.dilation == [1, 1]
        && (win.stride[0] >= MIN_STRIDE || win.stride[1] >= MIN_STRIDE)
        && !win.is_pointwise()
        && axis_phases(win.height, win.kernel[0], win.stride[0], win.pad[0]).is_some()
        && axis_phases(win.width, win.kernel[1], win.stride[1], win.pad[1]).is_some()
}

/// One phase: its two axes and the stride-1 conv plan that computes it (image = the
/// transposed conv's input, small = the phase's outputs), when it has taps on both axes.
#[derive(Clone, Debug)]
pub struct Phase {
    pub axes: [PhaseAxis; 2],
    pub plan: Option<ConvPlan>,
}

/// The phases of `plan`, row-major over the residues. Callers check [`applies`] first.
pub fn phases(plan: &ConvPlan) -> Vec<Phase> {
    let win = &plan.win;
    let ys = axis_phases(win.height, win.kernel[0], win.stride[0], win.pad[0]).unwrap_or_default();
    let xs = axis_phases(win.width, win.kernel[1], win.stride[1], win.pad[1]).unwrap_or_default();
    let mut out = Vec::with_capacity(ys.len() * xs.len());
    for &ay in &ys {
        for &ax in &xs {
            let plan =
                (ay.taps > 0 && ax.taps > 0 && ay.count > 0 && ax.count > 0).then(|| ConvPlan {
                    batch: plan.batch,
                    groups: plan.groups,
                    image_channels: plan.small_channels,
                    small_channels: plan.image_channels,
                    win: Window {
                        channels: plan.small_per_group(),
                        height: win.out[0],
                        width: win.out[1],
                        kernel: [ay.taps, ax.taps],
                        stride: [1, 1],
                        pad: [ay.taps - 1 - ay.q0, ax.taps - 1 - ax.q0],
                        dilation: [1, 1],
                        out: [ay.count, ax.count],
                    },
                });
            out.push(Phase {
                axes: [ay, ax],
                plan,
            });
        }
    }
    out
}

/// The phase's conv weight `[C_out, C_in/groups, taps_y, taps_x]` from the transposed conv's
/// `w` (`[C_in, C_out/groups, kH, kW]`): tap `(t, u)` is `W[.., r_y + s_y·(T_y−1−t),
/// r_x + s_x·(T_x−1−u)]` with the channel axes swapped within each group.
pub fn phase_weight(plan: &ConvPlan, phase: &Phase, w: &[f32]) -> Vec<f32> {
    let win = &plan.win;
    let [kh, kw] = win.kernel;
    let [ay, ax] = phase.axes;
    let (cpg, opg) = (plan.small_per_group(), win.channels);
    let mut out = Vec::with_capacity(plan.image_channels * cpg * ay.taps * ax.taps);
    for g in 0..plan.groups {
        for o in 0..opg {
            for c in 0..cpg {
                for t in 0..ay.taps {
                    let ky = ay.r + win.stride[0] * (ay.taps - 1 - t);
                    for u in 0..ax.taps {
                        let kx = ax.r + win.stride[1] * (ax.taps - 1 - u);
                        out.push(w[(((g * cpg + c) * opg + o) * kh + ky) * kw + kx]);
                    }
                }
            }
        }
    }
    out
}

/// Writes phase `phase`'s values `vals` (`[N, C_out, count_y, count_x]`; `None` for a phase
/// without taps: the bias alone) into `image` (`[N, C_out, H_out, W_out]`).
pub fn scatter(
    plan: &ConvPlan,
    phase: &Phase,
    vals: Option<&[f32]>,
    bias: Option<&[f32]>,
    image: &mut [f32],
) {
    let win = &plan.win;
    let [ay, ax] = phase.axes;
    let (oh, ow) = (win.height, win.width);
    let q = ay.count * ax.count;
    if ax.count == 0 {
        return;
    }
    // Phase column v lands on output column x0 + v·s_x.
    let (x0, sx) = (ax.out_index(0, win.stride[1], win.pad[1]), win.stride[1]);
    for n in 0..plan.batch {
        for c in 0..plan.image_channels {
            let plane = &mut image[(n * plan.image_channels + c) * oh * ow..][..oh * ow];
            let b = bias.map_or(0.0, |b| b[c]);
            for u in 0..ay.count {
                let y = ay.out_index(u, win.stride[0], win.pad[0]);
                let dst = plane[y * ow + x0..(y + 1) * ow].iter_mut().step_by(sx);
                match vals {
                    Some(v) => {
                        let src =
                            &v[(n * plan.image_channels + c) * q + u * ax.count..][..ax.count];
                        for (d, &s) in dst.zip(src) {
                            *d = s;
                        }
                    }
                    None => {
                        for d in dst.take(ax.count) {
                            *d = b;
                        }
                    }
                }
            }
        }
    }
}

/// `image = conv_transpose(small; w) + bias` phase by phase (every cell written once).
/// Callers check [`applies`] first.
pub fn small_to_image(
    plan: &ConvPlan,
    small: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    image: &mut [f32],
) -> Result<()> {
    let all = phases(plan);
    // One output buffer and one scratch, sized for the largest phase.
    let (mut vals, mut scratch) = (Vec::new(), Vec::new());
    for pp in all.iter().filter_map(|ph| ph.plan.as_ref()) {
        let n: usize = pp.small_shape().iter().product();
        vals.resize(vals.len().max(n), 0.0);
        let kind = crate::gemm::selected_kernel();
        let s = engine::path_scratch(
            engine::path(kind, &pp.win, pp.small_per_group()),
            kind,
            &pp.win,
        );
        scratch.resize(scratch.len().max(s), 0.0);
    }
    for phase in &all {
        let Some(pp) = &phase.plan else {
            scatter(plan, phase, None, bias, image);
            continue;
        };
        let wp = phase_weight(plan, phase, w);
        let n: usize = pp.small_shape().iter().product();
        engine::image_to_small(pp, small, &wp, bias, &mut vals[..n], &mut scratch)?;
        scatter(plan, phase, Some(&vals[..n]), bias, image);
    }
    Ok(())
}
