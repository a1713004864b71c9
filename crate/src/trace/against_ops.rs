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

/// The checkerboard scene's two paths through the real kernels: `conv_transpose2d` twice, and
/// nearest-neighbour upsampling (itself `conv_transpose2d` with an `s × s` kernel of ones at
/// stride s) followed by `conv2d`.
#[test]
fn checkerboard_paths_are_the_real_ops_and_their_counts() {
    use transpose::checkerboard::{
        checkerboard, line_paths_for_tests, resize_geometry, transposed_geometry, MAX_INPUT,
        MAX_KERNEL, MAX_STRIDE, STAGES,
    };
    let mut cases = 0;
    for case in 0..160u32 {
        let mut r = Rng::new(u64::from(case * 31 + 7));
        let mut pick = |n: usize| ((r.eighth() + 1.0) * 8.0) as usize % n;
        let (h, w) = (1 + pick(MAX_INPUT), 1 + pick(MAX_INPUT));
        let (kh, kw) = (1 + pick(MAX_KERNEL), 1 + pick(MAX_KERNEL));
        let s = [1 + pick(MAX_STRIDE), 1 + pick(MAX_STRIDE)];
        let x = rand(h * w, case);
        let k = rand(kh * kw, case + 300);
        let c = checkerboard(&x, [h, w], &k, [kh, kw], s).unwrap();
        assert_eq!(c.even, [kh % s[0] == 0, kw % s[1] == 0]);
        let kt = image(&k, kh, kw);
        let ones_k = image(&vec![1.0; kh * kw], kh, kw);
        let nearest = image(&vec![1.0; s[0] * s[1]], s[0], s[1]);
        let up = Conv2dParams {
            stride: s,
            ..Default::default()
        };
        let tg = transposed_geometry([kh, kw], s);
        let rg = resize_geometry([kh, kw]);
        let (mut tx, mut rx) = (image(&x, h, w), image(&x, h, w));
        let (mut tp, mut rp) = (
            image(&vec![1.0; h * w], h, w),
            image(&vec![1.0; h * w], h, w),
        );
        for i in 0..STAGES {
            let what = format!("case {case} stage {}", i + 1);
            let (ih, iw) = (tx.shape()[2], tx.shape()[3]);
            let flat = image(&vec![1.0; ih * iw], ih, iw);
            let (t, z) = (&c.transposed[i], &c.resize[i]);
            // Transposed: the output is stride × the input, the values are conv_transpose2d's.
            tx = conv::conv_transpose2d(&tx, &kt, None, &tg).unwrap();
            assert_eq!(tx.shape(), &[1, 1, ih * s[0], iw * s[1]], "{what}");
            assert_eq!((t.h, t.w, t.in_h, t.in_w), (ih * s[0], iw * s[1], ih, iw));
            close(&t.output, tx.data(), &format!("transposed {what}"));
            tp = conv::conv_transpose2d(&tp, &ones_k, None, &tg).unwrap();
            let cov = conv::conv_transpose2d(&flat, &ones_k, None, &tg).unwrap();
            let as_u32 = |t: &Tensor| t.data().iter().map(|&v| v as u32).collect::<Vec<_>>();
            assert_eq!(t.paths, as_u32(&tp), "transposed paths {what}");
            assert_eq!(t.coverage, as_u32(&cov), "transposed coverage {what}");
            // Resize: nearest-neighbour upsampling, then the stride-1 conv.
            let upx = conv::conv_transpose2d(&rx, &nearest, None, &up).unwrap();
            rx = conv::conv2d(&upx, &kt, None, &rg).unwrap();
            assert_eq!(rx.shape(), tx.shape(), "{what}");
            close(&z.output, rx.data(), &format!("resize {what}"));
            let upp = conv::conv_transpose2d(&rp, &nearest, None, &up).unwrap();
            rp = conv::conv2d(&upp, &ones_k, None, &rg).unwrap();
            let upf = conv::conv_transpose2d(&flat, &nearest, None, &up).unwrap();
            let rcov = conv::conv2d(&upf, &ones_k, None, &rg).unwrap();
            assert_eq!(z.paths, as_u32(&rp), "resize paths {what}");
            assert_eq!(z.coverage, as_u32(&rcov), "resize coverage {what}");
            // The counts are separable: a cell's count is its row's times its column's.
            for (st, resize) in [(t, false), (z, true)] {
                let rows = line_paths_for_tests(resize, h, kh, s[0], i + 1);
                let cols = line_paths_for_tests(resize, w, kw, s[1], i + 1);
                for (p, &v) in st.paths.iter().enumerate() {
                    assert_eq!(u64::from(v), rows[p / st.w] * cols[p % st.w], "{what}");
                }
                assert_eq!(st.paths_max, *st.paths.iter().max().unwrap());
                assert_eq!(st.paths_min, *st.paths.iter().min().unwrap());
            }
            // Nearest-neighbour then a conv is even inside the border: one path count.
            assert!(
                z.interior_levels.len() <= 1,
                "{what}: {:?}",
                z.interior_levels
            );
        }
        cases += 1;
    }
    assert_eq!(cases, 160);
}

