//! A model's architecture as data: the input shape and a sequence of layers (plus residual
//! adds of equal shapes), in the JSON that `Model.fromSpec` takes, `model.spec()` returns and
//! the safetensors metadata stores (`{"spec": "…"}`):
//!
//! ```json
//! { "input": [1, 28, 28],
//!   "layers": [
//!     { "kind": "conv2d", "name": "conv1", "outChannels": 8, "kernelSize": 5, "padding": 2 },
//!     { "kind": "relu" },
//!     { "kind": "maxpool2d", "kernelSize": 2 },
//!     { "kind": "flatten" },
//!     { "kind": "linear", "name": "fc1", "outFeatures": 10 },
//!     { "kind": "softmax" } ] }
//! ```
//!
//! Kinds are PyTorch's module names in lower case. Sizes are one number or `[h, w]`, padding
//! one number, `[h, w]` or `[top, left, bottom, right]`; everything but the sizes that define a
//! layer has PyTorch's default. `name` (parameterised layers only) is the prefix of the layer's
//! tensors in a PyTorch `state_dict` (`conv1` → `conv1.weight`, `conv1.bias`); left out, the
//! layers are named `conv1`, `conv2`, `fc1`, … in order. `add` adds activation `from` (0 = the
//! input, `k` = the output of layer `k − 1`, as `Forward.activation(k)`) to its input.
//! The limits below keep every model the page can show small enough to run in a browser tab.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};

use crate::conv::{Conv2dParams, Pool2dParams};
use crate::error::{Error, Result};

/// Input channels a model may take (grey or RGB).
pub const INPUT_CHANNELS: [usize; 2] = [1, 3];
/// Smallest and largest input height and width.
pub const INPUT_SIDE: (usize, usize) = (8, 64);
/// At most this many layers.
pub const MAX_LAYERS: usize = 64;
/// At most this many values in one activation (without the batch).
pub const MAX_ACTIVATION: usize = 1 << 20;
/// At most this many parameters in all.
pub const MAX_PARAMS: usize = 1 << 24;

/// A model's architecture (see the module documentation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// `[channels, height, width]` of one input.
    pub input: [usize; 3],
    pub layers: Vec<LayerSpec>,
}

/// A size along (height, width): one number for both or `[h, w]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Size2(pub [usize; 2]);

/// Zero padding `[top, left, bottom, right]`: one number, `[h, w]` or four numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Pad4(pub [usize; 4]);

#[derive(Deserialize)]
#[serde(untagged)]
enum Numbers {
    One(usize),
    Many(Vec<usize>),
}

impl<'de> Deserialize<'de> for Size2 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        match Numbers::deserialize(d)
            .map_err(|_| D::Error::custom("expected a whole number ≥ 0 or [height, width]"))?
        {
            Numbers::One(n) => Ok(Size2([n, n])),
            Numbers::Many(v) if v.len() == 2 => Ok(Size2([v[0], v[1]])),
            Numbers::Many(v) => Err(D::Error::custom(format!(
                "expected one number or [height, width], got {} numbers",
                v.len()
            ))),
        }
    }
}

impl<'de> Deserialize<'de> for Pad4 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        match Numbers::deserialize(d).map_err(|_| {
            D::Error::custom("expected a whole number ≥ 0, [h, w] or [top, left, bottom, right]")
        })? {
            Numbers::One(n) => Ok(Pad4([n; 4])),
            Numbers::Many(v) if v.len() == 2 => Ok(Pad4([v[0], v[1], v[0], v[1]])),
            Numbers::Many(v) if v.len() == 4 => Ok(Pad4([v[0], v[1], v[2], v[3]])),
            Numbers::Many(v) => Err(D::Error::custom(format!(
                "expected one number, [h, w] or [top, left, bottom, right], got {} numbers",
                v.len()
            ))),
        }
    }
}

fn one() -> Size2 {
    Size2([1, 1])
}
fn one_group() -> usize {
    1
}
fn yes() -> bool {
    true
}
fn no_pad() -> Pad4 {
    Pad4([0; 4])
}
fn zero2() -> Size2 {
    Size2([0, 0])
}
fn slope() -> f32 {
    0.01
}
fn bn_eps() -> f32 {
    1e-5
}

