//! Training-time augmentation: the random distortions (affine map, thicker or thinner
//! strokes) that make the models recognise mouse-drawn digits.

use super::{PIXELS, SIDE};
use crate::rng::Rng;

/// How strongly to distort training digits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Augment {
    /// Probability that a sample is distorted at all.
    pub prob: f32,
    /// Largest rotation, degrees.
    pub rotate_deg: f32,
    /// Largest relative change of scale (0.1 = 0.9..1.1), drawn per axis around a common one.
    pub scale: f32,
    /// Largest shift, pixels.
    pub shift: f32,
    /// Largest shear.
    pub shear: f32,
    /// Probability of thickening the strokes (3×3 dilation), and of thinning them (erosion).
    pub thicken: f32,
    pub thin: f32,
}

impl Default for Augment {
    fn default() -> Self {
        Augment {
            prob: 1.0,
            rotate_deg: 12.0,
            scale: 0.12,
            shift: 2.5,
            shear: 0.15,
            thicken: 0.2,
            thin: 0.15,
        }
    }
}

/// Writes a randomly distorted copy of `src` (28×28, 0..1) into `dst`: an affine map about the
/// centre (rotation, scale, shear, shift) with bilinear sampling, then sometimes a dilation or an
/// erosion of the strokes.
pub fn augment(src: &[f32], dst: &mut [f32], a: &Augment, rng: &mut Rng) {
    if rng.unit() >= a.prob {
        dst[..PIXELS].copy_from_slice(&src[..PIXELS]);
        return;
    }
    let angle = rng.uniform(-a.rotate_deg, a.rotate_deg).to_radians();
    let s = 1.0 + rng.uniform(-a.scale, a.scale);
    let sx = s * (1.0 + rng.uniform(-a.scale, a.scale) * 0.5);
    let sy = s * (1.0 + rng.uniform(-a.scale, a.scale) * 0.5);
    let sh = rng.uniform(-a.shear, a.shear);
    let (tx, ty) = (
        rng.uniform(-a.shift, a.shift),
        rng.uniform(-a.shift, a.shift),
    );
    let (c, sn) = (angle.cos(), angle.sin());
    // Forward map M = R · Shear · S; sample with its inverse.
    let (m00, m01, m10, m11) = (
        c * sx,
        c * sh * sy - sn * sy,
        sn * sx,
        sn * sh * sy + c * sy,
    );
    let det = m00 * m11 - m01 * m10;
    let (i00, i01, i10, i11) = (m11 / det, -m01 / det, -m10 / det, m00 / det);
    let ctr = SIDE as f32 / 2.0 - 0.5;
    let mut tmp = [0.0f32; PIXELS];
    for y in 0..SIDE {
        for x in 0..SIDE {
            let (u, v) = (x as f32 - ctr - tx, y as f32 - ctr - ty);
            let (px, py) = (i00 * u + i01 * v + ctr, i10 * u + i11 * v + ctr);
            tmp[y * SIDE + x] = bilinear(src, px, py);
        }
    }
    let r = rng.unit();
    if r < a.thicken {
        morph(&tmp, dst, true);
    } else if r < a.thicken + a.thin {
        morph(&tmp, dst, false);
    } else {
        dst[..PIXELS].copy_from_slice(&tmp);
    }
}

fn bilinear(img: &[f32], x: f32, y: f32) -> f32 {
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let at = |xi: f32, yi: f32| -> f32 {
        if xi < 0.0 || yi < 0.0 || xi >= SIDE as f32 || yi >= SIDE as f32 {
            0.0
        } else {
            img[yi as usize * SIDE + xi as usize]
        }
    };
    let top = at(x0, y0) * (1.0 - fx) + at(x0 + 1.0, y0) * fx;
    let bot = at(x0, y0 + 1.0) * (1.0 - fx) + at(x0 + 1.0, y0 + 1.0) * fx;
    top * (1.0 - fy) + bot * fy
}

/// Grey-level dilation (`grow`) or a soft erosion over a plus-shaped neighbourhood. The erosion
/// is blended halfway with the original so thin strokes get thinner rather than vanish.
fn morph(src: &[f32], dst: &mut [f32], grow: bool) {
    for y in 0..SIDE {
        for x in 0..SIDE {
            let mut v = src[y * SIDE + x];
            let c = v;
            for (dx, dy) in [(-1isize, 0isize), (1, 0), (0, -1), (0, 1)] {
                let (nx, ny) = (x as isize + dx, y as isize + dy);
                let n = if (0..SIDE as isize).contains(&nx) && (0..SIDE as isize).contains(&ny) {
                    src[ny as usize * SIDE + nx as usize]
                } else {
                    0.0
                };
                v = if grow { v.max(n) } else { v.min(n) };
            }
            dst[y * SIDE + x] = if grow { v } else { 0.5 * (v + c) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn rng_and_augment_are_reproducible_and_finite() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        let mut img = [0.0f32; PIXELS];
        for (i, v) in img.iter_mut().enumerate() {
            *v = ((i * 37) % 11) as f32 / 10.0;
        }
        let (mut o1, mut o2) = ([0.0f32; PIXELS], [0.0f32; PIXELS]);
        for _ in 0..20 {
            augment(&img, &mut o1, &Augment::default(), &mut a);
            augment(&img, &mut o2, &Augment::default(), &mut b);
            assert_eq!(o1, o2);
            assert!(o1
                .iter()
                .all(|v| v.is_finite() && (0.0..=1.0001).contains(v)));
        }
        let mut v: Vec<usize> = (0..100).collect();
        a.shuffle(&mut v);
        let mut s = v.clone();
        s.sort();
        assert_eq!(s, (0..100).collect::<Vec<_>>());
        assert_ne!(v, s);
    }
}
