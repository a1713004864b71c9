//! The transposed convolution, input cell by input cell: each input value stamps the kernel,
//! scaled by itself, into the output (col2im, seed 004), and the stamps add up where they
//! overlap, so an output cell covered by more stamps than its neighbours stands out (the
//! checkerboard when the kernel size is not divisible by the stride). Beside it, the
//! equivalent view of seed 002: insert `stride − 1` zeros between input pixels, pad by
//! `dilation·(k−1) − padding`, and correlate with the flipped kernel. Also the adjoint check
//! ⟨K f, g⟩ = ⟨f, Kᵀ g⟩ and the round trip Conv2d(stride n) → ConvTranspose2d.

use super::correlate::{self, CorrTrace};
use super::{check_image, inner, AxisTerms, Geometry, Rng, MAX_KERNEL, MAX_SIDE};
use crate::error::{Error, Result};

/// Largest input side of the stepped transposed convolution (every stamp is drawn).
pub const MAX_INPUT: usize = 32;

/// The output size along one axis, with its terms.
pub fn axis_terms(
    input: usize,
    (pad_begin, pad_end): (usize, usize),
    dilation: usize,
    kernel: usize,
    stride: usize,
    output_padding: usize,
) -> Result<AxisTerms> {
    if output_padding >= stride.max(dilation) {
        return Err(Error::param(
            "output_padding",
            output_padding,
            format!(
                "must be smaller than max(stride, dilation) = {}",
                stride.max(dilation)
            ),
        ));
    }
    let span = stride * (input - 1) + output_padding + dilation * (kernel - 1) + 1;
    if pad_begin + pad_end >= span {
        return Err(Error::param(
            "padding",
            [pad_begin, pad_end],
            format!("crops all {span} cells of the transposed output"),
        ));
    }
    Ok(AxisTerms {
        input,
        pad_begin,
        pad_end,
        dilation,
        kernel,
        stride,
        output_padding,
        span,
        output: span - pad_begin - pad_end,
    })
}

/// The validity predicate (the conditions under which `conv::conv_transpose2d` errors), with
/// the output-size terms of both axes.
pub fn check(h: usize, w: usize, kh: usize, kw: usize, g: &Geometry) -> Result<[AxisTerms; 2]> {
    if h == 0 || w == 0 || h > MAX_SIDE || w > MAX_SIDE {
        return Err(Error::shape(format!(
            "input is {h}×{w}; each side must be between 1 and {MAX_SIDE}"
        )));
    }
    if kh == 0 || kw == 0 || kh > MAX_KERNEL || kw > MAX_KERNEL {
        return Err(Error::shape(format!(
            "kernel is {kh}×{kw}; each side must be between 1 and {MAX_KERNEL}"
        )));
    }
    g.check_common()?;
    let rows = axis_terms(
        h,
        g.pads(0),
        g.dilation[0],
        kh,
        g.stride[0],
        g.output_padding[0],
    )?;
    let cols = axis_terms(
        w,
        g.pads(1),
        g.dilation[1],
        kw,
        g.stride[1],
        g.output_padding[1],
    )?;
    if rows.span > 4 * MAX_SIDE || cols.span > 4 * MAX_SIDE {
        return Err(Error::shape(format!(
            "the transposed output would be {}×{}; at most {} per side here",
            rows.span,
            cols.span,
            4 * MAX_SIDE
        )));
    }
    Ok([rows, cols])
}

/// `[min, max]` per control with the others held, among `0..=cap` / `1..=cap`, in the order
/// stride h, stride w, padding top, left, bottom, right, dilation h, dilation w,
/// output_padding h, output_padding w.
pub fn ranges(
    h: usize,
    w: usize,
    kh: usize,
    kw: usize,
    g: &Geometry,
    cap: usize,
) -> Vec<[usize; 2]> {
    let mut controls = super::common_controls(g);
    controls.push((|g, v| g.output_padding[0] = v, 0, g.output_padding[0]));
    controls.push((|g, v| g.output_padding[1] = v, 0, g.output_padding[1]));
    super::reachable_ranges(&controls, g, cap, |t| check(h, w, kh, kw, t).is_ok())
}

