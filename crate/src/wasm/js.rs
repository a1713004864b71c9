//! The only code that reads the caller's JS values. Every read is one of the small JS
//! functions below, which catch everything themselves and return plain values: a throwing
//! getter, a proxy or a detached buffer becomes an error here instead of an exception
//! unwinding through wasm (which would leak the shadow stack and leave borrows held;
//! wasm-bindgen #1959). Only engine intrinsics captured at load touch the caller's data
//! (`ArrayBuffer.isView`, the `%TypedArray%` getters), so nothing of the caller runs while we
//! copy.
//!
//! Options and scalars become a *snapshot*: JSON text of plain data (numbers, booleans, short
//! strings, short dense arrays, plain objects with few keys, own keys only), anything else a
//! marker string naming it (`"\0a function"`, `"\0NaN"`). serde_json reads it in Rust, so no
//! JS runs while the option types are read (no inherited getter, no `__proto__` trick).
//! Typed arrays are measured before anything is allocated, then copied in with one `set`.

use wasm_bindgen::prelude::*;

use super::args::{self, ArgError, Seen};

#[wasm_bindgen(inline_js = r#"
// Captured when the module loads, so a caller that later replaces a prototype's method does
// not change what these do.
const TA = Object.getPrototypeOf(Uint8Array.prototype);
const TAG = Object.getOwnPropertyDescriptor(TA, Symbol.toStringTag).get;
const LEN = Object.getOwnPropertyDescriptor(TA, 'length').get;
const SET = TA.set;
const isArray = Array.isArray;
const getProto = Object.getPrototypeOf;
const keys = Object.keys;
const OBJ = Object.prototype;
const quote = JSON.stringify;
const slice = Function.prototype.call.bind(String.prototype.slice);
const finite = Number.isFinite;
const F32 = Float32Array, U8 = Uint8Array;
const O = '\u0000';
const MAX_TEXT = 8192;
// A lone surrogate (half of a UTF-16 pair): JSON.stringify escapes it, but it is not Unicode
// text, so Rust cannot hold it. A string holding one is refused by name, with where it is.
const LONE = /\p{Cs}/u;
const exec = Function.prototype.call.bind(RegExp.prototype.exec);
const code = Function.prototype.call.bind(String.prototype.charCodeAt);
const TYPED = /^(Int8|Uint8|Uint8Clamped|Int16|Uint16|Int32|Uint32|Float16|Float32|Float64|BigInt64|BigUint64)Array$|^DataView$/;
class Lone {
  constructor(path, s) {
    const m = exec(LONE, s);
    this.path = path;
    this.unit = '\\u' + code(m[0], 0).toString(16);
    this.at = m.index;
  }
}
// `s` cut to at most `n` UTF-16 units without cutting a surrogate pair in two.
function cut(s, n) {
  if (s.length <= n) return s;
  const c = code(s, n - 1);
  return slice(s, 0, c >= 0xd800 && c < 0xdc00 ? n - 1 : n);
}
function text(s, path) {
  if (exec(LONE, s) !== null) throw new Lone(path, s);
  return quote(cut(s, 200));
}

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
  // Not a view, yet its prototype says so: a Proxy of one, or Object.create of its prototype.
  if (exec(TYPED, name) !== null) return O + `a Proxy or imitation of a ${name}`;
  return O + (name && name !== 'Object' ? `a ${slice(name, 0, 40)}` : 'an object');
}

