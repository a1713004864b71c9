//! A training run's history, kept so that it can be rewound: snapshots of every weight (and of
//! the first weighted layer's gradient of the batch that made them) taken every `every` steps,
//! from the start. Memory is bounded: when more than `cap` moments are kept, every other one
//! goes and the interval doubles, so the moments stay evenly spaced over the whole run, however
//! long it grows (64 moments over 10⁶ steps are as many as over 100).

use super::Model;
use crate::error::{Error, Result};

/// Most bytes one trainer's history may hold (weights and gradients of every kept moment).
pub const BUDGET_BYTES: usize = 32 << 20;
/// Most moments kept (an even number: thinning halves it).
pub const MAX_MOMENTS: usize = 64;
/// Fewest moments worth keeping: a design whose weights leave room for fewer keeps none.
pub const MIN_MOMENTS: usize = 8;

/// One kept moment of a run: where it was, and every weight then.
#[derive(Debug, Clone, PartialEq)]
pub struct Moment {
    pub steps: u64,
    pub samples: u64,
    /// The epoch under way and samples done in it (so training can go on from here).
    pub epoch: usize,
    pub done: usize,
    /// The loss and accuracy of the batch that made these weights (NaN at the start).
    pub batch_loss: f32,
    pub batch_accuracy: f32,
    /// Every parameter, in `Model::params_mut` order (weight, then bias, of each layer).
    params: Vec<f32>,
    /// The first weighted layer's weight gradient of that batch (zeros at the start).
    grad: Vec<f32>,
}

/// The kept moments of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    moments: Vec<Moment>,
    every: u64,
    cap: usize,
    bytes_each: usize,
    /// Why no history is kept (a design too large for the budget), if so.
    off: Option<String>,
}

/// Every parameter of `model`, flat, in `params_mut` order.
pub fn flat_params(model: &mut Model) -> Vec<f32> {
    let mut out = Vec::with_capacity(model.num_params());
    for (w, b) in model.params_mut() {
        out.extend_from_slice(w.data());
        out.extend_from_slice(b.data());
    }
    out
}

/// Sets every parameter of `model` from `flat` (as `flat_params` wrote it).
pub fn set_params(model: &mut Model, flat: &[f32]) -> Result<()> {
    if flat.len() != model.num_params() {
        return Err(Error::shape(format!(
            "{} values for a model of {} parameters",
            flat.len(),
            model.num_params()
        )));
    }
    let mut at = 0;
    for (w, b) in model.params_mut() {
        for t in [w, b] {
            let n = t.data().len();
            t.data_mut().copy_from_slice(&flat[at..at + n]);
            at += n;
        }
    }
    Ok(())
}

/// The index (among `params_mut`'s pairs) and size of `model`'s first weighted layer's weight.
pub fn first_weighted(model: &Model) -> Option<(usize, String, usize)> {
    model
        .layers
        .iter()
        .filter_map(|l| l.params())
        .enumerate()
        .next()
        .map(|(i, (name, w, _))| (i, name.to_string(), w.data().len()))
}

/// The colour scale of a set of weights or gradients: the 99th percentile of their magnitudes
/// (the largest when that is 0; 1 for all zeros), so a few outliers don't wash the tiles out.
pub fn colour_scale(values: &[f32]) -> f32 {
    colour_scale_at(values, 0.99)
}

/// The `q`-quantile (0 < q ≤ 1) of the finite values' magnitudes: `q = 1` is the largest, what
/// a view that must show every value unclipped scales by. The largest when the quantile is 0,
/// and 1 when every value is 0 (or there are none), so a colour scale is never 0.
pub fn colour_scale_at(values: &[f32], q: f64) -> f32 {
    let mut a: Vec<f32> = values
        .iter()
        .map(|v| v.abs())
        .filter(|v| v.is_finite())
        .collect();
    if a.is_empty() {
        return 1.0;
    }
    let k = ((q * a.len() as f64) as usize).min(a.len() - 1);
    let (_, at, _) = a.select_nth_unstable_by(k, f32::total_cmp);
    let at = *at;
    if at > 0.0 {
        return at;
    }
    let m = a.iter().fold(0.0f32, |m, &v| m.max(v));
    if m > 0.0 {
        m
    } else {
        1.0
    }
}

