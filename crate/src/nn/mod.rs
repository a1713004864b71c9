//! A small neural-network library trained with convscope's own GEMM and convolutions: a
//! general model (a sequence of layers plus residual adds, described by a [`spec::Spec`]), a
//! forward pass that keeps every activation, backward, Adam and SGD with momentum, safetensors
//! and ONNX I/O with PyTorch names, and the training loop.
//!
//! Three shipped models are [`Preset`]s of it (their spec is fixed; nothing else about them is
//! special):
//! - `slp`: flatten → fc1 784→10 → softmax
//! - `mlp`: flatten → fc1 784→128 → relu → fc2 128→10 → softmax
//! - `cnn`: conv1 1→8 5×5 pad 2 → relu → pool 2 → conv2 8→16 5×5 pad 2 → relu → pool 2 →
//!   flatten → fc1 784→64 → relu → fc2 64→10 → softmax
//!
//! Everything is pure Rust and compiles to wasm.

pub mod explain;
pub mod history;
pub mod infer;
pub mod io;
pub mod layers;
pub mod look;
pub mod onnx;
pub mod optim;
#[cfg(test)]
mod reference;
#[cfg(test)]
mod shipped;
pub mod spec;
pub mod step;
pub mod templates;
pub mod train;
pub mod trainer;

use crate::conv::{Conv2dParams, Pool2dParams};
use crate::error::{Error, Result};
use crate::ops::slice::{self, Dense};
use crate::rng::Rng;
use crate::tensor::{checked_numel, Tensor};
use spec::{LayerSpec, Pad4, Size2, Spec};

pub use optim::{Adam, Optimizer, Sgd};

/// The shipped models' architectures, by name. A preset only names a [`Spec`] (and the page's
/// training defaults for it); the model code never asks which preset it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    Slp,
    Mlp,
    Cnn,
}

impl Preset {
    pub const ALL: [Preset; 3] = [Preset::Slp, Preset::Mlp, Preset::Cnn];

    pub fn name(self) -> &'static str {
        match self {
            Preset::Slp => "slp",
            Preset::Mlp => "mlp",
            Preset::Cnn => "cnn",
        }
    }

    pub fn from_name(s: &str) -> Result<Preset> {
        Preset::ALL
            .into_iter()
            .find(|a| a.name() == s)
            .ok_or_else(|| Error::param("model", s, "must be one of cnn, slp, mlp (or a spec)"))
    }

    /// The architecture.
    pub fn spec(self) -> Spec {
        let lin = |name: &str, o: usize| LayerSpec::Linear {
            name: Some(name.into()),
            out_features: o,
            bias: true,
        };
        let conv = |name: &str, o: usize| LayerSpec::Conv2d {
            name: Some(name.into()),
            out_channels: o,
            kernel_size: Size2([5, 5]),
            stride: Size2([1, 1]),
            padding: Pad4([2; 4]),
            dilation: Size2([1, 1]),
            groups: 1,
            bias: true,
        };
        let pool = || LayerSpec::MaxPool2d {
            kernel_size: Size2([2, 2]),
            stride: Some(Size2([2, 2])),
            padding: Pad4([0; 4]),
            dilation: Size2([1, 1]),
            ceil_mode: false,
        };
        use LayerSpec::{Flatten, Relu, Softmax};
        let layers = match self {
            Preset::Slp => vec![Flatten, lin("fc1", 10), Softmax],
            Preset::Mlp => vec![Flatten, lin("fc1", 128), Relu, lin("fc2", 10), Softmax],
            Preset::Cnn => vec![
                conv("conv1", 8),
                Relu,
                pool(),
                conv("conv2", 16),
                Relu,
                pool(),
                Flatten,
                lin("fc1", 64),
                Relu,
                lin("fc2", 10),
                Softmax,
            ],
        };
        Spec {
            input: [1, 28, 28],
            layers,
        }
    }

    /// The preset whose architecture `spec` is, if any (names included).
    pub fn of_spec(spec: &Spec) -> Option<Preset> {
        Preset::ALL.into_iter().find(|p| p.spec() == *spec)
    }

    /// A model of this preset with every parameter zero.
    pub fn zeros(self) -> Model {
        Model::new(&self.spec()).expect("the presets build")
    }

    /// A freshly initialised model of this preset ([`Model::init`]).
    pub fn init(self, seed: u64) -> Model {
        Model::init(&self.spec(), seed).expect("the presets build")
    }
}

/// One layer with its tensors. Parameterised layers carry their PyTorch `state_dict` prefix.
/// A layer without a bias (`bias: false`) keeps a zero bias that training leaves at zero.
#[derive(Debug, Clone, PartialEq)]
pub enum Layer {
    /// Weight `[out, in/groups, kH, kW]`, bias `[out]`, and the geometry the kernels run it with.
    Conv2d {
        name: String,
        weight: Tensor,
        bias: Tensor,
        params: Conv2dParams,
        has_bias: bool,
    },
    /// Weight `[in, out/groups, kH, kW]` (PyTorch's layout), bias `[out]`.
    ConvTranspose2d {
        name: String,
        weight: Tensor,
        bias: Tensor,
        params: Conv2dParams,
        has_bias: bool,
    },
    MaxPool2d {
        params: Pool2dParams,
    },
    AvgPool2d {
        params: Pool2dParams,
        count_include_pad: bool,
    },
    GlobalAvgPool,
    Relu,
    LeakyRelu {
        slope: f32,
    },
    Sigmoid,
    Tanh,
    Flatten,
    /// Weight `[out, in]`, bias `[out]`.
    Linear {
        name: String,
        weight: Tensor,
        bias: Tensor,
        has_bias: bool,
    },
    /// Evaluation-mode batch norm: `weight`/`bias` are γ/β (trained), `mean`/`var` the running
    /// statistics (fixed).
    BatchNorm2d {
        name: String,
        weight: Tensor,
        bias: Tensor,
        mean: Tensor,
        var: Tensor,
        eps: f32,
    },
    Softmax,
    LogSoftmax,
    /// Adds activation `from` to the layer's input.
    Add {
        from: usize,
    },
}

impl Layer {
    pub fn kind(&self) -> &'static str {
        self.spec().kind()
    }

    /// The layer's description in a [`Spec`] (its name included).
    pub fn spec(&self) -> LayerSpec {
        let size = |a: [usize; 2]| Size2(a);
        match self {
            Layer::Conv2d {
                name,
                weight,
                params: p,
                has_bias,
                ..
            } => LayerSpec::Conv2d {
                name: Some(name.clone()),
                out_channels: weight.shape()[0],
                kernel_size: size([weight.shape()[2], weight.shape()[3]]),
                stride: size(p.stride),
                padding: Pad4(p.padding),
                dilation: size(p.dilation),
                groups: p.groups,
                bias: *has_bias,
            },
            Layer::ConvTranspose2d {
                name,
                weight,
                params: p,
                has_bias,
                ..
            } => LayerSpec::ConvTranspose2d {
                name: Some(name.clone()),
                out_channels: weight.shape()[1] * p.groups,
                kernel_size: size([weight.shape()[2], weight.shape()[3]]),
                stride: size(p.stride),
                padding: Pad4(p.padding),
                output_padding: size(p.output_padding),
                dilation: size(p.dilation),
                groups: p.groups,
                bias: *has_bias,
            },
            Layer::MaxPool2d { params: p } => LayerSpec::MaxPool2d {
                kernel_size: size(p.kernel),
                stride: Some(size(p.stride)),
                padding: Pad4(p.padding),
                dilation: size(p.dilation),
                ceil_mode: p.ceil_mode,
            },
            Layer::AvgPool2d {
                params: p,
                count_include_pad,
            } => LayerSpec::AvgPool2d {
                kernel_size: size(p.kernel),
                stride: Some(size(p.stride)),
                padding: Pad4(p.padding),
                ceil_mode: p.ceil_mode,
                count_include_pad: *count_include_pad,
            },
            Layer::GlobalAvgPool => LayerSpec::GlobalAvgPool,
            Layer::Relu => LayerSpec::Relu,
            Layer::LeakyRelu { slope } => LayerSpec::LeakyRelu {
                negative_slope: *slope,
            },
            Layer::Sigmoid => LayerSpec::Sigmoid,
            Layer::Tanh => LayerSpec::Tanh,
            Layer::Flatten => LayerSpec::Flatten,
            Layer::Linear {
                name,
                weight,
                has_bias,
                ..
            } => LayerSpec::Linear {
                name: Some(name.clone()),
                out_features: weight.shape()[0],
                bias: *has_bias,
            },
            Layer::BatchNorm2d { name, eps, .. } => LayerSpec::BatchNorm2d {
                name: Some(name.clone()),
                eps: *eps,
            },
            Layer::Softmax => LayerSpec::Softmax,
            Layer::LogSoftmax => LayerSpec::LogSoftmax,
            Layer::Add { from } => LayerSpec::Add { from: *from },
        }
    }

    /// (name, weight, bias) of a parameterised layer (batch norm: γ, β).
    pub fn params(&self) -> Option<(&str, &Tensor, &Tensor)> {
        match self {
            Layer::Conv2d {
                name, weight, bias, ..
            }
            | Layer::ConvTranspose2d {
                name, weight, bias, ..
            }
            | Layer::Linear {
                name, weight, bias, ..
            }
            | Layer::BatchNorm2d {
                name, weight, bias, ..
            } => Some((name, weight, bias)),
            _ => None,
        }
    }

    fn params_mut(&mut self) -> Option<(&mut Tensor, &mut Tensor)> {
        match self {
            Layer::Conv2d { weight, bias, .. }
            | Layer::ConvTranspose2d { weight, bias, .. }
            | Layer::Linear { weight, bias, .. }
            | Layer::BatchNorm2d { weight, bias, .. } => Some((weight, bias)),
            _ => None,
        }
    }

    /// Whether the layer's bias is part of the model (false for `bias: false`).
    pub fn has_bias(&self) -> bool {
        match self {
            Layer::Conv2d { has_bias, .. }
            | Layer::ConvTranspose2d { has_bias, .. }
            | Layer::Linear { has_bias, .. } => *has_bias,
            _ => self.params().is_some(),
        }
    }

    /// Every tensor of the layer under its `state_dict` name (`conv1.weight`, …; a bias only
    /// when the layer has one; batch norm's running statistics too).
    pub fn named_tensors(&self) -> Vec<(String, &Tensor)> {
        let Some((name, w, b)) = self.params() else {
            return Vec::new();
        };
        let mut v = vec![(format!("{name}.weight"), w)];
        if self.has_bias() {
            v.push((format!("{name}.bias"), b));
        }
        if let Layer::BatchNorm2d { mean, var, .. } = self {
            v.push((format!("{name}.running_mean"), mean));
            v.push((format!("{name}.running_var"), var));
        }
        v
    }

    fn named_tensors_mut(&mut self) -> Vec<(String, &mut Tensor)> {
        let has_bias = self.has_bias();
        match self {
            Layer::Conv2d {
                name, weight, bias, ..
            }
            | Layer::ConvTranspose2d {
                name, weight, bias, ..
            }
            | Layer::Linear {
                name, weight, bias, ..
            } => {
                let mut v = vec![(format!("{name}.weight"), weight)];
                if has_bias {
                    v.push((format!("{name}.bias"), bias));
                }
                v
            }
            Layer::BatchNorm2d {
                name,
                weight,
                bias,
                mean,
                var,
                ..
            } => vec![
                (format!("{name}.weight"), weight),
                (format!("{name}.bias"), bias),
                (format!("{name}.running_mean"), mean),
                (format!("{name}.running_var"), var),
            ],
            _ => Vec::new(),
        }
    }
}

