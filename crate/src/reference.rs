//! Naive loops straight from the definitions, in f64: the specification every fast path is
//! tested against. Slow on purpose and written without the fast code's geometry helpers (each
//! computes its own output size from PyTorch's formula), so a shared mistake cannot hide.
//!
//! These take raw slices plus shapes and assume valid parameters (validate with the fast
//! functions first); they are for tests and demos, not for untrusted input.

use crate::conv::{Conv2dParams, Pool2dParams};

pub fn to_f64(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| x as f64).collect()
}

fn conv_out(input: usize, k: usize, s: usize, pb: usize, pe: usize, d: usize) -> usize {
    let num = input as i64 + pb as i64 + pe as i64 - d as i64 * (k as i64 - 1) - 1;
    if num < 0 {
        0
    } else {
        (num / s as i64 + 1) as usize
    }
}

/// `y[n, o, oy, ox] = b[o] + Σ_{c, ky, kx} x[n, g·cpg + c, oy·s − pt + ky·d, ox·s − pl + kx·d] · w[o, c, ky, kx]`,
/// out-of-image taps reading 0. Returns the output and its shape.
pub fn conv2d(
    x: &[f64],
    xs: [usize; 4],
    w: &[f64],
    ws: [usize; 4],
    bias: Option<&[f64]>,
    p: &Conv2dParams,
) -> (Vec<f64>, [usize; 4]) {
    let [n, c_in, h, wd] = xs;
    let [c_out, cpg, kh, kw] = ws;
    let g = p.groups;
    let opg = c_out / g;
    let [pt, pl, pb, pr] = p.padding;
    let oh = conv_out(h, kh, p.stride[0], pt, pb, p.dilation[0]);
    let ow = conv_out(wd, kw, p.stride[1], pl, pr, p.dilation[1]);
    assert_eq!(x.len(), n * c_in * h * wd);
    assert_eq!(w.len(), c_out * cpg * kh * kw);
    let mut y = vec![0.0; n * c_out * oh * ow];
    for b in 0..n {
        for o in 0..c_out {
            let grp = o / opg;
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut acc = bias.map_or(0.0, |bv| bv[o]);
                    for c in 0..cpg {
                        let ci = grp * cpg + c;
                        for ky in 0..kh {
                            for kx in 0..kw {
                                let iy = (oy * p.stride[0] + ky * p.dilation[0]) as i64 - pt as i64;
                                let ix = (ox * p.stride[1] + kx * p.dilation[1]) as i64 - pl as i64;
                                if iy < 0 || ix < 0 || iy >= h as i64 || ix >= wd as i64 {
                                    continue;
                                }
                                let (iy, ix) = (iy as usize, ix as usize);
                                acc += x[((b * c_in + ci) * h + iy) * wd + ix]
                                    * w[((o * cpg + c) * kh + ky) * kw + kx];
                            }
                        }
                    }
                    y[((b * c_out + o) * oh + oy) * ow + ox] = acc;
                }
            }
        }
    }
    (y, [n, c_out, oh, ow])
}

/// The transposed conv as a scatter, straight from its definition: every input pixel stamps
/// the kernel, scaled by itself, onto the output at `iy·s − pt + ky·d` (the same as upsampling
/// by zero insertion, then convolving). `w` is `[C_in, C_out/groups, kH, kW]`.
pub fn conv_transpose2d(
    x: &[f64],
    xs: [usize; 4],
    w: &[f64],
    ws: [usize; 4],
    bias: Option<&[f64]>,
    p: &Conv2dParams,
) -> (Vec<f64>, [usize; 4]) {
    let [n, c_in, h, wd] = xs;
    let [_, opg, kh, kw] = ws;
    let g = p.groups;
    let cpg = c_in / g;
    let c_out = opg * g;
    let [pt, pl, pb, pr] = p.padding;
    let full_h = p.stride[0] * (h - 1) + p.output_padding[0] + p.dilation[0] * (kh - 1) + 1;
    let full_w = p.stride[1] * (wd - 1) + p.output_padding[1] + p.dilation[1] * (kw - 1) + 1;
    let oh = full_h.saturating_sub(pt + pb);
    let ow = full_w.saturating_sub(pl + pr);
    let mut y = vec![0.0; n * c_out * oh * ow];
    for b in 0..n {
        for ci in 0..c_in {
            let grp = ci / cpg;
            for iy in 0..h {
                for ix in 0..wd {
                    let v = x[((b * c_in + ci) * h + iy) * wd + ix];
                    for oc in 0..opg {
                        let o = grp * opg + oc;
                        for ky in 0..kh {
                            for kx in 0..kw {
                                let oy = (iy * p.stride[0] + ky * p.dilation[0]) as i64 - pt as i64;
                                let ox = (ix * p.stride[1] + kx * p.dilation[1]) as i64 - pl as i64;
                                if oy < 0 || ox < 0 || oy >= oh as i64 || ox >= ow as i64 {
                                    continue;
                                }
                                y[((b * c_out + o) * oh + oy as usize) * ow + ox as usize] +=
                                    v * w[((ci * opg + oc) * kh + ky) * kw + kx];
                            }
                        }
                    }
                }
            }
        }
    }
    if let Some(bv) = bias {
        for b in 0..n {
            for o in 0..c_out {
                for v in &mut y[(b * c_out + o) * oh * ow..][..oh * ow] {
                    *v += bv[o];
                }
            }
        }
    }
    (y, [n, c_out, oh, ow])
}

