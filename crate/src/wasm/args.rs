//! What the JavaScript API accepts, declared once: the value types (`Size2d`, `Padding2d`,
//! `Whole`, `Flag`, `Name`, …) and the options objects of every export, read with serde
//! (camelCase, unknown fields rejected). Every error names the argument or option, the value
//! as JS gave it, and what is wrong: `invalid stride = -1: must be a whole number ≥ 0`.
//!
//! In wasm the values come from a plain-data snapshot of the JS argument as JSON text
//! ([`super::js::snapshot`]), read by serde_json, so no getter, proxy or iterator of the caller
//! runs inside serde; the native tests read the same types from JSON the same way.

use std::fmt;

use serde::de::{self, DeserializeOwned, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use crate::conv::{Conv2dParams, Pool2dParams};

/// Largest whole number an option takes (sizes beyond it are refused, not wrapped).
pub const MAX_WHOLE: f64 = (1u64 << 31) as f64;
/// Longest error message (a value is described in at most a few dozen characters).
pub const MAX_MESSAGE: usize = 400;
/// Longest string a `Name` takes.
pub const MAX_NAME: usize = 64;

/// An argument error: `invalid {name} = {value}: {reason}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ArgError {
    pub name: String,
    pub value: String,
    pub reason: String,
}

impl ArgError {
    pub fn new(
        name: impl Into<String>,
        value: impl fmt::Display,
        reason: impl Into<String>,
    ) -> Self {
        ArgError {
            name: name.into(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for ArgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = format!("invalid {} = {}: {}", self.name, self.value, self.reason);
        f.write_str(&cap(s))
    }
}

/// Cuts a message to [`MAX_MESSAGE`] characters.
pub fn cap(s: String) -> String {
    if s.chars().count() <= MAX_MESSAGE {
        return s;
    }
    let mut t: String = s.chars().take(MAX_MESSAGE - 1).collect();
    t.push('…');
    t
}

/// A JS value as an error message shows it.
#[derive(Debug, Clone, PartialEq)]
pub enum Seen {
    Absent,
    Num(f64),
    Bool(bool),
    Str(String),
    /// Not plain data: `"a function"`, `"a Tensor"`, `"a sparse array"`, …
    Opaque(String),
    List(Vec<Seen>),
    Object,
}

/// The snapshot's marker for a value that is not plain data (see `js::snapshot`).
pub const OPAQUE: char = '\u{0}';

/// Numbers as a person typed them: `2`, `1.5`, `NaN`, `1e300` (not 300 digits).
fn num(f: &mut fmt::Formatter<'_>, x: f64) -> fmt::Result {
    if x.is_infinite() {
        f.write_str(if x > 0.0 { "Infinity" } else { "-Infinity" })
    } else if x != 0.0 && (x.abs() >= 1e21 || x.abs() < 1e-6) {
        write!(f, "{x:e}")
    } else if x == 0.0 && x.is_sign_negative() {
        f.write_str("-0")
    } else {
        write!(f, "{x}")
    }
}

impl fmt::Display for Seen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Seen::Absent => f.write_str("undefined"),
            Seen::Num(x) => num(f, *x),
            Seen::Bool(b) => write!(f, "{b}"),
            Seen::Str(s) => {
                let short: String = s.chars().take(40).collect();
                let more = if short.len() < s.len() { "…" } else { "" };
                write!(f, "a string {short:?}{more}")
            }
            Seen::Opaque(d) => f.write_str(d),
            Seen::List(v) => {
                f.write_str("[")?;
                for (i, x) in v.iter().take(8).enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{x}")?;
                }
                if v.len() > 8 {
                    write!(f, ", … ({} elements)", v.len())?;
                }
                f.write_str("]")
            }
            Seen::Object => f.write_str("an object"),
        }
    }
}

struct SeenVisitor;

