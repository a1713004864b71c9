//! Weights in safetensors with PyTorch names (`conv1.weight`, `conv1.bias`, `fc1.weight`, …;
//! Linear weights `[out, in]`, conv weights `[out, in, kH, kW]`), f32 little-endian, and the
//! architecture in the metadata (`{"arch": "cnn", "layers": "…"}`).
//!
//! Tensors are F32 or F16 (little-endian); F16 files are half the size and load as f32 (the
//! shipped models are F16: 784→128→10 alone is 407 KB in F32).

use std::collections::{BTreeMap, HashMap};

use safetensors::tensor::{Dtype, SafeTensorError, SafeTensors, TensorView};

use super::spec::Spec;
use super::{Model, Preset};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

fn werr(msg: impl Into<String>) -> Error {
    Error::Weights(msg.into())
}

impl Model {
    /// Serialises the parameters (F32) and the architecture to safetensors bytes.
    pub fn to_safetensors(&self) -> Result<Vec<u8>> {
        self.to_safetensors_as(Dtype::F32)
    }

    /// Like [`Model::to_safetensors`], storing the tensors as `dtype` (F32 or F16). The
    /// metadata holds the spec (`"spec"`, the JSON `Model.fromSpec` takes) and, for a shipped
    /// architecture, its name (`"arch"`, which older pages read).
    pub fn to_safetensors_as(&self, dtype: Dtype) -> Result<Vec<u8>> {
        if dtype != Dtype::F32 && dtype != Dtype::F16 {
            return Err(werr(format!(
                "cannot store weights as {dtype:?}: F32 or F16 only"
            )));
        }
        let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = self
            .layers
            .iter()
            .flat_map(|l| l.named_tensors())
            .map(|(name, t)| {
                let data: Vec<u8> = if dtype == Dtype::F16 {
                    t.data()
                        .iter()
                        .flat_map(|&v| f32_to_f16(v).to_le_bytes())
                        .collect()
                } else {
                    t.data().iter().flat_map(|v| v.to_le_bytes()).collect()
                };
                (name, t.shape().to_vec(), data)
            })
            .collect();
        let views = bytes
            .iter()
            .map(|(n, s, d)| {
                TensorView::new(dtype, s.clone(), d)
                    .map(|v| (n.clone(), v))
                    .map_err(|e| werr(format!("{n}: {e}")))
            })
            .collect::<Result<Vec<_>>>()?;
        let mut meta = HashMap::from([
            ("spec".to_string(), self.spec().to_json()),
            ("format".to_string(), "pt".to_string()),
        ]);
        if let Some(p) = self.preset() {
            meta.insert("arch".to_string(), p.name().to_string());
        }
        safetensors::serialize(views, Some(meta)).map_err(|e| werr(e.to_string()))
    }

    /// Loads a model from safetensors bytes: the architecture from the metadata (`"spec"`, or
    /// a shipped architecture's name in `"arch"`), then the tensor names, shapes and dtype (F32
    /// or F16). Every mismatch is listed in the error.
    pub fn from_safetensors(bytes: &[u8]) -> Result<Model> {
        let (st, meta) = parse(bytes)?;
        let spec = spec_of(meta.as_ref())?;
        let mut tensors = BTreeMap::new();
        let mut problems = Vec::new();
        for (name, v) in st.tensors() {
            if v.dtype() != Dtype::F32 && v.dtype() != Dtype::F16 {
                problems.push(format!(
                    "{name} has dtype {:?}, expected F32 (or F16)",
                    v.dtype()
                ));
                continue;
            }
            let vals: Vec<f32> = if v.dtype() == Dtype::F16 {
                v.data()
                    .chunks_exact(2)
                    .map(|c| f16_to_f32(u16::from_le_bytes([c[0], c[1]])))
                    .collect()
            } else {
                v.data()
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect()
            };
            tensors.insert(name, Tensor::new(vals, v.shape())?);
        }
        let what = meta
            .as_ref()
            .and_then(|m| m.get("arch"))
            .map(|a| format!("architecture {a}"))
            .unwrap_or_else(|| "its spec".into());
        let model = Model::from_tensors(&spec, &tensors);
        match (model, problems.is_empty()) {
            (Ok(m), true) => Ok(m),
            (Ok(_), false) => Err(werr(format!(
                "the file does not match {what}: {}",
                problems.join("; ")
            ))),
            (Err(e), _) => {
                let msg = e.to_string();
                let msg = msg
                    .strip_prefix("weights error: the tensors do not match the architecture: ")
                    .map(str::to_string)
                    .unwrap_or(msg);
                problems.push(msg);
                Err(werr(format!(
                    "the file does not match {what}: {}",
                    problems.join("; ")
                )))
            }
        }
    }
}

