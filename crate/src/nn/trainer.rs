//! Training one batch at a time: the loop the command-line trainer and the page's Train scene
//! share. A [`Trainer`] owns a model, an optimiser and its place in the epoch; each step draws
//! the next batch (a seeded shuffle per epoch), computes the gradients and applies them.
//!
//! Data-parallel training splits each batch into shards: every worker holds an identical
//! trainer (same settings, same seed), computes [`Trainer::shard_gradients`] for its own shard
//! of the same batch, and every worker then applies the same [`Trainer::apply`] of all shards
//! in the same order, so their weights stay bit-for-bit equal. Augmentation draws from a
//! generator seeded by (seed, epoch, sample), so a sample is distorted the same way whichever
//! worker takes it.

use std::borrow::Cow;

use super::history::{self, History, Moment};
use super::optim::Broken;
use super::spec::Spec;
use super::{argmax, layers, Adam, Grads, Layer, Model, Optimizer, Preset, Sgd};
use crate::error::{Error, Result};
use crate::mnist::{augment, Augment, Dataset, PIXELS};
use crate::ops::slice::all_finite;
use crate::rng::Rng;
use crate::tensor::Tensor;

/// Which optimiser updates the weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptimizerKind {
    /// Plain stochastic gradient descent: w ← w − lr·g.
    Sgd,
    /// SGD with heavy-ball momentum 0.9.
    Momentum,
    /// Adam (β₁ 0.9, β₂ 0.999).
    Adam,
}

impl OptimizerKind {
    pub const ALL: [OptimizerKind; 3] = [
        OptimizerKind::Sgd,
        OptimizerKind::Momentum,
        OptimizerKind::Adam,
    ];

    pub fn name(self) -> &'static str {
        match self {
            OptimizerKind::Sgd => "sgd",
            OptimizerKind::Momentum => "momentum",
            OptimizerKind::Adam => "adam",
        }
    }

    pub fn from_name(s: &str) -> Result<OptimizerKind> {
        OptimizerKind::ALL
            .into_iter()
            .find(|o| o.name() == s)
            .ok_or_else(|| Error::param("optimizer", s, "must be one of sgd, momentum, adam"))
    }

    fn build(self, lr: f32) -> Box<dyn Optimizer> {
        match self {
            OptimizerKind::Sgd => Box::new(Sgd::new(lr, 0.0)),
            OptimizerKind::Momentum => Box::new(Sgd::new(lr, 0.9)),
            OptimizerKind::Adam => Box::new(Adam::new(lr)),
        }
    }
}

/// How the learning rate moves over training.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Schedule {
    /// The same rate at every step.
    Constant,
    /// From `lr` down a cosine to `lr * final_fraction` at the end of `epochs` epochs.
    Cosine { epochs: usize, final_fraction: f32 },
}

/// Where the weights start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Init {
    /// Every weight zero (right for the slp: each template starts blank).
    Zeros,
    /// He-uniform weights from `seed` ([`Model::init`]), scaled by `scale` (1 = He's bound;
    /// smaller leaves less of the random start in the trained weights).
    Seeded { seed: u64, scale: f32 },
}

impl Init {
    /// He-uniform from `seed`, at He's bound.
    pub fn seeded(seed: u64) -> Init {
        Init::Seeded { seed, scale: 1.0 }
    }

    /// A model of `spec` starting here.
    pub fn model(self, spec: &Spec) -> Result<Model> {
        Ok(match self {
            Init::Zeros => Model::new(spec)?,
            Init::Seeded { seed, scale } => {
                let mut m = Model::init(spec, seed)?;
                if scale != 1.0 {
                    for (w, _) in m.params_mut() {
                        for v in w.data_mut() {
                            *v *= scale;
                        }
                    }
                }
                m
            }
        })
    }
}

/// Everything that decides a training run.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The architecture trained.
    pub spec: Spec,
    pub optimizer: OptimizerKind,
    pub lr: f32,
    pub batch: usize,
    pub schedule: Schedule,
    /// Distortions applied to each training sample (`None` = the images as they are).
    pub augment: Option<Augment>,
    pub init: Init,
    /// Seeds the shuffles and the augmentation.
    pub seed: u64,
}

/// The largest batch a step takes (MNIST has 60,000 training images).
pub const MAX_BATCH: usize = 60_000;
/// The largest learning rate accepted.
pub const MAX_LR: f32 = 10.0;

impl Settings {
    /// The page's defaults for `arch` (the Train scene's, `www/js/scenes/train.js`): the slp as
    /// the templates article trains it (plain SGD, lr 0.1, from zeros, no augmentation), the
    /// mlp with the same SGD from a seeded start, the cnn with Adam 3e-3 from a seeded start.
    pub fn for_page(arch: Preset) -> Settings {
        let (optimizer, lr, init) = match arch {
            Preset::Slp => (OptimizerKind::Sgd, 0.1, Init::Zeros),
            Preset::Mlp => (OptimizerKind::Sgd, 0.1, Init::seeded(1)),
            Preset::Cnn => (OptimizerKind::Adam, 3e-3, Init::seeded(1)),
        };
        Settings {
            spec: arch.spec(),
            optimizer,
            lr,
            batch: 64,
            schedule: Schedule::Constant,
            augment: None,
            init,
            seed: 1,
        }
    }

    /// Checks every value, naming the first one that is wrong.
    pub fn check(&self) -> Result<()> {
        if self.batch == 0 || self.batch > MAX_BATCH {
            return Err(Error::param(
                "batch",
                self.batch,
                format!("must be 1..{MAX_BATCH}"),
            ));
        }
        if !(self.lr.is_finite() && self.lr > 0.0 && self.lr <= MAX_LR) {
            return Err(Error::param(
                "lr",
                self.lr,
                format!("must be a number above 0 and at most {MAX_LR}"),
            ));
        }
        if let Schedule::Cosine {
            epochs,
            final_fraction,
        } = self.schedule
        {
            if epochs == 0 {
                return Err(Error::param("epochs", epochs, "must be at least 1"));
            }
            if !(0.0..=1.0).contains(&final_fraction) {
                return Err(Error::param(
                    "final_fraction",
                    final_fraction,
                    "must be in 0..1",
                ));
            }
        }
        Ok(())
    }
}

/// The gradients of one shard of a batch, with what the shard's forward pass saw.
#[derive(Debug, Clone)]
pub struct ShardGrads {
    /// Mean gradients over the shard's samples, one (dW, db) per parameterised layer.
    pub grads: Grads,
    /// Samples in the shard.
    pub count: usize,
    /// Sum of the samples' cross-entropy losses.
    pub loss_sum: f64,
    /// Samples the model classified correctly before the update.
    pub correct: usize,
}

