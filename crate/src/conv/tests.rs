//! Every fast path against the naive f64 loops in `crate::reference`, plus the identities the
//! articles state (adjoints, delta kernel, dense = whole-input conv) and finite differences.

use super::pool::NO_ARGMAX;
use super::*;
use crate::reference::{self as r, to_f64};
use crate::rng::Rng;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn t(data: Vec<f32>, shape: &[usize]) -> Tensor {
    Tensor::new(data, shape).unwrap()
}

fn rand_t(rng: &mut Rng, shape: &[usize]) -> Tensor {
    t(rng.uniform_vec(shape.iter().product(), -1.0, 1.0), shape)
}

/// |got − want| ≤ tol·(1 + |want|) everywhere, and no NaN.
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

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Central finite differences of `L(v) = f(v)` at every element of `v` (f64, so the check is
/// tight enough to catch any wrong gradient).
fn numeric_grad(v: &[f64], f: impl Fn(&[f64]) -> f64) -> Vec<f64> {
    numeric_grad_eps(v, 1e-3, f)
}

/// Finite differences with step `eps`; piecewise-linear functions (max pool) want a tiny one so
/// that no perturbation changes which element wins.
fn numeric_grad_eps(v: &[f64], eps: f64, f: impl Fn(&[f64]) -> f64) -> Vec<f64> {
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

/// A random valid conv configuration (small enough for finite differences).
#[derive(Debug)]
struct Case {
    x: [usize; 4],
    w: [usize; 4],
    p: Conv2dParams,
}

fn random_conv(rng: &mut Rng) -> Case {
    loop {
        let groups = [1, 1, 2, 3][rng.pick(0..=3)];
        let depthwise = rng.pick(0..=4) == 0;
        let cpg = if depthwise { 1 } else { rng.pick(1..=3) };
        let opg = if depthwise {
            rng.pick(1..=2)
        } else {
            rng.pick(1..=3)
        };
        let (h, w) = (rng.pick(1..=9), rng.pick(1..=9));
        let (kh, kw) = (rng.pick(1..=4), rng.pick(1..=4));
        let p = Conv2dParams {
            stride: [rng.pick(1..=3), rng.pick(1..=3)],
            padding: [
                rng.pick(0..=2),
                rng.pick(0..=2),
                rng.pick(0..=2),
                rng.pick(0..=2),
            ],
            dilation: [rng.pick(1..=2), rng.pick(1..=2)],
            groups,
            output_padding: [0, 0],
        };
        let case = Case {
            x: [rng.pick(1..=2), cpg * groups, h, w],
            w: [opg * groups, cpg, kh, kw],
            p,
        };
        if ConvPlan::conv2d(&case.x, &case.w, &case.p).is_ok() {
            return case;
        }
    }
}

#[test]
fn conv2d_matches_reference_on_random_shapes() {
    let mut rng = Rng::new(1);
    let mut direct_cases = 0;
    for _ in 0..150 {
        let c = random_conv(&mut rng);
        let plan = ConvPlan::conv2d(&c.x, &c.w, &c.p).unwrap();
        direct_cases +=
            direct::scratch_len(crate::gemm::selected_kernel(), &plan.win).is_some() as usize;
        let x = rand_t(&mut rng, &c.x);
        let w = rand_t(&mut rng, &c.w);
        let b = rand_t(&mut rng, &[c.w[0]]);
        let got = conv2d(&x, &w, Some(&b), &c.p).unwrap();
        let (want, shape) = r::conv2d(
            &to_f64(x.data()),
            c.x,
            &to_f64(w.data()),
            c.w,
            Some(&to_f64(b.data())),
            &c.p,
        );
        assert_eq!(got.shape(), shape, "{c:?}");
        assert_close(&format!("{c:?}"), got.data(), &want, 1e-5);
    }
    // both paths (direct for few taps, im2col + GEMM) are exercised
    assert!(
        direct_cases >= 20 && 150 - direct_cases >= 5,
        "{direct_cases} direct cases"
    );
}

#[test]
fn conv2d_backward_matches_finite_differences() {
    let mut rng = Rng::new(2);
    for _ in 0..40 {
        let c = random_conv(&mut rng);
        let x = rand_t(&mut rng, &c.x);
        let w = rand_t(&mut rng, &c.w);
        let (_, ys) = r::conv2d(&to_f64(x.data()), c.x, &to_f64(w.data()), c.w, None, &c.p);
        let dy = rand_t(&mut rng, &ys);
        let g = conv2d_backward(&x, &w, &dy, &c.p).unwrap();
        let (xf, wf, dyf) = (to_f64(x.data()), to_f64(w.data()), to_f64(dy.data()));
        let loss = |x: &[f64], w: &[f64], b: Option<&[f64]>| {
            dot(&r::conv2d(x, c.x, w, c.w, b, &c.p).0, &dyf)
        };
        let dx = numeric_grad(&xf, |x| loss(x, &wf, None));
        let dw = numeric_grad(&wf, |w| loss(&xf, w, None));
        let db = numeric_grad(&vec![0.0; c.w[0]], |b| loss(&xf, &wf, Some(b)));
        assert_close(&format!("dx {c:?}"), g.dx.data(), &dx, 1e-4);
        assert_close(&format!("dw {c:?}"), g.dw.data(), &dw, 1e-4);
        assert_close(&format!("db {c:?}"), g.db.data(), &db, 1e-4);
        let (dw2, db2) = conv2d_backward_weight(&x, &w, &dy, &c.p).unwrap();
        assert_eq!((&dw2, &db2), (&g.dw, &g.db));
    }
}

/// A random valid transposed-conv configuration.
fn random_transpose(rng: &mut Rng) -> Case {
    loop {
        let groups = [1, 1, 2, 3][rng.pick(0..=3)];
        let cpg = rng.pick(1..=3);
        let opg = rng.pick(1..=3);
        let stride = [rng.pick(1..=3), rng.pick(1..=3)];
        let dilation = [rng.pick(1..=2), rng.pick(1..=3)];
        let p = Conv2dParams {
            stride,
            padding: [
                rng.pick(0..=2),
                rng.pick(0..=2),
                rng.pick(0..=2),
                rng.pick(0..=2),
            ],
            dilation,
            groups,
            output_padding: [
                rng.pick(0..=stride[0].max(dilation[0]) - 1),
                rng.pick(0..=stride[1].max(dilation[1]) - 1),
            ],
        };
        let case = Case {
            x: [
                rng.pick(1..=2),
                cpg * groups,
                rng.pick(1..=7),
                rng.pick(1..=7),
            ],
            w: [cpg * groups, opg, rng.pick(1..=4), rng.pick(1..=4)],
            p,
        };
        if ConvPlan::conv_transpose2d(&case.x, &case.w, &case.p).is_ok() {
            return case;
        }
    }
}

#[test]
fn conv_transpose2d_matches_reference_on_random_shapes() {
    let mut rng = Rng::new(3);
    for _ in 0..150 {
        let c = random_transpose(&mut rng);
        let x = rand_t(&mut rng, &c.x);
        let w = rand_t(&mut rng, &c.w);
        let b = rand_t(&mut rng, &[c.w[1] * c.p.groups]);
        let got = conv_transpose2d(&x, &w, Some(&b), &c.p).unwrap();
        let (want, shape) = r::conv_transpose2d(
            &to_f64(x.data()),
            c.x,
            &to_f64(w.data()),
            c.w,
            Some(&to_f64(b.data())),
            &c.p,
        );
        assert_eq!(got.shape(), shape, "{c:?}");
        assert_close(&format!("{c:?}"), got.data(), &want, 1e-5);
    }
}

/// A 1×1 stride-1 transposed conv takes the pointwise path (one GEMM into the planes, which
/// start as the bias): with and without groups, its bias is added, checked against the reference.
#[test]
fn pointwise_conv_transpose2d_adds_its_bias() {
    let mut rng = Rng::new(31);
    for groups in [1, 2] {
        let p = Conv2dParams {
            groups,
            ..Conv2dParams::default()
        };
        let (xs, ws) = ([2, 4, 3, 5], [4, 3, 1, 1]);
        let x = rand_t(&mut rng, &xs);
        let w = rand_t(&mut rng, &ws);
        let b = rand_t(&mut rng, &[3 * groups]);
        let got = conv_transpose2d(&x, &w, Some(&b), &p).unwrap();
        let (want, shape) = r::conv_transpose2d(
            &to_f64(x.data()),
            xs,
            &to_f64(w.data()),
            ws,
            Some(&to_f64(b.data())),
            &p,
        );
        assert_eq!(got.shape(), shape);
        assert_close(&format!("groups {groups}"), got.data(), &want, 1e-5);
    }
}

#[test]
fn conv_transpose2d_backward_matches_finite_differences() {
    let mut rng = Rng::new(4);
    for _ in 0..40 {
        let c = random_transpose(&mut rng);
        let x = rand_t(&mut rng, &c.x);
        let w = rand_t(&mut rng, &c.w);
        let (_, ys) =
            r::conv_transpose2d(&to_f64(x.data()), c.x, &to_f64(w.data()), c.w, None, &c.p);
        let dy = rand_t(&mut rng, &ys);
        let g = conv_transpose2d_backward(&x, &w, &dy, &c.p).unwrap();
        let (xf, wf, dyf) = (to_f64(x.data()), to_f64(w.data()), to_f64(dy.data()));
        let loss = |x: &[f64], w: &[f64], b: Option<&[f64]>| {
            dot(&r::conv_transpose2d(x, c.x, w, c.w, b, &c.p).0, &dyf)
        };
        let dx = numeric_grad(&xf, |x| loss(x, &wf, None));
        let dw = numeric_grad(&wf, |w| loss(&xf, w, None));
        let db = numeric_grad(&vec![0.0; ys[1]], |b| loss(&xf, &wf, Some(b)));
        assert_close(&format!("dx {c:?}"), g.dx.data(), &dx, 1e-4);
        assert_close(&format!("dw {c:?}"), g.dw.data(), &dw, 1e-4);
        assert_close(&format!("db {c:?}"), g.db.data(), &db, 1e-4);
    }
}

/// im2col straight from the definition of the column matrix.
fn naive_im2col(win: &Window, image: &[f32]) -> Vec<f32> {
    let mut col = Vec::new();
    for c in 0..win.channels {
        for ky in 0..win.kernel[0] {
            for kx in 0..win.kernel[1] {
                for oy in 0..win.out[0] {
                    for ox in 0..win.out[1] {
                        let iy =
                            (oy * win.stride[0] + ky * win.dilation[0]) as i64 - win.pad[0] as i64;
                        let ix =
                            (ox * win.stride[1] + kx * win.dilation[1]) as i64 - win.pad[1] as i64;
                        let inside =
                            iy >= 0 && ix >= 0 && iy < win.height as i64 && ix < win.width as i64;
                        col.push(if inside {
                            image[(c * win.height + iy as usize) * win.width + ix as usize]
                        } else {
                            0.0
                        });
                    }
                }
            }
        }
    }
    col
}

#[test]
fn im2col_matches_definition_and_col2im_is_its_adjoint() {
    let mut rng = Rng::new(5);
    for _ in 0..200 {
        let c = random_conv(&mut rng);
        let win = ConvPlan::conv2d(&c.x, &c.w, &c.p).unwrap().win;
        let image = rng.uniform_vec(win.image_len(), -1.0, 1.0);
        let mut col = vec![f32::NAN; win.col_len()];
        im2col(&win, &image, &mut col).unwrap();
        assert_eq!(col, naive_im2col(&win, &image), "{win:?}");
        // ⟨im2col(x), C⟩ = ⟨x, col2im(C)⟩
        let cm = rng.uniform_vec(win.col_len(), -1.0, 1.0);
        let mut back = vec![0.0; win.image_len()];
        col2im(&win, &cm, &mut back).unwrap();
        let lhs = dot(&to_f64(&col), &to_f64(&cm));
        let rhs = dot(&to_f64(&image), &to_f64(&back));
        assert!(
            (lhs - rhs).abs() < 1e-4 * (1.0 + lhs.abs()),
            "{win:?}: {lhs} vs {rhs}"
        );
    }
}

#[test]
fn col2im_rows_is_col2im_of_the_transposed_matrix() {
    // Small whole numbers, so every sum is exact whatever the order: the two scatters must
    // agree bit for bit, on conv and transposed-conv windows (strides, dilation, padding).
    let mut rng = Rng::new(15);
    for i in 0..300 {
        let win = if i % 2 == 0 {
            let c = random_conv(&mut rng);
            ConvPlan::conv2d(&c.x, &c.w, &c.p).unwrap().win
        } else {
            let c = random_transpose(&mut rng);
            ConvPlan::conv_transpose2d(&c.x, &c.w, &c.p).unwrap().win
        };
        let (k, p) = (win.rows(), win.cols());
        let col: Vec<f32> = (0..k * p).map(|_| rng.pick(0..=16) as f32 - 8.0).collect();
        let mut colt = vec![0.0; k * p];
        for r in 0..k {
            for q in 0..p {
                colt[q * k + r] = col[r * p + q];
            }
        }
        let start: Vec<f32> = (0..win.image_len())
            .map(|_| rng.pick(0..=4) as f32)
            .collect();
        let (mut want, mut got) = (start.clone(), start);
        col2im(&win, &col, &mut want).unwrap();
        col2im_rows(&win, &colt, &mut got).unwrap();
        assert_eq!(got, want, "{win:?}");
    }
    let win = ConvPlan::conv2d(&[1, 1, 4, 4], &[1, 1, 3, 3], &Conv2dParams::default())
        .unwrap()
        .win;
    assert!(col2im_rows(&win, &[0.0; 3], &mut [0.0; 16]).is_err());
    assert!(col2im_rows(&win, &[0.0; 36], &mut [0.0; 15]).is_err());
}

#[test]
fn conv_transpose2d_is_the_adjoint_of_conv2d() {
    // ⟨conv2d(x; W), y⟩ = ⟨x, conv_transpose2d(y; W)⟩ with the same W and parameters; the
    // output_padding recovers the rows the conv's floor division dropped.
    let mut rng = Rng::new(6);
    for _ in 0..100 {
        let c = random_conv(&mut rng);
        let x = rand_t(&mut rng, &c.x);
        let w = rand_t(&mut rng, &c.w);
        let y = conv2d(&x, &w, None, &c.p).unwrap();
        let [_, _, oh, ow] = y.dims4("y").unwrap();
        let mut pt = c.p;
        for i in 0..2 {
            let span = c.p.dilation[i] * (c.w[2 + i] - 1) + 1;
            let full = c.x[2 + i] + c.p.padding[i] + c.p.padding[i + 2];
            pt.output_padding[i] = full - span - (if i == 0 { oh } else { ow } - 1) * c.p.stride[i];
        }
        let v = rand_t(&mut rng, y.shape());
        let back = match conv_transpose2d(&v, &w, None, &pt) {
            Ok(b) => b,
            // output_padding may exceed max(stride, dilation) - 1 when the conv drops more
            // than a stride's worth of rows (large padding); PyTorch refuses those too.
            Err(Error::Param {
                name: "output_padding",
                ..
            }) => continue,
            Err(e) => panic!("{c:?}: {e}"),
        };
        assert_eq!(back.shape(), x.shape(), "{c:?}");
        let lhs = dot(&to_f64(y.data()), &to_f64(v.data()));
        let rhs = dot(&to_f64(x.data()), &to_f64(back.data()));
        assert!(
            (lhs - rhs).abs() < 1e-4 * (1.0 + lhs.abs()),
            "{c:?}: {lhs} vs {rhs}"
        );
    }
}

#[test]
fn delta_kernel_is_the_identity() {
    // The delta kernel is the identity operator: it leaves the image unchanged; with stride n
    // it samples every n-th pixel, and its transposed conv inserts n−1 zeros between pixels.
    let mut rng = Rng::new(7);
    let x = rand_t(&mut rng, &[2, 3, 7, 6]);
    let mut w = vec![0.0; 3 * 3 * 9];
    for c in 0..3 {
        w[(c * 3 + c) * 9 + 4] = 1.0;
    }
    let w = t(w, &[3, 3, 3, 3]);
    let y = conv2d(&x, &w, None, &Conv2dParams::default().pad(1)).unwrap();
    assert_eq!(y, x);
    let yt = conv_transpose2d(&x, &w, None, &Conv2dParams::default().pad(1)).unwrap();
    assert_eq!(yt, x);

    let delta = t(vec![1.0], &[1, 1, 1, 1]);
    let img = rand_t(&mut rng, &[1, 1, 6, 6]);
    let down = conv2d(&img, &delta, None, &Conv2dParams::default().stride(2)).unwrap();
    assert_eq!(down.shape(), [1, 1, 3, 3]);
    for (i, &v) in down.data().iter().enumerate() {
        assert_eq!(v, img.data()[(i / 3) * 12 + (i % 3) * 2]);
    }
    let up = conv_transpose2d(&down, &delta, None, &Conv2dParams::default().stride(2)).unwrap();
    assert_eq!(up.shape(), [1, 1, 5, 5]);
    for (i, &v) in up.data().iter().enumerate() {
        let (y, x) = (i / 5, i % 5);
        let want = if y % 2 == 0 && x % 2 == 0 {
            down.data()[(y / 2) * 3 + x / 2]
        } else {
            0.0
        };
        assert_eq!(v, want, "({y}, {x})");
    }
}

#[test]
fn dense_layer_is_a_conv_covering_the_whole_input() {
    // Dense = shift 0: a fully connected layer is the correlation at shift 0 only.
    let mut rng = Rng::new(8);
    let x = rand_t(&mut rng, &[3, 2, 5, 4]);
    let w = rand_t(&mut rng, &[7, 2, 5, 4]);
    let b = rand_t(&mut rng, &[7]);
    let conv = conv2d(&x, &w, Some(&b), &Conv2dParams::default()).unwrap();
    assert_eq!(conv.shape(), [3, 7, 1, 1]);
    let dense = crate::ops::linear(
        &x.clone().reshape(&[3, 40]).unwrap(),
        &w.clone().reshape(&[7, 40]).unwrap(),
        Some(&b),
    )
    .unwrap();
    let want = to_f64(dense.data());
    assert_close("dense", conv.data(), &want, 1e-5);
}

#[test]
fn pointwise_conv_is_a_dense_layer_over_channels() {
    let mut rng = Rng::new(9);
    let x = rand_t(&mut rng, &[2, 5, 3, 4]);
    let w = rand_t(&mut rng, &[6, 5, 1, 1]);
    let y = conv2d(&x, &w, None, &Conv2dParams::default()).unwrap();
    for n in 0..2 {
        for o in 0..6 {
            for p in 0..12 {
                let want: f64 = (0..5)
                    .map(|c| x.data()[(n * 5 + c) * 12 + p] as f64 * w.data()[o * 5 + c] as f64)
                    .sum();
                let got = y.data()[(n * 6 + o) * 12 + p] as f64;
                assert!((got - want).abs() < 1e-5, "{n} {o} {p}");
            }
        }
    }
}

#[test]
fn prepared_conv_matches_conv2d_and_writes_every_cell() {
    let mut rng = Rng::new(10);
    for _ in 0..40 {
        let mut c = random_conv(&mut rng);
        c.x[0] = 1;
        let w = rand_t(&mut rng, &c.w);
        let b = rand_t(&mut rng, &[c.w[0]]);
        let mut layer = PreparedConv2d::new(&w, Some(&b), &c.p, [c.x[1], c.x[2], c.x[3]]).unwrap();
        for _ in 0..2 {
            let x = rand_t(&mut rng, &c.x);
            let mut out = vec![f32::NAN; layer.output_len()];
            layer.forward_into(x.data(), &mut out).unwrap();
            let (want, _) = r::conv2d(
                &to_f64(x.data()),
                c.x,
                &to_f64(w.data()),
                c.w,
                Some(&to_f64(b.data())),
                &c.p,
            );
            assert_close(&format!("{c:?}"), &out, &want, 1e-5);
        }
        assert!(layer.forward_into(&[0.0; 3], &mut [0.0; 1]).is_err());
    }
}

/// The cnn's two layers and odd channel counts (SIMD channel pairs plus a last single
/// channel), with bias, groups and dilation, through `PreparedConv2d` against the reference.
#[test]
fn prepared_direct_path_on_the_cnn_shapes() {
    let mut rng = Rng::new(12);
    let cases: [([usize; 4], [usize; 4], Conv2dParams); 5] = [
        ([1, 1, 28, 28], [8, 1, 5, 5], Conv2dParams::default().pad(2)),
        (
            [1, 8, 14, 14],
            [16, 8, 5, 5],
            Conv2dParams::default().pad(2),
        ),
        ([1, 2, 9, 21], [5, 2, 3, 3], Conv2dParams::default().pad(1)),
        (
            [1, 4, 11, 17],
            [6, 2, 3, 3],
            Conv2dParams::default().groups(2).dilation(2),
        ),
        (
            [1, 3, 8, 8],
            [3, 3, 2, 4],
            Conv2dParams::default().stride(2),
        ),
    ];
    for (xs, ws, p) in cases {
        let w = rand_t(&mut rng, &ws);
        let b = rand_t(&mut rng, &[ws[0]]);
        let x = rand_t(&mut rng, &xs);
        let mut layer = PreparedConv2d::new(&w, Some(&b), &p, [xs[1], xs[2], xs[3]]).unwrap();
        let mut out = vec![f32::NAN; layer.output_len()];
        layer.forward_into(x.data(), &mut out).unwrap();
        let (want, _) = r::conv2d(
            &to_f64(x.data()),
            xs,
            &to_f64(w.data()),
            ws,
            Some(&to_f64(b.data())),
            &p,
        );
        assert_close(&format!("{xs:?} {ws:?} {p:?}"), &out, &want, 1e-5);
    }
}

/// Random input, weight and bias (`bias_len` values) tensors.
fn operands(
    rng: &mut Rng,
    xs: &[usize],
    ws: &[usize],
    bias_len: usize,
) -> (Tensor, Tensor, Tensor) {
    (rand_t(rng, xs), rand_t(rng, ws), rand_t(rng, &[bias_len]))
}

fn f64s(t: &Tensor) -> Vec<f64> {
    to_f64(t.data())
}

fn f64_bias(bias: Option<&Tensor>) -> Option<Vec<f64>> {
    bias.map(f64s)
}

/// The direct path's pixel tiles: every panel width (4, 8, 16 output channels), partial
/// panels, several panels, rows that do not divide into R pixels, vertical stride and
/// dilation, rows whose windows lie partly or wholly in the padding; with the weights packed
/// by the layer (`PreparedConv2d`) and per call (`conv2d`), with and without a bias, against
/// the reference.
#[test]
fn direct_pixel_tiles_on_every_panel_width_and_row_length() {
    let mut rng = Rng::new(14);
    let mut cases = 0;
    for opg in [1, 3, 4, 5, 7, 8, 9, 16, 17, 33] {
        for (c, h, w) in [(1, 5, 1), (2, 3, 2), (3, 6, 7), (1, 4, 13), (2, 5, 17)] {
            let p = match cases % 4 {
                0 => Conv2dParams::default().pad(1),
                1 => Conv2dParams::default().pad(2).dilation(2),
                // Rows of windows that see only padding (bias alone) above and below.
                2 => Conv2dParams {
                    padding: [3, 1, 4, 1],
                    ..Conv2dParams::default()
                },
                _ => Conv2dParams {
                    stride: [2, 1],
                    padding: [1, 2, 0, 1],
                    ..Conv2dParams::default()
                },
            };
            let xs = [1, c, h, w];
            let ws = [opg, c, 3, 3];
            let plan = ConvPlan::conv2d(&xs, &ws, &p).unwrap();
            assert!(direct::scratch_len(crate::gemm::selected_kernel(), &plan.win).is_some());
            let (x, wt, b) = operands(&mut rng, &xs, &ws, opg);
            let bias = (cases % 2 == 0).then_some(&b);
            let (want, _) = r::conv2d(&f64s(&x), xs, &f64s(&wt), ws, f64_bias(bias).as_deref(), &p);
            let what = format!("opg {opg} {xs:?} {p:?}");
            let got = conv2d(&x, &wt, bias, &p).unwrap();
            assert_close(&what, got.data(), &want, 1e-5);
            let mut layer = PreparedConv2d::new(&wt, bias, &p, [c, h, w]).unwrap();
            let mut out = vec![f32::NAN; layer.output_len()];
            layer.forward_into(x.data(), &mut out).unwrap();
            assert_close(&format!("prepared {what}"), &out, &want, 1e-5);
            cases += 1;
        }
    }
    assert_eq!(cases, 50);
}

/// The kernel rows the pixel tiles run (`LiveRows::kernel_rows`) are exactly those that read
/// an image row, for every offset, bounds, steps, grid row and kernel height up to 7.
#[test]
fn live_kernel_rows_are_the_rows_inside_the_image() {
    let mut checked = 0;
    for first in 0..4 {
        for lo in 0..5 {
            for hi in lo..lo + 6 {
                for (row_step, ky_step) in [(1, 1), (2, 1), (1, 2), (3, 2)] {
                    let live = direct::LiveRows {
                        first,
                        lo,
                        hi,
                        row_step,
                        ky_step,
                    };
                    for oy in 0..6 {
                        for kh in 1..=7 {
                            let inside: Vec<usize> = (0..kh)
                                .filter(|ky| {
                                    (lo..hi).contains(&(first + oy * row_step + ky * ky_step))
                                })
                                .collect();
                            let (ky0, ky1) = live.kernel_rows(oy, kh);
                            assert!(
                                ky0 <= ky1 && ky1 <= kh,
                                "{live:?} oy {oy} kh {kh}: {ky0}..{ky1}"
                            );
                            assert_eq!(
                                (ky0..ky1).collect::<Vec<_>>(),
                                inside,
                                "{live:?} oy {oy} kh {kh}"
                            );
                            checked += 1;
                        }
                    }
                }
            }
        }
    }
    assert_eq!(checked, 4 * 5 * 6 * 4 * 6 * 7);
}

#[test]
fn max_pool2d_matches_reference_and_its_backward_routes_gradients() {
    let mut rng = Rng::new(11);
    let (mut done, mut refused) = (0, 0);
    while done < 150 {
        let k = [rng.pick(1..=4), rng.pick(1..=4)];
        let d = [rng.pick(1..=2), rng.pick(1..=2)];
        // each side up to half the effective kernel d·(k−1)+1 (and sometimes one more: refused)
        let over = usize::from(rng.pick(0..=9) == 0);
        let half = [0, 1].map(|a| (d[a] * (k[a] - 1)).div_ceil(2) + over);
        let p = Pool2dParams {
            kernel: k,
            stride: [rng.pick(1..=3), rng.pick(1..=3)],
            padding: [
                rng.pick(0..=half[0]),
                rng.pick(0..=half[1]),
                rng.pick(0..=half[0]),
                rng.pick(0..=half[1]),
            ],
            dilation: d,
            ceil_mode: rng.pick(0..=1) == 1,
        };
        let too_much = (0..4).any(|i| p.padding[i] > (d[i % 2] * (k[i % 2] - 1)).div_ceil(2));
        let xs = [
            rng.pick(1..=2),
            rng.pick(1..=3),
            rng.pick(1..=9),
            rng.pick(1..=9),
        ];
        let x = rand_t(&mut rng, &xs);
        if too_much {
            assert_param(max_pool2d(&x, &p), "padding", &format!("{:?}", p.padding));
            refused += 1;
            continue;
        }
        let Ok((y, arg)) = max_pool2d(&x, &p) else {
            continue;
        };
        done += 1;
        let (want, warg, shape) = r::max_pool2d(&to_f64(x.data()), xs, &p);
        assert_eq!(y.shape(), shape, "{p:?} {xs:?}");
        assert_eq!(arg, warg, "{p:?} {xs:?}");
        assert_close("pool", y.data(), &want, 0.0);
        // backward against finite differences of the reference
        let dy = rand_t(&mut rng, y.shape());
        let dx = max_pool2d_backward(&dy, &arg, x.shape()).unwrap();
        let dyf = to_f64(dy.data());
        // eps 1e-8: the loss (up to ~10) rounds at ~2e-15, so the quotient is good to ~2e-7; max is
        // linear between ties, and no two values of a window lie within 1e-8 here (seeded).
        let num = numeric_grad_eps(&to_f64(x.data()), 1e-8, |v| {
            // windows entirely in the padding are −∞ and carry no gradient
            let y: Vec<f64> = r::max_pool2d(v, xs, &p)
                .0
                .iter()
                .map(|&v| if v.is_finite() { v } else { 0.0 })
                .collect();
            dot(&y, &dyf)
        });
        assert_close("pool dx", dx.data(), &num, 1e-6);
    }
    assert!(refused > 0, "no padding past the bound was tried");
}

/// Ties and NaN, where the 2×2 windows' comparison tree must pick the tap the loop over taps
/// picks: the first of equal maxima in raster order, and NaN over any number (the last NaN).
#[test]
fn max_pool2d_2x2_picks_the_taps_the_loop_picks_on_ties_and_nan() {
    let mut rng = Rng::new(5);
    for round in 0..300 {
        let d = [rng.pick(1..=2), rng.pick(1..=2)];
        // Every third round MaxPool2d(2), whose rows run four windows at a time (simd128).
        let p = if round % 3 == 0 {
            Pool2dParams::new([2, 2])
        } else {
            Pool2dParams {
                kernel: [2, 2],
                stride: [rng.pick(1..=3), rng.pick(1..=3)],
                padding: [0, 1].map(|a| rng.pick(0..=d[a].div_ceil(2))).repeat(2)[..4]
                    .try_into()
                    .unwrap(),
                dilation: d,
                ceil_mode: rng.pick(0..=1) == 1,
            }
        };
        let d = p.dilation;
        let (h, w) = (rng.pick(2..=7), rng.pick(2..=23));
        let data: Vec<f32> = (0..2 * h * w)
            .map(|_| [0.0, 1.0, 2.0, f32::NAN][rng.pick(0..=3)])
            .collect();
        let x = t(data.clone(), &[2, h, w]);
        let Ok((y, arg)) = max_pool2d(&x, &p) else {
            continue;
        };
        let [_, oh, ow] = *y.shape() else {
            panic!("{:?}", y.shape())
        };
        for c in 0..2 {
            for oy in 0..oh {
                for ox in 0..ow {
                    let (mut best, mut at) = (f32::NEG_INFINITY, NO_ARGMAX);
                    for ky in 0..2 {
                        for kx in 0..2 {
                            let iy = (oy * p.stride[0] + ky * d[0]) as i64 - p.padding[0] as i64;
                            let ix = (ox * p.stride[1] + kx * d[1]) as i64 - p.padding[1] as i64;
                            if iy < 0 || ix < 0 || iy >= h as i64 || ix >= w as i64 {
                                continue;
                            }
                            let i = (c * h + iy as usize) * w + ix as usize;
                            if at == NO_ARGMAX || data[i] > best || data[i].is_nan() {
                                (best, at) = (data[i], i as u32);
                            }
                        }
                    }
                    let o = (c * oh + oy) * ow + ox;
                    assert_eq!(arg[o], at, "{p:?} {h}×{w} cell {o}");
                    assert!(
                        y.data()[o] == best || (best.is_nan() && y.data()[o].is_nan()),
                        "{p:?} cell {o}: {} against {best}",
                        y.data()[o]
                    );
                }
            }
        }
    }
}

#[test]
fn max_pool2d_semantics() {
    // 4×4, 2×2 default stride: the classic example.
    let x = t((0..16).map(|v| v as f32).collect(), &[1, 1, 4, 4]);
    let (y, arg) = max_pool2d(&x, &Pool2dParams::new([2, 2])).unwrap();
    assert_eq!(y.data(), [5.0, 7.0, 13.0, 15.0]);
    assert_eq!(arg, [5, 7, 13, 15]);
    // 5×5 with ceil_mode: 3×3 windows of stride 2 → ceil((5−3)/2)+1 = 2 (floor also 2);
    // 6 wide: floor 2, ceil 3 (last window starts at 4 < 6, kept).
    let x = t(vec![1.0; 30], &[1, 1, 5, 6]);
    let mut p = Pool2dParams {
        stride: [2, 2],
        ..Pool2dParams::new([3, 3])
    };
    assert_eq!(max_pool2d(&x, &p).unwrap().0.shape(), [1, 1, 2, 2]);
    p.ceil_mode = true;
    assert_eq!(max_pool2d(&x, &p).unwrap().0.shape(), [1, 1, 2, 3]);
    // a window starting in the right padding is dropped: input 5, k 2, s 2, pad 1:
    // (5+2−2)/2 = 2.5 → ceil 4 windows, but the 4th starts at 6−1 = 5 ≥ 5 → 3.
    let x = t(vec![1.0; 5], &[1, 1, 1, 5]);
    let p = Pool2dParams {
        padding: [0, 1, 0, 1],
        ceil_mode: true,
        ..Pool2dParams::new([1, 2])
    };
    assert_eq!(max_pool2d(&x, &p).unwrap().0.shape(), [1, 1, 1, 3]);
    // the drop rule counts only the left padding: with [0, 0, 0, 1] the 3rd window starts at
    // 4 < 5 and stays; ceil((5+1−2)/2)+1 = 3.
    let p = Pool2dParams {
        padding: [0, 0, 0, 1],
        ceil_mode: true,
        ..Pool2dParams::new([1, 2])
    };
    assert_eq!(max_pool2d(&x, &p).unwrap().0.shape(), [1, 1, 1, 3]);
    // padding is −∞, not 0: all-negative inputs stay negative.
    let x = t(vec![-5.0, -6.0, -7.0, -8.0], &[1, 1, 2, 2]);
    let p = Pool2dParams {
        stride: [1, 1],
        padding: [1; 4],
        ..Pool2dParams::new([3, 3])
    };
    let (y, _) = max_pool2d(&x, &p).unwrap();
    assert_eq!(y.data(), [-5.0; 4]);
    // NaN wins, as in PyTorch.
    let x = t(vec![1.0, f32::NAN, 3.0, 2.0], &[1, 2, 2]);
    let (y, arg) = max_pool2d(&x, &Pool2dParams::new([2, 2])).unwrap();
    assert!(y.data()[0].is_nan());
    assert_eq!(arg, [1]);
    // a window entirely in the padding: −∞, no gradient.
    let x = t(vec![3.0], &[1, 1, 1, 1]);
    let p = Pool2dParams {
        stride: [1, 1],
        padding: [0, 1, 0, 1],
        dilation: [1, 2],
        ..Pool2dParams::new([1, 2])
    };
    let (y, arg) = max_pool2d(&x, &p).unwrap();
    assert_eq!(y.data(), [f32::NEG_INFINITY]);
    assert_eq!(arg, [NO_ARGMAX]);
    let dx = max_pool2d_backward(&t(vec![1.0], &[1, 1, 1, 1]), &arg, &[1, 1, 1, 1]).unwrap();
    assert_eq!(dx.data(), [0.0]);
}

/// ONNX's `auto_pad`: the total padding `(out − 1)·s + d·(k−1) + 1 − in` with `out = ⌈in / s⌉`,
/// split with the odd cell at the end (SAME_UPPER) or at the start (SAME_LOWER). Its larger
/// side is at most ⌈(d·(k−1))/2⌉ = ⌊(d·(k−1)+1)/2⌋, so SAME always fits PyTorch's bound.
fn onnx_same(input: usize, k: usize, s: usize, d: usize, upper: bool) -> (usize, usize) {
    let out = input.div_ceil(s);
    let total = ((out - 1) * s + d * (k - 1) + 1).saturating_sub(input);
    let small = total / 2;
    if upper {
        (small, total - small)
    } else {
        (total - small, small)
    }
}

#[test]
fn max_pool2d_pads_each_side_and_expresses_onnx_same_padding() {
    let mut rng = Rng::new(12);
    let mut checked = 0;
    for k in 1..=4 {
        for s in 1..=3 {
            for d in 1..=2 {
                for input in [1, 2, 5, 6, 7] {
                    for upper in [true, false] {
                        let (kh, sh, dh) = (k, s, d);
                        let (kw, sw) = (5 - k, 4 - s);
                        let ((pt, pb), (pl, pr)) = (
                            onnx_same(input, kh, sh, dh, upper),
                            onnx_same(input + 1, kw, sw, 1, upper),
                        );
                        let p = Pool2dParams {
                            kernel: [kh, kw],
                            stride: [sh, sw],
                            padding: [pt, pl, pb, pr],
                            dilation: [dh, 1],
                            ceil_mode: false,
                        };
                        let xs = [1, 2, input, input + 1];
                        let x = rand_t(&mut rng, &xs);
                        // SAME's larger side is ⌈(d·(k−1))/2⌉ at most: always inside the bound
                        let (y, arg) = max_pool2d(&x, &p).unwrap();
                        // SAME: out = ⌈in / s⌉ on both axes
                        assert_eq!(
                            y.shape(),
                            [1, 2, input.div_ceil(sh), (input + 1).div_ceil(sw)],
                            "{p:?}"
                        );
                        let (want, warg, shape) = r::max_pool2d(&to_f64(x.data()), xs, &p);
                        assert_eq!(y.shape(), shape, "{p:?}");
                        assert_eq!(arg, warg, "{p:?}");
                        assert_close("same pool", y.data(), &want, 0.0);
                        checked += 1;
                    }
                }
            }
        }
    }
    assert!(checked > 150, "{checked}");
    // one asymmetric case by hand: 1×4 input, k 2, s 2, padding right 1 → windows [0,1], [2,3]
    // (floor: (4+1−2)/2+1 = 2); padding left 1 instead → [−∞,0], [1,2], and 3 is left out.
    let x = t(vec![4.0, 1.0, 2.0, 3.0], &[1, 1, 1, 4]);
    let right = Pool2dParams {
        padding: [0, 0, 0, 1],
        ..Pool2dParams::new([1, 2])
    };
    assert_eq!(max_pool2d(&x, &right).unwrap().0.data(), [4.0, 3.0]);
    let left = Pool2dParams {
        padding: [0, 1, 0, 0],
        ..Pool2dParams::new([1, 2])
    };
    assert_eq!(max_pool2d(&x, &left).unwrap().0.data(), [4.0, 2.0]);
    // the bound is per side and uses the effective kernel: k 3, dilation 2 → 5 → at most 2
    let x = t(vec![0.0; 36], &[1, 1, 6, 6]);
    let ok = Pool2dParams {
        padding: [2, 0, 0, 1],
        dilation: [2, 1],
        ..Pool2dParams::new([3, 3])
    };
    assert!(max_pool2d(&x, &ok).is_ok());
    assert_param(
        max_pool2d(
            &x,
            &Pool2dParams {
                padding: [0, 0, 3, 0],
                ..ok
            },
        ),
        "padding",
        "[0, 0, 3, 0]",
    );
    assert_param(
        max_pool2d(
            &x,
            &Pool2dParams {
                padding: [0, 2, 0, 0],
                ..ok
            },
        ),
        "padding",
        "[0, 2, 0, 0]",
    );
}

#[track_caller]
fn assert_param<T: std::fmt::Debug>(r: Result<T>, name: &str, value: &str) {
    match r {
        Err(Error::Param {
            name: n, value: v, ..
        }) if n == name && v.contains(value) => {}
        other => panic!("expected an error on {name} = {value}, got {other:?}"),
    }
}

#[test]
fn invalid_parameters_are_errors_naming_them() {
    let x = t(vec![0.0; 2 * 4 * 5 * 5], &[2, 4, 5, 5]);
    let w = t(vec![0.0; 6 * 4 * 9], &[6, 4, 3, 3]);
    let d = Conv2dParams::default();
    assert_param(conv2d(&x, &w, None, &d.stride(0)), "stride", "[0, 0]");
    assert_param(
        conv2d(
            &x,
            &w,
            None,
            &Conv2dParams {
                stride: [1, 0],
                ..d
            },
        ),
        "stride",
        "[1, 0]",
    );
    assert_param(conv2d(&x, &w, None, &d.dilation(0)), "dilation", "[0, 0]");
    assert_param(
        conv2d(&x, &w, None, &d.dilation(3)),
        "kernel_size",
        "[3, 3]",
    );
    let big = t(vec![0.0; 6 * 4 * 36], &[6, 4, 6, 6]);
    assert_param(conv2d(&x, &big, None, &d), "kernel_size", "[6, 6]");
    assert!(conv2d(
        &x,
        &big,
        None,
        &Conv2dParams {
            padding: [1, 1, 0, 0],
            ..d
        }
    )
    .is_ok());
    assert_param(conv2d(&x, &w, None, &d.groups(0)), "groups", "0");
    assert_param(conv2d(&x, &w, None, &d.groups(3)), "groups", "3");
    let w4 = t(vec![0.0; 6 * 9], &[6, 1, 3, 3]);
    assert_param(conv2d(&x, &w4, None, &d.groups(4)), "groups", "4"); // 6 outputs, 4 groups
    assert_param(conv2d(&x, &w4, None, &d), "weight", "[6, 1, 3, 3]");
    assert_param(
        conv2d(&x, &w, None, &d.output_padding(1)),
        "output_padding",
        "[1, 1]",
    );
    let b = t(vec![0.0; 5], &[5]);
    assert_param(conv2d(&x, &w, Some(&b), &d), "bias", "[5]");
    let dy = t(vec![0.0; 10], &[10]);
    assert_param(conv2d_backward(&x, &w, &dy, &d), "dy", "[10]");
    // wrong rank
    let x3 = t(vec![0.0; 100], &[4, 5, 5]);
    assert!(matches!(conv2d(&x3, &w, None, &d), Err(Error::Shape(_))));
    // absurd: padding so large the output would overflow
    assert!(conv2d(&x, &w, None, &d.pad(usize::MAX / 2)).is_err());
    assert!(conv2d(&x, &w, None, &d.pad(1 << 20)).is_err());
    assert!(conv2d(&x, &w, None, &d.stride(usize::MAX)).is_ok());

    // transposed
    let wt = t(vec![0.0; 4 * 2 * 9], &[4, 2, 3, 3]);
    assert_param(
        conv_transpose2d(&x, &wt, None, &d.stride(2).output_padding(2)),
        "output_padding",
        "[2, 2]",
    );
    assert!(conv_transpose2d(&x, &wt, None, &d.stride(2).output_padding(1)).is_ok());
    // dilation also allows output_padding (PyTorch: < max(stride, dilation))
    assert!(conv_transpose2d(&x, &wt, None, &d.dilation(3).output_padding(2)).is_ok());
    assert_param(
        conv_transpose2d(&x, &wt, None, &d.stride(0)),
        "stride",
        "[0, 0]",
    );
    assert_param(
        conv_transpose2d(&x, &wt, None, &d.dilation(0)),
        "dilation",
        "[0, 0]",
    );
    assert_param(conv_transpose2d(&x, &wt, None, &d.groups(3)), "groups", "3");
    assert_param(
        conv_transpose2d(&x, &wt, None, &d.pad(4)),
        "padding",
        "[4, 4, 4, 4]",
    );
    let wt_bad = t(vec![0.0; 3 * 2 * 9], &[3, 2, 3, 3]);
    assert_param(
        conv_transpose2d(&x, &wt_bad, None, &d),
        "weight",
        "[3, 2, 3, 3]",
    );
    assert_param(conv_transpose2d(&x, &wt, Some(&b), &d), "bias", "[5]");
    assert_param(conv_transpose2d_backward(&x, &wt, &dy, &d), "dy", "[10]");
    let wt_huge = t(vec![0.0; 4], &[4, 1, 1, 1]);
    assert!(conv_transpose2d(&x, &wt_huge, None, &d.stride(1 << 30)).is_err());

    // pooling
    let p = Pool2dParams::new([2, 2]);
    assert_param(
        max_pool2d(&x, &Pool2dParams::new([0, 2])),
        "kernel_size",
        "[0, 2]",
    );
    assert_param(
        max_pool2d(
            &x,
            &Pool2dParams {
                stride: [0, 1],
                ..p
            },
        ),
        "stride",
        "[0, 1]",
    );
    assert_param(
        max_pool2d(
            &x,
            &Pool2dParams {
                dilation: [1, 0],
                ..p
            },
        ),
        "dilation",
        "[1, 0]",
    );
    assert_param(
        max_pool2d(
            &x,
            &Pool2dParams {
                padding: [2, 0, 0, 0],
                ..p
            },
        ),
        "padding",
        "[2, 0, 0, 0]",
    );
    assert_param(
        max_pool2d(&x, &Pool2dParams::new([6, 2])),
        "kernel_size",
        "[6, 2]",
    );
    assert_param(max_pool2d_backward(&dy, &[0; 3], &[10]), "argmax", "3");
    assert_param(max_pool2d_backward(&dy, &[99; 10], &[10]), "argmax", "99");
    assert!(max_pool2d(&t(vec![0.0; 4], &[4]), &p).is_err());
}

/// Every micro-kernel this build has, forced: the direct path takes exactly the windows its
/// tap limit allows (the SIMD pixel tiles up to 1024 taps, the portable loop up to 32), and
/// `conv2d` and `PreparedConv2d` (prepared under the automatic choice,
/// run under the forced one) give the reference result on both paths.
#[test]
fn each_forced_kernel_gives_the_reference_conv() {
    use crate::gemm::{available_kernels, with_forced, KernelKind};
    let cases: [([usize; 4], [usize; 4], Conv2dParams); 6] = [
        // K = 25: direct for every kind.
        ([2, 1, 28, 28], [8, 1, 5, 5], Conv2dParams::default().pad(2)),
        // K = 200: direct with the SIMD micro-kernels, im2col + GEMM with the portable one.
        (
            [1, 8, 14, 14],
            [16, 8, 5, 5],
            Conv2dParams::default().pad(2),
        ),
        // Odd output channels (a pair plus a single one), groups, dilation.
        (
            [1, 4, 11, 17],
            [6, 2, 3, 3],
            Conv2dParams::default().groups(2).dilation(2),
        ),
        // K = 288, im2col 288 × 36: the direct path's pixel tiles with the SIMD micro-kernels,
        // the implicit GEMM with the portable one; then 64 output channels (four panels).
        ([1, 32, 6, 6], [4, 32, 3, 3], Conv2dParams::default().pad(1)),
        (
            [1, 32, 16, 16],
            [64, 32, 3, 3],
            Conv2dParams::default().pad(1),
        ),
        // K = 1152, im2col 1152 × 36: the implicit GEMM for every kind.
        (
            [1, 128, 6, 6],
            [4, 128, 3, 3],
            Conv2dParams::default().pad(1),
        ),
    ];
    let mut rng = Rng::new(13);
    for (xs, ws, p) in cases {
        let w = rand_t(&mut rng, &ws);
        let b = rand_t(&mut rng, &[ws[0]]);
        let x = rand_t(&mut rng, &xs);
        let (want, _) = r::conv2d(
            &to_f64(x.data()),
            xs,
            &to_f64(w.data()),
            ws,
            Some(&to_f64(b.data())),
            &p,
        );
        let mut layer = PreparedConv2d::new(&w, Some(&b), &p, [xs[1], xs[2], xs[3]]).unwrap();
        let plan = ConvPlan::conv2d(&xs, &ws, &p).unwrap();
        for &kind in available_kernels() {
            with_forced(kind, || {
                let taps = plan.win.rows();
                let direct = direct::scratch_len(kind, &plan.win).is_some();
                assert_eq!(
                    direct,
                    taps <= direct::max_taps(kind),
                    "{kind:?} K = {taps}"
                );
                let what = format!("{kind:?} {xs:?} {ws:?}");
                let got = conv2d(&x, &w, Some(&b), &p).unwrap();
                assert_close(&what, got.data(), &want, 1e-5);
                let mut out = vec![f32::NAN; layer.output_len()];
                for i in 0..xs[0] {
                    let img = &x.data()[i * layer.input_len()..][..layer.input_len()];
                    layer.forward_into(img, &mut out).unwrap();
                    let want_i = &want[i * out.len()..][..out.len()];
                    assert_close(&format!("prepared {what}"), &out, want_i, 1e-5);
                }
            });
        }
    }
    assert_eq!(direct::max_taps(KernelKind::Portable), 32);
    assert_eq!(direct::max_taps(KernelKind::Simd128), 1024);
    assert_eq!(direct::max_taps(KernelKind::Relaxed), 1024);
}

/// (C_in, C_out per group, groups, kernel, stride, padding, output padding).
type PhaseCase = (
    usize,
    usize,
    usize,
    [usize; 2],
    [usize; 2],
    [usize; 4],
    [usize; 2],
);

/// The transposed conv phase by phase (strided, dilation 1, under the SIMD micro-kernels):
/// 4-, 8- and 16-channel panels and several panels, strides 2 and 3 and mixed, kernels
/// smaller than the stride (phases with no taps: bias only), padding, output padding and
/// groups; `conv_transpose2d` (packed per call) and `PreparedConvTranspose2d` (packed once)
/// against the reference. Natively (portable kernel) the same cases run the GEMM + col2im.
#[test]
fn transposed_conv_phases_match_reference() {
    let mut rng = Rng::new(17);
    let simd = cfg!(all(target_arch = "wasm32", target_feature = "simd128"));
    let mut taken = 0;
    let shapes: [PhaseCase; 9] = [
        (16, 8, 1, [4, 4], [2, 2], [1, 1, 1, 1], [0, 0]),
        (3, 16, 1, [3, 3], [2, 2], [0, 1, 2, 0], [1, 1]),
        (5, 20, 1, [5, 4], [3, 2], [2, 1, 1, 0], [2, 1]),
        (2, 1, 1, [1, 1], [3, 3], [0, 0, 0, 0], [2, 0]),
        (4, 6, 2, [2, 3], [2, 3], [1, 0, 0, 2], [0, 2]),
        (8, 33, 1, [4, 4], [2, 2], [1, 1, 1, 1], [1, 0]),
        (6, 4, 3, [3, 5], [1, 2], [1, 2, 0, 1], [0, 1]),
        (7, 9, 1, [2, 2], [2, 2], [0, 0, 0, 0], [0, 0]),
        (16, 16, 1, [6, 6], [3, 3], [2, 2, 2, 2], [0, 0]),
    ];
    for (i, &(cin, cout, groups, k, stride, padding, output_padding)) in shapes.iter().enumerate() {
        let (h, w) = (5 + i % 3, 4 + 2 * (i % 4));
        let xs = [2, cin * groups, h, w];
        let ws = [cin * groups, cout, k[0], k[1]];
        let p = Conv2dParams {
            stride,
            padding,
            dilation: [1, 1],
            groups,
            output_padding,
        };
        let plan = ConvPlan::conv_transpose2d(&xs, &ws, &p).unwrap();
        let phases = engine::phases_path(crate::gemm::selected_kernel(), &plan.win, cin);
        assert_eq!(phases.is_some(), simd, "{xs:?} {ws:?} {p:?}");
        taken += phases.is_some() as usize;
        let (x, wt, b) = operands(&mut rng, &xs, &ws, cout * groups);
        let bias = (i % 2 == 0).then_some(&b);
        let (want, shape) =
            r::conv_transpose2d(&f64s(&x), xs, &f64s(&wt), ws, f64_bias(bias).as_deref(), &p);
        let what = format!("{xs:?} {ws:?} {p:?}");
        let got = conv_transpose2d(&x, &wt, bias, &p).unwrap();
        assert_eq!(got.shape(), shape, "{what}");
        assert_close(&what, got.data(), &want, 1e-5);
        let mut layer = PreparedConvTranspose2d::new(&wt, bias, &p, [xs[1], h, w]).unwrap();
        let mut out = vec![f32::NAN; layer.output_len()];
        for n in 0..xs[0] {
            layer
                .forward_into(
                    &x.data()[n * layer.input_len()..][..layer.input_len()],
                    &mut out,
                )
                .unwrap();
            let want_n = &want[n * out.len()..][..out.len()];
            assert_close(&format!("prepared {what}"), &out, want_n, 1e-5);
        }
    }
    assert_eq!(taken, if simd { shapes.len() } else { 0 });
}

/// Strides far past the image (up to 2^31, the boundary fuzz's trap) give the reference's
/// answer at once, with no plan of s² phases, on every path; the largest strides are errors
/// only when the output would not fit.
#[test]
fn transposed_conv_with_huge_strides_matches_reference() {
    let mut rng = Rng::new(23);
    let mut passed = 0;
    for stride in [
        [2usize, 1 << 16],
        [1 << 14, 1 << 14],
        [1 << 28, 3],
        [1 << 31, 1 << 31],
        [1 << 31, 1],
    ] {
        for (xs, ws) in [([1, 1, 1, 1], [1, 1, 3, 3]), ([1, 2, 1, 2], [2, 3, 2, 3])] {
            let p = Conv2dParams {
                stride,
                ..Conv2dParams::default()
            };
            let what = format!("{xs:?} {ws:?} stride {stride:?}");
            let (x, wt, b) = operands(&mut rng, &xs, &ws, ws[1]);
            match ConvPlan::conv_transpose2d(&xs, &ws, &p) {
                Ok(plan) => {
                    // A stride past the image side: no plan of s² phases, under any
                    // micro-kernel (natively too). Within it, the phases' count is at most the
                    // output's pixels.
                    let past = stride[0] > plan.win.height || stride[1] > plan.win.width;
                    let phases = super::phases::Phases::new(&plan.win, ws[1]);
                    assert!(phases.is_none() || !past, "{what}");
                    passed += past as usize;
                    let (want, shape) = r::conv_transpose2d(
                        &f64s(&x),
                        xs,
                        &f64s(&wt),
                        ws,
                        f64_bias(Some(&b)).as_deref(),
                        &p,
                    );
                    let got = conv_transpose2d(&x, &wt, Some(&b), &p).unwrap();
                    assert_eq!(got.shape(), shape, "{what}");
                    assert_close(&what, got.data(), &want, 1e-5);
                }
                Err(e) => {
                    // Only an output too large to hold is refused (a clean error, no trap).
                    let out = p
                        .transpose_output([xs[2], xs[3]], [ws[2], ws[3]])
                        .unwrap()
                        .out();
                    // (in u64: on wasm32 the product itself would overflow usize)
                    let n = out[0] as u64 * out[1] as u64 * ws[1] as u64;
                    assert!(n > crate::tensor::MAX_ELEMENTS as u64, "{what}: {e}");
                    assert!(e.to_string().contains("too large"), "{what}: {e}");
                }
            }
        }
    }
    assert!(passed >= 5, "{passed} cases with a stride past the image");
}

/// `PreparedConvTranspose2d` against the reference on the random transposed shapes (batch
/// images one at a time, NaN-filled outputs), and under every micro-kernel this build has
/// (packed under the automatic choice, run under the forced one: another NR unpacks).
#[test]
fn prepared_conv_transpose2d_matches_reference() {
    use crate::gemm::{available_kernels, with_forced};
    let mut rng = Rng::new(16);
    let mut cases: Vec<Case> = (0..120).map(|_| random_transpose(&mut rng)).collect();
    // the benchmark's shape: 16×14×14 → 8, 4×4, stride 2, padding 1
    cases.push(Case {
        x: [1, 16, 14, 14],
        w: [16, 8, 4, 4],
        p: Conv2dParams::default().stride(2).pad(1),
    });
    for (i, c) in cases.iter().enumerate() {
        let x = rand_t(&mut rng, &c.x);
        let w = rand_t(&mut rng, &c.w);
        let b = rand_t(&mut rng, &[c.w[1] * c.p.groups]);
        let bias = (i % 3 != 0).then_some(&b);
        let (want, shape) = r::conv_transpose2d(
            &to_f64(x.data()),
            c.x,
            &to_f64(w.data()),
            c.w,
            bias.map(|b| to_f64(b.data())).as_deref(),
            &c.p,
        );
        let mut layer =
            PreparedConvTranspose2d::new(&w, bias, &c.p, [c.x[1], c.x[2], c.x[3]]).unwrap();
        assert_eq!(layer.output_chw()[..], shape[1..], "{c:?}");
        let kinds: &[_] = if i % 10 == 0 || i == cases.len() - 1 {
            available_kernels()
        } else {
            &available_kernels()[..1]
        };
        for &kind in kinds {
            with_forced(kind, || {
                let mut out = vec![f32::NAN; layer.output_len()];
                for n in 0..c.x[0] {
                    let img = &x.data()[n * layer.input_len()..][..layer.input_len()];
                    layer.forward_into(img, &mut out).unwrap();
                    let want_n = &want[n * out.len()..][..out.len()];
                    assert_close(&format!("{kind:?} {c:?}"), &out, want_n, 1e-5);
                }
            });
        }
    }
    let c = &cases[0];
    let w = rand_t(&mut rng, &c.w);
    let mut layer = PreparedConvTranspose2d::new(&w, None, &c.p, [c.x[1], c.x[2], c.x[3]]).unwrap();
    let mut out = vec![0.0; layer.output_len()];
    assert!(layer.forward_into(&[0.0; 1], &mut out).is_err());
    let x = vec![0.0; layer.input_len()];
    assert!(layer.forward_into(&x, &mut [0.0; 1]).is_err());
    assert_param(
        PreparedConvTranspose2d::new(
            &w,
            Some(&t(vec![0.0; 99], &[99])),
            &c.p,
            [c.x[1], c.x[2], c.x[3]],
        ),
        "bias",
        "[99]",
    );
}

/// The implicit GEMM (windows packed straight from a padded copy, no im2col) against the
/// reference: `conv2d` and `PreparedConv2d` (prepared under the automatic choice, run under
/// every forced micro-kernel) on shapes the engine sends there (K above every direct limit,
/// an im2col matrix of at least `IMPLICIT_MIN_COL` floats) with strides, per-side padding,
/// dilation, groups and odd sizes; outputs NaN-filled. Plus a 3×3 128 → 64 conv (K = 1152).
#[test]
fn implicit_gemm_matches_reference_on_many_shapes() {
    use super::engine::{path, Path};
    use crate::gemm::{available_kernels, with_forced};
    let mut rng = Rng::new(17);
    let mut cases = vec![Case {
        x: [1, 128, 16, 16],
        w: [64, 128, 3, 3],
        p: Conv2dParams::default().pad(1),
    }];
    while cases.len() < 60 {
        let (kh, kw) = (rng.pick(1..=4), rng.pick(1..=4));
        let cpg = 1025usize.div_ceil(kh * kw) + rng.pick(0..=6);
        let groups = rng.pick(1..=2);
        let p = Conv2dParams {
            stride: [rng.pick(1..=3), rng.pick(1..=3)],
            padding: [
                rng.pick(0..=3),
                rng.pick(0..=3),
                rng.pick(0..=3),
                rng.pick(0..=3),
            ],
            dilation: [rng.pick(1..=2), rng.pick(1..=2)],
            groups,
            output_padding: [0, 0],
        };
        let c = Case {
            x: [
                rng.pick(1..=2),
                cpg * groups,
                rng.pick(3..=19),
                rng.pick(3..=19),
            ],
            w: [rng.pick(2..=7) * groups, cpg, kh, kw],
            p,
        };
        let Ok(plan) = ConvPlan::conv2d(&c.x, &c.w, &c.p) else {
            continue;
        };
        if path(
            crate::gemm::selected_kernel(),
            &plan.win,
            plan.small_per_group(),
        ) == Path::Implicit
        {
            cases.push(c);
        }
    }
    // Both ways round (windows as A's rows, as B's columns) must run.
    let mut ways = [0usize; 2];
    for (i, c) in cases.iter().enumerate() {
        let x = rand_t(&mut rng, &c.x);
        let w = rand_t(&mut rng, &c.w);
        let b = rand_t(&mut rng, &[c.w[0]]);
        let (want, shape) = r::conv2d(
            &to_f64(x.data()),
            c.x,
            &to_f64(w.data()),
            c.w,
            Some(&to_f64(b.data())),
            &c.p,
        );
        let plan = ConvPlan::conv2d(&c.x, &c.w, &c.p).unwrap();
        let mut layer = PreparedConv2d::new(&w, Some(&b), &c.p, [c.x[1], c.x[2], c.x[3]]).unwrap();
        let kinds: &[_] = if i % 6 == 0 {
            available_kernels()
        } else {
            &available_kernels()[..1]
        };
        for &kind in kinds {
            with_forced(kind, || {
                assert_eq!(
                    path(kind, &plan.win, plan.small_per_group()),
                    Path::Implicit,
                    "{kind:?} {c:?}"
                );
                let chosen =
                    super::implicit::windows_as_columns(kind, &plan.win, plan.small_per_group());
                ways[usize::from(chosen)] += 1;
                // Both ways round, whichever the rule picks for this tile.
                for cols in [false, true] {
                    super::implicit::FORCE_COLUMNS.with(|f| f.set(Some(cols)));
                    let what = format!("{kind:?} windows as columns {cols} {c:?}");
                    let got = conv2d(&x, &w, Some(&b), &c.p);
                    let mut out = vec![f32::NAN; layer.output_len()];
                    let prepared: Result<Vec<f32>> = (0..c.x[0])
                        .map(|n| {
                            let img = &x.data()[n * layer.input_len()..][..layer.input_len()];
                            layer.forward_into(img, &mut out).map(|()| out.clone())
                        })
                        .collect::<Result<Vec<_>>>()
                        .map(|v| v.concat());
                    super::implicit::FORCE_COLUMNS.with(|f| f.set(None));
                    let got = got.unwrap();
                    assert_eq!(got.shape(), shape, "{what}");
                    assert_close(&what, got.data(), &want, 1e-5);
                    assert_close(&format!("prepared {what}"), &prepared.unwrap(), &want, 1e-5);
                }
            });
        }
    }
    // The rule takes the windows as columns at least for the benchmark's 3×3 64-channel conv.
    assert!(
        ways[1] >= 1,
        "the rule never took the windows as columns: {ways:?}"
    );
}

/// The padded copy and the offset tables reproduce im2col exactly: `colᵀ[q, t]` is
/// `padded[rows[q] + cols[t]]` for every window and tap (random windows, any geometry).
#[test]
fn implicit_offsets_address_the_column_matrix() {
    use super::implicit::{pad_image, padded_len, Offsets};
    let mut rng = Rng::new(18);
    for _ in 0..200 {
        let c = random_conv(&mut rng);
        let win = ConvPlan::conv2d(&c.x, &c.w, &c.p).unwrap().win;
        let image = rng.uniform_vec(win.image_len(), -1.0, 1.0);
        let col = naive_im2col(&win, &image);
        let mut padded = vec![f32::NAN; padded_len(&win).unwrap()];
        pad_image(&win, &image, &mut padded);
        let o = Offsets::new(&win);
        assert_eq!((o.rows.len(), o.cols.len()), (win.cols(), win.rows()));
        for (q, &r) in o.rows.iter().enumerate() {
            for (t, &cc) in o.cols.iter().enumerate() {
                assert_eq!(
                    padded[r + cc],
                    col[t * win.cols() + q],
                    "{win:?} q {q} t {t}"
                );
            }
        }
    }
}

/// `dW[o, c, ky, kx] = Σ_n Σ_(oy, ox) dy[n, o, oy, ox] · x[n, g·cpg + c, iy, ix]` in f64.
fn naive_dw(
    x: &[f32],
    xs: [usize; 4],
    dy: &[f32],
    ys: [usize; 4],
    ws: [usize; 4],
    p: &Conv2dParams,
) -> Vec<f64> {
    let [n, c_in, h, wd] = xs;
    let [_, c_out, oh, ow] = ys;
    let [_, cpg, kh, kw] = ws;
    let opg = c_out / p.groups;
    let mut dw = vec![0.0f64; ws.iter().product()];
    for b in 0..n {
        for o in 0..c_out {
            let g = o / opg;
            for c in 0..cpg {
                for ky in 0..kh {
                    for kx in 0..kw {
                        let mut acc = 0.0;
                        for oy in 0..oh {
                            for ox in 0..ow {
                                let iy = (oy * p.stride[0] + ky * p.dilation[0]) as i64
                                    - p.padding[0] as i64;
                                let ix = (ox * p.stride[1] + kx * p.dilation[1]) as i64
                                    - p.padding[1] as i64;
                                if iy < 0 || ix < 0 || iy >= h as i64 || ix >= wd as i64 {
                                    continue;
                                }
                                acc += dy[((b * c_out + o) * oh + oy) * ow + ox] as f64
                                    * x[((b * c_in + g * cpg + c) * h + iy as usize) * wd
                                        + ix as usize] as f64;
                            }
                        }
                        dw[((o * cpg + c) * kh + ky) * kw + kx] += acc;
                    }
                }
            }
        }
    }
    dw
}

/// The direct path's weight gradient (the pixel tiles, up to 16 output channels per group)
/// against the definition: whole panels of 4, 8 and 16 channels and partial ones, output
/// planes with and without a multiple of four pixels, five-wide kernels (the 5-pixel tile),
/// groups and batch; every micro-kernel.
#[test]
fn direct_weight_grad_matches_the_definition() {
    use crate::gemm::{available_kernels, with_forced};
    let mut rng = Rng::new(23);
    for round in 0..24 {
        let opg = [4, 8, 16, 3, 12, 6][round % 6];
        let groups = 1 + round % 2;
        // Five-wide kernels in 10 of the rounds, over every panel kind (the 5-pixel tile: 6
        // and 8 channels).
        let kw = if round % 5 < 2 { 5 } else { rng.pick(1..=5) };
        let kh = rng.pick(1..=5);
        let cpg = rng.pick(1..=3);
        let pad = rng.pick(0..=2);
        let p = Conv2dParams {
            stride: [1 + round % 3 / 2, 1],
            padding: [pad, pad, pad, pad],
            dilation: [1, 1],
            groups,
            output_padding: [0, 0],
        };
        let xs = [
            rng.pick(1..=3),
            cpg * groups,
            rng.pick(5..=15),
            rng.pick(5..=15),
        ];
        let ws = [opg * groups, cpg, kh, kw];
        let Ok(plan) = ConvPlan::conv2d(&xs, &ws, &p) else {
            continue;
        };
        let x = rand_t(&mut rng, &xs);
        let w = rand_t(&mut rng, &ws);
        let ys = plan.small_shape();
        let dy = rand_t(&mut rng, &ys);
        let want = naive_dw(x.data(), xs, dy.data(), ys, ws, &p);
        for &kind in available_kernels() {
            with_forced(kind, || {
                let (dw, _) = conv2d_backward_weight(&x, &w, &dy, &p).unwrap();
                assert_close(
                    &format!("{kind:?} {xs:?} {ws:?} {p:?}"),
                    dw.data(),
                    &want,
                    1e-4,
                );
            });
        }
    }
}

/// `len` values, three quarters zeros (a third of those −0), as a max pool's gradient leaves.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn pool_like(rng: &mut Rng, len: usize) -> Vec<f32> {
    (0..len)
        .map(|_| match rng.pick(0..=7) {
            0..=3 => 0.0,
            4 | 5 => -0.0,
            _ => rng.uniform(-1.0, 1.0),
        })
        .collect()
}

/// The sampled density check that keeps a dense dY from paying for the sparse passes' lists:
/// dense gradients look dense, a max pool's (a quarter nonzero, after a 2 × 2 pool of 14 × 14
/// planes) does not, at the cnn's budgets; short ones are left to the exact count.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[test]
fn dense_gradients_look_dense() {
    let mut rng = Rng::new(53);
    let dense = rng.uniform_vec(64 * 16 * 196, -1.0, 1.0);
    // conv2's dW budget: 3 · 5 · 8 lanes a value against 25.
    assert!(direct::looks_dense(&dense, 120, 25));
    // One cell of each 2 × 2 window of 14 × 14 planes, the rest zeros.
    let pooled: Vec<f32> = (0..64 * 16 * 196)
        .map(|i| {
            let (y, x) = (i % 196 / 14, i % 14);
            let pick = (i / 196 * 7 + y / 2 * 3 + x / 2) % 4; // the window's winner
            if (y % 2) * 2 + x % 2 == pick {
                rng.uniform(0.1, 1.0)
            } else {
                0.0
            }
        })
        .collect();
    assert!(!direct::looks_dense(&pooled, 120, 25));
    assert!(
        !direct::looks_dense(&dense[..1000], 120, 25),
        "short: the exact count decides"
    );
}

/// The weight gradient's sparse sums (only dY's nonzero values, as after a max pool and a
/// relu) against the pixel tiles bit for bit, and both against the definition: kernels up
/// to 8 × 8 (those past the sparse sums' registers fall back to the tiles), strides, vertical
/// dilation, groups, padding, zeros of both signs, one and two tasks, every SIMD micro-kernel.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[test]
fn sparse_weight_grad_is_the_tiles_without_their_zeros() {
    use crate::gemm::{available_kernels, KernelKind};
    assert!(available_kernels().contains(&KernelKind::Portable));
    let mut rng = Rng::new(43);
    let mut sparse = 0;
    for round in 0..40 {
        let opg = rng.pick(1..=16);
        let groups = rng.pick(1..=2);
        let (kh, kw) = if round % 3 == 0 {
            (5, 5)
        } else {
            (rng.pick(1..=8), rng.pick(1..=8))
        };
        let cpg = rng.pick(1..=3);
        let p = Conv2dParams {
            stride: [rng.pick(1..=2), rng.pick(1..=2)],
            padding: [0, 0, 0, 0].map(|_| rng.pick(0..=2)),
            dilation: [rng.pick(1..=2), 1],
            groups,
            output_padding: [0, 0],
        };
        let xs = [
            rng.pick(1..=3),
            cpg * groups,
            rng.pick(6..=16),
            rng.pick(6..=16),
        ];
        let ws = [opg * groups, cpg, kh, kw];
        let Ok(plan) = ConvPlan::conv2d(&xs, &ws, &p) else {
            continue;
        };
        let x = rand_t(&mut rng, &xs);
        let ys = plan.small_shape();
        let dy = pool_like(&mut rng, ys.iter().product());
        let want = naive_dw(x.data(), xs, &dy, ys, ws, &p);
        let shape = (groups, opg, xs[0]);
        let takes = kw <= 8 && kh <= if kw <= 4 { 8 } else { 5 };
        for &kind in available_kernels() {
            if kind == KernelKind::Portable {
                continue;
            }
            for tasks in [1, 2] {
                let what = format!("{kind:?} {xs:?} {ws:?} {p:?} tasks {tasks}");
                let mut got = [
                    vec![f32::NAN; ws.iter().product()],
                    vec![f32::NAN; ws.iter().product()],
                ];
                let done = [true, false].map(|s| {
                    let dw = &mut got[usize::from(!s)];
                    direct::weight_grad_with(
                        kind,
                        &plan.win,
                        shape,
                        x.data(),
                        &dy,
                        dw,
                        tasks,
                        Some(s),
                    )
                });
                assert_eq!(done[0], done[1], "{what}: the same applicability");
                if !done[0] {
                    continue;
                }
                sparse += usize::from(takes);
                let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
                assert_eq!(
                    bits(&got[0]),
                    bits(&got[1]),
                    "{what}: sparse against the tiles"
                );
                assert_close(&what, &got[0], &want, 1e-4);
            }
        }
    }
    // 18 of the 40 shapes with seed 43, at two task counts, on each SIMD micro-kernel.
    let kinds = available_kernels().len() - 1;
    assert!(
        sparse >= 30 * kinds,
        "only {sparse} runs of the sparse sums"
    );
}

/// conv2d's input gradient by the sparse scatter (only dY's nonzero values) against the pixel
/// tiles' correlation with the turned kernel, bit for bit, and both against the transposed
/// conv's definition (the adjoint): kernels up to 8 × 8 over up to 8 input channels (kernel
/// rows of 1 to 64 floats, channels last), groups, padding up to the kernel's reach, zeros of
/// both signs, every SIMD micro-kernel, in one and two tasks (the images split).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[test]
fn sparse_input_grad_is_the_tiles_without_their_zeros() {
    use crate::gemm::{available_kernels, with_forced, KernelKind};
    assert!(available_kernels().contains(&KernelKind::Portable));
    let mut rng = Rng::new(47);
    let mut sparse = 0;
    for round in 0..40 {
        let opg = rng.pick(1..=16);
        let groups = rng.pick(1..=2);
        let (kh, kw) = if round % 3 == 0 {
            (5, 5)
        } else {
            (rng.pick(1..=8), rng.pick(1..=8))
        };
        // The first: the cnn's conv2 (kernel rows of 5 taps × 8 channels, ten vectors).
        let cpg = if round == 0 { 8 } else { rng.pick(1..=8) };
        let p = Conv2dParams {
            stride: [1, 1],
            padding: [kh, kw, kh, kw].map(|k| rng.pick(0..=k - 1)),
            dilation: [1, 1],
            groups,
            output_padding: [0, 0],
        };
        let xs = [
            rng.pick(1..=3),
            cpg * groups,
            rng.pick(6..=16),
            rng.pick(6..=16),
        ];
        let ws = [opg * groups, cpg, kh, kw];
        let Ok(plan) = ConvPlan::conv2d(&xs, &ws, &p) else {
            continue;
        };
        let w = rand_t(&mut rng, &ws);
        let ys = plan.small_shape();
        let dy = pool_like(&mut rng, ys.iter().product());
        let (want, shape) = r::conv_transpose2d(&to_f64(&dy), ys, &to_f64(w.data()), ws, None, &p);
        assert_eq!(shape, xs);
        for &kind in available_kernels() {
            if kind == KernelKind::Portable {
                continue;
            }
            with_forced(kind, || {
                let what = format!("{kind:?} {xs:?} {ws:?} {p:?}");
                let direct = engine::input_grad_as_conv(&plan)
                    .is_some_and(|f| engine::path(kind, &f.win, cpg) == engine::Path::Direct);
                let got = [true, false].map(|s| {
                    let mut dx = vec![f32::NAN; xs.iter().product()];
                    let mut col = engine::col_scratch(&plan);
                    engine::input_grad_with(&plan, &dy, w.data(), &mut dx, &mut col, Some(s))
                        .unwrap();
                    dx
                });
                sparse += usize::from(direct);
                let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
                assert_eq!(
                    bits(&got[0]),
                    bits(&got[1]),
                    "{what}: sparse against the tiles"
                );
                // The images split in two tasks.
                let mut dx = vec![f32::NAN; xs.iter().product()];
                let shape = (groups, opg, xs[0]);
                if direct
                    && direct::input_grad_sparse(
                        kind,
                        &plan.win,
                        shape,
                        &dy,
                        w.data(),
                        &mut dx,
                        2,
                        false,
                    )
                {
                    assert_eq!(bits(&dx), bits(&got[1]), "{what}: in two tasks");
                }
                assert_close(&what, &got[0], &want, 1e-4);
            });
        }
    }
    // 25 of the 40 shapes with seed 47 take the direct path, on each SIMD micro-kernel.
    let kinds = available_kernels().len() - 1;
    assert!(
        sparse >= 20 * kinds,
        "only {sparse} runs of the sparse scatter"
    );
}

/// The weight gradient on the implicit path (no im2col: taps gathered from the padded image)
/// against `dW[o, c, ky, kx] = Σ_n Σ_(oy, ox) dy[n, o, oy, ox] · x[n, g·cpg + c, iy, ix]` in f64,
/// for `conv2d_backward_weight` / `conv2d_backward` and, through the same engine, the
/// transposed conv's dW; every micro-kernel for some shapes.
#[test]
fn implicit_weight_grad_matches_the_definition() {
    use crate::gemm::{available_kernels, with_forced};
    let mut rng = Rng::new(19);
    let (mut done, mut transposed) = (0, 0);
    while done < 20 {
        let (kh, kw) = (rng.pick(1..=3), rng.pick(1..=3));
        let cpg = 257usize.div_ceil(kh * kw) / 2 + rng.pick(0..=4);
        let groups = rng.pick(1..=2);
        let p = Conv2dParams {
            stride: [rng.pick(1..=2), rng.pick(1..=2)],
            padding: [
                rng.pick(0..=2),
                rng.pick(0..=2),
                rng.pick(0..=2),
                rng.pick(0..=2),
            ],
            dilation: [rng.pick(1..=2), 1],
            groups,
            output_padding: [0, 0],
        };
        let xs = [
            rng.pick(1..=2),
            cpg * groups,
            rng.pick(4..=12),
            rng.pick(4..=12),
        ];
        let ws = [rng.pick(2..=5) * groups, cpg, kh, kw];
        let Ok(plan) = ConvPlan::conv2d(&xs, &ws, &p) else {
            continue;
        };
        if !super::implicit::applies(&plan.win, plan.small_per_group()) {
            continue;
        }
        let x = rand_t(&mut rng, &xs);
        let w = rand_t(&mut rng, &ws);
        let ys = plan.small_shape();
        let dy = rand_t(&mut rng, &ys);
        let want = naive_dw(x.data(), xs, dy.data(), ys, ws, &p);
        let kinds: &[_] = if done % 5 == 0 {
            available_kernels()
        } else {
            &available_kernels()[..1]
        };
        for &kind in kinds {
            with_forced(kind, || {
                let what = format!("{kind:?} {xs:?} {ws:?} {p:?}");
                let (dw, _) = conv2d_backward_weight(&x, &w, &dy, &p).unwrap();
                assert_close(&what, dw.data(), &want, 1e-4);
                let g = conv2d_backward(&x, &w, &dy, &p).unwrap();
                assert_eq!(g.dw, dw, "{what}");
            });
        }
        // The transposed conv's dW is the same engine with image = its output: dy there is
        // an image-side tensor, x small-side; dW_T[ci, co, ..] = dW of the conv with x ↔ dy.
        let pt = Conv2dParams {
            output_padding: [0, 0],
            ..p
        };
        if let Ok(tplan) = ConvPlan::conv_transpose2d(&ys, &[ys[1], cpg, kh, kw], &pt) {
            if tplan.image_shape() == xs {
                let wt = rand_t(&mut rng, &[ys[1], cpg, kh, kw]);
                let gt = conv_transpose2d_backward(&dy, &wt, &x, &pt).unwrap();
                assert_close("convT dW", gt.dw.data(), &want, 1e-4);
                transposed += 1;
            }
        }
        done += 1;
    }
    assert!(transposed >= 3, "only {transposed} transposed cases");
}

/// conv2d's dX at stride 1 with large windows runs as a forward conv of dY with the turned
/// kernel (an implicit GEMM): against `dX[n, g·cpg + c, iy, ix] = Σ dy[n, o, oy, ox] · W[o, c,
/// ky, kx]` over the taps that read (iy, ix), in f64, with per-side padding, dilation, groups
/// and batch; every micro-kernel for some shapes.
#[test]
fn implicit_input_grad_matches_the_definition() {
    use crate::gemm::{available_kernels, with_forced};
    let mut rng = Rng::new(20);
    let mut done = 0;
    while done < 20 {
        let (kh, kw) = (rng.pick(2..=4), rng.pick(1..=4));
        let groups = rng.pick(1..=2);
        let opg = 257usize.div_ceil(kh * kw) + rng.pick(0..=4);
        let d = [rng.pick(1..=2), rng.pick(1..=2)];
        let p = Conv2dParams {
            stride: [1, 1],
            padding: [
                rng.pick(0..=d[0] * (kh - 1)),
                rng.pick(0..=d[1] * (kw - 1)),
                rng.pick(0..=3),
                rng.pick(0..=3),
            ],
            dilation: d,
            groups,
            output_padding: [0, 0],
        };
        let cpg = rng.pick(2..=5);
        let xs = [
            rng.pick(1..=2),
            cpg * groups,
            rng.pick(5..=11),
            rng.pick(5..=11),
        ];
        let ws = [opg * groups, cpg, kh, kw];
        let Ok(plan) = ConvPlan::conv2d(&xs, &ws, &p) else {
            continue;
        };
        // the path under test: dY correlated with the turned kernel
        assert!(
            super::engine::input_grad_as_conv(&plan).is_some(),
            "{xs:?} {ws:?} {p:?}"
        );
        let x = rand_t(&mut rng, &xs);
        let w = rand_t(&mut rng, &ws);
        let ys = plan.small_shape();
        let dy = rand_t(&mut rng, &ys);
        let [n, c_in, h, wd] = xs;
        let [_, c_out, oh, ow] = ys;
        let mut want = vec![0.0f64; x.len()];
        for b in 0..n {
            for o in 0..c_out {
                let g = o / opg;
                for c in 0..cpg {
                    for ky in 0..kh {
                        for kx in 0..kw {
                            let wv = w.data()[((o * cpg + c) * kh + ky) * kw + kx] as f64;
                            for oy in 0..oh {
                                for ox in 0..ow {
                                    let iy = (oy + ky * d[0]) as i64 - p.padding[0] as i64;
                                    let ix = (ox + kx * d[1]) as i64 - p.padding[1] as i64;
                                    if iy < 0 || ix < 0 || iy >= h as i64 || ix >= wd as i64 {
                                        continue;
                                    }
                                    want[((b * c_in + g * cpg + c) * h + iy as usize) * wd
                                        + ix as usize] +=
                                        dy.data()[((b * c_out + o) * oh + oy) * ow + ox] as f64
                                            * wv;
                                }
                            }
                        }
                    }
                }
            }
        }
        let kinds: &[_] = if done % 5 == 0 {
            available_kernels()
        } else {
            &available_kernels()[..1]
        };
        for &kind in kinds {
            with_forced(kind, || {
                let g = conv2d_backward(&x, &w, &dy, &p).unwrap();
                assert_close(
                    &format!("{kind:?} {xs:?} {ws:?} {p:?}"),
                    g.dx.data(),
                    &want,
                    1e-4,
                );
            });
        }
        done += 1;
    }
}

#[test]
fn engine_refuses_a_bias_of_the_wrong_length_on_every_path() {
    use crate::gemm::{available_kernels, with_forced};
    // 1→8 5×5 takes the direct path under the SIMD kinds, 8→16 3×3 the implicit GEMM or im2col:
    // a bias of one value too few or too many is an error on each, never a slice panic.
    for (c, co, k) in [(1usize, 8usize, 5usize), (8, 16, 3)] {
        let p = Conv2dParams::default().pad(k / 2);
        let plan = ConvPlan::conv2d(&[1, c, 9, 9], &[co, c, k, k], &p).expect("plan");
        let x = vec![0.5f32; c * 81];
        let w = vec![0.25f32; co * c * k * k];
        for &kind in available_kernels() {
            with_forced(kind, || {
                let mut col = engine::forward_scratch(&plan);
                let mut out = vec![0.0f32; co * 81];
                for n in [co - 1, co + 1] {
                    let bias = vec![1.0f32; n];
                    let e = engine::image_to_small(&plan, &x, &w, Some(&bias), &mut out, &mut col)
                        .expect_err("wrong bias length");
                    assert!(e.to_string().contains("bias"), "{kind:?}: {e}");
                }
                let bias = vec![1.0f32; co];
                engine::image_to_small(&plan, &x, &w, Some(&bias), &mut out, &mut col)
                    .expect("right bias length");
            });
        }
    }
}

/// An output size that overflows is an error naming the stride (or the dilation), not a
/// padding that "leaves no output".
#[test]
fn transposed_output_overflow_names_the_setting() {
    let big = usize::MAX / 2 + 1;
    let p = Conv2dParams {
        stride: [1, big],
        ..Conv2dParams::default()
    };
    let e = p.transpose_output([3, 3], [3, 3]).unwrap_err().to_string();
    assert!(
        e.contains("stride") && e.contains("overflow") && e.contains("columns"),
        "{e}"
    );
    assert!(!e.contains("leaves no output"), "{e}");
    let p = Conv2dParams {
        dilation: [big, 1],
        ..Conv2dParams::default()
    };
    let e = p.transpose_output([3, 3], [3, 3]).unwrap_err().to_string();
    assert!(
        e.contains("dilation") && e.contains("overflow") && e.contains("rows"),
        "{e}"
    );
    // A padding that crops everything is still named as such.
    let p = Conv2dParams {
        padding: [9, 0, 9, 0],
        ..Conv2dParams::default()
    };
    let e = p.transpose_output([3, 3], [3, 3]).unwrap_err().to_string();
    assert!(
        e.contains("padding") && e.contains("leaves no output"),
        "{e}"
    );
}

/// A conv's or a pool's sizes that overflow are errors naming the padding (the padded input)
/// or the dilation (the kernel's reach), not a kernel "larger than the padded input".
#[test]
fn window_overflow_names_the_setting() {
    let big = usize::MAX / 2 + 1;
    let p = Conv2dParams {
        padding: [0, big, 0, big],
        ..Conv2dParams::default()
    };
    let e = p.conv_output([4, 4], [3, 3]).unwrap_err().to_string();
    assert!(
        e.starts_with("invalid padding") && e.contains("overflow") && e.contains("columns"),
        "{e}"
    );
    let p = Conv2dParams {
        dilation: [big, 1],
        ..Conv2dParams::default()
    };
    let e = p.conv_output([4, 4], [3, 3]).unwrap_err().to_string();
    assert!(
        e.starts_with("invalid dilation") && e.contains("overflow") && e.contains("rows"),
        "{e}"
    );
    // A kernel larger than a padded input that fits is still named as such.
    let e = Conv2dParams::default()
        .conv_output([4, 4], [5, 5])
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("invalid kernel_size"), "{e}");
    // The pool: padding at most half the kernel's reach, yet past usize together with the input.
    let mut pool = Pool2dParams::new([usize::MAX, usize::MAX]);
    pool.padding = [usize::MAX / 2; 4];
    pool.stride = [1, 1];
    let e = pool.output([4, 4]).unwrap_err().to_string();
    assert!(
        e.starts_with("invalid padding") && e.contains("overflow") && e.contains("rows"),
        "{e}"
    );
    let mut pool = Pool2dParams::new([3, 3]);
    pool.dilation = [1, big];
    let e = pool.output([4, 4]).unwrap_err().to_string();
    assert!(
        e.starts_with("invalid dilation") && e.contains("overflow"),
        "{e}"
    );
    // Ceil mode with a stride whose product overflows: the last window is dropped, no panic.
    let mut pool = Pool2dParams::new([2, 2]);
    pool.stride = [big, big];
    pool.ceil_mode = true;
    assert_eq!(pool.output([usize::MAX - 1, 4]).unwrap().out(), [2, 1]);
}

