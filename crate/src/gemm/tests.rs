//! GEMM tests: every micro-kernel this build has, against a naive f64 reference, natively and in
//! wasm. Outputs that the product overwrites start as NaN, so an unwritten cell fails.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::packed::sgemm_packed_with;
use super::*;
use crate::rng::Rng;

/// A strided matrix view inside a buffer: element (i, j) at `off + i·rs + j·cs`.
#[derive(Clone, Copy, Debug)]
struct Layout {
    rs: usize,
    cs: usize,
    len: usize,
}

/// Row-major, column-major, or either with padding between rows/columns.
fn layout(rng: &mut Rng, rows: usize, cols: usize) -> Layout {
    let pad = if rng.below(3) == 0 {
        1 + rng.below(3)
    } else {
        0
    };
    let (rs, cs) = if rng.below(2) == 0 {
        (cols + pad, 1)
    } else {
        (1, rows + pad)
    };
    Layout {
        rs,
        cs,
        len: (rows - 1) * rs + (cols - 1) * cs + 1,
    }
}

#[derive(Clone, Copy, Debug)]
struct Case {
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    beta: f32,
    la: Layout,
    lb: Layout,
    lc: Layout,
}

fn reference(case: &Case, a: &[f32], b: &[f32], c: &mut [f32]) -> Vec<f64> {
    // Returns a per-element error bound scale: Σ|α·a·b| + |β·c|.
    let Case {
        m,
        k,
        n,
        alpha,
        beta,
        la,
        lb,
        lc,
    } = *case;
    let mut scale = vec![0.0f64; c.len()];
    for i in 0..m {
        for j in 0..n {
            let (mut s, mut sa) = (0.0f64, 0.0f64);
            for p in 0..k {
                let x = a[i * la.rs + p * la.cs] as f64 * b[p * lb.rs + j * lb.cs] as f64;
                s += x;
                sa += x.abs();
            }
            let idx = i * lc.rs + j * lc.cs;
            let old = if beta == 0.0 { 0.0 } else { c[idx] as f64 };
            c[idx] = (alpha as f64 * s + beta as f64 * old) as f32;
            scale[idx] = (alpha as f64).abs() * sa + (beta as f64 * old).abs();
        }
    }
    scale
}

/// Runs one case through sgemm (and, with `packed`, through PackedB) with micro-kernel `kind` and
/// compares every element of C, including the untouched padding, with the reference.
fn check_case(rng: &mut Rng, kind: KernelKind, case: Case, packed: bool) {
    check_case_via(rng, Some(kind), case, packed)
}

/// [`check_case`] with `kind = None` meaning "through the public entry points" (`sgemm`,
/// `PackedB::new`, `sgemm_packed`), which use the kernel [`selected_kernel`] picks.
fn check_case_via(rng: &mut Rng, via: Option<KernelKind>, case: Case, packed: bool) {
    let kind = via.unwrap_or_else(selected_kernel);
    let Case {
        m,
        k,
        n,
        alpha,
        beta,
        la,
        lb,
        lc,
    } = case;
    let a = rng.uniform_vec(la.len, -1.0, 1.0);
    let b = rng.uniform_vec(lb.len, -1.0, 1.0);
    // Elements of C outside the view must survive; elements inside start as NaN when β = 0.
    let mut c0 = rng.uniform_vec(lc.len, -1.0, 1.0);
    if beta == 0.0 {
        for i in 0..m {
            for j in 0..n {
                c0[i * lc.rs + j * lc.cs] = f32::NAN;
            }
        }
    }
    let mut want = c0.clone();
    let scale = reference(&case, &a, &b, &mut want);
    let mut got = c0.clone();
    let (rsc, csc) = (lc.rs as isize, lc.cs as isize);
    let (rsa, csa, rsb, csb) = (
        la.rs as isize,
        la.cs as isize,
        lb.rs as isize,
        lb.cs as isize,
    );
    if via.is_none() {
        if packed {
            let pb = PackedB::new(k, n, &b, rsb, csb).unwrap();
            assert_eq!(pb.kind(), kind);
            sgemm_packed(
                m,
                alpha,
                MatRef::new(&a, rsa, csa),
                &pb,
                beta,
                MatMut::new(&mut got, rsc, csc),
            )
            .unwrap();
        } else {
            sgemm(
                [m, k, n],
                alpha,
                MatRef::new(&a, rsa, csa),
                MatRef::new(&b, rsb, csb),
                beta,
                MatMut::new(&mut got, rsc, csc),
            )
            .unwrap();
        }
    } else if packed {
        let pb = PackedB::new_for(kind, k, n, &b, lb.rs as isize, lb.cs as isize).unwrap();
        sgemm_packed_with(
            kind,
            m,
            alpha,
            MatRef::new(&a, la.rs as isize, la.cs as isize),
            &pb,
            beta,
            MatMut::new(&mut got, rsc, csc),
        )
        .unwrap();
    } else {
        sgemm_with(
            kind,
            [m, k, n],
            alpha,
            MatRef::new(&a, la.rs as isize, la.cs as isize),
            MatRef::new(&b, lb.rs as isize, lb.cs as isize),
            beta,
            MatMut::new(&mut got, rsc, csc),
        )
        .unwrap();
    }
    let tol_k = 4.0 * (k.max(1) as f64) * f32::EPSILON as f64;
    for idx in 0..lc.len {
        let (g, w) = (got[idx], want[idx]);
        let ok = if w.is_nan() {
            false
        } else {
            (g as f64 - w as f64).abs() <= tol_k * scale[idx] + 1e-6
        };
        assert!(
            ok,
            "{kind:?} packed={packed} {case:?}: C[{idx}] = {g}, want {w}"
        );
    }
}

