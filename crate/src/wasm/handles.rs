//! Objects that live in wasm memory (tensors, models) are reached from JS by a numeric handle,
//! never by a pointer: a handle is looked up in a table, so a forged or stale one is an error
//! naming it, not a read of arbitrary memory. Handles count up from 1 and are never reused, so
//! a freed one is told apart from one never given out.

use std::collections::HashMap;

use wasm_bindgen::JsValue;

use super::args::{ArgError, Seen};

/// One table of live objects of one kind.
pub struct Table<T> {
    kind: &'static str,
    next: u64,
    live: HashMap<u64, T>,
}

/// Largest handle (handles are JS numbers: whole and exact below 2⁵³).
const MAX_HANDLE: u64 = 1 << 53;

impl<T> Table<T> {
    pub fn new(kind: &'static str) -> Self {
        Table {
            kind,
            next: 1,
            live: HashMap::new(),
        }
    }

    /// Stores `value`; returns its handle.
    pub fn insert(&mut self, value: T) -> Result<f64, ArgError> {
        if self.next >= MAX_HANDLE {
            return Err(ArgError::new(self.kind, self.next, "no handles left"));
        }
        let id = self.next;
        self.next += 1;
        self.live.insert(id, value);
        Ok(id as f64)
    }

    /// The id in `v`, checked against this table: a number that was handed out and not freed.
    pub fn id(&self, name: &str, v: &JsValue) -> Result<u64, ArgError> {
        let Some(x) = v.as_f64() else {
            // Only `typeof`: no code of the caller may run while a table is borrowed.
            let t = v.js_typeof().as_string().unwrap_or_default();
            let shown = match t.as_str() {
                "undefined" => "undefined".to_string(),
                "object" if v.is_null() => "null".to_string(),
                "object" => "an object".to_string(),
                t => format!("a {t}"),
            };
            return Err(ArgError::new(
                name,
                shown,
                format!("must be a {}", self.kind),
            ));
        };
        let shown = Seen::Num(x);
        if !(x.is_finite() && x >= 1.0 && x.fract() == 0.0 && x < self.next as f64) {
            return Err(ArgError::new(
                name,
                shown,
                format!("is not a {} handle", self.kind),
            ));
        }
        let id = x as u64;
        if !self.live.contains_key(&id) {
            return Err(ArgError::new(
                name,
                format!("a freed {}", self.kind),
                "was freed (free() was called on it)",
            ));
        }
        Ok(id)
    }

    pub fn get(&self, name: &str, v: &JsValue) -> Result<&T, ArgError> {
        let id = self.id(name, v)?;
        Ok(&self.live[&id])
    }

    pub fn get_mut(&mut self, name: &str, v: &JsValue) -> Result<&mut T, ArgError> {
        let id = self.id(name, v)?;
        Ok(self.live.get_mut(&id).expect("checked by id"))
    }

    /// Frees the object behind `v`; freeing twice is allowed (the second time does nothing).
    pub fn free(&mut self, name: &str, v: &JsValue) -> Result<(), ArgError> {
        match self.id(name, v) {
            Ok(id) => {
                self.live.remove(&id);
                Ok(())
            }
            Err(e) if e.reason.starts_with("was freed") => Ok(()),
            Err(e) => Err(e),
        }
    }

    pub fn len(&self) -> usize {
        self.live.len()
    }
}
