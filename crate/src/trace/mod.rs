//! Step-by-step records for the playground's animations. Every number a scene shows comes
//! from here: which window the kernel covers, the input cells under it (one row of the im2col
//! table), the element-wise products and the sum landing in the output cell; the stamps of a
//! transposed convolution (col2im) and how many of them cover each output cell; the
//! zero-inserted input of its equivalent correlation; the adjoint check; the 1-D
//! cross-correlation over every shift (dense = shift 0); dense vs conv parameter counts.
//!
//! The traces work on one channel (the scenes show one image and one kernel) and are written
//! as the plainest loops, so they read as the definition; the tests check them against the
//! GEMM-based kernels in [`crate::conv`].

pub mod code;
pub mod correlate;
pub mod dense;
pub mod ncc;
pub mod presets;
mod rounding;
pub mod transpose;

use serde::Serialize;

use crate::conv::geometry::{Conv2dParams, ConvPlan, OutputTerms};
use crate::error::{Error, Result};

/// Largest image side a trace accepts: the scenes draw every cell, and a trace stores
/// `steps × taps` numbers, so a bigger image would only make an unreadable animation.
pub const MAX_SIDE: usize = 96;
/// Largest kernel side a trace accepts.
pub const MAX_KERNEL: usize = 11;

/// Which operation a trace setting is for: each has the kernel's own rules plus the limits of
/// what a scene can draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// The sliding correlation (`conv2d` of one channel).
    Correlate,
    /// The stepped transposed convolution, with its zero-insertion view beside it.
    Transpose,
    /// A transposed convolution computed by the stamp loop without the stepped view (the
    /// adjoint check and the round trip).
    TransposeOnly,
}

/// Whether a trace setting is valid, and its output-size terms: exactly when the kernel
/// (`ConvPlan`, the same validation `conv2d` / `conv_transpose2d` run) accepts it, plus the
/// display limits. Every trace, the controls' ranges and the settling of a changed input all
/// ask here, so the page can reach only settings the kernels compute.
pub fn check(
    op: Op,
    [h, w]: [usize; 2],
    [kh, kw]: [usize; 2],
    p: &Conv2dParams,
) -> Result<OutputTerms> {
    check_sizes(op, [h, w], [kh, kw])?;
    if p.groups != 1 {
        return Err(Error::param(
            "groups",
            p.groups,
            "a trace shows one channel: must be 1",
        ));
    }
    for (name, v) in [("stride", p.stride), ("dilation", p.dilation)] {
        if v.iter().any(|&v| v > MAX_SIDE) {
            return Err(Error::param(
                name,
                v,
                format!("must be at most {MAX_SIDE} here"),
            ));
        }
    }
    if p.padding.iter().any(|&v| v > MAX_SIDE) {
        return Err(Error::param(
            "padding",
            p.padding,
            format!("must be at most {MAX_SIDE} per side here"),
        ));
    }
    let (x, k) = ([1, 1, h, w], [1, 1, kh, kw]);
    if op == Op::Correlate {
        ConvPlan::conv2d(&x, &k, p)?;
        return p.conv_output([h, w], [kh, kw]);
    }
    ConvPlan::conv_transpose2d(&x, &k, p)?;
    let t = p.transpose_output([h, w], [kh, kw])?;
    if t.rows.span > 4 * MAX_SIDE || t.cols.span > 4 * MAX_SIDE {
        return Err(Error::shape(format!(
            "the transposed output would be {}×{}; at most {} per side here",
            t.rows.span,
            t.cols.span,
            4 * MAX_SIDE
        )));
    }
    if op == Op::Transpose {
        // The zero-insertion grid: output + dilation·(k−1) per side.
        let gh = t.rows.output + p.dilation[0] * (kh - 1);
        let gw = t.cols.output + p.dilation[1] * (kw - 1);
        if gh > MAX_SIDE || gw > MAX_SIDE {
            return Err(Error::shape(format!(
                "the zero-inserted input would be {gh}×{gw}; at most {MAX_SIDE} per side here"
            )));
        }
    }
    Ok(t)
}

/// An `h × w` single-channel image: checks the sizes against the data.
pub(crate) fn check_image(what: &str, data: &[f32], h: usize, w: usize, max: usize) -> Result<()> {
    if h == 0 || w == 0 || h > max || w > max {
        return Err(Error::shape(format!(
            "{what} is {h}×{w}; each side must be between 1 and {max}"
        )));
    }
    if data.len() != h * w {
        return Err(Error::shape(format!(
            "{what} has {} values but is {h}×{w} ({} values)",
            data.len(),
            h * w
        )));
    }
    if data.iter().any(|v| !v.is_finite()) {
        return Err(Error::shape(format!(
            "{what} contains a NaN or infinite value"
        )));
    }
    Ok(())
}