impl ShardGrads {
    /// The gradients of an empty shard: zeros, with a count of 0.
    pub fn empty(model: &Model) -> ShardGrads {
        ShardGrads {
            grads: model
                .layers
                .iter()
                .filter_map(|l| l.params())
                .map(|(_, w, b)| {
                    (
                        Tensor::zeros(w.shape()).expect("a parameter's shape"),
                        Tensor::zeros(b.shape()).expect("a parameter's shape"),
                    )
                })
                .collect(),
            count: 0,
            loss_sum: 0.0,
            correct: 0,
        }
    }

    /// One flat array: `[count, loss_sum, correct, dW₁…, db₁…, dW₂…, …]` (how a worker sends it).
    pub fn to_flat(&self) -> Vec<f32> {
        let mut v = vec![self.count as f32, self.loss_sum as f32, self.correct as f32];
        for (w, b) in &self.grads {
            v.extend_from_slice(w.data());
            v.extend_from_slice(b.data());
        }
        v
    }

    /// Reads [`ShardGrads::to_flat`] back for `model`, checking its length and counts.
    pub fn from_flat(model: &Model, flat: &[f32]) -> Result<ShardGrads> {
        let shapes: Vec<(Vec<usize>, Vec<usize>)> = model
            .layers
            .iter()
            .filter_map(|l| l.params())
            .map(|(_, w, b)| (w.shape().to_vec(), b.shape().to_vec()))
            .collect();
        let want = 3 + shapes
            .iter()
            .map(|(w, b)| w.iter().product::<usize>() + b.iter().product::<usize>())
            .sum::<usize>();
        if flat.len() != want {
            return Err(Error::shape(format!(
                "gradients for this model must be {want} values (3 counts and {} parameters), got {}",
                want - 3,
                flat.len()
            )));
        }
        let whole = |x: f32, name: &'static str| -> Result<usize> {
            if x.is_finite() && x >= 0.0 && x.fract() == 0.0 && x <= MAX_BATCH as f32 {
                Ok(x as usize)
            } else {
                Err(Error::param(name, x, "must be a whole count of samples"))
            }
        };
        let count = whole(flat[0], "count")?;
        let correct = whole(flat[2], "correct")?;
        if correct > count {
            return Err(Error::param(
                "correct",
                correct,
                format!("is more than the shard's {count} samples"),
            ));
        }
        let mut at = 3;
        let mut grads = Vec::with_capacity(shapes.len());
        for (ws, bs) in shapes {
            let (nw, nb) = (ws.iter().product::<usize>(), bs.iter().product::<usize>());
            let w = Tensor::new(flat[at..at + nw].to_vec(), &ws)?;
            let b = Tensor::new(flat[at + nw..at + nw + nb].to_vec(), &bs)?;
            at += nw + nb;
            grads.push((w, b));
        }
        Ok(ShardGrads {
            grads,
            count,
            loss_sum: flat[1] as f64,
            correct,
        })
    }
}

/// Where training stands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Status {
    /// The epoch under way (0-based) and samples done in it, of `per_epoch`.
    pub epoch: usize,
    pub done: usize,
    pub per_epoch: usize,
    /// Samples and steps since the start.
    pub samples: u64,
    pub steps: u64,
    /// The learning rate of the last step.
    pub lr: f32,
    /// The last batch's mean loss and accuracy.
    pub batch_loss: f32,
    pub batch_accuracy: f32,
    /// Running mean loss and accuracy over this epoch's batches so far.
    pub epoch_loss: f32,
    pub epoch_accuracy: f32,
}

/// A batch drawn from the epoch's order: which samples, in which epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub epoch: usize,
    pub indices: Vec<u32>,
}

impl Batch {
    /// Shard `k` of `shards`: a contiguous slice, the sizes differing by at most one.
    pub fn shard(&self, k: usize, shards: usize) -> &[u32] {
        let n = self.indices.len();
        &self.indices[k * n / shards..(k + 1) * n / shards]
    }
}

/// A model being trained, its optimiser and its place in the data.
pub struct Trainer {
    pub model: Model,
    settings: Settings,
    opt: Box<dyn Optimizer>,
    per_epoch: usize,
    order: Vec<u32>,
    epoch: usize,
    pos: usize,
    samples: u64,
    steps: u64,
    lr: f32,
    batch_loss: f32,
    batch_accuracy: f32,
    epoch_loss: f64,
    epoch_correct: usize,
    epoch_seen: usize,
    /// The first weighted layer's weight gradient of the last batch (none before the first).
    last_grad: Option<Tensor>,
    /// The kept moments of the run, when asked for (`keep_history`).
    history: Option<History>,
}

/// Whether `model` can learn MNIST here: 1×28×28 input, ten classes out.
pub fn check_trainable(model: &Model) -> Result<()> {
    if model.input_shape() != [1, 28, 28] {
        return Err(Error::param(
            "model",
            model.input_shape(),
            "the trainer learns MNIST: the model's input must be [1, 28, 28]",
        ));
    }
    match model.classes() {
        Some(10) => Ok(()),
        _ => Err(Error::param(
            "model",
            &model.shapes()[model.logits_index()],
            "the trainer learns MNIST's ten digits: the model must end in 10 values (a linear layer of 10, then softmax or log softmax if any)",
        )),
    }
}

/// A generator for (seed, stream, index) that does not depend on any other draw.
fn rng_for(seed: u64, stream: u64, index: u64) -> Rng {
    Rng::new(
        seed.wrapping_mul(0x9e37_79b9_7f4a_7c15)
            ^ stream.wrapping_mul(0xbf58_476d_1ce4_e5b9)
            ^ index.wrapping_mul(0x94d0_49bb_1331_11eb),
    )
}

impl Trainer {
    /// A trainer for `settings` over a training set of `per_epoch` samples; the model starts
    /// as `settings.init` says.
    pub fn new(settings: Settings, per_epoch: usize) -> Result<Trainer> {
        let model = settings.init.model(&settings.spec)?;
        Trainer::with_model(model, settings, per_epoch)
    }

