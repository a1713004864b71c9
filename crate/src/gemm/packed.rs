//! Weights packed once: [`PackedB`] holds B (k × n) already cut into the NR-wide, k-major,
//! zero-padded panels the micro-kernel reads, so repeated products with the same weights
//! (every inference through a layer) skip the packing of B entirely.

use super::driver::{self, ASource, BSource};
use super::micro_kernel::MicroKernel;
use super::packing::pack_b;
use super::{check_all, check_view, matvec, scale_c, selected_kernel, with_kernel, KernelKind};
use super::{MatMut, MatRef};
use crate::error::{Error, Result};

/// B packed for one micro-kernel's tile width. Panel `j` (columns `j·NR ..`) is `k·NR` contiguous
/// floats: element (p, c) at `j·k·NR + p·NR + c`, zero past column n.
#[derive(Clone, Debug)]
pub struct PackedB {
    k: usize,
    n: usize,
    kind: KernelKind,
    nr: usize,
    data: Vec<f32>,
}

impl PackedB {
    /// Packs the k × n matrix B (strides `rsb`, `csb`) for the kernel [`selected_kernel`]
    /// picks now.
    pub fn new(k: usize, n: usize, b: &[f32], rsb: isize, csb: isize) -> Result<PackedB> {
        PackedB::new_for(selected_kernel(), k, n, b, rsb, csb)
    }

    /// Packs B for a given micro-kernel (a kind this build lacks packs for the portable one).
    pub(crate) fn new_for(
        kind: KernelKind,
        k: usize,
        n: usize,
        b: &[f32],
        rsb: isize,
        csb: isize,
    ) -> Result<PackedB> {
        check_view("B", b.len(), k, n, rsb, csb)?;
        let kind = if kind.is_available() {
            kind
        } else {
            KernelKind::Portable
        };
        let nr = kind.nr();
        let len = n
            .div_ceil(nr)
            .checked_mul(nr)
            .and_then(|w| w.checked_mul(k))
            .filter(|&l| l <= 1 << 28)
            .ok_or_else(|| Error::shape(format!("B: a {k}×{n} matrix is too large to pack")))?;
        let mut data = vec![0.0f32; len];
        if len > 0 {
            with_kernel!(kind, K => {
                // safety: the k × n view was checked against b.len(); `data` holds
                // ceil(n/NR)·k·NR floats, the packed size of the whole matrix.
                unsafe { pack_b::<K>(k, n, b.as_ptr(), rsb as usize, csb as usize, &mut data) }
            });
        }
        Ok(PackedB {
            k,
            n,
            kind,
            nr,
            data,
        })
    }

    /// Rows of B.
    pub fn k(&self) -> usize {
        self.k
    }

    /// Columns of B.
    pub fn n(&self) -> usize {
        self.n
    }

    /// The micro-kernel this was packed for.
    pub fn kind(&self) -> KernelKind {
        self.kind
    }

    /// The tile width the panels were packed for.
    pub(crate) fn nr(&self) -> usize {
        self.nr
    }

    /// The packed panels.
    pub(crate) fn data(&self) -> &[f32] {
        &self.data
    }

    /// B back as a dense row-major k × n matrix (used when the micro-kernel in force has another NR).
    pub fn unpack(&self) -> Vec<f32> {
        let mut out = vec![0.0f32; self.k * self.n];
        if out.is_empty() {
            return out;
        }
        for (panel, pd) in self
            .data
            .chunks_exact(self.k * self.nr)
            .enumerate()
            .take(self.n.div_ceil(self.nr))
        {
            let j0 = panel * self.nr;
            let w = self.nr.min(self.n - j0);
            for (p, row) in pd.chunks_exact(self.nr).enumerate() {
                out[p * self.n + j0..p * self.n + j0 + w].copy_from_slice(&row[..w]);
            }
        }
        out
    }
}

/// `C ← α·A·B + β·C` with B pre-packed: A is m × k, C is m × n (k, n from `b`).
/// The kernel in force ([`selected_kernel`]) runs on the packed panels when its NR matches the
/// one `b` was packed for (simd128 and relaxed share 2×16); otherwise B is unpacked for this
/// call and the plain [`super::sgemm`] path runs, so the result is right either way.
pub fn sgemm_packed(
    m: usize,
    alpha: f32,
    a: MatRef,
    b: &PackedB,
    beta: f32,
    c: MatMut,
) -> Result<()> {
    sgemm_packed_with(selected_kernel(), m, alpha, a, b, beta, c)
}

/// [`sgemm_packed`] with an explicit micro-kernel.
pub(crate) fn sgemm_packed_with(
    kind: KernelKind,
    m: usize,
    alpha: f32,
    a: MatRef,
    b: &PackedB,
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
    let (k, n) = (b.k, b.n);
    check_all(m, k, n, (a.len(), rsa, csa), None, (c.len(), rsc, csc))?;
    if m == 0 || n == 0 {
        return Ok(());
    }
    let kind = if kind.is_available() {
        kind
    } else {
        KernelKind::Portable
    };
    let (rsa, csa, rsc, csc) = (rsa as usize, csa as usize, rsc as usize, csc as usize);
    let cp = c.as_mut_ptr();
    if k == 0 || alpha == 0.0 {
        // safety: the C view was checked against c.len().
        unsafe { scale_c(m, n, beta, cp, rsc, csc) };
        return Ok(());
    }
    if m == 1 {
        // safety: A's 1 × k row and C's 1 × n row were checked; data is the packed matrix.
        unsafe {
            matvec::gemv_packed(
                kind,
                k,
                n,
                b.nr,
                alpha,
                a.as_ptr(),
                csa,
                &b.data,
                beta,
                cp,
                csc,
            )
        };
        return Ok(());
    }
    if kind.nr() != b.nr {
        let dense = b.unpack();
        return super::sgemm_with(
            kind,
            [m, k, n],
            alpha,
            MatRef::new(a, rsa as isize, csa as isize),
            MatRef::new(&dense, n as isize, 1),
            beta,
            MatMut::new(c, rsc as isize, csc as isize),
        );
    }
    with_kernel!(kind, K => {
        debug_assert_eq!(K::NR, b.nr);
        // safety: A and C views were checked; `b.data` is B packed for this NR over depth k.
        unsafe {
            driver::gemm::<K>(m, k, n, alpha, ASource::View { ptr: a.as_ptr(), rs: rsa, cs: csa }, BSource::Packed(&b.data), beta, cp, rsc, csc)
        }
    });
    Ok(())
}
