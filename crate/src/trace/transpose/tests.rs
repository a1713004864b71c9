//! The stamps, the zero-insertion view, the adjoint and the round trip against the definition.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::*;
use crate::trace::{check, ranges, settle as settle_op, Op, Rng};

fn rand(n: usize, seed: u32) -> Vec<f32> {
    let mut r = Rng::new(u64::from(seed));
    (0..n).map(|_| r.eighth()).collect()
}

/// The definition (PyTorch's ConvTranspose2d), independent of the trace:
/// out[y][x] = Σ_{i,j,a,b : i·s + a·d − p = y, …} in[i][j]·k[a][b].
fn naive(
    x: &[f32],
    h: usize,
    w: usize,
    k: &[f32],
    kh: usize,
    kw: usize,
    g: &Conv2dParams,
) -> (Vec<f32>, usize, usize) {
    let [oh, ow] = check(Op::TransposeOnly, [h, w], [kh, kw], g).unwrap().out();
    let mut out = vec![0.0; oh * ow];
    for y in 0..oh {
        for xx in 0..ow {
            let mut s = 0.0;
            for i in 0..h {
                for j in 0..w {
                    for a in 0..kh {
                        for b in 0..kw {
                            if i * g.stride[0] + a * g.dilation[0] == y + g.padding[0]
                                && j * g.stride[1] + b * g.dilation[1] == xx + g.padding[1]
                            {
                                s += x[i * w + j] * k[a * kw + b];
                            }
                        }
                    }
                }
            }
            out[y * ow + xx] = s;
        }
    }
    (out, oh, ow)
}

