//! `cargo xtask test`: every check the project has, in order, each as a suite with a one-line
//! summary at the end. Exits non-zero when any suite fails.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::build::{FLAVOURS, THREADS};
use crate::serve;
use crate::util::{self, Result};

struct Suite {
    name: String,
    ok: bool,
    passed: usize,
    failed: usize,
    secs: f64,
    note: String,
}

/// Runs `cmd`, echoing its stdout while counting test results in it.
fn run_counting(cmd: &mut Command) -> Result<(bool, usize, usize)> {
    cmd.stdout(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("could not start `{}`: {e}", util::describe(cmd)))?;
    let (mut passed, mut failed) = (0, 0);
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines().map_while(|l| l.ok()) {
            println!("{line}");
            let (p, f) = count_line(&line);
            passed += p;
            failed += f;
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    Ok((status.success(), passed, failed))
}

/// Recognises cargo's / wasm-bindgen-test's "test result:" and node's "ℹ pass N" / "# pass N".
fn count_line(line: &str) -> (usize, usize) {
    let num_before = |s: &str, word: &str| -> usize {
        s.split(';')
            .find_map(|part| {
                let part = part.trim();
                part.strip_suffix(word)
                    .and_then(|n| n.trim().rsplit(' ').next())
                    .and_then(|n| n.parse().ok())
            })
            .unwrap_or(0)
    };
    if let Some(rest) = line.trim().strip_prefix("test result:") {
        let rest = rest.split('.').skip(1).collect::<Vec<_>>().join(".");
        return (num_before(&rest, "passed"), num_before(&rest, "failed"));
    }
    let t = line.trim().trim_start_matches(['ℹ', '#']).trim();
    let num = |p: &str| t.strip_prefix(p).and_then(|n| n.trim().parse().ok());
    if let Some(n) = num("pass ") {
        return (n, 0);
    }
    if let Some(n) = num("fail ") {
        return (0, n);
    }
    (0, 0)
}

fn suite(suites: &mut Vec<Suite>, name: &str, f: impl FnOnce() -> Result<(bool, usize, usize)>) {
    println!("\n==== {name} ====");
    let t = Instant::now();
    let (ok, passed, failed, note) = match f() {
        Ok((ok, p, fl)) => (ok, p, fl, String::new()),
        Err(e) => (false, 0, 0, e),
    };
    if !note.is_empty() {
        eprintln!("{name}: {note}");
    }
    suites.push(Suite {
        name: name.into(),
        ok,
        passed,
        failed,
        secs: t.elapsed().as_secs_f64(),
        note,
    });
}

fn plain(cmd: &mut Command) -> Result<(bool, usize, usize)> {
    Ok((util::status(cmd)?.success(), 0, 0))
}

pub fn test() -> Result<()> {
    let mut suites = Vec::new();
    // The e2e suite needs the built page; build first so a build failure is reported as such.
    suite(&mut suites, "build", || {
        crate::build::build().map(|_| (true, 0, 0))
    });
    let wasm_ready = suites[0].ok;

    suite(&mut suites, "fmt", || {
        plain(util::cargo().args(["fmt", "--all", "--", "--check"]))
    });
    // With the ndarray feature, so `convscope::nd` is linted too (the wasm builds have none of
    // it; the relaxed clippy below has it through the bench feature).
    suite(&mut suites, "clippy (native)", || {
        plain(util::cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--features",
            "convscope/ndarray",
            "--",
            "-D",
            "warnings",
        ]))
    });
    // With the bench feature, so the benchmark's exports are linted too (native clippy lints
    // the crate without it).
    suite(&mut suites, "clippy (wasm relaxed)", || {
        plain(FLAVOURS[1].cargo("clippy").args([
            "-p",
            "convscope",
            "--all-targets",
            "--features",
            "bench",
            "--",
            "-D",
            "warnings",
        ]))
    });
    // The threads build's own code (the pool's atomics side, its exports) only compiles there:
    // nightly, wasm atomics. Skipped, and said so, without nightly.
    suite(&mut suites, "clippy (wasm threads, nightly)", || {
        if let Err(why) = crate::build::ensure_nightly() {
            println!("skipped: no nightly toolchain ({why})");
            return Ok((true, 0, 0));
        }
        plain(
            THREADS
                .cargo("clippy")
                .args(["-p", "convscope", "--lib", "--", "-D", "warnings"]),
        )
    });
    // With the ndarray feature: `convscope::nd`'s tests and doctests (the crate page's example).
    suite(&mut suites, "native tests", || {
        run_counting(util::cargo().args([
            "test",
            "--workspace",
            "--profile",
            "ci",
            "--features",
            "convscope/ndarray",
        ]))
    });
    // The API docs build without a warning (broken or private links), the ndarray module's
    // included.
    suite(&mut suites, "docs", || {
        plain(
            util::cargo()
                .args([
                    "doc",
                    "-p",
                    "convscope",
                    "--no-deps",
                    "--features",
                    "ndarray",
                ])
                .env("RUSTDOCFLAGS", "-D warnings"),
        )
    });

    let driver = util::chromedriver();
    for f in &FLAVOURS {
        let name = format!("wasm tests ({}, Chromium)", f.name);
        suite(&mut suites, &name, || {
            if !wasm_ready {
                return Err("skipped: the wasm build failed".into());
            }
            let driver = driver.clone()?;
            util::chromium()?;
            let mut cmd = f.cargo("test");
            // The relaxed run also tests the benchmark's exports (the bench page's build).
            if f.name == "relaxed" {
                cmd.args(["--features", "bench"]);
            }
            run_counting(
                cmd.args(["-p", "convscope", "--profile", "ci"])
                    .env("CHROMEDRIVER", driver)
                    .env(
                        "WASM_BINDGEN_TEST_WEBDRIVER_JSON",
                        util::root().join("crate/webdriver.json"),
                    )
                    .env("WASM_BINDGEN_TEST_TIMEOUT", "600"),
            )
        });
    }

    suite(&mut suites, "end-to-end (playwright, Chromium)", || {
        if !wasm_ready {
            return Err("skipped: the wasm build failed".into());
        }
        end_to_end()
    });

    println!("\n==== summary ====");
    let (mut tp, mut tf, mut bad) = (0, 0, 0);
    for s in &suites {
        let counts = if s.passed + s.failed > 0 {
            format!(" ({} passed, {} failed)", s.passed, s.failed)
        } else {
            String::new()
        };
        let note = if s.note.is_empty() {
            String::new()
        } else {
            format!(" - {}", s.note)
        };
        println!(
            "{:<36} {}{counts} in {:.0}s{note}",
            s.name,
            if s.ok { "ok" } else { "FAILED" },
            s.secs
        );
        tp += s.passed;
        tf += s.failed;
        if !s.ok {
            bad += 1;
        }
    }
    println!("tests: {tp} passed, {tf} failed");
    if bad == 0 {
        Ok(())
    } else {
        Err(format!("{bad} suite(s) failed"))
    }
}