// ---- The thread splits: each plan covers its outputs once, and every op cut into 1..4 parts
// (run in order here, on the pool's threads in the threaded wasm) gives the one-part bits.

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// The conv's own split plans: the direct path's runs of output channels start on a panel of
/// its packed weights (SIMD kinds) and cover every channel once; the weight gradient's runs of
/// taps start on a whole tile (and matrix-vector block) of every kind, cover every tap once and
/// are never 1 tap wide unless K is; whole (image, group) pairs per task only when each task
/// gets as many, or at least four.
#[test]
fn conv_split_plans_cover_every_output_once() {
    use crate::gemm::{available_kernels, KernelKind};
    use crate::threadpool::Chunks;
    let covers = |c: &Chunks, len: usize, unit: usize, tasks: usize, what: &str| {
        assert!(c.parts >= 1 && c.parts <= tasks.max(1), "{what}: {c:?}");
        let mut next = 0;
        for t in 0..c.parts {
            let r = c.range(t);
            assert_eq!(r.start, next, "{what}: part {t} of {c:?}");
            assert!(!r.is_empty() || len == 0, "{what}: part {t} empty");
            assert_eq!(r.start % unit, 0, "{what}: part {t} starts off a unit");
            next = r.end;
        }
        assert_eq!(next, len, "{what}: {c:?} ends at {next}");
        assert!(c.range(c.parts).is_empty(), "{what}: past the last part");
    };
    for kind in [
        KernelKind::Portable,
        KernelKind::Simd128,
        KernelKind::Relaxed,
    ] {
        for opg in [1, 2, 3, 4, 5, 8, 9, 16, 17, 32, 40, 64, 100] {
            for tasks in 1..=6 {
                for packed in [false, true] {
                    let s = engine::direct_split(kind, opg, packed, tasks);
                    let unit = if packed && kind != KernelKind::Portable {
                        direct::panel_width(opg)
                    } else {
                        1
                    };
                    covers(&s, opg, unit, tasks, &format!("{kind:?} opg {opg} {tasks}"));
                }
            }
        }
    }
    for &kind in available_kernels() {
        let unit = engine::tap_unit(kind);
        assert_eq!(unit % kind.mr(), 0, "{kind:?}");
        assert_eq!(unit % kind.nr(), 0, "{kind:?}");
        assert_eq!(unit % crate::gemm::MATVEC_SPLIT_UNIT, 0, "{kind:?}");
        for k in [1, 2, 25, 31, 32, 33, 64, 65, 75, 97, 288, 289, 1152] {
            for tasks in 1..=6 {
                let s = engine::tap_split(k, unit, tasks);
                let what = format!("{kind:?} K {k}, {tasks} tasks");
                covers(&s, k, unit, tasks, &what);
                if k > 1 {
                    assert!(s.range(s.parts - 1).len() > 1, "{what}: {s:?}");
                }
            }
        }
    }
    assert_eq!(engine::tap_split(33, 32, 2).parts, 1);
    // Whole pairs when every task gets as many, or at least 4, or a pair cannot split inside.
    assert!(!engine::split_pairs(1, 2, true) && !engine::split_pairs(1, 2, false));
    assert!(engine::split_pairs(2, 2, true) && engine::split_pairs(4, 2, true));
    assert!(!engine::split_pairs(3, 2, true) && engine::split_pairs(3, 2, false));
    assert!(engine::split_pairs(9, 2, true) && !engine::split_pairs(9, 1, false));
    assert_eq!(engine::tap_split(288, 32, 2).parts, 2);
    // A pair of the direct path or the phases: bands of rows or runs of channel panels,
    // whichever leaves the smaller largest part, rows on a tie; no band below the minimum work.
    use crate::threadpool::MIN_TASK_WORK;
    use engine::Split;
    for rows in [1, 2, 3, 7, 14, 19, 56, 64] {
        for row_work in [1, 1000, MIN_TASK_WORK / 3, MIN_TASK_WORK, 5 * MIN_TASK_WORK] {
            for (channels, unit) in [(1, 1), (8, 8), (16, 16), (20, 16), (64, 16), (64, 1)] {
                for tasks in 1..=6 {
                    let what = format!(
                        "{rows} rows of {row_work}, {channels} channels in {unit}s, {tasks} tasks"
                    );
                    match engine::pair_split(rows, row_work, channels, unit, tasks) {
                        Some(Split::Rows(c)) => {
                            covers(&c, rows, 1, tasks, &what);
                            assert!(c.parts > 1, "{what}: {c:?}");
                            for t in 0..c.parts {
                                assert!(
                                    c.range(t).len() * row_work >= MIN_TASK_WORK,
                                    "{what}: band {t} of {c:?}"
                                );
                            }
                        }
                        Some(Split::Channels(c)) => {
                            covers(&c, channels, unit, tasks, &what);
                            assert!(c.parts > 1, "{what}: {c:?}");
                        }
                        None => {
                            // Not even two parts: two bands or two channel runs would leave
                            // the smaller one below the minimum work.
                            let panels = channels.div_ceil(unit);
                            let channel_work = rows * row_work / channels;
                            let second = channels.saturating_sub(panels.div_ceil(2) * unit);
                            assert!(
                                tasks == 1
                                    || (rows / 2 * row_work < MIN_TASK_WORK
                                        && (panels < 2 || second * channel_work < MIN_TASK_WORK)),
                                "{what}: no split"
                            );
                        }
                    }
                }
            }
        }
    }
    let big = 4 * MIN_TASK_WORK;
    // The 32 → 64 3×3 conv: 4 panels or 56 rows on 2 threads: a tie, rows.
    assert!(
        matches!(engine::pair_split(56, big, 64, 16, 2), Some(Split::Rows(c)) if c.chunk == 28)
    );
    // One panel (the cnn's 8 → 16 5×5): rows only.
    assert!(
        matches!(engine::pair_split(14, MIN_TASK_WORK / 6, 16, 16, 2), Some(Split::Rows(c)) if c.parts == 2)
    );
    assert_eq!(engine::pair_split(14, MIN_TASK_WORK / 8, 16, 16, 2), None);
    // One row: channels; 7 rows (4 and 3) against 4 panels (2 and 2): channels.
    assert!(
        matches!(engine::pair_split(1, big, 64, 16, 2), Some(Split::Channels(c)) if c.chunk == 32)
    );
    assert!(matches!(
        engine::pair_split(7, big, 64, 16, 2),
        Some(Split::Channels(_))
    ));
    // Forced counts (tests) ignore the minimum work.
    let forced = crate::threadpool::with_tasks(4, || engine::pair_split(10, 1, 1, 1, 4));
    assert!(matches!(forced, Some(Split::Rows(c)) if c.parts == 4 && c.chunk == 3));
    // `band_rows`: the padded rows a band reads, from its first row's first tap to its last
    // row's last.
    let win = ConvPlan::conv2d(
        &[1, 2, 29, 13],
        &[5, 2, 3, 3],
        &Conv2dParams {
            stride: [3, 1],
            dilation: [2, 1],
            padding: [1, 0, 2, 1],
            ..Conv2dParams::default()
        },
    )
    .unwrap()
    .win;
    assert_eq!(
        direct::band_rows(&win, 0..win.out[0]),
        0..(win.out[0] - 1) * 3 + 5
    );
    assert_eq!(direct::band_rows(&win, 2..5), 6..17);
    assert_eq!(direct::band_rows(&win, 3..3), 0..0);
}