/// A model: its input shape and layers. One input is `[C, H, W]` (the page draws grey or RGB
/// images of 8 to 64 cells a side).
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub layers: Vec<Layer>,
    input: [usize; 3],
    /// Display names, one per layer (`conv1`, `relu1`, `pool1`, …, `softmax`).
    names: Vec<String>,
    /// Shape of each activation without the batch dimension: `shapes[0]` is the input,
    /// `shapes[i + 1]` the output of layer `i`.
    shapes: Vec<Vec<usize>>,
}

/// Every activation of one forward pass: `activations[0]` is the input, `activations[i + 1]`
/// the output of layer `i`. Shapes include the batch (1).
#[derive(Debug, Clone)]
pub struct Forward {
    pub activations: Vec<Tensor>,
    /// The class probabilities (the softmax of the logits); empty when the model's output is
    /// not a vector.
    pub probabilities: Vec<f32>,
}

impl Forward {
    pub fn probabilities(&self) -> &[f32] {
        &self.probabilities
    }

    /// The model's output (batch 1): the last activation.
    pub fn output(&self) -> &[f32] {
        self.activations.last().expect("at least one").data()
    }

    /// The most probable class (the largest output when there are no probabilities).
    pub fn top(&self) -> usize {
        if self.probabilities.is_empty() {
            argmax(self.output())
        } else {
            argmax(&self.probabilities)
        }
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
    // NaN never wins (a comparison with it is false both ways); 0 when every value is NaN.
    let mut best: Option<usize> = None;
    for (i, &x) in v.iter().enumerate() {
        if !x.is_nan() && best.is_none_or(|b| x > v[b]) {
            best = Some(i);
        }
    }
    best.unwrap_or(0)
}

/// What a batched training forward keeps for backward.
pub struct Trace {
    pub acts: Vec<Tensor>,
    argmax: Vec<Option<Vec<u32>>>,
}

/// Parameter gradients, one (dW, db) per parameterised layer in order.
pub type Grads = Vec<(Tensor, Tensor)>;

/// A layer's place in a spec, for error messages: `layers[3] (linear fc1)`.
fn at(i: usize, l: &LayerSpec, name: &str) -> String {
    if name.is_empty() {
        format!("layers[{i}] ({})", l.kind())
    } else {
        format!("layers[{i}] ({} {name})", l.kind())
    }
}

fn spec_err(i: usize, l: &LayerSpec, name: &str, why: impl std::fmt::Display) -> Error {
    Error::param("spec", at(i, l, name), why.to_string())
}

/// The output shape of layer `l` (number `i`) on an input of shape `s`, and the shapes of its
/// tensors (weight, bias, …), or an error that says what does not fit.
fn plan_layer(
    i: usize,
    l: &LayerSpec,
    name: &str,
    s: &[usize],
    shapes: &[Vec<usize>],
) -> Result<(Vec<usize>, Vec<Vec<usize>>)> {
    let err = |why: String| spec_err(i, l, name, why);
    let image = |what: &str| -> Result<[usize; 3]> {
        match *s {
            [c, h, w] => Ok([c, h, w]),
            _ => Err(err(format!(
                "{what} takes a [channels, height, width] image, got {s:?}{}",
                if s.len() == 1 {
                    " (a vector: it comes after a flatten or a linear layer)"
                } else {
                    ""
                }
            ))),
        }
    };
    let positive = |what: &str, v: usize| -> Result<()> {
        if v == 0 {
            Err(err(format!("{what} must be at least 1")))
        } else {
            Ok(())
        }
    };
    Ok(match l {
        LayerSpec::Conv2d {
            out_channels,
            kernel_size,
            groups,
            ..
        }
        | LayerSpec::ConvTranspose2d {
            out_channels,
            kernel_size,
            groups,
            ..
        } => {
            let [c, h, w] = image(l.kind())?;
            let p = l.conv_params().expect("a conv");
            positive("outChannels", *out_channels)?;
            positive("groups", *groups)?;
            if kernel_size.0.contains(&0) {
                return Err(err("kernelSize must be at least 1".into()));
            }
            if c % groups != 0 || out_channels % groups != 0 {
                return Err(err(format!(
                    "groups = {groups} must divide the input channels ({c}) and outChannels ({out_channels})"
                )));
            }
            let [kh, kw] = kernel_size.0;
            let transposed = matches!(l, LayerSpec::ConvTranspose2d { .. });
            let terms = if transposed {
                p.transpose_output([h, w], [kh, kw])
            } else {
                p.conv_output([h, w], [kh, kw])
            }
            .map_err(|e| err(e.to_string()))?;
            let [oh, ow] = terms.out();
            let weight = if transposed {
                vec![c, out_channels / groups, kh, kw]
            } else {
                vec![*out_channels, c / groups, kh, kw]
            };
            (
                vec![*out_channels, oh, ow],
                vec![weight, vec![*out_channels]],
            )
        }
        LayerSpec::MaxPool2d { .. } | LayerSpec::AvgPool2d { .. } => {
            let [c, h, w] = image(l.kind())?;
            let p = l.pool_params().expect("a pool");
            let [oh, ow] = p.output([h, w]).map_err(|e| err(e.to_string()))?.out();
            (vec![c, oh, ow], vec![])
        }
        LayerSpec::GlobalAvgPool => {
            let [c, _, _] = image("globalavgpool")?;
            (vec![c, 1, 1], vec![])
        }
        LayerSpec::BatchNorm2d { eps, .. } => {
            if s.len() != 3 && s.len() != 1 {
                return Err(err(format!("batchnorm2d takes [C, H, W], got {s:?}")));
            }
            if !(eps.is_finite() && *eps > 0.0) {
                return Err(err(format!("eps = {eps} must be a number above 0")));
            }
            let c = s[0];
            (s.to_vec(), vec![vec![c]; 4])
        }
        LayerSpec::Relu | LayerSpec::Sigmoid | LayerSpec::Tanh => (s.to_vec(), vec![]),
        LayerSpec::LeakyRelu { negative_slope } => {
            if !negative_slope.is_finite() {
                return Err(err(format!(
                    "negativeSlope = {negative_slope} must be a finite number"
                )));
            }
            (s.to_vec(), vec![])
        }
        LayerSpec::Softmax | LayerSpec::LogSoftmax => (s.to_vec(), vec![]),
        LayerSpec::Flatten => (vec![s.iter().product()], vec![]),
        LayerSpec::Linear { out_features, .. } => {
            positive("outFeatures", *out_features)?;
            let [inp] = *s else {
                return Err(err(format!(
                    "linear takes a vector, got {s:?}: put a flatten before it"
                )));
            };
            (
                vec![*out_features],
                vec![vec![*out_features, inp], vec![*out_features]],
            )
        }
        LayerSpec::Add { from } => {
            if *from >= shapes.len() {
                return Err(err(format!(
                    "from = {from} must name an earlier activation: 0 (the input) to {}",
                    shapes.len() - 1
                )));
            }
            if shapes[*from] != s {
                return Err(err(format!(
                    "adds activation {from} of shape {:?} to its input of shape {s:?}: the shapes must be equal",
                    shapes[*from]
                )));
            }
            (s.to_vec(), vec![])
        }
    })
}

/// The output shape (without the batch) of `l` on the last of `shapes` (the activations so
/// far, the input first), or the rule it breaks, in words (the ONNX reader's check of each node).
pub(crate) fn output_shape(
    l: &LayerSpec,
    shapes: &[Vec<usize>],
) -> std::result::Result<Vec<usize>, String> {
    let s = shapes.last().ok_or("there is no input shape")?;
    let out = plan_layer(0, l, "", s, shapes)
        .map(|(out, _)| out)
        .map_err(|e| match e {
            Error::Param { reason, .. } => reason,
            e => e.to_string(),
        })?;
    match checked_numel(&out) {
        Ok(n) if (1..=spec::MAX_ACTIVATION).contains(&n) => Ok(out),
        _ => Err(format!(
            "its output {out:?} would hold more than {} values (or none)",
            spec::MAX_ACTIVATION
        )),
    }
}

/// Display names: a parameterised layer's `state_dict` name (given, or `conv1`, `deconv1`,
/// `fc1`, `bn1`, … in order), the others by kind and count (`relu1`, `pool1`, `flatten`, …).
fn layer_names(spec: &Spec) -> Result<Vec<String>> {
    let mut counts = std::collections::HashMap::<&str, usize>::new();
    let mut names: Vec<String> = Vec::with_capacity(spec.layers.len());
    for (i, l) in spec.layers.iter().enumerate() {
        let stem = match l {
            LayerSpec::Conv2d { .. } => "conv",
            LayerSpec::ConvTranspose2d { .. } => "deconv",
            LayerSpec::Linear { .. } => "fc",
            LayerSpec::BatchNorm2d { .. } => "bn",
            LayerSpec::MaxPool2d { .. } => "pool",
            LayerSpec::AvgPool2d { .. } => "avgpool",
            LayerSpec::GlobalAvgPool => "gap",
            LayerSpec::Relu => "relu",
            LayerSpec::LeakyRelu { .. } => "lrelu",
            LayerSpec::Sigmoid => "sigmoid",
            LayerSpec::Tanh => "tanh",
            LayerSpec::Add { .. } => "add",
            LayerSpec::Flatten => "flatten",
            LayerSpec::Softmax => "softmax",
            LayerSpec::LogSoftmax => "logsoftmax",
        };
        let n = counts.entry(stem).or_insert(0);
        *n += 1;
        let single = matches!(
            l,
            LayerSpec::Flatten | LayerSpec::Softmax | LayerSpec::LogSoftmax
        );
        let name = match l.given_name() {
            Some(g) => {
                let ok = !g.is_empty()
                    && g.len() <= 64
                    && g.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
                if !ok {
                    return Err(spec_err(
                        i,
                        l,
                        "",
                        format!("name {g:?} must be 1 to 64 letters, digits, '_' or '.'"),
                    ));
                }
                g.to_string()
            }
            None if single && *n == 1 => stem.to_string(),
            None => format!("{stem}{n}"),
        };
        if let Some(j) = names.iter().position(|x| *x == name) {
            return Err(spec_err(
                i,
                l,
                &name,
                format!("layer {j} already has the name {name}: give one of them another name"),
            ));
        }
        names.push(name);
    }
    Ok(names)
}

/// Names, activation shapes and tensor shapes of a spec, every size checked (with the limits
/// in [`spec`]) before anything is allocated.
type Plan = (Vec<String>, Vec<Vec<usize>>, Vec<Vec<Vec<usize>>>);

fn plan(spec: &Spec) -> Result<Plan> {
    spec.check_input()?;
    let names = layer_names(spec)?;
    let mut shapes = vec![spec.input.to_vec()];
    let mut tensors = Vec::with_capacity(spec.layers.len());
    let mut stored = 0usize;
    for (i, l) in spec.layers.iter().enumerate() {
        let (out, ts, _) = check_layer(i, l, &names[i], &shapes, &mut stored)?;
        shapes.push(out);
        tensors.push(ts);
    }
    Ok((names, shapes, tensors))
}

/// Layer `i` of a spec on the activations so far (`shapes`, the input first): its output shape,
/// its tensors' shapes and its trained parameters (batch norm's statistics and an unused bias
/// are stored, not trained). `stored` counts the values every layer so far stores, for the limit.
fn check_layer(
    i: usize,
    l: &LayerSpec,
    name: &str,
    shapes: &[Vec<usize>],
    stored: &mut usize,
) -> Result<(Vec<usize>, Vec<Vec<usize>>, usize)> {
    let s = shapes.last().expect("the input at least");
    let (out, ts) = plan_layer(i, l, name, s, shapes)?;
    let len = checked_numel(&out).map_err(|e| spec_err(i, l, name, e))?;
    if len == 0 || len > spec::MAX_ACTIVATION {
        return Err(spec_err(
            i,
            l,
            name,
            format!(
                "its output {out:?} has {len} values: it must have 1 to {}",
                spec::MAX_ACTIVATION
            ),
        ));
    }
    let mut values = 0usize;
    for t in &ts {
        values = values.saturating_add(checked_numel(t).map_err(|e| spec_err(i, l, name, e))?);
    }
    *stored = stored.saturating_add(values);
    if *stored > spec::MAX_PARAMS {
        return Err(spec_err(
            i,
            l,
            name,
            format!(
                "the model reaches {} parameters here: at most {} fit in a page",
                *stored,
                spec::MAX_PARAMS
            ),
        ));
    }
    let trained = match l {
        LayerSpec::BatchNorm2d { .. } => values / 2,
        LayerSpec::Conv2d {
            bias: false,
            out_channels: o,
            ..
        }
        | LayerSpec::ConvTranspose2d {
            bias: false,
            out_channels: o,
            ..
        }
        | LayerSpec::Linear {
            bias: false,
            out_features: o,
            ..
        } => values - o,
        _ => values,
    };
    Ok((out, ts, trained))
}

/// One layer of a design as an editor shows it: its name, kind, output shape and parameters.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LayerRow {
    pub name: String,
    pub kind: &'static str,
    pub shape: Vec<usize>,
    pub params: usize,
}

