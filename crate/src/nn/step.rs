//! One training step, slowed down: what the update does for one image and its label.
//!
//! - The output: the probabilities, and dout = softmax − one-hot, the gradient of the loss
//!   with respect to the logits.
//! - A dense layer over the image (the slp's ten templates, or the mlp's hidden neurons that
//!   move most): dW = doutᵀ · x, so each neuron's update is the input scaled by its dout; the
//!   right class gets the image added, the others have it subtracted in proportion to how
//!   sure they were. Shown before and after one plain SGD step w ← w − lr·dW.
//! - A conv layer (the cnn's last one): its im2col table, dW = dout · colᵀ written out by its
//!   definition, and dX computed by the transposed convolution of dout with the same weights
//!   (the adjoint), each beside what the model's own backward pass computed, with the largest
//!   difference.

use serde::Serialize;

use super::{layers, Layer, Model};
use crate::conv::{self, ConvPlan};
use crate::error::{Error, Result};
use crate::mnist::PIXELS;
use crate::tensor::Tensor;

/// How many neurons of a dense layer the explanation shows.
pub const SHOWN: usize = 10;

/// A dense layer over the 784 pixels during one step.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DenseUpdate {
    pub layer: String,
    /// The neurons shown (the slp: the ten classes; the mlp: the ten whose dout is largest).
    pub rows: Vec<u32>,
    /// dout of each shown neuron (the gradient of the loss with respect to its output).
    #[serde(serialize_with = "crate::typed::f32s")]
    pub dout: Vec<f32>,
    /// Their weights before the step, rows × 784.
    #[serde(serialize_with = "crate::typed::f32s")]
    pub before: Vec<f32>,
    /// dW = dout · x for each shown neuron, rows × 784 (by the definition).
    #[serde(serialize_with = "crate::typed::f32s")]
    pub dw: Vec<f32>,
    /// before − lr · dW.
    #[serde(serialize_with = "crate::typed::f32s")]
    pub after: Vec<f32>,
    /// Largest |dW by the definition − dW of the model's backward pass| over the shown rows.
    pub max_diff: f32,
}

/// A conv layer's backward during one step.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConvUpdate {
    pub layer: String,
    /// `[channels, height, width]` of the layer's input and of its output.
    pub input_shape: [usize; 3],
    pub output_shape: [usize; 3],
    pub kernel_size: [usize; 2],
    /// The im2col table of the layer's input: `[K, P]`, K = channels·kh·kw rows, P = output
    /// positions.
    #[serde(serialize_with = "crate::typed::f32s")]
    pub col: Vec<f32>,
    pub col_shape: [usize; 2],
    /// dout: `[C_out, P]`.
    #[serde(serialize_with = "crate::typed::f32s")]
    pub dout: Vec<f32>,
    /// dW = dout · colᵀ, `[C_out, K]`, written out by the definition.
    #[serde(serialize_with = "crate::typed::f32s")]
    pub dw: Vec<f32>,
    /// dW of the model's backward pass, and the largest difference.
    #[serde(serialize_with = "crate::typed::f32s")]
    pub dw_model: Vec<f32>,
    pub dw_diff: f32,
    /// dX = conv_transpose2d(dout, W): the adjoint, `[channels, height, width]` of the input.
    #[serde(serialize_with = "crate::typed::f32s")]
    pub dx: Vec<f32>,
    /// The gradient the model's backward pass passes to the layer below, and the difference.
    #[serde(serialize_with = "crate::typed::f32s")]
    pub dx_model: Vec<f32>,
    pub dx_diff: f32,
}

