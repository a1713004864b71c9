//! MNIST: the IDX file reader, drawn-digit preprocessing (done the way MNIST itself was made),
//! and the training-time augmentation that makes the models recognise mouse-drawn digits.
//!
//! IDX files are big-endian: a magic number `0x0000_08_NN` (u8 data, NN dimensions), the
//! dimensions as u32, then the data. Both gzip-compressed and raw files are accepted.

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

/// Side of an MNIST image.
pub const SIDE: usize = 28;
/// Pixels of an MNIST image.
pub const PIXELS: usize = SIDE * SIDE;

/// A set of same-sized u8 images, row-major, one after the other.
#[derive(Debug, Clone, PartialEq)]
pub struct Images {
    pub count: usize,
    pub rows: usize,
    pub cols: usize,
    pub pixels: Vec<u8>,
}

impl Images {
    /// Image `i` as u8 pixels.
    pub fn image(&self, i: usize) -> &[u8] {
        let n = self.rows * self.cols;
        &self.pixels[i * n..(i + 1) * n]
    }
}

/// Images and their labels, checked to be the same count.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub images: Images,
    pub labels: Vec<u8>,
}

impl Dataset {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Image `i` scaled to 0..1.
    pub fn image_f32(&self, i: usize, out: &mut [f32]) {
        for (o, &p) in out.iter_mut().zip(self.images.image(i)) {
            *o = p as f32 / 255.0;
        }
    }
}

fn data_err(file: &str, msg: impl std::fmt::Display) -> Error {
    Error::Data(format!("{file}: {msg}"))
}

/// Decompresses `bytes` when they start with the gzip magic, otherwise returns them as they are.
fn maybe_gunzip(file: &str, bytes: &[u8]) -> Result<Vec<u8>> {
    if bytes.len() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut out)
            .map_err(|e| data_err(file, format!("gzip data is corrupt or truncated ({e})")))?;
        Ok(out)
    } else {
        Ok(bytes.to_vec())
    }
}

/// Parses an IDX header with `dims` dimensions and u8 data; returns the dimensions and the data.
fn parse_idx<'a>(file: &str, bytes: &'a [u8], dims: usize) -> Result<(Vec<usize>, &'a [u8])> {
    let header = 4 + 4 * dims;
    if bytes.len() < 4 {
        return Err(data_err(
            file,
            format!(
                "truncated: {} bytes, too short for an IDX header",
                bytes.len()
            ),
        ));
    }
    let magic = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    let expected = 0x0800 | dims as u32;
    if magic != expected {
        let what = if dims == 1 { "labels" } else { "images" };
        return Err(data_err(
            file,
            format!(
                "bad magic number 0x{magic:08x}: expected 0x{expected:08x} (IDX u8 {what}, {dims} dimension{})",
                if dims == 1 { "" } else { "s" }
            ),
        ));
    }
    if bytes.len() < header {
        return Err(data_err(
            file,
            format!(
                "truncated: {} bytes, the IDX header alone is {header}",
                bytes.len()
            ),
        ));
    }
    let shape: Vec<usize> = (0..dims)
        .map(|d| {
            let o = 4 + 4 * d;
            u32::from_be_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]) as usize
        })
        .collect();
    let n = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| data_err(file, format!("dimensions {shape:?} overflow")))?;
    let data = &bytes[header..];
    if data.len() < n {
        return Err(data_err(
            file,
            format!(
                "truncated: the header promises {shape:?} = {n} bytes of data, the file has {}",
                data.len()
            ),
        ));
    }
    if data.len() > n {
        return Err(data_err(
            file,
            format!(
                "count mismatch: the header says {shape:?} = {n} bytes of data, the file has {} ({} extra)",
                data.len(),
                data.len() - n
            ),
        ));
    }
    Ok((shape, data))
}

/// Parses an IDX image file (`file` names it in errors), gzip-compressed or raw.
pub fn parse_images(file: &str, bytes: &[u8]) -> Result<Images> {
    let raw = maybe_gunzip(file, bytes)?;
    let (shape, data) = parse_idx(file, &raw, 3)?;
    if shape[1] == 0 || shape[2] == 0 {
        return Err(data_err(
            file,
            format!("empty images {}×{}", shape[1], shape[2]),
        ));
    }
    Ok(Images {
        count: shape[0],
        rows: shape[1],
        cols: shape[2],
        pixels: data.to_vec(),
    })
}

