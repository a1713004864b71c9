//! A small static file server for the playground (and the benchmark page): correct MIME types,
//! `Cache-Control: no-cache`, and a Content-Security-Policy that allows only the page's own
//! origin, so anything that tries to reach elsewhere fails loudly in the browser console.
//!
//! It serves only files inside its mounts: see `resolve` for the path guard, and the tests at
//! the end for the raw requests (no browser normalisation) it is checked against. Request lines
//! and headers are read within fixed limits; anything malformed gets a short 400.
//!
//! A file with a fresh precompressed copy beside it (`x.wasm.br`, `x.wasm.gz`: written by the
//! build, see `compress`) is sent compressed to a browser whose `Accept-Encoding` takes it,
//! with `Content-Encoding` and `Vary: Accept-Encoding`; a request with a `Range` header always
//! gets the plain file (ranges are not served, so the whole of it).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use crate::compress::{self, Encoding};
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

/// The longest request line and header line read; a browser's are far shorter.
const MAX_LINE: usize = 8 * 1024;
/// All header lines together, and how many there may be.
const MAX_HEADERS: usize = 64 * 1024;
const MAX_HEADER_LINES: usize = 100;
/// A client that sends nothing for this long is dropped.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a request gets no file: 400 (it could never name one) or 404.
#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    BadRequest(&'static str),
    NotFound,
}

/// Maps a request target onto a file inside one of the mounts.
///
/// The target is decoded once and then checked segment by segment: empty, `.` and `..`
/// segments, backslashes and control characters (NUL included) are refused before the file
/// system is asked anything. Dotfiles are not served, and a symlink may not lead out of its
/// mount (the canonical path must stay inside the canonical mount directory).
fn resolve(site: &Site, target: &str) -> std::result::Result<PathBuf, Refusal> {
    let path = target.split(['?', '#']).next().unwrap_or("");
    if !path.starts_with('/') {
        return Err(Refusal::BadRequest("the path must start with /"));
    }
    let path = percent_decode(path).ok_or(Refusal::BadRequest("invalid percent escape"))?;
    if path.contains('\\') {
        return Err(Refusal::BadRequest("backslash in path"));
    }
    if path.chars().any(char::is_control) {
        return Err(Refusal::BadRequest("control character in path"));
    }
    let (prefix, dir) = site
        .mounts
        .iter()
        .find(|(prefix, _)| path.starts_with(prefix.as_str()))
        .ok_or(Refusal::NotFound)?;
    let rest = &path[prefix.len()..];
    // "a/b/" may end in one empty segment (a directory); no other segment may be empty.
    let segments = rest.strip_suffix('/').unwrap_or(rest);
    if !segments.is_empty() {
        for seg in segments.split('/') {
            match seg {
                "" | "." | ".." => return Err(Refusal::BadRequest("empty, . or .. segment")),
                s if s.starts_with('.') => return Err(Refusal::NotFound),
                _ => {}
            }
        }
    }
    let rel = Path::new(rest);
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return Err(Refusal::BadRequest("not a relative path"));
    }
    let mut file = dir.join(rel);
    if file.is_dir() {
        file = file.join("index.html");
    }
    let (Ok(real), Ok(real_dir)) = (file.canonicalize(), dir.canonicalize()) else {
        return Err(Refusal::NotFound);
    };
    if !real.starts_with(&real_dir) || !real.is_file() {
        return Err(Refusal::NotFound);
    }
    Ok(file)
}

/// Decodes `%XX` escapes (exactly two hex digits each); None for a malformed escape or a
/// result that is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hi = hex(*b.get(i + 1)?)?;
            let lo = hex(*b.get(i + 2)?)?;
            out.push(hi << 4 | lo);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Reads one line of at most `max` bytes (CRLF or LF); None when it is longer.
fn read_line<R: BufRead>(reader: &mut R, max: usize) -> std::io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    reader.take(max as u64 + 1).read_until(b'\n', &mut line)?;
    Ok((line.ends_with(b"\n") || line.len() <= max).then_some(line))
}

