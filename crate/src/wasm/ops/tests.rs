//! Option parsing natively (plain Rust), and the exported functions with real JS values in wasm.

use super::*;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

#[track_caller]
fn assert_bad<T: std::fmt::Debug>(r: Result<T>, name: &str, value: &str) {
    match r {
        Err(Error::Param {
            name: n, value: v, ..
        }) if n == name && v == value => {}
        other => panic!("expected invalid {name} = {value}, got {other:?}"),
    }
}

#[test]
fn pairs_accept_a_number_or_two() {
    assert_eq!(parse_pair("stride", &Opt::Absent, [1, 1]).unwrap(), [1, 1]);
    assert_eq!(
        parse_pair("stride", &Opt::Num(2.0), [1, 1]).unwrap(),
        [2, 2]
    );
    assert_eq!(
        parse_pair("stride", &Opt::List(vec![1.0, 3.0]), [1, 1]).unwrap(),
        [1, 3]
    );
    assert_bad(
        parse_pair("stride", &Opt::Num(-1.0), [1, 1]),
        "stride",
        "-1",
    );
    assert_bad(
        parse_pair("dilation", &Opt::Num(1.5), [1, 1]),
        "dilation",
        "1.5",
    );
    assert_bad(
        parse_pair("stride", &Opt::Num(f64::NAN), [1, 1]),
        "stride",
        "NaN",
    );
    assert_bad(
        parse_pair("stride", &Opt::Num(f64::INFINITY), [1, 1]),
        "stride",
        "inf",
    );
    assert_bad(
        parse_pair("stride", &Opt::Num(1e300), [1, 1]),
        "stride",
        "1e300",
    );
    assert_bad(
        parse_pair("outputPadding", &Opt::List(vec![1.0, 2.0, 3.0]), [0, 0]),
        "outputPadding",
        "[1, 2, 3]",
    );
    assert_bad(
        parse_pair("kernelSize", &Opt::List(vec![2.0, -2.0]), [0, 0]),
        "kernelSize",
        "[2, -2]",
    );
    assert_bad(
        parse_pair("stride", &Opt::Bool(true), [1, 1]),
        "stride",
        "true",
    );
    assert_bad(
        parse_pair("stride", &Opt::Other("a string \"2\"".into()), [1, 1]),
        "stride",
        "a string \"2\"",
    );
}

#[test]
fn padding_takes_one_two_or_four_numbers() {
    assert_eq!(parse_padding(&Opt::Absent).unwrap(), [0; 4]);
    assert_eq!(parse_padding(&Opt::Num(2.0)).unwrap(), [2; 4]);
    assert_eq!(
        parse_padding(&Opt::List(vec![1.0, 2.0])).unwrap(),
        [1, 2, 1, 2]
    );
    assert_eq!(
        parse_padding(&Opt::List(vec![1.0, 2.0, 3.0, 4.0])).unwrap(),
        [1, 2, 3, 4]
    );
    assert_bad(
        parse_padding(&Opt::List(vec![1.0, 2.0, 3.0])),
        "padding",
        "[1, 2, 3]",
    );
    assert_bad(parse_padding(&Opt::List(vec![])), "padding", "[]");
    assert_bad(
        parse_padding(&Opt::List(vec![0.0, 0.5])),
        "padding",
        "[0, 0.5]",
    );
}

#[test]
fn conv_and_pool_options() {
    let get = |k: &'static str| match k {
        "stride" => Opt::List(vec![2.0, 1.0]),
        "padding" => Opt::Num(1.0),
        "groups" => Opt::Num(2.0),
        "outputPadding" => Opt::Num(1.0),
        _ => Opt::Absent,
    };
    let p = conv_params(get, false).unwrap();
    assert_eq!(
        p,
        Conv2dParams {
            stride: [2, 1],
            padding: [1; 4],
            dilation: [1, 1],
            groups: 2,
            output_padding: [0, 0]
        }
    );
    assert_eq!(conv_params(get, true).unwrap().output_padding, [1, 1]);
    assert_eq!(
        conv_params(|_| Opt::Absent, true).unwrap(),
        Conv2dParams::default()
    );
    assert_bad(
        conv_params(
            |k| {
                if k == "groups" {
                    Opt::List(vec![2.0])
                } else {
                    Opt::Absent
                }
            },
            false,
        ),
        "groups",
        "[2]",
    );

    let p = pool_params(|k| {
        if k == "kernelSize" {
            Opt::Num(3.0)
        } else {
            Opt::Absent
        }
    })
    .unwrap();
    assert_eq!(p, Pool2dParams::new([3, 3]));
    assert_bad(pool_params(|_| Opt::Absent), "kernelSize", "undefined");
    let p = pool_params(|k| match k {
        "kernelSize" => Opt::List(vec![2.0, 3.0]),
        "ceilMode" => Opt::Bool(true),
        "stride" => Opt::Num(1.0),
        _ => Opt::Absent,
    })
    .unwrap();
    assert_eq!((p.kernel, p.stride, p.ceil_mode), ([2, 3], [1, 1], true));
    assert_bad(
        pool_params(|k| match k {
            "kernelSize" => Opt::Num(2.0),
            "ceilMode" => Opt::Num(1.0),
            _ => Opt::Absent,
        }),
        "ceilMode",
        "1",
    );
    assert!(check_keys(&["stride".into()], CONV_KEYS, "conv2d").is_ok());
    assert_bad(
        check_keys(&["strides".into()], CONV_KEYS, "conv2d"),
        "option",
        "strides",
    );
    assert_bad(
        check_keys(&["outputPadding".into()], CONV_KEYS, "conv2d"),
        "option",
        "outputPadding",
    );
}

