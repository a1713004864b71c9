//! Tensors and the kernels over them: `tensorNew`, `tensorShape`, `tensorToArray`,
//! `tensorFree`, `matmul`, `conv2d`, `convTranspose2d`, `maxPool2d`, `relu`, `softmax`. Tensors
//! are handles into one table (the JS class `Tensor` of `api.js` holds the handle).

use std::cell::RefCell;

use wasm_bindgen::prelude::*;

use super::args::{ArgError, ConvOptions, ConvTransposeOptions, Int, PoolOptions, Shape};
use super::handles::Table;
use super::js::{self, arg, options};
use super::{run, R};
use crate::conv;
use crate::ops;
use crate::tensor::{checked_numel, Tensor, MAX_ELEMENTS};

/// Most elements all live tensors may hold together (1 GiB of f32): past it a new tensor is
/// refused with an error instead of the instance running out of memory.
pub const MAX_LIVE_ELEMENTS: usize = 1 << 28;

struct Tensors {
    table: Table<Tensor>,
    elements: usize,
}

thread_local! {
    static TENSORS: RefCell<Tensors> = RefCell::new(Tensors {
        table: Table::new("Tensor"),
        elements: 0,
    });
}

/// Live tensors and their elements.
pub(crate) fn live() -> (usize, usize) {
    TENSORS.with(|t| {
        let t = t.borrow();
        (t.table.len(), t.elements)
    })
}

/// Refuses a new tensor of `n` elements when all live tensors would exceed the budget.
fn check_budget(t: &Tensors, name: &str, n: usize) -> Result<(), ArgError> {
    if t.elements.saturating_add(n) > MAX_LIVE_ELEMENTS {
        return Err(ArgError::new(
            name,
            format!("{n} elements"),
            format!(
                "would exceed the {MAX_LIVE_ELEMENTS} elements all live tensors may hold ({} are held now): free() tensors you no longer need",
                t.elements
            ),
        ));
    }
    Ok(())
}

fn store(t: &mut Tensors, y: Tensor) -> R<f64> {
    check_budget(t, "result", y.len())?;
    t.elements += y.len();
    Ok(t.table.insert(y)?)
}

/// Looks up the tensors in `args` (name, handle), runs `f` on them, stores the result.
fn with_tensors<const N: usize>(
    args: [(&str, &JsValue); N],
    f: impl FnOnce([&Tensor; N]) -> crate::Result<Tensor>,
) -> R<f64> {
    TENSORS.with(|t| {
        let mut t = t.borrow_mut();
        let mut found = Vec::with_capacity(N);
        for (name, v) in args {
            found.push(t.table.get(name, v)?);
        }
        let ts: [&Tensor; N] = found.try_into().unwrap_or_else(|_| unreachable!());
        let y = f(ts)?;
        store(&mut t, y)
    })
}

/// `new Tensor(data: Float32Array, shape: number[])`: copies `data` in once.
#[wasm_bindgen(js_name = tensorNew)]
pub fn tensor_new(data: JsValue, shape: JsValue) -> Result<f64, JsError> {
    run(|| {
        let Shape(shape) = arg("shape", "Tensor", &shape)?;
        let n = checked_numel(&shape).map_err(|_| {
            ArgError::new(
                "shape",
                format!("{shape:?}"),
                format!("must have no zero dimension and at most {MAX_ELEMENTS} elements"),
            )
        })?;
        TENSORS.with(|t| check_budget(&t.borrow(), "shape", n))?;
        let data = js::typed::<f32>("data", &data, |len| {
            if len == n {
                Ok(())
            } else {
                Err(ArgError::new(
                    "data",
                    format!("a Float32Array of {len} elements"),
                    format!("shape {shape:?} needs {n}"),
                ))
            }
        })?;
        let y = Tensor::new(data, &shape)?;
        TENSORS.with(|t| store(&mut t.borrow_mut(), y))
    })
}

/// The shape, outermost dimension first.
#[wasm_bindgen(js_name = tensorShape)]
pub fn tensor_shape(t: JsValue) -> Result<Vec<u32>, JsError> {
    run(|| {
        TENSORS.with(|ts| {
            let ts = ts.borrow();
            let x = ts.table.get("this", &t)?;
            Ok(x.shape().iter().map(|&d| d as u32).collect())
        })
    })
}

/// A copy of the data as a `Float32Array`.
#[wasm_bindgen(js_name = tensorToArray)]
pub fn tensor_to_array(t: JsValue) -> Result<Vec<f32>, JsError> {
    run(|| {
        TENSORS.with(|ts| {
            let ts = ts.borrow();
            Ok(ts.table.get("this", &t)?.data().to_vec())
        })
    })
}

