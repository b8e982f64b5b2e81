//! survey-fetch against hostile servers and arguments (issue #14): exit code ≠ 0, one line naming
//! the thing, and no output file written.

use std::process::Command;
use std::time::{Duration, Instant};

/// The binary under a 2 GB address-space limit (`ulimit -v`): a tool that tried to allocate what a
/// hostile input declares would be killed instead of passing (issue #14: bounded memory).
fn limited(bin: &str) -> Command {
    let mut c = Command::new("sh");
    c.arg("-c").arg("ulimit -v 2000000; exec \"$0\" \"$@\"").arg(bin);
    c
}

/// A server (`test-servers`) answering every request with `reply`, or holding the connection
/// silent when `None`.
fn server(reply: Option<Vec<u8>>) -> String {
    format!("{}/hips2fits", test_servers::RawServer::start(move |_| reply.clone()).base)
}

fn run(args: &[&str]) -> (bool, String) {
    let out = limited(env!("CARGO_BIN_EXE_survey-fetch"))
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.success(), text)
}

fn error_line(text: &str) -> &str {
    assert!(!text.contains("backtrace"), "{text}");
    text.lines().find(|l| l.contains("error")).unwrap_or_else(|| panic!("no error line: {text}"))
}

const REGION: [&str; 10] = ["--ra", "10", "--dec", "20", "--fov", "0.1", "--width", "64", "--height", "64"];

#[test]
fn a_maintenance_page_served_with_200_is_not_written_as_the_output() {
    let page = b"<html><body>maintenance</body></html>";
    for ct in ["text/html", "image/png"] {
        let url = server(Some(test_servers::answer("200 OK", ct, "", page)));
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("cut.png");
        let cache = dir.path().join("cache");
        let mut args = vec!["--hips", "dss", "--base-url", &url, "--cache", cache.to_str().unwrap()];
        args.extend_from_slice(&REGION);
        args.extend_from_slice(&["-o", out.to_str().unwrap()]);
        let (ok, text) = run(&args);
        assert!(!ok, "{ct}: {text}");
        let line = error_line(&text);
        assert!(line.contains("127.0.0.1") && line.contains("unexpected answer"), "{ct}: {text}");
        assert!(!out.exists(), "{ct}: output written");
        assert!(!cache.exists() || std::fs::read_dir(&cache).unwrap().next().is_none(), "{ct}: cached");
    }
}

#[test]
fn cutouts_above_the_pixel_budget_and_bad_numbers_are_refused_before_fetching() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("big.png");
    let o = out.to_str().unwrap();
    let (ok, text) = run(&[
        "--hips",
        "dss",
        "--base-url",
        "http://127.0.0.1:9/none",
        "--ra",
        "10",
        "--dec",
        "20",
        "--fov",
        "0.1",
        "--width",
        "100000",
        "--height",
        "100000",
        "-o",
        o,
    ]);
    assert!(!ok && error_line(&text).contains("--max-pixels"), "{text}");
    for (flag, bad) in [("--ra", "NaN"), ("--dec", "91"), ("--fov", "0"), ("--width", "0"), ("--fov", "inf")] {
        let mut args: Vec<&str> = vec!["--hips", "dss", "-o", o];
        let mut region: Vec<&str> = REGION.to_vec();
        let i = region.iter().position(|a| *a == flag).unwrap();
        region[i + 1] = bad;
        args.extend_from_slice(&region);
        let (ok, text) = run(&args);
        assert!(!ok && error_line(&text).contains(flag), "{flag} {bad}: {text}");
    }
    assert!(!out.exists());
}

#[test]
fn a_server_that_never_answers_fails_within_the_read_timeout_and_deadline() {
    let url = server(None);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cut.png");
    let mut args = vec!["--hips", "dss", "--base-url", &url, "--read-timeout", "1", "--deadline", "3"];
    args.extend_from_slice(&REGION);
    args.extend_from_slice(&["-o", out.to_str().unwrap()]);
    let t = Instant::now();
    let (ok, text) = run(&args);
    assert!(!ok);
    assert!(t.elapsed() < Duration::from_secs(20), "took {:?}", t.elapsed());
    assert!(error_line(&text).contains("timed out"), "{text}");
    assert!(!out.exists());
}