/// After a 400 sent before the whole request was read: stop writing, then read and drop what
/// the client still sends (bounded), so that closing does not reset the connection before
/// the client has read the reply.
fn linger(stream: &TcpStream, reader: &mut impl Read) {
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = std::io::copy(&mut reader.take(1 << 20), &mut std::io::sink());
}

/// What the server reads of a request.
#[derive(Debug, Default)]
struct Request {
    method: String,
    target: String,
    /// Every `Accept-Encoding` value, joined with commas.
    accept_encoding: String,
    /// A `Range` header was sent.
    range: bool,
}

/// The request line and headers, read within the limits: Ok(the request) or the reason for
/// a 400.
fn read_request<R: BufRead>(
    reader: &mut R,
) -> std::io::Result<std::result::Result<Request, &'static str>> {
    let Some(line) = read_line(reader, MAX_LINE)? else {
        return Ok(Err("request line too long"));
    };
    let mut header_bytes = 0;
    let (mut accept_encoding, mut range) = (String::new(), false);
    for _ in 0..=MAX_HEADER_LINES {
        let Some(h) = read_line(reader, MAX_LINE)? else {
            return Ok(Err("header line too long"));
        };
        header_bytes += h.len();
        if header_bytes > MAX_HEADERS {
            return Ok(Err("headers too long"));
        }
        if h.is_empty() || h == b"\r\n" || h == b"\n" {
            return Ok(parse_request_line(line).map(|(method, target)| Request {
                method,
                target,
                accept_encoding,
                range,
            }));
        }
        // Header names are ASCII and case-insensitive; a value that is not UTF-8 is ignored.
        if let Some((name, value)) = std::str::from_utf8(&h).ok().and_then(|h| h.split_once(':')) {
            let name = name.trim();
            if name.eq_ignore_ascii_case("accept-encoding") {
                if !accept_encoding.is_empty() {
                    accept_encoding.push(',');
                }
                accept_encoding.push_str(value.trim());
            } else if name.eq_ignore_ascii_case("range") {
                range = true;
            }
        }
    }
    Ok(Err("too many header lines"))
}

/// The coding to send from those the file has (`available`, best first), by the client's
/// `Accept-Encoding` (RFC 9110 §12.5.3): the highest q wins, `br` before `gzip` on a tie;
/// `q=0` refuses a coding; `*` stands for every coding not named. None: the plain file.
fn choose_encoding(accept: &str, available: &[Encoding]) -> Option<Encoding> {
    let mut named: Vec<(String, f32)> = Vec::new();
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        if coding.is_empty() {
            continue;
        }
        let mut q = 1.0f32;
        for p in parts {
            if let Some((k, v)) = p.split_once('=') {
                if k.trim().eq_ignore_ascii_case("q") {
                    q = v
                        .trim()
                        .parse()
                        .ok()
                        .filter(|q: &f32| (0.0..=1.0).contains(q))
                        .unwrap_or(0.0);
                }
            }
        }
        named.push((coding, q));
    }
    let q_of = |e: Encoding| {
        named
            .iter()
            .find(|(c, _)| c == e.token())
            .or_else(|| named.iter().find(|(c, _)| c == "*"))
            .map_or(0.0, |&(_, q)| q)
    };
    let mut best: Option<(Encoding, f32)> = None;
    for &e in available {
        let q = q_of(e);
        if q > 0.0 && best.is_none_or(|(_, b)| q > b) {
            best = Some((e, q));
        }
    }
    best.map(|(e, _)| e)
}

/// The codings `file` has a fresh precompressed copy of, best first. A copy must be a regular
/// file in the same real directory as the file (a symlink leading elsewhere is not one) and
/// at least as new as the file.
fn precompressed(file: &Path) -> Vec<Encoding> {
    let Some(dir) = file
        .canonicalize()
        .ok()
        .and_then(|f| f.parent().map(Path::to_path_buf))
    else {
        return vec![];
    };
    Encoding::ALL
        .into_iter()
        .filter(|&e| {
            let side = e.sidecar(file);
            side.canonicalize()
                .is_ok_and(|real| real.parent() == Some(dir.as_path()) && real.is_file())
                && compress::is_fresh(file, &side)
        })
        .collect()
}

