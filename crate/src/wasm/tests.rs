//! The exports with real JS values (wasm only: `JsValue` needs a JS engine): options read as
//! PyTorch's, results equal to the kernels', every bad argument a JS `Error` naming it, and
//! the instance working after many of them.

use js_sys::{Array, Float32Array, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::model::*;
use super::ops::*;
use super::trace::*;
use crate::conv::{self, Conv2dParams};
use crate::rng::Rng;
use crate::tensor::Tensor;

const CNN: &[u8] = include_bytes!("../../../data/models/cnn.safetensors");

fn obj(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &JsValue::from_str(k), v).unwrap();
    }
    o.into()
}

fn arr(v: &[f64]) -> JsValue {
    v.iter()
        .map(|&x| JsValue::from_f64(x))
        .collect::<Array>()
        .into()
}

fn message<T>(r: Result<T, JsError>) -> String {
    let e: JsValue = match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.into(),
    };
    e.dyn_into::<js_sys::Error>().unwrap().message().into()
}

/// A tensor made through the API; returns its handle and the same tensor in Rust.
fn tensor(rng: &mut Rng, shape: &[usize]) -> (JsValue, Tensor) {
    let data = rng.uniform_vec(shape.iter().product(), -1.0, 1.0);
    let t = Tensor::new(data.clone(), shape).unwrap();
    let js_shape = arr(&shape.iter().map(|&d| d as f64).collect::<Vec<_>>());
    let h = tensor_new(Float32Array::from(&data[..]).into(), js_shape).unwrap();
    (JsValue::from_f64(h), t)
}

fn read(h: f64) -> Tensor {
    let h = JsValue::from_f64(h);
    let shape: Vec<usize> = tensor_shape(h.clone())
        .unwrap()
        .iter()
        .map(|&d| d as usize)
        .collect();
    let t = Tensor::new(tensor_to_array(h.clone()).unwrap().to_vec(), &shape).unwrap();
    tensor_free(h).unwrap();
    t
}

#[test]
fn conv2d_reads_its_options_and_equals_the_kernel() {
    let mut rng = Rng::new(30);
    let (x, xr) = tensor(&mut rng, &[1, 4, 7, 6]);
    let (w, wr) = tensor(&mut rng, &[6, 2, 3, 3]);
    let (b, br) = tensor(&mut rng, &[6]);
    let opts = obj(&[
        ("stride", arr(&[2.0, 1.0])),
        ("padding", arr(&[1.0, 0.0, 2.0, 1.0])),
        ("groups", JsValue::from_f64(2.0)),
        ("dilation", JsValue::UNDEFINED),
    ]);
    let got = read(conv2d(x.clone(), w.clone(), b.clone(), opts.clone()).unwrap());
    let p = Conv2dParams {
        stride: [2, 1],
        padding: [1, 0, 2, 1],
        groups: 2,
        ..Default::default()
    };
    assert_eq!(got, conv::conv2d(&xr, &wr, Some(&br), &p).unwrap());
    // the bias is still usable after the call; no options, null bias
    let again = read(conv2d(x.clone(), w, b, opts).unwrap());
    assert_eq!(got, again);
    let (w1, _) = tensor(&mut rng, &[3, 4, 2, 2]);
    let y = read(conv2d(x.clone(), w1.clone(), JsValue::NULL, JsValue::UNDEFINED).unwrap());
    assert_eq!(y.shape(), [1, 3, 6, 5]);
    let y = read(conv2d(x, w1, JsValue::UNDEFINED, JsValue::NULL).unwrap());
    assert_eq!(y.shape(), [1, 3, 6, 5]);
}