/// Loads a model file: ONNX (as `torch.onnx.export` writes it) or safetensors (with the
/// architecture in its metadata), told apart by their first bytes. Batch norms that follow a
/// conv are folded into it.
pub fn load(bytes: &[u8]) -> Result<Model> {
    let mut model = if looks_like(bytes) == Some(ONNX) {
        Model::from_onnx(bytes)?
    } else {
        Model::from_safetensors(bytes)?
    };
    model.fold_batch_norms();
    Ok(model)
}

impl Model {
    /// A model from an ONNX file as `torch.onnx.export` writes it ([`super::onnx::import`]):
    /// its graph read into a spec and `state_dict` tensors, then built and checked as any spec.
    pub fn from_onnx(bytes: &[u8]) -> Result<Model> {
        let (spec, tensors) = super::onnx::import(bytes)?;
        Model::from_tensors(&spec, &tensors)
    }

    /// The model as an ONNX file (opset 17, [`super::onnx::export`]): its tensors under their
    /// `state_dict` names.
    pub fn to_onnx(&self) -> Result<Vec<u8>> {
        let tensors: BTreeMap<String, Tensor> = self
            .layers
            .iter()
            .flat_map(|l| l.named_tensors())
            .map(|(n, t)| (n, t.clone()))
            .collect();
        super::onnx::export(&self.spec(), &tensors)
    }
}

/// [`looks_like`]'s words for an ONNX file.
pub const ONNX: &str = "an ONNX model (protobuf)";

/// The architecture a safetensors file's metadata describes: `"spec"` (JSON), or `"arch"`
/// naming a shipped one.
fn spec_of(meta: Option<&HashMap<String, String>>) -> Result<Spec> {
    if let Some(json) = meta.and_then(|m| m.get("spec")) {
        return Spec::from_json(json).map_err(|e| {
            werr(format!(
                "the metadata's \"spec\" is not an architecture: {e}"
            ))
        });
    }
    match meta.and_then(|m| m.get("arch")) {
        Some(a) => Preset::from_name(a).map(Preset::spec).map_err(|_| {
            werr(format!(
                "unknown architecture \"{a}\" in the metadata; expected cnn, slp or mlp, or a \"spec\" entry"
            ))
        }),
        None => Err(werr(
            "the metadata has no \"spec\" entry (the architecture as JSON, as model.spec() gives it) nor an \"arch\" (cnn, slp or mlp)",
        )),
    }
}

/// f32 to IEEE half precision bits, rounded to nearest even (overflow → ±∞, NaN stays NaN),
/// through the `half` crate.
pub fn f32_to_f16(x: f32) -> u16 {
    half::f16::from_f32(x).to_bits()
}

/// IEEE half precision bits to f32 (exact), through the `half` crate.
pub fn f16_to_f32(h: u16) -> f32 {
    half::f16::from_bits(h).to_f32()
}

/// Largest safetensors header (its JSON) a model file can have: a few hundred bytes per
/// tensor, so a model's is far below this.
pub const MAX_HEADER: u64 = 1 << 20;

