//! A small neural-network library trained with convscope's own GEMM and convolutions: the
//! layers the MNIST models need, a forward pass that keeps every activation, backward, Adam
//! and SGD with momentum, safetensors I/O with PyTorch names, and the training loop.
//!
//! Three architectures, each fixed by name (the name is stored in the weights file):
//! - `slp`: flatten → fc1 784→10 → softmax
//! - `mlp`: flatten → fc1 784→128 → relu → fc2 128→10 → softmax
//! - `cnn`: conv1 1→8 5×5 pad 2 → relu → pool 2 → conv2 8→16 5×5 pad 2 → relu → pool 2 →
//!   flatten → fc1 784→64 → relu → fc2 64→10 → softmax
//!
//! Everything is pure Rust and compiles to wasm.

pub mod explain;
pub mod infer;
pub mod io;
pub mod layers;
pub mod onnx;
pub mod optim;
#[cfg(test)]
mod shipped;
pub mod spec;
pub mod step;
pub mod templates;
pub mod train;
pub mod trainer;

use crate::conv::{Conv2dParams, Pool2dParams};
use crate::error::{Error, Result};
use crate::mnist::PIXELS;
use crate::ops::slice::{self, Dense};
use crate::rng::Rng;
use crate::tensor::Tensor;

pub use optim::{Adam, Optimizer, Sgd};

/// The architectures this library knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    Slp,
    Mlp,
    Cnn,
}

impl Arch {
    pub const ALL: [Arch; 3] = [Arch::Slp, Arch::Mlp, Arch::Cnn];

    pub fn name(self) -> &'static str {
        match self {
            Arch::Slp => "slp",
            Arch::Mlp => "mlp",
            Arch::Cnn => "cnn",
        }
    }

    pub fn from_name(s: &str) -> Result<Arch> {
        Arch::ALL
            .into_iter()
            .find(|a| a.name() == s)
            .ok_or_else(|| Error::param("arch", s, "must be one of cnn, slp, mlp"))
    }

    /// The layer sequence, with zero-filled parameters.
    fn layers(self) -> Vec<Layer> {
        use Layer::*;
        let lin = |name: &str, i: usize, o: usize| Linear {
            name: name.into(),
            weight: Tensor::zeros(&[o, i]).expect("valid shape"),
            bias: Tensor::zeros(&[o]).expect("valid shape"),
        };
        let conv = |name: &str, i: usize, o: usize| Conv2d {
            name: name.into(),
            weight: Tensor::zeros(&[o, i, 5, 5]).expect("valid shape"),
            bias: Tensor::zeros(&[o]).expect("valid shape"),
            params: Conv2dParams::default().pad(2),
        };
        match self {
            Arch::Slp => vec![Flatten, lin("fc1", 784, 10), Softmax],
            Arch::Mlp => vec![
                Flatten,
                lin("fc1", 784, 128),
                Relu,
                lin("fc2", 128, 10),
                Softmax,
            ],
            Arch::Cnn => vec![
                conv("conv1", 1, 8),
                Relu,
                MaxPool2d {
                    params: Pool2dParams::new([2, 2]),
                },
                conv("conv2", 8, 16),
                Relu,
                MaxPool2d {
                    params: Pool2dParams::new([2, 2]),
                },
                Flatten,
                lin("fc1", 784, 64),
                Relu,
                lin("fc2", 64, 10),
                Softmax,
            ],
        }
    }

    /// A human-readable description, stored in the weights file's metadata.
    pub fn describe(self) -> &'static str {
        match self {
            Arch::Slp => "flatten; fc1 784->10; softmax",
            Arch::Mlp => "flatten; fc1 784->128; relu; fc2 128->10; softmax",
            Arch::Cnn => "conv1 1->8 5x5 pad 2; relu; maxpool 2; conv2 8->16 5x5 pad 2; relu; maxpool 2; flatten; fc1 784->64; relu; fc2 64->10; softmax",
        }
    }
}

