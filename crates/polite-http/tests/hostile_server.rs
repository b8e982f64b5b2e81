//! polite-http against hostile servers on 127.0.0.1 (issue #29): answers above the byte budget,
//! a download that runs past its declared size, invalid URLs and a deadline shorter than the
//! read timeout. Each fails at once, names the URL, and is not retried.

use std::time::{Duration, Instant};

use polite_http::{Client, Expected, Policy};
use test_servers::{RawServer, answer};

/// A 200 answer with no `Content-Length`: the body runs until the connection closes.
fn unannounced(body_len: usize) -> Vec<u8> {
    let mut r = b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n".to_vec();
    r.resize(r.len() + body_len, b'x');
    r
}

#[test]
fn a_body_above_the_budget_fails_at_once_announced_or_not() {
    let policy = Policy { max_body_bytes: 100_000, ..Policy::fast() };
    for announced in [true, false] {
        let server = RawServer::start(move |_| {
            Some(if announced {
                answer("200 OK", "text/plain", "", &vec![b'y'; 2_000_000])
            } else {
                unannounced(2_000_000)
            })
        });
        let client = Client::new(policy.clone()).unwrap();
        let err = client.get(&format!("{}/big", server.base)).unwrap_err().to_string();
        assert!(err.contains("127.0.0.1") && err.contains("budget of 100000 bytes"), "{err}");
        assert_eq!(server.count(), 1, "announced {announced}: an answer above the budget was retried");
    }
}

#[test]
fn a_download_stops_just_past_its_declared_size_and_leaves_nothing() {
    let server = RawServer::start(|_| Some(unannounced(8_000_000)));
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("heic0001a.tif");
    let client = Client::new(Policy::fast()).unwrap();
    let expected = Expected { size: Some(3235), checksum: None };
    let err = client.download(&format!("{}/heic0001a.tif", server.base), &dest, &expected).unwrap_err().to_string();
    assert!(err.contains("expected size of 3235 bytes") && err.contains("stopped after"), "{err}");
    let stopped: u64 = err.split("stopped after ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
    assert!(stopped <= 3235 + 64 * 1024, "read {stopped} bytes for a declared 3235");
    assert_eq!(server.count(), 1, "a download past its declared size was retried");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "a .part file or the output was left behind");

    // Announced in Content-Length: refused before the body is read.
    let server = RawServer::start(|_| Some(answer("200 OK", "image/tiff", "", &vec![0u8; 500_000])));
    let err = client.download(&format!("{}/x.tif", server.base), &dest, &expected).unwrap_err().to_string();
    assert!(err.contains("announces 500000 bytes"), "{err}");
    assert!(!dest.exists());
}

#[test]
fn invalid_urls_fail_at_once_without_retries() {
    let client =
        Client::new(Policy { max_retries: 5, initial_backoff: Duration::from_secs(1), ..Policy::fast() }).unwrap();
    for url in ["htp://example.org/x", "http://", "not a url", "file:///etc/passwd", ""] {
        let t = Instant::now();
        let before = client.requests_sent();
        let err = client.get(url).unwrap_err().to_string();
        assert!(err.contains("URL"), "{url:?}: {err}");
        assert_eq!(client.requests_sent() - before, 1, "{url:?} was retried: {err}");
        assert!(t.elapsed() < Duration::from_millis(500), "{url:?} took {:?}", t.elapsed());
    }
}

#[test]
fn the_deadline_holds_when_it_is_shorter_than_the_read_timeout() {
    let server = RawServer::start(|_| None);
    let policy = Policy {
        read_timeout: Duration::from_secs(30),
        timeout: Duration::from_secs(120),
        deadline: Duration::from_secs(2),
        ..Policy::fast()
    };
    let client = Client::new(policy).unwrap();
    let t = Instant::now();
    let err = client.get(&format!("{}/slow", server.base)).unwrap_err().to_string();
    let took = t.elapsed();
    assert!(took < Duration::from_secs(4), "a 2 s deadline took {took:?}: {err}");
    assert!(err.contains("deadline reached"), "{err}");
}
