//! General matrix multiply: `C ← α·A·B + β·C` in f32 with arbitrary row and column strides.
//!
//! Layout of this module (each file one role):
//! - `micro_kernel.rs`: the `MicroKernel` trait (MR, NR, one tile
//!   function);
//! - `portable.rs`: the portable micro-kernel; `simd128.rs`: the SIMD register tile (and the
//!   matrix-vector bodies), generic over its multiply-add, with simd128's mul + add;
//!   `relaxed.rs`: the relaxed-simd fused multiply-add for the same tile;
//! - `packing.rs`: A into MR-tall panels, B into NR-wide panels, zero-padded;
//! - `driver.rs`: cache blocking (kc, mc, nc) and edge tiles;
//! - `matvec.rs`: the M = 1 / N = 1 path;
//! - `packed.rs`: [`PackedB`], weights packed once and reused across calls;
//! - `gathered.rs`: A read through offset tables ([`Gathered`]), packed straight into the
//!   micro-kernel's panels: the implicit GEMM of a convolution without im2col.
//!
//! The micro-kernel is chosen in one place, [`selected_kernel`]: the forced one if it is set
//! and available, else the best this build has (the portable one last). GEMM, the
//! matrix-vector path and `conv::direct` all branch on that choice through `with_madd!`.

mod driver;
mod gathered;
mod matvec;
mod micro_kernel;
pub(crate) mod packed;
mod packing;
mod portable;
#[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
pub(crate) mod relaxed;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub(crate) mod simd128;
#[cfg(test)]
mod tests;
#[cfg(all(feature = "bench", target_arch = "wasm32", target_feature = "simd128"))]
pub(crate) mod variants;

use std::sync::atomic::{AtomicU8, Ordering};

pub use gathered::{sgemm_b_gathered, sgemm_gathered, sgemm_packed_gathered, Gathered};
/// Columns per unit of a matrix-vector product's thread split (its widest block).
pub(crate) use matvec::SPLIT_UNIT as MATVEC_SPLIT_UNIT;
pub use packed::{sgemm_packed, PackedB};

use crate::error::{Error, Result};
use driver::{ASource, BSource};
use micro_kernel::MicroKernel;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub(crate) use simd128::MulAdd;

/// The micro-kernels compiled into this build, best first. With `with_madd!` below, the only
/// place that reads the target features; everything else asks [`selected_kernel`].
const COMPILED: &[KernelKind] = &[
    #[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
    KernelKind::Relaxed,
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    KernelKind::Simd128,
    KernelKind::Portable,
];

/// Dispatches on a [`KernelKind`]: runs `$simd` with the type alias `$F` bound to the kind's
/// vector multiply-add (`MulAdd`) when the kind is a SIMD one this build has, else
/// `$portable`. GEMM's tiles, the matrix-vector path and the direct convolution all branch
/// here, so a forced kind runs its own code everywhere.
macro_rules! with_madd {
    ($kind:expr, $F:ident => $simd:expr, else => $portable:expr) => {
        match $kind {
            #[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
            $crate::gemm::KernelKind::Relaxed => {
                type $F = $crate::gemm::relaxed::RelaxedMulAdd;
                $simd
            }
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            $crate::gemm::KernelKind::Simd128 => {
                type $F = $crate::gemm::simd128::SeparateMulAdd;
                $simd
            }
            #[allow(unreachable_patterns)]
            _ => $portable,
        }
    };
}
pub(crate) use with_madd;

/// Runs `$body` with the type alias `$K` bound to the GEMM micro-kernel of `$kind` (the
/// portable one for kinds this build lacks).
macro_rules! with_kernel {
    ($kind:expr, $K:ident => $body:expr) => {
        $crate::gemm::with_madd!($kind, F => {
            type $K = $crate::gemm::simd128::SimdTile<F>;
            $body
        }, else => {
            type $K = $crate::gemm::portable::Portable;
            $body
        })
    };
}
use with_kernel;

