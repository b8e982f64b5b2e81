//! survey-fetch against hostile servers, round 3 (issue #29): a cutout of the wrong size is not
//! written (item 3), the deadline holds when it is shorter than the read timeout (item 16), and
//! a server's error text reaches the terminal as one plain line (item 22).

use std::process::Command;
use std::time::{Duration, Instant};

fn server(reply: Option<Vec<u8>>) -> String {
    format!("{}/hips2fits", test_servers::RawServer::start(move |_| reply.clone()).base)
}

/// Run survey-fetch under a 2 GB address-space limit; (success, stderr).
fn run(url: &str, dir: &std::path::Path, extra: &[&str]) -> (bool, String) {
    let out = dir.join("cut.png");
    let cache = dir.join("cache");
    let mut args = vec!["--hips", "dss", "--base-url", url, "--cache", cache.to_str().unwrap()];
    args.extend_from_slice(&["--ra", "10", "--dec", "20", "--fov", "0.1", "--width", "64", "--height", "48"]);
    args.extend_from_slice(extra);
    args.extend_from_slice(&["-o", out.to_str().unwrap()]);
    let o = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 2000000; exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_survey-fetch"))
        .args(&args)
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    (o.status.success(), String::from_utf8_lossy(&o.stderr).into_owned())
}

fn nothing_written(dir: &std::path::Path) {
    assert!(!dir.join("cut.png").exists(), "the output was written");
    let cache = dir.join("cache");
    let n = walk(&cache);
    assert_eq!(n, 0, "{n} files cached");
}

fn walk(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| if e.path().is_dir() { walk(&e.path()) } else { 1 }).sum())
        .unwrap_or(0)
}

#[test]
fn a_cutout_of_the_wrong_size_is_not_written_or_cached() {
    let png =
        hips_client::encode_image(&hips_client::Planes::zeros(3, 5, 7), hips_client::ImageFormat::Png, None).unwrap();
    let url = server(Some(test_servers::answer("200 OK", "image/png", "", &png)));
    let dir = tempfile::tempdir().unwrap();
    let (ok, text) = run(&url, dir.path(), &[]);
    assert!(!ok, "{text}");
    assert!(text.contains("asked for 64x48 pixels, the image is 7x5"), "{text}");
    nothing_written(dir.path());
}

#[test]
fn the_deadline_holds_when_it_is_shorter_than_the_read_timeout() {
    let url = server(None);
    let dir = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let (ok, text) = run(&url, dir.path(), &["--deadline", "2", "--read-timeout", "30"]);
    let took = t.elapsed();
    assert!(!ok && took < Duration::from_secs(5), "--deadline 2 took {took:?}: {text}");
    assert!(text.contains("deadline reached"), "{text}");
    nothing_written(dir.path());
}

#[test]
fn server_error_text_is_one_plain_line() {
    let body =
        b"{\"title\":\"Bad\",\"description\":\"first\\nerror: forged second line\\u001b[2J\\u001b]0;owned\\u0007\"}";
    let url = server(Some(test_servers::answer("400 Bad Request", "application/json", "", body)));
    let dir = tempfile::tempdir().unwrap();
    let (ok, text) = run(&url, dir.path(), &[]);
    assert!(!ok, "{text}");
    assert_eq!(text.lines().count(), 1, "{text:?}");
    assert!(!text.trim_end().chars().any(|c| c.is_control()), "{text:?}");
    assert!(text.contains("first error: forged second line"), "{text}");
    nothing_written(dir.path());
}