fn random_case(rng: &mut Rng, m: usize, k: usize, n: usize) -> Case {
    let (alpha, beta) = match rng.below(4) {
        0 => (1.0, 0.0),
        1 => (1.0, 1.0),
        2 => (-0.5, 0.0),
        _ => (1.5, -2.0),
    };
    Case {
        m,
        k,
        n,
        alpha,
        beta,
        la: layout(rng, m, k),
        lb: layout(rng, k, n),
        lc: layout(rng, m, n),
    }
}

#[test]
fn random_shapes_match_reference() {
    let mut rng = Rng::new(0x5eed_0001);
    for &kind in available_kernels() {
        for _ in 0..60 {
            let (m, k, n) = (1 + rng.below(40), 1 + rng.below(40), 1 + rng.below(40));
            let case = random_case(&mut rng, m, k, n);
            check_case(&mut rng, kind, case, false);
        }
    }
}

#[test]
fn edge_shapes_match_reference() {
    // Single rows/columns, k = 1, k beyond kc (two blocks and a tail), m beyond mc,
    // n beyond nc, sizes that are not multiples of any tile.
    let shapes = [
        (1, 1, 1),
        (1, 37, 129),
        (1, 300, 5),
        (29, 41, 1),
        (300, 3, 1),
        (7, 1, 13),
        (1, 1, 40),
        (13, 600, 11),
        (150, 20, 17),
        (5, 3, 1100),
        (73, 257, 25),
        (4, 8, 8),
        (3, 12, 12),
        (2, 2, 2),
    ];
    let mut rng = Rng::new(0x5eed_0002);
    for &kind in available_kernels() {
        for &(m, k, n) in &shapes {
            for _ in 0..2 {
                let case = random_case(&mut rng, m, k, n);
                check_case(&mut rng, kind, case, false);
                check_case(&mut rng, kind, case, true);
            }
        }
    }
}

#[test]
fn all_layouts_and_scalars() {
    // Every combination of row-/column-major A, B, C and of (α, β), on one odd shape.
    let mut rng = Rng::new(0x5eed_0003);
    let (m, k, n) = (11, 19, 23);
    for &kind in available_kernels() {
        for bits in 0..8 {
            let lay = |r: usize, c: usize, col_major: bool| {
                let (rs, cs) = if col_major { (1, r + 2) } else { (c + 3, 1) };
                Layout {
                    rs,
                    cs,
                    len: (r - 1) * rs + (c - 1) * cs + 1,
                }
            };
            for &(alpha, beta) in &[(1.0, 0.0), (2.0, 0.5), (-1.0, 1.0), (0.25, -3.0)] {
                let case = Case {
                    m,
                    k,
                    n,
                    alpha,
                    beta,
                    la: lay(m, k, bits & 1 != 0),
                    lb: lay(k, n, bits & 2 != 0),
                    lc: lay(m, n, bits & 4 != 0),
                };
                check_case(&mut rng, kind, case, false);
                check_case(&mut rng, kind, case, true);
            }
        }
    }
}

#[test]
fn nchw_output_through_strides() {
    // X[HW, Cin]·W[Cin, Cout] written as NCHW [Cout, HW]: rsc = 1, csc = HW.
    let mut rng = Rng::new(0x5eed_0004);
    let (hw, cin, cout) = (49, 6, 10);
    for &kind in available_kernels() {
        let case = Case {
            m: hw,
            k: cin,
            n: cout,
            alpha: 1.0,
            beta: 0.0,
            la: Layout {
                rs: cin,
                cs: 1,
                len: hw * cin,
            },
            lb: Layout {
                rs: cout,
                cs: 1,
                len: cin * cout,
            },
            lc: Layout {
                rs: 1,
                cs: hw,
                len: hw * cout,
            },
        };
        check_case(&mut rng, kind, case, false);
        check_case(&mut rng, kind, case, true);
    }
}

#[test]
fn identity_is_exact() {
    // A·I == A bit for bit (every product is x·1 or x·0), for shapes around the tiles.
    let mut rng = Rng::new(0x5eed_0005);
    for &kind in available_kernels() {
        for &(m, k) in &[(1, 1), (5, 9), (13, 13), (72, 300), (2, 33)] {
            let a = rng.uniform_vec(m * k, -1.0, 1.0);
            let mut eye = vec![0.0f32; k * k];
            for i in 0..k {
                eye[i * k + i] = 1.0;
            }
            let mut c = vec![f32::NAN; m * k];
            sgemm_with(
                kind,
                [m, k, k],
                1.0,
                MatRef::new(&a, k as isize, 1),
                MatRef::new(&eye, k as isize, 1),
                0.0,
                MatMut::new(&mut c, k as isize, 1),
            )
            .unwrap();
            assert_eq!(c, a, "{kind:?} A·I, {m}×{k}");
            // I·Aᵀ read through strides is Aᵀ.
            let mut eye_m = vec![0.0f32; m * m];
            for i in 0..m {
                eye_m[i * m + i] = 1.0;
            }
            let mut ct = vec![f32::NAN; k * m];
            let pb = PackedB::new_for(kind, m, m, &eye_m, m as isize, 1).unwrap();
            sgemm_packed_with(
                kind,
                k,
                1.0,
                MatRef::new(&a, 1, k as isize),
                &pb,
                0.0,
                MatMut::new(&mut ct, m as isize, 1),
            )
            .unwrap();
            for i in 0..m {
                for j in 0..k {
                    assert_eq!(ct[j * m + i], a[i * k + j], "{kind:?} Aᵀ·I at ({j},{i})");
                }
            }
        }
    }
}