impl History {
    /// A history for `model`'s runs: as many moments as `BUDGET_BYTES` holds (at most
    /// `MAX_MOMENTS`), or none, with the reason, when that is fewer than `MIN_MOMENTS`.
    pub fn for_model(model: &Model) -> History {
        let grad = first_weighted(model).map_or(0, |f| f.2);
        let bytes_each = (model.num_params() + grad) * 4;
        let fits = BUDGET_BYTES / bytes_each.max(1);
        let cap = fits.min(MAX_MOMENTS) & !1;
        let off = (cap < MIN_MOMENTS).then(|| {
            format!(
                "this design's weights take {:.1} MB a moment: fewer than {MIN_MOMENTS} moments fit in the {} MB the history may use, so none are kept",
                bytes_each as f64 / 1e6,
                BUDGET_BYTES >> 20
            )
        });
        History {
            moments: Vec::new(),
            every: 1,
            cap: if off.is_some() { 0 } else { cap },
            bytes_each,
            off,
        }
    }

    /// Whether the moment after `steps` steps is one to keep.
    pub fn due(&self, steps: u64) -> bool {
        self.off.is_none() && steps.is_multiple_of(self.every)
    }

    /// Keeps a moment (call when `due`); thins the history when it holds more than `cap`.
    pub fn record(
        &mut self,
        model: &mut Model,
        grad: Option<&[f32]>,
        steps: u64,
        samples: u64,
        (epoch, done): (usize, usize),
        (batch_loss, batch_accuracy): (f32, f32),
    ) {
        if !self.due(steps) {
            return;
        }
        let size = first_weighted(model).map_or(0, |f| f.2);
        let grad = match grad {
            Some(g) if g.len() == size => g.to_vec(),
            _ => vec![0.0; size],
        };
        // A moment at the same step replaces the last (a rewind then a record of the same place).
        if self.moments.last().is_some_and(|m| m.steps >= steps) {
            self.moments.retain(|m| m.steps < steps);
        }
        self.moments.push(Moment {
            steps,
            samples,
            epoch,
            done,
            batch_loss,
            batch_accuracy,
            params: flat_params(model),
            grad,
        });
        while self.moments.len() > self.cap {
            self.every *= 2;
            let every = self.every;
            self.moments.retain(|m| m.steps.is_multiple_of(every));
        }
    }

    pub fn moments(&self) -> &[Moment] {
        &self.moments
    }

    /// Steps between kept moments now.
    pub fn every(&self) -> u64 {
        self.every
    }

    /// Most moments kept (0: none, see `off`).
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Bytes one moment takes.
    pub fn bytes_each(&self) -> usize {
        self.bytes_each
    }

    /// Why this history keeps nothing, if it doesn't.
    pub fn off(&self) -> Option<&str> {
        self.off.as_deref()
    }

    /// Moment `at`, or an error naming how many there are.
    pub fn get(&self, at: usize) -> Result<&Moment> {
        self.moments.get(at).ok_or_else(|| {
            Error::param(
                "at",
                at,
                match (self.off(), self.moments.len()) {
                    (Some(why), _) => format!("names no moment: {why}"),
                    (None, 0) => "names no moment: none is kept yet".to_string(),
                    (None, n) => format!("must be a kept moment, 0..{}", n - 1),
                },
            )
        })
    }

    /// Drops every moment after `at` (training goes on from there); the interval stays.
    pub fn truncate_after(&mut self, at: usize) {
        self.moments.truncate(at + 1);
    }
}

impl Moment {
    /// `model` (of the run's design) with this moment's weights.
    pub fn model(&self, like: &Model) -> Result<Model> {
        let mut m = like.clone();
        set_params(&mut m, &self.params)?;
        Ok(m)
    }

    pub fn params(&self) -> &[f32] {
        &self.params
    }

