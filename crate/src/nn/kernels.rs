//! The kernels the layers run on: dense layers straight on [`crate::gemm::sgemm`], convolution
//! and pooling through [`crate::conv`] (the project's one implementation of each).

use crate::conv::{self, Conv2dParams, Pool2dParams};
use crate::error::{Error, Result};
use crate::gemm::sgemm;
use crate::tensor::Tensor;

/// y[N,out] = x[N,in] · Wᵀ + b, with W stored `[out, in]` as in PyTorch.
pub fn linear(x: &[f32], n: usize, w: &[f32], b: &[f32], y: &mut [f32]) -> Result<()> {
    let out = b.len();
    let inp = w.len() / out;
    if x.len() != n * inp || y.len() != n * out || w.len() != out * inp {
        return Err(Error::shape(format!(
            "linear: x has {} values for {n}×{inp}, y {} for {n}×{out}",
            x.len(),
            y.len()
        )));
    }
    for row in y.chunks_exact_mut(out) {
        row.copy_from_slice(b);
    }
    sgemm(
        n,
        inp,
        out,
        1.0,
        x,
        inp as isize,
        1,
        w,
        1,
        inp as isize,
        1.0,
        y,
        out as isize,
        1,
    )
}

/// Gradients of [`linear`]: dx = dy·W, dW = dyᵀ·x, db = Σₙ dy. `dx` is skipped when `None`.
pub fn linear_backward(
    x: &[f32],
    n: usize,
    w: &[f32],
    dy: &[f32],
    dx: Option<&mut [f32]>,
    dw: &mut [f32],
    db: &mut [f32],
) -> Result<()> {
    let out = db.len();
    let inp = w.len() / out;
    if let Some(dx) = dx {
        sgemm(
            n,
            out,
            inp,
            1.0,
            dy,
            out as isize,
            1,
            w,
            inp as isize,
            1,
            0.0,
            dx,
            inp as isize,
            1,
        )?;
    }
    sgemm(
        out,
        n,
        inp,
        1.0,
        dy,
        1,
        out as isize,
        x,
        inp as isize,
        1,
        0.0,
        dw,
        inp as isize,
        1,
    )?;
    db.fill(0.0);
    for row in dy.chunks_exact(out) {
        for (d, &g) in db.iter_mut().zip(row) {
            *d += g;
        }
    }
    Ok(())
}

/// In-place ReLU.
pub fn relu(x: &mut [f32]) {
    for v in x {
        *v = v.max(0.0);
    }
}

/// dx = dy where the ReLU's output y was positive, else 0 (in place on `dy`).
pub fn relu_backward(y: &[f32], dy: &mut [f32]) {
    for (g, &v) in dy.iter_mut().zip(y) {
        if v <= 0.0 {
            *g = 0.0;
        }
    }
}

/// Softmax over each row of `cols` values (numerically stable), `x` → `y`.
pub fn softmax_rows(x: &[f32], cols: usize, y: &mut [f32]) {
    for (xr, yr) in x.chunks_exact(cols).zip(y.chunks_exact_mut(cols)) {
        let m = xr.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
        let mut s = 0.0;
        for (o, &v) in yr.iter_mut().zip(xr) {
            *o = (v - m).exp();
            s += *o;
        }
        for o in yr.iter_mut() {
            *o /= s;
        }
    }
}

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

fn conv_params(pad: usize) -> Conv2dParams {
    Conv2dParams::default().pad(pad)
}

/// A 2-D convolution with stride 1 and `pad` on every side, bias added ([`crate::conv::conv2d`]).
pub fn conv(x: &Tensor, w: &Tensor, b: &Tensor, pad: usize) -> Result<Tensor> {
    conv::conv2d(x, w, Some(b), &conv_params(pad))
}

/// Gradients of [`conv`]: (dx, dw, db) ([`crate::conv::conv2d_backward`]).
pub fn conv_backward(
    x: &Tensor,
    w: &Tensor,
    dy: &Tensor,
    pad: usize,
) -> Result<(Tensor, Tensor, Tensor)> {
    let g = conv::conv2d_backward(x, w, dy, &conv_params(pad))?;
    Ok((g.dx, g.dw, g.db))
}

/// Max pooling with a `k × k` window and stride `k`; also returns, per output, the flat index
/// of the maximum in `x` ([`crate::conv::max_pool2d`]).
pub fn max_pool(x: &Tensor, k: usize) -> Result<(Tensor, Vec<u32>)> {
    conv::max_pool2d(x, &Pool2dParams::new([k, k]))
}

/// Gradient of [`max_pool`] ([`crate::conv::max_pool2d_backward`]).
pub fn max_pool_backward(dy: &Tensor, argmax: &[u32], x_shape: &[usize]) -> Result<Tensor> {
    conv::max_pool2d_backward(dy, argmax, x_shape)
}
