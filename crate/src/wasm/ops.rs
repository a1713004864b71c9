//! The kernels' JavaScript API: `matmul`, `conv2d`, `convTranspose2d`, `maxPool2d`, `relu`,
//! `softmax` over the `Tensor` class.
//!
//! Options objects are read in two steps: [`read_opt`] turns each JS property into an [`Opt`]
//! (the only code that touches `JsValue`), then plain Rust functions ([`conv_params`],
//! [`pool_params`], …) validate them, so the parsing is tested natively too. Every error is a
//! JS `Error` naming the option and its value; nothing panics, so the instance survives any
//! number of bad calls.

use std::fmt;

use wasm_bindgen::prelude::*;

use super::JsTensor;
use crate::conv::{self, Conv2dParams, Pool2dParams};
use crate::error::{Error, Result};
use crate::ops;
use crate::tensor::Tensor;
use wasm_bindgen::JsCast;

#[wasm_bindgen(typescript_custom_section)]
const OPTIONS_TS: &str = r#"
/** A size along (height, width): one number for both, or `[h, w]`. Whole numbers ≥ 0. */
export type Size2d = number | [number, number];
/** Zero padding: one number for every side, `[h, w]` (top = bottom = h, left = right = w),
 *  or `[top, left, bottom, right]`. */
export type Padding2d = number | [number, number] | [number, number, number, number];
/** Options of `conv2d` (PyTorch's Conv2d): defaults stride 1, padding 0, dilation 1, groups 1. */
export interface Conv2dOptions {
  stride?: Size2d;
  padding?: Padding2d;
  dilation?: Size2d;
  /** Input and output channels are split into this many independent convs (= C_in: depthwise). */
  groups?: number;
}
/** Options of `convTranspose2d` (PyTorch's ConvTranspose2d). */
export interface ConvTranspose2dOptions extends Conv2dOptions {
  /** Extra rows/columns at the bottom/right of the output; below max(stride, dilation). */
  outputPadding?: Size2d;
}
/** Options of `maxPool2d` (PyTorch's MaxPool2d): stride defaults to kernelSize, padding is −∞. */
export interface MaxPool2dOptions {
  kernelSize: Size2d;
  stride?: Size2d;
  /** Symmetric padding `[h, w]`, at most half the kernel size. */
  padding?: Size2d;
  dilation?: Size2d;
  /** Round the output size up (a window starting in the right padding is dropped). */
  ceilMode?: boolean;
}
"#;

/// One option's value as JS gave it, before validation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Opt {
    /// `undefined` or `null`: use the default.
    Absent,
    Num(f64),
    List(Vec<f64>),
    Bool(bool),
    /// Anything else, described for the error message (`"a string \"2\""`, `"an object"`).
    Other(String),
}

/// Prints its contents without quotes (error values).
struct Raw(String);

impl fmt::Debug for Raw {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Numbers as a person typed them: `2`, `1.5`, `NaN`, `1e300` (not 300 digits).
fn num(f: &mut fmt::Formatter<'_>, x: f64) -> fmt::Result {
    if x != 0.0 && (x.abs() >= 1e21 || x.abs() < 1e-6) {
        write!(f, "{x:e}")
    } else {
        write!(f, "{x}")
    }
}

impl fmt::Display for Opt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Opt::Absent => f.write_str("undefined"),
            Opt::Num(x) => num(f, *x),
            Opt::List(v) => {
                f.write_str("[")?;
                for (i, x) in v.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    num(f, *x)?;
                }
                f.write_str("]")
            }
            Opt::Bool(b) => write!(f, "{b}"),
            Opt::Other(d) => f.write_str(d),
        }
    }
}

fn bad(name: &'static str, v: &Opt, reason: impl Into<String>) -> Error {
    Error::param(name, Raw(v.to_string()), reason)
}

/// A whole number ≥ 0 (and not absurd).
fn whole(name: &'static str, v: &Opt, x: f64) -> Result<usize> {
    if !x.is_finite() || x < 0.0 || x.fract() != 0.0 {
        return Err(bad(name, v, "must be a whole number ≥ 0"));
    }
    if x > (1u64 << 31) as f64 {
        return Err(bad(name, v, "is too large"));
    }
    Ok(x as usize)
}

