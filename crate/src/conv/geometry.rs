//! Where the windows of a convolution fall: parameters, output sizes (PyTorch's formulas),
//! validation, and the two data movers `im2col` / `col2im` (windows as rows of a matrix, and
//! back), which are adjoints of each other.
//!
//! One picture serves both directions. A convolution slides a window over an *image* (the
//! large side) and produces one value per window position (the *small* side). `conv2d` maps
//! image → small; `conv_transpose2d` is its adjoint and maps small → image. So a
//! [`ConvPlan`] names the image side and the small side instead of "input" and "output".

use serde::Serialize;

use crate::error::{Error, Result};
use crate::tensor::{checked_numel, MAX_ELEMENTS};

/// Parameters of `conv2d` and `conv_transpose2d` (PyTorch's `Conv2d` / `ConvTranspose2d`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Conv2dParams {
    /// Step between windows, `[h, w]`.
    pub stride: [usize; 2],
    /// Zero padding per side: `[top, left, bottom, right]`.
    pub padding: [usize; 4],
    /// Spacing between kernel taps, `[h, w]` (1 = dense kernel).
    pub dilation: [usize; 2],
    /// Channel groups: input and output channels are split into `groups` independent convs.
    pub groups: usize,
    /// Transposed conv only: extra rows/columns at the bottom/right of the output, `[h, w]`.
    pub output_padding: [usize; 2],
}

impl Default for Conv2dParams {
    fn default() -> Self {
        Conv2dParams {
            stride: [1, 1],
            padding: [0; 4],
            dilation: [1, 1],
            groups: 1,
            output_padding: [0, 0],
        }
    }
}

impl Conv2dParams {
    /// Same stride in both directions.
    pub fn stride(mut self, s: usize) -> Self {
        self.stride = [s, s];
        self
    }
    /// Same padding on all four sides.
    pub fn pad(mut self, p: usize) -> Self {
        self.padding = [p; 4];
        self
    }
    /// Same dilation in both directions.
    pub fn dilation(mut self, d: usize) -> Self {
        self.dilation = [d, d];
        self
    }
    pub fn groups(mut self, g: usize) -> Self {
        self.groups = g;
        self
    }
    pub fn output_padding(mut self, op: usize) -> Self {
        self.output_padding = [op, op];
        self
    }
}

/// Parameters of `max_pool2d` (PyTorch's `MaxPool2d`). Padding counts as −∞.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pool2dParams {
    pub kernel: [usize; 2],
    /// PyTorch's default stride is the kernel size: use [`Pool2dParams::new`].
    pub stride: [usize; 2],
    /// Padding per side, `[top, left, bottom, right]`, each at most half the effective kernel
    /// `dilation·(kernel−1) + 1` (PyTorch's bound), so ONNX's asymmetric and SAME_UPPER /
    /// SAME_LOWER pooling are expressible.
    pub padding: [usize; 4],
    pub dilation: [usize; 2],
    /// Round the output size up instead of down (a window starting in the right padding is dropped).
    pub ceil_mode: bool,
}

impl Pool2dParams {
    /// A `kh × kw` pool with stride = kernel, no padding, no dilation, floor mode.
    pub fn new(kernel: [usize; 2]) -> Self {
        Pool2dParams {
            kernel,
            stride: kernel,
            padding: [0; 4],
            dilation: [1, 1],
            ceil_mode: false,
        }
    }

    /// Padding before and after along `axis` (0 = rows, 1 = columns).
    pub fn pads(&self, axis: usize) -> (usize, usize) {
        (self.padding[axis], self.padding[axis + 2])
    }

    /// The largest padding a side may have along `axis`: half the effective kernel
    /// `dilation·(kernel−1) + 1`, rounded down (PyTorch's `pool2d_shape_check`).
    pub fn max_pad(&self, axis: usize) -> usize {
        let (k, d) = (self.kernel[axis], self.dilation[axis]);
        k.saturating_sub(1).saturating_mul(d).saturating_add(1) / 2
    }

