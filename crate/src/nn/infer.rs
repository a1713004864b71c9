//! One digit at a time, fast: every layer prepared once (conv weights laid out by
//! [`PreparedConv2d`], dense weights packed into [`PackedB`] panels), every activation in a
//! buffer allocated once. [`Inference::run`] allocates nothing (for the shipped pools).

use super::{check_pixels, Layer, Model};
use crate::conv::{max_pool2d, Pool2dParams, PreparedConv2d};
use crate::error::Result;
use crate::gemm::PackedB;
use crate::ops::slice;
use crate::tensor::Tensor;

enum Step {
    Conv(Box<PreparedConv2d>),
    /// `size × size` window, stride `size`, over `[c, h, w]`.
    Pool {
        c: usize,
        h: usize,
        w: usize,
        size: usize,
    },
    /// Any other pool geometry, through `conv::max_pool2d`.
    PoolGeneral {
        params: Pool2dParams,
        shape: [usize; 3],
    },
    Relu,
    Copy,
    Linear {
        packed: PackedB,
        bias: Vec<f32>,
    },
    Softmax,
}

/// A model prepared for single-image inference, with its activations.
pub struct Inference {
    steps: Vec<Step>,
    /// `acts[0]` is the input, `acts[i + 1]` the output of layer `i`.
    acts: Vec<Vec<f32>>,
    shapes: Vec<Vec<usize>>,
}

impl Inference {
    pub fn new(model: &Model) -> Result<Inference> {
        let shapes = model.shapes().to_vec();
        let mut steps = Vec::with_capacity(model.layers.len());
        for (i, l) in model.layers.iter().enumerate() {
            let s = &shapes[i];
            steps.push(match l {
                Layer::Conv2d {
                    weight,
                    bias,
                    params,
                    ..
                } => Step::Conv(Box::new(PreparedConv2d::new(
                    weight,
                    Some(bias),
                    params,
                    [s[0], s[1], s[2]],
                )?)),
                Layer::MaxPool2d { params } => {
                    let k = params.kernel[0];
                    let plain = *params == Pool2dParams::new([k, k]);
                    if plain {
                        Step::Pool {
                            c: s[0],
                            h: s[1],
                            w: s[2],
                            size: k,
                        }
                    } else {
                        Step::PoolGeneral {
                            params: *params,
                            shape: [s[0], s[1], s[2]],
                        }
                    }
                }
                Layer::Relu => Step::Relu,
                Layer::Flatten => Step::Copy,
                Layer::Linear { weight, bias, .. } => {
                    let (out, inp) = (weight.shape()[0], weight.shape()[1]);
                    Step::Linear {
                        // B = Wᵀ (in × out), read from W [out, in] through strides.
                        packed: PackedB::new(inp, out, weight.data(), 1, inp as isize)?,
                        bias: bias.data().to_vec(),
                    }
                }
                Layer::Softmax => Step::Softmax,
            });
        }
        let acts = shapes
            .iter()
            .map(|s| vec![0.0f32; s.iter().product()])
            .collect();
        Ok(Inference {
            steps,
            acts,
            shapes,
        })
    }

    /// Runs one image (784 finite values) through every layer.
    pub fn run(&mut self, pixels: &[f32]) -> Result<()> {
        check_pixels(pixels)?;
        self.acts[0].copy_from_slice(pixels);
        for i in 0..self.steps.len() {
            self.step(i)?;
        }
        Ok(())
    }

    /// [`Inference::run`] with `clock()` read around every layer: `times[i]` receives the
    /// time layer `i` took (in the clock's unit; benchmarks only). `times` holds one entry per
    /// layer (extra entries are left alone).
    pub fn run_timed(
        &mut self,
        pixels: &[f32],
        mut clock: impl FnMut() -> f64,
        times: &mut [f64],
    ) -> Result<()> {
        check_pixels(pixels)?;
        self.acts[0].copy_from_slice(pixels);
        for i in 0..self.steps.len() {
            let t = clock();
            self.step(i)?;
            if let Some(slot) = times.get_mut(i) {
                *slot = clock() - t;
            }
        }
        Ok(())
    }

    /// Number of layers (activations − 1).
    pub fn num_layers(&self) -> usize {
        self.steps.len()
    }