/// The kernel turned by 180°: what a true convolution slides, and what the transposed
/// convolution's equivalent correlation uses (k̃(x) = k(−x): the flip that tells convolution from correlation).
pub fn flip_kernel(k: &[f32], kh: usize, kw: usize) -> Vec<f32> {
    let mut out = vec![0.0; kh * kw];
    for a in 0..kh {
        for b in 0..kw {
            out[a * kw + b] = k[(kh - 1 - a) * kw + (kw - 1 - b)];
        }
    }
    out
}

pub use rounding::{rounded_sum, rounded_sum_to, RoundedSum, MAX_DECIMALS};

/// ⟨a, b⟩ summed in f64, so the two sides of the adjoint check differ only by f32 rounding
/// of the operators themselves.
pub fn inner(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(&x, &y)| x as f64 * y as f64).sum()
}

/// The traces' seeded generator: the same seed gives the same numbers on every machine.
pub use crate::rng::Rng;

/// Sets one control of a setting to a value.
pub(crate) type Setter = fn(&mut Conv2dParams, usize);

/// The controls every scene has, in the order stride h, stride w, padding top, left, bottom,
/// right, dilation h, dilation w: (setter, smallest value, current value).
pub(crate) fn common_controls(g: &Conv2dParams) -> Vec<(Setter, usize, usize)> {
    vec![
        (|g, v| g.stride[0] = v, 1, g.stride[0]),
        (|g, v| g.stride[1] = v, 1, g.stride[1]),
        (|g, v| g.padding[0] = v, 0, g.padding[0]),
        (|g, v| g.padding[1] = v, 0, g.padding[1]),
        (|g, v| g.padding[2] = v, 0, g.padding[2]),
        (|g, v| g.padding[3] = v, 0, g.padding[3]),
        (|g, v| g.dilation[0] = v, 1, g.dilation[0]),
        (|g, v| g.dilation[1] = v, 1, g.dilation[1]),
    ]
}

/// What a scene's own size controls offer: the input side and the kernel side (`[min, max]`),
/// and the largest stride, padding, dilation or output padding its geometry steppers reach
/// (`cap`, passed back to [`ranges`]). Inside what the scene's trace accepts; chosen so that
/// every cell stays legible. The page takes its steppers' ranges, and the ranges a link is read
/// against, from here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Controls {
    pub size: [usize; 2],
    pub kernel_size: [usize; 2],
    pub cap: usize,
}

/// The controls of the sliding-correlation scene (a drawn digit, 28 × 28, is shown as it is).
pub const CORRELATE_CONTROLS: Controls = Controls {
    size: [3, 16],
    kernel_size: [1, 5],
    cap: 6,
};

/// The controls of the stepped transposed-convolution scene.
pub const TRANSPOSE_CONTROLS: Controls = Controls {
    size: [2, 8],
    kernel_size: [1, 5],
    cap: 6,
};

/// The controls of `op`'s scene.
pub fn controls(op: Op) -> Controls {
    match op {
        Op::Correlate => CORRELATE_CONTROLS,
        _ => TRANSPOSE_CONTROLS,
    }
}

/// The `[min, max]` each control can reach with the others held (see [`ranges`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Ranges {
    /// `[h, w]`.
    pub stride: [[usize; 2]; 2],
    /// `[top, left, bottom, right]`.
    pub padding: [[usize; 2]; 4],
    pub dilation: [[usize; 2]; 2],
    /// Transposed convolution only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_padding: Option<[[usize; 2]; 2]>,
}

/// The range each control of `op`'s scene can reach with the others held, among `0..=cap`
/// (padding, output padding) or `1..=cap` (stride, dilation): found by asking [`check`] about
/// every candidate, as ezyang's visualiser does. A control with no valid value gets
/// `[current, current]`.
pub fn ranges(
    op: Op,
    input: [usize; 2],
    kernel: [usize; 2],
    p: &Conv2dParams,
    cap: usize,
) -> Ranges {
    let mut controls = common_controls(p);
    if op != Op::Correlate {
        controls.push((|g, v| g.output_padding[0] = v, 0, p.output_padding[0]));
        controls.push((|g, v| g.output_padding[1] = v, 0, p.output_padding[1]));
    }
    let r = reachable_ranges(&controls, p, cap.min(MAX_SIDE), |t| {
        check(op, input, kernel, t).is_ok()
    });
    Ranges {
        stride: [r[0], r[1]],
        padding: [r[2], r[3], r[4], r[5]],
        dilation: [r[6], r[7]],
        output_padding: (op != Op::Correlate).then(|| [r[8], r[9]]),
    }
}

