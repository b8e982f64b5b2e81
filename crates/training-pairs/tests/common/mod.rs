//! Shared test helpers: an analytic sky and a real HTTP server on 127.0.0.1.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;

/// A smooth analytic sky, well defined everywhere (written in Cartesian coordinates so it is
/// continuous across RA = 0 and at the poles). Channel `c` in 0..3; values in [0.1, 0.9].
pub fn sky(c: usize, ra_deg: f64, dec_deg: f64) -> f64 {
    sky_k(c, ra_deg, dec_deg, 1.0)
}

/// [`sky`] with every spatial frequency multiplied by `k` (structure on finer scales).
pub fn sky_k(c: usize, ra_deg: f64, dec_deg: f64, k_freq: f64) -> f64 {
    let (ra, dec) = (ra_deg.to_radians(), dec_deg.to_radians());
    let (x, y, z) = (dec.cos() * ra.cos() * k_freq, dec.cos() * ra.sin() * k_freq, dec.sin() * k_freq);
    let k = c as f64;
    0.5 + 0.2 * (8.0 * x + 3.0 + k).sin() * (6.0 * y - k).cos() + 0.2 * (7.0 * z + 5.0 * y + 2.0 * k).sin()
}

/// What a handler returns: status, content type, body.
pub type Reply = (u16, &'static str, Vec<u8>);

/// A real HTTP server on 127.0.0.1 (random port) answering with `handler(path, query)`.
pub struct TestServer {
    pub base: String,
    pub hits: Arc<AtomicUsize>,
    server: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
}

impl TestServer {
    pub fn start<F>(handler: F) -> TestServer
    where
        F: Fn(&str, &HashMap<String, String>) -> Reply + Send + Sync + 'static,
    {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let port = server.server_addr().to_ip().unwrap().port();
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
                    let header = tiny_http::Header::from_bytes(&b"Content-Type"[..], ctype.as_bytes()).unwrap();
                    let _ =
                        req.respond(tiny_http::Response::from_data(body).with_status_code(status).with_header(header));
                });
            }
        });
        TestServer { base: format!("http://127.0.0.1:{port}"), hits, server, thread: Some(thread) }
    }

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
