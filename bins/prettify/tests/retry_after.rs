//! Issue #29 item 16: prettify waited silently on a server's huge `Retry-After` (its log level
//! hid polite-http's notice). The wait is now announced on stderr at once.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

#[test]
fn a_long_retry_after_is_announced_not_waited_in_silence() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hips2fits", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let body = "busy";
            let _ = write!(
                s,
                "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 100000\r\nContent-Type: text/plain\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_prettify"))
        .args(["--ra", "202.47", "--dec", "47.2", "--fov", "0.02", "--size", "64", "--hips2fits-url", &url])
        .args(["-o", "out.png"])
        .current_dir(dir.path())
        .env_remove("RUST_LOG")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // Its first line says what it fetches; the next must say that it waits, and how long.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut said = Vec::new();
    while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(line) if line.contains("waiting") => {
                said.push(line);
                break;
            }
            Ok(line) => said.push(line),
            Err(_) => break,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let last = said.last().cloned().unwrap_or_default();
    assert!(last.contains("100000") && last.contains("waiting"), "prettify said only {said:?}");
    assert!(!dir.path().join("out.png").exists());
}
