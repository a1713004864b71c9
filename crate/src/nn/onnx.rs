//! ONNX model files in and out: [`import`] reads a model as `torch.onnx.export` writes it into a
//! [`Spec`] and its tensors (PyTorch `state_dict` names), [`export`] writes a spec and its tensors
//! as an ONNX model that onnxruntime runs.
//!
//! The protobuf is decoded by `prost` into hand-declared messages (`onnx/proto.rs`, no protoc);
//! everything after that is checked here. The graph must be one chain of layers (plus residual
//! `Add`s of an earlier activation) from one `[1, C, H, W]` float input the page can draw to one
//! output (nodes are put in dependency order; a cycle or a value nobody computes is an error).
//! Every operator must map onto a [`LayerSpec`] kind or fold away: `Dropout`, `Identity`, `Cast`
//! to float, `Constant`, `Transpose` of a weight, integer shape arithmetic (`Shape`, `Gather`,
//! `Unsqueeze`, `Squeeze`, `Concat`: the `x.view(x.size(0), -1)` chain), and reshapes, which
//! may pass through shapes no layer has as long as they end in a flatten to `[1, N]`. A
//! `MatMul` followed by an `Add` of a bias is one linear layer, a `ReduceMean` over height and
//! width a global average pool. Every tensor's declared size is checked against its data and
//! [`MAX_TENSOR_BYTES`] before anything is allocated for it. A file that does not fit gets an
//! error naming the node (its name and operator) and why; no bytes make it panic.
//!
//! Export writes what onnxruntime computes as PyTorch does, with two caveats: a ConvTranspose
//! with `output_padding ≥ stride` (PyTorch allows it up to the dilation) is refused, as
//! onnxruntime refuses it; `ceil_mode` is written only where it adds a window PyTorch keeps
//! (where it adds one PyTorch drops, ONNX's shape inference would count it, onnxruntime not).

mod proto;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::rc::Rc;

use prost::Message;

use super::spec::{LayerSpec, Pad4, Size2, Spec, MAX_LAYERS, MAX_PARAMS};
use crate::conv::Pool2dParams;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use proto::{
    attr_type, data_type, AttributeProto, DimValue, Dimension, GraphProto, ModelProto, NodeProto,
    OperatorSetIdProto, TensorProto, TensorShapeProto, TypeProto, TypeProtoTensor, ValueInfoProto,
};

/// Largest tensor (initializer or constant) an ONNX file may hold: 64 MiB of data.
pub const MAX_TENSOR_BYTES: usize = 64 << 20;

/// The operators [`import`] reads, for messages.
const OPS: &str = "Conv, ConvTranspose, MaxPool, AveragePool, GlobalAveragePool, Relu, LeakyRelu, \
Sigmoid, Tanh, Gemm, MatMul (+ Add of a bias), Flatten, Reshape (a flatten), BatchNormalization, \
Softmax, LogSoftmax, Add (residual), Dropout, Identity, Constant, Shape, Gather, Unsqueeze, Concat, \
Transpose (of a 2-D weight), Squeeze (a flatten), ReduceMean (over height and width), Cast (to \
float)";

/// The opset and IR version [`export`] writes.
const EXPORT_OPSET: i64 = 17;
const EXPORT_IR_VERSION: i64 = 8;

fn onnx_err(msg: impl std::fmt::Display) -> Error {
    Error::Weights(format!("ONNX model: {msg}"))
}

// ---------------------------------------------------------------------------------------------
// Import
// ---------------------------------------------------------------------------------------------

/// Reads an ONNX model (as `torch.onnx.export` writes it, opset 13–21) into a [`Spec`] and its
/// tensors named as a PyTorch `state_dict` (`conv1.weight`, `conv1.bias`, `bn1.running_mean`, …).
/// Layers take their names from the initializers' (`features.0.weight` → `features.0`); layers
/// whose initializers have generated names (`onnx::Conv_12`) are named by kind and count
/// (`conv1`, `deconv1`, `fc1`, `bn1`).
pub fn import(bytes: &[u8]) -> Result<(Spec, BTreeMap<String, Tensor>)> {
    let model = ModelProto::decode(bytes).map_err(|e| {
        onnx_err(format!(
            "not a readable ONNX file: the protobuf does not decode ({e})"
        ))
    })?;
    if model.ir_version < 3 {
        return Err(onnx_err(format!(
            "ir_version {} is not an ONNX model's (3 or more); is this an ONNX file?",
            model.ir_version
        )));
    }
    let opset = model
        .opset_import
        .iter()
        .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
        .map(|o| o.version)
        .ok_or_else(|| onnx_err("the model imports no opset of the default ONNX domain"))?;
    if opset < 7 {
        return Err(onnx_err(format!(
            "opset {opset} is too old; export with opset 13 or newer"
        )));
    }
    let graph = model
        .graph
        .as_ref()
        .ok_or_else(|| onnx_err("the file holds no graph"))?;
    Importer::new(graph, opset)?.run()
}

/// A constant's values: floats for weights, integers for shapes and indices.
#[derive(Debug, Clone)]
enum Data {
    F32(Vec<f32>),
    I64(Vec<i64>),
}

#[derive(Debug, Clone)]
struct Const {
    dims: Vec<usize>,
    data: Data,
    /// The initializer's name (empty for computed constants), to name layers and messages.
    name: String,
}

impl Const {
    fn ints(&self) -> Option<&[i64]> {
        match &self.data {
            Data::I64(v) => Some(v),
            Data::F32(_) => None,
        }
    }
}

/// What a graph value is while the graph is walked.
#[derive(Debug, Clone)]
enum Val {
    /// Activation `k` of the layer chain (0 = the input, `k` = output of layer `k − 1`).
    Act(usize),
    /// Activation `k` reshaped (by Reshape or Squeeze) to `dims` (batch included), which no
    /// layer represents: only a further reshape to `[1, N]` (a flatten) may read it.
    View(usize, Vec<usize>),
    Const(Rc<Const>),
}

/// One layer found, before naming.
struct Found {
    spec: LayerSpec,
    /// The name its initializers suggest (`conv1` from `conv1.weight`).
    derived: Option<String>,
    /// Tensors by suffix (`weight`, `bias`, `running_mean`, `running_var`).
    tensors: Vec<(&'static str, Tensor)>,
    /// A MatMul's linear layer waiting for the Add of its bias.
    from_matmul: bool,
}

struct Importer<'a> {
    graph: &'a GraphProto,
    opset: i64,
    inits: HashMap<&'a str, &'a TensorProto>,
    vals: HashMap<String, Val>,
    /// How many node inputs and graph outputs read each value.
    uses: HashMap<&'a str, usize>,
    /// Activation shapes without the batch: `shapes[0]` the input.
    shapes: Vec<Vec<usize>>,
    layers: Vec<Found>,
    params: usize,
    input: [usize; 3],
}

/// Where in the graph a message is about.
struct At<'n> {
    node: &'n NodeProto,
    index: usize,
}