    /// The output size of `max_pool2d` over an `input = [h, w]` image, or an error naming the
    /// parameter that does not fit. The pool's sizes come from the same axis formula as the
    /// conv's ([`Conv2dParams::conv_output`]), rounded up in ceil mode.
    pub fn output(&self, input: [usize; 2]) -> Result<OutputTerms> {
        if self.kernel.contains(&0) {
            return Err(Error::param(
                "kernel_size",
                self.kernel,
                "must be at least 1",
            ));
        }
        if self.stride.contains(&0) {
            return Err(Error::param("stride", self.stride, "must be at least 1"));
        }
        if self.dilation.contains(&0) {
            return Err(Error::param(
                "dilation",
                self.dilation,
                "must be at least 1",
            ));
        }
        let max = [self.max_pad(0), self.max_pad(1)];
        let [pt, pl, pb, pr] = self.padding;
        if pt > max[0] || pb > max[0] || pl > max[1] || pr > max[1] {
            return Err(Error::param(
                "padding",
                self.padding,
                format!(
                    "each side must be at most half the effective kernel size dilation·(kernel−1)+1: [top, left, bottom, right] ≤ {:?} for kernel {:?}, dilation {:?}",
                    [max[0], max[1], max[0], max[1]],
                    self.kernel,
                    self.dilation
                ),
            ));
        }
        for (a, &n) in input.iter().enumerate() {
            check_window_overflow(
                n,
                self.kernel[a],
                self.pads(a),
                self.dilation[a],
                a,
                self.padding,
                self.dilation,
            )?;
        }
        let axis = |a: usize| {
            let (pad_begin, pad_end) = self.pads(a);
            window_axis(
                input[a],
                self.kernel[a],
                self.stride[a],
                (pad_begin, pad_end),
                self.dilation[a],
                self.ceil_mode,
            )
        };
        match (axis(0), axis(1)) {
            (Some(rows), Some(cols)) => Ok(OutputTerms { rows, cols }),
            _ => Err(Error::param(
                "kernel_size",
                self.kernel,
                format!(
                    "the kernel (dilation {:?}) is larger than the padded input ({}×{}, padding {:?})",
                    self.dilation, input[0], input[1], self.padding
                ),
            )),
        }
    }
}

/// The output-size formula along one axis with its numbers filled in, so a page can print it:
/// conv: `out = ⌊(input + pad_begin + pad_end − dilation·(kernel−1) − 1) / stride⌋ + 1`;
/// transposed: `out = stride·(input−1) + output_padding + dilation·(kernel−1) + 1 − pad_begin − pad_end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AxisTerms {
    pub input: usize,
    pub pad_begin: usize,
    pub pad_end: usize,
    pub dilation: usize,
    pub kernel: usize,
    pub stride: usize,
    pub output_padding: usize,
    /// conv: the numerator before the division; transposed: the uncropped extent.
    pub span: usize,
    pub output: usize,
}

/// Both axes of the output-size formula: rows, then columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OutputTerms {
    pub rows: AxisTerms,
    pub cols: AxisTerms,
}

impl OutputTerms {
    pub fn out(&self) -> [usize; 2] {
        [self.rows.output, self.cols.output]
    }
    pub fn axis(&self, axis: usize) -> &AxisTerms {
        if axis == 0 {
            &self.rows
        } else {
            &self.cols
        }
    }
}

impl Conv2dParams {
    /// Padding before and after along `axis` (0 = rows, 1 = columns).
    pub fn pads(&self, axis: usize) -> (usize, usize) {
        (self.padding[axis], self.padding[axis + 2])
    }

    /// Stride and dilation at least 1: what both directions need.
    pub fn check_steps(&self) -> Result<()> {
        if self.stride.contains(&0) {
            return Err(Error::param("stride", self.stride, "must be at least 1"));
        }
        if self.dilation.contains(&0) {
            return Err(Error::param(
                "dilation",
                self.dilation,
                "must be at least 1",
            ));
        }
        Ok(())
    }

