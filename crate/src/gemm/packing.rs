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

/// Packs the `mc × kc` block of a gathered A, element (r, p) at `a + rows[r] + cols[p]`, into
/// `dst[.. ceil(mc/MR)·kc·MR]` (same layout as [`pack_a`]). A panel whose MR row offsets are
/// consecutive (MR neighbouring windows of one output row at stride 1) copies MR contiguous
/// floats per column, as `pack_a` does from a column-major A; the others gather one float at
/// a time.
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
    let mr_full = K::MR;
    // safety: the caller's tables hold mc and kc offsets.
    let (rows, cols) = unsafe {
        (
            std::slice::from_raw_parts(rows, mc),
            std::slice::from_raw_parts(cols, kc),
        )
    };
    for (panel, out) in dst
        .chunks_exact_mut(kc * mr_full)
        .take(mc.div_ceil(mr_full))
        .enumerate()
    {
        let ro = &rows[panel * mr_full..mc.min((panel + 1) * mr_full)];
        let consecutive = ro.len() == mr_full && ro.windows(2).all(|w| w[1] == w[0] + 1);
        if consecutive {
            let r0 = ro[0];
            for (o, &c) in out.chunks_exact_mut(mr_full).zip(cols) {
                // safety: a + r0 + c + r = a + rows[r] + cols[p] for r < MR: readable.
                let src = unsafe { std::slice::from_raw_parts(a.add(r0 + c), mr_full) };
                o.copy_from_slice(src);
            }
        } else {
            for (o, &c) in out.chunks_exact_mut(mr_full).zip(cols) {
                for (r, v) in o.iter_mut().enumerate() {
                    *v = match ro.get(r) {
                        // safety: rows[r] + cols[p] is readable (caller).
                        Some(&off) => unsafe { *a.add(off + c) },
                        None => 0.0,
                    };
                }
            }
        }
    }
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
        } else {
            for (p, o) in out.chunks_exact_mut(nr_full).enumerate() {
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
}

/// Packs the `kc × nc` block of a gathered B, element (p, c) at `b + rows[p] + cols[c]`, into
/// `dst[.. ceil(nc/NR)·kc·NR]` (same layout as [`pack_b`]). A panel whose NR column offsets
/// are consecutive (NR neighbouring windows of one output row at stride 1) copies NR
/// contiguous floats per row; the others gather one float at a time.
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
    let nr_full = K::NR;
    // safety: the caller's tables hold kc and nc offsets.
    let (rows, cols) = unsafe {
        (
            std::slice::from_raw_parts(rows, kc),
            std::slice::from_raw_parts(cols, nc),
        )
    };
    for (panel, out) in dst
        .chunks_exact_mut(kc * nr_full)
        .take(nc.div_ceil(nr_full))
        .enumerate()
    {
        let co = &cols[panel * nr_full..nc.min((panel + 1) * nr_full)];
        let consecutive = co.len() == nr_full && co.windows(2).all(|w| w[1] == w[0] + 1);
        if consecutive {
            let c0 = co[0];
            for (o, &r) in out.chunks_exact_mut(nr_full).zip(rows) {
                // safety: b + r + c0 + c = b + rows[p] + cols[c] for c < NR: readable.
                let src = unsafe { std::slice::from_raw_parts(b.add(r + c0), nr_full) };
                o.copy_from_slice(src);
            }
        } else {
            for (o, &r) in out.chunks_exact_mut(nr_full).zip(rows) {
                for (c, v) in o.iter_mut().enumerate() {
                    *v = match co.get(c) {
                        // safety: rows[p] + cols[c] is readable (caller).
                        Some(&off) => unsafe { *b.add(r + off) },
                        None => 0.0,
                    };
                }
            }
        }
    }
}
