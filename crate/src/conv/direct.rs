//! Direct convolution for windows with few taps (`K = C·kH·kW ≤` [`max_taps`]) and horizontal
//! stride 1, such as the 1-channel 5×5 first layer of an MNIST net.
//!
//! Why: with few taps, im2col + GEMM moves every input pixel K times for only C_out
//! multiply-adds per moved float; here the input is copied once into a zero-padded buffer and
//! each output row accumulates in registers (measurements: docs/conv.md, docs/perf.md).
//!
//! Which loop runs follows [`crate::gemm::selected_kernel`]: the SIMD micro-kernels' channel
//! pairs (with their multiply-add) or the portable loop, so a forced micro-kernel runs its own
//! code here too.

use std::ops::Range;

use super::geometry::Window;
use crate::gemm::KernelKind;
use crate::tensor::MAX_ELEMENTS;

/// Largest `K = C·kH·kW` the direct path takes with micro-kernel `kind`. The SIMD pixel tiles
/// beat the implicit GEMM on every measured shape up to K = 864 (docs/conv.md: 1.04–1.9×,
/// simd128's 64→64 3×3 at 0.96×), so they take up to 1024 taps; the portable loop only up
/// to 32 (beyond, im2col + GEMM wins).
pub fn max_taps(kind: KernelKind) -> usize {
    match kind {
        KernelKind::Portable => 32,
        KernelKind::Simd128 | KernelKind::Relaxed => 1024,
    }
}

/// Output pixels accumulated together (four simd128 vectors).
const LANES: usize = 16;

/// Padded-buffer geometry: `(rows, cols)` per channel, covering every tap of every window plus
/// `LANES` columns of slack so the last partial chunk reads inside the buffer.
fn padded_dims(win: &Window) -> Option<(usize, usize)> {
    let [oh, ow] = win.out;
    let rows = (oh - 1)
        .checked_mul(win.stride[0])?
        .checked_add((win.kernel[0] - 1).checked_mul(win.dilation[0])?)?
        .checked_add(1)?;
    let cols = ow
        .div_ceil(LANES)
        .checked_mul(LANES)?
        .checked_add((win.kernel[1] - 1).checked_mul(win.dilation[1])?)?;
    Some((rows, cols))
}

/// Scratch floats the direct path needs with micro-kernel `kind`, or `None` when it does not
/// apply to `win`.
pub fn scratch_len(kind: KernelKind, win: &Window) -> Option<usize> {
    if win.rows() > max_taps(kind) || win.stride[1] != 1 || win.is_pointwise() {
        return None;
    }
    let (r, c) = padded_dims(win)?;
    win.channels
        .checked_mul(r)?
        .checked_mul(c)
        .filter(|&n| n <= MAX_ELEMENTS)
}

/// `out[o, p] = Σ_k w[o, k]·window_p[k] + bias[o]` for one group of one image: `img` is
/// `[channels, height, width]`, `w` is `[opg, K]`, `bias` (`opg` values, or none) is added in
/// the accumulators, `out` is `[opg, P]` (fully written); `scratch` holds at least
/// [`scratch_len`] floats (callers check it first). `kind` picks the loop (the SIMD pixel
/// tiles or the portable loop). `packed`: `w` and
/// `bias` already laid out by [`pack_weights`] (the SIMD tiles read that; without it they are
/// packed here, into a buffer kept between calls).
#[allow(clippy::too_many_arguments)]
pub fn conv_bias(
    kind: KernelKind,
    win: &Window,
    img: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    packed: Option<&[f32]>,
    out: &mut [f32],
    scratch: &mut [f32],
) {
    let opg = (out.len() / win.cols().max(1)).min(w.len() / win.rows().max(1));
    let Some(padded) = pad(win, img, scratch) else {
        return;
    };
    let packed = packed.map(|p| (p, panel_width(opg)));
    conv_padded(kind, win, padded, w, bias, packed, out);
}

/// Step 1 of [`conv_bias`]: copies `img` once into the zero-padded buffer at the start of
/// `scratch` (row r ↔ image row r − pad_top) and returns that buffer, which [`conv_padded`]
/// reads (`None` when the window's padded size overflows; callers check [`scratch_len`]).
pub(crate) fn pad<'a>(win: &Window, img: &[f32], scratch: &'a mut [f32]) -> Option<&'a [f32]> {
    let (ph, _) = padded_dims(win)?;
    pad_rows(win, img, 0..ph, scratch)
}

/// The padded rows (of [`pad`]'s buffer) that the output rows `rows` read, every channel
/// alike: from the first row's first kernel row to the last row's last,
/// `rows.start·s0 .. (rows.end − 1)·s0 + (kh − 1)·d0 + 1` (empty for no rows).
pub(crate) fn band_rows(win: &Window, rows: Range<usize>) -> Range<usize> {
    if rows.is_empty() {
        return 0..0;
    }
    let s0 = win.stride[0];
    rows.start * s0..(rows.end - 1) * s0 + (win.kernel[0] - 1) * win.dilation[0] + 1
}

/// Floats of [`pad_rows`]' buffer for the output rows `rows` (`None` past the padded image).
pub(crate) fn band_len(win: &Window, rows: Range<usize>) -> Option<usize> {
    let (ph, pw) = padded_dims(win)?;
    let band = band_rows(win, rows);
    (band.end <= ph).then(|| win.channels * band.len() * pw)
}

/// [`pad`] for the padded rows `rows` alone (the [`band_rows`] of a band of output rows): band
/// row r ↔ padded row `rows.start + r` ↔ image row `rows.start + r − pad_top`, each channel's
/// `rows.len()` rows of `pw` floats in turn, at the start of `scratch` (which holds at least
/// [`band_len`] floats). `None` past the padded image.
pub(crate) fn pad_rows<'a>(
    win: &Window,
    img: &[f32],
    rows: Range<usize>,
    scratch: &'a mut [f32],
) -> Option<&'a [f32]> {
    let (ph, pw) = padded_dims(win)?;
    if rows.end > ph {
        return None;
    }
    let bh = rows.len();
    let (h, wd) = (win.height, win.width);
    let [pt, pl] = win.pad;
    let padded = &mut scratch[..win.channels * bh * pw];
    padded.fill(0.0);
    for c in 0..win.channels {
        for r in 0..bh {
            let iy = (rows.start + r).wrapping_sub(pt);
            if iy >= h {
                continue;
            }
            let dst = &mut padded[(c * bh + r) * pw..][..pw];
            let src = &img[(c * h + iy) * wd..][..wd];
            // image column ix lands at pl + ix; only the columns the windows reach are kept
            if pl < pw {
                let n = wd.min(pw - pl);
                dst[pl..pl + n].copy_from_slice(&src[..n]);
            }
        }
    }
    Some(padded)
}

/// Step 2 of [`conv_bias`], for any run of the group's output channels: `w` their `[o, K]`
/// rows, `bias` their biases, `out` their `[o, P]` planes, `packed` (with its panel width)
/// their panels of [`pack_weights`]' layout for the whole group (so a run that starts on a
/// panel boundary reads a slice of it and every channel meets the same arithmetic as in one
/// call over all of them: the thread split of [`super::engine`]). `padded` is [`pad`]'s.
pub(crate) fn conv_padded(
    kind: KernelKind,
    win: &Window,
    padded: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    packed: Option<(&[f32], usize)>,
    out: &mut [f32],
) {
    let k = win.rows().max(1);
    let opg = (out.len() / win.cols().max(1)).min(w.len() / k);
    // safety: `out` is borrowed mutably here, so no other thread touches it.
    unsafe {
        conv_band(
            kind,
            win,
            padded,
            0..win.out[0],
            &w[..opg * k],
            bias,
            packed,
            Planes::new(out),
        )
    };
}

/// Output planes that several threads write at once, each only its own rows: a band of rows
/// of every plane is not one slice, so the tasks share this pointer to them. It holds the
/// exclusive borrow of the planes for its lifetime; only the functions whose contract keeps
/// the threads' rows apart ([`conv_band`], [`tiles_simd_to`], the phases' `run_rows`) write
/// through it.
#[derive(Clone, Copy)]
pub(crate) struct Planes<'a> {
    ptr: *mut f32,
    len: usize,
    _borrow: std::marker::PhantomData<&'a mut [f32]>,
}

// safety: a `Planes` is written only by functions whose callers promise that no two threads
// write (or read) the same cells (each its own rows), and it borrows the planes exclusively.
unsafe impl Send for Planes<'_> {}
unsafe impl Sync for Planes<'_> {}

