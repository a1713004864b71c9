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

/// A parameter tensor (weights or biases), its gradient, and the length of one of its rows
/// (the floats per output channel or neuron): parts of it are whole rows.
type Param<'a> = (&'a mut [f32], &'a [f32], usize);

fn pairs<'a>(params: Vec<(&'a mut Tensor, &'a mut Tensor)>, grads: &'a Grads) -> Vec<Param<'a>> {
    let row = |t: &Tensor| t.shape().iter().skip(1).product::<usize>().max(1);
    params
        .into_iter()
        .zip(grads)
        .flat_map(|((w, b), (dw, db))| {
            let (rw, rb) = (row(w), row(b));
            [(w.data_mut(), dw.data(), rw), (b.data_mut(), db.data(), rb)]
        })
        .collect()
}

/// What one parameter costs the optimiser, in multiply-adds of the GEMM (the unit of
/// [`crate::threadpool::tasks_for`]): an SGD or Adam update of one float, read and written
/// twice, takes about as long as 16 to 32 multiply-adds in the micro-kernel.
const PARAM_WORK: usize = 32;

/// The first pass over a part: its weights, gradients and state in, the exponent folds of the
/// new weights and the new state out.
type Check<'a, const S: usize> = dyn Fn(&[f32], &[f32], [&[f32]; S]) -> (u32, u32) + Sync + 'a;
/// The second pass over a part: its weights and state updated from its gradients.
type Apply<'a, const S: usize> = dyn Fn(&mut [f32], &[f32], [&mut [f32]; S]) + Sync + 'a;

