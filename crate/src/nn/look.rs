//! What a model looks at: gradients turned on the input. For any classifier of the general model
//! (the shipped three included): the gradient of a class's logit, probability or loss with
//! respect to the input (saliency), Grad-CAM on a layer, adversarial inputs (FGSM and its
//! projected iteration), class images (gradient ascent on a logit, with L2 and blur so they are
//! not noise), and occlusion sensitivity (a grey patch slid over the input: a correlation).
//! Every gradient is the model's own backward pass ([`Model::backward_keeping`]).

use super::{argmax, Model};
use crate::error::{Error, Result};
use crate::ops::slice;
use crate::rng::Rng;
use crate::tensor::Tensor;

/// What the input gradient is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Of {
    /// Class `target`'s logit (the input of the final softmax).
    Logit,
    /// Class `target`'s probability.
    Probability,
    /// The cross-entropy loss against label `target`.
    Loss,
}

impl Of {
    pub fn from_name(s: &str) -> Result<Of> {
        match s {
            "logit" => Ok(Of::Logit),
            "probability" => Ok(Of::Probability),
            "loss" => Ok(Of::Loss),
            _ => Err(Error::param(
                "of",
                s,
                "must be \"logit\", \"probability\" or \"loss\"",
            )),
        }
    }
}

/// One input's activations, the gradient of every activation, and the class probabilities.
type Gradients = (Vec<Tensor>, Vec<Option<Tensor>>, Vec<f32>);

/// Most work one call may do, in multiply-adds (a few hundred milliseconds in a browser).
pub const MAX_WORK: u64 = 500_000_000;
/// Most steps of an iterated attack or a class image.
pub const MAX_STEPS: usize = 1000;

impl Model {
    fn classes_or_err(&self) -> Result<usize> {
        self.classes().ok_or_else(|| {
            Error::param(
                "model",
                &self.shapes()[self.logits_index()],
                "gradients to the input need a classifier: a model whose output is a vector of classes",
            )
        })
    }

    fn check_target(&self, target: usize, name: &'static str) -> Result<usize> {
        let classes = self.classes_or_err()?;
        if target >= classes {
            return Err(Error::param(
                name,
                target,
                format!("must be a class of the model: 0 to {}", classes - 1),
            ));
        }
        Ok(classes)
    }

    /// Multiply-adds of one forward and backward of one input (an estimate from the sizes).
    pub fn work(&self) -> u64 {
        let acts: usize = self
            .shapes()
            .iter()
            .map(|s| s.iter().product::<usize>())
            .sum();
        let mut w = 0u64;
        for (i, l) in self.layers.iter().enumerate() {
            if let Some((_, weight, _)) = l.params() {
                let out: usize = self.shapes()[i + 1].iter().product();
                let per = weight.shape()[1..].iter().product::<usize>().max(1);
                w = w.saturating_add(3 * (out * per) as u64);
            }
        }
        w.saturating_add(3 * acts as u64).max(1)
    }

    /// Refuses `repeats` passes that would take seconds, naming `what` and the most it may be.
    fn check_work(&self, repeats: usize, what: &'static str) -> Result<()> {
        let most = (MAX_WORK / self.work()) as usize;
        if repeats as u64 * self.work() > MAX_WORK {
            return Err(Error::param(
                what,
                repeats,
                format!(
                    "would take seconds with this model: at most {} here (ask for fewer, or in parts)",
                    most.max(1)
                ),
            ));
        }
        Ok(())
    }

    /// The forward of one input and the gradient of `of` of class `target` with respect to the
    /// logits, then the backward pass keeping every activation's gradient: (activations,
    /// gradients, probabilities).
    fn gradients_of(&self, x: &[f32], target: usize, of: Of) -> Result<Gradients> {
        super::check_input(self.input_shape(), x)?;
        self.check_target(target, "target")?;
        let mut shape = vec![1];
        shape.extend(self.input_shape());
        let trace = self.forward_batch(Tensor::new(x.to_vec(), &shape)?)?;
        let li = self.logits_index();
        let p = self
            .batch_probabilities(&trace.acts)
            .expect("a classifier has probabilities");
        let n = p.len();
        let mut d = vec![0.0f32; n];
        match of {
            Of::Logit => d[target] = 1.0,
            Of::Probability => {
                for (j, dj) in d.iter_mut().enumerate() {
                    let delta = if j == target { 1.0 } else { 0.0 };
                    *dj = p[target] * (delta - p[j]);
                }
            }
            Of::Loss => {
                for (j, dj) in d.iter_mut().enumerate() {
                    *dj = p[j] - if j == target { 1.0 } else { 0.0 };
                }
            }
        }
        let dl = Tensor::new(d, trace.acts[li].shape())?;
        let (_, kept) = self.backward_keeping(&trace, dl, true)?;
        Ok((trace.acts, kept, p))
    }

    /// The gradient of class `target`'s logit, probability or loss with respect to the input
    /// (`C·H·W` values): which input values move the answer, and which way.
    pub fn input_gradient(&self, x: &[f32], target: usize, of: Of) -> Result<Vec<f32>> {
        let (_, kept, _) = self.gradients_of(x, target, of)?;
        Ok(kept[0]
            .as_ref()
            .expect("the input's gradient is kept")
            .data()
            .to_vec())
    }

