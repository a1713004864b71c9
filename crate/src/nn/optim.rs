//! Optimisers: Adam and SGD with momentum. State is kept per parameter tensor, in the order
//! [`super::Model::params_mut`] gives them (weight, bias, weight, bias, …).

use super::Grads;
use crate::ops::slice::EXP;
use crate::tensor::Tensor;

pub trait Optimizer: Send + Sync {
    /// Applies one update with `grads` (one (dW, db) per parameterised layer) when every
    /// weight and every number of the optimiser's state it makes is finite; otherwise changes
    /// nothing (weights, state, step count) and says what would have broken. Two passes over
    /// the parameters, the first only reading: no copy is kept to undo a step.
    fn step(
        &mut self,
        params: Vec<(&mut Tensor, &mut Tensor)>,
        grads: &Grads,
    ) -> Result<(), Broken>;
    /// Changes the learning rate (for schedules).
    fn set_lr(&mut self, lr: f32);
}

/// What a refused step would have made NaN or infinite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Broken {
    /// The weights or biases of this parameterised layer (the first such).
    Layer(usize),
    /// Only the optimiser's state (its moments).
    State,
}

fn pairs<'a>(
    params: Vec<(&'a mut Tensor, &'a mut Tensor)>,
    grads: &'a Grads,
) -> Vec<(&'a mut [f32], &'a [f32])> {
    params
        .into_iter()
        .zip(grads)
        .flat_map(|((w, b), (dw, db))| [(w.data_mut(), dw.data()), (b.data_mut(), db.data())])
        .collect()
}

/// The first pass's verdict: `layers[k]` the exponent fold of parameter tensor `k`'s new values
/// (weights and biases alternate, so its layer is `k / 2`), `state` that of the new state.
fn verdict(layers: impl IntoIterator<Item = u32>, state: u32) -> Result<(), Broken> {
    if let Some(k) = layers.into_iter().position(|e| e == EXP) {
        return Err(Broken::Layer(k / 2));
    }
    if state == EXP {
        return Err(Broken::State);
    }
    Ok(())
}

#[derive(Debug, Clone)]
pub struct Adam {
    pub lr: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
    t: i32,
    m: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
}

impl Adam {
    pub fn new(lr: f32) -> Adam {
        Adam {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            t: 0,
            m: Vec::new(),
            v: Vec::new(),
        }
    }
}

/// One element of an Adam step: the new weight, first and second moments.
#[inline(always)]
fn adam1((b1, b2, step, eps): (f32, f32, f32, f32), p: f32, g: f32, m: f32, v: f32) -> [f32; 3] {
    let m = b1 * m + (1.0 - b1) * g;
    let v = b2 * v + (1.0 - b2) * g * g;
    [p - step * m / (v.sqrt() + eps), m, v]
}

impl Optimizer for Adam {
    fn step(
        &mut self,
        params: Vec<(&mut Tensor, &mut Tensor)>,
        grads: &Grads,
    ) -> Result<(), Broken> {
        let t = self.t + 1;
        let c1 = 1.0 - self.beta1.powi(t);
        let c2 = 1.0 - self.beta2.powi(t);
        let k = (
            self.beta1,
            self.beta2,
            self.lr * c2.sqrt() / c1,
            self.eps * c2.sqrt(),
        );
        let mut pairs = pairs(params, grads);
        for (p, _) in pairs.iter().skip(self.m.len()) {
            self.m.push(vec![0.0; p.len()]);
            self.v.push(vec![0.0; p.len()]);
        }
        // The first pass: what the step would make, read only.
        let mut state = 0u32;
        let mut layers = Vec::with_capacity(pairs.len());
        for ((p, g), (m, v)) in pairs.iter().zip(self.m.iter().zip(&self.v)) {
            let mut w = 0u32;
            for (((&p, &g), &m), &v) in p.iter().zip(g.iter()).zip(m).zip(v) {
                let [p, m, v] = adam1(k, p, g, m, v);
                w = w.max(p.to_bits() & EXP);
                state = state.max((m.to_bits() & EXP).max(v.to_bits() & EXP));
            }
            layers.push(w);
        }
        verdict(layers, state)?;
        self.t = t;
        for ((p, g), (m, v)) in pairs
            .iter_mut()
            .zip(self.m.iter_mut().zip(self.v.iter_mut()))
        {
            for (((p, &g), m), v) in p
                .iter_mut()
                .zip(g.iter())
                .zip(m.iter_mut())
                .zip(v.iter_mut())
            {
                [*p, *m, *v] = adam1(k, *p, g, *m, *v);
            }
        }
        Ok(())
    }

    fn set_lr(&mut self, lr: f32) {
        self.lr = lr;
    }
}

#[derive(Debug, Clone)]
pub struct Sgd {
    pub lr: f32,
    pub momentum: f32,
    v: Vec<Vec<f32>>,
}

