//! Matrix-vector products for M = 1 or N = 1 (one image through a dense layer). The packed
//! GEMM wastes most of its tile there (one useful row of MR) and packs B for a single use;
//! here B is streamed once, straight from its own layout:
//! - rows contiguous (`csb = 1`): `y = Σ_p x[p]·B[p, :]`, 32 columns of accumulators at a time;
//! - columns contiguous (`rsb = 1`, e.g. `x·Wᵀ` with W = [out, in]): four dot products at once;
//! - anything else: a scalar loop.
//!
//! `y[j] ← α·Σ_p x[p]·B[p, j] + β·y[j]` for j < n; x has k elements with stride `incx`.

use super::micro_kernel::store_scaled;
use super::portable;
use super::KernelKind;

/// A strided k × n view of B and strided x, y (see the module docs).
#[derive(Clone, Copy)]
pub(crate) struct Gemv {
    pub k: usize,
    pub n: usize,
    pub alpha: f32,
    pub x: *const f32,
    pub incx: usize,
    pub b: *const f32,
    pub rsb: usize,
    pub csb: usize,
    pub beta: f32,
    pub y: *mut f32,
    pub incy: usize,
}

/// Copies strided x into a contiguous vector (k floats; cheap next to the k·n product).
///
/// # Safety
/// `x + p*incx` readable for p < k.
unsafe fn contiguous_x(k: usize, x: *const f32, incx: usize) -> Vec<f32> {
    // safety: forwarded from the caller.
    (0..k).map(|p| unsafe { *x.add(p * incx) }).collect()
}

/// Columns of y per unit of a thread split: every body's widest block (32 columns; the 4-wide
/// tails and dot products divide it), so each part meets the same blocks at the same columns
/// as the whole product, and each y[j] the same arithmetic: bit for bit the one-thread result.
pub(crate) const SPLIT_UNIT: usize = 32;

/// A [`Gemv`] shared by the tasks of one split.
struct Shared(Gemv);
// safety: the tasks only read x and B and write disjoint column ranges of y (see `run`); the
// caller of `run` guarantees the views for its duration.
unsafe impl Sync for Shared {}

impl Shared {
    /// The product (a method, so closures capture the `Sync` wrapper, not its field).
    fn get(&self) -> Gemv {
        self.0
    }
}

impl Gemv {
    /// On the pool's threads when the product is large enough (at least
    /// [`crate::threadpool::MIN_TASK_WORK`] multiply-adds per task): y's columns in parts of
    /// whole [`SPLIT_UNIT`]s, the result bit for bit the one-thread one.
    ///
    /// # Safety
    /// `x` as above; every `b + p*rsb + j*csb` (p < k, j < n) readable; every `y + j*incy`
    /// (j < n) a distinct writable float. k, n ≥ 1.
    pub(crate) unsafe fn run(self, kind: KernelKind) {
        // safety: forwarded from the caller.
        let xs = unsafe { contiguous_x(self.k, self.x, self.incx) };
        let tasks = crate::threadpool::tasks_for(self.k.saturating_mul(self.n));
        let split = crate::threadpool::Chunks::new(self.n, SPLIT_UNIT, tasks);
        if split.parts <= 1 {
            // safety: forwarded from the caller.
            return unsafe { self.run_part(kind, &xs) };
        }
        let shared = Shared(self);
        crate::threadpool::parallel_for(split.parts, &|i| {
            let g = shared.get();
            let cols = split.range(i);
            // safety: columns cols.start .. cols.end < n of B and y lie inside the caller's
            // views; the parts' column ranges are disjoint.
            unsafe {
                Gemv {
                    n: cols.len(),
                    b: g.b.add(cols.start * g.csb),
                    y: g.y.add(cols.start * g.incy),
                    ..g
                }
                .run_part(kind, &xs)
            }
        });
    }

