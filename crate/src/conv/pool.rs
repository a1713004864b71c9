//! Max pooling with PyTorch's `MaxPool2d` semantics, and its backward pass through the argmax.

use super::geometry::Pool2dParams;
use super::unwritten;
use crate::error::{Error, Result};
use crate::tensor::{checked_numel, Tensor};

/// `argmax` value of a window that lies entirely in the padding (its output is −∞ and it
/// passes no gradient). Only possible with dilation larger than the input.
pub const NO_ARGMAX: u32 = u32::MAX;

/// Max pool over each channel of `x` (`[N, C, H, W]` or `[C, H, W]`). Returns the pooled tensor
/// and, for every output cell, the flat index into `x` of the element that won (NaN wins, as in
/// PyTorch; among equal values the first in raster order wins).
pub fn max_pool2d(x: &Tensor, p: &Pool2dParams) -> Result<(Tensor, Vec<u32>)> {
    let (lead, h, w) = match *x.shape() {
        [n, c, h, w] => (vec![n, c], h, w),
        [c, h, w] => (vec![c], h, w),
        _ => {
            return Err(Error::shape(format!(
                "max_pool2d input must be [N, C, H, W] or [C, H, W], got {:?}",
                x.shape()
            )))
        }
    };
    let [oh, ow] = p.output([h, w])?.out();
    let planes: usize = lead.iter().product();
    let mut shape = lead;
    shape.extend([oh, ow]);
    let total = checked_numel(&shape)?;
    let mut out = unwritten(total);
    let mut arg = vec![NO_ARGMAX; total];
    if p.kernel == [2, 2]
        && p.stride == [2, 2]
        && p.dilation == [1, 1]
        && p.padding[..2] == [0, 0]
        && 2 * oh <= h
        && 2 * ow <= w
    {
        // MaxPool2d(2) with every window inside (the cnn's pools): two input rows per output
        // row, no tap arithmetic.
        for pl in 0..planes {
            let base = pl * h * w;
            let plane = &x.data()[base..base + h * w];
            for oy in 0..oh {
                let o = (pl * oh + oy) * ow;
                let r0 = &plane[2 * oy * w..][..2 * ow];
                let r1 = &plane[(2 * oy + 1) * w..][..2 * ow];
                pool_2x2_row(
                    r0,
                    r1,
                    (base + 2 * oy * w) as u32,
                    w as u32,
                    &mut out[o..o + ow],
                    &mut arg[o..o + ow],
                );
            }
        }
        return Ok((Tensor::new(out, &shape)?, arg));
    }
    // Every plane's windows cover the same taps: found once (a division or two each), not per
    // cell, which made the pool a sixth of a cnn training step.
    let rows: Vec<_> = (0..oh).map(|oy| inside_taps(oy, p, 0, h)).collect();
    let cols: Vec<_> = (0..ow).map(|ox| inside_taps(ox, p, 1, w)).collect();
    let [dy, dx] = p.dilation;
    for pl in 0..planes {
        let base = pl * h * w;
        let plane = &x.data()[base..base + h * w];
        for (oy, &(y0, ny)) in rows.iter().enumerate() {
            for (ox, &(x0, nx)) in cols.iter().enumerate() {
                let o = (pl * oh + oy) * ow + ox;
                if ny == 2 && nx == 2 {
                    // A 2×2 window as a tree of the same choice, which halves the chain of
                    // dependent comparisons and picks the same tap as the loop.
                    let (y1, x1) = (y0 + dy, x0 + dx);
                    let tap = |y: usize, x: usize| (plane[y * w + x], (base + y * w + x) as u32);
                    let top = later_wins_if_larger(tap(y0, x0), tap(y0, x1));
                    let bottom = later_wins_if_larger(tap(y1, x0), tap(y1, x1));
                    (out[o], arg[o]) = later_wins_if_larger(top, bottom);
                    continue;
                }
                let mut best = f32::NEG_INFINITY;
                let mut at = NO_ARGMAX;
                for iy in (y0..).step_by(dy.max(1)).take(ny) {
                    for ix in (x0..).step_by(dx.max(1)).take(nx) {
                        let v = plane[iy * w + ix];
                        // Without branches (`|`, selects): which tap wins depends on the data,
                        // and a mispredicted branch per tap cost more than the comparison.
                        let take = (at == NO_ARGMAX) | (v > best) | v.is_nan();
                        best = if take { v } else { best };
                        at = if take {
                            (base + iy * w + ix) as u32
                        } else {
                            at
                        };
                    }
                }
                out[o] = best;
                arg[o] = at;
            }
        }
    }
    Ok((Tensor::new(out, &shape)?, arg))
}

