//! The zero-insertion view of a transposed convolution: the input with `stride − 1` zeros
//! between its pixels, padded by `dilation·(k−1) − padding` (cropped where that is negative),
//! correlated with the flipped kernel at stride 1 gives the same output as the stamps.

use serde::Serialize;

use crate::conv::geometry::{Conv2dParams, OutputTerms};
use crate::error::{Error, Result};
use crate::trace::correlate::{self, CorrTrace};
use crate::trace::MAX_SIDE;

/// The equivalent view: the zero-inserted, padded input and the correlation with the flipped
/// kernel over it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Equivalent {
    /// The input with `stride − 1` zeros between pixels: `(h−1)·s + 1` rows.
    pub inserted_h: usize,
    pub inserted_w: usize,
    /// Padding added around it, `dilation·(k−1) − pad_begin` before and
    /// `dilation·(k−1) − pad_end + output_padding` after; negative means rows cropped.
    pub pad_before: [i32; 2],
    pub pad_after: [i32; 2],
    /// Per cell of the grid: 0 = an input pixel, 1 = an inserted zero, 2 = padding.
    #[serde(serialize_with = "crate::typed::u8s")]
    pub kind: Vec<u8>,
    /// Per cell of the grid: the input index, or −1.
    #[serde(serialize_with = "crate::typed::i32s")]
    pub source: Vec<i32>,
    /// Per input cell: where it sits in the grid, or −1 when cropped away.
    #[serde(serialize_with = "crate::typed::i32s")]
    pub position: Vec<i32>,
    /// The correlation (stride 1, same dilation, kernel flipped) over the grid; its `padded`
    /// is the grid itself (no further padding) and its output equals the transposed output.
    pub corr: CorrTrace,
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn equivalent(
    x: &[f32],
    h: usize,
    w: usize,
    k: &[f32],
    kh: usize,
    kw: usize,
    g: &Conv2dParams,
    terms: &OutputTerms,
) -> Result<Equivalent> {
    let inserted = [(h - 1) * g.stride[0] + 1, (w - 1) * g.stride[1] + 1];
    let reach = [g.dilation[0] * (kh - 1), g.dilation[1] * (kw - 1)];
    let before = [
        reach[0] as i32 - g.padding[0] as i32,
        reach[1] as i32 - g.padding[1] as i32,
    ];
    let after = [
        reach[0] as i32 - g.padding[2] as i32 + g.output_padding[0] as i32,
        reach[1] as i32 - g.padding[3] as i32 + g.output_padding[1] as i32,
    ];
    // Grid side = output + dilation·(k−1): always at least the dilated kernel.
    let gh = terms.rows.output + reach[0];
    let gw = terms.cols.output + reach[1];
    if gh > MAX_SIDE || gw > MAX_SIDE {
        return Err(Error::shape(format!(
            "the zero-inserted input would be {gh}×{gw}; at most {MAX_SIDE} per side here"
        )));
    }
    let mut grid = vec![0.0; gh * gw];
    let mut kind = vec![2u8; gh * gw];
    let mut source = vec![-1i32; gh * gw];
    let mut position = vec![-1i32; h * w];
    for r in 0..gh {
        let zr = r as i64 - before[0] as i64;
        for c in 0..gw {
            let zc = c as i64 - before[1] as i64;
            let p = r * gw + c;
            if zr < 0 || zc < 0 || zr >= inserted[0] as i64 || zc >= inserted[1] as i64 {
                continue;
            }
            let (zr, zc) = (zr as usize, zc as usize);
            if zr % g.stride[0] == 0 && zc % g.stride[1] == 0 {
                let i = (zr / g.stride[0]) * w + zc / g.stride[1];
                grid[p] = x[i];
                kind[p] = 0;
                source[p] = i as i32;
                position[i] = p as i32;
            } else {
                kind[p] = 1;
            }
        }
    }
    let eg = Conv2dParams {
        dilation: g.dilation,
        ..Default::default()
    };
    let corr = correlate::trace(&grid, gh, gw, k, kh, kw, &eg, true)?;
    Ok(Equivalent {
        inserted_h: inserted[0],
        inserted_w: inserted[1],
        pad_before: before,
        pad_after: after,
        kind,
        source,
        position,
        corr,
    })
}
