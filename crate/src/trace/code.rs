//! The PyTorch line: the `torch.nn.functional` / `torch.nn` code that computes what a scene
//! shows, written from the same settings the traces and the kernels run with, and checked by
//! the same rules ([`check`]), so a setting the page cannot compute has no line either.
//!
//! The names are PyTorch's: `x` the input `(1, 1, H, W)`, `w` the kernel `(1, 1, kH, kW)`, `y`
//! the output; `F` is `torch.nn.functional`, `nn` is `torch.nn`. Where PyTorch has no argument
//! for a setting the scene has, the line spells it out:
//! - asymmetric padding of a conv: `x = F.pad(x, (left, right, top, bottom))` first (F.pad
//!   names the last dimension first), then `F.conv2d` without padding;
//! - asymmetric padding of a transposed conv (`F.conv_transpose2d` takes one padding per axis,
//!   cropped from both ends): `padding=0`, then the crop `y = y[..., top:H−bottom, left:W−right]`
//!   with the numbers filled in;
//! - the flip of a true convolution: `w = torch.flip(w, dims=(-2, -1))` (`F.conv2d` is a
//!   cross-correlation; the flip is exactly what a convolution adds);
//! - normalised cross-correlation (PyTorch has no call for it): three `F.conv2d`s (the centred
//!   kernel, then Σx and Σx² over each window with a kernel of ones) and the quotient, 0 where
//!   a window or the kernel is flat, as the trace defines it.
//!
//! Arguments at PyTorch's default (stride 1, padding 0, dilation 1, output padding 0) are left
//! out; a pair with both numbers equal is written once (`stride=2`).

use serde::Serialize;

use super::correlate::Mode;
use super::transpose::checkerboard::{self, resize_geometry, transposed_geometry};
use super::{check, dense, Op};
use crate::conv::geometry::{Conv2dParams, Pool2dParams};
use crate::error::{Error, Result};
use crate::nn::trainer::{OptimizerKind, Settings};
use crate::nn::{Layer, Model};

/// Lines of Python, and the same joined by newlines (what a "Copy" button copies).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Code {
    pub lines: Vec<String>,
    pub text: String,
}

impl Code {
    fn new(lines: Vec<String>) -> Code {
        let text = lines.join("\n");
        Code { lines, text }
    }
}

/// `a` when both numbers are equal, else `(a, b)`.
fn pair([a, b]: [usize; 2]) -> String {
    if a == b {
        a.to_string()
    } else {
        format!("({a}, {b})")
    }
}

/// `, name=value` unless the pair is `default` on both axes.
fn kw(name: &str, v: [usize; 2], default: usize) -> String {
    if v == [default, default] {
        String::new()
    } else {
        format!(", {name}={}", pair(v))
    }
}

/// Whether the padding is the same at both ends of each axis (what PyTorch's `padding=` takes).
fn symmetric(g: &Conv2dParams) -> bool {
    g.padding[0] == g.padding[2] && g.padding[1] == g.padding[3]
}

/// `F.pad`'s order: the last dimension first, `(left, right, top, bottom)`.
fn pad_tuple(p: [usize; 4]) -> String {
    let [t, l, b, r] = p;
    format!("({l}, {r}, {t}, {b})")
}

/// The lines of one `F.conv2d` of `src` into `dst` (an `F.pad` first when the padding is
/// asymmetric, and the flip of `w` first with `flip`).
fn conv2d_lines(dst: &str, src: &str, g: &Conv2dParams, flip: bool) -> Vec<String> {
    let mut lines = Vec::new();
    if flip {
        lines.push("w = torch.flip(w, dims=(-2, -1))  # turned 180°: a true convolution".into());
    }
    let mut src = src.to_string();
    let padding = if symmetric(g) {
        kw("padding", [g.padding[0], g.padding[1]], 0)
    } else {
        lines.push(format!("{dst} = F.pad({src}, {})", pad_tuple(g.padding)));
        src = dst.to_string();
        String::new()
    };
    lines.push(format!(
        "{dst} = F.conv2d({src}, w{}{padding}{})",
        kw("stride", g.stride, 1),
        kw("dilation", g.dilation, 1)
    ));
    lines
}

