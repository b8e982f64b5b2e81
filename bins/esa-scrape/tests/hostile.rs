//! esa-scrape against hostile servers and a second run on the same folder (issue #14): each ends
//! with a non-zero exit, one line naming the thing, in bounded time, and no records lost.

use std::process::Command;
use std::time::{Duration, Instant};

use test_servers::FixtureServer;

/// The binary under a 2 GB address-space limit (`ulimit -v`): a tool that tried to allocate what a
/// hostile input declares would be killed instead of passing (issue #14: bounded memory).
fn limited(bin: &str) -> Command {
    let mut c = Command::new("sh");
    c.arg("-c").arg("ulimit -v 2000000; exec \"$0\" \"$@\"").arg(bin);
    c
}

fn esa_scrape(args: &[&str]) -> (i32, String, String) {
    let out = limited(env!("CARGO_BIN_EXE_esa-scrape"))
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("run esa-scrape");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// A raw server (`test-servers`): `reply(path)` gives the whole answer, `None` holds the
/// connection silent.
fn raw_server(reply: impl Fn(&str) -> Option<Vec<u8>> + Send + 'static) -> String {
    test_servers::RawServer::start(move |r| reply(&r.path)).base
}

fn answer(status: &str, extra: &str, body: &str) -> Vec<u8> {
    test_servers::answer(status, "application/json", extra, body.as_bytes())
}

fn base_args<'a>(base: &'a str, out: &'a str) -> Vec<&'a str> {
    vec!["--site", "hubble", "--base-url", base, "--out", out, "--rate", "500"]
}

#[test]
fn a_second_run_on_the_same_folder_is_refused_and_loses_nothing() {
    let server = FixtureServer::start(&esa_scraper::fixture::fixture_dir().join("hubble")).unwrap();
    let base = server.base_url();
    let out = tempfile::tempdir().unwrap();
    let o = out.path().to_str().unwrap();
    let (code, stdout, stderr) = esa_scrape(&base_args(&base, o));
    assert!(code == 0 || code == 1, "{stdout}\n{stderr}");
    let meta = out.path().join("hubble/metadata.jsonl");
    let before = std::fs::read_to_string(&meta).unwrap();
    assert!(before.lines().count() >= 1);

    // Another run holds the folder: this one is refused at once and touches nothing.
    let lock = esa_scraper::lock_dir(&out.path().join("hubble")).unwrap();
    let (code, stdout, stderr) = esa_scrape(&[&base_args(&base, o)[..], &["--override"]].concat());
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    // One `error: …` line, as every tool's (issue #29 item 27).
    let line = stderr.lines().find(|l| l.starts_with("error:")).unwrap_or_else(|| panic!("{stderr}"));
    assert!(line.contains("another run") && line.contains("hubble"), "{stderr}");
    assert!(!stderr.contains("backtrace"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&meta).unwrap(), before);
    assert!(
        !out.path().join("hubble/failures.jsonl").exists() || {
            let f = std::fs::read_to_string(out.path().join("hubble/failures.jsonl")).unwrap();
            !f.contains("another run")
        }
    );
    drop(lock);

    // Two real runs started together: one does the work, the other is refused; nothing is lost.
    let spawn = || {
        limited(env!("CARGO_BIN_EXE_esa-scrape"))
            .args(base_args(&base, o))
            .arg("--override")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    for o in [&a, &b] {
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.code() != Some(2) || err.contains("another run"), "{err}");
    }
    assert_eq!(std::fs::read_to_string(&meta).unwrap().lines().count(), before.lines().count());
}

#[test]
fn a_server_that_never_answers_fails_within_the_time_bounds() {
    let base = raw_server(|_| None);
    let out = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let mut args = base_args(&base, out.path().to_str().unwrap());
    args.extend_from_slice(&["--read-timeout", "1", "--retries", "1", "--deadline", "5"]);
    let (code, stdout, stderr) = esa_scrape(&args);
    assert_ne!(code, 0, "{stdout}\n{stderr}");
    assert!(t.elapsed() < Duration::from_secs(30), "took {:?}", t.elapsed());
    assert!(stderr.contains("timed out"), "{stderr}");
}

#[test]
fn a_huge_retry_after_is_capped_with_a_log_line() {
    let base = raw_server(|_| Some(answer("429 Too Many Requests", "Retry-After: 100000\r\n", "{}")));
    let out = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let mut args = base_args(&base, out.path().to_str().unwrap());
    args.extend_from_slice(&["--max-retry-after", "1", "--retries", "2"]);
    let (code, stdout, stderr) = esa_scrape(&args);
    assert_ne!(code, 0, "{stdout}\n{stderr}");
    assert!(t.elapsed() < Duration::from_secs(30), "took {:?}", t.elapsed());
    assert!(stderr.contains("asks to wait 100000 s") && stderr.contains("Retry-After cap"), "{stderr}");
}

#[test]
fn an_endless_feed_stops_at_the_bound_with_a_failure_and_a_non_numeric_next_is_refused() {
    let base = raw_server(|path| {
        let n: u64 = path.rsplit('=').next().and_then(|v| v.parse().ok()).unwrap_or(1);
        let body = format!(r#"{{"Count": 1000000, "Collections": [], "Next": "/images/d2d/?page={}"}}"#, n + 1);
        Some(answer("200 OK", "", &body))
    });
    let out = tempfile::tempdir().unwrap();
    let mut args = base_args(&base, out.path().to_str().unwrap());
    args.extend_from_slice(&["--max-pages", "3"]);
    let (code, stdout, stderr) = esa_scrape(&args);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(stderr.contains("continues after 3 pages"), "{stderr}");

    let err = esa_scraper::parse_d2d_page(esa_scraper::Site::Hubble, r#"{"Collections": [], "Next": 42}"#, "feed p1")
        .unwrap_err()
        .to_string();
    assert!(err.contains("feed p1") && err.contains("Next"), "{err}");
    let ok = esa_scraper::parse_d2d_page(esa_scraper::Site::Hubble, r#"{"Collections": [], "Next": null}"#, "p");
    assert!(ok.unwrap().next.is_none());
}

#[test]
fn non_finite_numbers_are_refused_naming_the_flag() {
    let out = tempfile::tempdir().unwrap();
    for (flag, value) in [("--min-fov-arcmin", "NaN"), ("--rate", "inf"), ("--rate", "0"), ("--min-fov-arcmin", "-1")] {
        let arg = format!("{flag}={value}");
        let mut args = base_args("http://127.0.0.1:9", out.path().to_str().unwrap());
        args.retain(|a| *a != "--rate" && *a != "500");
        args.push(&arg);
        let (code, stdout, stderr) = esa_scrape(&args);
        assert_ne!(code, 0, "{flag} {value}: {stdout}");
        let line = stderr.lines().find(|l| l.contains("error")).unwrap_or_else(|| panic!("{stderr}"));
        assert!(line.contains(flag), "{stderr}");
    }
    assert!(std::fs::read_dir(out.path()).unwrap().next().is_none(), "something was written");
}