#[test]
fn packed_b_reuse_equals_sgemm() {
    let mut rng = Rng::new(0x5eed_0006);
    for &kind in available_kernels() {
        let (k, n) = (300, 45);
        let b = rng.uniform_vec(k * n, -1.0, 1.0);
        let pb = PackedB::new_for(kind, k, n, &b, n as isize, 1).unwrap();
        assert_eq!((pb.k(), pb.n(), pb.kind()), (k, n, kind));
        assert_eq!(pb.unpack(), b);
        for &m in &[1usize, 2, 7, 64] {
            let a = rng.uniform_vec(m * k, -1.0, 1.0);
            let mut plain = vec![f32::NAN; m * n];
            sgemm_with(
                kind,
                [m, k, n],
                1.0,
                MatRef::new(&a, k as isize, 1),
                MatRef::new(&b, n as isize, 1),
                0.0,
                MatMut::new(&mut plain, n as isize, 1),
            )
            .unwrap();
            for _ in 0..2 {
                let mut c = vec![f32::NAN; m * n];
                sgemm_packed_with(
                    kind,
                    m,
                    1.0,
                    MatRef::new(&a, k as isize, 1),
                    &pb,
                    0.0,
                    MatMut::new(&mut c, n as isize, 1),
                )
                .unwrap();
                for (x, y) in c.iter().zip(&plain) {
                    assert!(
                        (x - y).abs() <= 1e-4 * (1.0 + y.abs()),
                        "{kind:?} m={m}: {x} vs {y}"
                    );
                }
            }
        }
    }
}

#[test]
fn packed_b_for_another_micro_kernel_still_right() {
    // Packed for one kind, used with every other: same answer (repacked or shared panels).
    let mut rng = Rng::new(0x5eed_0007);
    let (m, k, n) = (9, 20, 30);
    let a = rng.uniform_vec(m * k, -1.0, 1.0);
    let b = rng.uniform_vec(k * n, -1.0, 1.0);
    let mut want = vec![0.0f32; m * n];
    sgemm_with(
        KernelKind::Portable,
        [m, k, n],
        1.0,
        MatRef::new(&a, k as isize, 1),
        MatRef::new(&b, n as isize, 1),
        0.0,
        MatMut::new(&mut want, n as isize, 1),
    )
    .unwrap();
    for &packed_for in available_kernels() {
        let pb = PackedB::new_for(packed_for, k, n, &b, n as isize, 1).unwrap();
        for &run in available_kernels() {
            let mut c = vec![f32::NAN; m * n];
            sgemm_packed_with(
                run,
                m,
                1.0,
                MatRef::new(&a, k as isize, 1),
                &pb,
                0.0,
                MatMut::new(&mut c, n as isize, 1),
            )
            .unwrap();
            for (x, y) in c.iter().zip(&want) {
                assert!((x - y).abs() <= 1e-4, "{packed_for:?}→{run:?}: {x} vs {y}");
            }
        }
    }
}

#[test]
fn zero_k_and_zero_alpha_scale_c() {
    for &kind in available_kernels() {
        // k = 0: C = β·C; β = 0 overwrites NaN with 0.
        let mut c = vec![f32::NAN; 6];
        sgemm_with(
            kind,
            [2, 0, 3],
            1.0,
            MatRef::new(&[], 1, 1),
            MatRef::new(&[], 1, 1),
            0.0,
            MatMut::new(&mut c, 3, 1),
        )
        .unwrap();
        assert_eq!(c, vec![0.0; 6]);
        let mut c = vec![2.0f32; 6];
        sgemm_with(
            kind,
            [2, 0, 3],
            1.0,
            MatRef::new(&[], 1, 1),
            MatRef::new(&[], 1, 1),
            0.5,
            MatMut::new(&mut c, 3, 1),
        )
        .unwrap();
        assert_eq!(c, vec![1.0; 6]);
        // α = 0: A and B are not read (NaN there does not leak).
        let nan = vec![f32::NAN; 6];
        let mut c = vec![4.0f32; 4];
        sgemm_with(
            kind,
            [2, 3, 2],
            0.0,
            MatRef::new(&nan, 3, 1),
            MatRef::new(&nan, 2, 1),
            0.25,
            MatMut::new(&mut c, 2, 1),
        )
        .unwrap();
        assert_eq!(c, vec![1.0; 4]);
        // m = 0 or n = 0: nothing to do, nothing touched.
        let mut c = vec![7.0f32; 2];
        sgemm_with(
            kind,
            [0, 3, 2],
            1.0,
            MatRef::new(&[], 3, 1),
            MatRef::new(&nan, 2, 1),
            0.0,
            MatMut::new(&mut c, 2, 1),
        )
        .unwrap();
        assert_eq!(c, vec![7.0; 2]);
    }
}

