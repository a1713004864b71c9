//! The blocked GEMM driver (the five loops around the micro-kernel, after BLIS / Goto):
//! B is split into kc × nc blocks packed into NR-wide panels (or comes pre-packed from a
//! `PackedB`), A into mc × kc blocks packed into MR-tall panels; the micro-kernel runs on
//! every MR × NR tile, and edge tiles go through a scratch tile so micro-kernels only see
//! full tiles.

use std::cell::Cell;

use super::micro_kernel::MicroKernel;
use super::packing::{pack_a, pack_a_gathered, pack_b, pack_b_gathered};
use crate::threadpool::MIN_TASK_WORK;

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
    // nor zero-filling a fresh buffer per call is free. (Each thread has its own: a native test
    // thread, a pool worker of the threaded wasm.)
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

/// Below this many multiply-adds per task a GEMM stays on one thread: half of
/// [`MIN_TASK_WORK`], so that a 64³ product (2¹⁸) runs on 2 threads, two parts of about 5 µs
/// each. Measured in Chromium on 2 cores through the JS API: 64³ 1.34–1.39× its one thread
/// (TF.js's pool splits it too: 1.26–1.64×); docs/bench.md, seventh session.
pub(crate) const GEMM_MIN_TASK_WORK: usize = MIN_TASK_WORK / 2;

/// How a GEMM is cut into tasks: C's columns (or rows) in parts of `chunk`, a multiple of the
/// micro-kernel's NR (or MR), so that every part meets the same MR × NR tiles, full or edge,
/// as the whole product and each element sums its k terms in the same order: the result is
/// bit for bit the one-thread result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Split {
    One,
    Cols { chunk: usize, parts: usize },
    Rows { chunk: usize, parts: usize },
}

impl Split {
    /// The split for `threads` threads: none below [`GEMM_MIN_TASK_WORK`] per task.
    pub(crate) fn plan(
        m: usize,
        k: usize,
        n: usize,
        mr: usize,
        nr: usize,
        threads: usize,
    ) -> Split {
        let work = m.saturating_mul(k).saturating_mul(n);
        Split::into_tasks(m, n, mr, nr, threads.min(work / GEMM_MIN_TASK_WORK))
    }

    /// At most `tasks` parts of whole tiles. Columns when C is at least as wide as it is tall
    /// (each task then packs its own B columns and all of A: A is the smaller copy), else rows.
    pub(crate) fn into_tasks(m: usize, n: usize, mr: usize, nr: usize, tasks: usize) -> Split {
        let (col_panels, row_panels) = (n.div_ceil(nr), m.div_ceil(mr));
        let by_cols = (n >= m && col_panels >= 2) || row_panels < 2;
        let (panels, unit, len) = if by_cols {
            (col_panels, nr, n)
        } else {
            (row_panels, mr, m)
        };
        let tasks = tasks.min(panels);
        if tasks <= 1 {
            return Split::One;
        }
        let chunk = panels.div_ceil(tasks) * unit;
        let parts = len.div_ceil(chunk);
        if by_cols {
            Split::Cols { chunk, parts }
        } else {
            Split::Rows { chunk, parts }
        }
    }

    pub(crate) fn parts(self) -> usize {
        match self {
            Split::One => 1,
            Split::Cols { parts, .. } | Split::Rows { parts, .. } => parts,
        }
    }
}

/// Tests: runs `f` with every GEMM (and every other split) on this thread cut into (at most)
/// `tasks` parts, whatever its size.
#[cfg(test)]
pub(crate) use crate::threadpool::with_tasks;

/// The operands of one GEMM, shared by its tasks.
struct Job<'a> {
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    a: ASource,
    b: BSource<'a>,
    beta: f32,
    c: *mut f32,
    rsc: usize,
    csc: usize,
}

// safety: the tasks of one job write disjoint parts of C (whole columns or rows of it) and
// only read A and B; the caller of `gemm` guarantees the views for the job's lifetime.
unsafe impl Sync for Job<'_> {}

