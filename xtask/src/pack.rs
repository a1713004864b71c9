//! `cargo xtask pack`: the npm package. Builds both wasm flavours (as `build` does), stages
//! them with an entry module and its types in `target/npm/convscope/`, and runs `npm pack`,
//! printing the tarball's path. The package's `init()` (no arguments) loads the relaxed-simd
//! build where the runtime validates it, else the simd128 one, from files beside itself: read
//! from disk in node, fetched by URL in a browser (so a bundler sees the wasm as an asset).
//! Its API is the playground's own `api.js` (the classes around the exports' handles) and its
//! types `api.d.ts`; the entry re-exports every name of it, bound once `init()` resolves.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::build::{self, FLAVOURS};
use crate::util::{self, Result};

/// The files of one flavour the package carries (beside its `snippets/` folder).
const FLAVOUR_FILES: [&str; 4] = ["convscope.js", "convscope_bg.wasm", "api.js", "api.d.ts"];

pub fn pack() -> Result<()> {
    build::build()?;
    let tarball = stage_and_pack()?;
    println!("{}", tarball.display());
    Ok(())
}

/// Stages the package from `www/pkg/` (built) and packs it; returns the tarball's path.
pub fn stage_and_pack() -> Result<PathBuf> {
    let root = util::root();
    let out = root.join("target/npm");
    let stage = out.join("convscope");
    if stage.exists() {
        std::fs::remove_dir_all(&stage)
            .map_err(|e| format!("cannot clear {}: {e}", stage.display()))?;
    }
    for f in FLAVOURS {
        let from = build::Contents::Playground.pkg_dir().join(f.name);
        let to = stage.join(f.name);
        mkdir(&to)?;
        for name in FLAVOUR_FILES {
            copy(&from.join(name), &to.join(name))?;
        }
        copy_dir(&from.join("snippets"), &to.join("snippets"))?;
    }
    let api = read(&root.join("crate/js/api.js"))?;
    let names = exported_names(&api);
    if names.is_empty() {
        return Err("crate/js/api.js exports nothing: cannot write the package's entry".into());
    }
    write(&stage.join("index.js"), &entry_js(&names))?;
    write(&stage.join("index.d.ts"), ENTRY_DTS)?;
    let version = crate_version(&read(&root.join("crate/Cargo.toml"))?)?;
    write(&stage.join("package.json"), &package_json(&version))?;
    let dts = read(&root.join("crate/js/api.d.ts"))?;
    write(&stage.join("README.md"), &readme(&version, &dts))?;
    for license in ["LICENSE", "LICENSE-MIT", "LICENSE-APACHE"] {
        let p = root.join(license);
        if p.exists() {
            copy(&p, &stage.join(license))?;
        }
    }
    let mut npm = Command::new("npm");
    npm.current_dir(&stage)
        .args(["pack", "--silent", "--pack-destination"])
        .arg(&out);
    let name = util::output(&mut npm)
        .ok_or_else(|| format!("`{}` failed (is npm installed?)", util::describe(&npm)))?;
    let file = name.trim().lines().last().unwrap_or("").trim().to_string();
    let tarball = out.join(&file);
    if file.is_empty() || !tarball.exists() {
        return Err(format!(
            "npm pack wrote no tarball into {} (it said {name:?})",
            out.display()
        ));
    }
    Ok(tarball)
}

/// Every name `api.js` exports but its default (`export class X`, `export const x`,
/// `export function x`, and the names of `export { a, b } from …` lists).
pub fn exported_names(api: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut in_list = false;
    for line in api.lines() {
        let l = line.trim();
        if in_list {
            let (part, end) = match l.find('}') {
                Some(i) => (&l[..i], true),
                None => (l, false),
            };
            names.extend(list_names(part));
            in_list = !end;
            continue;
        }
        if let Some(rest) = l.strip_prefix("export {") {
            match rest.find('}') {
                Some(i) => names.extend(list_names(&rest[..i])),
                None => {
                    names.extend(list_names(rest));
                    in_list = true;
                }
            }
            continue;
        }
        for kw in [
            "export class ",
            "export const ",
            "export function ",
            "export let ",
        ] {
            if let Some(rest) = l.strip_prefix(kw) {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '$')
                    .collect();
                if !name.is_empty() {
                    names.push(name);
                }
            }
        }
    }
    names.sort();
    names.dedup();
    names.retain(|n| n != "default");
    names
}

fn list_names(part: &str) -> Vec<String> {
    part.split(',')
        .map(|n| n.trim())
        .filter(|n| !n.is_empty() && !n.starts_with("//"))
        .map(|n| n.rsplit(" as ").next().unwrap_or(n).trim().to_string())
        .collect()
}

