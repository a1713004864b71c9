//! The ONNX importer and exporter against the fixtures of `crate/fixtures/onnx/` (written by its
//! `make.py` with onnx and onnxruntime): every good model imports to the kinds and names the
//! manifest lists and to the output shape onnxruntime computed, every hostile file is refused
//! with its message, mangled files never panic, and export → import gives back the same spec
//! and tensors.

use super::*;
use crate::rng::Rng;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const MANIFEST: &str = include_str!("../../../fixtures/onnx/manifest.json");

macro_rules! files {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_bytes!(concat!("../../../fixtures/onnx/", $name)) as &[u8])),*]
    };
}

/// Every file of the fixture folder but make.py and manifest.json.
const FILES: &[(&str, &[u8])] = files!(
    "autoencoder.json",
    "autoencoder.onnx",
    "bad_branch.onnx",
    "bad_conv_channels.onnx",
    "bad_cycle.onnx",
    "bad_empty.onnx",
    "bad_huge_dim.onnx",
    "bad_input_100.onnx",
    "bad_input_channels.onnx",
    "bad_lstm.onnx",
    "bad_lstm_op.onnx",
    "bad_missing_init.onnx",
    "bad_reshape_view.onnx",
    "bad_size.onnx",
    "bad_string_weight.onnx",
    "bad_text.onnx",
    "bad_truncated.onnx",
    "bad_two_inputs.onnx",
    "bad_two_outputs.onnx",
    "bad_upsample.onnx",
    "conv_geometry.json",
    "conv_geometry.onnx",
    "lenet.json",
    "mean_opset18.json",
    "mean_opset18.onnx",
    "mean_squeeze.json",
    "mean_squeeze.onnx",
    "lenet.onnx",
    "mlp_matmul.json",
    "mlp_matmul.onnx",
    "opset12_view.json",
    "opset12_view.onnx",
    "pools.json",
    "pools.onnx",
    "resnet_bn.json",
    "resnet_bn.onnx",
);

fn file(name: &str) -> &'static [u8] {
    FILES
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("{name} is not in FILES (add it to the list in tests.rs)"))
        .1
}

fn manifest() -> serde_json::Value {
    serde_json::from_str(MANIFEST).unwrap()
}

struct Fixture {
    name: String,
    kinds: Vec<String>,
    names: Vec<String>,
    onnx: &'static [u8],
    input: Vec<usize>,
    y_shape: Vec<usize>,
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

fn numbers(v: &serde_json::Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_u64().unwrap() as usize)
        .collect()
}

fn fixtures() -> Vec<Fixture> {
    manifest()["fixtures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let name = f["name"].as_str().unwrap().to_string();
            let json: serde_json::Value = serde_json::from_slice(file(&format!("{name}.json")))
                .unwrap_or_else(|e| panic!("{name}.json: {e}"));
            Fixture {
                kinds: strings(&f["kinds"]),
                names: strings(&f["names"]),
                onnx: file(&format!("{name}.onnx")),
                input: numbers(&json["input"]),
                y_shape: numbers(&json["yShape"]),
                name,
            }
        })
        .collect()
}

/// The activation shapes of a spec (without the batch), as the importer and exporter see them.
fn shapes(spec: &Spec) -> Vec<Vec<usize>> {
    let mut s = vec![spec.input.to_vec()];
    for l in &spec.layers {
        let next = crate::nn::output_shape(l, &s).unwrap();
        s.push(next);
    }
    s
}

#[test]
fn every_fixture_file_is_in_the_manifest() {
    let m = manifest();
    let mut listed: Vec<String> = Vec::new();
    for f in m["fixtures"].as_array().unwrap() {
        let n = f["name"].as_str().unwrap();
        listed.push(format!("{n}.onnx"));
        listed.push(format!("{n}.json"));
    }
    for h in m["hostile"].as_array().unwrap() {
        listed.push(h["file"].as_str().unwrap().to_string());
    }
    listed.sort();
    let mut files: Vec<String> = FILES.iter().map(|(n, _)| n.to_string()).collect();
    files.sort();
    assert_eq!(listed, files);
    assert!(fixtures().len() >= 7);
}

