//! The models: `modelLoad(bytes)` → a handle; `modelLayers`, `modelWeights`, `modelForward`
//! (→ a generation number) and the `forward*` readers of that pass's activations; and
//! `preprocess(rgba, width, height)`. The JS classes `Model` and `Forward` of `api.js` wrap
//! them.
//!
//! An activation is returned as a copy (at most 6,272 floats for the shipped models): a view
//! into wasm memory would outlive `free()` of its model, and writing through it would corrupt
//! the allocator. A forward whose model has run again since is refused ("stale"). JS objects
//! are built only after a model's table is released, so no code of the caller (a setter on
//! `Object.prototype`) runs while it is borrowed.

use std::cell::RefCell;

use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::args::{ArgError, Name, Real, Whole};
use super::handles::Table;
use super::js::{self, arg};
use super::{run, R};
use crate::conv::{Conv2dParams, Pool2dParams};
use crate::mnist;
use crate::nn::infer::{Inference, Predictor};
use crate::nn::{argmax, explain, Layer, Model};
use crate::trace::code;

/// Largest weights file `modelLoad` reads (the shipped ones are ~100 KB).
pub const MAX_FILE: usize = 64 << 20;
/// Largest safetensors header (JSON) it parses: a few hundred bytes per tensor.
pub const MAX_HEADER: u64 = 1 << 20;
/// Largest canvas side `preprocess` takes.
pub const MAX_CANVAS: usize = 8192;

pub(super) struct Loaded {
    pub(super) model: Model,
    inf: Inference,
    /// The same model on its fastest path (`modelPredict`: probabilities only).
    predictor: Predictor,
    /// Incremented by every forward; a `Forward` names the generation it was made at.
    generation: u64,
    /// Display name and kind of each activation (index 0 is the input).
    names: Vec<(String, &'static str)>,
}

thread_local! {
    static MODELS: RefCell<Table<Loaded>> = RefCell::new(Table::new("Model"));
}

pub(crate) fn live() -> usize {
    MODELS.with(|m| m.borrow().len())
}

pub(super) fn with_model<T>(m: &JsValue, f: impl FnOnce(&mut Loaded) -> R<T>) -> R<T> {
    MODELS.with(|t| {
        let mut t = t.borrow_mut();
        let l = t.get_mut("this", m)?;
        f(l)
    })
}

/// A layer as `Model.layers()` describes it: its name, kind, output shape (without the
/// batch), and for conv and pool layers their geometry, from the same parameters the kernels
/// run with.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LayerInfo {
    name: String,
    kind: &'static str,
    shape: Vec<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    conv: Option<Conv2dParams>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kernel_size: Option<[usize; 2]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pool: Option<Pool2dParams>,
    /// The `[C, H, W]` the page draws it as, and `forwardExplain` names its cells in.
    view: [usize; 3],
    /// The layer's PyTorch constructor (`nn.Conv2d(1, 8, kernel_size=5, padding=2)`); absent
    /// for the input.
    #[serde(skip_serializing_if = "Option::is_none")]
    torch: Option<String>,
    /// Trained parameters of the layer (0 for the input and the layers without any).
    params: usize,
    /// The layer as a spec describes it (absent for the input).
    #[serde(skip_serializing_if = "Option::is_none")]
    spec: Option<crate::nn::spec::LayerSpec>,
}

/// Loads a safetensors file (`Uint8Array`); throws an Error saying what does not match.
#[wasm_bindgen(js_name = modelLoad)]
pub fn model_load(bytes: JsValue) -> Result<f64, JsError> {
    run(|| {
        let bytes = js::typed::<u8>("bytes", &bytes, js::at_most("bytes", MAX_FILE))?;
        let onnx = crate::nn::io::looks_like(&bytes) == Some(crate::nn::io::ONNX);
        // What a file that is no model file looks like ("it starts with text"), first.
        if !onnx {
            crate::nn::io::check_start(&bytes)?;
        }
        if bytes.len() >= 8 && !onnx {
            let header = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
            if header > MAX_HEADER {
                return Err(crate::Error::Weights(format!(
                    "the file's header is {header} bytes; a model's is far below {MAX_HEADER}"
                ))
                .into());
            }
        }
        let model = crate::nn::io::load(&bytes)?;
        insert(model)
    })
}

