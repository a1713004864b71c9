//! The models' JavaScript API: `Model.load(bytes)`, `model.layers()`, `model.forward(pixels)`
//! → `Forward`, `model.weights(name)`, and `preprocess(rgba, width, height)`.
//!
//! ```js
//! const model = api.Model.load(new Uint8Array(await (await fetch("/data/models/cnn.safetensors")).arrayBuffer()));
//! const pixels = api.preprocess(ctx.getImageData(0, 0, 280, 280).data, 280, 280); // Float32Array(784) | null
//! if (pixels) {
//!   const f = model.forward(pixels);          // one wasm call, no allocation of activations
//!   f.top(); f.probabilities();                // class, Float32Array(10)
//!   for (let i = 0; i < f.numLayers(); i++) draw(f.name(i), f.shape(i), f.activation(i));
//! }
//! ```
//!
//! `activation(i)` is a `Float32Array` *view* into wasm memory, not a copy: it is valid until
//! the next call into wasm that may allocate (which can grow the memory and detach every
//! view, as in the Game of Life example) and until the next `forward` of the same model
//! (which overwrites it). Use it at once, or copy it with `.slice()`. A `Forward` whose model
//! has run again since refuses every call with an Error instead of returning new data.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use wasm_bindgen::prelude::*;

use crate::error::Error;
use crate::mnist;
use crate::nn::infer::Inference;
use crate::nn::{argmax, Model};

struct Shared {
    inf: RefCell<Inference>,
    /// Incremented by every forward; a `Forward` remembers the value it was made with.
    generation: Cell<u64>,
    /// Display name and kind of each activation (index 0 is the input).
    names: Vec<(String, &'static str)>,
}

/// A trained model (cnn, slp or mlp) ready for single-image inference.
#[wasm_bindgen(js_name = Model)]
pub struct JsModel {
    model: Model,
    shared: Rc<Shared>,
}

fn obj(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = js_sys::Object::new();
    for (k, v) in pairs {
        // Setting a property on a fresh plain object cannot fail.
        let _ = js_sys::Reflect::set(&o, &JsValue::from_str(k), v);
    }
    o.into()
}

fn shape_array(s: &[usize]) -> JsValue {
    s.iter()
        .map(|&d| JsValue::from(d as u32))
        .collect::<js_sys::Array>()
        .into()
}

#[wasm_bindgen(js_class = Model)]
impl JsModel {
    /// Loads a safetensors file (`Uint8Array`). Throws an Error saying what does not match
    /// (truncated file, unknown architecture, missing/extra tensor, wrong shape or dtype).
    pub fn load(bytes: &[u8]) -> Result<JsModel, JsError> {
        let model = Model::from_safetensors(bytes)?;
        let inf = Inference::new(&model)?;
        let mut names = vec![("input".to_string(), "input")];
        for (n, l) in model.names().iter().zip(&model.layers) {
            names.push((n.clone(), l.kind()));
        }
        Ok(JsModel {
            shared: Rc::new(Shared {
                inf: RefCell::new(inf),
                generation: Cell::new(0),
                names,
            }),
            model,
        })
    }

    /// The architecture: `"cnn"`, `"slp"` or `"mlp"`.
    #[wasm_bindgen(getter)]
    pub fn arch(&self) -> String {
        self.model.arch.name().into()
    }

    /// Number of trainable parameters.
    #[wasm_bindgen(getter, js_name = numParams)]
    pub fn num_params(&self) -> usize {
        self.model.num_params()
    }

    /// `{ name, kind, shape }[]`, one per activation a `Forward` holds: the input first
    /// (`kind: "input"`, shape `[1, 28, 28]`), then every layer (`conv2d`, `relu`, `maxpool2d`,
    /// `flatten`, `linear`, `softmax`) with its output shape without the batch dimension.
    #[wasm_bindgen(unchecked_return_type = "{ name: string, kind: string, shape: number[] }[]")]
    pub fn layers(&self) -> JsValue {
        let inf = self.shared.inf.borrow();
        self.shared
            .names
            .iter()
            .enumerate()
            .map(|(i, (n, k))| {
                obj(&[
                    ("name", JsValue::from_str(n)),
                    ("kind", JsValue::from_str(k)),
                    ("shape", shape_array(inf.shape(i).unwrap_or(&[]))),
                ])
            })
            .collect::<js_sys::Array>()
            .into()
    }

