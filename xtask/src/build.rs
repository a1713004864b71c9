//! `cargo xtask build`: the playground's wasm builds (simd128; simd128 + relaxed-simd; and,
//! where the nightly toolchain can be had, `threads`: relaxed-simd with wasm atomics on shared
//! memory) and their wasm-bindgen JS glue in `www/pkg/`. `cargo xtask build --bench`: the same two
//! with the crate's `bench` feature (the benchmark's exports, GEMM tile variants, the ndarray
//! baseline) in `bench/pkg/`, for the bench page and `bench/node-*.mjs`; the playground's
//! builds never contain them. Installs only what is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{self, Result};

pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// One wasm flavour: where cargo builds it and where its JS glue goes.
pub struct Flavour {
    pub name: &'static str,
    pub rustflags: &'static str,
    /// Built by the nightly toolchain with `-Z build-std` (the threaded build).
    pub nightly: bool,
}

/// Both without LLVM's loop strength reduction (`-disable-lsr`), so that the micro-kernels'
/// constant load offsets stay wasm load immediates (see .cargo/config.toml, docs/gemm.md).
pub const FLAVOURS: [Flavour; 2] = [
    Flavour {
        name: "simd128",
        rustflags: "-C target-feature=+simd128 -C llvm-args=-disable-lsr",
        nightly: false,
    },
    Flavour {
        name: "relaxed",
        rustflags: "-C target-feature=+simd128,+relaxed-simd -C llvm-args=-disable-lsr",
        nightly: false,
    },
];

/// The threaded build: relaxed-simd plus wasm atomics and bulk memory, so that its memory is
/// a `SharedArrayBuffer` the thread pool's workers instantiate the same module on
/// (crate/src/threadpool.rs). The prebuilt std has no atomics, so nightly rebuilds it
/// (`-Z build-std`). The linker flags are those wasm-bindgen's threads support needs, passed
/// by hand because this nightly's rustc does not add them for an unstable `atomics` feature:
/// a shared, imported memory (the page creates it and hands it to every worker) with a
/// maximum (4 GiB, as the other builds may grow to), and the TLS symbols wasm-bindgen's
/// thread start-up uses to give each thread its own thread-locals. Not in [`FLAVOURS`]: the
/// stable toolchain cannot build it, and everything else works without it.
pub const THREADS: Flavour = Flavour {
    name: "threads",
    rustflags: "-C target-feature=+simd128,+relaxed-simd,+atomics,+bulk-memory,+mutable-globals \
                -C llvm-args=-disable-lsr \
                -C link-arg=--shared-memory -C link-arg=--import-memory \
                -C link-arg=--max-memory=4294967296 \
                -C link-arg=--export=__wasm_init_tls -C link-arg=--export=__tls_size \
                -C link-arg=--export=__tls_align -C link-arg=--export=__tls_base",
    nightly: true,
};

/// The toolchain the threaded build needs.
const NIGHTLY: &str = "nightly";

/// What a build contains: the playground's API, or that and the benchmark's exports.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Contents {
    Playground,
    Bench,
}

impl Contents {
    /// Where the JS glue and the wasm go: `www/pkg` (the playground serves it) or `bench/pkg`
    /// (the bench page serves it as `/pkg/`).
    pub fn pkg_dir(self) -> PathBuf {
        match self {
            Contents::Playground => util::root().join("www/pkg"),
            Contents::Bench => util::root().join("bench/pkg"),
        }
    }
}

impl Flavour {
    /// Each flavour has its own target dir, so switching never rebuilds the other.
    pub fn target_dir(&self) -> PathBuf {
        self.target_dir_for(Contents::Playground)
    }

    /// The bench builds get their own target dirs too: a feature change relinks everything.
    fn target_dir_for(&self, contents: Contents) -> PathBuf {
        let name = match contents {
            Contents::Playground => format!("wasm-{}", self.name),
            Contents::Bench => format!("wasm-bench-{}", self.name),
        };
        util::root().join("target").join(name)
    }

    /// A `cargo` command for the wasm32 target with this flavour's flags.
    pub fn cargo(&self, subcommand: &str) -> Command {
        self.cargo_in(subcommand, &self.target_dir())
    }