impl At<'_> {
    fn err(&self, why: impl std::fmt::Display) -> Error {
        let n = self.node;
        if n.name.is_empty() {
            onnx_err(format!("node #{} ({}): {why}", self.index, n.op_type))
        } else {
            onnx_err(format!("node '{}' ({}): {why}", n.name, n.op_type))
        }
    }

    fn attr(&self, name: &str) -> Option<&AttributeProto> {
        self.node.attribute.iter().find(|a| a.name == name)
    }

    fn int(&self, name: &str, default: i64) -> Result<i64> {
        match self.attr(name) {
            None => Ok(default),
            Some(a) if a.r#type == attr_type::INT || a.r#type == 0 => Ok(a.i),
            Some(_) => Err(self.err(format!("attribute {name} must be an integer"))),
        }
    }

    fn float(&self, name: &str, default: f32) -> Result<f32> {
        match self.attr(name) {
            None => Ok(default),
            Some(a) if a.r#type == attr_type::FLOAT || a.r#type == 0 => Ok(a.f),
            Some(_) => Err(self.err(format!("attribute {name} must be a float"))),
        }
    }

    fn ints(&self, name: &str) -> Result<Option<&[i64]>> {
        match self.attr(name) {
            None => Ok(None),
            Some(a) if a.r#type == attr_type::INTS || a.r#type == 0 => Ok(Some(&a.ints)),
            Some(_) => Err(self.err(format!("attribute {name} must be a list of integers"))),
        }
    }

    fn string(&self, name: &str, default: &str) -> Result<String> {
        match self.attr(name) {
            None => Ok(default.to_string()),
            Some(a) if a.r#type == attr_type::STRING || a.r#type == 0 => {
                Ok(String::from_utf8_lossy(&a.s).into_owned())
            }
            Some(_) => Err(self.err(format!("attribute {name} must be a string"))),
        }
    }

    /// A 0/1 flag attribute.
    fn flag(&self, name: &str, default: bool) -> Result<bool> {
        match self.int(name, default as i64)? {
            0 => Ok(false),
            1 => Ok(true),
            v => Err(self.err(format!("attribute {name} = {v} must be 0 or 1"))),
        }
    }

    /// A pair `[h, w]` of sizes ≥ `min` (strides, dilations, kernel shape).
    fn pair(&self, name: &str, default: usize, min: usize) -> Result<[usize; 2]> {
        let Some(v) = self.ints(name)? else {
            return Ok([default, default]);
        };
        if v.len() != 2 {
            return Err(self.err(format!(
                "attribute {name} = {v:?} must have 2 values (a 2-D operation), got {}",
                v.len()
            )));
        }
        Ok([self.size(name, v[0], min)?, self.size(name, v[1], min)?])
    }

    /// `v` as a size from `min` to 4096.
    fn size(&self, what: &str, v: i64, min: usize) -> Result<usize> {
        match usize::try_from(v) {
            Ok(u) if u >= min && u <= 1 << 12 => Ok(u),
            _ => Err(self.err(format!("{what} value {v} is out of range ({min} to 4096)"))),
        }
    }

    /// The explicit `pads` attribute as `[top, left, bottom, right]`.
    fn pads(&self) -> Result<[usize; 4]> {
        let Some(v) = self.ints("pads")? else {
            return Ok([0; 4]);
        };
        if v.len() != 4 {
            return Err(self.err(format!(
                "attribute pads = {v:?} must have 4 values (a 2-D operation), got {}",
                v.len()
            )));
        }
        let mut p = [0; 4];
        for (o, &x) in p.iter_mut().zip(v) {
            *o = self.size("pads", x, 0)?;
        }
        Ok(p)
    }

    /// The padding of a window operation (Conv, pools), `auto_pad` resolved to explicit pads:
    /// SAME_* pads so that the output is ⌈input / stride⌉, the odd cell at the end (UPPER) or
    /// at the start (LOWER).
    fn window_pads(
        &self,
        input: [usize; 2],
        kernel: [usize; 2],
        stride: [usize; 2],
        dilation: [usize; 2],
    ) -> Result<[usize; 4]> {
        let mode = self.string("auto_pad", "NOTSET")?;
        match mode.as_str() {
            "NOTSET" | "" => self.pads(),
            "VALID" => Ok([0; 4]),
            "SAME_UPPER" | "SAME_LOWER" => {
                let mut p = [0; 4];
                for a in 0..2 {
                    let out = input[a].div_ceil(stride[a]);
                    let reach = dilation[a]
                        .saturating_mul(kernel[a].saturating_sub(1))
                        .saturating_add(1);
                    let total = out
                        .saturating_sub(1)
                        .saturating_mul(stride[a])
                        .saturating_add(reach)
                        .saturating_sub(input[a]);
                    let (small, big) = (total / 2, total - total / 2);
                    (p[a], p[a + 2]) = if mode == "SAME_UPPER" {
                        (small, big)
                    } else {
                        (big, small)
                    };
                }
                Ok(p)
            }
            m => Err(self.err(format!(
                "auto_pad = {m:?} is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER"
            ))),
        }
    }

    /// Fails when any output past the first (a mask, indices, running statistics) is read.
    fn only_first_output(&self, uses: &HashMap<&str, usize>) -> Result<()> {
        for o in self.node.output.iter().skip(1) {
            if !o.is_empty() && uses.get(o.as_str()).copied().unwrap_or(0) > 0 {
                return Err(self.err(format!(
                    "its extra output '{o}' is used; only the first output is supported"
                )));
            }
        }
        Ok(())
    }
}

fn dims_str(d: &[usize]) -> String {
    format!("{d:?}")
}

/// The element count of `dims`, or `None` past `limit`.
fn numel_within(dims: &[usize], limit: usize) -> Option<usize> {
    dims.iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .filter(|&n| n <= limit)
}

/// Decodes a tensor's values, checking its declared size against its data and
/// [`MAX_TENSOR_BYTES`] before allocating anything.
fn tensor_value(t: &TensorProto) -> std::result::Result<Const, String> {
    if t.data_location == 1 {
        return Err(
            "its data is in an external file, which the page cannot read; save the \
                    model with its weights inside (onnx.save(model, path, \
                    save_as_external_data=False))"
                .into(),
        );
    }
    if t.dims.len() > 8 {
        return Err(format!("it has {} dimensions (at most 8)", t.dims.len()));
    }
    let mut dims = Vec::with_capacity(t.dims.len());
    for &d in &t.dims {
        if d < 0 {
            return Err(format!("dimension {d} is negative"));
        }
        // Too large for this machine's sizes (wasm's are 32-bit): larger than any tensor we take.
        dims.push(usize::try_from(d).map_err(|_| {
            format!(
                "dimension {d} makes it larger than the {} MiB a tensor may have",
                MAX_TENSOR_BYTES >> 20
            )
        })?);
    }
    let size = match t.data_type {
        data_type::FLOAT | data_type::INT32 => 4,
        data_type::DOUBLE | data_type::INT64 => 8,
        data_type::FLOAT16 | data_type::BFLOAT16 => 2,
        other => {
            return Err(format!(
                "it has type {}; only FLOAT (or FLOAT16, BFLOAT16, DOUBLE) weights and \
                 INT64/INT32 shapes are supported",
                data_type::name(other)
            ))
        }
    };
    let too_big = || {
        format!(
            "its shape {:?} is larger than the {} MiB a tensor may hold",
            t.dims,
            MAX_TENSOR_BYTES >> 20
        )
    };
    let n = numel_within(&dims, MAX_TENSOR_BYTES / size).ok_or_else(too_big)?;
    let mismatch = |held: usize| {
        format!(
            "its shape {:?} needs {n} values but it holds {held}",
            t.dims
        )
    };
    let raw = &t.raw_data;
    let use_raw = !raw.is_empty();
    if use_raw && raw.len() != n * size {
        return Err(format!(
            "its shape {:?} needs {} bytes of {} but raw_data has {}",
            t.dims,
            n * size,
            data_type::name(t.data_type),
            raw.len()
        ));
    }
    let chunks = |w: usize| raw.chunks_exact(w);
    let data = match t.data_type {
        data_type::FLOAT if use_raw => Data::F32(
            chunks(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        ),
        data_type::FLOAT if t.float_data.len() == n => Data::F32(t.float_data.clone()),
        data_type::FLOAT => return Err(mismatch(t.float_data.len())),
        data_type::DOUBLE if use_raw => Data::F32(
            chunks(8)
                .map(|c| {
                    let mut b = [0u8; 8];
                    b.copy_from_slice(c);
                    f64::from_le_bytes(b) as f32
                })
                .collect(),
        ),
        data_type::DOUBLE if t.double_data.len() == n => {
            Data::F32(t.double_data.iter().map(|&v| v as f32).collect())
        }
        data_type::DOUBLE => return Err(mismatch(t.double_data.len())),
        data_type::FLOAT16 | data_type::BFLOAT16 => {
            let half = |bits: u16| {
                if t.data_type == data_type::FLOAT16 {
                    half::f16::from_bits(bits).to_f32()
                } else {
                    half::bf16::from_bits(bits).to_f32()
                }
            };
            if use_raw {
                Data::F32(
                    chunks(2)
                        .map(|c| half(u16::from_le_bytes([c[0], c[1]])))
                        .collect(),
                )
            } else if t.int32_data.len() == n {
                Data::F32(t.int32_data.iter().map(|&v| half(v as u16)).collect())
            } else {
                return Err(mismatch(t.int32_data.len()));
            }
        }
        data_type::INT64 if use_raw => Data::I64(
            chunks(8)
                .map(|c| {
                    let mut b = [0u8; 8];
                    b.copy_from_slice(c);
                    i64::from_le_bytes(b)
                })
                .collect(),
        ),
        data_type::INT64 if t.int64_data.len() == n => Data::I64(t.int64_data.clone()),
        data_type::INT64 => return Err(mismatch(t.int64_data.len())),
        _ if use_raw => Data::I64(
            chunks(4)
                .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as i64)
                .collect(),
        ),
        _ if t.int32_data.len() == n => Data::I64(t.int32_data.iter().map(|&v| v as i64).collect()),
        _ => return Err(mismatch(t.int32_data.len())),
    };
    Ok(Const {
        dims,
        data,
        name: t.name.clone(),
    })
}

/// `conv1.weight` → `conv1`: a layer name from an initializer's, unless the exporter made
/// the name up (`onnx::Conv_12`).
fn name_prefix(name: &str, suffix: &str) -> Option<String> {
    let p = name.strip_suffix(suffix)?;
    let ok = !p.is_empty()
        && !p.contains("::")
        && !p.starts_with('/')
        && p.chars().all(|c| !c.is_whitespace() && !c.is_control());
    ok.then(|| p.to_string())
}