/// One layer. Parameterised layers carry their PyTorch-style name.
#[derive(Debug, Clone, PartialEq)]
pub enum Layer {
    /// Weight `[out, in, kH, kW]`, bias `[out]`, and the geometry the kernels run it with.
    Conv2d {
        name: String,
        weight: Tensor,
        bias: Tensor,
        params: Conv2dParams,
    },
    MaxPool2d {
        params: Pool2dParams,
    },
    Relu,
    Flatten,
    /// Weight `[out, in]`, bias `[out]`.
    Linear {
        name: String,
        weight: Tensor,
        bias: Tensor,
    },
    Softmax,
}

impl Layer {
    pub fn kind(&self) -> &'static str {
        match self {
            Layer::Conv2d { .. } => "conv2d",
            Layer::MaxPool2d { .. } => "maxpool2d",
            Layer::Relu => "relu",
            Layer::Flatten => "flatten",
            Layer::Linear { .. } => "linear",
            Layer::Softmax => "softmax",
        }
    }

    /// (weight, bias) of a parameterised layer.
    pub fn params(&self) -> Option<(&str, &Tensor, &Tensor)> {
        match self {
            Layer::Conv2d {
                name, weight, bias, ..
            }
            | Layer::Linear { name, weight, bias } => Some((name, weight, bias)),
            _ => None,
        }
    }

    fn params_mut(&mut self) -> Option<(&mut Tensor, &mut Tensor)> {
        match self {
            Layer::Conv2d { weight, bias, .. } | Layer::Linear { weight, bias, .. } => {
                Some((weight, bias))
            }
            _ => None,
        }
    }

    /// Output shape (without the batch dimension) for an input of shape `s`: the conv's and
    /// the pool's from their geometry (`Conv2dParams::conv_output`, `Pool2dParams::output`).
    fn out_shape(&self, s: &[usize]) -> Result<Vec<usize>> {
        Ok(match self {
            Layer::Conv2d { weight, params, .. } => {
                let w = weight.shape();
                let [oh, ow] = params.conv_output([s[1], s[2]], [w[2], w[3]])?.out();
                vec![w[0], oh, ow]
            }
            Layer::MaxPool2d { params } => {
                let [oh, ow] = params.output([s[1], s[2]])?.out();
                vec![s[0], oh, ow]
            }
            Layer::Flatten => vec![s.iter().product()],
            Layer::Linear { weight, .. } => vec![weight.shape()[0]],
            Layer::Relu | Layer::Softmax => s.to_vec(),
        })
    }
}

/// A model: an architecture and its layers. The input is one 28×28 image in 0..1 (`[1, 28, 28]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub arch: Arch,
    pub layers: Vec<Layer>,
    /// Display names, one per layer (`conv1`, `relu1`, `pool1`, …, `softmax`).
    names: Vec<String>,
    /// Shape of each activation without the batch dimension: `shapes[0]` is the input,
    /// `shapes[i + 1]` the output of layer `i`.
    shapes: Vec<Vec<usize>>,
}

/// Every activation of one forward pass: `activations[0]` is the input, `activations[i + 1]`
/// the output of layer `i`; the last is the ten probabilities. Shapes include the batch (1).
#[derive(Debug, Clone)]
pub struct Forward {
    pub activations: Vec<Tensor>,
}

impl Forward {
    pub fn probabilities(&self) -> &[f32] {
        self.activations.last().expect("at least one").data()
    }

    /// The most probable class.
    pub fn top(&self) -> usize {
        argmax(self.probabilities())
    }
}

/// The sizes of a dense layer with weight `[out, in]` over `n` rows.
fn dense(n: usize, weight: &Tensor) -> Dense {
    Dense {
        n,
        inp: weight.shape()[1],
        out: weight.shape()[0],
    }
}