    /// Grad-CAM on activation `layer` (a `[C, H, W]` one, e.g. a conv's output) for class
    /// `target`: per channel the spatial mean of the logit's gradient, the channels summed with
    /// those weights, then ReLU: an `H × W` map. Also the map resampled to the input's size.
    pub fn grad_cam(&self, x: &[f32], layer: usize, target: usize) -> Result<GradCam> {
        let n = self.shapes().len();
        if layer == 0 || layer >= n {
            return Err(Error::param(
                "layer",
                layer,
                format!("must be an activation of the model: 1 to {}", n - 1),
            ));
        }
        let &[c, h, w] = &self.shapes()[layer][..] else {
            return Err(Error::param(
                "layer",
                layer,
                format!(
                    "{} is {:?}: Grad-CAM needs a [channels, height, width] activation (a conv, pool or activation of one)",
                    self.names()[layer - 1],
                    self.shapes()[layer]
                ),
            ));
        };
        if layer >= self.logits_index() {
            return Err(Error::param("layer", layer, "must come before the logits"));
        }
        let (acts, kept, _) = self.gradients_of(x, target, Of::Logit)?;
        let a = acts[layer].data();
        let g = kept[layer]
            .as_ref()
            .ok_or_else(|| Error::shape("no gradient reaches this layer"))?
            .data();
        let plane = h * w;
        let weights: Vec<f32> = g
            .chunks_exact(plane)
            .map(|ch| (ch.iter().map(|&v| v as f64).sum::<f64>() / plane as f64) as f32)
            .collect();
        let mut map = vec![0.0f32; plane];
        for (&wk, ak) in weights.iter().zip(a.chunks_exact(plane)) {
            for (m, &v) in map.iter_mut().zip(ak) {
                *m += wk * v;
            }
        }
        slice::relu(&mut map);
        let [_, ih, iw] = self.input_shape();
        let upsampled = crate::mnist::preprocess::resample(&map, [1, h, w], [ih, iw]);
        Ok(GradCam {
            map,
            h,
            w,
            weights,
            channels: c,
            upsampled,
            input_h: ih,
            input_w: iw,
        })
    }

