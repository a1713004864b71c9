//! The only code that reads the caller's JS values. Every read is one of the small JS
//! functions below, imported with `catch`: a throwing getter, a revoked proxy or a detached
//! buffer becomes an error value here instead of an exception unwinding through wasm (which
//! would leak the shadow stack and leave borrows held; wasm-bindgen #1959). Only
//! engine-intrinsic operations are used on the caller's data (`ArrayBuffer.isView`, the
//! `%TypedArray%` getters captured at load), so nothing of the caller runs while we copy.
//!
//! Options and scalars are copied into a *snapshot* of plain data (numbers, booleans, short
//! strings, short dense arrays, plain objects with few keys); anything else becomes a marker
//! string naming it (`"\0a function"`, `"\0a Tensor"`), which the option types report as such.
//! Typed arrays are measured before anything is allocated, then copied in with one `set`.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::args::{self, ArgError, Seen};

#[wasm_bindgen(inline_js = r#"
const TA = Object.getPrototypeOf(Uint8Array.prototype);
const TAG = Object.getOwnPropertyDescriptor(TA, Symbol.toStringTag).get;
const LEN = Object.getOwnPropertyDescriptor(TA, 'length').get;
const SET = TA.set;
const isArray = Array.isArray;
const getProto = Object.getPrototypeOf;
const keys = Object.keys;
const O = '\u0000';

function what(v) {
  switch (typeof v) {
    case 'function': return O + 'a function';
    case 'symbol': return O + 'a symbol';
    case 'bigint': return O + 'a bigint';
  }
  if (ArrayBuffer.isView(v)) {
    const tag = TAG.call(v);
    return O + (tag ? `a ${tag} of ${LEN.call(v)} elements` : 'a DataView');
  }
  const p = getProto(v);
  const name = p && p.constructor && typeof p.constructor.name === 'string' ? p.constructor.name : '';
  return O + (name && name !== 'Object' ? `a ${name.slice(0, 40)}` : 'an object');
}

function copy(v, depth) {
  switch (typeof v) {
    case 'undefined': case 'boolean': case 'number': return v;
    case 'string': return v.length > 200 ? v.slice(0, 200) : v;
    case 'object': break;
    default: return what(v);
  }
  if (v === null) return null;
  if (depth > 3) return O + 'a deeply nested value';
  if (isArray(v)) {
    const n = v.length;
    if (n > 16) return O + `an array of ${n} elements`;
    const out = [];
    for (let i = 0; i < n; i++) {
      if (!(i in v)) return O + 'a sparse array';
      out.push(copy(v[i], depth + 1));
    }
    return out;
  }
  const p = getProto(v);
  if (p !== Object.prototype && p !== null) return what(v);
  const ks = keys(v);
  if (ks.length > 16) return O + `an object with ${ks.length} keys`;
  const out = {};
  for (const k of ks) {
    const x = v[k];
    if (x !== undefined) out[k.length > 64 ? k.slice(0, 64) : k] = copy(x, depth + 1);
  }
  return out;
}

export function cs_snapshot(v) {
  try { return [true, copy(v, 0)]; } catch (e) { return [false, cs_message(e)]; }
}
export function cs_typed_len(v, tag) {
  return ArrayBuffer.isView(v) && TAG.call(v) === tag ? LEN.call(v) : -1;
}
export function cs_copy(dst, src) { SET.call(dst, src); }
export function cs_message(e) {
  try { return e instanceof Error ? String(e.message).slice(0, 120) : typeof e; } catch { return 'unknown'; }
}
"#)]
extern "C" {
    /// `[true, snapshot]` or `[false, message]`. Not a `catch` import: wasm-bindgen 0.2.130
    /// leaks an externref table slot for the return value of every caught call that throws
    /// (measured: +1.3 slots and ~11 bytes of wasm memory per call), so the JS side catches.
    fn cs_snapshot(v: &JsValue) -> js_sys::Array;
    #[wasm_bindgen(catch)]
    fn cs_typed_len(v: &JsValue, tag: &str) -> Result<f64, JsValue>;
    #[wasm_bindgen(catch)]
    fn cs_copy(dst: &JsValue, src: &JsValue) -> Result<(), JsValue>;
    fn cs_message(e: &JsValue) -> String;
}

/// The caller's value as plain data, or an error naming `name` when reading it threw.
pub fn snapshot(name: &str, v: &JsValue) -> Result<JsValue, ArgError> {
    let r = cs_snapshot(v);
    if r.get(0).as_bool() == Some(true) {
        Ok(r.get(1))
    } else {
        Err(ArgError::new(
            name,
            "an unreadable value",
            format!(
                "reading it threw: {}",
                r.get(1).as_string().unwrap_or_default()
            ),
        ))
    }
}