    /// A trainer that continues from `model` (its architecture wins over `settings.spec`).
    /// The model must be a classifier of ten classes (MNIST's digits) on 1×28×28 images.
    pub fn with_model(model: Model, mut settings: Settings, per_epoch: usize) -> Result<Trainer> {
        check_trainable(&model)?;
        settings.spec = model.spec();
        settings.check()?;
        if per_epoch == 0 || per_epoch > u32::MAX as usize {
            return Err(Error::param(
                "dataset",
                per_epoch,
                "must hold at least one sample",
            ));
        }
        let mut t = Trainer {
            model,
            opt: settings.optimizer.build(settings.lr),
            lr: settings.lr,
            settings,
            per_epoch,
            order: (0..per_epoch as u32).collect(),
            epoch: 0,
            pos: 0,
            samples: 0,
            steps: 0,
            batch_loss: f32::NAN,
            batch_accuracy: f32::NAN,
            epoch_loss: 0.0,
            epoch_correct: 0,
            epoch_seen: 0,
            last_grad: None,
            history: None,
        };
        t.shuffle();
        Ok(t)
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    fn shuffle(&mut self) {
        self.order = (0..self.per_epoch as u32).collect();
        rng_for(self.settings.seed, 1, self.epoch as u64).shuffle(&mut self.order);
    }

    /// The next batch of the epoch (the last one of an epoch may be shorter); moves on.
    pub fn next_batch(&mut self) -> Batch {
        if self.pos >= self.per_epoch {
            self.epoch += 1;
            self.pos = 0;
            self.epoch_loss = 0.0;
            self.epoch_correct = 0;
            self.epoch_seen = 0;
            self.shuffle();
        }
        let end = (self.pos + self.settings.batch).min(self.per_epoch);
        let b = Batch {
            epoch: self.epoch,
            indices: self.order[self.pos..end].to_vec(),
        };
        self.pos = end;
        b
    }

    /// The inputs for `indices` of `batch`'s epoch, augmented when the settings say so: runs of
    /// images shared out among the free threads (each image is made by itself, so the cut
    /// changes nothing).
    pub fn inputs(&self, data: &Dataset, epoch: usize, indices: &[u32]) -> Result<Tensor> {
        use crate::threadpool::{tasks_for, try_for_each, Chunks};
        if let Some(&i) = indices.iter().find(|&&i| i as usize >= data.len()) {
            return Err(Error::param(
                "dataset",
                data.len(),
                format!(
                    "holds fewer samples than the trainer's {} (no sample {i})",
                    self.per_epoch
                ),
            ));
        }
        let mut x = vec![0.0f32; indices.len() * PIXELS];
        // A pixel scaled costs about as long as 16 of the GEMM's multiply-adds; augmented
        // (a bilinear warp), four times that.
        let work = match self.settings.augment {
            Some(_) => 64,
            None => 16,
        } * PIXELS;
        let parts = Chunks::for_work(
            indices.len(),
            1,
            work,
            tasks_for(indices.len().saturating_mul(work)),
        );
        let items: Vec<(&[u32], &mut [f32])> = indices
            .chunks(parts.chunk)
            .zip(x.chunks_mut(parts.chunk * PIXELS))
            .collect();
        try_for_each(items, &|_, (indices, x)| {
            data.touch(indices);
            let mut img = [0.0f32; PIXELS];
            for (&i, dst) in indices.iter().zip(x.chunks_exact_mut(PIXELS)) {
                let i = i as usize;
                match &self.settings.augment {
                    Some(a) => {
                        data.image_f32(i, &mut img);
                        let mut rng = rng_for(self.settings.seed, 2 + epoch as u64, i as u64);
                        augment(&img, dst, a, &mut rng)
                    }
                    None => data.image_f32(i, dst),
                }
            }
            Ok(())
        })?;
        Tensor::new(x, &[indices.len(), 1, 28, 28])
    }

    /// The gradients of the loss over `indices` (one shard of a batch of `epoch`).
    pub fn shard_gradients(
        &self,
        data: &Dataset,
        epoch: usize,
        indices: &[u32],
    ) -> Result<ShardGrads> {
        if indices.is_empty() {
            return Err(Error::param("shard", 0, "holds no samples"));
        }
        if data.len() != self.per_epoch {
            return Err(Error::param(
                "dataset",
                data.len(),
                format!(
                    "must be the {} samples the trainer was made for",
                    self.per_epoch
                ),
            ));
        }
        let x = self.inputs(data, epoch, indices)?;
        let labels: Vec<u8> = indices.iter().map(|&i| data.labels[i as usize]).collect();
        let b = labels.len();
        let trace = self.model.forward_batch(x)?;
        let p = self
            .model
            .batch_probabilities(&trace.acts)
            .ok_or_else(|| Error::shape("the model's output is not a vector of classes"))?;
        let mut d = vec![0.0f32; b * 10];
        let loss = layers::cross_entropy(&p, &labels, 10, &mut d);
        let correct = p
            .chunks_exact(10)
            .zip(&labels)
            .filter(|(row, &l)| argmax(row) == l as usize)
            .count();
        let grads = self.model.backward(&trace, Tensor::new(d, &[b, 10])?)?;
        Ok(ShardGrads {
            grads,
            count: b,
            loss_sum: loss as f64 * b as f64,
            correct,
        })
    }

    fn lr_at(&self, step: u64) -> f32 {
        match self.settings.schedule {
            Schedule::Constant => self.settings.lr,
            Schedule::Cosine {
                epochs,
                final_fraction: f,
            } => {
                let total = (epochs * self.per_epoch.div_ceil(self.settings.batch)) as f32;
                let t = ((step as f32 + 0.5) / total).min(1.0);
                self.settings.lr * (f + (1.0 - f) * 0.5 * (1.0 + (std::f32::consts::PI * t).cos()))
            }
        }
    }

    /// Applies one update: the mean of `shards`' gradients weighted by their sample counts,
    /// summed in the order given (so every worker that applies the same shards gets the same
    /// weights).
    pub fn apply(&mut self, shards: &[ShardGrads]) -> Result<Status> {
        let summed = self.update(shards)?;
        // The first weighted layer's gradient stays for the page (the sum moved, one shard's
        // copied).
        let first = match summed {
            Some(mean) => mean.into_iter().next().map(|(w, _)| w),
            None => shards[0].grads.first().map(|(w, _)| w.clone()),
        };
        Ok(self.updated(shards, first))
    }

    /// [`Trainer::apply`] of shards the caller gives away: one shard's first gradient is
    /// kept for the page as it is (the mlp's is 100k floats), not copied.
    fn apply_owned(&mut self, mut shards: Vec<ShardGrads>) -> Result<Status> {
        let summed = self.update(&shards)?;
        let first = match summed {
            Some(mean) => mean.into_iter().next().map(|(w, _)| w),
            None => match shards[0].grads.is_empty() {
                true => None,
                false => Some(shards[0].grads.swap_remove(0).0),
            },
        };
        Ok(self.updated(&shards, first))
    }

    /// The update of [`Trainer::apply`], checked: the weights and the optimiser change, or
    /// nothing does. Returns the weighted sum when there was more than one shard.
    fn update(&mut self, shards: &[ShardGrads]) -> Result<Option<Grads>> {
        let total: usize = shards.iter().map(|s| s.count).sum();
        if total == 0 {
            return Err(Error::param("shards", 0, "hold no samples"));
        }
        let nparam = self.model.params_mut().len();
        if let Some(bad) = shards.iter().find(|s| s.grads.len() != nparam) {
            return Err(Error::shape(format!(
                "gradients for {} layers, the model has {nparam}",
                bad.grads.len()
            )));
        }
        // Non-finite gradients or losses would turn every weight into NaN (and the trainer's
        // own file would no longer load): refused, naming the shard and the layer.
        let names = self.param_names();
        for (i, s) in shards.iter().enumerate() {
            if !s.loss_sum.is_finite() || s.loss_sum < 0.0 {
                return Err(Error::param(
                    "loss",
                    s.loss_sum,
                    format!("of shard {i} must be a finite number ≥ 0: the training diverged (try a smaller learning rate)"),
                ));
            }
            if s.correct > s.count {
                return Err(Error::param(
                    "correct",
                    s.correct,
                    format!("of shard {i} is more than its {} samples", s.count),
                ));
            }
            for (layer, (w, b)) in s.grads.iter().enumerate() {
                if !all_finite(w.data()) || !all_finite(b.data()) {
                    return Err(Error::param(
                        "grads",
                        format_args!("shard {i}"),
                        format!(
                            "its gradients of layer {} hold NaN or infinite values: the training diverged (try a smaller learning rate); the weights are unchanged",
                            names.get(layer).map_or("?", String::as_str)
                        ),
                    ));
                }
            }
        }
        // One shard's mean is its gradient (0 + 1·g is g): used as it is, not summed.
        let summed: Option<Grads> = match shards {
            [_] => None,
            _ => {
                let mut mean: Grads = shards[0]
                    .grads
                    .iter()
                    .map(|(w, b)| Ok((Tensor::zeros(w.shape())?, Tensor::zeros(b.shape())?)))
                    .collect::<Result<_>>()?;
                for s in shards {
                    let f = s.count as f32 / total as f32;
                    for ((mw, mb), (w, b)) in mean.iter_mut().zip(&s.grads) {
                        if mw.shape() != w.shape() || mb.shape() != b.shape() {
                            return Err(Error::shape("the shards' gradients differ in shape"));
                        }
                        for (m, g) in mw.data_mut().iter_mut().zip(w.data()) {
                            *m += f * g;
                        }
                        for (m, g) in mb.data_mut().iter_mut().zip(b.data()) {
                            *m += f * g;
                        }
                    }
                }
                Some(mean)
            }
        };
        let mean: &Grads = summed.as_ref().unwrap_or(&shards[0].grads);
        {
            let params = self.model.params_mut();
            for ((w, b), (gw, gb)) in params.iter().zip(mean) {
                if w.shape() != gw.shape() || b.shape() != gb.shape() {
                    return Err(Error::shape(format!(
                        "gradient {:?} does not match its parameter {:?}",
                        gw.shape(),
                        w.shape()
                    )));
                }
            }
        }
        let lr_before = self.lr;
        self.lr = self.lr_at(self.steps);
        // Finite gradients can still make a weight infinite (3e38 at a learning rate of 10):
        // the optimiser then changes nothing (weights and state), and the step is refused
        // naming the layer.
        self.opt.set_lr(self.lr);
        if let Err(broken) = self.opt.step(self.model.params_mut(), mean) {
            self.opt.set_lr(lr_before);
            let lr = std::mem::replace(&mut self.lr, lr_before);
            return Err(Error::param(
                "grads",
                format_args!(
                    "{} shard{}",
                    shards.len(),
                    if shards.len() == 1 { "" } else { "s" }
                ),
                format!(
                    "this step would make {} NaN or infinite (learning rate {lr}): the training diverged (try a smaller learning rate); the weights are unchanged",
                    match broken {
                        Broken::Layer(layer) => format!(
                            "the weights of layer {}",
                            names.get(layer).map_or("?", String::as_str)
                        ),
                        Broken::State => format!("the {} optimiser's moments", self.settings.optimizer.name()),
                    }
                ),
            ));
        }
        Ok(summed)
    }

    /// The bookkeeping after an update of `shards` (counts, losses, the step, the history):
    /// `first` is the first weighted layer's gradient, kept for the page.
    fn updated(&mut self, shards: &[ShardGrads], first: Option<Tensor>) -> Status {
        let total: usize = shards.iter().map(|s| s.count).sum();
        self.last_grad = first;
        let loss_sum: f64 = shards.iter().map(|s| s.loss_sum).sum();
        let correct: usize = shards.iter().map(|s| s.correct).sum();
        self.batch_loss = (loss_sum / total as f64) as f32;
        self.batch_accuracy = correct as f32 / total as f32;
        self.epoch_loss += loss_sum;
        self.epoch_correct += correct;
        self.epoch_seen += total;
        self.samples += total as u64;
        self.steps += 1;
        self.remember();
        self.status()
    }

    /// The names of the parameterised layers, in the order of their gradients.
    fn param_names(&self) -> Vec<String> {
        self.model
            .layers
            .iter()
            .filter_map(|l| l.params().map(|(name, _, _)| name.to_string()))
            .collect()
    }

    /// Keeps this moment in the history, when one is kept and the moment is due.
    fn remember(&mut self) {
        if let Some(h) = &mut self.history {
            h.record(
                &mut self.model,
                self.last_grad.as_ref().map(|g| g.data()),
                self.steps,
                self.samples,
                (self.epoch, self.pos),
                (self.batch_loss, self.batch_accuracy),
            );
        }
    }

    /// From now on keeps the run's history (see `nn::history`): this moment first.
    pub fn keep_history(&mut self) {
        if self.history.is_none() {
            self.history = Some(History::for_model(&self.model));
            self.remember();
        }
    }

    /// The run's kept moments (`None`: not kept, see `keep_history`).
    pub fn history(&self) -> Option<&History> {
        self.history.as_ref()
    }

    fn moment(&self, at: usize) -> Result<&Moment> {
        match &self.history {
            Some(h) => h.get(at),
            None => Err(Error::param(
                "at",
                at,
                "names no moment: this trainer keeps no history (make it with { history: true })",
            )),
        }
    }

    /// The model at kept moment `at`, or now (`None`).
    pub fn model_at(&self, at: Option<usize>) -> Result<Cow<'_, Model>> {
        match at {
            None => Ok(Cow::Borrowed(&self.model)),
            Some(at) => Ok(Cow::Owned(self.moment(at)?.model(&self.model)?)),
        }
    }

