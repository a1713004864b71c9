//! Optimisers: Adam and SGD with momentum. State is kept per parameter tensor, in the order
//! [`super::Model::params_mut`] gives them (weight, bias, weight, bias, …).

use super::Grads;
use crate::tensor::Tensor;

pub trait Optimizer: Send + Sync {
    /// Applies one update with `grads` (one (dW, db) per parameterised layer).
    fn step(&mut self, params: Vec<(&mut Tensor, &mut Tensor)>, grads: &Grads);
    /// Changes the learning rate (for schedules).
    fn set_lr(&mut self, lr: f32);
    /// A copy of the optimiser and its state (to undo a step that went wrong).
    fn boxed_clone(&self) -> Box<dyn Optimizer>;
    /// Whether every number of the optimiser's state is finite (an infinite moment would
    /// stop or break every later step).
    fn state_is_finite(&self) -> bool;
}

fn all_finite(state: &[Vec<f32>]) -> bool {
    state.iter().all(|s| crate::ops::slice::all_finite(s))
}

fn pairs<'a>(
    params: Vec<(&'a mut Tensor, &'a mut Tensor)>,
    grads: &'a Grads,
) -> impl Iterator<Item = (&'a mut [f32], &'a [f32])> {
    params
        .into_iter()
        .zip(grads)
        .flat_map(|((w, b), (dw, db))| [(w.data_mut(), dw.data()), (b.data_mut(), db.data())])
}

/// Adam (Kingma & Ba), with bias correction.
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

impl Optimizer for Adam {
    fn step(&mut self, params: Vec<(&mut Tensor, &mut Tensor)>, grads: &Grads) {
        self.t += 1;
        let c1 = 1.0 - self.beta1.powi(self.t);
        let c2 = 1.0 - self.beta2.powi(self.t);
        let step = self.lr * c2.sqrt() / c1;
        for (k, (p, g)) in pairs(params, grads).enumerate() {
            if self.m.len() <= k {
                self.m.push(vec![0.0; p.len()]);
                self.v.push(vec![0.0; p.len()]);
            }
            let (b1, b2, eps) = (self.beta1, self.beta2, self.eps * c2.sqrt());
            // Zipped (no index checks), so the compiler runs it four lanes at a time.
            let state = self.m[k].iter_mut().zip(self.v[k].iter_mut());
            for ((p, &g), (m, v)) in p.iter_mut().zip(g).zip(state) {
                *m = b1 * *m + (1.0 - b1) * g;
                *v = b2 * *v + (1.0 - b2) * g * g;
                *p -= step * *m / (v.sqrt() + eps);
            }
        }
    }

    fn set_lr(&mut self, lr: f32) {
        self.lr = lr;
    }

    fn boxed_clone(&self) -> Box<dyn Optimizer> {
        Box::new(self.clone())
    }

    fn state_is_finite(&self) -> bool {
        all_finite(&self.m) && all_finite(&self.v)
    }
}

/// SGD with (heavy-ball) momentum: v ← μ·v + g, p ← p − lr·v.
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
    fn step(&mut self, params: Vec<(&mut Tensor, &mut Tensor)>, grads: &Grads) {
        for (k, (p, g)) in pairs(params, grads).enumerate() {
            if self.v.len() <= k {
                self.v.push(vec![0.0; p.len()]);
            }
            let (mu, lr) = (self.momentum, self.lr);
            for ((p, &g), v) in p.iter_mut().zip(g).zip(self.v[k].iter_mut()) {
                *v = mu * *v + g;
                *p -= lr * *v;
            }
        }
    }

    fn set_lr(&mut self, lr: f32) {
        self.lr = lr;
    }

    fn boxed_clone(&self) -> Box<dyn Optimizer> {
        Box::new(self.clone())
    }

    fn state_is_finite(&self) -> bool {
        all_finite(&self.v)
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
                opt.step(vec![(&mut w, &mut b)], &g);
            }
            assert!(
                w.data().iter().all(|&x| (x - 3.0).abs() < 1e-2),
                "{:?}",
                w.data()
            );
        }
    }
}
