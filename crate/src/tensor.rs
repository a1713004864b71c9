//! A dense, row-major f32 tensor: a shape and its data. No maths lives here.

use crate::error::{Error, Result};

/// Largest number of elements one tensor may hold (256 MiB of f32). Anything bigger is almost
/// surely a mistaken shape, and asking wasm for it would abort the instance instead of failing.
pub const MAX_ELEMENTS: usize = 1 << 26;

/// Largest rank accepted.
pub const MAX_RANK: usize = 8;

#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    shape: Vec<usize>,
    data: Vec<f32>,
}

/// Checks that a shape is non-empty, has no zero dimension and is not absurdly large, and
/// returns its element count.
pub fn checked_numel(shape: &[usize]) -> Result<usize> {
    if shape.is_empty() || shape.len() > MAX_RANK {
        return Err(Error::shape(format!(
            "shape {shape:?} has rank {}; expected 1 to {MAX_RANK} dimensions",
            shape.len()
        )));
    }
    let mut n: usize = 1;
    for &d in shape {
        if d == 0 {
            return Err(Error::shape(format!(
                "shape {shape:?} has a zero dimension"
            )));
        }
        n = n
            .checked_mul(d)
            .filter(|&n| n <= MAX_ELEMENTS)
            .ok_or_else(|| {
                Error::shape(format!(
                    "shape {shape:?} is too large (more than {MAX_ELEMENTS} elements)"
                ))
            })?;
    }
    Ok(n)
}

impl Tensor {
    /// Wraps `data` with `shape`; the data length must equal the product of the shape.
    pub fn new(data: Vec<f32>, shape: &[usize]) -> Result<Self> {
        let n = checked_numel(shape)?;
        if data.len() != n {
            return Err(Error::shape(format!(
                "data length {} does not match shape {shape:?} (product {n})",
                data.len()
            )));
        }
        Ok(Tensor {
            shape: shape.to_vec(),
            data,
        })
    }

    /// A tensor filled with `value`.
    pub fn full(shape: &[usize], value: f32) -> Result<Self> {
        let n = checked_numel(shape)?;
        Ok(Tensor {
            shape: shape.to_vec(),
            data: vec![value; n],
        })
    }

    pub fn zeros(shape: &[usize]) -> Result<Self> {
        Self::full(shape, 0.0)
    }

    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    pub fn data(&self) -> &[f32] {
        &self.data
    }

    pub fn data_mut(&mut self) -> &mut [f32] {
        &mut self.data
    }

    pub fn into_data(self) -> Vec<f32> {
        self.data
    }

    pub fn len(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Same data, new shape with the same element count.
    pub fn reshape(self, shape: &[usize]) -> Result<Self> {
        Tensor::new(self.data, shape)
    }

    /// The shape as exactly four dimensions (NCHW or OIHW), or an error naming `what`.
    pub fn dims4(&self, what: &str) -> Result<[usize; 4]> {
        match self.shape[..] {
            [a, b, c, d] => Ok([a, b, c, d]),
            _ => Err(Error::shape(format!(
                "{what} must have 4 dimensions, got shape {:?}",
                self.shape
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn rejects_bad_shapes() {
        assert!(Tensor::new(vec![0.0; 6], &[2, 3]).is_ok());
        let e = Tensor::new(vec![0.0; 5], &[2, 3]).unwrap_err();
        assert!(e.to_string().contains("data length 5"), "{e}");
        assert!(Tensor::new(vec![], &[]).is_err());
        assert!(Tensor::new(vec![], &[0, 3]).is_err());
        let e = Tensor::zeros(&[1 << 20, 1 << 20]).unwrap_err();
        assert!(e.to_string().contains("too large"), "{e}");
        let e = Tensor::zeros(&[usize::MAX, 2]).unwrap_err();
        assert!(e.to_string().contains("too large"), "{e}");
    }
}
