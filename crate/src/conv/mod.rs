//! Convolution layers with PyTorch's semantics, NCHW activations and OIHW weights:
//! [`conv2d`] (a cross-correlation: no kernel flip), [`conv_transpose2d`] (its adjoint),
//! [`max_pool2d`], each with a backward pass. Every convolution is one GEMM per group over the
//! windows: im2col + GEMM (col2im on the way back), or for the forward GEMM the implicit GEMM
//! of [`implicit`] (windows packed straight from the image) or the few-tap [`direct`] loop,
//! chosen by [`engine::path`]; see [`engine`] for the three GEMMs and [`geometry`] for the
//! windows.

pub mod direct;
pub mod engine;
pub mod geometry;
pub mod implicit;
pub mod phases;
pub mod pool;
pub mod prepared;

pub use geometry::{col2im, col2im_rows, im2col, Conv2dParams, ConvPlan, Pool2dParams, Window};
pub use pool::{max_pool2d, max_pool2d_backward};
pub use prepared::{PreparedConv2d, PreparedConvTranspose2d};

use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Gradients of a convolution with respect to its input, weight and bias.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvGrads {
    pub dx: Tensor,
    pub dw: Tensor,
    /// Always computed (shape `[C_out]`); ignore it if the layer has no bias.
    pub db: Tensor,
}

/// An output buffer the conv code must fill completely: NaN-filled, so a cell it forgets
/// to write shows up as NaN in every test instead of a plausible 0.
pub(crate) fn unwritten(n: usize) -> Vec<f32> {
    vec![f32::NAN; n]
}

pub(crate) fn check_bias(bias: Option<&Tensor>, channels: usize) -> Result<Option<&[f32]>> {
    check_bias_shape(bias.map(|b| (b.shape(), b.data())), channels)
}

fn check_bias_shape(bias: Option<Dense<'_>>, channels: usize) -> Result<Option<&[f32]>> {
    match bias {
        None => Ok(None),
        Some((shape, data)) if shape == [channels] => Ok(Some(data)),
        Some((shape, _)) => Err(Error::param(
            "bias",
            shape,
            format!("expected shape [{channels}] (one value per output channel)"),
        )),
    }
}

fn check_same(what: &'static str, got: &[usize], want: &[usize; 4]) -> Result<()> {
    if got != want {
        return Err(Error::param(what, got, format!("expected shape {want:?}")));
    }
    Ok(())
}

/// 2-D cross-correlation, PyTorch's `conv2d`: `x [N, C_in, H, W]`, `w [C_out, C_in/groups,
/// kH, kW]`, optional `bias [C_out]` → `[N, C_out, H_out, W_out]` with
/// `H_out = floor((H + pad_top + pad_bottom − dilation·(kH−1) − 1) / stride) + 1`.
pub fn conv2d(x: &Tensor, w: &Tensor, bias: Option<&Tensor>, p: &Conv2dParams) -> Result<Tensor> {
    let (out, shape) = conv2d_slices(
        (x.shape(), x.data()),
        (w.shape(), w.data()),
        bias.map(|b| (b.shape(), b.data())),
        p,
    )?;
    Tensor::new(out, &shape)
}

/// A dense row-major array as its shape and data (the data's length is the shape's product).
pub(crate) type Dense<'a> = (&'a [usize], &'a [f32]);

/// [`conv2d`] on dense row-major data: the output's data and shape.
pub(crate) fn conv2d_slices(
    x: Dense,
    w: Dense,
    bias: Option<Dense>,
    p: &Conv2dParams,
) -> Result<(Vec<f32>, [usize; 4])> {
    let plan = ConvPlan::conv2d(x.0, w.0, p)?;
    let bias = check_bias_shape(bias, plan.small_channels)?;
    let shape = plan.small_shape();
    let mut out = unwritten(crate::tensor::checked_numel(&shape)?);
    let mut col = engine::forward_scratch(&plan);
    engine::image_to_small(&plan, x.1, w.1, bias, &mut out, &mut col)?;
    Ok((out, shape))
}

