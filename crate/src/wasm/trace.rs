//! JS API of the animation traces (`crate::trace`). Every scene of the playground gets its
//! numbers here: a trace object is built once per setting and its arrays are read once
//! (each getter returns a copy as a typed array).
//!
//! Geometry arguments are arrays: `stride [h, w]`, `padding [top, left, bottom, right]`,
//! `dilation [h, w]`, `outputPadding [h, w]`.

use wasm_bindgen::prelude::*;

use crate::error::Error;
use crate::trace::{self, correlate, dense, presets, transpose, Geometry};

fn pair(name: &'static str, v: &[usize]) -> Result<[usize; 2], Error> {
    match v {
        [a, b] => Ok([*a, *b]),
        [a] => Ok([*a, *a]),
        _ => Err(Error::param(name, v, "expected [h, w]")),
    }
}

fn geometry(
    stride: &[usize],
    padding: &[usize],
    dilation: &[usize],
    output_padding: &[usize],
) -> Result<Geometry, Error> {
    let padding = match padding {
        [p] => [*p; 4],
        [h, w] => [*h, *w, *h, *w],
        [t, l, b, r] => [*t, *l, *b, *r],
        _ => {
            return Err(Error::param(
                "padding",
                padding,
                "expected p, [h, w] or [top, left, bottom, right]",
            ))
        }
    };
    Ok(Geometry {
        stride: pair("stride", stride)?,
        padding,
        dilation: pair("dilation", dilation)?,
        output_padding: if output_padding.is_empty() {
            [0, 0]
        } else {
            pair("output_padding", output_padding)?
        },
    })
}

fn flat_geometry(g: &Geometry) -> Vec<u32> {
    [
        g.stride[0],
        g.stride[1],
        g.padding[0],
        g.padding[1],
        g.padding[2],
        g.padding[3],
        g.dilation[0],
        g.dilation[1],
        g.output_padding[0],
        g.output_padding[1],
    ]
    .iter()
    .map(|&v| v as u32)
    .collect()
}

fn flat_ranges(r: Vec<[usize; 2]>) -> Vec<u32> {
    r.iter().flat_map(|&[a, b]| [a as u32, b as u32]).collect()
}

/// Every step of a sliding correlation (see `crate::trace::correlate::CorrTrace`).
#[wasm_bindgen(js_name = CorrelateTrace)]
pub struct JsCorrTrace {
    inner: correlate::CorrTrace,
}