/// `C ← α·A·B + β·C` for m, k, n ≥ 1 with micro-kernel `K`, on the pool's threads when the
/// product is large enough ([`Split::plan`]); the result is the same bit for bit.
///
/// # Safety
/// As for [`gemm_one`].
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
    let forced = crate::threadpool::forced_tasks();
    let split = if forced > 0 {
        Split::into_tasks(m, n, K::MR, K::NR, forced)
    } else {
        Split::plan(m, k, n, K::MR, K::NR, crate::threadpool::free_threads())
    };
    if split == Split::One {
        // safety: the caller's guarantees.
        unsafe { gemm_one::<K>(m, k, n, alpha, a, b, beta, c, rsc, csc) };
        return;
    }
    let job = Job {
        m,
        k,
        n,
        alpha,
        a,
        b,
        beta,
        c,
        rsc,
        csc,
    };
    crate::threadpool::parallel_for(split.parts(), &|part| {
        // safety: each part is a distinct range of whole tiles inside the caller's views.
        unsafe { job.part::<K>(split, part) }
    });
}

impl Job<'_> {
    /// Computes part `part` of `split`: a GEMM on a column (or row) range of C.
    ///
    /// # Safety
    /// As for [`gemm_one`] on the whole job; `part < split.parts()`.
    unsafe fn part<K: MicroKernel>(&self, split: Split, part: usize) {
        let Job {
            m,
            k,
            n,
            alpha,
            a,
            b,
            beta,
            c,
            rsc,
            csc,
        } = *self;
        match split {
            Split::One => unsafe { gemm_one::<K>(m, k, n, alpha, a, b, beta, c, rsc, csc) },
            Split::Cols { chunk, .. } => {
                let j0 = part * chunk;
                let cols = chunk.min(n - j0);
                // safety: columns j0..j0+cols of B and C lie inside the caller's views, and
                // j0 is a multiple of NR (a packed B's panel boundary).
                unsafe {
                    gemm_one::<K>(
                        m,
                        k,
                        cols,
                        alpha,
                        a,
                        b.cols_from::<K>(j0, k),
                        beta,
                        c.add(j0 * csc),
                        rsc,
                        csc,
                    )
                }
            }
            Split::Rows { chunk, .. } => {
                let i0 = part * chunk;
                let rows = chunk.min(m - i0);
                // safety: rows i0..i0+rows of A and C lie inside the caller's views.
                unsafe {
                    gemm_one::<K>(
                        rows,
                        k,
                        n,
                        alpha,
                        a.rows_from(i0),
                        b,
                        beta,
                        c.add(i0 * rsc),
                        rsc,
                        csc,
                    )
                }
            }
        }
    }
}

impl ASource {
    /// The source of rows `i0..` of A.
    ///
    /// # Safety
    /// Row i0 lies inside the source.
    unsafe fn rows_from(self, i0: usize) -> ASource {
        match self {
            // safety: row i0 is inside the view.
            ASource::View { ptr, rs, cs } => ASource::View {
                ptr: unsafe { ptr.add(i0 * rs) },
                rs,
                cs,
            },
            // safety: the table holds at least i0 + 1 row offsets.
            ASource::Gathered { ptr, rows, cols } => ASource::Gathered {
                ptr,
                rows: unsafe { rows.add(i0) },
                cols,
            },
        }
    }
}

impl<'a> BSource<'a> {
    /// The source of columns `j0..` of B (depth k).
    ///
    /// # Safety
    /// Column j0 lies inside the source; for a packed B, j0 is a multiple of `K::NR`.
    unsafe fn cols_from<K: MicroKernel>(self, j0: usize, k: usize) -> BSource<'a> {
        match self {
            // safety: column j0 is inside the view.
            BSource::View { ptr, rs, cs } => BSource::View {
                ptr: unsafe { ptr.add(j0 * cs) },
                rs,
                cs,
            },
            BSource::Packed(data) => BSource::Packed(&data[(j0 / K::NR) * k * K::NR..]),
            // safety: the table holds at least j0 + 1 column offsets.
            BSource::Gathered { ptr, rows, cols } => BSource::Gathered {
                ptr,
                rows,
                cols: unsafe { cols.add(j0) },
            },
        }
    }
}

/// `C ← α·A·B + β·C` for m, k, n ≥ 1 with micro-kernel `K`, on this thread.
///
/// # Safety
/// Every element (i, p) of A's source (i < m, p < k) is readable (a gathered A: `rows` holds
/// m offsets, `cols` k); B's view or gathered source likewise (k × n), or the
/// packed slice holds `ceil(n/NR)·k·NR` floats packed for `K::NR`; every `c + i*rsc + j*csc`
/// (i < m, j < n) is a distinct writable float.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn gemm_one<K: MicroKernel>(
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
