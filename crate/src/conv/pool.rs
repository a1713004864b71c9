//! Max pooling with PyTorch's `MaxPool2d` semantics, and its backward pass through the argmax.

use super::geometry::{pool_output_size, Pool2dParams};
use super::unwritten;
use crate::error::{Error, Result};
use crate::tensor::{checked_numel, Tensor};

/// `argmax` value of a window that lies entirely in the padding (its output is −∞ and it
/// passes no gradient). Only possible with dilation larger than the input.
pub const NO_ARGMAX: u32 = u32::MAX;

/// Validates the parameters for an `h × w` input and returns the output size.
pub fn pool_output_hw(h: usize, w: usize, p: &Pool2dParams) -> Result<[usize; 2]> {
    if p.kernel.contains(&0) {
        return Err(Error::param("kernel_size", p.kernel, "must be at least 1"));
    }
    if p.stride.contains(&0) {
        return Err(Error::param("stride", p.stride, "must be at least 1"));
    }
    if p.dilation.contains(&0) {
        return Err(Error::param("dilation", p.dilation, "must be at least 1"));
    }
    if p.padding[0] > p.kernel[0] / 2 || p.padding[1] > p.kernel[1] / 2 {
        return Err(Error::param(
            "padding",
            p.padding,
            format!("must be at most half the kernel size {:?}", p.kernel),
        ));
    }
    let oh = pool_output_size(
        h,
        p.kernel[0],
        p.stride[0],
        p.padding[0],
        p.dilation[0],
        p.ceil_mode,
    );
    let ow = pool_output_size(
        w,
        p.kernel[1],
        p.stride[1],
        p.padding[1],
        p.dilation[1],
        p.ceil_mode,
    );
    match (oh, ow) {
        (Some(oh), Some(ow)) => Ok([oh, ow]),
        _ => Err(Error::param(
            "kernel_size",
            p.kernel,
            format!(
                "the kernel (dilation {:?}) is larger than the padded input ({h}×{w}, padding {:?})",
                p.dilation, p.padding
            ),
        )),
    }
}

/// Max pool over each channel of `x` (`[N, C, H, W]` or `[C, H, W]`). Returns the pooled tensor
/// and, for every output cell, the flat index into `x` of the element that won (NaN wins, as in
/// PyTorch; among equal values the first in raster order wins).
pub fn max_pool2d(x: &Tensor, p: &Pool2dParams) -> Result<(Tensor, Vec<u32>)> {
    let (lead, h, w) = match *x.shape() {
        [n, c, h, w] => (vec![n, c], h, w),
        [c, h, w] => (vec![c], h, w),
        _ => {
            return Err(Error::shape(format!(
                "max_pool2d input must be [N, C, H, W] or [C, H, W], got {:?}",
                x.shape()
            )))
        }
    };
    let [oh, ow] = pool_output_hw(h, w, p)?;
    let planes: usize = lead.iter().product();
    let mut shape = lead;
    shape.extend([oh, ow]);
    let total = checked_numel(&shape)?;
    let mut out = unwritten(total);
    let mut arg = vec![NO_ARGMAX; total];
    let (kh, kw) = (p.kernel[0], p.kernel[1]);
    let (ph, pw) = (p.padding[0], p.padding[1]);
    for pl in 0..planes {
        let base = pl * h * w;
        let plane = &x.data()[base..base + h * w];
        for oy in 0..oh {
            // taps iy = oy·s − pad + ky·d that fall inside the image
            let iys: Vec<usize> = (0..kh)
                .map(|ky| (oy * p.stride[0] + ky * p.dilation[0]).wrapping_sub(ph))
                .filter(|&iy| iy < h)
                .collect();
            for ox in 0..ow {
                let mut best = f32::NEG_INFINITY;
                let mut at = NO_ARGMAX;
                for &iy in &iys {
                    for kx in 0..kw {
                        let ix = (ox * p.stride[1] + kx * p.dilation[1]).wrapping_sub(pw);
                        if ix >= w {
                            continue;
                        }
                        let v = plane[iy * w + ix];
                        if at == NO_ARGMAX || v > best || v.is_nan() {
                            best = v;
                            at = (base + iy * w + ix) as u32;
                        }
                    }
                }
                let o = (pl * oh + oy) * ow + ox;
                out[o] = best;
                arg[o] = at;
            }
        }
    }
    Ok((Tensor::new(out, &shape)?, arg))
}

/// Gradient of [`max_pool2d`]: each output gradient goes to the input element that won its
/// window (added up where windows overlap). `x_shape` is the shape of the pooled input.
pub fn max_pool2d_backward(dy: &Tensor, argmax: &[u32], x_shape: &[usize]) -> Result<Tensor> {
    let n = checked_numel(x_shape)?;
    if argmax.len() != dy.len() {
        return Err(Error::param(
            "argmax",
            argmax.len(),
            format!("must have one entry per output gradient ({})", dy.len()),
        ));
    }
    let mut dx = vec![0.0f32; n];
    for (&g, &i) in dy.data().iter().zip(argmax) {
        if i == NO_ARGMAX {
            continue;
        }
        match dx.get_mut(i as usize) {
            Some(d) => *d += g,
            None => {
                return Err(Error::param(
                    "argmax",
                    i,
                    format!("is outside the input of shape {x_shape:?}"),
                ))
            }
        }
    }
    Tensor::new(dx, x_shape)
}
