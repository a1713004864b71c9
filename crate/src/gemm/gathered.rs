//! GEMM with A read through two offset tables instead of a strided view:
//! `A[i, p] = data[rows[i] + cols[p]]`. A convolution's column matrix is exactly such a matrix
//! over its (zero-padded) image: `rows[i]` is where window `i` starts, `cols[p]` where tap `p`
//! lies inside a window. So the driver packs the windows straight into the micro-kernel's A
//! panels (`packing::pack_a_gathered`) and no im2col matrix is ever written: an implicit GEMM.
//! [`sgemm_b_gathered`] is the same with B gathered (`B[p, j] = data[rows[p] + cols[j]]`): the
//! convolution with the windows as columns, `C[C_out, P] = W · col`.
//! (This module knows nothing of convolutions: any outer-sum addressing works.)

use super::driver::{self, ASource, BSource};
use super::micro_kernel::MicroKernel;
use super::packed::PackedB;
use super::{
    check_distinct, check_view, scale_c, selected_kernel, with_kernel, KernelKind, MatMut, MatRef,
};
use crate::error::{Error, Result};

/// An `m × k` matrix read through offset tables: element (i, p) is `data[rows[i] + cols[p]]`
/// (`m = rows.len()`, `k = cols.len()`).
#[derive(Clone, Copy, Debug)]
pub struct Gathered<'a> {
    pub data: &'a [f32],
    pub rows: &'a [usize],
    pub cols: &'a [usize],
}

impl Gathered<'_> {
    pub fn m(&self) -> usize {
        self.rows.len()
    }
    pub fn k(&self) -> usize {
        self.cols.len()
    }

    /// Every element lies inside `data`.
    fn check(&self) -> Result<()> {
        let (Some(&r), Some(&c)) = (self.rows.iter().max(), self.cols.iter().max()) else {
            return Ok(());
        };
        match r.checked_add(c) {
            Some(last) if last < self.data.len() => Ok(()),
            _ => Err(Error::shape(format!(
                "A: offsets up to {r} + {c} need more than the {} elements given",
                self.data.len()
            ))),
        }
    }

    fn source(&self) -> ASource {
        ASource::Gathered {
            ptr: self.data.as_ptr(),
            rows: self.rows.as_ptr(),
            cols: self.cols.as_ptr(),
        }
    }
}

/// Checks C and handles the products that need no micro-kernel; `Ok(true)` when done.
fn trivial(
    a: &Gathered,
    n: usize,
    alpha: f32,
    beta: f32,
    c: &mut [f32],
    rsc: isize,
    csc: isize,
) -> Result<bool> {
    a.check()?;
    let (m, k) = (a.m(), a.k());
    check_view("C", c.len(), m, n, rsc, csc)?;
    if m == 0 || n == 0 {
        return Ok(true);
    }
    check_distinct(m, n, rsc as usize, csc as usize)?;
    if k == 0 || alpha == 0.0 {
        // safety: the C view was checked against c.len().
        unsafe { scale_c(m, n, beta, c.as_mut_ptr(), rsc as usize, csc as usize) };
        return Ok(true);
    }
    Ok(false)
}

/// `C ← α·A·B + β·C` with a gathered A (`m × k`) and a strided B (`k × n`), on the micro-kernel
/// [`selected_kernel`] names. As [`super::sgemm`]: β = 0 never reads C.
pub fn sgemm_gathered(
    n: usize,
    alpha: f32,
    a: Gathered,
    b: MatRef,
    beta: f32,
    c: MatMut,
) -> Result<()> {
    let MatRef {
        data: b,
        rs: rsb,
        cs: csb,
    } = b;
    let MatMut {
        data: c,
        rs: rsc,
        cs: csc,
    } = c;
    check_view("B", b.len(), a.k(), n, rsb, csb)?;
    if trivial(&a, n, alpha, beta, c, rsc, csc)? {
        return Ok(());
    }
    let bsrc = BSource::View {
        ptr: b.as_ptr(),
        rs: rsb as usize,
        cs: csb as usize,
    };
    let (m, k, cp) = (a.m(), a.k(), c.as_mut_ptr());
    with_kernel!(selected_kernel(), K => {
        // safety: A's offsets, B's and C's views were checked; C's elements are distinct.
        unsafe { driver::gemm::<K>(m, k, n, alpha, a.source(), bsrc, beta, cp, rsc as usize, csc as usize) }
    });
    Ok(())
}