/// Parses an IDX label file (`file` names it in errors), gzip-compressed or raw; labels must be 0..9.
pub fn parse_labels(file: &str, bytes: &[u8]) -> Result<Vec<u8>> {
    let raw = maybe_gunzip(file, bytes)?;
    let (_, data) = parse_idx(file, &raw, 1)?;
    if let Some(i) = data.iter().position(|&l| l > 9) {
        return Err(data_err(
            file,
            format!("label {} at index {i} is not a digit 0..9", data[i]),
        ));
    }
    Ok(data.to_vec())
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| data_err(&path.display().to_string(), e))
}

/// Reads an IDX image file.
pub fn read_images(path: impl AsRef<Path>) -> Result<Images> {
    let path = path.as_ref();
    parse_images(&path.display().to_string(), &read(path)?)
}

/// Reads an IDX label file.
pub fn read_labels(path: impl AsRef<Path>) -> Result<Vec<u8>> {
    let path = path.as_ref();
    parse_labels(&path.display().to_string(), &read(path)?)
}

/// Pairs images with labels, checking the counts agree and the images are 28×28.
pub fn dataset(images: Images, labels: Vec<u8>, what: &str) -> Result<Dataset> {
    if images.count != labels.len() {
        return Err(Error::Data(format!(
            "{what}: images/labels mismatch: {} images but {} labels",
            images.count,
            labels.len()
        )));
    }
    if images.rows != SIDE || images.cols != SIDE {
        return Err(Error::Data(format!(
            "{what}: images are {}×{}, expected 28×28",
            images.rows, images.cols
        )));
    }
    Ok(Dataset { images, labels })
}

/// Loads `train` (60,000) or `t10k` (10,000) from a directory holding the four `.gz` files
/// (or raw files of the same names without `.gz`).
pub fn load(dir: impl AsRef<Path>, split: &str) -> Result<Dataset> {
    let dir = dir.as_ref();
    let find = |kind: &str| {
        let gz = dir.join(format!("{split}-{kind}.gz"));
        if gz.exists() {
            gz
        } else {
            dir.join(format!("{split}-{kind}"))
        }
    };
    let images = read_images(find("images-idx3-ubyte"))?;
    let labels = read_labels(find("labels-idx1-ubyte"))?;
    dataset(images, labels, &format!("{}/{split}", dir.display()))
}

// ---------------------------------------------------------------------------------------------
// Preprocessing a drawing

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

// ---------------------------------------------------------------------------------------------
// Augmentation

/// A small, seeded pseudo-random generator (SplitMix64): reproducible on every platform.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.uniform()
    }

    /// Uniform integer in 0..n.
    pub fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }

    /// A standard normal sample (Box–Muller).
    pub fn normal(&mut self) -> f32 {
        let u1 = self.uniform().max(1e-7);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            v.swap(i, self.below(i + 1));
        }
    }
}