#[test]
fn conv_transpose2d_pool_softmax_relu_matmul() {
    let mut rng = Rng::new(31);
    let (x, xr) = tensor(&mut rng, &[1, 2, 5, 5]);
    let (w, _) = tensor(&mut rng, &[2, 3, 4, 4]);
    let opts = obj(&[
        ("stride", JsValue::from_f64(2.0)),
        ("padding", JsValue::from_f64(1.0)),
        ("outputPadding", JsValue::from_f64(1.0)),
    ]);
    let y = conv_transpose2d(x.clone(), w, JsValue::NULL, opts).unwrap();
    assert_eq!(read(y).shape(), [1, 3, 11, 11]);
    let y = conv_transpose2d(
        x.clone(),
        tensor(&mut rng, &[2, 3, 4, 4]).0,
        JsValue::NULL,
        obj(&[
            ("stride", 2.0.into()),
            ("padding", 1.0.into()),
            ("outputPadding", 1.0.into()),
        ]),
    )
    .unwrap();
    let pooled = max_pool2d(
        JsValue::from_f64(y),
        obj(&[("kernelSize", 2.0.into()), ("ceilMode", JsValue::TRUE)]),
    )
    .unwrap();
    let s = read(softmax(JsValue::from_f64(pooled), 1.0.into()).unwrap());
    assert_eq!(s.shape(), [1, 3, 6, 6]);
    let sum: f32 = (0..3).map(|c| s.data()[c * 36]).sum();
    assert!((sum - 1.0).abs() < 1e-6);
    assert_eq!(read(relu(x).unwrap()), crate::ops::relu(&xr));
    let (a, _) = tensor(&mut rng, &[3, 4]);
    let (b, _) = tensor(&mut rng, &[4, 2]);
    assert_eq!(read(matmul(a, b).unwrap()).shape(), [3, 2]);
}

#[test]
fn bad_options_are_js_errors_naming_them() {
    let mut rng = Rng::new(32);
    let (x, _) = tensor(&mut rng, &[1, 2, 5, 5]);
    let (w, _) = tensor(&mut rng, &[2, 2, 3, 3]);
    let cases: Vec<(JsValue, &str)> = vec![
        (obj(&[("stride", (-1.0).into())]), "invalid stride = -1"),
        (obj(&[("stride", 0.0.into())]), "invalid stride = [0, 0]"),
        (
            obj(&[("stride", "2".into())]),
            "invalid stride = a string \"2\"",
        ),
        (
            obj(&[("dilation", f64::NAN.into())]),
            "invalid dilation = NaN",
        ),
        (
            obj(&[("padding", arr(&[1.0, 2.0, 3.0]))]),
            "invalid padding = [1, 2, 3]",
        ),
        (
            obj(&[("padding", arr(&[1.5, 2.0]))]),
            "invalid padding = [1.5, 2]",
        ),
        (obj(&[("groups", 3.0.into())]), "invalid groups = 3"),
        (obj(&[("strides", 2.0.into())]), "invalid option = strides"),
        (
            obj(&[("outputPadding", 1.0.into())]),
            "invalid option = outputPadding",
        ),
        (
            obj(&[("dilation", 5.0.into())]),
            "invalid kernelSize = [3, 3]",
        ),
        (5.0.into(), "invalid opts = 5"),
        (arr(&[1.0]), "invalid opts = [1]"),
    ];
    for (opts, want) in cases {
        let m = message(conv2d(x.clone(), w.clone(), JsValue::NULL, opts));
        assert!(m.starts_with(want), "{m:?} should start with {want:?}");
    }
    let opts = obj(&[("stride", 2.0.into()), ("outputPadding", 2.0.into())]);
    let m = message(conv_transpose2d(x.clone(), w.clone(), JsValue::NULL, opts));
    assert!(m.starts_with("invalid outputPadding = [2, 2]"), "{m}");
    let m = message(max_pool2d(x.clone(), JsValue::UNDEFINED));
    assert!(m.starts_with("invalid opts"), "{m}");
    let m = message(max_pool2d(x.clone(), obj(&[("stride", 1.0.into())])));
    assert!(m.starts_with("invalid kernelSize = undefined"), "{m}");
    let m = message(max_pool2d(
        x.clone(),
        obj(&[("kernelSize", 2.0.into()), ("ceilMode", "yes".into())]),
    ));
    assert!(m.starts_with("invalid ceilMode = a string \"yes\""), "{m}");
    let m = message(max_pool2d(x.clone(), obj(&[("kernelSize", 9.0.into())])));
    assert!(m.starts_with("invalid kernelSize = [9, 9]"), "{m}");
    let m = message(softmax(x.clone(), 4.0.into()));
    assert!(m.starts_with("invalid axis = 4"), "{m}");
    let m = message(matmul(x.clone(), w.clone()));
    assert!(m.contains("a"), "{m}");
    let (bias, _) = tensor(&mut rng, &[3]);
    let m = message(conv2d(x.clone(), w.clone(), bias, JsValue::NULL));
    assert!(m.starts_with("invalid bias = [3]"), "{m}");
    let m = message(conv2d(x.clone(), w.clone(), 1e15.into(), JsValue::NULL));
    assert!(
        m.starts_with("invalid bias = 1000000000000000: is not a Tensor handle"),
        "{m}"
    );
    let m = message(conv2d(x, w, obj(&[]), JsValue::NULL));
    assert!(
        m.starts_with("invalid bias = an object: must be a Tensor"),
        "{m}"
    );
    let m = message(tensor_new(
        Float32Array::from(&[1.0f32, 2.0][..]).into(),
        arr(&[3.0]),
    ));
    assert!(
        m.starts_with("invalid data = a Float32Array of 2 elements"),
        "{m}"
    );
}

