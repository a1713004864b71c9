//! Single-image inference without allocation: a conv layer whose geometry is validated once,
//! whose weights are packed once for the GEMM (`PackedB`), and whose im2col scratch is kept between calls. The model's
//! forward pass (one digit at a time) calls [`PreparedConv2d::forward_into`] per layer.
//! [`PreparedConvTranspose2d`] does the same for the transposed conv.

use super::engine::{self, Path};
use super::geometry::{Conv2dParams, ConvPlan};
use super::{direct, implicit, phases};
use crate::error::{Error, Result};
use crate::gemm::{selected_kernel, PackedB};
use crate::tensor::Tensor;

/// A `conv2d` layer prepared for one input size `[C_in, H, W]` (batch 1).
#[derive(Debug, Clone)]
pub struct PreparedConv2d {
    plan: ConvPlan,
    /// One packed `W_gᵀ` (`K × C_out/groups`) per group, packed once at construction.
    packed: Vec<PackedB>,
    /// The raw weights, for the direct path (few taps: no im2col, no GEMM).
    weight: Vec<f32>,
    /// Per group, the weights and bias laid out for the direct path's SIMD pixel tiles
    /// ([`direct::pack_weights`]), made once.
    direct_packed: Vec<f32>,
    bias: Option<Vec<f32>>,
    /// Scratch of the path in force (grown once if a forced micro-kernel picks another path).
    col: Vec<f32>,
    /// The implicit GEMM's offset tables (made once, when that path first runs).
    offsets: Option<implicit::Offsets>,
}

impl PreparedConv2d {
    /// Validates `w` (`[C_out, C_in/groups, kH, kW]`), `bias` (`[C_out]`) and `p` for an input of
    /// `input_chw = [C_in, H, W]`.
    pub fn new(
        w: &Tensor,
        bias: Option<&Tensor>,
        p: &Conv2dParams,
        input_chw: [usize; 3],
    ) -> Result<Self> {
        let [c, h, wd] = input_chw;
        let plan = ConvPlan::conv2d(&[1, c, h, wd], w.shape(), p)?;
        let bias = super::check_bias(bias, plan.small_channels)?.map(<[f32]>::to_vec);
        let (k, opg) = (plan.win.rows(), plan.small_per_group());
        let packed = (0..plan.groups)
            .map(|g| {
                PackedB::new(
                    k,
                    opg,
                    &w.data()[g * opg * k..(g + 1) * opg * k],
                    1,
                    k as isize,
                )
            })
            .collect::<Result<Vec<_>>>()?;
        // Only windows the direct path's SIMD tiles can take need this copy.
        let direct_window = direct::scratch_len(crate::gemm::KernelKind::Relaxed, &plan.win);
        let per_group = match direct_window.is_some() {
            true => {
                direct::packed_len(k, opg).ok_or_else(|| Error::shape("conv weights too large"))?
            }
            false => 0,
        };
        let mut direct_packed = vec![0.0; per_group * plan.groups];
        for (g, dst) in direct_packed.chunks_exact_mut(per_group.max(1)).enumerate() {
            let b = bias.as_deref().map(|b| &b[g * opg..(g + 1) * opg]);
            direct::pack_weights(k, opg, &w.data()[g * opg * k..(g + 1) * opg * k], b, dst);
        }
        Ok(PreparedConv2d {
            plan,
            packed,
            direct_packed,
            weight: w.data().to_vec(),
            bias,
            col: engine::forward_scratch(&plan),
            offsets: None,
        })
    }

    /// Input length `C_in·H·W`.
    pub fn input_len(&self) -> usize {
        self.plan.win.image_len() * self.plan.groups
    }

    /// Output shape `[C_out, H_out, W_out]`.
    pub fn output_chw(&self) -> [usize; 3] {
        let [_, c, h, w] = self.plan.small_shape();
        [c, h, w]
    }

    pub fn output_len(&self) -> usize {
        self.output_chw().iter().product()
    }

    pub fn plan(&self) -> &ConvPlan {
        &self.plan
    }