/// What a file that does not start like a safetensors file starts like, in words ("text",
/// "JSON text", "a zip archive (PyTorch's .pt / .pth files are zip archives)", …), or `None`
/// when it could be one (8 bytes giving a header length that fits in the file, and the header
/// opening with `{`) or its start is not recognised.
pub fn looks_like(bytes: &[u8]) -> Option<&'static str> {
    if bytes.len() >= 9 {
        let n = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
        if n <= (bytes.len() - 8) as u64 && bytes[8] == b'{' {
            return None;
        }
    }
    let starts = |m: &[u8]| bytes.starts_with(m);
    let magic: &[(&[u8], &str)] = &[
        (
            b"PK\x03\x04",
            "a zip archive (PyTorch's .pt / .pth files are zip archives)",
        ),
        (b"\x1f\x8b", "gzip-compressed data"),
        (b"\x89HDF", "an HDF5 file (Keras' .h5 format)"),
        (b"\x89PNG", "a PNG image"),
        (b"\xff\xd8\xff", "a JPEG image"),
        (b"GIF8", "a GIF image"),
        (b"%PDF", "a PDF document"),
        (b"\x93NUMPY", "a NumPy array (.npy)"),
        (b"\x00asm", "a WebAssembly module"),
    ];
    if let Some((_, what)) = magic.iter().find(|(m, _)| starts(m)) {
        return Some(what);
    }
    // A Python pickle (torch.save's legacy format) opens with PROTO 2..5.
    if bytes.len() >= 2 && bytes[0] == 0x80 && (2..=5).contains(&bytes[1]) {
        return Some("a Python pickle (torch.save's older format)");
    }
    // ONNX: a protobuf ModelProto, field 1 (ir_version, a small varint) and then another field.
    if bytes.len() >= 3
        && bytes[0] == 0x08
        && bytes[1] < 0x80
        && [0x12, 0x1a, 0x22, 0x2a, 0x3a, 0x40, 0x42].contains(&bytes[2])
    {
        return Some(ONNX);
    }
    // Text: the first bytes are printable (UTF-8 allowed), with no NUL.
    let head = &bytes[..bytes.len().min(256)];
    let text = !head.is_empty()
        && head
            .iter()
            .all(|&b| b >= 0x20 || b == b'\n' || b == b'\r' || b == b'\t')
        && std::str::from_utf8(head).map_or_else(|e| e.valid_up_to() + 4 >= head.len(), |_| true);
    if text {
        let first = head.iter().find(|b| !b.is_ascii_whitespace()).copied();
        return Some(match first {
            Some(b'{') | Some(b'[') => "JSON text",
            Some(b'<') => "HTML or XML text",
            _ => "text",
        });
    }
    None
}