/// How strongly to distort training digits.
#[derive(Debug, Clone, Copy)]
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
    if rng.uniform() >= a.prob {
        dst[..PIXELS].copy_from_slice(&src[..PIXELS]);
        return;
    }
    let angle = rng.range(-a.rotate_deg, a.rotate_deg).to_radians();
    let s = 1.0 + rng.range(-a.scale, a.scale);
    let sx = s * (1.0 + rng.range(-a.scale, a.scale) * 0.5);
    let sy = s * (1.0 + rng.range(-a.scale, a.scale) * 0.5);
    let sh = rng.range(-a.shear, a.shear);
    let (tx, ty) = (rng.range(-a.shift, a.shift), rng.range(-a.shift, a.shift));
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
    let r = rng.uniform();
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

    fn idx(magic: u32, dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut v = magic.to_be_bytes().to_vec();
        for d in dims {
            v.extend_from_slice(&d.to_be_bytes());
        }
        v.extend_from_slice(data);
        v
    }

    #[test]
    fn parses_small_raw_and_gz_files() {
        let raw = idx(0x803, &[2, 2, 3], &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
        let im = parse_images("x", &raw).unwrap();
        assert_eq!((im.count, im.rows, im.cols), (2, 2, 3));
        assert_eq!(im.image(1), &[6, 7, 8, 9, 10, 11]);
        let mut gz = Vec::new();
        {
            use std::io::Write;
            let mut e = flate2::write::GzEncoder::new(&mut gz, flate2::Compression::fast());
            e.write_all(&raw).unwrap();
            e.finish().unwrap();
        }
        assert_eq!(parse_images("x.gz", &gz).unwrap(), im);
        // A truncated gzip stream names the file.
        let e = parse_images("x.gz", &gz[..gz.len() / 2])
            .unwrap_err()
            .to_string();
        assert!(e.contains("x.gz") && e.contains("gzip"), "{e}");
    }

    #[test]
    fn rejects_corrupt_headers() {
        let e = parse_images("a", &idx(0x801, &[1, 1, 1], &[0]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("a: bad magic number 0x00000801"), "{e}");
        let e = parse_labels("l", &idx(0x801, &[3], &[1, 2]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("l: truncated") && e.contains("has 2"), "{e}");
        let e = parse_labels("l", &idx(0x801, &[1], &[1, 2]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("count mismatch"), "{e}");
        let e = parse_labels("l", &idx(0x801, &[1], &[12]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("label 12"), "{e}");
        let e = parse_images("i", &[0, 0, 8, 3, 0]).unwrap_err().to_string();
        assert!(e.contains("i: truncated"), "{e}");
        let e = parse_images("i", &[]).unwrap_err().to_string();
        assert!(e.contains("i: truncated"), "{e}");
        let im = parse_images("i", &idx(0x803, &[2, 28, 28], &[0; 2 * 784])).unwrap();
        let e = dataset(im, vec![1, 2, 3], "set").unwrap_err().to_string();
        assert!(
            e.contains("images/labels mismatch: 2 images but 3 labels"),
            "{e}"
        );
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn mnist_dir() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/mnist")
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn reads_the_real_files() {
        let test = load(mnist_dir(), "t10k").unwrap();
        assert_eq!(test.len(), 10_000);
        let mut counts = [0usize; 10];
        for &l in &test.labels {
            counts[l as usize] += 1;
        }
        assert_eq!(
            counts,
            [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
        );
        let labels = read_labels(mnist_dir().join("train-labels-idx1-ubyte.gz")).unwrap();
        assert_eq!(labels.len(), 60_000);
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn rejects_corrupted_copies_of_the_real_files() {
        let dir = std::env::temp_dir().join(format!("convscope-mnist-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let src = std::fs::read(mnist_dir().join("t10k-labels-idx1-ubyte.gz")).unwrap();
        let mut raw = Vec::new();
        flate2::read::GzDecoder::new(&src[..])
            .read_to_end(&mut raw)
            .unwrap();
        // Truncated raw copy.
        let p = dir.join("t10k-labels-idx1-ubyte");
        std::fs::write(&p, &raw[..raw.len() - 10]).unwrap();
        let e = read_labels(&p).unwrap_err().to_string();
        assert!(e.contains("t10k-labels-idx1-ubyte: truncated"), "{e}");
        // Wrong magic.
        let mut bad = raw.clone();
        bad[3] = 3;
        std::fs::write(&p, &bad).unwrap();
        let e = read_labels(&p).unwrap_err().to_string();
        assert!(e.contains("bad magic number 0x00000803"), "{e}");
        // Count in the header larger than the data.
        let mut bad = raw.clone();
        bad[4..8].copy_from_slice(&10_001u32.to_be_bytes());
        std::fs::write(&p, &bad).unwrap();
        let e = read_labels(&p).unwrap_err().to_string();
        assert!(e.contains("truncated") && e.contains("10001"), "{e}");
        // Truncated gzip copy.
        let pgz = dir.join("t10k-labels-idx1-ubyte.gz");
        std::fs::write(&pgz, &src[..src.len() - 100]).unwrap();
        let e = read_labels(&pgz).unwrap_err().to_string();
        assert!(e.contains("t10k-labels-idx1-ubyte.gz: gzip"), "{e}");
        // Images and labels of different counts.
        std::fs::remove_file(&pgz).unwrap();
        let mut short = raw[..8 + 100].to_vec();
        short[4..8].copy_from_slice(&100u32.to_be_bytes());
        std::fs::write(&p, &short).unwrap();
        std::fs::copy(
            mnist_dir().join("t10k-images-idx3-ubyte.gz"),
            dir.join("t10k-images-idx3-ubyte.gz"),
        )
        .unwrap();
        let e = load(&dir, "t10k").unwrap_err().to_string();
        assert!(
            e.contains("images/labels mismatch: 10000 images but 100 labels"),
            "{e}"
        );
        // Missing file.
        let e = read_images(dir.join("nope")).unwrap_err().to_string();
        assert!(e.contains("nope"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

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
