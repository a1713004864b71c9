//! The project's one seeded random generator: weight initialisation, shuffling and
//! augmentation in training, and the random inputs of the property tests. SplitMix64: tiny,
//! fast, and the same sequence on every platform and build, so a seed names a result.
//!
//! Ranges, stated once: [`Rng::unit`] is in `[0, 1)`, [`Rng::uniform`] in `[lo, hi)`,
//! [`Rng::below`] in `0..n`, [`Rng::pick`] in `lo..=hi` (both ends included).

use std::ops::RangeInclusive;

/// A seeded SplitMix64 generator. Not for anything that needs unpredictability.
#[derive(Debug, Clone)]
pub struct Rng(u64);

/// SplitMix64's increment (the golden ratio in 64 bits); also mixed into the seed, so that
/// small seeds (0, 1, 2, …) start far apart.
const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

impl Rng {
    /// A generator whose whole sequence is fixed by `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ GOLDEN)
    }

    /// 64 uniformly random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// 32 uniformly random bits (the high half of [`Rng::next_u64`]).
    pub fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    /// Uniform in `[0, 1)`: a multiple of 2⁻²⁴, so exactly representable and never 1.
    pub fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Uniform in `[lo, hi)`, as `lo + (hi − lo)·unit()` (for `lo < hi`; f32 rounding can
    /// land on `hi` when the two are far apart in magnitude).
    pub fn uniform(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.unit()
    }

    /// `len` values of [`Rng::uniform`]`(lo, hi)`.
    pub fn uniform_vec(&mut self, len: usize, lo: f32, hi: f32) -> Vec<f32> {
        (0..len).map(|_| self.uniform(lo, hi)).collect()
    }

    /// Uniform integer in `0..n` (`n ≥ 1`; 0 when `n = 0`), by multiply-shift (no modulo
    /// bias worth the name: at most 2⁻³² relative for `n ≤ 2³²`).
    pub fn below(&mut self, n: usize) -> usize {
        let n = n as u64;
        if n <= 1 << 32 {
            (((self.next_u64() >> 32) * n) >> 32) as usize
        } else {
            ((self.next_u64() as u128 * n as u128) >> 64) as usize
        }
    }

    /// Uniform integer in `lo..=hi`, both ends included (`lo ≤ hi`).
    pub fn pick(&mut self, range: RangeInclusive<usize>) -> usize {
        let (lo, hi) = range.into_inner();
        lo + self.below(hi.saturating_sub(lo).saturating_add(1))
    }

    /// A standard normal sample (mean 0, variance 1; Box–Muller).
    /// One of the 16 values −1, −0.875, …, 0.875 (uniform on a 1/8 grid in [−1, 1)): numbers
    /// that stay readable in a cell of a scene (the traces' "random" presets).
    pub fn eighth(&mut self) -> f32 {
        self.below(16) as f32 / 8.0 - 1.0
    }

    pub fn normal(&mut self) -> f32 {
        let u1 = self.unit().max(1e-7);
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
    }

    /// Fisher–Yates shuffle: every order equally likely.
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            v.swap(i, self.below(i + 1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Rng;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn same_seed_same_sequence_and_seeds_differ() {
        let (mut a, mut b, mut c) = (Rng::new(7), Rng::new(7), Rng::new(8));
        let xs: Vec<u64> = (0..16).map(|_| a.next_u64()).collect();
        assert_eq!(xs, (0..16).map(|_| b.next_u64()).collect::<Vec<_>>());
        assert_ne!(xs, (0..16).map(|_| c.next_u64()).collect::<Vec<_>>());
    }

    #[test]
    fn every_draw_stays_in_its_documented_range() {
        let mut r = Rng::new(1);
        let (mut lo_seen, mut hi_seen) = (false, false);
        for _ in 0..20_000 {
            let u = r.unit();
            assert!((0.0..1.0).contains(&u), "unit {u}");
            let v = r.uniform(-3.0, 5.0);
            assert!((-3.0..5.0).contains(&v), "uniform {v}");
            let b = r.below(7);
            assert!(b < 7, "below {b}");
            let p = r.pick(2..=4);
            assert!((2..=4).contains(&p), "pick {p}");
            lo_seen |= p == 2;
            hi_seen |= p == 4;
        }
        // pick includes both ends
        assert!(lo_seen && hi_seen);
        assert_eq!(r.below(0), 0);
        assert_eq!(r.below(1), 0);
        assert_eq!(r.pick(5..=5), 5);
        assert!(r.below(usize::MAX) < usize::MAX);
    }

    #[test]
    fn moments_and_shuffle_look_right() {
        let mut r = Rng::new(3);
        let n = 40_000;
        let units: Vec<f32> = (0..n).map(|_| r.unit()).collect();
        let mean = units.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
        assert!((mean - 0.5).abs() < 0.01, "unit mean {mean}");
        let normals: Vec<f64> = (0..n).map(|_| r.normal() as f64).collect();
        let m = normals.iter().sum::<f64>() / n as f64;
        let var = normals.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n as f64;
        assert!(
            m.abs() < 0.03 && (var - 1.0).abs() < 0.05,
            "normal {m} {var}"
        );
        // every value of below(10) appears about n/10 times
        let mut counts = [0usize; 10];
        for _ in 0..n {
            counts[r.below(10)] += 1;
        }
        assert!(counts.iter().all(|&c| c > 3_600 && c < 4_400), "{counts:?}");
        let mut v: Vec<usize> = (0..50).collect();
        r.shuffle(&mut v);
        assert_ne!(v, (0..50).collect::<Vec<_>>());
        v.sort_unstable();
        assert_eq!(v, (0..50).collect::<Vec<_>>());
    }
}
