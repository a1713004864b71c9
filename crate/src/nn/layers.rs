//! What the model's layers call beyond [`crate::ops::slice`] (relu, softmax, linear): the
//! loss, and convolution and pooling through [`crate::conv`] (the project's one
//! implementation of each).

use crate::conv::{self, Conv2dParams, Pool2dParams};
use crate::error::Result;
use crate::tensor::Tensor;

/// Mean cross-entropy of the probabilities `p[N, C]` against `labels`, and its gradient with
/// respect to the logits (the softmax folded in): (p − onehot) / N.
pub fn cross_entropy(p: &[f32], labels: &[u8], classes: usize, dlogits: &mut [f32]) -> f32 {
    let n = labels.len();
    let mut loss = 0.0f64;
    for (i, &l) in labels.iter().enumerate() {
        let row = &p[i * classes..(i + 1) * classes];
        loss -= (row[l as usize].max(1e-12) as f64).ln();
        for (c, d) in dlogits[i * classes..(i + 1) * classes]
            .iter_mut()
            .enumerate()
        {
            *d = (row[c] - if c == l as usize { 1.0 } else { 0.0 }) / n as f32;
        }
    }
    (loss / n as f64) as f32
}

/// A 2-D convolution with the layer's geometry, bias added ([`crate::conv::conv2d`]).
pub fn conv(x: &Tensor, w: &Tensor, b: &Tensor, p: &Conv2dParams) -> Result<Tensor> {
    conv::conv2d(x, w, Some(b), p)
}

/// Gradients of [`conv()`]: (dx, dw, db) ([`crate::conv::conv2d_backward`]).
pub fn conv_backward(
    x: &Tensor,
    w: &Tensor,
    dy: &Tensor,
    p: &Conv2dParams,
) -> Result<(Tensor, Tensor, Tensor)> {
    let g = conv::conv2d_backward(x, w, dy, p)?;
    Ok((g.dx, g.dw, g.db))
}

/// Max pooling with the layer's geometry; also returns, per output, the flat index of the
/// maximum in `x` ([`crate::conv::max_pool2d`]).
pub fn max_pool(x: &Tensor, p: &Pool2dParams) -> Result<(Tensor, Vec<u32>)> {
    conv::max_pool2d(x, p)
}

/// Gradient of [`max_pool`] ([`crate::conv::max_pool2d_backward`]).
pub fn max_pool_backward(dy: &Tensor, argmax: &[u32], x_shape: &[usize]) -> Result<Tensor> {
    conv::max_pool2d_backward(dy, argmax, x_shape)
}

/// The window of output `o` along one axis of an `n`-cell input: its first cell in padded
/// coordinates and its taps `[lo, hi)` that fall inside the input (stride `s`, kernel `k`,
/// padding before `p`), and the window's size clipped to the padded input (`n + p + p_end`),
/// PyTorch's divisor when padding counts.
fn avg_axis(
    o: usize,
    n: usize,
    k: usize,
    s: usize,
    p: usize,
    p_end: usize,
) -> (usize, usize, usize) {
    let start = o * s; // in padded coordinates
    let end_padded = (start + k).min(n + p + p_end);
    let lo = start.max(p) - p;
    let hi = (start + k).min(p + n).saturating_sub(p).max(lo);
    (lo, hi, end_padded - start)
}

/// Every output cell `(oy, ox)` of an average pool over one `h × w` plane: its index, the rows
/// `[y0, y1)` and columns `[x0, x1)` of its window inside the plane, and its divisor (0 for a
/// window wholly in the padding).
fn avg_windows(
    [h, w]: [usize; 2],
    [oh, ow]: [usize; 2],
    p: &Pool2dParams,
    count_include_pad: bool,
    mut f: impl FnMut(usize, [usize; 4], usize),
) {
    for oy in 0..oh {
        let (y0, y1, wh) = avg_axis(oy, h, p.kernel[0], p.stride[0], p.padding[0], p.padding[2]);
        for ox in 0..ow {
            let (x0, x1, ww) =
                avg_axis(ox, w, p.kernel[1], p.stride[1], p.padding[1], p.padding[3]);
            let count = if count_include_pad {
                wh * ww
            } else {
                (y1 - y0) * (x1 - x0)
            };
            f(oy * ow + ox, [y0, y1, x0, x1], count);
        }
    }
}