#[test]
fn softmax_axis_defaults_to_last_and_counts_negative_from_the_end() {
    assert_eq!(softmax_axis(None, 3).unwrap(), 2);
    assert_eq!(softmax_axis(Some(0.0), 3).unwrap(), 0);
    assert_eq!(softmax_axis(Some(-1.0), 3).unwrap(), 2);
    assert_eq!(softmax_axis(Some(-3.0), 3).unwrap(), 0);
    assert_bad(softmax_axis(Some(-4.0), 3), "axis", "-4");
    assert_bad(softmax_axis(Some(3.0), 3), "axis", "3");
    assert_bad(softmax_axis(Some(0.5), 3), "axis", "0.5");
    assert_bad(softmax_axis(Some(f64::NAN), 3), "axis", "NaN");
}

/// The exported functions with real JS values (wasm only: JsValue needs a JS engine).
#[cfg(target_arch = "wasm32")]
mod js {
    use super::*;
    use crate::reference::Rng;
    use crate::tensor::Tensor;
    use js_sys::{Array, Object, Reflect};
    use wasm_bindgen::JsCast;
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn tensor(rng: &mut Rng, shape: &[usize]) -> JsTensor {
        Tensor::new(rng.vec(shape.iter().product()), shape)
            .unwrap()
            .into()
    }

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

    fn message<T>(r: std::result::Result<T, JsError>) -> String {
        let e: JsValue = match r {
            Ok(_) => panic!("expected an error"),
            Err(e) => e.into(),
        };
        e.dyn_into::<js_sys::Error>().unwrap().message().into()
    }

    #[test]
    fn conv2d_reads_its_options() {
        let mut rng = Rng::new(30);
        let x = tensor(&mut rng, &[1, 4, 7, 6]);
        let w = tensor(&mut rng, &[6, 2, 3, 3]);
        let b = tensor(&mut rng, &[6]);
        let opts = obj(&[
            ("stride", arr(&[2.0, 1.0])),
            ("padding", arr(&[1.0, 0.0, 2.0, 1.0])),
            ("groups", JsValue::from_f64(2.0)),
            ("dilation", JsValue::UNDEFINED),
        ]);
        // the bias crosses as a JS Tensor object and stays usable after the call
        let bias_js: JsValue = JsTensor::from(b.inner.clone()).into();
        let got = conv2d(&x, &w, Some(bias_js.clone()), Some(opts.clone())).unwrap();
        let again = conv2d(&x, &w, Some(bias_js), Some(opts)).unwrap();
        assert_eq!(got.inner, again.inner);
        let p = Conv2dParams {
            stride: [2, 1],
            padding: [1, 0, 2, 1],
            groups: 2,
            ..Default::default()
        };
        let want = conv::conv2d(&x.inner, &w.inner, Some(&b.inner), &p).unwrap();
        assert_eq!(got.inner, want);
        // no options, null bias
        let w1 = tensor(&mut rng, &[3, 4, 2, 2]);
        let got = conv2d(&x, &w1, None, None).unwrap();
        assert_eq!(got.inner.shape(), [1, 3, 6, 5]);
        let got = conv2d(&x, &w1, None, Some(JsValue::NULL)).unwrap();
        assert_eq!(got.inner.shape(), [1, 3, 6, 5]);
    }

    #[test]
    fn conv_transpose2d_and_pool_and_softmax() {
        let mut rng = Rng::new(31);
        let x = tensor(&mut rng, &[1, 2, 5, 5]);
        let w = tensor(&mut rng, &[2, 3, 4, 4]);
        let opts = obj(&[
            ("stride", JsValue::from_f64(2.0)),
            ("padding", JsValue::from_f64(1.0)),
            ("outputPadding", JsValue::from_f64(1.0)),
        ]);
        let y = conv_transpose2d(&x, &w, None, Some(opts)).unwrap();
        assert_eq!(y.inner.shape(), [1, 3, 11, 11]);
        let pooled = max_pool2d(
            &y,
            obj(&[
                ("kernelSize", JsValue::from_f64(2.0)),
                ("ceilMode", JsValue::TRUE),
            ]),
        )
        .unwrap();
        assert_eq!(pooled.inner.shape(), [1, 3, 6, 6]);
        let s = softmax(&pooled, Some(1.0)).unwrap();
        let sum: f32 = (0..3).map(|c| s.inner.data()[c * 36]).sum();
        assert!((sum - 1.0).abs() < 1e-6);
        assert_eq!(relu(&x).inner, crate::ops::relu(&x.inner));
        let a = tensor(&mut rng, &[3, 4]);
        let b = tensor(&mut rng, &[4, 2]);
        assert_eq!(matmul(&a, &b).unwrap().inner.shape(), [3, 2]);
    }