/// The lines of one `F.conv_transpose2d` of an `input = [h, w]` image `src` into `dst`; an
/// asymmetric padding becomes `padding=0` and a crop of the uncropped output.
fn transpose_lines(
    dst: &str,
    src: &str,
    input: [usize; 2],
    kernel: [usize; 2],
    g: &Conv2dParams,
) -> Result<Vec<String>> {
    let args = |padding: String| {
        format!(
            "{dst} = F.conv_transpose2d({src}, w{}{padding}{}{})",
            kw("stride", g.stride, 1),
            kw("output_padding", g.output_padding, 0),
            kw("dilation", g.dilation, 1)
        )
    };
    if symmetric(g) {
        return Ok(vec![args(kw("padding", [g.padding[0], g.padding[1]], 0))]);
    }
    // The uncropped output: what PyTorch gives with padding=0 (output_padding included).
    let full = Conv2dParams {
        padding: [0; 4],
        ..*g
    }
    .transpose_output(input, kernel)?
    .out();
    let t = g.transpose_output(input, kernel)?;
    let [pt, pl, pb, pr] = g.padding;
    let (h_end, w_end) = (pt + t.rows.output, pl + t.cols.output);
    debug_assert_eq!((h_end + pb, w_end + pr), (full[0], full[1]));
    Ok(vec![
        args(String::new()),
        format!(
            "{dst} = {dst}[..., {pt}:{h_end}, {pl}:{w_end}]  # crop {pt} top, {pb} bottom, {pl} left, {pr} right of {}×{}",
            full[0], full[1]
        ),
    ])
}

/// The sliding correlation (`traceCorrelate`'s setting): `F.conv2d`, with `F.pad` first for an
/// asymmetric padding and `torch.flip` first for a true convolution.
pub fn correlate(
    size: [usize; 2],
    kernel: [usize; 2],
    g: &Conv2dParams,
    flip: bool,
) -> Result<Code> {
    let mode = Mode {
        flip,
        normalized: false,
    };
    correlate_with(size, kernel, g, mode)
}

/// [`correlate`] for every [`Mode`]: with `normalized`, the normalised cross-correlation.
pub fn correlate_with(
    size: [usize; 2],
    kernel: [usize; 2],
    g: &Conv2dParams,
    mode: Mode,
) -> Result<Code> {
    check(Op::Correlate, size, kernel, g)?;
    if !mode.normalized {
        return Ok(Code::new(conv2d_lines("y", "x", g, mode.flip)));
    }
    let mut lines = Vec::new();
    if mode.flip {
        lines.push("w = torch.flip(w, dims=(-2, -1))  # turned 180°: a true convolution".into());
    }
    let padding = if symmetric(g) {
        kw("padding", [g.padding[0], g.padding[1]], 0)
    } else {
        lines.push(format!(
            "x = F.pad(x, {})  # the padded zeros count, as in the plain correlation",
            pad_tuple(g.padding)
        ));
        String::new()
    };
    let args = format!(
        "{}{padding}{}",
        kw("stride", g.stride, 1),
        kw("dilation", g.dilation, 1)
    );
    // n·Σx² − (Σx)² = n·‖x − x̄‖², computed without the rounding of a division.
    lines.extend([
        "n = w.numel()".to_string(),
        "kc = w - w.mean()  # the kernel centred: k − k̄".into(),
        format!("num = F.conv2d(x, kc{args})  # Σ (x − x̄)(k − k̄) = Σ x·(k − k̄) per window"),
        "ones = torch.ones_like(w)".into(),
        format!("s1 = F.conv2d(x, ones{args})  # Σ x per window"),
        format!("s2 = F.conv2d(x * x, ones{args})  # Σ x² per window"),
        "den = (n * s2 - s1 * s1).clamp(min=0).sqrt() * kc.norm()  # √n·‖x − x̄‖·‖k − k̄‖".into(),
        "y = torch.where(den > 0, num * n ** 0.5 / den, torch.zeros_like(num))  # NCC; 0 where a window or the kernel is flat".into(),
    ]);
    Ok(Code::new(lines))
}

