//! The animation traces (`crate::trace`): every scene of the playground gets its numbers here.
//! Each function takes its data as typed arrays and its setting as one options object (the
//! same geometry options as `conv2d`, plus the sizes), and returns a plain object whose big
//! buffers are typed arrays.
//!
//! ```js
//! const t = traceCorrelate(input, kernel, { size: [7, 7], kernelSize: 3, stride: 2, padding: 1 });
//! t.outH; t.products;            // steps × taps
//! t.terms.rows.output;           // the output-size formula with its numbers
//! traceCorrelateRanges({ size: [7, 7], kernelSize: 3, stride: 2, cap: 6 }).padding[0]; // [min, max]
//! ```

use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::args::{
    ArgError, CheckerboardSetting, CorrelateSetting, OneByOneOptions, ParamCountOptions,
    PatchOptions, PresetOptions, Setting, TransposeSetting, Whole,
};
use super::js::{self, arg};
use super::{run, R};
use crate::trace::{self, correlate, dense, presets, transpose, Op, MAX_KERNEL, MAX_SIDE};

fn to_js<T: Serialize>(v: &T) -> R<JsValue> {
    Ok(super::js::to_js(v, "result")?)
}

/// An `h × w` image argument (`Float32Array`), its length checked before it is copied.
fn image(name: &str, v: &JsValue, [h, w]: [usize; 2]) -> Result<Vec<f32>, ArgError> {
    js::typed::<f32>(name, v, |n| {
        if n == h * w {
            Ok(())
        } else {
            Err(ArgError::new(
                name,
                format!("a Float32Array of {n} elements"),
                format!("a {h}×{w} {name} needs {}", h * w),
            ))
        }
    })
}

/// The sizes of a setting, checked against the display limits before any data is read.
pub(super) fn sizes(op: Op, size: [usize; 2], kernel: [usize; 2]) -> Result<(), ArgError> {
    let max = if op == Op::Transpose {
        transpose::MAX_INPUT
    } else {
        MAX_SIDE
    };
    if size.iter().any(|&s| s == 0 || s > max) {
        return Err(ArgError::new(
            "size",
            format!("{size:?}"),
            format!("each side must be between 1 and {max} here"),
        ));
    }
    if kernel.iter().any(|&s| s == 0 || s > MAX_KERNEL) {
        return Err(ArgError::new(
            "kernelSize",
            format!("{kernel:?}"),
            format!("each side must be between 1 and {MAX_KERNEL}"),
        ));
    }
    Ok(())
}

/// The ranges of a scene's controls for `s` (the controls' current values must be possible ones).
fn ranges(op: Op, s: Setting) -> R<JsValue> {
    sizes(op, s.size, s.kernel)?;
    s.params.check_steps()?;
    let cap = s.cap.unwrap_or(MAX_SIDE);
    to_js(&trace::ranges(op, s.size, s.kernel, &s.params, cap))
}

/// The nearest valid setting to `s`.
fn settle(op: Op, s: Setting) -> R<JsValue> {
    sizes(op, s.size, s.kernel)?;
    to_js(&trace::settle(op, s.size, s.kernel, &s.params)?)
}

/// A trace's image and kernel (`Float32Array`s), after its sizes are checked against the
/// display limits and before anything is copied.
fn data(
    op: Op,
    size: [usize; 2],
    kernel_size: [usize; 2],
    (input_name, input): (&str, &JsValue),
    kernel: &JsValue,
) -> Result<(Vec<f32>, Vec<f32>), ArgError> {
    sizes(op, size, kernel_size)?;
    Ok((
        image(input_name, input, size)?,
        image("kernel", kernel, kernel_size)?,
    ))
}

fn correlate_setting(function: &str, v: &JsValue) -> Result<CorrelateSetting, ArgError> {
    js::options::<CorrelateSetting>("setting", function, "{ size: 7, kernelSize: 3 }", v)?
        .ok_or_else(|| {
            ArgError::new(
                "setting",
                "undefined",
                "is required: { size, kernelSize, … }",
            )
        })
}