    fn cargo_in(&self, subcommand: &str, target_dir: &Path) -> Command {
        let mut c = if self.nightly {
            let mut c = Command::new("rustup");
            c.args([
                "run",
                NIGHTLY,
                "cargo",
                subcommand,
                "-Z",
                "build-std=panic_abort,std",
            ])
            .current_dir(util::root())
            .env_remove("RUSTC")
            .env_remove("RUSTDOC");
            c
        } else {
            let mut c = util::cargo();
            c.arg(subcommand);
            c
        };
        c.args(["--target", WASM_TARGET, "--target-dir"])
            .arg(target_dir)
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

/// Makes the nightly toolchain ready for the threaded build (installs it, its `rust-src` and
/// the wasm32 target only when missing), or says why it cannot be had. `XTASK_NO_THREADS=1`
/// skips it, as on a machine without nightly.
pub fn ensure_nightly() -> std::result::Result<(), String> {
    if std::env::var_os("XTASK_NO_THREADS").is_some_and(|v| v != "0") {
        return Err("XTASK_NO_THREADS is set".into());
    }
    let toolchains = util::output(Command::new("rustup").args(["toolchain", "list"]))
        .ok_or("`rustup toolchain list` failed (is rustup installed?)")?;
    if !toolchains.lines().any(|l| l.starts_with("nightly-")) {
        eprintln!("xtask: installing the nightly toolchain for the threaded build");
        util::run(Command::new("rustup").args([
            "toolchain",
            "install",
            NIGHTLY,
            "--profile",
            "minimal",
        ]))
        .map_err(|e| format!("`rustup toolchain install nightly` failed: {e}"))?;
    }
    let plus = format!("+{NIGHTLY}");
    let components =
        util::output(Command::new("rustup").args([&plus, "component", "list", "--installed"]))
            .unwrap_or_default();
    if !components.lines().any(|l| l.starts_with("rust-src")) {
        eprintln!("xtask: adding rust-src to nightly (the threaded build rebuilds std)");
        util::run(Command::new("rustup").args([&plus, "component", "add", "rust-src"]))
            .map_err(|e| format!("`rustup +nightly component add rust-src` failed: {e}"))?;
    }
    let targets =
        util::output(Command::new("rustup").args([&plus, "target", "list", "--installed"]))
            .unwrap_or_default();
    if !targets.lines().any(|l| l.trim() == WASM_TARGET) {
        eprintln!("xtask: adding the {WASM_TARGET} target to nightly");
        util::run(Command::new("rustup").args([&plus, "target", "add", WASM_TARGET]))
            .map_err(|e| format!("`rustup +nightly target add {WASM_TARGET}` failed: {e}"))?;
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

/// Builds the flavours and writes `www/pkg/<flavour>/convscope{.js,_bg.wasm,.d.ts}`: the two
/// stable ones always, the threaded one where nightly can be had (else it says why it skipped
/// it, removes a stale `www/pkg/threads` so the page cannot load an old build, and carries on).
pub fn build() -> Result<()> {
    build_some(Contents::Playground, &["simd128", "relaxed"])?;
    let threads = build_threads()?;
    match &threads {
        Ok(_) => eprintln!("xtask: built www/pkg/threads"),
        Err(why) => eprintln!(
            "xtask: skipped the threads build: {why}; the page runs the simd128 / relaxed \
             builds on one thread"
        ),
    }
    write_builds(threads.is_ok())
}

/// The threaded build into `www/pkg/threads` where nightly can be had: its directory, or why
/// it was skipped (then a stale `www/pkg/threads` is removed, so nothing loads an old build).
pub fn build_threads() -> Result<std::result::Result<PathBuf, String>> {
    let built = match ensure_nightly() {
        Ok(()) => {
            build_one(&THREADS, Contents::Playground).map_err(|e| format!("its build failed: {e}"))
        }
        Err(why) => Err(format!("no nightly toolchain ({why})")),
    };
    if built.is_err() {
        let stale = Contents::Playground.pkg_dir().join(THREADS.name);
        if stale.exists() {
            std::fs::remove_dir_all(&stale)
                .map_err(|e| format!("cannot remove {}: {e}", stale.display()))?;
        }
        // The page must not ask for it either (when the playground was built here before).
        if Contents::Playground.pkg_dir().join("builds.json").exists() {
            write_builds(false)?;
        }
    }
    Ok(built)
}

/// `www/pkg/builds.json`: the builds there are (`{"builds":["simd128","relaxed","threads"]}`),
/// so the page asks for the threaded build only when it was built (no 404 to try it).
fn write_builds(threads: bool) -> Result<()> {
    let mut names = vec!["simd128", "relaxed"];
    if threads {
        names.push(THREADS.name);
    }
    let list: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    let path = Contents::Playground.pkg_dir().join("builds.json");
    let text = format!("{{\"builds\":[{}]}}\n", list.join(","));
    if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}

/// Builds the named flavours with `contents` into `<pkg_dir>/<flavour>/`.
pub fn build_some(contents: Contents, names: &[&str]) -> Result<()> {
    // Cargo.lock must exist before we can read the pinned version.
    if !util::root().join("Cargo.lock").exists() {
        util::run(util::cargo().args(["generate-lockfile"]))?;
    }
    ensure_target()?;
    ensure_wasm_bindgen()?;
    let mut built = Vec::new();
    for f in FLAVOURS.iter().filter(|f| names.contains(&f.name)) {
        built.push(build_one(f, contents)?);
    }
    let root = util::root();
    let shown: Vec<_> = built
        .iter()
        .map(|p| p.strip_prefix(&root).unwrap_or(p).display().to_string())
        .collect();
    eprintln!("xtask: built {}", shown.join(" and "));
    Ok(())
}

/// Builds flavour `f` with `contents` into `<pkg_dir>/<flavour>/` (the wasm, its glue, the API,
/// and the threaded build's worker script) and returns that directory.
fn build_one(f: &Flavour, contents: Contents) -> Result<PathBuf> {
    let what = match contents {
        Contents::Playground => "",
        Contents::Bench => " bench",
    };
    eprintln!("xtask: building the {}{what} wasm", f.name);
    let target_dir = f.target_dir_for(contents);
    let mut cmd = f.cargo_in("build", &target_dir);
    cmd.args(["--release", "-p", "convscope", "--lib"]);
    if contents == Contents::Bench {
        cmd.args(["--features", "bench"]);
    }
    util::run(&mut cmd)?;
    let wasm = target_dir.join(WASM_TARGET).join("release/convscope.wasm");
    let out = contents.pkg_dir().join(f.name);
    bindgen(&wasm, &out, contents)?;
    copy_api(&out)?;
    if f.nightly {
        copy_js(&out, "pool-worker.js")?;
    }
    if contents == Contents::Playground {
        no_bench_exports(&out)?;
    }
    // The .br and .gz the server sends to browsers that take them (only the stale ones).
    let n = crate::compress::precompress_dir(&out)?;
    if n > 0 {
        eprintln!(
            "xtask: wrote {n} compressed copies (.br, .gz) in {}",
            out.display()
        );
    }
    Ok(out)
}

/// The public JS API (the classes around the exports' handles) and its types go beside the glue.
fn copy_api(out: &Path) -> Result<()> {
    for name in ["api.js", "api.d.ts"] {
        copy_js(out, name)?;
    }
    Ok(())
}

/// Copies `crate/js/<name>` into `out`.
fn copy_js(out: &Path, name: &str) -> Result<()> {
    let src = util::root().join("crate/js").join(name);
    std::fs::copy(&src, out.join(name))
        .map_err(|e| format!("cannot copy {} into {}: {e}", src.display(), out.display()))?;
    Ok(())
}

/// Fails when a playground build exports benchmark code (the `bench` feature leaked in).
fn no_bench_exports(out: &Path) -> Result<()> {
    let dts = out.join("convscope.d.ts");
    let text =
        std::fs::read_to_string(&dts).map_err(|e| format!("cannot read {}: {e}", dts.display()))?;
    let bench: Vec<&str> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("export function "))
        .filter_map(|l| l.split('(').next())
        .filter(|name| name.starts_with("bench") || *name == "gemmKernels")
        .collect();
    if bench.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} exports benchmark functions ({}): the playground's wasm must be built \
             without the `bench` feature",
            dts.display(),
            bench.join(", ")
        ))
    }
}

/// Runs wasm-bindgen unless its output is already newer than the input.
/// The playground's wasm leaves out the name section (64 KB of function names, a tenth of the
/// file): a panic still prints its message; the bench builds keep the names for profiling.
fn bindgen(wasm: &Path, out: &Path, contents: Contents) -> Result<()> {
    let stamp = out.join("convscope_bg.wasm");
    let flags = out.join(".bindgen-flags");
    let strip = contents == Contents::Playground;
    let want = if strip { "--remove-name-section" } else { "" };
    if let (Some(src), Some(dst)) = (util::mtime(wasm), util::mtime(&stamp)) {
        let same_flags = std::fs::read_to_string(&flags).is_ok_and(|f| f == want);
        if dst >= src && out.join("convscope.js").exists() && same_flags {
            return Ok(());
        }
    }
    let mut cmd = Command::new("wasm-bindgen");
    cmd.args(["--target", "web", "--out-name", "convscope", "--out-dir"])
        .arg(out)
        .arg(wasm);
    if strip {
        cmd.args(["--remove-name-section", "--remove-producers-section"]);
    }
    util::run(&mut cmd)?;
    std::fs::write(&flags, want).map_err(|e| format!("cannot write {}: {e}", flags.display()))
}