#[test]
fn fixtures_import_to_their_kinds_names_and_output_shape() {
    for f in fixtures() {
        let (spec, tensors) = import(f.onnx).unwrap_or_else(|e| panic!("{}: {e}", f.name));
        let kinds: Vec<&str> = spec.layers.iter().map(|l| l.kind()).collect();
        assert_eq!(kinds, f.kinds, "{}", f.name);
        let names: Vec<&str> = spec.layers.iter().filter_map(|l| l.given_name()).collect();
        assert_eq!(names, f.names, "{}", f.name);
        assert_eq!(spec.input.to_vec(), f.input, "{}", f.name);
        spec.check_input().unwrap();
        // The spec is one the JSON contract reads back unchanged.
        assert_eq!(
            Spec::from_json(&spec.to_json()).unwrap(),
            spec,
            "{}",
            f.name
        );
        // The output shape onnxruntime computed (batch 1 first).
        let s = shapes(&spec);
        let mut y = vec![1];
        y.extend(s.last().unwrap());
        assert_eq!(y, f.y_shape, "{}: output shape", f.name);
        // Exactly the tensors the layers take, with their shapes.
        let mut want = BTreeMap::new();
        for (i, l) in spec.layers.iter().enumerate() {
            for (suffix, dims) in tensor_shapes(l, &s[i]) {
                want.insert(format!("{}.{suffix}", l.given_name().unwrap()), dims);
            }
        }
        let got: BTreeMap<String, Vec<usize>> = tensors
            .iter()
            .map(|(k, t)| (k.clone(), t.shape().to_vec()))
            .collect();
        assert_eq!(got, want, "{}", f.name);
    }
}

#[test]
fn fixture_details_survive_the_import() {
    let (spec, t) = import(file("conv_geometry.onnx")).unwrap();
    let LayerSpec::Conv2d {
        groups,
        dilation,
        padding,
        ..
    } = spec.layers[0]
    else {
        panic!("{:?}", spec.layers[0])
    };
    assert_eq!(
        (groups, dilation, padding),
        (3, Size2([2, 2]), Pad4([1, 2, 0, 1]))
    );
    assert_eq!(
        spec.layers[1],
        LayerSpec::LeakyRelu {
            negative_slope: 0.2
        }
    );
    // SAME_UPPER, kernel [3, 2], stride 2 over 17×19: total pads 2 and 1, the odd one after.
    assert_eq!(spec.layers[2].conv_params().unwrap().padding, [1, 0, 1, 1]);
    // SAME_LOWER, kernel 4, stride 1: total 3, the odd one before.
    assert_eq!(spec.layers[4].conv_params().unwrap().padding, [2, 2, 1, 1]);
    assert!(!t.contains_key("conv3.bias"));
    assert_eq!(spec.layers[6].conv_params().unwrap().padding, [0; 4]);

    let (spec, _) = import(file("pools.onnx")).unwrap();
    let p = spec.layers[1].pool_params().unwrap();
    assert_eq!((p.dilation, p.ceil_mode, p.stride), ([1, 2], true, [2, 2]));
    // Its ceil mode adds a row, so export keeps it.
    assert_eq!(canonical(&spec), spec);
    let counts: Vec<bool> = spec.layers[2..4]
        .iter()
        .map(|l| match l {
            LayerSpec::AvgPool2d {
                count_include_pad, ..
            } => *count_include_pad,
            _ => panic!("{l:?}"),
        })
        .collect();
    assert_eq!(counts, [true, false]);

    let (spec, t) = import(file("autoencoder.onnx")).unwrap();
    assert_eq!(spec.layers[4].conv_params().unwrap().output_padding, [1, 1]);
    assert_eq!(t["decoder.0.weight"].shape(), [8, 4, 3, 3]);

    let (spec, t) = import(file("resnet_bn.onnx")).unwrap();
    assert_eq!(spec.layers[8], LayerSpec::Add { from: 3 });
    assert_eq!(spec.input, [3, 32, 32]);
    assert!(!t.contains_key("conv1.bias"));
    assert_eq!(t["bn1.running_var"].shape(), [8]);

    // MatMul's [in, out] weight comes back as nn.Linear's [out, in], its bias from the Add.
    let (spec, t) = import(file("mlp_matmul.onnx")).unwrap();
    assert_eq!(t["fc1.weight"].shape(), [16, 64]);
    assert_eq!(t["fc2.bias"].shape(), [10]);
    // MatMul by a Transpose of the [out, in] weight keeps the weight's name.
    assert_eq!(t["fc4.weight"].shape(), [5, 6]);
    assert!(matches!(
        spec.layers[1],
        LayerSpec::Linear {
            out_features: 16,
            bias: true,
            ..
        }
    ));
}

#[test]
fn hostile_files_are_refused_with_their_reason() {
    let m = manifest();
    for h in m["hostile"].as_array().unwrap() {
        let name = h["file"].as_str().unwrap();
        let want = h["error"].as_str().unwrap();
        match import(file(name)) {
            Ok((spec, _)) => panic!("{name} imported: {}", spec.to_json()),
            Err(e) => {
                let e = e.to_string();
                assert!(e.contains(want), "{name}: {e:?} should contain {want:?}");
            }
        }
    }
}

