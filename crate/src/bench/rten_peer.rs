//! rten (the closest Rust peer, 0.27) compiled into the bench build: its own `matmul`, `conv`
//! and `conv_transpose` operators called directly on its tensors (no model file), single
//! threaded as everything in this wasm is. Each function takes and returns plain row-major /
//! NCHW slices, so the tests can check that rten computes what our ops compute before the
//! benchmark times it.

use rten::ops::{self, Padding};
use rten::BufferPool;
use rten_tensor::prelude::*;
use rten_tensor::{NdTensor, Tensor as RTensor};

fn err(e: impl std::fmt::Display) -> String {
    format!("rten: {e}")
}

/// The operands of one rten call, made once (outside the timed loop).
pub struct Inputs {
    pool: BufferPool,
    a: RTensor<f32>,
    b: RTensor<f32>,
    bias: Option<NdTensor<f32, 1>>,
    stride: usize,
    pad: usize,
}

impl Inputs {
    /// `C (m×n) = A (m×k) · B (k×n)`.
    pub fn gemm(m: usize, k: usize, n: usize, a: &[f32], b: &[f32]) -> Inputs {
        Inputs {
            pool: BufferPool::new(),
            a: RTensor::from_data(&[m, k], a.to_vec()),
            b: RTensor::from_data(&[k, n], b.to_vec()),
            bias: None,
            stride: 1,
            pad: 0,
        }
    }

    /// A conv (or transposed conv) of x `xs` (NCHW) with weight `ws` and a bias; square stride
    /// and padding on every side.
    pub fn conv(
        x: &[f32],
        xs: [usize; 4],
        w: &[f32],
        ws: [usize; 4],
        bias: &[f32],
        stride: usize,
        pad: usize,
    ) -> Inputs {
        Inputs {
            pool: BufferPool::new(),
            a: RTensor::from_data(&xs, x.to_vec()),
            b: RTensor::from_data(&ws, w.to_vec()),
            bias: Some(NdTensor::from_data([bias.len()], bias.to_vec())),
            stride,
            pad,
        }
    }

    pub fn matmul(&self) -> Result<Vec<f32>, String> {
        let c: RTensor<f32> =
            ops::matmul(&self.pool, self.a.view(), self.b.view(), None).map_err(err)?;
        Ok(c.to_vec())
    }

    pub fn conv2d(&self) -> Result<Vec<f32>, String> {
        let y: RTensor<f32> = ops::conv(
            &self.pool,
            self.a.view(),
            self.b.view(),
            self.bias.as_ref().map(|b| b.view()),
            Padding::Fixed([self.pad; 4].into()),
            1,
            &[self.stride; 2],
            &[1, 1],
        )
        .map_err(err)?;
        Ok(y.to_vec())
    }

    pub fn conv_transpose2d(&self) -> Result<Vec<f32>, String> {
        let y = ops::conv_transpose(
            &self.pool,
            self.a.view(),
            self.b.view(),
            self.bias.as_ref().map(|b| b.view()),
            Padding::Fixed([self.pad; 4].into()),
            1,
            &[self.stride; 2],
            &[1, 1],
            None,
        )
        .map_err(err)?;
        Ok(y.to_vec())
    }
}
