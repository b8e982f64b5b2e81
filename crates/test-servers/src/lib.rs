//! Test support: real HTTP servers on 127.0.0.1 (ephemeral ports) for the workspace's tests.
//!
//! - [`TestServer`]: answers every request with `handler(path, query)` (one thread per request,
//!   so clients may fetch in parallel), counts hits, and can be stopped.
//! - [`RawServer`]: scripted raw bytes for hostile answers (a web page labelled as an image, a
//!   huge `Retry-After`, a truncated body) or a connection held silent; [`answer`] builds a
//!   response.
//!
//! - [`FixtureServer`] (feature `archive`): the ESA archive stand-in serving fixture files laid out
//!   like the archives' URLs, with fault injection ([`Fault`]) and hit counters.
//! - [`Hips2FitsServer`] (feature `hips2fits`): the CDS hips2fits stand-in rendering a sky
//!   function ([`star_field`] or the test's own) on the WCS each request asks for, or refusing
//!   every request with a given status and body.
//! - [`webdriver::Browser`] (feature `webdriver`): headless Chromium through chromedriver, for
//!   the pages' end-to-end tests.
//!
//! Only ever a dev-dependency.
#![warn(missing_docs)]

#[cfg(feature = "archive")]
mod archive;
#[cfg(feature = "archive")]
pub use archive::{Fault, FixtureServer};
#[cfg(feature = "hips2fits")]
pub mod hips2fits;
#[cfg(feature = "hips2fits")]
pub use hips2fits::{Hips2FitsServer, star_field};
#[cfg(feature = "webdriver")]
pub mod webdriver;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// A free port P on 127.0.0.1 with the next `following` ports free too (a data-parallel test's
/// orchestrator at P and its nodes' data services at P+1, P+2, …). Racy by nature, like any
/// port probe; the runs that use it start at once.
pub fn free_port_run(following: u16) -> u16 {
    for _ in 0..50 {
        let Ok(port) = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()) else {
            continue;
        };
        if port < u16::MAX - following && (1..=following).all(|k| TcpListener::bind(("127.0.0.1", port + k)).is_ok()) {
            return port;
        }
    }
    panic!("no run of {} free ports on 127.0.0.1", following + 1);
}

/// The flags of node `rank` of a two-node data-parallel run on 127.0.0.1 whose orchestrator is
/// at `port` (from [`free_port_run`]), each exchange bounded by `timeout_s` seconds.
pub fn two_node_flags(port: u16, rank: u32, timeout_s: u64) -> Vec<String> {
    let server = format!("127.0.0.1:{port}");
    let (rank, timeout) = (rank.to_string(), timeout_s.to_string());
    ["--collective-server", &server, "--node-rank", &rank, "--nodes", "2", "--collective-timeout", &timeout]
        .map(String::from)
        .to_vec()
}

/// What a [`TestServer`] handler returns: status, content type, body.
pub type Reply = (u16, &'static str, Vec<u8>);

/// A real HTTP server on 127.0.0.1 (random port) answering with `handler(path, query)`.
pub struct TestServer {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// Requests received.
    pub hits: Arc<AtomicUsize>,
    server: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
}

impl TestServer {
    /// Start serving; `handler` gets the path and the decoded query parameters.
    pub fn start<F>(handler: F) -> TestServer
    where
        F: Fn(&str, &HashMap<String, String>) -> Reply + Send + Sync + 'static,
    {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind 127.0.0.1"));
        let port = server.server_addr().to_ip().expect("an IP address").port();
        let hits = Arc::new(AtomicUsize::new(0));
        let (s, h) = (server.clone(), hits.clone());
        let handler = Arc::new(handler);
        let thread = std::thread::spawn(move || {
            for req in s.incoming_requests() {
                h.fetch_add(1, Ordering::SeqCst);
                let raw = req.url().to_string();
                let (path, query) = raw.split_once('?').unwrap_or((raw.as_str(), ""));
                let q: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
                let handler = handler.clone();
                let path = path.to_string();
                // One thread per request: the clients may fetch in parallel.
                std::thread::spawn(move || {
                    let (status, ctype, body) = handler(&path, &q);
                    let header =
                        tiny_http::Header::from_bytes(&b"Content-Type"[..], ctype.as_bytes()).expect("a header");
                    let _ =
                        req.respond(tiny_http::Response::from_data(body).with_status_code(status).with_header(header));
                });
            }
        });
        TestServer { base: format!("http://127.0.0.1:{port}"), hits, server, thread: Some(thread) }
    }

    /// Requests received so far.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    /// Stop listening (the port refuses connections afterwards).
    pub fn stop(mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.server.unblock();
    }
}

/// One request as a [`RawServer`] script sees it.
#[derive(Debug, Clone)]
pub struct RawRequest {
    /// 0-based index of the request (connection) on this server.
    pub n: usize,
    /// The request target (path and query), `/` when unreadable.
    pub path: String,
}

/// A raw HTTP server on 127.0.0.1: `reply(request)` gives the whole answer as bytes, or `None` to
/// accept, read the request and keep the connection silent (for two minutes).
pub struct RawServer {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// Connections accepted.
    pub count: Arc<AtomicUsize>,
}

impl RawServer {
    /// Start serving with `reply`.
    pub fn start(reply: impl Fn(&RawRequest) -> Option<Vec<u8>> + Send + 'static) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("a local address");
        let count = Arc::new(AtomicUsize::new(0));
        let c = count.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let n = c.fetch_add(1, Ordering::SeqCst);
                // Read the whole request head: one read may return only part of it, and
                // closing with unread request bytes makes the kernel reset the connection
                // (the client would then lose the reply).
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let mut buf = [0u8; 4096];
                let mut read = 0;
                while read < buf.len() && !buf[..read].windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf[read..]) {
                        Ok(0) | Err(_) => break,
                        Ok(k) => read += k,
                    }
                }
                let head = String::from_utf8_lossy(&buf[..read]).into_owned();
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                match reply(&RawRequest { n, path }) {
                    Some(bytes) => {
                        let _ = stream.write_all(&bytes);
                    }
                    // Keep the connection open and silent.
                    None => {
                        std::thread::spawn(move || {
                            std::thread::sleep(Duration::from_secs(120));
                            drop(stream);
                        });
                    }
                }
            }
        });
        RawServer { base: format!("http://{addr}"), count }
    }

    /// Connections accepted so far.
    pub fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}

/// A complete HTTP/1.1 answer: status line (`"200 OK"`), `Content-Type`, `Content-Length`,
/// `Connection: close`, the `extra` header lines (each ending in `\r\n`) and the body.
pub fn answer(status: &str, content_type: &str, extra: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(base: &str, path: &str) -> String {
        let addr = base.trim_start_matches("http://");
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.write_all(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes()).unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    }

    #[test]
    fn the_handler_sees_path_and_query() {
        let server = TestServer::start(|path, q| (200, "text/plain", format!("{path} {:?}", q.get("a")).into_bytes()));
        let text = get(&server.base, "/x?a=1%202");
        assert!(text.starts_with("HTTP/1.1 200") && text.ends_with("/x Some(\"1 2\")"), "{text}");
        assert_eq!(server.hits(), 1);
        server.stop();
    }

    #[test]
    fn the_raw_server_replies_per_request() {
        let server =
            RawServer::start(|r| Some(answer("503 Busy", "text/plain", "Retry-After: 7\r\n", r.path.as_bytes())));
        let text = get(&server.base, "/p?q");
        assert!(text.starts_with("HTTP/1.1 503 Busy") && text.contains("Retry-After: 7") && text.ends_with("/p?q"));
        assert_eq!(server.count(), 1);
    }
}
