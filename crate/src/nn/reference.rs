//! The general model in f64, layer by layer from the definitions (the convolutions, the max
//! pool and the dense layer from [`crate::reference`], the rest written out here): what every
//! layer kind's fast path is tested against, natively and in wasm.

use super::{Layer, Model};
use crate::reference as r;

fn d(v: &[f32]) -> Vec<f64> {
    r::to_f64(v)
}

/// Every activation of one input (batch 1) through `m`, in f64.
pub fn forward(m: &Model, x: &[f32]) -> Vec<Vec<f64>> {
    let mut acts = vec![d(x)];
    for (i, l) in m.layers.iter().enumerate() {
        let s = &m.shapes()[i];
        let a = &acts[i];
        let dims4 = || [1, s[0], s[1], s[2]];
        let y = match l {
            Layer::Conv2d {
                weight,
                bias,
                params,
                ..
            } => {
                let ws = weight.shape();
                r::conv2d(
                    a,
                    dims4(),
                    &d(weight.data()),
                    [ws[0], ws[1], ws[2], ws[3]],
                    Some(&d(bias.data())),
                    params,
                )
                .0
            }
            Layer::ConvTranspose2d {
                weight,
                bias,
                params,
                ..
            } => {
                let ws = weight.shape();
                r::conv_transpose2d(
                    a,
                    dims4(),
                    &d(weight.data()),
                    [ws[0], ws[1], ws[2], ws[3]],
                    Some(&d(bias.data())),
                    params,
                )
                .0
            }
            Layer::MaxPool2d { params } => r::max_pool2d(a, dims4(), params).0,
            Layer::AvgPool2d {
                params: p,
                count_include_pad,
            } => {
                let (c, h, w) = (s[0], s[1], s[2]);
                let o = &m.shapes()[i + 1];
                let (oh, ow) = (o[1], o[2]);
                let mut y = vec![0.0; c * oh * ow];
                for ch in 0..c {
                    for oy in 0..oh {
                        for ox in 0..ow {
                            let (mut sum, mut inside, mut padded) = (0.0, 0usize, 0usize);
                            for ky in 0..p.kernel[0] {
                                for kx in 0..p.kernel[1] {
                                    let iy = (oy * p.stride[0] + ky) as i64 - p.padding[0] as i64;
                                    let ix = (ox * p.stride[1] + kx) as i64 - p.padding[1] as i64;
                                    let in_pad = iy >= -(p.padding[0] as i64)
                                        && iy < (h + p.padding[2]) as i64
                                        && ix >= -(p.padding[1] as i64)
                                        && ix < (w + p.padding[3]) as i64;
                                    padded += usize::from(in_pad);
                                    if iy >= 0 && ix >= 0 && iy < h as i64 && ix < w as i64 {
                                        inside += 1;
                                        sum += a[(ch * h + iy as usize) * w + ix as usize];
                                    }
                                }
                            }
                            let n = if *count_include_pad { padded } else { inside };
                            y[(ch * oh + oy) * ow + ox] = if n == 0 { 0.0 } else { sum / n as f64 };
                        }
                    }
                }
                y
            }
            Layer::GlobalAvgPool => {
                let plane = s[1] * s[2];
                a.chunks(plane)
                    .map(|p| p.iter().sum::<f64>() / plane as f64)
                    .collect()
            }
            Layer::Relu => a.iter().map(|&v| v.max(0.0)).collect(),
            Layer::LeakyRelu { slope } => a
                .iter()
                .map(|&v| if v < 0.0 { v * *slope as f64 } else { v })
                .collect(),
            Layer::Sigmoid => a.iter().map(|&v| 1.0 / (1.0 + (-v).exp())).collect(),
            Layer::Tanh => a.iter().map(|&v| v.tanh()).collect(),
            Layer::Flatten => a.clone(),
            Layer::Linear { weight, bias, .. } => {
                let ws = weight.shape();
                r::linear(a, 1, ws[1], &d(weight.data()), ws[0], Some(&d(bias.data())))
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
                let plane = a.len() / c;
                a.iter()
                    .enumerate()
                    .map(|(k, &v)| {
                        let ch = k / plane;
                        (v - mean.data()[ch] as f64) / (var.data()[ch] as f64 + *eps as f64).sqrt()
                            * weight.data()[ch] as f64
                            + bias.data()[ch] as f64
                    })
                    .collect()
            }
            Layer::Softmax | Layer::LogSoftmax => {
                // Over the channels at every cell (a vector: one cell of n channels).
                let c = s[0];
                let plane = a.len() / c;
                let mut y = vec![0.0; a.len()];
                for p in 0..plane {
                    let col: Vec<f64> = (0..c).map(|k| a[k * plane + p]).collect();
                    let sm = r::softmax_rows(&col, c);
                    for k in 0..c {
                        y[k * plane + p] = if matches!(l, Layer::Softmax) {
                            sm[k]
                        } else {
                            sm[k].ln()
                        };
                    }
                }
                y
            }
            Layer::Add { from } => a.iter().zip(&acts[*from]).map(|(x, y)| x + y).collect(),
        };
        acts.push(y);
    }
    acts
}
