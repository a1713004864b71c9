//! Dense = shift 0: a dense layer is a cross-correlation at shift 0. Two people's days, hour
//! by hour, compared at the same hour (what a dense layer sees) and at every shift (what a 1-D
//! conv sees); a 1×1 conv as a dense layer over channels; dense vs conv parameter counts.

use serde::Serialize;

use super::Rng;
use crate::error::{Error, Result};

/// Longest sequence the scene correlates.
pub const MAX_LEN: usize = 256;
/// Most activities (channels) a schedule may use.
pub const MAX_CHANNELS: usize = 16;

/// The full cross-correlation F(t) = Σₓ f(x)·g(x + t) for every shift t = −(n−1) … m−1
/// (zero outside the sequences), returned in that order; F(0) is the plain dot product.
pub fn cross_correlate(f: &[f32], g: &[f32]) -> Vec<f32> {
    let (n, m) = (f.len() as i64, g.len() as i64);
    (-(n - 1)..m)
        .map(|t| {
            (0..n)
                .filter(|&x| x + t >= 0 && x + t < m)
                .map(|x| f[x as usize] * g[(x + t) as usize])
                .sum()
        })
        .collect()
}

/// Two schedules (one activity per hour) correlated over every shift, one channel per
/// activity (one-hot): F(t) counts the hours where A at hour x does what B does at x + t.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Schedules {
    pub len: usize,
    pub channels: usize,
    /// The shifts, −(len−1) … len−1.
    #[serde(serialize_with = "crate::typed::i32s")]
    pub shifts: Vec<i32>,
    /// F(t) per shift.
    #[serde(serialize_with = "crate::typed::f32s")]
    pub total: Vec<f32>,
    /// F(t) per shift and activity: `shifts × channels` (the stacked bars).
    #[serde(serialize_with = "crate::typed::f32s")]
    pub per_channel: Vec<f32>,
    /// For each shift and hour x of A: the activity matched at x + t plus one, or 0 for no
    /// match. `shifts × len`.
    #[serde(serialize_with = "crate::typed::u8s")]
    pub matches: Vec<u8>,
    /// The index of shift 0 in `shifts`: the dense layer's value is `total[zero]`.
    pub zero: usize,
    /// The index in `shifts` of the largest F(t): the shift where the two days overlap most
    /// (of equal ones, the shift nearest 0, then the earlier one).
    pub best: usize,
    /// A flattened one-hot (len × channels) dotted with B's flattened one-hot: what a dense
    /// neuron whose weights are B's day computes on A's day. Equals `total[zero]`.
    pub dense: f32,
}

pub fn schedules(a: &[u8], b: &[u8], channels: usize) -> Result<Schedules> {
    if a.is_empty() || a.len() != b.len() || a.len() > MAX_LEN {
        return Err(Error::shape(format!(
            "schedules have {} and {} hours; they must have the same length, 1 to {MAX_LEN}",
            a.len(),
            b.len()
        )));
    }
    if channels == 0 || channels > MAX_CHANNELS {
        return Err(Error::param(
            "channels",
            channels,
            format!("must be 1 to {MAX_CHANNELS}"),
        ));
    }
    if let Some(&bad) = a.iter().chain(b).find(|&&v| v as usize >= channels) {
        return Err(Error::param(
            "activity",
            bad,
            format!("must be below {channels}"),
        ));
    }
    let n = a.len();
    let one_hot = |s: &[u8], c: usize| -> Vec<f32> {
        s.iter()
            .map(|&v| if v as usize == c { 1.0 } else { 0.0 })
            .collect()
    };
    let shifts: Vec<i32> = (-(n as i32 - 1)..n as i32).collect();
    let mut total = vec![0.0; shifts.len()];
    let mut per_channel = vec![0.0; shifts.len() * channels];
    for c in 0..channels {
        let fc = cross_correlate(&one_hot(a, c), &one_hot(b, c));
        for (s, v) in fc.iter().enumerate() {
            per_channel[s * channels + c] = *v;
            total[s] += v;
        }
    }
    let mut matches = vec![0u8; shifts.len() * n];
    for (s, &t) in shifts.iter().enumerate() {
        for x in 0..n as i32 {
            let y = x + t;
            if y >= 0 && y < n as i32 && a[x as usize] == b[y as usize] {
                matches[s * n + x as usize] = a[x as usize] + 1;
            }
        }
    }
    let flat = |s: &[u8]| -> Vec<f32> { (0..channels).flat_map(|c| one_hot(s, c)).collect() };
    let dense = flat(a).iter().zip(flat(b)).map(|(x, y)| x * y).sum();
    let mut best = n - 1;
    for (i, &t) in shifts.iter().enumerate() {
        let (v, w) = (total[i], total[best]);
        if v > w || (v == w && t.abs() < shifts[best].abs()) {
            best = i;
        }
    }
    Ok(Schedules {
        len: n,
        channels,
        zero: n - 1,
        best,
        shifts,
        total,
        per_channel,
        matches,
        dense,
    })
}

