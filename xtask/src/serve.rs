//! A small static file server for the playground (and the benchmark page): correct MIME types,
//! `Cache-Control: no-cache`, and a Content-Security-Policy that allows only the page's own
//! origin, so anything that tries to reach elsewhere fails loudly in the browser console.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::thread;

use crate::util::Result;

/// Only our origin; `'wasm-unsafe-eval'` lets the page compile its wasm.
pub const CSP_PAGE: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; worker-src 'self'; \
object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// URL prefix → directory. The first matching prefix wins, so list longer prefixes first.
#[derive(Clone)]
pub struct Site {
    pub mounts: Vec<(String, PathBuf)>,
    pub csp: &'static str,
}

impl Site {
    /// The playground: `www/` at `/`, `data/` at `/data/`.
    pub fn playground() -> Site {
        let root = crate::util::root();
        Site {
            mounts: vec![
                ("/data/".into(), root.join("data")),
                ("/".into(), root.join("www")),
            ],
            csp: CSP_PAGE,
        }
    }
}

/// Binds `127.0.0.1:port` (0 = any free port) and serves in background threads.
/// Returns the bound address.
pub fn start(site: Site, port: u16) -> Result<SocketAddr> {
    let listener = TcpListener::bind(("127.0.0.1", port)).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            format!("port {port} is already in use: pick another with --port N")
        } else {
            format!("cannot listen on 127.0.0.1:{port}: {e}")
        }
    })?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let site = Arc::new(site);
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let site = Arc::clone(&site);
            thread::spawn(move || {
                let _ = handle(&site, stream);
            });
        }
    });
    Ok(addr)
}

pub fn mime(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "wasm" => "application/wasm",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" | "md" => "text/plain; charset=utf-8",
        "ts" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Maps a URL path onto a file inside one of the mounts; `..` and absolute parts are refused.
fn resolve(site: &Site, url_path: &str) -> Option<PathBuf> {
    let path = url_path.split(['?', '#']).next().unwrap_or("/");
    let path = percent_decode(path)?;
    for (prefix, dir) in &site.mounts {
        if let Some(rest) = path.strip_prefix(prefix.as_str()) {
            let rel = Path::new(rest);
            if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
                return None;
            }
            let mut file = dir.join(rel);
            if file.is_dir() {
                file = file.join("index.html");
            }
            return file.is_file().then_some(file);
        }
    }
    None
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn handle(site: &Site, stream: TcpStream) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // Drain the headers; we need none of them.
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
    }
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or("");
    let target = parts.next().unwrap_or("/");
    let mut out = stream;
    if method != "GET" && method != "HEAD" {
        return respond(
            &mut out,
            site,
            "405 Method Not Allowed",
            "text/plain",
            b"GET only\n",
            method == "HEAD",
        );
    }
    match resolve(site, target) {
        Some(file) => {
            let mut body = Vec::new();
            std::fs::File::open(&file)?.read_to_end(&mut body)?;
            respond(
                &mut out,
                site,
                "200 OK",
                mime(&file),
                &body,
                method == "HEAD",
            )
        }
        None => respond(
            &mut out,
            site,
            "404 Not Found",
            "text/plain; charset=utf-8",
            format!("not found: {target}\n").as_bytes(),
            method == "HEAD",
        ),
    }
}

fn respond(
    out: &mut TcpStream,
    site: &Site,
    status: &str,
    mime: &str,
    body: &[u8],
    head_only: bool,
) -> std::io::Result<()> {
    let header = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {mime}\r\nContent-Length: {}\r\n\
Cache-Control: no-cache\r\nContent-Security-Policy: {}\r\nX-Content-Type-Options: nosniff\r\n\
Cross-Origin-Opener-Policy: same-origin\r\nCross-Origin-Embedder-Policy: require-corp\r\n\
Connection: close\r\n\r\n",
        body.len(),
        site.csp
    );
    out.write_all(header.as_bytes())?;
    if !head_only {
        out.write_all(body)?;
    }
    out.flush()
}

/// `cargo xtask serve [--port N]`: build, then serve until Ctrl-C.
pub fn serve(port: u16) -> Result<()> {
    // Bind first, so a port in use is reported before a build of a minute or more.
    let addr = start(Site::playground(), port)?;
    crate::build::build()?;
    println!("convscope playground: http://{addr}/  (Ctrl-C stops it)");
    loop {
        thread::park();
    }
}