    #[test]
    fn bad_options_are_js_errors_naming_them() {
        let mut rng = Rng::new(32);
        let x = tensor(&mut rng, &[1, 2, 5, 5]);
        let w = tensor(&mut rng, &[2, 2, 3, 3]);
        let cases: Vec<(JsValue, &str)> = vec![
            (
                obj(&[("stride", JsValue::from_f64(-1.0))]),
                "invalid stride = -1",
            ),
            (
                obj(&[("stride", JsValue::from_f64(0.0))]),
                "invalid stride = [0, 0]",
            ),
            (
                obj(&[("stride", JsValue::from_str("2"))]),
                "invalid stride = a string \"2\"",
            ),
            (
                obj(&[("dilation", JsValue::from_f64(f64::NAN))]),
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
            (
                obj(&[("groups", JsValue::from_f64(3.0))]),
                "invalid groups = 3",
            ),
            (
                obj(&[("strides", JsValue::from_f64(2.0))]),
                "invalid option = strides",
            ),
            (
                obj(&[("outputPadding", JsValue::from_f64(1.0))]),
                "invalid option = outputPadding",
            ),
            (
                obj(&[("dilation", JsValue::from_f64(5.0))]),
                "invalid kernelSize = [3, 3]",
            ),
            (JsValue::from_f64(5.0), "invalid opts = 5"),
            (arr(&[1.0]), "invalid opts = an object"),
        ];
        for (opts, want) in cases {
            let m = message(conv2d(&x, &w, None, Some(opts)));
            assert!(m.starts_with(want), "{m:?} should start with {want:?}");
        }
        let opts = obj(&[
            ("stride", JsValue::from_f64(2.0)),
            ("outputPadding", JsValue::from_f64(2.0)),
        ]);
        let m = message(conv_transpose2d(&x, &w, None, Some(opts)));
        assert!(m.starts_with("invalid outputPadding = [2, 2]"), "{m}");
        let m = message(max_pool2d(&x, JsValue::UNDEFINED));
        assert!(m.starts_with("invalid opts"), "{m}");
        let m = message(max_pool2d(&x, obj(&[("stride", JsValue::from_f64(1.0))])));
        assert!(m.starts_with("invalid kernelSize = undefined"), "{m}");
        let m = message(max_pool2d(
            &x,
            obj(&[
                ("kernelSize", JsValue::from_f64(2.0)),
                ("ceilMode", JsValue::from_str("yes")),
            ]),
        ));
        assert!(m.starts_with("invalid ceilMode = a string \"yes\""), "{m}");
        let m = message(max_pool2d(
            &x,
            obj(&[("kernelSize", JsValue::from_f64(9.0))]),
        ));
        assert!(m.starts_with("invalid kernelSize = [9, 9]"), "{m}");
        let m = message(softmax(&x, Some(4.0)));
        assert!(m.starts_with("invalid axis = 4"), "{m}");
        let m = message(matmul(&x, &w));
        assert!(m.contains("a"), "{m}");
        let bias = tensor(&mut rng, &[3]);
        let m = message(conv2d(&x, &w, Some(bias.into()), None));
        assert!(m.starts_with("invalid bias = [3]"), "{m}");
        let m = message(conv2d(&x, &w, Some(JsValue::from_f64(5.0)), None));
        assert!(m.starts_with("invalid bias = 5"), "{m}");
        let m = message(conv2d(&x, &w, Some(obj(&[])), None));
        assert!(m.starts_with("invalid bias = an object"), "{m}");
        assert!(JsTensor::new(&[1.0, 2.0], vec![3]).is_err());
    }

    #[test]
    fn the_instance_keeps_working_after_many_errors() {
        let mut rng = Rng::new(33);
        let x = tensor(&mut rng, &[1, 1, 6, 6]);
        let w = tensor(&mut rng, &[1, 1, 3, 3]);
        for i in 0..100 {
            let opts = obj(&[("stride", JsValue::from_f64(-(i as f64)))]);
            assert!(conv2d(&x, &w, None, Some(opts)).is_err());
            assert!(conv_transpose2d(
                &x,
                &w,
                None,
                Some(obj(&[("padding", JsValue::from_f64(50.0))]))
            )
            .is_err());
            assert!(max_pool2d(&x, obj(&[("kernelSize", JsValue::from_f64(7.0))])).is_err());
        }
        let y = conv2d(
            &x,
            &w,
            None,
            Some(obj(&[("padding", JsValue::from_f64(1.0))])),
        )
        .unwrap();
        let want = conv::conv2d(&x.inner, &w.inner, None, &Conv2dParams::default().pad(1)).unwrap();
        assert_eq!(y.inner, want);
    }
}
