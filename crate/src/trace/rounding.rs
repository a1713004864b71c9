//! Sums whose shown terms add up to the shown total: the explanations' and the Σ lines'
//! rounding. Exact for any finite f32 terms (each term is an integer times a power of two, so
//! the sum and every term's floor are computed as big integers, never in floating point), and
//! O(n log n): one sort of the remainders, whatever the total asks for.

use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{FromPrimitive, ToPrimitive, Zero};
use serde::Serialize;

use crate::error::{Error, Result};

/// The terms of a sum and the sum, rounded to `decimals` places so that the shown terms add up
/// to the shown sum (largest remainder: each term rounded down, then the units the rounded sum
/// still needs go to the terms with the largest remainders).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoundedSum {
    pub terms: Vec<f64>,
    pub total: f64,
}

/// Largest number of decimals [`rounded_sum`] takes.
pub const MAX_DECIMALS: u32 = 6;

/// The exponent of f32's smallest subnormal: every finite f32 is an integer times 2^−149.
const MIN_EXP: i32 = 149;

/// `v` as `m · 2^e` with `m` an integer (exact for every finite f32).
fn parts(v: f32) -> (i64, i32) {
    let bits = v.to_bits();
    let sign = if bits >> 31 == 1 { -1 } else { 1 };
    let exp = ((bits >> 23) & 0xff) as i32;
    let frac = (bits & 0x7f_ffff) as i64;
    let (m, e) = if exp == 0 {
        (frac, -MIN_EXP)
    } else {
        (frac | 0x80_0000, exp - 127 - 23)
    };
    (sign * m, e)
}

/// `v · 10^decimals` in units of 2^−149: an exact integer.
fn scaled(v: f32, ten: &BigInt) -> BigInt {
    let (m, e) = parts(v);
    (BigInt::from(m) * ten) << (e + MIN_EXP) as usize
}

/// One term: its floor in units of 10^−decimals, and its remainder in [0, 1) (for ordering).
struct Term {
    floor: BigInt,
    rest: f64,
}

fn terms(values: &[f32], ten: &BigInt) -> (Vec<Term>, BigInt) {
    let one = BigInt::from(1) << MIN_EXP as usize;
    let mut sum = BigInt::zero();
    let terms = values
        .iter()
        .map(|&v| {
            let x = scaled(v, ten);
            sum += &x;
            let (floor, rem) = x.div_mod_floor(&one);
            // rem < 2^149: its leading bits are all the ordering needs.
            let rest = rem.to_f64().unwrap_or(0.0) / 2f64.powi(MIN_EXP);
            Term { floor, rest }
        })
        .collect();
    (terms, sum)
}

fn check_terms(values: &[f32], decimals: u32) -> Result<()> {
    if decimals > MAX_DECIMALS {
        return Err(Error::param(
            "decimals",
            decimals,
            format!("must be at most {MAX_DECIMALS}"),
        ));
    }
    if values.iter().any(|v| !v.is_finite()) {
        return Err(Error::shape("the terms contain a NaN or infinite value"));
    }
    Ok(())
}

/// The terms and their sum rounded to `decimals` places (the sum to the nearest, halves away
/// from zero), the terms so that they add up to it exactly.
pub fn rounded_sum(values: &[f32], decimals: u32) -> Result<RoundedSum> {
    check_terms(values, decimals)?;
    let ten = BigInt::from(10u32).pow(decimals);
    let (terms, sum) = terms(values, &ten);
    // round(sum / 2^149), halves away from zero.
    let half = BigInt::from(1) << (MIN_EXP - 1) as usize;
    let one = BigInt::from(1) << MIN_EXP as usize;
    let total = if sum >= BigInt::zero() {
        (sum + half).div_floor(&one)
    } else {
        -((-sum + half).div_floor(&one))
    };
    Ok(share(terms, total, decimals))
}

/// The terms rounded to `decimals` places so that they add up to `total` (itself a multiple of
/// 10^−decimals, e.g. a term of a sum one level up that was rounded already): each term rounded
/// down, then the units still needed go to the terms with the largest remainders (or, when
/// fewer are needed, come off those with the smallest); a total far from the terms' sum is
/// shared out evenly first.
pub fn rounded_sum_to(values: &[f32], decimals: u32, total: f64) -> Result<RoundedSum> {
    check_terms(values, decimals)?;
    if !total.is_finite() {
        return Err(Error::param("total", total, "must be a finite number"));
    }
    let ten = BigInt::from(10u32).pow(decimals);
    let (terms, _) = terms(values, &ten);
    // A whole number of units (f64 → big integer is exact for a whole f64).
    let units = BigInt::from_f64((total * 10f64.powi(decimals as i32)).round()).unwrap_or_default();
    Ok(share(terms, units, decimals))
}

