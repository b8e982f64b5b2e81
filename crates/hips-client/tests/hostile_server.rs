//! hips-client against hostile servers (issue #14): a maintenance page served with 200 (or labelled
//! image/png), a server that accepts and never answers, a 429 with a huge Retry-After, and requests
//! above the pixel budget. Each is refused quickly, with the URL in the message, and nothing cached.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hips_client::{CutoutRequest, Hips2FitsClient};
use hips_client::{DiskCache, HipsError, ImageFormat, Policy};
use test_servers::{RawServer, answer};

/// A raw HTTP server on 127.0.0.1 (`test-servers`): `reply(n)` gives the whole answer to the n-th
/// request (`None`: accept, read the request and never answer). Returns the URL and the counter.
fn raw_server(reply: impl Fn(usize) -> Option<Vec<u8>> + Send + 'static) -> (String, Arc<AtomicUsize>) {
    let server = RawServer::start(move |r| reply(r.n));
    (format!("{}/hips2fits", server.base), server.count)
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