    /// A conv layer's backward step with respect to its input, shown as what it is: for image
    /// `x` and class `target`'s logit, the gradient at the conv's output (dout), then
    /// dX = conv_transpose2d(dout, W) on the project's transposed-conv kernel beside the dX the
    /// layer's backward pass in training computes (im2col's GEMM, then col2im); and for one cell
    /// of dX (`cell`, `[c, y, x]`; the largest by default) the stamps that land on it, each a
    /// dout value times a kernel tap, their sum, and the largest one (its kernel scaled, where
    /// it lands), as the transposed-conv scene draws them. `layer` names a `conv2d` layer.
    pub fn adjoint_step(
        &self,
        x: &[f32],
        layer: &str,
        target: usize,
        cell: Option<[usize; 3]>,
    ) -> Result<AdjointStep> {
        let convs: Vec<&str> = self
            .layers
            .iter()
            .filter(|l| matches!(l, super::Layer::Conv2d { .. }))
            .filter_map(|l| l.params().map(|p| p.0))
            .collect();
        let Some(li) = self
            .layers
            .iter()
            .position(|l| matches!(l, super::Layer::Conv2d { name, .. } if name == layer))
        else {
            return Err(Error::param(
                "layer",
                format!("{layer:?}"),
                if convs.is_empty() {
                    "names no conv2d layer: this model has none".to_string()
                } else {
                    format!(
                        "must name a conv2d layer of this model: {}",
                        convs.join(", ")
                    )
                },
            ));
        };
        let super::Layer::Conv2d { weight, params, .. } = &self.layers[li] else {
            unreachable!("found as a conv2d above")
        };
        let &[ci, h, w] = &self.shapes()[li][..] else {
            return Err(Error::shape(
                "a conv2d's input is [channels, height, width]",
            ));
        };
        let &[co, ho, wo] = &self.shapes()[li + 1][..] else {
            return Err(Error::shape(
                "a conv2d's output is [channels, height, width]",
            ));
        };
        let cell = match cell {
            Some([c, y, xx]) if c >= ci || y >= h || xx >= w => {
                return Err(Error::param(
                    "cell",
                    format!("[{c}, {y}, {xx}]"),
                    format!("must be a cell of the layer's input, [0..{ci}, 0..{h}, 0..{w}]"),
                ))
            }
            other => other,
        };
        let (acts, kept, _) = self.gradients_of(x, target, Of::Logit)?;
        let dy = kept[li + 1]
            .as_ref()
            .ok_or_else(|| Error::shape("no gradient reaches this layer"))?;
        // The dX this layer's own backward pass hands down (a residual add may hand the
        // input more besides).
        let (dx_model, _, _) = super::layers::conv_backward(&acts[li], weight, dy, params)?;
        let dx_model = dx_model.data().to_vec();
        let [kh, kw] = [weight.shape()[2], weight.shape()[3]];
        let [sh, sw] = params.stride;
        let [pt, pl, pb, pr] = params.padding;
        let [dh, dw] = params.dilation;
        // Rows and columns the conv's last window left out come back as output padding, so
        // the transposed conv gives the input's own size.
        let mut tp = *params;
        tp.output_padding = [
            (h + pt + pb - dh * (kh - 1) - 1) % sh,
            (w + pl + pr - dw * (kw - 1) - 1) % sw,
        ];
        let dx = crate::conv::conv_transpose2d(dy, weight, None, &tp)?;
        let dx = dx.data().to_vec();
        if dx.len() != dx_model.len() {
            return Err(Error::shape(format!(
                "the transposed conv gave {} values for an input of {}",
                dx.len(),
                dx_model.len()
            )));
        }
        let dout = dy.data().to_vec();
        let cell = cell.unwrap_or_else(|| {
            let i = dx_model.iter().enumerate().fold(0, |b, (i, v)| {
                if v.abs() > dx_model[b].abs() {
                    i
                } else {
                    b
                }
            });
            [i / (h * w), i / w % h, i % w]
        });
        // Every stamp on the cell: output position (o, oy, ox) and kernel tap (ky, kx) with
        // oy·s − pad + ky·d = y (and the same across), o in the cell's channel group.
        let [c, y, xx] = cell;
        let g = params.groups;
        let (ci_g, co_g) = (ci / g, co / g);
        let group = c / ci_g;
        let wd = weight.data();
        let tap = |o: usize, ky: usize, kx: usize| wd[((o * ci_g + c % ci_g) * kh + ky) * kw + kx];
        let mut sum = 0.0f64;
        let mut count = 0usize;
        let mut best: Option<(f32, usize, usize, usize)> = None;
        for o in group * co_g..(group + 1) * co_g {
            for ky in 0..kh {
                let Some(oy) = (y + pt).checked_sub(ky * dh) else {
                    continue;
                };
                if oy % sh != 0 || oy / sh >= ho {
                    continue;
                }
                for kx in 0..kw {
                    let Some(ox) = (xx + pl).checked_sub(kx * dw) else {
                        continue;
                    };
                    if ox % sw != 0 || ox / sw >= wo {
                        continue;
                    }
                    let (oy, ox) = (oy / sh, ox / sw);
                    let d = dout[(o * ho + oy) * wo + ox];
                    let term = d * tap(o, ky, kx);
                    sum += d as f64 * tap(o, ky, kx) as f64;
                    count += 1;
                    if best.is_none_or(|b| term.abs() > b.0.abs()) {
                        best = Some((term, o, oy, ox));
                    }
                }
            }
        }
        let at = (c * h + y) * w + xx;
        let stamp = best.map(|(_, o, oy, ox)| {
            let d = dout[(o * ho + oy) * wo + ox];
            let base = (o * ci_g + c % ci_g) * kh * kw;
            let kernel = wd[base..base + kh * kw].to_vec();
            Stamp {
                channel: o,
                y: oy,
                x: ox,
                dout: d,
                scaled: kernel.iter().map(|k| d * k).collect(),
                kernel,
                top: (oy * sh) as isize - pt as isize,
                left: (ox * sw) as isize - pl as isize,
            }
        });
        let max_abs = |v: &[f32]| v.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        let max_diff = dx
            .iter()
            .zip(&dx_model)
            .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
        Ok(AdjointStep {
            layer: layer.to_string(),
            input_shape: [ci, h, w],
            output_shape: [co, ho, wo],
            kernel_size: [kh, kw],
            stride: params.stride,
            padding: params.padding,
            dilation: params.dilation,
            groups: g,
            output_padding: tp.output_padding,
            dout_scale: max_abs(&dout).max(f32::MIN_POSITIVE),
            dx_scale: max_abs(&dx_model).max(f32::MIN_POSITIVE),
            dout,
            cell,
            by_transpose: dx[at],
            by_model: dx_model[at],
            by_stamps: sum as f32,
            stamps: count,
            stamp,
            max_diff,
            dx,
            dx_model,
        })
    }

    /// An adversarial input: `steps` = 1 is FGSM, `x + ε·sign(∂loss/∂x)` (untargeted: the loss
    /// of `label` raised) or `x − ε·sign(∂loss_target/∂x)` (targeted: the loss of `target`
    /// lowered), clipped to [0, 1]; more steps iterate it with steps of ε / steps·2.5, each time
    /// projected back to within ε of `x` (and [0, 1]).
    pub fn adversarial(
        &self,
        x: &[f32],
        epsilon: f32,
        label: usize,
        steps: usize,
        target: Option<usize>,
    ) -> Result<Adversarial> {
        super::check_input(self.input_shape(), x)?;
        if !(epsilon.is_finite() && (0.0..=1.0).contains(&epsilon)) {
            return Err(Error::param(
                "epsilon",
                epsilon,
                "must be a number from 0 to 1",
            ));
        }
        self.check_target(label, "label")?;
        if let Some(t) = target {
            self.check_target(t, "target")?;
        }
        if steps == 0 || steps > MAX_STEPS {
            return Err(Error::param(
                "steps",
                steps,
                format!("must be 1 to {MAX_STEPS}"),
            ));
        }
        self.check_work(steps + 1, "steps")?;
        let alpha = if steps == 1 {
            epsilon
        } else {
            epsilon / steps as f32 * 2.5
        };
        let mut adv = x.to_vec();
        for _ in 0..steps {
            let (goal, sign) = match target {
                Some(t) => (t, -1.0f32),
                None => (label, 1.0),
            };
            let g = self.input_gradient(&adv, goal, Of::Loss)?;
            for ((a, &x0), &gi) in adv.iter_mut().zip(x).zip(&g) {
                let s = if gi > 0.0 {
                    1.0
                } else if gi < 0.0 {
                    -1.0
                } else {
                    0.0
                };
                *a = (*a + sign * alpha * s)
                    .clamp(x0 - epsilon, x0 + epsilon)
                    .clamp(0.0, 1.0);
            }
        }
        let f = self.forward(&adv)?;
        let probabilities = f.probabilities().to_vec();
        let top = argmax(&probabilities);
        Ok(Adversarial {
            perturbation: adv.iter().zip(x).map(|(a, b)| a - b).collect(),
            pixels: adv,
            probabilities,
            top,
        })
    }