fn transpose_setting(function: &str, v: &JsValue) -> Result<TransposeSetting, ArgError> {
    js::options::<TransposeSetting>(
        "setting",
        function,
        "{ size: 4, kernelSize: 3, stride: 2 }",
        v,
    )?
    .ok_or_else(|| {
        ArgError::new(
            "setting",
            "undefined",
            "is required: { size, kernelSize, … }",
        )
    })
}

/// What each scene's own controls offer, from the traces' limits:
/// `{ correlate: { size, kernelSize, cap }, transpose: { … }, checkerboard: { size, kernelSize, stride },
/// dense: { size, channels, hidden, kernelSize }, train: { lr: [above, max], batch } }`,
/// each range `[min, max]`; `cap` is the largest stride, padding, dilation or output padding
/// the geometry steppers reach (pass it to `traceCorrelateRanges` / `traceTransposeRanges`).
#[wasm_bindgen(js_name = traceControls)]
pub fn trace_controls() -> Result<JsValue, JsError> {
    #[derive(Serialize)]
    struct All {
        correlate: trace::Controls,
        transpose: trace::Controls,
        checkerboard: transpose::checkerboard::Limits,
        dense: dense::ParamControls,
        train: Train,
    }
    /// The trainer's own ranges: a learning rate above `lr[0]` and at most `lr[1]`, a batch of
    /// `batch[0]` to `batch[1]` images.
    #[derive(Serialize)]
    struct Train {
        lr: [f32; 2],
        batch: [usize; 2],
    }
    run(|| {
        to_js(&All {
            correlate: trace::controls(Op::Correlate),
            transpose: trace::controls(Op::Transpose),
            checkerboard: transpose::checkerboard::LIMITS,
            dense: dense::PARAM_CONTROLS,
            train: Train {
                lr: [0.0, crate::nn::trainer::MAX_LR],
                batch: [1, crate::nn::trainer::MAX_BATCH],
            },
        })
    })
}

/// Every step of a sliding correlation: windows, im2col rows, products, outputs. With
/// `normalized: true`, each output is the window's normalised cross-correlation with the
/// kernel (products `(x − x̄)(k − k̄)`, and `ncc` holding what explains each step).
#[wasm_bindgen(js_name = traceCorrelate)]
pub fn trace_correlate(
    input: JsValue,
    kernel: JsValue,
    setting: JsValue,
) -> Result<JsValue, JsError> {
    run(|| {
        let s = correlate_setting("traceCorrelate", &setting)?;
        let (size, ks) = (s.size.0, s.kernel_size.0);
        let (x, k) = data(Op::Correlate, size, ks, ("input", &input), &kernel)?;
        let mode = correlate::Mode {
            flip: s.flip.is_some_and(|f| f.0),
            normalized: s.normalized.is_some_and(|f| f.0),
        };
        let t = correlate::trace_with(&x, size[0], size[1], &k, ks[0], ks[1], &s.params(), mode)?;
        to_js(&t)
    })
}

/// The `kernelSize` box of an image whose top-left cell is (`top`, `left`): what becomes the
/// kernel when a box is dragged on the input. `{ size: [kh, kw], at: [top, left], values:
/// Float32Array, cells: Uint32Array }` (`cells`: each value's index in the image).
#[wasm_bindgen(js_name = traceCorrelatePatch)]
pub fn trace_correlate_patch(input: JsValue, opts: JsValue) -> Result<JsValue, JsError> {
    run(|| {
        let o = js::options::<PatchOptions>(
            "opts",
            "traceCorrelatePatch",
            "{ size: 9, top: 2, left: 3, kernelSize: 3 }",
            &opts,
        )?
        .ok_or_else(|| {
            ArgError::new(
                "opts",
                "undefined",
                "is required: { size, top, left, kernelSize }",
            )
        })?;
        let (size, ks) = (o.size.0, o.kernel_size.0);
        // Sizes and the box's place are checked before the image is read.
        let at = [o.top.0, o.left.0];
        correlate::check_box(size[0], size[1], at, ks)?;
        let x = image("input", &input, size)?;
        to_js(&correlate::patch(&x, size[0], size[1], at, ks)?)
    })
}