/// One step for one image.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepExplain {
    pub label: u8,
    pub loss: f32,
    #[serde(serialize_with = "crate::typed::f32s")]
    pub probabilities: Vec<f32>,
    /// softmax − one-hot (10).
    #[serde(serialize_with = "crate::typed::f32s")]
    pub dlogits: Vec<f32>,
    pub lr: f32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dense: Option<DenseUpdate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conv: Option<ConvUpdate>,
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// The step `model` would take on `pixels` (784 values in 0..1) labelled `label`, with
/// learning rate `lr` for the dense before/after.
pub fn explain(model: &Model, pixels: &[f32], label: u8, lr: f32) -> Result<StepExplain> {
    super::check_pixels(pixels)?;
    if label > 9 {
        return Err(Error::param("label", label, "must be a digit 0..9"));
    }
    if !(lr.is_finite() && lr >= 0.0) {
        return Err(Error::param("lr", lr, "must be a finite number ≥ 0"));
    }
    let trace = model.forward_batch(Tensor::new(pixels.to_vec(), &[1, 1, 28, 28])?)?;
    let p = trace.acts.last().expect("non-empty").data().to_vec();
    let mut dlogits = vec![0.0f32; 10];
    let loss = layers::cross_entropy(&p, &[label], 10, &mut dlogits);
    let (grads, kept) =
        model.backward_keeping(&trace, Tensor::new(dlogits.clone(), &[1, 10])?, true)?;
    // Index of each parameterised layer's gradient in `grads`.
    let grad_of = |li: usize| {
        model.layers[..li]
            .iter()
            .filter(|l| l.params().is_some())
            .count()
    };

    let dense = match model
        .layers
        .iter()
        .position(|l| matches!(l, Layer::Linear { .. }))
    {
        // Only a dense layer that reads the image itself (after the flatten).
        Some(li)
            if model.layers[..li]
                .iter()
                .all(|l| matches!(l, Layer::Flatten)) =>
        {
            let Layer::Linear { name, weight, .. } = &model.layers[li] else {
                unreachable!("matched above")
            };
            let x = trace.acts[li].data();
            let d = kept[li + 1].as_ref().expect("kept").data();
            let mut rows: Vec<u32> = (0..d.len() as u32).collect();
            if d.len() > SHOWN {
                rows.sort_by(|&a, &b| d[b as usize].abs().total_cmp(&d[a as usize].abs()));
                rows.truncate(SHOWN);
            }
            let dw_model = grads[grad_of(li)].0.data();
            let w = weight.data();
            let (mut before, mut dw, mut after) = (Vec::new(), Vec::new(), Vec::new());
            let mut worst = 0.0f32;
            for &r in &rows {
                let r = r as usize;
                let row = &w[r * PIXELS..(r + 1) * PIXELS];
                let g: Vec<f32> = x.iter().map(|&xi| d[r] * xi).collect();
                worst = worst.max(max_diff(&g, &dw_model[r * PIXELS..(r + 1) * PIXELS]));
                before.extend_from_slice(row);
                after.extend(row.iter().zip(&g).map(|(&wv, &gv)| wv - lr * gv));
                dw.extend(g);
            }
            Some(DenseUpdate {
                layer: name.clone(),
                dout: rows.iter().map(|&r| d[r as usize]).collect(),
                rows,
                before,
                dw,
                after,
                max_diff: worst,
            })
        }
        _ => None,
    };

    let conv = match model
        .layers
        .iter()
        .rposition(|l| matches!(l, Layer::Conv2d { .. }))
    {
        Some(li) => {
            let Layer::Conv2d {
                name,
                weight,
                params,
                ..
            } = &model.layers[li]
            else {
                unreachable!("matched above")
            };
            let x = &trace.acts[li];
            let dy = kept[li + 1].as_ref().expect("kept");
            let plan = ConvPlan::conv2d(x.shape(), weight.shape(), params)?;
            let win = plan.win;
            let (k, pos) = (win.rows(), win.cols());
            let mut col = vec![0.0f32; win.col_len()];
            conv::im2col(&win, x.data(), &mut col)?;
            let cout = weight.shape()[0];
            let dout = dy.data();
            // dW[o, k] = Σ_p dout[o, p] · col[k, p], in f64, by the definition.
            let mut dw = vec![0.0f32; cout * k];
            for o in 0..cout {
                for kk in 0..k {
                    let s: f64 = (0..pos)
                        .map(|p| dout[o * pos + p] as f64 * col[kk * pos + p] as f64)
                        .sum();
                    dw[o * k + kk] = s as f32;
                }
            }
            let dw_model = grads[grad_of(li)].0.data().to_vec();
            let dx = conv::conv_transpose2d(dy, weight, None, params)?;
            let dx_model = kept[li].as_ref().map(|t| t.data().to_vec());
            // A first layer's input needs no gradient; then the adjoint stands alone.
            let dx_model = dx_model.unwrap_or_else(|| dx.data().to_vec());
            let s = x.shape();
            let o = dy.shape();
            Some(ConvUpdate {
                layer: name.clone(),
                input_shape: [s[1], s[2], s[3]],
                output_shape: [o[1], o[2], o[3]],
                kernel_size: win.kernel,
                col_shape: [k, pos],
                col,
                dout: dout.to_vec(),
                dw_diff: max_diff(&dw, &dw_model),
                dw,
                dw_model,
                dx_diff: max_diff(dx.data(), &dx_model),
                dx: dx.data().to_vec(),
                dx_model,
            })
        }
        None => None,
    };

    Ok(StepExplain {
        label,
        loss,
        probabilities: p,
        dlogits,
        lr,
        dense,
        conv,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::Preset;
    use crate::rng::Rng;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn image(seed: u64) -> Vec<f32> {
        let mut r = Rng::new(seed);
        (0..784).map(|_| r.unit()).collect()
    }

    #[test]
    fn slp_update_is_the_input_scaled_by_dout() {
        let m = Preset::Slp.init(4);
        let x = image(1);
        let e = explain(&m, &x, 3, 0.5).unwrap();
        let d = e.dense.as_ref().unwrap();
        assert_eq!(d.rows, (0..10).collect::<Vec<u32>>());
        assert!(e.conv.is_none());
        let s: f32 = e.dlogits.iter().sum();
        assert!(s.abs() < 1e-5, "dout sums to {s}");
        assert!(e.dlogits[3] < 0.0 && (e.dlogits[3] - (e.probabilities[3] - 1.0)).abs() < 1e-6);
        assert!(d.max_diff < 1e-6, "{}", d.max_diff);
        for r in 0..10 {
            for px in [0, 300, 783] {
                let i = r * 784 + px;
                assert!((d.dw[i] - e.dlogits[r] * x[px]).abs() < 1e-6);
                assert!((d.after[i] - (d.before[i] - 0.5 * d.dw[i])).abs() < 1e-6);
            }
        }
        assert!(explain(&m, &x, 10, 0.5).is_err());
        assert!(explain(&m, &x, 1, f32::NAN).is_err());
    }

    #[test]
    fn mlp_shows_the_hidden_neurons_that_move_most() {
        let m = Preset::Mlp.init(4);
        let e = explain(&m, &image(2), 7, 0.1).unwrap();
        let d = e.dense.unwrap();
        assert_eq!((d.rows.len(), d.dw.len()), (SHOWN, SHOWN * 784));
        assert!(d.dout.windows(2).all(|w| w[0].abs() >= w[1].abs()));
        assert!(d.max_diff < 1e-6);
    }

    /// The conv's dW by its definition and dX by the transposed convolution equal what the
    /// model's backward pass computes.
    #[test]
    fn cnn_conv_backward_is_im2col_and_the_adjoint() {
        let m = Preset::Cnn.init(6);
        let e = explain(&m, &image(3), 2, 0.1).unwrap();
        assert!(e.dense.is_none());
        let c = e.conv.unwrap();
        assert_eq!(c.layer, "conv2");
        assert_eq!(c.col_shape, [8 * 25, 14 * 14]);
        assert_eq!((c.input_shape, c.output_shape), ([8, 14, 14], [16, 14, 14]));
        let scale = c.dw_model.iter().fold(0.0f32, |a, v| a.max(v.abs()));
        assert!(scale > 0.0);
        assert!(
            c.dw_diff <= 1e-4 * scale.max(1e-3),
            "dW differs by {}",
            c.dw_diff
        );
        let sx = c.dx_model.iter().fold(0.0f32, |a, v| a.max(v.abs()));
        assert!(sx > 0.0);
        assert!(
            c.dx_diff <= 1e-4 * sx.max(1e-3),
            "dX differs by {}",
            c.dx_diff
        );
    }
}