/// The stepped transposed convolution (`traceTranspose`'s setting): `F.conv_transpose2d`, with
/// a crop for an asymmetric padding.
pub fn transpose(size: [usize; 2], kernel: [usize; 2], g: &Conv2dParams) -> Result<Code> {
    check(Op::Transpose, size, kernel, g)?;
    Ok(Code::new(transpose_lines("y", "x", size, kernel, g)?))
}

/// The checkerboard section (`traceCheckerboard`'s setting): two stacked stride-`s`
/// transposed convs into `y`, and nearest-neighbour upsampling then a stride-1 conv, twice,
/// into `z`, each stage with the geometry the trace runs.
pub fn checkerboard(size: [usize; 2], kernel: [usize; 2], stride: [usize; 2]) -> Result<Code> {
    checkerboard::check_setting(size, kernel, stride)?;
    let tg = transposed_geometry(kernel, stride);
    let rg = resize_geometry(kernel);
    let mut lines = vec![format!(
        "# {} stride-{} transposed convs (output × {} each)",
        checkerboard::STAGES,
        pair(stride),
        pair(stride)
    )];
    let mut input = size;
    for stage in 0..checkerboard::STAGES {
        let src = if stage == 0 { "x" } else { "y" };
        lines.extend(transpose_lines("y", src, input, kernel, &tg)?);
        input = [input[0] * stride[0], input[1] * stride[1]];
    }
    lines.push("# nearest-neighbour upsampling, then a stride-1 conv".into());
    for stage in 0..checkerboard::STAGES {
        let src = if stage == 0 { "x" } else { "z" };
        lines.push(format!(
            "z = F.interpolate({src}, scale_factor={}, mode='nearest')",
            pair(stride)
        ));
        lines.extend(conv2d_lines("z", "z", &rg, false));
    }
    Ok(Code::new(lines))
}

/// The dense scene's two days (`len` hours, `channels` one-hot activities, `a` and `b` of
/// shape `(1, channels, len)`): their cross-correlation at every shift as a 1-D conv, the value
/// at `shift`, and the dense layer's value, F(0).
pub fn schedules(len: usize, channels: usize, shift: i64) -> Result<Code> {
    if len == 0 || len > dense::MAX_LEN {
        return Err(Error::param(
            "length",
            len,
            format!("must be 1 to {}", dense::MAX_LEN),
        ));
    }
    if channels == 0 || channels > dense::MAX_CHANNELS {
        return Err(Error::param(
            "channels",
            channels,
            format!("must be 1 to {}", dense::MAX_CHANNELS),
        ));
    }
    let n = len as i64 - 1;
    if shift < -n || shift > n {
        return Err(Error::param(
            "shift",
            shift,
            format!("must be from −{n} to {n} for {len} hours"),
        ));
    }
    Ok(Code::new(vec![
        format!("corr = F.conv1d(b, a, padding={n})  # a, b: (1, {channels}, {len}); corr[..., {n} + t] = F(t)"),
        format!("corr[0, 0, {}]  # F({shift}), shift t = {shift}", n + shift),
        format!("F.linear(a.flatten(1), b.flatten(1))  # the dense layer: F(0) = corr[0, 0, {n}]"),
    ]))
}

/// The 1×1 conv of the dense scene (`traceOneByOne`'s options): `w` is `(channels_out,
/// channels_in)`, `x` is `(1, channels_in, h, w)`.
pub fn one_by_one(c_in: usize, c_out: usize, [h, w]: [usize; 2]) -> Result<Code> {
    dense::one_by_one(c_in, c_out, h, w, 0)?;
    Ok(Code::new(vec![
        format!("y = F.conv2d(x, w.view({c_out}, {c_in}, 1, 1))  # x: (1, {c_in}, {h}, {w})"),
        "y = F.linear(x.movedim(1, -1), w).movedim(-1, 1)  # the same: a dense layer per pixel"
            .into(),
    ]))
}

/// The two layers the dense scene counts the parameters of (`traceParamCounts`' options).
pub fn param_counts(
    [h, w]: [usize; 2],
    c_in: usize,
    c_out: usize,
    k: usize,
    hidden: usize,
) -> Result<Code> {
    let p = dense::param_counts(
        h as u64,
        w as u64,
        c_in as u64,
        c_out as u64,
        k as u64,
        hidden as u64,
    )?;
    let conv = conv_ctor(c_in, c_out, [k, k], &Conv2dParams::default());
    Ok(Code::new(vec![
        format!(
            "nn.Linear({}, {hidden})  # {h}×{w}×{c_in} inputs: {} parameters",
            p.inputs, p.dense_hidden
        ),
        format!("{conv}  # {} parameters", p.conv),
    ]))
}