/// The first bytes of a file, printed for a message: `"hello, w"` (printable ASCII) or hex.
fn first_bytes(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(8)];
    if head.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        format!("{:?}", String::from_utf8_lossy(head))
    } else {
        head.iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Refuses a file whose start is not a safetensors header, saying what it looks like:
/// "not a safetensors file: it starts with text (\"hello, w\"), …".
pub fn check_start(bytes: &[u8]) -> Result<()> {
    if bytes.is_empty() {
        return Err(werr(
            "the file is empty (0 bytes): is this an ONNX file or a safetensors file at all?",
        ));
    }
    if bytes.len() < 8 {
        return Err(werr(format!(
            "truncated file: {} bytes, a safetensors file starts with an 8-byte header length",
            bytes.len()
        )));
    }
    let n = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
    if let Some(what) = looks_like(bytes) {
        return Err(werr(format!(
            "not a safetensors file: it starts with {what} ({}), so its first 8 bytes would give a header of {n} bytes{}",
            first_bytes(bytes),
            if what.ends_with("text") {
                "; and not a readable ONNX file (a protobuf, not text)"
            } else {
                ""
            }
        )));
    }
    Ok(())
}

/// Why `bytes` is not a model this page can run, in plain words for a person (the loader's
/// exact message says it in detail): "this is not a model file: it starts with text, not a
/// safetensors header". `None` when it loads.
pub fn problem_in_plain_words(bytes: &[u8]) -> Option<String> {
    if bytes.len() < 8 {
        return Some(format!(
            "this is not a model file: it is {} bytes long, too short for a safetensors header",
            bytes.len()
        ));
    }
    if let Some(what) = looks_like(bytes) {
        return Some(format!(
            "this is not a model file: it starts with {what}, not a safetensors header"
        ));
    }
    let n = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
    if n > MAX_HEADER {
        return Some(
            "this is not a model file: its first 8 bytes are not a safetensors header's length"
                .into(),
        );
    }
    let meta = match parse(bytes) {
        Err(_) if 8 + n as usize > bytes.len() => {
            return Some("this model file is cut short: it ends inside its header".into())
        }
        Err(e) if e.to_string().contains("truncated") => {
            return Some("this model file is cut short: its weights are not all there".into())
        }
        Err(_) => {
            return Some("this is not a model file: it is not a readable safetensors file".into())
        }
        Ok((_, meta)) => meta,
    };
    if let Some(json) = meta.as_ref().and_then(|m| m.get("spec")) {
        if let Err(e) = Spec::from_json(json) {
            return Some(format!(
                "this safetensors file describes its architecture in a way this page cannot read: {e}"
            ));
        }
        return match Model::from_safetensors(bytes) {
            Ok(_) => None,
            Err(e) if e.to_string().contains("not finite") => {
                Some("this model has weights that are not numbers (NaN or infinity)".into())
            }
            Err(e) => Some(format!(
                "this file's tensors do not match the architecture it describes ({e})"
            )),
        };
    }
    let arch = meta.as_ref().and_then(|m| m.get("arch"));
    match arch.map(|a| Preset::from_name(a)) {
        None => {
            return Some("this is a safetensors file, but not a model of this page: its metadata does not name slp, mlp or cnn".into())
        }
        Some(Err(_)) => {
            return Some(format!(
                "this is a safetensors file of a model this page does not have ({:?}): it runs slp, mlp and cnn",
                arch.expect("named")
            ))
        }
        Some(Ok(_)) => {}
    }
    match Model::from_safetensors(bytes) {
        Ok(_) => None,
        Err(e) if e.to_string().contains("not finite") => Some(format!(
            "this {} model has weights that are not numbers (NaN or infinity)",
            arch.expect("named")
        )),
        Err(_) => Some(format!(
            "this file says it is the {} model, but its tensors do not match this page's {}",
            arch.expect("named"),
            arch.expect("named")
        )),
    }
}

/// Parses the container, turning the crate's errors into sentences.
fn parse(bytes: &[u8]) -> Result<(SafeTensors<'_>, Option<HashMap<String, String>>)> {
    check_start(bytes)?;
    if bytes.len() < 8 {
        return Err(werr(format!(
            "truncated file: {} bytes, a safetensors file starts with an 8-byte header length",
            bytes.len()
        )));
    }
    let n = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
    if n > 100_000_000 {
        return Err(werr(format!(
            "not a safetensors file: its header length would be {n} bytes"
        )));
    }
    if 8 + n as usize > bytes.len() {
        return Err(werr(format!(
            "truncated file: the header is {n} bytes but only {} follow the length",
            bytes.len() - 8
        )));
    }
    match SafeTensors::read_metadata(bytes) {
        Ok((_, meta)) => {
            let m = meta.metadata().clone();
            let st = SafeTensors::deserialize(bytes).map_err(|e| werr(e.to_string()))?;
            Ok((st, m))
        }
        Err(SafeTensorError::MetadataIncompleteBuffer) => {
            let header: serde_json::Value =
                serde_json::from_slice(&bytes[8..8 + n as usize]).unwrap_or_default();
            let need = header
                .as_object()
                .map(|o| {
                    o.values()
                        .filter_map(|v| v.get("data_offsets")?.get(1)?.as_u64())
                        .max()
                        .unwrap_or(0)
                })
                .unwrap_or(0);
            let have = bytes.len() - 8 - n as usize;
            let what = if (have as u64) < need {
                "truncated file"
            } else {
                "trailing bytes"
            };
            Err(werr(format!(
                "{what}: the tensors need {need} bytes of data after the header, the file has {have}"
            )))
        }
        Err(e) => Err(werr(format!("not a valid safetensors file: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn err(bytes: &[u8]) -> String {
        Model::from_safetensors(bytes).unwrap_err().to_string()
    }

    /// Rebuilds a file from (name, dtype, shape, data) with the given metadata.
    fn build(tensors: &[(String, Dtype, Vec<usize>, Vec<u8>)], arch: Option<&str>) -> Vec<u8> {
        let views: Vec<(String, TensorView)> = tensors
            .iter()
            .map(|(n, d, s, b)| (n.clone(), TensorView::new(*d, s.clone(), b).unwrap()))
            .collect();
        let meta = arch.map(|a| HashMap::from([("arch".to_string(), a.to_string())]));
        safetensors::serialize(views, meta).unwrap()
    }

    fn parts(m: &Model) -> Vec<(String, Dtype, Vec<usize>, Vec<u8>)> {
        let bytes = m.to_safetensors().unwrap();
        let st = SafeTensors::deserialize(&bytes).unwrap();
        let mut v: Vec<_> = st
            .tensors()
            .into_iter()
            .map(|(n, t)| (n, t.dtype(), t.shape().to_vec(), t.data().to_vec()))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    #[test]
    fn round_trips_every_architecture() {
        for arch in Preset::ALL {
            let m = arch.init(11);
            let bytes = m.to_safetensors().unwrap();
            assert_eq!(Model::from_safetensors(&bytes).unwrap(), m);
            let (_, meta) = SafeTensors::read_metadata(&bytes).unwrap();
            assert_eq!(meta.metadata().as_ref().unwrap()["arch"], arch.name());
        }
    }

    /// The value of half-precision bits `h` from the definition, in f64: (−1)^s · 2^(e−15) ·
    /// (1 + m/1024) for normal numbers, 2^−14 · m/1024 for subnormals.
    fn f16_value(h: u16) -> f64 {
        let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
        let (e, m) = (((h >> 10) & 0x1f) as i32, (h & 0x3ff) as f64);
        match e {
            0 => sign * m / 1024.0 * 2f64.powi(-14),
            0x1f if m == 0.0 => sign * f64::INFINITY,
            0x1f => f64::NAN,
            _ => sign * (1.0 + m / 1024.0) * 2f64.powi(e - 15),
        }
    }

    #[test]
    fn f16_conversions_follow_the_definition() {
        // Every f16 converts exactly to f32.
        for h in 0..=u16::MAX {
            let (got, want) = (f16_to_f32(h) as f64, f16_value(h));
            assert!(
                got == want || got.is_nan() && want.is_nan(),
                "{h:#x}: {got} vs {want}"
            );
        }
        // Between two neighbouring positive finite f16 values: just below the midpoint rounds
        // down, just above rounds up, the midpoint itself to the even one; signs mirror.
        for h in 0..0x7bffu16 {
            let (lo, hi) = (f16_value(h), f16_value(h + 1));
            let mid = ((lo + hi) / 2.0) as f32; // exact: f16 midpoints fit in f32
            let even = if h % 2 == 0 { h } else { h + 1 };
            assert_eq!(f32_to_f16(mid), even, "midpoint of {h:#x}");
            assert_eq!(f32_to_f16(-mid), even | 0x8000, "-midpoint of {h:#x}");
            let below = f32::from_bits(mid.to_bits() - 1);
            let above = f32::from_bits(mid.to_bits() + 1);
            assert_eq!(f32_to_f16(below), h, "below the midpoint of {h:#x}");
            assert_eq!(f32_to_f16(above), h + 1, "above the midpoint of {h:#x}");
        }
        // Past the largest finite value (65504) by half an ulp or more: infinity.
        assert_eq!(f32_to_f16(65520.0), 0x7c00);
        assert_eq!(f32_to_f16(65519.0), 0x7bff);
        assert_eq!(f32_to_f16(f32::NEG_INFINITY), 0xfc00);
        assert!(f16_to_f32(f32_to_f16(f32::NAN)).is_nan());
    }

    #[test]
    fn f16_round_trips() {
        for h in 0..=u16::MAX {
            let f = f16_to_f32(h);
            if f.is_nan() {
                assert!(f32_to_f16(f) & 0x7c00 == 0x7c00);
            } else {
                assert_eq!(f32_to_f16(f), h, "{h:#x} = {f}");
            }
        }
        // One f16 ulp at 1 is 4/4096: halfway cases round to even.
        assert_eq!(f32_to_f16(1.0 + 1.0 / 4096.0), 0x3c00);
        assert_eq!(f32_to_f16(1.0 + 2.0 / 4096.0), 0x3c00);
        assert_eq!(f32_to_f16(1.0 + 3.0 / 4096.0), 0x3c01);
        assert_eq!(f32_to_f16(1.0 + 6.0 / 4096.0), 0x3c02);
        assert_eq!(f32_to_f16(1e6), 0x7c00);
        assert_eq!(f32_to_f16(-1e-9), 0x8000);
        let m = Preset::Cnn.init(4);
        let back = Model::from_safetensors(&m.to_safetensors_as(Dtype::F16).unwrap()).unwrap();
        for (a, b) in m.layers.iter().zip(&back.layers) {
            if let (Some((_, wa, _)), Some((_, wb, _))) = (a.params(), b.params()) {
                for (x, y) in wa.data().iter().zip(wb.data()) {
                    assert!((x - y).abs() <= x.abs() / 1024.0 + 1e-7);
                }
            }
        }
    }

    #[test]
    fn says_what_a_file_that_is_not_a_model_looks_like() {
        let cases: &[(&[u8], &str)] = &[
            (
                b"hello, world, this is a text file\n",
                "it starts with text, not a safetensors header",
            ),
            (
                b"{\"arch\": \"slp\", \"weights\": [1, 2]}",
                "it starts with JSON text, not",
            ),
            (b"  <html><body>404</body></html>", "HTML or XML text"),
            (
                b"PK\x03\x04\x14\0\0\0\x08\0archive/data.pkl",
                "a zip archive (PyTorch",
            ),
            (b"\x80\x02\x8a\nl\xfc\x9cF\xf9 j\xa8P", "a Python pickle"),
            (b"\x08\x07\x12\x07pytorch\x1a\x032.1", "an ONNX model"),
            (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "a PNG image"),
            (b"\x1f\x8b\x08\0\0\0\0\0\0\x03", "gzip-compressed data"),
        ];
        for (bytes, want) in cases {
            let plain = problem_in_plain_words(bytes).unwrap();
            assert!(
                plain.starts_with("this is not a model file: it starts with"),
                "{plain}"
            );
            assert!(plain.contains(want), "{plain} / {want}");
            let e = err(bytes);
            assert!(
                e.starts_with("weights error: not a safetensors file: it starts with"),
                "{e}"
            );
            assert!(e.contains("would give a header of"), "{e}");
        }
        // The file: text read as a header length.
        let e = err(b"hello, this is not a model at all");
        assert!(e.contains("8367736964726416744"), "{e}");
        assert!(e.contains("text (\"hello, t\")"), "{e}");
        // Every model of every architecture loads, F32 and F16, and none is called anything.
        for arch in Preset::ALL {
            let m = arch.init(3);
            for dt in [Dtype::F32, Dtype::F16] {
                let b = m.to_safetensors_as(dt).unwrap();
                assert_eq!(looks_like(&b), None);
                assert_eq!(problem_in_plain_words(&b), None);
            }
        }
        // A damaged model file is named for what it is.
        let good = Preset::Slp.init(1).to_safetensors().unwrap();
        let p = problem_in_plain_words(&good[..good.len() - 9]).unwrap();
        assert!(p.contains("cut short"), "{p}");
        assert!(problem_in_plain_words(&good[..5])
            .unwrap()
            .contains("5 bytes long"));
        let p = problem_in_plain_words(&build(&parts(&Preset::Mlp.init(1)), Some("slp"))).unwrap();
        assert!(
            p.contains("says it is the slp model, but its tensors do not match"),
            "{p}"
        );
        let p = problem_in_plain_words(&build(&parts(&Preset::Mlp.init(1)), None)).unwrap();
        assert!(p.contains("does not name slp, mlp or cnn"), "{p}");
    }

    #[test]
    fn rejects_truncated_renamed_reshaped_and_retyped_files() {
        let m = Preset::Mlp.init(1);
        let good = m.to_safetensors().unwrap();
        let e = err(&good[..good.len() - 7]);
        assert!(
            e.contains("truncated file: the tensors need 407080 bytes"),
            "{e}"
        );
        assert!(err(&good[..5]).contains("truncated file: 5 bytes"));
        assert!(err(&good[..40]).contains("truncated file: the header is"));
        let mut extra = good.clone();
        extra.push(0);
        assert!(err(&extra).contains("trailing bytes"));
        assert!(err(b"\x02\0\0\0\0\0\0\0{]").contains("not a valid safetensors file"));

        let p = parts(&m);
        // Renamed: fc2.weight → out.weight.
        let mut r = p.clone();
        r.iter_mut().find(|t| t.0 == "fc2.weight").unwrap().0 = "out.weight".into();
        let e = err(&build(&r, Some("mlp")));
        assert!(
            e.contains("missing tensor fc2.weight (shape [10, 128])"),
            "{e}"
        );
        assert!(e.contains("unexpected tensor out.weight"), "{e}");
        // Reshaped: fc1.weight [128, 784] stored as [784, 128].
        let mut r = p.clone();
        r.iter_mut().find(|t| t.0 == "fc1.weight").unwrap().2 = vec![784, 128];
        let e = err(&build(&r, Some("mlp")));
        assert!(
            e.contains("fc1.weight has shape [784, 128], expected [128, 784]"),
            "{e}"
        );
        // Wrong dtype: fc2.bias as I32.
        let mut r = p.clone();
        r.iter_mut().find(|t| t.0 == "fc2.bias").unwrap().1 = Dtype::I32;
        let e = err(&build(&r, Some("mlp")));
        assert!(
            e.contains("fc2.bias has dtype I32, expected F32 (or F16)"),
            "{e}"
        );
        // Wrong or missing architecture.
        let e = err(&build(&p, Some("cnn")));
        assert!(
            e.contains("architecture cnn") && e.contains("missing tensor conv1.weight"),
            "{e}"
        );
        assert!(err(&build(&p, Some("vgg"))).contains("unknown architecture \"vgg\""));
        let e = err(&build(&p, None));
        assert!(e.contains("no \"spec\"") && e.contains("\"arch\""), "{e}");
        // Non-finite values.
        let mut r = p.clone();
        r.iter_mut().find(|t| t.0 == "fc2.bias").unwrap().3[4..8]
            .copy_from_slice(&f32::NAN.to_le_bytes());
        assert!(err(&build(&r, Some("mlp"))).contains("fc2.bias[1] is NaN"));
    }
}