/// One layer of a [`Spec`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum LayerSpec {
    #[serde(rename_all = "camelCase")]
    Conv2d {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        out_channels: usize,
        kernel_size: Size2,
        #[serde(default = "one")]
        stride: Size2,
        #[serde(default = "no_pad")]
        padding: Pad4,
        #[serde(default = "one")]
        dilation: Size2,
        #[serde(default = "one_group")]
        groups: usize,
        #[serde(default = "yes")]
        bias: bool,
    },
    #[serde(rename_all = "camelCase")]
    ConvTranspose2d {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        out_channels: usize,
        kernel_size: Size2,
        #[serde(default = "one")]
        stride: Size2,
        #[serde(default = "no_pad")]
        padding: Pad4,
        #[serde(default = "zero2")]
        output_padding: Size2,
        #[serde(default = "one")]
        dilation: Size2,
        #[serde(default = "one_group")]
        groups: usize,
        #[serde(default = "yes")]
        bias: bool,
    },
    /// `stride` defaults to the kernel size; padding counts as −∞.
    #[serde(rename_all = "camelCase")]
    MaxPool2d {
        kernel_size: Size2,
        #[serde(default)]
        stride: Option<Size2>,
        #[serde(default = "no_pad")]
        padding: Pad4,
        #[serde(default = "one")]
        dilation: Size2,
        #[serde(default)]
        ceil_mode: bool,
    },
    /// `stride` defaults to the kernel size; `countIncludePad` (default true, as PyTorch)
    /// divides by the whole window, padding included, or else by the cells inside the image.
    #[serde(rename_all = "camelCase")]
    AvgPool2d {
        kernel_size: Size2,
        #[serde(default)]
        stride: Option<Size2>,
        #[serde(default = "no_pad")]
        padding: Pad4,
        #[serde(default)]
        ceil_mode: bool,
        #[serde(default = "yes")]
        count_include_pad: bool,
    },
    /// The mean of each channel (`nn.AdaptiveAvgPool2d(1)`): `[C, H, W]` → `[C, 1, 1]`.
    GlobalAvgPool,
    Relu,
    #[serde(rename_all = "camelCase")]
    LeakyRelu {
        #[serde(default = "slope")]
        negative_slope: f32,
    },
    Sigmoid,
    Tanh,
    Flatten,
    #[serde(rename_all = "camelCase")]
    Linear {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        out_features: usize,
        #[serde(default = "yes")]
        bias: bool,
    },
    /// Batch normalisation with its running statistics (evaluation mode): per channel
    /// `(x − mean) / √(var + eps) · weight + bias`. Training keeps the statistics fixed.
    #[serde(rename = "batchnorm2d")]
    BatchNorm2d {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(default = "bn_eps")]
        eps: f32,
    },
    /// Over the channels (the values of a vector).
    Softmax,
    #[serde(rename = "logsoftmax")]
    LogSoftmax,
    /// Adds activation `from` (equal shape) to the layer's input.
    Add {
        from: usize,
    },
}

/// Every kind, in the order the documentation lists them.
pub const KINDS: [&str; 15] = [
    "conv2d",
    "convtranspose2d",
    "maxpool2d",
    "avgpool2d",
    "globalavgpool",
    "relu",
    "leakyrelu",
    "sigmoid",
    "tanh",
    "flatten",
    "linear",
    "batchnorm2d",
    "softmax",
    "logsoftmax",
    "add",
];