/// `stride`, `dilation`, `outputPadding`, `kernelSize`: a number or `[h, w]`.
pub(crate) fn parse_pair(name: &'static str, v: &Opt, default: [usize; 2]) -> Result<[usize; 2]> {
    match v {
        Opt::Absent => Ok(default),
        Opt::Num(x) => {
            let n = whole(name, v, *x)?;
            Ok([n, n])
        }
        Opt::List(l) if l.len() == 2 => Ok([whole(name, v, l[0])?, whole(name, v, l[1])?]),
        Opt::List(_) => Err(bad(name, v, "must be a number or an array [h, w]")),
        _ => Err(bad(name, v, "must be a number or an array [h, w]")),
    }
}

/// Conv `padding`: a number, `[h, w]` or `[top, left, bottom, right]`.
pub(crate) fn parse_padding(v: &Opt) -> Result<[usize; 4]> {
    const WHAT: &str = "must be a number, [h, w] or [top, left, bottom, right]";
    match v {
        Opt::Absent => Ok([0; 4]),
        Opt::Num(x) => Ok([whole("padding", v, *x)?; 4]),
        Opt::List(l) if l.len() == 2 || l.len() == 4 => {
            let mut p = [0; 4];
            for (i, &x) in l.iter().enumerate() {
                p[i] = whole("padding", v, x)?;
            }
            if l.len() == 2 {
                p[2] = p[0];
                p[3] = p[1];
            }
            Ok(p)
        }
        _ => Err(bad("padding", v, WHAT)),
    }
}

pub(crate) fn parse_count(name: &'static str, v: &Opt, default: usize) -> Result<usize> {
    match v {
        Opt::Absent => Ok(default),
        Opt::Num(x) => whole(name, v, *x),
        _ => Err(bad(name, v, "must be a number")),
    }
}

pub(crate) fn parse_bool(name: &'static str, v: &Opt, default: bool) -> Result<bool> {
    match v {
        Opt::Absent => Ok(default),
        Opt::Bool(b) => Ok(*b),
        _ => Err(bad(name, v, "must be true or false")),
    }
}

/// Rejects option names the function does not know (a typo like `strides` would otherwise be
/// silently ignored).
pub(crate) fn check_keys(keys: &[String], allowed: &[&str], function: &str) -> Result<()> {
    for k in keys {
        if !allowed.contains(&k.as_str()) {
            return Err(Error::param(
                "option",
                Raw(k.clone()),
                format!("is not an option of {function}; expected one of {allowed:?}"),
            ));
        }
    }
    Ok(())
}

const CONV_KEYS: &[&str] = &["stride", "padding", "dilation", "groups"];
const TRANSPOSE_KEYS: &[&str] = &["stride", "padding", "dilation", "groups", "outputPadding"];
const POOL_KEYS: &[&str] = &["kernelSize", "stride", "padding", "dilation", "ceilMode"];

