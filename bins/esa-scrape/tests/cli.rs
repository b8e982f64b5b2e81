//! The binary against a fixture site on 127.0.0.1: exit status, summary, resume without downloads.

use std::process::Command;

use esa_scraper::fixture::fixture_dir;
use test_servers::{Fault, FixtureServer};

fn esa_scrape(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_esa-scrape")).args(args).output().expect("run esa-scrape");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn line_value(stdout: &str, label: &str) -> usize {
    stdout
        .lines()
        .find(|l| l.starts_with(label))
        .and_then(|l| l[label.len()..].split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {label:?} line in:\n{stdout}"))
}

#[test]
fn scrape_webb_fixture_then_rerun_downloads_nothing() {
    let server = FixtureServer::start(&esa_scraper::fixture::fixture_dir().join("webb")).unwrap();
    let out = tempfile::tempdir().unwrap();
    let md = out.path().join("credits.md");
    let base = server.base_url();
    let args = [
        "--site",
        "webb",
        "--base-url",
        &base,
        "--out",
        out.path().to_str().unwrap(),
        "--rate",
        "200",
        "--credits-md",
        md.to_str().unwrap(),
    ];
    let (code, stdout, stderr) = esa_scrape(&args);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(line_value(&stdout, "downloaded"), 3, "{stdout}");
    assert!(out.path().join("webb/images/weic9901a.jpg").is_file());
    assert_eq!(std::fs::read_to_string(out.path().join("webb/credits.tsv")).unwrap().lines().count(), 4);
    let section = std::fs::read_to_string(&md).unwrap();
    assert!(section.starts_with("## ESA/Webb images"));
    assert!(section.contains("ESA/Webb, NASA & CSA, Fixture Team (weic9902a)"));

    let (code, stdout, _) = esa_scrape(&args);
    assert_eq!(code, 0);
    assert_eq!(line_value(&stdout, "downloaded"), 0, "{stdout}");
    assert_eq!(line_value(&stdout, "skipped"), 3, "{stdout}");
    assert_eq!(server.hits_with_prefix("/archives/images/"), 3, "three downloads over both runs");
}

#[test]
fn failures_set_the_exit_status_and_bad_arguments_are_named() {
    let server = FixtureServer::start(&esa_scraper::fixture::fixture_dir().join("webb")).unwrap();
    server.inject("/archives/images/screen/weic9902a.jpg", Fault::Status(500), None);
    let out = tempfile::tempdir().unwrap();
    let base = server.base_url();
    let (code, stdout, _) = esa_scrape(&[
        "--site",
        "webb",
        "--base-url",
        &base,
        "--out",
        out.path().to_str().unwrap(),
        "--rate",
        "200",
        "--retries",
        "1",
    ]);
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(line_value(&stdout, "failed"), 1, "{stdout}");
    assert!(std::fs::read_to_string(out.path().join("webb/failures.jsonl")).unwrap().contains("weic9902a"));

    let (code, _, stderr) = esa_scrape(&["--site", "webb", "--base-url", "not a url", "--out", "/tmp/x"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--base-url \"not a url\" is not a URL"), "{stderr}");
    let bl = fixture_dir().join("webb/search/page-1.html");
    let (code, _, stderr) = esa_scrape(&[
        "--site",
        "webb",
        "--base-url",
        &base,
        "--out",
        out.path().to_str().unwrap(),
        "--blacklist",
        bl.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("page-1.html: not a blacklist"), "{stderr}");
    let (code, _, _) = esa_scrape(&["--site", "webb", "--out", "/tmp/x", "--override", "--missing"]);
    assert_eq!(code, 2, "clap rejects conflicting flags");
}
