//! The training loop: seeded shuffling, augmentation, mini-batches, Adam with a cosine learning
//! rate schedule, and evaluation. No clock in here (there is none in wasm): progress reports
//! carry counts, and the caller times them.

use super::{argmax, layers, Adam, Arch, Model, Optimizer};
use crate::error::{Error, Result};
use crate::mnist::{augment, Augment, Dataset, PIXELS};
use crate::rng::Rng;
use crate::tensor::Tensor;

/// How to train.
#[derive(Debug, Clone)]
pub struct TrainConfig {
    pub epochs: usize,
    pub batch: usize,
    /// Peak learning rate (Adam); decays along a cosine to `lr * final_lr_fraction`.
    pub lr: f32,
    pub final_lr_fraction: f32,
    pub seed: u64,
    /// Distortions applied to each training sample (`None` = the images as they are).
    pub augment: Option<Augment>,
}

impl TrainConfig {
    /// The settings the shipped models were trained with.
    pub fn for_arch(arch: Arch) -> TrainConfig {
        let (epochs, lr, aug) = match arch {
            Arch::Slp => (
                15,
                2e-3,
                Augment {
                    prob: 0.4,
                    rotate_deg: 8.0,
                    scale: 0.08,
                    shift: 1.5,
                    shear: 0.1,
                    thicken: 0.2,
                    thin: 0.1,
                },
            ),
            Arch::Mlp => (
                12,
                1e-3,
                Augment {
                    prob: 0.7,
                    ..Augment::default()
                },
            ),
            Arch::Cnn => (
                12,
                2e-3,
                Augment {
                    prob: 0.8,
                    ..Augment::default()
                },
            ),
        };
        TrainConfig {
            epochs,
            batch: 64,
            lr,
            final_lr_fraction: 0.02,
            seed: 1,
            augment: Some(aug),
        }
    }
}

/// A progress report, sent after every batch.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub epoch: usize,
    pub epochs: usize,
    /// Samples done in this epoch, and per epoch.
    pub done: usize,
    pub per_epoch: usize,
    /// Running mean loss and accuracy over this epoch's batches so far.
    pub loss: f32,
    pub accuracy: f32,
}

/// Trains `model` on `data` in place, calling `progress` after each batch.
pub fn train(
    model: &mut Model,
    data: &Dataset,
    cfg: &TrainConfig,
    mut progress: impl FnMut(&Progress),
) -> Result<()> {
    if cfg.batch == 0 {
        return Err(Error::param("batch", 0, "must be at least 1"));
    }
    let mut rng = Rng::new(cfg.seed.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ 0xa5a5);
    let mut opt = Adam::new(cfg.lr);
    let n = data.len();
    let steps_total = cfg.epochs * n.div_ceil(cfg.batch);
    let mut step = 0usize;
    let mut order: Vec<usize> = (0..n).collect();
    let mut img = [0.0f32; PIXELS];
    for epoch in 0..cfg.epochs {
        rng.shuffle(&mut order);
        let (mut loss_sum, mut correct, mut seen) = (0.0f64, 0usize, 0usize);
        for chunk in order.chunks(cfg.batch) {
            let b = chunk.len();
            let mut x = vec![0.0f32; b * PIXELS];
            let mut labels = Vec::with_capacity(b);
            for (j, &i) in chunk.iter().enumerate() {
                data.image_f32(i, &mut img);
                let dst = &mut x[j * PIXELS..(j + 1) * PIXELS];
                match &cfg.augment {
                    Some(a) => augment(&img, dst, a, &mut rng),
                    None => dst.copy_from_slice(&img),
                }
                labels.push(data.labels[i]);
            }
            let t = (step as f32 + 0.5) / steps_total as f32;
            let f = cfg.final_lr_fraction;
            opt.set_lr(cfg.lr * (f + (1.0 - f) * 0.5 * (1.0 + (std::f32::consts::PI * t).cos())));
            let trace = model.forward_batch(Tensor::new(x, &[b, 1, 28, 28])?)?;
            let p = trace.acts.last().expect("non-empty");
            let mut d = vec![0.0f32; b * 10];
            let loss = layers::cross_entropy(p.data(), &labels, 10, &mut d);
            for (row, &l) in p.data().chunks_exact(10).zip(&labels) {
                correct += (argmax(row) == l as usize) as usize;
            }
            let grads = model.backward(&trace, Tensor::new(d, &[b, 10])?)?;
            opt.step(model.params_mut(), &grads);
            loss_sum += loss as f64 * b as f64;
            seen += b;
            step += 1;
            progress(&Progress {
                epoch,
                epochs: cfg.epochs,
                done: seen,
                per_epoch: n,
                loss: (loss_sum / seen as f64) as f32,
                accuracy: correct as f32 / seen as f32,
            });
        }
    }
    Ok(())
}

/// Predicted classes for every image of `data` (batches of 500).
pub fn predict(model: &Model, data: &Dataset) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(data.len());
    let mut img = [0.0f32; PIXELS];
    for start in (0..data.len()).step_by(500) {
        let end = (start + 500).min(data.len());
        let mut x = vec![0.0f32; (end - start) * PIXELS];
        for i in start..end {
            data.image_f32(i, &mut img);
            x[(i - start) * PIXELS..(i - start + 1) * PIXELS].copy_from_slice(&img);
        }
        let t = model.forward_batch(Tensor::new(x, &[end - start, 1, 28, 28])?)?;
        for row in t.acts.last().expect("non-empty").data().chunks_exact(10) {
            out.push(argmax(row) as u8);
        }
    }
    Ok(out)
}

/// Fraction of `data` classified correctly.
pub fn accuracy(model: &Model, data: &Dataset) -> Result<f32> {
    let pred = predict(model, data)?;
    let ok = pred
        .iter()
        .zip(&data.labels)
        .filter(|(a, b)| a == b)
        .count();
    Ok(ok as f32 / data.len().max(1) as f32)
}
