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