#[wasm_bindgen(js_class = CorrelateTrace)]
impl JsCorrTrace {
    #[wasm_bindgen(getter)]
    pub fn h(&self) -> usize {
        self.inner.h
    }
    #[wasm_bindgen(getter)]
    pub fn w(&self) -> usize {
        self.inner.w
    }
    #[wasm_bindgen(getter)]
    pub fn kh(&self) -> usize {
        self.inner.kh
    }
    #[wasm_bindgen(getter)]
    pub fn kw(&self) -> usize {
        self.inner.kw
    }
    #[wasm_bindgen(getter, js_name = outH)]
    pub fn out_h(&self) -> usize {
        self.inner.out_h
    }
    #[wasm_bindgen(getter, js_name = outW)]
    pub fn out_w(&self) -> usize {
        self.inner.out_w
    }
    #[wasm_bindgen(getter, js_name = paddedH)]
    pub fn padded_h(&self) -> usize {
        self.inner.padded_h
    }
    #[wasm_bindgen(getter, js_name = paddedW)]
    pub fn padded_w(&self) -> usize {
        self.inner.padded_w
    }
    #[wasm_bindgen(getter)]
    pub fn steps(&self) -> usize {
        self.inner.steps()
    }
    #[wasm_bindgen(getter)]
    pub fn taps(&self) -> usize {
        self.inner.taps()
    }
    #[wasm_bindgen(getter)]
    pub fn flipped(&self) -> bool {
        self.inner.flipped
    }
    /// The kernel actually slid (turned by 180° when flipped).
    #[wasm_bindgen(getter)]
    pub fn kernel(&self) -> Vec<f32> {
        self.inner.kernel.clone()
    }
    #[wasm_bindgen(getter)]
    pub fn padded(&self) -> Vec<f32> {
        self.inner.padded.clone()
    }
    /// Per padded cell: input index or −1 (padding).
    #[wasm_bindgen(getter, js_name = paddedSource)]
    pub fn padded_source(&self) -> Vec<i32> {
        self.inner.padded_source.clone()
    }
    /// `steps × taps` padded-cell indices: the window of each step.
    #[wasm_bindgen(getter)]
    pub fn window(&self) -> Vec<u32> {
        self.inner.window.clone()
    }
    /// `steps × taps` input indices, −1 on padding.
    #[wasm_bindgen(getter)]
    pub fn source(&self) -> Vec<i32> {
        self.inner.source.clone()
    }
    /// The im2col table, `steps × taps`.
    #[wasm_bindgen(getter)]
    pub fn cols(&self) -> Vec<f32> {
        self.inner.cols.clone()
    }
    #[wasm_bindgen(getter)]
    pub fn products(&self) -> Vec<f32> {
        self.inner.products.clone()
    }
    #[wasm_bindgen(getter)]
    pub fn output(&self) -> Vec<f32> {
        self.inner.output.clone()
    }
    /// Output-size terms for rows then columns: input, pad_begin, pad_end, dilation, kernel,
    /// stride, output_padding, numerator, output (9 numbers each).
    #[wasm_bindgen(getter)]
    pub fn terms(&self) -> Vec<u32> {
        let [r, c] = self.inner.terms;
        [r.to_vec(), c.to_vec()].concat()
    }
}

/// `traceCorrelate(input, h, w, kernel, kh, kw, stride, padding, dilation, flip)`.
#[wasm_bindgen(js_name = traceCorrelate)]
#[allow(clippy::too_many_arguments)]
pub fn trace_correlate(
    input: &[f32],
    h: usize,
    w: usize,
    kernel: &[f32],
    kh: usize,
    kw: usize,
    stride: Vec<usize>,
    padding: Vec<usize>,
    dilation: Vec<usize>,
    flip: bool,
) -> Result<JsCorrTrace, JsError> {
    let g = geometry(&stride, &padding, &dilation, &[])?;
    Ok(JsCorrTrace {
        inner: correlate::trace(input, h, w, kernel, kh, kw, &g, flip)?,
    })
}

/// `[min, max]` pairs each control can reach (stride h, w; padding t, l, b, r; dilation h, w).
#[wasm_bindgen(js_name = traceCorrelateRanges)]
#[allow(clippy::too_many_arguments)]
pub fn trace_correlate_ranges(
    h: usize,
    w: usize,
    kh: usize,
    kw: usize,
    stride: Vec<usize>,
    padding: Vec<usize>,
    dilation: Vec<usize>,
    cap: usize,
) -> Result<Vec<u32>, JsError> {
    let g = geometry(&stride, &padding, &dilation, &[])?;
    Ok(flat_ranges(correlate::ranges(
        h,
        w,
        kh,
        kw,
        &g,
        cap.min(trace::MAX_SIDE),
    )))
}

/// The nearest valid settings: stride h, w, padding t, l, b, r, dilation h, w, output_padding h, w.
#[wasm_bindgen(js_name = traceCorrelateSettle)]
pub fn trace_correlate_settle(
    h: usize,
    w: usize,
    kh: usize,
    kw: usize,
    stride: Vec<usize>,
    padding: Vec<usize>,
    dilation: Vec<usize>,
) -> Result<Vec<u32>, JsError> {
    let g = geometry(&stride, &padding, &dilation, &[])?;
    Ok(flat_geometry(&correlate::settle(h, w, kh, kw, &g)))
}

