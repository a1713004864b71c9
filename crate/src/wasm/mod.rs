//! The JavaScript API (wasm-bindgen). This folder is the only place with `#[wasm_bindgen]`;
//! everything it calls is plain Rust tested natively. Errors become JS `Error`s through
//! `JsError` (our [`crate::Error`] implements `std::error::Error`), and no entry point panics
//! on bad input, so the instance keeps working after any number of errors.

mod trace;

use wasm_bindgen::prelude::*;

mod model;
mod ops;

use crate::tensor;

/// A tensor owned by wasm memory. `new Tensor(data, shape)` copies `data` in once.
#[wasm_bindgen(js_name = Tensor)]
pub struct JsTensor {
    pub(crate) inner: tensor::Tensor,
}

#[wasm_bindgen(js_class = Tensor)]
impl JsTensor {
    #[wasm_bindgen(constructor)]
    pub fn new(data: &[f32], shape: Vec<usize>) -> Result<JsTensor, JsError> {
        Ok(JsTensor {
            inner: tensor::Tensor::new(data.to_vec(), &shape)?,
        })
    }

    /// The shape, outermost dimension first.
    #[wasm_bindgen(getter)]
    pub fn shape(&self) -> Vec<usize> {
        self.inner.shape().to_vec()
    }

    /// A copy of the data as a `Float32Array`.
    #[wasm_bindgen(js_name = toArray)]
    pub fn to_array(&self) -> Vec<f32> {
        self.inner.data().to_vec()
    }
}

impl From<tensor::Tensor> for JsTensor {
    fn from(inner: tensor::Tensor) -> Self {
        JsTensor { inner }
    }
}

/// The SIMD level this build was compiled for: `"relaxed"`, `"simd128"` or `"none"`.
#[wasm_bindgen(js_name = simdLevel)]
pub fn simd_level() -> String {
    crate::gemm::simd_level().to_string()
}
