//! How the big buffers of a record cross to JavaScript: as typed arrays (`Float32Array`,
//! `Int32Array`, …), one copy each, instead of arrays of boxed numbers. Used as
//! `#[serde(serialize_with = "crate::typed::f32s")]` on the records' `Vec` fields; natively
//! (tests, serde_json) they serialize as plain sequences.

#[cfg(not(target_arch = "wasm32"))]
use serde::Serialize;
use serde::Serializer;

macro_rules! typed {
    ($name:ident, $t:ty, $js:ident) => {
        #[doc = concat!("`&[", stringify!($t), "]` as a `", stringify!($js), "` in wasm.")]
        pub fn $name<S: Serializer>(v: &[$t], s: S) -> Result<S::Ok, S::Error> {
            #[cfg(target_arch = "wasm32")]
            {
                serde_wasm_bindgen::preserve::serialize(&js_sys::$js::from(v), s)
            }
            #[cfg(not(target_arch = "wasm32"))]
            {
                v.serialize(s)
            }
        }
    };
}

typed!(f32s, f32, Float32Array);
typed!(i32s, i32, Int32Array);
typed!(u32s, u32, Uint32Array);
typed!(u8s, u8, Uint8Array);

/// An optional `Vec<f32>` as a `Float32Array` (pair with `skip_serializing_if =
/// "Option::is_none"`; a `None` that is serialised anyway is `undefined`).
pub fn opt_f32s<S: Serializer>(v: &Option<Vec<f32>>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => f32s(v, s),
        None => s.serialize_none(),
    }
}