#[test]
fn handles_are_checked_and_freeing_is_said() {
    let mut rng = Rng::new(34);
    let (x, _) = tensor(&mut rng, &[2, 2]);
    tensor_free(x.clone()).unwrap();
    tensor_free(x.clone()).unwrap(); // twice is fine
    assert!(message(tensor_shape(x.clone())).contains("was freed"));
    assert!(message(relu(x)).starts_with("invalid x = a freed Tensor"));
    assert!(message(relu(1e15.into())).contains("is not a Tensor handle"));
    assert!(message(relu(0.5.into())).contains("is not a Tensor handle"));
    assert!(message(relu("8".into())).starts_with("invalid x = a string: must be a Tensor"));
}

#[test]
fn max_pool2d_takes_padding_per_side() {
    let mut rng = Rng::new(34);
    let (x, xr) = tensor(&mut rng, &[1, 2, 5, 6]);
    let xf = crate::reference::to_f64(xr.data());
    for (pad, want) in [
        (JsValue::from_f64(1.0), [1; 4]),
        (arr(&[1.0, 0.0]), [1, 0, 1, 0]),
        (arr(&[0.0, 1.0, 1.0, 0.0]), [0, 1, 1, 0]),
        (arr(&[1.0, 1.0, 0.0, 1.0]), [1, 1, 0, 1]),
    ] {
        let opts = obj(&[
            ("kernelSize", arr(&[3.0, 2.0])),
            ("stride", 2.0.into()),
            ("padding", pad),
        ]);
        let y = read(max_pool2d(x.clone(), opts).unwrap());
        let p = conv::Pool2dParams {
            stride: [2, 2],
            padding: want,
            ..conv::Pool2dParams::new([3, 2])
        };
        let (r, _, shape) = crate::reference::max_pool2d(&xf, [1, 2, 5, 6], &p);
        assert_eq!(y.shape(), shape, "{want:?}");
        let r: Vec<f32> = r.iter().map(|&v| v as f32).collect();
        assert_eq!(y.data(), &r[..], "{want:?}");
    }
    for (pad, start) in [
        (
            arr(&[0.0, 0.0, 2.0, 0.0]),
            "invalid padding = [0, 0, 2, 0]: each side must be at most half",
        ),
        (
            arr(&[0.0, 2.0]),
            "invalid padding = [0, 2, 0, 2]: each side must be at most half",
        ),
        (
            arr(&[1.0, 1.0, 1.0]),
            "invalid padding = [1, 1, 1]: must be a number, [h, w] or [top, left, bottom, right]",
        ),
        (
            arr(&[0.0, 0.5, 0.0, 0.0]),
            "invalid padding = [0, 0.5, 0, 0]",
        ),
    ] {
        let opts = obj(&[("kernelSize", arr(&[3.0, 2.0])), ("padding", pad)]);
        let m = message(max_pool2d(x.clone(), opts));
        assert!(m.starts_with(start), "{m:?} should start with {start:?}");
    }
}