impl<'a> Importer<'a> {
    fn new(graph: &'a GraphProto, opset: i64) -> Result<Importer<'a>> {
        let mut inits = HashMap::new();
        for t in &graph.initializer {
            if inits.insert(t.name.as_str(), t).is_some() {
                return Err(onnx_err(format!("two initializers are named '{}'", t.name)));
            }
        }
        let mut uses: HashMap<&str, usize> = HashMap::new();
        for n in &graph.node {
            for i in n.input.iter().filter(|i| !i.is_empty()) {
                *uses.entry(i.as_str()).or_default() += 1;
            }
        }
        for o in &graph.output {
            *uses.entry(o.name.as_str()).or_default() += 1;
        }
        Ok(Importer {
            graph,
            opset,
            inits,
            vals: HashMap::new(),
            uses,
            shapes: Vec::new(),
            layers: Vec::new(),
            params: 0,
            input: [0; 3],
        })
    }

    fn run(mut self) -> Result<(Spec, BTreeMap<String, Tensor>)> {
        self.read_input()?;
        let order = self.order()?;
        let g = self.graph;
        for i in order {
            let at = At {
                node: &g.node[i],
                index: i,
            };
            self.node(&at)?;
        }
        self.finish()
    }

    /// The one graph input that is not an initializer: a float `[1, C, H, W]` the page can draw.
    fn read_input(&mut self) -> Result<()> {
        let g = self.graph;
        let inputs: Vec<&ValueInfoProto> = g
            .input
            .iter()
            .filter(|v| !self.inits.contains_key(v.name.as_str()))
            .collect();
        if inputs.len() != 1 {
            let names: Vec<&str> = inputs.iter().map(|v| v.name.as_str()).collect();
            return Err(onnx_err(format!(
                "the graph has {} inputs ({names:?}); convscope runs models with exactly one \
                 image input",
                inputs.len()
            )));
        }
        if g.output.len() != 1 {
            let names: Vec<&str> = g.output.iter().map(|v| v.name.as_str()).collect();
            return Err(onnx_err(format!(
                "the graph has {} outputs ({names:?}); convscope runs models with exactly one \
                 output",
                g.output.len()
            )));
        }
        let v = inputs[0];
        let bad = |why: String| onnx_err(format!("input '{}' {why}", v.name));
        let t = v
            .r#type
            .as_ref()
            .and_then(|t| t.tensor_type.as_ref())
            .ok_or_else(|| bad("is not a tensor".into()))?;
        if t.elem_type != data_type::FLOAT {
            return Err(bad(format!(
                "has type {}; the image input must be FLOAT",
                data_type::name(t.elem_type)
            )));
        }
        let dims: Vec<Option<i64>> = t
            .shape
            .as_ref()
            .ok_or_else(|| bad("has no shape; it must be [1, C, H, W]".into()))?
            .dim
            .iter()
            .map(|d| match d.value {
                Some(DimValue::Value(v)) if v > 0 => Some(v),
                _ => None,
            })
            .collect();
        let shown: Vec<String> = dims
            .iter()
            .map(|d| d.map_or("?".into(), |v| v.to_string()))
            .collect();
        let shown = format!("[{}]", shown.join(", "));
        let [batch, c, h, w] = dims[..] else {
            return Err(bad(format!(
                "has shape {shown}; the image input must be [1, C, H, W] (batch, channels, \
                 height, width)"
            )));
        };
        if batch.is_some_and(|b| b != 1) {
            return Err(bad(format!(
                "has batch size {} ({shown}); it must be 1 or a named (dynamic) size",
                batch.unwrap_or(0)
            )));
        }
        let (Some(c), Some(h), Some(w)) = (c, h, w) else {
            return Err(bad(format!(
                "has shape {shown}; channels, height and width must be fixed numbers"
            )));
        };
        let side = |v: i64| usize::try_from(v).unwrap_or(usize::MAX).min(1 << 20);
        let input = [side(c), side(h), side(w)];
        Spec {
            input,
            layers: vec![LayerSpec::Relu],
        }
        .check_input()
        .map_err(|e| {
            bad(format!(
                "has shape {shown}, which the page cannot draw: {e}"
            ))
        })?;
        self.input = input;
        self.shapes.push(input.to_vec());
        self.vals.insert(v.name.clone(), Val::Act(0));
        Ok(())
    }

    /// The nodes in an order where every value is computed before it is read (ONNX asks for
    /// it, this checks it): an input nobody computes or a cycle is an error.
    fn order(&self) -> Result<Vec<usize>> {
        let g = self.graph;
        let mut producer: HashMap<&str, usize> = HashMap::new();
        for (i, n) in g.node.iter().enumerate() {
            let at = At { node: n, index: i };
            for o in n.output.iter().filter(|o| !o.is_empty()) {
                if self.inits.contains_key(o.as_str()) || self.vals.contains_key(o) {
                    return Err(at.err(format!(
                        "its output '{o}' has the name of an initializer or of the input"
                    )));
                }
                if producer.insert(o.as_str(), i).is_some() {
                    return Err(at.err(format!("its output '{o}' is computed by two nodes")));
                }
            }
        }
        let mut waiting = vec![0usize; g.node.len()];
        let mut readers: Vec<Vec<usize>> = vec![Vec::new(); g.node.len()];
        for (i, n) in g.node.iter().enumerate() {
            let at = At { node: n, index: i };
            for name in n.input.iter().filter(|s| !s.is_empty()) {
                if let Some(&p) = producer.get(name.as_str()) {
                    waiting[i] += 1;
                    readers[p].push(i);
                } else if !self.inits.contains_key(name.as_str()) && !self.vals.contains_key(name) {
                    return Err(at.err(format!(
                        "it reads '{name}', which is not the graph's input, not an initializer \
                         and not computed by any node (a missing initializer?)"
                    )));
                }
            }
        }
        // Kahn's algorithm, taking the ready node that comes first in the file.
        let mut ready: std::collections::BTreeSet<usize> =
            (0..g.node.len()).filter(|&i| waiting[i] == 0).collect();
        let mut order = Vec::with_capacity(g.node.len());
        while let Some(i) = ready.pop_first() {
            order.push(i);
            for &r in &readers[i] {
                waiting[r] -= 1;
                if waiting[r] == 0 {
                    ready.insert(r);
                }
            }
        }
        if let Some(i) = (0..g.node.len()).find(|&i| waiting[i] > 0) {
            let at = At {
                node: &g.node[i],
                index: i,
            };
            return Err(at.err(
                "it is part of a cycle (it reads, through other nodes, its own output); a model \
                 must be a graph without cycles",
            ));
        }
        Ok(order)
    }

    fn latest(&self) -> usize {
        self.shapes.len() - 1
    }

    fn shape(&self, k: usize) -> &[usize] {
        &self.shapes[k]
    }

    /// The value of input `i` of the node (`None` when the optional input is left out).
    fn val(&mut self, at: &At, i: usize) -> Result<Option<Val>> {
        let Some(name) = at.node.input.get(i).filter(|s| !s.is_empty()) else {
            return Ok(None);
        };
        if let Some(v) = self.vals.get(name) {
            return Ok(Some(v.clone()));
        }
        let t = self
            .inits
            .get(name.as_str())
            .ok_or_else(|| at.err(format!("its input '{name}' is not computed before it")))?;
        let c = Rc::new(tensor_value(t).map_err(|e| at.err(format!("initializer '{name}': {e}")))?);
        self.vals.insert(name.clone(), Val::Const(c.clone()));
        Ok(Some(Val::Const(c)))
    }

    fn input_name<'n>(&self, at: &At<'n>, i: usize) -> &'n str {
        at.node.input.get(i).map_or("", |s| s.as_str())
    }

    /// Input `i`, which must be the latest activation of the chain.
    fn act(&mut self, at: &At, i: usize) -> Result<usize> {
        match self.val(at, i)? {
            Some(Val::Act(k)) if k == self.latest() => Ok(k),
            Some(Val::Act(_)) => Err(at.err(format!(
                "it reads '{}', an earlier activation than the latest one; convscope runs \
                 models that are one chain of layers (plus residual Adds)",
                self.input_name(at, i)
            ))),
            Some(Val::Const(_)) => Err(at.err(format!(
                "its input '{}' is a constant; it must be the image's activation",
                self.input_name(at, i)
            ))),
            Some(Val::View(_, dims)) => Err(self.view_err(at, i, &dims)),
            None => Err(at.err(format!("input {i} is missing"))),
        }
    }

    fn view_err(&self, at: &At, i: usize, dims: &[usize]) -> Error {
        let n: usize = dims.iter().product();
        at.err(format!(
            "it reads '{}', an activation reshaped to {}; only reshapes that end in a flatten \
             to [1, {n}] are supported",
            self.input_name(at, i),
            dims_str(dims)
        ))
    }

    /// Input `i` as an activation (the latest or any earlier one) or a view of one: its
    /// index and its shape with the batch.
    fn view_of(&mut self, at: &At, i: usize) -> Result<(usize, Vec<usize>)> {
        match self.val(at, i)? {
            Some(Val::Act(k)) => {
                let mut full = vec![1usize];
                full.extend_from_slice(self.shape(k));
                Ok((k, full))
            }
            Some(Val::View(k, dims)) => Ok((k, dims)),
            Some(Val::Const(_)) => Err(at.err(format!(
                "its input '{}' is a constant; it must be the image's activation",
                self.input_name(at, i)
            ))),
            None => Err(at.err(format!("input {i} is missing"))),
        }
    }

    /// The node's output is activation `k` seen as `dims` (batch included, same count): the
    /// activation itself, a flatten layer, or a view for a later reshape to flatten.
    fn reshaped(&mut self, at: &At, k: usize, dims: Vec<usize>) -> Result<()> {
        let numel: usize = dims.iter().product();
        if dims.len() == self.shape(k).len() + 1 && dims[0] == 1 && dims[1..] == *self.shape(k) {
            self.set(at, Val::Act(k))
        } else if dims == [1, numel] {
            if k != self.latest() {
                return Err(at.err(
                    "it flattens an earlier activation than the latest one; convscope runs \
                     models that are one chain of layers (plus residual Adds)",
                ));
            }
            self.push(at, LayerSpec::Flatten, None, Vec::new())
        } else {
            self.set(at, Val::View(k, dims))
        }
    }

    /// Input `i`, which must be a constant (an initializer or a Constant node's output).
    fn konst(&mut self, at: &At, i: usize, what: &str) -> Result<Option<Rc<Const>>> {
        match self.val(at, i)? {
            None => Ok(None),
            Some(Val::Const(c)) => Ok(Some(c)),
            Some(Val::Act(_) | Val::View(..)) => Err(at.err(format!(
                "its {what} '{}' is computed from the image; it must be a constant",
                self.input_name(at, i)
            ))),
        }
    }

    fn need_konst(&mut self, at: &At, i: usize, what: &str) -> Result<Rc<Const>> {
        self.konst(at, i, what)?
            .ok_or_else(|| at.err(format!("its {what} (input {i}) is missing")))
    }

    fn set(&mut self, at: &At, val: Val) -> Result<()> {
        let Some(o) = at.node.output.first().filter(|o| !o.is_empty()) else {
            return Err(at.err("it has no output"));
        };
        self.vals.insert(o.clone(), val);
        Ok(())
    }

    /// Appends a layer reading the latest activation; its output becomes the node's output.
    fn push(
        &mut self,
        at: &At,
        spec: LayerSpec,
        derived: Option<String>,
        tensors: Vec<(&'static str, Tensor)>,
    ) -> Result<()> {
        if self.layers.len() >= MAX_LAYERS {
            return Err(at.err(format!(
                "the model has more than {MAX_LAYERS} layers, the most the page runs"
            )));
        }
        let out = super::output_shape(&spec, &self.shapes).map_err(|e| at.err(e))?;
        let want = tensor_shapes(&spec, self.shape(self.latest()));
        for ((suffix, t), (s2, dims)) in tensors.iter().zip(&want) {
            if suffix != s2 || t.shape() != &dims[..] {
                return Err(at.err(format!(
                    "its {suffix} has shape {}, expected {} for this layer",
                    dims_str(t.shape()),
                    dims_str(dims)
                )));
            }
        }
        self.params = tensors
            .iter()
            .map(|(_, t)| t.len())
            .fold(self.params, usize::saturating_add);
        if self.params > MAX_PARAMS {
            return Err(at.err(format!(
                "the model has more than {MAX_PARAMS} parameters, the most the page runs"
            )));
        }
        self.layers.push(Found {
            spec,
            derived,
            tensors,
            from_matmul: false,
        });
        self.shapes.push(out);
        let k = self.latest();
        self.set(at, Val::Act(k))
    }

    /// The image `[C, H, W]` a 2-D operation reads (the latest activation).
    fn image(&mut self, at: &At) -> Result<[usize; 3]> {
        let k = self.act(at, 0)?;
        match self.shape(k)[..] {
            [c, h, w] => Ok([c, h, w]),
            ref s => Err(at.err(format!(
                "it needs an image [C, H, W] (with the batch [1, C, H, W]), got an activation \
                 of shape {}",
                dims_str(s)
            ))),
        }
    }

    fn node(&mut self, at: &At) -> Result<()> {
        let n = at.node;
        if !(n.domain.is_empty() || n.domain == "ai.onnx") {
            return Err(at.err(format!(
                "operator domain '{}' is not supported (only the default ONNX operators: {OPS})",
                n.domain
            )));
        }
        // One input, no tensors.
        let simple = match n.op_type.as_str() {
            "Relu" => Some(LayerSpec::Relu),
            "Sigmoid" => Some(LayerSpec::Sigmoid),
            "Tanh" => Some(LayerSpec::Tanh),
            "LeakyRelu" => Some(LayerSpec::LeakyRelu {
                negative_slope: at.float("alpha", 0.01)?,
            }),
            "GlobalAveragePool" => {
                self.image(at)?;
                Some(LayerSpec::GlobalAvgPool)
            }
            _ => None,
        };
        if let Some(spec) = simple {
            self.act(at, 0)?;
            return self.push(at, spec, None, Vec::new());
        }
        match n.op_type.as_str() {
            "Conv" => self.conv(at, false),
            "ConvTranspose" => self.conv(at, true),
            "MaxPool" | "AveragePool" => self.pool(at),
            "Gemm" => self.gemm(at),
            "MatMul" => self.matmul(at),
            "Add" => self.add(at),
            "BatchNormalization" => self.batchnorm(at),
            "Flatten" if matches!(self.val(at, 0)?, Some(Val::View(..))) => {
                let (k, full) = self.view_of(at, 0)?;
                if at.int("axis", 1)? != 1 {
                    return Err(at.err("only a flatten after the batch axis (axis 1) is supported"));
                }
                let n = full.iter().product();
                self.reshaped(at, k, vec![1, n])
            }
            "Flatten" => {
                let k = self.act(at, 0)?;
                let rank = self.shape(k).len() as i64 + 1;
                let axis = at.int("axis", 1)?;
                if axis != 1 && axis != 1 - rank {
                    return Err(at.err(format!(
                        "axis = {axis}; only a flatten after the batch axis (axis 1) is supported"
                    )));
                }
                self.push(at, LayerSpec::Flatten, None, Vec::new())
            }
            "Reshape" => self.reshape(at),
            "Softmax" | "LogSoftmax" => {
                let k = self.act(at, 0)?;
                let rank = self.shape(k).len() as i64 + 1;
                let default = if self.opset < 13 { 1 } else { -1 };
                let axis = at.int("axis", default)?;
                let axis = if axis < 0 { axis + rank } else { axis };
                let ok = axis == 1 && (rank == 2 || self.opset >= 13);
                if !ok {
                    return Err(at.err(format!(
                        "it is taken along axis {} of a rank-{rank} tensor (opset {}); only \
                         along the channels/features (axis 1: a vector, or the channels of an \
                         image from opset 13 on) is supported",
                        at.int("axis", default)?,
                        self.opset
                    )));
                }
                let spec = if n.op_type == "Softmax" {
                    LayerSpec::Softmax
                } else {
                    LayerSpec::LogSoftmax
                };
                self.push(at, spec, None, Vec::new())
            }
            "Dropout" | "Identity" => {
                at.only_first_output(&self.uses)?;
                let v = self
                    .val(at, 0)?
                    .ok_or_else(|| at.err("its input is missing"))?;
                self.set(at, v)
            }
            "Constant" => self.constant(at),
            "Shape" => self.shape_op(at),
            "Gather" => self.gather(at),
            "Unsqueeze" => self.unsqueeze(at),
            "Concat" => self.concat(at),
            "Transpose" => self.transpose_op(at),
            "Squeeze" => self.squeeze(at),
            "ReduceMean" => self.reduce_mean(at),
            "Cast" => self.cast(at),
            op => Err(at.err(format!(
                "operator {op} is not supported (convscope reads {OPS})"
            ))),
        }
    }

    fn conv(&mut self, at: &At, transposed: bool) -> Result<()> {
        let [c, h, w] = self.image(at)?;
        let wc = self.need_konst(at, 1, "weight")?;
        let [a, b, kh, kw] = wc.dims[..] else {
            return Err(at.err(format!(
                "its weight '{}' has shape {}; a 2-D convolution's has 4 dimensions",
                wc.name,
                dims_str(&wc.dims)
            )));
        };
        let groups = {
            let g = at.int("group", 1)?;
            at.size("group", g, 1)?
        };
        let kernel = [kh, kw];
        if let Some(ks) = at.ints("kernel_shape")? {
            let ks: Vec<usize> = ks.iter().map(|&v| v.max(0) as usize).collect();
            if ks != kernel {
                return Err(at.err(format!(
                    "kernel_shape {ks:?} does not match its weight's {kernel:?}"
                )));
            }
        }
        let stride = at.pair("strides", 1, 1)?;
        let dilation = at.pair("dilations", 1, 1)?;
        if kh == 0 || kw == 0 {
            return Err(at.err("its kernel has a zero size"));
        }
        let out_channels = if transposed {
            if a != c {
                return Err(at.err(format!(
                    "its weight '{}' has shape {} ([in, out/groups, kH, kW]) but its input has \
                     {c} channels",
                    wc.name,
                    dims_str(&wc.dims)
                )));
            }
            b.saturating_mul(groups)
        } else {
            if b.checked_mul(groups) != Some(c) {
                return Err(at.err(format!(
                    "its weight '{}' has shape {} ([out, in/groups, kH, kW], groups {groups}) \
                     but its input has {c} channels",
                    wc.name,
                    dims_str(&wc.dims)
                )));
            }
            a
        };
        let padding = if transposed {
            if at.attr("output_shape").is_some() {
                return Err(
                    at.err("attribute output_shape is not supported; give pads and output_padding")
                );
            }
            let output_padding = at.pair("output_padding", 0, 0)?;
            let mode = at.string("auto_pad", "NOTSET")?;
            if mode == "SAME_UPPER" || mode == "SAME_LOWER" {
                let mut p = [0; 4];
                for (ax, input) in [h, w].into_iter().enumerate() {
                    let full = stride[ax]
                        .saturating_mul(input.saturating_sub(1))
                        .saturating_add(output_padding[ax])
                        .saturating_add(dilation[ax].saturating_mul(kernel[ax] - 1))
                        .saturating_add(1);
                    let total = full
                        .checked_sub(input.saturating_mul(stride[ax]))
                        .ok_or_else(|| {
                            at.err("auto_pad SAME needs negative padding here; give explicit pads")
                        })?;
                    let (small, big) = (total / 2, total - total / 2);
                    (p[ax], p[ax + 2]) = if mode == "SAME_UPPER" {
                        (small, big)
                    } else {
                        (big, small)
                    };
                }
                p
            } else if mode == "VALID" {
                [0; 4]
            } else if mode == "NOTSET" || mode.is_empty() {
                at.pads()?
            } else {
                return Err(at.err(format!(
                    "auto_pad = {mode:?} is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER"
                )));
            }
        } else {
            at.window_pads([h, w], kernel, stride, dilation)?
        };
        let weight = float_tensor(at, &wc, "weight", &wc.dims)?;
        let bias = match self.konst(at, 2, "bias")? {
            Some(bc) => Some((
                bc.name.clone(),
                float_tensor(at, &bc, "bias", &[out_channels])?,
            )),
            None => None,
        };
        let derived = name_prefix(&wc.name, ".weight")
            .or_else(|| bias.as_ref().and_then(|(n, _)| name_prefix(n, ".bias")));
        let has_bias = bias.is_some();
        let mut tensors = vec![("weight", weight)];
        tensors.extend(bias.map(|(_, t)| ("bias", t)));
        let spec = if transposed {
            LayerSpec::ConvTranspose2d {
                name: None,
                out_channels,
                kernel_size: Size2(kernel),
                stride: Size2(stride),
                padding: Pad4(padding),
                output_padding: Size2(at.pair("output_padding", 0, 0)?),
                dilation: Size2(dilation),
                groups,
                bias: has_bias,
            }
        } else {
            LayerSpec::Conv2d {
                name: None,
                out_channels,
                kernel_size: Size2(kernel),
                stride: Size2(stride),
                padding: Pad4(padding),
                dilation: Size2(dilation),
                groups,
                bias: has_bias,
            }
        };
        self.push(at, spec, derived, tensors)
    }

    fn pool(&mut self, at: &At) -> Result<()> {
        let max = at.node.op_type == "MaxPool";
        let [_, h, w] = self.image(at)?;
        if max {
            at.only_first_output(&self.uses)?;
            if at.int("storage_order", 0)? != 0 {
                return Err(at.err("storage_order 1 (column-major indices) is not supported"));
            }
        }
        if at.attr("kernel_shape").is_none() {
            return Err(at.err("attribute kernel_shape is missing"));
        }
        let kernel = at.pair("kernel_shape", 1, 1)?;
        let stride = at.pair("strides", 1, 1)?;
        let dilation = at.pair("dilations", 1, 1)?;
        let padding = Pad4(at.window_pads([h, w], kernel, stride, dilation)?);
        let ceil_mode = at.flag("ceil_mode", false)?;
        let spec = if max {
            LayerSpec::MaxPool2d {
                kernel_size: Size2(kernel),
                stride: Some(Size2(stride)),
                padding,
                dilation: Size2(dilation),
                ceil_mode,
            }
        } else {
            if dilation != [1, 1] {
                return Err(at.err(format!(
                    "dilations {dilation:?}: a dilated average pool is not supported"
                )));
            }
            LayerSpec::AvgPool2d {
                kernel_size: Size2(kernel),
                stride: Some(Size2(stride)),
                padding,
                ceil_mode,
                count_include_pad: at.flag("count_include_pad", false)?,
            }
        };
        self.push(at, spec, None, Vec::new())
    }

    /// The feature count of the flat vector a dense layer reads.
    fn features(&mut self, at: &At) -> Result<usize> {
        let k = self.act(at, 0)?;
        match self.shape(k)[..] {
            [n] => Ok(n),
            ref s => Err(at.err(format!(
                "it needs a flat vector [1, N] (flatten first), got an activation of shape {}",
                dims_str(s)
            ))),
        }
    }

    fn gemm(&mut self, at: &At) -> Result<()> {
        let inp = self.features(at)?;
        for (name, v) in [
            ("alpha", at.float("alpha", 1.0)?),
            ("beta", at.float("beta", 1.0)?),
        ] {
            if v != 1.0 {
                return Err(at.err(format!(
                    "{name} = {v}; only alpha = beta = 1 (nn.Linear) is supported"
                )));
            }
        }
        if at.int("transA", 0)? != 0 {
            return Err(at.err("transA = 1 is not supported (the input must be [1, N])"));
        }
        let trans_b = at.flag("transB", false)?;
        let wc = self.need_konst(at, 1, "weight")?;
        let (out, w) = match (trans_b, &wc.dims[..]) {
            (true, &[o, i]) if i == inp => (o, float_tensor(at, &wc, "weight", &[o, i])?),
            (false, &[i, o]) if i == inp => {
                let t = float_tensor(at, &wc, "weight", &[i, o])?;
                (o, transpose(&t))
            }
            _ => {
                return Err(at.err(format!(
                    "its weight '{}' has shape {} (transB = {}) but its input has {inp} features",
                    wc.name,
                    dims_str(&wc.dims),
                    trans_b as u8
                )))
            }
        };
        let bias = match self.konst(at, 2, "bias")? {
            Some(bc) => Some((bc.name.clone(), bias_tensor(at, &bc, out)?)),
            None => None,
        };
        let derived = name_prefix(&wc.name, ".weight")
            .or_else(|| bias.as_ref().and_then(|(n, _)| name_prefix(n, ".bias")));
        let spec = LayerSpec::Linear {
            name: None,
            out_features: out,
            bias: bias.is_some(),
        };
        let mut tensors = vec![("weight", w)];
        tensors.extend(bias.map(|(_, t)| ("bias", t)));
        self.push(at, spec, derived, tensors)
    }

    /// `x @ W` with `W` `[in, out]`: a linear layer (weight transposed to `[out, in]`), whose
    /// bias the Add after it brings.
    fn matmul(&mut self, at: &At) -> Result<()> {
        let inp = self.features(at)?;
        let wc = self.need_konst(at, 1, "weight")?;
        let &[i, o] = &wc.dims[..] else {
            return Err(at.err(format!(
                "its weight '{}' has shape {}; it must be [in, out]",
                wc.name,
                dims_str(&wc.dims)
            )));
        };
        if i != inp {
            return Err(at.err(format!(
                "its weight '{}' has shape {} ([in, out]) but its input has {inp} features",
                wc.name,
                dims_str(&wc.dims)
            )));
        }
        let w = transpose(&float_tensor(at, &wc, "weight", &[i, o])?);
        let spec = LayerSpec::Linear {
            name: None,
            out_features: o,
            bias: false,
        };
        self.push(
            at,
            spec,
            name_prefix(&wc.name, ".weight"),
            vec![("weight", w)],
        )?;
        if let Some(l) = self.layers.last_mut() {
            l.from_matmul = true;
        }
        Ok(())
    }

    fn add(&mut self, at: &At) -> Result<()> {
        let a = self.val(at, 0)?;
        let b = self.val(at, 1)?;
        let latest = self.latest();
        match (a, b) {
            (Some(Val::Act(x)), Some(Val::Act(y))) => {
                let (from, main) = if x == latest { (y, x) } else { (x, y) };
                if main != latest {
                    return Err(at.err(
                        "neither of its inputs is the latest activation; convscope runs models \
                         that are one chain of layers (plus residual Adds)",
                    ));
                }
                if self.shape(from) != self.shape(main) {
                    return Err(at.err(format!(
                        "it adds shapes {} and {}; a residual Add needs equal shapes",
                        dims_str(self.shape(main)),
                        dims_str(self.shape(from))
                    )));
                }
                self.push(at, LayerSpec::Add { from }, None, Vec::new())
            }
            (Some(Val::Act(k)), Some(Val::Const(c))) | (Some(Val::Const(c)), Some(Val::Act(k))) => {
                let act_name = if matches!(self.vals.get(self.input_name(at, 0)), Some(Val::Act(_)))
                {
                    self.input_name(at, 0)
                } else {
                    self.input_name(at, 1)
                };
                let single = self.uses.get(act_name).copied() == Some(1);
                let foldable = k == latest
                    && k == self.layers.len()
                    && single
                    && self.layers.last().is_some_and(|l| l.from_matmul);
                if !foldable {
                    return Err(at.err(
                        "it adds a constant to an activation; that is only supported as the \
                         bias right after a MatMul (nn.Linear)",
                    ));
                }
                let out = self.shape(k).first().copied().unwrap_or(0);
                let t = bias_tensor(at, &c, out)?;
                let l = self.layers.last_mut().expect("checked above");
                if let LayerSpec::Linear { bias, .. } = &mut l.spec {
                    *bias = true;
                }
                if l.derived.is_none() {
                    l.derived = name_prefix(&c.name, ".bias");
                }
                l.tensors.push(("bias", t));
                l.from_matmul = false;
                self.params = self.params.saturating_add(out);
                self.set(at, Val::Act(k))
            }
            (Some(Val::Const(_)), Some(Val::Const(_))) => {
                Err(at.err("it adds two constants; constant arithmetic is not supported"))
            }
            (Some(Val::View(_, d)), _) => Err(self.view_err(at, 0, &d)),
            (_, Some(Val::View(_, d))) => Err(self.view_err(at, 1, &d)),
            _ => Err(at.err("it needs two inputs")),
        }
    }

    fn batchnorm(&mut self, at: &At) -> Result<()> {
        at.only_first_output(&self.uses)?;
        if at.int("training_mode", 0)? != 0 {
            return Err(at.err("training_mode = 1 is not supported (export in eval mode)"));
        }
        let [c, _, _] = self.image(at).map_err(|_| {
            at.err("it normalises a non-image activation; only BatchNorm2d over [C, H, W] is supported")
        })?;
        let eps = at.float("epsilon", 1e-5)?;
        let mut tensors = Vec::new();
        let mut derived = None;
        for (i, (suffix, what)) in [
            ("weight", "scale"),
            ("bias", "B"),
            ("running_mean", "mean"),
            ("running_var", "var"),
        ]
        .into_iter()
        .enumerate()
        {
            let k = self.need_konst(at, i + 1, what)?;
            if derived.is_none() {
                derived = name_prefix(&k.name, &format!(".{suffix}"));
            }
            tensors.push((suffix, float_tensor(at, &k, what, &[c])?));
        }
        let spec = LayerSpec::BatchNorm2d { name: None, eps };
        self.push(at, spec, derived, tensors)
    }

    /// `Reshape` by a constant shape: to `[1, N]` a flatten layer, to the same shape nothing,
    /// to anything else a view that must be flattened next.
    fn reshape(&mut self, at: &At) -> Result<()> {
        let (k, full) = self.view_of(at, 0)?;
        let sc = self.need_konst(at, 1, "shape")?;
        let Some(target) = sc.ints().filter(|_| sc.dims.len() == 1 && sc.dims[0] <= 8) else {
            return Err(at.err("its shape must be a 1-D list of at most 8 integers"));
        };
        let numel: usize = full.iter().product();
        let allow_zero = at.int("allowzero", 0)? != 0;
        let mut dims = Vec::with_capacity(target.len().min(8));
        let mut infer = None;
        for (i, &d) in target.iter().enumerate() {
            dims.push(match d {
                -1 if infer.is_none() => {
                    infer = Some(i);
                    1
                }
                0 if !allow_zero => *full.get(i).ok_or_else(|| {
                    at.err(format!(
                        "shape {target:?} copies a dimension (0) the input lacks"
                    ))
                })?,
                d if d >= 1 => usize::try_from(d).unwrap_or(usize::MAX),
                _ => return Err(at.err(format!("shape {target:?} has an invalid entry {d}"))),
            });
        }
        if let Some(i) = infer {
            let rest = dims
                .iter()
                .try_fold(1usize, |n, &d| n.checked_mul(d))
                .filter(|&r| r > 0 && numel.is_multiple_of(r))
                .ok_or_else(|| {
                    at.err(format!(
                        "shape {target:?} does not fit the input's {numel} values"
                    ))
                })?;
            dims[i] = numel / rest;
        }
        if numel_within(&dims, numel) != Some(numel) || dims.first() != Some(&1) {
            return Err(at.err(format!(
                "it reshapes {} to {}: the sizes differ, or the batch is not kept first",
                dims_str(&full),
                dims_str(&dims)
            )));
        }
        self.reshaped(at, k, dims)
    }

    fn constant(&mut self, at: &At) -> Result<()> {
        let a = at
            .node
            .attribute
            .first()
            .ok_or_else(|| at.err("it has no value"))?;
        let c = match a.name.as_str() {
            "value" => {
                let t =
                    a.t.as_ref()
                        .ok_or_else(|| at.err("its value is not a tensor"))?;
                tensor_value(t).map_err(|e| at.err(format!("its value: {e}")))?
            }
            "value_float" => Const {
                dims: vec![],
                data: Data::F32(vec![a.f]),
                name: String::new(),
            },
            "value_floats" => Const {
                dims: vec![a.floats.len()],
                data: Data::F32(a.floats.clone()),
                name: String::new(),
            },
            "value_int" => Const {
                dims: vec![],
                data: Data::I64(vec![a.i]),
                name: String::new(),
            },
            "value_ints" => Const {
                dims: vec![a.ints.len()],
                data: Data::I64(a.ints.clone()),
                name: String::new(),
            },
            other => return Err(at.err(format!("a constant given as {other} is not supported"))),
        };
        self.set(at, Val::Const(Rc::new(c)))
    }

    /// `Shape` of an activation: a constant, the batch being 1.
    fn shape_op(&mut self, at: &At) -> Result<()> {
        let v = self
            .val(at, 0)?
            .ok_or_else(|| at.err("its input is missing"))?;
        let dims: Vec<i64> = match v {
            Val::Act(k) => std::iter::once(1)
                .chain(self.shape(k).iter().map(|&d| d as i64))
                .collect(),
            Val::View(_, dims) => dims.iter().map(|&d| d as i64).collect(),
            Val::Const(c) => c.dims.iter().map(|&d| d as i64).collect(),
        };
        let r = dims.len() as i64;
        let clamp = |x: i64| (if x < 0 { x + r } else { x }).clamp(0, r) as usize;
        let start = clamp(at.int("start", 0)?);
        let end = clamp(at.int("end", r)?);
        let part = dims.get(start..end.max(start)).unwrap_or(&[]).to_vec();
        self.set_const(at, vec![part.len()], Data::I64(part))
    }

    fn set_const(&mut self, at: &At, dims: Vec<usize>, data: Data) -> Result<()> {
        self.set(
            at,
            Val::Const(Rc::new(Const {
                dims,
                data,
                name: String::new(),
            })),
        )
    }

    /// Integer input `i` (a shape computation's), at most 1-D.
    fn small_ints(&mut self, at: &At, i: usize, what: &str) -> Result<(Vec<usize>, Vec<i64>)> {
        let c = self.need_konst(at, i, what)?;
        match c.ints() {
            Some(v) if c.dims.len() <= 1 => Ok((c.dims.clone(), v.to_vec())),
            _ => Err(at.err(format!(
                "its {what} must be a scalar or a 1-D list of integers (shape arithmetic); \
                 got {} of shape {}",
                if c.ints().is_some() {
                    "integers"
                } else {
                    "floats"
                },
                dims_str(&c.dims)
            ))),
        }
    }

    fn gather(&mut self, at: &At) -> Result<()> {
        let (ddims, data) = self.small_ints(at, 0, "data")?;
        let (idims, idx) = self.small_ints(at, 1, "indices")?;
        if ddims.len() != 1 || at.int("axis", 0)? != 0 {
            return Err(
                at.err("only a Gather from a 1-D list of integers along axis 0 is supported")
            );
        }
        let n = data.len() as i64;
        let mut out = Vec::with_capacity(idx.len());
        for &i in &idx {
            let j = if i < 0 { i + n } else { i };
            if j < 0 || j >= n {
                return Err(at.err(format!("index {i} is out of range for {n} values")));
            }
            out.push(data[j as usize]);
        }
        self.set_const(at, idims, Data::I64(out))
    }

    fn unsqueeze(&mut self, at: &At) -> Result<()> {
        let (dims, data) = self.small_ints(at, 0, "data")?;
        let axes = self
            .axes(at)?
            .ok_or_else(|| at.err("its axes are missing"))?;
        let rank = dims.len() + axes.len();
        if rank > 1 {
            return Err(at.err(format!(
                "it unsqueezes shape {} by axes {axes:?}; only a scalar to a 1-D list is \
                 supported (shape arithmetic)",
                dims_str(&dims)
            )));
        }
        if axes.len() == 1 && axes[0] != 0 && axes[0] != -1 {
            return Err(at.err(format!("axis {} is out of range", axes[0])));
        }
        let dims = if axes.is_empty() {
            dims
        } else {
            vec![data.len()]
        };
        self.set_const(at, dims, Data::I64(data))
    }

    fn concat(&mut self, at: &At) -> Result<()> {
        let axis = at.int("axis", 0)?;
        if axis != 0 && axis != -1 {
            return Err(at.err(format!(
                "axis {axis}: only concatenating 1-D lists of integers is supported"
            )));
        }
        let mut out = Vec::new();
        for i in 0..at.node.input.len() {
            let (dims, v) = self.small_ints(at, i, "input")?;
            if dims.len() != 1 {
                return Err(at.err("only concatenating 1-D lists of integers is supported"));
            }
            out.extend(v);
            if out.len() > 64 {
                return Err(at.err("a shape of more than 64 dimensions"));
            }
        }
        self.set_const(at, vec![out.len()], Data::I64(out))
    }

    /// `Transpose` of a 2-D constant (`MatMul(x, Transpose(fc1.weight))`, as newer exporters
    /// write nn.Linear): the transposed constant, keeping the initializer's name.
    fn transpose_op(&mut self, at: &At) -> Result<()> {
        let c = self.need_konst(at, 0, "input")?;
        let perm = at.ints("perm")?;
        let swap = perm.is_none_or(|p| p == [1, 0]);
        match (&c.data, &c.dims[..]) {
            (Data::F32(v), &[r, k]) if swap => {
                let t = Tensor::new(v.clone(), &[r, k]).map_err(|e| at.err(e))?;
                let c = Const {
                    dims: vec![k, r],
                    data: Data::F32(transpose(&t).into_data()),
                    name: c.name.clone(),
                };
                self.set(at, Val::Const(Rc::new(c)))
            }
            _ => Err(at.err(format!(
                "it transposes a constant of shape {} by {perm:?}; only swapping the two axes \
                 of a float matrix (a weight) is supported",
                dims_str(&c.dims)
            ))),
        }
    }

    /// The axes of a Squeeze, Unsqueeze or ReduceMean: the `axes` attribute (before opset 13,
    /// 18 for ReduceMean) or constant input 1 (`None` when neither is given).
    fn axes(&mut self, at: &At) -> Result<Option<Vec<i64>>> {
        if let Some(a) = at.ints("axes")? {
            return Ok(Some(a.to_vec()));
        }
        match self.konst(at, 1, "axes")? {
            None => Ok(None),
            Some(c) => match c.ints() {
                Some(v) if c.dims.len() <= 1 => Ok(Some(v.to_vec())),
                _ => Err(at.err("its axes must be a 1-D list of integers")),
            },
        }
    }

    /// Axes normalised to `0..rank` and sorted, or an error.
    fn norm_axes(at: &At, axes: &[i64], rank: usize) -> Result<Vec<usize>> {
        let r = rank as i64;
        let mut out = Vec::with_capacity(axes.len().min(8));
        for &a in axes {
            let n = if a < 0 { a + r } else { a };
            if n < 0 || n >= r {
                return Err(at.err(format!("axis {a} is out of range for rank {rank}")));
            }
            out.push(n as usize);
        }
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }

    /// `Squeeze` of an activation, dropping size-1 axes after the batch (as a reshape:
    /// `x.squeeze(-1).squeeze(-1)` after a global pool ends in a flatten). Of a constant
    /// (shape arithmetic): `[1]` to a scalar.
    fn squeeze(&mut self, at: &At) -> Result<()> {
        let axes = self.axes(at)?;
        match self.val(at, 0)? {
            Some(Val::Act(_) | Val::View(..)) => {
                let (k, full) = self.view_of(at, 0)?;
                let drop = match &axes {
                    Some(a) => Self::norm_axes(at, a, full.len())?,
                    None => (0..full.len()).filter(|&i| full[i] == 1).collect(),
                };
                let kept: Vec<usize> = (0..full.len())
                    .filter(|i| !drop.contains(i))
                    .map(|i| full[i])
                    .collect();
                if drop.iter().any(|&i| full[i] != 1) || drop.contains(&0) {
                    return Err(at.err(format!(
                        "it squeezes {} by axes {axes:?}; only dropping size-1 axes after the \
                         batch is supported",
                        dims_str(&full)
                    )));
                }
                self.reshaped(at, k, kept)
            }
            _ => {
                let (dims, data) = self.small_ints(at, 0, "data")?;
                if dims != [1] || axes.as_ref().is_some_and(|a| a != &[0] && a != &[-1]) {
                    return Err(at.err(
                        "only squeezing a 1-element list to a scalar is supported (shape \
                         arithmetic)",
                    ));
                }
                self.set_const(at, vec![], Data::I64(data))
            }
        }
    }

    /// `ReduceMean` over height and width (`x.mean((2, 3))`): a global average pool, and a
    /// flatten when the axes are not kept.
    fn reduce_mean(&mut self, at: &At) -> Result<()> {
        self.image(at)?;
        let axes = self.axes(at)?;
        let over = match &axes {
            Some(a) => Self::norm_axes(at, a, 4)?,
            None => vec![0, 1, 2, 3],
        };
        if over != [2, 3] {
            return Err(at.err(format!(
                "it averages over axes {axes:?}; only over height and width (axes 2 and 3, a \
                 global average pool) is supported"
            )));
        }
        let keep = at.flag("keepdims", true)?;
        self.push(at, LayerSpec::GlobalAvgPool, None, Vec::new())?;
        if !keep {
            self.push(at, LayerSpec::Flatten, None, Vec::new())?;
        }
        Ok(())
    }

    /// `Cast`: to float of an activation (already float) is dropped; of an integer constant
    /// (shape arithmetic) to an integer type keeps the values.
    fn cast(&mut self, at: &At) -> Result<()> {
        let to = at.int("to", 0)?;
        let to = i32::try_from(to).unwrap_or(0);
        match self.val(at, 0)? {
            Some(v @ (Val::Act(_) | Val::View(..))) if to == data_type::FLOAT => self.set(at, v),
            Some(Val::Const(c))
                if matches!(
                    (&c.data, to),
                    (Data::I64(_), data_type::INT64 | data_type::INT32)
                        | (Data::F32(_), data_type::FLOAT)
                ) =>
            {
                self.set(at, Val::Const(c))
            }
            _ => Err(at.err(format!(
                "a cast to {} is not supported (only float activations and integer shapes)",
                data_type::name(to)
            ))),
        }
    }

    /// The graph's output must be the last activation; layers are named, tensors collected.
    fn finish(self) -> Result<(Spec, BTreeMap<String, Tensor>)> {
        let out = &self.graph.output[0].name;
        match self.vals.get(out) {
            Some(Val::Act(k)) if *k == self.latest() => {}
            Some(Val::Act(_)) => {
                return Err(onnx_err(format!(
                    "the graph's output '{out}' is not its last layer's; convscope runs models \
                     that are one chain of layers"
                )))
            }
            Some(Val::Const(_)) => {
                return Err(onnx_err(format!(
                    "the graph's output '{out}' is a constant, not computed from the input"
                )))
            }
            Some(Val::View(_, dims)) => {
                return Err(onnx_err(format!(
                    "the graph's output '{out}' is an activation reshaped to {}, which no layer \
                     gives",
                    dims_str(dims)
                )))
            }
            None => {
                return Err(onnx_err(format!(
                    "the graph's output '{out}' is not computed by any node"
                )))
            }
        }
        if self.layers.is_empty() {
            return Err(onnx_err("the graph has no layers"));
        }
        let derived: Vec<Option<String>> = self.layers.iter().map(|l| l.derived.clone()).collect();
        let specs: Vec<&LayerSpec> = self.layers.iter().map(|l| &l.spec).collect();
        let names = layer_names(&specs, derived);
        let mut tensors = BTreeMap::new();
        let mut layers = Vec::with_capacity(self.layers.len());
        for (l, name) in self.layers.into_iter().zip(names) {
            let mut spec = l.spec;
            if let Some(name) = name {
                for (suffix, t) in l.tensors {
                    tensors.insert(format!("{name}.{suffix}"), t);
                }
                set_name(&mut spec, name);
            }
            layers.push(spec);
        }
        Ok((
            Spec {
                input: self.input,
                layers,
            },
            tensors,
        ))
    }
}

