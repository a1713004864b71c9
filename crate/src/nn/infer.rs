//! One digit at a time, fast: every layer prepared once (conv weights laid out by
//! [`PreparedConv2d`], dense weights packed into [`PackedB`] panels), every activation in a
//! buffer allocated once. [`Inference::run`] allocates nothing (for the shipped pools) and
//! keeps every layer's activation (the page shows them all). [`Predictor`] is the same model
//! on its fastest path when only the probabilities are wanted: bias in the conv's
//! accumulators, ReLU folded into the next pool (or applied in place), flatten free, no
//! activation kept but the few buffers the chain needs.

use super::{check_input, Layer, Model};
use crate::conv::{max_pool2d, Pool2dParams, PreparedConv2d};
use crate::error::Result;
use crate::gemm::PackedB;
use crate::ops::slice;
use crate::tensor::Tensor;

enum Step {
    Conv(Box<PreparedConv2d>),
    /// `size × size` window, stride `size`, over `[c, h, w]`.
    Pool {
        c: usize,
        h: usize,
        w: usize,
        size: usize,
    },
    /// Any other pool geometry, through `conv::max_pool2d`.
    PoolGeneral {
        params: Pool2dParams,
        shape: [usize; 3],
    },
    Relu,
    Copy,
    Linear {
        packed: PackedB,
        bias: Vec<f32>,
    },
    Softmax,
    /// Any other layer, through the model's general forward (allocates).
    General(usize),
}

/// A model prepared for single-image inference, with its activations.
pub struct Inference {
    steps: Vec<Step>,
    /// The model, kept when a layer runs on the general path.
    model: Option<Box<Model>>,
    /// The class probabilities when the model does not end in a softmax (softmax of the
    /// logits), else empty.
    probs: Vec<f32>,
    logits: usize,
    /// `acts[0]` is the input, `acts[i + 1]` the output of layer `i`.
    acts: Vec<Vec<f32>>,
    shapes: Vec<Vec<usize>>,
}

impl Inference {
    pub fn new(model: &Model) -> Result<Inference> {
        let shapes = model.shapes().to_vec();
        let mut steps = Vec::with_capacity(model.layers.len());
        for (i, l) in model.layers.iter().enumerate() {
            let s = &shapes[i];
            steps.push(match l {
                Layer::Conv2d {
                    weight,
                    bias,
                    params,
                    ..
                } => Step::Conv(Box::new(PreparedConv2d::new(
                    weight,
                    Some(bias),
                    params,
                    [s[0], s[1], s[2]],
                )?)),
                Layer::MaxPool2d { params } => {
                    let k = params.kernel[0];
                    let plain = *params == Pool2dParams::new([k, k]);
                    if plain {
                        Step::Pool {
                            c: s[0],
                            h: s[1],
                            w: s[2],
                            size: k,
                        }
                    } else {
                        Step::PoolGeneral {
                            params: *params,
                            shape: [s[0], s[1], s[2]],
                        }
                    }
                }
                Layer::Relu => Step::Relu,
                Layer::Flatten => Step::Copy,
                Layer::Linear { weight, bias, .. } => {
                    let (out, inp) = (weight.shape()[0], weight.shape()[1]);
                    Step::Linear {
                        // B = Wᵀ (in × out), read from W [out, in] through strides.
                        packed: PackedB::new(inp, out, weight.data(), 1, inp as isize)?,
                        bias: bias.data().to_vec(),
                    }
                }
                Layer::Softmax if shapes[i].len() == 1 => Step::Softmax,
                _ => Step::General(i),
            });
        }
        let acts = shapes
            .iter()
            .map(|s| vec![0.0f32; s.iter().product()])
            .collect();
        let general = steps.iter().any(|s| matches!(s, Step::General(_)));
        let softmax_last = matches!(model.layers.last(), Some(Layer::Softmax));
        let probs = match model.classes() {
            Some(c) if !softmax_last => vec![0.0; c],
            _ => Vec::new(),
        };
        Ok(Inference {
            steps,
            model: general.then(|| Box::new(model.clone())),
            probs,
            logits: model.logits_index(),
            acts,
            shapes,
        })
    }

    /// Runs one input (`C·H·W` finite values) through every layer.
    pub fn run(&mut self, pixels: &[f32]) -> Result<()> {
        self.check(pixels)?;
        self.acts[0].copy_from_slice(pixels);
        for i in 0..self.steps.len() {
            self.step(i)?;
        }
        self.finish();
        Ok(())
    }