/// Gradients of [`conv2d`] given the output gradient `dy`:
/// `dX = col2im(Wᵀ·dY)` (at stride 1 with large windows: dY correlated with the turned
/// kernel, an implicit GEMM), `dW = dY·colᵀ`, `db = Σ dY`.
pub fn conv2d_backward(x: &Tensor, w: &Tensor, dy: &Tensor, p: &Conv2dParams) -> Result<ConvGrads> {
    let plan = ConvPlan::conv2d(x.shape(), w.shape(), p)?;
    check_same("dy", dy.shape(), &plan.small_shape())?;
    let mut col = engine::col_scratch(&plan);
    let mut dx = unwritten(x.len());
    engine::input_grad(&plan, dy.data(), w.data(), &mut dx, &mut col)?;
    let mut dw = unwritten(w.len());
    engine::weight_grad(&plan, x.data(), dy.data(), &mut dw, &mut col)?;
    let [n, c, oh, ow] = plan.small_shape();
    let db = engine::channel_sums(dy.data(), n, c, oh * ow);
    Ok(ConvGrads {
        dx: Tensor::new(dx, x.shape())?,
        dw: Tensor::new(dw, w.shape())?,
        db: Tensor::new(db, &[c])?,
    })
}

/// Only `(dW, db)` of [`conv2d`]: for a first layer, whose input needs no gradient, this skips
/// the `col2im` of dX.
pub fn conv2d_backward_weight(
    x: &Tensor,
    w: &Tensor,
    dy: &Tensor,
    p: &Conv2dParams,
) -> Result<(Tensor, Tensor)> {
    let plan = ConvPlan::conv2d(x.shape(), w.shape(), p)?;
    check_same("dy", dy.shape(), &plan.small_shape())?;
    let mut col = engine::col_scratch(&plan);
    let mut dw = unwritten(w.len());
    engine::weight_grad(&plan, x.data(), dy.data(), &mut dw, &mut col)?;
    let [n, c, oh, ow] = plan.small_shape();
    let db = engine::channel_sums(dy.data(), n, c, oh * ow);
    Ok((Tensor::new(dw, w.shape())?, Tensor::new(db, &[c])?))
}

/// Transposed 2-D convolution, PyTorch's `conv_transpose2d`: the adjoint of [`conv2d`] with the
/// same weight and parameters, `⟨conv2d(x), y⟩ = ⟨x, conv_transpose2d(y)⟩`.
/// `x [N, C_in, H, W]`, `w [C_in, C_out/groups, kH, kW]`, optional `bias [C_out]` →
/// `[N, C_out, H_out, W_out]` with
/// `H_out = stride·(H−1) + output_padding + dilation·(kH−1) + 1 − pad_top − pad_bottom`.
pub fn conv_transpose2d(
    x: &Tensor,
    w: &Tensor,
    bias: Option<&Tensor>,
    p: &Conv2dParams,
) -> Result<Tensor> {
    let (out, shape) = conv_transpose2d_slices(
        (x.shape(), x.data()),
        (w.shape(), w.data()),
        bias.map(|b| (b.shape(), b.data())),
        p,
    )?;
    Tensor::new(out, &shape)
}

/// [`conv_transpose2d`] on dense row-major data: the output's data and shape.
pub(crate) fn conv_transpose2d_slices(
    x: Dense,
    w: Dense,
    bias: Option<Dense>,
    p: &Conv2dParams,
) -> Result<(Vec<f32>, [usize; 4])> {
    let plan = ConvPlan::conv_transpose2d(x.0, w.0, p)?;
    let bias = check_bias_shape(bias, plan.image_channels)?;
    let shape = plan.image_shape();
    let mut out = unwritten(crate::tensor::checked_numel(&shape)?);
    let mut col = engine::col_scratch(&plan);
    engine::small_to_image(&plan, x.1, w.1, bias, &mut out, &mut col)?;
    Ok((out, shape))
}

/// Gradients of [`conv_transpose2d`]: `dX = conv2d(dY; W)`, `dW[ci, k] = Σ x[ci, p]·col(dY)[k, p]`,
/// `db = Σ dY`.
pub fn conv_transpose2d_backward(
    x: &Tensor,
    w: &Tensor,
    dy: &Tensor,
    p: &Conv2dParams,
) -> Result<ConvGrads> {
    let plan = ConvPlan::conv_transpose2d(x.shape(), w.shape(), p)?;
    check_same("dy", dy.shape(), &plan.image_shape())?;
    let mut col = engine::col_scratch(&plan);
    let mut dx = unwritten(x.len());
    engine::image_to_small(&plan, dy.data(), w.data(), None, &mut dx, &mut col)?;
    let mut dw = unwritten(w.len());
    engine::weight_grad(&plan, dy.data(), x.data(), &mut dw, &mut col)?;
    let [n, c, oh, ow] = plan.image_shape();
    let db = engine::channel_sums(dy.data(), n, c, oh * ow);
    Ok(ConvGrads {
        dx: Tensor::new(dx, x.shape())?,
        dw: Tensor::new(dw, w.shape())?,
        db: Tensor::new(db, &[c])?,
    })
}

#[cfg(test)]
mod tests;