/// The article's numbers: k = 3 with stride 2 stamps 1, 2 or 4 times and compounds through a
/// second layer; k = 4 is even; nearest-neighbour then a conv is even for both.
#[test]
fn checkerboard_levels_name_the_pattern() {
    use transpose::checkerboard::checkerboard;
    let run = |k: usize, s: usize| {
        let x = vec![1.0; 64];
        checkerboard(&x, [8, 8], &vec![1.0; k * k], [k, k], [s, s]).unwrap()
    };
    let c = run(3, 2);
    assert_eq!(c.even, [false, false]);
    assert_eq!(c.transposed[0].interior_levels, [1, 2, 4]);
    assert_eq!(c.transposed[1].interior_levels, [1, 2, 3, 4, 6, 9]);
    assert_eq!(c.resize[0].interior_levels, [9]);
    assert_eq!(c.resize[1].interior_levels, [81]);
    let c = run(4, 2);
    assert_eq!(c.even, [true, true]);
    assert_eq!(c.transposed[0].interior_levels, [4]);
    assert_eq!(c.transposed[1].interior_levels, [16]);
    assert_eq!(c.resize[1].interior_levels, [256]);
    // All-ones image and kernel: the output is the path count itself.
    for st in c.transposed.iter().chain(&c.resize) {
        let p: Vec<f32> = st.paths.iter().map(|&v| v as f32).collect();
        assert_eq!(st.output, p);
        assert_eq!(st.output_max, st.paths_max as f32);
    }
    // Interior cells exist at stage 1 for a small kernel, and the border is not interior.
    assert_eq!(c.transposed[0].interior[0], 0);
    assert!(c.transposed[0].interior.contains(&1));
}

#[test]
fn checkerboard_refuses_what_it_cannot_draw() {
    use transpose::checkerboard::checkerboard;
    let x = vec![0.5; 16];
    let k = vec![1.0; 9];
    let err = |r: crate::error::Result<transpose::Checkerboard>| r.unwrap_err().to_string();
    assert!(err(checkerboard(&x, [0, 4], &k, [3, 3], [2, 2])).contains("size"));
    assert!(err(checkerboard(&vec![0.0; 81], [9, 9], &k, [3, 3], [2, 2])).contains("size"));
    assert!(err(checkerboard(&x, [4, 4], &vec![0.0; 64], [8, 8], [2, 2])).contains("kernelSize"));
    assert!(err(checkerboard(&x, [4, 4], &k, [3, 3], [0, 2])).contains("stride"));
    assert!(err(checkerboard(&x, [4, 4], &k, [3, 3], [2, 4])).contains("stride"));
    assert!(err(checkerboard(&x[..15], [4, 4], &k, [3, 3], [2, 2])).contains("input"));
    let mut nan = x.clone();
    nan[3] = f32::NAN;
    assert!(err(checkerboard(&nan, [4, 4], &k, [3, 3], [2, 2])).contains("NaN"));
    // The largest setting is accepted (two stride-3 stages of an 8×8 image: 72×72).
    let big = checkerboard(&[1.0; 64], [8, 8], &[1.0; 49], [7, 7], [3, 3]).unwrap();
    assert_eq!((big.transposed[1].h, big.resize[1].w), (72, 72));
}