#[test]
fn node_errors_name_the_node_and_operator() {
    let e = import(file("bad_upsample.onnx")).unwrap_err().to_string();
    assert!(e.contains("node '/up/Upsample' (Upsample)"), "{e}");
    let e = import(file("bad_missing_init.onnx"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("'/conv2/Conv' (Conv)") && e.contains("conv2.weight"),
        "{e}"
    );
    let e = import(file("bad_huge_dim.onnx")).unwrap_err().to_string();
    assert!(e.contains("(Conv)") && e.contains("huge.weight"), "{e}");
}

/// Truncations and byte flips of good files: an error or a model, never a panic.
#[test]
fn mangled_files_never_panic() {
    let mut rng = Rng::new(20);
    let goods = [
        "lenet.onnx",
        "resnet_bn.onnx",
        "conv_geometry.onnx",
        "mlp_matmul.onnx",
        "mean_squeeze.onnx",
        "opset12_view.onnx",
    ];
    let (mut ok, mut err) = (0, 0);
    for round in 0..400 {
        let good = file(goods[round % goods.len()]);
        let mut b = good.to_vec();
        if round % 3 == 0 {
            b.truncate(rng.below(b.len()));
        } else {
            for _ in 0..rng.pick(1..=4) {
                let i = rng.below(b.len());
                b[i] = if round % 3 == 1 {
                    b[i] ^ (1 << rng.below(8))
                } else {
                    rng.next_u32() as u8
                };
            }
        }
        match import(&b) {
            Ok((spec, tensors)) => {
                ok += 1;
                // What imports must also export.
                export(&spec, &tensors).unwrap();
            }
            Err(_) => err += 1,
        }
    }
    assert!(ok > 0 && err > 0, "{ok} imported, {err} refused");
}

#[test]
fn export_then_import_gives_back_the_spec_and_tensors() {
    for f in fixtures() {
        let (spec, tensors) = import(f.onnx).unwrap();
        let bytes = export(&spec, &tensors).unwrap_or_else(|e| panic!("{}: {e}", f.name));
        let (spec2, tensors2) = import(&bytes).unwrap_or_else(|e| panic!("{}: {e}", f.name));
        assert_eq!(canonical(&spec2), canonical(&spec), "{}", f.name);
        assert_eq!(tensors2, tensors, "{}", f.name);
        assert_eq!(export(&spec2, &tensors2).unwrap(), bytes, "{}", f.name);
        let m = ModelProto::decode(&bytes[..]).unwrap();
        assert_eq!((m.ir_version, m.producer_name.as_str()), (8, "convscope"));
        assert_eq!(m.opset_import[0].version, 17);
        let g = m.graph.unwrap();
        assert_eq!(
            (g.input[0].name.as_str(), g.output[0].name.as_str()),
            ("input", "output")
        );
    }
}

/// With `CONVSCOPE_ONNX_EXPORT=dir`, writes every fixture as convscope exports it, for
/// `make.py --check dir` to run in onnxruntime.
#[test]
#[cfg(not(target_arch = "wasm32"))]
fn exported_models_for_onnxruntime() {
    let Ok(dir) = std::env::var("CONVSCOPE_ONNX_EXPORT") else {
        return;
    };
    std::fs::create_dir_all(&dir).unwrap();
    for f in fixtures() {
        let (spec, tensors) = import(f.onnx).unwrap();
        let bytes = export(&spec, &tensors).unwrap();
        std::fs::write(format!("{dir}/{}.onnx", f.name), bytes).unwrap();
    }
}

/// A small model with every parameterised kind, exported and decoded for tests to alter.
fn small_spec() -> (Spec, BTreeMap<String, Tensor>) {
    let spec = Spec::from_json(
        r#"{"input":[1,10,10],"layers":[
          {"kind":"conv2d","outChannels":2,"kernelSize":3,"padding":1},
          {"kind":"batchnorm2d","eps":0.001},
          {"kind":"relu"},
          {"kind":"convtranspose2d","outChannels":2,"kernelSize":2,"stride":2,"bias":false},
          {"kind":"maxpool2d","kernelSize":2},
          {"kind":"add","from":3},
          {"kind":"avgpool2d","kernelSize":3,"stride":2,"padding":1,"countIncludePad":false},
          {"kind":"flatten"},
          {"kind":"linear","outFeatures":3},
          {"kind":"tanh"},{"kind":"sigmoid"},{"kind":"leakyrelu","negativeSlope":0.5},
          {"kind":"softmax"}]}"#,
    )
    .unwrap();
    let mut rng = Rng::new(3);
    let mut tensors = BTreeMap::new();
    let mut t = |name: &str, dims: &[usize]| {
        let n = dims.iter().product();
        tensors.insert(
            name.to_string(),
            Tensor::new(rng.uniform_vec(n, -1.0, 1.0), dims).unwrap(),
        );
    };
    t("conv1.weight", &[2, 1, 3, 3]);
    t("conv1.bias", &[2]);
    for s in ["weight", "bias", "running_mean", "running_var"] {
        t(&format!("bn1.{s}"), &[2]);
    }
    t("deconv1.weight", &[2, 2, 2, 2]);
    t("fc1.weight", &[3, 50]);
    t("fc1.bias", &[3]);
    (spec, tensors)
}

