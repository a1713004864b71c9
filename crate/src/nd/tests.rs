//! `nd::*` against the naive f64 loops of [`crate::reference`], on views of every kind of
//! layout: standard, transposed, sliced with steps, reversed (negative strides), permuted.

use ndarray::{s, Array1, Array2, Array4, ArrayView2, ArrayView4};

use super::*;
use crate::reference;
use crate::rng::Rng;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn random4(rng: &mut Rng, shape: (usize, usize, usize, usize)) -> Array4<f32> {
    let n = shape.0 * shape.1 * shape.2 * shape.3;
    Array4::from_shape_vec(shape, rng.uniform_vec(n, -1.0, 1.0)).unwrap()
}

fn random2(rng: &mut Rng, shape: (usize, usize)) -> Array2<f32> {
    Array2::from_shape_vec(shape, rng.uniform_vec(shape.0 * shape.1, -1.0, 1.0)).unwrap()
}

/// The view's elements in logical (row-major) order, as f64: what the reference reads.
fn logical<D: ndarray::Dimension>(v: &ndarray::ArrayView<f32, D>) -> Vec<f64> {
    v.iter().map(|&x| x as f64).collect()
}

fn dims4(v: &ArrayView4<f32>) -> [usize; 4] {
    let s = v.shape();
    [s[0], s[1], s[2], s[3]]
}

fn assert_close(got: &Array4<f32>, want: &[f64], shape: [usize; 4], what: &str) {
    assert_eq!(got.shape(), shape, "{what}: shape");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g as f64 - w).abs() <= 1e-4 * (1.0 + w.abs()),
            "{what}: element {i}: {g} vs {w}"
        );
    }
}

fn check_conv(
    x: ArrayView4<f32>,
    w: ArrayView4<f32>,
    b: Option<&Array1<f32>>,
    p: &Conv2dParams,
    what: &str,
) {
    let bias = b.map(|b| logical(&b.view()));
    let (want, shape) = reference::conv2d(
        &logical(&x),
        dims4(&x),
        &logical(&w),
        dims4(&w),
        bias.as_deref(),
        p,
    );
    let got = conv2d(x, w, b.map(|b| b.view()), p).unwrap();
    assert_close(&got, &want, shape, what);
}

fn check_transpose(
    x: ArrayView4<f32>,
    w: ArrayView4<f32>,
    b: Option<&Array1<f32>>,
    p: &Conv2dParams,
    what: &str,
) {
    let bias = b.map(|b| logical(&b.view()));
    let (want, shape) = reference::conv_transpose2d(
        &logical(&x),
        dims4(&x),
        &logical(&w),
        dims4(&w),
        bias.as_deref(),
        p,
    );
    let got = conv_transpose2d(x, w, b.map(|b| b.view()), p).unwrap();
    assert_close(&got, &want, shape, what);
}

/// Default parameters (groups 1), and every parameter away from its default (groups 2).
fn params() -> Vec<Conv2dParams> {
    vec![
        Conv2dParams::default(),
        Conv2dParams {
            stride: [2, 1],
            padding: [1, 0, 2, 1],
            dilation: [1, 2],
            groups: 2,
            output_padding: [1, 0],
        },
    ]
}

#[test]
fn conv2d_matches_the_reference_on_any_view() {
    let mut rng = Rng::new(7);
    // Stored [N, H, C, W]: permuted to NCHW, no view of it is in standard layout.
    let store = random4(&mut rng, (2, 9, 4, 12));
    let permuted = store.view().permuted_axes([0, 2, 1, 3]);
    assert!(!permuted.is_standard_layout());
    let standard = permuted.to_owned();
    let views: Vec<(&str, ArrayView4<f32>)> = vec![
        ("standard", standard.view()),
        ("permuted", permuted),
        (
            "sliced with steps",
            permuted.slice_move(s![.., .., 1..8, ..;2]),
        ),
        ("reversed", permuted.slice_move(s![..;-1, .., ..;-1, ..;-1])),
    ];
    for p in params() {
        let p = Conv2dParams {
            output_padding: [0, 0],
            ..p
        };
        let w = random4(&mut rng, (6, 4 / p.groups, 3, 3));
        let b = Array1::from(rng.uniform_vec(6, -1.0, 1.0));
        let w_reversed = w.slice(s![.., ..;-1, .., ..;-1]);
        for (what, x) in &views {
            check_conv(*x, w.view(), Some(&b), &p, what);
            check_conv(
                *x,
                w_reversed,
                None,
                &p,
                &format!("{what}, reversed weight"),
            );
        }
    }
}

#[test]
fn conv_transpose2d_matches_the_reference_on_any_view() {
    let mut rng = Rng::new(8);
    let store = random4(&mut rng, (2, 4, 7, 6));
    let views: Vec<(&str, ArrayView4<f32>)> = vec![
        ("standard", store.view()),
        ("sliced", store.slice(s![1.., .., ..;3, 1..])),
        ("reversed", store.slice(s![.., ..;-1, .., ..;-1])),
        (
            "transposed H and W",
            store.view().permuted_axes([0, 1, 3, 2]),
        ),
    ];
    for p in params() {
        // [C_in, C_out/groups, kH, kW] = [4, 3, 3, 2], stored with its axes reversed.
        let w_store = random4(&mut rng, (2, 3, 3, 4));
        let w = w_store.view().reversed_axes();
        assert_eq!(w.shape(), [4, 3, 3, 2]);
        let w_std = w.to_owned();
        let b = Array1::from(rng.uniform_vec(3 * p.groups, -1.0, 1.0));
        for (what, x) in &views {
            check_transpose(*x, w, Some(&b), &p, what);
            check_transpose(
                *x,
                w_std.view(),
                None,
                &p,
                &format!("{what}, standard weight"),
            );
        }
    }
}