impl<'de> Visitor<'de> for SeenVisitor {
    type Value = Seen;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Seen, E> {
        Ok(Seen::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Seen, E> {
        Ok(Seen::Num(v as f64))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Seen, E> {
        Ok(Seen::Num(v as f64))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Seen, E> {
        Ok(Seen::Num(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Seen, E> {
        Ok(match v.strip_prefix(OPAQUE) {
            Some(d) => Seen::Opaque(d.to_string()),
            None => Seen::Str(v.to_string()),
        })
    }
    fn visit_unit<E>(self) -> Result<Seen, E> {
        Ok(Seen::Absent)
    }
    fn visit_none<E>(self) -> Result<Seen, E> {
        Ok(Seen::Absent)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Seen, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Seen, A::Error> {
        let mut v = Vec::new();
        while let Some(x) = seq.next_element::<Seen>()? {
            v.push(x);
        }
        Ok(Seen::List(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Seen, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Seen::Object)
    }
}

impl<'de> Deserialize<'de> for Seen {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SeenVisitor)
    }
}

/// Separates the value from the reason inside a serde error message.
const SEP: char = '\u{1}';

fn bad<E: de::Error>(v: &Seen, reason: &str) -> E {
    E::custom(format!("{v}{SEP}{reason}"))
}

/// A whole number ≥ 0, at most [`MAX_WHOLE`]: no fractions, NaN, ∞, strings or wrapping.
fn whole<E: de::Error>(v: &Seen, x: &Seen) -> Result<usize, E> {
    match x {
        Seen::Num(n) if n.is_finite() && *n >= 0.0 && n.fract() == 0.0 => {
            if *n > MAX_WHOLE {
                Err(bad(v, "is too large"))
            } else {
                Ok(*n as usize)
            }
        }
        _ => Err(bad(v, "must be a whole number ≥ 0")),
    }
}

macro_rules! from_seen {
    ($t:ty, |$v:ident| $body:expr) => {
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let $v = Seen::deserialize(d)?;
                $body
            }
        }
    };
}

/// A size along (height, width): one number for both, or `[h, w]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size2d(pub [usize; 2]);

from_seen!(Size2d, |v| match &v {
    Seen::Num(_) => whole(&v, &v).map(|n| Size2d([n, n])),
    Seen::List(l) if l.len() == 2 => Ok(Size2d([whole(&v, &l[0])?, whole(&v, &l[1])?])),
    Seen::List(l) if l.iter().all(|x| matches!(x, Seen::Num(_))) => {
        Err(bad(&v, "must be a number or an array [h, w]"))
    }
    Seen::List(_) => Err(bad(&v, "must be a number or an array [h, w] of numbers")),
    _ => Err(bad(&v, "must be a number or an array [h, w]")),
});

/// Zero padding: one number for every side, `[h, w]` or `[top, left, bottom, right]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Padding2d(pub [usize; 4]);

from_seen!(Padding2d, |v| {
    const WHAT: &str = "must be a number, [h, w] or [top, left, bottom, right]";
    match &v {
        Seen::Num(_) => whole(&v, &v).map(|n| Padding2d([n; 4])),
        Seen::List(l) if l.len() == 2 => {
            let (h, w) = (whole(&v, &l[0])?, whole(&v, &l[1])?);
            Ok(Padding2d([h, w, h, w]))
        }
        Seen::List(l) if l.len() == 4 => {
            let mut p = [0; 4];
            for (p, x) in p.iter_mut().zip(l) {
                *p = whole(&v, x)?;
            }
            Ok(Padding2d(p))
        }
        _ => Err(bad(&v, WHAT)),
    }
});

/// A whole number ≥ 0 (`groups`, sizes, indices, seeds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Whole(pub usize);

from_seen!(Whole, |v| match &v {
    Seen::Num(_) => whole(&v, &v).map(Whole),
    _ => Err(bad(&v, "must be a number")),
});

/// Any number (a learning rate): the library checks its range, NaN included, and says why.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Real(pub f64);

from_seen!(Real, |v| match &v {
    Seen::Num(n) => Ok(Real(*n)),
    // JSON has no NaN or ∞: the snapshot marks them, and they are numbers all the same.
    Seen::Opaque(d) if d == "NaN" => Ok(Real(f64::NAN)),
    Seen::Opaque(d) if d == "Infinity" => Ok(Real(f64::INFINITY)),
    Seen::Opaque(d) if d == "-Infinity" => Ok(Real(f64::NEG_INFINITY)),
    _ => Err(bad(&v, "must be a number")),
});

/// A whole number, negative allowed (`softmax`'s axis).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Int(pub i64);

from_seen!(Int, |v| match &v {
    Seen::Num(n) if n.is_finite() && n.fract() == 0.0 && n.abs() <= MAX_WHOLE => Ok(Int(*n as i64)),
    _ => Err(bad(&v, "must be a whole number")),
});

/// `true` or `false`, nothing truthy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flag(pub bool);

from_seen!(Flag, |v| match &v {
    Seen::Bool(b) => Ok(Flag(*b)),
    _ => Err(bad(&v, "must be true or false")),
});

/// A short string (a layer or preset name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(pub String);

from_seen!(Name, |v| match &v {
    Seen::Str(s) if s.chars().count() <= MAX_NAME => Ok(Name(s.clone())),
    Seen::Str(_) => Err(bad(&v, "is too long for a name")),
    _ => Err(bad(&v, "must be a string")),
});

/// A tensor shape: an array of 1 to 8 whole numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape(pub Vec<usize>);

from_seen!(Shape, |v| match &v {
    Seen::List(l) if !l.is_empty() && l.len() <= crate::tensor::MAX_RANK => {
        let dims: Result<Vec<usize>, _> = l.iter().map(|x| whole(&v, x)).collect();
        dims.map(Shape)
    }
    _ => Err(bad(&v, "must be an array of 1 to 8 whole numbers")),
});

fn size(s: Option<Size2d>, default: [usize; 2]) -> [usize; 2] {
    s.map_or(default, |s| s.0)
}

/// Options of `conv2d` (PyTorch's Conv2d).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConvOptions {
    #[serde(default)]
    pub stride: Option<Size2d>,
    #[serde(default)]
    pub padding: Option<Padding2d>,
    #[serde(default)]
    pub dilation: Option<Size2d>,
    #[serde(default)]
    pub groups: Option<Whole>,
}

impl ConvOptions {
    pub fn params(&self) -> Conv2dParams {
        geometry(self.stride, self.padding, self.dilation, self.groups, None)
    }
}

/// Options of `convTranspose2d` (PyTorch's ConvTranspose2d).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConvTransposeOptions {
    #[serde(default)]
    pub stride: Option<Size2d>,
    #[serde(default)]
    pub padding: Option<Padding2d>,
    #[serde(default)]
    pub dilation: Option<Size2d>,
    #[serde(default)]
    pub groups: Option<Whole>,
    #[serde(default)]
    pub output_padding: Option<Size2d>,
}

impl ConvTransposeOptions {
    pub fn params(&self) -> Conv2dParams {
        geometry(
            self.stride,
            self.padding,
            self.dilation,
            self.groups,
            self.output_padding,
        )
    }
}

fn geometry(
    stride: Option<Size2d>,
    padding: Option<Padding2d>,
    dilation: Option<Size2d>,
    groups: Option<Whole>,
    output_padding: Option<Size2d>,
) -> Conv2dParams {
    Conv2dParams {
        stride: size(stride, [1, 1]),
        padding: padding.map_or([0; 4], |p| p.0),
        dilation: size(dilation, [1, 1]),
        groups: groups.map_or(1, |g| g.0),
        output_padding: size(output_padding, [0, 0]),
    }
}

/// Options of `maxPool2d` (PyTorch's MaxPool2d); `kernelSize` is required.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PoolOptions {
    pub kernel_size: Size2d,
    #[serde(default)]
    pub stride: Option<Size2d>,
    /// −∞ padding: a number, `[h, w]` or `[top, left, bottom, right]`.
    #[serde(default)]
    pub padding: Option<Padding2d>,
    #[serde(default)]
    pub dilation: Option<Size2d>,
    #[serde(default)]
    pub ceil_mode: Option<Flag>,
}

impl PoolOptions {
    pub fn params(&self) -> Pool2dParams {
        let kernel = self.kernel_size.0;
        Pool2dParams {
            kernel,
            stride: size(self.stride, kernel),
            padding: self.padding.map_or([0; 4], |p| p.0),
            dilation: size(self.dilation, [1, 1]),
            ceil_mode: self.ceil_mode.is_some_and(|f| f.0),
        }
    }
}

/// The setting of a sliding-correlation trace: the input's and the kernel's size and the
/// conv's geometry (`traceCorrelate`, `traceCorrelateRanges`, `traceCorrelateSettle`,
/// `traceRoundTrip`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CorrelateSetting {
    /// The input image, `[h, w]`.
    pub size: Size2d,
    pub kernel_size: Size2d,
    #[serde(default)]
    pub stride: Option<Size2d>,
    #[serde(default)]
    pub padding: Option<Padding2d>,
    #[serde(default)]
    pub dilation: Option<Size2d>,
    /// Turn the kernel by 180° first (a true convolution).
    #[serde(default)]
    pub flip: Option<Flag>,
    /// Normalised cross-correlation (`traceCorrelate` and `pytorchCode`; the others ignore it).
    #[serde(default)]
    pub normalized: Option<Flag>,
    /// Largest value the ranges consider.
    #[serde(default)]
    pub cap: Option<Whole>,
}

impl CorrelateSetting {
    pub fn params(&self) -> Conv2dParams {
        geometry(self.stride, self.padding, self.dilation, None, None)
    }
    pub fn setting(&self) -> Setting {
        Setting {
            size: self.size.0,
            kernel: self.kernel_size.0,
            params: self.params(),
            cap: self.cap.map(|c| c.0),
        }
    }
}

/// What every trace setting holds: the input's and the kernel's size, the geometry, and the
/// largest value the ranges consider.
pub struct Setting {
    pub size: [usize; 2],
    pub kernel: [usize; 2],
    pub params: Conv2dParams,
    pub cap: Option<usize>,
}

/// The setting of a transposed-convolution trace (`traceTranspose`, `traceTransposeRanges`,
/// `traceTransposeSettle`, `traceAdjoint`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TransposeSetting {
    pub size: Size2d,
    pub kernel_size: Size2d,
    #[serde(default)]
    pub stride: Option<Size2d>,
    #[serde(default)]
    pub padding: Option<Padding2d>,
    #[serde(default)]
    pub dilation: Option<Size2d>,
    #[serde(default)]
    pub output_padding: Option<Size2d>,
    #[serde(default)]
    pub cap: Option<Whole>,
    /// The adjoint check's pseudo-random f.
    #[serde(default)]
    pub seed: Option<Whole>,
}