    /// The input that maximises class `target`'s logit: gradient ascent from a blank start (or
    /// a faint random one from `seed`), each step `x += rate·(g / max|g| − l2·x)`, every fourth
    /// step a 3 × 3 blur of weight `blur` (0: none), clipped to [0, 1].
    pub fn class_image(
        &self,
        target: usize,
        steps: usize,
        l2: f32,
        blur: f32,
        seed: Option<u64>,
    ) -> Result<Vec<f32>> {
        self.class_image_from(target, steps, l2, blur, seed, None)
    }

    /// [`Model::class_image`] continued from `start` (an earlier call's result), so a long
    /// ascent can run in short parts.
    pub fn class_image_from(
        &self,
        target: usize,
        steps: usize,
        l2: f32,
        blur: f32,
        seed: Option<u64>,
        start: Option<&[f32]>,
    ) -> Result<Vec<f32>> {
        if let Some(x) = start {
            super::check_input(self.input_shape(), x)?;
        }
        self.check_target(target, "target")?;
        if steps == 0 || steps > MAX_STEPS {
            return Err(Error::param(
                "steps",
                steps,
                format!("must be 1 to {MAX_STEPS}"),
            ));
        }
        for (name, v) in [("l2", l2), ("blur", blur)] {
            if !(v.is_finite() && (0.0..=1.0).contains(&v)) {
                return Err(Error::param(name, v, "must be a number from 0 to 1"));
            }
        }
        self.check_work(steps, "steps")?;
        let n = self.input_len();
        let mut x = match (start, seed) {
            (Some(x), _) => x.iter().map(|v| v.clamp(0.0, 1.0)).collect(),
            (None, Some(s)) => {
                let mut rng = Rng::new(s);
                (0..n).map(|_| rng.uniform(0.0, 0.1)).collect()
            }
            (None, None) => vec![0.0f32; n],
        };
        let rate = 0.05f32;
        let [c, h, w] = self.input_shape();
        for step in 0..steps {
            let g = self.input_gradient(&x, target, Of::Logit)?;
            let m = g.iter().fold(0.0f32, |a, &b| a.max(b.abs()));
            let scale = if m > 0.0 { 1.0 / m } else { 0.0 };
            for (xi, &gi) in x.iter_mut().zip(&g) {
                *xi = (*xi + rate * (gi * scale - l2 * *xi)).clamp(0.0, 1.0);
            }
            if blur > 0.0 && step % 4 == 3 {
                x = blur3(&x, [c, h, w], blur);
            }
        }
        Ok(x)
    }

    /// Occlusion sensitivity: a `patch × patch` square of `value` slid over the input with
    /// `stride` (the same in every channel); per position, class `target`'s probability without
    /// the patch minus with it (positive: the covered part supported the class). The positions
    /// are a correlation's windows: `(H − patch) / stride + 1` by `(W − patch) / stride + 1`.
    pub fn occlusion(
        &self,
        x: &[f32],
        target: usize,
        patch: usize,
        stride: usize,
        value: f32,
    ) -> Result<Occlusion> {
        super::check_input(self.input_shape(), x)?;
        self.check_target(target, "target")?;
        let [c, h, w] = self.input_shape();
        if patch == 0 || patch > h.min(w) {
            return Err(Error::param(
                "patch",
                patch,
                format!("must be 1 to {} (the input's smaller side)", h.min(w)),
            ));
        }
        if stride == 0 || stride > patch {
            return Err(Error::param(
                "stride",
                stride,
                format!("must be 1 to the patch ({patch})"),
            ));
        }
        if !(value.is_finite() && (0.0..=1.0).contains(&value)) {
            return Err(Error::param("value", value, "must be a number from 0 to 1"));
        }
        let (oh, ow) = ((h - patch) / stride + 1, (w - patch) / stride + 1);
        self.check_work(oh * ow + 1, "patch positions")?;
        let base = self.forward(x)?.probabilities()[target];
        let mut map = Vec::with_capacity(oh * ow);
        let mut covered = x.to_vec();
        for oy in 0..oh {
            for ox in 0..ow {
                covered.copy_from_slice(x);
                for ch in 0..c {
                    for y in oy * stride..oy * stride + patch {
                        let row = (ch * h + y) * w;
                        covered[row + ox * stride..row + ox * stride + patch].fill(value);
                    }
                }
                map.push(base - self.forward(&covered)?.probabilities()[target]);
            }
        }
        Ok(Occlusion {
            map,
            h: oh,
            w: ow,
            base,
        })
    }
}