fn parse_request_line(line: Vec<u8>) -> std::result::Result<(String, String), &'static str> {
    let Ok(line) = String::from_utf8(line) else {
        return Err("request line is not UTF-8");
    };
    let mut parts = line.split_whitespace();
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(method), Some(target), Some(version), None) if version.starts_with("HTTP/") => {
            Ok((method.to_owned(), target.to_owned()))
        }
        _ => Err("malformed request line"),
    }
}

fn handle(site: &Site, stream: TcpStream) -> std::io::Result<()> {
    stream.set_read_timeout(Some(READ_TIMEOUT))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let request = read_request(&mut reader)?;
    let mut out = stream;
    let text = "text/plain; charset=utf-8";
    let request = match request {
        Ok(r) => r,
        Err(why) => {
            let body = format!("bad request: {why}\n");
            respond(
                &mut out,
                site,
                "400 Bad Request",
                text,
                body.as_bytes(),
                false,
                &[],
            )?;
            linger(&out, &mut reader);
            return Ok(());
        }
    };
    let (method, target) = (request.method.as_str(), request.target.as_str());
    let head = method == "HEAD";
    if method != "GET" && !head {
        return respond(
            &mut out,
            site,
            "405 Method Not Allowed",
            text,
            b"GET only\n",
            false,
            &[],
        );
    }
    match resolve(site, target) {
        Ok(file) => {
            let available = precompressed(&file);
            let chosen = if request.range {
                None
            } else {
                choose_encoding(&request.accept_encoding, &available)
            };
            let mut body = Vec::new();
            let path = chosen.map_or_else(|| file.clone(), |e| e.sidecar(&file));
            std::fs::File::open(&path)?.read_to_end(&mut body)?;
            let mut extra = Vec::new();
            if let Some(e) = chosen {
                extra.push(("Content-Encoding", e.token()));
            }
            if !available.is_empty() {
                extra.push(("Vary", "Accept-Encoding"));
            }
            respond(&mut out, site, "200 OK", mime(&file), &body, head, &extra)
        }
        Err(Refusal::BadRequest(why)) => {
            let body = format!("bad request: {why}\n");
            respond(
                &mut out,
                site,
                "400 Bad Request",
                text,
                body.as_bytes(),
                head,
                &[],
            )
        }
        Err(Refusal::NotFound) => {
            // The target is at most MAX_LINE bytes; echo a short one only.
            let shown = if target.len() <= 200 {
                target
            } else {
                "(long path)"
            };
            let body = format!("not found: {shown}\n");
            respond(
                &mut out,
                site,
                "404 Not Found",
                text,
                body.as_bytes(),
                head,
                &[],
            )
        }
    }
}