/// A 1×1 convolution over a `c_in × h × w` input equals a dense layer `[c_out, c_in]` applied
/// to every pixel's channel vector (dense = shift 0, over channels).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OneByOne {
    pub c_in: usize,
    pub c_out: usize,
    pub h: usize,
    pub w: usize,
    /// `c_in × h × w`
    #[serde(serialize_with = "crate::typed::f32s")]
    pub input: Vec<f32>,
    /// `c_out × c_in` (the 1×1 kernels, OIHW with H = W = 1).
    #[serde(serialize_with = "crate::typed::f32s")]
    pub weight: Vec<f32>,
    /// The convolution: Σ_c `weight[o][c] · input[c]` as images, `c_out × h × w`.
    #[serde(serialize_with = "crate::typed::f32s")]
    pub conv: Vec<f32>,
    /// The dense layer per pixel, `h·w × c_out` (pixel-major).
    #[serde(serialize_with = "crate::typed::f32s")]
    pub dense: Vec<f32>,
    /// Per pixel: `[row, column]` (what its label names).
    #[serde(serialize_with = "crate::typed::u32s")]
    pub pixel_cell: Vec<u32>,
}

pub fn one_by_one(c_in: usize, c_out: usize, h: usize, w: usize, seed: u32) -> Result<OneByOne> {
    if c_in == 0 || c_out == 0 || c_in > 8 || c_out > 8 || h == 0 || w == 0 || h > 16 || w > 16 {
        return Err(Error::shape(format!(
            "1×1 demo is {c_in}→{c_out} channels on {h}×{w}; channels 1 to 8, sides 1 to 16"
        )));
    }
    let mut rng = Rng::new(u64::from(seed));
    let input: Vec<f32> = (0..c_in * h * w)
        .map(|_| (rng.eighth() + 1.0) / 2.0)
        .collect();
    let weight: Vec<f32> = (0..c_out * c_in).map(|_| rng.eighth()).collect();
    let hw = h * w;
    // The convolution: each output channel a weighted sum of whole input images.
    let mut conv = vec![0.0; c_out * hw];
    for o in 0..c_out {
        for c in 0..c_in {
            for p in 0..hw {
                conv[o * hw + p] += weight[o * c_in + c] * input[c * hw + p];
            }
        }
    }
    // The dense layer: a matrix-vector product per pixel.
    let mut dense = vec![0.0; hw * c_out];
    for p in 0..hw {
        let v: Vec<f32> = (0..c_in).map(|c| input[c * hw + p]).collect();
        for o in 0..c_out {
            dense[p * c_out + o] = (0..c_in).map(|c| weight[o * c_in + c] * v[c]).sum();
        }
    }
    Ok(OneByOne {
        c_in,
        c_out,
        h,
        w,
        input,
        weight,
        conv,
        dense,
        pixel_cell: (0..h * w)
            .flat_map(|p| [(p / w) as u32, (p % w) as u32])
            .collect(),
    })
}

/// Dense vs conv parameter counts for one layer on an `h × w × c_in` image, exact (they pass
/// 2⁵³ quickly: a dense layer between two megapixel images has 10¹² weights per channel pair;
/// in JS they are BigInts).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParamCounts {
    pub inputs: u128,
    /// A dense layer to `hidden` units: inputs · hidden weights + hidden biases.
    pub dense_hidden: u128,
    /// A dense layer to an `h × w × c_out` output (the 4th-order weight tensor).
    pub dense_same: u128,
    /// A `k × k` conv, `c_in → c_out`: c_out · c_in · k² weights + c_out biases.
    pub conv: u128,
}

/// What the parameter-count controls of the dense scene offer (`[min, max]` each): inside
/// what [`param_counts`] accepts, wide enough for a photo of 10¹⁰ pixels and its layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParamControls {
    pub size: [u64; 2],
    pub channels: [u64; 2],
    pub hidden: [u64; 2],
    pub kernel_size: [u64; 2],
}

/// The dense scene's parameter-count controls.
pub const PARAM_CONTROLS: ParamControls = ParamControls {
    size: [1, 100_000],
    channels: [1, 4096],
    hidden: [1, 100_000],
    kernel_size: [1, 11],
};