/// Conv parameters from already-read options (`get(name)` returns each one).
pub(crate) fn conv_params(
    get: impl Fn(&'static str) -> Opt,
    transposed: bool,
) -> Result<Conv2dParams> {
    let d = Conv2dParams::default();
    Ok(Conv2dParams {
        stride: parse_pair("stride", &get("stride"), d.stride)?,
        padding: parse_padding(&get("padding"))?,
        dilation: parse_pair("dilation", &get("dilation"), d.dilation)?,
        groups: parse_count("groups", &get("groups"), 1)?,
        output_padding: if transposed {
            parse_pair("outputPadding", &get("outputPadding"), [0, 0])?
        } else {
            [0, 0]
        },
    })
}

/// Pool parameters from already-read options; `kernelSize` is required.
pub(crate) fn pool_params(get: impl Fn(&'static str) -> Opt) -> Result<Pool2dParams> {
    let ks = get("kernelSize");
    if ks == Opt::Absent {
        return Err(bad("kernelSize", &ks, "is required"));
    }
    let kernel = parse_pair("kernelSize", &ks, [0, 0])?;
    Ok(Pool2dParams {
        kernel,
        stride: parse_pair("stride", &get("stride"), kernel)?,
        padding: parse_pair("padding", &get("padding"), [0, 0])?,
        dilation: parse_pair("dilation", &get("dilation"), [1, 1])?,
        ceil_mode: parse_bool("ceilMode", &get("ceilMode"), false)?,
    })
}

/// `softmax`'s axis: default the last, negative counts from the end.
pub(crate) fn softmax_axis(axis: Option<f64>, rank: usize) -> Result<usize> {
    let Some(a) = axis else { return Ok(rank - 1) };
    let v = Opt::Num(a);
    if !a.is_finite() || a.fract() != 0.0 {
        return Err(bad("axis", &v, "must be a whole number"));
    }
    let r = rank as f64;
    if a < -r || a >= r {
        return Err(bad("axis", &v, format!("must be in [-{rank}, {rank})")));
    }
    Ok(if a < 0.0 {
        (a + r) as usize
    } else {
        a as usize
    })
}

/// The library names parameters as Rust does; JS callers know them by their option names.
fn js_err(e: Error) -> JsError {
    let e = match e {
        Error::Param {
            name,
            value,
            reason,
        } => Error::Param {
            name: match name {
                "kernel_size" => "kernelSize",
                "output_padding" => "outputPadding",
                "ceil_mode" => "ceilMode",
                n => n,
            },
            value,
            reason,
        },
        e => e,
    };
    JsError::new(&e.to_string())
}

// ---- the only code that touches JsValue ----

fn describe(v: &JsValue) -> String {
    if let Some(s) = v.as_string() {
        format!("a string {s:?}")
    } else if let Some(x) = v.as_f64() {
        Opt::Num(x).to_string()
    } else if let Some(b) = v.as_bool() {
        b.to_string()
    } else if v.is_function() {
        "a function".into()
    } else if v.is_object() {
        "an object".into()
    } else {
        format!("{v:?}")
    }
}

/// One property of an options object as an [`Opt`].
pub(crate) fn read_opt(obj: &JsValue, key: &str) -> Opt {
    let v = match js_sys::Reflect::get(obj, &JsValue::from_str(key)) {
        Ok(v) => v,
        Err(_) => return Opt::Other("unreadable".into()),
    };
    if v.is_undefined() || v.is_null() {
        Opt::Absent
    } else if let Some(x) = v.as_f64() {
        Opt::Num(x)
    } else if let Some(b) = v.as_bool() {
        Opt::Bool(b)
    } else if js_sys::Array::is_array(&v) {
        let arr = js_sys::Array::from(&v);
        let mut out = Vec::with_capacity(arr.length() as usize);
        for item in arr.iter() {
            match item.as_f64() {
                Some(x) => out.push(x),
                None => return Opt::Other(format!("an array holding {}", describe(&item))),
            }
        }
        Opt::List(out)
    } else {
        Opt::Other(describe(&v))
    }
}

/// Reads an options argument: absent → all defaults; otherwise it must be a plain object with
/// only known keys.
fn read_opts(opts: &JsValue, allowed: &[&str], function: &str) -> Result<Option<JsValue>> {
    if opts.is_undefined() || opts.is_null() {
        return Ok(None);
    }
    if !opts.is_object() || js_sys::Array::is_array(opts) || opts.is_function() {
        return Err(Error::param(
            "opts",
            Raw(describe(opts)),
            format!("must be an object like {{ stride: 2 }} for {function}"),
        ));
    }
    let keys: Vec<String> = js_sys::Object::keys(&js_sys::Object::from(opts.clone()))
        .iter()
        .filter_map(|k| k.as_string())
        .collect();
    check_keys(&keys, allowed, function)?;
    Ok(Some(opts.clone()))
}

/// The optional bias argument. wasm-bindgen cannot borrow an optional exported class, and
/// taking it by value would free the caller's `Tensor`; so the bias (C_out numbers) is read
/// through its public JS API (`shape`, `toArray()`), leaving the caller's object intact.
fn read_bias(v: Option<JsValue>) -> Result<Option<Tensor>> {
    let v = match v {
        Some(v) if !v.is_undefined() && !v.is_null() => v,
        _ => return Ok(None),
    };
    let not_tensor = || Error::param("bias", Raw(describe(&v)), "must be a Tensor or null");
    let shape = js_sys::Reflect::get(&v, &JsValue::from_str("shape")).map_err(|_| not_tensor())?;
    let to_array = js_sys::Reflect::get(&v, &JsValue::from_str("toArray"))
        .map_err(|_| not_tensor())?
        .dyn_into::<js_sys::Function>()
        .map_err(|_| not_tensor())?;
    if !v.is_object() || shape.is_undefined() {
        return Err(not_tensor());
    }
    let shape: Vec<usize> = js_sys::Array::from(&shape)
        .iter()
        .map(|d| {
            d.as_f64()
                .filter(|d| *d >= 0.0 && d.fract() == 0.0)
                .map(|d| d as usize)
        })
        .collect::<Option<_>>()
        .ok_or_else(not_tensor)?;
    let data = to_array.call0(&v).map_err(|_| not_tensor())?;
    let data = data
        .dyn_into::<js_sys::Float32Array>()
        .map_err(|_| not_tensor())?
        .to_vec();
    Tensor::new(data, &shape).map(Some)
}

fn getter(opts: &Option<JsValue>) -> impl Fn(&'static str) -> Opt + '_ {
    move |k| match opts {
        None => Opt::Absent,
        Some(o) => read_opt(o, k),
    }
}

/// `[M, K]·[K, N] → [M, N]`.
#[wasm_bindgen(js_name = matmul)]
pub fn matmul(a: &JsTensor, b: &JsTensor) -> Result<JsTensor, JsError> {
    Ok(ops::matmul(&a.inner, &b.inner).map_err(js_err)?.into())
}

/// 2-D cross-correlation (PyTorch's `conv2d`): `x [N, C_in, H, W]`, `w [C_out, C_in/groups, kH, kW]`,
/// optional `bias [C_out]`.
#[wasm_bindgen(js_name = conv2d)]
pub fn conv2d(
    x: &JsTensor,
    w: &JsTensor,
    #[wasm_bindgen(unchecked_optional_param_type = "Tensor | null")] bias: Option<JsValue>,
    #[wasm_bindgen(unchecked_optional_param_type = "Conv2dOptions")] opts: Option<JsValue>,
) -> Result<JsTensor, JsError> {
    let opts =
        read_opts(&opts.unwrap_or(JsValue::UNDEFINED), CONV_KEYS, "conv2d").map_err(js_err)?;
    let p = conv_params(getter(&opts), false).map_err(js_err)?;
    let bias = read_bias(bias).map_err(js_err)?;
    let y = conv::conv2d(&x.inner, &w.inner, bias.as_ref(), &p).map_err(js_err)?;
    Ok(y.into())
}

/// Transposed 2-D convolution (PyTorch's `conv_transpose2d`), the adjoint of `conv2d`:
/// `x [N, C_in, H, W]`, `w [C_in, C_out/groups, kH, kW]`, optional `bias [C_out]`.
#[wasm_bindgen(js_name = convTranspose2d)]
pub fn conv_transpose2d(
    x: &JsTensor,
    w: &JsTensor,
    #[wasm_bindgen(unchecked_optional_param_type = "Tensor | null")] bias: Option<JsValue>,
    #[wasm_bindgen(unchecked_optional_param_type = "ConvTranspose2dOptions")] opts: Option<JsValue>,
) -> Result<JsTensor, JsError> {
    let opts = read_opts(
        &opts.unwrap_or(JsValue::UNDEFINED),
        TRANSPOSE_KEYS,
        "convTranspose2d",
    )
    .map_err(js_err)?;
    let p = conv_params(getter(&opts), true).map_err(js_err)?;
    let bias = read_bias(bias).map_err(js_err)?;
    let y = conv::conv_transpose2d(&x.inner, &w.inner, bias.as_ref(), &p).map_err(js_err)?;
    Ok(y.into())
}

/// Max pool (PyTorch's `max_pool2d`) over `[N, C, H, W]` or `[C, H, W]`.
#[wasm_bindgen(js_name = maxPool2d)]
pub fn max_pool2d(
    x: &JsTensor,
    #[wasm_bindgen(unchecked_param_type = "MaxPool2dOptions")] opts: JsValue,
) -> Result<JsTensor, JsError> {
    if opts.is_undefined() || opts.is_null() {
        return Err(js_err(Error::param(
            "opts",
            Raw("undefined".into()),
            "maxPool2d needs { kernelSize }",
        )));
    }
    let opts = read_opts(&opts, POOL_KEYS, "maxPool2d").map_err(js_err)?;
    let p = pool_params(getter(&opts)).map_err(js_err)?;
    let (y, _) = conv::max_pool2d(&x.inner, &p).map_err(js_err)?;
    Ok(y.into())
}

/// `max(x, 0)` elementwise.
#[wasm_bindgen(js_name = relu)]
pub fn relu(x: &JsTensor) -> JsTensor {
    ops::relu(&x.inner).into()
}

/// Softmax along `axis` (default: the last; negative counts from the end).
#[wasm_bindgen(js_name = softmax)]
pub fn softmax(x: &JsTensor, axis: Option<f64>) -> Result<JsTensor, JsError> {
    let axis = softmax_axis(axis, x.inner.shape().len()).map_err(js_err)?;
    Ok(ops::softmax(&x.inner, axis).map_err(js_err)?.into())
}

#[cfg(test)]
mod tests;
