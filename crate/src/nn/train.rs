//! The command-line training run: a [`Trainer`] stepped through whole epochs, with the
//! settings the shipped models were trained with, and evaluation. No clock in here (there is
//! none in wasm): progress reports carry counts, and the caller times them.

use super::spec::Spec;
use super::trainer::{Init, OptimizerKind, Schedule, Settings, Trainer};
use super::{argmax, Model, Preset};
use crate::error::Result;
use crate::mnist::{Augment, Dataset, PIXELS};
use crate::tensor::Tensor;

/// How to train.
#[derive(Debug, Clone)]
pub struct TrainConfig {
    pub epochs: usize,
    pub batch: usize,
    pub optimizer: OptimizerKind,
    /// Peak learning rate; with `cosine` it decays along a cosine to `lr * final_lr_fraction`.
    pub lr: f32,
    pub cosine: bool,
    pub final_lr_fraction: f32,
    pub seed: u64,
    /// Start from zeros instead of a seeded He-uniform initialisation.
    pub zeros: bool,
    /// The seeded start's scale (1 = He's bound).
    pub init_scale: f32,
    /// Distortions applied to each training sample (`None` = the images as they are).
    pub augment: Option<Augment>,
}

impl TrainConfig {
    /// The settings the shipped models were trained with. The slp and the mlp are trained as
    /// the templates article trains them, on the images as they are (no augmentation), so
    /// that their weights look like the digits: the slp with plain SGD from zeros, the mlp with
    /// SGD from a small random start (a tenth of He's bound, so that little of the random start
    /// stays in the trained weights). The cnn keeps its augmentation.
    pub fn for_arch(arch: Preset) -> TrainConfig {
        match arch {
            Preset::Slp => TrainConfig {
                epochs: 5,
                batch: 64,
                optimizer: OptimizerKind::Sgd,
                lr: 0.1,
                cosine: false,
                final_lr_fraction: 1.0,
                seed: 1,
                zeros: true,
                init_scale: 1.0,
                augment: None,
            },
            Preset::Mlp => TrainConfig {
                epochs: 20,
                batch: 64,
                optimizer: OptimizerKind::Sgd,
                lr: 0.1,
                cosine: true,
                final_lr_fraction: 0.02,
                seed: 1,
                zeros: false,
                init_scale: 0.1,
                augment: None,
            },
            Preset::Cnn => TrainConfig {
                epochs: 12,
                batch: 64,
                optimizer: OptimizerKind::Adam,
                lr: 2e-3,
                cosine: true,
                final_lr_fraction: 0.02,
                seed: 1,
                zeros: false,
                init_scale: 1.0,
                augment: Some(Augment {
                    prob: 0.8,
                    ..Augment::default()
                }),
            },
        }
    }

    /// The trainer's settings for `spec`.
    pub fn settings(&self, spec: Spec) -> Settings {
        Settings {
            spec,
            optimizer: self.optimizer,
            lr: self.lr,
            batch: self.batch,
            schedule: if self.cosine {
                Schedule::Cosine {
                    epochs: self.epochs,
                    final_fraction: self.final_lr_fraction,
                }
            } else {
                Schedule::Constant
            },
            augment: self.augment,
            init: if self.zeros {
                Init::Zeros
            } else {
                Init::Seeded {
                    seed: self.seed,
                    scale: self.init_scale,
                }
            },
            seed: self.seed,
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

/// Trains `model` on `data` in place for `cfg.epochs` epochs, calling `progress` after each
/// batch.
pub fn train(
    model: &mut Model,
    data: &Dataset,
    cfg: &TrainConfig,
    mut progress: impl FnMut(&Progress),
) -> Result<()> {
    let mut t = Trainer::with_model(model.clone(), cfg.settings(model.spec()), data.len())?;
    let steps = cfg.epochs * data.len().div_ceil(cfg.batch.max(1));
    for _ in 0..steps {
        let s = t.step(data)?;
        progress(&Progress {
            epoch: s.epoch,
            epochs: cfg.epochs,
            done: s.done,
            per_epoch: s.per_epoch,
            loss: s.epoch_loss,
            accuracy: s.epoch_accuracy,
        });
    }
    *model = t.model;
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
