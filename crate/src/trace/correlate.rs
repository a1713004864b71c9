//! The sliding correlation, one window at a time: what `Conv2d` computes for one channel
//! (a cross-correlation, not the flipped convolution), with every step recorded. The recorded
//! windows are exactly the im2col table: one row per output cell, one column per kernel tap.

use serde::Serialize;

use super::ncc::{self, Centred, MATCH};
use super::{check, check_image, flip_kernel, Op, MAX_KERNEL, MAX_SIDE};
use crate::conv::geometry::{Conv2dParams, OutputTerms};
use crate::error::{Error, Result};

/// Largest `steps × taps` a trace stores (4 numbers each).
pub const MAX_TRACE: usize = 1 << 21;

/// The nearest valid setting when the input or the kernel changed size: while the dilated
/// kernel does not fit along an axis, first lower the dilation, then pad the end.
pub(crate) fn settle(input: [usize; 2], kernel: [usize; 2], g: &Conv2dParams) -> Conv2dParams {
    let mut g = *g;
    g.output_padding = [0, 0];
    for axis in 0..2 {
        let (n, k) = (input[axis], kernel[axis]);
        loop {
            let (pb, pe) = g.pads(axis);
            if g.dilation[axis] * (k.max(1) - 1) < n + pb + pe || pe >= MAX_SIDE {
                break;
            }
            if g.dilation[axis] > 1 {
                g.dilation[axis] -= 1;
            } else {
                g.padding[axis + 2] += 1;
            }
        }
    }
    g
}

/// Every step of a sliding correlation over one `h × w` image.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CorrTrace {
    pub h: usize,
    pub w: usize,
    pub kh: usize,
    pub kw: usize,
    pub geometry: Conv2dParams,
    /// True when the kernel was turned by 180° first (a true convolution).
    pub flipped: bool,
    /// The kernel actually slid (flipped when `flipped`), `kh × kw`.
    #[serde(serialize_with = "crate::typed::f32s")]
    pub kernel: Vec<f32>,
    /// The output-size formula with its numbers.
    pub terms: OutputTerms,
    pub out_h: usize,
    pub out_w: usize,
    /// Output cells (one window each) and kernel taps.
    pub steps: usize,
    pub taps: usize,
    /// The zero-padded input, `padded_h × padded_w`.
    pub padded_h: usize,
    pub padded_w: usize,
    #[serde(serialize_with = "crate::typed::f32s")]
    pub padded: Vec<f32>,
    /// For each padded cell: its index in the input, or −1 for a padding cell.
    #[serde(serialize_with = "crate::typed::i32s")]
    pub padded_source: Vec<i32>,
    /// Per step (output cell, row-major) and tap (kernel cell, row-major): the padded cell
    /// under that tap. `steps × taps`.
    #[serde(serialize_with = "crate::typed::u32s")]
    pub window: Vec<u32>,
    /// The same, as an input index, −1 where the tap lies on padding.
    #[serde(serialize_with = "crate::typed::i32s")]
    pub source: Vec<i32>,
    /// The im2col table: the input value under each tap (0 on padding). `steps × taps`.
    #[serde(serialize_with = "crate::typed::f32s")]
    pub cols: Vec<f32>,
    /// `cols[s][t] · kernel[t]`.
    #[serde(serialize_with = "crate::typed::f32s")]
    pub products: Vec<f32>,
    /// The sum of each step's products: the output cell. `out_h × out_w`.
    #[serde(serialize_with = "crate::typed::f32s")]
    pub output: Vec<f32>,
    /// The windows that read each padded cell (what an input cell touches), as ranges of
    /// `readers`: padded cell `p` is read by the steps `readers[reader_start[p]..reader_start[p + 1]]`,
    /// ascending. `padded_h·padded_w + 1` starts.
    #[serde(serialize_with = "crate::typed::u32s")]
    pub reader_start: Vec<u32>,
    #[serde(serialize_with = "crate::typed::u32s")]
    pub readers: Vec<u32>,
    /// The colour scales' ends (largest |value|) of the output, of every step's products and
    /// of the kernel, and whether any product is negative: one scale for every step.
    pub output_max: f32,
    pub products_max: f32,
    pub products_signed: bool,
    pub kernel_max: f32,
    /// Per step: its output cell `[row, column]` (what the step's label names).
    #[serde(serialize_with = "crate::typed::u32s")]
    pub step_cell: Vec<u32>,
    /// Per padded cell: `[row, column]` on the padded grid.
    #[serde(serialize_with = "crate::typed::u32s")]
    pub padded_cell: Vec<u32>,
    /// Per kernel tap: `[row, column]` in the kernel.
    #[serde(serialize_with = "crate::typed::u32s")]
    pub tap_cell: Vec<u32>,
    /// The steps a guided run pauses at ("show me"), each −1 when there is none.
    pub moments: Moments,
    /// With `normalized`: what explains each output (normalised cross-correlation); `None`
    /// (`undefined` in JS) for the plain correlation.
    pub ncc: Option<Ncc>,
}