    /// The first weighted layer's weight gradient of the batch before moment `at` (or the
    /// last batch): zeros before any training.
    pub fn first_grad_at(&self, at: Option<usize>) -> Result<Vec<f32>> {
        match at {
            Some(at) => Ok(self.moment(at)?.grad().to_vec()),
            None => Ok(match &self.last_grad {
                Some(g) => g.data().to_vec(),
                None => vec![0.0; history::first_weighted(&self.model).map_or(0, |f| f.2)],
            }),
        }
    }

    /// Goes back to kept moment `at` and trains on from there: its weights, its place in the
    /// data (the same batches follow, so plain SGD retraces the run exactly), the moments
    /// after it dropped. The optimiser's running state (momentum, Adam's averages) starts
    /// again: it is not kept.
    pub fn rewind(&mut self, at: usize) -> Result<Status> {
        let m = self.moment(at)?.clone();
        history::set_params(&mut self.model, m.params())?;
        self.steps = m.steps;
        self.samples = m.samples;
        self.epoch = m.epoch;
        self.pos = m.done;
        self.shuffle();
        self.batch_loss = m.batch_loss;
        self.batch_accuracy = m.batch_accuracy;
        (self.epoch_loss, self.epoch_correct, self.epoch_seen) = (0.0, 0, 0);
        self.last_grad = if m.steps == 0 {
            None
        } else {
            // The first weighted layer's shape (a model without weights keeps no gradient).
            let shape = self
                .model
                .params_mut()
                .first()
                .map(|(w, _)| w.shape().to_vec());
            match shape {
                Some(shape) => Some(Tensor::new(m.grad().to_vec(), &shape)?),
                None => None,
            }
        };
        self.lr = self.lr_at(self.steps);
        self.opt = self.settings.optimizer.build(self.lr);
        if let Some(h) = &mut self.history {
            h.truncate_after(at);
        }
        Ok(self.status())
    }