/// A micro-kernel family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KernelKind {
    /// Plain Rust, vectorised by the compiler; always available.
    Portable,
    /// wasm simd128, multiply then add (2×16 tile).
    Simd128,
    /// wasm relaxed-simd fused multiply-add (2×16 tile).
    Relaxed,
}

impl KernelKind {
    /// `"portable"`, `"simd128"` or `"relaxed"`.
    pub fn name(self) -> &'static str {
        match self {
            KernelKind::Portable => "portable",
            KernelKind::Simd128 => "simd128",
            KernelKind::Relaxed => "relaxed",
        }
    }

    /// The inverse of [`KernelKind::name`].
    pub fn from_name(name: &str) -> Result<KernelKind> {
        match name {
            "portable" => Ok(KernelKind::Portable),
            "simd128" => Ok(KernelKind::Simd128),
            "relaxed" => Ok(KernelKind::Relaxed),
            _ => Err(Error::param(
                "kernel",
                name,
                "must be \"portable\", \"simd128\" or \"relaxed\"",
            )),
        }
    }

    /// Whether this build contains the micro-kernel.
    pub fn is_available(self) -> bool {
        available_kernels().contains(&self)
    }

    /// The tile width (NR) of this kind's micro-kernel: what a [`PackedB`] is packed for.
    pub(crate) fn nr(self) -> usize {
        with_kernel!(self, K => K::NR)
    }

    /// The tile height (MR) of this kind's micro-kernel.
    pub(crate) fn mr(self) -> usize {
        with_kernel!(self, K => K::MR)
    }
}

/// The micro-kernels compiled into this build, best first (the portable one is always last).
pub fn available_kernels() -> &'static [KernelKind] {
    COMPILED
}

/// 0 = no override, else 1 + the index of the forced kind.
static FORCED: AtomicU8 = AtomicU8::new(0);

/// Forces every later GEMM, matrix-vector product and direct convolution onto one
/// micro-kernel (`None` restores the automatic choice). A kind this build lacks is ignored by
/// [`selected_kernel`]. Used by the benchmark and the tests.
pub fn force_kernel(kind: Option<KernelKind>) {
    let v = match kind {
        None => 0,
        Some(KernelKind::Portable) => 1,
        Some(KernelKind::Simd128) => 2,
        Some(KernelKind::Relaxed) => 3,
    };
    FORCED.store(v, Ordering::Relaxed);
}

/// The micro-kernel every later GEMM, matrix-vector product and direct convolution runs:
/// the forced one if this build has it, else the best compiled in. The one place the choice
/// is made.
pub fn selected_kernel() -> KernelKind {
    let forced = match FORCED.load(Ordering::Relaxed) {
        1 => Some(KernelKind::Portable),
        2 => Some(KernelKind::Simd128),
        3 => Some(KernelKind::Relaxed),
        _ => None,
    };
    forced.filter(|k| k.is_available()).unwrap_or(COMPILED[0])
}

/// Which SIMD level this build was compiled for: `"relaxed"`, `"simd128"` or `"none"`.
pub fn simd_level() -> &'static str {
    match COMPILED[0] {
        KernelKind::Relaxed => "relaxed",
        KernelKind::Simd128 => "simd128",
        KernelKind::Portable => "none",
    }
}

/// Test helper: runs `f` with `kind` forced, one forcing test at a time (the override is
/// process-wide and native tests run in parallel), and restores the automatic choice.
#[cfg(test)]
pub(crate) fn with_forced<R>(kind: KernelKind, f: impl FnOnce() -> R) -> R {
    /// Restores the automatic choice when dropped, also when `f` panics.
    struct Unforce;
    impl Drop for Unforce {
        fn drop(&mut self) {
            force_kernel(None);
        }
    }
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _lock = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let _unforce = Unforce;
    force_kernel(Some(kind));
    f()
}