    /// [`Gemv::run`] on this thread; `xs` is x made contiguous.
    ///
    /// # Safety
    /// As [`Gemv::run`].
    unsafe fn run_part(self, kind: KernelKind, xs: &[f32]) {
        super::with_madd!(kind, F => {
            // safety: forwarded from the caller.
            unsafe { self.run_simd::<F>(xs) }
        }, else => {
            // safety: forwarded from the caller.
            unsafe { self.run_portable(xs) }
        })
    }

    /// # Safety
    /// Element j of y is valid (j < n).
    #[inline(always)]
    unsafe fn put(&self, j: usize, v: f32) {
        // safety: forwarded from the caller.
        let dst = unsafe { &mut *self.y.add(j * self.incy) };
        store_scaled(dst, v, self.alpha, self.beta);
    }

    /// Rows `0..k` of columns `j0..j0+w` of B as one slice with row stride rsb (csb = 1).
    ///
    /// # Safety
    /// csb = 1 and j0 + w ≤ n.
    unsafe fn rows_block(&self, j0: usize, w: usize) -> &[f32] {
        // safety: the last element read is (k-1)·rsb + j0 + w - 1, inside the view.
        unsafe { std::slice::from_raw_parts(self.b.add(j0), (self.k - 1) * self.rsb + w) }
    }

    /// Column j of B as a slice (rsb = 1).
    ///
    /// # Safety
    /// rsb = 1 and j < n.
    unsafe fn column(&self, j: usize) -> &[f32] {
        // safety: elements j·csb .. j·csb + k are column j of the view.
        unsafe { std::slice::from_raw_parts(self.b.add(j * self.csb), self.k) }
    }

    /// # Safety
    /// As [`Gemv::run`]; `xs` is x made contiguous.
    unsafe fn run_portable(&self, xs: &[f32]) {
        let (k, n) = (self.k, self.n);
        if self.csb == 1 {
            let mut j = 0;
            while j + 32 <= n {
                // safety: j + 32 ≤ n.
                let acc =
                    portable::axpy_rows::<32>(xs, unsafe { self.rows_block(j, 32) }, self.rsb);
                for (l, &v) in acc.iter().enumerate() {
                    // safety: j + l < n.
                    unsafe { self.put(j + l, v) };
                }
                j += 32;
            }
            if j < n {
                let mut acc = [0.0f32; 32];
                let acc = &mut acc[..n - j];
                // safety: j + acc.len() = n.
                portable::axpy_rows_dyn(xs, unsafe { self.rows_block(j, n - j) }, self.rsb, acc);
                for (l, &v) in acc.iter().enumerate() {
                    // safety: j + l < n.
                    unsafe { self.put(j + l, v) };
                }
            }
        } else if self.rsb == 1 {
            for j in 0..n {
                // safety: j < n.
                let s = portable::dot(xs, unsafe { self.column(j) });
                // safety: j < n.
                unsafe { self.put(j, s) };
            }
        } else {
            // safety: forwarded from the caller.
            unsafe { self.run_scalar(xs) }
        }
        let _ = k;
    }

    /// # Safety
    /// As [`Gemv::run`].
    unsafe fn run_scalar(&self, xs: &[f32]) {
        for j in 0..self.n {
            let mut s = 0.0f32;
            for (p, &xp) in xs.iter().enumerate() {
                // safety: p < k, j < n.
                s += xp * unsafe { *self.b.add(p * self.rsb + j * self.csb) };
            }
            // safety: j < n.
            unsafe { self.put(j, s) };
        }
    }

