//! What made one activation: for a cell of a layer's output, the values it was computed from
//! (the window of the layer before, the weights, their products, the per-channel sums, the
//! bias), the sum recomputed from them, the same terms rounded so that the shown terms add up
//! to the shown sum, and its receptive field: on every earlier activation and the input, the
//! cells and the channels that fed it (ReLU and pooling are per channel; a conv reads all the
//! channels of its group; a dense layer and softmax read everything).
//!
//! Cells are named in each activation's *view*, the `[C, H, W]` the page draws it as:
//! conv and pool outputs as they are, a flatten as the `[C, H, W]` it flattens (16 × 7 × 7),
//! a dense vector of n values as one row when n ≤ 16, else as the most nearly square grid
//! (64 → 8 × 8). A view is a reshape: cell (c, y, x) is value `(c·H + y)·W + x`.

use serde::Serialize;

use super::{Layer, Model};
use crate::error::{Error, Result};
use crate::trace::{rounded_sum, rounded_sum_to, RoundedSum};

/// Decimals of the shown terms and sums.
pub const DECIMALS: u32 = 3;

/// The `[C, H, W]` each activation is drawn as (index 0 = the input).
pub fn views(model: &Model) -> Vec<[usize; 3]> {
    let shapes = model.shapes();
    let mut out: Vec<[usize; 3]> = Vec::with_capacity(shapes.len());
    for (i, s) in shapes.iter().enumerate() {
        let flatten = i > 0 && matches!(model.layers[i - 1], Layer::Flatten);
        out.push(if flatten {
            out[i - 1]
        } else if s.len() == 3 {
            [s[0], s[1], s[2]]
        } else {
            let n: usize = s.iter().product();
            if n <= 16 {
                [1, 1, n]
            } else {
                // The largest divisor of n at most √n: 64 → 8 × 8, 128 → 8 × 16.
                let h = (1..=n)
                    .take_while(|d| d * d <= n)
                    .filter(|d| n.is_multiple_of(*d))
                    .last()
                    .unwrap_or(1);
                [1, h, n / h]
            }
        });
    }
    out
}

/// The largest value of one activation and where it is, named in the activation's view.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Peak {
    pub layer: usize,
    pub channel: usize,
    pub y: usize,
    pub x: usize,
    pub value: f32,
}

/// The most active cell of activation `layer` (0 = the input), over all its channels or only
/// `channel`: the first of the largest values in reading order (a NaN never wins).
pub fn peak(model: &Model, acts: &[&[f32]], layer: usize, channel: Option<usize>) -> Result<Peak> {
    let views = views(model);
    if layer >= views.len() || layer >= acts.len() {
        return Err(Error::param(
            "layer",
            layer,
            format!("must be below {} (0 is the input)", views.len()),
        ));
    }
    let [c, h, w] = views[layer];
    let a = acts[layer];
    if a.len() < c * h * w || c * h * w == 0 {
        return Err(Error::shape(format!(
            "activation {layer} holds {} values, not its {c}×{h}×{w}: run the forward pass first",
            a.len()
        )));
    }
    let range = match channel {
        Some(ch) if ch >= c => {
            return Err(Error::param(
                "channel",
                ch,
                format!("must be below {c} (activation {layer} has {c} channels)"),
            ))
        }
        Some(ch) => ch * h * w..(ch + 1) * h * w,
        None => 0..c * h * w,
    };
    let mut best = range.start;
    for i in range {
        if a[i] > a[best] || a[best].is_nan() {
            best = i;
        }
    }
    Ok(Peak {
        layer,
        channel: best / (h * w),
        y: best / w % h,
        x: best % w,
        value: a[best],
    })
}

/// Cells `[y0, y1] × [x0, x1]` (inclusive, clipped to the activation) of the given channels of
/// activation `layer` (0 = the input).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Field {
    pub layer: usize,
    pub name: String,
    pub channels: Vec<usize>,
    pub y0: usize,
    pub x0: usize,
    pub y1: usize,
    pub x1: usize,
}

