//! The small layers around the convolutions, on [`Tensor`]s: `relu`, a numerically stable
//! `softmax`, the dense `linear` layer (a correlation at shift 0 only) and `matmul`, each with
//! its backward pass where a network needs one. Each is a thin wrapper over its one
//! slice-level implementation in [`slice`](mod@slice).

pub mod slice;

use crate::conv::unwritten;
use crate::error::{Error, Result};
use crate::gemm::sgemm;
use crate::gemm::{MatMut, MatRef};
use crate::tensor::Tensor;
use slice::Dense;

/// `max(x, 0)` elementwise (ReLU keeps only positive correlation). NaN stays NaN.
pub fn relu(x: &Tensor) -> Tensor {
    let mut y = x.clone();
    slice::relu(y.data_mut());
    y
}

/// Gradient of [`relu`]: `dy` where `x > 0`, else 0.
pub fn relu_backward(x: &Tensor, dy: &Tensor) -> Result<Tensor> {
    same_shape("dy", dy, x.shape())?;
    let mut dx = dy.clone();
    slice::relu_backward(x.data(), dx.data_mut());
    Ok(dx)
}

/// Softmax along `axis`: `exp(x − max) / Σ exp(x − max)` ([`slice::softmax`]).
pub fn softmax(x: &Tensor, axis: usize) -> Result<Tensor> {
    let shape = x.shape();
    if axis >= shape.len() {
        return Err(Error::param(
            "axis",
            axis,
            format!("must be below the rank {} of shape {shape:?}", shape.len()),
        ));
    }
    let len = shape[axis];
    let inner: usize = shape[axis + 1..].iter().product();
    let outer: usize = shape[..axis].iter().product();
    let mut out = unwritten(x.len());
    slice::softmax(x.data(), &mut out, outer, len, inner);
    Tensor::new(out, shape)
}

/// `[M, K]·[K, N] → [M, N]`.
pub fn matmul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let (m, k) = dims2("a", a)?;
    let (k2, n) = dims2("b", b)?;
    let c = matmul_strided(
        MatView::row_major(a.data(), m, k),
        MatView::row_major(b.data(), k2, n),
    )?;
    Tensor::new(c, &[m, n])
}

/// A matrix for [`matmul_strided`]: `rows × cols` elements of `data`, element (i, j) at
/// `i·rs + j·cs` (strides ≥ 0; a transpose is swapped strides).
#[derive(Debug, Clone, Copy)]
pub(crate) struct MatView<'a> {
    pub data: &'a [f32],
    pub rows: usize,
    pub cols: usize,
    pub rs: isize,
    pub cs: isize,
}

impl<'a> MatView<'a> {
    pub fn row_major(data: &'a [f32], rows: usize, cols: usize) -> Self {
        MatView {
            data,
            rows,
            cols,
            rs: cols as isize,
            cs: 1,
        }
    }
}

/// [`matmul`] on strided views: the product's data, row-major `[a.rows, b.cols]`.
pub(crate) fn matmul_strided(a: MatView, b: MatView) -> Result<Vec<f32>> {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    if b.rows != k {
        return Err(Error::param(
            "b",
            [b.rows, b.cols],
            format!(
                "expected {k} rows to match a's {k} columns (a is {:?})",
                [m, k]
            ),
        ));
    }
    let shape = [m, n];
    crate::tensor::checked_numel(&shape)?;
    let mut c = unwritten(m * n);
    sgemm(
        [m, k, n],
        1.0,
        MatRef::new(a.data, a.rs, a.cs),
        MatRef::new(b.data, b.rs, b.cs),
        0.0,
        MatMut::new(&mut c, n as isize, 1),
    )?;
    Ok(c)
}

/// Dense layer `y = x·Wᵀ + b`: `x [N, in]` (or `[in]`), `w [out, in]`, `bias [out]` →
/// `[N, out]` (or `[out]`) ([`slice::linear`]). A dense layer is a correlation at shift 0
/// only.
pub fn linear(x: &Tensor, w: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
    let d = linear_dims(x, w)?;
    if let Some(b) = bias {
        if b.shape() != [d.out] {
            return Err(Error::param(
                "bias",
                b.shape(),
                format!("expected shape [{}]", d.out),
            ));
        }
    }
    let mut y = unwritten(d.n * d.out);
    slice::linear(d, x.data(), w.data(), bias.map(|b| b.data()), &mut y)?;
    let shape: &[usize] = if x.shape().len() == 1 {
        &[d.out]
    } else {
        &[d.n, d.out]
    };
    Tensor::new(y, shape)
}

/// Gradients of [`linear`]: `dx = dy·W`, `dW = dyᵀ·x` (each neuron's weights drift toward
/// the inputs it must answer), `db = Σ_rows dy` ([`slice::linear_backward`]).
pub fn linear_backward(x: &Tensor, w: &Tensor, dy: &Tensor) -> Result<(Tensor, Tensor, Tensor)> {
    let d = linear_dims(x, w)?;
    let Dense { n, inp, out } = d;
    if dy.len() != n * out || dy.shape().len() != x.shape().len() {
        return Err(Error::param(
            "dy",
            dy.shape(),
            format!(
                "expected shape {:?}",
                if x.shape().len() == 1 {
                    vec![out]
                } else {
                    vec![n, out]
                }
            ),
        ));
    }
    let (mut dx, mut dw, mut db) = (unwritten(n * inp), unwritten(out * inp), unwritten(out));
    slice::linear_backward(
        d,
        x.data(),
        w.data(),
        dy.data(),
        Some(&mut dx),
        &mut dw,
        &mut db,
    )?;
    Ok((
        Tensor::new(dx, x.shape())?,
        Tensor::new(dw, w.shape())?,
        Tensor::new(db, &[out])?,
    ))
}

fn linear_dims(x: &Tensor, w: &Tensor) -> Result<Dense> {
    let (n, inp) = match *x.shape() {
        [i] => (1, i),
        [n, i] => (n, i),
        _ => {
            return Err(Error::shape(format!(
                "linear input must be [N, in] or [in], got {:?}",
                x.shape()
            )))
        }
    };
    let (out, win) = dims2("weight", w)?;
    if win != inp {
        return Err(Error::param(
            "weight",
            w.shape(),
            format!(
                "expected [out, in = {inp}] for an input of shape {:?}",
                x.shape()
            ),
        ));
    }
    Ok(Dense { n, inp, out })
}

fn dims2(what: &'static str, t: &Tensor) -> Result<(usize, usize)> {
    match *t.shape() {
        [a, b] => Ok((a, b)),
        _ => Err(Error::param(what, t.shape(), "expected 2 dimensions")),
    }
}

fn same_shape(what: &'static str, t: &Tensor, shape: &[usize]) -> Result<()> {
    if t.shape() != shape {
        return Err(Error::param(
            what,
            t.shape(),
            format!("expected shape {shape:?}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
