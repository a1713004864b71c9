//! Drawn-digit preprocessing, done the way MNIST itself was made: crop the ink, scale its
//! longer side to 20 px, centre it by mass in 28×28.

use super::{PIXELS, SIDE};
use crate::error::{Error, Result};

/// Ink below this (0..1) is treated as background: it removes faint anti-aliasing fringes and
/// stray marks from the bounding box.
const INK_THRESHOLD: f32 = 0.1;
/// Largest canvas side accepted.
const MAX_SIDE: usize = 8192;

/// Turns a drawing (RGBA, row-major, `width × height`) into an MNIST-style 28×28 image in 0..1,
/// the way MNIST was made: the ink's bounding box is scaled so its longer side is 20 px
/// (keeping the aspect ratio, with exact area averaging), then placed in 28×28 with its
/// intensity-weighted centre of mass at the centre. Returns `Ok(None)` when nothing is drawn.
///
/// Ink: on a canvas with any transparency, the alpha channel; on an opaque canvas, the
/// difference in luminance from the background (the average of the border pixels), so dark ink
/// on white and white ink on black both work.
pub fn preprocess(rgba: &[u8], width: usize, height: usize) -> Result<Option<[f32; PIXELS]>> {
    if width == 0 || height == 0 {
        return Err(Error::param(
            "canvas size",
            (width, height),
            "width and height must be at least 1",
        ));
    }
    if width > MAX_SIDE || height > MAX_SIDE {
        return Err(Error::param(
            "canvas size",
            (width, height),
            format!("width and height must be at most {MAX_SIDE}"),
        ));
    }
    if rgba.len() != width * height * 4 {
        return Err(Error::shape(format!(
            "RGBA buffer has {} bytes; a {width}×{height} canvas needs {} (4 per pixel)",
            rgba.len(),
            width * height * 4
        )));
    }
    let ink = ink_map(rgba, width, height);
    Ok(normalise(&ink, width, height))
}

fn luminance(p: &[u8]) -> f32 {
    (0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32) / 255.0
}

/// The ink of each pixel in 0..1, below-threshold values set to 0.
fn ink_map(rgba: &[u8], w: usize, h: usize) -> Vec<f32> {
    let opaque = rgba.chunks_exact(4).all(|p| p[3] == 255);
    let mut ink: Vec<f32> = if opaque {
        let (mut sum, mut n) = (0.0f32, 0usize);
        for y in 0..h {
            for x in 0..w {
                if y == 0 || x == 0 || y == h - 1 || x == w - 1 {
                    sum += luminance(&rgba[(y * w + x) * 4..]);
                    n += 1;
                }
            }
        }
        let bg = sum / n as f32;
        let range = bg.max(1.0 - bg).max(1e-3);
        rgba.chunks_exact(4)
            .map(|p| ((luminance(p) - bg).abs() / range).min(1.0))
            .collect()
    } else {
        rgba.chunks_exact(4).map(|p| p[3] as f32 / 255.0).collect()
    };
    for v in &mut ink {
        if *v < INK_THRESHOLD {
            *v = 0.0;
        }
    }
    ink
}

/// Coverage weights of an area-averaging resize from `src` pixels to `dst` pixels along one
/// axis: for each output pixel, the (source index, overlap) pairs, overlaps summing to 1.
fn box_weights(src: usize, dst: usize) -> Vec<Vec<(usize, f32)>> {
    let scale = src as f64 / dst as f64; // source pixels per output pixel
    (0..dst)
        .map(|o| {
            let (a, b) = (o as f64 * scale, (o + 1) as f64 * scale);
            let mut ws = Vec::new();
            let mut s = a.floor() as usize;
            while (s as f64) < b && s < src {
                let cover = (b.min(s as f64 + 1.0) - a.max(s as f64)).max(0.0);
                if cover > 0.0 {
                    ws.push((s, (cover / scale) as f32));
                }
                s += 1;
            }
            ws
        })
        .collect()
}

