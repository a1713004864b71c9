//! The traces against the real kernels (`crate::conv`, `crate::ops`): every number a scene
//! shows must be what the library computes.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::{check, correlate, dense, flip_kernel, transpose, Op, Rng};
use crate::conv::{self, Conv2dParams};
use crate::{ops, Tensor};

fn rand(n: usize, seed: u32) -> Vec<f32> {
    let mut r = Rng::new(u64::from(seed));
    (0..n).map(|_| r.eighth()).collect()
}

fn params(g: &Conv2dParams) -> Conv2dParams {
    *g
}

fn image(x: &[f32], h: usize, w: usize) -> Tensor {
    Tensor::new(x.to_vec(), &[1, 1, h, w]).unwrap()
}

fn settings(case: u32) -> (usize, usize, usize, usize, Conv2dParams) {
    let mut r = Rng::new(u64::from(case * 13 + 5));
    let mut pick = |n: usize| ((r.eighth() + 1.0) * 8.0) as usize % n;
    let (h, w) = (1 + pick(9), 1 + pick(9));
    let (kh, kw) = (1 + pick(5), 1 + pick(5));
    let stride = [1 + pick(3), 1 + pick(3)];
    let dilation = [1 + pick(3), 1 + pick(3)];
    let g = Conv2dParams {
        stride,
        padding: [pick(3), pick(3), pick(3), pick(3)],
        dilation,
        output_padding: [
            pick(stride[0].max(dilation[0])),
            pick(stride[1].max(dilation[1])),
        ],
        groups: 1,
    };
    (h, w, kh, kw, g)
}

fn close(a: &[f32], b: &[f32], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= 1e-4 * (1.0 + y.abs()),
            "{what}[{i}]: {x} vs {y}"
        );
    }
}

#[test]
fn correlation_trace_reproduces_conv2d_and_errors_agree() {
    let (mut ok, mut bad) = (0, 0);
    for case in 0..400 {
        let (h, w, kh, kw, mut g) = settings(case);
        g.output_padding = [0, 0];
        let x = rand(h * w, case);
        let k = rand(kh * kw, case + 9000);
        let flip = case % 3 == 0;
        let kernel = if flip {
            flip_kernel(&k, kh, kw)
        } else {
            k.clone()
        };
        let real = conv::conv2d(&image(&x, h, w), &image(&kernel, kh, kw), None, &params(&g));
        match (correlate::trace(&x, h, w, &k, kh, kw, &g, flip), real) {
            (Ok(t), Ok(y)) => {
                ok += 1;
                assert_eq!(y.shape(), &[1, 1, t.out_h, t.out_w], "case {case}");
                close(&t.output, y.data(), &format!("case {case}"));
            }
            (Err(_), Err(_)) => bad += 1,
            (a, b) => panic!("case {case}: trace {:?} but conv2d {:?}", a.err(), b.err()),
        }
        // The validity predicate the controls use says the same as the kernel.
        assert_eq!(
            check(Op::Correlate, [h, w], [kh, kw], &g).is_ok(),
            conv::conv2d(&image(&x, h, w), &image(&k, kh, kw), None, &params(&g)).is_ok()
        );
    }
    assert!(ok > 100 && bad > 10, "{ok} valid, {bad} invalid");
}

#[test]
fn transposed_trace_reproduces_conv_transpose2d_and_errors_agree() {
    let (mut ok, mut bad) = (0, 0);
    for case in 0..400 {
        let (h, w, kh, kw, g) = settings(case + 50_000);
        let x = rand(h * w, case);
        let k = rand(kh * kw, case + 7000);
        let real = conv::conv_transpose2d(&image(&x, h, w), &image(&k, kh, kw), None, &params(&g));
        match (transpose::trace(&x, h, w, &k, kh, kw, &g), real) {
            (Ok(t), Ok(y)) => {
                ok += 1;
                assert_eq!(y.shape(), &[1, 1, t.out_h, t.out_w], "case {case}");
                close(&t.output, y.data(), &format!("stamps, case {case}"));
                close(
                    &t.equivalent.as_ref().unwrap().corr.output,
                    y.data(),
                    &format!("zero insertion, case {case}"),
                );
                // Zero insertion is literally: the grid correlated by conv2d with the flipped kernel.
                let e = &t.equivalent.as_ref().unwrap().corr;
                let eg = Conv2dParams {
                    dilation: g.dilation,
                    ..Default::default()
                };
                let flipped = flip_kernel(&k, kh, kw);
                let z = conv::conv2d(
                    &image(&e.padded, e.h, e.w),
                    &image(&flipped, kh, kw),
                    None,
                    &eg,
                )
                .unwrap();
                close(
                    z.data(),
                    y.data(),
                    &format!("conv2d on the grid, case {case}"),
                );
            }
            (Err(_), Err(_)) => bad += 1,
            (a, b) => panic!(
                "case {case}: trace {:?} but conv_transpose2d {:?}",
                a.err(),
                b.err()
            ),
        }
    }
    assert!(ok > 100 && bad > 10, "{ok} valid, {bad} invalid");
}

