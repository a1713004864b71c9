//! The round trip Conv2d(stride n) → ConvTranspose2d: the transposed convolution brings a
//! strided conv's output back to the input's size (not its values: it is the adjoint, not the
//! inverse).

use serde::Serialize;

use super::stamps::conv_transpose;
use crate::conv::geometry::Conv2dParams;
use crate::error::Result;
use crate::trace::correlate;

/// Conv2d(stride n) then ConvTranspose2d with the same kernel and geometry, back to the
/// input's size (output_padding chosen for it).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoundTrip {
    #[serde(serialize_with = "crate::typed::f32s")]
    pub down: Vec<f32>,
    pub down_h: usize,
    pub down_w: usize,
    pub output_padding: [usize; 2],
    #[serde(serialize_with = "crate::typed::f32s")]
    pub up: Vec<f32>,
}

pub fn round_trip(
    x: &[f32],
    h: usize,
    w: usize,
    k: &[f32],
    kh: usize,
    kw: usize,
    g: &Conv2dParams,
) -> Result<RoundTrip> {
    let cg = Conv2dParams {
        output_padding: [0, 0],
        ..*g
    };
    let t = correlate::trace(x, h, w, k, kh, kw, &cg, false)?;
    let op = [
        t.terms.rows.span % g.stride[0],
        t.terms.cols.span % g.stride[1],
    ];
    let tg = Conv2dParams {
        output_padding: op,
        ..cg
    };
    let (up, uh, uw) = conv_transpose(&t.output, t.out_h, t.out_w, k, kh, kw, &tg)?;
    debug_assert_eq!((uh, uw), (h, w));
    Ok(RoundTrip {
        down: t.output,
        down_h: t.out_h,
        down_w: t.out_w,
        output_padding: op,
        up,
    })
}