/// Reads argument `name` of `function` as `T` (an option type of [`args`]).
pub fn arg<T: serde::de::DeserializeOwned>(
    name: &str,
    function: &str,
    v: &JsValue,
) -> Result<T, ArgError> {
    let snap = snapshot(name, v)?;
    args::read(serde_wasm_bindgen::Deserializer::from(snap), name, function)
}

/// Reads an options object: `undefined`/`null` → `None`; a plain object → its options; anything
/// else is an error.
pub fn options<T: serde::de::DeserializeOwned>(
    name: &str,
    function: &str,
    example: &str,
    v: &JsValue,
) -> Result<Option<T>, ArgError> {
    let snap = snapshot(name, v)?;
    if snap.is_undefined() || snap.is_null() {
        return Ok(None);
    }
    if !snap.is_object() || js_sys::Array::is_array(&snap) {
        return Err(ArgError::new(
            name,
            describe_snapshot(snap),
            format!("must be an object like {example} for {function}"),
        ));
    }
    let keys: Vec<String> = js_sys::Object::keys(snap.unchecked_ref::<js_sys::Object>())
        .iter()
        .filter_map(|k| k.as_string())
        .collect();
    args::check_keys::<T>(&keys, function)?;
    args::read(serde_wasm_bindgen::Deserializer::from(snap), name, function).map(Some)
}

/// How a snapshot reads in an error message.
fn describe_snapshot(snap: JsValue) -> String {
    serde_wasm_bindgen::from_value::<Seen>(snap)
        .map(|s| s.to_string())
        .unwrap_or_else(|_| "a value".into())
}

/// A description of any caller value for an error message (it is snapshotted first).
pub fn describe(v: &JsValue) -> String {
    match snapshot("value", v) {
        Ok(s) => describe_snapshot(s),
        Err(_) => "an unreadable value".into(),
    }
}

/// The element type of a typed array argument.
pub trait Element: Copy + Default {
    /// `Symbol.toStringTag` of the accepted typed arrays.
    const TAGS: &'static [&'static str];
    /// A view of `dst` (in wasm memory) as that typed array.
    ///
    /// # Safety
    /// The view must be used before anything allocates in wasm memory.
    unsafe fn view(dst: &mut [Self]) -> JsValue;
}

impl Element for f32 {
    const TAGS: &'static [&'static str] = &["Float32Array"];
    unsafe fn view(dst: &mut [f32]) -> JsValue {
        js_sys::Float32Array::view_mut_raw(dst.as_mut_ptr(), dst.len()).into()
    }
}

impl Element for u8 {
    const TAGS: &'static [&'static str] = &["Uint8Array", "Uint8ClampedArray"];
    unsafe fn view(dst: &mut [u8]) -> JsValue {
        js_sys::Uint8Array::view_mut_raw(dst.as_mut_ptr(), dst.len()).into()
    }
}

/// The length of a typed-array argument, measured without copying: an error names the
/// argument when it is not one of `T`'s typed arrays.
pub fn typed_len<T: Element>(name: &str, v: &JsValue) -> Result<usize, ArgError> {
    for tag in T::TAGS {
        match cs_typed_len(v, tag) {
            Ok(n) if n >= 0.0 => return Ok(n as usize),
            Ok(_) => {}
            Err(e) => {
                return Err(ArgError::new(
                    name,
                    "an unreadable value",
                    format!("reading it threw: {}", cs_message(&e)),
                ))
            }
        }
    }
    Err(ArgError::new(
        name,
        describe(v),
        format!("must be a {}", T::TAGS.join(" or a ")),
    ))
}

/// Copies a typed-array argument into a new `Vec`, after checking its length with `check`
/// (which sees the length before anything is allocated).
pub fn typed<T: Element>(
    name: &str,
    v: &JsValue,
    check: impl FnOnce(usize) -> Result<(), ArgError>,
) -> Result<Vec<T>, ArgError> {
    let n = typed_len::<T>(name, v)?;
    check(n)?;
    let mut out = Vec::new();
    out.try_reserve_exact(n).map_err(|_| {
        ArgError::new(
            name,
            format!("{n} elements"),
            "is more than this page's memory holds",
        )
    })?;
    out.resize(n, T::default());
    // safety: the view is used at once, before any allocation.
    let view = unsafe { T::view(&mut out) };
    cs_copy(&view, v).map_err(|e| {
        ArgError::new(
            name,
            "an unreadable value",
            format!("copying it threw: {}", cs_message(&e)),
        )
    })?;
    Ok(out)
}

/// A length check for [`typed`]: at most `max` elements.
pub fn at_most(name: &str, max: usize) -> impl FnOnce(usize) -> Result<(), ArgError> + '_ {
    move |n| {
        if n > max {
            Err(ArgError::new(
                name,
                format!("an array of {n} elements"),
                format!("is too long (at most {max} here)"),
            ))
        } else {
            Ok(())
        }
    }
}