/// Every stamp of a transposed convolution and its zero-insertion equivalent.
#[wasm_bindgen(js_name = TransposeTrace)]
pub struct JsTransTrace {
    inner: transpose::TransTrace,
}

#[wasm_bindgen(js_class = TransposeTrace)]
impl JsTransTrace {
    #[wasm_bindgen(getter)]
    pub fn h(&self) -> usize {
        self.inner.h
    }
    #[wasm_bindgen(getter)]
    pub fn w(&self) -> usize {
        self.inner.w
    }
    #[wasm_bindgen(getter)]
    pub fn kh(&self) -> usize {
        self.inner.kh
    }
    #[wasm_bindgen(getter)]
    pub fn kw(&self) -> usize {
        self.inner.kw
    }
    #[wasm_bindgen(getter, js_name = fullH)]
    pub fn full_h(&self) -> usize {
        self.inner.full_h
    }
    #[wasm_bindgen(getter, js_name = fullW)]
    pub fn full_w(&self) -> usize {
        self.inner.full_w
    }
    #[wasm_bindgen(getter, js_name = outH)]
    pub fn out_h(&self) -> usize {
        self.inner.out_h
    }
    #[wasm_bindgen(getter, js_name = outW)]
    pub fn out_w(&self) -> usize {
        self.inner.out_w
    }
    #[wasm_bindgen(getter)]
    pub fn steps(&self) -> usize {
        self.inner.steps()
    }
    #[wasm_bindgen(getter)]
    pub fn taps(&self) -> usize {
        self.inner.taps()
    }
    #[wasm_bindgen(getter)]
    pub fn kernel(&self) -> Vec<f32> {
        self.inner.kernel.clone()
    }
    /// `steps × taps`: the canvas cell each stamp tap adds into.
    #[wasm_bindgen(getter, js_name = stampFull)]
    pub fn stamp_full(&self) -> Vec<u32> {
        self.inner.stamp_full.clone()
    }
    /// `steps × taps`: the output cell, −1 where padding crops it.
    #[wasm_bindgen(getter, js_name = stampOut)]
    pub fn stamp_out(&self) -> Vec<i32> {
        self.inner.stamp_out.clone()
    }
    #[wasm_bindgen(getter, js_name = stampValue)]
    pub fn stamp_value(&self) -> Vec<f32> {
        self.inner.stamp_value.clone()
    }
    #[wasm_bindgen(getter)]
    pub fn full(&self) -> Vec<f32> {
        self.inner.full.clone()
    }
    #[wasm_bindgen(getter)]
    pub fn output(&self) -> Vec<f32> {
        self.inner.output.clone()
    }
    #[wasm_bindgen(getter, js_name = coverageFull)]
    pub fn coverage_full(&self) -> Vec<u32> {
        self.inner.coverage_full.clone()
    }
    #[wasm_bindgen(getter)]
    pub fn coverage(&self) -> Vec<u32> {
        self.inner.coverage.clone()
    }
    /// Per canvas cell: its output index, −1 where the padding crops it.
    #[wasm_bindgen(getter, js_name = canvasOutput)]
    pub fn canvas_output(&self) -> Vec<i32> {
        self.inner.canvas_output.clone()
    }
    /// The canvas after the first `steps` stamps.
    #[wasm_bindgen(js_name = canvasAfter)]
    pub fn canvas_after(&self, steps: usize) -> Vec<f32> {
        self.inner.canvas_after(steps)
    }
    /// How many of the first `steps` stamps cover each canvas cell.
    #[wasm_bindgen(js_name = coverageAfter)]
    pub fn coverage_after(&self, steps: usize) -> Vec<u32> {
        self.inner.coverage_after(steps)
    }
    /// Output-size terms (rows then columns, 9 each; see `CorrelateTrace.terms`).
    #[wasm_bindgen(getter)]
    pub fn terms(&self) -> Vec<u32> {
        let [r, c] = self.inner.terms;
        [r.to_vec(), c.to_vec()].concat()
    }
    /// Equivalent view: rows, columns of the zero-inserted, padded grid.
    #[wasm_bindgen(getter, js_name = eqH)]
    pub fn eq_h(&self) -> usize {
        self.inner.equivalent.corr.h
    }
    #[wasm_bindgen(getter, js_name = eqW)]
    pub fn eq_w(&self) -> usize {
        self.inner.equivalent.corr.w
    }
    /// `[insertedH, insertedW, padBeforeH, padBeforeW, padAfterH, padAfterW]` (padding may be negative: cropped).
    #[wasm_bindgen(getter, js_name = eqLayout)]
    pub fn eq_layout(&self) -> Vec<i32> {
        let e = &self.inner.equivalent;
        vec![
            e.inserted_h as i32,
            e.inserted_w as i32,
            e.pad_before[0],
            e.pad_before[1],
            e.pad_after[0],
            e.pad_after[1],
        ]
    }
    /// Per grid cell: 0 input pixel, 1 inserted zero, 2 padding.
    #[wasm_bindgen(getter, js_name = eqKind)]
    pub fn eq_kind(&self) -> Vec<u8> {
        self.inner.equivalent.kind.clone()
    }
    #[wasm_bindgen(getter, js_name = eqGrid)]
    pub fn eq_grid(&self) -> Vec<f32> {
        self.inner.equivalent.corr.padded.clone()
    }
    /// Per input cell: its grid cell, −1 when cropped.
    #[wasm_bindgen(getter, js_name = eqPosition)]
    pub fn eq_position(&self) -> Vec<i32> {
        self.inner.equivalent.position.clone()
    }
    /// The flipped kernel the equivalent correlation slides.
    #[wasm_bindgen(getter, js_name = eqKernel)]
    pub fn eq_kernel(&self) -> Vec<f32> {
        self.inner.equivalent.corr.kernel.clone()
    }
    /// `outputs × taps` grid cells of each window of the equivalent correlation.
    #[wasm_bindgen(getter, js_name = eqWindow)]
    pub fn eq_window(&self) -> Vec<u32> {
        self.inner.equivalent.corr.window.clone()
    }
    #[wasm_bindgen(getter, js_name = eqProducts)]
    pub fn eq_products(&self) -> Vec<f32> {
        self.inner.equivalent.corr.products.clone()
    }
    #[wasm_bindgen(getter, js_name = eqOutput)]
    pub fn eq_output(&self) -> Vec<f32> {
        self.inner.equivalent.corr.output.clone()
    }
}