/// Prepares `model` for the page and stores it: its handle.
fn insert(model: Model) -> R<f64> {
    let inf = Inference::new(&model)?;
    let predictor = Predictor::new(&model)?;
    let mut names = vec![("input".to_string(), "input")];
    for (n, l) in model.names().iter().zip(&model.layers) {
        names.push((n.clone(), l.kind()));
    }
    let loaded = Loaded {
        model,
        inf,
        predictor,
        generation: 0,
        names,
    };
    MODELS.with(|t| Ok(t.borrow_mut().insert(loaded)?))
}

/// A model built from a spec (`{ input: [C, H, W], layers: [...] }`, an object or its JSON
/// text) with He-uniform weights from `seed` (default 1); throws an Error naming the layer and
/// the rule a design breaks.
#[wasm_bindgen(js_name = modelFromSpec)]
pub fn model_from_spec(spec: JsValue, seed: JsValue) -> Result<f64, JsError> {
    run(|| {
        let json = spec_json(&spec)?;
        let seed = if seed.is_undefined() || seed.is_null() {
            1
        } else {
            let Whole(s) = arg("seed", "Model.fromSpec", &seed)?;
            s as u64
        };
        let spec = crate::nn::spec::Spec::from_json(&json)?;
        insert(Model::init(&spec, seed)?)
    })
}

/// A spec argument as JSON text: a string is taken as it is, an object through its snapshot.
pub(crate) fn spec_json(spec: &JsValue) -> Result<String, ArgError> {
    if let Some(s) = spec.as_string() {
        if s.len() > 1 << 20 {
            return Err(ArgError::new(
                "spec",
                format!("{} characters", s.len()),
                "is longer than a spec can be (1 MiB)",
            ));
        }
        return Ok(s);
    }
    let text = js::snapshot("spec", spec)?;
    if !text.starts_with('{') {
        return Err(ArgError::new(
            "spec",
            text.chars().take(40).collect::<String>(),
            "must be an object like { input: [1, 28, 28], layers: [{ kind: \"flatten\" }, { kind: \"linear\", outFeatures: 10 }] }",
        ));
    }
    Ok(text)
}

/// The model's architecture, every default written out (what `Model.fromSpec` takes).
#[wasm_bindgen(js_name = modelSpec)]
pub fn model_spec(m: JsValue) -> Result<JsValue, JsError> {
    run(|| {
        let text = with_model(&m, |l| Ok(l.model.spec().to_json()))?;
        js_sys::JSON::parse(&text)
            .map_err(|_| ArgError::new("spec", "?", "JSON.parse failed").into())
    })
}

/// `[C, H, W]` of one input.
#[wasm_bindgen(js_name = modelInputShape)]
pub fn model_input_shape(m: JsValue) -> Result<Vec<u32>, JsError> {
    run(|| with_model(&m, |l| Ok(l.model.input_shape().map(|d| d as u32).to_vec())))
}

/// The model as a safetensors file (F32, PyTorch names, the spec in the metadata).
#[wasm_bindgen(js_name = modelSave)]
pub fn model_save(m: JsValue) -> Result<Vec<u8>, JsError> {
    run(|| with_model(&m, |l| Ok(l.model.to_safetensors()?)))
}

/// The model as an ONNX file (opset 17) that onnxruntime runs with the same outputs.
#[wasm_bindgen(js_name = modelToOnnx)]
pub fn model_to_onnx(m: JsValue) -> Result<Vec<u8>, JsError> {
    run(|| with_model(&m, |l| Ok(l.model.to_onnx()?)))
}

/// Frees a model; freeing twice does nothing. Its forwards become unusable.
#[wasm_bindgen(js_name = modelFree)]
pub fn model_free(m: JsValue) -> Result<(), JsError> {
    run(|| MODELS.with(|t| Ok(t.borrow_mut().free("this", &m)?)))
}

/// The architecture's name: `"cnn"`, `"slp"` or `"mlp"` for a shipped one, else `"custom"`.
#[wasm_bindgen(js_name = modelArch)]
pub fn model_arch(m: JsValue) -> Result<String, JsError> {
    run(|| {
        with_model(&m, |l| {
            Ok(l.model.preset().map_or("custom", |p| p.name()).to_string())
        })
    })
}

