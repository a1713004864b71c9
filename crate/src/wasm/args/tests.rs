//! The option types natively, read from JSON (the same serde impls read the JS snapshot in
//! wasm). The messages are the API's: `invalid {name} = {value}: {reason}`.

use serde_json::json;

use super::*;
use crate::conv::{Conv2dParams, Pool2dParams};

fn parse<T: DeserializeOwned>(v: serde_json::Value) -> Result<T, ArgError> {
    read(v, "opts", "conv2d")
}

#[track_caller]
fn assert_bad<T: fmt::Debug>(r: Result<T, ArgError>, name: &str, value: &str) {
    match r {
        Err(e) if e.name == name && e.value == value => {}
        other => panic!("expected invalid {name} = {value}, got {other:?}"),
    }
}

#[test]
fn sizes_accept_a_number_or_two() {
    let s = |v| parse::<Size2d>(v);
    assert_eq!(s(json!(2)).unwrap(), Size2d([2, 2]));
    assert_eq!(s(json!([1, 3])).unwrap(), Size2d([1, 3]));
    assert_bad(s(json!(-1)), "opts", "-1");
    assert_bad(s(json!(1.5)), "opts", "1.5");
    assert_bad(s(json!(1e300)), "opts", "1e300");
    assert_bad(s(json!(4294967298u64)), "opts", "4294967298");
    assert_bad(s(json!([1, 2, 3])), "opts", "[1, 2, 3]");
    assert_bad(s(json!([2, -2])), "opts", "[2, -2]");
    assert_bad(s(json!(true)), "opts", "true");
    assert_bad(s(json!("2")), "opts", "a string \"2\"");
    assert_bad(s(json!({})), "opts", "an object");
    assert_bad(s(json!("\u{0}a function")), "opts", "a function");
    assert_bad(s(json!([[1], 2])), "opts", "[[1], 2]");
}

#[test]
fn padding_takes_one_two_or_four_numbers() {
    let p = |v| parse::<Padding2d>(v);
    assert_eq!(p(json!(2)).unwrap(), Padding2d([2; 4]));
    assert_eq!(p(json!([1, 2])).unwrap(), Padding2d([1, 2, 1, 2]));
    assert_eq!(p(json!([1, 2, 3, 4])).unwrap(), Padding2d([1, 2, 3, 4]));
    assert_bad(p(json!([1, 2, 3])), "opts", "[1, 2, 3]");
    assert_bad(p(json!([])), "opts", "[]");
    assert_bad(p(json!([0, 0.5])), "opts", "[0, 0.5]");
}

#[test]
fn conv_and_pool_options() {
    let o: ConvOptions = parse(json!({ "stride": [2, 1], "padding": 1, "groups": 2 })).unwrap();
    assert_eq!(
        o.params(),
        Conv2dParams {
            stride: [2, 1],
            padding: [1; 4],
            dilation: [1, 1],
            groups: 2,
            output_padding: [0, 0]
        }
    );
    let o: ConvOptions = parse(json!({ "dilation": null })).unwrap();
    assert_eq!(o.params(), Conv2dParams::default());
    let o: ConvTransposeOptions = parse(json!({ "outputPadding": 1 })).unwrap();
    assert_eq!(o.params().output_padding, [1, 1]);
    assert_bad(
        parse::<ConvOptions>(json!({ "groups": [2] })),
        "groups",
        "[2]",
    );
    assert_bad(
        parse::<ConvOptions>(json!({ "stride": -1 })),
        "stride",
        "-1",
    );
    assert_bad(
        parse::<ConvOptions>(json!({ "strides": 2 })),
        "option",
        "strides",
    );
    let e = parse::<ConvOptions>(json!({ "outputPadding": 1 })).unwrap_err();
    assert_eq!(e.name, "option");
    assert!(e.to_string().contains("is not an option of conv2d"), "{e}");
    assert!(e.to_string().contains("\"stride\""), "{e}");

    let o: PoolOptions = parse(json!({ "kernelSize": 3 })).unwrap();
    assert_eq!(o.params(), Pool2dParams::new([3, 3]));
    let o: PoolOptions =
        parse(json!({ "kernelSize": [2, 3], "ceilMode": true, "stride": 1 })).unwrap();
    let p = o.params();
    assert_eq!((p.kernel, p.stride, p.ceil_mode), ([2, 3], [1, 1], true));
    // padding per side: a number, [h, w] or [top, left, bottom, right]
    for (json, want) in [
        (json!(1), [1; 4]),
        (json!([1, 0]), [1, 0, 1, 0]),
        (json!([0, 1, 1, 0]), [0, 1, 1, 0]),
    ] {
        let o: PoolOptions = parse(json!({ "kernelSize": 2, "padding": json })).unwrap();
        assert_eq!(o.params().padding, want);
    }
    for (bad, shown) in [
        (json!([1, 2, 3]), "[1, 2, 3]"),
        (json!([0, 0, 0, 0, 0]), "[0, 0, 0, 0, 0]"),
        (json!([0, 1.5, 0, 0]), "[0, 1.5, 0, 0]"),
        (json!([0, -1]), "[0, -1]"),
    ] {
        assert_bad(
            parse::<PoolOptions>(json!({ "kernelSize": 2, "padding": bad })),
            "padding",
            shown,
        );
    }
    assert_bad(
        parse::<PoolOptions>(json!({ "stride": 1 })),
        "kernelSize",
        "undefined",
    );
    assert_bad(
        parse::<PoolOptions>(json!({ "kernelSize": 2, "ceilMode": 1 })),
        "ceilMode",
        "1",
    );
    assert_bad(
        parse::<PoolOptions>(json!({ "kernelSize": 2, "ceilMode": "yes" })),
        "ceilMode",
        "a string \"yes\"",
    );
}