#[test]
fn the_instance_keeps_working_after_many_errors() {
    let mut rng = Rng::new(33);
    let (x, xr) = tensor(&mut rng, &[1, 1, 6, 6]);
    let (w, wr) = tensor(&mut rng, &[1, 1, 3, 3]);
    let before = super::ops::live();
    for i in 0..300 {
        let opts = obj(&[("stride", (-(i as f64)).into())]);
        assert!(conv2d(x.clone(), w.clone(), JsValue::NULL, opts).is_err());
        assert!(conv_transpose2d(
            x.clone(),
            w.clone(),
            JsValue::NULL,
            obj(&[("padding", 50.0.into())])
        )
        .is_err());
        assert!(max_pool2d(x.clone(), obj(&[("kernelSize", 7.0.into())])).is_err());
        assert!(tensor_shape(JsValue::from_f64(1e9)).is_err());
    }
    assert_eq!(super::ops::live(), before);
    let y = read(conv2d(x, w, JsValue::NULL, obj(&[("padding", 1.0.into())])).unwrap());
    assert_eq!(
        y,
        conv::conv2d(&xr, &wr, None, &Conv2dParams::default().pad(1)).unwrap()
    );
}

#[test]
fn models_load_forward_and_say_what_is_wrong() {
    let bytes: JsValue = Uint8Array::from(CNN).into();
    let m = JsValue::from_f64(model_load(bytes).unwrap());
    assert_eq!(model_arch(m.clone()).unwrap(), "cnn");
    let layers: Array = model_layers(m.clone()).unwrap().dyn_into().unwrap();
    assert_eq!(layers.length(), 12);
    let conv1 = layers.get(1);
    let conv = Reflect::get(&conv1, &"conv".into()).unwrap();
    let pad: Array = Reflect::get(&conv, &"padding".into())
        .unwrap()
        .dyn_into()
        .unwrap();
    assert_eq!(pad.get(0).as_f64(), Some(2.0));
    let px: JsValue = Float32Array::from(&[0.25f32; 784][..]).into();
    let g = JsValue::from_f64(model_forward(m.clone(), px.clone()).unwrap());
    assert_eq!(forward_num_layers(m.clone(), g.clone()).unwrap(), 12.0);
    assert_eq!(
        forward_name(m.clone(), g.clone(), 1.0.into()).unwrap(),
        "conv1"
    );
    assert_eq!(
        forward_shape(m.clone(), g.clone(), 3.0.into()).unwrap(),
        vec![8, 14, 14]
    );
    assert_eq!(
        forward_activation(m.clone(), g.clone(), 1.0.into())
            .unwrap()
            .len(),
        8 * 28 * 28
    );
    let p = forward_probabilities(m.clone(), g.clone()).unwrap();
    assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    // the fused path: the same probabilities, and the forward it did not make stays current
    let fast = model_predict(m.clone(), px.clone()).unwrap();
    assert_eq!(fast.len(), 10);
    for (a, b) in fast.iter().zip(&p) {
        assert!((a - b).abs() <= 1e-5, "{fast:?} vs {p:?}");
    }
    assert_eq!(forward_probabilities(m.clone(), g.clone()).unwrap(), p);
    assert!(message(model_predict(
        m.clone(),
        Float32Array::from(&[0.0f32; 783][..]).into()
    ))
    .starts_with("invalid pixels = a Float32Array of 783 elements"));
    assert!(message(model_predict(m.clone(), "pixels".into())).starts_with("invalid pixels"));
    assert!(
        message(forward_activation(m.clone(), g.clone(), 12.0.into())).contains("numLayers() = 12")
    );
    assert!(message(forward_activation(
        m.clone(),
        g.clone(),
        (4294967297.0).into()
    ))
    .contains("is too large"));
    let _g2 = model_forward(m.clone(), px).unwrap();
    assert!(message(forward_top(m.clone(), g)).contains("stale"));
    let w: Object = model_weights(m.clone(), "conv1".into())
        .unwrap()
        .dyn_into()
        .unwrap();
    let data: Float32Array = Reflect::get(&w, &"data".into())
        .unwrap()
        .dyn_into()
        .unwrap();
    assert_eq!(data.length(), 200);
    assert!(message(model_weights(m.clone(), "conv9".into())).contains("conv1, conv2, fc1, fc2"));
    assert!(message(model_weights(m.clone(), obj(&[])))
        .starts_with("invalid name = an object: must be a string"));
    assert!(message(model_load(Uint8Array::from(&CNN[..1000]).into())).contains("truncated"));
    assert!(
        message(model_load(Uint8Array::from(&b"nonsense"[..]).into())).contains("weights error")
    );
    assert!(message(model_forward(
        m.clone(),
        Float32Array::from(&[0.0f32; 10][..]).into()
    ))
    .contains("784"));
    let mut bad = [0.0f32; 784];
    bad[100] = f32::INFINITY;
    assert!(message(model_forward(
        m.clone(),
        Float32Array::from(&bad[..]).into()
    ))
    .contains("pixel 100"));
    model_free(m.clone()).unwrap();
    assert!(message(model_arch(m)).contains("was freed"));
}