impl TransposeSetting {
    pub fn params(&self) -> Conv2dParams {
        geometry(
            self.stride,
            self.padding,
            self.dilation,
            None,
            self.output_padding,
        )
    }
    pub fn setting(&self) -> Setting {
        Setting {
            size: self.size.0,
            kernel: self.kernel_size.0,
            params: self.params(),
            cap: self.cap.map(|c| c.0),
        }
    }
}

/// `traceCheckerboard`: the image and kernel sizes and the stride of every stage.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CheckerboardSetting {
    pub size: Size2d,
    pub kernel_size: Size2d,
    /// Default 2.
    #[serde(default)]
    pub stride: Option<Size2d>,
}

/// `traceCorrelatePatch`: the image's size and the box to cut (its top-left cell and size).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PatchOptions {
    pub size: Size2d,
    pub top: Whole,
    pub left: Whole,
    pub kernel_size: Size2d,
}

/// `tracePresetImage` / `tracePresetKernel`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PresetOptions {
    pub name: Name,
    /// `[h, w]` of an image; the side of a (square) kernel.
    pub size: Size2d,
    #[serde(default)]
    pub seed: Option<Whole>,
}

/// `traceOneByOne`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OneByOneOptions {
    pub channels_in: Whole,
    pub channels_out: Whole,
    pub size: Size2d,
    #[serde(default)]
    pub seed: Option<Whole>,
}

