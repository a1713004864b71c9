//! Normalised cross-correlation (NCC): the template detector that ignores brightness and
//! contrast. For one window `x` and the kernel `k` (same number of taps):
//!
//! ```text
//! ncc(x, k) = Σ (x − x̄)(k − k̄) / (‖x − x̄‖ · ‖k − k̄‖)
//! ```
//!
//! where `x̄`, `k̄` are the means over the taps and `‖·‖` the Euclidean norm. It is the cosine
//! of the angle between the centred window and the centred kernel, so it lies in [−1, 1]:
//! 1 where the window is the kernel's pattern `a·k + b` with `a > 0`, −1 for its negative,
//! 0 for an unrelated one. Replacing the window by `a·x + b` (`a > 0`: brighter, more contrast)
//! changes neither the centred direction nor the score.
//!
//! Rules the playground states:
//! - A *flat* window or kernel (all its values equal) has no pattern: its centred norm is 0 and
//!   the score is defined as 0 (never NaN). Flat means exactly equal values, so no threshold.
//! - With padding, the window is the one the plain correlation sees (the im2col row): padded
//!   cells count as zeros in the mean and the norm.
//!
//! Everything is summed in f64 and the score clamped to [−1, 1] (rounding may otherwise give
//! 1.0000001 for a perfect match).

/// A list of values centred on its mean: `mean`, `norm = ‖v − mean‖`, and whether every
/// value is the same (`flat`: then the centred values are exactly 0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Centred {
    pub mean: f64,
    pub norm: f64,
    pub flat: bool,
}

impl Centred {
    pub fn of(v: &[f32]) -> Centred {
        let flat = v.windows(2).all(|p| p[0] == p[1]);
        if flat {
            // The mean of equal values is that value: every centred value is exactly 0.
            return Centred {
                mean: v.first().map_or(0.0, |&x| x as f64),
                norm: 0.0,
                flat: true,
            };
        }
        let mean = v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64;
        let norm = v
            .iter()
            .map(|&x| (x as f64 - mean).powi(2))
            .sum::<f64>()
            .sqrt();
        Centred {
            mean,
            norm,
            flat: false,
        }
    }

    /// `v − mean`, one value.
    pub fn at(&self, v: f32) -> f64 {
        if self.flat {
            0.0
        } else {
            v as f64 - self.mean
        }
    }
}

/// One window's score and the numbers that explain it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score {
    pub window: Centred,
    /// Σ (x − x̄)(k − k̄).
    pub numerator: f64,
    /// ‖x − x̄‖ · ‖k − k̄‖.
    pub denominator: f64,
    /// numerator / denominator in [−1, 1]; 0 when the window or the kernel is flat.
    pub value: f64,
}

/// The NCC of `window` with a kernel already centred (`kernel`, its [`Centred`] `kc`), the
/// per-tap products `(x − x̄)(k − k̄)` written to `products` (same length).
pub fn score(window: &[f32], kernel: &[f32], kc: &Centred, products: &mut [f64]) -> Score {
    let wc = Centred::of(window);
    let mut numerator = 0.0;
    for ((p, &x), &k) in products.iter_mut().zip(window).zip(kernel) {
        *p = wc.at(x) * kc.at(k);
        numerator += *p;
    }
    let denominator = wc.norm * kc.norm;
    let value = if wc.flat || kc.flat || denominator == 0.0 {
        0.0
    } else {
        (numerator / denominator).clamp(-1.0, 1.0)
    };
    Score {
        window: wc,
        numerator,
        denominator,
        value,
    }
}

/// The NCC of one window with one kernel (a convenience over [`score`]).
pub fn ncc(window: &[f32], kernel: &[f32]) -> f64 {
    let kc = Centred::of(kernel);
    let mut p = vec![0.0; window.len().min(kernel.len())];
    score(window, kernel, &kc, &mut p).value
}