impl<'a> Planes<'a> {
    pub(crate) fn new(out: &'a mut [f32]) -> Planes<'a> {
        Planes {
            ptr: out.as_mut_ptr(),
            len: out.len(),
            _borrow: std::marker::PhantomData,
        }
    }

    /// Floats of the planes.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The `len` floats from `at` as a slice.
    ///
    /// # Safety
    /// No other thread reads or writes those floats while the slice lives.
    unsafe fn slice(self, at: usize, len: usize) -> &'a mut [f32] {
        assert!(at + len <= self.len, "a write past the planes");
        // safety: inside the planes (asserted), which this borrows exclusively; the caller
        // keeps other threads off these floats.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.add(at), len) }
    }
}

/// [`conv_padded`] for the output rows `rows` of every channel (`w` their `[opg, K]` rows,
/// `bias`, `packed` as there), reading `band`: [`pad_rows`]' buffer of their [`band_rows`]
/// (all of [`pad`]'s buffer when `rows` are all the rows). `out` is the `[opg, oh, ow]`
/// planes. Every output meets the same arithmetic as in one call over all the rows (a row's
/// tiles, and which kernel rows they skip, do not depend on the band): the row split of
/// [`super::engine`].
///
/// # Safety
/// No other thread reads or writes rows `rows` of `out`'s planes during the call (other
/// threads may write other rows).
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn conv_band(
    kind: KernelKind,
    win: &Window,
    band: &[f32],
    rows: Range<usize>,
    w: &[f32],
    bias: Option<&[f32]>,
    packed: Option<(&[f32], usize)>,
    out: Planes,
) {
    let Some((_, pw)) = padded_dims(win) else {
        return;
    };
    // accumulate output pixels of one row at a time, every tap read from `band`
    let [oh, ow] = win.out;
    let [kh, kw] = win.kernel;
    let k = win.rows();
    let opg = w.len() / k.max(1);
    let plane = oh * ow;
    let bh = band_rows(win, rows.clone()).len();
    assert!(
        rows.end <= oh && opg * plane <= out.len() && win.channels * bh * pw <= band.len(),
        "conv_band: rows, planes or band too short"
    );
    if rows.is_empty() {
        return;
    }
    let (s0, d0, d1) = (win.stride[0], win.dilation[0], win.dilation[1]);
    // Pairs of output channels with the SIMD micro-kernel's multiply-add (each tap's source
    // vectors feed both channels); the portable loop below takes the rest, or everything.
    let bias_of = |o: usize| bias.and_then(|b| b.get(o)).copied().unwrap_or(0.0);
    let done = crate::gemm::with_madd!(kind, F => {
        let grid = Grid::of_band(win, pw, rows.clone(), opg);
        match packed {
            // safety: the grid writes rows `rows` of `out` alone (the caller's promise).
            Some((packed, nr)) => unsafe { tiles_simd_to::<F>(&grid, nr, band, packed, out) },
            None => {
                let len = packed_len(k, opg).unwrap_or(0);
                let mut buf = PACKED.with(|c| c.take());
                if buf.len() < len {
                    buf.resize(len, 0.0);
                }
                pack_weights(k, opg, w, bias, &mut buf[..len]);
                // safety: as above.
                let done = unsafe { tiles_simd_to::<F>(&grid, panel_width(opg), band, &buf[..len], out) };
                PACKED.with(|c| c.set(buf));
                done
            }
        }
    }, else => {
        let _ = packed;
        0
    });
    for o in done..opg {
        let wo = &w[o * k..(o + 1) * k];
        let b = bias_of(o);
        for oy in rows.clone() {
            // safety: row oy of plane o, one of the rows no other thread touches.
            let orow = unsafe { out.slice(o * plane + oy * ow, ow) };
            // Band row of this output row's first kernel row.
            let r0 = (oy - rows.start) * s0;
            for ox0 in (0..ow).step_by(LANES) {
                let mut acc = [0.0f32; LANES];
                let mut taps = wo.iter();
                for c in 0..win.channels {
                    for ky in 0..kh {
                        let row = &band[(c * bh + r0 + ky * d0) * pw..][..pw];
                        for kx in 0..kw {
                            let wv = *taps.next().unwrap_or(&0.0);
                            let at = ox0 + kx * d1;
                            let src: &[f32; LANES] = match row[at..at + LANES].try_into() {
                                Ok(s) => s,
                                Err(_) => continue, // unreachable: the slice has LANES floats
                            };
                            for i in 0..LANES {
                                acc[i] += wv * src[i];
                            }
                        }
                    }
                }
                let n = LANES.min(ow - ox0);
                // The bias last, as the GEMM path adds it (same rounding natively).
                for (o, &a) in orow[ox0..ox0 + n].iter_mut().zip(&acc) {
                    *o = a + b;
                }
            }
        }
    }
}

thread_local! {
    /// Each thread's padded band of input rows (the row split of [`super::engine`]), reused
    /// across calls.
    static BAND: std::cell::Cell<Vec<f32>> = const { std::cell::Cell::new(Vec::new()) };
}

/// Runs `f` on this thread's band buffer (at least `len` floats, kept between calls; [`pad_rows`]
/// writes every float it reads).
pub(crate) fn with_band<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    let mut buf = BAND.with(|c| c.take());
    if buf.len() < len {
        buf.resize(len, 0.0);
    }
    let r = f(&mut buf[..len]);
    BAND.with(|c| c.set(buf));
    r
}

/// `dW` of a conv whose forward takes this path, by the same SIMD pixel tiles:
/// `dw[o, c, ky, kx] = Σ_n Σ_(y, x) small[n, o, y, x] · image_n[c, y·s0 + ky·d0, x·s1 + kx]`
/// (padded), a correlation of the padded images with `small`, whose output pixels are the
/// kernel's taps `(ky, kx)` and whose taps are the batch's windows `(n, y, x)`. R neighbouring
/// `kx` read R consecutive floats (horizontal dilation 1), and each weight is one chain of
/// sums in the order `(n, y, x)`. Why: im2col + GEMM packed every window of every image (the
/// packing was a third of the GEMM's time in a cnn training step); here the images are copied
/// once and `small` once. `image` is `[batch, groups·channels, h, w]`, `small` `[batch,
/// groups·opg, oh, ow]`, `dw` `[groups·opg, channels, kh, kw]` (fully written). Returns false
/// (nothing written) where it does not apply: the portable kernel, dilation across, more than
/// 16 output channels per group, sizes past the scratch limit. On `tasks` threads each group's
/// input channels in runs (each weight the same chain of sums: the one-thread bits).
pub fn weight_grad(
    kind: KernelKind,
    win: &Window,
    (groups, opg, batch): (usize, usize, usize),
    image: &[f32],
    small: &[f32],
    dw: &mut [f32],
    tasks: usize,
) -> bool {
    weight_grad_with(
        kind,
        win,
        (groups, opg, batch),
        image,
        small,
        dw,
        tasks,
        None,
    )
}

/// [`weight_grad`] with the choice between the pixel tiles and [`weight_grad_sparse`] made by
/// the caller (`Some(true)`: the sparse sums where they apply) or by the share of nonzero
/// values in `small` (`None`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn weight_grad_with(
    kind: KernelKind,
    win: &Window,
    shape: (usize, usize, usize),
    image: &[f32],
    small: &[f32],
    dw: &mut [f32],
    tasks: usize,
    sparse: Option<bool>,
) -> bool {
    let _ = (image, small, &dw, tasks, sparse);
    // Up to 16 output channels per group (one weight panel), where the GEMM's packing of the
    // column matrix costs the most per multiply-add (1/opg floats each); wider layers keep the
    // GEMM (not yet measured against the tiles there).
    let (_, opg, batch) = shape;
    if scratch_len(kind, win).is_none()
        || win.dilation[1] != 1
        || batch == 0
        || !(1..=16).contains(&opg)
    {
        return false;
    }
    crate::gemm::with_madd!(kind, F => {
        (sparse != Some(false)
            && weight_grad_sparse::<F>(win, shape, image, small, dw, tasks, sparse.is_none()))
            || weight_grad_simd::<F>(win, shape, image, small, dw, tasks)
    }, else => false)
}

