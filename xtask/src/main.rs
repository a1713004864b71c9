//! Every developer task is one command: `cargo xtask build | serve | test | fuzz | bench | train`.

mod bench;
mod build;
mod compress;
mod pack;
mod serve;
mod test;
mod train;
mod util;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  build [--bench]    build the wasm flavours (simd128, relaxed-simd, and threads where nightly
                     can be had) into www/pkg/ (--bench: the benchmark's exports, into bench/pkg/)
  serve [--port N]   build, then serve the playground on http://127.0.0.1:8000/
  test               fmt, clippy, native tests, wasm tests in Chromium, end-to-end tests
  fuzz [--calls N] [--seed S]   hostile calls at the JS boundary, each build (default 10^6)
  pack               build, then write the npm package (target/npm/convscope-*.tgz) and print its path
  bench [--quick] [--rows LIST] [--no-model] [--no-training] [--no-threads] [--no-node]
        [--allow-load]
                     side-by-side benchmark in headless Chromium → bench/results.{json,md}
                     (with a threads section: 1 and 2 threads beside TF.js's, and the
                     cnn's time to 98.5% on the Train page; --no-training skips it), then
                     the same kernels and training in node 20 (--no-node skips it)
  train [--model cnn|slp|mlp] [--epochs N] [--seed S] [--out PATH]   train an MNIST model (native)
";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("build") => match &args[1..] {
            [] => build::build(),
            [flag] if flag == "--bench" => {
                build::build_some(build::Contents::Bench, &["simd128", "relaxed"])
            }
            rest => Err(format!(
                "build takes only --bench, got `{}`",
                rest.join(" ")
            )),
        },
        Some("serve") => parse_port(&args[1..]).and_then(serve::serve),
        Some("test") => test::test(),
        Some("fuzz") => test::fuzz(&args[1..]),
        Some("bench") => bench::bench(&args[1..]),
        Some("pack") => match &args[1..] {
            [] => pack::pack(),
            rest => Err(format!("pack takes no arguments, got `{}`", rest.join(" "))),
        },
        Some("train") => train::train(&args[1..]),
        Some("-h" | "--help" | "help") | None => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command `{other}`\n\n{USAGE}")),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn parse_port(args: &[String]) -> util::Result<u16> {
    match args {
        [] => Ok(8000),
        [flag, n] if flag == "--port" => n
            .parse()
            .map_err(|_| format!("--port takes a number from 0 to 65535, got `{n}`")),
        _ => Err(format!(
            "serve takes only --port N, got `{}`",
            args.join(" ")
        )),
    }
}
