//! The adjoint check: the transposed convolution Kᵀ is the adjoint of the strided
//! correlation K, so ⟨K f, g⟩ = ⟨f, Kᵀ g⟩ for every f and g.

use serde::Serialize;

use super::stamps::conv_transpose;
use crate::conv::geometry::Conv2dParams;
use crate::error::{Error, Result};
use crate::trace::{correlate, inner, Rng};

/// The two sides of the adjoint identity for the geometry `g` and kernel `k`: K is the
/// stride-n correlation (Conv2d) from the transposed output's size down to the input's size,
/// Kᵀ the transposed convolution. `g_img` is the scene's input (the "g" of ⟨K f, g⟩), `f` a
/// fixed pseudo-random image of the output's size. When output_padding ≥ stride, K f has
/// extra rows/columns at the bottom/right, and Kᵀ is the adjoint of K followed by cropping
/// them, so they are cropped.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Adjoint {
    #[serde(serialize_with = "crate::typed::f32s")]
    pub f: Vec<f32>,
    #[serde(serialize_with = "crate::typed::f32s")]
    pub kf: Vec<f32>,
    #[serde(serialize_with = "crate::typed::f32s")]
    pub kt_g: Vec<f32>,
    /// ⟨K f, g⟩
    pub lhs: f64,
    /// ⟨f, Kᵀ g⟩
    pub rhs: f64,
}

#[allow(clippy::too_many_arguments)]
pub fn adjoint(
    g_img: &[f32],
    h: usize,
    w: usize,
    k: &[f32],
    kh: usize,
    kw: usize,
    g: &Conv2dParams,
    seed: u32,
) -> Result<Adjoint> {
    let (kt_g, oh, ow) = conv_transpose(g_img, h, w, k, kh, kw, g)?;
    let mut rng = Rng::new(u64::from(seed));
    let f: Vec<f32> = (0..oh * ow).map(|_| rng.eighth()).collect();
    let cg = Conv2dParams {
        output_padding: [0, 0],
        ..*g
    };
    let t = correlate::trace(&f, oh, ow, k, kh, kw, &cg, false)?;
    if t.out_h < h || t.out_w < w {
        return Err(Error::shape(format!(
            "K f is {}×{} but g is {h}×{w}",
            t.out_h, t.out_w
        )));
    }
    let kf: Vec<f32> = (0..h)
        .flat_map(|r| t.output[r * t.out_w..r * t.out_w + w].to_vec())
        .collect();
    Ok(Adjoint {
        lhs: inner(&kf, g_img),
        rhs: inner(&f, &kt_g),
        f,
        kf,
        kt_g,
    })
}