/// One cell's computation. Per kind:
/// - `conv2d`: for each input channel read (`channels`), the `kh × kw` window (`inputs`, with
///   `padded` = 1 where a tap falls in the zero padding), the kernel (`weights`) and their
///   `products`, the channel's sum (`partials`); then `bias`; `sum` = Σ partials + bias.
/// - `maxpool2d`: the window (`inputs`, `padded` taps take no part), `pick` = the tap that won.
/// - `relu`, `flatten`: the one value read (`inputs`); `pick` = its index in the layer before.
/// - `linear`: all n inputs, the neuron's weights, the products; `top` = the taps of the four
///   largest |products|; `partials` = [Σ products].
/// - `softmax`: all the scores (`inputs`); `sum` = e^(s − max) / Σ e^(s − max).
///
/// `shown` are the terms (the partials and the bias, or the products for a single-channel
/// layer without partials) and the sum rounded to [`DECIMALS`] places so that they add up;
/// `shownProducts` the products rounded so that each channel's add up to its shown partial.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Explanation {
    pub layer: usize,
    pub name: String,
    pub kind: &'static str,
    /// Name of the activation it reads (`input`, `pool1`, …).
    pub from: String,
    pub channel: usize,
    pub y: usize,
    pub x: usize,
    /// The cell's index in the activation: (channel · H + y) · W + x of its view.
    pub index: usize,
    /// The activation the forward pass computed.
    pub value: f32,
    /// The same number recomputed here from the terms (in f64, then f32).
    pub sum: f32,
    /// Whether `sum` is `value` within f32 rounding (|Δ| ≤ 10⁻⁴·max(1, |value|)): the check
    /// the page shows.
    pub matches: bool,
    /// `[kh, kw]` of the window (conv, pool), `[1, n]` for a dense layer, else `[1, 1]`.
    pub window: [usize; 2],
    /// The window's top-left tap in the layer before (may be negative: padding).
    pub origin: [i64; 2],
    pub channels: Vec<usize>,
    #[serde(serialize_with = "crate::typed::f32s")]
    pub inputs: Vec<f32>,
    #[serde(serialize_with = "crate::typed::u8s")]
    pub padded: Vec<u8>,
    #[serde(serialize_with = "crate::typed::f32s")]
    pub weights: Vec<f32>,
    #[serde(serialize_with = "crate::typed::f32s")]
    pub products: Vec<f32>,
    #[serde(serialize_with = "crate::typed::f32s")]
    pub partials: Vec<f32>,
    pub bias: Option<f32>,
    pub pick: Option<usize>,
    pub top: Vec<usize>,
    pub shown: RoundedSum,
    pub shown_products: Vec<f64>,
    pub field: Vec<Field>,
}

impl Explanation {
    /// One tap of a conv window: the value read (0 where `padded`), its weight, their product.
    fn tap(&mut self, v: f32, padded: bool, w: f32) {
        self.inputs.push(v);
        self.padded.push(u8::from(padded));
        self.weights.push(w);
        self.products.push(v * w);
    }

    /// A conv cell's sums from its taps (`taps` per channel read): each channel's partial sum,
    /// the bias, the total (in f64), the shown terms that add up to the shown total, and each
    /// channel's products rounded to add up to its shown partial.
    fn finish_taps(&mut self, bias: f32, taps: usize) -> Result<()> {
        let mut total = 0f64;
        for (x, w) in self.inputs.chunks(taps).zip(self.weights.chunks(taps)) {
            let part: f64 = x.iter().zip(w).map(|(&a, &b)| a as f64 * b as f64).sum();
            self.partials.push(part as f32);
            total += part;
        }
        self.bias = Some(bias);
        self.sum = (total + bias as f64) as f32;
        let mut terms = self.partials.clone();
        terms.push(bias);
        self.shown = rounded_sum(&terms, DECIMALS)?;
        for (j, t) in self
            .shown
            .terms
            .iter()
            .take(self.channels.len())
            .enumerate()
        {
            let r = rounded_sum_to(&self.products[j * taps..(j + 1) * taps], DECIMALS, *t)?;
            self.shown_products.extend(r.terms);
        }
        Ok(())
    }
}