    /// One whole step on one worker: the next batch, its gradients, the update. With more than
    /// one thread (the threaded wasm build), a model with a convolution splits its batch into
    /// as many shards as threads, their gradients computed at once and applied as
    /// [`Trainer::apply`] applies the shards of that many workers: the same update, summed in
    /// the same order, as `threads` workers make. A model without one keeps its batch whole
    /// and its products split inside (bit for bit the one-thread step): shards would halve
    /// each product and pack the same weights once per shard (the mlp on 2 threads, Chromium:
    /// 67–72k samples/s whole against 58–60k in shards; the cnn: 12k in shards against 8k).
    pub fn step(&mut self, data: &Dataset) -> Result<Status> {
        let shards = if self
            .model
            .layers
            .iter()
            .any(|l| matches!(l, Layer::Conv2d { .. } | Layer::ConvTranspose2d { .. }))
        {
            crate::threadpool::threads()
        } else {
            1
        };
        self.step_in_shards(data, shards)
    }

    /// [`Trainer::step`] with the batch split into `shards` (at most one per sample), computed
    /// by the thread pool's tasks.
    pub(crate) fn step_in_shards(&mut self, data: &Dataset, shards: usize) -> Result<Status> {
        let b = self.next_batch();
        let shards = shards.min(b.indices.len()).max(1);
        if shards == 1 {
            let g = self.shard_gradients(data, b.epoch, &b.indices)?;
            return self.apply_owned(vec![g]);
        }
        // One slot per shard, each written by its own task only (so its lock never waits).
        let slots: Vec<std::sync::Mutex<Option<Result<ShardGrads>>>> =
            (0..shards).map(|_| std::sync::Mutex::new(None)).collect();
        let this = &*self;
        crate::threadpool::parallel_for(shards, &|k| {
            let g = this.shard_gradients(data, b.epoch, b.shard(k, shards));
            if let Ok(mut slot) = slots[k].lock() {
                *slot = Some(g);
            }
        });
        let mut grads = Vec::with_capacity(shards);
        for slot in slots {
            match slot.into_inner().ok().flatten() {
                Some(g) => grads.push(g?),
                None => return Err(Error::shape("a shard of the batch was not computed")),
            }
        }
        self.apply_owned(grads)
    }

    pub fn status(&self) -> Status {
        let seen = self.epoch_seen.max(1);
        Status {
            epoch: self.epoch,
            done: self.pos,
            per_epoch: self.per_epoch,
            samples: self.samples,
            steps: self.steps,
            lr: self.lr,
            batch_loss: self.batch_loss,
            batch_accuracy: self.batch_accuracy,
            epoch_loss: if self.epoch_seen == 0 {
                f32::NAN
            } else {
                (self.epoch_loss / seen as f64) as f32
            },
            epoch_accuracy: if self.epoch_seen == 0 {
                f32::NAN
            } else {
                self.epoch_correct as f32 / seen as f32
            },
        }
    }
}

/// Images per forward pass of [`evaluate`]: few enough that a chunk's activations stay in a
/// core's cache (the cnn keeps about 60 KB per image), and the same cut at any thread count, so
/// the result does not depend on it. 50 images are over 2¹⁸ multiply-adds for every MNIST
/// preset (the slp's: 392k), worth a task of their own.
const EVAL_CHUNK: usize = 50;