/// A float tensor from a constant, whose shape must be `dims`.
fn float_tensor(at: &At, c: &Const, what: &str, dims: &[usize]) -> Result<Tensor> {
    let Data::F32(v) = &c.data else {
        return Err(at.err(format!(
            "its {what} '{}' holds integers; it must be floats",
            c.name
        )));
    };
    if c.dims != dims {
        return Err(at.err(format!(
            "its {what} '{}' has shape {}, expected {}",
            c.name,
            dims_str(&c.dims),
            dims_str(dims)
        )));
    }
    Tensor::new(v.clone(), dims).map_err(|e| at.err(format!("its {what} '{}': {e}", c.name)))
}

/// A dense layer's bias: `[out]` or `[1, out]`, returned as `[out]`.
fn bias_tensor(at: &At, c: &Const, out: usize) -> Result<Tensor> {
    let dims = if c.dims == [1, out] {
        vec![1, out]
    } else {
        vec![out]
    };
    float_tensor(at, c, "bias", &dims)?
        .reshape(&[out])
        .map_err(|e| at.err(e))
}

/// `[r, c]` → `[c, r]`.
fn transpose(t: &Tensor) -> Tensor {
    let (r, c) = (t.shape()[0], t.shape()[1]);
    let d = t.data();
    let mut out = vec![0.0; d.len()];
    for i in 0..r {
        for j in 0..c {
            out[j * r + i] = d[i * c + j];
        }
    }
    Tensor::new(out, &[c, r]).expect("same element count")
}