#[test]
fn adjoint_check_matches_the_kernels() {
    for case in 0..100 {
        let (h, w, kh, kw, g) = settings(case + 90_000);
        let x = rand(h * w, case);
        let k = rand(kh * kw, case + 3);
        let Ok(a) = transpose::adjoint(&x, h, w, &k, kh, kw, &g, case) else {
            continue;
        };
        let kt = conv::conv_transpose2d(&image(&x, h, w), &image(&k, kh, kw), None, &params(&g))
            .unwrap();
        close(&a.kt_g, kt.data(), "Kᵀ g");
        let [_, _, oh, ow] = kt.dims4("y").unwrap();
        let cg = Conv2dParams {
            output_padding: [0, 0],
            ..g
        };
        let kf =
            conv::conv2d(&image(&a.f, oh, ow), &image(&k, kh, kw), None, &params(&cg)).unwrap();
        let [_, _, fh, fw] = kf.dims4("y").unwrap();
        let cropped: Vec<f32> = (0..h)
            .flat_map(|r| kf.data()[r * fw..r * fw + w].to_vec())
            .collect();
        assert!(fh >= h);
        close(&a.kf, &cropped, "K f");
        assert!(
            (a.lhs - a.rhs).abs() <= 1e-4 * (1.0 + a.lhs.abs()),
            "case {case}"
        );
    }
}

#[test]
fn round_trip_matches_the_kernels() {
    let x = rand(28 * 28, 4);
    for s in 1..=3 {
        let g = Conv2dParams {
            stride: [s, s],
            padding: [1; 4],
            ..Default::default()
        };
        let k = rand(9, s as u32);
        let rt = transpose::round_trip(&x, 28, 28, &k, 3, 3, &g).unwrap();
        let p = params(&g);
        let down = conv::conv2d(&image(&x, 28, 28), &image(&k, 3, 3), None, &p).unwrap();
        close(&rt.down, down.data(), "down");
        let up_p = Conv2dParams {
            output_padding: rt.output_padding,
            ..p
        };
        let up = conv::conv_transpose2d(&down, &image(&k, 3, 3), None, &up_p).unwrap();
        assert_eq!(up.shape(), &[1, 1, 28, 28]);
        close(&rt.up, up.data(), "up");
    }
}

#[test]
fn one_by_one_matches_conv2d_and_linear() {
    let d = dense::one_by_one(3, 2, 4, 5, 11).unwrap();
    let x = Tensor::new(d.input.clone(), &[1, 3, 4, 5]).unwrap();
    let w = Tensor::new(d.weight.clone(), &[2, 3, 1, 1]).unwrap();
    let y = conv::conv2d(&x, &w, None, &Conv2dParams::default()).unwrap();
    close(&d.conv, y.data(), "1×1 conv");
    // The dense layer over channels: pixels as a batch of channel vectors.
    let pixels: Vec<f32> = (0..20)
        .flat_map(|p| (0..3).map(move |c| (c, p)))
        .map(|(c, p)| d.input[c * 20 + p])
        .collect();
    let lin = ops::linear(
        &Tensor::new(pixels, &[20, 3]).unwrap(),
        &Tensor::new(d.weight.clone(), &[2, 3]).unwrap(),
        None,
    )
    .unwrap();
    close(&d.dense, lin.data(), "linear");
}

#[test]
fn schedules_shift_zero_is_a_linear_layer() {
    // A's day, one-hot, flattened, through a dense neuron whose weights are B's day.
    let a: Vec<u8> = (0..24).map(|h| (h / 5) as u8).collect();
    let b: Vec<u8> = (0..24).map(|h| ((h + 3) / 5 % 5) as u8).collect();
    let s = dense::schedules(&a, &b, 5).unwrap();
    let hot = |v: &[u8]| -> Vec<f32> {
        (0..5)
            .flat_map(|c| v.iter().map(move |&x| (x == c) as u8 as f32))
            .collect()
    };
    let y = ops::linear(
        &Tensor::new(hot(&a), &[1, 120]).unwrap(),
        &Tensor::new(hot(&b), &[1, 120]).unwrap(),
        None,
    )
    .unwrap();
    assert_eq!(y.data()[0], s.total[s.zero]);
}
