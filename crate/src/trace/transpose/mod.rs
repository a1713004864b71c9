//! The transposed convolution, input cell by input cell, split by idea:
//! - [`stamps`]: each input value stamps the kernel, scaled by itself, into the output
//!   (col2im), and the stamps add up where they overlap, so an output cell covered by more
//!   stamps than its neighbours stands out (the checkerboard when the kernel size is not a
//!   multiple of the stride);
//! - [`zero_insertion`]: the equivalent view: insert `stride − 1` zeros between input pixels,
//!   pad by `dilation·(k−1) − padding`, and correlate with the flipped kernel;
//! - [`mod@adjoint`]: ⟨K f, g⟩ = ⟨f, Kᵀ g⟩, the transposed convolution as the conv's adjoint;
//! - [`mod@round_trip`]: Conv2d(stride n) → ConvTranspose2d, back to the input's size;
//! - [`mod@checkerboard`]: two stacked stride-n transposed convs, where the uneven overlap
//!   compounds, beside nearest-neighbour upsampling then a conv (Distill's fix).

pub mod adjoint;
pub mod checkerboard;
pub mod round_trip;
pub mod stamps;
pub mod zero_insertion;

pub use adjoint::{adjoint, Adjoint};
pub use checkerboard::{checkerboard, Checkerboard};
pub use round_trip::{round_trip, RoundTrip};
pub use stamps::{conv_transpose, stamps_only, trace, TransTrace};
pub use zero_insertion::Equivalent;

use crate::conv::geometry::Conv2dParams;

/// Largest input side of the stepped transposed convolution (every stamp is drawn).
pub const MAX_INPUT: usize = 32;

/// The nearest valid geometry: output_padding lowered below max(stride, dilation), padding
/// lowered until something of the output is left.
pub(crate) fn settle([h, w]: [usize; 2], [kh, kw]: [usize; 2], g: &Conv2dParams) -> Conv2dParams {
    let mut g = *g;
    for axis in 0..2 {
        let limit = g.stride[axis].max(g.dilation[axis]) - 1;
        g.output_padding[axis] = g.output_padding[axis].min(limit);
        let (input, k) = if axis == 0 { (h, kh) } else { (w, kw) };
        let span = g.stride[axis] * (input.max(1) - 1)
            + g.output_padding[axis]
            + g.dilation[axis] * (k.max(1) - 1)
            + 1;
        while g.padding[axis] + g.padding[axis + 2] >= span {
            if g.padding[axis + 2] > 0 {
                g.padding[axis + 2] -= 1;
            } else {
                g.padding[axis] -= 1;
            }
        }
    }
    g
}

#[cfg(test)]
mod tests;