/// conv2d's input gradient at stride 1 from the nonzero values of its output gradient `small`
/// alone: each value `small[n, o, y, x]` adds itself times `w[o, c, ·, ·]` to the window of
/// `dx[n, c]` it was read from (a scatter),
/// values in the order `(o, y, x)` and every cell starting at +0. That is the order of the
/// pixel tiles' chain for the same cell when they compute `dX` as the correlation of `dY`
/// with the turned kernel ([`super::engine::input_grad`]), so the same bits (finite values).
/// `win` is the forward conv's window, `dx` `[batch, groups·cpg, h, w]` (fully written).
/// Returns false (nothing written) where it does not apply: the portable kernel, strides or
/// dilations above 1, sizes past the limit, or with `auto` where `small` has too many nonzero
/// values for the scatter to pay. The cells are kept channels last while the values scatter,
/// so a window's kernel row is one run of `kw·C_in` floats (no lanes idle between channels).
#[allow(clippy::too_many_arguments)]
pub(crate) fn input_grad_sparse(
    kind: KernelKind,
    win: &Window,
    shape: (usize, usize, usize),
    small: &[f32],
    w: &[f32],
    dx: &mut [f32],
    tasks: usize,
    auto: bool,
) -> bool {
    let _ = (win, shape, small, w, &dx, tasks, auto);
    crate::gemm::with_madd!(kind, F => input_grad_sparse_simd::<F>(win, shape, small, w, dx, tasks, auto), else => false)
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn input_grad_sparse_simd<F: crate::gemm::MulAdd>(
    win: &Window,
    (groups, opg, batch): (usize, usize, usize),
    small: &[f32],
    w: &[f32],
    dx: &mut [f32],
    tasks: usize,
    auto: bool,
) -> bool {
    let (cpg, h, wd) = (win.channels, win.height, win.width);
    let ([oh, ow], [kh, kw]) = (win.out, win.kernel);
    let [pt, pl] = win.pad;
    let plane = oh * ow;
    if win.stride != [1, 1] || win.dilation != [1, 1] || batch == 0 || plane == 0 || cpg == 0 {
        return false;
    }
    let (ic, sc) = (groups * cpg, groups * opg);
    // One image's cells of a group, padded and channels last: buffer row r, column j,
    // channel c at `(r·bw + j)·cpg + c` ↔ dX row r − pt, column j − pl. A kernel row of a
    // window is then `kw·cpg` consecutive floats (every input channel's taps), written as
    // `nv` vectors; the last one's lanes past them reach 4·nv − kw·cpg floats further (slack
    // at the end).
    let (bh, bw) = (oh + kh - 1, ow - 1 + kw);
    let (span, row_floats) = (kw * cpg, bw * cpg);
    let nv = span.div_ceil(4);
    let Some(per_image) = bh
        .checked_mul(row_floats)
        .and_then(|n| n.checked_add(4 * nv))
        .filter(|&n| n <= MAX_ELEMENTS && n <= u32::MAX as usize)
    else {
        return false;
    };
    if small.len() != batch * sc * plane
        || dx.len() != batch * ic * h * wd
        || w.len() != sc * cpg * kh * kw
        || pt + h > bh
        || pl + wd > bw
    {
        return false;
    }
    // Each value touches kh·nv vectors of cells (a load, a multiply-add and a store each),
    // where the tiles multiply every cell by every tap; about three times the tiles' cost
    // per lane: 3·kh·4nv lanes a value against len(dX)·C_out·kh·kw for all of them.
    let cost = 3 * kh * 4 * nv;
    let budget = dx.len() as u64 * (opg * kh * kw) as u64;
    if auto && looks_dense(small, cost as u64 * small.len() as u64, budget) {
        return false;
    }
    // Every (image, output channel)'s nonzero values and where their windows start.
    let (mut offsets, mut values, padded) = SPARSE_SCRATCH.with(|c| c.take());
    offsets.resize(small.len() + 4, 0);
    values.resize(small.len() + 4, 0.0);
    let pos: Vec<u32> = (0..plane)
        .map(|i| ((i / ow) * row_floats + (i % ow) * cpg) as u32)
        .collect();
    let mut starts = Vec::with_capacity(batch * sc + 1);
    let mut len = 0;
    for plane_vals in small.chunks_exact(plane) {
        starts.push(len);
        len = compact_nonzero(plane_vals, 0, &pos, &mut offsets, &mut values, len);
    }
    starts.push(len);
    // Where the caller leaves the choice, the exact count decides.
    if auto && len as u64 * cost as u64 > budget {
        SPARSE_SCRATCH.with(|c| c.set((offsets, values, padded)));
        return false;
    }
    // The weights as kernel rows of every input channel's taps, channels last, zeros past
    // them: [o, ky, 4·nv] with lane kx·cpg + c = w[o, c, ky, kx].
    let row = 4 * nv;
    let mut wv = vec![0.0f32; sc * kh * row];
    for o in 0..sc {
        for c in 0..cpg {
            for ky in 0..kh {
                for kx in 0..kw {
                    wv[(o * kh + ky) * row + kx * cpg + c] = w[((o * cpg + c) * kh + ky) * kw + kx];
                }
            }
        }
    }
    // A kernel row of 40 floats (the cnn's 5 × 5 over 8 channels) in ten vectors unrolled.
    let scatter = match nv {
        10 => sparse_scatter::<F, 10>,
        _ => sparse_scatter::<F, 0>,
    };
    // Images `ns` into their cells of dX.
    let run = |ns: Range<usize>, dx: &mut [f32]| {
        let mut buf = vec![0.0f32; per_image];
        for n in ns.clone() {
            for g in 0..groups {
                buf.fill(0.0);
                for o in 0..opg {
                    let list = n * sc + g * opg + o;
                    let (a, b) = (starts[list], starts[list + 1]);
                    let wo = &wv[(g * opg + o) * kh * row..][..kh * row];
                    // safety: each list's offsets rise with (y, x).
                    unsafe {
                        scatter(
                            &mut buf,
                            (kh, nv, row_floats),
                            &offsets[a..b],
                            &values[a..b],
                            wo,
                        )
                    };
                }
                for c in 0..cpg {
                    let cells = &mut dx[((n - ns.start) * ic + g * cpg + c) * h * wd..][..h * wd];
                    for (y, out) in cells.chunks_exact_mut(wd).enumerate() {
                        let src = &buf[(y + pt) * row_floats + pl * cpg + c..];
                        for (x, v) in out.iter_mut().enumerate() {
                            *v = src[x * cpg];
                        }
                    }
                }
            }
        }
    };
    let split = crate::threadpool::Chunks::new(batch, 1, tasks);
    if split.parts <= 1 {
        run(0..batch, dx);
    } else {
        let parts: Vec<&mut [f32]> = dx.chunks_mut(split.chunk * ic * h * wd).collect();
        let done = crate::threadpool::try_for_each(parts, &|t, part| {
            run(split.range(t), part);
            Ok(())
        });
        if done.is_err() {
            return false; // unreachable: the tasks return Ok
        }
    }
    SPARSE_SCRATCH.with(|c| c.set((offsets, values, padded)));
    true
}

/// [`input_grad_sparse`]'s scatter of one output channel's values into one image's padded,
/// channels-last cells: for each value (in order) and kernel row `ky < kh`, `buf[at +
/// ky·row_floats ..][..4·nv] += value · w[ky, ..4·nv]` (`w` as `[kh, 4·nv]`), nv vectors
/// (`NV` when above 0, which the caller sets to `nv`). Panics when a read or write would leave `buf` or `w`.
///
/// # Safety
/// `offsets` rise (none above the last).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(never)]
unsafe fn sparse_scatter<F: crate::gemm::MulAdd, const NV: usize>(
    buf: &mut [f32],
    (kh, nv, row_floats): (usize, usize, usize),
    offsets: &[u32],
    values: &[f32],
    w: &[f32],
) {
    use core::arch::wasm32::*;
    // NV > 0: the vectors per row fixed (a loop LLVM unrolls), else `nv`.
    let nv = if NV > 0 { NV } else { nv };
    assert_eq!(offsets.len(), values.len());
    assert!(w.len() >= kh * 4 * nv);
    let Some(&last) = offsets.last() else {
        return;
    };
    assert!(
        kh > 0 && last as usize + (kh - 1) * row_floats + 4 * nv <= buf.len(),
        "sparse scatter writes past its buffer"
    );
    let (base, wp) = (buf.as_mut_ptr(), w.as_ptr());
    for (&at, &x) in offsets.iter().zip(values) {
        let xv = f32x4_splat(x);
        for ky in 0..kh {
            // safety (all): at ≤ the last offset (the caller's promise); its cells of row ky,
            // lanes ..4·nv, are inside `buf`, and w's row inside `w` (both checked above).
            let p = unsafe { base.add(at as usize + ky * row_floats) };
            let wr = unsafe { wp.add(ky * 4 * nv) };
            for i in 0..nv {
                unsafe {
                    let d = p.add(4 * i) as *mut v128;
                    let wv = v128_load(wr.add(4 * i) as *const v128);
                    v128_store(d, F::madd(xv, wv, v128_load(d)));
                }
            }
        }
    }
}

/// `rows[t·nr + l] = planes[l·plane + t]` for the taps `t` of whole groups of four (`nr` a
/// multiple of 4, `planes` holding `nr` planes): each 4×4 block read as four vectors of one
/// plane and written as four of one row. Returns how many taps it did (the caller does the
/// rest).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn transpose_planes(planes: &[f32], plane: usize, nr: usize, rows: &mut [f32]) -> usize {
    use core::arch::wasm32::*;
    let quads = plane / 4;
    if !nr.is_multiple_of(4) || planes.len() < nr * plane || rows.len() < nr * plane {
        return 0;
    }
    for q in 0..quads {
        let t = 4 * q;
        for l in (0..nr).step_by(4) {
            // safety: planes l .. l + 4 hold taps t .. t + 4 (t + 4 ≤ plane), and rows
            // t .. t + 4 hold lanes l .. l + 4 (l + 4 ≤ nr): inside the lengths checked above.
            unsafe {
                let src = planes.as_ptr().add(l * plane + t);
                let [a, b, c, d] =
                    [0, 1, 2, 3].map(|i| v128_load(src.add(i * plane) as *const v128));
                let t0 = i32x4_shuffle::<0, 4, 1, 5>(a, b);
                let t1 = i32x4_shuffle::<0, 4, 1, 5>(c, d);
                let t2 = i32x4_shuffle::<2, 6, 3, 7>(a, b);
                let t3 = i32x4_shuffle::<2, 6, 3, 7>(c, d);
                let out = [
                    i32x4_shuffle::<0, 1, 4, 5>(t0, t1),
                    i32x4_shuffle::<2, 3, 6, 7>(t0, t1),
                    i32x4_shuffle::<0, 1, 4, 5>(t2, t3),
                    i32x4_shuffle::<2, 3, 6, 7>(t2, t3),
                ];
                let dst = rows.as_mut_ptr().add(t * nr + l);
                for (i, v) in out.into_iter().enumerate() {
                    v128_store(dst.add(i * nr) as *mut v128, v);
                }
            }
        }
    }
    4 * quads
}