impl LayerSpec {
    pub fn kind(&self) -> &'static str {
        match self {
            LayerSpec::Conv2d { .. } => "conv2d",
            LayerSpec::ConvTranspose2d { .. } => "convtranspose2d",
            LayerSpec::MaxPool2d { .. } => "maxpool2d",
            LayerSpec::AvgPool2d { .. } => "avgpool2d",
            LayerSpec::GlobalAvgPool => "globalavgpool",
            LayerSpec::Relu => "relu",
            LayerSpec::LeakyRelu { .. } => "leakyrelu",
            LayerSpec::Sigmoid => "sigmoid",
            LayerSpec::Tanh => "tanh",
            LayerSpec::Flatten => "flatten",
            LayerSpec::Linear { .. } => "linear",
            LayerSpec::BatchNorm2d { .. } => "batchnorm2d",
            LayerSpec::Softmax => "softmax",
            LayerSpec::LogSoftmax => "logsoftmax",
            LayerSpec::Add { .. } => "add",
        }
    }

    /// The `state_dict` prefix given in the spec (parameterised layers only).
    pub fn given_name(&self) -> Option<&str> {
        match self {
            LayerSpec::Conv2d { name, .. }
            | LayerSpec::ConvTranspose2d { name, .. }
            | LayerSpec::Linear { name, .. }
            | LayerSpec::BatchNorm2d { name, .. } => name.as_deref(),
            _ => None,
        }
    }

    /// Whether the layer has tensors, named by `name`.
    pub fn takes_name(&self) -> bool {
        matches!(
            self,
            LayerSpec::Conv2d { .. }
                | LayerSpec::ConvTranspose2d { .. }
                | LayerSpec::Linear { .. }
                | LayerSpec::BatchNorm2d { .. }
        )
    }

    /// The conv geometry of a conv2d or convtranspose2d layer.
    pub fn conv_params(&self) -> Option<Conv2dParams> {
        match *self {
            LayerSpec::Conv2d {
                stride,
                padding,
                dilation,
                groups,
                ..
            } => Some(Conv2dParams {
                stride: stride.0,
                padding: padding.0,
                dilation: dilation.0,
                groups,
                output_padding: [0, 0],
            }),
            LayerSpec::ConvTranspose2d {
                stride,
                padding,
                output_padding,
                dilation,
                groups,
                ..
            } => Some(Conv2dParams {
                stride: stride.0,
                padding: padding.0,
                dilation: dilation.0,
                groups,
                output_padding: output_padding.0,
            }),
            _ => None,
        }
    }

    /// The pooling geometry of a maxpool2d or avgpool2d layer.
    pub fn pool_params(&self) -> Option<Pool2dParams> {
        match *self {
            LayerSpec::MaxPool2d {
                kernel_size,
                stride,
                padding,
                dilation,
                ceil_mode,
            } => Some(Pool2dParams {
                kernel: kernel_size.0,
                stride: stride.unwrap_or(kernel_size).0,
                padding: padding.0,
                dilation: dilation.0,
                ceil_mode,
            }),
            LayerSpec::AvgPool2d {
                kernel_size,
                stride,
                padding,
                ceil_mode,
                ..
            } => Some(Pool2dParams {
                kernel: kernel_size.0,
                stride: stride.unwrap_or(kernel_size).0,
                padding: padding.0,
                dilation: [1, 1],
                ceil_mode,
            }),
            _ => None,
        }
    }

    /// The same layer with every default written out (what `model.spec()` returns).
    pub fn normalized(&self) -> LayerSpec {
        let mut l = self.clone();
        match &mut l {
            LayerSpec::MaxPool2d {
                kernel_size,
                stride,
                ..
            }
            | LayerSpec::AvgPool2d {
                kernel_size,
                stride,
                ..
            } => {
                stride.get_or_insert(*kernel_size);
            }
            _ => {}
        }
        l
    }
}

