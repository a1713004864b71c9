//! The blocked GEMM driver (the five loops around the micro-kernel, after BLIS / Goto):
//! B is split into kc × nc blocks packed into NR-wide panels (or comes pre-packed from a
//! `PackedB`), A into mc × kc blocks packed into MR-tall panels; the micro-kernel runs on
//! every MR × NR tile, and edge tiles go through a scratch tile so micro-kernels only see
//! full tiles.

use std::cell::Cell;

use super::micro_kernel::MicroKernel;
use super::packing::{pack_a, pack_a_gathered, pack_b, pack_b_gathered};

/// Depth of a block: a B micro-panel (kc·NR·4 = 8–12 KB) stays in L1 while the micro-kernel
/// sweeps the A block.
pub(crate) const KC: usize = 256;
/// Rows of an A block (72·256·4 = 72 KB, in L2); a multiple of every MR we use (2, 3, 4).
pub(crate) const MC: usize = 72;
/// Columns of a B block (rounded down to a multiple of NR); kc·nc·4 = 1 MB.
pub(crate) const NC: usize = 1024;
/// The largest MR·NR of any micro-kernel (the scratch tile for edges).
const MAX_TILE: usize = 64;

thread_local! {
    // Packing buffers reused across calls: a 64³ GEMM takes ~10 µs, so neither an allocation
    // nor zero-filling a fresh buffer per call is free. (wasm is single-threaded; natively each
    // test thread gets its own.)
    static A_BUF: Cell<Vec<f32>> = const { Cell::new(Vec::new()) };
    static B_BUF: Cell<Vec<f32>> = const { Cell::new(Vec::new()) };
}

/// Takes a thread-local buffer, makes it at least `len` long, runs `f`, and puts it back.
fn with_buf<R>(
    key: &'static std::thread::LocalKey<Cell<Vec<f32>>>,
    len: usize,
    f: impl FnOnce(&mut [f32]) -> R,
) -> R {
    let mut buf = key.with(|c| c.take());
    if buf.len() < len {
        buf.resize(len, 0.0);
    }
    let r = f(&mut buf[..len]);
    key.with(|c| c.set(buf));
    r
}

/// Where A comes from.
#[derive(Clone, Copy)]
pub(crate) enum ASource {
    /// A strided view: element (i, p) at `ptr + i·rs + p·cs`.
    View {
        ptr: *const f32,
        rs: usize,
        cs: usize,
    },
    /// Through two offset tables: element (i, p) at `ptr + rows[i] + cols[p]` (an implicit
    /// im2col: rows are window positions, columns kernel taps).
    Gathered {
        ptr: *const f32,
        rows: *const usize,
        cols: *const usize,
    },
}

/// Where B comes from.
#[derive(Clone, Copy)]
pub(crate) enum BSource<'a> {
    /// A strided view: packed block by block here.
    View {
        ptr: *const f32,
        rs: usize,
        cs: usize,
    },
    /// Already packed for this micro-kernel's NR over the whole depth k (panel stride k·NR).
    Packed(&'a [f32]),
    /// Through two offset tables: element (p, j) at `ptr + rows[p] + cols[j]` (an implicit
    /// im2col with the windows as columns: rows are kernel taps).
    Gathered {
        ptr: *const f32,
        rows: *const usize,
        cols: *const usize,
    },
}