/// What a spec builds, without allocating any tensor: every layer up to the first that does not
/// fit, and that layer's index and the rule it breaks (`None` when the whole design fits).
pub fn describe(spec: &Spec) -> (Vec<LayerRow>, Option<(Option<usize>, String)>) {
    let names = match spec.check_input().and_then(|_| layer_names(spec)) {
        Ok(n) => n,
        Err(e) => {
            // A duplicate or malformed name names its layer; the input and the layer count none.
            let msg = e.to_string();
            let at = msg
                .split("layers[")
                .nth(1)
                .and_then(|r| r.split(']').next())
                .and_then(|n| n.parse().ok());
            return (Vec::new(), Some((at, msg)));
        }
    };
    let mut rows = Vec::new();
    let mut shapes = vec![spec.input.to_vec()];
    let mut stored = 0usize;
    for (i, l) in spec.layers.iter().enumerate() {
        match check_layer(i, l, &names[i], &shapes, &mut stored) {
            Ok((out, _, params)) => {
                rows.push(LayerRow {
                    name: names[i].clone(),
                    kind: l.kind(),
                    shape: out.clone(),
                    params,
                });
                shapes.push(out);
            }
            Err(e) => return (rows, Some((Some(i), e.to_string()))),
        }
    }
    (rows, None)
}

impl Model {
    /// A model of `spec` with every parameter zero (batch norm: γ = 1, variance 1), or an
    /// error naming the layer that does not fit (`layers[3] (linear fc1): …`).
    pub fn new(spec: &Spec) -> Result<Model> {
        let (names, shapes, tensors) = plan(spec)?;
        let mut layers = Vec::with_capacity(spec.layers.len());
        for (i, (l, ts)) in spec.layers.iter().zip(tensors).enumerate() {
            let zeros = |k: usize| Tensor::zeros(&ts[k]);
            let name = names[i].clone();
            layers.push(match l {
                LayerSpec::Conv2d { bias, .. } => Layer::Conv2d {
                    name,
                    weight: zeros(0)?,
                    bias: zeros(1)?,
                    params: l.conv_params().expect("a conv"),
                    has_bias: *bias,
                },
                LayerSpec::ConvTranspose2d { bias, .. } => Layer::ConvTranspose2d {
                    name,
                    weight: zeros(0)?,
                    bias: zeros(1)?,
                    params: l.conv_params().expect("a conv"),
                    has_bias: *bias,
                },
                LayerSpec::MaxPool2d { .. } => Layer::MaxPool2d {
                    params: l.pool_params().expect("a pool"),
                },
                LayerSpec::AvgPool2d {
                    count_include_pad, ..
                } => Layer::AvgPool2d {
                    params: l.pool_params().expect("a pool"),
                    count_include_pad: *count_include_pad,
                },
                LayerSpec::GlobalAvgPool => Layer::GlobalAvgPool,
                LayerSpec::Relu => Layer::Relu,
                LayerSpec::LeakyRelu { negative_slope } => Layer::LeakyRelu {
                    slope: *negative_slope,
                },
                LayerSpec::Sigmoid => Layer::Sigmoid,
                LayerSpec::Tanh => Layer::Tanh,
                LayerSpec::Flatten => Layer::Flatten,
                LayerSpec::Linear { bias, .. } => Layer::Linear {
                    name,
                    weight: zeros(0)?,
                    bias: zeros(1)?,
                    has_bias: *bias,
                },
                LayerSpec::BatchNorm2d { eps, .. } => Layer::BatchNorm2d {
                    name,
                    weight: Tensor::full(&ts[0], 1.0)?,
                    bias: zeros(1)?,
                    mean: zeros(2)?,
                    var: Tensor::full(&ts[3], 1.0)?,
                    eps: *eps,
                },
                LayerSpec::Softmax => Layer::Softmax,
                LayerSpec::LogSoftmax => Layer::LogSoftmax,
                LayerSpec::Add { from } => Layer::Add { from: *from },
            });
        }
        Ok(Model {
            layers,
            input: spec.input,
            names,
            shapes,
        })
    }

