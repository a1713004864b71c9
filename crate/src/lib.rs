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
//! Dependencies point one way: `wasm` → `nn` / `trace` → `conv` → `gemm` → `threadpool` (the
//! threaded wasm build's fork-join pool; elsewhere one thread).
//!
//! ## From Rust, on ndarray arrays
//!
#![cfg_attr(
    feature = "ndarray",
    doc = "With the cargo feature `ndarray`, [`nd`] runs the kernels on `ndarray` views of any strides"
)]
#![cfg_attr(
    not(feature = "ndarray"),
    doc = "With the cargo feature `ndarray`, `nd` runs the kernels on `ndarray` views of any strides"
)]
//! (`convscope = { version = "0.1", features = ["ndarray"] }`):
//!
#![cfg_attr(feature = "ndarray", doc = "```")]
#![cfg_attr(not(feature = "ndarray"), doc = "```ignore")]
//! use convscope::conv::Conv2dParams;
//! use ndarray::{s, Array4};
//!
//! // A batch of two 3×8×8 images, read every other row and column: a strided view.
//! let x = Array4::from_shape_fn((2, 3, 16, 16), |(n, c, i, j)| (n + c + i * j) as f32 / 100.0);
//! let x = x.slice(s![.., .., ..;2, ..;2]);
//! // Four 3×3 filters, padded to keep the size.
//! let w = Array4::from_elem((4, 3, 3, 3), 0.1f32);
//! let y = convscope::nd::conv2d(x, w.view(), None, &Conv2dParams::default().pad(1))?;
//! assert_eq!(y.shape(), [2, 4, 8, 8]);
//!
//! // Its transposed conv maps the output back to the input's size.
//! let back = convscope::nd::conv_transpose2d(y.view(), w.view(), None, &Conv2dParams::default().pad(1))?;
//! assert_eq!(back.shape(), [2, 3, 8, 8]);
//! # Ok::<(), convscope::Error>(())
//! ```

// The threaded wasm build (nightly, wasm atomics) sleeps its pool's workers on
// `memory.atomic.wait32`, still unstable in core::arch.
#![cfg_attr(
    all(target_arch = "wasm32", target_feature = "atomics"),
    feature(stdarch_wasm_atomic_wait)
)]

#[cfg(feature = "bench")]
mod bench;
pub mod conv;
pub mod error;
pub mod gemm;
pub mod mnist;
#[cfg(feature = "ndarray")]
pub mod nd;
pub mod nn;
pub mod ops;
pub mod reference;
pub mod rng;
pub mod tensor;
pub mod threadpool;
pub mod trace;
pub mod typed;
pub mod wasm;

pub use error::{Error, Result};
pub use tensor::Tensor;

#[cfg(all(test, target_arch = "wasm32"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