// The value as JSON text of plain data: numbers, booleans, short strings, short dense arrays,
// plain objects of few keys. Anything else is a string marked with \0 that names it (NaN and ∞
// too: JSON has none). Own keys only (`__proto__` included, as a key), nothing inherited.
function json(v, depth, path) {
  switch (typeof v) {
    case 'undefined': return 'null';
    case 'boolean': return v ? 'true' : 'false';
    case 'number': return finite(v) ? String(v) : quote(O + String(v));
    case 'string': return text(v, path);
    case 'object': break;
    default: return quote(what(v));
  }
  if (v === null) return 'null';
  if (depth > 3) return quote(O + 'a deeply nested value');
  if (isArray(v)) {
    const n = v.length;
    if (n > 16) return quote(O + `an array of ${n} elements`);
    let s = '[';
    for (let i = 0; i < n; i++) {
      if (!(i in v)) return quote(O + 'a sparse array');
      s += (i ? ',' : '') + json(v[i], depth + 1, `${path}[${i}]`);
    }
    return s + ']';
  }
  const p = getProto(v);
  if (p !== OBJ && p !== null) return quote(what(v));
  const ks = keys(v);
  if (ks.length > 16) return quote(O + `an object with ${ks.length} keys`);
  let s = '{';
  let first = true;
  for (let i = 0; i < ks.length; i++) {
    const k = ks[i];
    const x = v[k];
    if (x === undefined) continue;
    const key = path ? `${path}.${cut(k, 64)}` : cut(k, 64);
    s += (first ? '' : ',') + text(k, `the key ${key}`) + ':' + json(x, depth + 1, key);
    first = false;
  }
  return s + '}';
}

function message(e) {
  try { return e instanceof Error ? slice(String(e.message), 0, 120) : typeof e; } catch { return 'unknown'; }
}

// "1" + JSON text, "0" + why it could not be read, or "2" + the value as shown + "\u0001" +
// what is wrong with it (a string that is not Unicode text).
export function cs_snapshot(v) {
  try {
    const s = json(v, 0, '');
    return s.length > MAX_TEXT ? '0it is too large to be an option' : '1' + s;
  } catch (e) {
    if (e instanceof Lone) {
      const where = e.path ? ` in ${e.path}` : '';
      return `2${typeof v === 'string' ? 'a string' : isArray(v) ? 'an array' : 'an object'} with a lone surrogate${where}\u0001${e.unit} at position ${e.at} is half of a UTF-16 pair, not Unicode text`;
    }
    return '0reading it threw: ' + message(e);
  }
}
export function cs_typed_len(v, tag) {
  try { return ArrayBuffer.isView(v) && TAG.call(v) === tag ? LEN.call(v) : -1; } catch { return -1; }
}
// Length of array `v` (at most `max`), -1 when it is not an array, -2 when longer.
export function cs_list_len(v, max) {
  try { if (!isArray(v)) return -1; const n = v.length; return n > max ? -2 : n; } catch { return -1; }
}
// Element `i` of array `v` (undefined when reading it threw: it is then refused by type).
export function cs_list_item(v, i) {
  try { return v[i]; } catch { return undefined; }
}
// Copies typed array `src` into wasm memory at byte `ptr` (a fresh view: memory may have grown).
export function cs_copy(memory, ptr, len, src, f32) {
  try {
    const dst = f32 ? new F32(memory.buffer, ptr, len) : new U8(memory.buffer, ptr, len);
    SET.call(dst, src);
    return '';
  } catch (e) { return message(e) || 'unknown'; }
}
"#)]
extern "C" {
    /// None of these is a `catch` import: each catches in JS and returns a plain value.
    /// (wasm-bindgen 0.2.130 leaks an externref table slot for every caught call that throws
    /// and returns a JS value: measured +1.3 slots and ~11 bytes of wasm memory per call.)
    fn cs_snapshot(v: &JsValue) -> String;
    fn cs_typed_len(v: &JsValue, tag: &str) -> f64;
    fn cs_list_len(v: &JsValue, max: u32) -> f64;
    fn cs_list_item(v: &JsValue, i: u32) -> JsValue;
    fn cs_copy(memory: &JsValue, ptr: u32, len: u32, src: &JsValue, f32: bool) -> String;
}

/// The caller's value as JSON text of plain data, or an error naming `name` when reading it
/// threw or it is too large.
pub fn snapshot(name: &str, v: &JsValue) -> Result<String, ArgError> {
    let s = cs_snapshot(v);
    if let Some(text) = s.strip_prefix('1') {
        return Ok(text.to_string());
    }
    if let Some((value, reason)) = s.strip_prefix('2').and_then(|r| r.split_once('\u{1}')) {
        return Err(ArgError::new(name, value, reason));
    }
    Err(ArgError::new(
        name,
        "an unreadable value",
        s.strip_prefix('0').unwrap_or(&s).to_string(),
    ))
}

