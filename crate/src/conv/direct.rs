//! Direct convolution for windows with few taps (`K = C·kH·kW ≤` [`max_taps`]) and horizontal
//! stride 1, such as the 1-channel 5×5 first layer of an MNIST net.
//!
//! Why: with few taps, im2col + GEMM moves every input pixel K times for only C_out
//! multiply-adds per moved float; here the input is copied once into a zero-padded buffer and
//! each output row accumulates in registers (measurements: docs/conv.md, docs/perf.md).
//!
//! Which loop runs follows [`crate::gemm::selected_kernel`]: the SIMD micro-kernels' channel
//! pairs (with their multiply-add) or the portable loop, so a forced micro-kernel runs its own
//! code here too.

use super::geometry::Window;
use crate::gemm::KernelKind;
use crate::tensor::MAX_ELEMENTS;

/// Largest `K = C·kH·kW` the direct path takes with micro-kernel `kind`; larger windows have
/// enough work per moved float for im2col + GEMM to win. The SIMD channel pairs win up to
/// K = 256 (the cnn's conv2 has K = 200), the portable loop only up to 32.
pub fn max_taps(kind: KernelKind) -> usize {
    match kind {
        KernelKind::Portable => 32,
        KernelKind::Simd128 | KernelKind::Relaxed => 256,
    }
}

/// Output pixels accumulated together (four simd128 vectors).
const LANES: usize = 16;

/// Padded-buffer geometry: `(rows, cols)` per channel, covering every tap of every window plus
/// `LANES` columns of slack so the last partial chunk reads inside the buffer.
fn padded_dims(win: &Window) -> Option<(usize, usize)> {
    let [oh, ow] = win.out;
    let rows = (oh - 1)
        .checked_mul(win.stride[0])?
        .checked_add((win.kernel[0] - 1).checked_mul(win.dilation[0])?)?
        .checked_add(1)?;
    let cols = ow
        .div_ceil(LANES)
        .checked_mul(LANES)?
        .checked_add((win.kernel[1] - 1).checked_mul(win.dilation[1])?)?;
    Some((rows, cols))
}

/// Scratch floats the direct path needs with micro-kernel `kind`, or `None` when it does not
/// apply to `win`.
pub fn scratch_len(kind: KernelKind, win: &Window) -> Option<usize> {
    if win.rows() > max_taps(kind) || win.stride[1] != 1 || win.is_pointwise() {
        return None;
    }
    let (r, c) = padded_dims(win)?;
    win.channels
        .checked_mul(r)?
        .checked_mul(c)
        .filter(|&n| n <= MAX_ELEMENTS)
}

/// `out[o, p] = Σ_k w[o, k]·window_p[k]` for one group of one image: `img` is
/// `[channels, height, width]`, `w` is `[opg, K]`, `out` is `[opg, P]` (fully written);
/// `scratch` holds at least [`scratch_len`] floats. Callers check [`scratch_len`] first.
/// `kind` picks the loop (SIMD channel pairs or the portable loop).
pub fn conv(
    kind: KernelKind,
    win: &Window,
    img: &[f32],
    w: &[f32],
    out: &mut [f32],
    scratch: &mut [f32],
) {
    conv_bias(kind, win, img, w, None, out, scratch)
}

/// [`conv`] plus `bias[o]` on every pixel of output channel `o` (`bias` holds `opg` values),
/// added in the accumulators instead of in a second pass over `out`.
pub fn conv_bias(
    kind: KernelKind,
    win: &Window,
    img: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    out: &mut [f32],
    scratch: &mut [f32],
) {
    let Some((ph, pw)) = padded_dims(win) else {
        return;
    };
    let (h, wd) = (win.height, win.width);
    let [pt, pl] = win.pad;
    let padded = &mut scratch[..win.channels * ph * pw];
    // 1. copy the image once into the zero-padded buffer (row r ↔ image row r − pad_top)
    padded.fill(0.0);
    for c in 0..win.channels {
        for r in 0..ph {
            let iy = r.wrapping_sub(pt);
            if iy >= h {
                continue;
            }
            let dst = &mut padded[(c * ph + r) * pw..][..pw];
            let src = &img[(c * h + iy) * wd..][..wd];
            // image column ix lands at pl + ix; only the columns the windows reach are kept
            if pl < pw {
                let n = wd.min(pw - pl);
                dst[pl..pl + n].copy_from_slice(&src[..n]);
            }
        }
    }
    // 2. accumulate LANES output pixels of one row at a time, every tap read from `padded`
    let [oh, ow] = win.out;
    let [kh, kw] = win.kernel;
    let k = win.rows();
    let (s0, d0, d1) = (win.stride[0], win.dilation[0], win.dilation[1]);
    // Pairs of output channels with the SIMD micro-kernel's multiply-add (each tap's source
    // vectors feed both channels); the portable loop below takes the rest, or everything.
    let bias_of = |o: usize| bias.and_then(|b| b.get(o)).copied().unwrap_or(0.0);
    let done = crate::gemm::with_madd!(kind, F => {
        pairs_simd::<F>(win, padded, (ph, pw), w, &bias_of, out)
    }, else => 0);
    let (w, out) = (&w[done * k..], &mut out[done * oh * ow..]);
    for (o, (wo, out_o)) in w
        .chunks_exact(k)
        .zip(out.chunks_exact_mut(oh * ow))
        .enumerate()
    {
        let b = bias_of(done + o);
        for (oy, orow) in out_o.chunks_exact_mut(ow).enumerate() {
            for ox0 in (0..ow).step_by(LANES) {
                let mut acc = [0.0f32; LANES];
                let mut taps = wo.iter();
                for c in 0..win.channels {
                    for ky in 0..kh {
                        let row = &padded[(c * ph + oy * s0 + ky * d0) * pw..][..pw];
                        for kx in 0..kw {
                            let wv = *taps.next().unwrap_or(&0.0);
                            let at = ox0 + kx * d1;
                            let src: &[f32; LANES] = match row[at..at + LANES].try_into() {
                                Ok(s) => s,
                                Err(_) => continue, // unreachable: the slice has LANES floats
                            };
                            for i in 0..LANES {
                                acc[i] += wv * src[i];
                            }
                        }
                    }
                }
                let n = LANES.min(ow - ox0);
                // The bias last, as the GEMM path adds it (same rounding natively).
                for (o, &a) in orow[ox0..ox0 + n].iter_mut().zip(&acc) {
                    *o = a + b;
                }
            }
        }
    }
}