#[test]
fn scalars() {
    assert_eq!(parse::<Int>(json!(-3)).unwrap(), Int(-3));
    assert_bad(parse::<Int>(json!(0.5)), "opts", "0.5");
    assert_eq!(parse::<Whole>(json!(0)).unwrap(), Whole(0));
    assert_bad(parse::<Whole>(json!([1])), "opts", "[1]");
    assert_eq!(parse::<Name>(json!("conv1")).unwrap(), Name("conv1".into()));
    assert_bad(parse::<Name>(json!({})), "opts", "an object");
    let long = "x".repeat(1000);
    let e = parse::<Name>(json!(long)).unwrap_err();
    assert!(e.to_string().len() < 120, "{e}");
}

#[test]
fn trace_settings_need_their_sizes() {
    let s: CorrelateSetting =
        parse(json!({ "size": [5, 6], "kernelSize": 3, "padding": [0, 1, 2, 3], "flip": true }))
            .unwrap();
    assert_eq!((s.size.0, s.kernel_size.0), ([5, 6], [3, 3]));
    assert_eq!(s.params().padding, [0, 1, 2, 3]);
    assert_bad(
        parse::<CorrelateSetting>(json!({ "size": 5 })),
        "kernelSize",
        "undefined",
    );
    assert_bad(
        parse::<CorrelateSetting>(json!({ "size": 5, "kernelSize": 3, "outputPadding": 1 })),
        "option",
        "outputPadding",
    );
    let t: TransposeSetting =
        parse(json!({ "size": 4, "kernelSize": 3, "stride": 2, "outputPadding": 1 })).unwrap();
    assert_eq!(t.params().output_padding, [1, 1]);
}

#[test]
fn messages_are_capped() {
    let e = ArgError::new("x", "y".repeat(5000), "z");
    assert!(e.to_string().chars().count() <= MAX_MESSAGE);
    let big: Vec<u32> = (0..100).collect();
    let e = parse::<Size2d>(json!(big)).unwrap_err();
    assert!(e.to_string().len() < 200, "{e}");
}

#[test]
fn unknown_keys_are_refused_even_proto() {
    // What the snapshot writes for JSON.parse('{"__proto__":{"stride":2}}'): an own key.
    let e: Result<ConvOptions, _> = read(
        &mut serde_json::Deserializer::from_str(r#"{"__proto__":{"stride":2}}"#),
        "opts",
        "conv2d",
    );
    assert_bad(e, "option", "__proto__");
    let e: Result<ConvOptions, _> = read(
        &mut serde_json::Deserializer::from_str(r#"{"stride":"\u0000NaN"}"#),
        "opts",
        "conv2d",
    );
    assert_bad(e, "stride", "NaN");
    let e = e_msg(read::<ConvOptions, _>(
        &mut serde_json::Deserializer::from_str(r#"{"strides":2}"#),
        "opts",
        "conv2d",
    ));
    assert!(!e.contains("line"), "{e}");
}

fn e_msg<T: fmt::Debug>(r: Result<T, ArgError>) -> String {
    r.unwrap_err().to_string()
}