    /// `conv2d`'s output size along `axis` for `input` cells and a `kernel`-tap window, or
    /// `None` when the dilated kernel is larger than the padded input (or a size overflows).
    pub fn conv_axis(&self, axis: usize, input: usize, kernel: usize) -> Option<AxisTerms> {
        window_axis(
            input,
            kernel,
            self.stride[axis],
            self.pads(axis),
            self.dilation[axis],
            false,
        )
    }

    /// `conv_transpose2d`'s output size along `axis`, or `None` when the padding crops
    /// everything (or a size overflows). `output_padding` is not checked here.
    pub fn transpose_axis(&self, axis: usize, input: usize, kernel: usize) -> Option<AxisTerms> {
        let (stride, dilation) = (self.stride[axis], self.dilation[axis]);
        let (pad_begin, pad_end) = self.pads(axis);
        let output_padding = self.output_padding[axis];
        if input == 0 || kernel == 0 {
            return None;
        }
        let span = stride
            .checked_mul(input - 1)?
            .checked_add(output_padding)?
            .checked_add(dilation.checked_mul(kernel - 1)?)?
            .checked_add(1)?;
        let output = span.checked_sub(pad_begin)?.checked_sub(pad_end)?;
        (output >= 1).then_some(AxisTerms {
            input,
            pad_begin,
            pad_end,
            dilation,
            kernel,
            stride,
            output_padding,
            span,
            output,
        })
    }

    /// The output size of `conv2d` over an `input = [h, w]` image with a `kernel = [kh, kw]`
    /// window, or an error naming the parameter that does not fit. This is the one place
    /// the conv's output size is decided: the kernels, the traces, the models and (through
    /// `Model.layers()` and the traces) the page all ask here.
    pub fn conv_output(&self, input: [usize; 2], kernel: [usize; 2]) -> Result<OutputTerms> {
        self.check_steps()?;
        if self.output_padding != [0, 0] {
            return Err(Error::param(
                "output_padding",
                self.output_padding,
                "only applies to conv_transpose2d; must be [0, 0] for conv2d",
            ));
        }
        for (a, (&n, &k)) in input.iter().zip(&kernel).enumerate() {
            check_window_overflow(
                n,
                k,
                self.pads(a),
                self.dilation[a],
                a,
                self.padding,
                self.dilation,
            )?;
        }
        match (
            self.conv_axis(0, input[0], kernel[0]),
            self.conv_axis(1, input[1], kernel[1]),
        ) {
            (Some(rows), Some(cols)) => Ok(OutputTerms { rows, cols }),
            _ => {
                let [h, w] = input;
                let [pt, pl, pb, pr] = self.padding;
                Err(Error::param(
                    "kernel_size",
                    kernel,
                    format!(
                        "the kernel (dilation {:?}) is larger than the padded input {}×{} (input {h}×{w}, padding {:?})",
                        self.dilation,
                        h.saturating_add(pt).saturating_add(pb),
                        w.saturating_add(pl).saturating_add(pr),
                        self.padding
                    ),
                ))
            }
        }
    }