/// Gradient × input, value by value: for a model linear in its input (the single-layer
/// perceptron's logits) each value's share of the logit, less its bias.
pub fn times_input(gradient: &[f32], x: &[f32]) -> Vec<f32> {
    gradient.iter().zip(x).map(|(g, v)| g * v).collect()
}

/// A 3 × 3 blur of every channel: each value moves `amount` of the way to its neighbourhood's
/// mean (the cells inside the image).
fn blur3(x: &[f32], [c, h, w]: [usize; 3], amount: f32) -> Vec<f32> {
    let mut out = x.to_vec();
    for ch in 0..c {
        for y in 0..h {
            for xx in 0..w {
                let (mut s, mut n) = (0.0f32, 0.0f32);
                for yy in y.saturating_sub(1)..(y + 2).min(h) {
                    for xz in xx.saturating_sub(1)..(xx + 2).min(w) {
                        s += x[(ch * h + yy) * w + xz];
                        n += 1.0;
                    }
                }
                let i = (ch * h + y) * w + xx;
                out[i] = x[i] + amount * (s / n - x[i]);
            }
        }
    }
    out
}

/// [`Model::grad_cam`]'s result.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GradCam {
    #[serde(serialize_with = "crate::typed::f32s")]
    pub map: Vec<f32>,
    pub h: usize,
    pub w: usize,
    /// Each channel's weight: the spatial mean of the logit's gradient.
    #[serde(serialize_with = "crate::typed::f32s")]
    pub weights: Vec<f32>,
    pub channels: usize,
    #[serde(serialize_with = "crate::typed::f32s")]
    pub upsampled: Vec<f32>,
    pub input_h: usize,
    pub input_w: usize,
}

/// [`Model::adjoint_step`]'s result: a conv's backward step to its input as a transposed conv.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdjointStep {
    pub layer: String,
    /// `[C, H, W]` of the conv's input (dX's shape) and output (dout's).
    pub input_shape: [usize; 3],
    pub output_shape: [usize; 3],
    pub kernel_size: [usize; 2],
    pub stride: [usize; 2],
    pub padding: [usize; 4],
    pub dilation: [usize; 2],
    pub groups: usize,
    /// The transposed conv's output padding that gives back the input's size.
    pub output_padding: [usize; 2],
    /// ∂logit/∂(the conv's output).
    #[serde(serialize_with = "crate::typed::f32s")]
    pub dout: Vec<f32>,
    /// conv_transpose2d(dout, W), and the layer's backward pass's dX; the largest |difference|.
    #[serde(serialize_with = "crate::typed::f32s")]
    pub dx: Vec<f32>,
    #[serde(serialize_with = "crate::typed::f32s")]
    pub dx_model: Vec<f32>,
    pub max_diff: f32,
    /// Colour scales: the largest |dout| and |dX|.
    pub dout_scale: f32,
    pub dx_scale: f32,
    /// The dX cell explained, `[c, y, x]`, its value by the transposed conv, by the backward
    /// pass, and as the sum of its `stamps` stamps (each a dout value × a kernel tap).
    pub cell: [usize; 3],
    pub by_transpose: f32,
    pub by_model: f32,
    pub by_stamps: f32,
    pub stamps: usize,
    /// The largest stamp on the cell (none when no window covers it).
    pub stamp: Option<Stamp>,
}

/// One dout cell stamping its kernel, scaled by itself, onto dX.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stamp {
    /// The dout cell: channel, row, column; and its value.
    pub channel: usize,
    pub y: usize,
    pub x: usize,
    pub dout: f32,
    /// `W[channel, c]` (`kh × kw`), and it times `dout`: what lands on dX.
    #[serde(serialize_with = "crate::typed::f32s")]
    pub kernel: Vec<f32>,
    #[serde(serialize_with = "crate::typed::f32s")]
    pub scaled: Vec<f32>,
    /// Where the kernel's top-left tap lands on dX (negative: in the padding); taps are
    /// `dilation` apart.
    pub top: isize,
    pub left: isize,
}

/// [`Model::adversarial`]'s result.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Adversarial {
    #[serde(serialize_with = "crate::typed::f32s")]
    pub pixels: Vec<f32>,
    #[serde(serialize_with = "crate::typed::f32s")]
    pub perturbation: Vec<f32>,
    #[serde(serialize_with = "crate::typed::f32s")]
    pub probabilities: Vec<f32>,
    pub top: usize,
}

/// [`Model::occlusion`]'s result.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Occlusion {
    #[serde(serialize_with = "crate::typed::f32s")]
    pub map: Vec<f32>,
    pub h: usize,
    pub w: usize,
    /// The class's probability without any patch.
    pub base: f32,
}

#[cfg(test)]
mod tests {
    use super::super::tests::{every_kind, random_model};
    use super::super::Preset;
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn image(m: &Model, seed: u64) -> Vec<f32> {
        let mut rng = Rng::new(seed);
        (0..m.input_len())
            .map(|_| rng.uniform(0.05, 0.95))
            .collect()
    }