/// `cargo xtask fuzz [--calls N] [--seed S]`: builds, serves the page on a free port and runs
/// `tests/fuzz-run.mjs` (the boundary fuzzer at full size, both builds).
pub fn fuzz(args: &[String]) -> Result<()> {
    let mut pass = Vec::new();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        match (flag.as_str(), it.next()) {
            ("--calls" | "--seed", Some(n)) if n.parse::<u64>().is_ok() => {
                pass.push(flag.clone());
                pass.push(n.clone());
            }
            _ => {
                return Err(format!(
                    "fuzz takes --calls N and --seed S (whole numbers), got `{}`",
                    args.join(" ")
                ))
            }
        }
    }
    crate::build::build()?;
    let chrome = util::chromium()?;
    util::node()?;
    let dir = util::root().join("tests");
    util::npm_install(&dir)?;
    let addr = serve::start(serve::Site::playground(), 0)?;
    util::run(
        Command::new("node")
            .arg("fuzz-run.mjs")
            .args(&pass)
            .current_dir(&dir)
            .env("BASE_URL", format!("http://{addr}"))
            .env("CHROME", chrome),
    )
}

/// Serves the page on a free port and runs `node --test` over `tests/*.test.mjs`.
fn end_to_end() -> Result<(bool, usize, usize)> {
    let chrome = util::chromium()?;
    util::node()?;
    let dir = util::root().join("tests");
    util::npm_install(&dir)?;
    let addr = serve::start(serve::Site::playground(), 0)?;
    // The npm package of this build, for tests/package.test.mjs (installed into a fresh project).
    let tarball = crate::pack::stage_and_pack()?;
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".test.mjs"))
        .collect();
    files.sort();
    run_counting(
        Command::new("node")
            .args(["--test", "--test-reporter=spec", "--test-concurrency=1"])
            .args(&files)
            .current_dir(&dir)
            .env("BASE_URL", format!("http://{addr}"))
            .env("CONVSCOPE_TGZ", tarball)
            .env("CHROME", chrome),
    )
}
