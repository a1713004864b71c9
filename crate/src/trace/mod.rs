//! Step-by-step records for the playground's animations. Every number a scene shows comes
//! from here: which window the kernel covers, the input cells under it (one row of the im2col
//! table), the element-wise products and the sum landing in the output cell; the stamps of a
//! transposed convolution (col2im) and how many of them cover each output cell; the
//! zero-inserted input of its equivalent correlation; the adjoint check; the 1-D
//! cross-correlation over every shift of seed 000; parameter counts of seed 003.
//!
//! The traces work on one channel (the scenes show one image and one kernel) and are written
//! as the plainest loops, so they read as the definition; the tests check them against the
//! GEMM-based kernels in [`crate::conv`].

pub mod correlate;
pub mod dense;
pub mod presets;
pub mod transpose;

use crate::error::{Error, Result};

/// Largest image side a trace accepts: the scenes draw every cell, and a trace stores
/// `steps × taps` numbers, so a bigger image would only make an unreadable animation.
pub const MAX_SIDE: usize = 96;
/// Largest kernel side a trace accepts.
pub const MAX_KERNEL: usize = 11;

/// The geometry of a (transposed) convolution over one 2-D image, as in PyTorch:
/// `padding` is `[top, left, bottom, right]`; `output_padding` is used by the transposed
/// convolution only (rows/columns added at the bottom/right).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    pub stride: [usize; 2],
    pub padding: [usize; 4],
    pub dilation: [usize; 2],
    pub output_padding: [usize; 2],
}

impl Default for Geometry {
    fn default() -> Self {
        Geometry {
            stride: [1, 1],
            padding: [0; 4],
            dilation: [1, 1],
            output_padding: [0, 0],
        }
    }
}

impl Geometry {
    /// Padding before and after along `axis` (0 = rows, 1 = columns).
    pub fn pads(&self, axis: usize) -> (usize, usize) {
        (self.padding[axis], self.padding[axis + 2])
    }

    /// Checks what both directions need: stride and dilation at least 1, padding not absurd.
    fn check_common(&self) -> Result<()> {
        for axis in 0..2 {
            if self.stride[axis] == 0 {
                return Err(Error::param("stride", self.stride, "must be at least 1"));
            }
            if self.dilation[axis] == 0 {
                return Err(Error::param(
                    "dilation",
                    self.dilation,
                    "must be at least 1",
                ));
            }
            if self.stride[axis] > MAX_SIDE || self.dilation[axis] > MAX_SIDE {
                return Err(Error::param(
                    "stride",
                    self.stride,
                    format!("stride and dilation must be at most {MAX_SIDE} here"),
                ));
            }
        }
        if self.padding.iter().any(|&p| p > MAX_SIDE) {
            return Err(Error::param(
                "padding",
                self.padding,
                format!("must be at most {MAX_SIDE} per side here"),
            ));
        }
        Ok(())
    }
}

/// An `h × w` single-channel image: checks the sizes against the data.
pub(crate) fn check_image(what: &str, data: &[f32], h: usize, w: usize, max: usize) -> Result<()> {
    if h == 0 || w == 0 || h > max || w > max {
        return Err(Error::shape(format!(
            "{what} is {h}×{w}; each side must be between 1 and {max}"
        )));
    }
    if data.len() != h * w {
        return Err(Error::shape(format!(
            "{what} has {} values but is {h}×{w} ({} values)",
            data.len(),
            h * w
        )));
    }
    if data.iter().any(|v| !v.is_finite()) {
        return Err(Error::shape(format!(
            "{what} contains a NaN or infinite value"
        )));
    }
    Ok(())
}

/// The terms of the output-size formula along one axis, so a page can print it with the
/// numbers filled in:
/// conv: `out = ⌊(input + pad_begin + pad_end − dilation·(kernel−1) − 1) / stride⌋ + 1`;
/// transposed: `out = stride·(input−1) + output_padding + dilation·(kernel−1) + 1 − pad_begin − pad_end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AxisTerms {
    pub input: usize,
    pub pad_begin: usize,
    pub pad_end: usize,
    pub dilation: usize,
    pub kernel: usize,
    pub stride: usize,
    pub output_padding: usize,
    /// conv: the numerator before the division; transposed: the uncropped extent.
    pub span: usize,
    pub output: usize,
}