#[test]
fn preprocess_checks_sizes_before_copying() {
    assert!(preprocess(
        Uint8Array::from(&[0u8; 16][..]).into(),
        2.0.into(),
        2.0.into()
    )
    .unwrap()
    .is_null());
    assert!(message(preprocess(
        Uint8Array::from(&[0u8; 15][..]).into(),
        2.0.into(),
        2.0.into()
    ))
    .contains("15 bytes"));
    assert!(message(preprocess(
        Uint8Array::from(&[0u8; 12][..]).into(),
        2.0.into(),
        1.5.into()
    ))
    .starts_with("invalid height = 1.5"));
    let mut rgba = vec![0u8; 40 * 40 * 4];
    for y in 5..30 {
        rgba[(y * 40 + 20) * 4 + 3] = 255;
    }
    let px: Float32Array = preprocess(Uint8Array::from(&rgba[..]).into(), 40.0.into(), 40.0.into())
        .unwrap()
        .dyn_into()
        .unwrap();
    assert_eq!(px.length(), 784);
}

#[test]
fn traces_are_plain_objects_with_typed_arrays() {
    let setting = obj(&[
        ("size", 4.0.into()),
        ("kernelSize", 2.0.into()),
        ("stride", 2.0.into()),
    ]);
    let t = trace_correlate(
        Float32Array::from(&[1.0f32; 16][..]).into(),
        Float32Array::from(&[1.0f32; 4][..]).into(),
        setting.clone(),
    )
    .unwrap();
    assert_eq!(
        Reflect::get(&t, &"outH".into()).unwrap().as_f64(),
        Some(2.0)
    );
    let out: Float32Array = Reflect::get(&t, &"output".into())
        .unwrap()
        .dyn_into()
        .unwrap();
    assert_eq!(out.to_vec(), vec![4.0; 4]);
    let terms = Reflect::get(&t, &"terms".into()).unwrap();
    let rows = Reflect::get(&terms, &"rows".into()).unwrap();
    assert_eq!(
        Reflect::get(&rows, &"span".into()).unwrap().as_f64(),
        Some(2.0)
    );
    let r = trace_correlate_ranges(setting).unwrap();
    let stride: Array = Reflect::get(&r, &"stride".into())
        .unwrap()
        .dyn_into()
        .unwrap();
    assert_eq!(stride.length(), 2);
    let m = message(trace_correlate(
        Float32Array::from(&[1.0f32; 15][..]).into(),
        Float32Array::from(&[1.0f32; 4][..]).into(),
        obj(&[("size", 4.0.into()), ("kernelSize", 2.0.into())]),
    ));
    assert!(
        m.starts_with("invalid input = a Float32Array of 15 elements"),
        "{m}"
    );
    let m = message(trace_preset_kernel(5.0.into()));
    assert!(m.starts_with("invalid opts = 5"), "{m}");
    let m = message(trace_transpose_settle(obj(&[
        ("size", arr(&[1.0, -1.0])),
        ("kernelSize", 3.0.into()),
    ])));
    assert!(m.starts_with("invalid size = [1, -1]"), "{m}");
}