/// Checks that every element a strided `rows × cols` matrix view touches lies inside `len`.
pub(crate) fn check_view(
    what: &'static str,
    len: usize,
    rows: usize,
    cols: usize,
    rs: isize,
    cs: isize,
) -> Result<()> {
    if rows == 0 || cols == 0 {
        return Ok(());
    }
    if rs < 0 || cs < 0 {
        return Err(Error::param(
            what,
            (rs, cs),
            "negative strides are not supported",
        ));
    }
    let last = (rows - 1).checked_mul(rs as usize).and_then(|r| {
        (cols - 1)
            .checked_mul(cs as usize)
            .and_then(|c| r.checked_add(c))
    });
    match last {
        Some(l) if l < len => Ok(()),
        _ => Err(Error::shape(format!(
            "{what}: a {rows}×{cols} view with strides ({rs}, {cs}) needs more than the {len} elements given"
        ))),
    }
}

/// Checks that no two elements of C's `rows × cols` view are the same float (a GEMM into
/// overlapping outputs has no meaning, and the micro-kernels write C as distinct elements).
pub(crate) fn check_distinct(rows: usize, cols: usize, rs: usize, cs: usize) -> Result<()> {
    let ok = rows <= 1 && (cols <= 1 || cs >= 1)
        || cols <= 1 && rs >= 1
        || cs >= 1 && rs > (cols - 1) * cs
        || rs >= 1 && cs > (rows - 1) * rs;
    if ok {
        Ok(())
    } else {
        Err(Error::param(
            "C strides",
            (rs, cs),
            format!("a {rows}×{cols} output view must not have overlapping elements"),
        ))
    }
}

/// Validates the three views (each inside its buffer) and that C's elements do not overlap.
pub(crate) fn check_all(
    m: usize,
    k: usize,
    n: usize,
    a: (usize, isize, isize),
    b: Option<(usize, isize, isize)>,
    c: (usize, isize, isize),
) -> Result<()> {
    check_view("A", a.0, m, k, a.1, a.2)?;
    if let Some(b) = b {
        check_view("B", b.0, k, n, b.1, b.2)?;
    }
    check_view("C", c.0, m, n, c.1, c.2)?;
    if m > 0 && n > 0 {
        check_distinct(m, n, c.1 as usize, c.2 as usize)?;
    }
    Ok(())
}

/// `C ← β·C` (β = 0 writes zeros without reading): the whole product when k = 0 or α = 0.
///
/// # Safety
/// The m × n view of C at `c` is valid.
pub(crate) unsafe fn scale_c(m: usize, n: usize, beta: f32, c: *mut f32, rsc: usize, csc: usize) {
    for i in 0..m {
        for j in 0..n {
            // safety: (i, j) lies inside the caller's valid view.
            let dst = unsafe { &mut *c.add(i * rsc + j * csc) };
            *dst = if beta == 0.0 { 0.0 } else { beta * *dst };
        }
    }
}

/// C ← α·A·B + β·C, where `mkn = [m, k, n]`: A is m×k, B is k×n and C is m×n, each a
/// [`MatRef`] / [`MatMut`] view with a row stride and a column stride (so a transpose is just
/// swapped strides, no copy).
/// When β = 0, C is only written, never read (NaN in C does not propagate); when α = 0 or
/// k = 0, A and B are not read.
///
/// ```
/// # use convscope::gemm::{sgemm, MatMut, MatRef};
/// // [2×3]·[3×2], row-major.
/// let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
/// let b = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0];
/// let mut c = [f32::NAN; 4];
/// sgemm([2, 3, 2], 1.0, MatRef::new(&a, 3, 1), MatRef::new(&b, 2, 1), 0.0, MatMut::new(&mut c, 2, 1)).unwrap();
/// assert_eq!(c, [4.0, 5.0, 10.0, 11.0]);
/// ```
pub fn sgemm(
    mkn: [usize; 3],
    alpha: f32,
    a: MatRef,
    b: MatRef,
    beta: f32,
    c: MatMut,
) -> Result<()> {
    sgemm_with(selected_kernel(), mkn, alpha, a, b, beta, c)
}