    /// The output size of `conv_transpose2d` over an `input = [h, w]` image with a
    /// `kernel = [kh, kw]` kernel, or an error naming the parameter that does not fit.
    pub fn transpose_output(&self, input: [usize; 2], kernel: [usize; 2]) -> Result<OutputTerms> {
        self.check_steps()?;
        for i in 0..2 {
            if self.output_padding[i] >= self.stride[i].max(self.dilation[i]) {
                return Err(Error::param(
                    "output_padding",
                    self.output_padding,
                    format!(
                        "must be smaller than max(stride, dilation) = {:?} in each direction",
                        [
                            self.stride[0].max(self.dilation[0]),
                            self.stride[1].max(self.dilation[1])
                        ]
                    ),
                ));
            }
        }
        // An output size past usize is the stride's or the dilation's doing, not the padding's.
        for a in 0..2 {
            if self.dilation[a]
                .checked_mul(kernel[a].saturating_sub(1))
                .is_none()
            {
                return Err(Error::param(
                    "dilation",
                    self.dilation,
                    format!(
                        "makes the kernel's reach overflow: dilation·(kernel−1) along {} does not fit in a number (kernel {})",
                        ["rows", "columns"][a],
                        kernel[a]
                    ),
                ));
            }
            let span = self.stride[a]
                .checked_mul(input[a].saturating_sub(1))
                .and_then(|s| s.checked_add(self.output_padding[a]))
                .and_then(|s| {
                    s.checked_add(self.dilation[a].checked_mul(kernel[a].saturating_sub(1))?)
                })
                .and_then(|s| s.checked_add(1));
            if span.is_none() {
                return Err(Error::param(
                    "stride",
                    self.stride,
                    format!(
                        "with dilation {:?} makes the output size overflow: stride·(input−1) + dilation·(kernel−1) + 1 along {} does not fit in a number (input {}, kernel {})",
                        self.dilation,
                        ["rows", "columns"][a],
                        input[a],
                        kernel[a]
                    ),
                ));
            }
        }
        match (
            self.transpose_axis(0, input[0], kernel[0]),
            self.transpose_axis(1, input[1], kernel[1]),
        ) {
            (Some(rows), Some(cols)) => Ok(OutputTerms { rows, cols }),
            _ => Err(Error::param(
                "padding",
                self.padding,
                format!(
                    "leaves no output: a {}×{} input with kernel {kernel:?}, stride {:?}, dilation {:?}, output_padding {:?} gives an output smaller than 1×1",
                    input[0], input[1], self.stride, self.dilation, self.output_padding
                ),
            )),
        }
    }
}

/// An error naming the setting when the sliding window's sizes along `axis` overflow: the
/// padded input `input + pad_begin + pad_end` (the padding's doing) or the kernel's reach
/// `dilation·(kernel−1) + 1` (the dilation's). Checked before [`window_axis`], whose `None`
/// then only means that no window fits.
fn check_window_overflow(
    input: usize,
    kernel: usize,
    (pad_begin, pad_end): (usize, usize),
    dilation: usize,
    axis: usize,
    padding: [usize; 4],
    dilations: [usize; 2],
) -> Result<()> {
    let along = ["rows", "columns"][axis];
    if input
        .checked_add(pad_begin)
        .and_then(|s| s.checked_add(pad_end))
        .is_none()
    {
        return Err(Error::param(
            "padding",
            padding,
            format!(
                "makes the padded input overflow: input + padding before + padding after along {along} is past {} (input {input})",
                usize::MAX
            ),
        ));
    }
    if dilation
        .checked_mul(kernel.saturating_sub(1))
        .and_then(|r| r.checked_add(1))
        .is_none()
    {
        return Err(Error::param(
            "dilation",
            dilations,
            format!(
                "makes the kernel's reach overflow: dilation·(kernel−1) + 1 along {along} is past {} (kernel {kernel})",
                usize::MAX
            ),
        ));
    }
    Ok(())
}

/// The one output-size formula of a sliding window along one axis (conv and pool):
/// `out = ⌊(input + pad_begin + pad_end − dilation·(kernel−1) − 1) / stride⌋ + 1`, or with
/// `ceil` (the pool's ceil mode) rounded up, dropping a last window that would start inside
/// the end padding (PyTorch's `pooling_output_shape_pad_lr`). `None` when no window fits (or a
/// size overflows).
fn window_axis(
    input: usize,
    kernel: usize,
    stride: usize,
    (pad_begin, pad_end): (usize, usize),
    dilation: usize,
    ceil: bool,
) -> Option<AxisTerms> {
    if stride == 0 || kernel == 0 || dilation == 0 {
        return None;
    }
    let padded = input.checked_add(pad_begin)?.checked_add(pad_end)?;
    let reach = dilation.checked_mul(kernel - 1)?.checked_add(1)?;
    let span = padded.checked_sub(reach)?;
    let mut output = if ceil {
        span.div_ceil(stride) + 1
    } else {
        span / stride + 1
    };
    // (A product past usize is past the padded input too.)
    let start = input.checked_add(pad_begin)?;
    if ceil
        && (output - 1)
            .checked_mul(stride)
            .is_none_or(|last| last >= start)
    {
        output -= 1;
    }
    Some(AxisTerms {
        input,
        pad_begin,
        pad_end,
        dilation,
        kernel,
        stride,
        output_padding: 0,
        span,
        output,
    })
}