/// `traceTranspose(input, h, w, kernel, kh, kw, stride, padding, outputPadding, dilation)`.
#[wasm_bindgen(js_name = traceTranspose)]
#[allow(clippy::too_many_arguments)]
pub fn trace_transpose(
    input: &[f32],
    h: usize,
    w: usize,
    kernel: &[f32],
    kh: usize,
    kw: usize,
    stride: Vec<usize>,
    padding: Vec<usize>,
    output_padding: Vec<usize>,
    dilation: Vec<usize>,
) -> Result<JsTransTrace, JsError> {
    let g = geometry(&stride, &padding, &dilation, &output_padding)?;
    Ok(JsTransTrace {
        inner: transpose::trace(input, h, w, kernel, kh, kw, &g)?,
    })
}

/// `[min, max]` pairs: stride h, w; padding t, l, b, r; dilation h, w; output_padding h, w.
#[wasm_bindgen(js_name = traceTransposeRanges)]
#[allow(clippy::too_many_arguments)]
pub fn trace_transpose_ranges(
    h: usize,
    w: usize,
    kh: usize,
    kw: usize,
    stride: Vec<usize>,
    padding: Vec<usize>,
    output_padding: Vec<usize>,
    dilation: Vec<usize>,
    cap: usize,
) -> Result<Vec<u32>, JsError> {
    let g = geometry(&stride, &padding, &dilation, &output_padding)?;
    Ok(flat_ranges(transpose::ranges(
        h,
        w,
        kh,
        kw,
        &g,
        cap.min(trace::MAX_SIDE),
    )))
}