    /// Runs one image: `pixels` is a `Float32Array` of 784 values (28×28, row-major, 0 =
    /// background, 1 = ink). Throws on a wrong length or a NaN/∞ pixel. One wasm call; the
    /// activations live in buffers allocated once per model.
    pub fn forward(&self, pixels: &[f32]) -> Result<Forward, JsError> {
        self.shared.inf.borrow_mut().run(pixels)?;
        let g = self.shared.generation.get() + 1;
        self.shared.generation.set(g);
        Ok(Forward {
            shared: self.shared.clone(),
            generation: g,
        })
    }

    /// A parameterised layer's weight: `{ data: Float32Array (a copy), shape, bias: Float32Array }`
    /// (`conv1`: shape `[8, 1, 5, 5]`; `fc1`: `[out, in]`). Throws for an unknown name.
    #[wasm_bindgen(
        unchecked_return_type = "{ data: Float32Array, shape: number[], bias: Float32Array }"
    )]
    pub fn weights(&self, name: &str) -> Result<JsValue, JsError> {
        let layer = self.model.layer(name).ok_or_else(|| {
            let names: Vec<&str> = self
                .model
                .layers
                .iter()
                .filter_map(|l| l.params().map(|p| p.0))
                .collect();
            Error::param(
                "layer name",
                name,
                format!(
                    "this {} model has {}",
                    self.model.arch.name(),
                    names.join(", ")
                ),
            )
        })?;
        let (_, w, b) = layer
            .params()
            .ok_or_else(|| Error::shape("no parameters"))?;
        Ok(obj(&[
            ("data", js_sys::Float32Array::from(w.data()).into()),
            ("shape", shape_array(w.shape())),
            ("bias", js_sys::Float32Array::from(b.data()).into()),
        ]))
    }
}

/// Every activation of the latest forward pass of a model.
#[wasm_bindgen]
pub struct Forward {
    shared: Rc<Shared>,
    generation: u64,
}

impl Forward {
    fn check(&self, i: Option<usize>) -> Result<std::cell::Ref<'_, Inference>, JsError> {
        if self.generation != self.shared.generation.get() {
            return Err(JsError::new(
                "this Forward is stale: its model has run another forward since (activations are overwritten in place)",
            ));
        }
        let inf = self.shared.inf.borrow();
        if let Some(i) = i {
            if i >= inf.num_activations() {
                return Err(Error::param(
                    "activation index",
                    i,
                    format!("must be below numLayers() = {}", inf.num_activations()),
                )
                .into());
            }
        }
        Ok(inf)
    }
}

#[wasm_bindgen]
impl Forward {
    /// Number of activations (the input plus one per layer), as `model.layers().length`.
    #[wasm_bindgen(js_name = numLayers)]
    pub fn num_layers(&self) -> usize {
        self.shared.names.len()
    }

    /// Name of activation `i` (`"input"`, `"conv1"`, `"relu1"`, …).
    pub fn name(&self, i: usize) -> Result<String, JsError> {
        self.check(Some(i))?;
        Ok(self.shared.names[i].0.clone())
    }

    /// Activation `i` as a `Float32Array` VIEW into wasm memory (no copy): valid until the
    /// next wasm allocation or the next forward of this model. Copy with `.slice()` to keep it.
    pub fn activation(&self, i: usize) -> Result<js_sys::Float32Array, JsError> {
        let inf = self.check(Some(i))?;
        let a = inf
            .activation(i)
            .ok_or_else(|| Error::shape("no activation"))?;
        // safety: the view is handed straight to JS; the documented contract is that JS uses
        // it before the next allocation in wasm memory or the next forward.
        Ok(unsafe { js_sys::Float32Array::view(a) })
    }

    /// Shape of activation `i` without the batch dimension (`[8, 28, 28]`, `[784]`, `[10]`).
    pub fn shape(&self, i: usize) -> Result<Vec<usize>, JsError> {
        let inf = self.check(Some(i))?;
        Ok(inf.shape(i).unwrap_or(&[]).to_vec())
    }

    /// The ten class probabilities (a copy).
    pub fn probabilities(&self) -> Result<Vec<f32>, JsError> {
        Ok(self.check(None)?.probabilities().to_vec())
    }

    /// The most probable digit.
    pub fn top(&self) -> Result<usize, JsError> {
        Ok(argmax(self.check(None)?.probabilities()))
    }
}