/// The `[min, max]` each control can reach with the others held:
/// `{ stride: [[lo, hi], [lo, hi]], padding: [4 pairs], dilation: [2 pairs] }`.
#[wasm_bindgen(js_name = traceCorrelateRanges)]
pub fn trace_correlate_ranges(setting: JsValue) -> Result<JsValue, JsError> {
    run(|| {
        ranges(
            Op::Correlate,
            correlate_setting("traceCorrelateRanges", &setting)?.setting(),
        )
    })
}

/// The nearest valid geometry: `{ stride, padding, dilation, groups, outputPadding }`.
#[wasm_bindgen(js_name = traceCorrelateSettle)]
pub fn trace_correlate_settle(setting: JsValue) -> Result<JsValue, JsError> {
    run(|| {
        settle(
            Op::Correlate,
            correlate_setting("traceCorrelateSettle", &setting)?.setting(),
        )
    })
}

/// Every stamp of a transposed convolution, and its zero-insertion view (`equivalent`).
#[wasm_bindgen(js_name = traceTranspose)]
pub fn trace_transpose(
    input: JsValue,
    kernel: JsValue,
    setting: JsValue,
) -> Result<JsValue, JsError> {
    run(|| {
        let s = transpose_setting("traceTranspose", &setting)?;
        let (size, ks) = (s.size.0, s.kernel_size.0);
        let (x, k) = data(Op::Transpose, size, ks, ("input", &input), &kernel)?;
        let t = transpose::trace(&x, size[0], size[1], &k, ks[0], ks[1], &s.params())?;
        to_js(&t)
    })
}

/// The canvas and the stamps-per-cell counts after the first `steps` stamps (col2im stopped
/// part way): `{ canvas: Float32Array, coverage: Uint32Array }`.
#[wasm_bindgen(js_name = traceTransposeAfter)]
pub fn trace_transpose_after(
    input: JsValue,
    kernel: JsValue,
    setting: JsValue,
    steps: JsValue,
) -> Result<JsValue, JsError> {
    #[derive(Serialize)]
    struct After {
        #[serde(serialize_with = "crate::typed::f32s")]
        canvas: Vec<f32>,
        #[serde(serialize_with = "crate::typed::u32s")]
        coverage: Vec<u32>,
    }
    run(|| {
        let s = transpose_setting("traceTransposeAfter", &setting)?;
        let Whole(steps) = arg("steps", "traceTransposeAfter", &steps)?;
        let (size, ks) = (s.size.0, s.kernel_size.0);
        let (x, k) = data(Op::Transpose, size, ks, ("input", &input), &kernel)?;
        let t = transpose::stamps_only(&x, size[0], size[1], &k, ks[0], ks[1], &s.params())?;
        to_js(&After {
            canvas: t.canvas_after(steps),
            coverage: t.coverage_after(steps),
        })
    })
}

/// `{ stride, padding, dilation, outputPadding }` ranges (see `traceCorrelateRanges`).
#[wasm_bindgen(js_name = traceTransposeRanges)]
pub fn trace_transpose_ranges(setting: JsValue) -> Result<JsValue, JsError> {
    run(|| {
        ranges(
            Op::Transpose,
            transpose_setting("traceTransposeRanges", &setting)?.setting(),
        )
    })
}

/// The nearest valid geometry of the stepped transposed convolution.
#[wasm_bindgen(js_name = traceTransposeSettle)]
pub fn trace_transpose_settle(setting: JsValue) -> Result<JsValue, JsError> {
    run(|| {
        settle(
            Op::Transpose,
            transpose_setting("traceTransposeSettle", &setting)?.setting(),
        )
    })
}

