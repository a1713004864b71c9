//! Precompressed copies of the built wasm and JS: `x.wasm.br` and `x.wasm.gz` beside
//! `x.wasm`, written at build time (only when missing or older than the file), so that
//! `cargo xtask serve` sends a browser that accepts them a quarter of the bytes without
//! compressing anything per request. gzip through flate2 (already the crate's inflater),
//! brotli through the `brotli` crate (Dropbox's pure-Rust port of Google's encoder).

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::util::{self, Result};

/// A content coding the server can send, best first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Br,
    Gzip,
}

impl Encoding {
    pub const ALL: [Encoding; 2] = [Encoding::Br, Encoding::Gzip];

    /// The token of `Accept-Encoding` / `Content-Encoding`.
    pub fn token(self) -> &'static str {
        match self {
            Encoding::Br => "br",
            Encoding::Gzip => "gzip",
        }
    }

    /// The sidecar's suffix.
    fn suffix(self) -> &'static str {
        match self {
            Encoding::Br => "br",
            Encoding::Gzip => "gz",
        }
    }

    /// `file` with this coding's suffix added: `a.wasm` → `a.wasm.br`.
    pub fn sidecar(self, file: &Path) -> PathBuf {
        let mut name = file.as_os_str().to_owned();
        name.push(".");
        name.push(self.suffix());
        PathBuf::from(name)
    }

    fn compress(self, data: &[u8]) -> Result<Vec<u8>> {
        let io = |e: std::io::Error| format!("{} compression failed: {e}", self.token());
        match self {
            Encoding::Gzip => {
                let mut enc =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
                enc.write_all(data).map_err(io)?;
                enc.finish().map_err(io)
            }
            Encoding::Br => {
                let mut out = Vec::new();
                {
                    // Quality 11 (the best), a 4 MiB window: once per build, never per request.
                    let mut enc = brotli::CompressorWriter::new(&mut out, 64 * 1024, 11, 22);
                    enc.write_all(data).map_err(io)?;
                    enc.flush().map_err(io)?;
                }
                Ok(out)
            }
        }
    }
}

/// Whether a file is worth precompressing: the wasm and its JS.
fn compressible(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("wasm" | "js")
    )
}

/// Writes the `.br` and `.gz` of every `*.wasm` and `*.js` in `dir` (not below it) that are
/// missing or older than their file; returns how many it wrote. Each is written to a
/// temporary name and renamed, so a server never sends half of one.
pub fn precompress_dir(dir: &Path) -> Result<usize> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && compressible(p))
        .collect();
    files.sort();
    let mut written = 0;
    for file in files {
        let mut data = None;
        for enc in Encoding::ALL {
            let out = enc.sidecar(&file);
            if is_fresh(&file, &out) {
                continue;
            }
            if data.is_none() {
                data = Some(
                    std::fs::read(&file)
                        .map_err(|e| format!("cannot read {}: {e}", file.display()))?,
                );
            }
            let packed = enc.compress(data.as_deref().unwrap_or_default())?;
            let tmp = out.with_extension(format!("{}.tmp", enc.suffix()));
            std::fs::write(&tmp, packed)
                .and_then(|()| std::fs::rename(&tmp, &out))
                .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
            written += 1;
        }
    }
    Ok(written)
}

/// Whether `sidecar` exists and is at least as new as `file` (so it holds `file` as it is).
pub fn is_fresh(file: &Path, sidecar: &Path) -> bool {
    matches!((util::mtime(file), util::mtime(sidecar)), (Some(src), Some(dst)) if dst >= src)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    pub fn gunzip(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(data)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    pub fn unbrotli(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        brotli::Decompressor::new(data, 4096)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn sidecars_hold_the_file_and_are_rewritten_only_when_stale() {
        let dir = std::env::temp_dir().join(format!("convscope-compress-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let js: Vec<u8> = (0..20_000)
            .flat_map(|i| format!("export const v{i} = {};\n", i % 7).into_bytes())
            .collect();
        std::fs::write(dir.join("a.js"), &js).unwrap();
        std::fs::write(dir.join("b.wasm"), [0u8, 97, 115, 109, 1, 0, 0, 0]).unwrap();
        std::fs::write(dir.join("c.html"), "<p>not compressed</p>").unwrap();
        assert_eq!(precompress_dir(&dir).unwrap(), 4);
        let br = std::fs::read(dir.join("a.js.br")).unwrap();
        let gz = std::fs::read(dir.join("a.js.gz")).unwrap();
        assert_eq!(unbrotli(&br), js);
        assert_eq!(gunzip(&gz), js);
        assert!(br.len() < js.len() / 4 && gz.len() < js.len() / 4);
        assert_eq!(
            gunzip(&std::fs::read(dir.join("b.wasm.gz")).unwrap()),
            [0u8, 97, 115, 109, 1, 0, 0, 0]
        );
        assert!(!dir.join("c.html.gz").exists() && !dir.join("c.html.br").exists());
        // Fresh: nothing is written again.
        assert_eq!(precompress_dir(&dir).unwrap(), 0);
        // A newer file makes its sidecars stale: both are written again, and hold the new file.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(dir.join("b.wasm"), [1u8, 2, 3]).unwrap();
        assert!(!is_fresh(&dir.join("b.wasm"), &dir.join("b.wasm.br")));
        assert_eq!(precompress_dir(&dir).unwrap(), 2);
        assert_eq!(
            unbrotli(&std::fs::read(dir.join("b.wasm.br")).unwrap()),
            [1u8, 2, 3]
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