fn naive_matmul(a: ArrayView2<f32>, b: ArrayView2<f32>) -> Vec<f64> {
    let mut out = Vec::new();
    for i in 0..a.nrows() {
        for j in 0..b.ncols() {
            out.push(
                (0..a.ncols())
                    .map(|k| a[[i, k]] as f64 * b[[k, j]] as f64)
                    .sum(),
            );
        }
    }
    out
}

#[test]
fn matmul_matches_the_reference_on_any_view() {
    let mut rng = Rng::new(9);
    let a = random2(&mut rng, (13, 21));
    let at = a.t().to_owned(); // [21, 13] in standard layout: `at.t()` is `a` transposed
    let wide = random2(&mut rng, (26, 40));
    let b = random2(&mut rng, (21, 17));
    let bt = b.t().to_owned();
    let a_views: Vec<(&str, ArrayView2<f32>)> = vec![
        ("standard", a.view()),
        ("transposed", at.t()),
        ("sliced with steps", wide.slice(s![..;2, 3..24])),
        ("reversed", wide.slice(s![..;-2, 2..23;-1])),
    ];
    let b_views: Vec<(&str, ArrayView2<f32>)> = vec![
        ("standard", b.view()),
        ("transposed", bt.t()),
        ("columns reversed", b.slice(s![.., ..;-1])),
        ("a column", b.slice(s![.., 5..6])),
    ];
    for (wa, x) in &a_views {
        assert_eq!(x.shape(), [13, 21], "{wa}");
        for (wb, y) in &b_views {
            let got = matmul(*x, *y).unwrap();
            let want = naive_matmul(*x, *y);
            assert_eq!(got.shape(), [13, y.ncols()], "{wa} · {wb}");
            for (i, (&g, &w)) in got.iter().zip(&want).enumerate() {
                assert!(
                    (g as f64 - w).abs() <= 1e-4 * (1.0 + w.abs()),
                    "{wa} · {wb}: element {i}: {g} vs {w}"
                );
            }
        }
    }
    // One row: the GEMV path, with a transposed A.
    let row = at.slice(s![.., 4..5]);
    let got = matmul(row.t(), b.view()).unwrap();
    assert_eq!(got.shape(), [1, 17]);
    let want = naive_matmul(row.t(), b.view());
    for (&g, &w) in got.iter().zip(&want) {
        assert!(
            (g as f64 - w).abs() <= 1e-4 * (1.0 + w.abs()),
            "row: {g} vs {w}"
        );
    }
}

#[test]
fn errors_name_the_argument_as_the_tensor_functions_do() {
    let a = Array2::<f32>::ones((2, 3));
    let e = matmul(a.view(), a.view()).unwrap_err();
    let t = crate::Tensor::new(vec![1.0; 6], &[2, 3]).unwrap();
    assert_eq!(e, crate::ops::matmul(&t, &t).unwrap_err());
    assert!(
        e.to_string()
            .starts_with("invalid b = [2, 3]: expected 3 rows"),
        "{e}"
    );

    let empty = Array2::<f32>::zeros((0, 3));
    let e = matmul(empty.view(), a.t()).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("invalid a = [0, 3]: has a zero dimension"),
        "{e}"
    );

    let x = Array4::<f32>::ones((1, 4, 5, 5));
    let w = Array4::<f32>::ones((2, 3, 3, 3));
    let p = Conv2dParams::default();
    let e = conv2d(x.view(), w.view(), None, &p).unwrap_err();
    let tx = crate::Tensor::new(vec![1.0; 100], &[1, 4, 5, 5]).unwrap();
    let tw = crate::Tensor::new(vec![1.0; 54], &[2, 3, 3, 3]).unwrap();
    assert_eq!(e, crate::conv::conv2d(&tx, &tw, None, &p).unwrap_err());
    assert!(
        e.to_string().starts_with("invalid weight = [2, 3, 3, 3]"),
        "{e}"
    );

    let w = Array4::<f32>::ones((2, 4, 3, 3));
    let b = Array1::<f32>::ones(3);
    let e = conv2d(x.view(), w.view(), Some(b.view()), &p).unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid bias = [3]: expected shape [2] (one value per output channel)"
    );
    let e = conv2d(x.view(), w.view(), None, &Conv2dParams { groups: 0, ..p }).unwrap_err();
    assert_eq!(e.to_string(), "invalid groups = 0: must be at least 1");
    let e = conv_transpose2d(x.view(), w.view(), None, &p.stride(0)).unwrap_err();
    assert!(e.to_string().starts_with("invalid stride"), "{e}");
    let e = conv_transpose2d(x.slice(s![.., ..0, .., ..]), w.view(), None, &p).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("invalid x = [1, 0, 5, 5]: has a zero dimension"),
        "{e}"
    );
}