/// `C ← α·A·B + β·C` for m, k, n ≥ 1 with micro-kernel `K`.
///
/// # Safety
/// Every element (i, p) of A's source (i < m, p < k) is readable (a gathered A: `rows` holds
/// m offsets, `cols` k); B's view or gathered source likewise (k × n), or the
/// packed slice holds `ceil(n/NR)·k·NR` floats packed for `K::NR`; every `c + i*rsc + j*csc`
/// (i < m, j < n) is a distinct writable float.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn gemm<K: MicroKernel>(
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    a: ASource,
    b: BSource<'_>,
    beta: f32,
    c: *mut f32,
    rsc: usize,
    csc: usize,
) {
    let (mr, nr) = (K::MR, K::NR);
    debug_assert!(mr * nr <= MAX_TILE);
    let nc_max = (NC / nr) * nr;
    let mc_max = (MC / mr) * mr;
    // Depth blocks of equal size (784 = 4 × 196, not 3 × 256 + 16: a 16-deep block spends
    // as long reading and writing C as multiplying).
    let kc_max = k.div_ceil(k.div_ceil(KC).max(1)).max(1);
    let a_len = mc_max.min(m.div_ceil(mr) * mr) * kc_max;
    let b_len = match b {
        BSource::View { .. } | BSource::Gathered { .. } => nc_max.min(n.div_ceil(nr) * nr) * kc_max,
        BSource::Packed(_) => 0,
    };
    with_buf(&A_BUF, a_len, |abuf| {
        with_buf(&B_BUF, b_len, |bbuf| {
            // LOOP 5: split n in nc parts.
            for jc in (0..n).step_by(nc_max) {
                let ncur = nc_max.min(n - jc);
                // LOOP 4: split k in kc parts; C accumulates after the first part.
                for pc in (0..k).step_by(kc_max) {
                    let kcur = kc_max.min(k - pc);
                    let beta_p = if pc == 0 { beta } else { 1.0 };
                    let (bpanels, bstride): (*const f32, usize) = match b {
                        BSource::View { ptr, rs, cs } => {
                            // safety: the block (pc.., jc..) of size kcur × ncur lies inside
                            // the caller's valid k × n view.
                            unsafe {
                                pack_b::<K>(kcur, ncur, ptr.add(pc * rs + jc * cs), rs, cs, bbuf)
                            };
                            (bbuf.as_ptr(), kcur * nr)
                        }
                        BSource::Gathered { ptr, rows, cols } => {
                            // safety: rows pc.. and columns jc.. of the caller's k × n tables.
                            unsafe {
                                pack_b_gathered::<K>(
                                    kcur,
                                    ncur,
                                    ptr,
                                    rows.add(pc),
                                    cols.add(jc),
                                    bbuf,
                                )
                            };
                            (bbuf.as_ptr(), kcur * nr)
                        }
                        BSource::Packed(data) => {
                            // safety: jc is a multiple of NR, so panel jc/NR starts at
                            // (jc/NR)·k·NR, and pc·NR < k·NR stays inside it.
                            (
                                unsafe { data.as_ptr().add((jc / nr) * k * nr + pc * nr) },
                                k * nr,
                            )
                        }
                    };
                    // LOOP 3: split m in mc parts.
                    for ic in (0..m).step_by(mc_max) {
                        let mcur = mc_max.min(m - ic);
                        // safety: the block (ic.., pc..) of size mcur × kcur lies inside A.
                        unsafe {
                            match a {
                                ASource::View { ptr, rs, cs } => pack_a::<K>(
                                    mcur,
                                    kcur,
                                    ptr.add(ic * rs + pc * cs),
                                    rs,
                                    cs,
                                    abuf,
                                ),
                                ASource::Gathered { ptr, rows, cols } => pack_a_gathered::<K>(
                                    mcur,
                                    kcur,
                                    ptr,
                                    rows.add(ic),
                                    cols.add(pc),
                                    abuf,
                                ),
                            }
                        };
                        // LOOP 2: NR-wide panels of the B block.
                        for jr in (0..ncur).step_by(nr) {
                            let ncols = nr.min(ncur - jr);
                            // safety: panel jr/NR of the packed B block (see above).
                            let bp = unsafe { bpanels.add((jr / nr) * bstride) };
                            // LOOP 1: MR-tall panels of the A block.
                            for ir in (0..mcur).step_by(mr) {
                                let nrows = mr.min(mcur - ir);
                                let ap = abuf[(ir / mr) * kcur * mr..].as_ptr();
                                // safety: (ic+ir, jc+jr) is inside the m × n view of C.
                                let cp = unsafe { c.add((ic + ir) * rsc + (jc + jr) * csc) };
                                if nrows == mr && ncols == nr {
                                    // safety: full tile; panels hold kcur·MR and kcur·NR
                                    // floats; the C tile lies in the caller's view.
                                    unsafe { K::tile(kcur, alpha, ap, bp, beta_p, cp, rsc, csc) };
                                } else {
                                    // safety: as above, but the micro-kernel writes a full tile into
                                    // the local scratch and only the valid part reaches C.
                                    unsafe {
                                        edge_tile::<K>(
                                            kcur, alpha, ap, bp, beta_p, cp, rsc, csc, nrows, ncols,
                                        )
                                    };
                                }
                            }
                        }
                    }
                }
            }
        })
    });
}

/// Runs the micro-kernel on a scratch tile, then writes the `rows × cols` valid corner into C.
///
/// # Safety
/// Panels as for [`MicroKernel::tile`]; the `rows × cols` tile at `c` is valid.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
unsafe fn edge_tile<K: MicroKernel>(
    k: usize,
    alpha: f32,
    a: *const f32,
    b: *const f32,
    beta: f32,
    c: *mut f32,
    rsc: usize,
    csc: usize,
    rows: usize,
    cols: usize,
) {
    let mut tile = [0.0f32; MAX_TILE];
    // safety: the scratch tile holds MR·NR ≤ MAX_TILE floats, row stride NR, column stride 1;
    // β = 0 so it is only written.
    unsafe { K::tile(k, alpha, a, b, 0.0, tile.as_mut_ptr(), K::NR, 1) };
    for i in 0..rows {
        for j in 0..cols {
            // safety: i < rows, j < cols is inside the caller's valid C tile.
            let dst = unsafe { &mut *c.add(i * rsc + j * csc) };
            let v = tile[i * K::NR + j];
            *dst = if beta == 0.0 { v } else { v + beta * *dst };
        }
    }
}
