//! Packing: copies a block of A into MR-row micro-panels and a block of B into NR-column
//! micro-panels, both k-major and zero-padded to full tiles, so that a micro-kernel streams
//! its two panels contiguously and never needs an edge case.
//!
//! Layouts (a "panel stride" is the distance between consecutive panels):
//! - A block (mc × kc): panel `i` holds rows `i·MR ..`, element (r, p) at `i·kc·MR + p·MR + r`.
//! - B block (kc × nc): panel `j` holds columns `j·NR ..`, element (p, c) at `j·kc·NR + p·NR + c`.

use super::micro_kernel::MicroKernel;

/// Packs the `mc × kc` block of A at `a` (strides `rsa`, `csa`) into `dst[.. ceil(mc/MR)·kc·MR]`.
///
/// # Safety
/// Every `a + r*rsa + p*csa` for r < mc, p < kc is readable.
pub(crate) unsafe fn pack_a<K: MicroKernel>(
    mc: usize,
    kc: usize,
    a: *const f32,
    rsa: usize,
    csa: usize,
    dst: &mut [f32],
) {
    let mr_full = K::MR;
    for (panel, out) in dst
        .chunks_exact_mut(kc * mr_full)
        .take(mc.div_ceil(mr_full))
        .enumerate()
    {
        let r0 = panel * mr_full;
        let rows = mr_full.min(mc - r0);
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        if rows == 2 && mr_full == 2 && csa == 1 {
            // Row-major A with 2-row panels (the SIMD tiles): interleave 4 floats of both rows
            // per step with two shuffles instead of copying one float at a time.
            // safety: rows r0, r0 + 1 of columns 0..kc lie in the readable view.
            unsafe { interleave_rows(kc, a.add(r0 * rsa), a.add((r0 + 1) * rsa), out) };
            continue;
        }
        if rows == mr_full && rsa == 1 {
            // Column-major A (e.g. a transposed row-major matrix): MR contiguous floats per p.
            for (p, o) in out.chunks_exact_mut(mr_full).enumerate() {
                // safety: rows r0..r0+MR of column p lie in the readable view.
                let src = unsafe { std::slice::from_raw_parts(a.add(r0 + p * csa), mr_full) };
                o.copy_from_slice(src);
            }
        } else {
            for (p, o) in out.chunks_exact_mut(mr_full).enumerate() {
                for (r, v) in o.iter_mut().enumerate() {
                    *v = if r < rows {
                        // safety: r0 + r < mc and p < kc.
                        unsafe { *a.add((r0 + r) * rsa + p * csa) }
                    } else {
                        0.0
                    };
                }
            }
        }
    }
}

/// `out[2p] = r0[p]`, `out[2p + 1] = r1[p]` for p < kc (`out` holds 2·kc floats).
///
/// # Safety
/// `r0` and `r1` are readable for kc floats.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
unsafe fn interleave_rows(kc: usize, r0: *const f32, r1: *const f32, out: &mut [f32]) {
    use core::arch::wasm32::*;
    assert!(out.len() >= 2 * kc);
    let mut p = 0;
    while p + 4 <= kc {
        // safety: p + 4 ≤ kc floats of both rows; 2p + 8 ≤ 2·kc floats of `out`.
        unsafe {
            let a = v128_load(r0.add(p) as *const v128);
            let b = v128_load(r1.add(p) as *const v128);
            let o = out.as_mut_ptr().add(2 * p);
            v128_store(o as *mut v128, i32x4_shuffle::<0, 4, 1, 5>(a, b));
            v128_store(o.add(4) as *mut v128, i32x4_shuffle::<2, 6, 3, 7>(a, b));
        }
        p += 4;
    }
    while p < kc {
        // safety: p < kc.
        unsafe {
            out[2 * p] = *r0.add(p);
            out[2 * p + 1] = *r1.add(p);
        }
        p += 1;
    }
}