/// Sets the name of a parameterised layer.
fn set_name(l: &mut LayerSpec, new: String) {
    match l {
        LayerSpec::Conv2d { name, .. }
        | LayerSpec::ConvTranspose2d { name, .. }
        | LayerSpec::Linear { name, .. }
        | LayerSpec::BatchNorm2d { name, .. } => *name = Some(new),
        _ => {}
    }
}

/// The prefix of the names a kind's layers get when nothing names them.
fn kind_prefix(l: &LayerSpec) -> &'static str {
    match l {
        LayerSpec::Conv2d { .. } => "conv",
        LayerSpec::ConvTranspose2d { .. } => "deconv",
        LayerSpec::Linear { .. } => "fc",
        _ => "bn",
    }
}

/// The `state_dict` prefix of every parameterised layer (`None` for the others): the given
/// name where there is one (the first of equal ones), else kind and count (`conv2` for the
/// second conv2d) made unique.
fn layer_names(layers: &[&LayerSpec], given: Vec<Option<String>>) -> Vec<Option<String>> {
    let mut used = HashSet::new();
    let mut names: Vec<Option<String>> = given
        .into_iter()
        .zip(layers)
        .map(|(g, l)| g.filter(|g| l.takes_name() && used.insert(g.clone())))
        .collect();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for (n, l) in names.iter_mut().zip(layers) {
        if !l.takes_name() {
            continue;
        }
        let p = kind_prefix(l);
        let c = counts.entry(p).or_default();
        *c += 1;
        if n.is_none() {
            let mut i = *c;
            while used.contains(&format!("{p}{i}")) {
                i += 1;
            }
            let name = format!("{p}{i}");
            used.insert(name.clone());
            *n = Some(name);
        }
    }
    names
}

