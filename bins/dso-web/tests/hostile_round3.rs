//! Issue #29, round 3: a client trickling its request head is cut off (item 14) while others are
//! served, and JSON error messages are plain one-line text, not HTML entities (item 27).

mod common;

use std::time::{Duration, Instant};

use common::serve;
use dso_web::AppConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickled_request_head_is_cut_off_and_others_are_still_served() {
    let config = AppConfig { head_timeout: Duration::from_secs(1), ..AppConfig::default() };
    let addr = serve(config).await;
    // Twenty slow clients: one header line every 200 ms, never the blank line; one silent client.
    let mut slow = Vec::new();
    for i in 0..20 {
        slow.push(tokio::spawn(async move {
            let t = Instant::now();
            let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
            let _ = s.write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\n").await;
            let (mut rd, mut wr) = s.into_split();
            let trickle = tokio::spawn(async move {
                for n in 0..100 {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    if wr.write_all(format!("X-Slow-{i}-{n}: y\r\n").as_bytes()).await.is_err() {
                        break;
                    }
                }
            });
            let mut answer = Vec::new();
            let _ = tokio::time::timeout(Duration::from_secs(8), rd.read_to_end(&mut answer)).await;
            trickle.abort();
            (t.elapsed(), String::from_utf8_lossy(&answer).into_owned())
        }));
    }
    let silent = tokio::spawn(async move {
        let t = Instant::now();
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(8), s.read_to_end(&mut answer)).await;
        t.elapsed()
    });
    // Meanwhile an ordinary client is answered.
    let health = reqwest::get(format!("http://{addr}/api/health")).await.unwrap();
    assert_eq!(health.status(), 200);
    for h in slow {
        let (took, answer) = h.await.unwrap();
        assert!(took < Duration::from_secs(4), "a trickling client held its connection {took:?}");
        assert!(!answer.contains("200 OK"), "{answer}");
    }
    let took = silent.await.unwrap();
    assert!(took < Duration::from_secs(4), "a silent client held its connection {took:?}");
    // A keep-alive connection gets a fresh deadline for each request head.
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(600)).await;
        s.write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        let mut buf = vec![0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await.unwrap().unwrap();
        assert!(
            String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"),
            "{}",
            String::from_utf8_lossy(&buf[..n])
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_errors_are_plain_one_line_text() {
    let addr = serve(AppConfig::default()).await;
    let url = format!("http://{addr}/api/predict");
    let client = reqwest::Client::new();
    // A file name with HTML specials comes back as itself, not as entities.
    let name = "a<b>&\"c\".png";
    let form = reqwest::multipart::Form::new()
        .part("image", reqwest::multipart::Part::bytes(b"not an image".to_vec()).file_name(name));
    let resp = client.post(&url).multipart(form).send().await.unwrap();
    assert_eq!(resp.status(), 415);
    let body: serde_json::Value = resp.json().await.unwrap();
    let msg = body["error"].as_str().unwrap();
    assert!(msg.starts_with("a<b>&\"c\".png: not a PNG"), "{msg:?}");
    assert!(!msg.contains("&lt;") && !msg.contains("&amp;"), "{msg:?}");
    // A field value with newlines and an ANSI escape comes back on one line, without control bytes.
    let form = reqwest::multipart::Form::new()
        .part("image", reqwest::multipart::Part::bytes(vec![0x89, b'P', b'N', b'G']).file_name("x.png"))
        .text("task", "<quasar>\n\u{1b}[31mred & blue");
    let resp = client.post(&url).multipart(form).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    let body: serde_json::Value = resp.json().await.unwrap();
    let msg = body["error"].as_str().unwrap();
    assert!(msg.contains("<quasar> [31mred & blue"), "{msg:?}");
    assert!(!msg.chars().any(char::is_control) && !msg.contains("&lt;"), "{msg:?}");
}