#[test]
fn bad_views_are_errors_not_panics() {
    let a = vec![1.0f32; 6];
    let b = vec![1.0f32; 6];
    let mut c = vec![0.0f32; 4];
    // A too short (2×4 needs 8), B too short, C too short, strides beyond the slice.
    assert!(sgemm(
        [2, 4, 2],
        1.0,
        MatRef::new(&a, 4, 1),
        MatRef::new(&b, 2, 1),
        0.0,
        MatMut::new(&mut c, 2, 1)
    )
    .is_err());
    assert!(sgemm(
        [2, 3, 3],
        1.0,
        MatRef::new(&a, 3, 1),
        MatRef::new(&b, 3, 1),
        0.0,
        MatMut::new(&mut c, 3, 1)
    )
    .is_err());
    assert!(sgemm(
        [2, 3, 2],
        1.0,
        MatRef::new(&a, 3, 1),
        MatRef::new(&b, 2, 1),
        0.0,
        MatMut::new(&mut c[..3], 2, 1)
    )
    .is_err());
    assert!(sgemm(
        [2, 3, 2],
        1.0,
        MatRef::new(&a, 3, 1),
        MatRef::new(&b, 2, 1),
        0.0,
        MatMut::new(&mut c, 3, 1)
    )
    .is_err());
    // Negative strides, overlapping outputs, absurd sizes.
    assert!(sgemm(
        [2, 3, 2],
        1.0,
        MatRef::new(&a, -3, 1),
        MatRef::new(&b, 2, 1),
        0.0,
        MatMut::new(&mut c, 2, 1)
    )
    .is_err());
    assert!(sgemm(
        [2, 3, 2],
        1.0,
        MatRef::new(&a, 3, 1),
        MatRef::new(&b, 2, 1),
        0.0,
        MatMut::new(&mut c, 0, 1)
    )
    .is_err());
    assert!(sgemm(
        [2, 3, 2],
        1.0,
        MatRef::new(&a, 3, 1),
        MatRef::new(&b, 2, 1),
        0.0,
        MatMut::new(&mut c, 1, 1)
    )
    .is_err());
    assert!(sgemm(
        [usize::MAX, 3, 2],
        1.0,
        MatRef::new(&a, 3, 1),
        MatRef::new(&b, 2, 1),
        0.0,
        MatMut::new(&mut c, 2, 1)
    )
    .is_err());
    assert!(sgemm(
        [2, 3, 2],
        1.0,
        MatRef::new(&a, isize::MAX, 1),
        MatRef::new(&b, 2, 1),
        0.0,
        MatMut::new(&mut c, 2, 1)
    )
    .is_err());
    // PackedB: short B; sgemm_packed: short A or C.
    assert!(PackedB::new(4, 2, &b, 2, 1).is_err());
    let pb = PackedB::new(3, 2, &b, 2, 1).unwrap();
    assert!(sgemm_packed(
        3,
        1.0,
        MatRef::new(&a, 3, 1),
        &pb,
        0.0,
        MatMut::new(&mut c, 2, 1)
    )
    .is_err());
    assert!(sgemm_packed(
        2,
        1.0,
        MatRef::new(&a, 3, 1),
        &pb,
        0.0,
        MatMut::new(&mut c[..3], 2, 1)
    )
    .is_err());
    assert!(sgemm_packed(
        2,
        1.0,
        MatRef::new(&a, 3, 1),
        &pb,
        0.0,
        MatMut::new(&mut c, 2, 1)
    )
    .is_ok());
    // The error names the problem.
    let e = sgemm(
        [2, 4, 2],
        1.0,
        MatRef::new(&a, 4, 1),
        MatRef::new(&b, 2, 1),
        0.0,
        MatMut::new(&mut c, 2, 1),
    )
    .unwrap_err();
    assert!(e.to_string().contains("A:"), "{e}");
}

/// Forcing a micro-kernel reaches every path behind the public entry points: the blocked
/// GEMM, both matrix-vector shapes (M = 1 with B's rows or columns contiguous, N = 1), and
/// the packed variants; each gives the reference result.
#[test]
fn each_forced_kernel_matches_reference_through_the_public_api() {
    let shapes = [
        (1, 37, 129),
        (1, 300, 5),
        (1, 784, 64),
        (29, 41, 1),
        (300, 3, 1),
        (13, 20, 30),
        (73, 257, 25),
    ];
    let mut rng = Rng::new(0x5eed_0008);
    for &kind in available_kernels() {
        with_forced(kind, || {
            assert_eq!(selected_kernel(), kind);
            for &(m, k, n) in &shapes {
                for _ in 0..3 {
                    let case = random_case(&mut rng, m, k, n);
                    check_case_via(&mut rng, None, case, false);
                    check_case_via(&mut rng, None, case, true);
                }
            }
        });
    }
}