/// Channel `ch` (of `ic`) of every image of `image` (`[batch, ic, h, w]`), zero-padded into the
/// first `batch·ph·pw` floats of `padded`: padded row i, column j ↔ image row i − pt, column
/// j − pl (the image's columns as far as a padded row reaches).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn pad_channel_of_batch(
    image: &[f32],
    (batch, ic, ch): (usize, usize, usize),
    (h, wd): (usize, usize),
    (ph, pw): (usize, usize),
    (pt, pl): (usize, usize),
    padded: &mut [f32],
) {
    for n in 0..batch {
        let img = &image[(n * ic + ch) * h * wd..][..h * wd];
        let dst = &mut padded[n * ph * pw..][..ph * pw];
        for (i, row) in dst.chunks_exact_mut(pw).enumerate() {
            let Some(iy) = i.checked_sub(pt).filter(|&iy| iy < h) else {
                row.fill(0.0);
                continue;
            };
            let (lo, hi) = (pl.min(pw), (pl + wd).min(pw));
            row[..lo].fill(0.0);
            row[lo..hi].copy_from_slice(&img[iy * wd..][..hi - lo]);
            row[hi..].fill(0.0);
        }
    }
}

/// A run of input channels into its block of dW (see [`by_channel_runs`]).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
type ChannelRun<'a> = dyn Fn(Range<usize>, &mut [f32], &mut [f32]) + Sync + 'a;