#[test]
fn normalized_traces_and_patches_cross_as_plain_objects() {
    // A 4×4 image of two repeats of one 2×2 pattern at different brightness: the patch cut from
    // the first is found at both with score 1.
    #[rustfmt::skip]
    let x = [
        0.0f32, 1.0, 0.0, 0.0,
        1.0,    0.0, 0.0, 0.0,
        0.0,    0.0, 0.5, 2.5,
        0.0,    0.0, 2.5, 0.5,
    ];
    let img: JsValue = Float32Array::from(&x[..]).into();
    let p = trace_correlate_patch(
        img.clone(),
        obj(&[
            ("size", 4.0.into()),
            ("top", 0.0.into()),
            ("left", 0.0.into()),
            ("kernelSize", 2.0.into()),
        ]),
    )
    .unwrap();
    let values: Float32Array = Reflect::get(&p, &"values".into())
        .unwrap()
        .dyn_into()
        .unwrap();
    assert_eq!(values.to_vec(), vec![0.0, 1.0, 1.0, 0.0]);
    let setting = obj(&[
        ("size", 4.0.into()),
        ("kernelSize", 2.0.into()),
        ("normalized", true.into()),
    ]);
    let t = trace_correlate(img.clone(), values.into(), setting).unwrap();
    let out: Float32Array = Reflect::get(&t, &"output".into())
        .unwrap()
        .dyn_into()
        .unwrap();
    let out = out.to_vec();
    assert!(
        (out[0] - 1.0).abs() < 1e-6 && (out[8] - 1.0).abs() < 1e-6,
        "{out:?}"
    );
    let ncc = Reflect::get(&t, &"ncc".into()).unwrap();
    let matches: js_sys::Uint32Array = Reflect::get(&ncc, &"matches".into())
        .unwrap()
        .dyn_into()
        .unwrap();
    assert_eq!(matches.to_vec(), vec![0, 8]);
    assert_eq!(
        Reflect::get(&ncc, &"kernelMean".into()).unwrap().as_f64(),
        Some(0.5)
    );
    // Bad arguments are named errors, checked before the image is read.
    let bad = |pairs: &[(&str, JsValue)]| message(trace_correlate_patch(img.clone(), obj(pairs)));
    let m = bad(&[
        ("size", 4.0.into()),
        ("top", 3.0.into()),
        ("left", 0.0.into()),
        ("kernelSize", 2.0.into()),
    ]);
    assert!(
        m.starts_with("invalid top = 3: the 2×2 box must lie on the 4×4 image: top at most 2"),
        "{m}"
    );
    let m = bad(&[
        ("size", 4.0.into()),
        ("top", 0.0.into()),
        ("left", (-1.0).into()),
        ("kernelSize", 2.0.into()),
    ]);
    assert!(
        m.starts_with("invalid left = -1: must be a whole number"),
        "{m}"
    );
    let m = bad(&[
        ("size", 97.0.into()),
        ("top", 0.0.into()),
        ("left", 0.0.into()),
        ("kernelSize", 2.0.into()),
    ]);
    assert!(m.starts_with("invalid size = [97, 97]"), "{m}");
    let m = bad(&[
        ("size", 4.0.into()),
        ("top", 0.0.into()),
        ("left", 0.0.into()),
    ]);
    assert!(
        m.starts_with("invalid kernelSize = undefined: is required"),
        "{m}"
    );
    let m = message(trace_correlate_patch(
        Float32Array::from(&[0.0f32; 15][..]).into(),
        obj(&[
            ("size", 4.0.into()),
            ("top", 0.0.into()),
            ("left", 0.0.into()),
            ("kernelSize", 2.0.into()),
        ]),
    ));
    assert!(
        m.starts_with("invalid input = a Float32Array of 15 elements"),
        "{m}"
    );
    let m = message(trace_correlate(
        img,
        Float32Array::from(&[1.0f32; 4][..]).into(),
        obj(&[
            ("size", 4.0.into()),
            ("kernelSize", 2.0.into()),
            ("normalized", 1.0.into()),
        ]),
    ));
    assert!(
        m.starts_with("invalid normalized = 1: must be true or false"),
        "{m}"
    );
}