/// Reads argument `name` of `function` as `T` (an option type of [`args`]): the snapshot's
/// JSON text is read by serde_json, exactly as the native tests read theirs.
pub fn arg<T: serde::de::DeserializeOwned>(
    name: &str,
    function: &str,
    v: &JsValue,
) -> Result<T, ArgError> {
    let text = snapshot(name, v)?;
    args::read(
        &mut serde_json::Deserializer::from_str(&text),
        name,
        function,
    )
}

/// Reads an options object: `undefined`/`null` → `None`; a plain object → its options; anything
/// else is an error.
pub fn options<T: serde::de::DeserializeOwned>(
    name: &str,
    function: &str,
    example: &str,
    v: &JsValue,
) -> Result<Option<T>, ArgError> {
    let text = snapshot(name, v)?;
    if text == "null" {
        return Ok(None);
    }
    if !text.starts_with('{') {
        return Err(ArgError::new(
            name,
            describe_text(&text),
            format!("must be an object like {example} for {function}"),
        ));
    }
    args::read(
        &mut serde_json::Deserializer::from_str(&text),
        name,
        function,
    )
    .map(Some)
}

/// How a snapshot reads in an error message.
fn describe_text(text: &str) -> String {
    serde_json::from_str::<Seen>(text)
        .map(|s| s.to_string())
        .unwrap_or_else(|_| "a value".into())
}

/// A description of any caller value for an error message (it is snapshotted first).
pub fn describe(v: &JsValue) -> String {
    match snapshot("value", v) {
        Ok(text) => describe_text(&text),
        Err(_) => "an unreadable value".into(),
    }
}

/// The element type of a typed array argument.
pub trait Element: Copy + Default {
    /// `Symbol.toStringTag` of the accepted typed arrays.
    const TAGS: &'static [&'static str];
    const F32: bool;
}

impl Element for f32 {
    const TAGS: &'static [&'static str] = &["Float32Array"];
    const F32: bool = true;
}

impl Element for u8 {
    const TAGS: &'static [&'static str] = &["Uint8Array", "Uint8ClampedArray"];
    const F32: bool = false;
}

/// The length of a typed-array argument, measured without copying: an error names the
/// argument when it is not one of `T`'s typed arrays.
pub fn typed_len<T: Element>(name: &str, v: &JsValue) -> Result<usize, ArgError> {
    for tag in T::TAGS {
        let n = cs_typed_len(v, tag);
        if n >= 0.0 {
            return Ok(n as usize);
        }
    }
    let seen = describe(v);
    let reason = if seen.starts_with("a Proxy or imitation") {
        format!(
            "must be a real {} (copy it into one first: new {}(value))",
            T::TAGS[0],
            T::TAGS[0]
        )
    } else {
        format!("must be a {}", T::TAGS.join(" or a "))
    };
    Err(ArgError::new(name, seen, reason))
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
    // The JS side makes its own view of memory at this address, so nothing can detach it.
    let problem = cs_copy(
        &wasm_bindgen::memory(),
        out.as_mut_ptr() as u32,
        n as u32,
        v,
        T::F32,
    );
    if !problem.is_empty() {
        return Err(ArgError::new(
            name,
            "an unreadable value",
            format!("copying it threw: {problem}"),
        ));
    }
    Ok(out)
}

/// The elements of array argument `name` (at most `max`), each still to be checked by type.
pub fn list(name: &str, v: &JsValue, max: usize) -> Result<Vec<JsValue>, ArgError> {
    let n = cs_list_len(v, max as u32);
    if n == -1.0 {
        return Err(ArgError::new(name, describe(v), "must be an array"));
    }
    if n < 0.0 {
        return Err(ArgError::new(
            name,
            "a long array",
            format!("must hold at most {max} elements"),
        ));
    }
    Ok((0..n as u32).map(|i| cs_list_item(v, i)).collect())
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

/// The one way a result crosses to JavaScript: a `Serialize` record as a plain object (its big
/// buffers as typed arrays, `crate::typed`), `None` fields left out. `what` names the result in
/// the (never expected) error.
pub fn to_js<T: serde::Serialize + ?Sized>(v: &T, what: &str) -> Result<JsValue, ArgError> {
    v.serialize(&serde_wasm_bindgen::Serializer::new())
        .map_err(|e| ArgError::new(what, "?", e.to_string()))
}