/// A conv layer's constructor: `c_in → c_out` channels, a `kh × kw` kernel, the geometry `g`
/// (an asymmetric padding as an `nn.ZeroPad2d` first).
fn conv_ctor(c_in: usize, c_out: usize, kernel: [usize; 2], g: &Conv2dParams) -> String {
    let padding = if symmetric(g) {
        kw("padding", [g.padding[0], g.padding[1]], 0)
    } else {
        String::new()
    };
    let groups = if g.groups == 1 {
        String::new()
    } else {
        format!(", groups={}", g.groups)
    };
    let conv = format!(
        "nn.Conv2d({c_in}, {c_out}, kernel_size={}{}{padding}{}{groups})",
        pair(kernel),
        kw("stride", g.stride, 1),
        kw("dilation", g.dilation, 1),
    );
    if symmetric(g) {
        conv
    } else {
        format!(
            "nn.Sequential(nn.ZeroPad2d({}), {conv})",
            pad_tuple(g.padding)
        )
    }
}

/// A max pool's constructor: `nn.MaxPool2d(2)` for PyTorch's defaults, else every argument
/// that differs (an asymmetric padding, −∞ in PyTorch's pool, as an `nn.ConstantPad2d` first).
fn pool(p: &Pool2dParams) -> String {
    let k = pair(p.kernel);
    if p.stride == p.kernel && p.padding == [0; 4] && p.dilation == [1, 1] && !p.ceil_mode {
        return format!("nn.MaxPool2d({k})");
    }
    let sym = p.padding[0] == p.padding[2] && p.padding[1] == p.padding[3];
    let mut s = format!("nn.MaxPool2d(kernel_size={k}");
    if p.stride != p.kernel {
        s += &format!(", stride={}", pair(p.stride));
    }
    if sym {
        s += &kw("padding", [p.padding[0], p.padding[1]], 0);
    }
    s += &kw("dilation", p.dilation, 1);
    if p.ceil_mode {
        s += ", ceil_mode=True";
    }
    s += ")";
    if sym {
        s
    } else {
        format!(
            "nn.Sequential(nn.ConstantPad2d({}, float('-inf')), {s})",
            pad_tuple(p.padding)
        )
    }
}