/// Frees a tensor's memory; freeing twice does nothing.
#[wasm_bindgen(js_name = tensorFree)]
pub fn tensor_free(t: JsValue) -> Result<(), JsError> {
    run(|| {
        TENSORS.with(|ts| {
            let mut ts = ts.borrow_mut();
            let n = ts.table.get("this", &t).map(|x| x.len()).unwrap_or(0);
            ts.table.free("this", &t)?;
            ts.elements -= n;
            Ok(())
        })
    })
}

/// `[M, K]·[K, N] → [M, N]`.
#[wasm_bindgen]
pub fn matmul(a: JsValue, b: JsValue) -> Result<f64, JsError> {
    run(|| with_tensors([("a", &a), ("b", &b)], |[a, b]| ops::matmul(a, b)))
}

/// The optional bias of the convs: absent, or a tensor handle.
fn bias_arg(v: &JsValue) -> Option<&JsValue> {
    (!v.is_undefined() && !v.is_null()).then_some(v)
}

/// 2-D cross-correlation (PyTorch's `conv2d`).
#[wasm_bindgen]
pub fn conv2d(x: JsValue, w: JsValue, bias: JsValue, opts: JsValue) -> Result<f64, JsError> {
    run(|| {
        let o: ConvOptions = options("opts", "conv2d", "{ stride: 2 }", &opts)?.unwrap_or_default();
        let p = o.params();
        match bias_arg(&bias) {
            None => with_tensors([("x", &x), ("w", &w)], |[x, w]| {
                conv::conv2d(x, w, None, &p)
            }),
            Some(b) => with_tensors([("x", &x), ("w", &w), ("bias", b)], |[x, w, b]| {
                conv::conv2d(x, w, Some(b), &p)
            }),
        }
    })
}

/// Transposed 2-D convolution (PyTorch's `conv_transpose2d`), the adjoint of `conv2d`.
#[wasm_bindgen(js_name = convTranspose2d)]
pub fn conv_transpose2d(
    x: JsValue,
    w: JsValue,
    bias: JsValue,
    opts: JsValue,
) -> Result<f64, JsError> {
    run(|| {
        let o: ConvTransposeOptions =
            options("opts", "convTranspose2d", "{ stride: 2 }", &opts)?.unwrap_or_default();
        let p = o.params();
        match bias_arg(&bias) {
            None => with_tensors([("x", &x), ("w", &w)], |[x, w]| {
                conv::conv_transpose2d(x, w, None, &p)
            }),
            Some(b) => with_tensors([("x", &x), ("w", &w), ("bias", b)], |[x, w, b]| {
                conv::conv_transpose2d(x, w, Some(b), &p)
            }),
        }
    })
}

/// Max pool (PyTorch's `max_pool2d`) over `[N, C, H, W]` or `[C, H, W]`.
#[wasm_bindgen(js_name = maxPool2d)]
pub fn max_pool2d(x: JsValue, opts: JsValue) -> Result<f64, JsError> {
    run(|| {
        let o: PoolOptions = options("opts", "maxPool2d", "{ kernelSize: 2 }", &opts)?
            .ok_or_else(|| ArgError::new("opts", "undefined", "maxPool2d needs { kernelSize }"))?;
        let p = o.params();
        with_tensors([("x", &x)], |[x]| conv::max_pool2d(x, &p).map(|(y, _)| y))
    })
}

/// `max(x, 0)` elementwise.
#[wasm_bindgen]
pub fn relu(x: JsValue) -> Result<f64, JsError> {
    run(|| with_tensors([("x", &x)], |[x]| Ok(ops::relu(x))))
}

/// Softmax along `axis` (default: the last; negative counts from the end).
#[wasm_bindgen]
pub fn softmax(x: JsValue, axis: JsValue) -> Result<f64, JsError> {
    run(|| {
        let axis: Option<Int> = if axis.is_undefined() || axis.is_null() {
            None
        } else {
            Some(arg("axis", "softmax", &axis)?)
        };
        with_tensors([("x", &x)], |[x]| {
            let rank = x.shape().len();
            let a = softmax_axis(axis.map(|a| a.0), rank)?;
            ops::softmax(x, a)
        })
    })
}

/// `softmax`'s axis: default the last, negative counts from the end.
pub(crate) fn softmax_axis(axis: Option<i64>, rank: usize) -> crate::Result<usize> {
    let Some(a) = axis else { return Ok(rank - 1) };
    let r = rank as i64;
    if a < -r || a >= r {
        return Err(crate::Error::param(
            "axis",
            a,
            format!("must be in [-{rank}, {rank})"),
        ));
    }
    Ok(if a < 0 { (a + r) as usize } else { a as usize })
}