/// The tensors a layer over an input of shape `input` has, by suffix, with their shapes.
fn tensor_shapes(l: &LayerSpec, input: &[usize]) -> Vec<(&'static str, Vec<usize>)> {
    let c = input.first().copied().unwrap_or(0);
    let mut v = Vec::new();
    match *l {
        LayerSpec::Conv2d {
            out_channels,
            kernel_size,
            groups,
            bias,
            ..
        } => {
            let [kh, kw] = kernel_size.0;
            v.push(("weight", vec![out_channels, c / groups.max(1), kh, kw]));
            if bias {
                v.push(("bias", vec![out_channels]));
            }
        }
        LayerSpec::ConvTranspose2d {
            out_channels,
            kernel_size,
            groups,
            bias,
            ..
        } => {
            let [kh, kw] = kernel_size.0;
            v.push(("weight", vec![c, out_channels / groups.max(1), kh, kw]));
            if bias {
                v.push(("bias", vec![out_channels]));
            }
        }
        LayerSpec::Linear {
            out_features, bias, ..
        } => {
            v.push(("weight", vec![out_features, c]));
            if bias {
                v.push(("bias", vec![out_features]));
            }
        }
        LayerSpec::BatchNorm2d { .. } => {
            for s in ["weight", "bias", "running_mean", "running_var"] {
                v.push((s, vec![c]));
            }
        }
        _ => {}
    }
    v
}