/// The nearest valid settings (same order as `traceCorrelateSettle`).
#[wasm_bindgen(js_name = traceTransposeSettle)]
#[allow(clippy::too_many_arguments)]
pub fn trace_transpose_settle(
    h: usize,
    w: usize,
    kh: usize,
    kw: usize,
    stride: Vec<usize>,
    padding: Vec<usize>,
    output_padding: Vec<usize>,
    dilation: Vec<usize>,
) -> Result<Vec<u32>, JsError> {
    let g = geometry(&stride, &padding, &dilation, &output_padding)?;
    Ok(flat_geometry(&transpose::settle(h, w, kh, kw, &g)))
}

/// ⟨K f, g⟩ and ⟨f, Kᵀ g⟩.
#[wasm_bindgen(js_name = AdjointCheck)]
pub struct JsAdjoint {
    inner: transpose::Adjoint,
}

#[wasm_bindgen(js_class = AdjointCheck)]
impl JsAdjoint {
    /// ⟨K f, g⟩
    #[wasm_bindgen(getter)]
    pub fn lhs(&self) -> f64 {
        self.inner.lhs
    }
    /// ⟨f, Kᵀ g⟩
    #[wasm_bindgen(getter)]
    pub fn rhs(&self) -> f64 {
        self.inner.rhs
    }
    #[wasm_bindgen(getter)]
    pub fn f(&self) -> Vec<f32> {
        self.inner.f.clone()
    }
    #[wasm_bindgen(getter)]
    pub fn kf(&self) -> Vec<f32> {
        self.inner.kf.clone()
    }
    #[wasm_bindgen(getter, js_name = ktG)]
    pub fn kt_g(&self) -> Vec<f32> {
        self.inner.kt_g.clone()
    }
}

/// `traceAdjoint(g, h, w, kernel, kh, kw, stride, padding, outputPadding, dilation, seed)`.
#[wasm_bindgen(js_name = traceAdjoint)]
#[allow(clippy::too_many_arguments)]
pub fn trace_adjoint(
    g_img: &[f32],
    h: usize,
    w: usize,
    kernel: &[f32],
    kh: usize,
    kw: usize,
    stride: Vec<usize>,
    padding: Vec<usize>,
    output_padding: Vec<usize>,
    dilation: Vec<usize>,
    seed: u32,
) -> Result<JsAdjoint, JsError> {
    let g = geometry(&stride, &padding, &dilation, &output_padding)?;
    Ok(JsAdjoint {
        inner: transpose::adjoint(g_img, h, w, kernel, kh, kw, &g, seed)?,
    })
}

/// Conv2d(stride n) → ConvTranspose2d, back to the input's size.
#[wasm_bindgen(js_name = RoundTrip)]
pub struct JsRoundTrip {
    inner: transpose::RoundTrip,
}

#[wasm_bindgen(js_class = RoundTrip)]
impl JsRoundTrip {
    #[wasm_bindgen(getter)]
    pub fn down(&self) -> Vec<f32> {
        self.inner.down.clone()
    }
    #[wasm_bindgen(getter, js_name = downH)]
    pub fn down_h(&self) -> usize {
        self.inner.down_h
    }
    #[wasm_bindgen(getter, js_name = downW)]
    pub fn down_w(&self) -> usize {
        self.inner.down_w
    }
    #[wasm_bindgen(getter)]
    pub fn up(&self) -> Vec<f32> {
        self.inner.up.clone()
    }
    #[wasm_bindgen(getter, js_name = outputPadding)]
    pub fn output_padding(&self) -> Vec<u32> {
        self.inner
            .output_padding
            .iter()
            .map(|&v| v as u32)
            .collect()
    }
}