/// Sends one response: `extra` headers (`Content-Encoding`, `Vary`) after the fixed ones.
#[allow(clippy::too_many_arguments)]
fn respond(
    out: &mut TcpStream,
    site: &Site,
    status: &str,
    mime: &str,
    body: &[u8],
    head_only: bool,
    extra: &[(&str, &str)],
) -> std::io::Result<()> {
    let extra: String = extra.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
    let header = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {mime}\r\nContent-Length: {}\r\n{extra}\
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A throwaway tree: `www/` (served at `/`), `data/` (at `/data/`) and, beside them, a
    /// `secret.txt` that no request may reach.
    struct Tree {
        root: PathBuf,
    }

    const SECRET: &str = "SECRET-CONTENT-7f3a";

    impl Tree {
        fn new() -> Tree {
            static N: AtomicUsize = AtomicUsize::new(0);
            let root = std::env::temp_dir().join(format!(
                "convscope-serve-test-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::SeqCst)
            ));
            let _ = std::fs::remove_dir_all(&root);
            for d in ["www/sub", "data"] {
                std::fs::create_dir_all(root.join(d)).unwrap();
            }
            let files = [
                ("www/index.html", "INDEX"),
                ("www/app.js", "APP"),
                ("www/sub/index.html", "SUBINDEX"),
                ("www/.hidden", SECRET),
                ("data/x.bin", "DATA"),
                ("secret.txt", SECRET),
                ("index.html\\..\\secret.txt", SECRET),
            ];
            for (path, text) in files {
                std::fs::write(root.join(path), text).unwrap();
            }
            #[cfg(unix)]
            {
                use std::os::unix::fs::symlink;
                symlink(root.join("secret.txt"), root.join("www/link.txt")).unwrap();
                symlink(&root, root.join("www/escape")).unwrap();
            }
            Tree { root }
        }

        fn site(&self) -> Site {
            Site {
                mounts: vec![
                    ("/data/".into(), self.root.join("data")),
                    ("/".into(), self.root.join("www")),
                ],
                csp: CSP_PAGE,
            }
        }
    }

    impl Drop for Tree {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }

    /// Sends `request` as raw bytes (no client normalises it) and returns (status, body).
    fn raw(addr: SocketAddr, request: &[u8]) -> (u16, String) {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        s.write_all(request).unwrap();
        let mut reply = Vec::new();
        s.read_to_end(&mut reply).unwrap();
        let reply = String::from_utf8_lossy(&reply).into_owned();
        let status = reply
            .strip_prefix("HTTP/1.1 ")
            .and_then(|r| r.get(..3))
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| panic!("no status line in reply {reply:?}"));
        let body = reply
            .split_once("\r\n\r\n")
            .map_or("", |(_, b)| b)
            .to_owned();
        (status, body)
    }

    fn get(addr: SocketAddr, target: &str) -> (u16, String) {
        raw(
            addr,
            format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes(),
        )
    }

    /// Raw targets a browser would normalise (or refuse to send) before they reached a server.
    const HOSTILE: &[&str] = &[
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/.%2e/secret.txt",
        "/sub/../../secret.txt",
        "/sub/%2e%2e/%2e%2e/secret.txt",
        "/data/../secret.txt",
        "/data/%2e%2e/secret.txt",
        "//secret.txt",
        "/%2F..%2Fsecret.txt",
        "/%2f%2e%2e%2fsecret.txt",
        "/..%2fsecret.txt",
        "/..\\secret.txt",
        "/..%5csecret.txt",
        "/index.html\\..\\secret.txt",
        "/index.html%5c..%5csecret.txt",
        "/index.html%00.js",
        "/%00",
        "/%zz",
        "/%",
        "/%2",
        "/%+2e%+2e/secret.txt",
        "/%-2",
        "/%%32%65%%32%65/secret.txt",
        "/.hidden",
        "/link.txt",
        "/escape/secret.txt",
        "secret.txt",
        "../secret.txt",
        "*",
    ];

    #[test]
    fn hostile_paths_get_400_or_404_over_tcp() {
        let tree = Tree::new();
        let addr = start(tree.site(), 0).unwrap();
        // The tree is served at all: the refusals below are the guard, not a dead server.
        assert_eq!(get(addr, "/"), (200, "INDEX".into()));
        assert_eq!(get(addr, "/sub/"), (200, "SUBINDEX".into()));
        assert_eq!(get(addr, "/%61pp.js?v=1"), (200, "APP".into()));
        assert_eq!(get(addr, "/data/x.bin"), (200, "DATA".into()));
        let holes: Vec<String> = HOSTILE
            .iter()
            .filter_map(|target| {
                let (status, body) = get(addr, target);
                let refused = (status == 400 || status == 404) && !body.contains(SECRET);
                (!refused).then(|| format!("GET {target}: {status} {body:?}"))
            })
            .collect();
        assert!(
            holes.is_empty(),
            "the guard let through:\n{}",
            holes.join("\n")
        );
    }

    #[test]
    fn malformed_requests_get_400_over_tcp() {
        let tree = Tree::new();
        let addr = start(tree.site(), 0).unwrap();
        let long = format!("/{}", "a".repeat(100_000));
        let long_dots = format!("/{}secret.txt", "../".repeat(30_000));
        let cases: Vec<(&str, Vec<u8>)> = vec![
            (
                "a 100 KB path",
                format!("GET {long} HTTP/1.1\r\n\r\n").into_bytes(),
            ),
            (
                "30,000 ../",
                format!("GET {long_dots} HTTP/1.1\r\n\r\n").into_bytes(),
            ),
            (
                "non-UTF-8 bytes",
                b"GET /\xff\xfe.html HTTP/1.1\r\n\r\n".to_vec(),
            ),
            (
                "an encoded non-UTF-8 byte",
                b"GET /%ff.html HTTP/1.1\r\n\r\n".to_vec(),
            ),
            ("no version", b"GET /index.html\r\n\r\n".to_vec()),
            ("an empty request line", b"\r\n\r\n".to_vec()),
            (
                "a 100 KB header",
                format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "b".repeat(100_000)).into_bytes(),
            ),
            (
                "10,000 headers",
                format!("GET / HTTP/1.1\r\n{}\r\n", "X: y\r\n".repeat(10_000)).into_bytes(),
            ),
        ];
        for (what, request) in cases {
            let (status, body) = raw(addr, &request);
            let head: String = body.chars().take(200).collect();
            assert_eq!(status, 400, "{what}: status {status}, body {head:?}");
            assert!(body.len() < 200, "{what}: a {} byte reply", body.len());
        }
    }

    #[test]
    fn only_get_and_head_are_served() {
        let tree = Tree::new();
        let addr = start(tree.site(), 0).unwrap();
        let (status, body) = raw(addr, b"HEAD /index.html HTTP/1.1\r\n\r\n");
        assert_eq!((status, body.as_str()), (200, ""));
        let (status, _) = raw(
            addr,
            b"POST /index.html HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
        );
        assert_eq!(status, 405);
    }

    #[test]
    fn percent_decode_takes_exactly_two_hex_digits() {
        let ok = [
            ("", ""),
            ("/a/b.js", "/a/b.js"),
            ("%2e%2E", ".."),
            ("%41%62%7a", "Abz"),
            ("a%20b", "a b"),
            ("%25", "%"),
            ("%2541", "%41"),
            ("%C3%A9", "é"),
            ("é", "é"),
            ("%00", "\0"),
            ("%2F", "/"),
        ];
        for (input, want) in ok {
            assert_eq!(percent_decode(input).as_deref(), Some(want), "{input:?}");
        }
        let bad = [
            "%", "%2", "a%", "%zz", "%g0", "%0g", "%+1", "%-1", "% 1", "%%41", "%C3", "%ff",
            "%C3%", "%é",
        ];
        for input in bad {
            assert_eq!(percent_decode(input), None, "{input:?}");
        }
    }

    #[test]
    fn resolve_maps_inside_the_mounts_only() {
        let tree = Tree::new();
        let site = tree.site();
        let www = tree.root.join("www");
        let found = [
            ("/", www.join("index.html")),
            ("/index.html?v=2#top", www.join("index.html")),
            ("/%69ndex.html", www.join("index.html")),
            ("/sub", www.join("sub/index.html")),
            ("/sub/", www.join("sub/index.html")),
            ("/sub/index.html", www.join("sub/index.html")),
            ("/data/x.bin", tree.root.join("data/x.bin")),
        ];
        for (target, want) in found {
            assert_eq!(resolve(&site, target), Ok(want), "{target}");
        }
        let bad = [
            "",
            "index.html",
            "?/index.html",
            "/../secret.txt",
            "/%2e%2e/secret.txt",
            "/./index.html",
            "/sub/./index.html",
            "/sub//index.html",
            "//secret.txt",
            "/%2F..%2Fsecret.txt",
            "/data/../secret.txt",
            "/index.html%00.js",
            "/..\\secret.txt",
            "/..%5Csecret.txt",
            "/%zz",
            "/%",
            "/%0a",
            "/a\tb",
        ];
        for target in bad {
            assert!(
                matches!(resolve(&site, target), Err(Refusal::BadRequest(_))),
                "{target:?}: {:?}",
                resolve(&site, target)
            );
        }
        let missing = [
            "/missing.js",
            "/sub/missing",
            "/.hidden",
            "/link.txt",
            "/escape/secret.txt",
        ];
        for target in missing {
            assert_eq!(resolve(&site, target), Err(Refusal::NotFound), "{target}");
        }
    }

    /// The whole reply: status, headers (names lower-cased) and the body's bytes.
    fn raw_reply(addr: SocketAddr, request: &[u8]) -> (u16, Vec<(String, String)>, Vec<u8>) {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        s.write_all(request).unwrap();
        let mut reply = Vec::new();
        s.read_to_end(&mut reply).unwrap();
        let end = reply.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let head = String::from_utf8(reply[..end].to_vec()).unwrap();
        let mut lines = head.split("\r\n");
        let status = lines.next().unwrap()[9..12].parse().unwrap();
        let headers = lines
            .map(|l| {
                let (k, v) = l.split_once(':').unwrap();
                (k.trim().to_ascii_lowercase(), v.trim().to_string())
            })
            .collect();
        (status, headers, reply[end + 4..].to_vec())
    }

    fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn precompressed_files_go_to_browsers_that_accept_them() {
        use std::io::Read as _;
        let tree = Tree::new();
        let pkg = tree.root.join("www/pkg");
        std::fs::create_dir_all(&pkg).unwrap();
        let js: Vec<u8> = (0..5000)
            .flat_map(|i| format!("export const v{i} = {i};\n").into_bytes())
            .collect();
        std::fs::write(pkg.join("glue.js"), &js).unwrap();
        std::fs::write(pkg.join("plain.js"), "PLAIN").unwrap();
        assert_eq!(compress::precompress_dir(&pkg).unwrap(), 4);
        let addr = start(tree.site(), 0).unwrap();
        let get_with = |extra: &str| {
            raw_reply(
                addr,
                format!("GET /pkg/glue.js HTTP/1.1\r\nHost: x\r\n{extra}\r\n").as_bytes(),
            )
        };
        let unbrotli = |b: &[u8]| {
            let mut out = Vec::new();
            brotli::Decompressor::new(b, 4096)
                .read_to_end(&mut out)
                .unwrap();
            out
        };
        let gunzip = |b: &[u8]| {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(b)
                .read_to_end(&mut out)
                .unwrap();
            out
        };
        // Brotli first when both are taken.
        let (status, h, body) = get_with("Accept-Encoding: br, gzip\r\n");
        assert_eq!(status, 200);
        assert_eq!(header(&h, "content-encoding"), Some("br"));
        assert_eq!(header(&h, "vary"), Some("Accept-Encoding"));
        assert_eq!(
            header(&h, "content-type"),
            Some("text/javascript; charset=utf-8")
        );
        assert_eq!(
            header(&h, "content-length"),
            Some(body.len().to_string().as_str())
        );
        assert!(body.len() < js.len() / 4, "{} of {}", body.len(), js.len());
        assert_eq!(unbrotli(&body), js);
        // gzip when brotli is refused or not named; case and spacing do not matter.
        for accept in [
            "gzip",
            "br;q=0, gzip",
            "GZIP ; q=0.5, deflate",
            "br; q=0.1, gzip;q=0.9",
        ] {
            let (_, h, body) = get_with(&format!("Accept-Encoding: {accept}\r\n"));
            assert_eq!(header(&h, "content-encoding"), Some("gzip"), "{accept}");
            assert_eq!(gunzip(&body), js, "{accept}");
        }
        assert_eq!(
            header(&get_with("Accept-Encoding: *\r\n").1, "content-encoding"),
            Some("br")
        );
        // The plain file: no Accept-Encoding, nothing it takes, or a Range request.
        for extra in [
            "",
            "Accept-Encoding: identity\r\n",
            "Accept-Encoding: br;q=0, gzip;q=0\r\n",
            "Accept-Encoding: *;q=0\r\n",
            "Accept-Encoding: br, gzip\r\nRange: bytes=0-9\r\n",
        ] {
            let (status, h, body) = get_with(extra);
            assert_eq!(status, 200, "{extra:?}");
            assert_eq!(header(&h, "content-encoding"), None, "{extra:?}");
            assert_eq!(header(&h, "vary"), Some("Accept-Encoding"), "{extra:?}");
            assert_eq!(body, js, "{extra:?}");
        }
        // HEAD: the compressed length, no body.
        let (_, h, body) = raw_reply(
            addr,
            b"HEAD /pkg/glue.js HTTP/1.1\r\nAccept-Encoding: gzip\r\n\r\n",
        );
        let gz = std::fs::read(pkg.join("glue.js.gz")).unwrap();
        assert_eq!(
            header(&h, "content-length"),
            Some(gz.len().to_string().as_str())
        );
        assert!(body.is_empty());
        // A file without copies has no Vary; a stale copy (older than its file) is not sent.
        let (_, h, body) = raw_reply(addr, b"GET /app.js HTTP/1.1\r\nAccept-Encoding: br\r\n\r\n");
        assert_eq!(
            (header(&h, "content-encoding"), header(&h, "vary")),
            (None, None)
        );
        assert_eq!(body, b"APP");
        std::thread::sleep(Duration::from_millis(20));
        std::fs::write(pkg.join("glue.js"), "NEWER").unwrap();
        let (_, h, body) = get_with("Accept-Encoding: br, gzip\r\n");
        assert_eq!(header(&h, "content-encoding"), None);
        assert_eq!(body, b"NEWER");
    }

    /// A precompressed copy that is a symlink out of its directory is never sent.
    #[cfg(unix)]
    #[test]
    fn a_precompressed_copy_may_not_lead_out_of_the_mount() {
        let tree = Tree::new();
        let www = tree.root.join("www");
        // app.js.gz → the secret, newer than app.js.
        std::os::unix::fs::symlink(tree.root.join("secret.txt"), www.join("app.js.gz")).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        std::fs::write(tree.root.join("secret.txt"), SECRET).unwrap();
        let addr = start(tree.site(), 0).unwrap();
        let (status, h, body) = raw_reply(
            addr,
            b"GET /app.js HTTP/1.1\r\nAccept-Encoding: gzip\r\n\r\n",
        );
        assert_eq!(status, 200);
        assert_eq!(header(&h, "content-encoding"), None);
        assert_eq!(body, b"APP");
        assert!(precompressed(&www.join("app.js")).is_empty());
    }

    #[test]
    fn accept_encoding_is_read_by_q_value() {
        use Encoding::{Br, Gzip};
        let both = [Br, Gzip];
        let cases = [
            ("", None),
            ("br", Some(Br)),
            ("gzip, br", Some(Br)),
            ("gzip;q=1, br;q=0.5", Some(Gzip)),
            ("br;q=0", None),
            ("br;q=0, *", Some(Gzip)),
            ("*;q=0.2, gzip;q=0", Some(Br)),
            ("deflate, identity", None),
            ("br;q=nonsense, gzip", Some(Gzip)),
            ("br;q=2, gzip", Some(Gzip)),
            (" , ,br", Some(Br)),
        ];
        for (accept, want) in cases {
            assert_eq!(choose_encoding(accept, &both), want, "{accept:?}");
        }
        assert_eq!(choose_encoding("br, gzip", &[Gzip]), Some(Gzip));
        assert_eq!(choose_encoding("br", &[Gzip]), None);
        assert_eq!(choose_encoding("br, gzip", &[]), None);
    }

    /// The real playground: the repository's own files beside `www/` stay out of reach.
    #[test]
    fn the_playground_does_not_serve_the_repository() {
        let addr = start(Site::playground(), 0).unwrap();
        let (status, body) = get(addr, "/");
        assert_eq!(status, 200);
        assert!(body.contains("<html"), "{body}");
        let cargo_toml = std::fs::read_to_string(crate::util::root().join("Cargo.toml")).unwrap();
        for target in [
            "/../Cargo.toml",
            "/%2e%2e/Cargo.toml",
            "/%2F..%2FCargo.toml",
            "/data/../Cargo.toml",
            "/data/%2e%2e/Cargo.toml",
            "/..%5cCargo.toml",
            "//etc/passwd",
            "/%2fetc%2fpasswd",
            "/data//etc/passwd",
            "/index.html%00.js",
        ] {
            let (status, body) = get(addr, target);
            assert!(status == 400 || status == 404, "GET {target}: {status}");
            assert!(
                !body.contains("[workspace]") && !body.contains("root:"),
                "GET {target}"
            );
            assert!(!body.contains(cargo_toml.trim()), "GET {target}");
        }
    }
}