    fn check(&self, pixels: &[f32]) -> Result<()> {
        let s = &self.shapes[0];
        check_input([s[0], s[1], s[2]], pixels)
    }

    /// The probabilities of a model that does not end in a softmax.
    fn finish(&mut self) {
        if !self.probs.is_empty() {
            let l = &self.acts[self.logits];
            slice::softmax_rows(l, l.len(), &mut self.probs);
        }
    }

    /// [`Inference::run`] with `clock()` read around every layer: `times[i]` receives the
    /// time layer `i` took (in the clock's unit; benchmarks only), each layer run `repeat`
    /// times in a row (it reads the previous layer's output and rewrites its own, so every run
    /// is the same work) and timed as the mean, so that layers far shorter than the clock's
    /// resolution still get a figure. `times` holds one entry per layer (extra entries are
    /// left alone); `repeat` 0 counts as 1.
    pub fn run_timed(
        &mut self,
        pixels: &[f32],
        mut clock: impl FnMut() -> f64,
        repeat: usize,
        times: &mut [f64],
    ) -> Result<()> {
        self.check(pixels)?;
        let repeat = repeat.max(1);
        self.acts[0].copy_from_slice(pixels);
        for i in 0..self.steps.len() {
            let t = clock();
            for _ in 0..repeat {
                self.step(i)?;
            }
            if let Some(slot) = times.get_mut(i) {
                *slot = (clock() - t) / repeat as f64;
            }
        }
        Ok(())
    }

    /// Number of layers (activations − 1).
    pub fn num_layers(&self) -> usize {
        self.steps.len()
    }

    /// Layer `i`: `acts[i]` → `acts[i + 1]`.
    fn step(&mut self, i: usize) -> Result<()> {
        let (before, after) = self.acts.split_at_mut(i + 1);
        let (x, y) = (&before[i][..], &mut after[0][..]);
        match &mut self.steps[i] {
            Step::Conv(c) => c.forward_into(x, y)?,
            Step::Pool { c, h, w, size } => max_pool_into(x, *c, *h, *w, *size, false, y),
            Step::PoolGeneral { params, shape } => {
                let (p, _) = max_pool2d(&Tensor::new(x.to_vec(), shape)?, params)?;
                y.copy_from_slice(p.data());
            }
            Step::Relu => slice::relu_into(x, y),
            Step::Copy => y.copy_from_slice(x),
            Step::Linear { packed, bias } => slice::linear_packed(x, packed, bias, y)?,
            Step::Softmax => slice::softmax_rows(x, x.len(), y),
            Step::General(j) => {
                let model = self.model.as_ref().expect("kept for the general steps");
                let earlier: Vec<&[f32]> = before.iter().map(|a| &a[..]).collect();
                let out = model.run_layer(*j, x, &earlier)?;
                y.copy_from_slice(&out);
            }
        }
        Ok(())
    }

    pub fn num_activations(&self) -> usize {
        self.acts.len()
    }

    /// Activation `i` (0 = input, `i` = output of layer `i − 1`), or None past the end.
    pub fn activation(&self, i: usize) -> Option<&[f32]> {
        self.acts.get(i).map(|a| &a[..])
    }

    pub fn shape(&self, i: usize) -> Option<&[usize]> {
        self.shapes.get(i).map(|s| &s[..])
    }

    /// The class probabilities (the last activation for a model that ends in a softmax);
    /// empty when the output is not a vector.
    pub fn probabilities(&self) -> &[f32] {
        if self.probs.is_empty() && self.logits == self.acts.len() - 1 {
            return &[];
        }
        if self.probs.is_empty() {
            return self.acts.last().expect("non-empty");
        }
        &self.probs
    }
}

/// One step of a [`Predictor`]: reads buffer `i`, writes buffer `i + 1`.
enum Fused {
    /// A prepared conv (bias added in its accumulators or its single pass), then optionally
    /// ReLU and a plain `size × size` pool, fused into one pass over the conv's output
    /// (`max(0, window)`: ReLU and max commute, NaN wins in both).
    Conv {
        conv: Box<PreparedConv2d>,
        relu: bool,
        /// `(c, h, w, size)` of the fused pool, and the conv's output buffer it reads.
        pool: Option<([usize; 4], Vec<f32>)>,
    },
    /// A plain pool on its own (ReLU folded in when one follows).
    Pool {
        c: usize,
        h: usize,
        w: usize,
        size: usize,
        relu: bool,
    },
    /// Any other pool geometry, through `conv::max_pool2d` (allocates).
    PoolGeneral {
        params: Pool2dParams,
        shape: [usize; 3],
    },
    Relu,
    /// A dense layer on packed weights, ReLU applied in place when one follows.
    Linear {
        packed: PackedB,
        bias: Vec<f32>,
        relu: bool,
    },
    Softmax,
}