    /// # Safety
    /// As [`Gemv::run`]; `xs` is x made contiguous.
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    unsafe fn run_simd<F: super::MulAdd>(&self, xs: &[f32]) {
        use super::simd128::{axpy_rows, dot4};
        use core::arch::wasm32::{v128, v128_store};
        let (k, n) = (self.k, self.n);
        let xp = xs.as_ptr();
        if self.csb == 1 {
            let mut j = 0;
            // Eight vector accumulators (32 columns): 8 independent add chains and one load
            // per multiply-add.
            while j + 32 <= n {
                // safety: xs holds k floats; columns j..j+32 of every row are in the view.
                let acc = unsafe { axpy_rows::<F, 8, 1>(k, xp, self.b.add(j), self.rsb) };
                let mut lanes = [0.0f32; 32];
                for (v, &a) in acc.iter().enumerate() {
                    // safety: lanes holds 32 floats.
                    unsafe { v128_store(lanes.as_mut_ptr().add(4 * v) as *mut v128, a) };
                }
                for (l, &v) in lanes.iter().enumerate() {
                    // safety: j + l < n.
                    unsafe { self.put(j + l, v) };
                }
                j += 32;
            }
            // Narrow tails: 4 columns, 4 rows in flight.
            while j + 4 <= n {
                // safety: as above with 4 columns.
                let acc = unsafe { axpy_rows::<F, 1, 4>(k, xp, self.b.add(j), self.rsb) };
                let mut lanes = [0.0f32; 4];
                // safety: lanes holds 4 floats.
                unsafe { v128_store(lanes.as_mut_ptr() as *mut v128, acc[0]) };
                for (l, &v) in lanes.iter().enumerate() {
                    // safety: j + l < n.
                    unsafe { self.put(j + l, v) };
                }
                j += 4;
            }
            if j < n {
                let mut acc = [0.0f32; 4];
                let acc = &mut acc[..n - j];
                // safety: j + acc.len() = n.
                portable::axpy_rows_dyn(xs, unsafe { self.rows_block(j, n - j) }, self.rsb, acc);
                for (l, &v) in acc.iter().enumerate() {
                    // safety: j + l < n.
                    unsafe { self.put(j + l, v) };
                }
            }
        } else if self.rsb == 1 {
            let mut j = 0;
            while j + 4 <= n {
                // safety: columns j..j+4 exist, each k contiguous floats.
                let cols = unsafe { [0, 1, 2, 3].map(|c| self.b.add((j + c) * self.csb)) };
                // safety: xs and every column hold k floats.
                let s = unsafe { dot4::<F>(k, xp, cols) };
                for (l, &v) in s.iter().enumerate() {
                    // safety: j + l < n.
                    unsafe { self.put(j + l, v) };
                }
                j += 4;
            }
            for j in j..n {
                // safety: j < n.
                let s = portable::dot(xs, unsafe { self.column(j) });
                // safety: j < n.
                unsafe { self.put(j, s) };
            }
        } else {
            // safety: forwarded from the caller.
            unsafe { self.run_scalar(xs) }
        }
    }
}

/// M = 1 against a `PackedB` (panels of `nr` columns, k-major, panel stride k·nr):
/// `y[j] ← α·Σ_p x[p]·B[p, j] + β·y[j]`. On the pool's threads when the product is large
/// enough: whole panels per task, each column the same arithmetic as on one thread.
///
/// # Safety
/// `x + p*incx` readable for p < k; `data` holds ceil(n/nr)·k·nr floats; `y + j*incy` writable
/// for j < n; k, n ≥ 1.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn gemv_packed(
    kind: KernelKind,
    k: usize,
    n: usize,
    nr: usize,
    alpha: f32,
    x: *const f32,
    incx: usize,
    data: &[f32],
    beta: f32,
    y: *mut f32,
    incy: usize,
) {
    // safety: forwarded from the caller.
    let xs = unsafe { contiguous_x(k, x, incx) };
    let panels = n.div_ceil(nr);
    let split = crate::threadpool::Chunks::new(
        panels,
        1,
        crate::threadpool::tasks_for(k.saturating_mul(n)),
    );
    if split.parts <= 1 {
        // safety: forwarded from the caller.
        return unsafe { packed_panels(kind, &xs, n, nr, alpha, data, beta, y, incy) };
    }
    /// y's pointer, shared by the tasks.
    struct Y(*mut f32);
    // safety: the tasks write disjoint panels' columns of y (see below).
    unsafe impl Sync for Y {}
    impl Y {
        /// The pointer (a method, so closures capture the `Sync` wrapper, not its field).
        fn get(&self) -> *mut f32 {
            self.0
        }
    }
    let out = Y(y);
    crate::threadpool::parallel_for(split.parts, &|i| {
        let ps = split.range(i);
        let j0 = ps.start * nr;
        // safety: panels ps of `data` and their columns j0 .. min(ps.end·nr, n) of y lie
        // inside the caller's views; the parts' panels are disjoint.
        unsafe {
            packed_panels(
                kind,
                &xs,
                (ps.end * nr).min(n) - j0,
                nr,
                alpha,
                &data[ps.start * k * nr..ps.end * k * nr],
                beta,
                out.get().add(j0 * incy),
                incy,
            )
        }
    });
}