    /// Layer `i`: `acts[i]` → `acts[i + 1]`.
    fn step(&mut self, i: usize) -> Result<()> {
        let (before, after) = self.acts.split_at_mut(i + 1);
        let (x, y) = (&before[i][..], &mut after[0][..]);
        match &mut self.steps[i] {
            Step::Conv(c) => c.forward_into(x, y)?,
            Step::Pool { c, h, w, size } => max_pool_into(x, *c, *h, *w, *size, y),
            Step::PoolGeneral { params, shape } => {
                let (p, _) = max_pool2d(&Tensor::new(x.to_vec(), shape)?, params)?;
                y.copy_from_slice(p.data());
            }
            Step::Relu => slice::relu_into(x, y),
            Step::Copy => y.copy_from_slice(x),
            Step::Linear { packed, bias } => slice::linear_packed(x, packed, bias, y)?,
            Step::Softmax => slice::softmax_rows(x, x.len(), y),
        }
        Ok(())
    }

    pub fn num_activations(&self) -> usize {
        self.acts.len()
    }

    /// Activation `i` (0 = input, `i` = output of layer `i − 1`), or None past the end.
    pub fn activation(&self, i: usize) -> Option<&[f32]> {
        self.acts.get(i).map(|a| &a[..])
    }

    pub fn shape(&self, i: usize) -> Option<&[usize]> {
        self.shapes.get(i).map(|s| &s[..])
    }

    pub fn probabilities(&self) -> &[f32] {
        self.acts.last().expect("non-empty")
    }
}

/// Max pooling of one `[c, h, w]` image with a `size × size` window and stride (floor mode),
/// written into `y` without allocating. (The library's [`crate::conv::max_pool2d`] also records
/// the argmax for backward, which inference does not need.)
fn max_pool_into(x: &[f32], c: usize, h: usize, w: usize, size: usize, y: &mut [f32]) {
    let (oh, ow) = (h / size, w / size);
    // NaN wins, as in the library's pool.
    let max = |a: f32, b: f32| if b > a || b.is_nan() { b } else { a };
    if size == 2 {
        for (img, out) in x
            .chunks_exact(h * w)
            .zip(y.chunks_exact_mut(oh * ow))
            .take(c)
        {
            for (oy, orow) in out.chunks_exact_mut(ow).enumerate() {
                let r0 = &img[2 * oy * w..][..2 * ow];
                let r1 = &img[(2 * oy + 1) * w..][..2 * ow];
                for ((o, a), b) in orow
                    .iter_mut()
                    .zip(r0.chunks_exact(2))
                    .zip(r1.chunks_exact(2))
                {
                    *o = max(max(a[0], a[1]), max(b[0], b[1]));
                }
            }
        }
        return;
    }
    for ch in 0..c {
        let img = &x[ch * h * w..(ch + 1) * h * w];
        let out = &mut y[ch * oh * ow..(ch + 1) * oh * ow];
        for oy in 0..oh {
            for ox in 0..ow {
                let mut m = f32::NEG_INFINITY;
                for ky in 0..size {
                    let row = &img[(oy * size + ky) * w + ox * size..][..size];
                    for &v in row {
                        m = max(m, v);
                    }
                }
                out[oy * ow + ox] = m;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Arch, Model};
    use super::*;
    use crate::rng::Rng;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn matches_the_batched_forward() {
        let mut rng = Rng::new(2);
        for arch in Arch::ALL {
            let m = Model::init(arch, 3);
            let mut inf = Inference::new(&m).unwrap();
            for _ in 0..3 {
                let px: Vec<f32> = (0..784).map(|_| rng.unit()).collect();
                let f = m.forward(&px).unwrap();
                inf.run(&px).unwrap();
                assert_eq!(inf.num_activations(), f.activations.len());
                for (i, a) in f.activations.iter().enumerate() {
                    assert_eq!(&a.shape()[1..], inf.shape(i).unwrap());
                    for (p, q) in a.data().iter().zip(inf.activation(i).unwrap()) {
                        assert!(
                            (p - q).abs() <= 1e-4 * (1.0 + p.abs()),
                            "{arch:?} act {i}: {p} vs {q}"
                        );
                    }
                }
            }
            assert!(inf.run(&[0.0; 10]).is_err());
        }
    }
}
