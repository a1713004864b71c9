//! The PyTorch line of a scene (`crate::trace::code`): `pytorchCode({ op, …setting })` with the
//! setting the scene's trace takes, checked as the trace checks it.
//!
//! ```js
//! pytorchCode({ op: 'conv2d', size: 8, kernelSize: 3, stride: [2, 1], padding: [1, 0, 2, 1], flip: true });
//! // → { lines: ['w = torch.flip(w, dims=(-2, -1))  # …', 'y = F.pad(x, (0, 1, 1, 2))', 'y = F.conv2d(y, w, stride=(2, 1))'], text }
//! ```

use serde::de::DeserializeOwned;
use wasm_bindgen::prelude::*;

use super::args::{
    self, ArgError, CheckerboardSetting, CorrelateSetting, DenseCodeOptions, OneByOneOptions,
    ParamCountOptions, TrainerOptions, TransposeSetting,
};
use super::trace::sizes;
use super::{js, run, train, R};
use crate::trace::{code, Op};

/// The operations `pytorchCode` writes, and the trace whose setting each takes.
pub const OPS: [&str; 7] = [
    "conv2d",
    "convTranspose2d",
    "checkerboard",
    "dense",
    "oneByOne",
    "paramCounts",
    "train",
];

const FUNCTION: &str = "pytorchCode";

/// The rest of the setting (without `op`) read as `T`, its errors naming the option.
fn rest<T: DeserializeOwned>(map: serde_json::Map<String, serde_json::Value>) -> R<T> {
    let text = serde_json::Value::Object(map).to_string();
    Ok(args::read(
        &mut serde_json::Deserializer::from_str(&text),
        "setting",
        FUNCTION,
    )?)
}

fn js_code(c: &code::Code) -> R<JsValue> {
    Ok(super::js::to_js(c, "result")?)
}

/// The PyTorch code of a scene's setting: `{ op, …setting }` where `op` is `"conv2d"` (the
/// setting of `traceCorrelate`), `"convTranspose2d"` (`traceTranspose`), `"checkerboard"`
/// (`traceCheckerboard`), `"dense"` (`{ length, channels, shift }`), `"oneByOne"`
/// (`traceOneByOne`), `"paramCounts"` (`traceParamCounts`) or `"train"` (a `Trainer`'s
/// settings). Returns `{ lines, text }`.
#[wasm_bindgen(js_name = pytorchCode)]
pub fn pytorch_code(setting: JsValue) -> Result<JsValue, JsError> {
    run(|| {
        let example = "{ op: \"conv2d\", size: 8, kernelSize: 3 }";
        let text = js::snapshot("setting", &setting)?;
        let value: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| ArgError::new("setting", "?", e.to_string()))?;
        let serde_json::Value::Object(mut map) = value else {
            let shown = if text == "null" {
                "undefined"
            } else {
                "not an object"
            };
            return Err(ArgError::new(
                "setting",
                shown,
                format!("must be an object like {example} for {FUNCTION}"),
            )
            .into());
        };
        let op = match map.remove("op") {
            Some(serde_json::Value::String(s)) if OPS.contains(&s.as_str()) => s,
            Some(v) => {
                let shown: String = v.to_string().chars().take(40).collect();
                return Err(ArgError::new("op", shown, format!("must be one of {OPS:?}")).into());
            }
            None => return Err(ArgError::new("op", "undefined", "is required").into()),
        };
        let c = match op.as_str() {
            "conv2d" => {
                let s: CorrelateSetting = rest(map)?;
                sizes(Op::Correlate, s.size.0, s.kernel_size.0)?;
                let mode = crate::trace::correlate::Mode {
                    flip: s.flip.is_some_and(|f| f.0),
                    normalized: s.normalized.is_some_and(|f| f.0),
                };
                code::correlate_with(s.size.0, s.kernel_size.0, &s.params(), mode)?
            }
            "convTranspose2d" => {
                let s: TransposeSetting = rest(map)?;
                sizes(Op::Transpose, s.size.0, s.kernel_size.0)?;
                code::transpose(s.size.0, s.kernel_size.0, &s.params())?
            }
            "checkerboard" => {
                let s: CheckerboardSetting = rest(map)?;
                let stride = s.stride.map_or([2, 2], |v| v.0);
                code::checkerboard(s.size.0, s.kernel_size.0, stride)?
            }
            "dense" => {
                let s: DenseCodeOptions = rest(map)?;
                code::schedules(s.length.0, s.channels.0, s.shift.map_or(0, |v| v.0))?
            }
            "oneByOne" => {
                let s: OneByOneOptions = rest(map)?;
                code::one_by_one(s.channels_in.0, s.channels_out.0, s.size.0)?
            }
            "paramCounts" => {
                let s: ParamCountOptions = rest(map)?;
                code::param_counts(
                    s.size.0,
                    s.channels_in.0,
                    s.channels_out.0,
                    s.kernel_size.0,
                    s.hidden.0,
                )?
            }
            _ => {
                let s: TrainerOptions = rest(map)?;
                code::train(&train::settings(s)?)?
            }
        };
        js_code(&c)
    })
}