impl Sgd {
    pub fn new(lr: f32, momentum: f32) -> Sgd {
        Sgd {
            lr,
            momentum,
            v: Vec::new(),
        }
    }
}

impl Optimizer for Sgd {
    fn step(
        &mut self,
        params: Vec<(&mut Tensor, &mut Tensor)>,
        grads: &Grads,
    ) -> Result<(), Broken> {
        let (mu, lr) = (self.momentum, self.lr);
        let mut pairs = pairs(params, grads);
        for (p, _) in pairs.iter().skip(self.v.len()) {
            self.v.push(vec![0.0; p.len()]);
        }
        // The first pass: what the step would make, read only.
        let mut state = 0u32;
        let mut layers = Vec::with_capacity(pairs.len());
        for ((p, g), v) in pairs.iter().zip(&self.v) {
            let mut w = 0u32;
            for ((&p, &g), &v) in p.iter().zip(g.iter()).zip(v) {
                let vel = mu * v + g;
                w = w.max((p - lr * vel).to_bits() & EXP);
                state = state.max(vel.to_bits() & EXP);
            }
            layers.push(w);
        }
        verdict(layers, state)?;
        for ((p, g), v) in pairs.iter_mut().zip(self.v.iter_mut()) {
            for ((p, &g), v) in p.iter_mut().zip(g.iter()).zip(v.iter_mut()) {
                *v = mu * *v + g;
                *p -= lr * *v;
            }
        }
        Ok(())
    }

    fn set_lr(&mut self, lr: f32) {
        self.lr = lr;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// Both optimisers minimise f(w) = Σ (w − 3)².
    #[test]
    fn optimisers_minimise_a_quadratic() {
        let opts: Vec<Box<dyn Optimizer>> =
            vec![Box::new(Adam::new(0.1)), Box::new(Sgd::new(0.05, 0.9))];
        for mut opt in opts {
            let mut w = Tensor::zeros(&[4]).unwrap();
            let mut b = Tensor::zeros(&[1]).unwrap();
            for _ in 0..300 {
                let gw: Vec<f32> = w.data().iter().map(|&x| 2.0 * (x - 3.0)).collect();
                let gb: Vec<f32> = b.data().iter().map(|&x| 2.0 * (x - 3.0)).collect();
                let g = vec![(
                    Tensor::new(gw, &[4]).unwrap(),
                    Tensor::new(gb, &[1]).unwrap(),
                )];
                opt.step(vec![(&mut w, &mut b)], &g).unwrap();
            }
            assert!(
                w.data().iter().all(|&x| (x - 3.0).abs() < 1e-2),
                "{:?}",
                w.data()
            );
        }
    }

    /// A step that would make a weight or a moment NaN or infinite changes nothing (weights,
    /// state, Adam's step count) and says which: the next good step is a fresh optimiser's.
    #[test]
    fn a_step_that_would_break_changes_nothing() {
        let t = |v: Vec<f32>| Tensor::new(v.clone(), &[v.len()]).unwrap();
        let good = vec![(t(vec![0.5, -0.25]), t(vec![1.0]))];
        let bits = |w: &Tensor, b: &Tensor| -> Vec<u32> {
            w.data()
                .iter()
                .chain(b.data())
                .map(|v| v.to_bits())
                .collect()
        };
        // Adam with g = 1e30: g² overflows the second moment, the weight stays finite (m/√v
        // → 0): only the state would break. SGD at lr 1e30: the bias would.
        type Case = (Box<dyn Optimizer>, Box<dyn Optimizer>, Grads, Broken);
        let cases: Vec<Case> = vec![
            (
                Box::new(Adam::new(0.1)),
                Box::new(Adam::new(0.1)),
                vec![(t(vec![1.0, 1e30]), t(vec![0.0]))],
                Broken::State,
            ),
            (
                Box::new(Sgd::new(1e30, 0.9)),
                Box::new(Sgd::new(1e30, 0.9)),
                vec![(t(vec![0.0, 0.0]), t(vec![1e10]))],
                Broken::Layer(0),
            ),
        ];
        for (mut opt, mut fresh, bad, why) in cases {
            let (mut w, mut b) = (t(vec![1.0, 2.0]), t(vec![3.0]));
            let before = bits(&w, &b);
            assert_eq!(opt.step(vec![(&mut w, &mut b)], &bad), Err(why));
            assert_eq!(bits(&w, &b), before, "{why:?}: the weights are unchanged");
            let (mut w2, mut b2) = (t(vec![1.0, 2.0]), t(vec![3.0]));
            opt.step(vec![(&mut w, &mut b)], &good).unwrap();
            fresh.step(vec![(&mut w2, &mut b2)], &good).unwrap();
            assert_eq!(
                bits(&w, &b),
                bits(&w2, &b2),
                "{why:?}: the state is unchanged"
            );
        }
    }
}