/// The windows of one channel group: an image of `channels × height × width`, a kernel, and
/// `out[0] × out[1]` window positions. The column matrix of `im2col` is `[K, P]`, row-major,
/// with `K = channels·kh·kw` (channel, then kernel row, then kernel column) and
/// `P = out[0]·out[1]` (window positions in raster order).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    /// Padding before the image: `[top, left]` (bottom/right padding only shows in `out`).
    pub pad: [usize; 2],
    pub dilation: [usize; 2],
    pub out: [usize; 2],
}

impl Window {
    /// K: rows of the column matrix.
    pub fn rows(&self) -> usize {
        self.channels * self.kernel[0] * self.kernel[1]
    }
    /// P: columns of the column matrix (window positions).
    pub fn cols(&self) -> usize {
        self.out[0] * self.out[1]
    }
    pub fn image_len(&self) -> usize {
        self.channels * self.height * self.width
    }
    pub fn col_len(&self) -> usize {
        self.rows() * self.cols()
    }

    /// A 1×1, stride-1, unpadded window: the column matrix *is* the image (a 1×1 conv is a
    /// dense layer over channels), so no im2col is needed.
    pub fn is_pointwise(&self) -> bool {
        self.kernel == [1, 1]
            && self.stride == [1, 1]
            && self.pad == [0, 0]
            && self.out == [self.height, self.width]
    }

    /// For kernel column `kx`: the window positions `ox` in `[lo, hi)` whose input column
    /// `ox·stride − pad + kx·dilation` lies inside the image, and that input column at `lo`.
    #[inline]
    fn valid_cols(&self, kx: usize) -> (usize, usize, usize) {
        let (s, w, ow) = (self.stride[1], self.width, self.out[1]);
        let off = kx * self.dilation[1]; // input column = ox·s + off − pad
        let pad = self.pad[1];
        // first ox with ox·s + off ≥ pad
        let lo = if off >= pad {
            0
        } else {
            (pad - off).div_ceil(s)
        };
        // first ox with ox·s + off − pad ≥ w, i.e. ox·s ≥ w + pad − off
        let hi = if w + pad <= off {
            0
        } else {
            (w + pad - off).div_ceil(s)
        };
        let lo = lo.min(ow);
        let hi = hi.min(ow).max(lo);
        if lo == hi {
            return (lo, hi, 0);
        }
        (lo, hi, lo * s + off - pad)
    }
}

/// Copies every window of `image` (`[channels, height, width]`) into the column matrix
/// `col` (`[K, P]`, see [`Window`]); taps that fall in the padding become 0. Every cell of
/// `col` is written.
pub fn im2col(win: &Window, image: &[f32], col: &mut [f32]) -> Result<()> {
    im2col_rows(win, image, 0..win.rows(), col)
}

/// Rows `taps` of [`im2col`]'s column matrix (taps `(c, ky, kx)` in its order) into `col`
/// (`[taps.len(), P]`, every cell written): the part a thread computes of a weight gradient
/// split over taps.
pub fn im2col_rows(
    win: &Window,
    image: &[f32],
    taps: std::ops::Range<usize>,
    col: &mut [f32],
) -> Result<()> {
    check_len("image", image.len(), win.image_len())?;
    if taps.start > taps.end || taps.end > win.rows() {
        return Err(Error::shape(format!(
            "im2col rows {taps:?} are not inside the window's {} taps",
            win.rows()
        )));
    }
    check_len("col", col.len(), taps.len() * win.cols())?;
    let [oh, ow] = win.out;
    let [kh, kw] = win.kernel;
    let (h, w) = (win.height, win.width);
    let p = oh * ow;
    for (t, row) in taps.zip(col.chunks_exact_mut(p.max(1))) {
        let (c, ky, kx) = (t / (kh * kw), t / kw % kh, t % kw);
        let plane = &image[c * h * w..(c + 1) * h * w];
        let (lo, hi, ix0) = win.valid_cols(kx);
        for oy in 0..oh {
            let dst = &mut row[oy * ow..(oy + 1) * ow];
            let iy = (oy * win.stride[0] + ky * win.dilation[0]).wrapping_sub(win.pad[0]);
            if iy >= h {
                dst.fill(0.0);
                continue;
            }
            dst[..lo].fill(0.0);
            dst[hi..].fill(0.0);
            let src = &plane[iy * w..(iy + 1) * w];
            let n = hi - lo;
            if win.stride[1] == 1 {
                dst[lo..hi].copy_from_slice(&src[ix0..ix0 + n]);
            } else {
                let s = win.stride[1];
                for (j, d) in dst[lo..hi].iter_mut().enumerate() {
                    *d = src[ix0 + j * s];
                }
            }
        }
    }
    Ok(())
}