    /// `out = conv2d(x) + bias` for one image; no allocation. Every cell of `out` is written.
    pub fn forward_into(&mut self, x: &[f32], out: &mut [f32]) -> Result<()> {
        if x.len() != self.input_len() {
            return Err(Error::shape(format!(
                "input has {} elements, the layer expects {}",
                x.len(),
                self.input_len()
            )));
        }
        if out.len() != self.output_len() {
            return Err(Error::shape(format!(
                "output has {} elements, the layer produces {}",
                out.len(),
                self.output_len()
            )));
        }
        let plan = &self.plan;
        let win = &plan.win;
        let (p, opg, img_g) = (win.cols(), plan.small_per_group(), win.image_len());
        // The micro-kernel in force picks the path (it may differ from the one at `new`).
        let kind = selected_kernel();
        let path = engine::path(kind, win, opg);
        let need = engine::path_scratch(path, kind, win);
        if self.col.len() < need {
            self.col.resize(need, 0.0);
        }
        if path == Path::Implicit && self.offsets.is_none() {
            self.offsets = Some(implicit::Offsets::new(win));
        }
        let k = win.rows();
        let per_group = self.direct_packed.len() / plan.groups;
        // On threads the direct path splits each group's output rows or channels (the GEMM
        // paths split inside the GEMM): every value as on one thread.
        let tasks = crate::threadpool::tasks_for(opg.saturating_mul(p).saturating_mul(k));
        for (g, wg) in self.packed.iter().enumerate() {
            let img = &x[g * img_g..(g + 1) * img_g];
            let c = &mut out[g * opg * p..(g + 1) * opg * p];
            let w_g = engine::GroupWeights {
                raw: &self.weight[g * opg * k..(g + 1) * opg * k],
                packed: Some(wg),
                direct: (per_group > 0)
                    .then(|| &self.direct_packed[g * per_group..(g + 1) * per_group]),
                bias: self.bias.as_deref().map(|b| &b[g * opg..(g + 1) * opg]),
            };
            engine::forward_group_split(
                kind,
                win,
                opg,
                path,
                self.offsets.as_ref(),
                img,
                w_g,
                c,
                &mut self.col,
                tasks,
            )?;
        }
        // The direct path added the bias in its accumulators.
        if let (Some(b), false) = (&self.bias, path == Path::Direct) {
            engine::add_channel_bias(out, p, b);
        }
        Ok(())
    }
}

/// A `conv_transpose2d` layer prepared for one input size `[C_in, H, W]` (batch 1): geometry
/// validated once, each group's weights `W_g` (`[C_in/groups, K]`, `K = C_out/groups·kH·kW`)
/// packed once as the GEMM's B, the column scratch kept. One call is one GEMM per group,
/// `Cᵀ[P, K] = Xᵀ[P, C_in/groups] · W_g`, and a [`col2im_rows`](super::geometry::col2im_rows) that adds each window's stamp
/// kernel row by kernel row (whole vectors) onto an output already holding the bias.
#[derive(Debug, Clone)]
pub struct PreparedConvTranspose2d {
    plan: ConvPlan,
    /// One packed `W_g` (`C_in/groups × K`) per group.
    packed: Vec<PackedB>,
    bias: Option<Vec<f32>>,
    col: Vec<f32>,
    /// The phase-by-phase path when it takes this window (strided, dilation 1): its plan and
    /// every group's weights and bias laid out for it, made once ([`phases::Phases::pack`]).
    #[cfg_attr(
        not(all(target_arch = "wasm32", target_feature = "simd128")),
        allow(dead_code)
    )]
    phases: Option<(phases::Phases, Vec<f32>)>,
}