    /// A freshly initialised model: He-uniform weights (bound √(6 / fan_in)), zero biases,
    /// batch norm the identity, reproducible from `seed`.
    pub fn init(spec: &Spec, seed: u64) -> Result<Model> {
        let mut m = Model::new(spec)?;
        let mut rng = Rng::new(seed);
        for l in &mut m.layers {
            if matches!(l, Layer::BatchNorm2d { .. }) {
                continue;
            }
            if let Some((w, _)) = l.params_mut() {
                let fan_in: usize = w.shape()[1..].iter().product();
                let bound = (6.0 / fan_in as f32).sqrt();
                for v in w.data_mut() {
                    *v = rng.uniform(-bound, bound);
                }
            }
        }
        Ok(m)
    }

    /// A model of `spec` with the tensors in `tensors` (`state_dict` names). Every missing,
    /// unexpected, misshapen or non-finite tensor is listed in the error.
    pub fn from_tensors(
        spec: &Spec,
        tensors: &std::collections::BTreeMap<String, Tensor>,
    ) -> Result<Model> {
        let mut model = Model::new(spec)?;
        let mut problems = Vec::new();
        let mut used = 0;
        for l in &mut model.layers {
            for (name, t) in l.named_tensors_mut() {
                match tensors.get(&name) {
                    None => problems.push(format!("missing tensor {name} (shape {:?})", t.shape())),
                    Some(v) if v.shape() != t.shape() => {
                        used += 1;
                        problems.push(format!(
                            "{name} has shape {:?}, expected {:?}",
                            v.shape(),
                            t.shape()
                        ))
                    }
                    Some(v) => {
                        used += 1;
                        if let Some(i) = v.data().iter().position(|x| !x.is_finite()) {
                            problems.push(format!("{name}[{i}] is {} (not finite)", v.data()[i]));
                        }
                        *t = v.clone();
                    }
                }
            }
        }
        if used < tensors.len() {
            let expected: Vec<String> = model
                .layers
                .iter()
                .flat_map(|l| l.named_tensors().into_iter().map(|(n, _)| n))
                .collect();
            for name in tensors.keys() {
                if !expected.contains(name) {
                    problems.push(format!("unexpected tensor {name}"));
                }
            }
        }
        if let Some(bad) = model.layers.iter().find_map(|l| match l {
            Layer::BatchNorm2d { name, var, .. } => var
                .data()
                .iter()
                .any(|&v| v < 0.0)
                .then(|| format!("{name}.running_var has a negative variance")),
            _ => None,
        }) {
            problems.push(bad);
        }
        if !problems.is_empty() {
            return Err(Error::Weights(format!(
                "the tensors do not match the architecture: {}",
                problems.join("; ")
            )));
        }
        Ok(model)
    }

    /// The architecture ([`Spec`]), every default written out and every layer named.
    pub fn spec(&self) -> Spec {
        Spec {
            input: self.input,
            layers: self.layers.iter().map(Layer::spec).collect(),
        }
    }

    /// Which shipped architecture this model has, if any.
    pub fn preset(&self) -> Option<Preset> {
        Preset::of_spec(&self.spec())
    }

    /// `[C, H, W]` of one input.
    pub fn input_shape(&self) -> [usize; 3] {
        self.input
    }

    /// Values in one input (C·H·W).
    pub fn input_len(&self) -> usize {
        self.input.iter().product()
    }

    /// The index of the activation that holds the logits: the input of a final softmax or log
    /// softmax, else the output.
    pub fn logits_index(&self) -> usize {
        let n = self.layers.len();
        match self.layers.last() {
            Some(Layer::Softmax | Layer::LogSoftmax) => n - 1,
            _ => n,
        }
    }

    /// Whether the output is a vector of `classes` values (a classifier the trainer and the
    /// page's bars can use).
    pub fn classes(&self) -> Option<usize> {
        match self.shapes[self.logits_index()][..] {
            [c] => Some(c),
            _ => None,
        }
    }

