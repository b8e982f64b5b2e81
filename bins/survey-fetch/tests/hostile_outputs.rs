//! survey-fetch's outputs and numbers (issue #29 part A, items 1 and 27): the output may not be the
//! `--like` image it matches (the cutout replaced the observation), and a field of view of 1e-300
//! degrees is refused while parsing, not fetched and printed with 300 digits.

use std::process::Command;

fn run(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_survey-fetch")).args(args).env("RUST_LOG", "error").output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn the_output_may_not_be_the_like_image_and_absurd_fields_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let like = dir.path().join("obs.png");
    std::fs::write(&like, b"the observation").unwrap();
    let l = like.to_str().unwrap();
    // No server: the check comes before any request (an unreachable URL would fail differently).
    let (ok, text) = run(&["--hips", "dss", "--like", l, "-o", l, "--base-url", "http://127.0.0.1:9/x"]);
    assert!(!ok && text.trim().lines().count() == 1, "{text}");
    assert!(text.starts_with("error: -o ") && text.contains("destroy the input"), "{text}");
    assert_eq!(std::fs::read(&like).unwrap(), b"the observation");
    let out = dir.path().join("c.png");
    let o = out.to_str().unwrap();
    let region = ["--ra", "10", "--dec", "20", "--width", "8", "--height", "8", "--hips", "dss", "-o", o];
    for fov in ["1e-300", "200"] {
        let mut args = region.to_vec();
        args.extend(["--fov", fov]);
        let (ok, text) = run(&args);
        assert!(!ok && text.contains("--fov") && text.contains("between 1e-6 and 180"), "{fov}: {text}");
        assert!(!text.contains("0.0000000000"), "{text}");
    }
    let mut args = region.to_vec();
    args.extend(["--fov", "NaN"]);
    let (ok, text) = run(&args);
    assert!(!ok && text.contains("--fov") && text.contains("not a finite number"), "{text}");
    assert!(!out.exists());
}

/// Issue #29 item 27: a log redirected to a file is plain text (no ANSI colour codes).
#[test]
fn a_redirected_log_has_no_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("c.png");
    let args = ["--hips", "dss", "--ra", "10", "--dec", "20", "--fov", "0.1", "--width", "8", "--height", "8"];
    let o = Command::new(env!("CARGO_BIN_EXE_survey-fetch"))
        .args(args)
        .args(["--base-url", "http://127.0.0.1:9/hips2fits", "--deadline", "1", "-o", out.to_str().unwrap()])
        .env("RUST_LOG", "info")
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && text.contains("fetching"), "{text}");
    assert!(!text.contains('\u{1b}'), "colour codes in a redirected log: {text:?}");
}