/// Number of trainable parameters.
#[wasm_bindgen(js_name = modelNumParams)]
pub fn model_num_params(m: JsValue) -> Result<f64, JsError> {
    run(|| with_model(&m, |l| Ok(l.model.num_params() as f64)))
}

/// `{ name, kind, shape, conv?, pool?, torch? }[]`, one per activation a forward holds: the input first
/// (`kind: "input"`), then every layer with its output shape; conv layers carry their
/// `conv: { stride, padding, dilation, groups, outputPadding }` and `kernelSize`, pool layers
/// `pool: { kernel, stride, padding, dilation, ceilMode }`; every layer its PyTorch constructor
/// `torch` (`"nn.MaxPool2d(2)"`).
#[wasm_bindgen(js_name = modelLayers)]
pub fn model_layers(m: JsValue) -> Result<JsValue, JsError> {
    run(|| {
        with_model(&m, |l| {
            let views = explain::views(&l.model);
            let mut out = Vec::with_capacity(l.names.len());
            for (i, (name, kind)) in l.names.iter().enumerate() {
                let layer = i.checked_sub(1).and_then(|j| l.model.layers.get(j));
                let (conv, kernel_size, pool) = match layer {
                    Some(
                        Layer::Conv2d { weight, params, .. }
                        | Layer::ConvTranspose2d { weight, params, .. },
                    ) => {
                        let s = weight.shape();
                        (Some(*params), Some([s[2], s[3]]), None)
                    }
                    Some(Layer::MaxPool2d { params } | Layer::AvgPool2d { params, .. }) => {
                        (None, Some(params.kernel), Some(*params))
                    }
                    _ => (None, None, None),
                };
                let params = layer.map_or(0, |l| {
                    l.params().map_or(0, |(_, w, b)| {
                        w.len() + if l.has_bias() { b.len() } else { 0 }
                    })
                });
                out.push(LayerInfo {
                    name: name.clone(),
                    kind,
                    shape: l.inf.shape(i).unwrap_or(&[]).to_vec(),
                    conv,
                    kernel_size,
                    pool,
                    view: views[i],
                    torch: layer.map(code::layer),
                    params,
                    spec: layer.map(Layer::spec),
                });
            }
            Ok(out)
        })
        // Made after the table is released, through JSON.parse: it defines properties rather
        // than assigning them, so no setter a caller put on Object.prototype runs.
        .and_then(|out| {
            let text = serde_json::to_string(&out)
                .map_err(|e| ArgError::new("layers", "?", e.to_string()))?;
            js_sys::JSON::parse(&text)
                .map_err(|_| ArgError::new("layers", "?", "JSON.parse failed").into())
        })
    })
}

/// The model as PyTorch code: `{ lines, text }` of an `nn.Sequential`, one layer a line.
#[wasm_bindgen(js_name = modelPytorchCode)]
pub fn model_pytorch_code(m: JsValue) -> Result<JsValue, JsError> {
    run(|| {
        let c = with_model(&m, |l| Ok(code::sequential(&l.model)))?;
        Ok(js::to_js(&c, "result")?)
    })
}

/// Runs one image (`Float32Array` of 784 values in 0..1); returns the forward's generation.
#[wasm_bindgen(js_name = modelForward)]
pub fn model_forward(m: JsValue, pixels: JsValue) -> Result<f64, JsError> {
    run(|| {
        let px = read_pixels(&pixels)?;
        with_model(&m, |l| {
            check_pixels(&l.model, &px)?;
            l.inf.run(&px)?;
            l.generation += 1;
            Ok(l.generation as f64)
        })
    })
}

/// A copy of the weight, its shape and the bias of `model`'s layer `name`, or an error listing
/// the layers it has.
pub(crate) type Weights = (Vec<f32>, Vec<usize>, Vec<f32>);

pub(crate) fn weights_of(model: &Model, name: &str) -> R<Weights> {
    let Some((_, w, b)) = model.layer(name).and_then(|x| x.params()) else {
        let names: Vec<&str> = model
            .layers
            .iter()
            .filter_map(|x| x.params().map(|p| p.0))
            .collect();
        return Err(ArgError::new(
            "name",
            format!("{name:?}"),
            format!("this model has {}", names.join(", ")),
        )
        .into());
    };
    Ok((w.data().to_vec(), w.shape().to_vec(), b.data().to_vec()))
}

