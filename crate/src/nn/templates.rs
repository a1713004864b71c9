//! How much a model's weights look like the digits: each class's template (the slp's weight
//! row; for the mlp the product W₂·W₁, the input pattern that raises the class's score while
//! every hidden unit is active), the mean image of each class, and the cosine between them,
//! plain and centred (the mean over the ten classes subtracted from both sides, which removes
//! what all digits share and leaves what tells them apart).

use super::{Layer, Model};
use crate::error::{Error, Result};
use crate::mnist::{Dataset, PIXELS};

/// The ten class templates of a dense model (784 values each), or an error for the cnn.
pub fn class_templates(model: &Model) -> Result<Vec<Vec<f32>>> {
    let dense: Vec<(&[f32], usize, usize)> = model
        .layers
        .iter()
        .filter_map(|l| match l {
            Layer::Linear { weight, .. } => {
                Some((weight.data(), weight.shape()[0], weight.shape()[1]))
            }
            _ => None,
        })
        .collect();
    if model
        .layers
        .iter()
        .any(|l| matches!(l, Layer::Conv2d { .. }))
        || dense.is_empty()
    {
        return Err(Error::param(
            "model",
            model.preset().map_or("this model", |p| p.name()),
            "class templates exist for models whose first weighted layer is dense (slp, mlp)",
        ));
    }
    // T = W_last · … · W_first, [10, 784], accumulated in f64.
    let (w0, o0, i0) = dense[0];
    let mut t: Vec<f64> = w0.iter().map(|&v| v as f64).collect();
    let (mut rows, cols) = (o0, i0);
    for &(w, o, i) in &dense[1..] {
        if i != rows {
            return Err(Error::shape("dense layers do not chain"));
        }
        let mut next = vec![0.0f64; o * cols];
        for r in 0..o {
            for k in 0..i {
                let a = w[r * i + k] as f64;
                for c in 0..cols {
                    next[r * cols + c] += a * t[k * cols + c];
                }
            }
        }
        t = next;
        rows = o;
    }
    Ok(t.chunks(cols)
        .map(|r| r.iter().map(|&v| v as f32).collect())
        .collect())
}

/// The mean image (0..1) of each class 0..9 in `data`.
pub fn class_means(data: &Dataset) -> Vec<Vec<f32>> {
    let mut sum = vec![vec![0.0f64; PIXELS]; 10];
    let mut count = [0usize; 10];
    for (i, &l) in data.labels.iter().enumerate() {
        count[l as usize] += 1;
        for (s, &p) in sum[l as usize].iter_mut().zip(data.images.image(i)) {
            *s += p as f64 / 255.0;
        }
    }
    sum.into_iter()
        .zip(count)
        .map(|(s, n)| s.iter().map(|&v| (v / n.max(1) as f64) as f32).collect())
        .collect()
}

/// The cosine of `x` with each row of `rows` (`rows.len()` a multiple of `x.len()`), in f64:
/// the dot product with both lengths divided out (0 when either is all zeros).
pub fn cosines(x: &[f32], rows: &[f32]) -> Result<Vec<f32>> {
    if x.is_empty() {
        return Err(crate::error::Error::param(
            "x",
            "empty",
            "must hold at least one value",
        ));
    }
    if !rows.len().is_multiple_of(x.len()) {
        return Err(crate::error::Error::param(
            "rows",
            format!("{} values", rows.len()),
            format!("must be whole rows of x's {} values", x.len()),
        ));
    }
    let a: Vec<f64> = x.iter().map(|&v| v as f64).collect();
    Ok(rows
        .chunks_exact(x.len())
        .map(|r| cosine(&a, &r.iter().map(|&v| v as f64).collect::<Vec<_>>()))
        .collect())
}

fn cosine(a: &[f64], b: &[f64]) -> f32 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f64 = a.iter().map(|x| x * x).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| x * x).sum::<f64>().sqrt();
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        (dot / (na * nb)) as f32
    }
}

fn centred(rows: &[Vec<f32>]) -> Vec<Vec<f64>> {
    let n = rows.len().max(1) as f64;
    let mut mean = vec![0.0f64; PIXELS];
    for r in rows {
        for (m, &v) in mean.iter_mut().zip(r) {
            *m += v as f64 / n;
        }
    }
    rows.iter()
        .map(|r| r.iter().zip(&mean).map(|(&v, m)| v as f64 - m).collect())
        .collect()
}

/// Per class: (cosine of template and class mean, the same after centring both over classes).
pub fn template_cosines(templates: &[Vec<f32>], means: &[Vec<f32>]) -> Vec<(f32, f32)> {
    let (ct, cm) = (centred(templates), centred(means));
    templates
        .iter()
        .zip(means)
        .zip(ct.iter().zip(&cm))
        .map(|((t, m), (a, b))| {
            let t: Vec<f64> = t.iter().map(|&v| v as f64).collect();
            let m: Vec<f64> = m.iter().map(|&v| v as f64).collect();
            (cosine(&t, &m), cosine(a, b))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::Preset;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn cosines_and_argmax_by_hand() {
        let c = cosines(&[1.0, 0.0], &[2.0, 0.0, 0.0, 3.0, -1.0, -1.0, 0.0, 0.0]).unwrap();
        assert_eq!(c[..2], [1.0, 0.0]);
        assert!(
            (c[2] + std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-7,
            "{}",
            c[2]
        );
        assert_eq!(c[3], 0.0, "a zero row has cosine 0");
        assert!(cosines(&[1.0, 2.0], &[1.0, 2.0, 3.0])
            .unwrap_err()
            .to_string()
            .contains("whole rows"));
        assert!(cosines(&[], &[]).is_err());
        use crate::nn::argmax;
        assert_eq!(argmax(&[0.5, 2.0, f32::NAN, 2.0, -1.0]), 1);
        assert_eq!(argmax(&[f32::NAN, -3.0]), 1, "NaN never wins");
    }

    #[test]
    fn templates_are_the_weight_product() {
        let m = Preset::Mlp.init(3);
        let t = class_templates(&m).unwrap();
        assert_eq!((t.len(), t[0].len()), (10, 784));
        let (w1, w2) = match (&m.layers[1], &m.layers[3]) {
            (Layer::Linear { weight: a, .. }, Layer::Linear { weight: b, .. }) => (a, b),
            _ => panic!("mlp layout"),
        };
        // Class 4, pixel 300, by the definition.
        let want: f64 = (0..128)
            .map(|k| w2.data()[4 * 128 + k] as f64 * w1.data()[k * 784 + 300] as f64)
            .sum();
        assert!((t[4][300] as f64 - want).abs() < 1e-5);
        assert!(class_templates(&Preset::Cnn.init(1)).is_err());
        let s = Preset::Slp.init(2);
        let ts = class_templates(&s).unwrap();
        match &s.layers[1] {
            Layer::Linear { weight, .. } => assert_eq!(ts[7], weight.data()[7 * 784..8 * 784]),
            _ => panic!("slp layout"),
        }
    }

    #[test]
    fn a_template_equal_to_its_mean_has_cosine_one() {
        let means: Vec<Vec<f32>> = (0..10)
            .map(|c| (0..784).map(|p| ((p * (c + 3)) % 17) as f32).collect())
            .collect();
        for (plain, centred) in template_cosines(&means, &means) {
            assert!((plain - 1.0).abs() < 1e-6 && (centred - 1.0).abs() < 1e-6);
        }
    }
}