// ---------------------------------------------------------------------------------------------
// Export
// ---------------------------------------------------------------------------------------------

fn ints_attr(name: &str, v: &[usize]) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: attr_type::INTS,
        ints: v.iter().map(|&x| x as i64).collect(),
        ..Default::default()
    }
}

fn int_attr(name: &str, v: i64) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: attr_type::INT,
        i: v,
        ..Default::default()
    }
}

fn float_attr(name: &str, v: f32) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: attr_type::FLOAT,
        f: v,
        ..Default::default()
    }
}

fn value_info(name: &str, dims: &[usize]) -> ValueInfoProto {
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            tensor_type: Some(TypeProtoTensor {
                elem_type: data_type::FLOAT,
                shape: Some(TensorShapeProto {
                    dim: dims
                        .iter()
                        .map(|&d| Dimension {
                            value: Some(DimValue::Value(d as i64)),
                        })
                        .collect(),
                }),
            }),
        }),
    }
}

/// The `ceil_mode` to write for a pool over an image of shape `input`. PyTorch's ceil mode
/// drops a last window that would start in the bottom/right padding; onnxruntime does the
/// same when it runs the model, but ONNX's shape inference does not, so a model declaring
/// PyTorch's output size would not check. Ceil mode is written only where it adds a window
/// PyTorch keeps (where ONNX's formula agrees): where it adds none, or only windows PyTorch
/// drops, floor mode gives the same output.
fn onnx_ceil_mode(l: &LayerSpec, input: &[usize], ceil_mode: bool) -> i64 {
    let (Some(p), &[_, h, w]) = (l.pool_params(), input) else {
        return ceil_mode as i64;
    };
    let floor = Pool2dParams {
        ceil_mode: false,
        ..p
    };
    match (p.output([h, w]), floor.output([h, w])) {
        (Ok(c), Ok(f)) if ceil_mode => (c.out() != f.out()) as i64,
        _ => ceil_mode as i64,
    }
}