/// The nearest valid setting for `op` when the input or the kernel changed size (see
/// `correlate::settle`, `transpose::settle`). A value no setting allows (stride or dilation 0,
/// an input or kernel outside the display limits) is an error, not adjusted.
pub fn settle(
    op: Op,
    input: [usize; 2],
    kernel: [usize; 2],
    p: &Conv2dParams,
) -> Result<Conv2dParams> {
    check_sizes(op, input, kernel)?;
    p.check_steps()?;
    let mut g = *p;
    g.groups = 1;
    for axis in 0..2 {
        g.stride[axis] = g.stride[axis].clamp(1, MAX_SIDE);
        g.dilation[axis] = g.dilation[axis].clamp(1, MAX_SIDE);
        g.padding[axis] = g.padding[axis].min(MAX_SIDE);
        g.padding[axis + 2] = g.padding[axis + 2].min(MAX_SIDE);
        g.output_padding[axis] = g.output_padding[axis].min(MAX_SIDE);
    }
    let mut g = match op {
        Op::Correlate => correlate::settle(input, kernel, &g),
        _ => transpose::settle(input, kernel, &g),
    };
    // Past what the scene's own rule fixes (a display limit): shrink the largest control
    // one step at a time. Every control is at most MAX_SIDE, so this ends.
    while check(op, input, kernel, &g).is_err() {
        let Conv2dParams {
            stride,
            dilation,
            padding,
            output_padding,
            ..
        } = &mut g;
        let slots = stride
            .iter_mut()
            .chain(dilation.iter_mut())
            .map(|v| (v, 1))
            .chain(
                padding
                    .iter_mut()
                    .chain(output_padding.iter_mut())
                    .map(|v| (v, 0)),
            );
        match slots.filter(|(v, lo)| **v > *lo).max_by_key(|(v, _)| **v) {
            Some((v, _)) => *v -= 1,
            None => break,
        }
    }
    check(op, input, kernel, &g)?;
    Ok(g)
}

/// The input and kernel sizes a scene of `op` can show.
fn check_sizes(op: Op, [h, w]: [usize; 2], [kh, kw]: [usize; 2]) -> Result<()> {
    let max_in = if op == Op::Transpose {
        transpose::MAX_INPUT
    } else {
        MAX_SIDE
    };
    if h == 0 || w == 0 || h > max_in || w > max_in {
        return Err(Error::shape(format!(
            "input is {h}×{w}; each side must be between 1 and {max_in} here"
        )));
    }
    if kh == 0 || kw == 0 || kh > MAX_KERNEL || kw > MAX_KERNEL {
        return Err(Error::shape(format!(
            "kernel is {kh}×{kw}; each side must be between 1 and {MAX_KERNEL}"
        )));
    }
    Ok(())
}

/// The range `[min, max]` each control can reach with the others held, among `lo..=cap`,
/// found by asking `valid` about every candidate (as ezyang's visualiser does). A control whose
/// every value is invalid gets `[current, current]`.
pub(crate) fn reachable_ranges(
    controls: &[(Setter, usize, usize)],
    g: &Conv2dParams,
    cap: usize,
    valid: impl Fn(&Conv2dParams) -> bool,
) -> Vec<[usize; 2]> {
    controls
        .iter()
        .map(|&(set, lo, current)| {
            let ok: Vec<usize> = (lo..=cap.max(lo))
                .filter(|&v| {
                    let mut t = *g;
                    set(&mut t, v);
                    valid(&t)
                })
                .collect();
            match (ok.first(), ok.last()) {
                (Some(&a), Some(&b)) => [a, b],
                _ => [current, current],
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn every_control_setting_has_a_valid_geometry() {
        // Each input and kernel side a scene's steppers offer is one its trace accepts, and
        // settles to a valid geometry from the default one (so no stepper value is a dead end).
        for op in [Op::Correlate, Op::Transpose] {
            let c = controls(op);
            assert!(c.size[0] >= 1 && c.size[0] <= c.size[1]);
            assert!(c.kernel_size[0] >= 1 && c.kernel_size[0] <= c.kernel_size[1]);
            assert!(c.cap >= 1 && c.cap <= MAX_SIDE);
            for n in c.size[0]..=c.size[1] {
                for k in c.kernel_size[0]..=c.kernel_size[1] {
                    let g = settle(op, [n, n], [k, k], &Conv2dParams::default()).unwrap();
                    assert!(check(op, [n, n], [k, k], &g).is_ok(), "{op:?} {n} {k}");
                }
            }
            assert!(check_sizes(op, [c.size[1]; 2], [c.kernel_size[1]; 2]).is_ok());
        }
        assert!(TRANSPOSE_CONTROLS.size[1] <= transpose::MAX_INPUT);
        assert!(CORRELATE_CONTROLS.kernel_size[1] <= MAX_KERNEL);
    }

    #[test]
    fn flip_turns_the_kernel_by_half_a_turn() {
        let k = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        assert_eq!(flip_kernel(&k, 2, 3), vec![6.0, 5.0, 4.0, 3.0, 2.0, 1.0]);
        assert_eq!(flip_kernel(&flip_kernel(&k, 3, 2), 3, 2), k.to_vec());
    }

    #[test]
    fn rng_is_deterministic_and_in_range() {
        let a: Vec<f32> = {
            let mut r = Rng::new(7);
            (0..100).map(|_| r.eighth()).collect()
        };
        let mut r = Rng::new(7);
        for &v in &a {
            assert_eq!(v, r.eighth());
            assert!((-1.0..1.0).contains(&v));
        }
        assert!(a.iter().any(|&v| v != a[0]));
    }
}

#[cfg(test)]
mod against_ops;
