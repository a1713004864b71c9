//! `cargo xtask train [--model cnn|slp|mlp] [--epochs N] [--seed S] [--out PATH]`: trains one
//! MNIST model with convscope's own GEMM and convolutions in a native release build (the
//! trainer is `crate/src/bin/train.rs`), showing a one-line progress bar, then evaluates it on the
//! 10,000 test images and writes `data/models/<model>.safetensors` (or `--out`).
//! Other trainer flags (`--batch`, `--lr`, `--no-augment`, `--dtype f32`, `--eval PATH`) pass through.

use crate::util::{self, Result};

const FLAGS_WITH_VALUE: &[&str] = &[
    "--model",
    "--epochs",
    "--seed",
    "--out",
    "--batch",
    "--lr",
    "--dtype",
    "--data",
    "--eval",
    "--init",
    "--optimizer",
    "--init-scale",
];
const SWITCHES: &[&str] = &["--no-augment"];

pub fn train(args: &[String]) -> Result<()> {
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        if FLAGS_WITH_VALUE.contains(&a) {
            if i + 1 >= args.len() {
                return Err(format!("train: {a} needs a value"));
            }
            if a == "--model" && !["cnn", "slp", "mlp"].contains(&args[i + 1].as_str()) {
                return Err(format!(
                    "train: --model takes cnn, slp or mlp, got `{}`",
                    args[i + 1]
                ));
            }
            i += 2;
        } else if SWITCHES.contains(&a) {
            i += 1;
        } else {
            return Err(format!(
                "train: unknown argument `{a}`; usage: cargo xtask train [--model cnn|slp|mlp] \
                 [--epochs N] [--seed S] [--out PATH]"
            ));
        }
    }
    util::run(
        util::cargo()
            .args([
                "run",
                "--release",
                "-p",
                "convscope",
                "--bin",
                "train",
                "--",
            ])
            .args(args),
    )
}