impl Spec {
    /// Parses the JSON of a spec; a mistake names where it is (`layers[2].kernelSize: …`).
    pub fn from_json(json: &str) -> Result<Spec> {
        let dropped = drop_identities(json);
        let json = dropped.as_deref().unwrap_or(json);
        let de = &mut serde_json::Deserializer::from_str(json);
        let spec: Spec = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner().to_string();
            let inner = inner
                .split(" at line ")
                .next()
                .unwrap_or(&inner)
                .to_string();
            let hint = if inner.contains("unknown variant") {
                format!(" (kinds: {})", KINDS.join(", "))
            } else {
                String::new()
            };
            let path = field_at(json, &path).unwrap_or(path);
            Error::param("spec", path_or_root(&path), format!("{inner}{hint}"))
        })?;
        spec.check_keys(json)?;
        Ok(spec)
    }

    /// serde ignores unknown keys on a layer without options (`{"kind": "relu", "slope": 2}`):
    /// this refuses them, naming the key and what the kind takes.
    fn check_keys(&self, json: &str) -> Result<()> {
        let v: serde_json::Value =
            serde_json::from_str(json).map_err(|e| Error::param("spec", "json", e.to_string()))?;
        let Some(layers) = v.get("layers").and_then(|l| l.as_array()) else {
            return Ok(());
        };
        for (i, (given, layer)) in layers.iter().zip(&self.layers).enumerate() {
            let known = serde_json::to_value(layer.normalized()).expect("a layer serialises");
            let known = known.as_object().expect("a layer is an object");
            let Some(given) = given.as_object() else {
                continue;
            };
            for k in given.keys() {
                let ok = known.contains_key(k) || (k == "name" && layer.takes_name());
                if !ok {
                    let mut takes: Vec<&str> = known
                        .keys()
                        .map(|k| k.as_str())
                        .filter(|k| *k != "kind")
                        .collect();
                    if layer.takes_name() && !takes.contains(&"name") {
                        takes.push("name");
                    }
                    let takes = if takes.is_empty() {
                        "no options".to_string()
                    } else {
                        takes.join(", ")
                    };
                    return Err(Error::param(
                        "spec",
                        format!("layers[{i}].{k}"),
                        format!(
                            "a {} layer has no option {k} (it takes {takes})",
                            layer.kind()
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a spec serialises")
    }

    /// Checks the input shape the page can draw and the number of layers.
    pub fn check_input(&self) -> Result<()> {
        let [c, h, w] = self.input;
        if !INPUT_CHANNELS.contains(&c) {
            return Err(Error::param(
                "input",
                self.input,
                format!("channels must be 1 (grey) or 3 (RGB), got {c}"),
            ));
        }
        let (lo, hi) = INPUT_SIDE;
        if !(lo..=hi).contains(&h) || !(lo..=hi).contains(&w) {
            return Err(Error::param(
                "input",
                self.input,
                format!("height and width must be {lo} to {hi}, got {h}×{w}"),
            ));
        }
        if self.layers.is_empty() {
            return Err(Error::param(
                "layers",
                "[]",
                "a model needs at least one layer",
            ));
        }
        if self.layers.len() > MAX_LAYERS {
            return Err(Error::param(
                "layers",
                self.layers.len(),
                format!("at most {MAX_LAYERS} layers"),
            ));
        }
        Ok(())
    }
}

/// Layers that do nothing at inference, as PyTorch models often hold them: PyTorch's module
/// names, dropped from a spec (the adds' `from` renumbered: an add of a dropped layer's output
/// adds its input, the same values).
pub const DROPPED_KINDS: [&str; 5] = [
    "dropout",
    "dropout2d",
    "identity",
    "alphadropout",
    "featurealphadropout",
];

/// The spec's JSON without its [`DROPPED_KINDS`] layers, or `None` when it has none (or is not
/// an object with a list of layers: the parser then says what is wrong).
fn drop_identities(json: &str) -> Option<String> {
    let mut v: serde_json::Value = serde_json::from_str(json).ok()?;
    let layers = v.get_mut("layers")?.as_array_mut()?;
    let dropped: Vec<usize> = layers
        .iter()
        .enumerate()
        .filter(|(_, l)| {
            l.get("kind")
                .and_then(|k| k.as_str())
                .is_some_and(|k| DROPPED_KINDS.contains(&k))
        })
        .map(|(i, _)| i)
        .collect();
    if dropped.is_empty() {
        return None;
    }
    let mut kept = Vec::with_capacity(layers.len());
    for (i, mut l) in std::mem::take(layers).into_iter().enumerate() {
        if dropped.contains(&i) {
            continue;
        }
        if let Some(from) = l.get("from").and_then(|f| f.as_u64()) {
            // Activation `from` is layer `from − 1`'s output: fewer layers come before it.
            let before = dropped.iter().filter(|&&d| (d as u64) < from).count() as u64;
            l["from"] = serde_json::Value::from(from - before);
        }
        kept.push(l);
    }
    *layers = kept;
    Some(v.to_string())
}

/// serde reads a tagged layer as a whole, so its errors stop at `layers[i]`: this finds the
/// field of that layer whose value does not parse, to name it (`layers[i].kernelSize`).
fn field_at(json: &str, path: &str) -> Option<String> {
    let i: usize = path
        .strip_prefix("layers[")?
        .strip_suffix(']')?
        .parse()
        .ok()?;
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    let layer = v.get("layers")?.get(i)?.as_object()?;
    layer.iter().find_map(|(k, v)| {
        let bad = match k.as_str() {
            "kernelSize" | "stride" | "dilation" | "outputPadding" => {
                Size2::deserialize(v).is_err() && !(k == "stride" && v.is_null())
            }
            "padding" => Pad4::deserialize(v).is_err(),
            "outChannels" | "outFeatures" | "groups" | "from" => usize::deserialize(v).is_err(),
            "bias" | "ceilMode" | "countIncludePad" => bool::deserialize(v).is_err(),
            "negativeSlope" | "eps" => f32::deserialize(v).is_err(),
            "name" => String::deserialize(v).is_err(),
            _ => false,
        };
        bad.then(|| format!("{path}.{k}"))
    })
}

/// The ranges an architecture editor offers for each kind's options (`[min, max]`; the model's
/// own checks decide what fits), the kinds in order, the input's limits and the layer count.
pub fn editor_ranges() -> serde_json::Value {
    serde_json::json!({
        "kinds": KINDS,
        "input": { "channels": INPUT_CHANNELS, "side": [INPUT_SIDE.0, INPUT_SIDE.1] },
        "maxLayers": MAX_LAYERS,
        "options": {
            "conv2d": { "outChannels": [1, 256], "kernelSize": [1, 15], "stride": [1, 8], "padding": [0, 15], "dilation": [1, 8], "groups": [1, 256] },
            "convtranspose2d": { "outChannels": [1, 256], "kernelSize": [1, 15], "stride": [1, 8], "padding": [0, 15], "outputPadding": [0, 7], "dilation": [1, 8], "groups": [1, 256] },
            "maxpool2d": { "kernelSize": [1, 8], "stride": [1, 8], "padding": [0, 4], "dilation": [1, 4] },
            "avgpool2d": { "kernelSize": [1, 8], "stride": [1, 8], "padding": [0, 4] },
            "leakyrelu": { "negativeSlope": [0.0, 1.0] },
            "linear": { "outFeatures": [1, 4096] },
            "batchnorm2d": { "eps": [1e-8, 0.1] },
            "add": { "from": [0, MAX_LAYERS] }
        }
    })
}

fn path_or_root(p: &str) -> String {
    if p == "." || p.is_empty() {
        "the spec".into()
    } else {
        p.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn parses_sizes_and_defaults() {
        let s = Spec::from_json(
            r#"{"input":[1,28,28],"layers":[
              {"kind":"conv2d","outChannels":8,"kernelSize":[3,5],"padding":[1,2]},
              {"kind":"maxpool2d","kernelSize":2},
              {"kind":"avgpool2d","kernelSize":3,"stride":1,"padding":[0,1,1,0],"countIncludePad":false},
              {"kind":"leakyrelu"},{"kind":"add","from":1},{"kind":"batchnorm2d","name":"bn"}]}"#,
        )
        .unwrap();
        assert_eq!(
            s.layers[0].conv_params().unwrap().padding,
            [1, 2, 1, 2],
            "[h, w] padding is top/bottom h, left/right w"
        );
        assert_eq!(s.layers[1].pool_params().unwrap().stride, [2, 2]);
        assert_eq!(s.layers[2].pool_params().unwrap().padding, [0, 1, 1, 0]);
        assert_eq!(
            s.layers[3],
            LayerSpec::LeakyRelu {
                negative_slope: 0.01
            }
        );
        assert_eq!(s.layers[5].given_name(), Some("bn"));
        let back = Spec::from_json(&s.to_json()).unwrap();
        assert_eq!(back, s);
    }

    /// Dropout and identity layers do nothing at inference: dropped, the adds renumbered.
    #[test]
    fn dropout_and_identity_are_dropped() {
        let s = Spec::from_json(
            r#"{"input":[1,8,8],"layers":[{"kind":"relu"},{"kind":"dropout"},{"kind":"tanh"},{"kind":"identity"},{"kind":"add","from":2},{"kind":"add","from":4}]}"#,
        )
        .unwrap();
        assert_eq!(
            s.layers,
            [
                LayerSpec::Relu,
                LayerSpec::Tanh,
                LayerSpec::Add { from: 1 },
                LayerSpec::Add { from: 2 }
            ]
        );
        let plain = Spec::from_json(r#"{"input":[1,8,8],"layers":[{"kind":"relu"}]}"#).unwrap();
        assert_eq!(plain.layers, [LayerSpec::Relu]);
    }

    #[test]
    fn mistakes_name_where_they_are() {
        let e =
            Spec::from_json(r#"{"input":[1,28,28],"layers":[{"kind":"relu"},{"kind":"conv3d"}]}"#)
                .unwrap_err()
                .to_string();
        assert!(
            e.contains("layers[1]") && e.contains("conv3d") && e.contains("convtranspose2d"),
            "{e}"
        );
        let e = Spec::from_json(
            r#"{"input":[1,28,28],"layers":[{"kind":"conv2d","outChannels":8,"kernelSize":[1,2,3]}]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("layers[0].kernelSize") && e.contains("3 numbers"),
            "{e}"
        );
        let e = Spec::from_json(r#"{"input":[1,28,28],"layers":[{"kind":"relu","slope":2}]}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("slope"), "{e}");
        let e = Spec::from_json(r#"{"input":[1,28],"layers":[]}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("input"), "{e}");
        let s = Spec::from_json(r#"{"input":[2,28,28],"layers":[{"kind":"relu"}]}"#).unwrap();
        assert!(s
            .check_input()
            .unwrap_err()
            .to_string()
            .contains("channels must be 1"));
        let s = Spec::from_json(r#"{"input":[1,7,28],"layers":[{"kind":"relu"}]}"#).unwrap();
        assert!(s.check_input().unwrap_err().to_string().contains("8 to 64"));
    }
}