/// One group's dW (`dwg`, `[opg, cpg, k]`) by runs of its input channels: `run(cs, padded,
/// block)` writes channels `cs` into `block` (`[opg, cs.len(), k]`) with `padded` (as long as
/// the caller's) as its scratch. On one task straight into `dwg` with the caller's `padded`;
/// on threads each task with its own padded images and block, copied in after (each weight
/// the same chain of sums as on one thread). False only if a task failed (they do not).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn by_channel_runs(
    (cpg, opg, k): (usize, usize, usize),
    tasks: usize,
    padded: &mut [f32],
    dwg: &mut [f32],
    run: &ChannelRun<'_>,
) -> bool {
    let split = crate::threadpool::Chunks::new(cpg, 1, tasks);
    if split.parts <= 1 {
        run(0..cpg, padded, dwg);
        return true;
    }
    let padded_len = padded.len();
    let mut blocks: Vec<Vec<f32>> = (0..split.parts)
        .map(|t| vec![0.0; opg * split.range(t).len() * k])
        .collect();
    let done = crate::threadpool::try_for_each(blocks.iter_mut().collect(), &|t, block| {
        run(split.range(t), &mut vec![0.0; padded_len], block);
        Ok(())
    });
    if done.is_err() {
        return false;
    }
    for (t, block) in blocks.iter().enumerate() {
        let cs = split.range(t);
        for (o, src) in block.chunks_exact(cs.len() * k).enumerate() {
            let at = (o * cpg + cs.start) * k;
            dwg[at..at + src.len()].copy_from_slice(src);
        }
    }
    true
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn weight_grad_simd<F: crate::gemm::MulAdd>(
    win: &Window,
    (groups, opg, batch): (usize, usize, usize),
    image: &[f32],
    small: &[f32],
    dw: &mut [f32],
    tasks: usize,
) -> bool {
    let (cpg, h, wd) = (win.channels, win.height, win.width);
    let ([oh, ow], [kh, kw]) = (win.out, win.kernel);
    let ([s0, s1], [d0, _]) = (win.stride, win.dilation);
    let [pt, pl] = win.pad;
    let k = kh * kw;
    let plane = oh * ow;
    // The tile's pixels are the kernel's columns: five-wide kernels with 5–8 output channels
    // take a 5-pixel × 8-channel tile (every computed pixel used; the 4 × 8 tile computes 8
    // for 5). With 9–16 channels the 2 × 16 tile stays: two 8-channel panels of 5-pixel tiles
    // made the cnn's one-thread step 3% faster in Chromium but 7% slower in node 20 (V8 11.3).
    let (nr, r) = match panel_width(opg) {
        _ if kw == 5 && (5..=8).contains(&opg) => (8, 5),
        16 => (16, 2),
        8 => (8, 4),
        nr => (nr, 8),
    };
    // Padded rows and columns: every tap of every window, and the last tile's R − 1 floats.
    let ph = (oh - 1) * s0 + (kh - 1) * d0 + 1;
    let pw = (ow - 1) * s1 + kw.div_ceil(r) * r;
    let taps = batch * plane;
    let (Some(padded_len), Some(packed)) = (
        batch.checked_mul(ph).and_then(|n| n.checked_mul(pw)),
        taps.checked_add(1)
            .and_then(|t| t.checked_mul(opg.div_ceil(nr) * nr)),
    ) else {
        return false;
    };
    if padded_len > MAX_ELEMENTS || packed > MAX_ELEMENTS {
        return false;
    }
    let (ic, sc) = (groups * cpg, groups * opg);
    // Scratch kept between calls (a training step calls this per layer): every float used is
    // written below, so none is cleared.
    let (mut padded, mut wp) = GRAD_SCRATCH.with(|c| c.take());
    padded.resize(padded_len, 0.0);
    wp.resize(packed, 0.0);
    for g in 0..groups {
        // `small`'s planes of this group as the tiles' weight panels: tap row (n, y, x) holds
        // nr channels' values (zero past opg), then a bias row of zeros.
        for (j, panel) in wp.chunks_exact_mut((taps + 1) * nr).enumerate() {
            let lanes = nr.min(opg - j * nr);
            panel[taps * nr..].fill(0.0); // the bias row
            for n in 0..batch {
                // Channels j·nr .. j·nr + lanes of image n: `lanes` planes read side by side,
                // each tap row written whole.
                let first = (n * sc + g * opg + j * nr) * plane;
                let planes = &small[first..first + lanes * plane];
                let image_rows = &mut panel[n * plane * nr..(n + 1) * plane * nr];
                // Whole panels four taps by four channels at a time (a 4×4 transpose), the
                // rest one value at a time.
                let done = if lanes == nr {
                    transpose_planes(planes, plane, nr, image_rows)
                } else {
                    0
                };
                let rows = image_rows[done * nr..].chunks_exact_mut(nr);
                for (t, row) in (done..).zip(rows) {
                    for (l, v) in row.iter_mut().enumerate() {
                        *v = if l < lanes {
                            planes[l * plane + t]
                        } else {
                            0.0
                        };
                    }
                }
            }
        }
        let pad_channel = |c: usize, padded: &mut [f32]| {
            let images = (batch, ic, g * cpg + c);
            pad_channel_of_batch(image, images, (h, wd), (ph, pw), (pt, pl), padded);
        };
        // Channel c's taps of every output channel: at `dst`, `ocs` floats between output
        // channels.
        let grid = |dst: usize, ocs: usize| Grid {
            rows: kh,
            cols: kw,
            src: 0,
            src_row: d0 * pw,
            taps: (batch, oh, ow),
            steps: (ph * pw, s0 * pw, s1),
            channels: opg,
            dst,
            dst_steps: (ocs, kw, 1),
            live: None,
        };
        let wp: &[f32] = &wp[..packed];
        let run = |cs: Range<usize>, padded: &mut [f32], block: &mut [f32]| {
            for c in cs.clone() {
                pad_channel(c, padded);
                let g = grid((c - cs.start) * k, cs.len() * k);
                grad_tiles::<F>(&g, nr, r, padded, wp, block);
            }
        };
        let dwg = &mut dw[g * opg * cpg * k..(g + 1) * opg * cpg * k];
        if !by_channel_runs((cpg, opg, k), tasks, &mut padded[..padded_len], dwg, &run) {
            return false;
        }
    }
    GRAD_SCRATCH.with(|c| c.set((padded, wp)));
    true
}

/// [`weight_grad`] summing only the nonzero values of `small`: for each output channel `o`, the
/// list of its nonzero `small[n, o, y, x]` in the order `(n, y, x)`, then for each input
/// channel the kernel's `kh × kw` taps in registers (a kernel row's taps `kx` as the lanes of
/// V vectors), each value multiplying the window it reads. Each weight is the pixel tiles'
/// chain of sums without its zero terms (`a + v·0 = a` for a sum that started at +0 and
/// finite images), so the same bits. Why: after a max pool (and a relu) most of a conv's
/// output gradient is zeros (docs/bench.md). Returns false (nothing written) where the
/// kernel is wider than 8, taller than 8 (4 wide or less) or 5 (wider), past the size limit,
/// or, with `auto`, where `small` has too many nonzero values for the sums to pay.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn weight_grad_sparse<F: crate::gemm::MulAdd>(
    win: &Window,
    (groups, opg, batch): (usize, usize, usize),
    image: &[f32],
    small: &[f32],
    dw: &mut [f32],
    tasks: usize,
    auto: bool,
) -> bool {
    use core::arch::wasm32::*;
    let (cpg, h, wd) = (win.channels, win.height, win.width);
    let ([oh, ow], [kh, kw]) = (win.out, win.kernel);
    let ([s0, s1], [d0, _]) = (win.stride, win.dilation);
    let [pt, pl] = win.pad;
    let (k, plane, v) = (kh * kw, oh * ow, kw.div_ceil(4)); // v: vectors per kernel row
    let sums = match (kh, v) {
        (1, 1) => sparse_sums::<F, 1, 1>,
        (2, 1) => sparse_sums::<F, 2, 1>,
        (3, 1) => sparse_sums::<F, 3, 1>,
        (4, 1) => sparse_sums::<F, 4, 1>,
        (5, 1) => sparse_sums::<F, 5, 1>,
        (6, 1) => sparse_sums::<F, 6, 1>,
        (7, 1) => sparse_sums::<F, 7, 1>,
        (8, 1) => sparse_sums::<F, 8, 1>,
        (1, 2) => sparse_sums::<F, 1, 2>,
        (2, 2) => sparse_sums::<F, 2, 2>,
        (3, 2) => sparse_sums::<F, 3, 2>,
        (4, 2) => sparse_sums::<F, 4, 2>,
        (5, 2) => sparse_sums::<F, 5, 2>,
        _ => return false,
    };
    // Padded rows and columns: every tap of every window; the last window's last row reads
    // 4V − kw floats past it (slack at the end).
    let ph = (oh - 1) * s0 + (kh - 1) * d0 + 1;
    let pw = (ow - 1) * s1 + kw;
    let Some(padded_len) = batch
        .checked_mul(ph)
        .and_then(|n| n.checked_mul(pw))
        .and_then(|n| n.checked_add(4 * v))
        .filter(|&n| n <= MAX_ELEMENTS && n <= u32::MAX as usize)
    else {
        return false;
    };
    let (ic, sc) = (groups * cpg, groups * opg);
    let pad_channel = |g: usize, c: usize, padded: &mut [f32]| {
        let images = (batch, ic, g * cpg + c);
        pad_channel_of_batch(image, images, (h, wd), (ph, pw), (pt, pl), padded);
        padded[batch * ph * pw..].fill(0.0);
    };
    // The sums pay when they multiply fewer lanes than the tiles, at about a third of the
    // tiles' speed per lane (loads and a splat for each value): per value 3·kh·4V lanes
    // against kh·kw. A max pool's gradient (one cell of each window; fewer after a relu) is a
    // quarter or less of `small`.
    let (cost, budget) = (3 * kh * 4 * v, k);
    if auto && looks_dense(small, cost as u64, budget as u64) {
        return false;
    }
    let (mut offsets, mut values, mut padded) = SPARSE_SCRATCH.with(|c| c.take());
    // Every output channel's nonzero values and where their windows start, in the order
    // (n, y, x), four values at a time (room for four past the last value); `pos` the
    // offset of each output pixel's window within an image.
    offsets.resize(small.len() + 4, 0);
    values.resize(small.len() + 4, 0.0);
    let pos: Vec<u32> = (0..plane)
        .map(|i| ((i / ow) * s0 * pw + (i % ow) * s1) as u32)
        .collect();
    let mut starts = Vec::with_capacity(sc + 1);
    let mut len = 0;
    for o in 0..sc {
        starts.push(len);
        for n in 0..batch {
            let vals = &small[(n * sc + o) * plane..][..plane];
            len = compact_nonzero(
                vals,
                (n * ph * pw) as u32,
                &pos,
                &mut offsets,
                &mut values,
                len,
            );
        }
    }
    starts.push(len);
    // Where the caller leaves the choice, the exact count decides.
    if auto && len as u64 * cost as u64 > small.len() as u64 * budget as u64 {
        SPARSE_SCRATCH.with(|c| c.set((offsets, values, padded)));
        return false;
    }
    padded.resize(padded_len, 0.0);
    for g in 0..groups {
        let starts = &starts[g * opg..=(g + 1) * opg];
        // Input channels `cs` of this group into `block` (`[opg, cs.len(), k]`).
        let run = |cs: Range<usize>, padded: &mut [f32], block: &mut [f32]| {
            for c in cs.clone() {
                pad_channel(g, c, padded);
                for o in 0..opg {
                    let (a, b) = (starts[o], starts[o + 1]);
                    // safety: each channel's offsets rise with (n, y, x).
                    let acc = unsafe { sums(padded, d0 * pw, &offsets[a..b], &values[a..b]) };
                    let at = (o * cs.len() + c - cs.start) * k;
                    for (ky, row) in block[at..at + k].chunks_exact_mut(kw).enumerate() {
                        let mut lanes = [0.0f32; 8];
                        for (i, x) in acc[ky].iter().enumerate() {
                            // safety: lanes 4i .. 4i + 4 of an array of 8 (i < 2).
                            unsafe { v128_store(lanes.as_mut_ptr().add(4 * i) as *mut v128, *x) };
                        }
                        row.copy_from_slice(&lanes[..kw]);
                    }
                }
            }
        };
        let dwg = &mut dw[g * opg * cpg * k..(g + 1) * opg * cpg * k];
        if !by_channel_runs((cpg, opg, k), tasks, &mut padded, dwg, &run) {
            return false;
        }
    }
    SPARSE_SCRATCH.with(|c| c.set((offsets, values, padded)));
    true
}

/// Whether `small` looks too dense for a sparse pass that pays only while at most
/// `budget / cost` of its values are nonzero: 256 values spread over it are counted, and it is
/// too dense when their share is above that by a quarter. Cheap (the lists cost about
/// two cycles a value, which a dense pass of few channels would feel); the exact count
/// decides the rest. Only the speed depends on it: both passes give the same bits.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub(crate) fn looks_dense(small: &[f32], cost: u64, budget: u64) -> bool {
    const SAMPLE: usize = 256;
    if small.len() < 4 * SAMPLE {
        return false;
    }
    // One value of each of 256 even blocks, at a place that moves from block to block (an
    // even stride alone can land on the same pixel of every plane).
    let step = small.len() / SAMPLE;
    let nonzero = (0..SAMPLE)
        .filter(|i| small[i * step + (i * 37 + 11) % step] != 0.0)
        .count();
    nonzero as f64 / SAMPLE as f64 > 1.25 * budget as f64 / cost.max(1) as f64
}