/// The entry module: `init()` picks and loads a build, then binds every export of its API.
fn entry_js(names: &[String]) -> String {
    let list = names.join(", ");
    format!(
        r#"// convscope: convolution layers on SIMD wasm kernels (GEMM, conv2d, conv_transpose2d and
// their backward passes), with the classes Tensor, Model, Dataset and Trainer around them.
// Written by `cargo xtask pack`. Call `await init()` once before anything else.
//
// init() loads the relaxed-simd build where the runtime validates it (Chromium, recent V8;
// node 20 needs --experimental-wasm-relaxed-simd), else the simd128 build: from the files beside
// this module, read from disk in node and fetched by URL elsewhere. `init({{ flavour }})` picks one.

/* eslint-disable import/no-mutable-exports */
export let {list};

const WASM = {{
  relaxed: new URL('./relaxed/convscope_bg.wasm', import.meta.url),
  simd128: new URL('./simd128/convscope_bg.wasm', import.meta.url),
}};
const isNode = typeof process !== 'undefined' && !!process.versions?.node && typeof window === 'undefined';

async function bytesOf(url) {{
  if (isNode && url.protocol === 'file:') {{
    const {{ readFile }} = await import('node:fs/promises');
    return new Uint8Array(await readFile(url));
  }}
  const res = await fetch(url);
  if (!res.ok) throw new Error(`convscope: could not load ${{url}}: HTTP ${{res.status}}`);
  return new Uint8Array(await res.arrayBuffer());
}}

let loading = null;
let loaded = null;

/**
 * Loads the wasm (once) and binds the API. Resolves to `{{ flavour }}`: 'relaxed' or 'simd128'.
 * `options.flavour` asks for one ('relaxed' fails where the runtime has no relaxed SIMD).
 */
export default function init(options = {{}}) {{
  if (options === null || typeof options !== 'object') {{
    return Promise.reject(new Error(`convscope: invalid options = ${{options === null ? 'null' : typeof options}}: must be an object like {{ flavour: 'simd128' }} or nothing`));
  }}
  const want = options.flavour;
  if (want !== undefined && want !== 'relaxed' && want !== 'simd128') {{
    return Promise.reject(new Error(`convscope: invalid flavour = ${{String(want)}}: must be 'relaxed' or 'simd128'`));
  }}
  if (loaded) {{
    return want === undefined || want === loaded.flavour
      ? Promise.resolve(loaded)
      : Promise.reject(new Error(`convscope: already initialised with the ${{loaded.flavour}} build; one page or process runs one build`));
  }}
  if (!loading) {{
    loading = (async () => {{
      let flavour = want;
      let bytes = null;
      if (flavour !== 'simd128') {{
        bytes = await bytesOf(WASM.relaxed);
        const ok = WebAssembly.validate(bytes);
        if (!ok && flavour === 'relaxed') throw new Error('convscope: this runtime does not validate the relaxed-simd build (in node 20: --experimental-wasm-relaxed-simd); init() without a flavour falls back to simd128');
        flavour = ok ? 'relaxed' : 'simd128';
      }}
      if (flavour === 'simd128') bytes = await bytesOf(WASM.simd128);
      const api = flavour === 'relaxed' ? await import('./relaxed/api.js') : await import('./simd128/api.js');
      await api.default({{ module_or_path: bytes }});
      ({{ {list} }} = api);
      loaded = {{ flavour }};
      return loaded;
    }})();
    loading.catch(() => {{ loading = null; }});
  }}
  return loading;
}}
"#
    )
}

/// The entry's types: the API's (the same for both builds) and `init`.
const ENTRY_DTS: &str = r#"// convscope's types: the API of `api.d.ts` and the entry's `init`. Written by `cargo xtask pack`.
export * from './simd128/api.js';

/** Which wasm build runs: relaxed-simd where the runtime validates it, else simd128. */
export type Flavour = 'relaxed' | 'simd128';

/**
 * Loads the wasm once and binds the API; call before anything else.
 * `flavour` asks for a build ('relaxed' rejects where the runtime has no relaxed SIMD).
 */
export default function init(options?: { flavour?: Flavour }): Promise<{ flavour: Flavour }>;
"#;

fn package_json(version: &str) -> String {
    let files: Vec<String> = ["index.js", "index.d.ts", "README.md"]
        .iter()
        .map(|s| s.to_string())
        .chain(FLAVOURS.iter().map(|f| format!("{}/", f.name)))
        .chain(
            ["LICENSE", "LICENSE-MIT", "LICENSE-APACHE"]
                .iter()
                .filter(|l| util::root().join(l).exists())
                .map(|s| s.to_string()),
        )
        .collect();
    let files: Vec<String> = files.iter().map(|f| format!("\"{f}\"")).collect();
    format!(
        r#"{{
  "name": "convscope",
  "version": "{version}",
  "description": "Convolution layers on SIMD WebAssembly kernels: GEMM, conv2d and conv_transpose2d (forward and backward), typed, for node and the browser",
  "license": "MIT OR Apache-2.0",
  "type": "module",
  "main": "./index.js",
  "types": "./index.d.ts",
  "exports": {{
    ".": {{ "types": "./index.d.ts", "default": "./index.js" }},
    "./package.json": "./package.json"
  }},
  "files": [{files}],
  "sideEffects": false,
  "engines": {{ "node": ">=20" }},
  "keywords": ["convolution", "conv2d", "webassembly", "simd", "gemm", "cnn", "wasm"]
}}
"#,
        files = files.join(", ")
    )
}