/// [`gemv_packed`] on this thread, with x made contiguous (`xs`).
///
/// # Safety
/// As [`gemv_packed`].
#[allow(clippy::too_many_arguments)]
unsafe fn packed_panels(
    kind: KernelKind,
    xs: &[f32],
    n: usize,
    nr: usize,
    alpha: f32,
    data: &[f32],
    beta: f32,
    y: *mut f32,
    incy: usize,
) {
    let k = xs.len();
    let mut lanes = [0.0f32; 16];
    for (panel, pd) in data.chunks_exact(k * nr).take(n.div_ceil(nr)).enumerate() {
        let j0 = panel * nr;
        let sums = &mut lanes[..nr.min(16)];
        sums.fill(0.0);
        // safety: the panel is k·nr contiguous floats with row stride nr.
        let done = unsafe { packed_panel_simd(kind, xs, pd, nr, sums) };
        if !done && nr == 8 {
            // The portable micro-kernel's width: a fixed-size accumulator the compiler vectorises.
            sums.copy_from_slice(&portable::axpy_rows::<8>(xs, pd, 8));
        } else if !done {
            portable::axpy_rows_dyn(xs, pd, nr, sums);
        }
        for (l, &v) in sums.iter().enumerate().take(n - j0) {
            // safety: j0 + l < n.
            let dst = unsafe { &mut *y.add((j0 + l) * incy) };
            store_scaled(dst, v, alpha, beta);
        }
    }
}

/// One packed panel with SIMD where the kind and width have a specialisation (8 columns: 4
/// rows in flight, 16 columns (the SIMD micro-kernels' 2×16 panels): 2, so 8 independent
/// chains); false otherwise (then a scalar loop, ~4× slower).
///
/// # Safety
/// `pd` holds xs.len()·nr floats, `sums` holds nr floats.
unsafe fn packed_panel_simd(
    kind: KernelKind,
    xs: &[f32],
    pd: &[f32],
    nr: usize,
    sums: &mut [f32],
) -> bool {
    super::with_madd!(kind, F => {
        // safety: forwarded from the caller.
        unsafe { packed_panel::<F>(xs, pd, nr, sums) }
    }, else => {
        let _ = (xs, pd, nr, sums);
        false
    })
}

/// [`packed_panel_simd`] for one multiply-add.
///
/// # Safety
/// As [`packed_panel_simd`].
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
unsafe fn packed_panel<F: super::MulAdd>(
    xs: &[f32],
    pd: &[f32],
    nr: usize,
    sums: &mut [f32],
) -> bool {
    use super::simd128::axpy_rows;
    use core::arch::wasm32::{v128, v128_store};
    let (k, x, b) = (xs.len(), xs.as_ptr(), pd.as_ptr());
    // safety: the panel holds k rows of nr floats; `sums` holds nr floats.
    unsafe {
        match nr {
            8 => {
                let acc = axpy_rows::<F, 2, 4>(k, x, b, 8);
                for (v, &a) in acc.iter().enumerate() {
                    v128_store(sums.as_mut_ptr().add(4 * v) as *mut v128, a);
                }
                true
            }
            16 => {
                let acc = axpy_rows::<F, 4, 2>(k, x, b, 16);
                for (v, &a) in acc.iter().enumerate() {
                    v128_store(sums.as_mut_ptr().add(4 * v) as *mut v128, a);
                }
                true
            }
            _ => false,
        }
    }
}