/// Two stacked stride-n transposed convolutions beside nearest-neighbour upsampling then a
/// conv, stage by stage: outputs, stamps per cell and paths per cell (Distill's checkerboard).
#[wasm_bindgen(js_name = traceCheckerboard)]
pub fn trace_checkerboard(
    input: JsValue,
    kernel: JsValue,
    setting: JsValue,
) -> Result<JsValue, JsError> {
    use transpose::checkerboard::{MAX_INPUT, MAX_KERNEL as MAX_K};
    run(|| {
        let s = js::options::<CheckerboardSetting>(
            "setting",
            "traceCheckerboard",
            "{ size: 6, kernelSize: 3, stride: 2 }",
            &setting,
        )?
        .ok_or_else(|| {
            ArgError::new(
                "setting",
                "undefined",
                "is required: { size, kernelSize, stride }",
            )
        })?;
        let (size, ks) = (s.size.0, s.kernel_size.0);
        let stride = s.stride.map_or([2, 2], |v| v.0);
        // The sizes are checked before any data is copied.
        if size.iter().any(|&v| v == 0 || v > MAX_INPUT) {
            return Err(ArgError::new(
                "size",
                format!("{size:?}"),
                format!("each side must be between 1 and {MAX_INPUT} here"),
            )
            .into());
        }
        if ks.iter().any(|&v| v == 0 || v > MAX_K) {
            return Err(ArgError::new(
                "kernelSize",
                format!("{ks:?}"),
                format!("each side must be between 1 and {MAX_K} here"),
            )
            .into());
        }
        let x = image("input", &input, size)?;
        let k = image("kernel", &kernel, ks)?;
        to_js(&transpose::checkerboard(&x, size, &k, ks, stride)?)
    })
}

/// ⟨K f, g⟩ and ⟨f, Kᵀ g⟩ for the scene's input as g: `{ lhs, rhs, f, kf, ktG }`.
#[wasm_bindgen(js_name = traceAdjoint)]
pub fn trace_adjoint(
    g_img: JsValue,
    kernel: JsValue,
    setting: JsValue,
) -> Result<JsValue, JsError> {
    run(|| {
        let s = transpose_setting("traceAdjoint", &setting)?;
        let (size, ks) = (s.size.0, s.kernel_size.0);
        let (g, k) = data(Op::TransposeOnly, size, ks, ("g", &g_img), &kernel)?;
        let seed = s.seed.map_or(0, |v| v.0) as u32;
        to_js(&transpose::adjoint(
            &g,
            size[0],
            size[1],
            &k,
            ks[0],
            ks[1],
            &s.params(),
            seed,
        )?)
    })
}

/// Conv2d(stride n) → ConvTranspose2d, back to the input's size:
/// `{ down, downH, downW, up, outputPadding }`.
#[wasm_bindgen(js_name = traceRoundTrip)]
pub fn trace_round_trip(
    input: JsValue,
    kernel: JsValue,
    setting: JsValue,
) -> Result<JsValue, JsError> {
    run(|| {
        let s = correlate_setting("traceRoundTrip", &setting)?;
        let (size, ks) = (s.size.0, s.kernel_size.0);
        let (x, k) = data(Op::Correlate, size, ks, ("input", &input), &kernel)?;
        to_js(&transpose::round_trip(
            &x,
            size[0],
            size[1],
            &k,
            ks[0],
            ks[1],
            &s.params(),
        )?)
    })
}

/// The terms of a sum and the sum rounded to `decimals` (default 3) so that the shown terms add
/// up to the shown sum: `{ terms: number[], total }`.
#[wasm_bindgen(js_name = traceRoundedSum)]
pub fn trace_rounded_sum(values: JsValue, decimals: JsValue) -> Result<JsValue, JsError> {
    run(|| {
        let d = if decimals.is_undefined() || decimals.is_null() {
            3
        } else {
            arg::<Whole>("decimals", "traceRoundedSum", &decimals)?.0
        };
        let v = js::typed::<f32>(
            "values",
            &values,
            js::at_most("values", MAX_SIDE * MAX_SIDE),
        )?;
        to_js(&trace::rounded_sum(&v, d.min(u32::MAX as usize) as u32)?)
    })
}

fn preset(function: &str, v: &JsValue) -> Result<PresetOptions, ArgError> {
    js::options::<PresetOptions>("opts", function, "{ name: 'letter', size: 7 }", v)?
        .ok_or_else(|| ArgError::new("opts", "undefined", "is required: { name, size, seed }"))
}

