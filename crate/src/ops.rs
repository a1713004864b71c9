//! The small layers around the convolutions: `relu`, a numerically stable `softmax`, the dense
//! `linear` layer (seed 000: a correlation at shift 0 only) and `matmul`, each with its backward
//! pass where a network needs one.

use crate::conv::unwritten;
use crate::error::{Error, Result};
use crate::gemm::sgemm;
use crate::tensor::Tensor;

/// `max(x, 0)` elementwise (seed 000: ReLU cuts negative correlation). NaN stays NaN.
pub fn relu(x: &Tensor) -> Tensor {
    let data = x
        .data()
        .iter()
        .map(|&v| if v < 0.0 { 0.0 } else { v })
        .collect();
    Tensor::new(data, x.shape()).expect("same shape as a valid tensor")
}

/// Gradient of [`relu`]: `dy` where `x > 0`, else 0.
pub fn relu_backward(x: &Tensor, dy: &Tensor) -> Result<Tensor> {
    same_shape("dy", dy, x.shape())?;
    let data = x
        .data()
        .iter()
        .zip(dy.data())
        .map(|(&v, &g)| if v > 0.0 { g } else { 0.0 })
        .collect();
    Tensor::new(data, x.shape())
}

/// Softmax along `axis`: `exp(x − max) / Σ exp(x − max)`. Subtracting the max first keeps
/// inputs near 10⁴ finite (exp(10⁴) overflows f32).
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
    let src = x.data();
    let mut out = unwritten(src.len());
    for o in 0..outer {
        for i in 0..inner {
            let at = |j: usize| (o * len + j) * inner + i;
            let m = (0..len)
                .map(|j| src[at(j)])
                .fold(f32::NEG_INFINITY, f32::max);
            let mut sum = 0.0f32;
            for j in 0..len {
                let e = (src[at(j)] - m).exp();
                out[at(j)] = e;
                sum += e;
            }
            let inv = 1.0 / sum;
            for j in 0..len {
                out[at(j)] *= inv;
            }
        }
    }
    Tensor::new(out, shape)
}

/// `[M, K]·[K, N] → [M, N]`.
pub fn matmul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let (m, k) = dims2("a", a)?;
    let (k2, n) = dims2("b", b)?;
    if k != k2 {
        return Err(Error::param(
            "b",
            b.shape(),
            format!(
                "expected {k} rows to match a's {k} columns (a is {:?})",
                a.shape()
            ),
        ));
    }
    let shape = [m, n];
    crate::tensor::checked_numel(&shape)?;
    let mut c = unwritten(m * n);
    sgemm(
        m,
        k,
        n,
        1.0,
        a.data(),
        k as isize,
        1,
        b.data(),
        n as isize,
        1,
        0.0,
        &mut c,
        n as isize,
        1,
    )?;
    Tensor::new(c, &shape)
}

/// Dense layer `y = x·Wᵀ + b`: `x [N, in]` (or `[in]`), `w [out, in]`, `bias [out]` →
/// `[N, out]` (or `[out]`).
pub fn linear(x: &Tensor, w: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
    let (n, inp, out) = linear_dims(x, w)?;
    if let Some(b) = bias {
        if b.shape() != [out] {
            return Err(Error::param(
                "bias",
                b.shape(),
                format!("expected shape [{out}]"),
            ));
        }
    }
    let mut y = unwritten(n * out);
    sgemm(
        n,
        inp,
        out,
        1.0,
        x.data(),
        inp as isize,
        1,
        w.data(),
        1,
        inp as isize,
        0.0,
        &mut y,
        out as isize,
        1,
    )?;
    if let Some(b) = bias {
        for row in y.chunks_exact_mut(out) {
            for (v, bv) in row.iter_mut().zip(b.data()) {
                *v += bv;
            }
        }
    }
    let shape: &[usize] = if x.shape().len() == 1 {
        &[out]
    } else {
        &[n, out]
    };
    Tensor::new(y, shape)
}

/// Gradients of [`linear`]: `dx = dy·W`, `dW = dyᵀ·x` (seed 001: each neuron's weights drift
/// toward the inputs it must answer), `db = Σ_rows dy`.
pub fn linear_backward(x: &Tensor, w: &Tensor, dy: &Tensor) -> Result<(Tensor, Tensor, Tensor)> {
    let (n, inp, out) = linear_dims(x, w)?;
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
    let mut dx = unwritten(n * inp);
    sgemm(
        n,
        out,
        inp,
        1.0,
        dy.data(),
        out as isize,
        1,
        w.data(),
        inp as isize,
        1,
        0.0,
        &mut dx,
        inp as isize,
        1,
    )?;
    let mut dw = unwritten(out * inp);
    sgemm(
        out,
        n,
        inp,
        1.0,
        dy.data(),
        1,
        out as isize,
        x.data(),
        inp as isize,
        1,
        0.0,
        &mut dw,
        inp as isize,
        1,
    )?;
    let mut db = vec![0.0f32; out];
    for row in dy.data().chunks_exact(out) {
        for (d, g) in db.iter_mut().zip(row) {
            *d += g;
        }
    }
    Ok((
        Tensor::new(dx, x.shape())?,
        Tensor::new(dw, w.shape())?,
        Tensor::new(db, &[out])?,
    ))
}

fn linear_dims(x: &Tensor, w: &Tensor) -> Result<(usize, usize, usize)> {
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
    Ok((n, inp, out))
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