impl PreparedConvTranspose2d {
    /// Validates `w` (`[C_in, C_out/groups, kH, kW]`), `bias` (`[C_out]`) and `p` for an input
    /// of `input_chw = [C_in, H, W]`.
    pub fn new(
        w: &Tensor,
        bias: Option<&Tensor>,
        p: &Conv2dParams,
        input_chw: [usize; 3],
    ) -> Result<Self> {
        let [c, h, wd] = input_chw;
        let plan = ConvPlan::conv_transpose2d(&[1, c, h, wd], w.shape(), p)?;
        let bias = super::check_bias(bias, plan.image_channels)?.map(<[f32]>::to_vec);
        let (k, cpg) = (plan.win.rows(), plan.small_per_group());
        let packed = (0..plan.groups)
            .map(|g| {
                PackedB::new(
                    cpg,
                    k,
                    &w.data()[g * cpg * k..(g + 1) * cpg * k],
                    k as isize,
                    1,
                )
            })
            .collect::<Result<Vec<_>>>()?;
        let phases =
            engine::phases_path(crate::gemm::KernelKind::Relaxed, &plan.win, cpg).map(|ph| {
                let (win, per_group) = (&plan.win, ph.packed_len(plan.win.channels));
                let mut packed = vec![0.0; per_group * plan.groups];
                for (g, dst) in packed.chunks_exact_mut(per_group.max(1)).enumerate() {
                    let wg = &w.data()[g * cpg * k..(g + 1) * cpg * k];
                    let bg = bias
                        .as_deref()
                        .map(|b| &b[g * win.channels..(g + 1) * win.channels]);
                    ph.pack(win, wg, bg, dst);
                }
                (ph, packed)
            });
        let col_len = match &phases {
            Some((ph, _)) => plan.win.col_len().max(ph.padded_len()),
            None => plan.win.col_len(),
        };
        Ok(PreparedConvTranspose2d {
            plan,
            packed,
            bias,
            col: vec![0.0; col_len],
            phases,
        })
    }

    /// Input length `C_in·H·W`.
    pub fn input_len(&self) -> usize {
        self.plan.small_shape().iter().product()
    }

    /// Output shape `[C_out, H_out, W_out]`.
    pub fn output_chw(&self) -> [usize; 3] {
        let [_, c, h, w] = self.plan.image_shape();
        [c, h, w]
    }

    pub fn output_len(&self) -> usize {
        self.output_chw().iter().product()
    }

    pub fn plan(&self) -> &ConvPlan {
        &self.plan
    }

    /// `out = conv_transpose2d(x) + bias` for one image; no allocation. Every cell of `out`
    /// is written.
    pub fn forward_into(&mut self, x: &[f32], out: &mut [f32]) -> Result<()> {
        if x.len() != self.input_len() {
            return Err(Error::shape(format!(
                "input has {} elements, the layer expects {}",
                x.len(),
                self.input_len()
            )));
        }
        if out.len() != self.output_len() {
            return Err(Error::shape(format!(
                "output has {} elements, the layer produces {}",
                out.len(),
                self.output_len()
            )));
        }
        let win = &self.plan.win;
        let (p, img_g) = (win.cols(), win.image_len());
        let cpg = self.plan.small_per_group();
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        // The phases were planned at `new` for this window; the kind in force may differ.
        if let (Some((ph, packed)), true) = (&self.phases, engine::is_simd(selected_kernel())) {
            let per_group = packed.len() / self.plan.groups;
            let padded = &mut self.col[..ph.padded_len()];
            // On threads each group's image rows in bands (or its image channels in runs of
            // whole panels).
            let work = cpg.saturating_mul(p).saturating_mul(win.rows());
            let tasks = crate::threadpool::tasks_for(work);
            let split = engine::phases_pair_split(win, work, tasks);
            for g in 0..self.plan.groups {
                let sm = &x[g * cpg * p..(g + 1) * cpg * p];
                let img = &mut out[g * img_g..(g + 1) * img_g];
                let pk = &packed[g * per_group..(g + 1) * per_group];
                match split {
                    None => ph.group(win, sm, padded, pk, img)?,
                    Some(split) => {
                        ph.pad(win, sm, padded);
                        engine::phases_split(ph, win, padded, pk, split, img)?;
                    }
                }
            }
            return Ok(());
        }
        // On threads the GEMM splits itself, then the scatter its image channels.
        let tasks = crate::threadpool::tasks_for(cpg.saturating_mul(p).saturating_mul(win.rows()));
        for (g, wg) in self.packed.iter().enumerate() {
            let sm = &x[g * cpg * p..(g + 1) * cpg * p];
            let img = &mut out[g * img_g..(g + 1) * img_g];
            let bg = self
                .bias
                .as_deref()
                .map(|b| &b[g * win.channels..(g + 1) * win.channels]);
            engine::transpose_group(
                win,
                cpg,
                sm,
                engine::GroupB::Packed(wg),
                bg,
                img,
                &mut self.col,
                tasks,
            )?;
        }
        Ok(())
    }
}