/// The nearest valid geometry: output_padding lowered below max(stride, dilation), padding
/// lowered until something of the output is left.
pub fn settle(h: usize, w: usize, kh: usize, kw: usize, g: &Geometry) -> Geometry {
    let mut g = *g;
    for axis in 0..2 {
        g.stride[axis] = g.stride[axis].clamp(1, MAX_SIDE);
        g.dilation[axis] = g.dilation[axis].clamp(1, MAX_SIDE);
        let limit = g.stride[axis].max(g.dilation[axis]) - 1;
        g.output_padding[axis] = g.output_padding[axis].min(limit);
        let (input, k) = if axis == 0 { (h, kh) } else { (w, kw) };
        let span = g.stride[axis] * (input.max(1) - 1)
            + g.output_padding[axis]
            + g.dilation[axis] * (k.max(1) - 1)
            + 1;
        while g.padding[axis] + g.padding[axis + 2] >= span {
            if g.padding[axis + 2] > 0 {
                g.padding[axis + 2] -= 1;
            } else {
                g.padding[axis] -= 1;
            }
        }
    }
    g
}

/// The equivalent view: the zero-inserted, padded input and the correlation with the flipped
/// kernel over it.
#[derive(Debug, Clone, PartialEq)]
pub struct Equivalent {
    /// The input with `stride − 1` zeros between pixels: `(h−1)·s + 1` rows.
    pub inserted_h: usize,
    pub inserted_w: usize,
    /// Padding added around it, `dilation·(k−1) − pad_begin` before and
    /// `dilation·(k−1) − pad_end + output_padding` after; negative means rows cropped.
    pub pad_before: [i32; 2],
    pub pad_after: [i32; 2],
    /// Per cell of the grid: 0 = an input pixel, 1 = an inserted zero, 2 = padding.
    pub kind: Vec<u8>,
    /// Per cell of the grid: the input index, or −1.
    pub source: Vec<i32>,
    /// Per input cell: where it sits in the grid, or −1 when cropped away.
    pub position: Vec<i32>,
    /// The correlation (stride 1, same dilation, kernel flipped) over the grid; its `padded`
    /// is the grid itself (no further padding) and its output equals the transposed output.
    pub corr: CorrTrace,
}

/// Every stamp of a transposed convolution of one `h × w` image.
#[derive(Debug, Clone, PartialEq)]
pub struct TransTrace {
    pub h: usize,
    pub w: usize,
    pub kh: usize,
    pub kw: usize,
    pub geometry: Geometry,
    pub kernel: Vec<f32>,
    pub terms: [AxisTerms; 2],
    /// The uncropped canvas every stamp lands in: `stride·(in−1) + output_padding + dilation·(k−1) + 1`.
    pub full_h: usize,
    pub full_w: usize,
    /// The output is the canvas without `padding` rows/columns at each side.
    pub out_h: usize,
    pub out_w: usize,
    /// Per input cell (row-major) and tap: the canvas cell it adds into. `h·w × taps`.
    pub stamp_full: Vec<u32>,
    /// The same as an output index, −1 where the padding crops it.
    pub stamp_out: Vec<i32>,
    /// The value added: `x[i][j] · k[a][b]`.
    pub stamp_value: Vec<f32>,
    /// The canvas after all stamps, and the output cropped from it.
    pub full: Vec<f32>,
    pub output: Vec<f32>,
    /// How many stamps cover each canvas cell / output cell.
    pub coverage_full: Vec<u32>,
    pub coverage: Vec<u32>,
    /// Per canvas cell: its output index, or −1 where the padding crops it.
    pub canvas_output: Vec<i32>,
    pub equivalent: Equivalent,
}

impl TransTrace {
    pub fn steps(&self) -> usize {
        self.h * self.w
    }

    pub fn taps(&self) -> usize {
        self.kh * self.kw
    }