/// Average pooling of `x [N, C, H, W]` with PyTorch's `AvgPool2d` semantics: the divisor is the
/// window clipped to the padded input (`count_include_pad`) or the cells inside the image.
pub fn avg_pool(x: &Tensor, p: &Pool2dParams, count_include_pad: bool) -> Result<Tensor> {
    let [n, c, h, w] = x.dims4("x")?;
    let [oh, ow] = p.output([h, w])?.out();
    let mut y = vec![0.0f32; n * c * oh * ow];
    for (img, out) in x
        .data()
        .chunks_exact(h * w)
        .zip(y.chunks_exact_mut(oh * ow))
    {
        avg_windows(
            [h, w],
            [oh, ow],
            p,
            count_include_pad,
            |o, [y0, y1, x0, x1], count| {
                let sum: f32 = (y0..y1)
                    .map(|r| img[r * w + x0..r * w + x1].iter().sum::<f32>())
                    .sum();
                out[o] = if count == 0 { 0.0 } else { sum / count as f32 };
            },
        );
    }
    Tensor::new(y, &[n, c, oh, ow])
}

/// Gradient of [`avg_pool`]: each output's gradient spread evenly over its window's cells.
pub fn avg_pool_backward(
    dy: &Tensor,
    x_shape: &[usize],
    p: &Pool2dParams,
    count_include_pad: bool,
) -> Result<Tensor> {
    let [_, _, h, w] = match *x_shape {
        [a, b, c, d] => [a, b, c, d],
        _ => {
            return Err(crate::error::Error::shape(
                "avg_pool_backward: x must be 4-D",
            ))
        }
    };
    let [_, _, oh, ow] = dy.dims4("dy")?;
    let mut dx = vec![0.0f32; x_shape.iter().product()];
    for (g, out) in dy
        .data()
        .chunks_exact(oh * ow)
        .zip(dx.chunks_exact_mut(h * w))
    {
        avg_windows(
            [h, w],
            [oh, ow],
            p,
            count_include_pad,
            |o, [y0, y1, x0, x1], count| {
                if count == 0 {
                    return;
                }
                let share = g[o] / count as f32;
                for r in y0..y1 {
                    for v in &mut out[r * w + x0..r * w + x1] {
                        *v += share;
                    }
                }
            },
        );
    }
    Tensor::new(dx, x_shape)
}

/// Per-channel affine of `x [N, C, plane]`: `y = x · scale[c] + shift[c]`.
pub fn channel_affine(x: &mut [f32], plane: usize, scale: &[f32], shift: &[f32]) {
    let c = scale.len();
    for (k, chunk) in x.chunks_exact_mut(plane.max(1)).enumerate() {
        let (a, b) = (scale[k % c], shift[k % c]);
        for v in chunk {
            *v = *v * a + b;
        }
    }
}

/// Batch norm's per-channel scale and shift from γ, β and the running statistics:
/// `scale = γ / √(var + eps)`, `shift = β − mean · scale`.
pub fn batch_norm_affine(
    g: &[f32],
    b: &[f32],
    mean: &[f32],
    var: &[f32],
    eps: f32,
) -> (Vec<f32>, Vec<f32>) {
    let scale: Vec<f32> = g
        .iter()
        .zip(var)
        .map(|(g, v)| g / (v + eps).sqrt())
        .collect();
    let shift = b
        .iter()
        .zip(mean)
        .zip(&scale)
        .map(|((b, m), s)| b - m * s)
        .collect();
    (scale, shift)
}

/// Log softmax along the middle axis of `[outer, len, inner]` (see [`crate::ops::slice::softmax`]).
pub fn log_softmax(x: &[f32], y: &mut [f32], outer: usize, len: usize, inner: usize) {
    for o in 0..outer {
        for i in 0..inner {
            let at = |j: usize| (o * len + j) * inner + i;
            let m = (0..len).map(|j| x[at(j)]).fold(f32::NEG_INFINITY, f32::max);
            let sum: f32 = (0..len).map(|j| (x[at(j)] - m).exp()).sum();
            let lse = m + sum.ln();
            for j in 0..len {
                y[at(j)] = x[at(j)] - lse;
            }
        }
    }
}

/// Gradient of a softmax (`log`: of a log softmax) along the middle axis, given its output `y`:
/// softmax `dx = y · (dy − Σ dy·y)`, log softmax `dx = dy − eʸ · Σ dy`.
pub fn softmax_backward(
    y: &[f32],
    dy: &mut [f32],
    outer: usize,
    len: usize,
    inner: usize,
    log: bool,
) {
    for o in 0..outer {
        for i in 0..inner {
            let at = |j: usize| (o * len + j) * inner + i;
            if log {
                let s: f32 = (0..len).map(|j| dy[at(j)]).sum();
                for j in 0..len {
                    dy[at(j)] -= y[at(j)].exp() * s;
                }
            } else {
                let s: f32 = (0..len).map(|j| dy[at(j)] * y[at(j)]).sum();
                for j in 0..len {
                    dy[at(j)] = y[at(j)] * (dy[at(j)] - s);
                }
            }
        }
    }
}