    /// Folds each batch norm that directly follows a conv (and is not the target of a residual
    /// add, nor read by one) into that conv's weight and bias: the same outputs with one layer
    /// less.
    pub fn fold_batch_norms(&mut self) {
        let mut i = 1;
        while i < self.layers.len() {
            let read_later = self
                .layers
                .iter()
                .any(|l| matches!(l, Layer::Add { from } if *from == i));
            let fold = matches!(self.layers[i], Layer::BatchNorm2d { .. })
                && matches!(self.layers[i - 1], Layer::Conv2d { .. })
                && !read_later;
            if !fold {
                i += 1;
                continue;
            }
            let Layer::BatchNorm2d {
                weight: g,
                bias: b,
                mean,
                var,
                eps,
                ..
            } = self.layers.remove(i)
            else {
                unreachable!("checked above")
            };
            if let Layer::Conv2d {
                weight,
                bias,
                has_bias,
                ..
            } = &mut self.layers[i - 1]
            {
                let per = weight.len() / g.len();
                for c in 0..g.len() {
                    let scale = g.data()[c] / (var.data()[c] + eps).sqrt();
                    for v in &mut weight.data_mut()[c * per..(c + 1) * per] {
                        *v *= scale;
                    }
                    let bc = &mut bias.data_mut()[c];
                    *bc = (*bc - mean.data()[c]) * scale + b.data()[c];
                }
                *has_bias = true;
            }
            // Later adds' `from` past the removed activation move down by one.
            for l in &mut self.layers {
                if let Layer::Add { from } = l {
                    if *from > i {
                        *from -= 1;
                    }
                }
            }
            self.names.remove(i);
            self.shapes.remove(i + 1);
        }
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Activation shapes without the batch dimension (`[0]` = input).
    pub fn shapes(&self) -> &[Vec<usize>] {
        &self.shapes
    }

    /// Number of parameters (trained ones: batch norm's statistics are not counted; a layer
    /// without a bias counts none).
    pub fn num_params(&self) -> usize {
        self.layers
            .iter()
            .filter_map(|l| {
                l.params()
                    .map(|(_, w, b)| w.len() + if l.has_bias() { b.len() } else { 0 })
            })
            .sum()
    }

    /// Looks a parameterised layer up by name.
    pub fn layer(&self, name: &str) -> Option<&Layer> {
        self.layers
            .iter()
            .find(|l| l.params().is_some_and(|(n, _, _)| n == name))
    }

    /// One input (`C·H·W` finite values) through the model, keeping every activation.
    pub fn forward(&self, input: &[f32]) -> Result<Forward> {
        check_input(self.input, input)?;
        let mut shape = vec![1];
        shape.extend(self.input);
        let x = Tensor::new(input.to_vec(), &shape)?;
        let acts = self.forward_batch(x)?.acts;
        let probabilities = self.probabilities_of(&acts);
        Ok(Forward {
            activations: acts,
            probabilities,
        })
    }

    /// The class probabilities of a forward's activations (batch 1): the final softmax's
    /// output, or the softmax of the logits; empty when the output is not a vector.
    fn probabilities_of(&self, acts: &[Tensor]) -> Vec<f32> {
        self.batch_probabilities(acts).unwrap_or_default()
    }

    /// The class probabilities `[N, classes]` of a batch's activations (`None` when the output
    /// is not a vector): the final softmax's output, else the softmax of the logits.
    pub fn batch_probabilities(&self, acts: &[Tensor]) -> Option<Vec<f32>> {
        let classes = self.classes()?;
        if let Some(Layer::Softmax) = self.layers.last() {
            return Some(acts.last()?.data().to_vec());
        }
        let logits = acts.get(self.logits_index())?.data();
        let mut p = vec![0.0; logits.len()];
        slice::softmax_rows(logits, classes, &mut p);
        Some(p)
    }

    /// One layer on its input `x` (`[N, …]`), `acts` the activations so far (for an add).
    /// Returns the output and, for a max pool, the argmax backward needs.
    fn layer_forward(
        &self,
        i: usize,
        x: &Tensor,
        acts: &[Tensor],
    ) -> Result<(Tensor, Option<Vec<u32>>)> {
        let n = x.shape()[0];
        let mut shape = vec![n];
        shape.extend_from_slice(&self.shapes[i + 1]);
        let map = |f: &dyn Fn(f32) -> f32| -> Result<Tensor> {
            Tensor::new(x.data().iter().map(|&v| f(v)).collect(), x.shape())
        };
        let mut am = None;
        let y = match &self.layers[i] {
            Layer::Conv2d {
                weight,
                bias,
                params,
                ..
            } => layers::conv(x, weight, bias, params)?,
            Layer::ConvTranspose2d {
                weight,
                bias,
                params,
                ..
            } => crate::conv::conv_transpose2d(x, weight, Some(bias), params)?,
            Layer::MaxPool2d { params } => {
                let (y, a) = layers::max_pool(x, params)?;
                am = Some(a);
                y
            }
            Layer::AvgPool2d {
                params,
                count_include_pad,
            } => layers::avg_pool(x, params, *count_include_pad)?,
            Layer::GlobalAvgPool => {
                let [n, c, h, w] = x.dims4("x")?;
                let y = x
                    .data()
                    .chunks_exact(h * w)
                    .map(|p| p.iter().sum::<f32>() / (h * w) as f32)
                    .collect();
                Tensor::new(y, &[n, c, 1, 1])?
            }
            Layer::Relu => Tensor::new(slice::relu_of(x.data()), x.shape())?,
            Layer::LeakyRelu { slope } => map(&|v| if v < 0.0 { v * slope } else { v })?,
            Layer::Sigmoid => map(&|v| 1.0 / (1.0 + (-v).exp()))?,
            Layer::Tanh => map(&f32::tanh)?,
            Layer::Flatten => x.clone().reshape(&shape)?,
            Layer::Linear { weight, bias, .. } => {
                let mut y = vec![0.0; shape.iter().product()];
                let d = dense(n, weight);
                slice::linear(d, x.data(), weight.data(), Some(bias.data()), &mut y)?;
                Tensor::new(y, &shape)?
            }
            Layer::BatchNorm2d {
                weight,
                bias,
                mean,
                var,
                eps,
                ..
            } => {
                let (scale, shift) = layers::batch_norm_affine(
                    weight.data(),
                    bias.data(),
                    mean.data(),
                    var.data(),
                    *eps,
                );
                let mut y = x.clone();
                let plane = x.shape()[2..].iter().product();
                layers::channel_affine(y.data_mut(), plane, &scale, &shift);
                y
            }
            Layer::Softmax | Layer::LogSoftmax => {
                let (len, inner) = (x.shape()[1], x.shape()[2..].iter().product());
                let mut y = vec![0.0; x.len()];
                if matches!(self.layers[i], Layer::Softmax) {
                    slice::softmax(x.data(), &mut y, n, len, inner);
                } else {
                    layers::log_softmax(x.data(), &mut y, n, len, inner);
                }
                Tensor::new(y, x.shape())?
            }
            Layer::Add { from } => {
                let other = &acts[*from];
                let y = x
                    .data()
                    .iter()
                    .zip(other.data())
                    .map(|(a, b)| a + b)
                    .collect();
                Tensor::new(y, x.shape())?
            }
        };
        if y.shape() != &shape[..] {
            return Err(Error::shape(format!(
                "layer {} produced {:?}, expected {shape:?}",
                self.names[i],
                y.shape()
            )));
        }
        Ok((y, am))
    }

    /// Layer `i` on one input's activation `x` (flat), `acts` every activation before it (for
    /// an add): the output, allocated. The general path of the single-image forwards.
    pub fn run_layer(&self, i: usize, x: &[f32], acts: &[&[f32]]) -> Result<Vec<f32>> {
        if let Layer::Add { from } = self.layers[i] {
            return Ok(x.iter().zip(acts[from]).map(|(a, b)| a + b).collect());
        }
        let mut shape = vec![1];
        shape.extend_from_slice(&self.shapes[i]);
        let xt = Tensor::new(x.to_vec(), &shape)?;
        Ok(self.layer_forward(i, &xt, &[])?.0.into_data())
    }

    /// A batch `[N, C, H, W]` through the model, keeping every activation (and what backward
    /// needs).
    pub fn forward_batch(&self, x: Tensor) -> Result<Trace> {
        let n = x.shape().first().copied().unwrap_or(0);
        let mut want = vec![n];
        want.extend(self.input);
        if x.shape() != &want[..] {
            return Err(Error::shape(format!(
                "model input must be [N, {}, {}, {}], got {:?}",
                self.input[0],
                self.input[1],
                self.input[2],
                x.shape()
            )));
        }
        let mut acts = vec![x];
        let mut argmaxes = Vec::with_capacity(self.layers.len());
        for i in 0..self.layers.len() {
            let (y, am) = self.layer_forward(i, &acts[i], &acts)?;
            acts.push(y);
            argmaxes.push(am);
        }
        Ok(Trace {
            acts,
            argmax: argmaxes,
        })
    }

    /// Backward from the gradient of the loss with respect to the logits
    /// ([`Model::logits_index`]). Returns one (dW, db) per parameterised layer, in order.
    pub fn backward(&self, trace: &Trace, dlogits: Tensor) -> Result<Grads> {
        self.backward_keeping(trace, dlogits, false).map(|(g, _)| g)
    }

    /// [`Model::backward`], also returning, when `keep` is set, the gradient of the loss with
    /// respect to every activation the backward pass reached: `[i]` for `acts[i]`, the input
    /// included (`None` past the logits).
    pub fn backward_keeping(
        &self,
        trace: &Trace,
        dlogits: Tensor,
        keep: bool,
    ) -> Result<(Grads, Vec<Option<Tensor>>)> {
        let start = self.logits_index();
        if dlogits.shape() != trace.acts[start].shape() {
            return Err(Error::shape(format!(
                "the logits' gradient must be {:?}, got {:?}",
                trace.acts[start].shape(),
                dlogits.shape()
            )));
        }
        let mut d: Vec<Option<Tensor>> = vec![None; trace.acts.len()];
        d[start] = Some(dlogits);
        let mut grads: Vec<Option<(Tensor, Tensor)>> = vec![None; self.layers.len()];
        let mut kept: Vec<Option<Tensor>> = vec![None; trace.acts.len()];
        // Without `keep`, nothing before the first parameterised layer needs a gradient: the
        // pass stops there, and that layer computes no input gradient (the mlp's fc1 after a
        // flatten: a third of its step's multiply-adds).
        let stop = match keep {
            true => 0,
            false => (self.layers.iter())
                .position(|l| l.params().is_some())
                .unwrap_or(start),
        };
        // A relu whose backward pass the max pool after it made already (see below).
        let mut relu_done = None;
        for i in (stop..start).rev() {
            let Some(dy) = d[i + 1].take() else {
                continue;
            };
            if keep {
                kept[i + 1] = Some(dy.clone());
            }
            let x = &trace.acts[i];
            let y = &trace.acts[i + 1];
            let need_dx = i > stop || keep;
            let n = x.shape()[0];
            let dx: Option<Tensor> = match &self.layers[i] {
                Layer::Conv2d {
                    weight,
                    params,
                    has_bias,
                    ..
                } => {
                    // A first layer's input needs no gradient: its dX (a conv as large as
                    // the forward) is skipped.
                    let (dx, dw, mut db) = if need_dx {
                        #[cfg(test)]
                        INPUT_GRADS.with(|c| c.set(c.get() + 1));
                        let (dx, dw, db) = layers::conv_backward(x, weight, &dy, params)?;
                        (Some(dx), dw, db)
                    } else {
                        let (dw, db) = crate::conv::conv2d_backward_weight(x, weight, &dy, params)?;
                        (None, dw, db)
                    };
                    if !has_bias {
                        db.data_mut().fill(0.0);
                    }
                    grads[i] = Some((dw, db));
                    dx
                }
                Layer::ConvTranspose2d {
                    weight,
                    params,
                    has_bias,
                    ..
                } => {
                    let g = crate::conv::conv_transpose2d_backward(x, weight, &dy, params)?;
                    let mut db = g.db;
                    if !has_bias {
                        db.data_mut().fill(0.0);
                    }
                    grads[i] = Some((g.dw, db));
                    Some(g.dx)
                }
                Layer::MaxPool2d { .. } => {
                    let am = trace.argmax[i].as_ref().expect("pool keeps argmax");
                    // After a relu whose output only this pool reads (no add takes it), the
                    // relu's pass is made on the pool's output instead, a quarter of the cells
                    // for MaxPool2d(2): a window's output is its winner's value, the only cell
                    // the window's gradient reaches, so masking that gradient where the output
                    // is not above 0 leaves the same gradients as masking the pool's input
                    // after it. Not when the gradients are kept: the relu's output keeps its
                    // gradient as it is.
                    let fused = !keep
                        && i > stop
                        && matches!(self.layers[i - 1], Layer::Relu)
                        && !self
                            .layers
                            .iter()
                            .any(|l| matches!(l, Layer::Add { from } if *from == i));
                    let mut dy = dy;
                    if fused {
                        #[cfg(test)]
                        RELU_FUSED.with(|c| c.set(c.get() + 1));
                        relu_done = Some(i - 1);
                        slice::relu_backward(y.data(), dy.data_mut());
                    }
                    Some(layers::max_pool_backward(&dy, am, x.shape())?)
                }
                Layer::AvgPool2d {
                    params,
                    count_include_pad,
                } => Some(layers::avg_pool_backward(
                    &dy,
                    x.shape(),
                    params,
                    *count_include_pad,
                )?),
                Layer::GlobalAvgPool => {
                    let plane: usize = x.shape()[2..].iter().product();
                    let dx = dy
                        .data()
                        .iter()
                        .flat_map(|&g| std::iter::repeat_n(g / plane as f32, plane))
                        .collect();
                    Some(Tensor::new(dx, x.shape())?)
                }
                Layer::Relu if relu_done == Some(i) => Some(dy),
                Layer::Relu => {
                    let mut d = dy;
                    slice::relu_backward(y.data(), d.data_mut());
                    Some(d)
                }
                Layer::LeakyRelu { slope } => {
                    let mut d = dy;
                    for (g, &v) in d.data_mut().iter_mut().zip(x.data()) {
                        if v < 0.0 {
                            *g *= slope;
                        }
                    }
                    Some(d)
                }
                Layer::Sigmoid | Layer::Tanh => {
                    let sig = matches!(self.layers[i], Layer::Sigmoid);
                    let mut d = dy;
                    for (g, &v) in d.data_mut().iter_mut().zip(y.data()) {
                        *g *= if sig { v * (1.0 - v) } else { 1.0 - v * v };
                    }
                    Some(d)
                }
                Layer::Flatten => Some(dy.reshape(x.shape())?),
                Layer::Linear {
                    weight,
                    bias,
                    has_bias,
                    ..
                } => {
                    let mut dw = vec![0.0; weight.len()];
                    let mut db = vec![0.0; bias.len()];
                    let mut dx = if need_dx {
                        #[cfg(test)]
                        INPUT_GRADS.with(|c| c.set(c.get() + 1));
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
                    if !has_bias {
                        db.fill(0.0);
                    }
                    grads[i] = Some((
                        Tensor::new(dw, weight.shape())?,
                        Tensor::new(db, bias.shape())?,
                    ));
                    need_dx.then(|| Tensor::new(dx, x.shape())).transpose()?
                }
                Layer::BatchNorm2d {
                    weight,
                    bias,
                    mean,
                    var,
                    eps,
                    ..
                } => {
                    let c = weight.len();
                    let plane = x.len() / (n * c);
                    let mut dg = vec![0.0f32; c];
                    let mut dbeta = vec![0.0f32; c];
                    let mut dx = dy.clone();
                    for (k, (gs, xs)) in dy
                        .data()
                        .chunks_exact(plane)
                        .zip(x.data().chunks_exact(plane))
                        .enumerate()
                    {
                        let ch = k % c;
                        let inv = 1.0 / (var.data()[ch] + eps).sqrt();
                        for (&g, &v) in gs.iter().zip(xs) {
                            dg[ch] += g * (v - mean.data()[ch]) * inv;
                            dbeta[ch] += g;
                        }
                        for g in &mut dx.data_mut()[k * plane..(k + 1) * plane] {
                            *g *= weight.data()[ch] * inv;
                        }
                    }
                    grads[i] = Some((
                        Tensor::new(dg, weight.shape())?,
                        Tensor::new(dbeta, bias.shape())?,
                    ));
                    Some(dx)
                }
                Layer::Softmax | Layer::LogSoftmax => {
                    let (len, inner) = (x.shape()[1], x.shape()[2..].iter().product());
                    let mut d = dy;
                    let log = matches!(self.layers[i], Layer::LogSoftmax);
                    layers::softmax_backward(y.data(), d.data_mut(), n, len, inner, log);
                    Some(d)
                }
                Layer::Add { from } => {
                    accumulate(&mut d[*from], &dy)?;
                    Some(dy)
                }
            };
            if let Some(dx) = dx {
                if i > stop || keep {
                    // Moved into an empty slot (the usual case: only an add's input has two).
                    match &mut d[i] {
                        None => d[i] = Some(dx),
                        slot => accumulate(slot, &dx)?,
                    }
                }
            }
        }
        if keep {
            kept[0] = d[0].take();
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

#[cfg(test)]
thread_local! {
    /// Tests: how many input gradients of convolutions and dense layers this thread's
    /// backward passes computed.
    static INPUT_GRADS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    /// Tests: how many relus' backward passes this thread's max pools made.
    static RELU_FUSED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Adds `g` into the gradient slot `slot` (which may be empty).
fn accumulate(slot: &mut Option<Tensor>, g: &Tensor) -> Result<()> {
    match slot {
        None => *slot = Some(g.clone()),
        Some(t) => {
            if t.shape() != g.shape() {
                return Err(Error::shape(format!(
                    "gradient shapes {:?} and {:?} differ",
                    t.shape(),
                    g.shape()
                )));
            }
            for (a, b) in t.data_mut().iter_mut().zip(g.data()) {
                *a += b;
            }
        }
    }
    Ok(())
}

/// Checks one input: `C·H·W` finite values for a `[C, H, W]` model input.
pub fn check_input(shape: [usize; 3], input: &[f32]) -> Result<()> {
    let [c, h, w] = shape;
    let len = c * h * w;
    if input.len() != len {
        let dims = if c == 1 {
            format!("{h}×{w}")
        } else {
            format!("{c}×{h}×{w}")
        };
        return Err(Error::shape(format!(
            "pixels must be {len} values ({dims}), got {}",
            input.len()
        )));
    }
    if let Some(i) = input.iter().position(|v| !v.is_finite()) {
        let (ch, r, col) = (i / (h * w), i % (h * w) / w, i % w);
        let place = if c == 1 {
            format!("row {r}, column {col}")
        } else {
            format!("channel {ch}, row {r}, column {col}")
        };
        return Err(Error::param(
            "pixels",
            input[i],
            format!("pixel {i} ({place}) is not a finite number"),
        ));
    }
    Ok(())
}

/// Checks a 28×28 grey image (the MNIST models' input).
pub fn check_pixels(pixels: &[f32]) -> Result<()> {
    check_input([1, 28, 28], pixels)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// Specs that use every layer kind and every option (asymmetric padding, dilation, groups,
    /// output padding, ceil mode, both average-pool divisors, no bias, a residual add, softmax
    /// over channels), on grey and RGB inputs.
    pub(crate) fn every_kind() -> Vec<Spec> {
        [
            r#"{"input":[1,28,28],"layers":[
              {"kind":"conv2d","outChannels":4,"kernelSize":3,"stride":2,"padding":[1,0,2,1],"bias":false},
              {"kind":"batchnorm2d","eps":0.001},
              {"kind":"leakyrelu","negativeSlope":0.1},
              {"kind":"conv2d","outChannels":4,"kernelSize":3,"padding":2,"dilation":2,"groups":2},
              {"kind":"add","from":3},
              {"kind":"avgpool2d","kernelSize":3,"stride":2,"padding":[1,1,0,0],"ceilMode":true,"countIncludePad":false},
              {"kind":"sigmoid"},
              {"kind":"maxpool2d","kernelSize":2,"stride":1,"dilation":2,"padding":1,"ceilMode":true},
              {"kind":"tanh"},
              {"kind":"avgpool2d","kernelSize":[2,3],"stride":1,"padding":1},
              {"kind":"flatten"},
              {"kind":"linear","outFeatures":10,"bias":false},
              {"kind":"logsoftmax"}]}"#,
            r#"{"input":[1,16,16],"layers":[
              {"kind":"conv2d","outChannels":3,"kernelSize":3,"stride":2,"padding":1},
              {"kind":"relu"},
              {"kind":"convtranspose2d","outChannels":2,"kernelSize":3,"stride":2,"padding":1,"outputPadding":1},
              {"kind":"convtranspose2d","name":"up","outChannels":4,"kernelSize":2,"dilation":2,"groups":2,"padding":[1,0,0,1]},
              {"kind":"softmax"},
              {"kind":"conv2d","outChannels":1,"kernelSize":2,"padding":[0,0,1,1]},
              {"kind":"sigmoid"}]}"#,
            r#"{"input":[3,12,10],"layers":[
              {"kind":"conv2d","outChannels":6,"kernelSize":3,"groups":3},
              {"kind":"batchnorm2d"},
              {"kind":"relu"},
              {"kind":"globalavgpool"},
              {"kind":"flatten"},
              {"kind":"linear","outFeatures":7},
              {"kind":"tanh"},
              {"kind":"linear","outFeatures":10},
              {"kind":"softmax"}]}"#,
        ]
        .iter()
        .map(|j| Spec::from_json(j).unwrap())
        .collect()
    }

