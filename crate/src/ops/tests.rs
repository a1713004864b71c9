use super::*;
use crate::reference::{self as r, to_f64};
use crate::rng::Rng;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn t(data: Vec<f32>, shape: &[usize]) -> Tensor {
    Tensor::new(data, shape).unwrap()
}

#[track_caller]
fn assert_close(what: &str, got: &[f32], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(
            g as f64 == w || (g as f64 - w).abs() <= tol * (1.0 + w.abs()),
            "{what}[{i}]: got {g}, want {w}"
        );
    }
}

fn numeric_grad(v: &[f64], f: impl Fn(&[f64]) -> f64) -> Vec<f64> {
    let eps = 1e-3;
    let mut v = v.to_vec();
    (0..v.len())
        .map(|i| {
            let keep = v[i];
            v[i] = keep + eps;
            let up = f(&v);
            v[i] = keep - eps;
            let down = f(&v);
            v[i] = keep;
            (up - down) / (2.0 * eps)
        })
        .collect()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[test]
fn relu_and_its_backward() {
    let x = t(vec![-2.0, -0.0, 0.5, 3.0, f32::NAN, -1e-30], &[2, 3]);
    let y = relu(&x);
    assert_eq!(&y.data()[..4], [0.0, 0.0, 0.5, 3.0]);
    assert!(y.data()[4].is_nan());
    assert_eq!(y.data()[5], 0.0);
    assert_eq!(y.shape(), [2, 3]);
    // finite differences away from the kink
    let mut rng = Rng::new(20);
    let xs: Vec<f32> = rng
        .uniform_vec(50, -1.0, 1.0)
        .into_iter()
        .map(|v| if v.abs() < 0.01 { 0.5 } else { v })
        .collect();
    let x = t(xs, &[50]);
    let dy = t(rng.uniform_vec(50, -1.0, 1.0), &[50]);
    let dx = relu_backward(&x, &dy).unwrap();
    let dyf = to_f64(dy.data());
    let num = numeric_grad(&to_f64(x.data()), |v| {
        dot(&v.iter().map(|&a| a.max(0.0)).collect::<Vec<_>>(), &dyf)
    });
    assert_close("relu dx", dx.data(), &num, 1e-6);
    assert!(relu_backward(&x, &t(vec![0.0; 49], &[49])).is_err());
}

#[test]
fn softmax_is_stable_and_matches_reference() {
    let x = t(vec![1e4, 1e4 - 1.0, -1e4, 0.0, 1.0, 2.0], &[2, 3]);
    let y = softmax(&x, 1).unwrap();
    assert!(y.data().iter().all(|v| v.is_finite()), "{:?}", y.data());
    let want = r::softmax_rows(&to_f64(x.data()), 3);
    assert_close("softmax", y.data(), &want, 1e-6);
    // along axis 0 of a [3, 2, 4]: every (i, k) column sums to 1
    let mut rng = Rng::new(21);
    let x = t(
        rng.uniform_vec(24, -1.0, 1.0)
            .iter()
            .map(|v| v * 30.0)
            .collect(),
        &[3, 2, 4],
    );
    let y = softmax(&x, 0).unwrap();
    for i in 0..8 {
        let col: Vec<f64> = (0..3).map(|j| x.data()[j * 8 + i] as f64).collect();
        let want = r::softmax_rows(&col, 3);
        let got: Vec<f32> = (0..3).map(|j| y.data()[j * 8 + i]).collect();
        assert_close("softmax axis 0", &got, &want, 1e-5);
    }
    // middle axis
    let y = softmax(&x, 1).unwrap();
    for o in 0..3 {
        for i in 0..4 {
            let s: f32 = (0..2).map(|j| y.data()[(o * 2 + j) * 4 + i]).sum();
            assert!((s - 1.0).abs() < 1e-6);
        }
    }
    match softmax(&x, 3) {
        Err(Error::Param {
            name: "axis",
            value,
            ..
        }) => assert_eq!(value, "3"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn linear_matches_reference_and_backward_matches_finite_differences() {
    let mut rng = Rng::new(22);
    for &(n, inp, out) in &[(1, 1, 1), (1, 784, 10), (3, 17, 5), (8, 33, 12), (2, 5, 40)] {
        let x = t(rng.uniform_vec(n * inp, -1.0, 1.0), &[n, inp]);
        let w = t(rng.uniform_vec(out * inp, -1.0, 1.0), &[out, inp]);
        let b = t(rng.uniform_vec(out, -1.0, 1.0), &[out]);
        let y = linear(&x, &w, Some(&b)).unwrap();
        let (xf, wf, bf) = (to_f64(x.data()), to_f64(w.data()), to_f64(b.data()));
        assert_close(
            "linear",
            y.data(),
            &r::linear(&xf, n, inp, &wf, out, Some(&bf)),
            1e-5,
        );
        let dy = t(rng.uniform_vec(n * out, -1.0, 1.0), &[n, out]);
        let dyf = to_f64(dy.data());
        let (dx, dw, db) = linear_backward(&x, &w, &dy).unwrap();
        let loss =
            |x: &[f64], w: &[f64], b: &[f64]| dot(&r::linear(x, n, inp, w, out, Some(b)), &dyf);
        assert_close(
            "dx",
            dx.data(),
            &numeric_grad(&xf, |v| loss(v, &wf, &bf)),
            1e-5,
        );
        assert_close(
            "dw",
            dw.data(),
            &numeric_grad(&wf, |v| loss(&xf, v, &bf)),
            1e-5,
        );
        assert_close(
            "db",
            db.data(),
            &numeric_grad(&bf, |v| loss(&xf, &wf, v)),
            1e-5,
        );
    }
    // a single vector in, a single vector out
    let x = t(vec![1.0, 2.0], &[2]);
    let w = t(vec![1.0, 1.0, 0.0, -1.0], &[2, 2]);
    let y = linear(&x, &w, None).unwrap();
    assert_eq!(y.shape(), [2]);
    assert_eq!(y.data(), [3.0, -2.0]);
}

#[test]
fn matmul_and_shape_errors() {
    let a = t(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
    let b = t(vec![1.0, 0.0, 0.0, 1.0, 1.0, 1.0], &[3, 2]);
    let c = matmul(&a, &b).unwrap();
    assert_eq!(c.shape(), [2, 2]);
    assert_eq!(c.data(), [4.0, 5.0, 10.0, 11.0]);
    assert!(matches!(
        matmul(&a, &a),
        Err(Error::Param { name: "b", .. })
    ));
    assert!(matches!(
        matmul(&t(vec![0.0; 8], &[2, 2, 2]), &b),
        Err(Error::Param { name: "a", .. })
    ));
    let x = t(vec![0.0; 6], &[2, 3]);
    assert!(matches!(
        linear(&x, &b, None),
        Err(Error::Param { name: "weight", .. })
    ));
    let w = t(vec![0.0; 6], &[2, 3]);
    assert!(matches!(
        linear(&x, &w, Some(&t(vec![0.0; 3], &[3]))),
        Err(Error::Param { name: "bias", .. })
    ));
    assert!(matches!(
        linear_backward(&x, &w, &t(vec![0.0; 3], &[3])),
        Err(Error::Param { name: "dy", .. })
    ));
}

/// The slice implementations the model library calls directly: in-place and copying relu
/// agree, linear with its bias in the GEMM equals the Tensor wrapper and the reference, its
/// backward without dx leaves the rest unchanged, and wrong sizes are errors.
#[test]
fn slice_ops_agree_with_the_tensor_wrappers() {
    let mut rng = Rng::new(23);
    let xs = rng.uniform_vec(37, -1.0, 1.0);
    let mut a = xs.clone();
    slice::relu(&mut a);
    let mut b = vec![f32::NAN; 37];
    slice::relu_into(&xs, &mut b);
    assert_eq!(a, b);
    assert_eq!(a, relu(&t(xs.clone(), &[37])).data());
    let d = slice::Dense {
        n: 3,
        inp: 7,
        out: 5,
    };
    let x = rng.uniform_vec(21, -1.0, 1.0);
    let w = rng.uniform_vec(35, -1.0, 1.0);
    let bias = rng.uniform_vec(5, -1.0, 1.0);
    let mut y = vec![f32::NAN; 15];
    slice::linear(d, &x, &w, Some(&bias), &mut y).unwrap();
    let want = linear(
        &t(x.clone(), &[3, 7]),
        &t(w.clone(), &[5, 7]),
        Some(&t(bias.clone(), &[5])),
    )
    .unwrap();
    assert_eq!(y, want.data());
    let r = r::linear(&to_f64(&x), 3, 7, &to_f64(&w), 5, Some(&to_f64(&bias)));
    assert_close("slice linear", &y, &r, 1e-5);
    let dy = rng.uniform_vec(15, -1.0, 1.0);
    let (mut dw, mut db) = (vec![f32::NAN; 35], vec![f32::NAN; 5]);
    slice::linear_backward(d, &x, &w, &dy, None, &mut dw, &mut db).unwrap();
    let (_, tdw, tdb) = linear_backward(
        &t(x.clone(), &[3, 7]),
        &t(w.clone(), &[5, 7]),
        &t(dy.clone(), &[3, 5]),
    )
    .unwrap();
    assert_eq!((&dw[..], &db[..]), (tdw.data(), tdb.data()));
    assert!(slice::linear(d, &x[..20], &w, None, &mut y).is_err());
    assert!(slice::linear(d, &x, &w, Some(&bias[..4]), &mut y).is_err());
    assert!(slice::linear_backward(d, &x, &w, &dy, Some(&mut [0.0; 3]), &mut dw, &mut db).is_err());
}

#[test]
fn packed_linear_equals_linear() {
    let mut rng = Rng::new(24);
    let d = slice::Dense {
        n: 1,
        inp: 40,
        out: 13,
    };
    let x = rng.uniform_vec(40, -1.0, 1.0);
    let w = rng.uniform_vec(13 * 40, -1.0, 1.0);
    let bias = rng.uniform_vec(13, -1.0, 1.0);
    let mut want = vec![f32::NAN; 13];
    slice::linear(d, &x, &w, Some(&bias), &mut want).unwrap();
    // Wᵀ (in × out) read from W [out, in] through strides.
    let packed = crate::gemm::PackedB::new(40, 13, &w, 1, 40).unwrap();
    let mut got = vec![f32::NAN; 13];
    slice::linear_packed(&x, &packed, &bias, &mut got).unwrap();
    let r = r::linear(&to_f64(&x), 1, 40, &to_f64(&w), 13, Some(&to_f64(&bias)));
    assert_close("packed linear", &got, &r, 1e-5);
    for (g, w) in got.iter().zip(&want) {
        assert!((g - w).abs() <= 1e-5 * (1.0 + w.abs()), "{g} vs {w}");
    }
    assert!(slice::linear_packed(&x[..39], &packed, &bias, &mut got).is_err());
    assert!(slice::linear_packed(&x, &packed, &bias[..12], &mut got).is_err());
}