impl AxisTerms {
    /// As numbers in the order of the fields (for the JS API).
    pub fn to_vec(self) -> Vec<u32> {
        [
            self.input,
            self.pad_begin,
            self.pad_end,
            self.dilation,
            self.kernel,
            self.stride,
            self.output_padding,
            self.span,
            self.output,
        ]
        .iter()
        .map(|&v| v as u32)
        .collect()
    }
}

/// The kernel turned by 180°: what a true convolution slides, and what the transposed
/// convolution's equivalent correlation uses (seed 002: k̃(x) = k(−x); seed 003: the flip).
pub fn flip_kernel(k: &[f32], kh: usize, kw: usize) -> Vec<f32> {
    let mut out = vec![0.0; kh * kw];
    for a in 0..kh {
        for b in 0..kw {
            out[a * kw + b] = k[(kh - 1 - a) * kw + (kw - 1 - b)];
        }
    }
    out
}

/// ⟨a, b⟩ summed in f64, so the two sides of the adjoint check differ only by f32 rounding
/// of the operators themselves.
pub fn inner(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(&x, &y)| x as f64 * y as f64).sum()
}

/// A small deterministic generator (xorshift32) for the "random" presets and the adjoint
/// check's test function: the same seed gives the same numbers on every machine.
#[derive(Debug, Clone)]
pub struct Rng(u32);

impl Rng {
    pub fn new(seed: u32) -> Self {
        Rng(seed.wrapping_mul(2_654_435_761).max(1))
    }

    /// Uniform in [-1, 1), rounded to 1/8 so the numbers stay readable in a cell.
    pub fn next_eighth(&mut self) -> f32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        ((x >> 8) % 16) as f32 / 8.0 - 1.0
    }
}

/// Sets one control of a [`Geometry`] to a value.
pub(crate) type Setter = fn(&mut Geometry, usize);

/// The controls every scene has, in the order stride h, stride w, padding top, left, bottom,
/// right, dilation h, dilation w: (setter, smallest value, current value).
pub(crate) fn common_controls(g: &Geometry) -> Vec<(Setter, usize, usize)> {
    vec![
        (|g, v| g.stride[0] = v, 1, g.stride[0]),
        (|g, v| g.stride[1] = v, 1, g.stride[1]),
        (|g, v| g.padding[0] = v, 0, g.padding[0]),
        (|g, v| g.padding[1] = v, 0, g.padding[1]),
        (|g, v| g.padding[2] = v, 0, g.padding[2]),
        (|g, v| g.padding[3] = v, 0, g.padding[3]),
        (|g, v| g.dilation[0] = v, 1, g.dilation[0]),
        (|g, v| g.dilation[1] = v, 1, g.dilation[1]),
    ]
}

/// The range `[min, max]` each control can reach with the others held, among `lo..=cap`,
/// found by asking `valid` about every candidate (as ezyang's visualiser does). A control whose
/// every value is invalid gets `[current, current]`.
pub(crate) fn reachable_ranges(
    controls: &[(Setter, usize, usize)],
    g: &Geometry,
    cap: usize,
    valid: impl Fn(&Geometry) -> bool,
) -> Vec<[usize; 2]> {
    controls
        .iter()
        .map(|&(set, lo, current)| {
            let ok: Vec<usize> = (lo..=cap.max(lo))
                .filter(|&v| {
                    let mut t = *g;
                    set(&mut t, v);
                    valid(&t)
                })
                .collect();
            match (ok.first(), ok.last()) {
                (Some(&a), Some(&b)) => [a, b],
                _ => [current, current],
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn flip_turns_the_kernel_by_half_a_turn() {
        let k = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        assert_eq!(flip_kernel(&k, 2, 3), vec![6.0, 5.0, 4.0, 3.0, 2.0, 1.0]);
        assert_eq!(flip_kernel(&flip_kernel(&k, 3, 2), 3, 2), k.to_vec());
    }

    #[test]
    fn rng_is_deterministic_and_in_range() {
        let a: Vec<f32> = {
            let mut r = Rng::new(7);
            (0..100).map(|_| r.next_eighth()).collect()
        };
        let mut r = Rng::new(7);
        for &v in &a {
            assert_eq!(v, r.next_eighth());
            assert!((-1.0..1.0).contains(&v));
        }
        assert!(a.iter().any(|&v| v != a[0]));
    }
}

#[cfg(test)]
mod kernels_tests;
