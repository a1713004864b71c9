//! `cargo xtask build`: the two wasm builds (simd128, and simd128 + relaxed-simd) and their
//! wasm-bindgen JS glue in `www/pkg/`. Installs only what is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{self, Result};

pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// One wasm flavour: where cargo builds it and where its JS glue goes.
pub struct Flavour {
    pub name: &'static str,
    pub rustflags: &'static str,
}

pub const FLAVOURS: [Flavour; 2] = [
    Flavour {
        name: "simd128",
        rustflags: "-C target-feature=+simd128",
    },
    Flavour {
        name: "relaxed",
        rustflags: "-C target-feature=+simd128,+relaxed-simd",
    },
];

impl Flavour {
    /// Each flavour has its own target dir, so switching never rebuilds the other.
    pub fn target_dir(&self) -> PathBuf {
        util::root()
            .join("target")
            .join(format!("wasm-{}", self.name))
    }

    /// A `cargo` command for the wasm32 target with this flavour's flags.
    pub fn cargo(&self, subcommand: &str) -> Command {
        let mut c = util::cargo();
        c.arg(subcommand)
            .args(["--target", WASM_TARGET, "--target-dir"])
            .arg(self.target_dir())
            .env(
                "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
                self.rustflags,
            );
        c
    }
}

/// Adds the wasm32 target when rustup does not have it.
pub fn ensure_target() -> Result<()> {
    let installed = util::output(Command::new("rustup").args(["target", "list", "--installed"]))
        .unwrap_or_default();
    if !installed.lines().any(|l| l.trim() == WASM_TARGET) {
        eprintln!("xtask: adding the {WASM_TARGET} target");
        util::run(Command::new("rustup").args(["target", "add", WASM_TARGET]))?;
    }
    Ok(())
}

/// The wasm-bindgen version pinned in Cargo.lock.
pub fn locked_wasm_bindgen_version() -> Result<String> {
    let lock = std::fs::read_to_string(util::root().join("Cargo.lock"))
        .map_err(|e| format!("cannot read Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(l) = lines.next() {
        if l.trim() == "name = \"wasm-bindgen\"" {
            if let Some(v) = lines
                .next()
                .and_then(|v| v.trim().strip_prefix("version = "))
            {
                return Ok(v.trim_matches('"').to_string());
            }
        }
    }
    Err("wasm-bindgen not found in Cargo.lock".into())
}

/// Installs wasm-bindgen-cli at exactly the locked version when it is absent or different.
/// (Without --locked: one of its locked dependencies is missing from the registry.)
pub fn ensure_wasm_bindgen() -> Result<()> {
    let want = locked_wasm_bindgen_version()?;
    let have = util::output(Command::new("wasm-bindgen").arg("--version")).unwrap_or_default();
    let runner =
        util::output(Command::new("wasm-bindgen-test-runner").arg("--version")).unwrap_or_default();
    let ok = |s: &str| s.split_whitespace().nth(1) == Some(want.as_str());
    if !ok(&have) || !ok(&runner) {
        eprintln!("xtask: installing wasm-bindgen-cli {want} (about 3 minutes, once)");
        util::run(util::cargo().args([
            "install",
            "wasm-bindgen-cli",
            "--version",
            &want,
            "--force",
        ]))?;
    }
    Ok(())
}

/// Builds both flavours and writes `www/pkg/<flavour>/convscope{.js,_bg.wasm,.d.ts}`.
pub fn build() -> Result<()> {
    // Cargo.lock must exist before we can read the pinned version.
    if !util::root().join("Cargo.lock").exists() {
        util::run(util::cargo().args(["generate-lockfile"]))?;
    }
    ensure_target()?;
    ensure_wasm_bindgen()?;
    for f in &FLAVOURS {
        eprintln!("xtask: building the {} wasm", f.name);
        util::run(
            f.cargo("build")
                .args(["--release", "-p", "convscope", "--lib"]),
        )?;
        let wasm = f
            .target_dir()
            .join(WASM_TARGET)
            .join("release/convscope.wasm");
        let out = util::root().join("www/pkg").join(f.name);
        bindgen(&wasm, &out)?;
        copy_api(&out)?;
    }
    eprintln!("xtask: built www/pkg/simd128 and www/pkg/relaxed");
    Ok(())
}

/// The public JS API (the classes around the exports' handles) goes beside the glue.
fn copy_api(out: &Path) -> Result<()> {
    let src = util::root().join("crate/js/api.js");
    std::fs::copy(&src, out.join("api.js"))
        .map(|_| ())
        .map_err(|e| format!("cannot copy {} into {}: {e}", src.display(), out.display()))
}

/// Runs wasm-bindgen unless its output is already newer than the input.
fn bindgen(wasm: &Path, out: &Path) -> Result<()> {
    let stamp = out.join("convscope_bg.wasm");
    if let (Some(src), Some(dst)) = (util::mtime(wasm), util::mtime(&stamp)) {
        if dst >= src && out.join("convscope.js").exists() {
            return Ok(());
        }
    }
    util::run(
        Command::new("wasm-bindgen")
            .args(["--target", "web", "--out-name", "convscope", "--out-dir"])
            .arg(out)
            .arg(wasm),
    )
}
