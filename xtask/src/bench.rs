//! `cargo xtask bench [--quick] [--rows "GEMM 64³,…"] [--no-model] [--no-training] [--no-threads]
//! [--allow-load]`: the side-by-side benchmark. Builds the relaxed wasm with the crate's `bench`
//! feature (the `bench*` exports) into `bench/pkg/relaxed`, apart from the playground's
//! `www/pkg`, and the playground's threaded build (`www/pkg/threads`, where nightly can be had)
//! for the threads section (`bench/page/threads.html`: 1 and 2 threads beside TF.js's); installs
//! the bench page's npm packages (TF.js, onnxruntime-web, playwright-core) when missing, measures native
//! training throughput, then serves `bench/page` (with `bench/pkg` as `/pkg/`) with the
//! project's static server and drives it in headless Chromium (`bench/run.mjs`), which writes
//! `bench/results.json` and `bench/results.md`. With training (not `--no-training`, not
//! `--quick`) it also serves the playground and times the cnn on the Train page from Start to
//! 98.5% on the test subset (`bench/train-page.mjs`), with and without cross-origin isolation. Speed is never asserted: this is not part of
//! `cargo xtask test`. `run.mjs` waits (up to 5 minutes) for the one-minute load average to
//! fall to 1.0 and refuses to measure when it does not; `--allow-load` measures anyway and
//! marks the results invalid.

use std::path::Path;
use std::process::Command;

use crate::build::Contents;
use crate::serve::{self, Site};
use crate::util::{self, Result};

/// The playground's policy plus what the bench pages need: TF.js's wasm backend compiles its
/// module from our origin (`'wasm-unsafe-eval'`), the TF.js union bundle (for its gradients)
/// finds the global object with `Function("return this")` (`'unsafe-eval'`), and the threaded
/// TF.js binary of the threads page starts its pthreads as workers from a `blob:` URL that
/// `importScripts` its main script, another `blob:` URL made by the page (`blob:` in
/// `script-src`: a blob worker keeps its creator's policy). The bench pages only, never the
/// playground; nothing else is allowed to load.
const CSP_BENCH: &str =
    "default-src 'self'; script-src 'self' blob: 'unsafe-eval' 'wasm-unsafe-eval'; \
style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; \
worker-src 'self' blob:; object-src 'none'; base-uri 'self'; form-action 'self'; \
frame-ancestors 'none'";

struct Options {
    quick: bool,
    rows: Option<String>,
    model: bool,
    training: bool,
    allow_load: bool,
    threads: bool,
    node: bool,
}

fn parse(args: &[String]) -> Result<Options> {
    let mut o = Options {
        quick: false,
        rows: None,
        model: true,
        training: true,
        allow_load: false,
        threads: true,
        node: true,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--quick" => o.quick = true,
            "--no-model" => o.model = false,
            "--no-training" => o.training = false,
            "--allow-load" => o.allow_load = true,
            "--no-threads" => o.threads = false,
            "--no-node" => o.node = false,
            "--rows" => {
                o.rows = Some(
                    it.next()
                        .ok_or("--rows takes a comma-separated list of row labels")?
                        .clone(),
                )
            }
            other => {
                return Err(format!(
                    "bench takes --quick, --rows LIST, --no-model, --no-training, --no-threads, --no-node, --allow-load; got `{other}`"
                ))
            }
        }
    }
    Ok(o)
}

pub fn bench(args: &[String]) -> Result<()> {
    let o = parse(args)?;
    let root = util::root();
    let dir = root.join("bench");
    crate::build::build_some(Contents::Bench, &["relaxed"])?;
    // The threads section: the playground's threaded build (`www/pkg/threads`), where nightly
    // can be had; else the section says why it was not measured.
    let threads = if o.threads {
        crate::build::build_threads()?
    } else {
        Err("skipped with --no-threads".to_string())
    };
    if let Err(why) = &threads {
        eprintln!("xtask: no threads section: {why}");
    }
    // The time-to-98.5% rows train on the playground itself (its relaxed build without
    // isolation, its threaded one with).
    if o.training {
        crate::build::build_some(Contents::Playground, &["simd128", "relaxed"])?;
    }
    util::node()?;
    util::npm_install(&dir)?;

    let training_json = root.join("target/bench-training.json");
    if o.training {
        let json = training(&root, o.quick)?;
        std::fs::write(&training_json, json)
            .map_err(|e| format!("cannot write {}: {e}", training_json.display()))?;
    }

    let tf = dir.join("node_modules/@tensorflow");
    let site = Site {
        mounts: vec![
            ("/pkg/".into(), Contents::Bench.pkg_dir()),
            // The threaded build, for page/threads.html (cross-origin isolated: the server
            // sends COOP same-origin and COEP require-corp on every response).
            (
                "/pkg-threads/".into(),
                Contents::Playground.pkg_dir().join("threads"),
            ),
            ("/tfjs/union/".into(), tf.join("tfjs/dist")),
            ("/tfjs/wasm/".into(), tf.join("tfjs-backend-wasm/dist")),
            (
                "/ort/".into(),
                dir.join("node_modules/onnxruntime-web/dist"),
            ),
            ("/data/".into(), root.join("data")),
            // The playground's training workers, for the in-browser training rows.
            ("/js/".into(), root.join("www/js")),
            ("/".into(), dir.join("page")),
        ],
        csp: CSP_BENCH,
    };
    let addr = serve::start(site, 0)?;
    eprintln!("xtask: bench page on http://{addr}/ (headless Chromium)");
    let mut cmd = Command::new("node");
    cmd.arg(dir.join("run.mjs"))
        .args(["--url", &format!("http://{addr}/")])
        .current_dir(&dir);
    if o.training {
        cmd.arg("--training").arg(&training_json);
        let app = serve::start(Site::playground(), 0)?;
        eprintln!("xtask: the playground on http://{app}/ (the time to 98.5%)");
        cmd.args(["--app-url", &format!("http://{app}/")]);
    }
    if o.quick {
        cmd.arg("--quick");
    }
    if !o.model {
        cmd.arg("--no-model");
    }
    if o.allow_load {
        cmd.arg("--allow-load");
    }
    if let Err(why) = &threads {
        cmd.arg("--no-threads").arg(why);
    }
    if !o.node {
        cmd.arg("--no-node");
    }
    if let Some(rows) = &o.rows {
        cmd.args(["--rows", rows]);
    }
    if let Ok(chrome) = util::chromium() {
        cmd.env("CHROME", chrome);
    }
    util::run(&mut cmd)?;
    eprintln!("xtask: wrote bench/results.json and bench/results.md");
    Ok(())
}