/// A layer's weights as JS reads them: `{ data, shape, bias, scale }` (`scale`: the colour scale
/// a heat map draws them on, `nn::history::colour_scale`); a trainer's first weighted layer also
/// brings `grad` (its gradient of the batch before) and `gradScale`.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WeightsJs {
    #[serde(serialize_with = "crate::typed::f32s")]
    pub data: Vec<f32>,
    pub shape: Vec<usize>,
    #[serde(serialize_with = "crate::typed::f32s")]
    pub bias: Vec<f32>,
    pub scale: f32,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::typed::opt_f32s"
    )]
    pub grad: Option<Vec<f32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grad_scale: Option<f32>,
}

impl WeightsJs {
    pub(crate) fn new((data, shape, bias): Weights, grad: Option<Vec<f32>>) -> WeightsJs {
        use crate::nn::history::colour_scale;
        WeightsJs {
            scale: colour_scale(&data),
            grad_scale: grad.as_deref().map(colour_scale),
            data,
            shape,
            bias,
            grad,
        }
    }
}

/// The `C·H·W` values of one input: a `Float32Array` measured before it is copied.
pub(super) fn read_pixels(pixels: &JsValue) -> R<Vec<f32>> {
    // No model's input is longer (3 × 64 × 64): a longer array is refused before it is copied;
    // its exact length is checked against the model's (`check_pixels`) once the model is at hand.
    let most = 3 * crate::nn::spec::INPUT_SIDE.1 * crate::nn::spec::INPUT_SIDE.1;
    Ok(js::typed::<f32>("pixels", pixels, |n| {
        if n <= most {
            Ok(())
        } else {
            Err(ArgError::new(
                "pixels",
                format!("a Float32Array of {n} elements"),
                format!("is longer than any model's input ({most} values at most)"),
            ))
        }
    })?)
}

/// `pixels` must be one input of `model`: `C·H·W` values.
pub(super) fn check_pixels(model: &Model, pixels: &[f32]) -> Result<(), ArgError> {
    let [c, h, w] = model.input_shape();
    let len = c * h * w;
    if pixels.len() == len {
        return Ok(());
    }
    let dims = if c == 1 {
        format!("{h}×{w}")
    } else {
        format!("{c}×{h}×{w}")
    };
    Err(ArgError::new(
        "pixels",
        format!("a Float32Array of {} elements", pixels.len()),
        format!("must hold {len} values ({dims}, the model's input)"),
    ))
}

/// The ten probabilities of one image (`Float32Array` of 784 values in 0..1), on the model's
/// fastest path: one call, no activation kept (a `Forward` of the model stays valid).
#[wasm_bindgen(js_name = modelPredict)]
pub fn model_predict(m: JsValue, pixels: JsValue) -> Result<Vec<f32>, JsError> {
    run(|| {
        let px = read_pixels(&pixels)?;
        with_model(&m, |l| {
            check_pixels(&l.model, &px)?;
            Ok(l.predictor.predict(&px)?.to_vec())
        })
    })
}

/// A parameterised layer's weight: `{ data: Float32Array (a copy), shape, bias }`.
#[wasm_bindgen(js_name = modelWeights)]
pub fn model_weights(m: JsValue, name: JsValue) -> Result<JsValue, JsError> {
    run(|| {
        let Name(name) = arg("name", "weights", &name)?;
        let w = with_model(&m, |l| weights_of(&l.model, &name))?;
        Ok(js::to_js(&WeightsJs::new(w, None), "weights")?)
    })
}

/// The activation index argument of the forward readers, below the count.
fn index(i: &JsValue) -> Result<usize, ArgError> {
    arg::<Whole>("index", "Forward", i).map(|w| w.0)
}

/// Runs `f` on the model's inference state if generation `g` is still the latest.
fn with_forward<T>(
    m: &JsValue,
    g: &JsValue,
    i: Option<usize>,
    f: impl FnOnce(&Loaded) -> R<T>,
) -> R<T> {
    with_model(m, |l| {
        let gen = g.as_f64().unwrap_or(-1.0);
        if gen != l.generation as f64 {
            return Err(ArgError::new(
                "this",
                "a stale Forward",
                "its model has run another forward since (activations are overwritten in place)",
            )
            .into());
        }
        if let Some(i) = i {
            let n = l.inf.num_activations();
            if i >= n {
                return Err(
                    ArgError::new("index", i, format!("must be below numLayers() = {n}")).into(),
                );
            }
        }
        f(l)
    })
}

