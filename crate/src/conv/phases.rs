//! The transposed convolution phase by phase, with the direct path's pixel tiles.
//!
//! `image[c, y, x] = Σ small[o, oy, ox]·W[o, c, ky, kx]` over `y = oy·s − pad + ky` (and
//! likewise x): the output rows `y ≡ φ (mod s)` only ever meet the kernel rows
//! `ky ≡ φ + pad (mod s)`, `J = ⌈(k − κ₀)/s⌉` of them, and output row `y = φ + s·q` reads the
//! small rows `q + base + j` (`j < J`, kernel row `κ₀ + s·(J − 1 − j)`). So each of the s²
//! phases is a stride-1 correlation of a zero-padded copy of `small` with a sub-kernel turned
//! by 180°, written to every s-th output pixel: no column matrix, no col2im scatter, no
//! multiply by the zeros a zero-inserted image would hold (the upscale by zero insertion the
//! Transposed conv scene shows). Dilation 1 only; other windows keep GEMM + col2im.

use super::direct;
use super::geometry::Window;

/// One axis of one phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Axis {
    /// Output rows `φ + s·q` for `q < count`.
    pub phase: usize,
    pub count: usize,
    /// Kernel rows met: `first + s·(taps − 1 − j)` for sub-kernel row `j < taps`.
    pub first: usize,
    pub taps: usize,
    /// Output row `φ + s·q` reads small rows `q + base + j` (base may be negative).
    pub base: isize,
}

fn axis(phase: usize, stride: usize, pad: usize, kernel: usize, image: usize) -> Axis {
    let first = (phase + pad) % stride;
    let taps = if first < kernel {
        (kernel - 1 - first) / stride + 1
    } else {
        0
    };
    let count = if phase < image {
        (image - 1 - phase) / stride + 1
    } else {
        0
    };
    let delta = ((phase + pad - first) / stride) as isize;
    Axis {
        phase,
        count,
        first,
        taps,
        base: delta + 1 - taps as isize,
    }
}

/// The phase plan of one group of a transposed conv (`win` is the window over the image, the
/// transposed conv's output; `opg` small channels per group).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phases {
    /// Per axis, one entry per phase.
    pub rows: Vec<Axis>,
    pub cols: Vec<Axis>,
    /// The zero-padded copy of `small`: `opg` channels of `ph × pw`, the small image at
    /// (`top`, `left`).
    pub top: usize,
    pub left: usize,
    pub ph: usize,
    pub pw: usize,
    pub opg: usize,
}

/// Largest sub-kernel (`opg·J_h·J_w` taps) the phases take: the direct path's limit.
fn max_taps() -> usize {
    direct::max_taps(crate::gemm::KernelKind::Relaxed)
}

impl Phases {
    /// The plan, when the phases can take `win`: dilation 1, at most the direct path's taps
    /// per phase, and a padded copy of at most [`crate::tensor::MAX_ELEMENTS`] floats.
    pub fn new(win: &Window, opg: usize) -> Option<Phases> {
        let (image, small) = ([win.height, win.width], win.out);
        // A stride past the image side leaves all but a few of its s² phases empty: the GEMM +
        // col2im path then does the same work without a plan of s² phases (a stride of 2^31
        // would allocate 2^62 of them).
        if win.dilation != [1, 1]
            || opg == 0
            || win.stride[0] > image[0]
            || win.stride[1] > image[1]
        {
            return None;
        }
        let per_axis = |a: usize| -> Vec<Axis> {
            (0..win.stride[a])
                .map(|ph| axis(ph, win.stride[a], win.pad[a], win.kernel[a], image[a]))
                .collect()
        };
        let (rows, cols) = (per_axis(0), per_axis(1));
        let jmax = |ax: &[Axis]| ax.iter().map(|a| a.taps).max().unwrap_or(0);
        if opg.checked_mul(jmax(&rows))?.checked_mul(jmax(&cols))? > max_taps() {
            return None;
        }
        // Padding before: the most negative first small row any phase reads; the extent: the
        // last one read (the tiles read up to 15 pixels past a row's end: ⌈count/16⌉·16).
        let reads = |ax: &[Axis], slack: bool| -> Option<(usize, usize)> {
            let (mut before, mut end) = (0usize, 0isize);
            for a in ax.iter().filter(|a| a.taps > 0 && a.count > 0) {
                before = before.max(usize::try_from(-a.base).unwrap_or(0));
                let count = if slack {
                    a.count.div_ceil(16) * 16
                } else {
                    a.count
                };
                end = end.max(a.base + (count + a.taps - 1) as isize);
            }
            Some((before, usize::try_from(end + before as isize).ok()?))
        };
        let (top, rows_end) = reads(&rows, false)?;
        let (left, cols_end) = reads(&cols, true)?;
        let ph = rows_end.max(top.checked_add(small[0])?);
        let pw = cols_end.max(left.checked_add(small[1])?);
        opg.checked_mul(ph)?
            .checked_mul(pw)
            .filter(|&n| n <= crate::tensor::MAX_ELEMENTS)?;
        Some(Phases {
            rows,
            cols,
            top,
            left,
            ph,
            pw,
            opg,
        })
    }

