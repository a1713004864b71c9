//! The bench exports in the browser (they need the host's clock): each returns one finite time
//! per repetition for every implementation this build has, rejects what it does not know,
//! leaves the automatic kernel choice in place, and the tile variants compute the product.

use crate::gemm::{MatMut, MatRef};
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::{gemm as g, infer, noise, ops, Clock};
use crate::gemm::{self, KernelKind};

fn times(r: Result<Vec<f64>, wasm_bindgen::JsError>, what: &str, reps: usize) -> Vec<f64> {
    let t = r.unwrap_or_else(|_| panic!("{what} failed"));
    assert_eq!(t.len(), reps, "{what}: one time per repetition");
    assert!(
        t.iter().all(|x| x.is_finite() && *x >= 0.0),
        "{what}: {t:?}"
    );
    t
}

/// The benchmark's clock reads milliseconds that agree with the wall clock: across 30 ms of the
/// wall clock (`Date.now()`, busy-waited) it advances by 25 ms to 10 s (a clock stuck, or in
/// seconds or microseconds, fails).
#[test]
fn the_clock_measures_milliseconds() {
    let c = Clock::new().unwrap_or_else(|_| panic!("no clock"));
    let t0 = c.now();
    let wall0 = js_sys::Date::now();
    while js_sys::Date::now() - wall0 < 30.0 {
        std::hint::spin_loop();
    }
    let dt = c.now() - t0;
    assert!(
        (25.0..10_000.0).contains(&dt),
        "30 ms of wall clock read as {dt} ms"
    );
}

#[test]
fn every_gemm_implementation_is_timed_and_the_choice_restored() {
    let before = gemm::selected_kernel();
    let mut impls = ops::bench_kernels();
    assert_eq!(impls.len(), gemm::available_kernels().len());
    impls.extend(["auto", "ndarray", "auto+packed"].map(String::from));
    impls.extend(
        gemm::available_kernels()
            .iter()
            .map(|k| format!("{}+packed", k.name())),
    );
    for i in &impls {
        times(ops::bench_gemm(5, 7, 9, i, 1, 3, 2), i, 3);
        assert_eq!(gemm::selected_kernel(), before, "{i} left a kernel forced");
    }
    assert!(ops::bench_gemm(4, 4, 4, "blas", 0, 1, 1).is_err());
}

#[test]
fn convs_are_timed_and_missing_kernels_give_no_times() {
    for i in ["auto", "portable", "simd128", "auto+packed"] {
        times(ops::bench_conv2d(2, 6, 6, 3, 3, 3, 1, 1, i, 1, 2, 1), i, 2);
        // `+packed`: PreparedConvTranspose2d.
        times(
            ops::bench_conv_transpose2d(2, 4, 4, 3, 3, 3, 2, 1, i, 1, 2, 1),
            i,
            2,
        );
    }
    let relaxed = KernelKind::Relaxed.is_available();
    let t = ops::bench_conv2d(1, 4, 4, 1, 3, 3, 1, 0, "relaxed", 0, 2, 1);
    assert_eq!(
        t.unwrap_or_else(|_| panic!("relaxed")).len(),
        if relaxed { 2 } else { 0 }
    );
}

#[test]
fn peaks_are_positive_where_the_build_has_them() {
    let mul_add = ops::bench_peak_chains(false, 100_000, 2).unwrap_or_else(|_| panic!("chains"));
    assert_eq!(mul_add.len(), 2);
    assert!(mul_add.iter().all(|&x| x > 0.0), "{mul_add:?}");
    let fma = ops::bench_peak_chains(true, 100_000, 2).unwrap_or_else(|_| panic!("fma chains"));
    assert_eq!(
        fma.len(),
        if KernelKind::Relaxed.is_available() {
            2
        } else {
            0
        }
    );
    assert!(g::bench_peak("simd128").is_ok_and(|x| x > 0.0));
    assert_eq!(
        g::bench_peak("relaxed").is_ok(),
        KernelKind::Relaxed.is_available()
    );
    assert!(g::bench_peak("portable").is_err());
}

#[test]
fn gemm_series_check_their_arguments() {
    for k in g::gemm_kernels() {
        times(g::bench_sgemm(&k, 3, 5, 7, 4), &k, 4);
        times(g::bench_sgemm_packed(&k, 3, 5, 7, 4), &k, 4);
    }
    assert!(g::bench_sgemm("fast", 3, 5, 7, 4).is_err());
    assert!(g::bench_sgemm("simd128", 0, 5, 7, 4).is_err());
    assert!(g::bench_sgemm("simd128", 3, 5, 7, 0).is_err());
    assert!(g::bench_sgemm_packed("simd128", 3, 4097, 7, 1).is_err());
}