/// Number of activations (the input plus one per layer).
#[wasm_bindgen(js_name = forwardNumLayers)]
pub fn forward_num_layers(m: JsValue, g: JsValue) -> Result<f64, JsError> {
    run(|| with_forward(&m, &g, None, |l| Ok(l.names.len() as f64)))
}

/// Name of activation `i` (`"input"`, `"conv1"`, …).
#[wasm_bindgen(js_name = forwardName)]
pub fn forward_name(m: JsValue, g: JsValue, i: JsValue) -> Result<String, JsError> {
    run(|| {
        let i = index(&i)?;
        with_forward(&m, &g, Some(i), |l| Ok(l.names[i].0.clone()))
    })
}

/// Activation `i` as a `Float32Array` (a copy: a view would outlive `free()` of its model and
/// let JS write into freed wasm memory).
#[wasm_bindgen(js_name = forwardActivation)]
pub fn forward_activation(m: JsValue, g: JsValue, i: JsValue) -> Result<Vec<f32>, JsError> {
    run(|| {
        let i = index(&i)?;
        with_forward(&m, &g, Some(i), |l| {
            Ok(l.inf.activation(i).unwrap_or(&[]).to_vec())
        })
    })
}

/// Shape of activation `i` without the batch dimension.
#[wasm_bindgen(js_name = forwardShape)]
pub fn forward_shape(m: JsValue, g: JsValue, i: JsValue) -> Result<Vec<u32>, JsError> {
    run(|| {
        let i = index(&i)?;
        with_forward(&m, &g, Some(i), |l| {
            Ok(l.inf
                .shape(i)
                .unwrap_or(&[])
                .iter()
                .map(|&d| d as u32)
                .collect())
        })
    })
}

/// The ten class probabilities (a copy).
#[wasm_bindgen(js_name = forwardProbabilities)]
pub fn forward_probabilities(m: JsValue, g: JsValue) -> Result<Vec<f32>, JsError> {
    run(|| with_forward(&m, &g, None, |l| Ok(l.inf.probabilities().to_vec())))
}

/// The model's output: the last activation (a copy).
#[wasm_bindgen(js_name = forwardOutput)]
pub fn forward_output(m: JsValue, g: JsValue) -> Result<Vec<f32>, JsError> {
    run(|| {
        with_forward(&m, &g, None, |l| {
            let n = l.inf.num_activations();
            Ok(l.inf.activation(n - 1).unwrap_or(&[]).to_vec())
        })
    })
}

/// The most probable digit.
#[wasm_bindgen(js_name = forwardTop)]
pub fn forward_top(m: JsValue, g: JsValue) -> Result<f64, JsError> {
    run(|| {
        with_forward(&m, &g, None, |l| {
            let p = l.inf.probabilities();
            let n = l.inf.num_activations();
            let v = if p.is_empty() {
                l.inf.activation(n - 1).unwrap_or(&[])
            } else {
                p
            };
            Ok(argmax(v) as f64)
        })
    })
}

/// The most active cell of activation `layer` (0 = the input), over every channel or only
/// `channel` (undefined or null: all), named in the activation's view (`nn::explain::peak`).
#[wasm_bindgen(js_name = forwardPeak)]
pub fn forward_peak(
    m: JsValue,
    g: JsValue,
    layer: JsValue,
    channel: JsValue,
) -> Result<JsValue, JsError> {
    run(|| {
        with_forward(&m, &g, None, |_| Ok(()))?;
        let Whole(layer) = arg("layer", "peak", &layer)?;
        let channel = if channel.is_undefined() || channel.is_null() {
            None
        } else {
            let Whole(c) = arg("channel", "peak", &channel)?;
            Some(c)
        };
        let p = with_forward(&m, &g, None, |l| {
            let acts: Vec<&[f32]> = (0..l.inf.num_activations())
                .map(|i| l.inf.activation(i).unwrap_or(&[]))
                .collect();
            Ok(explain::peak(&l.model, &acts, layer, channel)?)
        })?;
        Ok(js::to_js(&p, "peak")?)
    })
}