#[test]
fn kernel_choice_and_override() {
    let kinds = available_kernels();
    assert_eq!(kinds.last(), Some(&KernelKind::Portable));
    for &k in kinds {
        with_forced(k, || assert_eq!(selected_kernel(), k));
    }
    // A kind this build lacks is ignored: the best compiled in runs instead.
    for k in [
        KernelKind::Portable,
        KernelKind::Simd128,
        KernelKind::Relaxed,
    ] {
        let got = with_forced(k, selected_kernel);
        assert_eq!(got, if k.is_available() { k } else { kinds[0] });
        assert_eq!(KernelKind::from_name(k.name()).unwrap(), k);
    }
    // Unforced: the best compiled in (under the lock, so no other test's forcing interferes).
    with_forced(kinds[0], || {
        force_kernel(None);
        assert_eq!(selected_kernel(), kinds[0]);
    });
    assert!(KernelKind::from_name("avx").is_err());
    let level = simd_level();
    assert_eq!(level == "relaxed", kinds.contains(&KernelKind::Relaxed));
    assert_eq!(level != "none", kinds.contains(&KernelKind::Simd128));
}

/// Offset tables for a gathered matrix and data they address: `lines` offsets in runs of
/// `run` consecutive ones (broken by gaps), `depth` offsets spaced past them (each nudged by
/// 0 or 1), and uniform data covering every `lines[l] + depths[p]`.
fn gathered_tables(
    rng: &mut Rng,
    lines: usize,
    run: usize,
    depth: usize,
) -> (Vec<usize>, Vec<usize>, Vec<f32>) {
    let lo: Vec<usize> = (0..lines)
        .map(|i| (i / run) * (run + 3) + i % run)
        .collect();
    let span = lo.iter().max().unwrap() + 1;
    let de: Vec<usize> = (0..depth).map(|p| p * span + rng.below(2)).collect();
    let len = lo.iter().max().unwrap() + de.iter().max().unwrap() + 1;
    let data = rng.uniform_vec(len, -1.0, 1.0);
    (lo, de, data)
}

/// `1.5·A·B + β·start`, row-major, by the portable micro-kernel: the reference the gathered
/// products are checked against.
fn reference_product(
    m: usize,
    k: usize,
    n: usize,
    a: &[f32],
    b: &[f32],
    beta: f32,
    start: &[f32],
) -> Vec<f32> {
    let mut want = start.to_vec();
    sgemm_with(
        KernelKind::Portable,
        [m, k, n],
        1.5,
        MatRef::new(a, k as isize, 1),
        MatRef::new(b, n as isize, 1),
        beta,
        MatMut::new(&mut want, n as isize, 1),
    )
    .unwrap();
    want
}

/// A gathered A (`A[i, p] = data[rows[i] + cols[p]]`) gives the product of the same matrix
/// made dense, with a strided B and with a packed one, under every micro-kernel this build
/// has: rows in runs of consecutive offsets (windows of one output row) broken at random
/// places (the panels that gather one float at a time), depths past KC, rows past MC.
#[test]
fn gathered_a_equals_the_dense_product() {
    let mut rng = Rng::new(77);
    let shapes = [
        (1, 1, 1),
        (2, 3, 2),
        (7, 5, 13),
        (37, 29, 12),
        (75, 300, 25),
        (150, 9, 64),
        (64, 288, 7),
    ];
    for &kind in available_kernels() {
        with_forced(kind, || {
            for (idx, &(m, k, n)) in shapes.iter().enumerate() {
                // rows: runs of consecutive offsets (longer and shorter than MR), with gaps
                let run = [1, 2, 3, 4, 5, 8, 64][idx];
                let (rows, cols, data) = gathered_tables(&mut rng, m, run, k);
                let dense: Vec<f32> = (0..m * k)
                    .map(|x| data[rows[x / k] + cols[x % k]])
                    .collect();
                let b = rng.uniform_vec(k * n, -1.0, 1.0);
                let a = Gathered {
                    data: &data,
                    rows: &rows,
                    cols: &cols,
                };
                for beta in [0.0f32, 0.5] {
                    let start = rng.uniform_vec(m * n, -1.0, 1.0);
                    let want = reference_product(m, k, n, &dense, &b, beta, &start);
                    // the same C, column-major
                    let fresh = || {
                        if beta == 0.0 {
                            vec![f32::NAN; m * n]
                        } else {
                            (0..m * n).map(|x| start[(x % m) * n + x / m]).collect()
                        }
                    };
                    // C written column-major through strides, as a conv's NCHW output is
                    let mut got = fresh();
                    sgemm_gathered(
                        n,
                        1.5,
                        a,
                        MatRef::new(&b, n as isize, 1),
                        beta,
                        MatMut::new(&mut got, 1, m as isize),
                    )
                    .unwrap();
                    let mut got_packed = fresh();
                    let pb = PackedB::new(k, n, &b, n as isize, 1).unwrap();
                    sgemm_packed_gathered(
                        1.5,
                        a,
                        &pb,
                        beta,
                        MatMut::new(&mut got_packed, 1, m as isize),
                    )
                    .unwrap();
                    for i in 0..m {
                        for j in 0..n {
                            let w = want[i * n + j];
                            let tol = 1e-5 * (1.0 + k as f32);
                            for (what, g) in [("view", &got), ("packed", &got_packed)] {
                                let g = g[j * m + i];
                                assert!(
                                    (g - w).abs() <= tol,
                                    "{kind:?} {what} {m}×{k}×{n} β={beta} ({i},{j}): {g} vs {w}"
                                );
                            }
                        }
                    }
                }
            }
        });
    }
}