/// Index of the largest value (first on ties; NaN never wins).
pub fn argmax(v: &[f32]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

/// What a batched training forward keeps for backward.
pub struct Trace {
    pub acts: Vec<Tensor>,
    argmax: Vec<Option<Vec<u32>>>,
}

/// Parameter gradients, one (dW, db) per parameterised layer in order.
pub type Grads = Vec<(Tensor, Tensor)>;

impl Model {
    /// A model of `arch` with every parameter zero.
    pub fn zeros(arch: Arch) -> Model {
        let layers = arch.layers();
        let mut names = Vec::new();
        let (mut relus, mut pools) = (0, 0);
        let mut shapes = vec![vec![1, 28, 28]];
        for l in &layers {
            names.push(match l {
                Layer::Conv2d { name, .. } | Layer::Linear { name, .. } => name.clone(),
                Layer::Relu => {
                    relus += 1;
                    format!("relu{relus}")
                }
                Layer::MaxPool2d { .. } => {
                    pools += 1;
                    format!("pool{pools}")
                }
                Layer::Flatten => "flatten".into(),
                Layer::Softmax => "softmax".into(),
            });
            let next = l
                .out_shape(shapes.last().expect("non-empty"))
                .expect("the fixed architectures' shapes fit");
            shapes.push(next);
        }
        Model {
            arch,
            layers,
            names,
            shapes,
        }
    }

    /// A freshly initialised model: He-uniform weights (bound √(6 / fan_in)), zero biases,
    /// reproducible from `seed`.
    pub fn init(arch: Arch, seed: u64) -> Model {
        let mut m = Model::zeros(arch);
        let mut rng = Rng::new(seed);
        for l in &mut m.layers {
            if let Some((w, _)) = l.params_mut() {
                let fan_in: usize = w.shape()[1..].iter().product();
                let bound = (6.0 / fan_in as f32).sqrt();
                for v in w.data_mut() {
                    *v = rng.uniform(-bound, bound);
                }
            }
        }
        m
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Activation shapes without the batch dimension (`[0]` = input).
    pub fn shapes(&self) -> &[Vec<usize>] {
        &self.shapes
    }

    /// Number of parameters.
    pub fn num_params(&self) -> usize {
        self.layers
            .iter()
            .filter_map(|l| l.params())
            .map(|(_, w, b)| w.len() + b.len())
            .sum()
    }

    /// Looks a parameterised layer up by name.
    pub fn layer(&self, name: &str) -> Option<&Layer> {
        self.layers
            .iter()
            .find(|l| l.params().is_some_and(|(n, _, _)| n == name))
    }

    /// One image (784 values, 0..1) through the model, keeping every activation.
    pub fn forward(&self, pixels: &[f32]) -> Result<Forward> {
        check_pixels(pixels)?;
        let x = Tensor::new(pixels.to_vec(), &[1, 1, 28, 28])?;
        Ok(Forward {
            activations: self.forward_batch(x)?.acts,
        })
    }

    /// A batch `[N, 1, 28, 28]` through the model, keeping every activation (and what
    /// backward needs).
    pub fn forward_batch(&self, x: Tensor) -> Result<Trace> {
        let n = x.shape()[0];
        if x.len() != n * PIXELS {
            return Err(Error::shape(format!(
                "model input must be [N, 1, 28, 28], got {:?}",
                x.shape()
            )));
        }
        let mut acts = vec![x];
        let mut argmaxes = Vec::with_capacity(self.layers.len());
        for (i, l) in self.layers.iter().enumerate() {
            let x = acts.last().expect("non-empty");
            let mut shape = vec![n];
            shape.extend_from_slice(&self.shapes[i + 1]);
            let mut am = None;
            let y = match l {
                Layer::Conv2d {
                    weight,
                    bias,
                    params,
                    ..
                } => layers::conv(x, weight, bias, params)?,
                Layer::MaxPool2d { params } => {
                    let (y, a) = layers::max_pool(x, params)?;
                    am = Some(a);
                    y
                }
                Layer::Relu => {
                    let mut y = x.clone();
                    slice::relu(y.data_mut());
                    y
                }
                Layer::Flatten => x.clone().reshape(&shape)?,
                Layer::Linear { weight, bias, .. } => {
                    let mut y = vec![0.0; shape.iter().product()];
                    let d = dense(n, weight);
                    slice::linear(d, x.data(), weight.data(), Some(bias.data()), &mut y)?;
                    Tensor::new(y, &shape)?
                }
                Layer::Softmax => {
                    let mut y = vec![0.0; x.len()];
                    slice::softmax_rows(x.data(), x.len() / n, &mut y);
                    Tensor::new(y, &shape)?
                }
            };
            if y.shape() != &shape[..] {
                return Err(Error::shape(format!(
                    "layer {} produced {:?}, expected {shape:?}",
                    self.names[i],
                    y.shape()
                )));
            }
            acts.push(y);
            argmaxes.push(am);
        }
        Ok(Trace {
            acts,
            argmax: argmaxes,
        })
    }

    /// Backward from the gradient of the loss with respect to the logits (the input of the
    /// final softmax). Returns one (dW, db) per parameterised layer, in order.
    pub fn backward(&self, trace: &Trace, dlogits: Tensor) -> Result<Grads> {
        self.backward_keeping(trace, dlogits, false).map(|(g, _)| g)
    }

    /// [`Model::backward`], also returning, when `keep` is set, the gradient of the loss with
    /// respect to every activation the backward pass reached: `[i]` for `acts[i]` (`None` for
    /// the softmax output and for the input, which needs no gradient).
    pub fn backward_keeping(
        &self,
        trace: &Trace,
        dlogits: Tensor,
        keep: bool,
    ) -> Result<(Grads, Vec<Option<Tensor>>)> {
        let mut kept: Vec<Option<Tensor>> = vec![None; trace.acts.len()];
        let n = trace.acts[0].shape()[0];
        let last = self.layers.len() - 1;
        if !matches!(self.layers[last], Layer::Softmax) {
            return Err(Error::shape("backward expects the model to end in softmax"));
        }
        let mut grads: Vec<Option<(Tensor, Tensor)>> = vec![None; self.layers.len()];
        let mut dy = dlogits;
        for i in (0..last).rev() {
            let x = &trace.acts[i];
            let y = &trace.acts[i + 1];
            let need_dx = i > 0;
            if keep {
                kept[i + 1] = Some(dy.clone());
            }
            dy = match &self.layers[i] {
                Layer::Conv2d { weight, params, .. } => {
                    let (dx, dw, db) = layers::conv_backward(x, weight, &dy, params)?;
                    grads[i] = Some((dw, db));
                    dx
                }
                Layer::MaxPool2d { .. } => {
                    let am = trace.argmax[i].as_ref().expect("pool keeps argmax");
                    layers::max_pool_backward(&dy, am, x.shape())?
                }
                Layer::Relu => {
                    let mut d = dy;
                    slice::relu_backward(y.data(), d.data_mut());
                    d
                }
                Layer::Flatten => dy.reshape(x.shape())?,
                Layer::Linear { weight, bias, .. } => {
                    let mut dw = vec![0.0; weight.len()];
                    let mut db = vec![0.0; bias.len()];
                    let mut dx = if need_dx {
                        vec![0.0; x.len()]
                    } else {
                        Vec::new()
                    };
                    slice::linear_backward(
                        dense(n, weight),
                        x.data(),
                        weight.data(),
                        dy.data(),
                        need_dx.then_some(&mut dx[..]),
                        &mut dw,
                        &mut db,
                    )?;
                    grads[i] = Some((
                        Tensor::new(dw, weight.shape())?,
                        Tensor::new(db, bias.shape())?,
                    ));
                    if need_dx {
                        Tensor::new(dx, x.shape())?
                    } else {
                        dy
                    }
                }
                Layer::Softmax => {
                    return Err(Error::shape("softmax is only supported as the last layer"))
                }
            };
        }
        Ok((grads.into_iter().flatten().collect(), kept))
    }

    /// Mutable (weight, bias) pairs, in order, for the optimisers.
    pub fn params_mut(&mut self) -> Vec<(&mut Tensor, &mut Tensor)> {
        self.layers
            .iter_mut()
            .filter_map(|l| l.params_mut())
            .collect()
    }
}

/// Checks an input image: 784 finite values.
pub fn check_pixels(pixels: &[f32]) -> Result<()> {
    if pixels.len() != PIXELS {
        return Err(Error::shape(format!(
            "pixels must be 784 values (28×28), got {}",
            pixels.len()
        )));
    }
    if let Some(i) = pixels.iter().position(|v| !v.is_finite()) {
        return Err(Error::param(
            "pixels",
            pixels[i],
            format!(
                "pixel {i} (row {}, column {}) is not a finite number",
                i / 28,
                i % 28
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn architectures_have_the_documented_shapes() {
        let m = Model::zeros(Arch::Cnn);
        assert_eq!(
            m.names(),
            [
                "conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "flatten", "fc1", "relu3",
                "fc2", "softmax"
            ]
        );
        assert_eq!(m.shapes()[3], vec![8, 14, 14]);
        assert_eq!(m.shapes()[6], vec![16, 7, 7]);
        assert_eq!(m.shapes()[11], vec![10]);
        assert_eq!(m.num_params(), 208 + 3216 + 50240 + 650);
        assert_eq!(Model::zeros(Arch::Slp).num_params(), 7850);
        assert_eq!(Model::zeros(Arch::Mlp).num_params(), 101_770);
        assert!(Arch::from_name("resnet").is_err());
    }

    #[test]
    fn init_is_reproducible() {
        assert_eq!(Model::init(Arch::Mlp, 3), Model::init(Arch::Mlp, 3));
        assert_ne!(Model::init(Arch::Mlp, 3), Model::init(Arch::Mlp, 4));
    }

    #[test]
    fn forward_validates_pixels() {
        let m = Model::init(Arch::Slp, 1);
        let e = m.forward(&[0.0; 783]).unwrap_err().to_string();
        assert!(e.contains("784") && e.contains("783"), "{e}");
        let mut px = [0.5f32; 784];
        px[30] = f32::NAN;
        let e = m.forward(&px).unwrap_err().to_string();
        assert!(e.contains("pixel 30 (row 1, column 2)"), "{e}");
        let f = m.forward(&[0.5; 784]).unwrap();
        let s: f32 = f.probabilities().iter().sum();
        assert!((s - 1.0).abs() < 1e-5);
    }

    /// Finite-difference check of the gradients (mlp: dense layers; cnn: conv, pool, dense).
    #[test]
    fn mlp_gradients_match_finite_differences() {
        check_gradients(Arch::Mlp, &[(0usize, 5usize), (0, 784 * 7 + 300), (1, 13)]);
    }

    #[test]
    fn cnn_gradients_match_finite_differences() {
        check_gradients(Arch::Cnn, &[(0, 3), (0, 112), (1, 500), (2, 4000), (3, 77)]);
    }

    fn check_gradients(arch: Arch, at: &[(usize, usize)]) {
        let mut m = Model::init(arch, 5);
        let mut rng = Rng::new(9);
        let n = 3;
        let x: Vec<f32> = (0..n * 784).map(|_| rng.unit()).collect();
        let labels = [3u8, 7, 1];
        let loss = |m: &Model| -> (f32, Grads) {
            let t = m
                .forward_batch(Tensor::new(x.clone(), &[n, 1, 28, 28]).unwrap())
                .unwrap();
            let p = t.acts.last().unwrap();
            let mut d = vec![0.0; n * 10];
            let l = layers::cross_entropy(p.data(), &labels, 10, &mut d);
            let g = m.backward(&t, Tensor::new(d, &[n, 10]).unwrap()).unwrap();
            (l, g)
        };
        let (_, g) = loss(&m);
        for &(layer, idx) in at {
            let analytic = g[layer].0.data()[idx];
            let h = 1e-2;
            let mut ps = m.params_mut();
            ps[layer].0.data_mut()[idx] += h;
            let (lp, _) = loss(&m);
            let mut ps = m.params_mut();
            ps[layer].0.data_mut()[idx] -= 2.0 * h;
            let (lm, _) = loss(&m);
            let mut ps = m.params_mut();
            ps[layer].0.data_mut()[idx] += h;
            let numeric = (lp - lm) / (2.0 * h);
            assert!(
                (numeric - analytic).abs() < 2e-3 + 0.05 * analytic.abs(),
                "layer {layer} idx {idx}: numeric {numeric} analytic {analytic}"
            );
        }
    }
}