/// A matrix read through strides: element (i, j) is `data[i·rs + j·cs]` (row-major:
/// `rs` = the row length, `cs` = 1; a transpose swaps them).
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a> {
    pub data: &'a [f32],
    pub rs: isize,
    pub cs: isize,
}

impl<'a> MatRef<'a> {
    pub fn new(data: &'a [f32], rs: isize, cs: isize) -> MatRef<'a> {
        MatRef { data, rs, cs }
    }
}

/// A matrix written through strides (its elements must be distinct: [`sgemm`] checks).
#[derive(Debug)]
pub struct MatMut<'a> {
    pub data: &'a mut [f32],
    pub rs: isize,
    pub cs: isize,
}

impl<'a> MatMut<'a> {
    pub fn new(data: &'a mut [f32], rs: isize, cs: isize) -> MatMut<'a> {
        MatMut { data, rs, cs }
    }
}

/// [`sgemm`] with an explicit micro-kernel (a kind this build lacks runs the portable one).
pub(crate) fn sgemm_with(
    kind: KernelKind,
    [m, k, n]: [usize; 3],
    alpha: f32,
    a: MatRef,
    b: MatRef,
    beta: f32,
    c: MatMut,
) -> Result<()> {
    let (
        MatRef {
            data: a,
            rs: rsa,
            cs: csa,
        },
        MatRef {
            data: b,
            rs: rsb,
            cs: csb,
        },
    ) = (a, b);
    let MatMut {
        data: c,
        rs: rsc,
        cs: csc,
    } = c;
    check_all(
        m,
        k,
        n,
        (a.len(), rsa, csa),
        Some((b.len(), rsb, csb)),
        (c.len(), rsc, csc),
    )?;
    if m == 0 || n == 0 {
        return Ok(());
    }
    let (rsa, csa, rsb, csb, rsc, csc) = (
        rsa as usize,
        csa as usize,
        rsb as usize,
        csb as usize,
        rsc as usize,
        csc as usize,
    );
    let cp = c.as_mut_ptr();
    if k == 0 || alpha == 0.0 {
        // safety: the C view was checked against c.len().
        unsafe { scale_c(m, n, beta, cp, rsc, csc) };
        return Ok(());
    }
    if m == 1 {
        // One row: y(1×n) = x(1×k)·B.
        let g = matvec::Gemv {
            k,
            n,
            alpha,
            x: a.as_ptr(),
            incx: csa,
            b: b.as_ptr(),
            rsb,
            csb,
            beta,
            y: cp,
            incy: csc,
        };
        // safety: every view was checked above; C's elements are distinct.
        unsafe { g.run(kind) };
        return Ok(());
    }
    if n == 1 {
        // One column: yᵀ(1×m) = bᵀ(1×k)·Aᵀ, with Aᵀ a k×m view of A (strides swapped).
        let g = matvec::Gemv {
            k,
            n: m,
            alpha,
            x: b.as_ptr(),
            incx: rsb,
            b: a.as_ptr(),
            rsb: csa,
            csb: rsa,
            beta,
            y: cp,
            incy: rsc,
        };
        // safety: every view was checked above; C's elements are distinct.
        unsafe { g.run(kind) };
        return Ok(());
    }
    let bsrc = BSource::View {
        ptr: b.as_ptr(),
        rs: rsb,
        cs: csb,
    };
    with_kernel!(kind, K => {
        // safety: every view was checked above; C's elements are distinct.
        unsafe { driver::gemm::<K>(m, k, n, alpha, ASource::View { ptr: a.as_ptr(), rs: rsa, cs: csa }, bsrc, beta, cp, rsc, csc) }
    });
    Ok(())
}