/// Explains cell (`channel`, `y`, `x`) of activation `layer` (1 = the first layer's output)
/// from `acts`, every activation of one forward pass of `model` (`acts[0]` the input).
pub fn explain(
    model: &Model,
    acts: &[&[f32]],
    layer: usize,
    channel: usize,
    y: usize,
    x: usize,
) -> Result<Explanation> {
    let views = views(model);
    let names = model.names();
    if acts.len() != views.len() {
        return Err(Error::shape(format!(
            "{} activations given, the model has {}",
            acts.len(),
            views.len()
        )));
    }
    for (i, (a, v)) in acts.iter().zip(&views).enumerate() {
        if a.len() != v.iter().product::<usize>() {
            return Err(Error::shape(format!(
                "activation {i} has {} values, its shape {v:?} needs {}",
                a.len(),
                v.iter().product::<usize>()
            )));
        }
    }
    if layer == 0 || layer >= views.len() {
        return Err(Error::param(
            "layer",
            layer,
            format!(
                "must be from 1 to {} (0 is the input, which nothing computes)",
                views.len() - 1
            ),
        ));
    }
    let [c_out, h_out, w_out] = views[layer];
    for (name, v, n) in [
        ("channel", channel, c_out),
        ("y", y, h_out),
        ("x", x, w_out),
    ] {
        if v >= n {
            return Err(Error::param(
                name,
                v,
                format!(
                    "must be below {n} ({} is {c_out} × {h_out} × {w_out})",
                    names[layer - 1]
                ),
            ));
        }
    }
    let out = (channel * h_out + y) * w_out + x;
    let prev = acts[layer - 1];
    let [c_in, h_in, w_in] = views[layer - 1];
    let from = if layer == 1 {
        "input".to_string()
    } else {
        names[layer - 2].clone()
    };
    let mut e = Explanation {
        layer,
        name: names[layer - 1].clone(),
        kind: model.layers[layer - 1].kind(),
        from,
        channel,
        y,
        x,
        index: out,
        value: acts[layer][out],
        sum: 0.0,
        matches: false,
        window: [1, 1],
        origin: [y as i64, x as i64],
        channels: vec![channel],
        inputs: vec![],
        padded: vec![],
        weights: vec![],
        products: vec![],
        partials: vec![],
        bias: None,
        pick: None,
        top: vec![],
        shown: RoundedSum {
            terms: vec![],
            total: 0.0,
        },
        shown_products: vec![],
        field: vec![],
    };
    match &model.layers[layer - 1] {
        Layer::Conv2d {
            weight,
            bias,
            params,
            ..
        } => {
            let s = weight.shape();
            let (cin_g, kh, kw) = (s[1], s[2], s[3]);
            let group = channel / (c_out / params.groups);
            e.channels = (group * cin_g..(group + 1) * cin_g).collect();
            e.window = [kh, kw];
            let oy = (y * params.stride[0]) as i64 - params.padding[0] as i64;
            let ox = (x * params.stride[1]) as i64 - params.padding[1] as i64;
            e.origin = [oy, ox];
            for (j, ci) in e.channels.clone().into_iter().enumerate() {
                for ky in 0..kh {
                    for kx in 0..kw {
                        let iy = oy + (ky * params.dilation[0]) as i64;
                        let ix = ox + (kx * params.dilation[1]) as i64;
                        let inside =
                            iy >= 0 && ix >= 0 && (iy as usize) < h_in && (ix as usize) < w_in;
                        let v = if inside {
                            prev[(ci * h_in + iy as usize) * w_in + ix as usize]
                        } else {
                            0.0
                        };
                        let wv = weight.data()[((channel * cin_g + j) * kh + ky) * kw + kx];
                        e.tap(v, !inside, wv);
                    }
                }
            }
            e.finish_taps(bias.data()[channel], kh * kw)?;
        }
        Layer::MaxPool2d { params } => {
            let [kh, kw] = params.kernel;
            e.window = [kh, kw];
            let oy = (y * params.stride[0]) as i64 - params.padding[0] as i64;
            let ox = (x * params.stride[1]) as i64 - params.padding[1] as i64;
            e.origin = [oy, ox];
            let mut best: Option<usize> = None;
            for ky in 0..kh {
                for kx in 0..kw {
                    let iy = oy + (ky * params.dilation[0]) as i64;
                    let ix = ox + (kx * params.dilation[1]) as i64;
                    let inside = iy >= 0 && ix >= 0 && (iy as usize) < h_in && (ix as usize) < w_in;
                    let v = if inside {
                        prev[(channel * h_in + iy as usize) * w_in + ix as usize]
                    } else {
                        0.0
                    };
                    let t = e.inputs.len();
                    // NaN wins, as in the kernels' pool.
                    if inside && best.is_none_or(|b| v > e.inputs[b] || v.is_nan()) {
                        best = Some(t);
                    }
                    e.inputs.push(v);
                    e.padded.push(u8::from(!inside));
                }
            }
            e.pick = best;
            e.sum = best.map_or(f32::NEG_INFINITY, |b| e.inputs[b]);
        }
        Layer::ConvTranspose2d {
            weight,
            bias,
            params,
            ..
        } => {
            // Output (co, y, x) gathers x[ci, iy, ix]·w[ci, co, ky, kx] over the taps with
            // y + pad_top = iy·stride + ky·dilation: taps whose iy is not a whole cell read one
            // of the inserted zeros (`padded`).
            let s = weight.shape();
            let (cout_g, kh, kw) = (s[1], s[2], s[3]);
            let cin_g = c_in / params.groups;
            let group = channel / cout_g;
            let co = channel % cout_g;
            e.channels = (group * cin_g..(group + 1) * cin_g).collect();
            e.window = [kh, kw];
            let pos = |o: usize, k: usize, axis: usize| -> Option<usize> {
                let t = (o + params.padding[axis]) as i64 - (k * params.dilation[axis]) as i64;
                let st = params.stride[axis] as i64;
                let n = [h_in, w_in][axis] as i64;
                (t >= 0 && t % st == 0 && t / st < n).then_some((t / st) as usize)
            };
            let first = |o: usize, k: usize, axis: usize| {
                ((o + params.padding[axis]) as i64 - (params.dilation[axis] * (k - 1)) as i64)
                    .div_euclid(params.stride[axis] as i64)
            };
            e.origin = [first(y, kh, 0), first(x, kw, 1)];
            for ci in e.channels.clone() {
                for ky in 0..kh {
                    for kx in 0..kw {
                        let at = pos(y, ky, 0).zip(pos(x, kx, 1));
                        let v = at.map_or(0.0, |(iy, ix)| prev[(ci * h_in + iy) * w_in + ix]);
                        let wv = weight.data()[((ci * cout_g + co) * kh + ky) * kw + kx];
                        e.tap(v, at.is_none(), wv);
                    }
                }
            }
            e.finish_taps(bias.data()[channel], kh * kw)?;
        }
        Layer::AvgPool2d {
            params,
            count_include_pad,
        } => {
            // A dot product with weights 1/divisor: the window's cells inside the image (padded
            // taps read 0), the divisor the whole window or only the cells inside.
            let [kh, kw] = params.kernel;
            e.window = [kh, kw];
            let oy = (y * params.stride[0]) as i64 - params.padding[0] as i64;
            let ox = (x * params.stride[1]) as i64 - params.padding[1] as i64;
            e.origin = [oy, ox];
            let clip = |o: i64, k: usize, n: usize, p_end: usize| {
                (o + k as i64).min((n + p_end) as i64) - o
            };
            let (wh, ww) = (
                clip(oy, kh, h_in, params.padding[2]),
                clip(ox, kw, w_in, params.padding[3]),
            );
            let mut inside_count = 0usize;
            let mut cells = Vec::new();
            for ky in 0..kh {
                for kx in 0..kw {
                    let (iy, ix) = (oy + ky as i64, ox + kx as i64);
                    let inside = iy >= 0 && ix >= 0 && (iy as usize) < h_in && (ix as usize) < w_in;
                    let v = if inside {
                        prev[(channel * h_in + iy as usize) * w_in + ix as usize]
                    } else {
                        0.0
                    };
                    inside_count += usize::from(inside);
                    cells.push((v, inside));
                }
            }
            let count = if *count_include_pad {
                (wh * ww).max(0) as usize
            } else {
                inside_count
            };
            let share = if count == 0 { 0.0 } else { 1.0 / count as f32 };
            let mut total = 0f64;
            for (v, inside) in cells {
                let wv = if inside { share } else { 0.0 };
                e.inputs.push(v);
                e.padded.push(u8::from(!inside));
                e.weights.push(wv);
                e.products.push(v * wv);
                total += v as f64 * wv as f64;
            }
            e.partials = vec![total as f32];
            e.sum = total as f32;
            e.shown = rounded_sum(&e.products, DECIMALS)?;
            e.shown_products = e.shown.terms.clone();
        }
        Layer::GlobalAvgPool => {
            e.window = [h_in, w_in];
            e.origin = [0, 0];
            e.inputs = prev[channel * h_in * w_in..(channel + 1) * h_in * w_in].to_vec();
            e.padded = vec![0; e.inputs.len()];
            let share = 1.0 / (h_in * w_in) as f32;
            e.weights = vec![share; e.inputs.len()];
            e.products = e.inputs.iter().map(|v| v * share).collect();
            let total: f64 = e.inputs.iter().map(|&v| v as f64).sum::<f64>() / (h_in * w_in) as f64;
            e.partials = vec![total as f32];
            e.sum = total as f32;
            e.shown = rounded_sum(&[total as f32], DECIMALS)?;
        }
        Layer::Relu | Layer::Flatten | Layer::LeakyRelu { .. } | Layer::Sigmoid | Layer::Tanh => {
            let v = prev[out];
            e.inputs.push(v);
            e.pick = Some(out);
            e.sum = match model.layers[layer - 1] {
                Layer::Relu => v.max(0.0),
                Layer::LeakyRelu { slope } => {
                    if v < 0.0 {
                        v * slope
                    } else {
                        v
                    }
                }
                Layer::Sigmoid => (1.0 / (1.0 + (-(v as f64)).exp())) as f32,
                Layer::Tanh => (v as f64).tanh() as f32,
                _ => v,
            };
        }
        Layer::BatchNorm2d {
            weight,
            bias,
            mean,
            var,
            eps,
            ..
        } => {
            // (x − mean) / √(var + eps) · γ + β, as one scale and one shift.
            let (scale, shift) = super::layers::batch_norm_affine(
                weight.data(),
                bias.data(),
                mean.data(),
                var.data(),
                *eps,
            );
            let c = channel % scale.len();
            let v = prev[out];
            e.inputs.push(v);
            e.pick = Some(out);
            e.weights.push(scale[c]);
            e.products.push(v * scale[c]);
            e.partials.push(v * scale[c]);
            e.bias = Some(shift[c]);
            e.sum = (v as f64 * scale[c] as f64 + shift[c] as f64) as f32;
            e.shown = rounded_sum(&[v * scale[c], shift[c]], DECIMALS)?;
        }
        Layer::Add { from } => {
            let (a, b) = (prev[out], acts[*from][out]);
            e.inputs = vec![a, b];
            e.weights = vec![1.0, 1.0];
            e.products = vec![a, b];
            e.pick = Some(out);
            e.from = format!(
                "{} + {}",
                e.from,
                if *from == 0 {
                    "input".to_string()
                } else {
                    names[*from - 1].clone()
                }
            );
            e.sum = (a as f64 + b as f64) as f32;
            e.shown = rounded_sum(&[a, b], DECIMALS)?;
        }
        Layer::Linear { weight, bias, .. } => {
            let n = weight.shape()[1];
            e.window = [1, n];
            e.origin = [0, 0];
            e.channels = (0..c_in).collect();
            e.inputs = prev.to_vec();
            e.weights = weight.data()[out * n..(out + 1) * n].to_vec();
            e.products = e
                .inputs
                .iter()
                .zip(&e.weights)
                .map(|(a, b)| a * b)
                .collect();
            let total: f64 = e
                .inputs
                .iter()
                .zip(&e.weights)
                .map(|(&a, &b)| a as f64 * b as f64)
                .sum();
            e.partials = vec![total as f32];
            let b = bias.data()[out];
            e.bias = Some(b);
            e.sum = (total + b as f64) as f32;
            e.shown = rounded_sum(&[total as f32, b], DECIMALS)?;
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by(|&a, &b| e.products[b].abs().total_cmp(&e.products[a].abs()));
            e.top = order.into_iter().take(4).collect();
        }
        Layer::Softmax | Layer::LogSoftmax => {
            // Over the vector, or over the channels at (y, x) of an image.
            let image = model.shapes()[layer - 1].len() == 3;
            // `pick`: the cell's own score among `inputs`.
            e.pick = Some(if image { channel } else { out });
            let (scores, me): (Vec<f32>, f32) = if image {
                let plane = h_in * w_in;
                let at = y * w_in + x;
                ((0..c_in).map(|c| prev[c * plane + at]).collect(), prev[out])
            } else {
                (prev.to_vec(), prev[out])
            };
            e.window = [1, scores.len()];
            e.origin = [0, 0];
            e.channels = (0..c_in).collect();
            let m = scores.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b)) as f64;
            let z: f64 = scores.iter().map(|&s| (s as f64 - m).exp()).sum();
            e.inputs = scores;
            e.sum = if matches!(model.layers[layer - 1], Layer::Softmax) {
                ((me as f64 - m).exp() / z) as f32
            } else {
                (me as f64 - m - z.ln()) as f32
            };
        }
    }
    e.field = field(model, &views, layer, channel, [y, y, x, x]);
    e.matches = sums_match(e.sum, e.value);
    Ok(e)
}

