//! hips-client against hostile servers (issue #14): a maintenance page served with 200 (or labelled
//! image/png), a server that accepts and never answers, a 429 with a huge Retry-After, and requests
//! above the pixel budget. Each is refused quickly, with the URL in the message, and nothing cached.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hips_client::hips2fits::{CutoutRequest, Hips2FitsClient};
use hips_client::{DiskCache, HipsError, ImageFormat, Policy};

/// A raw HTTP server on 127.0.0.1: `reply(n)` gives the whole answer to the n-th request (`None`:
/// accept, read the request and never answer). Returns the base URL and the request counter.
fn raw_server(reply: impl Fn(usize) -> Option<Vec<u8>> + Send + 'static) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let n = c.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            match reply(n) {
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
    (format!("http://{addr}/hips2fits"), count)
}

fn answer(status: &str, content_type: &str, extra: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

fn request(w: u32, h: u32) -> CutoutRequest {
    CutoutRequest::from_center("CDS/P/DSS2/color", (10.0, 20.0), 0.1, (w, h), 0.0, ImageFormat::Png)
}

const MAINTENANCE: &[u8] = b"<html><body><h1>Down for maintenance</h1></body></html>";

#[test]
fn a_web_page_served_as_200_is_refused_and_not_cached() {
    for content_type in ["text/html", "image/png"] {
        let (url, _) = raw_server(move |_| Some(answer("200 OK", content_type, "", MAINTENANCE)));
        let dir = tempfile::tempdir().unwrap();
        let client = Hips2FitsClient::new(&url, Policy::fast(), Some(DiskCache::new(dir.path()))).unwrap();
        let err = client.fetch_encoded(&request(64, 64)).unwrap_err();
        assert!(matches!(err, HipsError::BadResponse { .. }), "{content_type}: {err}");
        let msg = err.to_string();
        assert!(msg.contains("127.0.0.1") && !msg.contains('\n'), "{msg}");
        let cached = walk(dir.path());
        assert_eq!(cached, 0, "{content_type}: a refused answer was cached");
    }
}

fn walk(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| if e.path().is_dir() { walk(&e.path()) } else { 1 }).sum())
        .unwrap_or(0)
}

#[test]
fn a_server_that_never_answers_fails_within_the_time_bounds() {
    let (url, count) = raw_server(|_| None);
    let policy = Policy {
        read_timeout: Duration::from_millis(500),
        max_retries: 1,
        initial_backoff: Duration::from_millis(10),
        ..Policy::fast()
    };
    let client = Hips2FitsClient::new(&url, policy, None).unwrap();
    let t = Instant::now();
    let err = client.fetch_bytes(&request(32, 32)).unwrap_err();
    let took = t.elapsed();
    assert!(took < Duration::from_secs(10), "took {took:?}");
    let msg = err.to_string();
    assert!(matches!(err, HipsError::Network { .. }) && msg.contains("timed out"), "{msg}");
    assert!(msg.contains("2 attempts"), "{msg}");
    assert_eq!(count.load(Ordering::SeqCst), 2);
}

#[test]
fn a_huge_retry_after_is_capped_and_the_deadline_holds() {
    let (url, count) = raw_server(|_| {
        Some(answer(
            "429 Too Many Requests",
            "application/json",
            "Retry-After: 100000\r\n",
            br#"{"title":"Slow down"}"#,
        ))
    });
    let policy = Policy {
        max_retries: 10,
        max_retry_after: Duration::from_millis(300),
        deadline: Duration::from_secs(1),
        ..Policy::fast()
    };
    let client = Hips2FitsClient::new(&url, policy, None).unwrap();
    let t = Instant::now();
    let err = client.fetch_bytes(&request(32, 32)).unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(3), "took {:?}", t.elapsed());
    assert!(matches!(err, HipsError::Service { status: 429, .. }), "{err}");
    let n = count.load(Ordering::SeqCst);
    assert!((2..=5).contains(&n), "{n} attempts");
}

#[test]
fn cutouts_above_the_pixel_budget_are_refused_before_any_request() {
    let (url, count) = raw_server(|_| Some(answer("200 OK", "image/png", "", b"\x89PNG\r\n\x1a\n")));
    let client = Hips2FitsClient::new(&url, Policy::fast(), None).unwrap();
    for result in [
        client.fetch_encoded(&request(100_000, 100_000)).map(|_| ()),
        client.fetch(&request(100_000, 100_000)).map(|_| ()),
    ] {
        let err = result.unwrap_err();
        assert!(matches!(err, HipsError::TooLarge { pixels: 10_000_000_000, .. }), "{err}");
        assert!(err.to_string().contains("--max-pixels"), "{err}");
    }
    let small = client.with_max_pixels(1000);
    assert!(matches!(small.fetch_bytes(&request(40, 40)), Err(HipsError::TooLarge { .. })));
    assert_eq!(count.load(Ordering::SeqCst), 0);
}