/// A gathered B (`B[p, j] = data[rows[p] + cols[j]]`, the conv's windows as columns) gives the
/// product of the same matrix made dense, under every micro-kernel this build has: columns
/// in runs of consecutive offsets longer and shorter than NR, broken at random places (the
/// panels that gather one float at a time), depths past KC, columns past NC, β ≠ 0.
#[test]
fn gathered_b_equals_the_dense_product() {
    let mut rng = Rng::new(78);
    let shapes = [
        (1, 1, 1),
        (2, 3, 2),
        (13, 5, 7),
        (12, 29, 37),
        (25, 300, 75),
        (64, 9, 150),
        (7, 288, 1100),
        (64, 288, 96),
    ];
    for &kind in available_kernels() {
        with_forced(kind, || {
            for (idx, &(m, k, n)) in shapes.iter().enumerate() {
                let run = [1, 2, 3, 12, 5, 8, 64, 24][idx];
                let (cols, rows, data) = gathered_tables(&mut rng, n, run, k);
                let dense: Vec<f32> = (0..k * n)
                    .map(|x| data[rows[x / n] + cols[x % n]])
                    .collect();
                let a = rng.uniform_vec(m * k, -1.0, 1.0);
                let b = Gathered {
                    data: &data,
                    rows: &rows,
                    cols: &cols,
                };
                for beta in [0.0f32, 0.5] {
                    let start = rng.uniform_vec(m * n, -1.0, 1.0);
                    let want = reference_product(m, k, n, &a, &dense, beta, &start);
                    let mut got = if beta == 0.0 {
                        vec![f32::NAN; m * n]
                    } else {
                        start.clone()
                    };
                    sgemm_b_gathered(
                        m,
                        1.5,
                        MatRef::new(&a, k as isize, 1),
                        b,
                        beta,
                        MatMut::new(&mut got, n as isize, 1),
                    )
                    .unwrap();
                    let tol = 1e-5 * (1.0 + k as f32);
                    for (x, (g, w)) in got.iter().zip(&want).enumerate() {
                        assert!(
                            (g - w).abs() <= tol,
                            "{kind:?} {m}×{k}×{n} β={beta} ({}, {}): {g} vs {w}",
                            x / n,
                            x % n
                        );
                    }
                }
            }
        });
    }
    // offsets past the data, and views too short, are errors
    let data = [1.0f32; 10];
    let b = Gathered {
        data: &data,
        rows: &[0, 8],
        cols: &[0, 2],
    };
    let mut c = [0.0f32; 4];
    assert!(sgemm_b_gathered(
        2,
        1.0,
        MatRef::new(&[1.0; 4], 2, 1),
        b,
        0.0,
        MatMut::new(&mut c, 2, 1)
    )
    .is_err());
    let b = Gathered { rows: &[0, 7], ..b };
    sgemm_b_gathered(
        2,
        1.0,
        MatRef::new(&[1.0; 4], 2, 1),
        b,
        0.0,
        MatMut::new(&mut c, 2, 1),
    )
    .unwrap();
    assert_eq!(c, [2.0; 4]);
    assert!(sgemm_b_gathered(
        2,
        1.0,
        MatRef::new(&[1.0; 3], 2, 1),
        b,
        0.0,
        MatMut::new(&mut c, 2, 1)
    )
    .is_err());
    assert!(sgemm_b_gathered(
        2,
        1.0,
        MatRef::new(&[1.0; 4], 2, 1),
        b,
        0.0,
        MatMut::new(&mut c[..3], 2, 1)
    )
    .is_err());
}

#[test]
fn gathered_offsets_outside_the_data_are_errors() {
    let data = [1.0f32; 10];
    let b = [1.0f32; 4];
    let mut c = [0.0f32; 4];
    let a = Gathered {
        data: &data,
        rows: &[0, 8],
        cols: &[0, 2],
    };
    assert!(sgemm_gathered(
        2,
        1.0,
        a,
        MatRef::new(&b, 2, 1),
        0.0,
        MatMut::new(&mut c, 2, 1)
    )
    .is_err());
    let a = Gathered { rows: &[0, 7], ..a };
    sgemm_gathered(
        2,
        1.0,
        a,
        MatRef::new(&b, 2, 1),
        0.0,
        MatMut::new(&mut c, 2, 1),
    )
    .unwrap();
    assert_eq!(c, [2.0; 4]);
    assert!(sgemm_gathered(
        2,
        1.0,
        a,
        MatRef::new(&b, 2, 1),
        0.0,
        MatMut::new(&mut c[..3], 2, 1)
    )
    .is_err());
    let pb = PackedB::new(3, 2, &[0.0; 6], 2, 1).unwrap();
    assert!(sgemm_packed_gathered(1.0, a, &pb, 0.0, MatMut::new(&mut c, 2, 1)).is_err());
    let a = Gathered {
        rows: &[0, usize::MAX],
        ..a
    };
    assert!(sgemm_gathered(
        2,
        1.0,
        a,
        MatRef::new(&b, 2, 1),
        0.0,
        MatMut::new(&mut c, 2, 1)
    )
    .is_err());
}

