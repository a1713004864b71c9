//! The kernels on [`ndarray`] arrays (cargo feature `ndarray`): [`conv2d`], [`conv_transpose2d`]
//! and [`matmul`] take views of any strides (sliced, transposed, reversed) and return owned
//! arrays in standard (row-major) layout.
//!
//! A view already in standard layout is read in place; any other is copied to standard layout
//! first, once. [`matmul`] also reads a transposed view in place (the GEMM takes a row and a
//! column stride). Shapes and parameters are checked as [`crate::conv::conv2d`] and
//! [`crate::ops::matmul`] check them, with the same [`Error`]s, and no function panics on bad
//! input.
//!
//! ```
//! use convscope::conv::Conv2dParams;
//! use convscope::nd;
//! use ndarray::{s, Array, Array4};
//!
//! // One 1×5×5 image and a 3×3 box filter, padded by 1: every output is a window's sum.
//! let x = Array4::<f32>::ones((1, 1, 5, 5));
//! let w = Array4::<f32>::ones((1, 1, 3, 3));
//! let y = nd::conv2d(x.view(), w.view(), None, &Conv2dParams::default().pad(1))?;
//! assert_eq!(y.shape(), [1, 1, 5, 5]);
//! assert_eq!(y[[0, 0, 0, 0]], 4.0); // a corner sees 2×2 of the image
//! assert_eq!(y[[0, 0, 2, 2]], 9.0);
//!
//! // Any view: every other column of an image, flipped left to right.
//! let wide = Array::from_iter((0..40).map(|v| v as f32)).into_shape_with_order((1, 1, 4, 10)).unwrap();
//! let picked = wide.slice(s![.., .., .., ..;-2]);
//! let y = nd::conv2d(picked, w.view(), None, &Conv2dParams::default())?;
//! assert_eq!(y.shape(), [1, 1, 2, 3]);
//!
//! // A transposed view goes to the GEMM as it is.
//! let a = Array::from_iter((0..6).map(|v| v as f32)).into_shape_with_order((3, 2)).unwrap();
//! let c = nd::matmul(a.t(), a.view())?; // aᵀ·a
//! assert_eq!(c, ndarray::arr2(&[[20.0, 26.0], [26.0, 35.0]]));
//!
//! // Wrong shapes are errors that name the argument.
//! let e = nd::matmul(a.view(), a.view()).unwrap_err();
//! assert!(e.to_string().starts_with("invalid b = [3, 2]"), "{e}");
//! # Ok::<(), convscope::Error>(())
//! ```

use ndarray::{Array2, Array4, ArrayView1, ArrayView2, ArrayView4, CowArray, Dimension};

use crate::conv::{self, Conv2dParams};
use crate::error::{Error, Result};
use crate::ops::{self, MatView};

/// The view in standard layout: itself when it already is, else a copy.
fn standard<'a, D: Dimension>(
    what: &'static str,
    v: ndarray::ArrayView<'a, f32, D>,
) -> Result<CowArray<'a, f32, D>> {
    if v.shape().contains(&0) {
        return Err(Error::param(
            what,
            v.shape(),
            "has a zero dimension; every dimension must be at least 1",
        ));
    }
    if v.is_standard_layout() {
        Ok(CowArray::from(v))
    } else {
        Ok(CowArray::from(v.as_standard_layout().into_owned()))
    }
}

/// The dense row-major data of a standard-layout array.
fn data<'a, D: Dimension>(v: &'a CowArray<'_, f32, D>) -> &'a [f32] {
    v.as_slice()
        .expect("as_standard_layout returns a standard-layout array")
}

fn output4(out: Vec<f32>, shape: [usize; 4]) -> Result<Array4<f32>> {
    Array4::from_shape_vec(shape, out).map_err(|e| Error::shape(format!("output {shape:?}: {e}")))
}

/// PyTorch's `conv2d` ([`crate::conv::conv2d`]) on ndarray views of any strides:
/// `x [N, C_in, H, W]`, `w [C_out, C_in/groups, kH, kW]`, optional `bias [C_out]` →
/// `[N, C_out, H_out, W_out]`.
///
/// ```
/// # use convscope::{conv::Conv2dParams, nd};
/// # use ndarray::{array, Array4};
/// let x = Array4::from_shape_fn((1, 1, 4, 4), |(_, _, i, j)| (4 * i + j) as f32);
/// let w = Array4::from_elem((2, 1, 2, 2), 1.0f32);
/// let bias = array![0.0f32, 100.0];
/// let p = Conv2dParams::default().stride(2);
/// let y = nd::conv2d(x.view(), w.view(), Some(bias.view()), &p)?;
/// assert_eq!(y.shape(), [1, 2, 2, 2]);
/// assert_eq!(y[[0, 0, 0, 0]], 0.0 + 1.0 + 4.0 + 5.0);
/// assert_eq!(y[[0, 1, 0, 0]], 110.0);
/// # Ok::<(), convscope::Error>(())
/// ```
pub fn conv2d(
    x: ArrayView4<f32>,
    w: ArrayView4<f32>,
    bias: Option<ArrayView1<f32>>,
    p: &Conv2dParams,
) -> Result<Array4<f32>> {
    let (x, w) = (standard("x", x)?, standard("w", w)?);
    let bias = bias.map(|b| standard("bias", b)).transpose()?;
    let (out, shape) = conv::conv2d_slices(
        (x.shape(), data(&x)),
        (w.shape(), data(&w)),
        bias.as_ref().map(|b| (b.shape(), data(b))),
        p,
    )?;
    output4(out, shape)
}