/// `traceParamCounts`: one layer on an `h × w × channelsIn` image.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ParamCountOptions {
    pub size: Size2d,
    pub channels_in: Whole,
    pub channels_out: Whole,
    pub kernel_size: Whole,
    pub hidden: Whole,
}

/// `pytorchCode({ op: "dense", … })`: the dense scene's two days and the shift shown.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DenseCodeOptions {
    /// Hours per day.
    pub length: Whole,
    /// Activities (one-hot channels).
    pub channels: Whole,
    /// Default 0.
    #[serde(default)]
    pub shift: Option<Int>,
}

/// `model.inputGradient(pixels, { target, of })`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InputGradientOptions {
    pub target: Whole,
    /// `"logit"` (default), `"probability"` or `"loss"`.
    #[serde(default)]
    pub of: Option<Name>,
    /// Gradient × input instead of the gradient (each value's share of a linear model's logit).
    #[serde(default)]
    pub times_input: Option<Flag>,
}

/// `model.gradCam(pixels, { layer, target })`: `layer` an activation index (as `forward.activation`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GradCamOptions {
    pub layer: Whole,
    pub target: Whole,
}

/// `model.adjointStep(pixels, { layer, target, cell? })`: `layer` a conv2d's name, `cell`
/// `[c, y, x]` of its input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AdjointOptions {
    pub layer: Name,
    pub target: Whole,
    #[serde(default)]
    pub cell: Option<[Whole; 3]>,
}

