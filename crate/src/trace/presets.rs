//! The scenes' preset inputs and kernels. They live here, not in the page, so the page does
//! no arithmetic at all (the random ones are seeded and the same everywhere).

use super::{Rng, MAX_KERNEL, MAX_SIDE};
use crate::error::{Error, Result};

/// Names of the preset images, in the order a menu shows them.
pub const IMAGES: &[&str] = &["edges", "letter", "dot", "ones", "checker", "random"];
/// Names of the preset kernels.
pub const KERNELS: &[&str] = &[
    "delta",
    "box",
    "sobel-x",
    "sobel-y",
    "laplacian",
    "ones",
    "bilinear",
    "random",
];

/// A 7×7 capital A, scaled to the requested size by nearest neighbour.
const LETTER: [&str; 7] = [
    "..###..", ".#...#.", "#.....#", "#######", "#.....#", "#.....#", "#.....#",
];

/// An `h × w` preset image with values in 0..=1 (random: −1..1).
pub fn image(name: &str, h: usize, w: usize, seed: u32) -> Result<Vec<f32>> {
    if h == 0 || w == 0 || h > MAX_SIDE || w > MAX_SIDE {
        return Err(Error::shape(format!(
            "preset image is {h}×{w}; each side must be between 1 and {MAX_SIDE}"
        )));
    }
    let mut out = vec![0.0; h * w];
    match name {
        "edges" => {
            // A bright rectangle with a dimmer bar: vertical, horizontal and corner edges.
            for r in 0..h {
                for c in 0..w {
                    let inside = r >= h / 4 && r < h - h / 4 && c >= w / 4 && c < w - w / 4;
                    let bar = c >= w / 2 && r >= h / 2;
                    out[r * w + c] = if inside {
                        1.0
                    } else if bar {
                        0.5
                    } else {
                        0.0
                    };
                }
            }
        }
        "letter" => {
            let (mh, mw) = (h.saturating_sub(2).max(1), w.saturating_sub(2).max(1));
            for r in 0..mh {
                for c in 0..mw {
                    let row = LETTER[r * 7 / mh].as_bytes();
                    if row[c * 7 / mw] == b'#' {
                        out[(r + (h - mh) / 2) * w + c + (w - mw) / 2] = 1.0;
                    }
                }
            }
        }
        "dot" => out[(h / 2) * w + w / 2] = 1.0,
        "ones" => out.fill(1.0),
        "checker" => {
            for r in 0..h {
                for c in 0..w {
                    out[r * w + c] = ((r + c) % 2) as f32;
                }
            }
        }
        "random" => {
            let mut rng = Rng::new(u64::from(seed));
            out.iter_mut().for_each(|v| *v = rng.eighth());
        }
        _ => {
            return Err(Error::param(
                "preset",
                name,
                format!("expected one of {IMAGES:?}"),
            ))
        }
    }
    Ok(out)
}

/// A preset kernel of side `k` (Sobel and Laplacian are always 3×3). Returns the values and
/// the side actually used.
pub fn kernel(name: &str, k: usize, seed: u32) -> Result<(Vec<f32>, usize)> {
    if k == 0 || k > MAX_KERNEL {
        return Err(Error::param(
            "kernel_size",
            k,
            format!("must be 1 to {MAX_KERNEL}"),
        ));
    }
    let fixed = |v: [f32; 9]| Ok((v.to_vec(), 3));
    match name {
        "delta" => {
            let mut v = vec![0.0; k * k];
            v[(k / 2) * k + k / 2] = 1.0;
            Ok((v, k))
        }
        "box" => Ok((vec![1.0 / (k * k) as f32; k * k], k)),
        "ones" => Ok((vec![1.0; k * k], k)),
        "sobel-x" => fixed([-1.0, 0.0, 1.0, -2.0, 0.0, 2.0, -1.0, 0.0, 1.0]),
        "sobel-y" => fixed([-1.0, -2.0, -1.0, 0.0, 0.0, 0.0, 1.0, 2.0, 1.0]),
        "laplacian" => fixed([0.0, 1.0, 0.0, 1.0, -4.0, 1.0, 0.0, 1.0, 0.0]),
        "bilinear" => {
            // The tent (1 − |x − centre| / ⌈k/2⌉) in each direction: the kernel that makes a
            // stride-2 transposed convolution a bilinear upsampler when k = 4.
            let f = k.div_ceil(2) as f32;
            let c = (k as f32 - 1.0) / 2.0;
            let tent: Vec<f32> = (0..k).map(|i| 1.0 - (i as f32 - c).abs() / f).collect();
            let v = (0..k * k).map(|i| tent[i / k] * tent[i % k]).collect();
            Ok((v, k))
        }
        "random" => {
            let mut rng = Rng::new(u64::from(seed));
            Ok(((0..k * k).map(|_| rng.eighth()).collect(), k))
        }
        _ => Err(Error::param(
            "preset",
            name,
            format!("expected one of {KERNELS:?}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn every_preset_has_the_requested_size() {
        for name in IMAGES {
            for (h, w) in [(1, 1), (5, 9), (28, 28)] {
                assert_eq!(image(name, h, w, 3).unwrap().len(), h * w, "{name}");
            }
        }
        for name in KERNELS {
            for k in 1..=5 {
                let (v, side) = kernel(name, k, 3).unwrap();
                assert_eq!(v.len(), side * side, "{name}");
            }
        }
        assert!(image("nope", 3, 3, 0).is_err());
        assert!(kernel("nope", 3, 0).is_err());
        assert!(kernel("box", 0, 0).is_err());
    }

    #[test]
    fn bilinear_4_is_the_bilinear_upsampler() {
        let (v, _) = kernel("bilinear", 4, 0).unwrap();
        assert_eq!(&v[..4], &[0.0625, 0.1875, 0.1875, 0.0625]);
    }
}