/// What made cell (`channel`, `y`, `x`) of activation `layer` (1 = the first layer's output;
/// cells named in the layer's `view`): its window, weights, products, sums, the rounded terms
/// that add up, and its receptive field on every earlier activation (`nn::explain`).
#[wasm_bindgen(js_name = forwardExplain)]
pub fn forward_explain(
    m: JsValue,
    g: JsValue,
    layer: JsValue,
    channel: JsValue,
    y: JsValue,
    x: JsValue,
) -> Result<JsValue, JsError> {
    run(|| {
        // A stale or freed Forward says so before its arguments are read.
        with_forward(&m, &g, None, |_| Ok(()))?;
        let Whole(layer) = arg("layer", "explain", &layer)?;
        let Whole(channel) = arg("channel", "explain", &channel)?;
        let Whole(y) = arg("y", "explain", &y)?;
        let Whole(x) = arg("x", "explain", &x)?;
        let e = with_forward(&m, &g, None, |l| {
            let acts: Vec<&[f32]> = (0..l.inf.num_activations())
                .map(|i| l.inf.activation(i).unwrap_or(&[]))
                .collect();
            Ok(explain::explain(&l.model, &acts, layer, channel, y, x)?)
        })?;
        // Made after the table is released (see `model_layers`).
        Ok(js::to_js(&e, "explain")?)
    })
}

/// Turns a drawing (RGBA bytes of a `width × height` canvas, e.g. `ImageData.data`) into the
/// 784 MNIST-style pixels a model takes, or `null` when nothing is drawn.
#[wasm_bindgen(unchecked_return_type = "Float32Array | null")]
pub fn preprocess(rgba: JsValue, width: JsValue, height: JsValue) -> Result<JsValue, JsError> {
    run(|| {
        let (rgba, w, h) = read_canvas("preprocess", &rgba, &width, &height)?;
        Ok(match mnist::preprocess(&rgba, w, h)? {
            Some(px) => js_sys::Float32Array::from(&px[..]).into(),
            None => JsValue::NULL,
        })
    })
}

/// Most values `cosines`, `argmax` and `colourScale` read (2²⁴: a 64 MB Float32Array).
pub const MAX_VALUES: usize = 1 << 24;

fn values(name: &str, v: &JsValue) -> R<Vec<f32>> {
    Ok(js::typed::<f32>(name, v, |n| {
        if n <= MAX_VALUES {
            Ok(())
        } else {
            Err(ArgError::new(
                name,
                format!("a Float32Array of {n} elements"),
                format!("must hold at most {MAX_VALUES} values"),
            ))
        }
    })?)
}

/// The cosine of `x` with each row of `rows` (a Float32Array of whole rows of `x`'s length),
/// in f64: how much each template looks like the drawn digit.
#[wasm_bindgen(js_name = cosines)]
pub fn cosines(x: JsValue, rows: JsValue) -> Result<Vec<f32>, JsError> {
    run(|| {
        let x = values("x", &x)?;
        let rows = values("rows", &rows)?;
        Ok(crate::nn::templates::cosines(&x, &rows)?)
    })
}

/// The index of the largest value of a Float32Array (the first on a tie; NaN never wins).
#[wasm_bindgen(js_name = argmax)]
pub fn argmax_js(v: JsValue) -> Result<f64, JsError> {
    run(|| {
        let v = values("values", &v)?;
        if v.iter().all(|x| x.is_nan()) {
            return Err(ArgError::new(
                "values",
                format!("{} values, none a number", v.len()),
                "must hold at least one value that is not NaN",
            )
            .into());
        }
        Ok(argmax(&v) as f64)
    })
}

/// The colour scale of a set of values: the `quantile` (default 0.99, so a few outliers do not
/// wash a heat map out; 1: the largest, for views that must show every value unclipped) of
/// their magnitudes; the largest when that is 0, and 1 for all zeros.
#[wasm_bindgen(js_name = colourScale)]
pub fn colour_scale(v: JsValue, quantile: JsValue) -> Result<f32, JsError> {
    run(|| {
        let q = if quantile.is_undefined() || quantile.is_null() {
            0.99
        } else {
            let Real(q) = arg("quantile", "colourScale", &quantile)?;
            if !(q > 0.0 && q <= 1.0) {
                return Err(ArgError::new(
                    "quantile",
                    q,
                    "must be a number above 0 and at most 1 (1: the largest magnitude)",
                )
                .into());
            }
            q
        };
        Ok(crate::nn::history::colour_scale_at(
            &values("values", &v)?,
            q,
        ))
    })
}