/// `model.adversarial(pixels, { epsilon, label, steps?, target? })`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AdversarialOptions {
    pub epsilon: Real,
    pub label: Whole,
    #[serde(default)]
    pub steps: Option<Whole>,
    #[serde(default)]
    pub target: Option<Whole>,
}

/// `model.classImage(target, { steps?, l2?, blur?, seed? })`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClassImageOptions {
    #[serde(default)]
    pub steps: Option<Whole>,
    #[serde(default)]
    pub l2: Option<Real>,
    #[serde(default)]
    pub blur: Option<Real>,
    #[serde(default)]
    pub seed: Option<Whole>,
}

/// `model.occlusion(pixels, { target, patch?, stride?, value? })`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OcclusionOptions {
    pub target: Whole,
    #[serde(default)]
    pub patch: Option<Whole>,
    #[serde(default)]
    pub stride: Option<Whole>,
    #[serde(default)]
    pub value: Option<Real>,
}

/// `new Trainer(dataset, settings)`: what to train and how (the library checks the ranges).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TrainerOptions {
    /// `"slp"`, `"mlp"`, `"cnn"` or a spec (`{ input, layers }`, as `Model.fromSpec` takes).
    pub model: serde_json::Value,
    #[serde(default)]
    pub optimizer: Option<Name>,
    #[serde(default)]
    pub lr: Option<Real>,
    #[serde(default)]
    pub batch: Option<Whole>,
    #[serde(default)]
    pub augment: Option<Flag>,
    /// `"zeros"` or `"seeded"`.
    #[serde(default)]
    pub init: Option<Name>,
    #[serde(default)]
    pub seed: Option<Whole>,
    /// Keep the run's history, so it can be rewound (`Trainer.history`, `Trainer.rewind`).
    #[serde(default)]
    pub history: Option<Flag>,
}

/// Reads `T` from a deserializer, turning serde's errors into [`ArgError`]s that name the
/// option: `name` is the argument (`"opts"`), `function` the export (for "is not an option of").
pub fn read<'de, T: DeserializeOwned, D: Deserializer<'de>>(
    d: D,
    name: &str,
    function: &str,
) -> Result<T, ArgError> {
    serde_path_to_error::deserialize(d).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." || path.is_empty() {
            name.to_string()
        } else {
            path.trim_start_matches('.').to_string()
        };
        let msg = e.inner().to_string();
        // serde_json adds where in the text it was; the text is ours, not the caller's.
        let msg = match msg.rfind(" at line ") {
            Some(i) => &msg[..i],
            None => &msg,
        };
        to_arg_error(&field, name, function, msg)
    })
}

fn to_arg_error(field: &str, name: &str, function: &str, msg: &str) -> ArgError {
    if let Some((value, reason)) = msg.split_once(SEP) {
        return ArgError::new(field, value, reason);
    }
    let quoted = |m: &str| m.split('`').nth(1).unwrap_or("").to_string();
    if let Some(rest) = msg.strip_prefix("unknown field `") {
        let key = rest.split('`').next().unwrap_or("");
        let expected: Vec<String> = rest
            .split('`')
            .skip(1)
            .filter(|s| !s.contains(',') && !s.trim().is_empty() && !s.contains("expected"))
            .map(|s| s.to_string())
            .collect();
        let shown: String = key.chars().take(40).collect();
        return ArgError::new(
            "option",
            shown,
            format!("is not an option of {function}; expected one of {expected:?}"),
        );
    }
    if msg.starts_with("missing field `") {
        return ArgError::new(quoted(msg), "undefined", "is required");
    }
    if msg.starts_with("invalid type") {
        return ArgError::new(
            name,
            "not an object",
            format!("must be an object of options for {function}"),
        );
    }
    ArgError::new(field, "?", msg.to_string())
}

#[cfg(test)]
mod tests;
