//! Trains one of the MNIST models with convscope's own GEMM and convolutions and writes its
//! safetensors.
//!
//! ```text
//! cargo run --release -p convscope --bin train -- [--model cnn|slp|mlp] [--epochs N]
//!     [--seed S] [--out PATH] [--batch B] [--lr LR] [--no-augment] [--optimizer sgd|momentum|adam]
//!     [--dtype f16|f32] [--data DIR]
//! cargo run --release -p convscope --bin train -- --eval data/models/cnn.safetensors
//! ```
//! Normally run through `cargo xtask train`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Instant;

use convscope::mnist;
use convscope::nn::infer::Inference;
use convscope::nn::train::{accuracy, train, Progress, TrainConfig};
use convscope::nn::trainer::OptimizerKind;
use convscope::nn::{Model, Preset};
use safetensors::Dtype;

struct Args {
    arch: Preset,
    epochs: Option<usize>,
    seed: u64,
    out: Option<PathBuf>,
    batch: Option<usize>,
    lr: Option<f32>,
    augment: bool,
    data: PathBuf,
    eval: Option<PathBuf>,
    f16: bool,
    init: Option<PathBuf>,
    optimizer: Option<OptimizerKind>,
    init_scale: Option<f32>,
}

fn parse() -> Result<Args, String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut a = Args {
        arch: Preset::Cnn,
        epochs: None,
        seed: 1,
        out: None,
        batch: None,
        lr: None,
        augment: true,
        data: root.join("data/mnist"),
        eval: None,
        f16: true,
        init: None,
        optimizer: None,
        init_scale: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().ok_or(format!("{flag} needs a value"));
        let num = |v: String| format!("{flag} takes a number, got `{v}`");
        match flag.as_str() {
            "--model" => a.arch = Preset::from_name(&val()?).map_err(|e| e.to_string())?,
            "--epochs" => {
                let v = val()?;
                a.epochs = Some(v.parse().map_err(|_| num(v))?)
            }
            "--seed" => {
                let v = val()?;
                a.seed = v.parse().map_err(|_| num(v))?
            }
            "--batch" => {
                let v = val()?;
                a.batch = Some(v.parse().map_err(|_| num(v))?)
            }
            "--lr" => {
                let v = val()?;
                a.lr = Some(v.parse().map_err(|_| num(v))?)
            }
            "--out" => a.out = Some(val()?.into()),
            "--data" => a.data = val()?.into(),
            "--eval" => a.eval = Some(val()?.into()),
            "--init" => a.init = Some(val()?.into()),
            "--init-scale" => {
                let v = val()?;
                a.init_scale = Some(v.parse().map_err(|_| num(v))?)
            }
            "--optimizer" => {
                a.optimizer = Some(OptimizerKind::from_name(&val()?).map_err(|e| e.to_string())?)
            }
            "--no-augment" => a.augment = false,
            "--dtype" => {
                a.f16 = match val()?.as_str() {
                    "f16" => true,
                    "f32" => false,
                    v => return Err(format!("--dtype takes f16 or f32, got `{v}`")),
                }
            }
            "-h" | "--help" => {
                return Err(
                    "usage: train [--model cnn|slp|mlp] [--epochs N] [--seed S] [--out PATH] \
                     [--batch B] [--lr LR] [--no-augment] [--optimizer sgd|momentum|adam] [--dtype f16|f32] [--data DIR] [--init PATH] | --eval PATH"
                        .into(),
                )
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(a)
}

fn fmt_secs(s: f64) -> String {
    let s = s.max(0.0) as u64;
    format!("{}:{:02}", s / 60, s % 60)
}

fn run() -> Result<(), String> {
    let a = parse()?;
    let e = |e: convscope::Error| e.to_string();
    let test = mnist::load(&a.data, "t10k").map_err(e)?;
    if let Some(path) = &a.eval {
        let bytes = std::fs::read(path).map_err(|err| format!("{}: {err}", path.display()))?;
        let mut m = Model::from_safetensors(&bytes).map_err(e)?;
        if let Some(out) = &a.out {
            // Rewrite (e.g. F32 → F16), then evaluate what was written.
            let dtype = if a.f16 { Dtype::F16 } else { Dtype::F32 };
            let bytes = m.to_safetensors_as(dtype).map_err(e)?;
            std::fs::write(out, &bytes).map_err(|err| format!("{}: {err}", out.display()))?;
            m = Model::from_safetensors(&bytes).map_err(e)?;
            println!("wrote {} ({} bytes, {dtype:?})", out.display(), bytes.len());
        }
        // Single-image inference speed (the page's path): every test image once.
        let mut inf = Inference::new(&m).map_err(e)?;
        let mut px = [0.0f32; 784];
        let t = Instant::now();
        for i in 0..test.len() {
            test.image_f32(i, &mut px);
            inf.run(&px).map_err(e)?;
        }
        println!(
            "single-image forward (native, this machine, shared): {:.1} µs mean over {} images",
            t.elapsed().as_secs_f64() * 1e6 / test.len() as f64,
            test.len()
        );
        let t = Instant::now();
        let acc = accuracy(&m, &test).map_err(e)?;
        println!(
            "{}: {} ({} parameters): test accuracy {:.2}% ({:.1} s)",
            path.display(),
            m.preset().map_or("custom", |p| p.name()),
            m.num_params(),
            acc * 100.0,
            t.elapsed().as_secs_f64()
        );
        return Ok(());
    }
    let train_set = mnist::load(&a.data, "train").map_err(e)?;
    let mut cfg = TrainConfig::for_arch(a.arch);
    cfg.seed = a.seed;
    if let Some(n) = a.epochs {
        cfg.epochs = n;
    }
    if let Some(b) = a.batch {
        cfg.batch = b;
    }
    if let Some(lr) = a.lr {
        cfg.lr = lr;
    }
    if !a.augment {
        cfg.augment = None;
    }
    if let Some(o) = a.optimizer {
        cfg.optimizer = o;
    }
    if let Some(x) = a.init_scale {
        cfg.init_scale = x;
    }
    let out = a.out.clone().unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join(format!("../data/models/{}.safetensors", a.arch.name()))
    });
    let mut model = match &a.init {
        // Fine-tune from a file (its architecture wins over --model).
        Some(p) => {
            let bytes = std::fs::read(p).map_err(|err| format!("{}: {err}", p.display()))?;
            Model::from_safetensors(&bytes).map_err(e)?
        }
        None => {
            let spec = a.arch.spec();
            cfg.settings(spec.clone()).init.model(&spec).map_err(e)?
        }
    };
    eprintln!(
        "training {} ({} parameters) for {} epochs, {}, batch {}, lr {}{}, seed {}, augmentation {}",
        a.arch.name(),
        model.num_params(),
        cfg.epochs,
        cfg.optimizer.name(),
        cfg.batch,
        cfg.lr,
        if cfg.cosine { " (cosine)" } else { "" },
        cfg.seed,
        if cfg.augment.is_some() { "on" } else { "off" }
    );
    let start = Instant::now();
    let mut last_draw = Instant::now();
    let mut last_line = Instant::now();
    let total = cfg.epochs * train_set.len();
    let tty = std::io::stderr().is_terminal();
    train(&mut model, &train_set, &cfg, |p: &Progress| {
        let end = p.done == p.per_epoch;
        if !end && last_draw.elapsed().as_millis() < 250 {
            return;
        }
        last_draw = Instant::now();
        let done = p.epoch * p.per_epoch + p.done;
        let secs = start.elapsed().as_secs_f64();
        let rate = done as f64 / secs.max(1e-9);
        let left = (total - done) as f64 / rate.max(1e-9);
        let width = 24;
        let filled = (p.done * width) / p.per_epoch;
        let bar: String = (0..width)
            .map(|i| if i < filled { '█' } else { '·' })
            .collect();
        let line = format!(
            "epoch {}/{} [{bar}] {:>5}/{} loss {:.4} acc {:.2}% {:.0} samples/s elapsed {} left {}",
            p.epoch + 1,
            p.epochs,
            p.done,
            p.per_epoch,
            p.loss,
            p.accuracy * 100.0,
            rate,
            fmt_secs(secs),
            fmt_secs(left)
        );
        if tty {
            eprint!("\r\x1b[2K{line}");
            if end {
                eprintln!();
            }
        } else if end || last_line.elapsed().as_secs() >= 20 {
            last_line = Instant::now();
            eprintln!("{line}");
        }
        let _ = std::io::stderr().flush();
    })
    .map_err(e)?;
    let train_secs = start.elapsed().as_secs_f64();
    let dtype = if a.f16 { Dtype::F16 } else { Dtype::F32 };
    let bytes = model.to_safetensors_as(dtype).map_err(e)?;
    // Evaluate what is written (F16 rounding included).
    let model = Model::from_safetensors(&bytes).map_err(e)?;
    let acc = accuracy(&model, &test).map_err(e)?;
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).map_err(|err| format!("{}: {err}", dir.display()))?;
    }
    std::fs::write(&out, &bytes).map_err(|err| format!("{}: {err}", out.display()))?;
    println!(
        "{}: {} epochs in {} ({:.0} samples/s); test accuracy {:.2}% on {} images; wrote {} ({} bytes, {:?})",
        a.arch.name(),
        cfg.epochs,
        fmt_secs(train_secs),
        total as f64 / train_secs,
        acc * 100.0,
        test.len(),
        out.display(),
        bytes.len(),
        dtype
    );
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