/// Mean loss and accuracy of `model` on the first `n` samples of `data` (all when `n` is
/// larger), in chunks of 50 images (`EVAL_CHUNK`) shared out among the free threads (runs of
/// consecutive chunks), their sums added in chunk order.
pub fn evaluate(model: &Model, data: &Dataset, n: usize) -> Result<(f32, f32)> {
    use crate::threadpool::{tasks_for, try_for_each, Chunks, MIN_TASK_WORK};
    check_trainable(model)?;
    let n = n.min(data.len());
    if n == 0 {
        return Err(Error::param("count", 0, "must be at least 1"));
    }
    let chunks = n.div_ceil(EVAL_CHUNK);
    let mut sums = vec![(0.0f64, 0usize); chunks];
    let parts = Chunks::new(chunks, 1, tasks_for(chunks.saturating_mul(MIN_TASK_WORK)));
    let items: Vec<(usize, &mut [(f64, usize)])> = sums
        .chunks_mut(parts.chunk)
        .enumerate()
        .map(|(i, s)| (i * parts.chunk, s))
        .collect();
    try_for_each(items, &|_, (first, slots)| {
        for (j, slot) in slots.iter_mut().enumerate() {
            let start = (first + j) * EVAL_CHUNK;
            *slot = evaluate_chunk(model, data, start, (start + EVAL_CHUNK).min(n))?;
        }
        Ok(())
    })?;
    let (loss, correct) = sums
        .iter()
        .fold((0.0f64, 0usize), |(l, c), &(dl, dc)| (l + dl, c + dc));
    Ok(((loss / n as f64) as f32, correct as f32 / n as f32))
}