/// Writes `spec` and its tensors (PyTorch `state_dict` names; layers without a name are
/// `conv1`, `deconv1`, `fc1`, `bn1`, … by kind and count) as an ONNX model (IR version 8,
/// opset 17, producer `convscope`) with the float input `input` `[1, C, H, W]` and the output
/// `output`, initializers named as the tensors.
pub fn export(spec: &Spec, tensors: &BTreeMap<String, Tensor>) -> Result<Vec<u8>> {
    spec.check_input()?;
    let layers: Vec<&LayerSpec> = spec.layers.iter().collect();
    let names = layer_names(
        &layers,
        layers
            .iter()
            .map(|l| l.given_name().map(String::from))
            .collect(),
    );
    let mut shapes = vec![spec.input.to_vec()];
    let mut values = vec!["input".to_string()];
    let mut nodes = Vec::new();
    let mut initializer = Vec::new();
    for (i, (l, name)) in layers.iter().zip(&names).enumerate() {
        let fail = |why: String| {
            onnx_err(format!(
                "cannot export layers[{i}] ({}{}): {why}",
                l.kind(),
                name.as_ref().map(|n| format!(" '{n}'")).unwrap_or_default()
            ))
        };
        let input = shapes.last().expect("non-empty").clone();
        let out = super::output_shape(l, &shapes).map_err(&fail)?;
        let mut inputs = vec![values.last().expect("non-empty").clone()];
        for (suffix, dims) in tensor_shapes(l, &input) {
            let name = name.as_ref().expect("parameterised layers are named");
            let key = format!("{name}.{suffix}");
            let t = tensors
                .get(&key)
                .ok_or_else(|| fail(format!("tensor '{key}' is missing")))?;
            if t.shape() != &dims[..] {
                return Err(fail(format!(
                    "tensor '{key}' has shape {}, expected {}",
                    dims_str(t.shape()),
                    dims_str(&dims)
                )));
            }
            initializer.push(TensorProto {
                dims: dims.iter().map(|&d| d as i64).collect(),
                data_type: data_type::FLOAT,
                name: key.clone(),
                raw_data: t.data().iter().flat_map(|v| v.to_le_bytes()).collect(),
                ..Default::default()
            });
            inputs.push(key);
        }
        let window = |kernel: [usize; 2], stride: [usize; 2], pad: [usize; 4]| {
            vec![
                ints_attr("kernel_shape", &kernel),
                ints_attr("strides", &stride),
                ints_attr("pads", &pad),
            ]
        };
        let (op, attribute) = match **l {
            LayerSpec::Conv2d {
                kernel_size,
                stride,
                padding,
                dilation,
                groups,
                ..
            } => {
                let mut a = window(kernel_size.0, stride.0, padding.0);
                a.push(ints_attr("dilations", &dilation.0));
                a.push(int_attr("group", groups as i64));
                ("Conv", a)
            }
            LayerSpec::ConvTranspose2d {
                kernel_size,
                stride,
                padding,
                output_padding,
                dilation,
                groups,
                ..
            } => {
                if (0..2).any(|a| output_padding.0[a] >= stride.0[a]) {
                    return Err(fail(format!(
                        "output_padding {:?} must be smaller than the stride {:?} in ONNX \
                         (onnxruntime refuses it; PyTorch allows it up to the dilation)",
                        output_padding.0, stride.0
                    )));
                }
                let mut a = window(kernel_size.0, stride.0, padding.0);
                a.push(ints_attr("dilations", &dilation.0));
                a.push(int_attr("group", groups as i64));
                a.push(ints_attr("output_padding", &output_padding.0));
                ("ConvTranspose", a)
            }
            LayerSpec::MaxPool2d {
                kernel_size,
                stride,
                padding,
                dilation,
                ceil_mode,
            } => {
                let mut a = window(kernel_size.0, stride.unwrap_or(kernel_size).0, padding.0);
                a.push(ints_attr("dilations", &dilation.0));
                a.push(int_attr("ceil_mode", onnx_ceil_mode(l, &input, ceil_mode)));
                ("MaxPool", a)
            }
            LayerSpec::AvgPool2d {
                kernel_size,
                stride,
                padding,
                ceil_mode,
                count_include_pad,
            } => {
                let mut a = window(kernel_size.0, stride.unwrap_or(kernel_size).0, padding.0);
                a.push(int_attr("ceil_mode", onnx_ceil_mode(l, &input, ceil_mode)));
                a.push(int_attr("count_include_pad", count_include_pad as i64));
                ("AveragePool", a)
            }
            LayerSpec::GlobalAvgPool => ("GlobalAveragePool", vec![]),
            LayerSpec::Relu => ("Relu", vec![]),
            LayerSpec::LeakyRelu { negative_slope } => {
                ("LeakyRelu", vec![float_attr("alpha", negative_slope)])
            }
            LayerSpec::Sigmoid => ("Sigmoid", vec![]),
            LayerSpec::Tanh => ("Tanh", vec![]),
            LayerSpec::Flatten => ("Flatten", vec![int_attr("axis", 1)]),
            LayerSpec::Linear { .. } => (
                "Gemm",
                vec![
                    float_attr("alpha", 1.0),
                    float_attr("beta", 1.0),
                    int_attr("transB", 1),
                ],
            ),
            LayerSpec::BatchNorm2d { eps, .. } => {
                ("BatchNormalization", vec![float_attr("epsilon", eps)])
            }
            LayerSpec::Softmax => ("Softmax", vec![int_attr("axis", 1)]),
            LayerSpec::LogSoftmax => ("LogSoftmax", vec![int_attr("axis", 1)]),
            LayerSpec::Add { from } => {
                inputs.push(values[from].clone());
                ("Add", vec![])
            }
        };
        let label = name.clone().unwrap_or_else(|| format!("{}{i}", l.kind()));
        let output = if i + 1 == layers.len() {
            "output".to_string()
        } else {
            format!("/{label}/{op}_output_0")
        };
        nodes.push(NodeProto {
            input: inputs,
            output: vec![output.clone()],
            name: format!("/{label}/{op}"),
            op_type: op.into(),
            attribute,
            ..Default::default()
        });
        values.push(output);
        shapes.push(out);
    }
    let with_batch = |s: &[usize]| {
        std::iter::once(1)
            .chain(s.iter().copied())
            .collect::<Vec<_>>()
    };
    let model = ModelProto {
        ir_version: EXPORT_IR_VERSION,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: EXPORT_OPSET,
        }],
        producer_name: "convscope".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        graph: Some(GraphProto {
            node: nodes,
            name: "convscope".into(),
            initializer,
            input: vec![value_info("input", &with_batch(&shapes[0]))],
            output: vec![value_info(
                "output",
                &with_batch(shapes.last().expect("non-empty")),
            )],
        }),
    };
    Ok(model.encode_to_vec())
}

#[cfg(test)]
mod tests;
