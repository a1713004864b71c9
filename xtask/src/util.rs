//! Small helpers shared by the xtask commands: the repository root, running commands, finding tools.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};

pub type Result<T> = std::result::Result<T, String>;

/// The repository root (the parent of `xtask/`).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the root")
        .to_path_buf()
}

/// Runs a command with inherited stdio; an error names the command when it fails.
pub fn run(cmd: &mut Command) -> Result<()> {
    let status = status(cmd)?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", describe(cmd)))
    }
}

pub fn status(cmd: &mut Command) -> Result<ExitStatus> {
    cmd.status()
        .map_err(|e| format!("could not start `{}`: {e}", describe(cmd)))
}

/// Runs a command and returns its stdout, or None when it cannot start or fails.
pub fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

pub fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// `cargo`, as the one running xtask (so the same toolchain is used).
pub fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    c
}

/// The first existing file among the env var `var` and `candidates`.
pub fn find_tool(var: &str, candidates: &[&str]) -> Option<PathBuf> {
    if let Ok(p) = std::env::var(var) {
        if !p.is_empty() {
            let p = PathBuf::from(p);
            return p.exists().then_some(p);
        }
    }
    candidates.iter().map(PathBuf::from).find(|p| p.exists())
}

pub fn chromium() -> Result<PathBuf> {
    find_tool(
        "CHROME",
        &[
            "/usr/bin/chromium",
            "/usr/bin/chromium-browser",
            "/usr/bin/google-chrome",
        ],
    )
    .ok_or_else(|| {
        "Chromium not found: apt-get install chromium chromium-driver, or set CHROME=/path".into()
    })
}

pub fn chromedriver() -> Result<PathBuf> {
    find_tool("CHROMEDRIVER", &["/usr/bin/chromedriver"]).ok_or_else(|| {
        "chromedriver not found: apt-get install chromium-driver, or set CHROMEDRIVER=/path".into()
    })
}

pub fn node() -> Result<()> {
    output(Command::new("node").arg("--version"))
        .map(|_| ())
        .ok_or_else(|| {
            "node not found: install Node.js 20 or newer (apt-get install nodejs npm)".into()
        })
}

/// Runs `npm ci` in `dir` when its node_modules is missing or older than package-lock.json.
pub fn npm_install(dir: &Path) -> Result<()> {
    let lock = dir.join("package-lock.json");
    let stamp = dir.join("node_modules/.package-lock.json");
    let fresh = match (mtime(&lock), mtime(&stamp)) {
        (Some(l), Some(s)) => s >= l,
        _ => false,
    };
    if !fresh {
        eprintln!("xtask: npm ci in {}", dir.display());
        run(Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(dir))
        .map_err(|e| format!("{e}: is npm installed (apt-get install npm)?"))?;
    }
    Ok(())
}

pub fn mtime(p: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}