    /// `n` inputs of `m` with values uniform in [−1, 1), and the batch's shape.
    pub(crate) fn random_batch(m: &Model, n: usize, rng: &mut Rng) -> (Vec<f32>, Vec<usize>) {
        let mut shape = vec![n];
        shape.extend(m.input_shape());
        let x = (0..n * m.input_len())
            .map(|_| rng.uniform(-1.0, 1.0))
            .collect();
        (x, shape)
    }

    /// A model of `spec` with random weights and batch-norm statistics.
    pub(crate) fn random_model(spec: &Spec, seed: u64) -> Model {
        let mut m = Model::init(spec, seed).unwrap();
        let mut rng = Rng::new(seed + 100);
        for l in &mut m.layers {
            if let Layer::BatchNorm2d {
                weight,
                bias,
                mean,
                var,
                ..
            } = l
            {
                for t in [weight, bias, mean] {
                    t.data_mut()
                        .iter_mut()
                        .for_each(|v| *v = rng.uniform(-1.0, 1.0));
                }
                var.data_mut()
                    .iter_mut()
                    .for_each(|v| *v = rng.uniform(0.2, 2.0));
            }
            let has_bias = l.has_bias() && !matches!(l, Layer::BatchNorm2d { .. });
            if let Some((_, b)) = l.params_mut() {
                if has_bias {
                    b.data_mut()
                        .iter_mut()
                        .for_each(|v| *v = rng.uniform(-0.5, 0.5));
                }
            }
        }
        m
    }