/// `traceRoundTrip(input, h, w, kernel, kh, kw, stride, padding, dilation)`.
#[wasm_bindgen(js_name = traceRoundTrip)]
#[allow(clippy::too_many_arguments)]
pub fn trace_round_trip(
    input: &[f32],
    h: usize,
    w: usize,
    kernel: &[f32],
    kh: usize,
    kw: usize,
    stride: Vec<usize>,
    padding: Vec<usize>,
    dilation: Vec<usize>,
) -> Result<JsRoundTrip, JsError> {
    let g = geometry(&stride, &padding, &dilation, &[])?;
    Ok(JsRoundTrip {
        inner: transpose::round_trip(input, h, w, kernel, kh, kw, &g)?,
    })
}

/// A preset image (`edges`, `letter`, `dot`, `ones`, `checker`, `random`).
#[wasm_bindgen(js_name = tracePresetImage)]
pub fn trace_preset_image(name: &str, h: usize, w: usize, seed: u32) -> Result<Vec<f32>, JsError> {
    Ok(presets::image(name, h, w, seed)?)
}

/// A preset kernel: `{ values, size }`.
#[wasm_bindgen(js_name = PresetKernel)]
pub struct JsPresetKernel {
    values: Vec<f32>,
    size: usize,
}

#[wasm_bindgen(js_class = PresetKernel)]
impl JsPresetKernel {
    #[wasm_bindgen(getter)]
    pub fn values(&self) -> Vec<f32> {
        self.values.clone()
    }
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> usize {
        self.size
    }
}

/// A preset kernel (`delta`, `box`, `sobel-x`, `sobel-y`, `laplacian`, `ones`, `bilinear`, `random`).
#[wasm_bindgen(js_name = tracePresetKernel)]
pub fn trace_preset_kernel(name: &str, k: usize, seed: u32) -> Result<JsPresetKernel, JsError> {
    let (values, size) = presets::kernel(name, k, seed)?;
    Ok(JsPresetKernel { values, size })
}

/// Two schedules correlated over every shift (seed 000).
#[wasm_bindgen(js_name = ScheduleCorrelation)]
pub struct JsSchedules {
    inner: dense::Schedules,
}

#[wasm_bindgen(js_class = ScheduleCorrelation)]
impl JsSchedules {
    #[wasm_bindgen(getter)]
    pub fn shifts(&self) -> Vec<i32> {
        self.inner.shifts.clone()
    }
    #[wasm_bindgen(getter)]
    pub fn total(&self) -> Vec<f32> {
        self.inner.total.clone()
    }
    /// `shifts × channels`.
    #[wasm_bindgen(getter, js_name = perChannel)]
    pub fn per_channel(&self) -> Vec<f32> {
        self.inner.per_channel.clone()
    }
    /// `shifts × len`: matched activity + 1, or 0.
    #[wasm_bindgen(getter)]
    pub fn matches(&self) -> Vec<u8> {
        self.inner.matches.clone()
    }
    #[wasm_bindgen(getter)]
    pub fn zero(&self) -> usize {
        self.inner.zero
    }
    #[wasm_bindgen(getter)]
    pub fn dense(&self) -> f32 {
        self.inner.dense
    }
    #[wasm_bindgen(getter)]
    pub fn len(&self) -> usize {
        self.inner.len
    }
    #[wasm_bindgen(getter)]
    pub fn channels(&self) -> usize {
        self.inner.channels
    }
}

/// `traceSchedules(a: Uint8Array, b: Uint8Array, channels)`.
#[wasm_bindgen(js_name = traceSchedules)]
pub fn trace_schedules(a: &[u8], b: &[u8], channels: usize) -> Result<JsSchedules, JsError> {
    Ok(JsSchedules {
        inner: dense::schedules(a, b, channels)?,
    })
}