    /// The first weighted layer's weight gradient of the batch that made this moment.
    pub fn grad(&self) -> &[f32] {
        &self.grad
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::Preset;

    fn record_n(h: &mut History, m: &mut Model, n: u64) {
        for s in 0..=n {
            h.record(m, None, s, s * 64, (0, 0), (f32::NAN, f32::NAN));
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[test]
    fn thinning_keeps_the_run_evenly_spaced_within_the_cap() {
        let mut m = Preset::Slp.init(1);
        let mut h = History::for_model(&m);
        assert_eq!(h.cap(), MAX_MOMENTS);
        record_n(&mut h, &mut m, 1000);
        let steps: Vec<u64> = h.moments().iter().map(|m| m.steps).collect();
        assert!(
            steps.len() <= MAX_MOMENTS && steps.len() > MAX_MOMENTS / 2,
            "{steps:?}"
        );
        assert_eq!(steps[0], 0, "the start is always kept");
        let e = h.every();
        assert_eq!(e, 16, "1000 steps over at most 64 moments: every 16th");
        assert!(
            steps.iter().enumerate().all(|(i, &s)| s == i as u64 * e),
            "{steps:?}"
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[test]
    fn a_moment_gives_back_the_weights_it_kept() {
        let mut m = Preset::Cnn.init(3);
        let mut h = History::for_model(&m);
        h.record(&mut m, None, 0, 0, (0, 0), (f32::NAN, f32::NAN));
        let before = m.clone();
        for (w, _) in m.params_mut() {
            w.data_mut()[0] += 1.0;
        }
        h.record(&mut m, Some(&[0.5; 200]), 1, 64, (0, 64), (2.0, 0.1));
        assert!(h.get(0).unwrap().model(&m).unwrap() == before);
        assert!(h.get(1).unwrap().model(&before).unwrap() == m);
        assert_eq!(h.get(1).unwrap().grad(), &[0.5; 200][..]);
        assert_eq!(h.get(0).unwrap().grad(), &[0.0; 200][..]);
        let e = h.get(2).unwrap_err().to_string();
        assert!(e.contains("0..1"), "{e}");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[test]
    fn the_colour_scale_is_the_99th_percentile_of_magnitudes() {
        let mut v: Vec<f32> = (0..200)
            .map(|i| if i % 2 == 0 { i as f32 } else { -(i as f32) })
            .collect();
        v[7] = 1e6;
        // Sorted magnitudes 0..199 with 7 replaced by 10⁶: index 198 of 200 holds 199.
        assert_eq!(colour_scale(&v), 199.0);
        assert_eq!(
            colour_scale(&[0.0, 0.0, -3.0]),
            3.0,
            "the largest when the percentile is 0"
        );
        assert_eq!(colour_scale(&[0.0; 5]), 1.0);
        assert_eq!(colour_scale(&[]), 1.0);
        // q = 1: the largest magnitude, outliers and all; NaN and ∞ are left out.
        assert_eq!(colour_scale_at(&v, 1.0), 1e6);
        assert_eq!(
            colour_scale_at(&[-2.0, f32::NAN, 1.5, f32::INFINITY], 1.0),
            2.0
        );
        assert_eq!(colour_scale_at(&[0.0, -0.0], 1.0), 1.0);
        // q = 0.5: index 100 of the sorted magnitudes (0..6, 8..199, 10⁶), which holds 101.
        assert_eq!(colour_scale_at(&v, 0.5), 101.0);
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[test]
    fn a_design_too_large_keeps_no_history_and_says_why() {
        let spec = crate::nn::spec::Spec::from_json(
            r#"{"input":[1,28,28],"layers":[{"kind":"flatten"},{"kind":"linear","outFeatures":1000},{"kind":"linear","outFeatures":10}]}"#,
        )
        .unwrap();
        let mut m = Model::new(&spec).unwrap();
        let mut h = History::for_model(&m);
        assert_eq!(h.cap(), 0);
        record_n(&mut h, &mut m, 3);
        assert!(h.moments().is_empty());
        let e = h.get(0).unwrap_err().to_string();
        assert!(e.contains("none are kept"), "{e}");
    }
}