/// The models whose native training throughput is measured.
const TRAIN_MODELS: [&str; 3] = ["slp", "mlp", "cnn"];

/// Native training throughput per model, as a JSON object for `run.mjs`: builds the model
/// helper's trainer (`crate/src/bin/train.rs`, release) and runs it on each model (one epoch,
/// default batch, augmentation and seed; weights go to `target/`, never over the shipped ones)
/// until it first reports its samples/s (the progress line it prints after about 20 s of
/// training, or its summary line when the epoch ends sooner); then it is stopped.
fn training(root: &Path, quick: bool) -> Result<String> {
    if quick {
        return Ok(r#"{ "pending": "skipped with --quick", "models": {} }"#.into());
    }
    if !root.join("crate/src/bin/train.rs").exists() {
        return Ok(
            r#"{ "pending": "the model helper's trainer is not on main yet", "models": {} }"#
                .into(),
        );
    }
    util::run(util::cargo().args([
        "build",
        "--release",
        "-q",
        "-p",
        "convscope",
        "--bin",
        "train",
    ]))?;
    let exe = root.join("target/release/train");
    let mut rows = Vec::new();
    for model in TRAIN_MODELS {
        eprintln!("xtask: training {model} natively until it reports samples/s (~20 s)");
        let out = root.join(format!("target/bench-train-{model}.safetensors"));
        let row = match train_rate(&exe, model, &out) {
            Ok(v) => format!(r#""{model}": {{ "samplesPerSec": {v:.1} }}"#),
            Err(e) => format!(r#""{model}": {{ "pending": "{}" }}"#, e.replace('"', "'")),
        };
        rows.push(row);
    }
    Ok(format!(
        r#"{{ "how": "target/release/train --model M --epochs 1, native, one thread, default batch, augmentation on; samples/s over the first ~20 s (or the whole epoch when shorter)", "models": {{ {} }} }}"#,
        rows.join(", ")
    ))
}

/// Runs the trainer on one model and returns the first samples/s it reports.
fn train_rate(exe: &Path, model: &str, out: &Path) -> Result<f64> {
    use std::io::{BufRead, BufReader, Read};
    use std::process::Stdio;
    let mut child = Command::new(exe)
        .args(["--model", model, "--epochs", "1", "--out"])
        .arg(out)
        .current_dir(util::root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
    let mut stdout = child.stdout.take().ok_or("no stdout")?;
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let mut rate = None;
    if let Some(err) = child.stderr.take() {
        for line in BufReader::new(err).lines().map_while(|l| l.ok()) {
            if let Some(v) = progress_rate(&line) {
                rate = Some(v);
                let _ = child.kill();
                break;
            }
        }
    }
    let _ = child.wait();
    let stdout = reader.join().unwrap_or_default();
    rate.or_else(|| samples_per_sec(&stdout))
        .ok_or_else(|| "the trainer failed or printed no samples/s".to_string())
}

/// The samples/s on one of the trainer's progress lines (`… 1234 samples/s elapsed …`).
fn progress_rate(line: &str) -> Option<f64> {
    let before = &line[..line.find(" samples/s elapsed")?];
    before.rsplit(' ').next()?.parse().ok()
}

/// The number before `samples/s)` on the trainer's summary line.
fn samples_per_sec(stdout: &str) -> Option<f64> {
    let line = stdout.lines().rev().find(|l| l.contains("samples/s)"))?;
    let before = &line[..line.find(" samples/s)")?];
    before.rsplit(['(', ' ']).next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::samples_per_sec;

    #[test]
    fn reads_the_trainers_summary_line() {
        let out = "cnn: 1 epochs in 41.0 s (1463 samples/s); test accuracy 98.70% on 10000 images";
        assert_eq!(samples_per_sec(out), Some(1463.0));
        assert_eq!(samples_per_sec("nothing here"), None);
        let p =
            "epoch 1/1 [===   ]  8192/60000 loss 0.3 acc 91.00% 1234 samples/s elapsed 20s left 2m";
        assert_eq!(super::progress_rate(p), Some(1234.0));
    }
}