/// How a correlation trace slides its kernel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Mode {
    /// Turn the kernel by 180° first (a true convolution).
    pub flip: bool,
    /// Normalised cross-correlation ([`super::ncc`]): each output is
    /// `Σ (x − x̄)(k − k̄) / (‖x − x̄‖ · ‖k − k̄‖)` over its window, 0 when the window or the
    /// kernel is flat; the `products` are then `(x − x̄)(k − k̄)`.
    pub normalized: bool,
}

/// The numbers behind each output of a normalised cross-correlation, so the page explains a
/// step without arithmetic of its own. Per step (output cell, row-major) unless said.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Ncc {
    /// k̄ and ‖k − k̄‖ of the kernel that slides; whether all its values are equal.
    pub kernel_mean: f32,
    pub kernel_norm: f32,
    pub kernel_flat: bool,
    /// k − k̄ per tap.
    #[serde(serialize_with = "crate::typed::f32s")]
    pub centred_kernel: Vec<f32>,
    /// x̄: the window's mean (padded cells count as the zeros the window holds).
    #[serde(serialize_with = "crate::typed::f32s")]
    pub window_mean: Vec<f32>,
    /// ‖x − x̄‖.
    #[serde(serialize_with = "crate::typed::f32s")]
    pub window_norm: Vec<f32>,
    /// Σ (x − x̄)(k − k̄): the sum of the step's products.
    #[serde(serialize_with = "crate::typed::f32s")]
    pub numerator: Vec<f32>,
    /// ‖x − x̄‖ · ‖k − k̄‖ (0 when either is flat).
    #[serde(serialize_with = "crate::typed::f32s")]
    pub denominator: Vec<f32>,
    /// 1 where the window is flat (all its values equal): its output is 0 by definition.
    #[serde(serialize_with = "crate::typed::u8s")]
    pub flat: Vec<u8>,
    /// The steps whose output is at least `matchAt`: the kernel's pattern again, up to
    /// brightness and contrast. Ascending.
    #[serde(serialize_with = "crate::typed::u32s")]
    pub matches: Vec<u32>,
    pub match_at: f32,
}

/// A patch cut from an image: what becomes the kernel when a box is dragged on the input.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Patch {
    /// `[rows, columns]` and the top-left cell `[row, column]` in the image.
    pub size: [usize; 2],
    pub at: [usize; 2],
    /// The image's values in the box, row-major.
    #[serde(serialize_with = "crate::typed::f32s")]
    pub values: Vec<f32>,
    /// The image index of each of those values.
    #[serde(serialize_with = "crate::typed::u32s")]
    pub cells: Vec<u32>,
}