/// Appends the nonzero values of `vals` to `values[len..]` and their `base + pos[i]` to
/// `offsets[len..]`, in order, and returns the new length: four values at a time, each
/// quad's nonzero lanes moved to its front by a shuffle (the four lanes stored, the length
/// moved on by how many were nonzero). `offsets` and `values` hold `len + vals.len() + 4`
/// or more; `pos` holds `vals.len()`.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn compact_nonzero(
    vals: &[f32],
    base: u32,
    pos: &[u32],
    offsets: &mut [u32],
    values: &mut [f32],
    mut len: usize,
) -> usize {
    use core::arch::wasm32::*;
    /// For each mask of nonzero lanes, the byte shuffle that moves those lanes to the front.
    const FRONT: [[u8; 16]; 16] = {
        let mut t = [[0u8; 16]; 16];
        let mut m = 0;
        while m < 16 {
            let (mut lane, mut at) = (0, 0);
            while lane < 4 {
                if m & (1 << lane) != 0 {
                    let mut b = 0;
                    while b < 4 {
                        t[m][4 * at + b] = (4 * lane + b) as u8;
                        b += 1;
                    }
                    at += 1;
                }
                lane += 1;
            }
            m += 1;
        }
        t
    };
    let n = vals.len();
    assert!(pos.len() >= n && offsets.len() >= len + n + 4 && values.len() >= len + n + 4);
    let basev = u32x4_splat(base);
    let quads = n / 4;
    for q in 0..quads {
        // safety: floats 4q .. 4q + 4 of `vals` and `pos` (4q + 4 ≤ n), and four lanes at
        // `len` ≤ (floats so far) of `offsets` and `values`, whose room is checked above.
        unsafe {
            let v = v128_load(vals.as_ptr().add(4 * q) as *const v128);
            let mask = i32x4_bitmask(f32x4_ne(v, f32x4_splat(0.0))) as usize;
            let shuffle = v128_load(FRONT[mask].as_ptr() as *const v128);
            let at = u32x4_add(basev, v128_load(pos.as_ptr().add(4 * q) as *const v128));
            v128_store(
                values.as_mut_ptr().add(len) as *mut v128,
                i8x16_swizzle(v, shuffle),
            );
            v128_store(
                offsets.as_mut_ptr().add(len) as *mut v128,
                i8x16_swizzle(at, shuffle),
            );
            len += mask.count_ones() as usize;
        }
    }
    for i in 4 * quads..n {
        offsets[len] = base + pos[i];
        values[len] = vals[i];
        len += usize::from(vals[i] != 0.0);
    }
    len
}

/// The sums of [`weight_grad_sparse`] for one output and one input channel: `acc[ky][i]` lane
/// `l` is `Σ values[j] · padded[offsets[j] + ky·row + 4i + l]` in the order of the list (`KH`
/// kernel rows of `V` vectors; the rest of the array zeros). Panics when a read would leave
/// `padded` (the offsets rise, so the last one bounds them).
///
/// # Safety
/// `offsets` rise (none above the last).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(never)]
unsafe fn sparse_sums<F: crate::gemm::MulAdd, const KH: usize, const V: usize>(
    padded: &[f32],
    row: usize,
    offsets: &[u32],
    values: &[f32],
) -> [[core::arch::wasm32::v128; 2]; 8] {
    use core::arch::wasm32::*;
    assert_eq!(offsets.len(), values.len());
    if let Some(&last) = offsets.last() {
        assert!(
            last as usize + (KH - 1) * row + 4 * V <= padded.len(),
            "sparse sums read past the padded images"
        );
    }
    let mut acc = [[f32x4_splat(0.0); V]; KH];
    let base = padded.as_ptr();
    for (&at, &x) in offsets.iter().zip(values) {
        let xv = f32x4_splat(x);
        // safety: at ≤ the last offset (the caller's promise), whose reads (ky·row + 4V
        // floats on) are inside `padded` (checked above).
        let p = unsafe { base.add(at as usize) };
        for (ky, accs) in acc.iter_mut().enumerate() {
            for (i, a) in accs.iter_mut().enumerate() {
                // safety: see above.
                let img = unsafe { v128_load(p.add(ky * row + 4 * i) as *const v128) };
                *a = F::madd(img, xv, *a);
            }
        }
    }
    let mut out = [[f32x4_splat(0.0); 2]; 8];
    for (o, a) in out.iter_mut().zip(&acc) {
        o[..V].copy_from_slice(a);
    }
    out
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
thread_local! {
    /// [`weight_grad_sparse`]'s lists of offsets and values and its padded images.
    static SPARSE_SCRATCH: std::cell::Cell<(Vec<u32>, Vec<f32>, Vec<f32>)> =
        const { std::cell::Cell::new((Vec::new(), Vec::new(), Vec::new())) };
}

/// [`weight_grad_simd`]'s tiles: `r` pixels × `nr` channels (5 × 8, or [`tiles_simd`]'s tile
/// for `nr`).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn grad_tiles<F: crate::gemm::MulAdd>(
    grid: &Grid,
    nr: usize,
    r: usize,
    padded: &[f32],
    packed: &[f32],
    out: &mut [f32],
) {
    if (nr, r) == (8, 5) {
        // safety: `out` is borrowed mutably here, so no other thread touches it.
        unsafe { tiles::run::<F, 5, 2, 0>(grid, padded, packed, Planes::new(out)) };
    } else {
        tiles_simd::<F>(grid, nr, padded, packed, out);
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
thread_local! {
    /// [`weight_grad`]'s padded images and packed output gradients, reused across calls.
    static GRAD_SCRATCH: std::cell::Cell<(Vec<f32>, Vec<f32>)> =
        const { std::cell::Cell::new((Vec::new(), Vec::new())) };
}

/// Output channels per weight panel of the SIMD pixel tiles for `opg` output channels per
/// group: 16 (a 2-pixel × 16-channel tile), 8 (4 × 8) or 4 (8 × 4). Each tile has 8
/// accumulators, like the GEMM's 2×16 one, and reads R pixels and 4V weights per tap.
pub fn panel_width(opg: usize) -> usize {
    match opg {
        0..=4 => 4,
        5..=8 => 8,
        _ => 16,
    }
}

/// Floats of [`pack_weights`]' layout for `k` taps and `opg` output channels: per panel of
/// [`panel_width`] channels, `k` rows of weights then one row of biases.
pub fn packed_len(k: usize, opg: usize) -> Option<usize> {
    let nr = panel_width(opg);
    opg.div_ceil(nr)
        .checked_mul(nr)?
        .checked_mul(k.checked_add(1)?)
}

/// Lays out `w` (`[opg, k]`, row-major) and `bias` (`opg` values, zero when absent) for the
/// SIMD pixel tiles: panel `j` holds channels `j·nr .. j·nr + nr` as `k` tap rows of `nr`
/// floats then a bias row, zero past `opg`. `dst` holds [`packed_len`] floats.
pub fn pack_weights(k: usize, opg: usize, w: &[f32], bias: Option<&[f32]>, dst: &mut [f32]) {
    let nr = panel_width(opg);
    for (j, panel) in dst.chunks_exact_mut((k + 1) * nr).enumerate() {
        for (t, row) in panel.chunks_exact_mut(nr).enumerate() {
            for (l, v) in row.iter_mut().enumerate() {
                let o = j * nr + l;
                *v = match (o < opg, t < k) {
                    (false, _) => 0.0,
                    (true, true) => w.get(o * k + t).copied().unwrap_or(0.0),
                    (true, false) => bias.and_then(|b| b.get(o)).copied().unwrap_or(0.0),
                };
            }
        }
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
thread_local! {
    /// The packed weights of calls that bring none (reused across calls, as the GEMM's
    /// packing buffers are).
    static PACKED: std::cell::Cell<Vec<f32>> = const { std::cell::Cell::new(Vec::new()) };
}

/// Where the pixel tiles read and write: a grid of `rows × cols` output pixels, each the
/// correlation of one window of the padded input with `taps` = (channels, kh, kw) taps.
#[derive(Clone, Copy, Debug)]
#[cfg_attr(
    not(all(target_arch = "wasm32", target_feature = "simd128")),
    allow(dead_code)
)]
pub(crate) struct Grid {
    pub rows: usize,
    pub cols: usize,
    /// The first window's first tap, in `padded`.
    pub src: usize,
    /// Floats between the windows of consecutive grid rows (windows of one row are 1 apart).
    pub src_row: usize,
    /// Channels, kernel rows and kernel columns of the window.
    pub taps: (usize, usize, usize),
    /// Floats between channels, kernel rows and kernel columns in `padded`.
    pub steps: (usize, usize, usize),
    /// Output channels.
    pub channels: usize,
    /// Where pixel (0, 0) of output channel 0 goes in `out`.
    pub dst: usize,
    /// Floats between output channels, grid rows and grid columns in `out`.
    pub dst_steps: (usize, usize, usize),
    /// Which kernel rows of a grid row read image rows rather than zero padding (`None`:
    /// all of them may): the tiles skip the others, whose products are zeros.
    pub live: Option<LiveRows>,
}

/// The padded rows `lo .. hi` hold image rows; kernel row `ky` of grid row `oy` reads padded
/// row `first + oy·row_step + ky·ky_step` (every channel alike).
#[derive(Clone, Copy, Debug)]
#[cfg_attr(
    not(all(target_arch = "wasm32", target_feature = "simd128")),
    allow(dead_code)
)]
pub(crate) struct LiveRows {
    pub first: usize,
    pub lo: usize,
    pub hi: usize,
    pub row_step: usize,
    pub ky_step: usize,
}