fn with_names(spec: &Spec) -> Spec {
    let mut s = spec.clone();
    let mut counts = [0; 4];
    for l in &mut s.layers {
        let i = match l.kind() {
            "conv2d" => 0,
            "convtranspose2d" => 1,
            "linear" => 2,
            "batchnorm2d" => 3,
            _ => continue,
        };
        counts[i] += 1;
        set_name(
            l,
            format!("{}{}", ["conv", "deconv", "fc", "bn"][i], counts[i]),
        );
    }
    s.layers = s.layers.iter().map(|l| l.normalized()).collect();
    s
}

#[test]
fn unnamed_layers_export_by_kind_and_count_and_round_trip() {
    let (spec, tensors) = small_spec();
    let bytes = export(&spec, &tensors).unwrap();
    let (back, t2) = import(&bytes).unwrap();
    assert_eq!(back, with_names(&spec));
    assert_eq!(t2, tensors);
}

fn altered(f: impl FnOnce(&mut GraphProto)) -> Vec<u8> {
    let (spec, tensors) = small_spec();
    let mut m = ModelProto::decode(&export(&spec, &tensors).unwrap()[..]).unwrap();
    f(m.graph.as_mut().unwrap());
    m.encode_to_vec()
}

fn node<'g>(g: &'g mut GraphProto, op: &str) -> &'g mut NodeProto {
    g.node.iter_mut().find(|n| n.op_type == op).unwrap()
}

fn import_err(bytes: &[u8]) -> String {
    import(bytes).unwrap_err().to_string()
}