/// Whether a `kh × kw` box whose top-left cell is `at` lies on an `h × w` image (the image's
/// sides as a trace takes them).
pub fn check_box(h: usize, w: usize, at: [usize; 2], [kh, kw]: [usize; 2]) -> Result<()> {
    if h == 0 || w == 0 || h > MAX_SIDE || w > MAX_SIDE {
        return Err(Error::param(
            "size",
            [h, w],
            format!("each side must be between 1 and {MAX_SIDE} here"),
        ));
    }
    if kh == 0 || kw == 0 || kh > MAX_KERNEL || kw > MAX_KERNEL {
        return Err(Error::param(
            "kernelSize",
            [kh, kw],
            format!("each side must be between 1 and {MAX_KERNEL}"),
        ));
    }
    for (axis, name, n, k) in [(0, "top", h, kh), (1, "left", w, kw)] {
        if k > n || at[axis] > n - k {
            return Err(Error::param(
                name,
                at[axis],
                format!(
                    "the {kh}×{kw} box must lie on the {h}×{w} image: {name} at most {}",
                    n.saturating_sub(k)
                ),
            ));
        }
    }
    Ok(())
}

/// The `kh × kw` box of `x` (`h × w`) whose top-left cell is `at` ([`check_box`] first, so
/// nothing is allocated for a box off the image).
pub fn patch(x: &[f32], h: usize, w: usize, at: [usize; 2], [kh, kw]: [usize; 2]) -> Result<Patch> {
    check_box(h, w, at, [kh, kw])?;
    check_image("input", x, h, w, MAX_SIDE)?;
    let mut values = Vec::with_capacity(kh * kw);
    let mut cells = Vec::with_capacity(kh * kw);
    for r in at[0]..at[0] + kh {
        for c in at[1]..at[1] + kw {
            values.push(x[r * w + c]);
            cells.push((r * w + c) as u32);
        }
    }
    Ok(Patch {
        size: [kh, kw],
        at,
        values,
        cells,
    })
}

/// Steps of a correlation worth pausing at, found from its windows and output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Moments {
    /// The first step whose window reads a padding cell.
    pub first_padded: i64,
    /// The first step whose window lies wholly on the image.
    pub first_inside: i64,
    /// The step with the largest output (the first of equals).
    pub largest: i64,
    /// The step with the smallest output (the first of equals).
    pub smallest: i64,
}

impl Moments {
    fn of(source: &[i32], taps: usize, output: &[f32]) -> Moments {
        let taps = taps.max(1);
        let first = |inside: bool| {
            source
                .chunks(taps)
                .position(|w| w.iter().all(|&s| s >= 0) == inside)
                .map_or(-1, |s| s as i64)
        };
        let pick = |better: fn(f32, f32) -> bool| {
            let mut best: Option<(usize, f32)> = None;
            for (i, &v) in output.iter().enumerate() {
                if best.is_none_or(|(_, b)| better(v, b)) {
                    best = Some((i, v));
                }
            }
            best.map_or(-1, |(i, _)| i as i64)
        };
        Moments {
            first_padded: first(false),
            first_inside: first(true),
            largest: pick(|v, b| v > b),
            smallest: pick(|v, b| v < b),
        }
    }
}

/// Largest |value| (0 for none): a colour scale's end.
pub(crate) fn max_abs(v: &[f32]) -> f32 {
    v.iter().fold(0.0f32, |m, x| m.max(x.abs()))
}

impl CorrTrace {
    /// The steps whose windows read padded cell `p`.
    pub fn readers_of(&self, p: usize) -> &[u32] {
        &self.readers[self.reader_start[p] as usize..self.reader_start[p + 1] as usize]
    }
}

/// The inverse of the window table: for each padded cell, the steps that read it (counting
/// sort, so each list is ascending).
fn readers(window: &[u32], taps: usize, cells: usize) -> (Vec<u32>, Vec<u32>) {
    let mut start = vec![0u32; cells + 1];
    for &p in window {
        start[p as usize + 1] += 1;
    }
    for i in 0..cells {
        start[i + 1] += start[i];
    }
    let mut next = start.clone();
    let mut out = vec![0u32; window.len()];
    for (i, &p) in window.iter().enumerate() {
        let slot = &mut next[p as usize];
        out[*slot as usize] = (i / taps.max(1)) as u32;
        *slot += 1;
    }
    (start, out)
}