/// The two passes of an optimiser step over every parameter tensor and its `S` state arrays
/// (one per tensor each, as long as it), cut into parts of whole rows run on the pool's threads:
/// `check` reads a part (weights, gradients, state) and returns the exponent folds of the new
/// weights and the new state; unless [`verdict`] refuses the step, `apply` writes the part.
/// Every float is updated by itself, so the result is the same bit for bit whatever the cut.
/// Cut this way, each part of a dense layer's weights is the rows (output neurons) one thread
/// multiplied in the forward pass, which it then finds in its own cache.
fn two_passes<const S: usize>(
    pairs: &mut [Param<'_>],
    state: [&mut [Vec<f32>]; S],
    check: &Check<'_, S>,
    apply: &Apply<'_, S>,
) -> Result<(), Broken> {
    use crate::threadpool::{tasks_for, try_for_each, Chunks};
    let total: usize = pairs.iter().map(|(p, _, _)| p.len()).sum();
    let tasks = tasks_for(total.saturating_mul(PARAM_WORK));
    let cuts: Vec<Chunks> = pairs
        .iter()
        .map(|(p, _, row)| Chunks::new(p.len(), *row, tasks))
        .collect();
    // The first pass: per part and tensor, what the step would make, read only.
    let mut folds = vec![(0u32, 0u32); tasks * pairs.len()];
    {
        let (pairs, state): (&[Param<'_>], [&[Vec<f32>]; S]) =
            (pairs, state.each_ref().map(|s| &**s));
        let items: Vec<(usize, &mut [(u32, u32)])> =
            folds.chunks_mut(pairs.len().max(1)).enumerate().collect();
        // Nothing in a part can fail: the verdict comes after.
        let _ = try_for_each(items, &|_, (t, out)| {
            for (k, ((p, g, _), o)) in pairs.iter().zip(out.iter_mut()).enumerate() {
                let r = cuts[k].range(t);
                let st = state.map(|s| s.get(k).map_or(&[][..], |v| clamped(v, &r)));
                *o = check(clamped(p, &r), clamped(g, &r), st);
            }
            Ok(())
        });
    }
    let layer = |k: usize| folds.iter().skip(k).step_by(pairs.len()).map(|f| f.0).max();
    verdict(
        (0..pairs.len()).map(|k| layer(k).unwrap_or(0)),
        folds.iter().map(|f| f.1).max().unwrap_or(0),
    )?;
    // The second pass: each part writes its own rows.
    type Part<'a, const S: usize> = Vec<(&'a mut [f32], &'a [f32], [&'a mut [f32]; S])>;
    let mut parts: Vec<Part<'_, S>> = (0..tasks).map(|_| Vec::new()).collect();
    let mut state = state.map(|s| s.iter_mut());
    for ((p, g, _), cut) in pairs.iter_mut().zip(&cuts) {
        let mut st = state
            .each_mut()
            .map(|s| s.next().map(|v| v.chunks_mut(cut.chunk)));
        for (t, (pc, gc)) in p.chunks_mut(cut.chunk).zip(g.chunks(cut.chunk)).enumerate() {
            let sc = st
                .each_mut()
                .map(|s| s.as_mut().and_then(|c| c.next()).unwrap_or_default());
            parts[t].push((pc, gc, sc));
        }
    }
    let _ = try_for_each(parts, &|_, part| {
        for (p, g, sc) in part {
            apply(p, g, sc);
        }
        Ok(())
    });
    Ok(())
}

/// `s[r]`, cut short where `s` is: a gradient or a state shorter than its weights (the trainer
/// checks their shapes; a direct caller may not) updates as many floats as both hold, as the
/// element-wise zips do, and never reads past either.
fn clamped<'a>(s: &'a [f32], r: &std::ops::Range<usize>) -> &'a [f32] {
    &s[r.start.min(s.len())..r.end.min(s.len())]
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
        for (p, _, _) in pairs.iter().skip(self.m.len()) {
            self.m.push(vec![0.0; p.len()]);
            self.v.push(vec![0.0; p.len()]);
        }
        two_passes(
            &mut pairs,
            [&mut self.m, &mut self.v],
            &|p, g, [m, v]| {
                let (mut w, mut state) = (0u32, 0u32);
                for (((&p, &g), &m), &v) in p.iter().zip(g).zip(m).zip(v) {
                    let [p, m, v] = adam1(k, p, g, m, v);
                    w = w.max(p.to_bits() & EXP);
                    state = state.max((m.to_bits() & EXP).max(v.to_bits() & EXP));
                }
                (w, state)
            },
            &|p, g, [m, v]| {
                for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
                    [*p, *m, *v] = adam1(k, *p, g, *m, *v);
                }
            },
        )?;
        self.t = t;
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
        for (p, _, _) in pairs.iter().skip(self.v.len()) {
            self.v.push(vec![0.0; p.len()]);
        }
        two_passes(
            &mut pairs,
            [&mut self.v],
            &|p, g, [v]| {
                let (mut w, mut state) = (0u32, 0u32);
                for ((&p, &g), &v) in p.iter().zip(g).zip(v) {
                    let vel = mu * v + g;
                    w = w.max((p - lr * vel).to_bits() & EXP);
                    state = state.max(vel.to_bits() & EXP);
                }
                (w, state)
            },
            &|p, g, [v]| {
                for ((p, &g), v) in p.iter_mut().zip(g).zip(v.iter_mut()) {
                    *v = mu * *v + g;
                    *p -= lr * *v;
                }
            },
        )
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

    /// Cut into parts on the pool's threads (1 to 4 parts, forced), a step gives the same bits
    /// as in one part: weights, state, and which step is refused.
    #[test]
    fn a_step_in_parts_is_the_step_in_one() {
        use crate::threadpool::with_tasks;
        let mut rng = crate::rng::Rng::new(0x0b7_5eed);
        let mut t = |shape: &[usize], scale: f32| {
            let n = shape.iter().product();
            Tensor::new(rng.uniform_vec(n, -scale, scale), shape).unwrap()
        };
        // Two layers: 13 × 7 weights (rows of 7 floats) and a 3 × 2 × 5 kernel.
        let params = vec![
            (t(&[13, 7], 1.0), t(&[13], 1.0)),
            (t(&[3, 2, 5], 1.0), t(&[3], 1.0)),
        ];
        let grads: Vec<Grads> = (0..3)
            .map(|_| {
                vec![
                    (t(&[13, 7], 2.0), t(&[13], 2.0)),
                    (t(&[3, 2, 5], 2.0), t(&[3], 2.0)),
                ]
            })
            .collect();
        let bits = |ps: &[(Tensor, Tensor)]| -> Vec<u32> {
            ps.iter()
                .flat_map(|(w, b)| w.data().iter().chain(b.data()).map(|v| v.to_bits()))
                .collect()
        };
        let mut bad = grads[0].clone();
        bad[1].0.data_mut()[17] = 3e38;
        let run = |tasks: usize, mut opt: Box<dyn Optimizer>| {
            let mut ps = params.clone();
            let mut out = Vec::new();
            with_tasks(tasks, || {
                for g in &grads {
                    let refs = ps.iter_mut().map(|(w, b)| (w, b)).collect();
                    opt.step(refs, g).unwrap();
                    out.push(bits(&ps));
                }
                opt.set_lr(1e30);
                let refs = ps.iter_mut().map(|(w, b)| (w, b)).collect();
                out.push(vec![match opt.step(refs, &bad) {
                    Ok(()) => 0,
                    Err(Broken::State) => 1,
                    Err(Broken::Layer(l)) => 2 + l as u32,
                }]);
                out.push(bits(&ps));
            });
            out
        };
        for make in [
            || -> Box<dyn Optimizer> { Box::new(Adam::new(0.01)) },
            || -> Box<dyn Optimizer> { Box::new(Sgd::new(0.05, 0.9)) },
            || -> Box<dyn Optimizer> { Box::new(Sgd::new(0.1, 0.0)) },
        ] {
            let one = run(1, make());
            assert_ne!(one[3], [0], "the last step is refused");
            for tasks in 2..=4 {
                assert_eq!(run(tasks, make()), one, "{tasks} parts");
            }
        }
    }

    /// Gradients shorter than their weights (a direct caller's mistake; the trainer checks
    /// shapes first) update the floats both hold, in one part or several, and never panic.
    #[test]
    fn short_gradients_update_what_they_cover() {
        use crate::threadpool::with_tasks;
        for tasks in [1, 3] {
            for mut opt in [
                Box::new(Sgd::new(0.5, 0.0)) as Box<dyn Optimizer>,
                Box::new(Adam::new(0.5)),
            ] {
                let mut w = Tensor::new(vec![1.0; 12], &[6, 2]).unwrap();
                let mut b = Tensor::new(vec![1.0; 6], &[6]).unwrap();
                let g = vec![(
                    Tensor::new(vec![1.0; 5], &[5]).unwrap(),
                    Tensor::new(vec![1.0; 2], &[2]).unwrap(),
                )];
                with_tasks(tasks, || opt.step(vec![(&mut w, &mut b)], &g)).unwrap();
                let moved = |t: &Tensor| t.data().iter().filter(|&&v| v != 1.0).count();
                assert_eq!((moved(&w), moved(&b)), (5, 2), "{tasks} parts");
            }
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