/// Runs `f` as one part and as 2, 3 and 4 (every split of this thread forced), and asserts
/// the parts give the one-part result bit for bit, and that it has no NaN (outputs start as
/// NaN: an unwritten cell shows).
#[track_caller]
fn same_bits_in_parts(what: &str, mut f: impl FnMut() -> Vec<Vec<f32>>) {
    let one = crate::threadpool::with_tasks(1, &mut f);
    for (i, v) in one.iter().enumerate() {
        assert!(v.iter().all(|x| !x.is_nan()), "{what}: output {i} has NaN");
    }
    let one: Vec<_> = one.iter().map(|v| bits(v)).collect();
    for tasks in 2..=4 {
        let split: Vec<_> = crate::threadpool::with_tasks(tasks, &mut f)
            .iter()
            .map(|v| bits(v))
            .collect();
        for (i, (a, b)) in split.iter().zip(&one).enumerate() {
            let diff = a.iter().zip(b).filter(|(x, y)| x != y).count();
            assert!(
                diff == 0 && a.len() == b.len(),
                "{what}: output {i} in {tasks} parts differs from one part in {diff} of {} cells",
                b.len()
            );
        }
    }
}

/// conv2d (every path: direct, implicit, im2col, pointwise), its backward pass, and
/// `PreparedConv2d`, under every micro-kernel this build has, in 1..4 parts: the same bits.
/// Batches of 1 (each image's output channels split; the GEMM's tiles), 3 (pairs on 3 tasks,
/// split inside on 2 and 4) and 4 (whole pairs per task); grouped and depthwise convs (whole
/// groups per task in the weight gradient); weight gradients past one tap run (K > 32).
#[test]
fn split_conv2d_equals_one_part_bit_for_bit() {
    use crate::gemm::{available_kernels, with_forced};
    let cases: &[([usize; 4], [usize; 4], Conv2dParams)] = &[
        // direct (every kind), 1 channel 5×5, 32 outputs
        (
            [1, 1, 20, 20],
            [32, 1, 5, 5],
            Conv2dParams::default().pad(2),
        ),
        ([3, 1, 12, 12], [20, 1, 5, 5], Conv2dParams::default()),
        // 32 → 64 3×3: direct (SIMD), implicit (portable)
        (
            [1, 32, 10, 10],
            [64, 32, 3, 3],
            Conv2dParams::default().pad(1),
        ),
        (
            [4, 32, 6, 6],
            [64, 32, 3, 3],
            Conv2dParams::default().pad(1),
        ),
        // K = 75 taps (three tap runs), odd output channels
        ([2, 3, 13, 11], [9, 3, 5, 5], Conv2dParams::default().pad(1)),
        // K = 33: the weight gradient's last tap run would be 1 wide (a matrix-vector product)
        ([2, 11, 9, 9], [4, 11, 1, 3], Conv2dParams::default()),
        // stride 2 (no direct path): implicit or im2col
        (
            [1, 8, 17, 15],
            [24, 8, 3, 3],
            Conv2dParams::default().stride(2).pad(1),
        ),
        // dilation, groups
        (
            [3, 8, 14, 14],
            [12, 4, 3, 3],
            Conv2dParams::default().groups(2).dilation(2),
        ),
        // depthwise
        (
            [1, 8, 16, 16],
            [8, 1, 3, 3],
            Conv2dParams::default().groups(8).pad(1),
        ),
        (
            [4, 6, 9, 9],
            [12, 1, 3, 3],
            Conv2dParams::default().groups(6),
        ),
        // pointwise
        ([2, 40, 7, 7], [48, 40, 1, 1], Conv2dParams::default()),
        // large K: implicit for every kind
        (
            [1, 128, 6, 6],
            [8, 128, 3, 3],
            Conv2dParams::default().pad(1),
        ),
        // The direct path's bands of rows (K ≤ 32: every kind, the portable loop's too):
        // 23 rows (leftover rows in 2, 3 and 4 bands), asymmetric padding.
        (
            [1, 1, 23, 17],
            [6, 1, 5, 5],
            Conv2dParams {
                padding: [3, 0, 1, 2],
                ..Conv2dParams::default()
            },
        ),
        // vertical stride 3 and 2 (bands start mid-stride in the padded rows), vertical dilation
        (
            [1, 2, 29, 13],
            [5, 2, 3, 3],
            Conv2dParams {
                stride: [3, 1],
                dilation: [2, 1],
                padding: [1, 0, 2, 1],
                ..Conv2dParams::default()
            },
        ),
        (
            [1, 3, 21, 18],
            [7, 3, 3, 3],
            Conv2dParams {
                stride: [2, 1],
                dilation: [2, 2],
                padding: [2, 1, 0, 3],
                ..Conv2dParams::default()
            },
        ),
        // top and bottom rows that read only padding (the bias alone), in bands of their own
        (
            [1, 1, 9, 12],
            [4, 1, 3, 3],
            Conv2dParams {
                padding: [5, 1, 5, 0],
                ..Conv2dParams::default()
            },
        ),
        // groups: 3 pairs on 2 and 4 parts are split inside, by rows; batch 3
        (
            [1, 6, 15, 15],
            [9, 2, 3, 3],
            Conv2dParams {
                stride: [2, 1],
                groups: 3,
                ..Conv2dParams::default().pad(1)
            },
        ),
        (
            [3, 1, 11, 10],
            [8, 1, 5, 5],
            Conv2dParams {
                stride: [2, 1],
                ..Conv2dParams::default().pad(2)
            },
        ),
        // one output row: runs of output channels
        ([1, 2, 5, 40], [40, 2, 5, 3], Conv2dParams::default()),
        // wide SIMD rows: 32 → 40 3×3 (three panels, one partial) on 13 rows, stride 2 down
        (
            [1, 32, 26, 9],
            [40, 32, 3, 3],
            Conv2dParams {
                stride: [2, 1],
                ..Conv2dParams::default().pad(1)
            },
        ),
    ];
    let mut rng = Rng::new(0x5b1d);
    let mut paths = std::collections::BTreeSet::new();
    for (xs, ws, p) in cases {
        let x = rand_t(&mut rng, xs);
        let w = rand_t(&mut rng, ws);
        let b = rand_t(&mut rng, &[ws[0]]);
        let plan = ConvPlan::conv2d(xs, ws, p).unwrap();
        let y = conv2d(&x, &w, Some(&b), p).unwrap();
        let dy = rand_t(&mut rng, y.shape());
        let mut layer = PreparedConv2d::new(&w, Some(&b), p, [xs[1], xs[2], xs[3]]).unwrap();
        for &kind in available_kernels() {
            with_forced(kind, || {
                let (win, opg) = (&plan.win, plan.small_per_group());
                let path = engine::path(kind, win, opg);
                paths.insert(format!("{path:?}"));
                // How the direct path cuts a pair in 2 parts (rows or channels).
                if path == engine::Path::Direct {
                    let simd = engine::is_simd(kind);
                    let split = crate::threadpool::with_tasks(2, || {
                        engine::direct_pair_split(kind, win, opg, simd, 2)
                    });
                    paths.insert(match split {
                        Some(engine::Split::Rows(_)) => "direct rows".into(),
                        Some(engine::Split::Channels(_)) => "direct channels".into(),
                        None => "direct whole".into(),
                    });
                }
                let what = format!("{kind:?} conv2d {xs:?} {ws:?} {p:?}");
                same_bits_in_parts(&what, || {
                    let y = conv2d(&x, &w, Some(&b), p).unwrap();
                    let g = conv2d_backward(&x, &w, &dy, p).unwrap();
                    let (dw, db) = conv2d_backward_weight(&x, &w, &dy, p).unwrap();
                    let mut prepared = vec![f32::NAN; layer.output_len()];
                    layer
                        .forward_into(&x.data()[..layer.input_len()], &mut prepared)
                        .unwrap();
                    vec![
                        y.data().to_vec(),
                        g.dx.data().to_vec(),
                        g.dw.data().to_vec(),
                        g.db.data().to_vec(),
                        dw.data().to_vec(),
                        db.data().to_vec(),
                        prepared,
                    ]
                });
            });
        }
    }
    for path in [
        "Direct",
        "Implicit",
        "Im2col",
        "Pointwise",
        "direct rows",
        "direct channels",
    ] {
        assert!(
            paths.contains(path),
            "no case took the {path} path: {paths:?}"
        );
    }
}

