//! The one implementation of each small op, on plain slices: `relu`, `softmax` and the dense
//! `linear` layer, forward and backward. The `Tensor` functions of [`crate::ops`] and the
//! model library ([`crate::nn`], training and single-image inference) are thin wrappers.

use crate::error::{Error, Result};
use crate::gemm::{sgemm, sgemm_packed, PackedB};
use crate::gemm::{MatMut, MatRef};

/// ReLU of one value: negatives become 0, NaN stays NaN (and −0 stays −0, which equals 0).
#[inline(always)]
fn relu1(v: f32) -> f32 {
    if v < 0.0 {
        0.0
    } else {
        v
    }
}

/// The exponent bits of an f32: all ones exactly for NaN and the infinities. The largest
/// `bits & EXP` over some values is `EXP` when one of them is not finite (an integer maximum
/// the compiler vectorises).
pub(crate) const EXP: u32 = 0x7f80_0000;

/// Whether every value of `x` is finite (no NaN, no ±∞): the largest exponent field (the
/// trainer checks every gradient of every step with it; the optimisers fold the same way).
pub fn all_finite(x: &[f32]) -> bool {
    x.iter().fold(0u32, |m, v| m.max(v.to_bits() & EXP)) != EXP
}

/// `x ← max(x, 0)` in place (NaN stays NaN).
pub fn relu(x: &mut [f32]) {
    for v in x {
        *v = relu1(*v);
    }
}

/// `max(x, 0)` (NaN stays NaN) as a new vector, in one pass (a copy and then [`relu`] in
/// place read and wrote every value twice).
pub fn relu_of(x: &[f32]) -> Vec<f32> {
    x.iter().map(|&v| relu1(v)).collect()
}

/// `y ← max(x, 0)` (NaN stays NaN), over the shorter of the two.
pub fn relu_into(x: &[f32], y: &mut [f32]) {
    for (o, &v) in y.iter_mut().zip(x) {
        *o = relu1(v);
    }
}

/// Gradient of [`relu`] in place on `dy`: kept where `v > 0`, else 0, where `v` is the
/// ReLU's input or its output (both are positive at the same places).
pub fn relu_backward(v: &[f32], dy: &mut [f32]) {
    for (g, &x) in dy.iter_mut().zip(v) {
        *g = if x > 0.0 { *g } else { 0.0 };
    }
}

/// Softmax along the middle axis of an `[outer, len, inner]` array: for every (o, i),
/// `y[o, j, i] = exp(x[o, j, i] − m) / Σ_j exp(x[o, j, i] − m)` with `m` the maximum over j.
/// Subtracting the maximum keeps inputs near 10⁴ finite (exp(10⁴) overflows f32). Every cell
/// of `y` is written. `x` and `y` hold `outer·len·inner` floats.
pub fn softmax(x: &[f32], y: &mut [f32], outer: usize, len: usize, inner: usize) {
    for o in 0..outer {
        for i in 0..inner {
            let at = |j: usize| (o * len + j) * inner + i;
            let m = (0..len).map(|j| x[at(j)]).fold(f32::NEG_INFINITY, f32::max);
            let mut sum = 0.0f32;
            for j in 0..len {
                let e = (x[at(j)] - m).exp();
                y[at(j)] = e;
                sum += e;
            }
            for j in 0..len {
                y[at(j)] /= sum;
            }
        }
    }
}

/// [`softmax`] over each row of `cols` values.
pub fn softmax_rows(x: &[f32], cols: usize, y: &mut [f32]) {
    if let Some(rows) = x.len().checked_div(cols) {
        softmax(x, y, rows, cols, 1);
    }
}

/// The sizes of a dense layer: `n` rows of `inp` inputs to `out` outputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dense {
    pub n: usize,
    pub inp: usize,
    pub out: usize,
}

impl Dense {
    fn check(&self, what: &'static str, got: usize, rows: usize, cols: usize) -> Result<()> {
        match rows.checked_mul(cols) {
            Some(want) if want == got => Ok(()),
            _ => Err(Error::shape(format!(
                "linear {what}: {got} values for {rows}×{cols} (n = {}, in = {}, out = {})",
                self.n, self.inp, self.out
            ))),
        }
    }
}