    /// The quantity whose gradient `input_gradient` gives, from the forward alone.
    fn value(m: &Model, x: &[f32], target: usize, of: Of) -> f64 {
        let f = m.forward(x).unwrap();
        let li = m.logits_index();
        match of {
            Of::Logit => f.activations[li].data()[target] as f64,
            Of::Probability => f.probabilities()[target] as f64,
            Of::Loss => -(f.probabilities()[target] as f64).ln(),
        }
    }

    /// Every kind (the three specs that use them all, and the shipped cnn): the input gradient of
    /// each quantity against central finite differences of the forward.
    #[test]
    fn input_gradients_match_finite_differences() {
        let mut models: Vec<Model> = every_kind()
            .iter()
            .enumerate()
            .filter(|(_, s)| Model::new(s).unwrap().classes().is_some())
            .map(|(i, s)| random_model(s, 70 + i as u64))
            .collect();
        models.push(Preset::Cnn.init(3));
        for (k, m) in models.iter().enumerate() {
            let x = image(m, k as u64);
            for of in [Of::Logit, Of::Probability, Of::Loss] {
                let target = 3 % m.classes().unwrap();
                let g = m.input_gradient(&x, target, of).unwrap();
                assert_eq!(g.len(), x.len());
                let h = 2e-3f32;
                let mut rng = Rng::new(9);
                for _ in 0..6 {
                    let i = rng.below(x.len());
                    let mut xp = x.clone();
                    xp[i] += h;
                    let vp = value(m, &xp, target, of);
                    xp[i] -= 2.0 * h;
                    let vm = value(m, &xp, target, of);
                    let numeric = (vp - vm) / (2.0 * h as f64);
                    assert!(
                        (numeric - g[i] as f64).abs() <= 2e-3 + 0.03 * numeric.abs(),
                        "model {k} {of:?} x[{i}]: numeric {numeric} analytic {}",
                        g[i]
                    );
                }
            }
        }
    }

    /// For the slp, gradient × input adds up to the logit less the bias (its template's dot
    /// product with the input).
    #[test]
    fn gradient_times_input_is_the_slps_logit_less_its_bias() {
        let m = Model::from_safetensors(super::super::shipped::SLP).unwrap();
        let x = image(&m, 6);
        let Some(super::super::Layer::Linear { bias, .. }) = m.layers.get(1) else {
            panic!("the slp's fc1")
        };
        for t in [1, 4] {
            let gx = times_input(&m.input_gradient(&x, t, Of::Logit).unwrap(), &x);
            let s: f64 = gx.iter().map(|&v| v as f64).sum();
            let logit = value(&m, &x, t, Of::Logit);
            assert!(
                (s + bias.data()[t] as f64 - logit).abs() < 1e-4,
                "{s} + bias vs {logit}"
            );
        }
    }