/// conv_transpose2d (stride 2 and 3: the phases under the SIMD kinds, GEMM + col2im with
/// kernel-row stamps otherwise; stride 1; grouped; depthwise), its backward pass, and
/// `PreparedConvTranspose2d`, under every micro-kernel, in 1..4 parts: the same bits.
#[test]
fn split_conv_transpose2d_equals_one_part_bit_for_bit() {
    use crate::gemm::{available_kernels, with_forced};
    let cases: &[([usize; 4], [usize; 4], Conv2dParams)] = &[
        // [N, C_in, H, W], [C_in, C_out/groups, kH, kW]
        (
            [1, 16, 14, 14],
            [16, 32, 4, 4],
            Conv2dParams::default().stride(2).pad(1),
        ),
        (
            [1, 64, 7, 7],
            [64, 40, 3, 3],
            Conv2dParams::default().stride(2).output_padding(1),
        ),
        (
            [3, 8, 9, 9],
            [8, 20, 3, 3],
            Conv2dParams::default().stride(3),
        ),
        (
            [4, 12, 8, 8],
            [12, 6, 4, 4],
            Conv2dParams::default().stride(2).pad(1),
        ),
        (
            [2, 24, 10, 10],
            [24, 16, 3, 3],
            Conv2dParams::default().pad(1),
        ),
        (
            [2, 8, 9, 9],
            [8, 6, 3, 3],
            Conv2dParams::default().stride(2).groups(2),
        ),
        (
            [1, 8, 12, 12],
            [8, 1, 4, 4],
            Conv2dParams::default().stride(2).pad(1).groups(8),
        ),
        // The phases' bands of image rows: 25 rows at stride 3 (leftover rows, bands that
        // start on every phase), strides 2 × 3 with asymmetric padding, 3 groups of one image
        // (split inside, by rows), a kernel smaller than the stride (empty phases)
        (
            [1, 6, 9, 7],
            [6, 5, 3, 3],
            Conv2dParams::default().stride(3).pad(1),
        ),
        (
            [1, 4, 7, 8],
            [4, 9, 4, 5],
            Conv2dParams {
                stride: [2, 3],
                padding: [2, 1, 0, 2],
                output_padding: [1, 0],
                ..Conv2dParams::default()
            },
        ),
        (
            [1, 6, 6, 9],
            [6, 4, 3, 3],
            Conv2dParams::default()
                .stride(2)
                .groups(3)
                .output_padding(1),
        ),
        (
            [1, 5, 8, 6],
            [5, 3, 2, 2],
            Conv2dParams::default().stride(3),
        ),
        // one image row: runs of image channels (two panels)
        (
            [1, 16, 1, 14],
            [16, 32, 1, 4],
            Conv2dParams {
                stride: [1, 2],
                ..Conv2dParams::default()
            },
        ),
    ];
    let mut rng = Rng::new(0x7a5e);
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let mut splits = std::collections::BTreeSet::new();
    for (xs, ws, p) in cases {
        let x = rand_t(&mut rng, xs);
        let w = rand_t(&mut rng, ws);
        let plan = ConvPlan::conv_transpose2d(xs, ws, p).unwrap();
        // How the phases cut a pair in 2 parts (rows or channels).
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        if engine::phases_path(
            crate::gemm::KernelKind::Relaxed,
            &plan.win,
            plan.small_per_group(),
        )
        .is_some()
        {
            let work = plan.small_per_group() * plan.win.cols() * plan.win.rows();
            let split =
                crate::threadpool::with_tasks(2, || engine::phases_pair_split(&plan.win, work, 2));
            splits.insert(match split {
                Some(engine::Split::Rows(_)) => "rows",
                Some(engine::Split::Channels(_)) => "channels",
                None => "whole",
            });
        }
        let b = rand_t(&mut rng, &[plan.image_channels]);
        let y = conv_transpose2d(&x, &w, Some(&b), p).unwrap();
        let dy = rand_t(&mut rng, y.shape());
        let mut layer =
            PreparedConvTranspose2d::new(&w, Some(&b), p, [xs[1], xs[2], xs[3]]).unwrap();
        for &kind in available_kernels() {
            with_forced(kind, || {
                let what = format!("{kind:?} conv_transpose2d {xs:?} {ws:?} {p:?}");
                same_bits_in_parts(&what, || {
                    let y = conv_transpose2d(&x, &w, Some(&b), p).unwrap();
                    let g = conv_transpose2d_backward(&x, &w, &dy, p).unwrap();
                    let mut prepared = vec![f32::NAN; layer.output_len()];
                    layer
                        .forward_into(&x.data()[..layer.input_len()], &mut prepared)
                        .unwrap();
                    vec![
                        y.data().to_vec(),
                        g.dx.data().to_vec(),
                        g.dw.data().to_vec(),
                        g.db.data().to_vec(),
                        prepared,
                    ]
                });
            });
        }
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    assert!(
        splits.contains("rows") && splits.contains("channels"),
        "the phases' splits: {splits:?}"
    );
}