#[test]
fn weights_in_other_encodings_import_the_same() {
    let (_, want) = import(&altered(|_| {})).unwrap();
    let recode = |how: u8| {
        altered(|g| {
            for t in &mut g.initializer {
                let v: Vec<f32> = t
                    .raw_data
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect();
                t.raw_data.clear();
                match how {
                    0 => t.float_data = v,
                    1 => {
                        t.data_type = data_type::DOUBLE;
                        t.double_data = v.iter().map(|&x| x as f64).collect();
                    }
                    _ => {
                        t.data_type = data_type::DOUBLE;
                        t.raw_data = v.iter().flat_map(|&x| (x as f64).to_le_bytes()).collect();
                    }
                }
            }
        })
    };
    for how in 0..3 {
        let (_, got) = import(&recode(how)).unwrap();
        assert_eq!(got, want, "encoding {how}");
    }
    // FLOAT16 rounds.
    let (_, got) = import(&altered(|g| {
        for t in &mut g.initializer {
            let v: Vec<u8> = t
                .raw_data
                .chunks_exact(4)
                .flat_map(|c| {
                    half::f16::from_f32(f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                        .to_bits()
                        .to_le_bytes()
                })
                .collect();
            t.data_type = data_type::FLOAT16;
            t.raw_data = v;
        }
    }))
    .unwrap();
    for (k, t) in &got {
        for (a, b) in t.data().iter().zip(want[k].data()) {
            assert!((a - b).abs() < 1e-3, "{k}: {a} vs {b}");
        }
    }
}

#[test]
fn unsupported_attributes_are_named() {
    let e = import_err(&altered(|g| {
        node(g, "Gemm").attribute.push(float_attr("alpha", 2.0));
        node(g, "Gemm")
            .attribute
            .retain(|a| a.name != "alpha" || a.f == 2.0);
    }));
    assert!(e.contains("(Gemm)") && e.contains("alpha = 2"), "{e}");
    let e = import_err(&altered(|g| {
        node(g, "Gemm").attribute.push(int_attr("transA", 1));
    }));
    assert!(e.contains("transA"), "{e}");
    let e = import_err(&altered(|g| {
        node(g, "Softmax").attribute = vec![int_attr("axis", 0)];
    }));
    assert!(e.contains("(Softmax)") && e.contains("axis 0"), "{e}");
    let e = import_err(&altered(|g| {
        node(g, "Conv").attribute.push(AttributeProto {
            name: "auto_pad".into(),
            r#type: attr_type::STRING,
            s: b"SIDEWAYS".to_vec(),
            ..Default::default()
        });
    }));
    assert!(e.contains("(Conv)") && e.contains("SIDEWAYS"), "{e}");
    let e = import_err(&altered(|g| {
        let n = node(g, "Conv");
        n.attribute.retain(|a| a.name != "strides");
        n.attribute.push(ints_attr("strides", &[1, 1, 1]));
    }));
    assert!(e.contains("strides") && e.contains("2 values"), "{e}");
    let e = import_err(&altered(|g| {
        node(g, "Relu").domain = "com.microsoft".into();
    }));
    assert!(e.contains("com.microsoft"), "{e}");
    let e = import_err(&altered(|g| {
        g.initializer[0].data_location = 1;
    }));
    assert!(e.contains("external file"), "{e}");
}

#[test]
fn export_refuses_missing_or_misshapen_tensors() {
    let (spec, mut tensors) = small_spec();
    tensors.remove("bn1.running_var");
    let e = export(&spec, &tensors).unwrap_err().to_string();
    assert!(
        e.contains("layers[1]") && e.contains("bn1.running_var"),
        "{e}"
    );
    let (spec, mut tensors) = small_spec();
    tensors.insert("fc1.bias".into(), Tensor::zeros(&[4]).unwrap());
    let e = export(&spec, &tensors).unwrap_err().to_string();
    assert!(e.contains("fc1.bias") && e.contains("[4]"), "{e}");
    let (mut spec, tensors) = small_spec();
    if let LayerSpec::ConvTranspose2d {
        output_padding,
        dilation,
        stride,
        ..
    } = &mut spec.layers[3]
    {
        (*output_padding, *dilation, *stride) = (Size2([1, 0]), Size2([2, 2]), Size2([1, 2]));
    }
    let e = export(&spec, &tensors).unwrap_err().to_string();
    assert!(
        e.contains("layers[3]") && e.contains("smaller than the stride"),
        "{e}"
    );
    let (mut spec, tensors) = small_spec();
    spec.layers[5] = LayerSpec::Add { from: 4 };
    let e = export(&spec, &tensors).unwrap_err().to_string();
    assert!(
        e.contains("layers[5] (add)") && e.contains("adds activation 4"),
        "{e}"
    );
}

#[test]
fn older_export_layouts_import_the_same() {
    let (want, want_t) = import(&altered(|_| {})).unwrap();
    // keep_initializers_as_inputs=True: every initializer is also a graph input.
    let bytes = altered(|g| {
        let extra: Vec<ValueInfoProto> = g
            .initializer
            .iter()
            .map(|t| {
                value_info(
                    &t.name,
                    &t.dims.iter().map(|&d| d as usize).collect::<Vec<_>>(),
                )
            })
            .collect();
        g.input.extend(extra);
    });
    let (spec, t) = import(&bytes).unwrap();
    assert_eq!((spec, t), (want.clone(), want_t));
    // auto_pad SAME_UPPER on the ConvTranspose (kernel 2, stride 2: no padding needed).
    let bytes = altered(|g| {
        let n = node(g, "ConvTranspose");
        n.attribute.retain(|a| a.name != "pads");
        n.attribute.push(AttributeProto {
            name: "auto_pad".into(),
            r#type: attr_type::STRING,
            s: b"SAME_UPPER".to_vec(),
            ..Default::default()
        });
    });
    assert_eq!(import(&bytes).unwrap().0, want);
    // A dynamic batch (dim_param) reads as 1.
    let bytes = altered(|g| {
        let t = g.input[0].r#type.as_mut().unwrap();
        let shape = t.tensor_type.as_mut().unwrap().shape.as_mut().unwrap();
        shape.dim[0].value = Some(DimValue::Param("batch_size".into()));
    });
    assert_eq!(import(&bytes).unwrap().0, want);
}

#[test]
fn reshapes_that_do_not_fold_to_a_flatten_are_refused() {
    // Reshape(x, x): the shape is computed from the image.
    let e = import_err(&altered(|g| {
        let n = node(g, "Flatten");
        n.op_type = "Reshape".into();
        n.attribute.clear();
        let x = n.input[0].clone();
        n.input.push(x);
    }));
    assert!(
        e.contains("(Reshape)") && e.contains("must be a constant"),
        "{e}"
    );
    // Reshape(x, Shape(x)): folds, to the shape x has (so nothing), and the Gemm after it
    // reads an image.
    let e = import_err(&altered(|g| {
        let i = g.node.iter().position(|n| n.op_type == "Flatten").unwrap();
        let x = g.node[i].input[0].clone();
        g.node[i].op_type = "Reshape".into();
        g.node[i].attribute.clear();
        g.node[i].input.push("shape_of_x".into());
        g.node.insert(
            i,
            NodeProto {
                input: vec![x],
                output: vec!["shape_of_x".into()],
                name: "/shape/Shape".into(),
                op_type: "Shape".into(),
                ..Default::default()
            },
        );
    }));
    assert!(
        e.contains("(Gemm)") && e.contains("[2, 5, 5]") && e.contains("flatten first"),
        "{e}"
    );
}

/// A random chain of layers over a random input (every kind, random geometry), with random
/// tensors, layers unnamed (so named by kind and count on export).
fn random_model(rng: &mut Rng) -> (Spec, BTreeMap<String, Tensor>) {
    let c = [1, 3][rng.below(2)];
    let input = [c, rng.pick(8..=24), rng.pick(8..=24)];
    let mut layers: Vec<LayerSpec> = Vec::new();
    let mut shapes = vec![input.to_vec()];
    let s2 = |rng: &mut Rng, lo: usize, hi: usize| Size2([rng.pick(lo..=hi), rng.pick(lo..=hi)]);
    let bit = |rng: &mut Rng| rng.below(2) == 1;
    let target = rng.pick(1..=10);
    let mut tries = 0;
    while layers.len() < target && tries < 200 {
        tries += 1;
        let s = shapes.last().unwrap().clone();
        let image = s.len() == 3;
        let pad = |rng: &mut Rng, k: Size2| {
            Pad4([
                rng.pick(0..=k.0[0] / 2),
                rng.pick(0..=k.0[1] / 2),
                rng.pick(0..=k.0[0] / 2),
                rng.pick(0..=k.0[1] / 2),
            ])
        };
        let l = match rng.below(15) {
            0 | 1 if image => {
                let groups = if s[0] % 2 == 0 && bit(rng) { 2 } else { 1 };
                let k = s2(rng, 1, 4);
                LayerSpec::Conv2d {
                    name: None,
                    out_channels: groups * rng.pick(1..=2),
                    kernel_size: k,
                    stride: s2(rng, 1, 3),
                    padding: pad(rng, k),
                    dilation: s2(rng, 1, 2),
                    groups,
                    bias: bit(rng),
                }
            }
            2 if image => {
                let groups = if s[0] % 2 == 0 && bit(rng) { 2 } else { 1 };
                let k = s2(rng, 1, 3);
                let stride = s2(rng, 1, 2);
                let dilation = s2(rng, 1, 2);
                // ONNX's ConvTranspose needs output_padding < stride (PyTorch's < max(stride,
                // dilation) is refused by export, tested below).
                let op = |a: usize, rng: &mut Rng| rng.below(stride.0[a]);
                LayerSpec::ConvTranspose2d {
                    name: None,
                    out_channels: groups * rng.pick(1..=2),
                    kernel_size: k,
                    stride,
                    padding: pad(rng, k),
                    output_padding: Size2([op(0, rng), op(1, rng)]),
                    dilation,
                    groups,
                    bias: bit(rng),
                }
            }
            3 if image => {
                let k = s2(rng, 1, 3);
                LayerSpec::MaxPool2d {
                    kernel_size: k,
                    stride: bit(rng).then(|| s2(rng, 1, 3)),
                    padding: pad(rng, k),
                    dilation: s2(rng, 1, 2),
                    ceil_mode: bit(rng),
                }
            }
            4 if image => {
                let k = s2(rng, 1, 3);
                LayerSpec::AvgPool2d {
                    kernel_size: k,
                    stride: bit(rng).then(|| s2(rng, 1, 3)),
                    padding: pad(rng, k),
                    ceil_mode: bit(rng),
                    count_include_pad: bit(rng),
                }
            }
            5 if image => LayerSpec::GlobalAvgPool,
            6 if image => LayerSpec::BatchNorm2d {
                name: None,
                eps: [1e-5, 1e-3][rng.below(2)],
            },
            7 => LayerSpec::Relu,
            8 => LayerSpec::LeakyRelu {
                negative_slope: rng.uniform(0.0, 0.5),
            },
            9 => [LayerSpec::Sigmoid, LayerSpec::Tanh][rng.below(2)].clone(),
            10 => [LayerSpec::Softmax, LayerSpec::LogSoftmax][rng.below(2)].clone(),
            11 => LayerSpec::Add {
                from: rng.below(shapes.len()),
            },
            12 => LayerSpec::Flatten,
            13 | 14 if !image => LayerSpec::Linear {
                name: None,
                out_features: rng.pick(1..=8),
                bias: bit(rng),
            },
            _ => continue,
        };
        match crate::nn::output_shape(&l, &shapes) {
            Ok(o) if o.iter().product::<usize>() <= 20_000 => {
                layers.push(l);
                shapes.push(o);
            }
            _ => {}
        }
    }
    if layers.is_empty() {
        layers.push(LayerSpec::Relu);
        shapes.push(input.to_vec());
    }
    let spec = Spec { input, layers };
    let refs: Vec<&LayerSpec> = spec.layers.iter().collect();
    let names = layer_names(&refs, vec![None; refs.len()]);
    let mut tensors = BTreeMap::new();
    for (i, (l, name)) in spec.layers.iter().zip(&names).enumerate() {
        for (suffix, dims) in tensor_shapes(l, &shapes[i]) {
            let n = dims.iter().product();
            let t = Tensor::new(rng.uniform_vec(n, -1.0, 1.0), &dims).unwrap();
            tensors.insert(format!("{}.{suffix}", name.as_ref().unwrap()), t);
        }
    }
    (spec, tensors)
}

#[test]
fn random_specs_round_trip_through_onnx() {
    let mut rng = Rng::new(7);
    let mut kinds = HashSet::new();
    for i in 0..150 {
        let (spec, tensors) = random_model(&mut rng);
        kinds.extend(spec.layers.iter().map(|l| l.kind()));
        let bytes = export(&spec, &tensors).unwrap_or_else(|e| panic!("{i}: {e}"));
        let (back, t2) = import(&bytes).unwrap_or_else(|e| panic!("{i}: {e}\n{}", spec.to_json()));
        assert_eq!(canonical(&back), canonical(&with_names(&spec)), "{i}");
        assert_eq!(shapes(&back), shapes(&spec), "{i}");
        assert_eq!(t2, tensors, "{i}");
    }
    assert_eq!(kinds.len(), 15, "{kinds:?}");
}

/// `ceil_mode` only where it changes the output (export writes it only there).
fn canonical(spec: &Spec) -> Spec {
    let mut s = spec.clone();
    let sh = shapes(spec);
    for (l, input) in s.layers.iter_mut().zip(&sh) {
        let needed = onnx_ceil_mode(l, input, true) == 1;
        match l {
            LayerSpec::MaxPool2d { ceil_mode, .. } | LayerSpec::AvgPool2d { ceil_mode, .. } => {
                *ceil_mode &= needed;
            }
            _ => {}
        }
    }
    s
}

#[test]
fn export_writes_ceil_mode_only_where_onnx_agrees() {
    let pool = |input: [usize; 3], k: usize, s: usize, pad: [usize; 4]| {
        let spec = Spec {
            input,
            layers: vec![LayerSpec::MaxPool2d {
                kernel_size: Size2([k, k]),
                stride: Some(Size2([s, s])),
                padding: Pad4(pad),
                dilation: Size2([1, 1]),
                ceil_mode: true,
            }],
        };
        let m = ModelProto::decode(&export(&spec, &BTreeMap::new()).unwrap()[..]).unwrap();
        let g = m.graph.unwrap();
        let ceil = g.node[0]
            .attribute
            .iter()
            .find(|a| a.name == "ceil_mode")
            .unwrap()
            .i;
        let d = &g.output[0]
            .r#type
            .as_ref()
            .unwrap()
            .tensor_type
            .as_ref()
            .unwrap();
        let dims: Vec<DimValue> = d
            .shape
            .as_ref()
            .unwrap()
            .dim
            .iter()
            .map(|d| d.value.clone().unwrap())
            .collect();
        (ceil, dims[2].clone())
    };
    // 15 rows, kernel 2, stride 2: ceil adds a window starting at row 14 (inside): kept.
    assert_eq!(pool([1, 15, 15], 2, 2, [0; 4]), (1, DimValue::Value(8)));
    // 12 rows, kernel 1, stride 3, no padding: the ceil window would start at row 12, past
    // the image: PyTorch drops it, so floor mode says the same.
    assert_eq!(pool([1, 12, 12], 1, 3, [0; 4]), (0, DimValue::Value(4)));
    // 16 rows, kernel 2, stride 2: ceil changes nothing.
    assert_eq!(pool([1, 16, 16], 2, 2, [0; 4]), (0, DimValue::Value(8)));
}

/// With `CONVSCOPE_ONNX_EXPORT=dir`, also writes 150 random models (`random_N.onnx` and the
/// output shape the spec's geometry gives, `random_N.json`) for `make.py --check dir` to run
/// in onnxruntime.
#[test]
#[cfg(not(target_arch = "wasm32"))]
fn exported_random_models_for_onnxruntime() {
    let Ok(dir) = std::env::var("CONVSCOPE_ONNX_EXPORT") else {
        return;
    };
    std::fs::create_dir_all(&dir).unwrap();
    let mut rng = Rng::new(7);
    for i in 0..150 {
        let (spec, tensors) = random_model(&mut rng);
        let mut y = vec![1];
        y.extend(shapes(&spec).last().unwrap());
        std::fs::write(
            format!("{dir}/random_{i}.onnx"),
            export(&spec, &tensors).unwrap(),
        )
        .unwrap();
        let json = serde_json::json!({ "input": spec.input, "yShape": y, "spec": spec.to_json() });
        std::fs::write(format!("{dir}/random_{i}.json"), json.to_string()).unwrap();
    }
}

#[test]
fn reshapes_through_other_shapes_that_end_in_a_flatten_are_one_flatten() {
    let (want, want_t) = import(&altered(|_| {})).unwrap();
    // Flatten → Reshape to [1, 2, 25] (a view), then Flatten of it.
    let bytes = altered(|g| {
        let i = g.node.iter().position(|n| n.op_type == "Flatten").unwrap();
        let x = g.node[i].input[0].clone();
        g.initializer.push(TensorProto {
            dims: vec![3],
            data_type: data_type::INT64,
            int64_data: vec![1, 2, -1],
            name: "view_shape".into(),
            ..Default::default()
        });
        g.node.insert(
            i,
            NodeProto {
                input: vec![x, "view_shape".into()],
                output: vec!["viewed".into()],
                name: "/view/Reshape".into(),
                op_type: "Reshape".into(),
                ..Default::default()
            },
        );
        g.node[i + 1].input[0] = "viewed".into();
    });
    assert_eq!(import(&bytes).unwrap(), (want, want_t));
    // The same view as the graph's output is refused.
    let e = import_err(&altered(|g| {
        let i = g.node.iter().position(|n| n.op_type == "Flatten").unwrap();
        g.node.truncate(i);
        let x = g.node[i - 1].output[0].clone();
        g.initializer.push(TensorProto {
            dims: vec![3],
            data_type: data_type::INT64,
            int64_data: vec![1, 2, -1],
            name: "view_shape".into(),
            ..Default::default()
        });
        g.node.push(NodeProto {
            input: vec![x, "view_shape".into()],
            output: vec!["output".into()],
            name: "/view/Reshape".into(),
            op_type: "Reshape".into(),
            ..Default::default()
        });
    }));
    assert!(e.contains("'output'") && e.contains("[1, 2, 25]"), "{e}");
}

/// Every fixture computes in the general model what onnxruntime computed for it (the `y` of
/// its JSON, from the same `x`): loaded as the page loads it (batch norms folded), unfolded, and
/// written back out by `to_onnx` and read again.
#[test]
fn fixtures_compute_what_onnxruntime_computed() {
    use crate::nn::Model;
    let floats = |v: &serde_json::Value| -> Vec<f32> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap() as f32)
            .collect()
    };
    for f in fixtures() {
        let json: serde_json::Value =
            serde_json::from_slice(file(&format!("{}.json", f.name))).unwrap();
        let (x, y) = (floats(&json["x"]), floats(&json["y"]));
        let folded = crate::nn::io::load(f.onnx).unwrap();
        let unfolded = Model::from_onnx(f.onnx).unwrap();
        let again = crate::nn::io::load(&folded.to_onnx().unwrap()).unwrap();
        for (how, m) in [
            ("folded", &folded),
            ("unfolded", &unfolded),
            ("exported", &again),
        ] {
            let out = m.forward(&x).unwrap();
            let got = out.output();
            assert_eq!(got.len(), y.len(), "{} {how}", f.name);
            let worst = got
                .iter()
                .zip(&y)
                .map(|(g, w)| (g - w).abs() / (1.0 + w.abs()))
                .fold(0.0f32, f32::max);
            assert!(
                worst <= 1e-4,
                "{} {how}: worst relative difference {worst}",
                f.name
            );
        }
    }
}