/// Every instantiated tile shape computes C = A·B (against a naive product in f64), so a
/// comparison of tiles never times a wrong kernel; shapes that are not instantiated are errors.
#[test]
fn the_tile_variants_compute_the_product() {
    let (m, k, n) = (13, 11, 29);
    let (a, b) = (noise(m * k, 1), noise(k * n, 2));
    let want: Vec<f64> = (0..m * n)
        .map(|ij| {
            let (i, j) = (ij / n, ij % n);
            (0..k)
                .map(|p| f64::from(a[i * k + p]) * f64::from(b[p * n + j]))
                .sum()
        })
        .collect();
    for fma in [false, true] {
        let mut shapes = 0;
        for (r, v, u) in
            (1..=6).flat_map(|r| (1..=4).flat_map(move |v| (1..=2).map(move |u| (r, v, u))))
        {
            let mut c = vec![f32::NAN; m * n];
            if crate::gemm::variants::sgemm_tile(fma, r, v, u, m, k, n, &a, &b, &mut c).is_err() {
                continue;
            }
            shapes += 1;
            for (x, y) in c.iter().zip(&want) {
                assert!(
                    (f64::from(*x) - y).abs() <= 1e-4,
                    "{r}×{v}×{u} (fma {fma}): {x} vs {y}"
                );
            }
        }
        let expected = if fma && !KernelKind::Relaxed.is_available() {
            0
        } else {
            13
        };
        assert_eq!(shapes, expected, "tile shapes with fma = {fma}");
    }
    times(
        g::bench_tile("simd128", 3, 3, 1, 8, 8, 8, 2),
        "tile 3×3×1",
        2,
    );
    assert!(g::bench_tile("simd128", 7, 7, 7, 8, 8, 8, 2).is_err());
}

#[test]
fn inference_is_timed_per_layer() {
    let bytes: &[u8] = include_bytes!("../../../data/models/cnn.safetensors");
    let pixels = noise(784, 9).iter().map(|x| x.abs()).collect::<Vec<_>>();
    let model = crate::nn::Model::from_safetensors(bytes).unwrap();
    let layers = crate::nn::infer::Inference::new(&model)
        .unwrap()
        .num_layers();
    times(
        infer::bench_inference(bytes, &pixels, 3, 4),
        "cnn",
        3 * (layers + 1),
    );
    assert!(infer::bench_inference(bytes, &pixels[..10], 1, 1).is_err());
    assert!(infer::bench_inference(&bytes[..100], &pixels, 1, 1).is_err());
    assert!(infer::bench_inference(bytes, &pixels, 0, 1).is_err());
    assert!(infer::bench_inference(bytes, &pixels, 1, 0).is_err());
    assert!(infer::bench_inference(bytes, &pixels, 100_000, 101).is_err());
}

/// The rten column compares like with like: rten's `matmul`, `conv` and `conv_transpose`
/// (bias, stride, padding) give what our ops give on the benchmark's kinds of shapes, and the
/// `"rten"` implementation of each bench export returns one time per repetition.
#[test]
fn rten_computes_what_our_ops_compute() {
    use super::rten_peer::Inputs;
    use crate::conv::{conv2d, conv_transpose2d, Conv2dParams};
    use crate::Tensor;
    let close = |what: &str, got: &[f32], want: &[f32]| {
        assert_eq!(got.len(), want.len(), "{what}: length");
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert!(
                (g - w).abs() <= 1e-4 * (1.0 + w.abs()),
                "{what}[{i}]: {g} vs {w}"
            );
        }
    };
    let (m, k, n) = (7, 33, 13);
    let (a, b) = (noise(m * k, 1), noise(k * n, 2));
    let mut c = vec![0.0; m * n];
    gemm::sgemm(
        [m, k, n],
        1.0,
        MatRef::new(&a, k as isize, 1),
        MatRef::new(&b, n as isize, 1),
        0.0,
        MatMut::new(&mut c, n as isize, 1),
    )
    .unwrap();
    close("gemm", &Inputs::gemm(m, k, n, &a, &b).matmul().unwrap(), &c);
    for (xs, ws, stride, pad) in [
        ([1, 3, 9, 8], [4, 3, 3, 3], 1, 1),
        ([1, 2, 7, 7], [5, 2, 5, 5], 2, 2),
    ] {
        let (x, w, bias) = (
            noise(xs.iter().product(), 3),
            noise(ws.iter().product(), 4),
            noise(ws[0], 5),
        );
        let p = Conv2dParams::default().stride(stride).pad(pad);
        let want = conv2d(
            &Tensor::new(x.clone(), &xs).unwrap(),
            &Tensor::new(w.clone(), &ws).unwrap(),
            Some(&Tensor::new(bias.clone(), &[ws[0]]).unwrap()),
            &p,
        )
        .unwrap();
        let got = Inputs::conv(&x, xs, &w, ws, &bias, stride, pad)
            .conv2d()
            .unwrap();
        close("conv", &got, want.data());
        // transposed: the weight is [C_in, C_out, kh, kw]
        let wt = [xs[1], ws[0], ws[2], ws[3]];
        let w = noise(wt.iter().product(), 6);
        let want = conv_transpose2d(
            &Tensor::new(x.clone(), &xs).unwrap(),
            &Tensor::new(w.clone(), &wt).unwrap(),
            Some(&Tensor::new(bias.clone(), &[wt[1]]).unwrap()),
            &p,
        )
        .unwrap();
        let got = Inputs::conv(&x, xs, &w, wt, &bias, stride, pad)
            .conv_transpose2d()
            .unwrap();
        close("convT", &got, want.data());
    }
    times(ops::bench_gemm(8, 8, 8, "rten", 1, 2, 1), "rten gemm", 2);
    times(
        ops::bench_conv2d(2, 6, 6, 3, 3, 3, 1, 1, "rten", 1, 2, 1),
        "rten conv",
        2,
    );
    times(
        ops::bench_conv_transpose2d(2, 4, 4, 3, 3, 3, 2, 1, "rten", 1, 2, 1),
        "rten convT",
        2,
    );
}