fn random_settings(case: u32) -> (usize, usize, usize, usize, Conv2dParams) {
    let mut r = Rng::new(u64::from(case * 7 + 3));
    let mut pick = |n: usize| ((r.eighth() + 1.0) * 8.0) as usize % n;
    let (h, w) = (1 + pick(6), 1 + pick(6));
    let (kh, kw) = (1 + pick(5), 1 + pick(5));
    let stride = [1 + pick(3), 1 + pick(3)];
    let dilation = [1 + pick(2), 1 + pick(2)];
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

#[test]
fn stamps_sum_to_the_definition_and_the_equivalent_view_agrees() {
    let mut checked = 0;
    for case in 0..300 {
        let (h, w, kh, kw, g) = random_settings(case);
        let x = rand(h * w, case);
        let k = rand(kh * kw, case + 500);
        let Ok(t) = trace(&x, h, w, &k, kh, kw, &g) else {
            assert!(check(Op::Transpose, [h, w], [kh, kw], &g).is_err());
            continue;
        };
        checked += 1;
        let (want, oh, ow) = naive(&x, h, w, &k, kh, kw, &g);
        assert_eq!((t.out_h, t.out_w), (oh, ow), "case {case}");
        for (a, b) in t.output.iter().zip(&want) {
            assert!((a - b).abs() < 1e-5, "case {case}: stamps {a} vs {b}");
        }
        // Stamps landing in the output, summed per cell, give the output.
        let mut sum = vec![0.0f32; oh * ow];
        let mut cover = vec![0u32; oh * ow];
        for (&o, &v) in t.stamp_out.iter().zip(&t.stamp_value) {
            if o >= 0 {
                sum[o as usize] += v;
                cover[o as usize] += 1;
            }
        }
        for (a, b) in sum.iter().zip(&want) {
            assert!((a - b).abs() < 1e-5);
        }
        assert_eq!(cover, t.coverage);
        for (p, &o) in t.canvas_output.iter().enumerate() {
            if o >= 0 {
                assert_eq!(t.full[p], t.output[o as usize]);
            }
        }
        assert_eq!(t.canvas_after(t.steps), t.full);
        assert_eq!(t.coverage_after(t.steps), t.coverage_full);
        // Zero insertion + flipped kernel = stamps.
        let e = t.equivalent.as_ref().unwrap();
        assert_eq!((e.corr.out_h, e.corr.out_w), (oh, ow), "case {case}");
        for (a, b) in e.corr.output.iter().zip(&t.output) {
            assert!((a - b).abs() < 1e-5, "case {case}: equivalent {a} vs {b}");
        }
        for (i, &p) in e.position.iter().enumerate() {
            if p >= 0 {
                assert_eq!(e.source[p as usize], i as i32);
                assert_eq!(e.corr.padded[p as usize], x[i]);
            }
        }
    }
    assert!(checked > 150, "only {checked} valid cases");
}

#[test]
fn adjoint_numbers_agree() {
    for case in 0..200 {
        let (h, w, kh, kw, g) = random_settings(case + 1000);
        let x = rand(h * w, case);
        let k = rand(kh * kw, case + 77);
        if check(Op::TransposeOnly, [h, w], [kh, kw], &g).is_err() {
            continue;
        }
        let a = adjoint(&x, h, w, &k, kh, kw, &g, case).unwrap();
        assert!(
            (a.lhs - a.rhs).abs() <= 1e-4 * (1.0 + a.lhs.abs()),
            "case {case}: {} vs {}",
            a.lhs,
            a.rhs
        );
    }
}

#[test]
fn checkerboard_appears_when_k_is_not_divisible_by_the_stride() {
    let g = Conv2dParams {
        stride: [2, 2],
        ..Default::default()
    };
    let x = vec![1.0; 16];
    let t3 = trace(&x, 4, 4, &[1.0; 9], 3, 3, &g).unwrap();
    let inner3: Vec<u32> = t3.coverage[2 * t3.out_w + 2..2 * t3.out_w + 6].to_vec();
    assert_eq!(inner3, vec![4, 2, 4, 2]);
    let g4 = Conv2dParams {
        stride: [2, 2],
        padding: [1; 4],
        ..Default::default()
    };
    let t4 = trace(&x, 4, 4, &[1.0; 16], 4, 4, &g4).unwrap();
    // With k = 4 = 2·stride, every cell away from the border is covered 4 times.
    for r in 1..t4.out_h - 1 {
        for c in 1..t4.out_w - 1 {
            assert_eq!(t4.coverage[r * t4.out_w + c], 4);
        }
    }
}

#[test]
fn round_trip_returns_to_the_input_size() {
    let x = rand(28 * 28, 9);
    for s in 1..4 {
        for (k, p) in [(3, 1), (4, 1), (5, 2), (2, 0)] {
            let g = Conv2dParams {
                stride: [s, s],
                padding: [p; 4],
                ..Default::default()
            };
            let rt = round_trip(&x, 28, 28, &vec![0.25; k * k], k, k, &g).unwrap();
            assert_eq!(rt.up.len(), 28 * 28);
            assert!(rt.output_padding[0] < s);
        }
    }
}

#[test]
fn settle_and_ranges_reach_only_valid_settings() {
    let g = Conv2dParams {
        padding: [3, 3, 3, 3],
        output_padding: [2, 0],
        ..Default::default()
    };
    let s = settle_op(Op::Transpose, [2, 2], [2, 2], &g).unwrap();
    assert!(check(Op::Transpose, [2, 2], [2, 2], &s).is_ok(), "{s:?}");
    let r = ranges(
        Op::Transpose,
        [3, 3],
        [3, 3],
        &Conv2dParams::default().stride(2),
        6,
    );
    assert_eq!(r.output_padding, Some([[0, 1], [0, 1]]));
    assert_eq!(r.padding[0], [0, 6]);
    let r = ranges(Op::Transpose, [1, 1], [1, 1], &Conv2dParams::default(), 6);
    assert_eq!(r.padding[0], [0, 0]);
    // What used to hang: a huge span and underflowing padding settle at once, or are refused.
    let wild = Conv2dParams {
        stride: [usize::MAX; 2],
        padding: [usize::MAX, 0, 7, usize::MAX],
        dilation: [usize::MAX; 2],
        output_padding: [usize::MAX; 2],
        groups: 1,
    };
    let s = settle_op(Op::Transpose, [3, 3], [3, 3], &wild).unwrap();
    assert!(check(Op::Transpose, [3, 3], [3, 3], &s).is_ok(), "{s:?}");
    assert!(settle_op(Op::Transpose, [1, usize::MAX], [3, 3], &wild).is_err());
}