/// Turns a drawing (RGBA bytes of a `width × height` canvas, e.g. `ImageData.data`) into the
/// 784 MNIST-style pixels a model takes, or `null` when nothing is drawn. Ink is the alpha
/// channel on a canvas with transparency, the contrast with the background on an opaque one.
#[wasm_bindgen(unchecked_return_type = "Float32Array | null")]
pub fn preprocess(
    #[wasm_bindgen(unchecked_param_type = "Uint8ClampedArray | Uint8Array")] rgba: &[u8],
    width: usize,
    height: usize,
) -> Result<JsValue, JsError> {
    Ok(match mnist::preprocess(rgba, width, height)? {
        Some(px) => js_sys::Float32Array::from(&px[..]).into(),
        None => JsValue::NULL,
    })
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use super::*;
    use wasm_bindgen::JsCast;
    use wasm_bindgen_test::wasm_bindgen_test as test;

    const CNN: &[u8] = include_bytes!("../../../data/models/cnn.safetensors");

    fn message(e: JsError) -> String {
        JsValue::from(e)
            .dyn_into::<js_sys::Error>()
            .map(|e| String::from(e.message()))
            .unwrap_or_default()
    }

    #[test]
    fn load_forward_and_views() {
        let m = JsModel::load(CNN).unwrap();
        assert_eq!(m.arch(), "cnn");
        let layers: js_sys::Array = m.layers().dyn_into().unwrap();
        assert_eq!(layers.length(), 12);
        let f = m.forward(&[0.25; 784]).unwrap();
        assert_eq!(f.num_layers(), 12);
        assert_eq!(f.name(1).unwrap(), "conv1");
        assert_eq!(f.shape(3).unwrap(), vec![8, 14, 14]);
        assert_eq!(f.activation(1).unwrap().length(), 8 * 28 * 28);
        assert_eq!(f.activation(0).unwrap().get_index(5), 0.25);
        let p = f.probabilities().unwrap();
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        assert!(f.top().unwrap() < 10);
        assert!(message(f.activation(12).unwrap_err()).contains("numLayers() = 12"));
        let _g = m.forward(&[0.5; 784]).unwrap();
        assert!(message(f.top().unwrap_err()).contains("stale"));
        let w: js_sys::Object = m.weights("conv1").unwrap().dyn_into().unwrap();
        let data = js_sys::Reflect::get(&w, &"data".into()).unwrap();
        assert_eq!(
            data.dyn_into::<js_sys::Float32Array>().unwrap().length(),
            200
        );
        assert!(message(m.weights("conv9").unwrap_err()).contains("conv1, conv2, fc1, fc2"));
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        assert!(message(JsModel::load(&CNN[..1000]).err().unwrap()).contains("truncated"));
        assert!(message(JsModel::load(b"nonsense").err().unwrap()).contains("weights error"));
        let m = JsModel::load(CNN).unwrap();
        assert!(message(m.forward(&[0.0; 10]).err().unwrap()).contains("784"));
        let mut px = [0.0f32; 784];
        px[100] = f32::INFINITY;
        assert!(message(m.forward(&px).err().unwrap()).contains("pixel 100"));
        assert!(preprocess(&[0; 16], 2, 2).unwrap().is_null());
        assert!(message(preprocess(&[0; 15], 2, 2).unwrap_err()).contains("15 bytes"));
        let mut rgba = vec![0u8; 40 * 40 * 4];
        for y in 5..30 {
            rgba[(y * 40 + 20) * 4 + 3] = 255;
        }
        let px: js_sys::Float32Array = preprocess(&rgba, 40, 40).unwrap().dyn_into().unwrap();
        assert_eq!(px.length(), 784);
    }
}

/// Not a timed assertion: prints the mean single-digit cnn forward in this browser, for the
/// notes (the benchmark page measures it properly).
#[cfg(all(test, target_arch = "wasm32"))]
mod timing {
    use super::*;
    use wasm_bindgen_test::{console_log, wasm_bindgen_test as test};

    #[test]
    fn cnn_forward_time() {
        let m = JsModel::load(include_bytes!("../../../data/models/cnn.safetensors")).unwrap();
        let mut px = [0.0f32; 784];
        for (i, p) in px.iter_mut().enumerate() {
            *p = ((i * 7) % 13) as f32 / 12.0;
        }
        let runs = 2000;
        let t = js_sys::Date::now();
        for _ in 0..runs {
            let _ = m.forward(&px).unwrap();
        }
        let us = (js_sys::Date::now() - t) * 1000.0 / runs as f64;
        console_log!(
            "cnn forward: {us:.1} µs mean over {runs} calls ({})",
            crate::gemm::simd_level()
        );
    }
}