/// The summed loss and the count of right answers of `model` on samples `start .. end`.
fn evaluate_chunk(model: &Model, data: &Dataset, start: usize, end: usize) -> Result<(f64, usize)> {
    let mut x = vec![0.0f32; (end - start) * PIXELS];
    for (i, img) in (start..end).zip(x.chunks_exact_mut(PIXELS)) {
        data.image_f32(i, img);
    }
    let t = model.forward_batch(Tensor::new(x, &[end - start, 1, 28, 28])?)?;
    let p = model
        .batch_probabilities(&t.acts)
        .ok_or_else(|| Error::shape("the model's output is not a vector of classes"))?;
    let labels = &data.labels[start..end];
    let mut d = vec![0.0f32; p.len()];
    let loss = layers::cross_entropy(&p, labels, 10, &mut d) as f64 * labels.len() as f64;
    let correct = p
        .chunks_exact(10)
        .zip(labels)
        .filter(|(row, &l)| argmax(row) == l as usize)
        .count();
    Ok((loss, correct))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mnist::Images;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// A small synthetic set: each class a bright bar in its own place, with noise.
    fn toy(n: usize, seed: u64) -> Dataset {
        let mut rng = Rng::new(seed);
        let mut pixels = vec![0u8; n * PIXELS];
        let mut labels = Vec::with_capacity(n);
        for i in 0..n {
            let c = i % 10;
            labels.push(c as u8);
            let img = &mut pixels[i * PIXELS..(i + 1) * PIXELS];
            for (k, p) in img.iter_mut().enumerate() {
                let (r, col) = (k / 28, k % 28);
                let on = r >= 2 + 2 * c && r < 4 + 2 * c && (4..24).contains(&col);
                *p = if on { 200 } else { 0 } + rng.below(40) as u8;
            }
        }
        Dataset {
            images: Images {
                count: n,
                rows: 28,
                cols: 28,
                pixels,
            },
            labels,
        }
    }

    #[test]
    fn settings_are_checked() {
        let mut s = Settings::for_page(Preset::Slp);
        s.batch = 0;
        assert!(Trainer::new(s.clone(), 10)
            .err()
            .unwrap()
            .to_string()
            .contains("batch"));
        s.batch = 4;
        s.lr = f32::NAN;
        assert!(Trainer::new(s.clone(), 10)
            .err()
            .unwrap()
            .to_string()
            .contains("lr"));
        s.lr = 0.1;
        assert!(Trainer::new(s, 0).is_err());
        assert_eq!(
            OptimizerKind::from_name("adam").unwrap(),
            OptimizerKind::Adam
        );
        assert!(OptimizerKind::from_name("lbfgs").is_err());
    }

    #[test]
    fn epochs_visit_every_sample_once() {
        let mut t = Trainer::new(
            Settings {
                batch: 7,
                ..Settings::for_page(Preset::Slp)
            },
            30,
        )
        .unwrap();
        for epoch in 0..2 {
            let mut seen = Vec::new();
            for _ in 0..5 {
                let b = t.next_batch();
                assert_eq!(b.epoch, epoch);
                seen.extend(b.indices);
            }
            seen.sort();
            assert_eq!(seen, (0..30).collect::<Vec<_>>());
        }
        assert_eq!(t.next_batch().epoch, 2);
    }

    /// A batch's inputs made in parts on the pool (1 to 5, forced) are the inputs made in one,
    /// plain and augmented; an index past the data is refused by name whatever the cut.
    #[test]
    fn inputs_in_parts_are_the_inputs_in_one() {
        use crate::threadpool::with_tasks;
        let data = toy(40, 9);
        let indices: Vec<u32> = (0..37).map(|i| (i * 7 % 40) as u32).collect();
        for augment in [None, Some(Augment::default())] {
            let t = Trainer::new(
                Settings {
                    augment,
                    ..Settings::for_page(Preset::Cnn)
                },
                data.len(),
            )
            .unwrap();
            let bits = |tasks| -> Vec<u32> {
                with_tasks(tasks, || t.inputs(&data, 3, &indices))
                    .unwrap()
                    .data()
                    .iter()
                    .map(|v| v.to_bits())
                    .collect()
            };
            let one = bits(1);
            assert_eq!(one.len(), 37 * PIXELS);
            for tasks in 2..=5 {
                assert_eq!(bits(tasks), one, "{tasks} parts, augment {augment:?}");
            }
            for tasks in [1, 3] {
                let e = with_tasks(tasks, || t.inputs(&data, 0, &[3, 40, 1]))
                    .unwrap_err()
                    .to_string();
                assert!(e.contains("dataset") && e.contains("no sample 40"), "{e}");
            }
        }
    }

    /// The slp from zeros learns the toy set, and the loss falls.
    #[test]
    fn slp_from_zeros_learns() {
        let data = toy(200, 3);
        let mut t = Trainer::new(Settings::for_page(Preset::Slp), data.len()).unwrap();
        let (l0, _) = evaluate(&t.model, &data, 200).unwrap();
        assert!((l0 - 10f32.ln()).abs() < 1e-4, "{l0}");
        for _ in 0..40 {
            t.step(&data).unwrap();
        }
        let (l1, acc) = evaluate(&t.model, &data, 200).unwrap();
        assert!(l1 < 0.5 * l0 && acc > 0.95, "loss {l1}, accuracy {acc}");
        let s = t.status();
        // 200 samples in batches of 64: four steps (64, 64, 64, 8) per epoch.
        assert_eq!(s.samples, 10 * 200);
        assert_eq!(s.epoch, 9);
        assert_eq!(s.steps, 40);
    }

    /// `evaluate` in chunks across threads: the count of right answers and the mean loss of a
    /// forward pass per image (f64 sums), whatever the number of parts, and the same bits at
    /// every part count; counts that are not a multiple of the chunk included.
    #[test]
    fn evaluation_matches_one_image_at_a_time() {
        let data = toy(173, 5);
        let mut t = Trainer::new(Settings::for_page(Preset::Cnn), data.len()).unwrap();
        for _ in 0..3 {
            t.step(&data).unwrap();
        }
        for n in [1, 49, 50, 51, 173, 500] {
            let m = n.min(data.len());
            let (mut loss, mut correct) = (0.0f64, 0usize);
            let mut img = [0.0f32; PIXELS];
            for i in 0..m {
                data.image_f32(i, &mut img);
                let f = t.model.forward(&img).unwrap();
                let p = &f.probabilities;
                let l = data.labels[i] as usize;
                loss -= (p[l].max(1e-12) as f64).ln();
                correct += usize::from(argmax(p) == l);
            }
            let one = crate::threadpool::with_tasks(1, || evaluate(&t.model, &data, n).unwrap());
            assert_eq!(one.1, correct as f32 / m as f32, "accuracy of {n}");
            let want = (loss / m as f64) as f32;
            assert!(
                (one.0 - want).abs() <= 1e-4 * want.max(1.0),
                "loss of {n}: {} against {want}",
                one.0
            );
            for parts in [2, 3, 4] {
                let split =
                    crate::threadpool::with_tasks(parts, || evaluate(&t.model, &data, n).unwrap());
                assert_eq!(
                    split.0.to_bits(),
                    one.0.to_bits(),
                    "loss of {n} in {parts} parts"
                );
                assert_eq!(
                    split.1.to_bits(),
                    one.1.to_bits(),
                    "accuracy of {n} in {parts} parts"
                );
            }
        }
    }

    /// NaN or infinite gradients and losses are refused by name, the weights stay as they were
    /// and the trainer keeps working (its own file still loads).
    #[test]
    fn non_finite_gradients_are_refused() {
        let weights = |t: &Trainer| -> Vec<f32> {
            t.model
                .layers
                .iter()
                .filter_map(|l| l.params())
                .flat_map(|(_, w, b)| w.data().iter().chain(b.data()).copied().collect::<Vec<_>>())
                .collect()
        };
        let data = toy(40, 6);
        let mut t = Trainer::new(Settings::for_page(Preset::Slp), data.len()).unwrap();
        let b = t.next_batch();
        let good = t.shard_gradients(&data, b.epoch, &b.indices).unwrap();
        let before = weights(&t);
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            let mut g = good.clone();
            g.grads[0].0.data_mut()[5] = bad;
            let e = t.apply(&[good.clone(), g]).unwrap_err().to_string();
            assert!(
                e.contains("shard 1") && e.contains("NaN or infinite"),
                "{e}"
            );
            let mut g = good.clone();
            g.grads[0].1.data_mut()[0] = bad;
            assert!(t.apply(&[g]).is_err(), "bias {bad}");
            let mut g = good.clone();
            g.loss_sum = bad as f64;
            assert!(t.apply(&[g]).unwrap_err().to_string().contains("loss"));
        }
        assert!(weights(&t) == before, "the weights are unchanged");
        assert!(good.grads[0].0.data().iter().all(|g| g.is_finite()));
        t.apply(&[good]).unwrap();
        assert!(weights(&t) != before, "a good update still applies");
        assert!(Model::from_safetensors(&t.model.to_safetensors().unwrap()).is_ok());
    }

    /// Finite gradients that would make a weight (or an optimiser's moment) infinite are
    /// refused by layer, and the step is undone: weights and optimiser state as before, so a
    /// good step afterwards gives what it gives on a trainer that never saw the bad one.
    #[test]
    fn a_step_to_infinite_weights_is_undone() {
        let weights = |t: &Trainer| -> Vec<f32> {
            t.model
                .layers
                .iter()
                .filter_map(|l| l.params())
                .flat_map(|(_, w, b)| w.data().iter().chain(b.data()).copied().collect::<Vec<_>>())
                .collect()
        };
        let data = toy(40, 6);
        for optimizer in OptimizerKind::ALL {
            let mut settings = Settings::for_page(Preset::Slp);
            settings.optimizer = optimizer;
            settings.lr = MAX_LR;
            let mut t = Trainer::new(settings.clone(), data.len()).unwrap();
            let mut twin = Trainer::new(settings, data.len()).unwrap();
            let b = t.next_batch();
            let good = t.shard_gradients(&data, b.epoch, &b.indices).unwrap();
            twin.next_batch();
            // One good step first, so momentum and Adam have state to keep.
            t.apply(std::slice::from_ref(&good)).unwrap();
            twin.apply(std::slice::from_ref(&good)).unwrap();
            let before = weights(&t);
            let mut huge = good.clone();
            for (w, b) in &mut huge.grads {
                w.data_mut().fill(3e38);
                b.data_mut().fill(-3e38);
            }
            let e = t.apply(&[huge]).unwrap_err().to_string();
            assert!(
                e.starts_with("invalid grads")
                    && e.contains("NaN or infinite")
                    && e.contains("unchanged"),
                "{optimizer:?}: {e}"
            );
            assert!(
                e.contains("layer fc") || e.contains("moments"),
                "{optimizer:?}: {e}"
            );
            assert!(
                weights(&t) == before,
                "{optimizer:?}: the weights are unchanged"
            );
            assert_eq!(t.status().steps, 1);
            assert_eq!(t.status().lr, twin.status().lr);
            t.apply(std::slice::from_ref(&good)).unwrap();
            twin.apply(std::slice::from_ref(&good)).unwrap();
            assert!(
                weights(&t) == weights(&twin),
                "{optimizer:?}: the state was restored"
            );
            assert!(Model::from_safetensors(&t.model.to_safetensors().unwrap()).is_ok());
        }
    }

    /// Two shards applied together give the same update as the whole batch on one worker,
    /// and two "workers" applying the same shards stay equal.
    #[test]
    fn a_step_in_shards_is_the_update_as_many_workers_make() {
        // What the threaded build's step does with 2 and 3 threads, against workers that each
        // compute one shard and apply all of them in order: the same weights, bit for bit.
        for (arch, shards) in [(Preset::Cnn, 2), (Preset::Mlp, 3), (Preset::Slp, 2)] {
            let data = toy(40, 6);
            let s = Settings {
                batch: 11,
                init: Init::seeded(5),
                optimizer: OptimizerKind::Adam,
                lr: 0.01,
                augment: Some(Augment::default()),
                ..Settings::for_page(arch)
            };
            let mut threaded = Trainer::new(s.clone(), 40).unwrap();
            let mut workers = Trainer::new(s, 40).unwrap();
            for _ in 0..4 {
                let got = threaded.step_in_shards(&data, shards).unwrap();
                let b = workers.next_batch();
                let grads: Vec<ShardGrads> = (0..shards)
                    .map(|k| {
                        workers
                            .shard_gradients(&data, b.epoch, b.shard(k, shards))
                            .unwrap()
                    })
                    .collect();
                let want = workers.apply(&grads).unwrap();
                assert_eq!(got, want, "{arch:?}");
            }
            assert_eq!(threaded.model, workers.model, "{arch:?}: {shards} shards");
        }
    }

    #[test]
    fn shards_average_to_the_whole_batch() {
        for arch in Preset::ALL {
            let data = toy(50, 4);
            let s = Settings {
                batch: 13,
                init: Init::seeded(2),
                optimizer: OptimizerKind::Momentum,
                lr: 0.05,
                augment: Some(Augment::default()),
                ..Settings::for_page(arch)
            };
            let mut whole = Trainer::new(s.clone(), 50).unwrap();
            let mut a = Trainer::new(s.clone(), 50).unwrap();
            let mut b = Trainer::new(s, 50).unwrap();
            for _ in 0..3 {
                whole.step(&data).unwrap();
                let (ba, bb) = (a.next_batch(), b.next_batch());
                assert_eq!(ba, bb);
                let ga = a.shard_gradients(&data, ba.epoch, ba.shard(0, 2)).unwrap();
                let gb = b.shard_gradients(&data, bb.epoch, bb.shard(1, 2)).unwrap();
                // Through the flat form a worker sends.
                let ga = ShardGrads::from_flat(&a.model, &ga.to_flat()).unwrap();
                let gb = ShardGrads::from_flat(&b.model, &gb.to_flat()).unwrap();
                a.apply(&[ga.clone(), gb.clone()]).unwrap();
                b.apply(&[ga, gb]).unwrap();
            }
            assert_eq!(a.model, b.model, "{arch:?}: workers diverged");
            assert_eq!(a.status(), b.status());
            for ((wa, ba), (ww, bw)) in a
                .model
                .layers
                .iter()
                .filter_map(|l| l.params())
                .map(|(_, w, b)| (w.clone(), b.clone()))
                .zip(
                    whole
                        .model
                        .layers
                        .iter()
                        .filter_map(|l| l.params())
                        .map(|(_, w, b)| (w.clone(), b.clone())),
                )
            {
                for (x, y) in wa
                    .data()
                    .iter()
                    .zip(ww.data())
                    .chain(ba.data().iter().zip(bw.data()))
                {
                    assert!(
                        (x - y).abs() < 1e-4 + 1e-3 * y.abs(),
                        "{arch:?}: {x} vs {y}"
                    );
                }
            }
            assert_eq!(a.status().samples, whole.status().samples);
        }
    }

    #[test]
    fn flat_gradients_are_checked() {
        let m = Preset::Slp.zeros();
        let e = ShardGrads::from_flat(&m, &[1.0; 10])
            .unwrap_err()
            .to_string();
        assert!(e.contains("7853"), "{e}");
        let mut v = vec![0.0; 7853];
        v[0] = 2.5;
        assert!(ShardGrads::from_flat(&m, &v).is_err());
        v[0] = 0.0;
        assert_eq!(ShardGrads::from_flat(&m, &v).unwrap().count, 0);
        v[0] = 2.0;
        v[2] = 3.0;
        assert!(ShardGrads::from_flat(&m, &v).is_err());
        v[2] = 1.0;
        assert_eq!(ShardGrads::from_flat(&m, &v).unwrap().count, 2);
    }

    /// A rewound run retraces itself: plain SGD from moment k gives, step for step, the
    /// weights the run first had (same batches, same augmentation), and the moments after k
    /// are dropped.
    #[test]
    fn a_rewound_run_retraces_itself() {
        let data = toy(300, 5);
        let mut s = Settings::for_page(Preset::Slp);
        s.batch = 16;
        s.optimizer = OptimizerKind::Sgd;
        s.augment = Some(Augment {
            prob: 0.8,
            ..Augment::default()
        });
        let mut t = Trainer::new(s, data.len()).unwrap();
        t.keep_history();
        let mut weights = vec![t.model.clone()];
        let mut statuses = vec![t.status()];
        for _ in 0..40 {
            statuses.push(t.step(&data).unwrap());
            weights.push(t.model.clone());
        }
        let end = t.status();
        let h = t.history().unwrap();
        assert_eq!(h.moments().len(), 41, "every step is kept while few");
        let k = 23;
        assert!(*t.model_at(Some(k)).unwrap() == weights[k]);
        assert!(*t.model_at(None).unwrap() == weights[40]);
        let g = t.first_grad_at(Some(k)).unwrap();
        assert!(
            g.iter().any(|&v| v != 0.0),
            "the gradient of the batch before moment {k}"
        );
        assert_eq!(t.first_grad_at(Some(0)).unwrap(), vec![0.0; 7840]);
        let st = t.rewind(k).unwrap();
        let then = statuses[k];
        assert_eq!(
            (st.steps, st.samples, st.epoch, st.done),
            (then.steps, then.samples, then.epoch, then.done)
        );
        assert_eq!(st.batch_loss, then.batch_loss);
        assert!(t.model == weights[k]);
        assert_eq!(
            t.first_grad_at(None).unwrap(),
            g,
            "the last batch's gradient is the moment's"
        );
        assert_eq!(
            t.history().unwrap().moments().len(),
            k + 1,
            "the moments after it go"
        );
        for (i, w) in weights.iter().enumerate().skip(k + 1) {
            t.step(&data).unwrap();
            assert!(&t.model == w, "step {i} differs from the first run");
        }
        let again = t.status();
        assert_eq!(
            (again.steps, again.samples, again.epoch, again.done),
            (end.steps, end.samples, end.epoch, end.done)
        );
        assert!(t.rewind(99).unwrap_err().to_string().contains("0..40"));
        let mut plain = Trainer::new(Settings::for_page(Preset::Slp), data.len()).unwrap();
        plain.step(&data).unwrap();
        let e = plain.rewind(0).unwrap_err().to_string();
        assert!(e.contains("keeps no history"), "{e}");
    }
}