/// Records every window of the correlation of `x` (`h × w`) with `k` (`kh × kw`); with
/// `flip`, the kernel is turned by 180° first, which makes it a true convolution.
#[allow(clippy::too_many_arguments)]
pub fn trace(
    x: &[f32],
    h: usize,
    w: usize,
    k: &[f32],
    kh: usize,
    kw: usize,
    g: &Conv2dParams,
    flip: bool,
) -> Result<CorrTrace> {
    let mode = Mode {
        flip,
        normalized: false,
    };
    trace_with(x, h, w, k, kh, kw, g, mode)
}

/// [`trace`] with every [`Mode`]: with `normalized`, each output is the window's normalised
/// cross-correlation with the kernel, and `ncc` holds what explains it.
#[allow(clippy::too_many_arguments)]
pub fn trace_with(
    x: &[f32],
    h: usize,
    w: usize,
    k: &[f32],
    kh: usize,
    kw: usize,
    g: &Conv2dParams,
    mode: Mode,
) -> Result<CorrTrace> {
    let flip = mode.flip;
    let terms = check(Op::Correlate, [h, w], [kh, kw], g)?;
    check_image("input", x, h, w, MAX_SIDE)?;
    check_image("kernel", k, kh, kw, MAX_KERNEL)?;
    let [out_h, out_w] = terms.out();
    let taps = kh * kw;
    let steps = out_h * out_w;
    if steps * taps > MAX_TRACE {
        return Err(Error::shape(format!(
            "the trace would hold {steps} windows of {taps} taps; at most {MAX_TRACE} fit"
        )));
    }
    let kernel = if flip {
        flip_kernel(k, kh, kw)
    } else {
        k.to_vec()
    };
    let [pt, pl, pb, pr] = g.padding;
    let (padded_h, padded_w) = (h + pt + pb, w + pl + pr);
    let mut padded = vec![0.0; padded_h * padded_w];
    let mut padded_source = vec![-1i32; padded_h * padded_w];
    for r in 0..h {
        for c in 0..w {
            let p = (r + pt) * padded_w + c + pl;
            padded[p] = x[r * w + c];
            padded_source[p] = (r * w + c) as i32;
        }
    }
    let mut window = Vec::with_capacity(steps * taps);
    let mut source = Vec::with_capacity(steps * taps);
    let mut cols = Vec::with_capacity(steps * taps);
    let mut products = Vec::with_capacity(steps * taps);
    let mut output = Vec::with_capacity(steps);
    for i in 0..out_h {
        for j in 0..out_w {
            let mut sum = 0.0f32;
            for a in 0..kh {
                for b in 0..kw {
                    let py = i * g.stride[0] + a * g.dilation[0];
                    let px = j * g.stride[1] + b * g.dilation[1];
                    let p = py * padded_w + px;
                    let v = padded[p];
                    let prod = v * kernel[a * kw + b];
                    window.push(p as u32);
                    source.push(padded_source[p]);
                    cols.push(v);
                    products.push(prod);
                    sum += prod;
                }
            }
            output.push(sum);
        }
    }
    let ncc = mode
        .normalized
        .then(|| normalize(&kernel, &cols, taps, &mut products, &mut output));
    let (reader_start, readers) = readers(&window, taps, padded_h * padded_w);
    let cells = |n: usize, w: usize| -> Vec<u32> {
        (0..n)
            .flat_map(|c| [(c / w) as u32, (c % w) as u32])
            .collect()
    };
    Ok(CorrTrace {
        moments: Moments::of(&source, taps, &output),
        ncc,
        step_cell: cells(steps, out_w),
        padded_cell: cells(padded_h * padded_w, padded_w),
        tap_cell: cells(taps, kw),
        output_max: max_abs(&output),
        products_max: max_abs(&products),
        products_signed: products.iter().any(|&p| p < 0.0),
        kernel_max: max_abs(&kernel),
        reader_start,
        readers,
        h,
        w,
        kh,
        kw,
        geometry: *g,
        flipped: flip,
        kernel,
        terms,
        out_h,
        out_w,
        steps,
        taps,
        padded_h,
        padded_w,
        padded,
        padded_source,
        window,
        source,
        cols,
        products,
        output,
    })
}

