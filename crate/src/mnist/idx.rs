//! The IDX file reader. IDX files are big-endian: a magic number `0x0000_08_NN` (u8 data, NN
//! dimensions), the dimensions as u32, then the data. Both gzip-compressed and raw files are
//! accepted.

use std::io::Read;
use std::path::Path;

use super::SIDE;
use crate::error::{Error, Result};

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

    /// Reads one byte of every 64 of images `indices` (those in range), all before any is
    /// used: the images of a shuffled batch lie far apart in 47 MB, and read one after the
    /// other each waited for its own page walk and cache misses; read like this, the misses
    /// overlap.
    pub fn touch(&self, indices: &[u32]) {
        let n = self.images.rows * self.images.cols;
        let mut sum = 0u8;
        for &i in indices {
            // An index too large to have an image (its offset may not even fit a usize on
            // wasm32) is passed over.
            let Some(start) = (i as usize).checked_mul(n) else {
                continue;
            };
            if let Some(px) = self.images.pixels.get(start..start.saturating_add(n)) {
                for line in px.iter().step_by(64) {
                    sum ^= line;
                }
            }
        }
        std::hint::black_box(sum);
    }

    /// Image `i` scaled to 0..1 (each pixel `p as f32 / 255.0`).
    pub fn image_f32(&self, i: usize, out: &mut [f32]) {
        scale_pixels(self.images.image(i), out);
    }
}

/// `out[j] = px[j] as f32 / 255.0` for every pixel both hold. With simd128, 16 pixels at a
/// time: widened to four `f32x4` (exact: bytes are small integers) and divided by 255, which
/// IEEE rounds as the scalar division does, so the bits are the same. (The mlp's inputs took
/// 8.0% of its one-thread step with a table lookup per pixel, 7.5% with this alone: most of
/// their time was waiting for memory, which `Dataset::touch` overlaps; 4.0% with both.)
fn scale_pixels(px: &[u8], out: &mut [f32]) {
    let n = px.len().min(out.len());
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    let done = 0;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let done = {
        use core::arch::wasm32::*;
        let by = f32x4_splat(255.0);
        let to_f32 = |v: v128| f32x4_div(f32x4_convert_u32x4(v), by);
        for (src, dst) in px[..n].chunks_exact(16).zip(out.chunks_exact_mut(16)) {
            // safety: `src` holds 16 bytes and `dst` 16 floats (chunks_exact); unaligned
            // loads and stores are allowed.
            unsafe {
                let v = v128_load(src.as_ptr() as *const v128);
                let (lo, hi) = (u16x8_extend_low_u8x16(v), u16x8_extend_high_u8x16(v));
                let d = dst.as_mut_ptr() as *mut v128;
                v128_store(d, to_f32(u32x4_extend_low_u16x8(lo)));
                v128_store(d.add(1), to_f32(u32x4_extend_high_u16x8(lo)));
                v128_store(d.add(2), to_f32(u32x4_extend_low_u16x8(hi)));
                v128_store(d.add(3), to_f32(u32x4_extend_high_u16x8(hi)));
            }
        }
        n / 16 * 16
    };
    for (o, &p) in out[done..n].iter_mut().zip(&px[done..n]) {
        *o = SCALED[p as usize];
    }
}

/// `p as f32 / 255.0` for every byte `p`, made at compile time: a table lookup per pixel where
/// the division would stay scalar (native builds, and the last pixels of an image).
static SCALED: [f32; 256] = {
    let mut t = [0.0f32; 256];
    let mut p = 0;
    while p < 256 {
        t[p] = p as f32 / 255.0;
        p += 1;
    }
    t
};

fn data_err(file: &str, msg: impl std::fmt::Display) -> Error {
    Error::Data(format!("{file}: {msg}"))
}

/// The most a compressed IDX file may expand to (MNIST's training images are 47 MB): a
/// gzip bomb stops here instead of exhausting memory.
pub const MAX_DECOMPRESSED: u64 = 128 << 20;

/// Decompresses `bytes` when they start with the gzip magic, otherwise returns them as they are.
fn maybe_gunzip(file: &str, bytes: &[u8]) -> Result<Vec<u8>> {
    if bytes.len() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .take(MAX_DECOMPRESSED + 1)
            .read_to_end(&mut out)
            .map_err(|e| data_err(file, format!("gzip data is corrupt or truncated ({e})")))?;
        if out.len() as u64 > MAX_DECOMPRESSED {
            return Err(data_err(
                file,
                format!(
                    "expands past {} MB; an MNIST file is at most 47 MB",
                    MAX_DECOMPRESSED >> 20
                ),
            ));
        }
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

    /// Every byte value scales to exactly `p as f32 / 255.0` (the table is made at compile
    /// time; a runtime division must give the same bits).
    #[test]
    fn image_f32_divides_every_byte_by_255() {
        let pixels: Vec<u8> = (0..=255).rev().collect();
        let labels = vec![0; 1];
        let d = Dataset {
            images: Images {
                count: 1,
                rows: 16,
                cols: 16,
                pixels: pixels.clone(),
            },
            labels,
        };
        let mut out = [f32::NAN; 256];
        d.image_f32(0, &mut out);
        let by = std::hint::black_box(255.0f32);
        for (&o, &p) in out.iter().zip(&pixels) {
            assert_eq!(o.to_bits(), (p as f32 / by).to_bits(), "pixel {p}");
        }
        // Lengths that are not whole runs of 16 (the SIMD path's tail), from every offset.
        for len in [0, 1, 15, 17, 63, 255] {
            for start in [0, 1, 7] {
                let px = &pixels[start..start + len.min(256 - start)];
                let mut out = vec![f32::NAN; px.len() + 3];
                scale_pixels(px, &mut out);
                for (j, (&o, &p)) in out.iter().zip(px).enumerate() {
                    assert_eq!(
                        o.to_bits(),
                        (p as f32 / by).to_bits(),
                        "len {len}, pixel {j}"
                    );
                }
                assert!(
                    out[px.len()..].iter().all(|v| v.is_nan()),
                    "len {len}: past the end"
                );
            }
        }
    }

    /// `touch` only reads: any index, in range or not, leaves the data as it was.
    #[test]
    fn touch_reads_any_index_without_failing() {
        let d = Dataset {
            images: Images {
                count: 2,
                rows: 10,
                cols: 10,
                pixels: (0..200).map(|v| v as u8).collect(),
            },
            labels: vec![3, 4],
        };
        let before = d.clone();
        d.touch(&[1, 0, 2, u32::MAX]);
        d.touch(&[]);
        assert_eq!(d, before);
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

    /// A gzip "bomb" (a small file that expands past the cap) is refused, not expanded.
    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn refuses_files_that_expand_past_the_cap() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&idx(0x803, &[200_000, 28, 28], &[])).unwrap();
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..(MAX_DECOMPRESSED >> 20) + 1 {
            gz.write_all(&zeros).unwrap();
        }
        let bomb = gz.finish().unwrap();
        assert!(bomb.len() < 1 << 20, "{} bytes", bomb.len());
        let e = parse_images("bomb", &bomb).unwrap_err().to_string();
        assert!(e.contains("expands past 128 MB"), "{e}");
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
}