/// A model prepared for its fastest single-image forward: [`Predictor::predict`] returns the
/// probabilities and allocates nothing (for the shipped models). Equal to [`Inference::run`]
/// within float rounding (the layers' order of operations is the same; only where ReLU
/// happens moves, which changes no value).
pub struct Predictor {
    /// A model with layers the fused path does not know runs layer by layer instead.
    fallback: Option<Box<Inference>>,
    input: [usize; 3],
    steps: Vec<Fused>,
    /// `bufs[0]` is the input, `bufs[i + 1]` the output of step `i`.
    bufs: Vec<Vec<f32>>,
}

impl Predictor {
    pub fn new(model: &Model) -> Result<Predictor> {
        // The fused path knows the shipped models' kinds, a softmax only at the end.
        let n = model.layers.len();
        let fusable = model.classes().is_some()
            && model.layers.iter().enumerate().all(|(i, l)| match l {
                Layer::Conv2d { .. }
                | Layer::MaxPool2d { .. }
                | Layer::Relu
                | Layer::Flatten
                | Layer::Linear { .. } => true,
                Layer::Softmax => i + 1 == n,
                _ => false,
            })
            && matches!(model.layers.last(), Some(Layer::Softmax));
        if !fusable {
            return Ok(Predictor {
                fallback: Some(Box::new(Inference::new(model)?)),
                input: model.input_shape(),
                steps: Vec::new(),
                bufs: Vec::new(),
            });
        }
        let shapes = model.shapes();
        let layers = &model.layers;
        let mut steps = Vec::new();
        let mut bufs = vec![vec![0.0f32; shapes[0].iter().product()]];
        let mut i = 0;
        // Whether layer `j` exists and is a ReLU / a plain square pool.
        let relu_at = |j: usize| matches!(layers.get(j), Some(Layer::Relu));
        let plain_pool = |j: usize| match layers.get(j) {
            Some(Layer::MaxPool2d { params }) => {
                let k = params.kernel[0];
                (*params == Pool2dParams::new([k, k])).then_some(k)
            }
            _ => None,
        };
        while i < layers.len() {
            let s = &shapes[i];
            let step = match &layers[i] {
                Layer::Conv2d {
                    weight,
                    bias,
                    params,
                    ..
                } => {
                    let conv = Box::new(PreparedConv2d::new(
                        weight,
                        Some(bias),
                        params,
                        [s[0], s[1], s[2]],
                    )?);
                    let relu = relu_at(i + 1);
                    let at = i + 1 + usize::from(relu);
                    let pool = plain_pool(at).map(|size| {
                        let [c, h, w] = conv.output_chw();
                        ([c, h, w, size], vec![0.0f32; conv.output_len()])
                    });
                    i = at + usize::from(pool.is_some());
                    Fused::Conv { conv, relu, pool }
                }
                Layer::MaxPool2d { params } => {
                    i += 1;
                    match plain_pool(i - 1) {
                        Some(size) => {
                            let relu = relu_at(i);
                            i += usize::from(relu);
                            Fused::Pool {
                                c: s[0],
                                h: s[1],
                                w: s[2],
                                size,
                                relu,
                            }
                        }
                        None => Fused::PoolGeneral {
                            params: *params,
                            shape: [s[0], s[1], s[2]],
                        },
                    }
                }
                Layer::Relu => {
                    i += 1;
                    Fused::Relu
                }
                Layer::Flatten => {
                    // The same floats in the same order: nothing to do.
                    i += 1;
                    continue;
                }
                Layer::Linear { weight, bias, .. } => {
                    let (out, inp) = (weight.shape()[0], weight.shape()[1]);
                    let relu = relu_at(i + 1);
                    i += 1 + usize::from(relu);
                    Fused::Linear {
                        packed: PackedB::new(inp, out, weight.data(), 1, inp as isize)?,
                        bias: bias.data().to_vec(),
                        relu,
                    }
                }
                Layer::Softmax => {
                    i += 1;
                    Fused::Softmax
                }
                _ => unreachable!("only fusable models get here"),
            };
            steps.push(step);
            // shapes[i] is now the output of the last layer this step covers
            bufs.push(vec![0.0f32; shapes[i].iter().product()]);
        }
        Ok(Predictor {
            fallback: None,
            input: model.input_shape(),
            steps,
            bufs,
        })
    }