/// Max pool with −∞ padding `[top, left, bottom, right]`; returns output, argmax (flat index
/// into x) and output shape.
pub fn max_pool2d(x: &[f64], xs: [usize; 4], p: &Pool2dParams) -> (Vec<f64>, Vec<u32>, [usize; 4]) {
    let [n, c, h, w] = xs;
    let size = |input: usize, i: usize| -> usize {
        let (before, after) = (p.padding[i] as i64, p.padding[i + 2] as i64);
        let num = input as i64 + before + after - (p.dilation[i] * (p.kernel[i] - 1)) as i64 - 1;
        if num < 0 {
            return 0;
        }
        let s = p.stride[i] as i64;
        let mut o = if p.ceil_mode {
            (num + s - 1) / s + 1
        } else {
            num / s + 1
        };
        // PyTorch: the last window must start inside the input or the top/left padding
        if p.ceil_mode && (o - 1) * s >= input as i64 + before {
            o -= 1;
        }
        o as usize
    };
    let (oh, ow) = (size(h, 0), size(w, 1));
    let mut y = vec![0.0; n * c * oh * ow];
    let mut arg = vec![u32::MAX; n * c * oh * ow];
    for plane in 0..n * c {
        for oy in 0..oh {
            for ox in 0..ow {
                let mut best = f64::NEG_INFINITY;
                let mut at = u32::MAX;
                for ky in 0..p.kernel[0] {
                    for kx in 0..p.kernel[1] {
                        let iy =
                            (oy * p.stride[0] + ky * p.dilation[0]) as i64 - p.padding[0] as i64;
                        let ix =
                            (ox * p.stride[1] + kx * p.dilation[1]) as i64 - p.padding[1] as i64;
                        if iy < 0 || ix < 0 || iy >= h as i64 || ix >= w as i64 {
                            continue;
                        }
                        let idx = (plane * h + iy as usize) * w + ix as usize;
                        if at == u32::MAX || x[idx] > best {
                            best = x[idx];
                            at = idx as u32;
                        }
                    }
                }
                y[(plane * oh + oy) * ow + ox] = best;
                arg[(plane * oh + oy) * ow + ox] = at;
            }
        }
    }
    (y, arg, [n, c, oh, ow])
}

/// `y[n, o] = b[o] + Σ_i x[n, i]·w[o, i]`.
pub fn linear(
    x: &[f64],
    n: usize,
    inp: usize,
    w: &[f64],
    out: usize,
    b: Option<&[f64]>,
) -> Vec<f64> {
    let mut y = vec![0.0; n * out];
    for r in 0..n {
        for o in 0..out {
            y[r * out + o] = b.map_or(0.0, |b| b[o])
                + (0..inp)
                    .map(|i| x[r * inp + i] * w[o * inp + i])
                    .sum::<f64>();
        }
    }
    y
}

/// Softmax of each row of a `[rows, cols]` matrix.
pub fn softmax_rows(x: &[f64], cols: usize) -> Vec<f64> {
    let mut y = Vec::with_capacity(x.len());
    for row in x.chunks(cols) {
        let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let e: Vec<f64> = row.iter().map(|v| (v - m).exp()).collect();
        let s: f64 = e.iter().sum();
        y.extend(e.iter().map(|v| v / s));
    }
    y
}
