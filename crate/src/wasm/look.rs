//! What a model looks at (`nn::look`), on the JS `Model`: `inputGradient`, `gradCam`,
//! `adversarial`, `classImage` and `occlusion`. Arguments are read (and refused, naming them)
//! before the model's table is borrowed; results are built after it is released.

use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::args::{
    AdjointOptions, AdversarialOptions, ArgError, ClassImageOptions, GradCamOptions,
    InputGradientOptions, OcclusionOptions, Whole,
};
use super::js::{self, arg};
use super::model::{check_pixels, read_pixels, with_model};
use super::{run, R};
use crate::nn::look::Of;

fn to_js<T: Serialize>(v: &T, what: &str) -> R<JsValue> {
    Ok(js::to_js(v, what)?)
}

fn required<T: serde::de::DeserializeOwned>(opts: &JsValue, function: &str, example: &str) -> R<T> {
    Ok(
        js::options::<T>("opts", function, example, opts)?.ok_or_else(|| {
            ArgError::new(
                "opts",
                "undefined",
                format!("must be an object like {example}"),
            )
        })?,
    )
}

/// The gradient of class `target`'s logit (default), probability or loss with respect to the
/// input (`Float32Array` of the input's size), or that gradient × the input (`timesInput`):
/// `opts` = `{ target, of?, timesInput? }`.
#[wasm_bindgen(js_name = modelInputGradient)]
pub fn model_input_gradient(
    m: JsValue,
    pixels: JsValue,
    opts: JsValue,
) -> Result<Vec<f32>, JsError> {
    run(|| {
        let px = read_pixels(&pixels)?;
        let o: InputGradientOptions =
            required(&opts, "inputGradient", "{ target: 3, of: \"logit\" }")?;
        let of = match o.of {
            Some(n) => Of::from_name(&n.0)?,
            None => Of::Logit,
        };
        let times = o.times_input.is_some_and(|f| f.0);
        with_model(&m, |l| {
            check_pixels(&l.model, &px)?;
            let g = l.model.input_gradient(&px, o.target.0, of)?;
            Ok(if times {
                crate::nn::look::times_input(&g, &px)
            } else {
                g
            })
        })
    })
}

/// Grad-CAM on activation `layer` for class `target`: `{ map, h, w, weights, channels,
/// upsampled, inputH, inputW }`.
#[wasm_bindgen(js_name = modelGradCam)]
pub fn model_grad_cam(m: JsValue, pixels: JsValue, opts: JsValue) -> Result<JsValue, JsError> {
    run(|| {
        let px = read_pixels(&pixels)?;
        let o: GradCamOptions = required(&opts, "gradCam", "{ layer: 4, target: 3 }")?;
        let cam = with_model(&m, |l| {
            check_pixels(&l.model, &px)?;
            Ok(l.model.grad_cam(&px, o.layer.0, o.target.0)?)
        })?;
        to_js(&cam, "gradCam")
    })
}

/// A conv layer's backward step to its input as a transposed convolution, for class `target`'s
/// logit: dout, dX = conv_transpose2d(dout, W) beside the layer's backward pass's dX, and one dX
/// cell (`cell`, or the largest) as the sum of its stamps (`nn::look::AdjointStep`).
#[wasm_bindgen(js_name = modelAdjointStep)]
pub fn model_adjoint_step(m: JsValue, pixels: JsValue, opts: JsValue) -> Result<JsValue, JsError> {
    run(|| {
        let px = read_pixels(&pixels)?;
        let o: AdjointOptions = required(&opts, "adjointStep", "{ layer: \"conv2\", target: 3 }")?;
        let cell = o.cell.map(|[c, y, x]| [c.0, y.0, x.0]);
        let a = with_model(&m, |l| {
            check_pixels(&l.model, &px)?;
            Ok(l.model.adjoint_step(&px, &o.layer.0, o.target.0, cell)?)
        })?;
        to_js(&a, "adjointStep")
    })
}

/// An adversarial input: `{ pixels, perturbation, probabilities, top }` (FGSM for one step).
#[wasm_bindgen(js_name = modelAdversarial)]
pub fn model_adversarial(m: JsValue, pixels: JsValue, opts: JsValue) -> Result<JsValue, JsError> {
    run(|| {
        let px = read_pixels(&pixels)?;
        let o: AdversarialOptions = required(
            &opts,
            "adversarial",
            "{ epsilon: 0.1, label: 3, steps: 1, target: 8 }",
        )?;
        let a = with_model(&m, |l| {
            check_pixels(&l.model, &px)?;
            Ok(l.model.adversarial(
                &px,
                o.epsilon.0 as f32,
                o.label.0,
                o.steps.map_or(1, |s| s.0),
                o.target.map(|t| t.0),
            )?)
        })?;
        to_js(&a, "adversarial")
    })
}

/// The input that maximises class `target`'s logit: `{ pixels }`; `start` (an earlier result)
/// continues an ascent, so a long one can run in short parts.
#[wasm_bindgen(js_name = modelClassImage)]
pub fn model_class_image(
    m: JsValue,
    target: JsValue,
    opts: JsValue,
    start: JsValue,
) -> Result<JsValue, JsError> {
    run(|| {
        let Whole(target) = arg("target", "classImage", &target)?;
        let start = if start.is_undefined() || start.is_null() {
            None
        } else {
            Some(read_pixels(&start)?)
        };
        let o: ClassImageOptions = js::options(
            "opts",
            "classImage",
            "{ steps: 100, l2: 0.05, blur: 0.3 }",
            &opts,
        )?
        .unwrap_or_default();
        let pixels = with_model(&m, |l| {
            if let Some(s) = &start {
                check_pixels(&l.model, s)?;
            }
            Ok(l.model.class_image_from(
                target,
                o.steps.map_or(100, |s| s.0),
                o.l2.map_or(0.05, |v| v.0 as f32),
                o.blur.map_or(0.3, |v| v.0 as f32),
                o.seed.map(|s| s.0 as u64),
                start.as_deref(),
            )?)
        })?;
        #[derive(Serialize)]
        struct Out {
            #[serde(serialize_with = "crate::typed::f32s")]
            pixels: Vec<f32>,
        }
        to_js(&Out { pixels }, "classImage")
    })
}

/// Occlusion sensitivity: `{ map, h, w, base }`, the drop in class `target`'s probability as a
/// `patch` square (default 7) of `value` (default 0.5) slides with `stride` (default the patch).
#[wasm_bindgen(js_name = modelOcclusion)]
pub fn model_occlusion(m: JsValue, pixels: JsValue, opts: JsValue) -> Result<JsValue, JsError> {
    run(|| {
        let px = read_pixels(&pixels)?;
        let o: OcclusionOptions =
            required(&opts, "occlusion", "{ target: 3, patch: 7, stride: 7 }")?;
        let patch = o.patch.map_or(7, |p| p.0);
        let r = with_model(&m, |l| {
            check_pixels(&l.model, &px)?;
            Ok(l.model.occlusion(
                &px,
                o.target.0,
                patch,
                o.stride.map_or(patch, |s| s.0),
                o.value.map_or(0.5, |v| v.0 as f32),
            )?)
        })?;
        to_js(&r, "occlusion")
    })
}
