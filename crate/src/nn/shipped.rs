//! The shipped models (`data/models/{slp,mlp,cnn}.safetensors`), embedded for tests, and the
//! fixture that pins their outputs: `data/models/fixture.bin` holds the first 100 MNIST test
//! images and, per model, the native logits and probabilities for each. The wasm tests run the
//! same images and compare (|Δ| ≤ 1e-5); a native test checks the fixture is current
//! (`CONVSCOPE_WRITE_FIXTURE=1 cargo test -p convscope --profile ci fixture` rewrites it).

use super::infer::Inference;
use super::{Model, Preset};
use crate::error::{Error, Result};

pub const SLP: &[u8] = include_bytes!("../../../data/models/slp.safetensors");
pub const MLP: &[u8] = include_bytes!("../../../data/models/mlp.safetensors");
pub const CNN: &[u8] = include_bytes!("../../../data/models/cnn.safetensors");
pub const FIXTURE: &[u8] = include_bytes!("../../../data/models/fixture.bin");

/// The embedded weights of `arch`.
pub fn bytes(arch: Preset) -> &'static [u8] {
    match arch {
        Preset::Slp => SLP,
        Preset::Mlp => MLP,
        Preset::Cnn => CNN,
    }
}

const MAGIC: &[u8; 8] = b"CSFIXT01";
pub const FIXTURE_IMAGES: usize = 100;

/// Outputs of one model on the fixture images: per image, 10 logits then 10 probabilities.
pub fn outputs(model: &Model, images: &[u8]) -> Result<Vec<f32>> {
    let mut inf = Inference::new(model)?;
    let n = inf.num_activations();
    let mut out = Vec::new();
    let mut px = [0.0f32; 784];
    for img in images.chunks_exact(784) {
        for (p, &v) in px.iter_mut().zip(img) {
            *p = v as f32 / 255.0;
        }
        inf.run(&px)?;
        out.extend_from_slice(inf.activation(n - 2).expect("logits"));
        out.extend_from_slice(inf.probabilities());
    }
    Ok(out)
}

/// Builds the fixture from the first 100 test images (u8) and the three shipped models.
#[cfg(not(target_arch = "wasm32"))]
pub fn build_fixture(images: &[u8]) -> Result<Vec<u8>> {
    let mut v = MAGIC.to_vec();
    v.extend_from_slice(&(FIXTURE_IMAGES as u32).to_le_bytes());
    v.extend_from_slice(&images[..FIXTURE_IMAGES * 784]);
    for arch in Preset::ALL {
        let m = Model::from_safetensors(bytes(arch))?;
        for x in outputs(&m, &images[..FIXTURE_IMAGES * 784])? {
            v.extend_from_slice(&x.to_le_bytes());
        }
    }
    Ok(v)
}