/// A canvas argument: its size (each side 1 to [`MAX_CANVAS`]) read first, then its RGBA bytes,
/// measured against that size before they are copied.
fn read_canvas(
    function: &str,
    rgba: &JsValue,
    width: &JsValue,
    height: &JsValue,
) -> Result<(Vec<u8>, usize, usize), ArgError> {
    let Whole(w) = arg("width", function, width)?;
    let Whole(h) = arg("height", function, height)?;
    for (name, v) in [("width", w), ("height", h)] {
        if v == 0 || v > MAX_CANVAS {
            return Err(ArgError::new(
                name,
                v,
                format!("must be between 1 and {MAX_CANVAS}"),
            ));
        }
    }
    let want = w * h * 4;
    let rgba = js::typed::<u8>("rgba", rgba, |n| {
        if n == want {
            Ok(())
        } else {
            Err(ArgError::new(
                "rgba",
                format!("{n} bytes"),
                format!("a {w}×{h} canvas needs {want} (4 per pixel)"),
            ))
        }
    })?;
    Ok((rgba, w, h))
}

/// What a model of input `shape` (`[C, H, W]`, its `inputShape`) gets from a canvas (RGBA
/// bytes, `width × height`): a drawing preprocessed as MNIST was and resampled to `H × W`, the
/// same in every channel, or (`image` true) a picture resampled as it is, grey or RGB, 0..1.
/// `null` when a drawing is blank.
#[wasm_bindgen(js_name = prepareInput, unchecked_return_type = "Float32Array | null")]
pub fn prepare_input(
    rgba: JsValue,
    width: JsValue,
    height: JsValue,
    shape: JsValue,
    image: JsValue,
) -> Result<JsValue, JsError> {
    run(|| {
        let (rgba, w, h) = read_canvas("prepareInput", &rgba, &width, &height)?;
        let dims: Vec<Whole> = arg("shape", "prepareInput", &shape)?;
        let [c, ih, iw] = dims[..] else {
            return Err(ArgError::new(
                "shape",
                format!("{} numbers", dims.len()),
                "must be [C, H, W] (a model's inputShape)",
            )
            .into());
        };
        let image = if image.is_undefined() || image.is_null() {
            false
        } else {
            image.as_bool().ok_or_else(|| {
                ArgError::new(
                    "image",
                    "not a boolean",
                    "must be true (a picture) or false (a drawing)",
                )
            })?
        };
        Ok(
            match mnist::prepare_input(&rgba, w, h, [c.0, ih.0, iw.0], image)? {
                Some(px) => js_sys::Float32Array::from(&px[..]).into(),
                None => JsValue::NULL,
            },
        )
    })
}

/// What a design (a spec object or its JSON) builds, for an architecture editor, without
/// building it: `{ input, layers: [{ name, kind, shape, params }], params, error }`, the layers
/// up to the first that does not fit and `error` = `{ layer, message }` naming it and the rule
/// (`layer` null for the input), or null when the whole design fits. A spec that does not
/// parse throws, naming where.
#[wasm_bindgen(js_name = specInfo)]
pub fn spec_info(spec: JsValue) -> Result<JsValue, JsError> {
    run(|| {
        let json = spec_json(&spec)?;
        let spec = crate::nn::spec::Spec::from_json(&json)?;
        let (rows, err) = crate::nn::describe(&spec);
        let params: usize = rows.iter().map(|r| r.params).sum();
        let out = serde_json::json!({
            "input": spec.input,
            "layers": rows,
            "params": params,
            "error": err.map(|(layer, message)| serde_json::json!({ "layer": layer, "message": message })),
        });
        js_sys::JSON::parse(&out.to_string())
            .map_err(|_| ArgError::new("spec", "?", "JSON.parse failed").into())
    })
}

/// The ranges an architecture editor offers: `{ kinds, input: { channels, side }, maxLayers,
/// options: { conv2d: { outChannels: [min, max], … }, … } }`.
#[wasm_bindgen(js_name = specRanges)]
pub fn spec_ranges() -> Result<JsValue, JsError> {
    run(|| {
        js_sys::JSON::parse(&crate::nn::spec::editor_ranges().to_string())
            .map_err(|_| ArgError::new("ranges", "?", "JSON.parse failed").into())
    })
}