/// `C ← α·A·B + β·C` with a gathered A and B pre-packed (`k × n` from `b`). A micro-kernel of
/// another NR than `b` was packed for gets B unpacked for this call (as `sgemm_packed`).
pub fn sgemm_packed_gathered(
    alpha: f32,
    a: Gathered,
    b: &PackedB,
    beta: f32,
    c: MatMut,
) -> Result<()> {
    let MatMut {
        data: c,
        rs: rsc,
        cs: csc,
    } = c;
    let (k, n) = (b.k(), b.n());
    if a.k() != k {
        return Err(Error::shape(format!(
            "A has {} columns, the packed B {k} rows",
            a.k()
        )));
    }
    if trivial(&a, n, alpha, beta, c, rsc, csc)? {
        return Ok(());
    }
    let kind = match selected_kernel() {
        k if k.is_available() => k,
        _ => KernelKind::Portable,
    };
    if kind.nr() != b.nr() {
        let dense = b.unpack();
        return sgemm_gathered(
            n,
            alpha,
            a,
            MatRef::new(&dense, n as isize, 1),
            beta,
            MatMut::new(c, rsc, csc),
        );
    }
    let (m, cp) = (a.m(), c.as_mut_ptr());
    with_kernel!(kind, K => {
        debug_assert_eq!(K::NR, b.nr());
        // safety: A's offsets and C's view were checked; `b.data()` is B packed for this NR.
        unsafe {
            driver::gemm::<K>(m, k, n, alpha, a.source(), BSource::Packed(b.data()), beta, cp, rsc as usize, csc as usize)
        }
    });
    Ok(())
}

/// `C ← α·A·B + β·C` with a strided A (`m × k`) and a gathered B (`k × n`: `b.rows` holds the
/// k row offsets, `b.cols` the n column offsets, so `b.m()` is B's k and `b.k()` its n), on the
/// micro-kernel [`selected_kernel`] names. As [`super::sgemm`]: β = 0 never reads C.
pub fn sgemm_b_gathered(
    m: usize,
    alpha: f32,
    a: MatRef,
    b: Gathered,
    beta: f32,
    c: MatMut,
) -> Result<()> {
    let MatRef {
        data: a,
        rs: rsa,
        cs: csa,
    } = a;
    let MatMut {
        data: c,
        rs: rsc,
        cs: csc,
    } = c;
    b.check()?;
    let (k, n) = (b.m(), b.k());
    check_view("A", a.len(), m, k, rsa, csa)?;
    check_view("C", c.len(), m, n, rsc, csc)?;
    if m == 0 || n == 0 {
        return Ok(());
    }
    check_distinct(m, n, rsc as usize, csc as usize)?;
    if k == 0 || alpha == 0.0 {
        // safety: the C view was checked against c.len().
        unsafe { scale_c(m, n, beta, c.as_mut_ptr(), rsc as usize, csc as usize) };
        return Ok(());
    }
    let asrc = ASource::View {
        ptr: a.as_ptr(),
        rs: rsa as usize,
        cs: csa as usize,
    };
    let bsrc = BSource::Gathered {
        ptr: b.data.as_ptr(),
        rows: b.rows.as_ptr(),
        cols: b.cols.as_ptr(),
    };
    let cp = c.as_mut_ptr();
    with_kernel!(selected_kernel(), K => {
        // safety: A's view, B's offsets and C's view were checked; C's elements are distinct.
        unsafe { driver::gemm::<K>(m, k, n, alpha, asrc, bsrc, beta, cp, rsc as usize, csc as usize) }
    });
    Ok(())
}