#[cfg_attr(
    not(all(target_arch = "wasm32", target_feature = "simd128")),
    allow(dead_code)
)]
impl LiveRows {
    /// The kernel rows `ky0 .. ky1` (of `kh`) of grid row `oy` that read image rows; empty
    /// (`ky0 == ky1`) when every row is padding.
    pub(crate) fn kernel_rows(&self, oy: usize, kh: usize) -> (usize, usize) {
        let base = self.first + oy * self.row_step;
        // The first ky with base + ky·step ≥ bound.
        let first = |bound: usize| bound.saturating_sub(base).div_ceil(self.ky_step).min(kh);
        let (ky0, ky1) = (first(self.lo), first(self.hi));
        (ky0, ky1.max(ky0))
    }
}

#[cfg_attr(
    not(all(target_arch = "wasm32", target_feature = "simd128")),
    allow(dead_code)
)]
impl Grid {
    /// The direct conv of `win` for the output rows `rows`, into `[channels, oh, ow]` planes,
    /// over [`pad_rows`]' buffer of their [`band_rows`] (`pw` floats a row).
    fn of_band(win: &Window, pw: usize, rows: Range<usize>, channels: usize) -> Grid {
        let [oh, ow] = win.out;
        let bh = band_rows(win, rows.clone()).len();
        Grid {
            rows: rows.len(),
            cols: ow,
            src: 0,
            src_row: win.stride[0] * pw,
            taps: (win.channels, win.kernel[0], win.kernel[1]),
            steps: (bh * pw, win.dilation[0] * pw, win.dilation[1]),
            channels,
            dst: rows.start * ow,
            dst_steps: (oh * ow, ow, 1),
            // Output row oy reads padded rows from oy·s0 on, and padded row r holds image row
            // r − pad_top (see `pad`): the same kernel rows are skipped in any band.
            live: Some(LiveRows {
                first: rows.start * win.stride[0],
                lo: win.pad[0],
                hi: win.pad[0] + win.height,
                row_step: win.stride[0],
                ky_step: win.dilation[0],
            }),
        }
    }
}

/// The SIMD pixel tiles over every output channel of `grid` (`packed`: [`pack_weights`]'
/// layout for the grid's taps, in panels of `nr` channels: [`panel_width`] of the grid's
/// channels, or of a whole group's when the grid is a run of them that starts on a panel). Panics when a read or write would leave
/// `padded` or `out` (R − 1 pixels past a row's end are read: slack the callers leave).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub(crate) fn tiles_simd<F: crate::gemm::MulAdd>(
    grid: &Grid,
    nr: usize,
    padded: &[f32],
    packed: &[f32],
    out: &mut [f32],
) -> usize {
    // safety: `out` is borrowed mutably here, so no other thread touches it.
    unsafe { tiles_simd_to::<F>(grid, nr, padded, packed, Planes::new(out)) }
}

/// [`tiles_simd`] into planes that other threads write too (other cells).
///
/// # Safety
/// No other thread reads or writes the cells `grid` writes during the call.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub(crate) unsafe fn tiles_simd_to<F: crate::gemm::MulAdd>(
    grid: &Grid,
    nr: usize,
    padded: &[f32],
    packed: &[f32],
    out: Planes,
) -> usize {
    // safety: the caller's promise.
    unsafe {
        match nr {
            16 => tiles::run::<F, 2, 4, 1>(grid, padded, packed, out),
            8 => tiles::run::<F, 4, 2, 2>(grid, padded, packed, out),
            _ => tiles::run::<F, 8, 1, 4>(grid, padded, packed, out),
        }
    }
    grid.channels
}