    /// Steps after fusion (the shipped cnn: conv+relu+pool twice, fc1+relu, fc2, softmax).
    pub fn num_steps(&self) -> usize {
        self.steps.len()
    }

    /// The probabilities of one image (784 finite values).
    pub fn predict(&mut self, pixels: &[f32]) -> Result<&[f32]> {
        if let Some(inf) = &mut self.fallback {
            inf.run(pixels)?;
            return Ok(inf.probabilities());
        }
        check_input(self.input, pixels)?;
        self.bufs[0].copy_from_slice(pixels);
        for i in 0..self.steps.len() {
            let (before, after) = self.bufs.split_at_mut(i + 1);
            let (x, y) = (&before[i][..], &mut after[0][..]);
            match &mut self.steps[i] {
                Fused::Conv { conv, relu, pool } => match pool {
                    Some(([c, h, w, size], tmp)) => {
                        conv.forward_into(x, tmp)?;
                        max_pool_into(tmp, *c, *h, *w, *size, *relu, y);
                    }
                    None => {
                        conv.forward_into(x, y)?;
                        if *relu {
                            slice::relu(y);
                        }
                    }
                },
                Fused::Pool {
                    c,
                    h,
                    w,
                    size,
                    relu,
                } => max_pool_into(x, *c, *h, *w, *size, *relu, y),
                Fused::PoolGeneral { params, shape } => {
                    let (p, _) = max_pool2d(&Tensor::new(x.to_vec(), shape)?, params)?;
                    y.copy_from_slice(p.data());
                }
                Fused::Relu => slice::relu_into(x, y),
                Fused::Linear { packed, bias, relu } => {
                    slice::linear_packed(x, packed, bias, y)?;
                    if *relu {
                        slice::relu(y);
                    }
                }
                Fused::Softmax => slice::softmax_rows(x, x.len(), y),
            }
        }
        Ok(self.bufs.last().expect("the input at least"))
    }
}