/// Packs `count` lines of a gathered matrix into `width`-wide k-major panels (`dst[..
/// ceil(count/width)·depth·width]`): element (line l, depth p) is `src[lines[l] + depths[p]]`.
/// A's panels are its rows (`lines` = row offsets, width MR), B's its columns (`lines` = column
/// offsets, width NR). A panel whose `width` line offsets are consecutive (neighbouring windows
/// of one output row at stride 1) copies `width` contiguous floats per depth; the others gather
/// one float at a time; missing lines of the last panel are zeros.
///
/// # Safety
/// `lines` holds `count` offsets and `depths` `depth`; every `src + lines[l] + depths[p]` is
/// readable.
#[inline(always)] // so that each caller's `width` (MR or NR) is a constant: fixed-size copies
unsafe fn pack_gathered(
    width: usize,
    count: usize,
    depth: usize,
    src: *const f32,
    lines: *const usize,
    depths: *const usize,
    dst: &mut [f32],
) {
    // safety: the caller's tables hold `count` and `depth` offsets.
    let (lines, depths) = unsafe {
        (
            std::slice::from_raw_parts(lines, count),
            std::slice::from_raw_parts(depths, depth),
        )
    };
    for (panel, out) in dst
        .chunks_exact_mut(depth * width)
        .take(count.div_ceil(width))
        .enumerate()
    {
        let lo = &lines[panel * width..count.min((panel + 1) * width)];
        let consecutive = lo.len() == width && lo.windows(2).all(|w| w[1] == w[0] + 1);
        if consecutive {
            let l0 = lo[0];
            for (o, &d) in out.chunks_exact_mut(width).zip(depths) {
                // safety: src + l0 + d + i = src + lines[i] + depths[p] for i < width: readable.
                let run = unsafe { std::slice::from_raw_parts(src.add(l0 + d), width) };
                o.copy_from_slice(run);
            }
        } else {
            for (o, &d) in out.chunks_exact_mut(width).zip(depths) {
                for (i, v) in o.iter_mut().enumerate() {
                    *v = match lo.get(i) {
                        // safety: lines[i] + depths[p] is readable (caller).
                        Some(&off) => unsafe { *src.add(off + d) },
                        None => 0.0,
                    };
                }
            }
        }
    }
}

/// Packs the `mc × kc` block of a gathered A, element (r, p) at `a + rows[r] + cols[p]`, into
/// `dst[.. ceil(mc/MR)·kc·MR]` (same layout as [`pack_a`]; see [`pack_gathered`]).
///
/// # Safety
/// `rows` holds mc offsets and `cols` kc; every `a + rows[r] + cols[p]` is readable.
pub(crate) unsafe fn pack_a_gathered<K: MicroKernel>(
    mc: usize,
    kc: usize,
    a: *const f32,
    rows: *const usize,
    cols: *const usize,
    dst: &mut [f32],
) {
    // safety: forwarded from the caller.
    unsafe { pack_gathered(K::MR, mc, kc, a, rows, cols, dst) }
}

/// Packs the `kc × nc` block of B at `b` (strides `rsb`, `csb`) into
/// `dst[.. ceil(nc/NR)·kc·NR]`.
///
/// # Safety
/// Every `b + p*rsb + c*csb` for p < kc, c < nc is readable.
pub(crate) unsafe fn pack_b<K: MicroKernel>(
    kc: usize,
    nc: usize,
    b: *const f32,
    rsb: usize,
    csb: usize,
    dst: &mut [f32],
) {
    let nr_full = K::NR;
    for (panel, out) in dst
        .chunks_exact_mut(kc * nr_full)
        .take(nc.div_ceil(nr_full))
        .enumerate()
    {
        let c0 = panel * nr_full;
        let cols = nr_full.min(nc - c0);
        if cols == nr_full && csb == 1 {
            // Row-major B (the usual weights layout): NR contiguous floats per p.
            for (p, o) in out.chunks_exact_mut(nr_full).enumerate() {
                // safety: columns c0..c0+NR of row p lie in the readable view.
                let src = unsafe { std::slice::from_raw_parts(b.add(p * rsb + c0), nr_full) };
                o.copy_from_slice(src);
            }
            continue;
        }
        #[allow(unused_mut)]
        let mut p0 = 0;
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        if cols == nr_full && rsb == 1 && nr_full.is_multiple_of(4) {
            // Column-major B (a transposed row-major matrix, as a dense layer's Wᵀ): 4 × 4
            // blocks transposed in registers, 4 floats read per column instead of 1.
            // safety: columns c0..c0+NR of rows 0..kc lie in the readable view.
            p0 = unsafe { transpose_panel(kc, nr_full, b.add(c0 * csb), csb, out) };
        }
        for (p, o) in out.chunks_exact_mut(nr_full).enumerate().skip(p0) {
            for (c, v) in o.iter_mut().enumerate() {
                *v = if c < cols {
                    // safety: p < kc and c0 + c < nc.
                    unsafe { *b.add(p * rsb + (c0 + c) * csb) }
                } else {
                    0.0
                };
            }
        }
    }
}