/// The records the page reads instead of searching the trace: the windows that read a padded
/// cell (Correlate's "click an input cell") and the step at which an output cell's last stamp
/// lands (the transposed conv's zero-insertion output filling in), against brute force.
#[test]
fn readers_and_completion_steps_equal_a_search_of_the_trace() {
    let (mut corr, mut trans) = (0, 0);
    for case in 0..200 {
        let (h, w, kh, kw, mut g) = settings(case + 90_000);
        let x = rand(h * w, case);
        let k = rand(kh * kw, case + 1);
        let tg = g;
        g.output_padding = [0, 0];
        if let Ok(t) = correlate::trace(&x, h, w, &k, kh, kw, &g, false) {
            corr += 1;
            let m = |v: &[f32]| v.iter().map(|x| x.abs()).fold(0.0, f32::max);
            assert_eq!(
                (t.output_max, t.products_max, t.kernel_max),
                (m(&t.output), m(&t.products), m(&t.kernel))
            );
            assert_eq!(t.products_signed, t.products.iter().any(|&p| p < 0.0));
            for p in 0..t.padded_h * t.padded_w {
                let want: Vec<u32> = (0..t.steps)
                    .filter(|&s| t.window[s * t.taps..(s + 1) * t.taps].contains(&(p as u32)))
                    .map(|s| s as u32)
                    .collect();
                assert_eq!(t.readers_of(p), &want[..], "case {case}, cell {p}");
            }
        }
        if let Ok(t) = transpose::trace(&x, h, w, &k, kh, kw, &tg) {
            trans += 1;
            assert_eq!(
                t.value_max,
                t.full.iter().map(|x| x.abs()).fold(0.0, f32::max)
            );
            assert_eq!(t.coverage_max, *t.coverage_full.iter().max().unwrap());
            let neg = t.stamp_value.iter().chain(&t.full).any(|&v| v < 0.0);
            assert_eq!(t.signed, neg);
            for s in 0..t.steps {
                let outs: Vec<i32> = t.stamp_out[s * t.taps..(s + 1) * t.taps]
                    .iter()
                    .copied()
                    .filter(|&o| o >= 0)
                    .collect();
                assert_eq!(t.stamp_inside[s] as usize, outs.len());
                assert_eq!(t.stamp_focus[s], outs.first().copied().unwrap_or(-1));
                assert_eq!(
                    t.stamp_cell[2 * s..2 * s + 2],
                    [(s / w) as u32, (s % w) as u32]
                );
                // The corner is where input cell (i, j) lands: (i·stride, j·stride).
                let [i, j] = [
                    t.stamp_cell[2 * s] as usize,
                    t.stamp_cell[2 * s + 1] as usize,
                ];
                assert_eq!(
                    t.stamp_corner[2 * s..2 * s + 2],
                    [(i * tg.stride[0]) as u32, (j * tg.stride[1]) as u32]
                );
            }
            assert_eq!(t.output_cell.len(), 2 * t.out_h * t.out_w);
            for o in 0..t.out_h * t.out_w {
                let [i, j] = [t.output_cell[2 * o], t.output_cell[2 * o + 1]].map(|v| v as usize);
                assert!(i < t.out_h && j < t.out_w && i * t.out_w + j == o);
            }
            for step in 0..t.steps {
                let cover = t.coverage_after(step + 1);
                for (c, &o) in t.canvas_output.iter().enumerate() {
                    if o >= 0 {
                        let done = cover[c] == t.coverage_full[c];
                        assert_eq!(
                            t.complete_at[o as usize] as usize <= step,
                            done,
                            "case {case}, step {step}, cell {o}"
                        );
                    }
                }
            }
        }
    }
    assert!(
        corr > 50 && trans > 50,
        "{corr} correlations, {trans} transposed"
    );
}
