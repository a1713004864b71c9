//! `cargo xtask bench [--quick] [--rows "GEMM 64³,…"] [--no-model] [--no-training]`: the
//! side-by-side benchmark. Builds the wasm, installs the bench page's npm packages (TF.js,
//! playwright-core) when missing, measures native training throughput, then serves `bench/page`
//! with the project's static server and drives it in headless Chromium (`bench/run.mjs`), which
//! writes `bench/results.json` and `bench/results.md`. Speed is never asserted: this is not part
//! of `cargo xtask test`.

use std::path::Path;
use std::process::Command;

use crate::serve::{self, Site};
use crate::util::{self, Result};

/// The playground's policy plus what the bench page needs: TF.js's wasm backend compiles its
/// module from our origin (`'wasm-unsafe-eval'`), and nothing else is allowed to load.
const CSP_BENCH: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; \
worker-src 'self' blob:; object-src 'none'; base-uri 'self'; form-action 'self'; \
frame-ancestors 'none'";

struct Options {
    quick: bool,
    rows: Option<String>,
    model: bool,
    training: bool,
}

fn parse(args: &[String]) -> Result<Options> {
    let mut o = Options {
        quick: false,
        rows: None,
        model: true,
        training: true,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--quick" => o.quick = true,
            "--no-model" => o.model = false,
            "--no-training" => o.training = false,
            "--rows" => {
                o.rows = Some(
                    it.next()
                        .ok_or("--rows takes a comma-separated list of row labels")?
                        .clone(),
                )
            }
            other => {
                return Err(format!(
                    "bench takes --quick, --rows LIST, --no-model, --no-training; got `{other}`"
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
    crate::build::build()?;
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
            ("/pkg/".into(), root.join("www/pkg")),
            ("/tfjs/core/".into(), tf.join("tfjs-core/dist")),
            ("/tfjs/wasm/".into(), tf.join("tfjs-backend-wasm/dist")),
            ("/data/".into(), root.join("data")),
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
    }
    if o.quick {
        cmd.arg("--quick");
    }
    if !o.model {
        cmd.arg("--no-model");
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

/// Native training throughput per model, as a JSON object for `run.mjs`.
fn training(_root: &Path, _quick: bool) -> Result<String> {
    Ok(r#"{ "pending": "the model helper's trainer is not on main yet", "models": {} }"#.into())
}