/// Turns a plain trace's products and outputs into normalised cross-correlation ones (the
/// windows are the im2col rows `cols`, padding included), and returns what explains them.
fn normalize(
    kernel: &[f32],
    cols: &[f32],
    taps: usize,
    products: &mut [f32],
    output: &mut [f32],
) -> Ncc {
    let kc = Centred::of(kernel);
    let steps = output.len();
    let mut n = Ncc {
        kernel_mean: kc.mean as f32,
        kernel_norm: kc.norm as f32,
        kernel_flat: kc.flat,
        centred_kernel: kernel.iter().map(|&v| kc.at(v) as f32).collect(),
        window_mean: Vec::with_capacity(steps),
        window_norm: Vec::with_capacity(steps),
        numerator: Vec::with_capacity(steps),
        denominator: Vec::with_capacity(steps),
        flat: Vec::with_capacity(steps),
        matches: Vec::new(),
        match_at: MATCH,
    };
    let mut p = vec![0.0f64; taps];
    for s in 0..steps {
        let win = &cols[s * taps..(s + 1) * taps];
        let sc = ncc::score(win, kernel, &kc, &mut p);
        for (dst, &v) in products[s * taps..(s + 1) * taps].iter_mut().zip(&p) {
            *dst = v as f32;
        }
        output[s] = sc.value as f32;
        n.window_mean.push(sc.window.mean as f32);
        n.window_norm.push(sc.window.norm as f32);
        n.numerator.push(sc.numerator as f32);
        n.denominator.push(sc.denominator as f32);
        n.flat.push(u8::from(sc.window.flat));
        if output[s] >= MATCH {
            n.matches.push(s as u32);
        }
    }
    n
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::trace::{ranges, settle as settle_op, Rng};

    fn rand(n: usize, seed: u32) -> Vec<f32> {
        let mut r = Rng::new(u64::from(seed));
        (0..n).map(|_| r.eighth()).collect()
    }

    /// The definition, written independently of `trace`: out[i][j] = Σ x[i·s + a·d − p][…]·k[a][b].
    pub(crate) fn naive(
        x: &[f32],
        h: usize,
        w: usize,
        k: &[f32],
        kh: usize,
        kw: usize,
        g: &Conv2dParams,
    ) -> (Vec<f32>, usize, usize) {
        let [oh, ow] = check(Op::Correlate, [h, w], [kh, kw], g).unwrap().out();
        let mut out = vec![f32::NAN; oh * ow];
        for i in 0..oh {
            for j in 0..ow {
                let mut s = 0.0;
                for a in 0..kh {
                    for b in 0..kw {
                        let r =
                            (i * g.stride[0] + a * g.dilation[0]) as isize - g.padding[0] as isize;
                        let c =
                            (j * g.stride[1] + b * g.dilation[1]) as isize - g.padding[1] as isize;
                        if r >= 0 && c >= 0 && (r as usize) < h && (c as usize) < w {
                            s += x[r as usize * w + c as usize] * k[a * kw + b];
                        }
                    }
                }
                out[i * ow + j] = s;
            }
        }
        (out, oh, ow)
    }

    #[test]
    fn delta_kernel_is_the_identity() {
        // A 3×3 delta with padding 1 gives the input back.
        let x = rand(7 * 5, 1);
        let mut k = vec![0.0; 9];
        k[4] = 1.0;
        let g = Conv2dParams::default().pad(1);
        let t = trace(&x, 7, 5, &k, 3, 3, &g, false).unwrap();
        assert_eq!((t.out_h, t.out_w), (7, 5));
        assert_eq!(t.output, x);
    }

    #[test]
    fn trace_matches_the_definition_on_random_settings() {
        let mut r = Rng::new(42);
        let mut pick = |n: usize| ((r.eighth() + 1.0) * 8.0) as usize % n;
        for case in 0..300 {
            let (h, w) = (1 + pick(9), 1 + pick(9));
            let (kh, kw) = (1 + pick(4), 1 + pick(4));
            let g = Conv2dParams {
                stride: [1 + pick(3), 1 + pick(3)],
                padding: [pick(3), pick(3), pick(3), pick(3)],
                dilation: [1 + pick(3), 1 + pick(3)],
                ..Default::default()
            };
            let x = rand(h * w, case);
            let k = rand(kh * kw, case + 1000);
            let flip = case % 2 == 1;
            match trace(&x, h, w, &k, kh, kw, &g, flip) {
                Ok(t) => {
                    let kk = if flip {
                        flip_kernel(&k, kh, kw)
                    } else {
                        k.clone()
                    };
                    let (want, oh, ow) = naive(&x, h, w, &kk, kh, kw, &g);
                    assert_eq!((t.out_h, t.out_w), (oh, ow));
                    for (a, b) in t.output.iter().zip(&want) {
                        assert!((a - b).abs() < 1e-5, "case {case}: {a} vs {b}");
                    }
                    // Each step's cell is the output cell it writes, its first tap the padded
                    // cell at stride × that cell; every padded cell and tap names its place.
                    for s in 0..t.steps {
                        let [i, j] =
                            [t.step_cell[2 * s], t.step_cell[2 * s + 1]].map(|v| v as usize);
                        assert!(i < t.out_h && j < t.out_w && i * t.out_w + j == s);
                        let p = t.window[s * t.taps] as usize;
                        let [py, px] =
                            [t.padded_cell[2 * p], t.padded_cell[2 * p + 1]].map(|v| v as usize);
                        assert_eq!([py, px], [i * g.stride[0], j * g.stride[1]]);
                        assert_eq!(py * t.padded_w + px, p);
                    }
                    assert_eq!(t.padded_cell.len(), 2 * t.padded_h * t.padded_w);
                    for tap in 0..t.taps {
                        let [a, b] =
                            [t.tap_cell[2 * tap], t.tap_cell[2 * tap + 1]].map(|v| v as usize);
                        assert!(a < t.kh && b < t.kw && a * t.kw + b == tap);
                    }
                    // Each step's row of the im2col table holds the input under the window.
                    for s in 0..t.steps {
                        for tap in 0..t.taps {
                            let i = s * t.taps + tap;
                            let v = if t.source[i] < 0 {
                                0.0
                            } else {
                                x[t.source[i] as usize]
                            };
                            assert_eq!(t.cols[i], v);
                            assert_eq!(t.padded[t.window[i] as usize], v);
                            assert_eq!(t.products[i], v * t.kernel[tap]);
                        }
                    }
                    // The guided run's moments, by brute force over the steps.
                    let on_pad = |s: usize| (0..t.taps).any(|k| t.source[s * t.taps + k] < 0);
                    let first = |want: bool| {
                        (0..t.steps)
                            .find(|&s| on_pad(s) == want)
                            .map_or(-1, |s| s as i64)
                    };
                    let m = t.moments;
                    assert_eq!(m.first_padded, first(true), "case {case}");
                    assert_eq!(m.first_inside, first(false), "case {case}");
                    let (hi, lo) = (m.largest as usize, m.smallest as usize);
                    for s in 0..t.steps {
                        assert!(
                            t.output[s] <= t.output[hi] && (s >= hi || t.output[s] < t.output[hi])
                        );
                        assert!(
                            t.output[s] >= t.output[lo] && (s >= lo || t.output[s] > t.output[lo])
                        );
                    }
                }
                Err(e) => {
                    // Invalid exactly when the dilated kernel does not fit.
                    let fits = |n: usize, p: usize, d: usize, k: usize| d * (k - 1) < n + p;
                    assert!(
                        !fits(h, g.padding[0] + g.padding[2], g.dilation[0], kh)
                            || !fits(w, g.padding[1] + g.padding[3], g.dilation[1], kw),
                        "case {case}: unexpected {e}"
                    );
                }
            }
        }
    }

    #[test]
    fn ranges_only_reach_valid_settings() {
        let g = Conv2dParams {
            dilation: [2, 1],
            ..Default::default()
        };
        let r = ranges(Op::Correlate, [5, 6], [3, 3], &g, 8);
        assert_eq!(r.stride[0], [1, 8]); // any stride
        assert_eq!(r.padding[0], [0, 8]); // any padding
        assert_eq!(r.dilation[0], [1, 2]); // dilation 3 needs 7 rows
        assert_eq!(r.dilation[1], [1, 2]);
        assert_eq!(r.output_padding, None);
        let flat: Vec<[usize; 2]> = [&r.stride[..], &r.padding[..], &r.dilation[..]].concat();
        for (idx, [lo, hi]) in flat.iter().enumerate() {
            for v in [*lo, *hi] {
                let mut t = g;
                match idx {
                    0 | 1 => t.stride[idx] = v,
                    2..=5 => t.padding[idx - 2] = v,
                    _ => t.dilation[idx - 6] = v,
                }
                assert!(check(Op::Correlate, [5, 6], [3, 3], &t).is_ok());
            }
        }
    }

    #[test]
    fn settle_makes_settings_valid() {
        let g = Conv2dParams::default().dilation(5);
        let s = settle_op(Op::Correlate, [4, 4], [3, 3], &g).unwrap();
        assert!(check(Op::Correlate, [4, 4], [3, 3], &s).is_ok());
        assert_eq!(s.dilation, [1, 1]);
        let s = settle_op(Op::Correlate, [1, 1], [3, 3], &Conv2dParams::default()).unwrap();
        assert!(check(Op::Correlate, [1, 1], [3, 3], &s).is_ok());
        assert_eq!(s.padding, [0, 0, 2, 2]);
        // Absurd settings settle too (they used to wrap around or loop).
        let wild = Conv2dParams {
            stride: [usize::MAX, 1],
            padding: [usize::MAX; 4],
            dilation: [1, usize::MAX],
            ..Default::default()
        };
        let s = settle_op(Op::Correlate, [3, 3], [3, 3], &wild).unwrap();
        assert!(check(Op::Correlate, [3, 3], [3, 3], &s).is_ok());
        // A value no setting allows is refused, not adjusted.
        assert!(settle_op(
            Op::Correlate,
            [3, 3],
            [3, 3],
            &Conv2dParams::default().stride(0)
        )
        .is_err());
        assert!(settle_op(Op::Correlate, [0, 3], [3, 3], &g).is_err());
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let g = Conv2dParams::default();
        assert!(trace(&[1.0; 4], 2, 2, &[1.0; 9], 3, 3, &g, false).is_err());
        assert!(trace(&[1.0; 3], 2, 2, &[1.0], 1, 1, &g, false).is_err());
        assert!(trace(&[f32::NAN; 4], 2, 2, &[1.0], 1, 1, &g, false).is_err());
        let z = Conv2dParams {
            stride: [0, 1],
            ..g
        };
        assert!(trace(&[1.0; 4], 2, 2, &[1.0], 1, 1, &z, false).is_err());
        assert!(trace(&[1.0; 4], 2, 2, &[1.0], 0, 1, &g, false).is_err());
    }
}