/// The thread split cuts C into whole MR × NR tiles: parts of `chunk` (a multiple of NR for
/// columns, MR for rows) that cover C exactly once, no more parts than tasks, and none at all
/// below the minimum work per task.
#[test]
fn thread_split_cuts_whole_tiles_covering_c_once() {
    use driver::Split;
    for (m, n) in [
        (1, 1),
        (2, 16),
        (3, 17),
        (40, 33),
        (33, 40),
        (512, 512),
        (7, 1000),
    ] {
        for (mr, nr) in [(2, 16), (3, 12), (4, 8)] {
            for tasks in 1..=9 {
                let split = Split::into_tasks(m, n, mr, nr, tasks);
                let (chunk, parts, unit, len) = match split {
                    Split::One => continue,
                    Split::Cols { chunk, parts } => (chunk, parts, nr, n),
                    Split::Rows { chunk, parts } => (chunk, parts, mr, m),
                };
                let at = format!("{m}×{n} tile {mr}×{nr}, {tasks} tasks: {split:?}");
                assert!(parts >= 2 && parts <= tasks, "{at}");
                assert_eq!(chunk % unit, 0, "{at}");
                assert!((parts - 1) * chunk < len && parts * chunk >= len, "{at}");
            }
        }
    }
    // 512³ on two threads: two halves of C's columns.
    assert_eq!(
        Split::plan(512, 512, 512, 2, 16, 2),
        Split::Cols {
            chunk: 256,
            parts: 2
        }
    );
    // Tall: rows; one thread, or a product too small to pay for a wake-up: no split.
    assert!(matches!(
        Split::plan(1024, 256, 64, 2, 16, 2),
        Split::Rows { .. }
    ));
    assert_eq!(Split::plan(512, 512, 512, 2, 16, 1), Split::One);
    // 64³ (2¹⁸ multiply-adds) pays for two parts of 2¹⁷; anything smaller stays whole.
    assert_eq!(
        Split::plan(64, 64, 64, 2, 16, 2),
        Split::Cols {
            chunk: 32,
            parts: 2
        }
    );
    assert_eq!(Split::plan(64, 64, 63, 2, 16, 2), Split::One);
    assert_eq!(
        Split::plan(64, 64, 64, 2, 16, 4),
        Split::Cols {
            chunk: 32,
            parts: 2
        }
    );
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// Cut into 2, 3, 4 or 7 tasks (run in order here, on the pool's threads in the threaded
/// wasm), every GEMM entry point gives the one-task result bit for bit, for every micro-kernel
/// this build has: ragged edges (m < MR, n < NR, neither a multiple), depths past KC (the k
/// blocks accumulate in C), strided views, β ≠ 0, a packed B and gathered A and B.
#[test]
fn split_gemm_equals_one_thread_bit_for_bit() {
    let mut rng = Rng::new(0x7417_ead5);
    let shapes = [
        (1, 5, 40),
        (2, 7, 3),
        (5, 300, 37),
        (37, 29, 83),
        (83, 600, 29),
        (130, 70, 67),
        (3, 20, 1100),
    ];
    for &kind in available_kernels() {
        with_forced(kind, || {
            for &(m, k, n) in &shapes {
                let case = random_case(&mut rng, m, k, n);
                let Case {
                    la,
                    lb,
                    lc,
                    alpha,
                    beta,
                    ..
                } = case;
                let a = rng.uniform_vec(la.len, -1.0, 1.0);
                let b = rng.uniform_vec(lb.len, -1.0, 1.0);
                let c0 = rng.uniform_vec(lc.len, -1.0, 1.0);
                let (ra, rb, rc) = (
                    MatRef::new(&a, la.rs as isize, la.cs as isize),
                    MatRef::new(&b, lb.rs as isize, lb.cs as isize),
                    (lc.rs as isize, lc.cs as isize),
                );
                let pb = PackedB::new(k, n, &b, lb.rs as isize, lb.cs as isize).unwrap();
                // A and B read through offset tables (the same matrices, dense row-major).
                let ad: Vec<f32> = (0..m * k)
                    .map(|x| a[(x / k) * la.rs + (x % k) * la.cs])
                    .collect();
                let bd: Vec<f32> = (0..k * n)
                    .map(|x| b[(x / n) * lb.rs + (x % n) * lb.cs])
                    .collect();
                let (ar, ac): (Vec<usize>, Vec<usize>) =
                    ((0..m).map(|i| i * k).collect(), (0..k).collect());
                let (br, bc): (Vec<usize>, Vec<usize>) =
                    ((0..k).map(|p| p * n).collect(), (0..n).collect());
                let ga = || Gathered {
                    data: &ad,
                    rows: &ar,
                    cols: &ac,
                };
                let gb = || Gathered {
                    data: &bd,
                    rows: &br,
                    cols: &bc,
                };
                let run = |entry: usize| {
                    let mut c = c0.clone();
                    let cm = MatMut::new(&mut c, rc.0, rc.1);
                    match entry {
                        0 => sgemm([m, k, n], alpha, ra, rb, beta, cm),
                        1 => sgemm_packed(m, alpha, ra, &pb, beta, cm),
                        2 => sgemm_gathered(n, alpha, ga(), rb, beta, cm),
                        3 => sgemm_b_gathered(m, alpha, ra, gb(), beta, cm),
                        _ => sgemm_packed_gathered(alpha, ga(), &pb, beta, cm),
                    }
                    .unwrap();
                    bits(&c)
                };
                for entry in 0..5 {
                    let one = driver::with_tasks(1, || run(entry));
                    for tasks in [2, 3, 4, 7] {
                        let split = driver::with_tasks(tasks, || run(entry));
                        assert!(
                            split == one,
                            "{kind:?} entry {entry} {m}×{k}×{n} in {tasks} tasks differs from one task"
                        );
                    }
                }
            }
        })
    }
}

/// The matrix-vector products (M = 1 or N = 1, and M = 1 against a `PackedB`) cut into 2, 3
/// and 4 parts give the one-part result bit for bit, for every micro-kernel: B read by rows, by
/// columns and strided both ways, widths with 32-wide blocks, 4-wide tails and single columns.
#[test]
fn split_matvec_equals_one_thread_bit_for_bit() {
    let mut rng = Rng::new(0x3a7e);
    for &kind in available_kernels() {
        with_forced(kind, || {
            for &(k, n) in &[(5, 40), (3, 97), (300, 131), (64, 1000), (17, 33), (2, 7)] {
                // B by rows (csb = 1), by columns (rsb = 1), strided.
                for (rsb, csb) in [(n + 1, 1), (1, k + 2), (2 * n, 2)] {
                    let b = rng.uniform_vec((k - 1) * rsb + (n - 1) * csb + 1, -1.0, 1.0);
                    let x = rng.uniform_vec(2 * k, -1.0, 1.0);
                    let y0 = rng.uniform_vec(3 * n, -1.0, 1.0);
                    let pb = PackedB::new(k, n, &b, rsb as isize, csb as isize).unwrap();
                    let run = |entry: usize| {
                        let mut y = y0.clone();
                        let xs = MatRef::new(&x, 1, 2);
                        match entry {
                            // y(1×n) = x·B, x strided, y strided
                            0 => sgemm(
                                [1, k, n],
                                0.5,
                                xs,
                                MatRef::new(&b, rsb as isize, csb as isize),
                                1.0,
                                MatMut::new(&mut y, 1, 3),
                            ),
                            // yᵀ(n×1) = Bᵀ·xᵀ: the N = 1 case
                            1 => sgemm(
                                [n, k, 1],
                                1.0,
                                MatRef::new(&b, csb as isize, rsb as isize),
                                MatRef::new(&x, 2, 1),
                                0.0,
                                MatMut::new(&mut y, 3, 1),
                            ),
                            _ => sgemm_packed(1, 1.0, xs, &pb, 0.0, MatMut::new(&mut y, 1, 3)),
                        }
                        .unwrap();
                        bits(&y)
                    };
                    for entry in 0..3 {
                        let one = driver::with_tasks(1, || run(entry));
                        for tasks in [2, 3, 4] {
                            assert!(
                                driver::with_tasks(tasks, || run(entry)) == one,
                                "{kind:?} matvec entry {entry} k {k} n {n} strides ({rsb}, {csb}) in {tasks} tasks"
                            );
                        }
                    }
                }
            }
        })
    }
}

/// A column-major B (a transposed row-major matrix, as a dense layer's Wᵀ) packs into the same
/// panels as its row-major copy, bit for bit: with simd128 its 4 × 4 blocks are transposed in
/// registers, and the rows past the last whole block, the edge panel's missing columns (zeros)
/// and a padded column stride go the scalar way.
#[test]
fn column_major_b_packs_as_its_row_major_copy() {
    fn check<K: super::micro_kernel::MicroKernel>(rng: &mut Rng) {
        let nr = K::NR;
        for kc in [1, 3, 4, 5, 8, 11, 196] {
            for nc in [1, nr - 1, nr, nr + 3, 3 * nr] {
                let pad = rng.below(3);
                let vals: Vec<f32> = (0..kc * nc).map(|_| rng.uniform(-1.0, 1.0)).collect();
                // Row-major (p, c) at p·nc + c; column-major at c·(kc + pad) + p.
                let mut cm = vec![f32::NAN; nc * (kc + pad)];
                for p in 0..kc {
                    for c in 0..nc {
                        cm[c * (kc + pad) + p] = vals[p * nc + c];
                    }
                }
                let len = nc.div_ceil(nr) * kc * nr;
                let (mut want, mut got) = (vec![f32::NAN; len], vec![f32::NAN; len]);
                // safety: both views hold kc × nc readable floats at the strides given.
                unsafe {
                    super::packing::pack_b::<K>(kc, nc, vals.as_ptr(), nc, 1, &mut want);
                    super::packing::pack_b::<K>(kc, nc, cm.as_ptr(), 1, kc + pad, &mut got);
                }
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(
                    bits(&got),
                    bits(&want),
                    "NR {nr}, kc {kc}, nc {nc}, pad {pad}"
                );
            }
        }
    }
    let mut rng = Rng::new(0x5eed_00b7);
    check::<super::portable::Portable>(&mut rng);
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use super::simd128::{SeparateMulAdd, Tile};
        check::<Tile<SeparateMulAdd, 2, 4, 1>>(&mut rng);
        check::<Tile<SeparateMulAdd, 4, 2, 1>>(&mut rng);
        check::<Tile<SeparateMulAdd, 3, 3, 1>>(&mut rng);
    }
}