/// A 1×1 conv next to the dense layer it equals.
#[wasm_bindgen(js_name = OneByOne)]
pub struct JsOneByOne {
    inner: dense::OneByOne,
}

#[wasm_bindgen(js_class = OneByOne)]
impl JsOneByOne {
    #[wasm_bindgen(getter)]
    pub fn input(&self) -> Vec<f32> {
        self.inner.input.clone()
    }
    #[wasm_bindgen(getter)]
    pub fn weight(&self) -> Vec<f32> {
        self.inner.weight.clone()
    }
    #[wasm_bindgen(getter)]
    pub fn conv(&self) -> Vec<f32> {
        self.inner.conv.clone()
    }
    #[wasm_bindgen(getter)]
    pub fn dense(&self) -> Vec<f32> {
        self.inner.dense.clone()
    }
}

/// `traceOneByOne(cIn, cOut, h, w, seed)`.
#[wasm_bindgen(js_name = traceOneByOne)]
pub fn trace_one_by_one(
    c_in: usize,
    c_out: usize,
    h: usize,
    w: usize,
    seed: u32,
) -> Result<JsOneByOne, JsError> {
    Ok(JsOneByOne {
        inner: dense::one_by_one(c_in, c_out, h, w, seed)?,
    })
}

/// `[inputs, denseHidden, denseSame, conv]` parameter counts (seed 003).
#[wasm_bindgen(js_name = traceParamCounts)]
pub fn trace_param_counts(
    h: f64,
    w: f64,
    c_in: f64,
    c_out: f64,
    k: f64,
    hidden: f64,
) -> Result<Vec<f64>, JsError> {
    let p = dense::param_counts(h, w, c_in, c_out, k, hidden)?;
    Ok(vec![p.inputs, p.dense_hidden, p.dense_same, p.conv])
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn geometry_accepts_the_short_forms() {
        let g = geometry(&[2], &[1], &[1, 2], &[]).unwrap();
        assert_eq!(g.stride, [2, 2]);
        assert_eq!(g.padding, [1; 4]);
        assert_eq!(g.dilation, [1, 2]);
        assert!(geometry(&[1, 2, 3], &[0], &[1], &[]).is_err());
        assert!(geometry(&[1], &[0, 1, 2], &[1], &[]).is_err());
    }

    #[test]
    fn wrappers_return_the_traces() {
        let t = trace_correlate(
            &[1.0; 16],
            4,
            4,
            &[1.0; 4],
            2,
            2,
            vec![2],
            vec![0],
            vec![1],
            false,
        )
        .ok()
        .unwrap();
        assert_eq!((t.out_h(), t.out_w()), (2, 2));
        assert_eq!(t.output(), vec![4.0; 4]);
        assert_eq!(t.terms().len(), 18);
        let r = trace_correlate_ranges(4, 4, 2, 2, vec![1], vec![0], vec![1], 4)
            .ok()
            .unwrap();
        assert_eq!(r.len(), 16);
        let t = trace_transpose(
            &[1.0; 4],
            2,
            2,
            &[1.0; 9],
            3,
            3,
            vec![2],
            vec![0],
            vec![0],
            vec![1],
        )
        .ok()
        .unwrap();
        assert_eq!(t.out_h(), 5);
        assert_eq!(t.eq_output(), t.output());
        let a = trace_adjoint(
            &[1.0; 4],
            2,
            2,
            &[0.5; 9],
            3,
            3,
            vec![2],
            vec![1],
            vec![1],
            vec![1],
            1,
        )
        .ok()
        .unwrap();
        assert!((a.lhs() - a.rhs()).abs() < 1e-5);
        assert_eq!(
            trace_param_counts(1000.0, 1000.0, 1.0, 1.0, 3.0, 1000.0)
                .ok()
                .unwrap()[1],
            1e9 + 1e3
        );
    }
}
