//! # convscope
//!
//! Convolution layers you can watch: the kernels (GEMM, conv2d, transposed conv2d), a small
//! model library trained with them, step-by-step traces for the playground's animations, and
//! one JavaScript API over all of it.
//!
//! Layouts, everywhere: tensors are dense and row-major; activations are NCHW
//! (batch, channels, height, width); conv weights are OIHW (`[C_out, C_in/groups, kH, kW]`);
//! transposed-conv weights are `[C_in, C_out/groups, kH, kW]`, as in PyTorch.
//!
//! Dependencies point one way: `wasm` → `nn` / `trace` → `conv` → `gemm`.

#[cfg(feature = "bench")]
mod bench;
pub mod conv;
pub mod error;
pub mod gemm;
pub mod mnist;
pub mod nn;
pub mod ops;
pub mod reference;
pub mod rng;
pub mod tensor;
pub mod trace;
pub mod typed;
pub mod wasm;

pub use error::{Error, Result};
pub use tensor::Tensor;

#[cfg(all(test, target_arch = "wasm32"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