/// Dense layer `y[n, out] = x[n, in]·Wᵀ + b`, with W stored `[out, in]` as in PyTorch and the
/// bias (if any, `[out]`) added in the GEMM (β = 1 over rows pre-filled with it). Every cell of
/// `y` is written.
pub fn linear(d: Dense, x: &[f32], w: &[f32], bias: Option<&[f32]>, y: &mut [f32]) -> Result<()> {
    let Dense { n, inp, out } = d;
    d.check("input", x.len(), n, inp)?;
    d.check("weight", w.len(), out, inp)?;
    d.check("output", y.len(), n, out)?;
    let beta = match bias {
        Some(b) => {
            d.check("bias", b.len(), 1, out)?;
            for row in y.chunks_exact_mut(out) {
                row.copy_from_slice(b);
            }
            1.0
        }
        None => 0.0,
    };
    let (inp_s, out_s) = (inp as isize, out as isize);
    sgemm(
        [n, inp, out],
        1.0,
        MatRef::new(x, inp_s, 1),
        MatRef::new(w, 1, inp_s),
        beta,
        MatMut::new(y, out_s, 1),
    )
}

/// [`linear`] for one row with the weights pre-packed (`w` = Wᵀ, `in × out`, as
/// [`PackedB`]): `y[out] = x[in]·Wᵀ + b`, bias added the same way. Every cell of `y` is
/// written.
pub fn linear_packed(x: &[f32], w: &PackedB, bias: &[f32], y: &mut [f32]) -> Result<()> {
    let d = Dense {
        n: 1,
        inp: w.k(),
        out: w.n(),
    };
    d.check("input", x.len(), 1, d.inp)?;
    d.check("output", y.len(), 1, d.out)?;
    d.check("bias", bias.len(), 1, d.out)?;
    y.copy_from_slice(bias);
    let (inp_s, out_s) = (d.inp as isize, d.out as isize);
    sgemm_packed(
        1,
        1.0,
        MatRef::new(x, inp_s, 1),
        w,
        1.0,
        MatMut::new(y, out_s, 1),
    )
}

/// Gradients of [`linear`] given `dy [n, out]`: `dx = dy·W` (skipped when `None`),
/// `dW = dyᵀ·x`, `db = Σ_rows dy`. Every cell of `dx`, `dw` and `db` is written.
pub fn linear_backward(
    d: Dense,
    x: &[f32],
    w: &[f32],
    dy: &[f32],
    dx: Option<&mut [f32]>,
    dw: &mut [f32],
    db: &mut [f32],
) -> Result<()> {
    let Dense { n, inp, out } = d;
    d.check("input", x.len(), n, inp)?;
    d.check("weight", w.len(), out, inp)?;
    d.check("output gradient", dy.len(), n, out)?;
    d.check("weight gradient", dw.len(), out, inp)?;
    d.check("bias gradient", db.len(), 1, out)?;
    let (inp_s, out_s) = (inp as isize, out as isize);
    if let Some(dx) = dx {
        d.check("input gradient", dx.len(), n, inp)?;
        sgemm(
            [n, out, inp],
            1.0,
            MatRef::new(dy, out_s, 1),
            MatRef::new(w, inp_s, 1),
            0.0,
            MatMut::new(dx, inp_s, 1),
        )?;
    }
    sgemm(
        [out, n, inp],
        1.0,
        MatRef::new(dy, 1, out_s),
        MatRef::new(x, inp_s, 1),
        0.0,
        MatMut::new(dw, inp_s, 1),
    )?;
    db.fill(0.0);
    for row in dy.chunks_exact(out.max(1)) {
        for (s, &g) in db.iter_mut().zip(row) {
            *s += g;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::all_finite;

    #[test]
    fn all_finite_finds_any_nan_or_infinity_anywhere() {
        let finite = [
            0.0,
            -0.0,
            f32::MAX,
            f32::MIN,
            f32::MIN_POSITIVE,
            1e-45,
            -1e-45,
        ];
        assert!(all_finite(&[]));
        for n in [1, 3, 4, 17, 64] {
            let mut x: Vec<f32> = (0..n).map(|i| finite[i % finite.len()]).collect();
            assert!(all_finite(&x), "{x:?}");
            for bad in [f32::NAN, -f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
                for at in [0, n / 2, n - 1] {
                    let keep = x[at];
                    x[at] = bad;
                    assert!(!all_finite(&x), "{bad} at {at} of {n}");
                    x[at] = keep;
                }
            }
        }
    }
}