pub fn param_counts(
    h: u64,
    w: u64,
    c_in: u64,
    c_out: u64,
    k: u64,
    hidden: u64,
) -> Result<ParamCounts> {
    for (name, v) in [
        ("height", h),
        ("width", w),
        ("c_in", c_in),
        ("c_out", c_out),
        ("kernel_size", k),
        ("hidden", hidden),
    ] {
        if !(1..=1_000_000_000).contains(&v) {
            return Err(Error::param(
                name,
                v,
                "must be a whole number from 1 to 10⁹",
            ));
        }
    }
    let [h, w, c_in, c_out, k, hidden] = [h, w, c_in, c_out, k, hidden].map(u128::from);
    let too_large = || {
        Error::param(
            "size",
            [h, w],
            "gives a dense layer with more than 2¹²⁸ weights",
        )
    };
    let inputs = h * w * c_in; // ≤ 10²⁷
    let outputs = h * w * c_out;
    let dense_same = inputs
        .checked_mul(outputs)
        .and_then(|n| n.checked_add(outputs))
        .ok_or_else(too_large)?;
    Ok(ParamCounts {
        inputs,
        dense_hidden: inputs * hidden + hidden,
        dense_same,
        conv: c_out * c_in * k * k + c_out,
    })
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn the_param_controls_ends_are_counted() {
        let c = PARAM_CONTROLS;
        for end in 0..2 {
            let p = param_counts(
                c.size[end],
                c.size[end],
                c.channels[end],
                c.channels[end],
                c.kernel_size[end],
                c.hidden[end],
            )
            .unwrap();
            assert!(p.conv >= 2 && p.dense_same >= p.inputs);
        }
        assert!(param_counts(1, 1, 1, 1, c.kernel_size[0] - 1, 1).is_err());
    }

    #[test]
    fn shift_zero_is_the_dot_product() {
        let f = [1.0, 2.0, 3.0];
        let g = [4.0, 5.0, 6.0, 7.0];
        let c = cross_correlate(&f, &g);
        assert_eq!(c.len(), 3 + 4 - 1);
        assert_eq!(c[2], 1.0 * 4.0 + 2.0 * 5.0 + 3.0 * 6.0);
        assert_eq!(c[0], 3.0 * 4.0); // t = −2: f(2)·g(0)
        assert_eq!(c[5], 1.0 * 7.0); // t = 3: f(0)·g(3)
    }

    #[test]
    fn schedules_dense_value_is_the_correlation_at_shift_0() {
        let a: Vec<u8> = (0..24).map(|h| (h % 5) as u8).collect();
        let b: Vec<u8> = (0..24).map(|h| ((h + 2) % 5) as u8).collect();
        let s = schedules(&a, &b, 5).unwrap();
        assert_eq!(s.shifts[s.zero], 0);
        assert_eq!(s.total[s.zero], s.dense);
        // b(x + t) = a(x) when t ≡ −2 (mod 5): shift −2 matches every hour it overlaps.
        let i = s.shifts.iter().position(|&t| t == -2).unwrap();
        assert_eq!(s.total[i], 22.0);
        let row = &s.matches[i * 24..(i + 1) * 24];
        assert_eq!(row.iter().filter(|&&m| m > 0).count(), 22);
        let sum: f32 = s.per_channel[i * 5..(i + 1) * 5].iter().sum();
        assert_eq!(sum, s.total[i]);
        // The most overlap: shift −2 (22 hours), larger than any other shift's.
        assert_eq!(s.best, i);
        assert!(s.total.iter().all(|&v| v <= s.total[s.best]));
        // Equal days overlap most at shift 0; ties go to the shift nearest 0.
        assert_eq!(schedules(&a, &a, 5).unwrap().best, 23);
        let tie = schedules(&[0, 1, 0], &[1, 0, 1], 2).unwrap();
        assert_eq!(tie.shifts[tie.best], -1);
        assert!(schedules(&a, &b[..3], 5).is_err());
        assert!(schedules(&a, &b, 3).is_err());
    }

    #[test]
    fn one_by_one_conv_is_a_dense_layer_over_channels() {
        let d = one_by_one(3, 2, 4, 5, 1).unwrap();
        for p in 0..20 {
            assert_eq!(
                d.pixel_cell[2 * p] as usize * 5 + d.pixel_cell[2 * p + 1] as usize,
                p
            );
            assert!(d.pixel_cell[2 * p] < 4 && d.pixel_cell[2 * p + 1] < 5);
        }
        for p in 0..20 {
            for o in 0..2 {
                assert!((d.conv[o * 20 + p] - d.dense[p * 2 + o]).abs() < 1e-6);
            }
        }
    }

    #[test]
    fn a_megapixel_dense_layer_needs_a_billion_weights() {
        let p = param_counts(1000, 1000, 1, 1, 3, 1000).unwrap();
        assert_eq!(p.dense_hidden, 1_000_001_000);
        assert_eq!(p.conv, 10);
        assert_eq!(p.dense_same, 1_000_001_000_000);
        assert!(param_counts(0, 1, 1, 1, 1, 1).is_err());
        // Past 2⁵³, exactly: 100000² pixels, 4096 channels in and out.
        let p = param_counts(100_000, 100_000, 4096, 4096, 3, 1).unwrap();
        assert_eq!(
            p.dense_same,
            4096u128.pow(2) * 10u128.pow(20) + 4096 * 10u128.pow(10)
        );
        assert_eq!(p.dense_same.to_string(), "1677721600000040960000000000");
        assert!(param_counts(
            1_000_000_000,
            1_000_000_000,
            1_000_000_000,
            1_000_000_000,
            1,
            1
        )
        .is_err());
    }
}