/// Crop, scale to a 20 px box and centre by mass; `ink` is `w × h` in 0..1.
pub fn normalise(ink: &[f32], w: usize, h: usize) -> Option<[f32; PIXELS]> {
    let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
    for y in 0..h {
        for x in 0..w {
            if ink[y * w + x] > 0.0 {
                x0 = x0.min(x);
                x1 = x1.max(x);
                y0 = y0.min(y);
                y1 = y1.max(y);
            }
        }
    }
    if x0 == usize::MAX {
        return None;
    }
    let (bw, bh) = (x1 - x0 + 1, y1 - y0 + 1);
    let long = bw.max(bh) as f64;
    let ow = ((bw as f64 * 20.0 / long).round() as usize).clamp(1, 20);
    let oh = ((bh as f64 * 20.0 / long).round() as usize).clamp(1, 20);
    let wx = box_weights(bw, ow);
    let wy = box_weights(bh, oh);
    // Horizontal pass: bh × ow, then vertical: oh × ow.
    let mut tmp = vec![0.0f32; bh * ow];
    for y in 0..bh {
        let row = &ink[(y0 + y) * w + x0..(y0 + y) * w + x0 + bw];
        for (ox, ws) in wx.iter().enumerate() {
            tmp[y * ow + ox] = ws.iter().map(|&(s, c)| row[s] * c).sum();
        }
    }
    let mut small = vec![0.0f32; oh * ow];
    for (oy, ws) in wy.iter().enumerate() {
        for &(s, c) in ws {
            for ox in 0..ow {
                small[oy * ow + ox] += tmp[s * ow + ox] * c;
            }
        }
    }
    let (mut m, mut mx, mut my, mut peak) = (0.0f64, 0.0f64, 0.0f64, 0.0f32);
    for y in 0..oh {
        for x in 0..ow {
            let v = small[y * ow + x];
            m += v as f64;
            mx += v as f64 * (x as f64 + 0.5);
            my += v as f64 * (y as f64 + 0.5);
            peak = peak.max(v);
        }
    }
    if m.is_nan() || m <= 0.0 || peak.is_nan() || peak <= 0.0 {
        return None;
    }
    // Integer shift that puts the centre of mass nearest to (14, 14).
    let dx = (SIDE as f64 / 2.0 - mx / m).round() as isize;
    let dy = (SIDE as f64 / 2.0 - my / m).round() as isize;
    let mut out = [0.0f32; PIXELS];
    for y in 0..oh {
        for x in 0..ow {
            let (tx, ty) = (x as isize + dx, y as isize + dy);
            if (0..SIDE as isize).contains(&tx) && (0..SIDE as isize).contains(&ty) {
                out[ty as usize * SIDE + tx as usize] = (small[y * ow + x] / peak).min(1.0);
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn preprocess_validates_input() {
        assert!(preprocess(&[], 0, 10)
            .unwrap_err()
            .to_string()
            .contains("canvas size"));
        let e = preprocess(&[0; 15], 2, 2).unwrap_err().to_string();
        assert!(e.contains("15 bytes") && e.contains("16"), "{e}");
        // Blank canvases: transparent, opaque white, opaque black.
        assert_eq!(preprocess(&[0; 4 * 100], 10, 10).unwrap(), None);
        assert_eq!(preprocess(&[255; 4 * 100], 10, 10).unwrap(), None);
        let black: Vec<u8> = (0..400).map(|i| if i % 4 == 3 { 255 } else { 0 }).collect();
        assert_eq!(preprocess(&black, 10, 10).unwrap(), None);
        // A single faint pixel (below the threshold) is nothing drawn.
        let mut faint = vec![0u8; 400];
        faint[4 * 55 + 3] = 10;
        assert_eq!(preprocess(&faint, 10, 10).unwrap(), None);
    }

    /// A rectangle of ink becomes a 20-px-long box centred at (14, 14), whatever the ink colour.
    #[test]
    fn preprocess_scales_and_centres() {
        let (w, h) = (100, 80);
        for mode in 0..3 {
            let mut rgba = vec![0u8; w * h * 4];
            for y in 0..h {
                for x in 0..w {
                    let ink = (10..50).contains(&x) && (5..25).contains(&y);
                    let p = &mut rgba[(y * w + x) * 4..][..4];
                    match mode {
                        0 => p.copy_from_slice(&[0, 0, 0, if ink { 255 } else { 0 }]),
                        1 => p.copy_from_slice(&if ink { [0, 0, 0, 255] } else { [255; 4] }),
                        _ => p.copy_from_slice(&if ink { [255; 4] } else { [0, 0, 0, 255] }),
                    }
                }
            }
            let img = preprocess(&rgba, w, h).unwrap().unwrap();
            assert!(img.iter().all(|v| v.is_finite() && (0.0..=1.0).contains(v)));
            // 40×20 → 20×10: columns 4..24, rows 9..19.
            for y in 0..SIDE {
                for x in 0..SIDE {
                    let want = if (4..24).contains(&x) && (9..19).contains(&y) {
                        1.0
                    } else {
                        0.0
                    };
                    assert!(
                        (img[y * SIDE + x] - want).abs() < 1e-5,
                        "mode {mode} ({x},{y})"
                    );
                }
            }
        }
        // A single pixel: a 1×1 box becomes one full pixel near the centre.
        let mut dot = vec![0u8; 4 * 9];
        dot[4 * 4 + 3] = 255;
        let img = preprocess(&dot, 3, 3).unwrap().unwrap();
        assert_eq!(img.iter().filter(|&&v| v > 0.0).count(), 400);
    }

    #[test]
    fn box_weights_cover_exactly() {
        for (src, dst) in [(7, 3), (200, 20), (3, 20), (20, 20), (41, 20)] {
            let w = box_weights(src, dst);
            let mut per_src = vec![0.0f32; src];
            for ws in &w {
                let s: f32 = ws.iter().map(|&(_, c)| c).sum();
                assert!((s - 1.0).abs() < 1e-5, "{src}->{dst}: {s}");
                for &(i, c) in ws {
                    per_src[i] += c;
                }
            }
            for v in per_src {
                assert!((v - dst as f32 / src as f32).abs() < 1e-4);
            }
        }
    }
}

/// Area-averaging resample of a `[c, h, w]` image to `[c, oh, ow]`: each output cell is the mean
/// of the input it covers (fractional cells weighted by their overlap).
pub fn resample(x: &[f32], [c, h, w]: [usize; 3], [oh, ow]: [usize; 2]) -> Vec<f32> {
    // Overlap of output cell o (in output units) with input cell i along one axis.
    let weights = |n: usize, on: usize| -> Vec<Vec<(usize, f32)>> {
        (0..on)
            .map(|o| {
                let (a, b) = (
                    o as f64 * n as f64 / on as f64,
                    (o + 1) as f64 * n as f64 / on as f64,
                );
                let mut v = Vec::new();
                let mut i = a.floor() as usize;
                while (i as f64) < b && i < n {
                    let lo = a.max(i as f64);
                    let hi = b.min(i as f64 + 1.0);
                    if hi > lo {
                        v.push((i, ((hi - lo) / (b - a)) as f32));
                    }
                    i += 1;
                }
                v
            })
            .collect()
    };
    let (wy, wx) = (weights(h, oh), weights(w, ow));
    let mut out = vec![0.0f32; c * oh * ow];
    for ch in 0..c {
        for (oy, ry) in wy.iter().enumerate() {
            for (ox, rx) in wx.iter().enumerate() {
                let mut s = 0.0f32;
                for &(iy, fy) in ry {
                    for &(ix, fx) in rx {
                        s += fy * fx * x[(ch * h + iy) * w + ix];
                    }
                }
                out[(ch * oh + oy) * ow + ox] = s;
            }
        }
    }
    out
}

/// What a model of input `[c, h, w]` gets from a canvas: a drawing is preprocessed as MNIST
/// was (28 × 28, [`preprocess`]) and resampled to `h × w`, the same in every channel; an
/// `image` (a photo dropped on the pad) is resampled as it is, grey (`c` = 1, the luminance) or
/// RGB, each value 0..1. `None` when a drawing is blank.
pub fn prepare_input(
    rgba: &[u8],
    width: usize,
    height: usize,
    [c, h, w]: [usize; 3],
    image: bool,
) -> Result<Option<Vec<f32>>> {
    let (lo, hi) = crate::nn::spec::INPUT_SIDE;
    if !crate::nn::spec::INPUT_CHANNELS.contains(&c)
        || !(lo..=hi).contains(&h)
        || !(lo..=hi).contains(&w)
    {
        return Err(Error::param(
            "shape",
            [c, h, w],
            format!("must be a model's input: [1 or 3, height, width], each side {lo} to {hi}"),
        ));
    }
    if !image {
        let Some(px) = preprocess(rgba, width, height)? else {
            return Ok(None);
        };
        let grey = if [h, w] == [28, 28] {
            px.to_vec()
        } else {
            resample(&px, [1, 28, 28], [h, w])
        };
        return Ok(Some(grey.repeat(c)));
    }
    if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
        return Err(Error::param(
            "canvas size",
            (width, height),
            format!("width and height must be 1 to {MAX_SIDE}"),
        ));
    }
    if rgba.len() != width * height * 4 {
        return Err(Error::shape(format!(
            "RGBA buffer has {} bytes; a {width}×{height} image needs {}",
            rgba.len(),
            width * height * 4
        )));
    }
    let planes: Vec<f32> = if c == 1 {
        rgba.chunks_exact(4).map(luminance).collect()
    } else {
        (0..3)
            .flat_map(|k| rgba.chunks_exact(4).map(move |p| p[k] as f32 / 255.0))
            .collect()
    };
    Ok(Some(resample(&planes, [c, height, width], [h, w])))
}

#[cfg(test)]
mod input_tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// Resampling keeps the mean (each output the mean of what it covers) and is exact on
    /// whole-cell blocks.
    #[test]
    fn resampling_averages_what_each_cell_covers() {
        let x: Vec<f32> = (0..2 * 4 * 6).map(|v| v as f32).collect();
        let y = resample(&x, [2, 4, 6], [2, 3]);
        assert_eq!(y[0], (0.0 + 1.0 + 6.0 + 7.0) / 4.0);
        assert_eq!(y[3 + 2], (16.0 + 17.0 + 22.0 + 23.0) / 4.0);
        let up = resample(&[1.0, 2.0], [1, 1, 2], [1, 3]);
        assert!((up[1] - 1.5).abs() < 1e-6, "{up:?}");
        let z = resample(&x, [2, 4, 6], [3, 5]);
        let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
        assert!((mean(&z[..15]) - mean(&x[..24])).abs() < 1e-4);
    }

    #[test]
    fn a_drawing_or_an_image_becomes_the_models_input() {
        let (w, h) = (40, 30);
        let mut rgba = vec![255u8; w * h * 4];
        for y in 8..22 {
            for x in 18..22 {
                rgba[(y * w + x) * 4..][..3].copy_from_slice(&[0, 0, 0]);
            }
        }
        let d = prepare_input(&rgba, w, h, [3, 16, 16], false)
            .unwrap()
            .unwrap();
        assert_eq!(d.len(), 3 * 256);
        assert_eq!(
            d[..256],
            d[256..512],
            "the drawing is the same in every channel"
        );
        assert!(d.iter().any(|&v| v > 0.5));
        let g = prepare_input(&rgba, w, h, [1, 28, 28], false)
            .unwrap()
            .unwrap();
        assert_eq!(g, preprocess(&rgba, w, h).unwrap().unwrap().to_vec());
        assert!(
            prepare_input(&vec![255u8; w * h * 4], w, h, [1, 28, 28], false)
                .unwrap()
                .is_none()
        );
        let mut red = vec![0u8; 8 * 8 * 4];
        for p in red.chunks_exact_mut(4) {
            p.copy_from_slice(&[255, 0, 0, 255]);
        }
        let img = prepare_input(&red, 8, 8, [3, 8, 8], true).unwrap().unwrap();
        assert!(img[..64].iter().all(|&v| v == 1.0) && img[64..].iter().all(|&v| v == 0.0));
        let e = prepare_input(&red, 8, 8, [2, 4, 4], true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("shape"), "{e}");
    }
}