/// A preset image (`edges`, `letter`, `dot`, `ones`, `checker`, `random`) of `size` `[h, w]`.
#[wasm_bindgen(js_name = tracePresetImage)]
pub fn trace_preset_image(opts: JsValue) -> Result<js_sys::Float32Array, JsError> {
    run(|| {
        let o = preset("tracePresetImage", &opts)?;
        let [h, w] = o.size.0;
        let seed = o.seed.map_or(0, |v| v.0) as u32;
        Ok(js_sys::Float32Array::from(
            &presets::image(&o.name.0, h, w, seed)?[..],
        ))
    })
}

/// A preset kernel (`delta`, `box`, `sobel-x`, `sobel-y`, `laplacian`, `ones`, `bilinear`,
/// `random`): `{ values: Float32Array, size }` (a preset may have a fixed size).
#[wasm_bindgen(js_name = tracePresetKernel)]
pub fn trace_preset_kernel(opts: JsValue) -> Result<JsValue, JsError> {
    #[derive(Serialize)]
    struct Kernel {
        #[serde(serialize_with = "crate::typed::f32s")]
        values: Vec<f32>,
        size: usize,
    }
    run(|| {
        let o = preset("tracePresetKernel", &opts)?;
        let [k, k2] = o.size.0;
        if k != k2 {
            return Err(ArgError::new(
                "size",
                format!("{:?}", o.size.0),
                "a preset kernel is square",
            )
            .into());
        }
        let seed = o.seed.map_or(0, |v| v.0) as u32;
        let (values, size) = presets::kernel(&o.name.0, k, seed)?;
        to_js(&Kernel { values, size })
    })
}

/// Two schedules (`Uint8Array`s of activity indices, one per hour) correlated over every
/// shift: dense = shift 0.
#[wasm_bindgen(js_name = traceSchedules)]
pub fn trace_schedules(a: JsValue, b: JsValue, channels: JsValue) -> Result<JsValue, JsError> {
    run(|| {
        let Whole(c) = arg("channels", "traceSchedules", &channels)?;
        let a = js::typed::<u8>("a", &a, js::at_most("a", dense::MAX_LEN))?;
        let b = js::typed::<u8>("b", &b, js::at_most("b", dense::MAX_LEN))?;
        to_js(&dense::schedules(&a, &b, c)?)
    })
}

/// A 1×1 conv next to the dense layer it equals.
#[wasm_bindgen(js_name = traceOneByOne)]
pub fn trace_one_by_one(opts: JsValue) -> Result<JsValue, JsError> {
    run(|| {
        let o = js::options::<OneByOneOptions>(
            "opts",
            "traceOneByOne",
            "{ channelsIn: 3, channelsOut: 2, size: 4 }",
            &opts,
        )?
        .ok_or_else(|| ArgError::new("opts", "undefined", "is required"))?;
        let [h, w] = o.size.0;
        let seed = o.seed.map_or(0, |v| v.0) as u32;
        to_js(&dense::one_by_one(
            o.channels_in.0,
            o.channels_out.0,
            h,
            w,
            seed,
        )?)
    })
}

/// Dense vs conv parameter counts for one layer: `{ inputs, denseHidden, denseSame, conv }`,
/// exact, as BigInts.
#[wasm_bindgen(js_name = traceParamCounts)]
pub fn trace_param_counts(opts: JsValue) -> Result<JsValue, JsError> {
    run(|| {
        let o = js::options::<ParamCountOptions>(
            "opts",
            "traceParamCounts",
            "{ size: 28, channelsIn: 1, channelsOut: 8, kernelSize: 5, hidden: 100 }",
            &opts,
        )?
        .ok_or_else(|| ArgError::new("opts", "undefined", "is required"))?;
        let f = |w: Whole| w.0 as u64;
        let [h, w] = o.size.0;
        let p = dense::param_counts(
            h as u64,
            w as u64,
            f(o.channels_in),
            f(o.channels_out),
            f(o.kernel_size),
            f(o.hidden),
        )?;
        to_js(&p)
    })
}