/// Splits a fixture into its images and the per-model outputs (in [`Preset::ALL`] order).
pub fn parse_fixture(b: &[u8]) -> Result<(&[u8], Vec<Vec<f32>>)> {
    let per_model = FIXTURE_IMAGES * 20;
    let want = 12 + FIXTURE_IMAGES * 784 + 3 * per_model * 4;
    if b.len() != want || &b[..8] != MAGIC {
        return Err(Error::Data(format!(
            "fixture.bin: {} bytes, expected {want} starting with CSFIXT01",
            b.len()
        )));
    }
    let images = &b[12..12 + FIXTURE_IMAGES * 784];
    let floats: Vec<f32> = b[12 + FIXTURE_IMAGES * 784..]
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    Ok((
        images,
        floats.chunks(per_model).map(|c| c.to_vec()).collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// Runs natively and in wasm (Chromium): this build's forward equals the native one.
    #[test]
    fn forward_matches_the_native_fixture() {
        let (images, expected) = parse_fixture(FIXTURE).unwrap();
        for (arch, want) in Preset::ALL.into_iter().zip(expected) {
            let m = Model::from_safetensors(bytes(arch)).unwrap();
            let got = outputs(&m, images).unwrap();
            let mut worst = 0.0f32;
            for (g, w) in got.iter().zip(&want) {
                worst = worst.max((g - w).abs() / w.abs().max(1.0));
            }
            assert!(worst <= 1e-5, "{arch:?}: largest difference {worst}");
        }
    }

    #[test]
    fn shipped_models_fit_the_budget() {
        let total = SLP.len() + MLP.len() + CNN.len();
        assert!(total <= 500 * 1024, "{total} bytes");
        let cnn = Model::from_safetensors(CNN).unwrap();
        assert_eq!(cnn.preset(), Some(Preset::Cnn));
        assert!(cnn.num_params() <= 100_000);
        assert_eq!(
            Model::from_safetensors(SLP).unwrap().preset(),
            Some(Preset::Slp)
        );
        assert_eq!(
            Model::from_safetensors(MLP).unwrap().preset(),
            Some(Preset::Mlp)
        );
    }

    #[cfg(not(target_arch = "wasm32"))]
    mod native {
        use super::super::*;
        use crate::mnist;
        use crate::nn::train::accuracy;
        use crate::rng::Rng;
        use std::path::PathBuf;

        fn root() -> PathBuf {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
        }

        fn test_set() -> mnist::Dataset {
            mnist::load(root().join("data/mnist"), "t10k").unwrap()
        }

        #[test]
        fn fixture_is_current() {
            let test = test_set();
            let fresh = build_fixture(&test.images.pixels[..FIXTURE_IMAGES * 784]).unwrap();
            if std::env::var_os("CONVSCOPE_WRITE_FIXTURE").is_some() {
                std::fs::write(root().join("data/models/fixture.bin"), &fresh).unwrap();
                return;
            }
            let (img_a, out_a) = parse_fixture(&fresh).unwrap();
            let (img_b, out_b) = parse_fixture(FIXTURE).unwrap();
            assert_eq!(
                img_a, img_b,
                "fixture images are not the first 100 test images"
            );
            for (a, b) in out_a.iter().zip(&out_b) {
                for (x, y) in a.iter().zip(b) {
                    assert!(
                        (x - y).abs() <= 1e-6 * x.abs().max(1.0),
                        "fixture.bin is stale ({x} vs {y}): rerun with CONVSCOPE_WRITE_FIXTURE=1"
                    );
                }
            }
        }

        /// Accuracy of each shipped model on all 10,000 test images.
        #[test]
        fn shipped_models_reach_their_accuracy() {
            let test = test_set();
            for (arch, target) in [
                (Preset::Slp, 0.915),
                (Preset::Mlp, 0.975),
                (Preset::Cnn, 0.992),
            ] {
                let m = Model::from_safetensors(bytes(arch)).unwrap();
                let acc = accuracy(&m, &test).unwrap();
                println!("{}: {:.2}%", arch.name(), acc * 100.0);
                assert!(acc >= target, "{arch:?}: {acc} < {target}");
            }
        }

        /// The slp's class templates look like the digits: for every class, the centred cosine
        /// between its template and the class's mean test image is at least 0.6. The mlp's
        /// effective templates (W₂·W₁, through hidden units that are not all active) are
        /// reported and held to 0.4.
        #[test]
        fn shipped_templates_look_like_digits() {
            use crate::nn::templates::{class_means, class_templates, template_cosines};
            let means = class_means(&test_set());
            for arch in [Preset::Slp, Preset::Mlp] {
                let m = Model::from_safetensors(bytes(arch)).unwrap();
                let cos = template_cosines(&class_templates(&m).unwrap(), &means);
                let line: Vec<String> = cos.iter().map(|(p, c)| format!("{p:.2}/{c:.2}")).collect();
                println!(
                    "{} cosine/centred, classes 0-9: {}",
                    arch.name(),
                    line.join(" ")
                );
                let bar = if arch == Preset::Slp { 0.6 } else { 0.4 };
                for (d, (_, c)) in cos.iter().enumerate() {
                    assert!(*c >= bar, "{arch:?} class {d}: centred cosine {c} < {bar}");
                }
            }
        }

        /// Draws a 28×28 digit onto a `w × h` RGBA canvas: its ink box scaled to `long` pixels
        /// (bilinear), top-left of the box at (`x0`, `y0`); `opaque` = black ink on white,
        /// else ink in the alpha channel of a transparent canvas.
        fn render(
            img: &[f32],
            w: usize,
            h: usize,
            long: f32,
            x0: f32,
            y0: f32,
            opaque: bool,
        ) -> Vec<u8> {
            let (mut bx0, mut by0, mut bx1, mut by1) = (28, 28, 0, 0);
            for y in 0..28 {
                for x in 0..28 {
                    if img[y * 28 + x] > 0.0 {
                        bx0 = bx0.min(x);
                        by0 = by0.min(y);
                        bx1 = bx1.max(x + 1);
                        by1 = by1.max(y + 1);
                    }
                }
            }
            let s = long / (bx1 - bx0).max(by1 - by0) as f32; // canvas px per digit px
            let mut out = vec![0u8; w * h * 4];
            for cy in 0..h {
                for cx in 0..w {
                    let u = (cx as f32 + 0.5 - x0) / s + bx0 as f32 - 0.5;
                    let v = (cy as f32 + 0.5 - y0) / s + by0 as f32 - 0.5;
                    let at = |x: i32, y: i32| {
                        if (0..28).contains(&x) && (0..28).contains(&y) {
                            img[y as usize * 28 + x as usize]
                        } else {
                            0.0
                        }
                    };
                    let (fx, fy) = (u.floor(), v.floor());
                    let (ax, ay) = (u - fx, v - fy);
                    let (ix, iy) = (fx as i32, fy as i32);
                    let ink = (at(ix, iy) * (1.0 - ax) + at(ix + 1, iy) * ax) * (1.0 - ay)
                        + (at(ix, iy + 1) * (1.0 - ax) + at(ix + 1, iy + 1) * ax) * ay;
                    let q = (ink.clamp(0.0, 1.0) * 255.0).round() as u8;
                    let p = &mut out[(cy * w + cx) * 4..][..4];
                    if opaque {
                        p.copy_from_slice(&[255 - q, 255 - q, 255 - q, 255]);
                    } else {
                        p.copy_from_slice(&[20, 20, 20, q]);
                    }
                }
            }
            out
        }

        /// MNIST test digits shrunk, enlarged and moved around a 280×280 canvas, then
        /// preprocessed, keep their class (shipped cnn) at least 98% of the time.
        #[test]
        fn drawn_digits_keep_their_class_after_preprocessing() {
            let test = test_set();
            let m = Model::from_safetensors(CNN).unwrap();
            let mut inf = Inference::new(&m).unwrap();
            let mut rng = Rng::new(42);
            let (n, mut ok) = (1000, 0);
            let mut img = [0.0f32; 784];
            for i in 0..n {
                test.image_f32(i, &mut img);
                let long = rng.uniform(40.0, 250.0);
                let x0 = rng.uniform(0.0, 280.0 - long);
                let y0 = rng.uniform(0.0, 280.0 - long);
                let rgba = render(&img, 280, 280, long, x0, y0, i % 2 == 0);
                let px = mnist::preprocess(&rgba, 280, 280).unwrap().unwrap();
                inf.run(&px).unwrap();
                ok += (super::super::super::argmax(inf.probabilities()) == test.labels[i] as usize)
                    as usize;
            }
            let rate = ok as f32 / n as f32;
            println!(
                "preprocessed drawings classified correctly: {:.1}%",
                rate * 100.0
            );
            assert!(rate >= 0.98, "{rate}");
        }
    }
}