    /// The canvas after the first `steps` stamps (col2im stopped part way).
    pub fn canvas_after(&self, steps: usize) -> Vec<f32> {
        let mut c = vec![0.0; self.full_h * self.full_w];
        let n = steps.min(self.steps()) * self.taps();
        for (&p, &v) in self.stamp_full[..n].iter().zip(&self.stamp_value[..n]) {
            c[p as usize] += v;
        }
        c
    }

    /// How many of the first `steps` stamps cover each canvas cell.
    pub fn coverage_after(&self, steps: usize) -> Vec<u32> {
        let mut c = vec![0; self.full_h * self.full_w];
        for &p in &self.stamp_full[..steps.min(self.steps()) * self.taps()] {
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
    g: &Geometry,
) -> Result<(Vec<f32>, usize, usize)> {
    let t = trace_stamps(x, h, w, k, kh, kw, g, false)?;
    Ok((t.output, t.out_h, t.out_w))
}

/// Records every stamp, then builds the equivalent zero-insertion view.
#[allow(clippy::too_many_arguments)]
pub fn trace(
    x: &[f32],
    h: usize,
    w: usize,
    k: &[f32],
    kh: usize,
    kw: usize,
    g: &Geometry,
) -> Result<TransTrace> {
    if h > MAX_INPUT || w > MAX_INPUT {
        return Err(Error::shape(format!(
            "input is {h}×{w}; the stepped transposed convolution takes at most {MAX_INPUT} per side"
        )));
    }
    trace_stamps(x, h, w, k, kh, kw, g, true)
}

#[allow(clippy::too_many_arguments)]
fn trace_stamps(
    x: &[f32],
    h: usize,
    w: usize,
    k: &[f32],
    kh: usize,
    kw: usize,
    g: &Geometry,
    with_equivalent: bool,
) -> Result<TransTrace> {
    let terms = check(h, w, kh, kw, g)?;
    check_image("input", x, h, w, MAX_SIDE)?;
    check_image("kernel", k, kh, kw, MAX_KERNEL)?;
    let (full_h, full_w) = (terms[0].span, terms[1].span);
    let (out_h, out_w) = (terms[0].output, terms[1].output);
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
    let equivalent = if with_equivalent {
        equivalent(x, h, w, k, kh, kw, g, &terms)?
    } else {
        Equivalent {
            inserted_h: 0,
            inserted_w: 0,
            pad_before: [0; 2],
            pad_after: [0; 2],
            kind: vec![],
            source: vec![],
            position: vec![],
            corr: correlate::trace(&[0.0], 1, 1, &[0.0], 1, 1, &Geometry::default(), false)?,
        }
    };
    Ok(TransTrace {
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
        stamp_full,
        stamp_out,
        stamp_value,
        full,
        output,
        coverage_full,
        coverage,
        canvas_output,
        equivalent,
    })
}

#[allow(clippy::too_many_arguments)]
fn equivalent(
    x: &[f32],
    h: usize,
    w: usize,
    k: &[f32],
    kh: usize,
    kw: usize,
    g: &Geometry,
    terms: &[AxisTerms; 2],
) -> Result<Equivalent> {
    let inserted = [(h - 1) * g.stride[0] + 1, (w - 1) * g.stride[1] + 1];
    let reach = [g.dilation[0] * (kh - 1), g.dilation[1] * (kw - 1)];
    let before = [
        reach[0] as i32 - g.padding[0] as i32,
        reach[1] as i32 - g.padding[1] as i32,
    ];
    let after = [
        reach[0] as i32 - g.padding[2] as i32 + g.output_padding[0] as i32,
        reach[1] as i32 - g.padding[3] as i32 + g.output_padding[1] as i32,
    ];
    // Grid side = output + dilation·(k−1): always at least the dilated kernel.
    let gh = terms[0].output + reach[0];
    let gw = terms[1].output + reach[1];
    if gh > MAX_SIDE || gw > MAX_SIDE {
        return Err(Error::shape(format!(
            "the zero-inserted input would be {gh}×{gw}; at most {MAX_SIDE} per side here"
        )));
    }
    let mut grid = vec![0.0; gh * gw];
    let mut kind = vec![2u8; gh * gw];
    let mut source = vec![-1i32; gh * gw];
    let mut position = vec![-1i32; h * w];
    for r in 0..gh {
        let zr = r as i64 - before[0] as i64;
        for c in 0..gw {
            let zc = c as i64 - before[1] as i64;
            let p = r * gw + c;
            if zr < 0 || zc < 0 || zr >= inserted[0] as i64 || zc >= inserted[1] as i64 {
                continue;
            }
            let (zr, zc) = (zr as usize, zc as usize);
            if zr % g.stride[0] == 0 && zc % g.stride[1] == 0 {
                let i = (zr / g.stride[0]) * w + zc / g.stride[1];
                grid[p] = x[i];
                kind[p] = 0;
                source[p] = i as i32;
                position[i] = p as i32;
            } else {
                kind[p] = 1;
            }
        }
    }
    let eg = Geometry {
        stride: [1, 1],
        padding: [0; 4],
        dilation: g.dilation,
        output_padding: [0, 0],
    };
    let corr = correlate::trace(&grid, gh, gw, k, kh, kw, &eg, true)?;
    Ok(Equivalent {
        inserted_h: inserted[0],
        inserted_w: inserted[1],
        pad_before: before,
        pad_after: after,
        kind,
        source,
        position,
        corr,
    })
}

/// The two sides of the adjoint identity for the geometry `g` and kernel `k`: K is the
/// stride-n correlation (Conv2d) from the transposed output's size down to the input's size,
/// Kᵀ the transposed convolution. `g_img` is the scene's input (the "g" of ⟨K f, g⟩), `f` a
/// fixed pseudo-random image of the output's size. When output_padding ≥ stride, K f has
/// extra rows/columns at the bottom/right, and Kᵀ is the adjoint of K followed by cropping
/// them, so they are cropped.
#[derive(Debug, Clone, PartialEq)]
pub struct Adjoint {
    pub f: Vec<f32>,
    pub kf: Vec<f32>,
    pub kt_g: Vec<f32>,
    /// ⟨K f, g⟩
    pub lhs: f64,
    /// ⟨f, Kᵀ g⟩
    pub rhs: f64,
}

#[allow(clippy::too_many_arguments)]
pub fn adjoint(
    g_img: &[f32],
    h: usize,
    w: usize,
    k: &[f32],
    kh: usize,
    kw: usize,
    g: &Geometry,
    seed: u32,
) -> Result<Adjoint> {
    let (kt_g, oh, ow) = conv_transpose(g_img, h, w, k, kh, kw, g)?;
    let mut rng = Rng::new(seed);
    let f: Vec<f32> = (0..oh * ow).map(|_| rng.next_eighth()).collect();
    let cg = Geometry {
        output_padding: [0, 0],
        ..*g
    };
    let t = correlate::trace(&f, oh, ow, k, kh, kw, &cg, false)?;
    if t.out_h < h || t.out_w < w {
        return Err(Error::shape(format!(
            "K f is {}×{} but g is {h}×{w}",
            t.out_h, t.out_w
        )));
    }
    let kf: Vec<f32> = (0..h)
        .flat_map(|r| t.output[r * t.out_w..r * t.out_w + w].to_vec())
        .collect();
    Ok(Adjoint {
        lhs: inner(&kf, g_img),
        rhs: inner(&f, &kt_g),
        f,
        kf,
        kt_g,
    })
}

/// Conv2d(stride n) then ConvTranspose2d with the same kernel and geometry, back to the
/// input's size (output_padding chosen for it).
#[derive(Debug, Clone, PartialEq)]
pub struct RoundTrip {
    pub down: Vec<f32>,
    pub down_h: usize,
    pub down_w: usize,
    pub output_padding: [usize; 2],
    pub up: Vec<f32>,
}

pub fn round_trip(
    x: &[f32],
    h: usize,
    w: usize,
    k: &[f32],
    kh: usize,
    kw: usize,
    g: &Geometry,
) -> Result<RoundTrip> {
    let cg = Geometry {
        output_padding: [0, 0],
        ..*g
    };
    let t = correlate::trace(x, h, w, k, kh, kw, &cg, false)?;
    let op = [t.terms[0].span % g.stride[0], t.terms[1].span % g.stride[1]];
    let tg = Geometry {
        output_padding: op,
        ..cg
    };
    let (up, uh, uw) = conv_transpose(&t.output, t.out_h, t.out_w, k, kh, kw, &tg)?;
    debug_assert_eq!((uh, uw), (h, w));
    Ok(RoundTrip {
        down: t.output,
        down_h: t.out_h,
        down_w: t.out_w,
        output_padding: op,
        up,
    })
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn rand(n: usize, seed: u32) -> Vec<f32> {
        let mut r = Rng::new(seed);
        (0..n).map(|_| r.next_eighth()).collect()
    }

    /// The definition (PyTorch's ConvTranspose2d), independent of the trace:
    /// out[y][x] = Σ_{i,j,a,b : i·s + a·d − p = y, …} in[i][j]·k[a][b].
    #[allow(clippy::too_many_arguments)]
    fn naive(
        x: &[f32],
        h: usize,
        w: usize,
        k: &[f32],
        kh: usize,
        kw: usize,
        g: &Geometry,
    ) -> (Vec<f32>, usize, usize) {
        let [r, c] = check(h, w, kh, kw, g).unwrap();
        let (oh, ow) = (r.output, c.output);
        let mut out = vec![0.0; oh * ow];
        for y in 0..oh {
            for xx in 0..ow {
                let mut s = 0.0;
                for i in 0..h {
                    for j in 0..w {
                        for a in 0..kh {
                            for b in 0..kw {
                                if i * g.stride[0] + a * g.dilation[0] == y + g.padding[0]
                                    && j * g.stride[1] + b * g.dilation[1] == xx + g.padding[1]
                                {
                                    s += x[i * w + j] * k[a * kw + b];
                                }
                            }
                        }
                    }
                }
                out[y * ow + xx] = s;
            }
        }
        (out, oh, ow)
    }

    fn random_settings(case: u32) -> (usize, usize, usize, usize, Geometry) {
        let mut r = Rng::new(case * 7 + 3);
        let mut pick = |n: usize| ((r.next_eighth() + 1.0) * 8.0) as usize % n;
        let (h, w) = (1 + pick(6), 1 + pick(6));
        let (kh, kw) = (1 + pick(5), 1 + pick(5));
        let stride = [1 + pick(3), 1 + pick(3)];
        let dilation = [1 + pick(2), 1 + pick(2)];
        let g = Geometry {
            stride,
            padding: [pick(3), pick(3), pick(3), pick(3)],
            dilation,
            output_padding: [
                pick(stride[0].max(dilation[0])),
                pick(stride[1].max(dilation[1])),
            ],
        };
        (h, w, kh, kw, g)
    }

    #[test]
    fn stamps_sum_to_the_definition_and_the_equivalent_view_agrees() {
        let mut checked = 0;
        for case in 0..300 {
            let (h, w, kh, kw, g) = random_settings(case);
            let x = rand(h * w, case);
            let k = rand(kh * kw, case + 500);
            let Ok(t) = trace(&x, h, w, &k, kh, kw, &g) else {
                assert!(check(h, w, kh, kw, &g).is_err());
                continue;
            };
            checked += 1;
            let (want, oh, ow) = naive(&x, h, w, &k, kh, kw, &g);
            assert_eq!((t.out_h, t.out_w), (oh, ow), "case {case}");
            for (a, b) in t.output.iter().zip(&want) {
                assert!((a - b).abs() < 1e-5, "case {case}: stamps {a} vs {b}");
            }
            // Stamps landing in the output, summed per cell, give the output.
            let mut sum = vec![0.0f32; oh * ow];
            let mut cover = vec![0u32; oh * ow];
            for (&o, &v) in t.stamp_out.iter().zip(&t.stamp_value) {
                if o >= 0 {
                    sum[o as usize] += v;
                    cover[o as usize] += 1;
                }
            }
            for (a, b) in sum.iter().zip(&want) {
                assert!((a - b).abs() < 1e-5);
            }
            assert_eq!(cover, t.coverage);
            for (p, &o) in t.canvas_output.iter().enumerate() {
                if o >= 0 {
                    assert_eq!(t.full[p], t.output[o as usize]);
                }
            }
            assert_eq!(t.canvas_after(t.steps()), t.full);
            assert_eq!(t.coverage_after(t.steps()), t.coverage_full);
            // Zero insertion + flipped kernel = stamps.
            let e = &t.equivalent;
            assert_eq!((e.corr.out_h, e.corr.out_w), (oh, ow), "case {case}");
            for (a, b) in e.corr.output.iter().zip(&t.output) {
                assert!((a - b).abs() < 1e-5, "case {case}: equivalent {a} vs {b}");
            }
            for (i, &p) in e.position.iter().enumerate() {
                if p >= 0 {
                    assert_eq!(e.source[p as usize], i as i32);
                    assert_eq!(e.corr.padded[p as usize], x[i]);
                }
            }
        }
        assert!(checked > 150, "only {checked} valid cases");
    }

    #[test]
    fn adjoint_numbers_agree() {
        for case in 0..200 {
            let (h, w, kh, kw, g) = random_settings(case + 1000);
            let x = rand(h * w, case);
            let k = rand(kh * kw, case + 77);
            if check(h, w, kh, kw, &g).is_err() {
                continue;
            }
            let a = adjoint(&x, h, w, &k, kh, kw, &g, case).unwrap();
            assert!(
                (a.lhs - a.rhs).abs() <= 1e-4 * (1.0 + a.lhs.abs()),
                "case {case}: {} vs {}",
                a.lhs,
                a.rhs
            );
        }
    }

    #[test]
    fn checkerboard_appears_when_k_is_not_divisible_by_the_stride() {
        let g = Geometry {
            stride: [2, 2],
            ..Default::default()
        };
        let x = vec![1.0; 16];
        let t3 = trace(&x, 4, 4, &[1.0; 9], 3, 3, &g).unwrap();
        let inner3: Vec<u32> = t3.coverage[2 * t3.out_w + 2..2 * t3.out_w + 6].to_vec();
        assert_eq!(inner3, vec![4, 2, 4, 2]);
        let g4 = Geometry {
            stride: [2, 2],
            padding: [1; 4],
            ..Default::default()
        };
        let t4 = trace(&x, 4, 4, &[1.0; 16], 4, 4, &g4).unwrap();
        // With k = 4 = 2·stride, every cell away from the border is covered 4 times.
        for r in 1..t4.out_h - 1 {
            for c in 1..t4.out_w - 1 {
                assert_eq!(t4.coverage[r * t4.out_w + c], 4);
            }
        }
    }

    #[test]
    fn round_trip_returns_to_the_input_size() {
        let x = rand(28 * 28, 9);
        for s in 1..4 {
            for (k, p) in [(3, 1), (4, 1), (5, 2), (2, 0)] {
                let g = Geometry {
                    stride: [s, s],
                    padding: [p; 4],
                    ..Default::default()
                };
                let rt = round_trip(&x, 28, 28, &vec![0.25; k * k], k, k, &g).unwrap();
                assert_eq!(rt.up.len(), 28 * 28);
                assert!(rt.output_padding[0] < s);
            }
        }
    }

    #[test]
    fn settle_and_ranges_reach_only_valid_settings() {
        let g = Geometry {
            stride: [1, 1],
            padding: [3, 3, 3, 3],
            output_padding: [2, 0],
            ..Default::default()
        };
        let s = settle(2, 2, 2, 2, &g);
        assert!(check(2, 2, 2, 2, &s).is_ok(), "{s:?}");
        let r = ranges(
            3,
            3,
            3,
            3,
            &Geometry {
                stride: [2, 2],
                ..Default::default()
            },
            6,
        );
        assert_eq!(r[8], [0, 1]);
        assert_eq!(r[2], [0, 6]);
        let r = ranges(1, 1, 1, 1, &Geometry::default(), 6);
        assert_eq!(r[2], [0, 0]);
    }
}