/// The package's README: install, the three-line example, and the API reference made from the
/// doc comments and signatures of `api.d.ts`.
fn readme(version: &str, dts: &str) -> String {
    let mut s = format!(
        r#"# convscope {version}

Convolution layers on SIMD WebAssembly kernels: GEMM, `conv2d` and `conv_transpose2d` (forward
and backward), max pooling, ReLU, softmax, and models (load safetensors or ONNX, run, explain,
train). The same kernels run the convscope playground.

## Install

```sh
npm install ./convscope-{version}.tgz
```

## Three lines

```js
import init, {{ Tensor, conv2d }} from 'convscope';
await init();   // finds its own wasm: relaxed-simd where the runtime has it, else simd128
const y = conv2d(new Tensor(new Float32Array(25).fill(1), [1, 1, 5, 5]), new Tensor(new Float32Array(9).fill(1), [1, 1, 3, 3]), null, {{ padding: 1 }});
console.log(y.shape, y.toArray());   // [1, 1, 5, 5], Float32Array [4, 6, 6, 6, 4, 6, 9, …]
```

Node ≥ 20 (ES modules), browsers as plain ES modules, and bundlers (the wasm files are
referenced as `new URL('./…/convscope_bg.wasm', import.meta.url)`). Bad arguments throw an
`Error` naming the argument and the rule; a `Tensor` is freed with `free()` (or when collected).

## API

"#
    );
    s.push_str(&api_reference(dts));
    s
}

/// Each exported declaration of `api.d.ts` with its doc comment, in order.
pub fn api_reference(dts: &str) -> String {
    let mut out = String::new();
    let mut doc: Vec<String> = Vec::new();
    let mut in_doc = false;
    for line in dts.lines() {
        let l = line.trim();
        if l.starts_with("/**") {
            doc.clear();
            in_doc = !l.ends_with("*/");
            doc.push(clean_doc(l));
            continue;
        }
        if in_doc {
            in_doc = !l.ends_with("*/");
            doc.push(clean_doc(l));
            continue;
        }
        if line.starts_with("export ") {
            let sig = l.trim_end_matches('{').trim();
            let text: Vec<String> = doc.iter().filter(|d| !d.is_empty()).cloned().collect();
            out.push_str(&format!("- `{sig}`"));
            if !text.is_empty() {
                out.push_str(&format!(": {}", text.join(" ")));
            }
            out.push('\n');
        }
        if !l.is_empty() {
            doc.clear();
        }
    }
    out
}

fn clean_doc(l: &str) -> String {
    l.trim_start_matches("/**")
        .trim_end_matches("*/")
        .trim_start_matches('*')
        .trim()
        .to_string()
}

fn crate_version(toml: &str) -> Result<String> {
    toml.lines()
        .find_map(|l| {
            let l = l.trim();
            let v = l.strip_prefix("version")?.trim().strip_prefix('=')?.trim();
            Some(v.trim_matches('"').to_string())
        })
        .ok_or_else(|| "crate/Cargo.toml names no version".to_string())
}

fn read(p: &Path) -> Result<String> {
    std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))
}

fn write(p: &Path, text: &str) -> Result<()> {
    std::fs::write(p, text).map_err(|e| format!("cannot write {}: {e}", p.display()))
}

fn mkdir(p: &Path) -> Result<()> {
    std::fs::create_dir_all(p).map_err(|e| format!("cannot create {}: {e}", p.display()))
}

fn copy(from: &Path, to: &Path) -> Result<()> {
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), to.display()))
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    if !from.exists() {
        return Ok(());
    }
    mkdir(to)?;
    let entries =
        std::fs::read_dir(from).map_err(|e| format!("cannot read {}: {e}", from.display()))?;
    for e in entries {
        let e = e.map_err(|e| format!("cannot read {}: {e}", from.display()))?;
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()))?;
        } else {
            copy(&p, &to.join(e.file_name()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_entry_binds_every_export_of_the_api() {
        let api = "export default init;\nexport {\n  initSync, simdLevel,\n  traceCorrelate,\n} from './convscope.js';\nexport { a as b } from 'x';\nexport class Tensor extends Owned {\nexport const conv2d = (x) => 1;\nexport function f() {}\n";
        assert_eq!(
            exported_names(api),
            [
                "Tensor",
                "b",
                "conv2d",
                "f",
                "initSync",
                "simdLevel",
                "traceCorrelate"
            ]
        );
        let real = read(&util::root().join("crate/js/api.js")).unwrap();
        let names = exported_names(&real);
        for n in [
            "Tensor",
            "Model",
            "Trainer",
            "Dataset",
            "conv2d",
            "convTranspose2d",
            "matmul",
            "traceCorrelate",
        ] {
            assert!(names.iter().any(|x| x == n), "{n} missing from {names:?}");
        }
    }

    #[test]
    fn the_reference_lists_declarations_with_their_docs() {
        let dts = "/** Adds. */\nexport function add(a: number): number;\nexport interface X { a: number }\n";
        let r = api_reference(dts);
        assert!(
            r.contains("- `export function add(a: number): number;`: Adds."),
            "{r}"
        );
        assert!(r.contains("- `export interface X { a: number }`\n"), "{r}");
    }
}