/// The smallest score counted as the kernel's own pattern again (`matches`): equal up to
/// brightness and contrast, give or take f32 rounding of the input.
pub const MATCH: f32 = 0.9999;

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::conv::geometry::Conv2dParams;
    use crate::trace::correlate::{patch, trace_with, Mode};
    use crate::trace::Rng;

    fn rand(n: usize, seed: u64) -> Vec<f32> {
        let mut r = Rng::new(seed);
        (0..n).map(|_| r.eighth()).collect()
    }

    /// The definition, written independently: two passes in f64 over the zero-padded window.
    fn naive(
        x: &[f32],
        h: usize,
        w: usize,
        k: &[f32],
        kh: usize,
        kw: usize,
        g: &Conv2dParams,
    ) -> Vec<f64> {
        let oh = (h + g.padding[0] + g.padding[2] - g.dilation[0] * (kh - 1) - 1) / g.stride[0] + 1;
        let ow = (w + g.padding[1] + g.padding[3] - g.dilation[1] * (kw - 1) - 1) / g.stride[1] + 1;
        let n = (kh * kw) as f64;
        let km = k.iter().map(|&v| v as f64).sum::<f64>() / n;
        let kd: Vec<f64> = k.iter().map(|&v| v as f64 - km).collect();
        let kn = kd.iter().map(|d| d * d).sum::<f64>().sqrt();
        let mut out = Vec::new();
        for i in 0..oh {
            for j in 0..ow {
                let mut win = Vec::new();
                for a in 0..kh {
                    for b in 0..kw {
                        let r =
                            (i * g.stride[0] + a * g.dilation[0]) as isize - g.padding[0] as isize;
                        let c =
                            (j * g.stride[1] + b * g.dilation[1]) as isize - g.padding[1] as isize;
                        let inside = r >= 0 && c >= 0 && (r as usize) < h && (c as usize) < w;
                        win.push(if inside {
                            x[r as usize * w + c as usize] as f64
                        } else {
                            0.0
                        });
                    }
                }
                let m = win.iter().sum::<f64>() / n;
                let wd: Vec<f64> = win.iter().map(|v| v - m).collect();
                let wn = wd.iter().map(|d| d * d).sum::<f64>().sqrt();
                let num: f64 = wd.iter().zip(&kd).map(|(a, b)| a * b).sum();
                let flat = win.iter().all(|&v| v == win[0]) || k.iter().all(|&v| v == k[0]);
                out.push(if flat { 0.0 } else { num / (wn * kn) });
            }
        }
        out
    }

    fn ncc_trace(
        x: &[f32],
        n: usize,
        k: &[f32],
        ks: usize,
        g: &Conv2dParams,
    ) -> crate::trace::correlate::CorrTrace {
        let mode = Mode {
            flip: false,
            normalized: true,
        };
        trace_with(x, n, n, k, ks, ks, g, mode).unwrap()
    }

    #[test]
    fn ncc_equals_the_naive_definition_on_random_settings() {
        let mut r = Rng::new(5);
        let mut pick = |n: usize| ((r.eighth() + 1.0) * 8.0) as usize % n;
        let mut checked = 0;
        for case in 0..200u64 {
            let (h, w) = (2 + pick(8), 2 + pick(8));
            let (kh, kw) = (1 + pick(3), 1 + pick(3));
            let g = Conv2dParams {
                stride: [1 + pick(2), 1 + pick(2)],
                padding: [pick(2), pick(2), pick(2), pick(2)],
                dilation: [1 + pick(2), 1 + pick(2)],
                ..Default::default()
            };
            let x = rand(h * w, case);
            let k = rand(kh * kw, case + 500);
            let mode = Mode {
                flip: false,
                normalized: true,
            };
            let Ok(t) = trace_with(&x, h, w, &k, kh, kw, &g, mode) else {
                continue;
            };
            let want = naive(&x, h, w, &k, kh, kw, &g);
            assert_eq!(t.output.len(), want.len(), "case {case}");
            let n = t.ncc.as_ref().unwrap();
            for (s, (&a, &b)) in t.output.iter().zip(&want).enumerate() {
                assert!(
                    (a as f64 - b).abs() < 1e-5,
                    "case {case} step {s}: {a} vs {b}"
                );
                assert!(a.is_finite() && (-1.0..=1.0).contains(&a));
                // The explanation's numbers give the output: numerator ÷ denominator.
                if n.denominator[s] > 0.0 {
                    let q = n.numerator[s] / n.denominator[s];
                    assert!((q - a).abs() < 1e-5, "case {case} step {s}");
                }
                // The products shown are (x − x̄)(k − k̄) of this window; they add up to the numerator.
                let p = &t.products[s * t.taps..(s + 1) * t.taps];
                let sum: f32 = p.iter().sum();
                assert!((sum - n.numerator[s]).abs() < 1e-4, "case {case} step {s}");
                for (tap, &got) in p.iter().enumerate() {
                    let c = t.cols[s * t.taps + tap];
                    let want = (c as f64 - n.window_mean[s] as f64)
                        * (t.kernel[tap] as f64 - n.kernel_mean as f64);
                    assert!((got as f64 - want).abs() < 1e-5);
                }
            }
            checked += 1;
        }
        assert!(checked > 100, "only {checked} valid settings");
    }

    #[test]
    fn flat_windows_and_flat_kernels_give_zero_not_nan() {
        // A flat image: every window flat.
        let x = vec![0.375; 25];
        let k = rand(9, 3);
        let t = ncc_trace(&x, 5, &k, 3, &Conv2dParams::default());
        assert!(t.output.iter().all(|&v| v == 0.0));
        let n = t.ncc.as_ref().unwrap();
        assert!(n.flat.iter().all(|&f| f == 1) && n.window_norm.iter().all(|&v| v == 0.0));
        assert_eq!(n.window_mean[0], 0.375);
        // A flat kernel: no pattern to find.
        let x = rand(36, 4);
        let t = ncc_trace(&x, 6, &[2.0; 9], 3, &Conv2dParams::default());
        assert!(t.output.iter().all(|&v| v == 0.0));
        assert!(t.ncc.as_ref().unwrap().kernel_flat);
        assert_eq!(t.ncc.as_ref().unwrap().kernel_norm, 0.0);
        // A window wholly on padding is flat (zeros), and a 1×1 kernel is always flat.
        let g = Conv2dParams::default().pad(3);
        let t = ncc_trace(&rand(9, 5), 3, &rand(4, 6), 2, &g);
        assert_eq!(t.output[0], 0.0);
        assert!(t.output.iter().all(|v| v.is_finite()));
        let t = ncc_trace(&rand(9, 5), 3, &[0.5], 1, &Conv2dParams::default());
        assert!(t.output.iter().all(|&v| v == 0.0));
        // Nearly flat is not flat: one value an ulp away still has a direction.
        let mut w = vec![1.0f32; 4];
        w[3] = f32::from_bits(1.0f32.to_bits() + 1);
        assert!((ncc(&w, &[0.0, 0.0, 0.0, 1.0]) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn brightness_and_contrast_do_not_change_it() {
        let (n, ks) = (7, 3);
        let x = rand(n * n, 8);
        let k = rand(ks * ks, 9);
        let g = Conv2dParams::default();
        let base = ncc_trace(&x, n, &k, ks, &g).output;
        for (a, b) in [(2.0f32, 0.0f32), (0.5, 0.25), (3.0, -1.5), (1.0, 10.0)] {
            let y: Vec<f32> = x.iter().map(|&v| a * v + b).collect();
            let t = ncc_trace(&y, n, &k, ks, &g);
            for (p, q) in t.output.iter().zip(&base) {
                assert!((p - q).abs() < 1e-5, "a {a} b {b}: {p} vs {q}");
            }
            // The kernel too.
            let kk: Vec<f32> = k.iter().map(|&v| a * v + b).collect();
            let t = ncc_trace(&x, n, &kk, ks, &g);
            for (p, q) in t.output.iter().zip(&base) {
                assert!((p - q).abs() < 1e-5, "kernel a {a} b {b}: {p} vs {q}");
            }
        }
        // A negative scale turns every sign: −1 for the pattern's negative.
        let y: Vec<f32> = x.iter().map(|&v| -2.0 * v + 1.0).collect();
        let t = ncc_trace(&y, n, &k, ks, &g);
        for (p, q) in t.output.iter().zip(&base) {
            assert!((p + q).abs() < 1e-5);
        }
        // The plain correlation does change: that is why a detector normalises.
        let plain = trace_with(&x, n, n, &k, ks, ks, &g, Mode::default()).unwrap();
        let y: Vec<f32> = x.iter().map(|&v| v + 1.0).collect();
        let brighter = trace_with(&y, n, n, &k, ks, ks, &g, Mode::default()).unwrap();
        assert!(plain
            .output
            .iter()
            .zip(&brighter.output)
            .any(|(a, b)| (a - b).abs() > 1e-3));
    }

    #[test]
    fn a_patch_finds_itself_with_score_one() {
        let n = 9;
        let x = rand(n * n, 11);
        for (top, left, ks) in [(0, 0, 3), (2, 5, 3), (4, 4, 5), (6, 1, 2), (3, 3, 4)] {
            let p = patch(&x, n, n, [top, left], [ks, ks]).unwrap();
            assert_eq!(p.size, [ks, ks]);
            for a in 0..ks {
                for b in 0..ks {
                    let cell = (top + a) * n + left + b;
                    assert_eq!(p.values[a * ks + b], x[cell]);
                    assert_eq!(p.cells[a * ks + b] as usize, cell);
                }
            }
            let t = ncc_trace(&x, n, &p.values, ks, &Conv2dParams::default());
            let own = top * t.out_w + left;
            assert!((t.output[own] - 1.0).abs() <= 1e-6, "{}", t.output[own]);
            assert_eq!(t.moments.largest as usize, own);
            assert!(t.ncc.as_ref().unwrap().matches.contains(&(own as u32)));
            // Padding shifts the place by the padding (the window the plain correlation sees).
            let g = Conv2dParams::default().pad(1);
            let t = ncc_trace(&x, n, &p.values, ks, &g);
            let own = (top + 1) * t.out_w + left + 1;
            assert!((t.output[own] - 1.0).abs() <= 1e-6);
        }
        // A repeating image: the patch is found at every repeat.
        let checker: Vec<f32> = (0..64).map(|i| ((i / 8 + i % 8) % 2) as f32).collect();
        let p = patch(&checker, 8, 8, [1, 1], [3, 3]).unwrap();
        let t = ncc_trace(&checker, 8, &p.values, 3, &Conv2dParams::default());
        let m = &t.ncc.as_ref().unwrap().matches;
        assert_eq!(m.len(), 18, "{m:?}"); // half of the 6×6 windows
        assert!(t.output.iter().all(|&v| (v.abs() - 1.0).abs() < 1e-6));
    }

    #[test]
    fn bad_patches_are_errors() {
        let x = rand(16, 1);
        assert!(patch(&x, 4, 4, [2, 0], [3, 3]).is_err());
        assert!(patch(&x, 4, 4, [0, 2], [3, 3]).is_err());
        assert!(patch(&x, 4, 4, [0, 0], [0, 3]).is_err());
        assert!(patch(&x, 4, 4, [usize::MAX, 0], [3, 3]).is_err());
        assert!(patch(&x[..15], 4, 4, [0, 0], [1, 1]).is_err());
        assert!(patch(&x, 4, 4, [3, 3], [1, 1]).is_ok());
    }
}