    fn close(what: &str, got: &[f32], want: &[f64]) {
        assert_eq!(got.len(), want.len(), "{what}: lengths");
        for (k, (&g, &w)) in got.iter().zip(want).enumerate() {
            assert!(
                (g as f64 - w).abs() <= 1e-4 * (1.0 + w.abs()),
                "{what}[{k}]: {g} vs {w}"
            );
        }
    }

    #[test]
    fn every_layer_kind_matches_the_f64_reference() {
        use super::infer::{Inference, Predictor};
        let mut rng = Rng::new(3);
        for (s, spec) in every_kind().iter().enumerate() {
            let m = random_model(spec, s as u64 + 1);
            let x: Vec<f32> = (0..m.input_len()).map(|_| rng.uniform(-1.0, 1.0)).collect();
            let want = reference::forward(&m, &x);
            let f = m.forward(&x).unwrap();
            let mut inf = Inference::new(&m).unwrap();
            inf.run(&x).unwrap();
            for (i, w) in want.iter().enumerate() {
                let what = format!(
                    "spec {s} activation {i} ({})",
                    if i == 0 { "input" } else { &m.names()[i - 1] }
                );
                close(&what, f.activations[i].data(), w);
                close(
                    &format!("{what}, single-image path"),
                    inf.activation(i).unwrap(),
                    w,
                );
            }
            let mut pred = Predictor::new(&m).unwrap();
            let p64 = crate::reference::to_f64(f.probabilities());
            close(
                &format!("spec {s} predict"),
                pred.predict(&x).unwrap(),
                &p64,
            );
            close(
                &format!("spec {s} probabilities"),
                inf.probabilities(),
                &p64,
            );
            if let Some(c) = m.classes() {
                let p = f.probabilities();
                assert_eq!(p.len(), c);
                assert!(
                    (p.iter().sum::<f32>() - 1.0).abs() < 1e-5,
                    "spec {s}: {p:?}"
                );
            } else {
                assert!(f.probabilities().is_empty());
            }
        }
    }

    /// Finite differences through every kind: each parameterised layer's weight and bias, and
    /// the input (kept by `backward_keeping`).
    #[test]
    fn every_layer_kind_has_gradients_that_match_finite_differences() {
        for (s, spec) in every_kind().iter().enumerate() {
            let mut m = random_model(spec, 11 + s as u64);
            let mut rng = Rng::new(5);
            let n = 2;
            let (x, shape) = random_batch(&m, n, &mut rng);
            // The loss: Σ r · logits for fixed random r (any smooth function of the logits).
            let li = m.logits_index();
            let r_len = n * m.shapes()[li].iter().product::<usize>();
            let r: Vec<f32> = (0..r_len).map(|_| rng.uniform(-1.0, 1.0)).collect();
            let loss = |m: &Model, x: &[f32]| -> f64 {
                let t = m
                    .forward_batch(Tensor::new(x.to_vec(), &shape).unwrap())
                    .unwrap();
                t.acts[li]
                    .data()
                    .iter()
                    .zip(&r)
                    .map(|(a, b)| *a as f64 * *b as f64)
                    .sum()
            };
            let t = m
                .forward_batch(Tensor::new(x.clone(), &shape).unwrap())
                .unwrap();
            let mut dshape = vec![n];
            dshape.extend(&m.shapes()[li]);
            let (g, kept) = m
                .backward_keeping(&t, Tensor::new(r.clone(), &dshape).unwrap(), true)
                .unwrap();
            // Small enough that no ReLU or pool crosses its kink.
            let h = 3e-3f32;
            let check = |what: String, analytic: f32, lp: f64, lm: f64| {
                let numeric = (lp - lm) / (2.0 * h as f64);
                assert!(
                    (numeric - analytic as f64).abs() < 3e-3 + 0.03 * numeric.abs(),
                    "spec {s} {what}: numeric {numeric} analytic {analytic}"
                );
            };
            for (p, (gw, gb)) in g.iter().enumerate() {
                for (which, len) in [(0, gw.len()), (1, gb.len())] {
                    for &k in &[0, len / 2, len - 1] {
                        let analytic = if which == 0 {
                            gw.data()[k]
                        } else {
                            gb.data()[k]
                        };
                        let bump = |m: &mut Model, by: f32| {
                            let mut ps = m.params_mut();
                            let t = if which == 0 {
                                &mut *ps[p].0
                            } else {
                                &mut *ps[p].1
                            };
                            t.data_mut()[k] += by;
                        };
                        let has_bias = m
                            .layers
                            .iter()
                            .filter(|l| l.params().is_some())
                            .nth(p)
                            .unwrap()
                            .has_bias();
                        bump(&mut m, h);
                        let lp = loss(&m, &x);
                        bump(&mut m, -2.0 * h);
                        let lm = loss(&m, &x);
                        bump(&mut m, h);
                        if which == 1 && !has_bias {
                            assert_eq!(analytic, 0.0, "a layer without bias gets no bias gradient");
                        } else {
                            check(
                                format!("param {p} {} [{k}]", ["weight", "bias"][which]),
                                analytic,
                                lp,
                                lm,
                            );
                        }
                    }
                }
            }
            let dx = kept[0].as_ref().expect("the input's gradient is kept");
            for &k in &[0, x.len() / 3, x.len() - 1] {
                let mut xp = x.clone();
                xp[k] += h;
                let lp = loss(&m, &xp);
                xp[k] -= 2.0 * h;
                let lm = loss(&m, &xp);
                check(format!("input[{k}]"), dx.data()[k], lp, lm);
            }
        }
    }

    #[test]
    fn folding_batch_norms_keeps_the_outputs() {
        let mut rng = Rng::new(8);
        for (s, spec) in every_kind().iter().enumerate() {
            let m = random_model(spec, 21 + s as u64);
            let mut folded = m.clone();
            folded.fold_batch_norms();
            let bns = |m: &Model| {
                m.layers
                    .iter()
                    .filter(|l| l.kind() == "batchnorm2d")
                    .count()
            };
            assert_eq!(
                bns(&folded),
                0,
                "spec {s}: every batch norm here follows a conv"
            );
            assert_eq!(folded.layers.len() + bns(&m), m.layers.len());
            let x: Vec<f32> = (0..m.input_len()).map(|_| rng.uniform(-1.0, 1.0)).collect();
            let (a, b) = (m.forward(&x).unwrap(), folded.forward(&x).unwrap());
            close(
                &format!("spec {s} output"),
                b.output(),
                &crate::reference::to_f64(a.output()),
            );
            // The folded model still builds from its own spec (adds renumbered).
            Model::new(&folded.spec()).unwrap();
        }
    }

    #[test]
    fn a_spec_round_trips_and_the_file_keeps_it() {
        for (s, spec) in every_kind().iter().enumerate() {
            let m = random_model(spec, 31 + s as u64);
            let back = Model::new(&m.spec()).unwrap();
            assert_eq!(back.spec(), m.spec());
            let bytes = m.to_safetensors().unwrap();
            let loaded = Model::from_safetensors(&bytes).unwrap();
            assert_eq!(loaded, m, "spec {s}");
        }
        // The shipped models' files carry their preset's name too, for older readers.
        let bytes = Preset::Cnn.init(1).to_safetensors().unwrap();
        assert_eq!(
            Model::from_safetensors(&bytes).unwrap().preset(),
            Some(Preset::Cnn)
        );
    }