/// Max pooling of one `[c, h, w]` image with a `size × size` window and stride (floor mode),
/// written into `y` without allocating; with `relu`, `max(0, window)` (the ReLU before the
/// pool, fused). (The library's [`crate::conv::max_pool2d`] also records the argmax for
/// backward, which inference does not need.)
fn max_pool_into(x: &[f32], c: usize, h: usize, w: usize, size: usize, relu: bool, y: &mut [f32]) {
    let (oh, ow) = (h / size, w / size);
    let init = if relu { 0.0 } else { f32::NEG_INFINITY };
    // NaN wins, as in the library's pool.
    let max = |a: f32, b: f32| if b > a || b.is_nan() { b } else { a };
    if size == 2 {
        for (img, out) in x
            .chunks_exact(h * w)
            .zip(y.chunks_exact_mut(oh * ow))
            .take(c)
        {
            for (oy, orow) in out.chunks_exact_mut(ow).enumerate() {
                let r0 = &img[2 * oy * w..][..2 * ow];
                let r1 = &img[(2 * oy + 1) * w..][..2 * ow];
                for ((o, a), b) in orow
                    .iter_mut()
                    .zip(r0.chunks_exact(2))
                    .zip(r1.chunks_exact(2))
                {
                    *o = max(init, max(max(a[0], a[1]), max(b[0], b[1])));
                }
            }
        }
        return;
    }
    for ch in 0..c {
        let img = &x[ch * h * w..(ch + 1) * h * w];
        let out = &mut y[ch * oh * ow..(ch + 1) * oh * ow];
        for oy in 0..oh {
            for ox in 0..ow {
                let mut m = init;
                for ky in 0..size {
                    let row = &img[(oy * size + ky) * w + ox * size..][..size];
                    for &v in row {
                        m = max(m, v);
                    }
                }
                out[oy * ow + ox] = m;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Model, Preset};
    use super::*;
    use crate::rng::Rng;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn matches_the_batched_forward() {
        let mut rng = Rng::new(2);
        for arch in Preset::ALL {
            let m = arch.init(3);
            let mut inf = Inference::new(&m).unwrap();
            for _ in 0..3 {
                let px: Vec<f32> = (0..784).map(|_| rng.unit()).collect();
                let f = m.forward(&px).unwrap();
                inf.run(&px).unwrap();
                assert_eq!(inf.num_activations(), f.activations.len());
                for (i, a) in f.activations.iter().enumerate() {
                    assert_eq!(&a.shape()[1..], inf.shape(i).unwrap());
                    for (p, q) in a.data().iter().zip(inf.activation(i).unwrap()) {
                        assert!(
                            (p - q).abs() <= 1e-4 * (1.0 + p.abs()),
                            "{arch:?} act {i}: {p} vs {q}"
                        );
                    }
                }
            }
            assert!(inf.run(&[0.0; 10]).is_err());
        }
    }

    /// The timed forward repeats each layer and divides: with a clock that ticks once per
    /// read, every layer reads 1/repeat; its activations are those of the plain forward.
    #[test]
    fn the_timed_forward_repeats_each_layer_and_keeps_the_activations() {
        let mut rng = Rng::new(5);
        let px: Vec<f32> = (0..784).map(|_| rng.unit()).collect();
        for arch in Preset::ALL {
            let m = arch.init(4);
            let mut inf = Inference::new(&m).unwrap();
            inf.run(&px).unwrap();
            let want: Vec<Vec<f32>> = (0..inf.num_activations())
                .map(|i| inf.activation(i).unwrap().to_vec())
                .collect();
            for repeat in [0, 1, 4] {
                let n = inf.num_layers();
                let mut times = vec![-1.0; n + 1];
                let mut tick = 0.0;
                let clock = || {
                    tick += 1.0;
                    tick
                };
                inf.run_timed(&px, clock, repeat, &mut times).unwrap();
                let per = 1.0 / repeat.max(1) as f64;
                assert!(
                    times[..n].iter().all(|&t| t == per),
                    "{arch:?} repeat {repeat}: {times:?}"
                );
                assert_eq!(times[n], -1.0, "an extra entry is left alone");
                for (i, w) in want.iter().enumerate() {
                    assert_eq!(inf.activation(i).unwrap(), &w[..], "{arch:?} act {i}");
                }
            }
        }
    }

    /// The fused forward gives the kept-activations forward's probabilities, for every
    /// architecture (random weights), the shipped cnn (its real weights) and every micro-kernel
    /// this build has; the cnn fuses to five steps.
    #[test]
    fn the_fused_forward_equals_the_layer_by_layer_one() {
        use crate::gemm::{available_kernels, with_forced};
        let mut rng = Rng::new(5);
        let shipped =
            Model::from_safetensors(include_bytes!("../../../data/models/cnn.safetensors"))
                .unwrap();
        let mut models: Vec<Model> = Preset::ALL.iter().map(|&a| a.init(7)).collect();
        models.push(shipped);
        for m in &models {
            let mut inf = Inference::new(m).unwrap();
            let mut pred = Predictor::new(m).unwrap();
            if m.preset() == Some(Preset::Cnn) {
                assert_eq!(pred.num_steps(), 5);
            }
            for &kind in available_kernels() {
                with_forced(kind, || {
                    for _ in 0..3 {
                        let px: Vec<f32> = (0..784).map(|_| rng.unit()).collect();
                        inf.run(&px).unwrap();
                        let want = inf.probabilities().to_vec();
                        let got = pred.predict(&px).unwrap();
                        assert_eq!(got.len(), 10);
                        for (g, w) in got.iter().zip(&want) {
                            assert!(
                                (g - w).abs() <= 1e-5,
                                "{:?} {kind:?}: {got:?} vs {want:?}",
                                m.preset()
                            );
                        }
                    }
                });
            }
            assert!(pred.predict(&[0.0; 10]).is_err());
            let mut bad = vec![0.5; 784];
            bad[3] = f32::NAN;
            assert!(pred.predict(&bad).is_err());
        }
    }

    #[test]
    fn the_fused_relu_pool_is_relu_then_pool() {
        let mut rng = Rng::new(6);
        let (c, h, w) = (3, 6, 8);
        let x: Vec<f32> = (0..c * h * w).map(|_| rng.unit() * 2.0 - 1.0).collect();
        for size in [2, 3] {
            let (oh, ow) = (h / size, w / size);
            let mut r = vec![0.0; x.len()];
            slice::relu_into(&x, &mut r);
            let mut want = vec![f32::NAN; c * oh * ow];
            max_pool_into(&r, c, h, w, size, false, &mut want);
            let mut got = vec![f32::NAN; c * oh * ow];
            max_pool_into(&x, c, h, w, size, true, &mut got);
            assert_eq!(got, want, "size {size}");
            assert!(got.iter().all(|&v| v >= 0.0));
        }
    }
}