/// PyTorch's `conv_transpose2d` ([`crate::conv::conv_transpose2d`]) on ndarray views of any
/// strides: `x [N, C_in, H, W]`, `w [C_in, C_out/groups, kH, kW]`, optional `bias [C_out]` →
/// `[N, C_out, H_out, W_out]`.
///
/// ```
/// # use convscope::{conv::Conv2dParams, nd};
/// # use ndarray::Array4;
/// // A stride-2 transposed conv of a 2×2 kernel stamps each input cell on its own 2×2 block.
/// let x = Array4::from_shape_vec((1, 1, 1, 2), vec![1.0f32, 2.0]).unwrap();
/// let w = Array4::from_elem((1, 1, 2, 2), 1.0f32);
/// let y = nd::conv_transpose2d(x.view(), w.view(), None, &Conv2dParams::default().stride(2))?;
/// assert_eq!(y.shape(), [1, 1, 2, 4]);
/// let values: Vec<f32> = y.iter().copied().collect();
/// assert_eq!(values, [1.0, 1.0, 2.0, 2.0, 1.0, 1.0, 2.0, 2.0]);
/// # Ok::<(), convscope::Error>(())
/// ```
pub fn conv_transpose2d(
    x: ArrayView4<f32>,
    w: ArrayView4<f32>,
    bias: Option<ArrayView1<f32>>,
    p: &Conv2dParams,
) -> Result<Array4<f32>> {
    let (x, w) = (standard("x", x)?, standard("w", w)?);
    let bias = bias.map(|b| standard("bias", b)).transpose()?;
    let (out, shape) = conv::conv_transpose2d_slices(
        (x.shape(), data(&x)),
        (w.shape(), data(&w)),
        bias.as_ref().map(|b| (b.shape(), data(b))),
        p,
    )?;
    output4(out, shape)
}

/// The view as the GEMM reads it: in place when its elements are one contiguous block with
/// non-negative strides (row-major or transposed), else a standard-layout copy.
fn mat<'a>(what: &'static str, v: ArrayView2<'a, f32>) -> Result<CowArray<'a, f32, ndarray::Ix2>> {
    let in_place = v.strides().iter().all(|&s| s >= 0) && v.as_slice_memory_order().is_some();
    if in_place && !v.shape().contains(&0) {
        Ok(CowArray::from(v))
    } else {
        standard(what, v)
    }
}

fn mat_view<'a>(v: &'a CowArray<'_, f32, ndarray::Ix2>) -> MatView<'a> {
    let s = v.strides();
    MatView {
        data: v
            .as_slice_memory_order()
            .expect("mat returns a contiguous array"),
        rows: v.nrows(),
        cols: v.ncols(),
        rs: s[0],
        cs: s[1],
    }
}

/// `[M, K]·[K, N] → [M, N]` ([`crate::ops::matmul`]) on ndarray views of any strides; a
/// transposed view (`a.t()`) is read in place.
///
/// ```
/// # use convscope::nd;
/// # use ndarray::array;
/// let a = array![[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]];
/// let b = array![[1.0f32, 0.0], [0.0, 1.0], [1.0, 1.0]];
/// assert_eq!(nd::matmul(a.view(), b.view())?, array![[4.0, 5.0], [10.0, 11.0]]);
/// # Ok::<(), convscope::Error>(())
/// ```
pub fn matmul(a: ArrayView2<f32>, b: ArrayView2<f32>) -> Result<Array2<f32>> {
    let (a, b) = (mat("a", a)?, mat("b", b)?);
    let (m, n) = (a.nrows(), b.ncols());
    let c = ops::matmul_strided(mat_view(&a), mat_view(&b))?;
    Array2::from_shape_vec((m, n), c).map_err(|e| Error::shape(format!("output [{m}, {n}]: {e}")))
}

#[cfg(test)]
mod tests;