/// Whether a recomputed sum is the forward pass's value within f32 rounding: |Δ| ≤
/// 10⁻⁴·max(1, |value|) (the terms are summed in another order, in f64).
pub fn sums_match(sum: f32, value: f32) -> bool {
    let (s, v) = (sum as f64, value as f64);
    (s - v).abs() <= 1e-4 * v.abs().max(1.0)
}

/// The receptive field of cells `rect` = [y0, y1, x0, x1] of `channel` of activation `layer`,
/// walked back to the input: one entry per earlier activation, nearest first.
fn field(
    model: &Model,
    views: &[[usize; 3]],
    layer: usize,
    channel: usize,
    rect: [usize; 4],
) -> Vec<Field> {
    let names = model.names();
    let mut out = Vec::with_capacity(layer);
    let mut chans = vec![channel];
    let mut skips: Vec<(usize, Vec<usize>, [i64; 4])> = Vec::new();
    let [mut y0, mut y1, mut x0, mut x1] = rect.map(|v| v as i64);
    for j in (1..=layer).rev() {
        let [c, h, w] = views[j - 1];
        let all = || (0..c).collect::<Vec<_>>();
        // The span of input cells that windows [a, b] of one axis read.
        let span = |a: i64, b: i64, k: usize, s: usize, p: usize, d: usize| {
            (
                a * s as i64 - p as i64,
                b * s as i64 - p as i64 + (d * (k - 1)) as i64,
            )
        };
        match &model.layers[j - 1] {
            Layer::Conv2d { weight, params, .. } => {
                let sh = weight.shape();
                let per_group = views[j][0] / params.groups;
                let mut next: Vec<usize> = chans
                    .iter()
                    .flat_map(|&o| {
                        let g = o / per_group;
                        g * sh[1]..(g + 1) * sh[1]
                    })
                    .collect();
                next.sort_unstable();
                next.dedup();
                chans = next;
                (y0, y1) = span(
                    y0,
                    y1,
                    sh[2],
                    params.stride[0],
                    params.padding[0],
                    params.dilation[0],
                );
                (x0, x1) = span(
                    x0,
                    x1,
                    sh[3],
                    params.stride[1],
                    params.padding[1],
                    params.dilation[1],
                );
            }
            Layer::MaxPool2d { params } => {
                (y0, y1) = span(
                    y0,
                    y1,
                    params.kernel[0],
                    params.stride[0],
                    params.padding[0],
                    params.dilation[0],
                );
                (x0, x1) = span(
                    x0,
                    x1,
                    params.kernel[1],
                    params.stride[1],
                    params.padding[1],
                    params.dilation[1],
                );
            }
            Layer::ConvTranspose2d { weight, params, .. } => {
                let sh = weight.shape();
                let cin_g = c / params.groups;
                let mut next: Vec<usize> = chans
                    .iter()
                    .flat_map(|&o| {
                        let g = o / sh[1];
                        g * cin_g..(g + 1) * cin_g
                    })
                    .collect();
                next.sort_unstable();
                next.dedup();
                chans = next;
                // Input cells i with i·s + k·d − p in [a, b] for some tap k.
                let back = |a: i64, b: i64, k: usize, s: usize, p: usize, d: usize| {
                    let (s, p, reach) = (s as i64, p as i64, (d * (k - 1)) as i64);
                    (
                        (a + p - reach).div_euclid(s)
                            + i64::from((a + p - reach).rem_euclid(s) != 0),
                        (b + p).div_euclid(s),
                    )
                };
                (y0, y1) = back(
                    y0,
                    y1,
                    sh[2],
                    params.stride[0],
                    params.padding[0],
                    params.dilation[0],
                );
                (x0, x1) = back(
                    x0,
                    x1,
                    sh[3],
                    params.stride[1],
                    params.padding[1],
                    params.dilation[1],
                );
            }
            Layer::AvgPool2d { params, .. } => {
                (y0, y1) = span(
                    y0,
                    y1,
                    params.kernel[0],
                    params.stride[0],
                    params.padding[0],
                    1,
                );
                (x0, x1) = span(
                    x0,
                    x1,
                    params.kernel[1],
                    params.stride[1],
                    params.padding[1],
                    1,
                );
            }
            Layer::GlobalAvgPool => {
                (y0, y1, x0, x1) = (0, h as i64 - 1, 0, w as i64 - 1);
            }
            Layer::Relu
            | Layer::Flatten
            | Layer::LeakyRelu { .. }
            | Layer::Sigmoid
            | Layer::Tanh
            | Layer::BatchNorm2d { .. } => {}
            Layer::Add { from } => skips.push((*from, chans.clone(), [y0, y1, x0, x1])),
            Layer::Softmax | Layer::LogSoftmax if model.shapes()[j - 1].len() == 3 => {
                chans = all();
            }
            Layer::Linear { .. } | Layer::Softmax | Layer::LogSoftmax => {
                chans = all();
                (y0, y1, x0, x1) = (0, h as i64 - 1, 0, w as i64 - 1);
            }
        }
        // A residual add's other branch reads activation `from` at the same cells.
        for (f, c2, r) in &skips {
            if *f == j - 1 {
                chans.extend(c2);
                chans.sort_unstable();
                chans.dedup();
                (y0, y1, x0, x1) = (y0.min(r[0]), y1.max(r[1]), x0.min(r[2]), x1.max(r[3]));
            }
        }
        (y0, y1) = (y0.max(0), y1.min(h as i64 - 1));
        (x0, x1) = (x0.max(0), x1.min(w as i64 - 1));
        out.push(Field {
            layer: j - 1,
            name: if j == 1 {
                "input".to_string()
            } else {
                names[j - 2].clone()
            },
            channels: chans.clone(),
            y0: y0 as usize,
            x0: x0 as usize,
            y1: y1 as usize,
            x1: x1 as usize,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::{Model, Preset};
    use super::*;
    use crate::rng::Rng;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn pass(m: &Model, px: &[f32]) -> Vec<Vec<f32>> {
        m.forward(px)
            .unwrap()
            .activations
            .iter()
            .map(|a| a.data().to_vec())
            .collect()
    }

    fn refs(a: &[Vec<f32>]) -> Vec<&[f32]> {
        a.iter().map(|v| &v[..]).collect()
    }

    #[test]
    fn peak_names_the_largest_cell_in_the_view() {
        let m = Preset::Cnn.zeros();
        let mut acts = pass(&m, &[0.0; 784]);
        let names = m.names();
        let i = names.iter().position(|x| x == "conv2").unwrap() + 1;
        acts[i][(5 * 14 + 3) * 14 + 9] = 2.5;
        acts[i][(7 * 14 + 1) * 14 + 2] = 1.5;
        let p = peak(&m, &refs(&acts), i, None).unwrap();
        assert_eq!((p.channel, p.y, p.x, p.value), (5, 3, 9, 2.5));
        let p = peak(&m, &refs(&acts), i, Some(7)).unwrap();
        assert_eq!((p.channel, p.y, p.x), (7, 1, 2));
        let f = names.iter().position(|x| x == "fc1").unwrap() + 1;
        acts[f][19] = 1.0;
        let p = peak(&m, &refs(&acts), f, None).unwrap();
        assert_eq!((p.channel, p.y, p.x), (0, 2, 3));
        assert!(peak(&m, &refs(&acts), i, Some(16)).is_err());
        assert!(peak(&m, &refs(&acts), acts.len(), None).is_err());
    }

    #[test]
    fn views_reshape_dense_vectors() {
        let m = Preset::Cnn.zeros();
        let v = views(&m);
        let names = m.names();
        let at = |n: &str| v[names.iter().position(|x| x == n).unwrap() + 1];
        assert_eq!(v[0], [1, 28, 28]);
        assert_eq!(at("conv2"), [16, 14, 14]);
        assert_eq!(at("flatten"), [16, 7, 7]);
        assert_eq!(at("fc1"), [1, 8, 8]);
        assert_eq!(at("relu3"), [1, 8, 8]);
        assert_eq!(at("fc2"), [1, 1, 10]);
        assert_eq!(at("softmax"), [1, 1, 10]);
        assert_eq!(views(&Preset::Mlp.zeros())[2], [1, 8, 16]);
        assert_eq!(views(&Preset::Slp.zeros())[1], [1, 28, 28]);
    }

    /// Every cell of every layer: the recomputed sum is the forward's own activation (the
    /// kernels' output), and the shown terms add up to the shown sum.
    #[test]
    fn sums_equal_the_kernels_outputs() {
        let mut rng = Rng::new(11);
        let mut models: Vec<Model> = Preset::ALL.iter().map(|a| a.init(4)).collect();
        for (s, spec) in super::super::tests::every_kind().iter().enumerate() {
            models.push(super::super::tests::random_model(spec, 40 + s as u64));
        }
        for m in &models {
            let arch = m.names().join(",");
            let m = m.clone();
            let px: Vec<f32> = (0..m.input_len()).map(|_| rng.unit()).collect();
            let acts = pass(&m, &px);
            let acts = refs(&acts);
            let v = views(&m);
            for l in 1..v.len() {
                let [c, h, w] = v[l];
                for _ in 0..40 {
                    let (ch, y, x) = (rng.below(c), rng.below(h), rng.below(w));
                    let e = explain(&m, &acts, l, ch, y, x).unwrap();
                    assert_eq!(e.value, acts[l][(ch * h + y) * w + x]);
                    assert!(
                        (e.sum - e.value).abs() <= 1e-4 * (1.0 + e.value.abs()),
                        "{arch} {} [{ch}][{y}][{x}]: {} vs {}",
                        e.name,
                        e.sum,
                        e.value
                    );
                    let units = |t: f64| (t * 1000.0).round() as i64;
                    let terms: i64 = e.shown.terms.iter().map(|&t| units(t)).sum();
                    assert_eq!(terms, units(e.shown.total));
                    if e.kind == "softmax" || e.kind == "logsoftmax" {
                        // `pick` names the cell's own score: the sum follows from it.
                        let s = e.inputs[e.pick.unwrap()] as f64;
                        let m = e
                            .inputs
                            .iter()
                            .fold(f64::NEG_INFINITY, |a, &b| a.max(b as f64));
                        let z: f64 = e.inputs.iter().map(|&v| (v as f64 - m).exp()).sum();
                        let want = if e.kind == "softmax" {
                            (s - m).exp() / z
                        } else {
                            s - m - z.ln()
                        };
                        assert!((want - e.sum as f64).abs() < 1e-5, "{} pick", e.name);
                    }
                    if e.kind == "conv2d" || e.kind == "convtranspose2d" {
                        let taps = e.window[0] * e.window[1];
                        for (j, t) in e.shown.terms.iter().take(e.channels.len()).enumerate() {
                            let s: i64 = e.shown_products[j * taps..(j + 1) * taps]
                                .iter()
                                .map(|&p| units(p))
                                .sum();
                            assert_eq!(s, units(*t), "channel {j}");
                        }
                        assert!((e.shown.total - e.sum as f64).abs() <= 5e-4 + 1e-6);
                    }
                }
            }
        }
    }

    /// A cnn whose conv1 weights are scaled by 1e15 or 1e30 (a diverged run's): every layer's
    /// explanation returns, at once, with shown terms that add up to the shown sum (the
    /// rounded sums once ran unit by unit and never returned).
    #[test]
    fn huge_weights_explain_at_once() {
        let mut rng = Rng::new(3);
        for scale in [1e15f32, 1e30] {
            let mut m = Preset::Cnn.init(4);
            for v in m.params_mut()[0].0.data_mut() {
                *v *= scale;
            }
            let px: Vec<f32> = (0..784).map(|_| rng.unit()).collect();
            let acts = pass(&m, &px);
            let acts = refs(&acts);
            let v = views(&m);
            #[cfg(not(target_arch = "wasm32"))]
            let t0 = std::time::Instant::now();
            for (l, &[c, h, w]) in v.iter().enumerate().skip(1) {
                for _ in 0..8 {
                    let (ch, y, x) = (rng.below(c), rng.below(h), rng.below(w));
                    let e = explain(&m, &acts, l, ch, y, x).unwrap();
                    assert!(e.sum.is_finite(), "{}: {}", e.name, e.sum);
                    assert!(
                        (e.sum - e.value).abs() <= 1e-4 * (1.0 + e.value.abs()),
                        "{scale:e} {}: {} vs {}",
                        e.name,
                        e.sum,
                        e.value
                    );
                    let shown: f64 = e.shown.terms.iter().sum();
                    assert!(
                        (shown - e.shown.total).abs() <= 1e-9 * (1.0 + e.shown.total.abs()),
                        "{scale:e} {}: terms add up to {shown}, total {}",
                        e.name,
                        e.shown.total
                    );
                }
            }
            #[cfg(not(target_arch = "wasm32"))]
            assert!(t0.elapsed().as_secs_f64() < 2.0, "{:?}", t0.elapsed());
        }
    }

    /// For every layer kind: changing an input value outside a cell's field (on the input)
    /// leaves the cell unchanged.
    #[test]
    fn outside_the_field_nothing_matters_for_every_kind() {
        let mut rng = Rng::new(13);
        for (s, spec) in super::super::tests::every_kind().iter().enumerate() {
            let m = super::super::tests::random_model(spec, 60 + s as u64);
            let [_, ih, iw] = m.input_shape();
            let px: Vec<f32> = (0..m.input_len()).map(|_| rng.unit()).collect();
            let base = pass(&m, &px);
            let v = views(&m);
            for l in 1..v.len() {
                let [c, h, w] = v[l];
                for _ in 0..4 {
                    let (ch, y, x) = (rng.below(c), rng.below(h), rng.below(w));
                    let e = explain(&m, &refs(&base), l, ch, y, x).unwrap();
                    let input = e.field.last().unwrap();
                    assert_eq!(input.layer, 0);
                    let idx = (ch * h + y) * w + x;
                    for _ in 0..12 {
                        let (pc, py, pxx) =
                            (rng.below(m.input_shape()[0]), rng.below(ih), rng.below(iw));
                        let inside = input.channels.contains(&pc)
                            && (input.y0..=input.y1).contains(&py)
                            && (input.x0..=input.x1).contains(&pxx);
                        if inside {
                            continue;
                        }
                        let mut p2 = px.clone();
                        let k = (pc * ih + py) * iw + pxx;
                        p2[k] = 1.0 - p2[k];
                        assert_eq!(
                            pass(&m, &p2)[l][idx],
                            base[l][idx],
                            "spec {s} layer {l} ({}) cell {ch},{y},{x}: input ({pc}, {py}, {pxx}) is outside its field {input:?}",
                            e.name
                        );
                    }
                }
            }
        }
    }

    /// The field is exactly what feeds the cell: changing an input pixel outside it leaves the
    /// cell's value unchanged, and every channel it names on the layer before is read.
    #[test]
    fn outside_the_field_nothing_matters() {
        let m = Preset::Cnn.init(9);
        let mut rng = Rng::new(3);
        let px: Vec<f32> = (0..784).map(|_| rng.unit()).collect();
        let base = pass(&m, &px);
        let v = views(&m);
        for (l, ch, y, x) in [
            (1, 3, 0, 0),
            (3, 2, 6, 9),
            (4, 5, 3, 3),
            (5, 7, 13, 2),
            (6, 1, 5, 5),
            (7, 2, 1, 6),
        ] {
            let e = explain(&m, &refs(&base), l, ch, y, x).unwrap();
            let input = e.field.last().unwrap();
            assert_eq!(input.layer, 0);
            let [_, h, w] = v[l];
            let idx = (ch * h + y) * w + x;
            for _ in 0..30 {
                let (py, pxx) = (rng.below(28), rng.below(28));
                let inside =
                    (input.y0..=input.y1).contains(&py) && (input.x0..=input.x1).contains(&pxx);
                if inside {
                    continue;
                }
                let mut p2 = px.clone();
                p2[py * 28 + pxx] = 1.0 - p2[py * 28 + pxx];
                assert_eq!(
                    pass(&m, &p2)[l][idx],
                    base[l][idx],
                    "layer {l}: pixel ({py}, {pxx}) outside the field"
                );
            }
        }
        // pool2 channel 5 is fed by conv2 channel 5 only (ReLU and pooling are per channel), and
        // conv2 reads all 8 channels of pool1.
        let names = m.names();
        let pool2 = names.iter().position(|n| n == "pool2").unwrap() + 1;
        let e = explain(&m, &refs(&base), pool2, 5, 3, 3).unwrap();
        let by = |n: &str| e.field.iter().find(|f| f.name == n).unwrap().clone();
        assert_eq!(by("relu2").channels, vec![5]);
        assert_eq!(by("conv2").channels, vec![5]);
        assert_eq!(by("pool1").channels, (0..8).collect::<Vec<_>>());
        assert_eq!((by("relu2").y0, by("relu2").y1), (6, 7));
        assert_eq!(by("input").channels, vec![0]);
        let fc2 = names.iter().position(|n| n == "fc2").unwrap() + 1;
        let e = explain(&m, &refs(&base), fc2, 0, 0, 4).unwrap();
        assert_eq!(e.field.len(), fc2);
        assert!(e.field.iter().all(|f| f.y0 == 0 && f.x0 == 0));
        assert_eq!(e.top.len(), 4);
    }

    #[test]
    fn bad_cells_name_the_argument() {
        let m = Preset::Cnn.init(1);
        let base = pass(&m, &[0.5; 784]);
        let a = refs(&base);
        let msg = |r: Result<Explanation>| r.unwrap_err().to_string();
        assert!(msg(explain(&m, &a, 0, 0, 0, 0)).contains("layer"));
        assert!(msg(explain(&m, &a, 99, 0, 0, 0)).contains("layer"));
        assert!(msg(explain(&m, &a, 1, 8, 0, 0)).contains("channel"));
        assert!(msg(explain(&m, &a, 1, 0, 28, 0)).contains("y"));
        assert!(msg(explain(&m, &a, 1, 0, 0, 28)).contains("x"));
        assert!(explain(&m, &a[..3], 1, 0, 0, 0).is_err());
    }
}