/// Output channels in pairs, LANES pixels of a row at a time: per tap, four source vectors
/// loaded once and a multiply-add into each channel's four accumulators (8 chains; relaxed
/// FMA with the relaxed micro-kernel). Returns how many leading channels of `w` / `out` it
/// wrote (an even number).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn pairs_simd<F: crate::gemm::MulAdd>(
    win: &Window,
    padded: &[f32],
    (ph, pw): (usize, usize),
    w: &[f32],
    bias_of: &dyn Fn(usize) -> f32,
    out: &mut [f32],
) -> usize {
    use core::arch::wasm32::*;
    let madd = F::madd;
    let [oh, ow] = win.out;
    let [kh, kw] = win.kernel;
    let k = win.rows();
    let (s0, d0, d1) = (win.stride[0], win.dilation[0], win.dilation[1]);
    let pairs = (out.len() / (oh * ow)).min(w.len() / k) / 2;
    let mut lanes = [0.0f32; 2 * LANES];
    for (pair, (wp, out_p)) in w
        .chunks_exact(2 * k)
        .zip(out.chunks_exact_mut(2 * oh * ow))
        .take(pairs)
        .enumerate()
    {
        let (bias0, bias1) = (
            f32x4_splat(bias_of(2 * pair)),
            f32x4_splat(bias_of(2 * pair + 1)),
        );
        let (w0, w1) = wp.split_at(k);
        let (out0, out1) = out_p.split_at_mut(oh * ow);
        for oy in 0..oh {
            for ox0 in (0..ow).step_by(LANES) {
                let mut acc = [bias0, bias0, bias0, bias0, bias1, bias1, bias1, bias1];
                // padded_dims leaves LANES columns of slack past the last window: every
                // tap's LANES floats lie inside its row.
                assert!(ox0 + (kw - 1) * d1 + LANES <= pw && w0.len() >= k && w1.len() >= k);
                let (mut p0, mut p1) = (w0.as_ptr(), w1.as_ptr());
                for c in 0..win.channels {
                    for ky in 0..kh {
                        let row = &padded[(c * ph + oy * s0 + ky * d0) * pw..][..pw];
                        let mut src = row[ox0..].as_ptr();
                        for _ in 0..kw {
                            // safety: k = channels·kh·kw taps are read from w0 and w1 (checked
                            // above); `src` stays inside `row` (checked above).
                            unsafe {
                                let a = v128_load32_splat(p0 as *const u32);
                                let b = v128_load32_splat(p1 as *const u32);
                                (p0, p1) = (p0.add(1), p1.add(1));
                                for i in 0..4 {
                                    let v = v128_load(src.add(4 * i) as *const v128);
                                    acc[i] = madd(v, a, acc[i]);
                                    acc[4 + i] = madd(v, b, acc[4 + i]);
                                }
                                src = src.add(d1);
                            }
                        }
                    }
                }
                let at = oy * ow + ox0;
                let n = LANES.min(ow - ox0);
                if n == LANES {
                    let (d0, d1) = (&mut out0[at..at + LANES], &mut out1[at..at + LANES]);
                    for i in 0..4 {
                        // safety: d0 and d1 hold LANES = 16 floats; 4·i + 4 ≤ 16.
                        unsafe {
                            v128_store(d0.as_mut_ptr().add(4 * i) as *mut v128, acc[i]);
                            v128_store(d1.as_mut_ptr().add(4 * i) as *mut v128, acc[4 + i]);
                        }
                    }
                    continue;
                }
                for (i, &v) in acc.iter().enumerate() {
                    // safety: `lanes` holds 2·LANES = 32 floats; 4·i + 4 ≤ 32.
                    unsafe { v128_store(lanes.as_mut_ptr().add(4 * i) as *mut v128, v) };
                }
                out0[at..at + n].copy_from_slice(&lanes[..n]);
                out1[at..at + n].copy_from_slice(&lanes[LANES..LANES + n]);
            }
        }
    }
    2 * pairs
}