/// One output row of MaxPool2d(2): window `i` covers `r0[2i..2i + 2]` and `r1[2i..2i + 2]`, the
/// rows at flat index `at` and `at + w`; the same tree (and so the same tap) as the general 2×2
/// windows, in straight-line code the compiler can keep in registers.
fn pool_2x2_row(r0: &[f32], r1: &[f32], at: u32, w: u32, out: &mut [f32], arg: &mut [u32]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let (r0, r1, at, out, arg) = {
        let done = simd::pool_2x2_quads(r0, r1, at, w, out, arg);
        (
            &r0[2 * done..],
            &r1[2 * done..],
            at + 2 * done as u32,
            &mut out[done..],
            &mut arg[done..],
        )
    };
    let cells = r0.chunks_exact(2).zip(r1.chunks_exact(2));
    for (i, ((a, b), (o, g))) in cells.zip(out.iter_mut().zip(arg.iter_mut())).enumerate() {
        let i0 = at + 2 * i as u32;
        let top = later_wins_if_larger((a[0], i0), (a[1], i0 + 1));
        let bottom = later_wins_if_larger((b[0], i0 + w), (b[1], i0 + w + 1));
        (*o, *g) = later_wins_if_larger(top, bottom);
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use core::arch::wasm32::*;

    /// Of two taps as four lanes each, the later where it is larger or NaN (the lanes of
    /// [`super::later_wins_if_larger`]): the values and the mask of where the later won.
    #[inline(always)]
    fn later_wins(a: v128, b: v128) -> (v128, v128) {
        let take = v128_or(f32x4_gt(b, a), f32x4_ne(b, b));
        (v128_bitselect(b, a, take), take)
    }

    /// [`super::pool_2x2_row`] four windows at a time: the even and odd columns of both rows
    /// pulled apart with shuffles, then the same tree lane by lane. A row of at least four
    /// windows that is not a multiple of four ends with a quad that overlaps the one before
    /// (its shared windows computed again, to the same values and indices), so the row is done
    /// in SIMD. Returns how many windows it did (the caller does the rest: rows under four).
    pub(super) fn pool_2x2_quads(
        r0: &[f32],
        r1: &[f32],
        at: u32,
        w: u32,
        out: &mut [f32],
        arg: &mut [u32],
    ) -> usize {
        let n = out.len().min(arg.len()).min(r0.len() / 2).min(r1.len() / 2);
        if n < 4 {
            return 0;
        }
        let one = i32x4_splat(1);
        let lanes = i32x4(0, 2, 4, 6);
        let bottom_row = i32x4_splat(w as i32);
        let mut quad = |s: usize| {
            let (a, b) = (&r0[2 * s..2 * s + 8], &r1[2 * s..2 * s + 8]);
            let (o, g) = (&mut out[s..s + 4], &mut arg[s..s + 4]);
            // safety: each slice above holds the 8 (or 4) floats read or written.
            unsafe {
                let (a0, a1) = (
                    v128_load(a.as_ptr() as *const v128),
                    v128_load(a.as_ptr().add(4) as *const v128),
                );
                let (b0, b1) = (
                    v128_load(b.as_ptr() as *const v128),
                    v128_load(b.as_ptr().add(4) as *const v128),
                );
                let (top, t) = later_wins(
                    i32x4_shuffle::<0, 2, 4, 6>(a0, a1),
                    i32x4_shuffle::<1, 3, 5, 7>(a0, a1),
                );
                let (bottom, u) = later_wins(
                    i32x4_shuffle::<0, 2, 4, 6>(b0, b1),
                    i32x4_shuffle::<1, 3, 5, 7>(b0, b1),
                );
                let (best, f) = later_wins(top, bottom);
                // Offsets in the window: 0 or 1 in the top row, w or w + 1 in the bottom one.
                let top_at = v128_and(t, one);
                let bottom_at = i32x4_add(bottom_row, v128_and(u, one));
                let first = i32x4_add(i32x4_splat((at + 2 * s as u32) as i32), lanes);
                let idx = i32x4_add(first, v128_bitselect(bottom_at, top_at, f));
                v128_store(o.as_mut_ptr() as *mut v128, best);
                v128_store(g.as_mut_ptr() as *mut v128, idx);
            }
        };
        for q in 0..n / 4 {
            quad(4 * q);
        }
        if !n.is_multiple_of(4) {
            quad(n - 4);
        }
        n
    }
}

/// Of two taps (value, index), the later one in raster order when it is larger or NaN, else
/// the earlier: so the first of equal maxima wins and NaN wins, as the loop over taps decides.
#[inline(always)]
fn later_wins_if_larger(a: (f32, u32), b: (f32, u32)) -> (f32, u32) {
    let take = (b.0 > a.0) | b.0.is_nan();
    (if take { b.0 } else { a.0 }, if take { b.1 } else { a.1 })
}

/// The input positions along `axis` that window `o` covers and that lie inside the `n` cells,
/// as `(first, count)` with step `dilation` (taps on the padding are skipped without being
/// visited, so a huge kernel costs only the cells it covers): `o·stride − pad + k·dilation` for
/// `k` in `0..kernel`, in order, with `pad` the padding before the image (top or left; the end
/// padding only shows in the output size).
fn inside_taps(o: usize, p: &Pool2dParams, axis: usize, n: usize) -> (usize, usize) {
    let (s, pad, d, k) = (
        p.stride[axis] as u64,
        p.padding[axis] as u64,
        p.dilation[axis] as u64,
        p.kernel[axis] as u64,
    );
    let start = o as u64 * s; // window start + pad
                              // first k with start + k·d ≥ pad, and the first with start + k·d ≥ pad + n
    let k_lo = if start >= pad {
        0
    } else {
        (pad - start).div_ceil(d)
    }
    .min(k);
    let k_hi = (pad + n as u64)
        .saturating_sub(start)
        .div_ceil(d)
        .min(k)
        .max(k_lo);
    let first = (start + k_lo * d).saturating_sub(pad) as usize;
    (first, (k_hi - k_lo) as usize)
}

/// Gradient of [`max_pool2d`]: each output gradient goes to the input element that won its
/// window (added up where windows overlap). `x_shape` is the shape of the pooled input.
pub fn max_pool2d_backward(dy: &Tensor, argmax: &[u32], x_shape: &[usize]) -> Result<Tensor> {
    let n = checked_numel(x_shape)?;
    if argmax.len() != dy.len() {
        return Err(Error::param(
            "argmax",
            argmax.len(),
            format!("must have one entry per output gradient ({})", dy.len()),
        ));
    }
    let mut dx = vec![0.0f32; n];
    for (&g, &i) in dy.data().iter().zip(argmax) {
        if i == NO_ARGMAX {
            continue;
        }
        match dx.get_mut(i as usize) {
            Some(d) => *d += g,
            None => {
                return Err(Error::param(
                    "argmax",
                    i,
                    format!("is outside the input of shape {x_shape:?}"),
                ))
            }
        }
    }
    Tensor::new(dx, x_shape)
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn a_huge_kernel_visits_only_the_cells_it_covers() {
        // Used to walk all 2³¹ × 2³¹ taps of each window (minutes); now each window costs the
        // 16 cells it covers.
        let x = Tensor::new((0..16).map(|v| v as f32).collect(), &[1, 1, 4, 4]).unwrap();
        let p = Pool2dParams {
            kernel: [1 << 30, 1 << 30],
            stride: [1, 1],
            padding: [1 << 29; 4],
            dilation: [1, 1],
            ceil_mode: false,
        };
        let (y, arg) = max_pool2d(&x, &p).unwrap();
        assert_eq!(y.shape(), &[1, 1, 5, 5]);
        assert!(y.data().iter().all(|&v| v == 15.0));
        assert!(arg.iter().all(|&a| a == 15));
    }

    #[test]
    fn inside_taps_are_the_definition() {
        for (o, s, pad, d, k, n) in [(0, 1, 1, 1, 3, 4), (3, 2, 2, 3, 4, 9), (1, 1, 0, 5, 2, 3)] {
            let p = Pool2dParams {
                kernel: [k, k],
                stride: [s, s],
                padding: [pad; 4],
                dilation: [d, d],
                ceil_mode: false,
            };
            let want: Vec<usize> = (0..k)
                .map(|kk| (o * s + kk * d) as isize - pad as isize)
                .filter(|&i| i >= 0 && (i as usize) < n)
                .map(|i| i as usize)
                .collect();
            let (first, count) = inside_taps(o, &p, 0, n);
            let got: Vec<usize> = (0..count).map(|i| first + i * d).collect();
            assert_eq!(got, want);
        }
    }
}