/// The pixel tiles: R neighbouring output pixels of one row × 4V output channels, eight
/// accumulators. Per tap, R broadcasts read in place from the padded image (the R windows
/// start at R consecutive floats: horizontal stride 1) and 4V weights from the packed
/// panel: no im2col, no packing of the windows, and output rows of any width fill the
/// tiles (the old 16-pixel rows left 2 of 16 lanes idle on 14-wide images).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod tiles {
    use core::arch::wasm32::*;

    use super::{Grid, Planes};
    use crate::gemm::MulAdd;

    /// Accumulates one tile: the bias, then the products of every tap, or with `SKIP` only of
    /// kernel rows `ky0 .. ky1` of every channel (the rows outside read only zero padding; a
    /// separate instance, so that the interior tiles pay nothing for the skipping). The tile
    /// is C neighbouring pixels of each of ROWS grid rows, the second row's windows
    /// `row_off` floats after the first's.
    ///
    /// # Safety
    /// For every tap `(c, ky, kx)`, row `i < ROWS` and `r < C`, `src + i·row_off + c·cs +
    /// ky·rs + kx·d1 + r` is readable; `w` is readable for `(taps + 1)·4V` floats (tap rows,
    /// then the bias row); `ky0 ≤ ky1 ≤ kh`.
    #[inline(always)]
    unsafe fn tile<
        F: MulAdd,
        const C: usize,
        const ROWS: usize,
        const V: usize,
        const SKIP: bool,
    >(
        (channels, kh, kw): (usize, usize, usize),
        (cs, rs, d1): (usize, usize, usize),
        (ky0, ky1): (usize, usize),
        src: *const f32,
        row_off: usize,
        w: *const f32,
    ) -> [[[v128; V]; C]; ROWS] {
        let mut acc = [[[f32x4_splat(0.0); V]; C]; ROWS];
        let taps = channels * kh * kw;
        for v in 0..V {
            // safety: the bias row follows the `taps` weight rows.
            let b = unsafe { v128_load(w.add((taps * V + v) * 4) as *const v128) };
            // Nested loops, not `flatten()`: LLVM then unrolls them and keeps the
            // accumulators in locals (with `flatten` they stayed in memory, stored every tap).
            for row in acc.iter_mut() {
                for px in row.iter_mut() {
                    px[v] = b;
                }
            }
        }
        let (ky0, ky1) = if SKIP { (ky0, ky1) } else { (0, kh) };
        // Weight rows are (c, ky, kx)-major: each channel skips the rows above ky0 and below ky1.
        let (skip_top, skip_bottom) = (ky0 * kw * 4 * V, (kh - ky1) * kw * 4 * V);
        let mut w = w;
        for c in 0..channels {
            if SKIP {
                // safety: the weight rows of (c, ky0, 0) onwards, inside the panel.
                w = unsafe { w.add(skip_top) };
            }
            for ky in ky0..ky1 {
                // safety: (c, ky, 0) is a tap: inside the padded image (see above).
                let mut p = unsafe { src.add(c * cs + ky * rs) };
                for _ in 0..kw {
                    let mut bv = [f32x4_splat(0.0); V];
                    for (v, b) in bv.iter_mut().enumerate() {
                        // safety: one of the `taps` weight rows of 4V floats.
                        *b = unsafe { v128_load(w.add(4 * v) as *const v128) };
                    }
                    for (i, row) in acc.iter_mut().enumerate() {
                        for (r, px) in row.iter_mut().enumerate() {
                            // safety: pixel r of row i of this tap (see above).
                            let a =
                                unsafe { v128_load32_splat(p.add(i * row_off + r) as *const u32) };
                            for (accv, &b) in px.iter_mut().zip(&bv) {
                                *accv = F::madd(a, b, *accv);
                            }
                        }
                    }
                    // safety: the next tap of this kernel row, or one past the last.
                    unsafe {
                        p = p.add(d1);
                        w = w.add(4 * V);
                    }
                }
            }
            if SKIP {
                // safety: past channel c's last weight row (at most the bias row).
                w = unsafe { w.add(skip_bottom) };
            }
        }
        acc
    }

    /// `[a, b, c, d]` (4 pixels × 4 channels each) → 4 channels × 4 pixels.
    #[inline(always)]
    fn transpose4(a: v128, b: v128, c: v128, d: v128) -> [v128; 4] {
        let t0 = i32x4_shuffle::<0, 4, 1, 5>(a, b);
        let t1 = i32x4_shuffle::<0, 4, 1, 5>(c, d);
        let t2 = i32x4_shuffle::<2, 6, 3, 7>(a, b);
        let t3 = i32x4_shuffle::<2, 6, 3, 7>(c, d);
        [
            i32x4_shuffle::<0, 1, 4, 5>(t0, t1),
            i32x4_shuffle::<2, 3, 6, 7>(t0, t1),
            i32x4_shuffle::<0, 1, 4, 5>(t2, t3),
            i32x4_shuffle::<2, 3, 6, 7>(t2, t3),
        ]
    }

    /// Every tile of every panel of `grid`; `packed` holds the panels of
    /// [`super::pack_weights`]. Tiles are R pixels of one row, or H pixels of each of two
    /// neighbouring rows (2H = R, the same accumulators; H = 0: never) where those leave fewer
    /// pixels idle: a 14-wide row takes 16 pixels of 4-pixel tiles but 14 of 2 × 2 ones, a
    /// five-wide kernel's weight gradient (5 × 5 "pixels") 30 of 2-pixel tiles but 26 of
    /// pairs of rows and 2-pixel tiles on the last. Two rows pair up only when they skip the
    /// same kernel rows, so every pixel is the same sum, in the same order, as in an R-pixel
    /// tile (the same bits at any band split).
    ///
    /// # Safety
    /// No other thread reads or writes the cells of `out` the grid writes during the call.
    pub(super) unsafe fn run<F: MulAdd, const R: usize, const V: usize, const H: usize>(
        g: &Grid,
        padded: &[f32],
        packed: &[f32],
        out: Planes,
    ) {
        let nr = 4 * V;
        let (channels, kh, kw) = g.taps;
        let (cs, rs, d1) = g.steps;
        let ocs = g.dst_steps.0;
        let k = channels * kh * kw;
        let panels = g.channels.div_ceil(nr);
        if g.rows == 0 || g.cols == 0 || g.channels == 0 {
            return;
        }
        // The reads: the last tile of a row reaches R − 1 pixels past it (slack the callers
        // leave); with no taps nothing is read. The writes: every pixel of every channel.
        if k > 0 {
            let last = g.src
                + (channels - 1) * cs
                + (kh - 1) * rs
                + (kw - 1) * d1
                + (g.rows - 1) * g.src_row
                + g.cols.div_ceil(R) * R
                - 1;
            assert!(
                last < padded.len(),
                "pixel tiles read past the padded input"
            );
        }
        let (ors, occ) = (g.dst_steps.1, g.dst_steps.2);
        let last_dst = g.dst + (g.channels - 1) * ocs + (g.rows - 1) * ors + (g.cols - 1) * occ;
        assert!(last_dst < out.len, "pixel tiles write past the output");
        assert!(
            packed.len() >= panels * (k + 1) * nr,
            "packed weights too short"
        );
        let pairs = H > 0 && 2 * H == R && g.cols.div_ceil(H) * H < g.cols.div_ceil(R) * R;
        let live = |oy: usize| g.live.map_or((0, kh), |l| l.kernel_rows(oy, kh));
        for j in 0..panels {
            let wp = packed[j * (k + 1) * nr..].as_ptr();
            let mut oy = 0;
            while oy < g.rows {
                let rows = live(oy);
                // safety (both): the reads of a row's tiles, or a pair's, are within those of
                // its R-pixel tiles (bounded by `last`); the panel holds k + 1 rows of nr
                // floats; `kernel_rows` gives ky0 ≤ ky1 ≤ kh; the writes are this grid's.
                if pairs && oy + 1 < g.rows && live(oy + 1) == rows {
                    unsafe { row_tiles::<F, H, 2, V>(g, padded, rows, wp, out, j * nr, oy) };
                    oy += 2;
                } else {
                    unsafe { row_tiles::<F, R, 1, V>(g, padded, rows, wp, out, j * nr, oy) };
                    oy += 1;
                }
            }
        }
    }

    /// The tiles of grid row `oy` (and `oy + 1` when ROWS = 2), C pixels of each row a tile,
    /// for the panel of channels `ch0 ..` at `wp`, kernel rows `rows`. Not inlined: each tile
    /// shape's loops in a function of their own (inlined into `run`, the ops ran the same,
    /// 0.95–1.00× in Chromium).
    ///
    /// # Safety
    /// As [`run`]'s tiles: the reads within the grid's, the writes its cells, no other
    /// thread's.
    #[inline(never)]
    unsafe fn row_tiles<F: MulAdd, const C: usize, const ROWS: usize, const V: usize>(
        g: &Grid,
        padded: &[f32],
        rows: (usize, usize),
        wp: *const f32,
        out: Planes,
        ch0: usize,
        oy: usize,
    ) {
        let skip = rows != (0, g.taps.1);
        let row = padded.as_ptr().wrapping_add(g.src + oy * g.src_row);
        let (ocs, ors, occ) = g.dst_steps;
        for ox0 in (0..g.cols).step_by(C) {
            let first = row.wrapping_add(ox0);
            // safety: the caller's promise.
            let acc = unsafe {
                match skip {
                    false => {
                        tile::<F, C, ROWS, V, false>(g.taps, g.steps, rows, first, g.src_row, wp)
                    }
                    true => {
                        tile::<F, C, ROWS, V, true>(g.taps, g.steps, rows, first, g.src_row, wp)
                    }
                }
            };
            for (i, pixels) in acc.iter().enumerate() {
                let at = g.dst + ch0 * ocs + (oy + i) * ors + ox0 * occ;
                // safety: row oy + i of this grid's cells.
                unsafe { put(g, out, pixels, ch0, at, ox0) };
            }
        }
    }

    /// Writes the C pixels of one row of a tile (fewer at the row's end, fewer channels in
    /// the last panel) from column `ox0`, pixel (0, channel 0) at `at`.
    ///
    /// # Safety
    /// The cells written are this grid's (bounded as `run` asserts) and no other thread's.
    #[inline(always)]
    unsafe fn put<const C: usize, const V: usize>(
        g: &Grid,
        out: Planes,
        acc: &[[v128; V]; C],
        ch0: usize,
        at: usize,
        ox0: usize,
    ) {
        let (ocs, occ) = (g.dst_steps.0, g.dst_steps.2);
        let n = C.min(g.cols - ox0);
        let lanes_here = (4 * V).min(g.channels - ch0);
        if n == C && lanes_here == 4 * V {
            // safety: channels ch0 .. ch0 + 4V ≤ channels and pixels at .. at + C of one
            // output row, cells of this grid (the caller's promise).
            unsafe { store::<C, V>(acc, out.ptr.add(at), ocs, occ) };
            return;
        }
        let mut lanes = [[0.0f32; 16]; C];
        for (r, px) in acc.iter().enumerate() {
            for (v, &a) in px.iter().enumerate() {
                // safety: 4v + 4 ≤ 16 floats of lanes[r].
                unsafe { v128_store(lanes[r].as_mut_ptr().add(4 * v) as *mut v128, a) };
            }
        }
        for l in 0..lanes_here {
            for (r, lane) in lanes.iter().enumerate().take(n) {
                // safety: a cell of this grid (the caller's promise).
                unsafe { *out.ptr.add(at + l * ocs + r * occ) = lane[l] };
            }
        }
    }

    /// Writes a full tile: pixel r, channel 4v + l of `acc` to `out[(4v + l)·plane + r·step]`.
    ///
    /// # Safety
    /// `out + c·plane + r·step` is writable for c < 4V, r < R.
    #[inline(always)]
    #[allow(clippy::needless_range_loop)] // acc[r][v] for several r at once
    unsafe fn store<const R: usize, const V: usize>(
        acc: &[[v128; V]; R],
        out: *mut f32,
        plane: usize,
        step: usize,
    ) {
        for v in 0..V {
            // safety (every store): channel 4v + l < 4V, pixel < R (see above).
            unsafe {
                let o = out.add(4 * v * plane);
                if step != 1 {
                    // Pixels `step` apart (the transposed conv's phases): one lane at a time.
                    for r in 0..R {
                        let a = acc[r][v];
                        let p = o.add(r * step);
                        v128_store32_lane::<0>(a, p as *mut u32);
                        v128_store32_lane::<1>(a, p.add(plane) as *mut u32);
                        v128_store32_lane::<2>(a, p.add(2 * plane) as *mut u32);
                        v128_store32_lane::<3>(a, p.add(3 * plane) as *mut u32);
                    }
                } else if R == 2 {
                    let lo = i32x4_shuffle::<0, 4, 1, 5>(acc[0][v], acc[1][v]);
                    let hi = i32x4_shuffle::<2, 6, 3, 7>(acc[0][v], acc[1][v]);
                    v128_store64_lane::<0>(lo, o as *mut u64);
                    v128_store64_lane::<1>(lo, o.add(plane) as *mut u64);
                    v128_store64_lane::<0>(hi, o.add(2 * plane) as *mut u64);
                    v128_store64_lane::<1>(hi, o.add(3 * plane) as *mut u64);
                } else {
                    // Pixels past the last whole four (the 5-pixel tile's fifth): a lane each.
                    for r in R / 4 * 4..R {
                        let a = acc[r][v];
                        let p = o.add(r);
                        v128_store32_lane::<0>(a, p as *mut u32);
                        v128_store32_lane::<1>(a, p.add(plane) as *mut u32);
                        v128_store32_lane::<2>(a, p.add(2 * plane) as *mut u32);
                        v128_store32_lane::<3>(a, p.add(3 * plane) as *mut u32);
                    }
                    for q in 0..R / 4 {
                        let c = transpose4(
                            acc[4 * q][v],
                            acc[4 * q + 1][v],
                            acc[4 * q + 2][v],
                            acc[4 * q + 3][v],
                        );
                        for (l, &cv) in c.iter().enumerate() {
                            v128_store(o.add(l * plane + 4 * q) as *mut v128, cv);
                        }
                    }
                }
            }
        }
    }
}