/// Adds `total − Σ floors` units to the terms: `q` to each (`q` = that difference divided by
/// n, rounded down), then one more to the `r` terms with the largest remainders.
fn share(terms: Vec<Term>, total: BigInt, decimals: u32) -> RoundedSum {
    let scale = 10f64.powi(decimals as i32);
    if terms.is_empty() {
        return RoundedSum {
            terms: vec![],
            total: 0.0,
        };
    }
    let n = BigInt::from(terms.len());
    let have: BigInt = terms.iter().map(|t| &t.floor).sum();
    let (q, r) = (&total - have).div_mod_floor(&n);
    let r = r.to_usize().unwrap_or(0);
    let mut order: Vec<usize> = (0..terms.len()).collect();
    order.sort_by(|&a, &b| terms[b].rest.total_cmp(&terms[a].rest));
    let mut units: Vec<BigInt> = terms.into_iter().map(|t| t.floor + &q).collect();
    for &i in &order[..r] {
        units[i] += 1;
    }
    let shown = |u: &BigInt| u.to_f64().unwrap_or(f64::NAN) / scale;
    RoundedSum {
        terms: units.iter().map(shown).collect(),
        total: shown(&units.iter().sum()),
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::rng::Rng;

    #[test]
    fn rounded_terms_add_up_to_the_rounded_sum() {
        let box9 = [1.0f32 / 9.0; 9];
        let r = rounded_sum(&box9, 3).unwrap();
        assert_eq!(r.total, 1.0);
        let units: i64 = r.terms.iter().map(|t| (t * 1000.0).round() as i64).sum();
        assert_eq!(units, 1000);
        assert!(r.terms.iter().all(|&t| t == 0.111 || t == 0.112));
        let r = rounded_sum(&box9[..3], 3).unwrap();
        assert_eq!((r.terms.clone(), r.total), (vec![0.111; 3], 0.333));
        let mut rng = Rng::new(5);
        for n in 1..40 {
            let v: Vec<f32> = (0..n).map(|_| rng.uniform(-3.0, 3.0)).collect();
            let r = rounded_sum(&v, 2).unwrap();
            let units: i64 = r.terms.iter().map(|t| (t * 100.0).round() as i64).sum();
            assert_eq!(units, (r.total * 100.0).round() as i64, "{v:?}");
            let exact: f64 = v.iter().map(|&x| x as f64).sum();
            assert!((r.total - exact).abs() <= 0.005 + 1e-9);
            for (t, &x) in r.terms.iter().zip(&v) {
                assert!((t - x as f64).abs() < 0.01 + 1e-9, "{t} vs {x}");
            }
        }
        assert!(rounded_sum(&[f32::NAN], 2).is_err());
        assert!(rounded_sum(&[1.0], 7).is_err());
    }

    #[test]
    fn every_finite_f32_splits_exactly() {
        let mut rng = Rng::new(11);
        let specials = [
            0.0,
            -0.0,
            f32::MIN_POSITIVE,
            1e-45,
            -1e-45,
            f32::MAX,
            f32::MIN,
            1.0,
            -0.5,
        ];
        let randoms = (0..2000)
            .map(|_| f32::from_bits(rng.next_u32()))
            .filter(|v| v.is_finite());
        for v in specials.into_iter().chain(randoms) {
            let (m, e) = parts(v);
            assert_eq!(m as f64 * 2f64.powi(e), v as f64, "{v:e}");
        }
    }

    #[test]
    fn huge_and_tiny_terms_sum_exactly_and_at_once() {
        // 2^75 + (2^22 + 0.5) − 2^75 = 4194304.5: the total is 4194305 (half away from zero),
        // and the terms add up to it; f64 sums would lose the middle term.
        let big = 2f32.powi(75);
        let r = rounded_sum(&[big, 4194304.5, -big], 0).unwrap();
        assert_eq!(r.total, 4194305.0);
        assert_eq!(r.terms, vec![big as f64, 4194305.0, -(big as f64)]);
        let r = rounded_sum(&[big, 4194304.5, -big], 1).unwrap();
        assert_eq!(r.total, 4194304.5);
        // 3,072 copies of those terms: exact, and quick (no unit-by-unit loop).
        let many: Vec<f32> = (0..3072).flat_map(|_| [big, 4194304.5, -big]).collect();
        let r = rounded_sum(&many, 0).unwrap();
        assert_eq!(r.total, 4194304.5 * 3072.0);
        let up = r.terms.iter().filter(|&&t| t == 4194305.0).count();
        let down = r.terms.iter().filter(|&&t| t == 4194304.0).count();
        assert_eq!((up, down), (1536, 1536));
        // The largest and smallest magnitudes together.
        let r = rounded_sum(&[f32::MAX, 1e-45, -f32::MAX, 0.25], 1).unwrap();
        assert_eq!(r.total, 0.3);
        // Halves away from zero on both sides.
        assert_eq!(rounded_sum(&[-2.5], 0).unwrap().total, -3.0);
        assert_eq!(rounded_sum(&[2.5], 0).unwrap().total, 3.0);
    }

    /// Random adversarial terms (huge values that cancel, subnormals, any bits) against an
    /// independent exact reference: each f32 times 2^149 is an integer that f64 holds exactly,
    /// so the sum is a big integer made without `parts`; rounded half away from zero.
    #[test]
    fn totals_match_a_big_integer_reference() {
        let exact_units = |v: &[f32], d: u32| -> BigInt {
            let sum: BigInt = v
                .iter()
                .map(|&x| BigInt::from_f64(x as f64 * 2f64.powi(MIN_EXP)).unwrap())
                .sum();
            let s = sum * BigInt::from(10u32).pow(d);
            let one = BigInt::from(1) << MIN_EXP as usize;
            let half = &one >> 1usize;
            if s >= BigInt::zero() {
                (s + half) / one
            } else {
                -((-s + half) / one)
            }
        };
        let mut rng = Rng::new(23);
        for case in 0..300 {
            let n = 1 + rng.below(if case % 10 == 0 { 3000 } else { 12 });
            let mut v = Vec::new();
            for _ in 0..n {
                let big = match rng.below(5) {
                    0 => f32::MAX,
                    1 => 2f32.powi(75 + rng.below(50) as i32),
                    2 => f32::from_bits(rng.next_u32() & 0x7f7f_ffff),
                    3 => 1e-45 * (1 + rng.below(9)) as f32,
                    _ => rng.uniform(-4.0, 4.0),
                };
                let small = match rng.below(3) {
                    0 => 4194304.5,
                    1 => rng.uniform(-1.0, 1.0),
                    _ => f32::from_bits(rng.next_u32() & 0x807f_ffff), // subnormal
                };
                v.extend([big, small, -big]);
            }
            let d = rng.below(MAX_DECIMALS as usize + 1) as u32;
            let r = rounded_sum(&v, d).unwrap();
            let want = exact_units(&v, d).to_f64().unwrap() / 10f64.powi(d as i32);
            assert_eq!(r.total, want, "case {case}: {n} triples, {d} decimals");
            assert_eq!(r.terms.len(), v.len());
        }
    }

    #[test]
    fn a_total_far_from_the_sum_is_shared_out_at_once() {
        // A total of 10^15 units over three terms: each gets a third, no unit-by-unit loop.
        let r = rounded_sum_to(&[0.1, 0.2, 0.3], 3, 1e12).unwrap();
        assert_eq!(r.total, 1e12);
        let units: Vec<i64> = r
            .terms
            .iter()
            .map(|t| (t * 1000.0).round() as i64)
            .collect();
        assert_eq!(units.iter().sum::<i64>(), 1_000_000_000_000_000);
        assert!(units.iter().max().unwrap() - units.iter().min().unwrap() <= 1000);
        // A negative total takes units off the smallest remainders first.
        let r = rounded_sum_to(&[0.26, 0.24, 0.5], 1, 0.8).unwrap();
        assert_eq!(r.terms, vec![0.2, 0.2, 0.4]);
        assert!(rounded_sum_to(&[1.0], 1, f64::NAN).is_err());
    }
}