/// A layer's `nn.` constructor (`nn.Conv2d(1, 8, kernel_size=5, padding=2)`, `nn.ReLU()`, …),
/// from the weights' shapes and the geometry the kernels run it with.
pub fn layer(l: &Layer) -> String {
    let no_bias = |ctor: String| -> String {
        if l.has_bias() {
            return ctor;
        }
        // `nn.Conv2d(…)` / `nn.Linear(…)`, possibly inside an `nn.Sequential(pad, …)`.
        match ctor.rfind(')') {
            Some(at) if ctor.ends_with("))") => {
                let inner = &ctor[..at];
                format!("{inner}, bias=False))")
            }
            Some(at) => format!("{}, bias=False)", &ctor[..at]),
            None => ctor,
        }
    };
    match l {
        Layer::Conv2d { weight, params, .. } => {
            let s = weight.shape();
            no_bias(conv_ctor(s[1] * params.groups, s[0], [s[2], s[3]], params))
        }
        Layer::ConvTranspose2d { weight, params, .. } => {
            let s = weight.shape();
            let g = params;
            let mut c = format!(
                "nn.ConvTranspose2d({}, {}, kernel_size={}{}",
                s[0],
                s[1] * g.groups,
                pair([s[2], s[3]]),
                kw("stride", g.stride, 1)
            );
            if symmetric(g) {
                c += &kw("padding", [g.padding[0], g.padding[1]], 0);
            }
            c += &kw("output_padding", g.output_padding, 0);
            if g.groups != 1 {
                c += &format!(", groups={}", g.groups);
            }
            c += &kw("dilation", g.dilation, 1);
            c += ")";
            if !symmetric(g) {
                c = format!(
                    "{c}  # then crop (top, left, bottom, right) = {}",
                    pad_tuple(g.padding)
                );
            }
            no_bias(c)
        }
        Layer::MaxPool2d { params } => pool(params),
        Layer::AvgPool2d {
            params: p,
            count_include_pad,
        } => {
            let sym = p.padding[0] == p.padding[2] && p.padding[1] == p.padding[3];
            let mut s = format!("nn.AvgPool2d(kernel_size={}", pair(p.kernel));
            if p.stride != p.kernel {
                s += &format!(", stride={}", pair(p.stride));
            }
            if sym {
                s += &kw("padding", [p.padding[0], p.padding[1]], 0);
            }
            if p.ceil_mode {
                s += ", ceil_mode=True";
            }
            if !count_include_pad {
                s += ", count_include_pad=False";
            }
            s += ")";
            if sym {
                s
            } else {
                format!("nn.Sequential(nn.ZeroPad2d({}), {s})", pad_tuple(p.padding))
            }
        }
        Layer::GlobalAvgPool => "nn.AdaptiveAvgPool2d(1)".into(),
        Layer::Relu => "nn.ReLU()".into(),
        Layer::LeakyRelu { slope } => format!("nn.LeakyReLU({slope})"),
        Layer::Sigmoid => "nn.Sigmoid()".into(),
        Layer::Tanh => "nn.Tanh()".into(),
        Layer::Flatten => "nn.Flatten()".into(),
        Layer::Linear { weight, .. } => {
            let s = weight.shape();
            no_bias(format!("nn.Linear({}, {})", s[1], s[0]))
        }
        Layer::BatchNorm2d { weight, eps, .. } => {
            if (*eps - 1e-5).abs() < 1e-12 {
                format!("nn.BatchNorm2d({})", weight.len())
            } else {
                format!("nn.BatchNorm2d({}, eps={eps})", weight.len())
            }
        }
        Layer::Softmax => "nn.Softmax(dim=1)".into(),
        Layer::LogSoftmax => "nn.LogSoftmax(dim=1)".into(),
        Layer::Add { from } => {
            format!("nn.Identity()  # + activation {from}: a residual add, written in forward()")
        }
    }
}

/// The whole model as an `nn.Sequential`, one layer a line, each named as the page names it.
pub fn sequential(m: &Model) -> Code {
    let mut lines = vec!["model = nn.Sequential(".to_string()];
    for (l, name) in m.layers.iter().zip(m.names()) {
        lines.push(format!("    {},  # {name}", layer(l)));
    }
    lines.push(")".into());
    Code::new(lines)
}

/// The optimiser a trainer with `s` runs, as PyTorch's: plain SGD, SGD with momentum 0.9
/// (heavy ball, no dampening: PyTorch's), Adam with β = (0.9, 0.999), ε = 1e−8 (its defaults).
pub fn optimizer(s: &Settings) -> String {
    let lr = s.lr;
    match s.optimizer {
        OptimizerKind::Sgd => format!("torch.optim.SGD(model.parameters(), lr={lr})"),
        OptimizerKind::Momentum => {
            format!("torch.optim.SGD(model.parameters(), lr={lr}, momentum=0.9)")
        }
        OptimizerKind::Adam => format!("torch.optim.Adam(model.parameters(), lr={lr})"),
    }
}

/// What the Train scene runs: the model, the batches, the optimiser and the loss (the model
/// ends in a softmax, so the loss is the log of its output against the label).
pub fn train(s: &Settings) -> Result<Code> {
    s.check()?;
    let model = Model::new(&s.spec)?;
    let mut code = sequential(&model);
    code.lines.extend([
        format!(
            "loader = torch.utils.data.DataLoader(mnist_train, batch_size={}, shuffle=True)",
            s.batch
        ),
        format!("opt = {}", optimizer(s)),
        match model.layers.last() {
            Some(Layer::Softmax) => "loss = F.nll_loss(model(x).log(), label)".into(),
            Some(Layer::LogSoftmax) => "loss = F.nll_loss(model(x), label)".into(),
            _ => "loss = F.cross_entropy(model(x), label)".into(),
        },
    ]);
    Ok(Code::new(code.lines))
}

#[cfg(test)]
mod tests;