/// One `nr`-wide panel of a column-major B (element (p, c) at `b + p + c·csb`):
/// `out[p·nr + c]` for the rows p below the largest multiple of 4 ≤ kc, which it returns.
///
/// # Safety
/// Every `b + p + c·csb` for p < kc, c < nr is readable; `out` holds kc·nr floats; nr is a
/// multiple of 4.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
unsafe fn transpose_panel(
    kc: usize,
    nr: usize,
    b: *const f32,
    csb: usize,
    out: &mut [f32],
) -> usize {
    use core::arch::wasm32::*;
    let rows = kc / 4 * 4;
    assert!(out.len() >= kc * nr && nr.is_multiple_of(4));
    let o = out.as_mut_ptr();
    for c in (0..nr).step_by(4) {
        // safety (all below): columns c..c+4 hold kc readable floats each (caller); the stores
        // are at (p + q)·nr + c + 0..4 < kc·nr.
        let col = |j: usize| unsafe { b.add((c + j) * csb) };
        let (s0, s1, s2, s3) = (col(0), col(1), col(2), col(3));
        for p in (0..rows).step_by(4) {
            unsafe {
                let r0 = v128_load(s0.add(p) as *const v128);
                let r1 = v128_load(s1.add(p) as *const v128);
                let r2 = v128_load(s2.add(p) as *const v128);
                let r3 = v128_load(s3.add(p) as *const v128);
                let t0 = i32x4_shuffle::<0, 4, 1, 5>(r0, r1);
                let t1 = i32x4_shuffle::<2, 6, 3, 7>(r0, r1);
                let t2 = i32x4_shuffle::<0, 4, 1, 5>(r2, r3);
                let t3 = i32x4_shuffle::<2, 6, 3, 7>(r2, r3);
                let d = o.add(p * nr + c);
                v128_store(d as *mut v128, i32x4_shuffle::<0, 1, 4, 5>(t0, t2));
                v128_store(d.add(nr) as *mut v128, i32x4_shuffle::<2, 3, 6, 7>(t0, t2));
                v128_store(
                    d.add(2 * nr) as *mut v128,
                    i32x4_shuffle::<0, 1, 4, 5>(t1, t3),
                );
                v128_store(
                    d.add(3 * nr) as *mut v128,
                    i32x4_shuffle::<2, 3, 6, 7>(t1, t3),
                );
            }
        }
    }
    rows
}

/// Packs the `kc × nc` block of a gathered B, element (p, c) at `b + rows[p] + cols[c]`, into
/// `dst[.. ceil(nc/NR)·kc·NR]` (same layout as [`pack_b`]; see [`pack_gathered`]).
///
/// # Safety
/// `rows` holds kc offsets and `cols` nc; every `b + rows[p] + cols[c]` is readable.
pub(crate) unsafe fn pack_b_gathered<K: MicroKernel>(
    kc: usize,
    nc: usize,
    b: *const f32,
    rows: *const usize,
    cols: *const usize,
    dst: &mut [f32],
) {
    // safety: forwarded from the caller.
    unsafe { pack_gathered(K::NR, nc, kc, b, cols, rows, dst) }
}