    /// A conv's backward step to its input is the transposed conv of dout with the same weights
    /// (the adjoint): equal to the backward pass everywhere, each cell the sum of its stamps.
    #[test]
    fn a_convs_backward_step_is_the_transposed_conv_of_dout() {
        // Strides, padding, dilation and groups, and rows a stride-2 window leaves out.
        let odd = crate::nn::spec::Spec::from_json(
            r#"{"input":[3,11,9],"layers":[{"kind":"conv2d","outChannels":6,"kernelSize":[2,3],"stride":[2,3],"padding":[0,1,0,0],"dilation":[1,2],"groups":3},{"kind":"relu"},{"kind":"flatten"},{"kind":"linear","outFeatures":5}]}"#,
        )
        .unwrap();
        let mut models: Vec<Model> = every_kind()
            .iter()
            .filter(|s| Model::new(s).unwrap().classes().is_some())
            .enumerate()
            .map(|(i, s)| random_model(s, 90 + i as u64))
            .collect();
        models.push(random_model(&odd, 5));
        models.push(Preset::Cnn.init(4));
        let mut checked = 0;
        for (k, m) in models.iter().enumerate() {
            let x = image(m, 20 + k as u64);
            let target = 2 % m.classes().unwrap();
            let convs: Vec<String> = m
                .layers
                .iter()
                .filter(|l| matches!(l, super::super::Layer::Conv2d { .. }))
                .map(|l| l.params().unwrap().0.to_string())
                .collect();
            for name in &convs {
                let a = m.adjoint_step(&x, name, target, None).unwrap();
                let [ci, h, w] = a.input_shape;
                assert_eq!(a.dx.len(), ci * h * w);
                let tol = 1e-4 * a.dx_scale;
                assert!(
                    a.max_diff <= tol,
                    "model {k} {name}: |Δ| {} > {tol}",
                    a.max_diff
                );
                let mut rng = Rng::new(k as u64);
                let mut cells = vec![a.cell];
                cells.extend((0..5).map(|_| [rng.below(ci), rng.below(h), rng.below(w)]));
                for cell in cells {
                    let b = m.adjoint_step(&x, name, target, Some(cell)).unwrap();
                    let at = (cell[0] * h + cell[1]) * w + cell[2];
                    assert_eq!(b.cell, cell);
                    assert_eq!((b.by_transpose, b.by_model), (b.dx[at], b.dx_model[at]));
                    assert!(
                        (b.by_stamps - b.by_model).abs() <= tol,
                        "model {k} {name} {cell:?}: {} stamps sum to {}, the backward pass says {}",
                        b.stamps,
                        b.by_stamps,
                        b.by_model
                    );
                    if let Some(st) = &b.stamp {
                        let [kh, kw] = b.kernel_size;
                        let [dh, dw] = b.dilation;
                        for (s, k) in st.scaled.iter().zip(&st.kernel) {
                            assert_eq!(*s, st.dout * k);
                        }
                        let lands = (0..kh)
                            .any(|ky| st.top + (ky * dh) as isize == cell[1] as isize)
                            && (0..kw).any(|kx| st.left + (kx * dw) as isize == cell[2] as isize);
                        assert!(lands, "model {k} {name}: the stamp misses {cell:?}");
                    } else {
                        assert_eq!((b.stamps, b.by_model), (0, 0.0), "no stamp, no gradient");
                    }
                    checked += 1;
                }
            }
        }
        assert!(checked >= 30, "{checked} cells checked");
        // A first conv's dX is the gradient to the image: the saliency map itself.
        let cnn = Preset::Cnn.init(4);
        let x = image(&cnn, 1);
        let a = cnn.adjoint_step(&x, "conv1", 3, None).unwrap();
        assert_eq!(a.dx_model, cnn.input_gradient(&x, 3, Of::Logit).unwrap());
        let e = cnn
            .adjoint_step(&x, "fc1", 3, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("conv1, conv2"), "{e}");
        let e = cnn
            .adjoint_step(&x, "conv2", 3, Some([8, 0, 0]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("cell"), "{e}");
    }

    /// FGSM is its formula, pixel by pixel: x + ε·sign(∂loss/∂x), clipped to [0, 1].
    #[test]
    fn one_step_is_fgsm_pixel_by_pixel() {
        let m = Preset::Mlp.init(5);
        let x = image(&m, 1);
        let eps = 0.1;
        let g = m.input_gradient(&x, 7, Of::Loss).unwrap();
        let a = m.adversarial(&x, eps, 7, 1, None).unwrap();
        for i in 0..x.len() {
            let want = (x[i] + eps * g[i].signum() * f32::from(g[i] != 0.0)).clamp(0.0, 1.0);
            assert_eq!(a.pixels[i], want, "pixel {i}");
            assert!((a.perturbation[i] - (a.pixels[i] - x[i])).abs() < 1e-7);
        }
        // Targeted and iterated: within ε of x, in [0, 1], and the target's loss goes down.
        let t = m.adversarial(&x, eps, 7, 10, Some(2)).unwrap();
        assert!(t
            .pixels
            .iter()
            .zip(&x)
            .all(|(p, q)| (p - q).abs() <= eps + 1e-6 && (0.0..=1.0).contains(p)));
        assert!(value(&m, &t.pixels, 2, Of::Loss) < value(&m, &x, 2, Of::Loss));
        let u = m.adversarial(&x, eps, 7, 10, None).unwrap();
        assert!(value(&m, &u.pixels, 7, Of::Loss) > value(&m, &x, 7, Of::Loss));
    }

    /// For the single-layer perceptron the logit's gradient is the template itself, so its class
    /// image is the template's positive part, scaled (no blur).
    #[test]
    fn the_slps_class_images_are_its_templates() {
        let m = Model::from_safetensors(super::super::shipped::SLP).unwrap();
        let Some(super::super::Layer::Linear { weight, .. }) = m.layers.get(1) else {
            panic!("the slp's fc1")
        };
        for d in [0, 3, 8] {
            let img = m.class_image(d, 60, 0.1, 0.0, None).unwrap();
            let t = &weight.data()[d * 784..(d + 1) * 784];
            // Where the template is negative the image stays at 0; where positive, it grows.
            let (mut dot, mut nx, mut nt) = (0.0f64, 0.0f64, 0.0f64);
            for (&p, &w) in img.iter().zip(t) {
                if w <= 0.0 {
                    assert_eq!(p, 0.0);
                }
                let wp = w.max(0.0) as f64;
                dot += p as f64 * wp;
                nx += (p as f64).powi(2);
                nt += wp * wp;
            }
            let cos = dot / (nx.sqrt() * nt.sqrt());
            assert!(cos > 0.95, "digit {d}: cosine {cos}");
        }
    }

    /// A class image made in parts (each continuing from the last) is the one made at once.
    #[test]
    fn a_class_image_can_be_made_in_parts() {
        let m = Preset::Cnn.init(2);
        let whole = m.class_image(4, 12, 0.05, 0.0, None).unwrap();
        let half = m.class_image(4, 6, 0.05, 0.0, None).unwrap();
        let parts = m
            .class_image_from(4, 6, 0.05, 0.0, None, Some(&half))
            .unwrap();
        assert_eq!(parts, whole);
        assert!(m
            .class_image_from(4, 6, 0.05, 0.0, None, Some(&[0.0; 10]))
            .is_err());
    }

    /// Grad-CAM by hand: a 1×1 conv makes channels x and −x; the logit reads them with weights
    /// 1 and ½ per cell, so the channel weights are 1 and ½ and the map is ReLU(1·x − ½·x) = ½x.
    #[test]
    fn grad_cam_by_hand() {
        let spec = crate::nn::spec::Spec::from_json(
            r#"{"input":[1,8,8],"layers":[{"kind":"conv2d","outChannels":2,"kernelSize":1,"bias":false},{"kind":"flatten"},{"kind":"linear","outFeatures":2,"bias":false}]}"#,
        )
        .unwrap();
        let mut m = Model::new(&spec).unwrap();
        {
            let mut p = m.params_mut();
            p[0].0.data_mut().copy_from_slice(&[1.0, -1.0]);
            let fc = p[1].0.data_mut();
            fc.fill(0.0);
            fc[..64].fill(1.0);
            fc[64..128].fill(0.5);
        }
        let x: Vec<f32> = (0..64).map(|i| i as f32 / 64.0).collect();
        let cam = m.grad_cam(&x, 1, 0).unwrap();
        assert_eq!(cam.weights, vec![1.0, 0.5]);
        for (i, v) in cam.map.iter().enumerate() {
            assert!((v - 0.5 * x[i]).abs() < 1e-6, "cell {i}: {v}");
        }
        // Class 1 reads nothing: every weight 0, the map 0.
        assert!(m.grad_cam(&x, 1, 1).unwrap().map.iter().all(|&v| v == 0.0));
    }

    /// Grad-CAM by hand: a conv layer of two channels, one whose mean gradient is positive.
    #[test]
    fn grad_cam_is_the_channel_weighted_map() {
        let m = Preset::Cnn.init(8);
        let x = image(&m, 2);
        let layer = 4; // conv2's output
        assert_eq!(m.names()[layer - 1], "conv2");
        let cam = m.grad_cam(&x, layer, 5).unwrap();
        let (acts, kept, _) = m.gradients_of(&x, 5, Of::Logit).unwrap();
        let (a, g) = (acts[layer].data(), kept[layer].as_ref().unwrap().data());
        assert_eq!((cam.h, cam.w, cam.channels), (14, 14, 16));
        for (y, want) in [(0usize, 0usize), (3, 7), (13, 13)] {
            let i = y * 14 + want;
            let mut s = 0.0f64;
            for c in 0..16 {
                let mean: f64 = g[c * 196..(c + 1) * 196]
                    .iter()
                    .map(|&v| v as f64)
                    .sum::<f64>()
                    / 196.0;
                s += mean * a[c * 196 + i] as f64;
            }
            assert!(
                (cam.map[i] as f64 - s.max(0.0)).abs() < 1e-5,
                "cell {i}: {} vs {s}",
                cam.map[i]
            );
        }
        assert_eq!(cam.upsampled.len(), 784);
        assert!(
            m.grad_cam(&x, 11, 5).is_err(),
            "the softmax's output is no map"
        );
        assert!(m
            .grad_cam(&x, 8, 5)
            .unwrap_err()
            .to_string()
            .contains("[channels, height, width]"));
    }

    /// Occlusion: covering nothing the model reads changes nothing; the map's size is the
    /// correlation's; a patch over a dense template's strongest pixels lowers its class.
    #[test]
    fn occlusion_is_a_sliding_patch() {
        let m = Model::from_safetensors(super::super::shipped::SLP).unwrap();
        let x = image(&m, 4);
        let o = m.occlusion(&x, 3, 7, 7, 0.0).unwrap();
        assert_eq!((o.h, o.w), (4, 4));
        let p = m.forward(&x).unwrap().probabilities()[3];
        assert_eq!(o.base, p);
        // Position (1, 2) by hand.
        let mut c = x.clone();
        for y in 7..14 {
            c[y * 28 + 14..y * 28 + 21].fill(0.0);
        }
        let want = p - m.forward(&c).unwrap().probabilities()[3];
        assert_eq!(o.map[4 + 2], want);
        assert!(m.occlusion(&x, 3, 0, 1, 0.5).is_err());
        assert!(m
            .occlusion(&x, 3, 5, 6, 0.5)
            .unwrap_err()
            .to_string()
            .contains("stride"));
        assert!(m
            .occlusion(&x, 10, 5, 1, 0.5)
            .unwrap_err()
            .to_string()
            .contains("0 to 9"));
    }

    #[test]
    fn requests_that_would_take_seconds_are_refused() {
        let m = Preset::Cnn.init(1);
        let x = image(&m, 1);
        let e = m
            .adversarial(&x, 0.1, 1, 1001, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("steps") && e.contains("1000"), "{e}");
        let big = Model::init(
            &crate::nn::spec::Spec::from_json(
                r#"{"input":[3,64,64],"layers":[{"kind":"conv2d","outChannels":64,"kernelSize":5,"padding":2},{"kind":"conv2d","outChannels":64,"kernelSize":5,"padding":2},{"kind":"globalavgpool"},{"kind":"flatten"},{"kind":"linear","outFeatures":10}]}"#,
            )
            .unwrap(),
            1,
        )
        .unwrap();
        let e = big
            .class_image(1, 1000, 0.1, 0.5, None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("would take seconds") && e.contains("at most"),
            "{e}"
        );
        let e = Model::new(
            &crate::nn::spec::Spec::from_json(r#"{"input":[1,8,8],"layers":[{"kind":"relu"}]}"#)
                .unwrap(),
        )
        .unwrap()
        .input_gradient(&[0.0; 64], 0, Of::Logit)
        .unwrap_err()
        .to_string();
        assert!(e.contains("classifier"), "{e}");
    }
}