    /// Floats of the padded copy of `small`.
    pub fn padded_len(&self) -> usize {
        self.opg * self.ph * self.pw
    }

    /// Floats of [`Phases::pack`]'s layout for `channels` image channels per group.
    pub fn packed_len(&self, channels: usize) -> usize {
        self.each()
            .map(|(r, c)| direct::packed_len(self.opg * r.taps * c.taps, channels).unwrap_or(0))
            .sum()
    }

    fn each(&self) -> impl Iterator<Item = (Axis, Axis)> + '_ {
        self.rows
            .iter()
            .flat_map(|&r| self.cols.iter().map(move |&c| (r, c)))
    }

    /// Lays out one group's weights `w` (`[opg, K]`, `K = channels·kH·kW`) and `bias`
    /// (`channels` values) for every phase's pixel tiles, phase after phase; `dst` holds
    /// [`Phases::packed_len`] floats.
    pub fn pack(&self, win: &Window, w: &[f32], bias: Option<&[f32]>, dst: &mut [f32]) {
        let (c_img, [kh, kw]) = (win.channels, win.kernel);
        let ([sy, sx], k) = (win.stride, win.rows());
        let nr = direct::panel_width(c_img);
        let mut at = 0;
        for (r, c) in self.each() {
            let taps = self.opg * r.taps * c.taps;
            let len = direct::packed_len(taps, c_img).unwrap_or(0);
            let dst = &mut dst[at..at + len];
            at += len;
            // Zero first (channels past c_img), then the bias row of every panel.
            dst.fill(0.0);
            if let Some(bias) = bias {
                for (panel, ch0) in (0..c_img).step_by(nr).enumerate() {
                    let row = &mut dst[(panel * (taps + 1) + taps) * nr..][..nr];
                    let n = nr.min(c_img - ch0);
                    row[..n].copy_from_slice(&bias[ch0..ch0 + n]);
                }
            }
            // Tap t = (o, jy, jx) in raster order: kernel cell (ky, kx), the 180° turn.
            let mut t = 0;
            for o in 0..self.opg {
                for jy in 0..r.taps {
                    let ky = r.first + sy * (r.taps - 1 - jy);
                    for jx in 0..c.taps {
                        let kx = c.first + sx * (c.taps - 1 - jx);
                        let src = &w[o * k + ky * kw + kx..];
                        for (panel, ch0) in (0..c_img).step_by(nr).enumerate() {
                            let row = &mut dst[(panel * (taps + 1) + t) * nr..][..nr];
                            for (l, v) in row.iter_mut().enumerate().take(c_img - ch0) {
                                *v = src[(ch0 + l) * kh * kw];
                            }
                        }
                        t += 1;
                    }
                }
            }
        }
    }

    /// Copies `small` (`[opg, oh, ow]`) into `padded` ([`Phases::padded_len`] floats), zero
    /// around it.
    pub fn pad(&self, win: &Window, small: &[f32], padded: &mut [f32]) {
        let [oh, ow] = win.out;
        padded.fill(0.0);
        for (o, plane) in padded.chunks_exact_mut(self.ph * self.pw).enumerate() {
            for y in 0..oh {
                let src = &small[(o * oh + y) * ow..][..ow];
                plane[(self.top + y) * self.pw + self.left..][..ow].copy_from_slice(src);
            }
        }
    }

    /// One group under the micro-kernel in force: [`Phases::pad`] then [`Phases::run`]
    /// (`padded` holds [`Phases::padded_len`] floats). Callers check the kind is a SIMD one
    /// ([`super::engine::phases_path`]); under any other this writes nothing and says so.
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    pub(crate) fn group(
        &self,
        win: &Window,
        small: &[f32],
        padded: &mut [f32],
        packed: &[f32],
        image: &mut [f32],
    ) -> crate::error::Result<()> {
        self.pad(win, small, padded);
        self.run_channels(win, padded, packed, 0..win.channels, image)
    }

    /// [`Phases::run`] under the micro-kernel in force for the image channels `channels` of
    /// the group: `image` holds their planes, `packed` is the whole group's [`Phases::pack`].
    /// A run of channels that starts on a panel boundary ([`direct::panel_width`] of the
    /// group's channels) meets the same arithmetic as the whole group: the thread split of
    /// [`super::engine`]. Errors under a kind without SIMD (nothing is written).
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    pub(crate) fn run_channels(
        &self,
        win: &Window,
        padded: &[f32],
        packed: &[f32],
        channels: std::ops::Range<usize>,
        image: &mut [f32],
    ) -> crate::error::Result<()> {
        crate::gemm::with_madd!(crate::gemm::selected_kernel(), F => {
            // safety: `image` is borrowed mutably here, so no other thread touches it.
            unsafe {
                self.run::<F>(win, padded, packed, channels, 0..win.height, direct::Planes::new(image))
            };
            Ok(())
        }, else => Err(crate::error::Error::shape(
            "the transposed conv's phases need a SIMD micro-kernel",
        )))
    }

    /// [`Phases::run`] under the micro-kernel in force for the image rows `rows` of every
    /// image channel of the group: `image` holds the group's planes, `packed` is its
    /// [`Phases::pack`]. Each phase's output rows in the band are whole rows of its grid, so
    /// every pixel meets the same arithmetic as in one call over all the rows: the row split
    /// of [`super::engine`]. Errors under a kind without SIMD (nothing is written).
    ///
    /// # Safety
    /// No other thread reads or writes rows `rows` of `image`'s planes during the call.
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    pub(crate) unsafe fn run_rows(
        &self,
        win: &Window,
        padded: &[f32],
        packed: &[f32],
        rows: std::ops::Range<usize>,
        image: direct::Planes,
    ) -> crate::error::Result<()> {
        crate::gemm::with_madd!(crate::gemm::selected_kernel(), F => {
            // safety: the caller's promise.
            unsafe { self.run::<F>(win, padded, packed, 0..win.channels, rows, image) };
            Ok(())
        }, else => Err(crate::error::Error::shape(
            "the transposed conv's phases need a SIMD micro-kernel",
        )))
    }

    /// `image = conv_transpose(small) + bias` for one group's image channels `channels` and
    /// image rows `rows` with micro-kernel `F`: `padded` from [`Phases::pad`], `packed` from
    /// [`Phases::pack`] (the whole group's), `image` the planes of those channels, every cell
    /// of those rows of which is written.
    ///
    /// # Safety
    /// No other thread reads or writes rows `rows` of `image`'s planes during the call.
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    pub(crate) unsafe fn run<F: crate::gemm::MulAdd>(
        &self,
        win: &Window,
        padded: &[f32],
        packed: &[f32],
        channels: std::ops::Range<usize>,
        rows: std::ops::Range<usize>,
        image: direct::Planes,
    ) {
        let (h, w) = (win.height, win.width);
        let [sy, sx] = win.stride;
        let nr = direct::panel_width(win.channels);
        // The panels of these channels in each phase's block.
        let (p0, p1) = (channels.start / nr, channels.end.div_ceil(nr));
        // The first grid row of phase `a` at or below image row `y`: output row φ + s·q ≥ y.
        let first_q = |a: &Axis, y: usize| y.saturating_sub(a.phase).div_ceil(sy).min(a.count);
        let mut at = 0;
        for (r, c) in self.each() {
            let taps = self.opg * r.taps * c.taps;
            let len = direct::packed_len(taps, win.channels).unwrap_or(0);
            let panel = (taps + 1) * nr;
            // This band's grid rows q0 .. q1 of the phase.
            let (q0, q1) = (first_q(&r, rows.start), first_q(&r, rows.end));
            // The band's first window's first tap; a phase without taps reads nothing.
            let (src, y0) = if taps > 0 {
                let y0 = (self.top as isize + r.base) as usize + q0;
                let x0 = (self.left as isize + c.base) as usize;
                (y0 * self.pw + x0, y0)
            } else {
                (0, 0)
            };
            let grid = direct::Grid {
                rows: q1.saturating_sub(q0),
                cols: c.count,
                src,
                src_row: self.pw,
                taps: (self.opg, r.taps, c.taps),
                steps: (self.ph * self.pw, self.pw, 1),
                channels: channels.len(),
                dst: (r.phase + sy * q0) * w + c.phase,
                dst_steps: (h * w, sy * w, sx),
                // Grid row q, sub-kernel row j reads padded row y0 + q + j; the small
                // image fills padded rows top .. top + oh.
                live: Some(direct::LiveRows {
                    first: y0,
                    lo: self.top,
                    hi: self.top + win.out[0],
                    row_step: 1,
                    ky_step: 1,
                }),
            };
            let block = &packed[at..at + len];
            // safety: the grid writes rows `rows` of these planes alone (the caller's promise).
            unsafe {
                direct::tiles_simd_to::<F>(&grid, nr, padded, &block[p0 * panel..p1 * panel], image)
            };
            at += len;
        }
    }
}