    /// `describe` agrees with the model it describes, and stops at the layer `Model::new` names.
    #[test]
    fn describe_gives_each_layers_shape_and_parameters_without_building() {
        for spec in every_kind()
            .iter()
            .chain(&[Preset::Cnn.spec(), Preset::Mlp.spec()])
        {
            let m = Model::new(spec).unwrap();
            let (rows, err) = describe(spec);
            assert_eq!(err, None);
            assert_eq!(rows.len(), m.layers.len());
            for (i, r) in rows.iter().enumerate() {
                assert_eq!(r.name, m.names()[i]);
                assert_eq!(r.shape, m.shapes()[i + 1]);
                assert_eq!(r.kind, m.layers[i].kind());
            }
            assert_eq!(rows.iter().map(|r| r.params).sum::<usize>(), m.num_params());
        }
        let bad = Spec::from_json(r#"{"input":[1,28,28],"layers":[{"kind":"flatten"},{"kind":"linear","outFeatures":10},{"kind":"conv2d","outChannels":2,"kernelSize":3}]}"#).unwrap();
        let (rows, err) = describe(&bad);
        assert_eq!(rows.len(), 2);
        let (at, msg) = err.unwrap();
        assert_eq!(at, Some(2));
        assert_eq!(msg, Model::new(&bad).unwrap_err().to_string());
        let (_, err) = describe(
            &Spec::from_json(r#"{"input":[2,28,28],"layers":[{"kind":"relu"}]}"#).unwrap(),
        );
        assert_eq!(err.unwrap().0, None);
    }

    #[test]
    fn a_design_that_does_not_fit_is_refused_with_the_rule() {
        let err = |j: &str| {
            Model::new(&Spec::from_json(j).unwrap())
                .unwrap_err()
                .to_string()
        };
        let e = err(r#"{"input":[1,28,28],"layers":[{"kind":"linear","outFeatures":10}]}"#);
        assert!(
            e.contains("layers[0] (linear fc1)") && e.contains("put a flatten before it"),
            "{e}"
        );
        let e = err(
            r#"{"input":[1,28,28],"layers":[{"kind":"flatten"},{"kind":"conv2d","outChannels":2,"kernelSize":3}]}"#,
        );
        assert!(
            e.contains("layers[1] (conv2d conv1)") && e.contains("[channels, height, width]"),
            "{e}"
        );
        let e =
            err(r#"{"input":[1,8,8],"layers":[{"kind":"conv2d","outChannels":2,"kernelSize":9}]}"#);
        assert!(e.contains("layers[0]") && e.contains("kernel"), "{e}");
        let e = err(
            r#"{"input":[3,8,8],"layers":[{"kind":"conv2d","outChannels":4,"kernelSize":3,"groups":2}]}"#,
        );
        assert!(
            e.contains("groups = 2 must divide the input channels (3)"),
            "{e}"
        );
        let e = err(
            r#"{"input":[1,8,8],"layers":[{"kind":"relu"},{"kind":"maxpool2d","kernelSize":2},{"kind":"add","from":1}]}"#,
        );
        assert!(
            e.contains("layers[2] (add add1)") && e.contains("shapes must be equal"),
            "{e}"
        );
        let e = err(r#"{"input":[1,8,8],"layers":[{"kind":"add","from":3}]}"#);
        assert!(
            e.contains("from = 3 must name an earlier activation"),
            "{e}"
        );
        let e = err(
            r#"{"input":[1,64,64],"layers":[{"kind":"flatten"},{"kind":"linear","outFeatures":5000}]}"#,
        );
        assert!(e.contains("parameters") && e.contains("at most"), "{e}");
        let e = err(
            r#"{"input":[1,64,64],"layers":[{"kind":"convtranspose2d","outChannels":60,"kernelSize":1,"stride":16}]}"#,
        );
        assert!(e.contains("values: it must have 1 to"), "{e}");
        let e = err(
            r#"{"input":[1,8,8],"layers":[{"kind":"conv2d","name":"a","outChannels":1,"kernelSize":1},{"kind":"conv2d","name":"a","outChannels":1,"kernelSize":1}]}"#,
        );
        assert!(e.contains("already has the name a"), "{e}");
        let e = err(
            r#"{"input":[1,8,8],"layers":[{"kind":"conv2d","name":"a b","outChannels":1,"kernelSize":1}]}"#,
        );
        assert!(e.contains("letters, digits"), "{e}");
    }

    #[test]
    fn architectures_have_the_documented_shapes() {
        let m = Preset::Cnn.zeros();
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
        assert_eq!(Preset::Slp.zeros().num_params(), 7850);
        assert_eq!(Preset::Mlp.zeros().num_params(), 101_770);
        assert!(Preset::from_name("resnet").is_err());
    }

    #[test]
    fn init_is_reproducible() {
        assert_eq!(Preset::Mlp.init(3), Preset::Mlp.init(3));
        assert_ne!(Preset::Mlp.init(3), Preset::Mlp.init(4));
    }

    #[test]
    fn forward_validates_pixels() {
        let m = Preset::Slp.init(1);
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
        check_gradients(
            Preset::Mlp,
            &[(0usize, 5usize), (0, 784 * 7 + 300), (1, 13)],
        );
    }

    #[test]
    fn cnn_gradients_match_finite_differences() {
        check_gradients(
            Preset::Cnn,
            &[(0, 3), (0, 112), (1, 500), (2, 4000), (3, 77)],
        );
    }

    /// The backward pass computes no input gradient for the first parameterised layer (its
    /// input is the image, or the image flattened), only the weights' gradients, the same as
    /// when every activation's gradient is kept.
    #[test]
    fn backward_skips_the_first_weighted_layers_input_gradient() {
        let mut rng = Rng::new(4);
        for (arch, weighted) in [(Preset::Slp, 1), (Preset::Mlp, 2), (Preset::Cnn, 4)] {
            let m = arch.init(2);
            let n = 2;
            let x: Vec<f32> = (0..n * 784).map(|_| rng.unit()).collect();
            let t = m
                .forward_batch(Tensor::new(x, &[n, 1, 28, 28]).unwrap())
                .unwrap();
            let d: Vec<f32> = (0..n * 10).map(|_| rng.unit() - 0.5).collect();
            let dy = || Tensor::new(d.clone(), &[n, 10]).unwrap();
            let count = |keep| {
                INPUT_GRADS.with(|c| c.set(0));
                let (g, kept) = m.backward_keeping(&t, dy(), keep).unwrap();
                (g, kept, INPUT_GRADS.with(|c| c.get()))
            };
            let (g, kept, computed) = count(false);
            assert_eq!(computed, weighted - 1, "{}", arch.name());
            assert!(kept.iter().all(Option::is_none));
            let (g_kept, kept, computed) = count(true);
            assert_eq!(computed, weighted, "{}", arch.name());
            assert_eq!(g, g_kept, "{}", arch.name());
            assert_eq!(
                kept[0].as_ref().map(|t| t.shape().to_vec()),
                Some(vec![n, 1, 28, 28])
            );
        }
    }

    /// A max pool after a relu makes the relu's backward pass on its own output (without kept
    /// gradients), with windows that tile and that overlap, and the gradients are those of the
    /// relu's own pass, bit for bit; not where an add also reads the relu's output (its
    /// gradient there is not the pool's alone).
    #[test]
    fn a_max_pool_after_a_relu_makes_its_backward_pass() {
        let specs = [
            (
                r#"{"input":[1,12,12],"layers":[
                  {"kind":"conv2d","outChannels":4,"kernelSize":3,"padding":1},
                  {"kind":"relu"},
                  {"kind":"maxpool2d","kernelSize":2},
                  {"kind":"conv2d","outChannels":3,"kernelSize":3},
                  {"kind":"relu"},
                  {"kind":"maxpool2d","kernelSize":3,"stride":1,"padding":1},
                  {"kind":"flatten"},
                  {"kind":"linear","outFeatures":10},
                  {"kind":"softmax"}]}"#,
                2,
            ),
            (
                r#"{"input":[1,10,10],"layers":[
                  {"kind":"conv2d","outChannels":3,"kernelSize":3,"padding":1},
                  {"kind":"relu"},
                  {"kind":"maxpool2d","kernelSize":3,"stride":1,"padding":1},
                  {"kind":"add","from":2},
                  {"kind":"flatten"},
                  {"kind":"linear","outFeatures":10},
                  {"kind":"softmax"}]}"#,
                0,
            ),
        ];
        let bits = |g: &Grads| -> Vec<u32> {
            g.iter()
                .flat_map(|(w, b)| w.data().iter().chain(b.data()).map(|v| v.to_bits()))
                .collect()
        };
        for (s, (json, fused)) in specs.iter().enumerate() {
            let m = random_model(&Spec::from_json(json).unwrap(), 3 + s as u64);
            let mut rng = Rng::new(8);
            let n = 3;
            let (x, shape) = random_batch(&m, n, &mut rng);
            let t = m.forward_batch(Tensor::new(x, &shape).unwrap()).unwrap();
            let d: Vec<f32> = (0..n * 10).map(|_| rng.uniform(-1.0, 1.0)).collect();
            let dy = || Tensor::new(d.clone(), &[n, 10]).unwrap();
            RELU_FUSED.with(|c| c.set(0));
            let (fast, _) = m.backward_keeping(&t, dy(), false).unwrap();
            assert_eq!(RELU_FUSED.with(|c| c.get()), *fused, "spec {s}");
            let (kept, _) = m.backward_keeping(&t, dy(), true).unwrap();
            assert_eq!(RELU_FUSED.with(|c| c.get()), *fused, "spec {s}: kept, none");
            assert_eq!(bits(&fast), bits(&kept), "spec {s}");
        }
    }

    fn check_gradients(arch: Preset, at: &[(usize, usize)]) {
        let mut m = arch.init(5);
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