/// The adjoint of [`im2col`]: adds every column-matrix cell back onto the image pixel it came
/// from (`+=` where windows overlap; padding taps are dropped). `image` is accumulated into,
/// not cleared.
pub fn col2im(win: &Window, col: &[f32], image: &mut [f32]) -> Result<()> {
    check_len("image", image.len(), win.image_len())?;
    check_len("col", col.len(), win.col_len())?;
    let [oh, ow] = win.out;
    let [kh, kw] = win.kernel;
    let (h, w) = (win.height, win.width);
    let p = oh * ow;
    let mut rows = col.chunks_exact(p.max(1));
    for c in 0..win.channels {
        let plane = &mut image[c * h * w..(c + 1) * h * w];
        for ky in 0..kh {
            for kx in 0..kw {
                let row = rows.next().expect("K rows");
                let (lo, hi, ix0) = win.valid_cols(kx);
                for oy in 0..oh {
                    let iy = (oy * win.stride[0] + ky * win.dilation[0]).wrapping_sub(win.pad[0]);
                    if iy >= h {
                        continue;
                    }
                    let src = &row[oy * ow + lo..oy * ow + hi];
                    let dst = &mut plane[iy * w..(iy + 1) * w];
                    if win.stride[1] == 1 {
                        for (d, s) in dst[ix0..ix0 + src.len()].iter_mut().zip(src) {
                            *d += s;
                        }
                    } else {
                        let s = win.stride[1];
                        for (j, v) in src.iter().enumerate() {
                            dst[ix0 + j * s] += v;
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// [`col2im`] from the *transposed* column matrix `colt` (`[P, K]`: one row per window, its K
/// taps in the kernel's order, channel then kernel row then kernel column). Each window's
/// stamp is added kernel row by kernel row: `kw` consecutive taps land on consecutive image
/// columns (dilation 1), so every kernel row of every stamp is one contiguous vector add
/// (clipped at the image's edges), whatever the stride. The strided scatter of [`col2im`]
/// (one float at a time when the stride is above 1) is what this replaces for the transposed
/// conv. `image` is accumulated into, not cleared.
pub fn col2im_rows(win: &Window, colt: &[f32], image: &mut [f32]) -> Result<()> {
    col2im_rows_channels(win, colt, 0..win.channels, image)
}

/// [`col2im_rows`] for the image channels `channels` only: `image` holds their planes. Each
/// pixel gets the same terms in the same order as in the whole scatter (a thread's part of it).
pub fn col2im_rows_channels(
    win: &Window,
    colt: &[f32],
    channels: std::ops::Range<usize>,
    image: &mut [f32],
) -> Result<()> {
    if channels.start > channels.end || channels.end > win.channels {
        return Err(Error::shape(format!(
            "col2im channels {channels:?} are not inside the window's {}",
            win.channels
        )));
    }
    let part = Window {
        channels: channels.len(),
        ..*win
    };
    check_len("image", image.len(), part.image_len())?;
    check_len("col", colt.len(), win.col_len())?;
    let [oh, ow] = win.out;
    let [kh, kw] = win.kernel;
    let (h, w) = (win.height, win.width);
    let (k, plane) = (win.rows(), h * w);
    let ([s0, s1], [d0, d1], [pt, pl]) = (win.stride, win.dilation, win.pad);
    if k == 0 {
        return Ok(());
    }
    for (q, stamp) in colt.chunks_exact(k).enumerate().take(oh * ow) {
        let (oy, ox) = (q / ow, q % ow);
        // kernel columns whose image column ox·s1 + kx·d1 − pl lies in 0..w
        let start = ox * s1;
        let lo = if start >= pl {
            0
        } else {
            (pl - start).div_ceil(d1)
        }
        .min(kw);
        let hi = (pl + w).saturating_sub(start).div_ceil(d1).min(kw).max(lo);
        if lo == hi {
            continue;
        }
        let x0 = start + lo * d1 - pl;
        for ky in 0..kh {
            let y = (oy * s0 + ky * d0).wrapping_sub(pt);
            if y >= h {
                continue;
            }
            for c in channels.clone() {
                let row = &mut image[(c - channels.start) * plane + y * w..][..w];
                let src = &stamp[(c * kh + ky) * kw..][lo..hi];
                if d1 == 1 {
                    add_assign(&mut row[x0..x0 + src.len()], src);
                } else {
                    for (j, v) in src.iter().enumerate() {
                        row[x0 + j * d1] += v;
                    }
                }
            }
        }
    }
    Ok(())
}

/// `dst[i] += src[i]`, four lanes at a time in wasm (the same additions, so the same bits, as
/// the scalar loop).
#[inline]
fn add_assign(dst: &mut [f32], src: &[f32]) {
    let n = dst.len().min(src.len());
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let n0 = {
        use core::arch::wasm32::*;
        let n4 = n / 4 * 4;
        for i in (0..n4).step_by(4) {
            // safety: i + 4 ≤ n ≤ both lengths; wasm loads and stores need no alignment.
            unsafe {
                let d = dst.as_mut_ptr().add(i) as *mut v128;
                let s = v128_load(src.as_ptr().add(i) as *const v128);
                v128_store(d, f32x4_add(v128_load(d), s));
            }
        }
        n4
    };
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    let n0 = 0;
    for (d, s) in dst[n0..n].iter_mut().zip(&src[n0..n]) {
        *d += s;
    }
}

fn check_len(what: &str, got: usize, want: usize) -> Result<()> {
    if got != want {
        return Err(Error::shape(format!(
            "{what} has {got} elements, expected {want}"
        )));
    }
    Ok(())
}

/// A validated convolution: batch, groups, total channels on each side, and the window of one
/// group. The weight is always `[small_channels, image_channels / groups, kh, kw]`: OIHW for
/// `conv2d` (image = input), `[C_in, C_out/groups, kh, kw]` for `conv_transpose2d`
/// (image = output).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvPlan {
    pub batch: usize,
    pub groups: usize,
    pub image_channels: usize,
    pub small_channels: usize,
    pub win: Window,
}

impl ConvPlan {
    pub fn image_shape(&self) -> [usize; 4] {
        [
            self.batch,
            self.image_channels,
            self.win.height,
            self.win.width,
        ]
    }
    pub fn small_shape(&self) -> [usize; 4] {
        [
            self.batch,
            self.small_channels,
            self.win.out[0],
            self.win.out[1],
        ]
    }
    pub fn weight_shape(&self) -> [usize; 4] {
        [
            self.small_channels,
            self.win.channels,
            self.win.kernel[0],
            self.win.kernel[1],
        ]
    }
    /// Small-side channels per group.
    pub fn small_per_group(&self) -> usize {
        self.small_channels / self.groups
    }

    /// Validates `conv2d(x: [N, C_in, H, W], w: [C_out, C_in/groups, kH, kW])`.
    pub fn conv2d(x: &[usize], w: &[usize], p: &Conv2dParams) -> Result<ConvPlan> {
        let [n, c_in, h, wd] = dims4("input", x)?;
        let [c_out, cpg, kh, kw] = dims4("weight", w)?;
        let [oh, ow] = p.conv_output([h, wd], [kh, kw])?.out();
        check_groups(p.groups, c_in, "input", c_out, "output")?;
        if cpg != c_in / p.groups {
            return Err(Error::param(
                "weight",
                w,
                format!(
                    "expected [C_out, C_in/groups = {}, kH, kW] for an input with {c_in} channels and groups = {}",
                    c_in / p.groups,
                    p.groups
                ),
            ));
        }
        let [pt, pl] = [p.padding[0], p.padding[1]];
        let plan = ConvPlan {
            batch: n,
            groups: p.groups,
            image_channels: c_in,
            small_channels: c_out,
            win: Window {
                channels: cpg,
                height: h,
                width: wd,
                kernel: [kh, kw],
                stride: p.stride,
                pad: [pt, pl],
                dilation: p.dilation,
                out: [oh, ow],
            },
        };
        plan.check_sizes()?;
        Ok(plan)
    }

    /// Validates `conv_transpose2d(x: [N, C_in, H, W], w: [C_in, C_out/groups, kH, kW])`.
    pub fn conv_transpose2d(x: &[usize], w: &[usize], p: &Conv2dParams) -> Result<ConvPlan> {
        let [n, c_in, h, wd] = dims4("input", x)?;
        let [wc_in, opg, kh, kw] = dims4("weight", w)?;
        let [oh, ow] = p.transpose_output([h, wd], [kh, kw])?.out();
        if p.groups == 0 {
            return Err(Error::param("groups", 0, "must be at least 1"));
        }
        if !c_in.is_multiple_of(p.groups) {
            return Err(Error::param(
                "groups",
                p.groups,
                format!("must divide the input channels ({c_in})"),
            ));
        }
        if wc_in != c_in {
            return Err(Error::param(
                "weight",
                w,
                format!("expected [C_in = {c_in}, C_out/groups, kH, kW]"),
            ));
        }
        let c_out = opg.checked_mul(p.groups).ok_or_else(|| {
            Error::param(
                "weight",
                w,
                "output channels overflow (C_out/groups × groups)",
            )
        })?;
        let [pt, pl] = [p.padding[0], p.padding[1]];
        let plan = ConvPlan {
            batch: n,
            groups: p.groups,
            image_channels: c_out,
            small_channels: c_in,
            win: Window {
                channels: opg,
                height: oh,
                width: ow,
                kernel: [kh, kw],
                stride: p.stride,
                pad: [pt, pl],
                dilation: p.dilation,
                out: [h, wd],
            },
        };
        plan.check_sizes()?;
        Ok(plan)
    }

    /// Every buffer the plan needs must be a sane size (so wasm never aborts on allocation).
    fn check_sizes(&self) -> Result<()> {
        checked_numel(&self.image_shape())?;
        checked_numel(&self.small_shape())?;
        checked_numel(&self.weight_shape())?;
        let col = self.win.rows().checked_mul(self.win.cols());
        match col {
            Some(c) if c <= MAX_ELEMENTS => Ok(()),
            _ => Err(Error::shape(format!(
                "the im2col buffer ({} × {} per group) would exceed {MAX_ELEMENTS} elements",
                self.win.rows(),
                self.win.cols()
            ))),
        }
    }
}

fn dims4(what: &str, s: &[usize]) -> Result<[usize; 4]> {
    match *s {
        [a, b, c, d] => {
            checked_numel(s)?;
            Ok([a, b, c, d])
        }
        _ => Err(Error::shape(format!(
            "{what} must have 4 dimensions (NCHW), got shape {s:?}"
        ))),
    }
}

fn check_groups(groups: usize, a: usize, a_name: &str, b: usize, b_name: &str) -> Result<()> {
    if groups == 0 {
        return Err(Error::param("groups", 0, "must be at least 1"));
    }
    if !a.is_multiple_of(groups) {
        return Err(Error::param(
            "groups",
            groups,
            format!("must divide the {a_name} channels ({a})"),
        ));
    }
    if !b.is_multiple_of(groups) {
        return Err(Error::param(
            "groups",
            groups,
            format!("must divide the {b_name} channels ({b})"),
        ));
    }
    Ok(())
}
